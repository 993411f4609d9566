//! The `git-handoff-net` executable itself: it runs the MCP server with the tools the seed
//! skill calls, and says a bug is one. (The commands are tested end to end through
//! `git-handoff`, which hands them to this executable, in the workspace's `tests/`; having this
//! test also makes `cargo test` build the executable beside `git-handoff`, where those tests
//! find it.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// `git` in `dir`, hermetic.
fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// The MCP server in `dir`, initialised, speaking line-delimited JSON-RPC.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: u64,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_git-handoff-net"))
            .arg("mcp")
            .current_dir(dir)
            .env("HOME", dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_COMMITTER_NAME", "A")
            .env("GIT_COMMITTER_EMAIL", "a@example.com")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut server = Self {
            child,
            stdin,
            stdout,
            next: 1,
        };
        let init = server.request(
            "initialize",
            serde_json::json!({"protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"}}),
        );
        assert_eq!(
            init["result"]["serverInfo"]["name"], "git-handoff",
            "{init}"
        );
        server.send(&serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        server
    }

    fn send(&mut self, message: &serde_json::Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next;
        self.next += 1;
        self.send(
            &serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    /// A tool call's text, and whether it is a tool error.
    fn call(&mut self, tool: &str, arguments: serde_json::Value) -> (String, bool) {
        let reply = self.request(
            "tools/call",
            serde_json::json!({"name": tool, "arguments": arguments}),
        );
        let text = reply["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (text, reply["result"]["isError"] == true)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["config", "user.name", "A"]);
    git(dir.path(), &["config", "user.email", "a@example.com"]);
    dir
}

#[test]
fn the_network_executable_serves_the_seed_tools_over_mcp() {
    let dir = repository();
    let mut server = Server::start(dir.path(), &[]);
    let tools = server.request("tools/list", serde_json::json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for seed in ["byterover-store-knowledge", "byterover-retrieve-knowledge"] {
        assert!(names.contains(&seed), "{names:?}");
    }
}

/// A tool whose work panics answers with a tool error that says it is a bug of ours
/// ("internal error"), not the agent's mistake, and the server goes on answering.
#[test]
fn a_panic_in_a_tool_is_reported_as_an_internal_error() {
    let dir = repository();
    let mut server = Server::start(
        dir.path(),
        &[("GIT_HANDOFF_FAILPOINT", "panic:record-after-notes")],
    );
    let (plan, failed) = server.call(
        "handoff_plan",
        serde_json::json!({"title": "Panics", "body": "## Plan\nSteps."}),
    );
    assert!(!failed, "{plan}");
    let id = serde_json::from_str::<serde_json::Value>(&plan).unwrap()["session"]
        .as_str()
        .unwrap()
        .to_owned();
    let (review, failed) = server.call(
        "handoff_review",
        serde_json::json!({"session": id, "verdict": "approve", "body": "ok"}),
    );
    assert!(!failed, "{review}");
    std::fs::write(dir.path().join("a.txt"), "a\n").unwrap();
    git(dir.path(), &["add", "a.txt"]);
    git(
        dir.path(),
        &[
            "commit",
            "-q",
            "-m",
            &format!("Add a\n\nHandoff-Session: {id}"),
        ],
    );
    let (answer, failed) = server.call(
        "handoff_implement",
        serde_json::json!({"session": id, "body": "done"}),
    );
    assert!(failed, "{answer}");
    assert!(answer.starts_with("internal error:"), "{answer}");
    let (shown, failed) = server.call("handoff_show", serde_json::json!({"session": id}));
    assert!(!failed, "the server stopped answering: {shown}");
}
