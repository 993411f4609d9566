//! Network transport through the user's `git` executable (SPEC §5): credential helpers, ssh
//! config and proxies behave as users expect. `fetch` writes only the private tracking refs
//! `refs/handoff-remotes/<remote>/...` and `refs/notes/handoff-remotes/<remote>`; `push` is never
//! forced and never adds `remote.<name>.push` refspecs.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::refs::{NOTES_REF, SESSIONS_PREFIX};

/// Why talking to a remote failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `git` could not be started.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// The remote name is not usable in a ref name.
    #[error("'{0}' cannot be used as a remote name here")]
    BadRemote(String),
    /// `git fetch` or `git push` failed.
    #[error("git {command} {remote} failed: {message}")]
    Git {
        /// `fetch` or `push`.
        command: &'static str,
        /// The remote.
        remote: String,
        /// What git said.
        message: String,
    },
}

/// Where a remote's sessions are tracked locally.
pub fn tracking_prefix(remote: &str) -> String {
    format!("refs/handoff-remotes/{remote}/sessions/")
}

/// Where a remote's notes are tracked locally.
pub fn tracking_notes(remote: &str) -> String {
    format!("refs/notes/handoff-remotes/{remote}")
}

/// Checks that a remote name (or URL) can be embedded in our tracking ref names.
pub fn tracking_name(remote: &str) -> Result<String, Error> {
    let name: String = remote
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_matches('.').to_owned();
    if name.is_empty()
        || name.contains("..")
        || !git2::Reference::is_valid_name(&tracking_notes(&name))
    {
        return Err(Error::BadRemote(remote.to_owned()));
    }
    Ok(name)
}

/// Outcome of a push.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Refs the remote refused because they were not fast-forwards.
    pub rejected: Vec<String>,
    /// Refs updated on the remote.
    pub updated: Vec<String>,
    /// Refs the remote already had.
    pub up_to_date: Vec<String>,
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

/// Runs a git network command. On a terminal (unless `quiet`) git shows its own progress and
/// errors; otherwise stderr is captured. Returns the output and what to report on failure.
fn run(mut cmd: Command, quiet: bool) -> Result<(std::process::Output, String), Error> {
    let show = !quiet && std::io::stderr().is_terminal();
    let stderr = if show {
        Stdio::inherit()
    } else {
        Stdio::piped()
    };
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(stderr)
        .output()
        .map_err(Error::Spawn)?;
    let message = if show {
        "see git's message above".to_owned()
    } else {
        last_lines(&String::from_utf8_lossy(&out.stderr))
    };
    Ok((out, message))
}

/// Fetches the remote's sessions and notes into the tracking refs (forced there only: they
/// mirror the remote) in one round trip. The notes refspec is a pattern
/// (`refs/notes/handoff*`) so that a remote without notes yet is not an error. No `--prune`:
/// with that pattern it could delete another remote's tracking notes, and a session deleted
/// upstream is better kept than silently dropped.
pub fn fetch(dir: &Path, remote: &str, quiet: bool) -> Result<(), Error> {
    let name = tracking_name(remote)?;
    let sessions = format!("+{SESSIONS_PREFIX}*:{}*", tracking_prefix(&name));
    let notes = format!("+{NOTES_REF}*:{}*", tracking_notes(&name));
    let mut cmd = git(dir);
    cmd.args([
        "fetch",
        "--no-tags",
        "--no-write-fetch-head",
        "--no-auto-maintenance",
        "--no-show-forced-updates",
    ]);
    if quiet {
        cmd.arg("--quiet");
    }
    cmd.arg(remote).args([&sessions, &notes]);
    let (out, message) = run(cmd, quiet)?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Git {
        command: "fetch",
        remote: remote.to_owned(),
        message,
    })
}

/// Pushes refs (full names, or a glob such as `refs/handoff/sessions/*`) to the same names on
/// the remote, never forced, without running the local pre-push hook again. Rejections are
/// reported, not treated as errors.
pub fn push(dir: &Path, remote: &str, refs: &[String], quiet: bool) -> Result<Pushed, Error> {
    if refs.is_empty() {
        return Ok(Pushed::default());
    }
    let mut cmd = git(dir);
    // Not --quiet: it also silences the --porcelain report we read.
    cmd.args(["push", "--no-verify", "--porcelain"]);
    if quiet {
        cmd.arg("--no-progress");
    }
    cmd.arg(remote);
    for r in refs {
        cmd.arg(format!("{r}:{r}"));
    }
    // Never wait for a password prompt inside a hook or a script.
    cmd.env("GIT_TERMINAL_PROMPT", "0");
    let (out, message) = run(cmd, quiet)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut pushed = Pushed::default();
    for line in stdout.lines() {
        let mut fields = line.split('\t');
        let (Some(flag), Some(spec)) = (fields.next(), fields.next()) else {
            continue;
        };
        let dst = spec.rsplit(':').next().unwrap_or(spec).to_owned();
        match flag {
            "!" => pushed.rejected.push(dst),
            " " | "+" | "*" | "-" => pushed.updated.push(dst),
            "=" => pushed.up_to_date.push(dst),
            _ => {}
        }
    }
    if out.status.success() || !pushed.rejected.is_empty() {
        return Ok(pushed);
    }
    Err(Error::Git {
        command: "push",
        remote: remote.to_owned(),
        message,
    })
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(3);
    lines[start..].join("; ")
}
