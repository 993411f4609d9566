//! The clone's current session: `<git-common-dir>/handoff/current`, set by `plan` (for the
//! session it starts) and `git handoff start ID`, cleared by `git handoff stop`. While set, the
//! prepare-commit-msg hook adds `Handoff-Session: <ID>` to commit messages.

use std::path::{Path, PathBuf};

use crate::session::SessionId;

fn path(common_dir: &Path) -> PathBuf {
    common_dir.join("handoff").join("current")
}

/// The current session, if one is set and the file is sound.
pub fn get(common_dir: &Path) -> Option<SessionId> {
    let text = std::fs::read_to_string(path(common_dir)).ok()?;
    SessionId::parse(text.trim()).ok()
}

/// Makes `id` current.
pub fn set(common_dir: &Path, id: &SessionId) -> std::io::Result<()> {
    let p = path(common_dir);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(p, format!("{id}\n"))
}

/// Clears the current session; returns the one that was current.
pub fn clear(common_dir: &Path) -> std::io::Result<Option<SessionId>> {
    let was = get(common_dir);
    match std::fs::remove_file(path(common_dir)) {
        Ok(()) => Ok(was),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(was),
        Err(e) => Err(e),
    }
}
