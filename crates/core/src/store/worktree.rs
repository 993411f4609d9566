//! Committing what an implementing agent left in the work tree (`git handoff run implement`,
//! `loop`), through git itself: its index, its hooks, the user's identity and signing, as if
//! the user had typed `git add -A && git commit`. The commit carries the session's
//! `Handoff-Session:` trailer, which makes it part of the session (docs/format.md, "A session
//! is its commits").

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Error, Result};

/// Commits every change of the work tree at `work_dir` (new files included, ignored ones not)
/// with `message`; `None` when there was nothing to commit, else the new commit's name.
pub fn commit_all(work_dir: &Path, message: &str) -> Result<Option<String>> {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(work_dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Commit(format!("cannot run git: {e}")))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(Error::Commit(crate::session::codec::excerpt(
                String::from_utf8_lossy(&out.stderr).trim(),
            )))
        }
    };
    if git(&["status", "--porcelain"])?.trim().is_empty() {
        return Ok(None);
    }
    git(&["add", "-A"])?;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(work_dir)
        .args(["commit", "-q", "-F", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Commit(format!("cannot run git: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(message.as_bytes())
            .map_err(|e| Error::Commit(format!("writing the message: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Commit(format!("waiting for git: {e}")))?;
    if !out.status.success() {
        return Err(Error::Commit(
            crate::session::codec::excerpt(String::from_utf8_lossy(&out.stderr).trim()).to_string(),
        ));
    }
    Ok(Some(git(&["rev-parse", "HEAD"])?.trim().to_owned()))
}

/// A linked worktree at `path` on a new branch `branch` from HEAD (`git worktree add -b`), for
/// an agent to work in without touching the user's checkout; an existing worktree at `path`
/// (a loop resumed) is used as it is. Returns whether it was created.
pub fn add_worktree(work_dir: &Path, path: &Path, branch: &str) -> Result<bool> {
    if path.join(".git").exists() {
        return Ok(false);
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(work_dir)
        .args(["worktree", "add", "-q", "-b", branch])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Commit(format!("cannot run git: {e}")))?;
    if out.status.success() {
        Ok(true)
    } else {
        Err(Error::Commit(crate::session::codec::excerpt(
            String::from_utf8_lossy(&out.stderr).trim(),
        )))
    }
}
