//! `git-handoff-net`: the same front end as `git-handoff`, which hands it the commands that talk
//! to other programs over MCP or HTTP (`mcp`, `sync`, `annotate`, `search --remote`, `push` with
//! sync-after-push) so that its own executable stays small (README, "Install"). It runs every
//! other command too, exactly as `git-handoff` does.

#[path = "../cli/mod.rs"]
mod cli;
#[path = "../mcp.rs"]
mod mcp;

/// Whether this executable runs the network commands itself (cli/network.rs).
const RUNS_NETWORK_COMMANDS: bool = true;

fn main() -> std::process::ExitCode {
    cli::main()
}
