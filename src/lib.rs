//! git-handoff: git-native handoff between coding agents.
//!
//! Every artifact of an agent collaboration (plan, review, implementation summary, validation,
//! pattern) is stored in the repository: a commit chain per session under
//! `refs/handoff/sessions/<ID>` and git notes (`refs/notes/handoff`) on the code commits each
//! session produced.
//!
//! Dependency direction:
//!
//! ```text
//! main → cli → commands → { workflow, share, index, hooks, prompt, why, repair, render, demo, init }
//!                               → store (→ git2, and the git executable for transport)
//!                          session (pure model), redact, config, ui, error, clock are leaves
//! ```
//!
//! - Only `cli` and `commands` import clap.
//! - Only `store` writes refs and notes.

pub mod body;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod current;
pub mod demo;
pub mod error;
pub mod failpoint;
pub mod findings;
pub mod hooks;
pub mod index;
pub mod init;
pub mod prompt;
pub mod redact;
pub mod render;
pub mod repair;
pub mod session;
pub mod share;
pub mod store;
pub mod ui;
pub mod why;
pub mod workflow;
