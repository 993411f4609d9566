//! The only module that writes refs and notes (docs/format.md).
//!
//! Sessions are commit chains under `refs/handoff/sessions/<ID>`: each commit's tree holds
//! `session.toml` and every artifact so far as `artifacts/<ULID>-<kind>.md`. Notes under
//! `refs/notes/handoff` list, for each code commit, the sessions that produced it. Reads never
//! trust stored data: a bad session is a per-session error, never a panic and never misread.

mod blobs;
mod merge;
mod notes;
mod pack;
mod ref_names;
pub mod refs;
mod sessions;
pub mod transport;
mod undo;
pub mod worktree;

use git2::{Oid, Repository, Signature};

pub use merge::SessionMerge;
pub use notes::{Additions, LINE_KEY, NoteLine, NotesMerge, NotesReader, note_lines, parse_note};
pub use sessions::{ListedSession, NewArtifact};
pub use undo::{Refusal, Undone};

use crate::session::codec::DecodeError;
use crate::session::status::TransitionError;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A git operation failed. Only libgit2's message is shown, not its class and code.
    #[error("{action}: {}", .source.message())]
    Git {
        /// What we were doing.
        action: String,
        /// The libgit2 error.
        source: git2::Error,
    },
    /// No session with that ID exists.
    #[error("session {0} does not exist")]
    SessionNotFound(String),
    /// A stored file could not be decoded.
    #[error("session {session}: {path}: {source}")]
    Corrupt {
        /// The session (or ref name) it belongs to.
        session: String,
        /// The path inside the session tree.
        path: String,
        /// Why decoding failed.
        source: DecodeError,
    },
    /// The session does not have the layout of docs/format.md.
    #[error("session {session}: {problem}")]
    Malformed {
        /// The session (or ref name).
        session: String,
        /// What is wrong.
        problem: Problem,
    },
    /// `user.name` / `user.email` are not set.
    #[error(
        "no git identity: set one with git config user.name \"Your Name\" and git config user.email you@example.com"
    )]
    NoIdentity,
    /// The state machine refused the artifact.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Another writer kept winning the compare-and-swap.
    #[error("{name} kept changing under us after {attempts} attempts; try again")]
    Contended {
        /// The ref.
        name: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A lock file stayed in place for every attempt.
    #[error(
        "{name} is locked: {} exists; if no other git or git-handoff process is running, remove it",
        .lock.display()
    )]
    Locked {
        /// The ref.
        name: String,
        /// The lock file.
        lock: std::path::PathBuf,
    },
    /// A note on `refs/notes/handoff` that we cannot rewrite without losing data; it is left
    /// untouched.
    #[error(
        "refusing to rewrite refs/notes/handoff at object {note}: {problem}; the notes were left untouched"
    )]
    NoteRefused {
        /// The note's blob.
        note: Oid,
        /// Why.
        problem: NoteProblem,
    },
    /// A payload could not be encoded.
    #[error(transparent)]
    Encode(#[from] crate::session::codec::EncodeError),
    /// Reading the repository through the git facade failed.
    #[error(transparent)]
    Repo(#[from] crate::git::Error),
    /// git refused to commit the work tree (a hook, no identity, a conflict) or to add a
    /// worktree.
    #[error("git refused: {0}")]
    Commit(String),
    /// Writing an object failed, libgit2 did not say why, and the file system did when asked
    /// (see [`crate::git::probe_write`]).
    #[error("{action}: {}: {source}", .path.display())]
    Write {
        /// What we were writing.
        action: String,
        /// The directory the object was to go to.
        path: std::path::PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether a write was refused because this process may not write the repository (a
    /// read-only file system or directory, as in a sandboxed agent such as `codex exec`): the
    /// user's situation to change, not a bug.
    pub fn is_read_only(&self) -> bool {
        match self {
            Self::Git { source, .. } => crate::git::read_only_failure(source),
            Self::Repo(e) => e.is_read_only(),
            Self::Write { source, .. } => crate::git::io_read_only(source),
            _ => false,
        }
    }

    /// Whether a write failed because the disk is full: the environment's problem, not a bug.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Self::Git { source, .. } => crate::git::disk_full_failure(source),
            Self::Repo(e) => e.is_disk_full(),
            Self::Write { source, .. } => crate::git::io_disk_full(source),
            _ => false,
        }
    }

    /// Whether the operating system failed under us (an internal error, not the user's).
    pub fn is_os_failure(&self) -> bool {
        match self {
            Self::Git { source, .. } => source.class() == git2::ErrorClass::Os,
            Self::Repo(e) => e.is_os_failure(),
            _ => false,
        }
    }

    /// The error for a compare-and-swap that never succeeded: a stale lock file, or contention.
    pub(crate) fn contended(repo: &Repository, name: &str) -> Self {
        let lock = repo.commondir().join(format!("{name}.lock"));
        if lock.exists() {
            Self::Locked {
                name: name.to_owned(),
                lock,
            }
        } else {
            Self::Contended {
                name: name.to_owned(),
                attempts: refs::MAX_ATTEMPTS,
            }
        }
    }

    pub(crate) fn git(action: impl Into<String>, source: git2::Error) -> Self {
        Self::Git {
            action: action.into(),
            source,
        }
    }
}

/// How a session departs from the layout of docs/format.md. Names and paths that come from a
/// remote are quoted through `codec::excerpt` (short, control characters escaped).
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The ref name is not a session ID.
    #[error("odd ref name: {0}")]
    OddRefName(#[from] crate::session::id::ParseError),
    /// The ref points at something that is not a commit.
    #[error("ref points at {0}, which is not a commit")]
    NotACommit(Oid),
    /// The ref points at an object the repository does not have (a `git gc --prune=now` that
    /// raced a write, or a damaged object store).
    #[error(
        "ref points at {0}, which is missing from the repository (removed by a gc that ran during a write?); 'git handoff pull' brings a remote's copy back"
    )]
    MissingObject(Oid),
    /// An entry outside the layout.
    #[error("unexpected entry {name} (mode {mode:o}){}", .commit.map(|c| format!(" in commit {c}")).unwrap_or_default())]
    UnexpectedEntry {
        /// The entry's path, quoted.
        name: String,
        /// Its mode.
        mode: i32,
        /// The commit of the chain that holds it, when checking a whole chain.
        commit: Option<Oid>,
    },
    /// No `session.toml`.
    #[error("no session.toml in {0}")]
    NoMeta(Oid),
    /// `session.toml` names another session.
    #[error("session.toml names another session, {0}")]
    MetaNamesAnother(crate::session::SessionId),
    /// `artifacts` is not a directory.
    #[error("artifacts is not a directory")]
    ArtifactsNotADirectory,
    /// An artifact entry is not a plain file blob.
    #[error("{path} is not a plain file (mode {mode:o})")]
    NotAPlainFile {
        /// The path, quoted.
        path: String,
        /// Its mode.
        mode: i32,
    },
    /// An entry that should be a file is another kind of object.
    #[error("{0} is not a file")]
    NotAFile(String),
    /// An artifact's front matter names another session.
    #[error("{path} names another session, {other}")]
    ArtifactOfAnotherSession {
        /// The path, quoted.
        path: String,
        /// The session it names.
        other: crate::session::SessionId,
    },
    /// An artifact's file name does not match its front matter.
    #[error("{path} is named for another artifact: its front matter says {expected}")]
    MisnamedArtifact {
        /// The path, quoted.
        path: String,
        /// The name its front matter gives.
        expected: String,
    },
    /// An artifact (from a remote) cannot be read.
    #[error("{path}: {error}")]
    UnreadableArtifact {
        /// The path, quoted.
        path: String,
        /// Why.
        error: String,
    },
    /// The chain is longer than any session has.
    #[error("more than {0} commits")]
    ChainTooLong(usize),
    /// A session being merged has no tip to check.
    #[error("no tip to check")]
    NoTip,
    /// A new session's ID is taken.
    #[error("a session with this ID already exists")]
    AlreadyExists,
    /// A ref given as a tracking ref is not one.
    #[error("not a tracking ref")]
    NotATrackingRef,
    /// The repository could not be opened for parallel validation.
    #[error("cannot open the repository to validate: {0}")]
    Validation(String),
}

/// Why a note cannot be rewritten without losing data.
#[derive(Debug, thiserror::Error)]
pub enum NoteProblem {
    /// The note entry is not a blob.
    #[error("the note is a {0}, not a file")]
    NotABlob(&'static str),
    /// A notes fanout directory holds an entry that is neither a note nor a fanout level.
    #[error("the notes tree holds {0}, which is neither a note nor a fanout directory")]
    UnexpectedEntry(String),
    /// The note is larger than we rewrite.
    #[error("{0} bytes is larger than the {max}-byte limit", max = notes::MAX_NOTE_BYTES)]
    TooLarge(usize),
}

/// Result alias for store operations.
pub type Result<T> = std::result::Result<T, Error>;

/// Access to the handoff data of one repository.
pub struct Store<'r> {
    git: &'r crate::git::Repo,
    repo: &'r Repository,
}

impl<'r> Store<'r> {
    /// Wraps an open repository.
    pub fn new(git: &'r crate::git::Repo) -> Self {
        Self {
            git,
            repo: git.raw(),
        }
    }

    /// The repository.
    pub fn repo(&self) -> &'r crate::git::Repo {
        self.git
    }

    /// The identity used for our commits: `GIT_COMMITTER_*`/`GIT_AUTHOR_*` from the
    /// environment, else `user.name`/`user.email`; the time is `when`.
    pub fn signature(&self, when: chrono::DateTime<chrono::Utc>) -> Result<Signature<'static>> {
        let (name, email) = identity(self.repo).ok_or(Error::NoIdentity)?;
        let time = git2::Time::new(when.timestamp(), 0);
        Signature::new(&name, &email, &time).map_err(|_| Error::NoIdentity)
    }
}

impl Store<'_> {
    /// Points a tracking ref (`refs/handoff-remotes/...`, `refs/notes/handoff-remotes/...`) at
    /// what we just pushed there, as git does for remote-tracking branches. Tracking refs mirror
    /// a remote, so this overwrites.
    pub fn set_tracking(&self, name: &str, target: Oid) -> Result<()> {
        if !(name.starts_with("refs/handoff-remotes/")
            || name.starts_with("refs/notes/handoff-remotes/"))
        {
            return Err(Error::Malformed {
                session: name.to_owned(),
                problem: Problem::NotATrackingRef,
            });
        }
        self.repo
            .reference(name, target, true, "handoff: pushed")
            .map(|_| ())
            .map_err(|source| Error::git(format!("updating {name}"), source))
    }

    /// Deletes a tracking ref whose content we refused, if it still points at `expected`, so
    /// that read commands never serve it. The next fetch brings it back to be checked again.
    pub fn drop_tracking(&self, name: &str, expected: Oid) -> Result<()> {
        if !name.starts_with(refs::TRACKING_PREFIX)
            && !name.starts_with("refs/notes/handoff-remotes/")
        {
            return Ok(());
        }
        match self.repo.find_reference(name) {
            Ok(mut r) if r.target() == Some(expected) => r
                .delete()
                .map_err(|source| Error::git(format!("deleting {name}"), source)),
            _ => Ok(()),
        }
    }

    /// Moves a tracking ref to `new_name` (another tracking name), leaving its reflog behind:
    /// the new ref starts a reflog of its own and the old one goes with its ref, so text that
    /// was in the old name or its reflog (credentials of a URL) is gone. When `new_name` exists
    /// already the old ref is only deleted.
    pub fn rename_tracking(&self, name: &str, new_name: &str) -> Result<()> {
        let Some(target) = self.tip(name)? else {
            return Ok(());
        };
        if self.tip(new_name)?.is_none() {
            self.repo
                .reference(
                    new_name,
                    target,
                    false,
                    "handoff: tracking ref renamed by repair",
                )
                .map_err(|source| Error::git(format!("creating {new_name}"), source))?;
        }
        match self.repo.find_reference(name) {
            Ok(mut r) => r
                .delete()
                .map_err(|source| Error::git(format!("deleting {name}"), source)),
            Err(_) => Ok(()),
        }
    }

    /// The OID a ref points at, `None` when it does not exist.
    pub fn tip(&self, name: &str) -> Result<Option<Oid>> {
        refs::read_ref(self.repo, name)
    }

    /// Every ref under `prefix` with its target (direct refs only).
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, Oid)>> {
        let iter = self
            .repo
            .references_glob(&format!("{prefix}*"))
            .map_err(|source| Error::git(format!("listing {prefix}"), source))?;
        let mut out = Vec::new();
        for reference in iter {
            let reference =
                reference.map_err(|source| Error::git(format!("listing {prefix}"), source))?;
            if let (Ok(name), Some(target)) = (reference.name(), reference.target()) {
                out.push((name.to_owned(), target));
            }
        }
        Ok(out)
    }

    /// Every ref whose name starts with `prefix`, at any depth.
    pub fn refs_starting_with(&self, prefix: &str) -> Result<Vec<(String, Oid)>> {
        let iter = self
            .repo
            .references()
            .map_err(|source| Error::git(format!("listing {prefix}"), source))?;
        let mut out = Vec::new();
        for reference in iter {
            let reference =
                reference.map_err(|source| Error::git(format!("listing {prefix}"), source))?;
            if let (Ok(name), Some(target)) = (reference.name(), reference.target())
                && name.starts_with(prefix)
            {
                out.push((name.to_owned(), target));
            }
        }
        Ok(out)
    }
}

pub use crate::git::object_id;

/// The git OID of an object name.
pub fn oid(id: &crate::session::ObjectId) -> Result<Oid> {
    Ok(crate::git::oid(id)?)
}

/// Name and email as git would use them for a commit, if set.
pub fn identity(repo: &Repository) -> Option<(String, String)> {
    let config = repo.config().ok()?;
    let pick = |envs: [&str; 2], key: &str| {
        envs.iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
            .or_else(|| config.get_string(key).ok().filter(|s| !s.trim().is_empty()))
    };
    let name = pick(["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"], "user.name")?;
    let email = pick(["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"], "user.email")?;
    Some((name, email))
}
