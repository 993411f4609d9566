//! The CLI's error: one place that decides whether a failure is the user's (exit 1) or a bug
//! (exit 255), and carries hints.

use std::fmt;

/// Exit code for user, config and remote errors.
pub const EXIT_USER: u8 = 1;
/// Exit code for internal errors (bugs).
pub const EXIT_INTERNAL: u8 = 255;

/// Who is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input, bad state, missing configuration, a remote's fault: exit 1.
    User,
    /// A bug or an environment failure we did not expect: exit 255.
    Internal,
}

/// An error as the CLI reports it.
#[derive(Debug)]
pub struct CommandError {
    /// Classification, which picks the exit code.
    pub kind: ErrorKind,
    /// The error and its context chain.
    pub error: anyhow::Error,
    /// Advice printed after the error.
    pub hints: Vec<String>,
}

/// Result alias for commands.
pub type CommandResult<T = ()> = Result<T, CommandError>;

impl CommandError {
    /// A user error with a message.
    pub fn user(error: impl Into<anyhow::Error>) -> Self {
        Self {
            kind: ErrorKind::User,
            error: error.into(),
            hints: Vec::new(),
        }
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
            ErrorKind::User => EXIT_USER,
            ErrorKind::Internal => EXIT_INTERNAL,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.kind {
            ErrorKind::User => "error",
            ErrorKind::Internal => "internal error",
        };
        write!(f, "{prefix}: {:#}", self.error)?;
        for hint in &self.hints {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

/// Builds a user error from a message.
pub fn user_error(message: impl fmt::Display) -> CommandError {
    CommandError::user(anyhow::anyhow!("{message}"))
}

impl From<crate::store::Error> for CommandError {
    /// Store errors are the user's (bad input, bad data, a refused step) unless the operating
    /// system failed us underneath.
    fn from(err: crate::store::Error) -> Self {
        use crate::store::Error as E;
        let kind = match &err {
            E::Git { source, .. } if source.class() == git2::ErrorClass::Os => ErrorKind::Internal,
            _ => ErrorKind::User,
        };
        Self {
            kind,
            error: err.into(),
            hints: Vec::new(),
        }
    }
}

impl From<crate::workflow::Error> for CommandError {
    /// Classifies workflow errors and adds the hints that help with them.
    fn from(err: crate::workflow::Error) -> Self {
        use crate::session::id::ResolveError;
        use crate::workflow::Error as E;
        match err {
            E::Store(e) => e.into(),
            E::Resolve(ResolveError::NotFound(_)) => {
                Self::user(err).hint("'git handoff list' shows the sessions of this repository")
            }
            other => Self::user(other),
        }
    }
}

impl From<anyhow::Error> for CommandError {
    /// Context-wrapped errors from the commands are user-facing unless they wrap a bug.
    fn from(error: anyhow::Error) -> Self {
        Self {
            kind: ErrorKind::User,
            error,
            hints: Vec::new(),
        }
    }
}
