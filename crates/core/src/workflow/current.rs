//! The current session of each branch: `<git-common-dir>/handoff/current`. While a session is
//! current on the branch HEAD is on, the prepare-commit-msg hook adds `Handoff-Session: <ID>`
//! to commit messages there.
//!
//! A session is current on the branch (or the detached HEAD of the worktree) it was started
//! on: a commit on another branch gets no trailer, switching back resumes it, and two worktrees
//! on two branches each have their own. The file holds one `<place> <ID>` line per branch
//! (docs/format.md, "Commit trailers"); a file of an older version holds a bare ID, which counts on
//! every branch until a session is started or stopped.
//!
//! Which session is current can never silently become another one: `git handoff start ID`
//! and `context ID --for implement` (the implementer asking for its instructions) make a
//! session current; `plan` makes its new session current only when no other unfinished
//! session is (see [`offer`]); `git handoff stop` clears it; a COMPLETE or ABANDONED session
//! stops counting. `git handoff status` shows it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::git::Repo;
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

/// The place a legacy file (a bare ID) binds its session to: every branch.
const ANYWHERE: &str = "*";

fn path(common_dir: &Path) -> PathBuf {
    common_dir.join("handoff").join("current")
}

/// Every binding in the file, place → session. Lines that do not parse are skipped.
fn read(common_dir: &Path) -> BTreeMap<String, SessionId> {
    let Ok(text) = std::fs::read_to_string(path(common_dir)) else {
        return BTreeMap::new();
    };
    let mut bindings = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let (place, id) = match line.rsplit_once(' ') {
            Some((place, id)) => (place.trim(), id),
            None => (ANYWHERE, line),
        };
        if let Ok(id) = SessionId::parse(id) {
            bindings.insert(place.to_owned(), id);
        }
    }
    bindings
}

fn write(common_dir: &Path, bindings: &BTreeMap<String, SessionId>) -> Result<(), Error> {
    let p = path(common_dir);
    let fail = |source| Error {
        path: p.clone(),
        source,
    };
    if bindings.is_empty() {
        return match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(fail(e)),
            _ => Ok(()),
        };
    }
    let dir = p.parent().unwrap_or(common_dir);
    std::fs::create_dir_all(dir).map_err(fail)?;
    let text: String = bindings
        .iter()
        .map(|(place, id)| format!("{place} {id}\n"))
        .collect();
    // Written aside and renamed over, so a reader never sees half a file.
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(fail)?;
    file.persist(&p).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The session current where HEAD is (its branch, or this worktree's detached HEAD).
pub fn get(repo: &Repo) -> Option<SessionId> {
    let mut bindings = read(repo.common_dir());
    bindings
        .remove(&repo.head_place())
        .or_else(|| bindings.remove(ANYWHERE))
}

/// Every session current somewhere, with where (`refs/heads/NAME`, `HEAD`, `HEAD@WORKTREE`,
/// or `*` for a binding an older version wrote).
pub fn all(repo: &Repo) -> Vec<(String, SessionId)> {
    read(repo.common_dir()).into_iter().collect()
}

/// Where HEAD is, as bindings name it, for people: the branch's short name, or "detached HEAD".
pub fn place_name(place: &str) -> String {
    match place.strip_prefix("refs/heads/") {
        Some(branch) => format!("branch {branch}"),
        None if place == ANYWHERE => "every branch".to_owned(),
        None => "a detached HEAD".to_owned(),
    }
}

/// Makes `id` current where HEAD is; returns the place.
pub fn set(repo: &Repo, id: &SessionId) -> Result<String, Error> {
    let mut bindings = read(repo.common_dir());
    bindings.remove(ANYWHERE);
    let place = repo.head_place();
    bindings.insert(place.clone(), id.clone());
    write(repo.common_dir(), &bindings)?;
    Ok(place)
}

/// Clears the current session where HEAD is; returns the one that was current.
pub fn clear(repo: &Repo) -> Result<Option<SessionId>, Error> {
    let mut bindings = read(repo.common_dir());
    let was = bindings
        .remove(&repo.head_place())
        .or_else(|| bindings.remove(ANYWHERE));
    write(repo.common_dir(), &bindings)?;
    Ok(was)
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

/// Makes `id` current where HEAD is unless another session is current there and still
/// unfinished (`is_unfinished` says which are), so that starting a second session never moves
/// the trailer of commits being made for the first.
pub fn offer(
    repo: &Repo,
    id: &SessionId,
    is_unfinished: impl Fn(&SessionId) -> bool,
) -> Result<Offer, Error> {
    match get(repo) {
        Some(current) if &current == id => Ok(Offer::Already),
        Some(current) if is_unfinished(&current) => Ok(Offer::Kept(current)),
        _ => set(repo, id).map(|_| Offer::Became),
    }
}
