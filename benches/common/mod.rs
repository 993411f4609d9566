//! Shared by the benchmarks: a hermetic `git` runner, timing, and a generator that writes
//! sessions in the exact storage format through `git fast-import`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use git_handoff::session::codec::{encode_artifact, encode_meta};
use git_handoff::session::{
    Artifact, Finding, Kind, Range, SCHEMA_VERSION, SessionId, SessionMeta, Status, Verdict,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-handoff");
pub const RUNS: usize = 7;

pub const WORDS: &[&str] = &[
    "rate",
    "limiting",
    "redis",
    "cache",
    "fallback",
    "token",
    "bucket",
    "middleware",
    "express",
    "auth",
    "session",
    "user",
    "request",
    "latency",
    "retry",
    "backoff",
    "queue",
    "worker",
    "migration",
    "schema",
    "index",
    "query",
    "postgres",
    "timeout",
    "error",
    "handler",
    "route",
    "config",
    "deploy",
    "kubernetes",
    "metrics",
    "logging",
    "trace",
    "span",
    "feature",
    "flag",
    "rollout",
    "canary",
    "test",
    "coverage",
    "fixture",
    "mock",
    "integration",
    "contract",
    "api",
    "client",
    "server",
    "stream",
    "batch",
    "payload",
    "validation",
    "review",
    "plan",
    "risk",
    "concern",
    "recommendation",
    "approach",
    "strategy",
    "library",
    "dependency",
    "upgrade",
    "security",
    "secret",
    "permission",
    "role",
    "tenant",
    "billing",
    "invoice",
    "webhook",
    "signature",
    "nonce",
    "replay",
    "idempotent",
    "consistency",
    "transaction",
    "lock",
    "deadlock",
];

/// A tiny deterministic PRNG (xorshift) so every run generates the same text.
pub struct Rng(u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn words(&mut self, n: usize) -> String {
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push(if i % 14 == 0 { '\n' } else { ' ' });
            }
            out.push_str(WORDS[(self.next() % WORDS.len() as u64) as usize]);
        }
        out
    }
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = cmd(dir, "git").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn cmd(dir: &Path, program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .stdin(Stdio::null());
    c
}

/// Streams `script` into `git fast-import`; returns how long it took.
pub fn fast_import(dir: &Path, script: &[u8]) -> Duration {
    let start = Instant::now();
    let mut child = cmd(dir, "git")
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_mut().unwrap().write_all(script).unwrap();
    assert!(child.wait().unwrap().success());
    start.elapsed()
}

/// A fast-import script for `n` commits on `main`, each changing one of `files` files.
pub fn linear_history(n: usize, files: usize) -> String {
    let mut script = String::new();
    for i in 0..n {
        let message = format!("commit {i}");
        script.push_str(&format!(
            "commit refs/heads/main\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{message}\nM 100644 inline f{}\ndata 2\n{}\n\n",
            1_700_000_000 + i,
            message.len(),
            i % files,
            i % 10
        ));
    }
    script
}

/// Runs a command that must succeed; returns how long it took.
pub fn timed(dir: &Path, program: &str, args: &[&str]) -> Duration {
    timed_with_input(dir, program, args, None)
}

/// [`timed`] with `input` on the command's standard input.
pub fn timed_with_input(
    dir: &Path,
    program: &str,
    args: &[&str],
    input: Option<&[u8]>,
) -> Duration {
    let start = Instant::now();
    let mut child = cmd(dir, program)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = input {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

/// A fast-import script writing one note, `line`, on every commit of `commits` in one commit
/// of `refname`: the baseline our notes writing is measured against.
pub fn notes_script(refname: &str, line: &str, commits: &[String]) -> String {
    let mut script = format!(
        "blob\nmark :1\ndata {}\n{line}\ncommit {refname}\ncommitter Bench <bench@example.com> 1700000000 +0000\ndata 9\nbaseline\n",
        line.len()
    );
    for c in commits {
        script.push_str(&format!("N :1 {c}\n"));
    }
    script
}

/// The median of some timings.
pub fn median_of(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

pub fn data(script: &mut Vec<u8>, bytes: &[u8]) {
    script.extend_from_slice(format!("data {}\n", bytes.len()).as_bytes());
    script.extend_from_slice(bytes);
    script.push(b'\n');
}

/// Builds a repository with `sessions` sessions of 4 artifacts each.
pub fn build(dir: &Path, sessions: usize) -> Duration {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "--initial-branch=main"]);
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut script = Vec::new();
    // Streamed in pieces: 100,000 sessions make most of a gigabyte of script.
    let start = Instant::now();
    let mut importer = cmd(dir, "git")
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_importer = importer.stdin.take().unwrap();
    let base = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    for i in 0..sessions {
        let created = base + chrono::Duration::minutes(i as i64 * 7);
        let title = format!("{} {} for the {}", rng.words(1), rng.words(2), rng.words(1));
        let id = SessionId::generate(created, &title);
        let meta = SessionMeta {
            schema_version: SCHEMA_VERSION,
            id: id.clone(),
            title: title.clone(),
            created,
            base: Some(git_handoff::session::ObjectId::parse(&"a".repeat(40)).unwrap()),
        };
        let steps = [
            (Kind::Plan, "claude", None, Status::AwaitingCodexReview),
            (
                Kind::Review,
                "codex",
                Some(Verdict::ApproveWithChanges),
                Status::ReadyForImplementation,
            ),
            (
                Kind::Implementation,
                "claude",
                None,
                Status::ReadyForCodexValidation,
            ),
            (
                Kind::Validation,
                "codex",
                Some(Verdict::Approve),
                Status::Complete,
            ),
        ];
        let mut files = vec![("session.toml".to_owned(), encode_meta(&meta).unwrap())];
        for (n, (kind, agent, verdict, status)) in steps.into_iter().enumerate() {
            let at = created + chrono::Duration::seconds(n as i64 * 60);
            let findings = if verdict.is_some() {
                (0..2)
                    .map(|_| Finding {
                        title: rng.words(6),
                        body: rng.words(30),
                        priority: Some((rng.next() % 4) as u8),
                        confidence: Some(0.7),
                        path: Some(format!("src/{}.ts", rng.words(1))),
                        start_line: Some(10),
                        end_line: Some(14),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let length = 120 + (rng.next() % 180) as usize;
            let heading = rng.words(4);
            let body = rng.words(length);
            let artifact = Artifact {
                schema_version: SCHEMA_VERSION,
                id: ulid::Ulid::from_datetime(at.into()),
                session: id.clone(),
                kind,
                agent: agent.to_owned(),
                created: at,
                author: "Bench <bench@example.com>".to_owned(),
                iteration: 1,
                status,
                verdict,
                range: matches!(kind, Kind::Implementation | Kind::Validation).then(|| Range {
                    base: Some(git_handoff::session::ObjectId::parse(&"a".repeat(40)).unwrap()),
                    head: git_handoff::session::ObjectId::parse(&"b".repeat(40)).unwrap(),
                }),
                commits: Vec::new(),
                forced: false,
                findings,
                retracts: None,
                body: format!("## {heading}\n\nticket{i:05}\n{body}"),
            };
            files.push((
                format!("artifacts/{}", artifact.file_name()),
                encode_artifact(&artifact).unwrap(),
            ));
        }
        script.extend_from_slice(format!("commit refs/handoff/sessions/{id}\n").as_bytes());
        script.extend_from_slice(
            format!(
                "committer Bench <bench@example.com> {} +0000\n",
                created.timestamp()
            )
            .as_bytes(),
        );
        data(
            &mut script,
            format!("validation: {title} [COMPLETE]").as_bytes(),
        );
        for (path, content) in files {
            script.extend_from_slice(format!("M 100644 inline {path}\n").as_bytes());
            data(&mut script, content.as_bytes());
        }
        script.push(b'\n');
        if script.len() > 8 << 20 {
            to_importer.write_all(&script).unwrap();
            script.clear();
        }
    }
    to_importer.write_all(&script).unwrap();
    drop(to_importer);
    assert!(importer.wait().unwrap().success());
    start.elapsed()
}

pub fn median(dir: &Path, program: &str, args: &[&str]) -> Duration {
    median_of((0..RUNS).map(|_| timed(dir, program, args)).collect())
}
