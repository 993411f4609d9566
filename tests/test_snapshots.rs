//! Snapshots of what users' scripts and eyes depend on: `-h` of every command, every `--json`
//! shape, and the main human views. IDs, times and object names are fixed by the hermetic
//! environment (`GIT_HANDOFF_RANDOMNESS_SEED`, `GIT_HANDOFF_NOW`, git's dates), so a change
//! here is a change of contract: review it with `cargo insta review` and say so in the commit.

use crate::common::{COMMANDS, Run, TestEnv};

/// Replaces the temporary root (which differs per run) with `[ROOT]`.
fn stable(env: &TestEnv, text: &str) -> String {
    let root = env.root.path().to_str().unwrap();
    let canonical = std::fs::canonicalize(env.root.path()).unwrap();
    text.replace(canonical.to_str().unwrap(), "[ROOT]")
        .replace(root, "[ROOT]")
}

/// A run as its snapshot holds it, as jj's tests write theirs: stdout, then stderr when there
/// is any, each ended by `[EOF]` (so a missing final newline shows), then the exit status.
fn report(run: &Run) -> String {
    let mut text = format!("{}[EOF]\n", run.stdout);
    if !run.stderr.is_empty() {
        text.push_str(&format!("------- stderr -------\n{}[EOF]\n", run.stderr));
    }
    text.push_str(&format!("[exit status: {}]\n", run.code));
    text
}

/// Runs `git handoff ARGS` in `repo` and snapshots what it printed on both streams and how it
/// exited as `name`.
fn snapshot(env: &TestEnv, repo: &std::path::Path, name: &str, args: &[&str]) {
    let run = env.handoff(repo, args);
    insta::assert_snapshot!(name.to_owned(), stable(env, &report(&run)));
}

#[test]
fn help_of_every_command() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    insta::assert_snapshot!("help", report(&env.handoff(&repo, &["-h"])));
    for command in COMMANDS {
        let out = env.handoff(&repo, &[command, "-h"]);
        insta::assert_snapshot!(format!("help_{command}"), report(&out));
    }
}

#[test]
fn json_shapes_and_human_views_of_a_whole_session() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["repo"]);
    let repo = &clones[0];
    let snap = |name: &str, args: &[&str]| snapshot(&env, repo, name, args);
    snap("init_json", &["init", "--json"]);
    snap(
        "plan_json",
        &[
            "plan",
            "-t",
            "Rate limiting",
            "-m",
            "## Plan\nToken bucket per user.",
            "--json",
        ],
    );
    let id = env.handoff(repo, &["list", "--json"]).json()["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(
        repo.join("findings.json"),
        r#"[{"title":"Key by user id","body":"NAT users share addresses.","priority":1,"confidence":0.8,"path":"src/rate.ts","start_line":3,"end_line":9}]"#,
    )
    .unwrap();
    snap(
        "review_json",
        &[
            "review",
            &id,
            "--verdict",
            "approve-with-changes",
            "-m",
            "Good.",
            "--findings",
            "findings.json",
            "--json",
        ],
    );
    // The review's finding, open until the validation approves.
    snap(
        "annotate_markdown",
        &["annotate", &id, "--format", "markdown"],
    );
    snap("annotate_sarif", &["annotate", &id, "--format", "sarif"]);
    snap("annotate_github", &["annotate", &id, "--format", "github"]);
    env.commit_file(
        repo,
        "src/rate.ts",
        "export const limit = 100;\n",
        "Token bucket",
    );
    snap(
        "implement_json",
        &["implement", &id, "-m", "Done.", "--json"],
    );
    snap(
        "validate_json",
        &[
            "validate",
            &id,
            "--verdict",
            "approve",
            "-m",
            "Verified.",
            "--json",
        ],
    );
    snap(
        "pattern_json",
        &["pattern", &id, "-m", "Key buckets by user.", "--json"],
    );
    // What sync would send, rendered and redacted (a dry run contacts nothing).
    let config = std::fs::read_to_string(repo.join(".handoff.toml")).unwrap();
    std::fs::write(
        repo.join(".handoff.toml"),
        format!("{config}\n[byterover]\nbackend = \"mcp\"\nurl = \"http://127.0.0.1:9/mcp\"\n"),
    )
    .unwrap();
    snap("sync_dry_run", &["sync", "--dry-run"]);
    snap("sync_dry_run_json", &["sync", "--dry-run", "--json"]);
    snap("show", &["show", &id]);
    snap("show_json", &["show", &id, "--json"]);
    snap("list", &["list"]);
    snap("list_json", &["list", "--json"]);
    snap("log", &["log", &id]);
    snap("log_json", &["log", &id, "--json"]);
    snap("context_validate", &["context", &id, "--for", "validate"]);
    snap(
        "context_json",
        &["context", &id, "--for", "review", "--json"],
    );
    snap("why", &["why", "HEAD"]);
    snap("why_json", &["why", "HEAD", "--json"]);
    snap("search", &["search", "bucket"]);
    snap("search_json", &["search", "bucket", "--json"]);
    snap("status", &["status"]);
    snap("status_json", &["status", "--json"]);
    snap("repair_json", &["repair", "--dry-run", "--json"]);
    snap("push_json", &["push", "--json"]);
    snap("pull_json", &["pull", "--json"]);
    snap(
        "plan_again_json",
        &[
            "plan",
            "--session",
            &id,
            "-m",
            "## Plan\nToken bucket per user and IP.",
            "--force",
            "--json",
        ],
    );
    snap("diff_json", &["diff", &id, "--kind", "plan", "--json"]);
}

/// `status` in each state a clone goes through: fresh (no init, nothing current), a session
/// current with unpushed data, everything pushed, and finished.
#[test]
fn status_in_each_state() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["repo"]);
    let repo = &clones[0];
    let status = |name: &str| {
        let run = env.handoff(repo, &["status"]);
        insta::assert_snapshot!(name.to_owned(), stable(&env, &report(&run)));
    };
    status("status_fresh");
    env.handoff(repo, &["init", "--no-hooks"]).ok();
    let id = env.plan(repo, "States");
    status("status_current_unpushed");
    env.handoff(repo, &["push"]).ok();
    status("status_pushed");
    env.handoff(repo, &["abandon", &id, "-m", "done with it"])
        .ok();
    status("status_abandoned");
}

/// Refused steps: the error, the remedy in the command line's words (the next command and
/// `--force`) and the exit code, together.
#[test]
fn refused_steps_say_what_comes_next() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Refusals");
    let snap = |name: &str, args: &[&str]| snapshot(&env, &repo, name, args);
    snap(
        "refused_validation",
        &["validate", &id, "--verdict", "approve", "-m", "Too early"],
    );
    snap(
        "refused_review_without_verdict",
        &["review", &id, "-m", "No verdict"],
    );
    env.handoff(
        &repo,
        &["review", &id, "--verdict", "approve", "-m", "Fine"],
    )
    .ok();
    snap(
        "refused_implementation_without_commits",
        &["implement", &id, "-m", "Nothing committed"],
    );
}
