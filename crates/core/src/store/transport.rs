//! Network transport through the user's `git` executable: credential helpers, ssh
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
    /// The remote's object format is not this repository's (SHA-1 against SHA-256).
    #[error(
        "git {command} {remote} failed: {message}: that remote's object format is not this repository's (SHA-1 against SHA-256); a SHA-1 and a SHA-256 clone of a project are different repositories, and sessions cannot move between them"
    )]
    ObjectFormat {
        /// `fetch`, `push` or `ls-remote`.
        command: &'static str,
        /// The remote.
        remote: String,
        /// What git said.
        message: String,
    },
}

impl Error {
    /// The error for a failed git command, telling a remote of the other object format apart
    /// (git's own words for it: "mismatched algorithms" when fetching, "does not support this
    /// repository's hash algorithm" when pushing).
    fn failed(
        command: &'static str,
        remote: &str,
        out: &std::process::Output,
        message: String,
    ) -> Self {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = scrub(&message, remote);
        let remote = shown(remote).into_owned();
        if stderr.contains("mismatched algorithms") || stderr.contains("hash algorithm") {
            Self::ObjectFormat {
                command,
                remote,
                message,
            }
        } else {
            Self::Git {
                command,
                remote,
                message,
            }
        }
    }
}

/// Where a remote's sessions are tracked locally.
pub fn tracking_prefix(remote: &str) -> String {
    format!("refs/handoff-remotes/{remote}/sessions/")
}

/// Where a remote's notes are tracked locally.
pub fn tracking_notes(remote: &str) -> String {
    format!("refs/notes/handoff-remotes/{remote}")
}

/// Where a fetch lands the remote's `refs/notes/handoff*` refs: a directory of this remote's
/// own, so that another notes ref of theirs (`refs/notes/handoff-archive`) can never overwrite
/// the tracking ref of another remote. Only `<this>/handoff` is then read.
pub fn fetched_notes_prefix(remote: &str) -> String {
    format!("refs/handoff-remotes/{remote}/notes/")
}

/// A remote as it may be shown, logged or used in a ref name: a URL without its userinfo (a
/// token in `https://x-access-token:TOKEN@host/r.git`, the usual CI form), its query and its
/// fragment; anything else (a remote's name, a path, `user@host:path`) as it is.
pub fn shown(remote: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = remote.split_once("://") else {
        return std::borrow::Cow::Borrowed(remote);
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let clean = format!("{scheme}://{host}{path}");
    if clean == remote {
        std::borrow::Cow::Borrowed(remote)
    } else {
        std::borrow::Cow::Owned(clean)
    }
}

/// `text` (git's message about `remote`) with the remote's credentials replaced, wherever they
/// appear, by `***`.
pub fn scrub(text: &str, remote: &str) -> String {
    let Some((_, rest)) = remote.split_once("://") else {
        return text.to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let mut out = text.to_owned();
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        // The whole userinfo first, then each part alone (git may print either).
        for secret in std::iter::once(userinfo).chain(userinfo.split(':')) {
            if secret.len() >= 4 {
                out = out.replace(secret, "***");
            }
        }
    }
    if let Some(query) = rest
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q))
        && query.len() >= 4
    {
        out = out.replace(query, "***");
    }
    out
}

/// Encodes a remote name (or URL, without its credentials: [`shown`]) for our tracking ref
/// names, injectively: ASCII letters, digits, `-` and `.` stand for themselves, every other
/// byte is `_` and two hex digits (`team/a` → `team_2fa`, `team_a` → `team_5fa`), so two
/// remotes never share tracking refs.
pub fn tracking_name(remote: &str) -> Result<String, Error> {
    let remote = shown(remote);
    let remote = remote.as_ref();
    let mut name = String::with_capacity(remote.len());
    for b in remote.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || (b == b'.' && !name.is_empty()) {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("_{b:02x}"));
        }
    }
    let name = name.replace("..", "._2e");
    let name = match name.strip_suffix('.') {
        Some(stem) => format!("{stem}_2e"),
        None => name,
    };
    let name = match name.strip_suffix(".lock") {
        Some(stem) => format!("{stem}_2elock"),
        None => name,
    };
    if name.is_empty() || !git2::Reference::is_valid_name(&tracking_notes(&name)) {
        return Err(Error::BadRemote(remote.to_owned()));
    }
    Ok(name)
}

/// The remote a tracking name stands for: [`tracking_name`] read back (`_` and two hex digits
/// are the byte they encode). `None` when the name is not one it produces.
pub fn remote_of_tracking_name(name: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'_' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// Outcome of a push.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Refs the remote refused because another push got there first (non-fast-forward, fetch
    /// first, stale info): a pull and merge makes them pushable.
    pub rejected: Vec<String>,
    /// Refs the remote refused for another reason, with the server's own words
    /// (`[remote rejected] (pre-receive hook declined)`, an fsck error): retrying cannot help.
    pub refused: Vec<(String, String)>,
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

/// What a fetch refused: remote refs whose objects failed git's own checks.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// `(remote ref, git's first error line)`, for each ref left out.
    pub refused: Vec<(String, String)>,
}

/// Fetches the remote's sessions and notes into the tracking refs (forced there only: they
/// mirror the remote) in one round trip, with `transfer.fsckObjects`: git checks every object
/// it receives and stores nothing from a pack that fails, so nothing `git fsck --strict`
/// refuses ever enters the repository. When that fetch fails on such an object, each ref is
/// fetched on its own, so one hostile session never keeps out the others.
///
/// The notes refspec is a pattern (`refs/notes/handoff*`) so that a remote without notes yet is
/// not an error; it lands in this remote's own directory ([`fetched_notes_prefix`]). No
/// `--prune`: a session deleted upstream is better kept than silently dropped.
pub fn fetch(dir: &Path, remote: &str, quiet: bool) -> Result<Fetched, Error> {
    let name = tracking_name(remote)?;
    let sessions = format!("+{SESSIONS_PREFIX}*:{}*", tracking_prefix(&name));
    let notes = format!("+{NOTES_REF}*:{}handoff*", fetched_notes_prefix(&name));
    let (out, message) = run(
        fetch_command(dir, remote, quiet, &[&sessions, &notes]),
        quiet,
    )?;
    if out.status.success() {
        fetch_promised(dir, remote, &name)?;
        return Ok(Fetched::default());
    }
    if !String::from_utf8_lossy(&out.stderr).contains("fsck") && !message.contains("fsck") {
        return Err(Error::failed("fetch", remote, &out, message));
    }
    fetch_each(dir, remote, &name)
}

/// In a partial clone (`git clone --filter=blob:none`, which GitHub recommends for large
/// repositories) a fetch of our refs brings their commits and trees but leaves the blobs to be
/// fetched on demand, which libgit2 cannot do: so the blobs the remote's sessions and notes name
/// and this clone lacks are fetched here, in one round trip, as git's own lazy fetch asks for
/// them. Anything else is left alone; a clone that is not partial costs one config read.
fn fetch_promised(dir: &Path, remote: &str, name: &str) -> Result<(), Error> {
    let partial = git(dir)
        .args([
            "config",
            "--get-regexp",
            r"^(remote\..*\.promisor|extensions\.partialclone)$",
        ])
        .output()
        .map_err(Error::Spawn)?;
    if !String::from_utf8_lossy(&partial.stdout)
        .lines()
        .any(|l| !l.trim_end().ends_with(" false"))
    {
        return Ok(());
    }
    let listed = git(dir)
        .args(["rev-list", "--objects", "--missing=print"])
        .arg(format!("--glob={}*", tracking_root(name)))
        .arg(format!("--glob={}*", tracking_notes(name)))
        .output()
        .map_err(Error::Spawn)?;
    let missing: String = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix('?'))
        .map(|oid| format!("{oid}\n"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut child = git(dir)
        .args([
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            remote,
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            "--filter=blob:none",
            "--stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, missing.as_bytes()).map_err(Error::Spawn)?;
    }
    let out = child.wait_with_output().map_err(Error::Spawn)?;
    if !out.status.success() {
        let message = last_lines(&String::from_utf8_lossy(&out.stderr));
        return Err(Error::failed("fetch", remote, &out, message));
    }
    Ok(())
}

/// Where every tracking ref of a remote lives: `refs/handoff-remotes/<remote>/`.
fn tracking_root(name: &str) -> String {
    format!("{}{name}/", super::refs::TRACKING_PREFIX)
}

fn fetch_command(dir: &Path, remote: &str, quiet: bool, refspecs: &[&str]) -> Command {
    let mut cmd = git(dir);
    cmd.args([
        "-c",
        "transfer.fsckObjects=true",
        "fetch",
        "--no-tags",
        "--no-write-fetch-head",
        "--no-auto-maintenance",
        "--no-show-forced-updates",
    ]);
    if quiet {
        cmd.arg("--quiet");
    }
    cmd.arg(remote).args(refspecs);
    cmd
}

/// Fetches every session and notes ref of `remote` on its own, keeping what passes git's
/// checks and reporting the rest.
fn fetch_each(dir: &Path, remote: &str, name: &str) -> Result<Fetched, Error> {
    let mut list = git(dir);
    list.args(["ls-remote", remote])
        .arg(format!("{SESSIONS_PREFIX}*"))
        .arg(NOTES_REF);
    let (out, message) = run(list, true)?;
    if !out.status.success() {
        return Err(Error::failed("ls-remote", remote, &out, message));
    }
    let mut fetched = Fetched::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((_, refname)) = line.split_once('\t') else {
            continue;
        };
        let target = match refname.strip_prefix(SESSIONS_PREFIX) {
            Some(id) => format!("{}{id}", tracking_prefix(name)),
            None if refname == NOTES_REF => format!("{}handoff", fetched_notes_prefix(name)),
            None => continue,
        };
        let spec = format!("+{refname}:{target}");
        let (out, _) = run(fetch_command(dir, remote, true, &[&spec]), true)?;
        if !out.status.success() {
            let first = String::from_utf8_lossy(&out.stderr)
                .lines()
                .find(|l| l.starts_with("error:") || l.starts_with("fatal:"))
                .unwrap_or("git refused the objects")
                .to_owned();
            fetched.refused.push((refname.to_owned(), first));
        }
    }
    Ok(fetched)
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
        let summary = fields.next().unwrap_or_default().trim();
        let race = [
            "(non-fast-forward)",
            "(fetch first)",
            "(stale info)",
            "(already exists)",
        ]
        .iter()
        .any(|r| summary.ends_with(r));
        match flag {
            "!" if race => pushed.rejected.push(dst),
            "!" => pushed.refused.push((dst, summary.to_owned())),
            " " | "+" | "*" | "-" => pushed.updated.push(dst),
            "=" => pushed.up_to_date.push(dst),
            _ => {}
        }
    }
    if out.status.success() || !pushed.rejected.is_empty() || !pushed.refused.is_empty() {
        return Ok(pushed);
    }
    Err(Error::failed("push", remote, &out, message))
}

/// What to report of git's stderr: its own first error line (`fatal:`, `error:`, a rejected
/// ref), which names the cause, then the last lines if they add anything.
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let first_error = lines
        .iter()
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:") || l.starts_with("! ["))
        .copied();
    let start = lines.len().saturating_sub(2);
    let mut out: Vec<&str> = first_error.into_iter().collect();
    for l in &lines[start..] {
        if !out.contains(l) {
            out.push(l);
        }
    }
    out.join("; ")
}

#[cfg(test)]
mod credential_tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_and_names_stay_as_they_are() {
        let url = "https://x-access-token:ghs_SECRET1234@github.com/o/r.git?token=abcd#frag";
        assert_eq!(shown(url), "https://github.com/o/r.git");
        assert_eq!(shown("origin"), "origin");
        assert_eq!(shown("git@github.com:o/r.git"), "git@github.com:o/r.git");
        assert_eq!(shown("/srv/repo.git"), "/srv/repo.git");
        assert_eq!(shown("https://host/r.git"), "https://host/r.git");
        assert_eq!(shown("ssh://user:pw@host:22/r"), "ssh://host:22/r");
        // The same remote with or without a token tracks into the same refs.
        assert_eq!(
            tracking_name(url).unwrap(),
            tracking_name("https://github.com/o/r.git").unwrap()
        );
        assert!(!tracking_name(url).unwrap().contains("SECRET"));
    }

    #[test]
    fn git_messages_lose_the_credentials_too() {
        let url = "https://x-access-token:ghs_SECRET1234@github.com/o/r.git";
        let said = "fatal: unable to access 'https://x-access-token:ghs_SECRET1234@github.com/o/r.git/': refused; password ghs_SECRET1234";
        let clean = scrub(said, url);
        assert!(!clean.contains("SECRET"), "{clean}");
        assert!(clean.contains("github.com/o/r.git"), "{clean}");
        assert_eq!(scrub("nothing to hide", "origin"), "nothing to hide");
    }

    #[test]
    fn tracking_names_read_back_as_their_remote() {
        for remote in ["origin", "team/a", "team_a", "https://u:p@h/r.git", "a..b."] {
            let raw: String = remote
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b'-' {
                        char::from(b).to_string()
                    } else {
                        format!("_{b:02x}")
                    }
                })
                .collect();
            assert_eq!(remote_of_tracking_name(&raw).as_deref(), Some(remote));
        }
        assert_eq!(remote_of_tracking_name("bad_zz"), None);
    }
}
