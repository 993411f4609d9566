//! Committing what an implementing agent left in the work tree (`git handoff run implement`,
//! `loop`, the stop gate), through git itself: its index, its hooks, the user's identity and
//! signing, as if the user had typed `git add` and `git commit` for the files the agent
//! changed or created. The commit carries the session's
//! `Handoff-Session:` trailer, which makes it part of the session (docs/format.md, "A session
//! is its commits").

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Error, Result};

/// The untracked files of a work tree (not ignored), as git names them: what was there before
/// an agent ran, which [`commit_all`] leaves out of the agent's commit.
pub type Untracked = std::collections::BTreeSet<Vec<u8>>;

/// Runs git in `work_dir` with `input` on its standard input; its standard output.
fn git_in(work_dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(work_dir)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Commit(format!("cannot run git: {e}")))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(input)
            .map_err(|e| Error::Commit(format!("writing to git: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Commit(format!("waiting for git: {e}")))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(Error::Commit(
            crate::session::codec::excerpt(String::from_utf8_lossy(&out.stderr).trim()).to_string(),
        ))
    }
}

/// The untracked, not ignored files of the work tree at `work_dir` (`git ls-files --others
/// --exclude-standard`), as bytes: a path need not be UTF-8.
pub fn untracked(work_dir: &Path) -> Result<Untracked> {
    let out = git_in(
        work_dir,
        &["ls-files", "-z", "--others", "--exclude-standard"],
        None,
    )?;
    Ok(out
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

/// Commits what changed in the work tree at `work_dir` with `message`: every change to a
/// tracked file, and every untracked file that is not in `before` (what was there before the
/// agent ran: a user's scratch file or the files `init --agents` wrote are not the agent's
/// work). `None` when there was nothing to commit, else the new commit's name.
pub fn commit_all(work_dir: &Path, message: &str, before: &Untracked) -> Result<Option<String>> {
    git_in(work_dir, &["add", "-u"], None)?;
    let added: Vec<u8> = untracked(work_dir)?
        .difference(before)
        .flat_map(|p| p.iter().copied().chain([0]))
        .collect();
    if !added.is_empty() {
        git_in(
            work_dir,
            &[
                "--literal-pathspecs",
                "add",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ],
            Some(&added),
        )?;
    }
    // Nothing staged: nothing to commit.
    if git_in(work_dir, &["diff", "--cached", "--quiet"], None).is_ok() {
        return Ok(None);
    }
    git_in(
        work_dir,
        &["commit", "-q", "-F", "-"],
        Some(message.as_bytes()),
    )?;
    let head = git_in(work_dir, &["rev-parse", "HEAD"], None)?;
    Ok(Some(String::from_utf8_lossy(&head).trim().to_owned()))
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
