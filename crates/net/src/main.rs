//! `git-handoff-net`: the same front end as `git-handoff`, with the network crate. `git-handoff`
//! hands it the commands that talk to other programs over MCP or HTTP (`mcp`, `sync`,
//! `annotate`, `search --remote`, `push` with sync-after-push) so that its own executable stays
//! small (README, "Install"). It runs every other command too, exactly as `git-handoff` does.

fn main() -> std::process::ExitCode {
    handoff_cli::main(Some(&handoff_net::Net))
}
