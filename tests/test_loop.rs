//! `git handoff run plan|implement` and `git handoff loop`: the four steps run by the agents,
//! here scripted agents configured under [agents.commands] that answer at once from their
//! prompt (what each step's prompt must carry is part of what is tested).

use std::path::{Path, PathBuf};

use crate::common::{Run, TestEnv};

/// The planner: a plan (revised once the reviewer asked for changes), and an implementation
/// that adds a line to app.txt. With `kill_first_implementation`, its first implementation
/// kills the loop that started it (SIGKILL) after editing, before anything is recorded.
pub(crate) const PLANNER: &str = r#"#!/bin/sh
prompt=$(cat)
case "$prompt" in
  *"CONTEXT FOR CLAUDE PLAN"*)
    case "$prompt" in
      *"Plan iteration to write: 2"*"Add a fallback"*) printf '## Plan\n\nBucket per user, with a Redis fallback.\n' ;;
      *"Plan iteration to write: 2"*) echo "the reviews are missing from the prompt" >&2; exit 4 ;;
      *) printf '## Plan\n\nBucket per user.\n' ;;
    esac ;;
  *"CONTEXT FOR IMPLEMENTATION"*)
    echo "limit" >> app.txt
    if [ -n "$KILL_FIRST" ] && [ ! -e "$KILL_FIRST" ]; then
      touch "$KILL_FIRST"
      kill -9 "$PPID"
      sleep 5
    fi
    case "$prompt" in
      *"CODEX VALIDATION"*"Add a second limit"*) printf 'Added the second limit.\n' ;;
      *"CODEX VALIDATION"*) echo "the validation is missing from the prompt" >&2; exit 4 ;;
      *) printf 'Added the limiter.\n' ;;
    esac ;;
  *) echo "unexpected prompt" >&2; exit 3 ;;
esac
"#;

/// The reviewer: asks for changes to the first plan and to a diff with one limit line.
pub(crate) const REVIEWER: &str = r#"#!/bin/sh
prompt=$(cat)
case "$prompt" in
  *"CONTEXT FOR CODEX REVIEW"*)
    case "$prompt" in
      *"Plan iteration: 1"*) printf '## Verdict\n\nCHANGES REQUESTED\n\nAdd a fallback.\n' ;;
      *) printf '## Verdict\n\nAPPROVED\n' ;;
    esac ;;
  *"CONTEXT FOR CODEX VALIDATION"*)
    n=$(printf '%s\n' "$prompt" | grep -c '^+limit')
    if [ "$n" -lt 2 ]; then printf '## Verdict\n\nCHANGES REQUESTED\n\nAdd a second limit.\n'; else printf '## Verdict\n\nAPPROVED\n'; fi ;;
  *) echo "unexpected prompt" >&2; exit 3 ;;
esac
"#;

/// A repository with both scripted agents configured.
pub(crate) fn setup(env: &TestEnv) -> PathBuf {
    let repo = env.repo("repo");
    let script = |name: &str, text: &str| -> PathBuf {
        let path = env.path(name);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let planner = script("planner.sh", PLANNER);
    let reviewer = script("reviewer.sh", REVIEWER);
    std::fs::write(
        repo.join(".handoff.toml"),
        format!(
            "[agents]\nplanner = \"bot-planner\"\nreviewer = \"bot-reviewer\"\n\n[agents.commands]\nbot-planner = [\"{}\"]\nbot-reviewer = [\"{}\"]\n",
            planner.display(),
            reviewer.display()
        ),
    )
    .unwrap();
    std::fs::write(repo.join(".git/info/exclude"), ".handoff.toml\n").unwrap();
    repo
}

/// `git handoff loop` on the limiter task, with `more` arguments.
pub(crate) fn a_loop(env: &TestEnv, repo: &Path, more: &[&str]) -> Run {
    let mut args = vec!["loop", "-t", "Rate limiting", "-m", "Add a limiter."];
    args.extend_from_slice(more);
    env.handoff(repo, &args)
}

/// The kinds and verdicts of a session's artifacts, in order.
pub(crate) fn timeline(env: &TestEnv, repo: &Path, id: &str) -> Vec<String> {
    let show = env.handoff(repo, &["show", id, "--json"]).json();
    show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a["verdict"].as_str() {
            Some(v) => format!("{} {v}", a["kind"].as_str().unwrap()),
            None => a["kind"].as_str().unwrap().to_owned(),
        })
        .collect()
}

pub(crate) const FULL_LOOP: [&str; 8] = [
    "plan",
    "review request-changes",
    "plan",
    "review approve",
    "implementation",
    "validation request-changes",
    "implementation",
    "validation approve",
];

#[test]
fn loop_drives_a_task_to_complete_through_a_round_of_changes_in_each_phase() {
    let env = TestEnv::new();
    let repo = setup(&env);
    let run = a_loop(&env, &repo, &[]);
    let id = run.ok().trim().to_owned();
    assert!(id.starts_with("SESSION-"), "{id}");
    assert!(run.stderr.contains("-> COMPLETE"), "{}", run.stderr);
    assert_eq!(timeline(&env, &repo, &id), FULL_LOOP);
    // Both implementations are commits of the session, with its trailer.
    let log = env.git_ok(&repo, &["log", "--format=%B%x00", "main"]);
    assert_eq!(
        log.matches(&format!("Handoff-Session: {id}")).count(),
        2,
        "{log}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("app.txt")).unwrap(),
        "limit\nlimit\n"
    );
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE");
}

#[test]
fn a_killed_loop_resumes_from_the_status_without_repeating_a_step() {
    let env = TestEnv::new();
    let repo = setup(&env);
    let marker = env.path("killed-once");
    let run = Run::from(
        env.command(crate::common::BIN, &repo)
            .args(["loop", "-t", "Rate limiting", "-m", "Add a limiter."])
            .env("KILL_FIRST", &marker)
            .output()
            .unwrap(),
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(marker.exists());
    let id = run.stdout.trim().to_owned();
    // Killed during the first implementation: the plan phase is recorded, nothing after it.
    assert_eq!(timeline(&env, &repo, &id), FULL_LOOP[..4]);
    let resumed = env.handoff(&repo, &["loop", &id]);
    assert_eq!(resumed.ok().trim(), id);
    // The plan phase is not run again; the killed implementer's edit is kept and committed
    // with the resumed one's, so the first validation sees both lines and approves.
    let mut expected = FULL_LOOP[..4].to_vec();
    expected.extend(["implementation", "validation approve"]);
    assert_eq!(timeline(&env, &repo, &id), expected);
    assert_eq!(
        std::fs::read_to_string(repo.join("app.txt")).unwrap(),
        "limit\nlimit\n"
    );
}

#[test]
fn a_spent_budget_exits_1_with_the_status_left_and_the_command_to_resume() {
    let env = TestEnv::new();
    let repo = setup(&env);
    let run = a_loop(&env, &repo, &["--max-rounds", "1"]);
    let err = run.fails(1).to_owned();
    let id = run.stdout.trim().to_owned();
    assert!(err.contains("planning phase spent its 1 round(s)"), "{err}");
    assert!(
        err.contains(&format!("git handoff loop {id} --max-rounds 2")),
        "{err}"
    );
    assert_eq!(timeline(&env, &repo, &id), FULL_LOOP[..2]);
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "CHANGES_REQUESTED");
    // Resumed with a larger budget, it finishes.
    env.handoff(&repo, &["loop", &id, "--max-rounds", "2"]).ok();
    assert_eq!(timeline(&env, &repo, &id), FULL_LOOP);
}

#[test]
fn run_plan_starts_a_session_and_run_implement_commits_and_records() {
    let env = TestEnv::new();
    let repo = setup(&env);
    let run = env.handoff(
        &repo,
        &["run", "plan", "-t", "Limiter", "-m", "Add a limiter."],
    );
    let id = run.ok().trim().to_owned();
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let run = env.handoff(&repo, &["run", "implement", &id]);
    run.ok();
    assert!(
        run.stderr.contains("committed what bot-planner left"),
        "{}",
        run.stderr
    );
    assert_eq!(
        timeline(&env, &repo, &id),
        ["plan", "review approve", "implementation"]
    );
    // The implementer's session is current, and the commit is the session's.
    let status = env.handoff(&repo, &["status", "--json"]).json();
    assert_eq!(status["current"]["id"], id.as_str(), "{status}");
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(
        show["timeline"][2]["commits"].as_array().map(Vec::len),
        Some(1),
        "{show}"
    );
    // A step the session cannot take costs no agent time.
    let err = env
        .handoff(&repo, &["run", "plan", &id])
        .fails(1)
        .to_owned();
    assert!(err.contains("cannot record a plan"), "{err}");
}

/// `loop --worktree` works on a branch of its own in a linked worktree: this checkout stays as
/// it was, and `loop ID --worktree` finds the same worktree again.
#[test]
fn loop_in_a_worktree_leaves_the_checkout_untouched() {
    let env = TestEnv::new();
    let repo = setup(&env);
    // The agents' configuration is the team's, committed, so the worktree has it too.
    std::fs::write(repo.join(".git/info/exclude"), "").unwrap();
    env.git_ok(&repo, &["add", ".handoff.toml"]);
    env.git_ok(&repo, &["commit", "-q", "-m", "Agents"]);
    let head = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    let run = a_loop(&env, &repo, &["--worktree"]);
    let id = run.ok().trim().to_owned();
    assert!(
        run.stderr.contains("on branch handoff/rate-limiting"),
        "{}",
        run.stderr
    );
    assert_eq!(env.git_ok(&repo, &["rev-parse", "HEAD"]), head);
    assert!(!repo.join("app.txt").exists());
    let tree = repo.with_file_name("repo-handoff-rate-limiting");
    assert_eq!(
        std::fs::read_to_string(tree.join("app.txt")).unwrap(),
        "limit\nlimit\n"
    );
    assert_eq!(timeline(&env, &repo, &id), FULL_LOOP);
    let log = env.git_ok(&repo, &["log", "--format=%B", "handoff/rate-limiting"]);
    assert_eq!(
        log.matches(&format!("Handoff-Session: {id}")).count(),
        2,
        "{log}"
    );
    // Resumed, the same worktree is used (the session is COMPLETE: nothing to run).
    let again = env.handoff(&repo, &["loop", &id, "--worktree"]);
    again.ok();
    assert!(again.stderr.contains("(resumed)"), "{}", again.stderr);
}

/// An agent name from `.handoff.toml` (a file a clone brings) reaches the terminal sanitised.
#[test]
fn an_agent_name_with_control_bytes_is_printed_sanitised() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    std::fs::write(
        repo.join(".handoff.toml"),
        "[agents]\nplanner = \"evil\\u001b]0;owned\\u0007\"\n",
    )
    .unwrap();
    for args in [
        &["loop", "-t", "Title", "-m", "Task."][..],
        &["run", "plan", "-t", "Title", "-m", "Task."][..],
    ] {
        let run = env.handoff(&repo, args);
        run.fails(1);
        assert!(run.stderr.contains("evil"), "{}", run.stderr);
        assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
        assert!(!run.stderr.contains('\u{7}'), "{:?}", run.stderr);
    }
}

/// A file that was untracked before the implementation began (a person's scratch notes, the
/// files `init --agents` wrote) is not the agent's work: it stays out of the session's
/// commits, and out of the diff the validator reads (before: `git add -A` committed it).
#[test]
fn files_untracked_before_the_implementation_stay_out_of_its_commits() {
    let env = TestEnv::new();
    let repo = setup(&env);
    std::fs::write(repo.join("scratch.txt"), "my own notes\n").unwrap();
    let run = a_loop(&env, &repo, &[]);
    let id = run.ok().trim().to_owned();
    assert_eq!(timeline(&env, &repo, &id), FULL_LOOP);
    let committed = env.git_ok(&repo, &["log", "--name-only", "--format=", "main"]);
    assert!(!committed.contains("scratch.txt"), "{committed}");
    assert!(committed.contains("app.txt"), "{committed}");
    assert_eq!(
        env.git_ok(&repo, &["status", "--porcelain"]),
        "?? scratch.txt"
    );
}
