//! `git handoff init`: per-clone configuration (README, "Hooks" and "Sharing").
//!
//! Sets `log.excludeDecoration=refs/handoff/*` (so session refs do not clutter `git log`), adds
//! to every remote the fetch refspecs that bring its sessions and notes into our tracking
//! namespace with a plain `git fetch` (docs/format.md, "Tracking refs"), and writes
//! `.handoff.toml` when absent. Every step is idempotent and reports whether it changed
//! anything.
//!
//! It touches nothing else: notes on our ref follow amend and rebase through the post-rewrite
//! hook alone (line union, scoped to `refs/notes/handoff`), so the user's own notes refs are
//! rewritten as they always were. The `notes.rewriteRef`/`notes.rewriteMode` pair an earlier
//! version set is taken back.

use git2::{ConfigLevel, Repository};

use crate::config::{DEFAULTS, REPO_FILE};

/// Config keys and values `init` ensures, with whether the key holds several values.
pub const SETTINGS: &[(&str, &str, bool)] = &[("log.excludeDecoration", "refs/handoff/*", true)];

/// The fetch refspecs `init` adds to a remote, for its encoded tracking name.
pub fn fetch_refspecs(tracking: &str) -> [String; 2] {
    [
        format!(
            "+{}*:{}*",
            crate::store::refs::SESSIONS_PREFIX,
            crate::store::transport::tracking_prefix(tracking)
        ),
        format!(
            "+{}*:{}handoff*",
            crate::store::refs::NOTES_REF,
            crate::store::transport::fetched_notes_prefix(tracking)
        ),
    ]
}

/// Why setup failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing git config failed.
    #[error("git config {key}: {source}")]
    Config {
        /// The key.
        key: String,
        /// The libgit2 error.
        source: git2::Error,
    },
    /// Writing `.handoff.toml` failed.
    #[error("writing {REPO_FILE}: {0}")]
    RepoFile(std::io::Error),
}

/// Ensures the git config keys; returns the `key=value` pairs that were changed.
pub fn configure(repo: &Repository) -> Result<Vec<String>, Error> {
    let err = |key: &str| {
        let key = key.to_owned();
        move |source| Error::Config { key, source }
    };
    let mut config = repo
        .config()
        .and_then(|c| c.open_level(ConfigLevel::Local))
        .map_err(err("(local)"))?;
    let mut changed = Vec::new();
    for (key, value, multi) in SETTINGS {
        let present = if *multi {
            let mut entries = config.multivar(key, None).map_err(err(key))?;
            let mut found = false;
            while let Some(entry) = entries.next() {
                if entry.map_err(err(key))?.value().ok() == Some(*value) {
                    found = true;
                }
            }
            found
        } else {
            config.get_string(key).ok().as_deref() == Some(*value)
        };
        if present {
            continue;
        }
        if *multi {
            let pattern = format!("^{}$", regex::escape(value));
            config
                .set_multivar(key, &pattern, value)
                .map_err(err(key))?;
        } else {
            config.set_str(key, value).map_err(err(key))?;
        }
        changed.push(format!("{key}={value}"));
    }
    // Remotes: a plain `git fetch` brings their sessions and notes into tracking refs.
    let remotes = repo.remotes().map_err(err("remote.*"))?;
    for remote in remotes.iter().flatten().flatten() {
        let Ok(tracking) = crate::store::transport::tracking_name(remote) else {
            continue;
        };
        let key = format!("remote.{remote}.fetch");
        let mut present = Vec::new();
        {
            let mut entries = config.multivar(&key, None).map_err(err(&key))?;
            while let Some(entry) = entries.next() {
                if let Ok(v) = entry.map_err(err(&key))?.value() {
                    present.push(v.to_owned());
                }
            }
        }
        for spec in fetch_refspecs(&tracking) {
            if !present.contains(&spec) {
                let pattern = format!("^{}$", regex::escape(&spec));
                config
                    .set_multivar(&key, &pattern, &spec)
                    .map_err(err(&key))?;
                changed.push(format!("{key}={spec}"));
            }
        }
    }
    // Take back what an earlier version set: one mechanism carries our notes (post-rewrite).
    let ours = config
        .multivar("notes.rewriteRef", Some("^refs/notes/handoff$"))
        .map_err(err("notes.rewriteRef"))?
        .next()
        .is_some();
    if ours {
        config
            .remove_multivar("notes.rewriteRef", "^refs/notes/handoff$")
            .map_err(err("notes.rewriteRef"))?;
        changed.push("unset notes.rewriteRef=refs/notes/handoff".to_owned());
        if config.get_string("notes.rewriteMode").ok().as_deref() == Some("cat_sort_uniq") {
            config
                .remove("notes.rewriteMode")
                .map_err(err("notes.rewriteMode"))?;
            changed.push("unset notes.rewriteMode=cat_sort_uniq".to_owned());
        }
    }
    Ok(changed)
}

/// Writes `.handoff.toml` with the documented defaults when the work tree has none; returns
/// whether it wrote one.
pub fn write_repo_file(repo: &Repository) -> Result<bool, Error> {
    let Some(workdir) = repo.workdir() else {
        return Ok(false);
    };
    let path = workdir.join(REPO_FILE);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, DEFAULTS.as_bytes()).map_err(Error::RepoFile)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::RepoFile(e)),
    }
}
