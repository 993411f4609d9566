//! What was untracked in a work tree when a session's implementation began there, so that
//! the stop gate commits only what the agent added (a person's scratch file, or the files
//! `init --agents` wrote, are not the session's work). Kept per session in
//! `<git-common-dir>/handoff/baseline/<session ID>`, NUL-separated paths; derived data, which
//! losing only widens the next commit to every untracked file (as `git add -A` would).

use std::path::{Path, PathBuf};

use crate::session::SessionId;
use crate::store::worktree::{self, Untracked};

fn file(common_dir: &Path, id: &SessionId) -> PathBuf {
    common_dir
        .join("handoff")
        .join("baseline")
        .join(id.as_str())
}

/// Notes what is untracked in `work_dir` now as the baseline of `id`, unless it has one.
/// Failures are ignored: the baseline only narrows a later commit.
pub fn note(common_dir: &Path, work_dir: &Path, id: &SessionId) {
    let path = file(common_dir, id);
    if path.exists() {
        return;
    }
    let Ok(untracked) = worktree::untracked(work_dir) else {
        return;
    };
    let bytes: Vec<u8> = untracked
        .iter()
        .flat_map(|p| p.iter().copied().chain([0]))
        .collect();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(path, bytes);
}

/// The baseline of `id`: empty when none was noted.
pub fn read(common_dir: &Path, id: &SessionId) -> Untracked {
    std::fs::read(file(common_dir, id))
        .map(|bytes| {
            bytes
                .split(|&b| b == 0)
                .filter(|p| !p.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        })
        .unwrap_or_default()
}
