//! `git handoff init`: per-clone configuration (SPEC §4).
//!
//! Sets `notes.rewriteRef=refs/notes/handoff` and `notes.rewriteMode=cat_sort_uniq` (so amend
//! and rebase carry our notes, merged as line sets) and `log.excludeDecoration=refs/handoff/*`
//! (so session refs do not clutter `git log`), and writes `.handoff.toml` when absent. Every step
//! is idempotent and reports whether it changed anything.

use git2::{ConfigLevel, Repository};

use crate::config::{DEFAULTS, REPO_FILE};

/// Config keys and values `init` ensures, with whether the key holds several values.
pub const SETTINGS: &[(&str, &str, bool)] = &[
    ("notes.rewriteRef", "refs/notes/handoff", true),
    ("notes.rewriteMode", "cat_sort_uniq", false),
    ("log.excludeDecoration", "refs/handoff/*", true),
];

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
