//! Sharing benchmark (issue: push, pull and the hooks). Prints figures; asserts only that the
//! commands succeed.
//!
//! - Overhead of the pre-push hook on a push of 1,000 commits when nothing handoff-related needs
//!   doing, against the same push with `--no-verify` (goal ≤ 50 ms).
//! - `git handoff pull` of 1,000 sessions from a local remote, against a plain `git fetch` of
//!   the same refs into a fresh clone (goal ≤ 2×).
//!
//! Run: `cargo bench --bench sharing`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{BIN, build, cmd, fast_import, git, linear_history, median_of as median, timed};

const COMMITS: usize = 1_000;
const SESSIONS: usize = 1_000;
const RUNS: usize = 7;

fn identity(dir: &Path) {
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);
}

fn pre_push_overhead(root: &Path) {
    let repo = root.join("work");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "--initial-branch=main"]);
    identity(&repo);
    fast_import(&repo, linear_history(COMMITS, 50).as_bytes());
    git(&repo, &["reset", "-q", "--hard", "main"]);
    let path = std::env::join_paths(
        std::iter::once(Path::new(BIN).parent().unwrap().to_path_buf()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ),
    )
    .unwrap();
    let out = cmd(&repo, BIN).args(["init"]).output().unwrap();
    assert!(out.status.success());
    let remote = root.join("remote.git");
    git(root, &["init", "-q", "--bare", remote.to_str().unwrap()]);
    git(&repo, &["remote", "add", "bench", remote.to_str().unwrap()]);
    let push = |verify: bool| -> Duration {
        git(&remote, &["update-ref", "-d", "refs/heads/main"]);
        let _ = cmd(&repo, "git")
            .args(["update-ref", "-d", "refs/remotes/bench/main"])
            .output();
        let mut args = vec!["push", "-q"];
        if !verify {
            args.push("--no-verify");
        }
        args.extend(["bench", "main"]);
        let start = Instant::now();
        let out = cmd(&repo, "git")
            .env("PATH", &path)
            .args(&args)
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        elapsed
    };
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        without.push(push(false));
        with.push(push(true));
    }
    let (with, without) = (median(with), median(without));
    println!("push of {COMMITS} new commits, nothing handoff-related to do (median of {RUNS}):");
    println!("  git push --no-verify      {without:>10.2?}");
    println!("  git push (hook installed) {with:>10.2?}");
    println!(
        "  overhead                  {:>10.2?}   (goal <= 50ms)",
        with.saturating_sub(without)
    );
}

fn pull_vs_fetch(root: &Path) {
    let source = root.join("sessions");
    build(&source, SESSIONS);
    identity(&source);
    git(&source, &["commit", "-q", "--allow-empty", "-m", "root"]);
    let remote = root.join("sessions.git");
    git(
        root,
        &[
            "clone",
            "-q",
            "--mirror",
            source.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    let fresh = |name: &str| -> std::path::PathBuf {
        let dir = root.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        git(
            root,
            &[
                "clone",
                "-q",
                remote.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
        );
        identity(&dir);
        dir
    };
    let (mut pull, mut fetch) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let a = fresh("pull");
        pull.push(timed(&a, BIN, &["pull", "origin"]));
        let listed = git(
            &a,
            &["for-each-ref", "refs/handoff-remotes/origin/sessions/"],
        )
        .lines()
        .count();
        assert_eq!(listed, SESSIONS);
        let b = fresh("fetch");
        fetch.push(timed(
            &b,
            "git",
            &[
                "fetch",
                "-q",
                "origin",
                "refs/handoff/sessions/*:refs/handoff/sessions/*",
            ],
        ));
    }
    let (pull, fetch) = (median(pull), median(fetch));
    println!();
    println!("{SESSIONS} sessions from a local remote into a fresh clone (median of 5):");
    println!("  git fetch of the same refs  {fetch:>10.2?}");
    println!("  git handoff pull            {pull:>10.2?}");
    println!(
        "  ratio                       {:>10.2}x   (goal <= 1.5x, no hand-written git files)",
        pull.as_secs_f64() / fetch.as_secs_f64()
    );

    // After `git handoff init`, a plain `git fetch` brings the sessions; the first `list`
    // reads them from the tracking refs (building the index), later ones from the index.
    let (mut first, mut again, mut refs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let c = fresh("plain");
        let out = cmd(&c, BIN).args(["init", "--no-hooks"]).output().unwrap();
        assert!(out.status.success());
        git(&c, &["fetch", "-q"]);
        refs.push(timed(&c, "git", &["for-each-ref", "refs/handoff-remotes/"]));
        first.push(timed(&c, BIN, &["list", "--json"]));
        again.push(timed(&c, BIN, &["list", "--json"]));
    }
    let (first, again, refs) = (median(first), median(again), median(refs));
    println!();
    println!("list after a plain git fetch of {SESSIONS} sessions (median of 5):");
    println!("  git for-each-ref            {refs:>10.2?}");
    println!(
        "  first list --json           {first:>10.2?}   ({:.2}x; goal <= 3x)",
        first.as_secs_f64() / refs.as_secs_f64()
    );
    println!(
        "  next list --json            {again:>10.2?}   ({:.2}x)",
        again.as_secs_f64() / refs.as_secs_f64()
    );
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    pre_push_overhead(tmp.path());
    pull_vs_fetch(tmp.path());
}
