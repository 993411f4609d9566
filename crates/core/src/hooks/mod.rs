//! Git hooks (README, "Hooks"): the shims in `hooks/`, their installation between marker lines, and
//! the handlers `git handoff hook NAME` runs. Handlers work locally and fast, and never fail the
//! user's git command because of their own errors.

pub mod handlers;
pub mod install;

/// Why a hook handler failed (the CLI reports it as a warning: a hook never fails the user's
/// git command because of its own errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The hook's standard input could not be read.
    #[error("reading the hook's input: {0}")]
    Input(#[from] std::io::Error),
    /// A line of the hook's input names something that is not an object name.
    #[error("the hook's input holds {0}, which is not an object name")]
    BadInput(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// Reading the repository failed.
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    /// Recording failed.
    #[error(transparent)]
    Workflow(#[from] crate::workflow::Error),
    /// Sharing failed.
    #[error(transparent)]
    Share(#[from] crate::share::Error),
    /// `git interpret-trailers` could not add the trailer.
    #[error("git interpret-trailers failed: {0}")]
    Trailers(String),
}

/// Result alias for the handlers.
pub type Result<T> = std::result::Result<T, Error>;

/// First line of our block in a hook file.
pub const BEGIN: &str = "# BEGIN git-handoff";
/// Last line of our block in a hook file.
pub const END: &str = "# END git-handoff";

/// The hooks we install, with their shim blocks.
pub const ALL_HOOKS: &[(&str, &str)] = &[
    ("pre-push", include_str!("../../hooks/pre-push")),
    ("post-rewrite", include_str!("../../hooks/post-rewrite")),
    (
        "prepare-commit-msg",
        include_str!("../../hooks/prepare-commit-msg"),
    ),
];
