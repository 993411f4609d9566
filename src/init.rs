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

use crate::git::Repo;

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
    #[error(transparent)]
    Config(#[from] crate::git::Error),
    /// Writing `.handoff.toml` failed.
    #[error("writing {REPO_FILE}: {0}")]
    RepoFile(std::io::Error),
}

/// Ensures the git config keys; returns the `key=value` pairs that were changed.
pub fn configure(repo: &Repo) -> Result<Vec<String>, Error> {
    let mut config = repo.local_config()?;
    let mut changed = Vec::new();
    for (key, value, multi) in SETTINGS {
        let present = if *multi {
            config.values(key)?.iter().any(|v| v == value)
        } else {
            config.get(key).as_deref() == Some(*value)
        };
        if !present {
            config.add(key, value)?;
            changed.push(format!("{key}={value}"));
        }
    }
    // Remotes: a plain `git fetch` brings their sessions and notes into tracking refs.
    for remote in repo.remotes()? {
        let Ok(tracking) = crate::store::transport::tracking_name(&remote) else {
            continue;
        };
        let key = format!("remote.{remote}.fetch");
        let present = config.values(&key)?;
        for spec in fetch_refspecs(&tracking) {
            if !present.contains(&spec) {
                config.add(&key, &spec)?;
                changed.push(format!("{key}={spec}"));
            }
        }
    }
    // Take back what an earlier version set: one mechanism carries our notes (post-rewrite).
    let ours = crate::store::refs::NOTES_REF;
    if config.values("notes.rewriteRef")?.iter().any(|v| v == ours) {
        config.remove("notes.rewriteRef", ours)?;
        changed.push(format!("unset notes.rewriteRef={ours}"));
        if config.get("notes.rewriteMode").as_deref() == Some("cat_sort_uniq") {
            config.unset("notes.rewriteMode")?;
            changed.push("unset notes.rewriteMode=cat_sort_uniq".to_owned());
        }
    }
    Ok(changed)
}

/// Writes `.handoff.toml` with the documented defaults when the work tree has none; returns
/// whether it wrote one.
pub fn write_repo_file(repo: &Repo) -> Result<bool, Error> {
    let Some(workdir) = repo.work_dir() else {
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
