//! git-handoff: git-native handoff between coding agents.
//!
//! Every artifact of an agent collaboration (plan, review, implementation summary, validation,
//! pattern) is stored in the repository: a commit chain per session under
//! `refs/handoff/sessions/<ID>` and git notes (`refs/notes/handoff`) on the code commits each
//! session produced.
//!
//! This crate (`git-handoff-core`) is the core: it never writes to stdout or stderr, never
//! reads stdin and never exits, and it has no command line, no async runtime and no network
//! client. Front ends sit beside it in crates of their own: the CLI (`git-handoff-cli`, the
//! only code that knows clap, terminals, editors and standard input) and the network crate
//! (`git-handoff-net`: the MCP server, the Byterover MCP client behind
//! [`sync::mcp::Connector`], the GitHub client). They pass a [`report::Reporter`] for status
//! lines and timings, and print [`views`] as JSON.
//!
//! Dependency direction (arrows point at what a module may use):
//!
//! ```text
//! front ends → workflow { findings, prompt, why, repair, current }, share, hooks, index, init, views
//! workflow, share, hooks, index, init → store (writes refs and notes), git (reads)
//! store → git (the facade: the one repository handle, on libgit2), transport (git executable)
//! everything → session (pure model and codec), redact, config, clock, report, failpoint
//! ```
//!
//! - Only `git` and `store` touch libgit2; only `store` writes refs and notes; only
//!   `store::transport` runs git over the network.
//! - The storage layout is specified in `docs/format.md`.

pub mod annotate;
pub mod clock;
pub mod config;
pub mod error;
pub mod failpoint;
pub mod git;
pub mod hooks;
pub mod index;
pub mod init;
pub mod process;
pub mod random;
pub mod redact;
pub mod report;
pub mod session;
pub mod share;
pub mod store;
pub mod sync;
pub mod views;
pub mod workflow;
