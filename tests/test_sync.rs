//! `git handoff sync` and `search --remote` against a real MCP server built with the official
//! Python SDK (`tests/byterover/server.py`: the seed's two tools over streamable HTTP on
//! 127.0.0.1 or over stdio, faults injected at the HTTP layer, every call counted at the
//! server). docs/byterover.md describes the behaviour under test.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::TestEnv;

const SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/byterover/server.py");

/// The test server, stopped when dropped.
struct Server {
    child: Child,
    state: PathBuf,
    port: u16,
}

impl Server {
    fn start(env: &TestEnv, name: &str, extra: &[&str]) -> Self {
        let state = env.path(name);
        std::fs::create_dir_all(&state).unwrap();
        let child = env
            .command("python3", &state)
            .arg(SERVER)
            .arg("http")
            .arg(&state)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let port = crate::common::wait_for_port(
            &state,
            "the test MCP server (is the `mcp` package installed? .ci/run installs it)",
        );
        Self { child, state, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    fn faults(&self, faults: &str) {
        std::fs::write(self.state.join("faults"), faults).unwrap();
    }

    fn log(state: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(state.join("log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `tools/call` requests that reached the server.
    fn calls(&self) -> usize {
        Self::log(&self.state)
            .iter()
            .filter(|e| e.get("tool").is_some())
            .count()
    }

    /// Texts the store tool accepted.
    fn stored(&self) -> Vec<String> {
        stored(&self.state)
    }
}

fn stored(state: &Path) -> Vec<String> {
    Server::log(state)
        .iter()
        .filter_map(|e| e.get("stored").and_then(|s| s.as_str()).map(str::to_owned))
        .collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn configure(repo: &Path, lines: &str) {
    std::fs::write(
        repo.join(".handoff.toml"),
        format!("[byterover]\n{lines}\n"),
    )
    .unwrap();
}

/// Fast retries for tests: one-second calls, 10 ms first backoff.
fn http(url: &str) -> String {
    format!("backend = \"mcp\"\nurl = \"{url}\"\ntimeout = 1\nretry-backoff-ms = 10\nretries = 5")
}

/// How many stored texts carry this artifact ID.
fn copies(stored: &[String], artifact: &str) -> usize {
    stored.iter().filter(|t| t.contains(artifact)).count()
}

fn artifact_ids(env: &TestEnv, repo: &Path, id: &str) -> Vec<String> {
    env.handoff(repo, &["show", id, "--json"]).json()["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn sync_sends_each_artifact_once_in_the_seed_format_and_an_idle_sync_sends_nothing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &[]);
    configure(&repo, &http(&server.url()));
    // Stored with --allow-secrets: the sync must still not send it.
    let id = env
        .handoff(
            &repo,
            &[
                "plan",
                "-t",
                "Rate limiting",
                "--allow-secrets",
                "-m",
                "Token bucket per user.\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            ],
        )
        .ok()
        .trim()
        .to_owned();
    env.handoff(
        &repo,
        &["review", &id, "--verdict", "approve", "-m", "Fine."],
    )
    .ok();

    let dry = env.handoff(&repo, &["sync", "--dry-run"]);
    dry.ok();
    assert_eq!(server.calls(), 0, "a dry run contacts nothing");
    assert!(dry.stdout.contains("[REDACTED:"), "{}", dry.stdout);

    let first = env.handoff(&repo, &["sync", "--json"]);
    let report = first.json();
    assert_eq!(report["sent"], 2, "{report}");
    assert_eq!(report["failed"], 0);
    let stored = server.stored();
    assert_eq!(stored.len(), 2);
    let plan = stored.iter().find(|t| t.contains("CLAUDE PLAN")).unwrap();
    assert!(
        plan.starts_with(&format!("**[{id}] CLAUDE PLAN: Rate limiting**")),
        "{plan}"
    );
    assert!(plan.contains("[TYPE: plan] [AGENT: claude] [STATUS: AWAITING_CODEX_REVIEW]"));
    assert!(plan.contains("[VERSION: 1]"));
    assert!(plan.contains(&format!("Ref: refs/handoff/sessions/{id}")));
    assert!(plan.trim_end().ends_with(&format!("Session ID: {id}")));
    assert!(!plan.contains("wJalrXUtnFEMI"), "{plan}");
    let review = stored.iter().find(|t| t.contains("CODEX REVIEW")).unwrap();
    assert!(review.contains("[VERDICT: approve]"), "{review}");

    // Nothing new: no request at all.
    let calls = server.calls();
    let idle = env.handoff(&repo, &["sync"]);
    idle.ok();
    assert!(idle.stderr.contains("nothing new"), "{}", idle.stderr);
    assert_eq!(server.calls(), calls);

    // A new artifact: only it is sent.
    env.commit_file(
        &repo,
        "src/limit.ts",
        "export const limit = 100;\n",
        "Limit",
    );
    env.handoff(&repo, &["implement", &id, "-m", "Done."]).ok();
    assert_eq!(env.handoff(&repo, &["sync", "--json"]).json()["sent"], 1);
    let stored = server.stored();
    let implementation = stored.last().unwrap();
    assert!(implementation.contains("IMPLEMENTATION COMPLETE"));
    assert!(implementation.contains("Range: "), "{implementation}");
    assert!(
        implementation.contains("src/limit.ts | 1 +"),
        "{implementation}"
    );
    assert_eq!(server.calls(), calls + 1);
}

#[test]
fn a_changed_text_is_sent_again_as_the_next_version() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &[]);
    configure(&repo, &http(&server.url()));
    let id = env.plan(&repo, "Caching");
    env.handoff(&repo, &["sync"]).ok();
    let artifact = artifact_ids(&env, &repo, &id).remove(0);
    // The journal knew an older text of it (as after a merge replayed its status anew).
    let journal = repo.join(".git/handoff/sync.sqlite");
    let changed = env
        .command("python3", &repo)
        .args([
            "-c",
            &format!(
                "import sqlite3; c = sqlite3.connect('{}'); c.execute(\"UPDATE sent SET hash = 'old'\"); c.execute('DELETE FROM synced'); c.commit()",
                journal.display()
            ),
        ])
        .status()
        .unwrap();
    assert!(changed.success());
    let report = env.handoff(&repo, &["sync", "--json"]).json();
    assert_eq!(report["documents"][0]["version"], 2, "{report}");
    let stored = server.stored();
    assert_eq!(copies(&stored, &artifact), 2);
    assert!(stored[1].contains("[VERSION: 2]"), "{}", stored[1]);
}

#[test]
fn injected_faults_are_retried_and_every_artifact_arrives_exactly_once() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &[]);
    configure(&repo, &http(&server.url()));
    let ids: Vec<String> = (0..4)
        .map(|i| env.plan(&repo, &format!("Plan {i}")))
        .collect();
    // A server error, a rate limit with Retry-After, a hang past the time limit, a dropped
    // session, an answer that is not JSON, an event stream closed before the answer.
    server.faults(r#"["500", "429:1", "hang:3", "drop-session", "garbage", "close"]"#);
    let run = env.handoff(&repo, &["sync", "--json"]);
    let report = run.json();
    assert_eq!(report["sent"], 4, "{report}\n{}", run.stderr);
    assert_eq!(report["failed"], 0);
    let stored = server.stored();
    for id in &ids {
        let artifact = artifact_ids(&env, &repo, id).remove(0);
        assert_eq!(copies(&stored, &artifact), 1, "{artifact} in {stored:?}");
    }
    // Four documents, six faults: ten calls reached the server.
    assert_eq!(server.calls(), 10);
}

#[test]
fn a_failure_that_outlasts_the_retries_stays_queued_for_the_next_sync() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &[]);
    configure(
        &repo,
        &format!(
            "backend = \"mcp\"\nurl = \"{}\"\ntimeout = 1\nretry-backoff-ms = 10\nretries = 2",
            server.url()
        ),
    );
    let id = env.plan(&repo, "Queued");
    server.faults(r#"["500", "500", "500"]"#);
    let failed = env.handoff(&repo, &["sync"]);
    let stderr = failed.fails(1);
    assert!(stderr.contains("HTTP 500"), "{stderr}");
    assert!(stderr.contains("stay queued"), "{stderr}");
    assert!(server.stored().is_empty());
    let report = env.handoff(&repo, &["sync", "--json"]).json();
    assert_eq!(report["sent"], 1, "{report}");
    let artifact = artifact_ids(&env, &repo, &id).remove(0);
    assert_eq!(copies(&server.stored(), &artifact), 1);
    // A 403 is not retried: one call, the artifact stays queued.
    env.plan(&repo, "Forbidden");
    let calls = server.calls();
    server.faults(r#"["403"]"#);
    let stderr = env.handoff(&repo, &["sync"]).fails(1).to_owned();
    assert!(stderr.contains("403"), "{stderr}");
    assert_eq!(server.calls(), calls + 1);
    assert_eq!(env.handoff(&repo, &["sync", "--json"]).json()["sent"], 1);
}

#[test]
fn push_syncs_afterwards_when_configured() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["repo"]);
    let repo = &clones[0];
    let server = Server::start(&env, "server", &[]);
    configure(
        repo,
        &format!(
            "{}\nsync-after-push = true\nno-such-key = 1",
            http(&server.url())
        ),
    );
    env.plan(repo, "Shared");
    let pushed = env.handoff(repo, &["push"]);
    pushed.ok();
    assert!(
        pushed.stderr.contains("sent 1 artifact"),
        "{}",
        pushed.stderr
    );
    // Handed over to git-handoff-net, the push says a configuration warning once, not twice.
    assert_eq!(
        pushed.stderr.matches("unknown key").count(),
        1,
        "{}",
        pushed.stderr
    );
    assert_eq!(server.stored().len(), 1);
    // Off by default: the next push sends nothing to the index.
    configure(repo, &http(&server.url()));
    env.plan(repo, "Not synced");
    env.handoff(repo, &["push"]).ok();
    assert_eq!(server.stored().len(), 1);
}

#[test]
fn a_refused_token_names_its_variable_and_is_never_printed() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &["--token", "right-token-123"]);
    configure(
        &repo,
        &format!("{}\ntoken-env = \"TEAM_BRV_TOKEN\"", http(&server.url())),
    );
    env.plan(&repo, "Auth");
    let missing = env.handoff(&repo, &["sync"]);
    let stderr = missing.fails(1);
    assert!(
        stderr.contains("401") && stderr.contains("TEAM_BRV_TOKEN"),
        "{stderr}"
    );
    let wrong = handoff_with_env(&env, &repo, &["sync"], "TEAM_BRV_TOKEN", "wrong-token-456");
    assert_eq!(wrong.code, 1);
    assert!(!wrong.stderr.contains("wrong-token-456") && !wrong.stdout.contains("wrong-token-456"));
    let right = handoff_with_env(
        &env,
        &repo,
        &["sync"],
        "TEAM_BRV_TOKEN",
        "Bearer right-token-123",
    );
    assert_eq!(right.code, 0, "{}", right.stderr);
    assert_eq!(server.stored().len(), 1);
}

/// Runs git-handoff with one more environment variable.
fn handoff_with_env(
    env: &TestEnv,
    repo: &Path,
    args: &[&str],
    key: &str,
    value: &str,
) -> crate::common::Run {
    crate::common::Run::from(
        env.command(crate::common::BIN, repo)
            .args(args)
            .env(key, value)
            .output()
            .unwrap(),
    )
}

#[test]
fn a_server_without_the_store_tool_is_refused_before_anything_is_sent() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &["--json-response"]);
    configure(
        &repo,
        &format!("{}\nstore-tool = \"remember\"", http(&server.url())),
    );
    env.plan(&repo, "Tools");
    let stderr = env.handoff(&repo, &["sync"]).fails(1).to_owned();
    assert!(
        stderr.contains("no tool 'remember'") && stderr.contains("byterover-store-knowledge"),
        "{stderr}"
    );
    assert_eq!(server.calls(), 0);
    // The same server answering in JSON rather than SSE takes the right tool.
    configure(&repo, &http(&server.url()));
    assert_eq!(env.handoff(&repo, &["sync", "--json"]).json()["sent"], 1);
}

#[test]
fn over_stdio_and_searched_back_with_hits_checked_against_git() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let state = env.path("stdio-server");
    std::fs::create_dir_all(&state).unwrap();
    configure(
        &repo,
        &format!(
            "backend = \"mcp\"\ncommand = [\"python3\", \"{SERVER}\", \"stdio\", \"{}\"]\ntimeout = 30",
            state.display()
        ),
    );
    let id = env.plan(&repo, "Redis fallback");
    env.handoff(&repo, &["sync"]).ok();
    assert_eq!(stored(&state).len(), 1);
    // The index also holds a text naming a session this repository does not have.
    let forged = "**[SESSION-20990101-ZZZZZZZZ] CLAUDE PLAN: Redis fallback elsewhere**";
    let mut log = std::fs::read_to_string(state.join("log")).unwrap();
    log.push_str(&format!("{}\n", serde_json::json!({"stored": forged})));
    std::fs::write(state.join("log"), log).unwrap();
    let found = env
        .handoff(&repo, &["search", "--remote", "redis fallback", "--json"])
        .json();
    let results = found["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{found}");
    let ours = results
        .iter()
        .find(|r| r["session"] == id.as_str())
        .unwrap();
    assert_eq!(ours["in_git"], true);
    assert_eq!(ours["kind"], "plan");
    let theirs = results
        .iter()
        .find(|r| r["session"] == "SESSION-20990101-ZZZZZZZZ")
        .unwrap();
    assert_eq!(theirs["in_git"], false);
    assert!(theirs["status"].is_null());
    let human = env.handoff(&repo, &["search", "--remote", "redis fallback"]);
    assert!(human.ok().contains("[not in git]"), "{}", human.stdout);
}

#[test]
fn without_a_backend_sync_says_how_to_set_one_and_search_stays_local() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.plan(&repo, "Offline");
    let stderr = env.handoff(&repo, &["sync"]).fails(1).to_owned();
    assert!(
        stderr.contains("backend = \"off\"") && stderr.contains("hint:"),
        "{stderr}"
    );
    env.handoff(&repo, &["search", "offline"]).ok();
    // An index nobody listens on: nothing was sent, the error says what happened.
    configure(
        &repo,
        "backend = \"mcp\"\nurl = \"http://127.0.0.1:9/mcp\"\ntimeout = 2",
    );
    let stderr = env.handoff(&repo, &["sync"]).fails(1).to_owned();
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

/// ByteRover's daemon, run offline as its own process (own data dir and ports, the cloud URLs
/// pointed at its local web UI, which answers discovery with a page it only warns about), and
/// stopped by its pid.
struct BrvDaemon {
    child: Child,
    data: PathBuf,
    vars: Vec<(String, String)>,
}

impl BrvDaemon {
    fn start(env: &TestEnv) -> Self {
        let bin = crate::common::brv_cli();
        let data = env.path("brv-data");
        std::fs::create_dir_all(&data).unwrap();
        let web = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let local = format!("http://127.0.0.1:{web}");
        let mut vars: Vec<(String, String)> = [
            ("BRV_DATA_DIR", data.display().to_string()),
            ("XDG_CONFIG_HOME", data.join("config").display().to_string()),
            ("BRV_WEBUI_PORT", web.to_string()),
            ("NO_UPDATE_NOTIFIER", "1".to_owned()),
            ("BRV_ENV", "production".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for key in [
            "BRV_IAM_BASE_URL",
            "BRV_COGIT_BASE_URL",
            "BRV_BILLING_BASE_URL",
            "BRV_GIT_REMOTE_BASE_URL",
            "BRV_LLM_BASE_URL",
            "BRV_WEB_APP_URL",
        ] {
            vars.push((key.to_owned(), local.clone()));
        }
        vars.push((
            "PATH".to_owned(),
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ));
        let daemon = bin.join("../byterover-cli/dist/server/infra/daemon/brv-server.js");
        let mut cmd = env.command("node", &data);
        cmd.arg(daemon).stdout(Stdio::null()).stderr(Stdio::null());
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("node");
        let started = Instant::now();
        while !data.join("daemon.json").exists() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "ByteRover's daemon did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, data, vars }
    }

    fn handoff(&self, env: &TestEnv, repo: &Path, args: &[&str]) -> crate::common::Run {
        let mut cmd = env.command(crate::common::BIN, repo);
        cmd.args(args);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        crate::common::Run::from(cmd.output().unwrap())
    }
}

impl Drop for BrvDaemon {
    fn drop(&mut self) {
        // By pid only (brv restart would kill every daemon on the machine).
        if let Ok(text) = std::fs::read_to_string(self.data.join("daemon.json"))
            && let Ok(info) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(pid) = info["pid"].as_u64()
        {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_real_byterover_cli_searches_what_sync_wrote_into_its_context_tree() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let daemon = BrvDaemon::start(&env);
    configure(&repo, "backend = \"brv\"\ntimeout = 120");
    let id = env
        .handoff(
            &repo,
            &[
                "plan",
                "-t",
                "Sliding window limiter",
                "-m",
                "A sorted set per user as a sliding window.",
            ],
        )
        .ok()
        .trim()
        .to_owned();
    // A team that shares its tree: `brv vc` is not set up in this project, so brv's own
    // refusal comes back and the text stays queued.
    configure(&repo, "backend = \"brv\"\nbrv-push = true\ntimeout = 120");
    let unshared = daemon.handoff(&env, &repo, &["sync"]);
    let stderr = unshared.fails(1);
    assert!(
        stderr.contains("brv vc add handoff failed") && stderr.contains("stay queued"),
        "{stderr}"
    );
    configure(&repo, "backend = \"brv\"\ntimeout = 120");
    let sent = daemon.handoff(&env, &repo, &["sync", "--json"]);
    assert_eq!(sent.json()["sent"], 1, "{}", sent.stderr);
    let topics = repo.join(".brv/context-tree/handoff").join(&id);
    let files: Vec<_> = std::fs::read_dir(&topics).unwrap().collect();
    assert_eq!(files.len(), 1);
    let idle = daemon.handoff(&env, &repo, &["sync"]);
    assert!(
        idle.ok().is_empty() && idle.stderr.contains("nothing new"),
        "{}",
        idle.stderr
    );
    let found = daemon.handoff(
        &env,
        &repo,
        &["search", "--remote", "sliding window", "--json"],
    );
    let results = found.json()["results"].clone();
    let hit = results
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["session"] == id.as_str())
        .unwrap_or_else(|| panic!("{results}\n{}", found.stderr));
    assert_eq!(hit["in_git"], true);
    assert_eq!(hit["kind"], "plan");
}

/// An index that accepts calls and never answers costs a few time-outs, not one per
/// document and retry: the sync stops, everything stays queued, and the next sync sends it.
#[test]
fn an_index_that_never_answers_stops_the_sync_early_and_keeps_the_queue() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &[]);
    configure(
        &repo,
        &format!(
            "backend = \"mcp\"\nurl = \"{}\"\ntimeout = 1\nretry-backoff-ms = 10\nretries = 3\nconcurrency = 1\nmax-timeouts = 2",
            server.url()
        ),
    );
    for i in 0..12 {
        env.plan(&repo, &format!("Never answered {i}"));
    }
    server.faults(&format!("[{}]", vec!["\"hang:4\""; 40].join(", ")));
    let started = Instant::now();
    let run = env.handoff(&repo, &["sync"]);
    let took = started.elapsed();
    run.fails(1);
    // Two time-outs of a second each, and no retry round: well under the 12 x 4 seconds of
    // one time-out per document and round.
    assert!(took < Duration::from_secs(8), "sync took {took:?}");
    assert!(server.stored().is_empty());
    server.faults("[]");
    let report = env.handoff(&repo, &["sync", "--json"]).json();
    assert_eq!(report["sent"], 12, "{report}");
}

/// A damaged journal is set aside and started afresh, with a warning: the texts are sent
/// again (never lost, never a crash).
#[test]
fn a_damaged_journal_is_set_aside_and_the_texts_sent_again() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let server = Server::start(&env, "server", &[]);
    configure(&repo, &http(&server.url()));
    for i in 0..3 {
        env.plan(&repo, &format!("Journal {i}"));
    }
    assert_eq!(env.handoff(&repo, &["sync", "--json"]).json()["sent"], 3);
    let journal = repo.join(".git/handoff/sync.sqlite");
    let mut bytes = std::fs::read(&journal).unwrap();
    for b in bytes.iter_mut().skip(100) {
        *b ^= 0x5a;
    }
    std::fs::write(&journal, &bytes).unwrap();
    let run = env.handoff(&repo, &["sync", "--json"]);
    let report = run.json();
    assert_eq!(report["sent"], 3, "{report}\n{}", run.stderr);
    assert!(
        run.stderr.contains("sync journal was damaged"),
        "{}",
        run.stderr
    );
    assert!(repo.join(".git/handoff/sync.sqlite.damaged").exists());
    // And it is whole again: nothing more to send.
    assert_eq!(env.handoff(&repo, &["sync", "--json"]).json()["sent"], 0);
}

/// With no backend configured (the default), `sync --dry-run --backend mcp` shows what would be
/// sent, so a user sees it before configuring one; without --dry-run the option is refused.
#[test]
fn a_dry_run_previews_a_backend_that_is_not_configured() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Preview");
    let off = env.handoff(&repo, &["sync", "--dry-run"]);
    assert!(
        off.fails(1).contains("--dry-run --backend mcp"),
        "{}",
        off.stderr
    );
    let preview = env.handoff(&repo, &["sync", "--dry-run", "--backend", "mcp"]);
    let text = preview.ok();
    assert!(
        text.contains(&format!("**[{id}] CLAUDE PLAN: Preview**")),
        "{text}"
    );
    assert_eq!(env.handoff(&repo, &["sync", "--backend", "mcp"]).code, 2);
}
