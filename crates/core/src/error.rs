//! One error model for every front end. Each module has its own typed error; this module
//! classifies them once into [`ErrorKind`] (who must act: the user, their configuration, a
//! remote, or us) with the hints that help, through `From` impls, as jj's `CommandError` does.
//! The CLI maps a kind to an exit code; the MCP server maps every kind to a tool error.
//!
//! What the reader can do about an error is data too ([`Remedy`]): the CLI phrases it with
//! commands and flags for a person, the MCP server with tools and arguments for an agent
//! ([`CommandError::render`]). The core's own messages name neither.

use std::fmt;

/// Exit code for user, config and remote errors.
pub const EXIT_USER: u8 = 1;
/// Exit code for internal errors (bugs).
pub const EXIT_INTERNAL: u8 = 255;

/// Who has to act on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or a refused step: the user fixes the command.
    User,
    /// Missing or invalid configuration (git identity, `.handoff.toml`, hooks setup).
    Config,
    /// A remote failed, refused or sent bad data.
    Remote,
    /// A bug, or the system failed under us.
    Internal,
}

impl ErrorKind {
    /// The name used in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Config => "config",
            Self::Remote => "remote",
            Self::Internal => "internal",
        }
    }
}

/// What the reader of an error can do about it, as facts: each front end phrases it for its
/// reader (a command and `--force` for a person, a tool and its `force` argument for an
/// agent). Said right after the error's own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Take the step the session's state allows next, or record the refused one anyway.
    NextStepOrForce {
        /// The session, as the caller named it.
        session: String,
        /// Its state.
        state: crate::session::status::State,
    },
    /// Commit the work (with the session current), name the commits, or record it anyway.
    NameCommitsOrForce {
        /// The session.
        session: crate::session::SessionId,
    },
    /// Give the text the step records.
    GiveBody,
    /// Give a verdict (one of [`crate::session::Verdict`]'s).
    GiveVerdict,
    /// Force a second undo in a row.
    ForceUndo,
}

/// An error as a front end reports it.
#[derive(Debug)]
pub struct CommandError {
    /// Classification, which picks the exit code.
    pub kind: ErrorKind,
    /// The error and its cause chain.
    pub error: anyhow::Error,
    /// What the reader can do, phrased by the front end ([`CommandError::render`]).
    pub remedy: Option<Remedy>,
    /// Advice printed after the error.
    pub hints: Vec<String>,
}

/// Result alias for commands.
pub type CommandResult<T = ()> = Result<T, CommandError>;

impl CommandError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, error: impl Into<anyhow::Error>) -> Self {
        Self {
            kind,
            error: error.into(),
            remedy: None,
            hints: Vec::new(),
        }
    }

    /// Sets what the reader can do about it.
    #[must_use]
    pub fn remedy(mut self, remedy: Remedy) -> Self {
        self.remedy = Some(remedy);
        self
    }

    /// A user error.
    pub fn user(error: impl Into<anyhow::Error>) -> Self {
        Self::new(ErrorKind::User, error)
    }

    /// Adds a hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::User | ErrorKind::Config | ErrorKind::Remote => EXIT_USER,
            ErrorKind::Internal => EXIT_INTERNAL,
        }
    }

    /// The error and its causes on one line, each said once: a cause whose text the error
    /// before it already quotes is left out (`cannot read f: No such file` is not followed by
    /// `No such file` again), and a libgit2 error is said without its class and code.
    pub fn message(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for cause in self.error.chain() {
            // libgit2's own text, without the class and code its Display adds (our errors
            // quote that text already, and the class means nothing to a user).
            let text = match cause.downcast_ref::<git2::Error>() {
                Some(git) => git.message().to_owned(),
                None => cause.to_string(),
            };
            if parts.iter().any(|p| p.contains(&text)) {
                continue;
            }
            parts.push(text);
        }
        parts.join(": ")
    }
}

impl CommandError {
    /// The whole report for a reader: `error: MESSAGE` (`internal error:` for bugs), the
    /// remedy in the words `phrase` gives it (which start with their own separator, `; ` or
    /// ` (`), then a `hint:` line per hint.
    pub fn render(&self, phrase: impl Fn(&Remedy) -> String) -> String {
        let prefix = match self.kind {
            ErrorKind::Internal => "internal error",
            _ => "error",
        };
        let mut text = format!("{prefix}: {}", self.message());
        if let Some(remedy) = &self.remedy {
            text.push_str(&phrase(remedy));
        }
        for hint in &self.hints {
            text.push_str("\nhint: ");
            text.push_str(hint);
        }
        text
    }
}

impl fmt::Display for CommandError {
    /// The report without the remedy (which needs a front end's words).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(|_| String::new()))
    }
}

/// Builds a user error from a message of the front end's own.
pub fn user_error(message: impl fmt::Display) -> CommandError {
    CommandError::user(anyhow::anyhow!("{message}"))
}

/// The advice for a write refused by a read-only file system or sandbox.
const READ_ONLY_HINT: &str = "this process may not write to the repository (an agent's read-only sandbox, such as codex exec's, or a read-only mount): record through the MCP tools of 'git handoff mcp' (byterover-store-knowledge or handoff_*), which write from outside the sandbox, or run the command where the repository is writable";

/// The advice for a write that failed on a full disk.
const DISK_FULL_HINT: &str = "the disk holding the repository is full: free some space and run the command again; nothing was recorded";

impl From<crate::store::Error> for CommandError {
    fn from(err: crate::store::Error) -> Self {
        use crate::store::Error as E;
        match &err {
            _ if err.is_read_only() => Self::user(err).hint(READ_ONLY_HINT),
            _ if err.is_disk_full() => Self::user(err).hint(DISK_FULL_HINT),
            _ if err.is_os_failure() => Self::new(ErrorKind::Internal, err),
            E::NoIdentity => Self::new(ErrorKind::Config, err),
            E::Repo(_) => match err {
                E::Repo(e) => e.into(),
                other => Self::user(other),
            },
            E::SessionNotFound(_) => {
                Self::user(err).hint("'git handoff list' shows the sessions of this repository")
            }
            E::Transition(refused) => {
                let remedy = Remedy::NextStepOrForce {
                    session: refused.session.clone(),
                    state: refused.state,
                };
                Self::user(err).remedy(remedy)
            }
            E::Locked { .. } => Self::user(err),
            E::Contended { .. } => Self::user(err).hint("another process keeps writing; try again"),
            _ => Self::user(err),
        }
    }
}

impl From<crate::session::id::ResolveError> for CommandError {
    fn from(err: crate::session::id::ResolveError) -> Self {
        use crate::session::id::ResolveError as E;
        match err {
            E::NotFound(_) => Self::user(err)
                .hint("'git handoff list' shows the sessions of this repository; 'git handoff pull' brings a remote's sessions"),
            E::Ambiguous { .. } => Self::user(err).hint("type more of the ID"),
        }
    }
}

impl From<crate::workflow::Error> for CommandError {
    fn from(err: crate::workflow::Error) -> Self {
        use crate::workflow::Error as E;
        match err {
            E::Store(e) => e.into(),
            E::Resolve(e) => e.into(),
            E::Config(e) => e.into(),
            E::Git(e) => e.into(),
            E::Undo(refusal) => {
                let hint = match &refusal {
                    crate::store::Refusal::Pushed { id, .. }
                    | crate::store::Refusal::Merge(id)
                    | crate::store::Refusal::Retraction(id) => {
                        format!(
                            "record a correction instead: the next plan iteration (git handoff plan --session {id}) or a new review or validation"
                        )
                    }
                    crate::store::Refusal::FirstArtifact(id) => format!("git handoff abandon {id}"),
                    crate::store::Refusal::NotLocal(_) => {
                        "'git handoff show ID' shows where it comes from".to_owned()
                    }
                };
                Self::user(E::Undo(refusal)).hint(hint)
            }
            E::NoCommits { ref session, .. } => {
                let remedy = Remedy::NameCommitsOrForce {
                    session: session.clone(),
                };
                Self::user(err).remedy(remedy)
            }
            E::EmptyBody(_) => Self::user(err).remedy(Remedy::GiveBody),
            E::NoVerdict(_) => Self::user(err).remedy(Remedy::GiveVerdict),
            E::UndoAgain { .. } => Self::user(err).remedy(Remedy::ForceUndo),
            other => Self::user(other),
        }
    }
}

impl From<crate::workflow::drive::Error> for CommandError {
    fn from(err: crate::workflow::drive::Error) -> Self {
        use crate::workflow::agent::Error as A;
        use crate::workflow::drive::Error as E;
        match err {
            E::Workflow(e) => (*e).into(),
            E::Agent(e @ A::Unknown(_)) => Self::user(e),
            E::Agent(e) => Self::new(ErrorKind::Remote, e),
            E::Current(e) => Self::user(e),
        }
    }
}

impl From<crate::git::Error> for CommandError {
    fn from(err: crate::git::Error) -> Self {
        use crate::git::Error as E;
        match &err {
            _ if err.is_read_only() => Self::user(err).hint(READ_ONLY_HINT),
            _ if err.is_disk_full() => Self::user(err).hint(DISK_FULL_HINT),
            _ if err.is_os_failure() => Self::new(ErrorKind::Internal, err),
            E::Unsupported { .. } => Self::new(ErrorKind::Config, err),
            E::NotARepo(_) => Self::user(err).hint("run it inside a clone, or set GIT_DIR"),
            _ => Self::user(err),
        }
    }
}

impl From<crate::config::Error> for CommandError {
    fn from(err: crate::config::Error) -> Self {
        Self::new(ErrorKind::Config, err)
    }
}

impl From<crate::init::Error> for CommandError {
    fn from(err: crate::init::Error) -> Self {
        Self::new(ErrorKind::Config, err)
    }
}

impl From<crate::init::AgentsError> for CommandError {
    fn from(err: crate::init::AgentsError) -> Self {
        Self::new(ErrorKind::Config, err)
    }
}

impl From<crate::hooks::install::Error> for CommandError {
    fn from(err: crate::hooks::install::Error) -> Self {
        Self::new(ErrorKind::Config, err)
            .hint("'git handoff init --no-hooks' sets up everything but the hooks")
    }
}

impl From<crate::store::transport::Error> for CommandError {
    fn from(err: crate::store::transport::Error) -> Self {
        use crate::store::transport::Error as E;
        match err {
            E::Spawn(_) => Self::new(ErrorKind::Internal, err),
            E::BadRemote(_) => Self::user(err),
            E::Git { .. } => Self::new(ErrorKind::Remote, err),
            E::ObjectFormat { .. } => Self::new(ErrorKind::Remote, err).hint(
                "share through a remote of this repository's format ('git rev-parse --show-object-format' prints it)",
            ),
        }
    }
}

impl From<crate::share::Error> for CommandError {
    fn from(err: crate::share::Error) -> Self {
        use crate::share::Error as E;
        match err {
            E::Transport(e) => e.into(),
            E::Store(e) => e.into(),
            E::StillRejected { .. } => Self::new(ErrorKind::Remote, err),
        }
    }
}

impl From<crate::sync::Error> for CommandError {
    fn from(err: crate::sync::Error) -> Self {
        use crate::sync::Error as E;
        use crate::sync::backend::Fault;
        match &err {
            E::NotConfigured => Self::new(ErrorKind::Config, err).hint(
                "set [byterover] backend = \"mcp\" (with url or command) or \"brv\" in .handoff.toml (git handoff sync --dry-run --backend mcp shows what it would send first); 'git handoff search' works offline without it",
            ),
            E::Backend(Fault::Unauthorized { .. }) => Self::new(ErrorKind::Config, err),
            E::Backend(Fault::Tools(_)) => Self::new(ErrorKind::Config, err)
                .hint("[byterover] store-tool and retrieve-tool name the tools to call"),
            E::Backend(_) => Self::new(ErrorKind::Remote, err)
                .hint("nothing was sent; check [byterover] in .handoff.toml, or try again once the index answers"),
            E::Store(_) | E::Git(_) | E::Journal(_) => Self::new(ErrorKind::Internal, err),
        }
    }
}

impl From<crate::annotate::github::Error> for CommandError {
    fn from(err: crate::annotate::github::Error) -> Self {
        use crate::annotate::github::Error as E;
        match err {
            E::Unauthorized => Self::new(ErrorKind::Config, err),
            _ => Self::new(ErrorKind::Remote, err),
        }
    }
}

impl From<crate::index::Error> for CommandError {
    fn from(err: crate::index::Error) -> Self {
        use crate::index::Error as E;
        match err {
            E::Store(e) => (*e).into(),
            E::EmptyQuery(_) => Self::user(err),
            E::Unwritable { .. } => Self::user(err).hint(
                "free some space or make the directory writable; the index is derived data, rebuilt from the refs once it can be written",
            ),
            E::Sqlite(rusqlite::Error::SqliteFailure(ref e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DiskFull
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::PermissionDenied
                        | rusqlite::ErrorCode::SystemIoFailure
                ) =>
            {
                Self::user(err).hint(
                    "the disk is full or <git-common-dir>/handoff is not writable; free space or fix its permissions (the index is derived data, rebuilt from the refs)",
                )
            }
            E::Sqlite(_) | E::Io { .. } => Self::new(ErrorKind::Internal, err)
                .hint("the index is derived data: 'git handoff reindex' rebuilds it"),
        }
    }
}

impl From<crate::workflow::current::Error> for CommandError {
    fn from(err: crate::workflow::current::Error) -> Self {
        Self::user(err)
    }
}

impl From<crate::workflow::findings::Error> for CommandError {
    fn from(err: crate::workflow::findings::Error) -> Self {
        Self::user(err)
    }
}

impl From<anyhow::Error> for CommandError {
    /// Context-wrapped errors from the front end are the user's unless they wrap a bug.
    fn from(error: anyhow::Error) -> Self {
        Self::user(error)
    }
}
