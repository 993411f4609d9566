//! Membership benchmark (issue: a session is its commits). Prints figures; asserts nothing but
//! that each command did its work.
//!
//! Measured in the same run, each against git's own fastest way to do the same:
//! - `implement` with the default membership (the session's trailer commits) over 5,000
//!   commits, against `git fast-import` writing the same 5,000 notes. Goal <= 0.3x is the
//!   issue's; the figure is printed as it is.
//! - `post-rewrite` after a rebase of 1,000 noted commits (notes and the session's commits
//!   follow), against git's own `notes.rewriteRef` copy of the same notes
//!   (`git notes copy --for-rewrite=rebase`, what `git rebase` runs). Goal <= 2x.
//! - `context --for validate` of a 50-commit session interleaved with 50 commits of another
//!   session (each commit's patch), against `git log -p` of those 50 commits. Goal <= 2x.
//!
//! Run: `cargo bench --bench membership` (release build).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{BIN, cmd, fast_import, git, median_of as median, timed_with_input};

const COMMITS: usize = 5_000;
const REWRITTEN: usize = 1_000;
const INTERLEAVED: usize = 50;
const RUNS: usize = 20;
/// Runs of each writing command (median taken).
const RUNS_WRITE: usize = 7;

/// A new repository with one commit, and a session planned on it; returns the session ID.
fn repo_with_session(dir: &Path, title: &str) -> String {
    git(dir, &["init", "-q", "--initial-branch=main"]);
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "root"]);
    plan(dir, title)
}

fn plan(dir: &Path, title: &str) -> String {
    let out = cmd(dir, BIN)
        .args(["plan", "-t", title, "-m", "plan"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A fast-import script of commits on top of `main`, the i-th carrying the trailer of
/// `session(i)` and changing file `f<i % 97>`.
fn history_with_trailers(n: usize, session: impl Fn(usize) -> String) -> String {
    let mut script = String::new();
    for i in 0..n {
        let message = format!("commit {i}\n\nHandoff-Session: {}\n", session(i));
        let from = if i == 0 {
            "from refs/heads/main^0\n"
        } else {
            ""
        };
        script.push_str(&format!(
            "commit refs/heads/main\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{message}{from}M 100644 inline f{}\ndata {}\n{i}\n\n",
            1_700_000_000 + i,
            message.len(),
            i % 97,
            i.to_string().len() + 1,
        ));
    }
    script
}

fn ratio(name: &str, ours: Duration, theirs: Duration, baseline: &str, goal: &str) {
    println!("{name:<44} {ours:>10.2?}");
    println!("{baseline:<44} {theirs:>10.2?}");
    println!(
        "{:<44} {:>10.2}x   (goal {goal})",
        "ratio",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    println!();
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();

    // 1. implement over 5,000 trailer commits.
    let dir = tmp.path().join("implement");
    std::fs::create_dir(&dir).unwrap();
    let id = repo_with_session(&dir, "Bench");
    fast_import(
        &dir,
        history_with_trailers(COMMITS, |_| id.clone()).as_bytes(),
    );
    git(&dir, &["reset", "-q", "--hard", "main"]);
    let commits: Vec<String> = git(&dir, &["rev-list", "HEAD~5000..HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    let line = format!("Handoff-Session: {id} implementation\n");
    let notes = common::notes_script("refs/notes/baseline", &line, &commits);
    // Medians of runs that each start from the same refs: no notes, the session at its plan.
    let plan_tip = git(&dir, &["rev-parse", &format!("refs/handoff/sessions/{id}")]);
    let mut ours = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..RUNS_WRITE {
        let _ = cmd(&dir, "git")
            .args(["update-ref", "-d", "refs/notes/baseline"])
            .output();
        baseline.push(fast_import(&dir, notes.as_bytes()));
        let _ = cmd(&dir, "git")
            .args(["update-ref", "-d", "refs/notes/handoff"])
            .output();
        git(
            &dir,
            &[
                "update-ref",
                &format!("refs/handoff/sessions/{id}"),
                plan_tip.trim(),
            ],
        );
        ours.push(timed_with_input(
            &dir,
            BIN,
            &["implement", &id, "--force", "-m", "all of it"],
            None,
        ));
    }
    let (ours, baseline) = (median(ours), median(baseline));
    let noted = git(&dir, &["notes", "--ref=handoff", "list"])
        .lines()
        .count();
    assert_eq!(noted, COMMITS, "every commit noted");
    ratio(
        &format!("implement, {COMMITS} trailer commits (median)"),
        ours,
        baseline,
        &format!("git fast-import, same {COMMITS} notes (median)"),
        "<= 0.3x",
    );

    // 2. post-rewrite after a rebase of 1,000 noted commits.
    let old: Vec<&String> = commits.iter().take(REWRITTEN).collect();
    git(
        &dir,
        &[
            "rebase",
            "-q",
            "--force-rebase",
            "--no-verify",
            &format!("HEAD~{REWRITTEN}"),
        ],
    );
    let new: Vec<String> = git(&dir, &["rev-list", &format!("HEAD~{REWRITTEN}..HEAD")])
        .lines()
        .map(str::to_owned)
        .collect();
    // Git lists the rewrites oldest first, in the order it made them.
    let map: String = old
        .iter()
        .zip(&new)
        .rev()
        .map(|(o, n)| format!("{o} {n}\n"))
        .collect();
    let notes_before = git(&dir, &["rev-parse", "refs/notes/handoff"]);
    let session_before = git(&dir, &["rev-parse", &format!("refs/handoff/sessions/{id}")]);
    let mut ours = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..RUNS_WRITE {
        git(
            &dir,
            &[
                "update-ref",
                "refs/notes/baseline-copy",
                notes_before.trim(),
            ],
        );
        baseline.push(timed_with_input(
            &dir,
            "git",
            &[
                "-c",
                "notes.rewriteRef=refs/notes/baseline-copy",
                "notes",
                "copy",
                "--for-rewrite=rebase",
            ],
            Some(map.as_bytes()),
        ));
        git(
            &dir,
            &["update-ref", "refs/notes/handoff", notes_before.trim()],
        );
        git(
            &dir,
            &[
                "update-ref",
                &format!("refs/handoff/sessions/{id}"),
                session_before.trim(),
            ],
        );
        ours.push(timed_with_input(
            &dir,
            BIN,
            &["hook", "post-rewrite", "rebase"],
            Some(map.as_bytes()),
        ));
    }
    let (ours, baseline) = (median(ours), median(baseline));
    let show = String::from_utf8(
        cmd(&dir, BIN)
            .args(["show", &id, "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(show.contains(&new[0]), "the session follows the rebase");
    ratio(
        &format!("post-rewrite, rebase of {REWRITTEN} noted commits (median)"),
        ours,
        baseline,
        "git notes copy --for-rewrite=rebase (median)",
        "<= 2x",
    );

    // 3. context --for validate of 50 commits interleaved with 50 of another session.
    let dir = tmp.path().join("interleaved");
    std::fs::create_dir(&dir).unwrap();
    let a = repo_with_session(&dir, "Mine");
    let b = plan(&dir, "Theirs");
    let (mine, theirs) = (a.clone(), b.clone());
    fast_import(
        &dir,
        history_with_trailers(2 * INTERLEAVED, move |i| {
            if i % 2 == 0 {
                mine.clone()
            } else {
                theirs.clone()
            }
        })
        .as_bytes(),
    );
    git(&dir, &["reset", "-q", "--hard", "main"]);
    timed_with_input(
        &dir,
        BIN,
        &["review", &a, "--verdict", "approve", "-m", "ok"],
        None,
    );
    timed_with_input(&dir, BIN, &["implement", &a, "-m", "mine"], None);
    let own: Vec<String> = git(&dir, &["log", "--format=%H", "--grep", &a, "--reverse"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(own.len(), INTERLEAVED);
    let mut log_args = vec!["log", "-p", "--no-walk=unsorted"];
    log_args.extend(own.iter().map(String::as_str));
    let mut ours = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..RUNS {
        ours.push(timed_with_input(
            &dir,
            BIN,
            &["context", &a, "--for", "validate"],
            None,
        ));
        baseline.push(timed_with_input(&dir, "git", &log_args, None));
    }
    ratio(
        &format!(
            "context --for validate, {INTERLEAVED} of {} commits (median)",
            2 * INTERLEAVED
        ),
        median(ours),
        median(baseline),
        &format!("git log -p of those {INTERLEAVED} (median)"),
        "<= 2x",
    );
}
