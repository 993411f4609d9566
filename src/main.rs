//! `git-handoff`: parse, run, map the result to an exit code.
//!
//! The commands that talk to other programs over MCP or HTTP (`mcp`, `sync`, `annotate`,
//! `search --remote`, `push` with sync-after-push) run in `git-handoff-net`, installed beside
//! this executable (`src/bin/git-handoff-net.rs`, the same front end built with them): without
//! the MCP, HTTP and TLS stacks this one is half the size, and every other command starts
//! sooner (README, "Install").

mod cli;
mod mcp;

/// Whether this executable runs the network commands itself; `false` hands them to
/// `git-handoff-net` (cli/network.rs).
const RUNS_NETWORK_COMMANDS: bool = false;

fn main() -> std::process::ExitCode {
    cli::main()
}
