//! MCP memory servers side by side (issue: the seed's two tools carry the whole handoff).
//! Prints figures; asserts only that git-handoff answers every call with the plan's full text.
//!
//! The official Python SDK client (`pip install 'mcp>=1.20'`) drives git-handoff's MCP server
//! and three peers an agent's user would pick instead, with the same workload: 10,000
//! seed-format plans of about 1.6 KB stored through each server's own store tool, then medians
//! of 50 rounds, servers interleaved (benches/peers/mcp_bench.py says what each figure is).
//! Goals for git-handoff at 10,000: store until retrievable <= 10 ms, retrieve by session ID
//! <= 5 ms including the first seconds after a store, topical retrieve (limit 5) <= 10 ms, the
//! first query after another process wrote them all <= 200 ms, peak RSS <= 50 MB.
//!
//! The peers are installed once into `target/bench-peers` from the npm registry and PyPI
//! (benches/peers/install.sh) and run offline. `PEERS_ONLY=git-handoff` measures git-handoff
//! alone (no npm needed); `PEERS_SESSIONS` and `PEERS_CALLS` change the workload.
//!
//! Run: `cargo bench --bench peers`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let peers = root.join("target/bench-peers");
    let sessions = std::env::var("PEERS_SESSIONS").unwrap_or_else(|_| "10000".into());
    let calls = std::env::var("PEERS_CALLS").unwrap_or_else(|_| "50".into());
    let only = std::env::var("PEERS_ONLY").ok();
    let mut bench = Command::new("python3");
    bench
        .arg(root.join("benches/peers/mcp_bench.py"))
        .args(["--git-handoff", env!("CARGO_BIN_EXE_git-handoff")])
        .args(["--sessions", &sessions, "--calls", &calls]);
    match &only {
        Some(only) => {
            bench.args(["--only", only]);
            if only != "git-handoff" {
                install(root, &peers);
                bench.arg("--peers").arg(&peers);
            }
        }
        None => {
            install(root, &peers);
            bench.arg("--peers").arg(&peers);
        }
    }
    let status = bench
        .status()
        .expect("python3 with the mcp package runs this benchmark");
    assert!(status.success(), "the benchmark failed");
}

/// The peers, from the registries (a no-op when the same versions are installed).
fn install(root: &Path, peers: &Path) {
    let status = Command::new("bash")
        .arg(root.join("benches/peers/install.sh"))
        .arg(peers)
        .status()
        .expect("bash runs the peers' installer");
    assert!(status.success(), "installing the peers failed");
}
