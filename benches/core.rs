//! Core benchmark (issue: sessions stored in git). Prints figures; asserts nothing.
//!
//! Builds a repository with 5,000 commits, then measures in the same run:
//! - `git handoff implement` noting all 5,000 commits, against `git fast-import` writing the same
//!   5,000 notes (the physical limit: one process streaming objects into a pack). Goal ≤ 3×.
//! - `git handoff why REV` against `git notes --ref=handoff show REV`. Goal ≤ 1.5×.
//!
//! Run: `cargo bench --bench core` (release build; takes well under a minute).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{BIN, cmd, fast_import, git, linear_history, median_of as median};

const COMMITS: usize = 5_000;
const WHY_RUNS: usize = 60;

fn time(mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "--initial-branch=main"]);
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);

    // 5,000 commits through fast-import.
    let build = fast_import(dir, linear_history(COMMITS, 97).as_bytes());
    git(dir, &["reset", "-q", "--hard", "main"]);
    let root = git(dir, &["rev-list", "--max-parents=0", "HEAD"]);
    let commits: Vec<String> = git(dir, &["rev-list", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(commits.len(), COMMITS);
    println!("repository: {COMMITS} commits built in {build:.2?}");

    // Session to note the commits with.
    let out = cmd(dir, BIN)
        .args(["plan", "-t", "Bench", "-m", "plan"])
        .output()
        .unwrap();
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let line = format!("Handoff-Session: {id} implementation\n");

    // Baseline: fast-import writes the same 5,000 notes (with the same content) in one commit.
    let notes = common::notes_script("refs/notes/baseline", &line, &commits);
    let baseline = fast_import(dir, notes.as_bytes());

    // Ours: implement over everything HEAD reaches (all 5,000).
    let ours = time(|| {
        let out = cmd(dir, BIN)
            .args([
                "implement",
                &id,
                "--force",
                "-m",
                "all of it",
                "--range",
                &commits[0],
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let noted = git(dir, &["notes", "--ref=handoff", "list"])
        .lines()
        .count();
    assert_eq!(noted, COMMITS, "every commit noted");
    let _ = root;
    println!();
    println!("implement over {COMMITS} commits     {ours:>10.2?}");
    println!("git fast-import, same {COMMITS} notes {baseline:>10.2?}");
    println!(
        "ratio                              {:>10.2}x   (goal <= 3x)",
        ours.as_secs_f64() / baseline.as_secs_f64()
    );

    // why vs git notes show, on commits spread over the history.
    let picks: Vec<&String> = commits
        .iter()
        .step_by(COMMITS / WHY_RUNS)
        .take(WHY_RUNS)
        .collect();
    let mut why_times = Vec::new();
    let mut show_times = Vec::new();
    for c in &picks {
        show_times.push(time(|| {
            let out = cmd(dir, "git")
                .args(["notes", "--ref=handoff", "show", c])
                .output()
                .unwrap();
            assert!(out.status.success());
        }));
        why_times.push(time(|| {
            let out = cmd(dir, BIN).args(["why", c]).output().unwrap();
            assert!(out.status.success() && !out.stdout.is_empty());
        }));
    }
    let (why, show) = (median(why_times), median(show_times));
    println!();
    println!("git handoff why REV (median of {WHY_RUNS})        {why:>10.2?}");
    println!("git notes --ref=handoff show REV (median)   {show:>10.2?}");
    println!(
        "ratio                                       {:>10.2}x   (goal <= 1.5x)",
        why.as_secs_f64() / show.as_secs_f64()
    );
}
