//! The clone's current session: `<git-common-dir>/handoff/current`. While set, the
//! prepare-commit-msg hook adds `Handoff-Session: <ID>` to commit messages.
//!
//! Which session is current can never silently become another one: `git handoff start ID`
//! and `context ID --for implement` (the implementer asking for its instructions) make a
//! session current; `plan` makes its new session current only when no other unfinished
//! session is (see [`offer`]); `git handoff stop` clears it; a COMPLETE or ABANDONED session
//! stops counting. `git handoff status` shows it.

use std::path::{Path, PathBuf};

use crate::session::SessionId;

/// Why the current session could not be set or cleared.
#[derive(Debug, thiserror::Error)]
#[error("cannot update {}: {source}", .path.display())]
pub struct Error {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

fn path(common_dir: &Path) -> PathBuf {
    common_dir.join("handoff").join("current")
}

/// The current session, if one is set and the file is sound.
pub fn get(common_dir: &Path) -> Option<SessionId> {
    let text = std::fs::read_to_string(path(common_dir)).ok()?;
    SessionId::parse(text.trim()).ok()
}

/// Makes `id` current.
pub fn set(common_dir: &Path, id: &SessionId) -> Result<(), Error> {
    let p = path(common_dir);
    let fail = |source| Error {
        path: p.clone(),
        source,
    };
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(&p, format!("{id}\n")).map_err(fail)
}

/// Clears the current session; returns the one that was current.
pub fn clear(common_dir: &Path) -> Result<Option<SessionId>, Error> {
    let was = get(common_dir);
    match std::fs::remove_file(path(common_dir)) {
        Ok(()) => Ok(was),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(was),
        Err(source) => Err(Error {
            path: path(common_dir),
            source,
        }),
    }
}

/// What [`offer`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// The session is now current.
    Became,
    /// It already was.
    Already,
    /// Another unfinished session is current and stays so.
    Kept(SessionId),
}

/// Makes `id` current unless another session is current and still unfinished
/// (`is_unfinished` says which are), so that starting a second session never moves the
/// trailer of commits being made for the first.
pub fn offer(
    common_dir: &Path,
    id: &SessionId,
    is_unfinished: impl Fn(&SessionId) -> bool,
) -> Result<Offer, Error> {
    match get(common_dir) {
        Some(current) if &current == id => Ok(Offer::Already),
        Some(current) if is_unfinished(&current) => Ok(Offer::Kept(current)),
        _ => set(common_dir, id).map(|()| Offer::Became),
    }
}
