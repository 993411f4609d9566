//! Git hooks (README, "Hooks"): the shims in `hooks/`, their installation between marker lines, and
//! the handlers `git handoff hook NAME` runs. Handlers work locally and fast, and never fail the
//! user's git command because of their own errors.

pub mod handlers;
pub mod install;

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
