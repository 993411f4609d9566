//! `git-handoff`: the command-line front end over the core, without the network crate.
//!
//! The commands that talk to other programs over MCP or HTTP (`mcp`, `sync`, `annotate`,
//! `search --remote`, `push` with sync-after-push) run in `git-handoff-net` (crates/net),
//! installed beside this executable, which this one hands them to: without the MCP, HTTP and
//! TLS stacks it is half the size, and every other command starts sooner (README, "Install").
//! CI checks that none of that stack is a dependency of this package (`.ci/run`).

fn main() -> std::process::ExitCode {
    handoff_cli::main(None)
}
