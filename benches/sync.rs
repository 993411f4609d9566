//! Sync benchmark (issue: Byterover as the searchable index). Prints figures; asserts only
//! what must hold (requests = artifacts, zero requests when idle).
//!
//! - `git handoff sync` of 1,000 artifacts (250 sessions of 4) to the test MCP server
//!   (`tests/byterover/server.py`, the official Python SDK over streamable HTTP on 127.0.0.1):
//!   requests counted at the server, wall time against the server's own per-request time.
//! - An idle re-sync at 10,000 synced artifacts: zero requests, goal <= 100 ms.
//!
//! Run: `cargo bench --bench sync` (needs python3 with the `mcp` package, as the tests do).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, RUNS, build, median_of as median, timed};

const SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/byterover/server.py");

struct Server {
    child: Child,
    state: std::path::PathBuf,
    port: String,
}

impl Server {
    fn start(state: &Path) -> Self {
        std::fs::create_dir_all(state).unwrap();
        let child = std::process::Command::new("python3")
            .arg(SERVER)
            .arg("http")
            .arg(state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let port = loop {
            if let Ok(port) = std::fs::read_to_string(state.join("port")) {
                break port.trim().to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no server");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self {
            child,
            state: state.to_path_buf(),
            port,
        }
    }

    fn log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.state.join("log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn calls(&self) -> usize {
        self.log()
            .iter()
            .filter(|e| e.get("tool").is_some())
            .count()
    }

    fn served(&self) -> Vec<Duration> {
        self.log()
            .iter()
            .filter_map(|e| e.get("served_ms").and_then(serde_json::Value::as_f64))
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn configure(dir: &Path, server: &Server, concurrency: u32) {
    std::fs::write(
        dir.join(".handoff.toml"),
        format!(
            "[byterover]\nbackend = \"mcp\"\nurl = \"http://127.0.0.1:{}/mcp\"\nconcurrency = {concurrency}\n",
            server.port
        ),
    )
    .unwrap();
}

fn sync(dir: &Path) -> Duration {
    timed(dir, BIN, &["sync", "--json"])
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("thousand");
    build(&dir, 250);
    println!("sync of 1,000 artifacts (250 sessions) to the test MCP server:");
    for concurrency in [1, 4] {
        // A fresh server and journal for each run.
        let _ = std::fs::remove_file(dir.join(".git/handoff/sync.sqlite"));
        let server = Server::start(&tmp.path().join(format!("server-1k-{concurrency}")));
        configure(&dir, &server, concurrency);
        let wall = sync(&dir);
        let calls = server.calls();
        assert_eq!(calls, 1_000, "requests must equal artifacts");
        let served = server.served();
        let total: Duration = served.iter().sum();
        println!("  {concurrency} call(s) in flight:");
        println!("    requests at the server     {calls:>10}   (= artifacts)");
        println!("    git handoff sync           {wall:>10.2?}");
        println!(
            "    server time per request    {:>10.2?}   (median; {total:.2?} in all, overlapping when calls run side by side)",
            median(served.clone())
        );
        if concurrency == 1 {
            println!(
                "    wall against server time   {:>10.2}x   (one call at a time: the rest is the client and the loopback)",
                wall.as_secs_f64() / total.as_secs_f64()
            );
        }
    }

    let dir = tmp.path().join("ten-thousand");
    build(&dir, 2_500);
    let server = Server::start(&tmp.path().join("server-10k"));
    configure(&dir, &server, 4);
    let first = sync(&dir);
    assert_eq!(server.calls(), 10_000);
    let idle: Vec<Duration> = (0..RUNS).map(|_| sync(&dir)).collect();
    assert_eq!(server.calls(), 10_000, "an idle sync makes no request");
    let for_each_ref = median(
        (0..RUNS)
            .map(|_| timed(&dir, "git", &["for-each-ref", "refs/handoff/sessions/"]))
            .collect(),
    );
    println!();
    println!("10,000 artifacts (2,500 sessions):");
    println!("  first sync                   {first:>10.2?}");
    println!(
        "  idle re-sync                 {:>10.2?}   (goal <= 100ms; zero requests, median of {RUNS})",
        median(idle)
    );
    println!("  git for-each-ref (floor)     {for_each_ref:>10.2?}");
}
