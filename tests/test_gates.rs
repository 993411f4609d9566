//! The gates inside the agents: the hooks `init --agents` installs in Claude Code's settings,
//! fed the JSON Claude Code sends them, with scripted reviewers (tests/test_loop.rs) that ask
//! for changes once per phase.

use std::path::Path;

use crate::common::TestEnv;
use crate::test_loop::{setup, timeline};

/// Runs an agent hook with `input` as Claude Code sends it; its JSON answer, if any.
fn hook(
    env: &TestEnv,
    repo: &Path,
    name: &str,
    input: serde_json::Value,
) -> Option<serde_json::Value> {
    let run = env.handoff_stdin(repo, &["hook", name], &input.to_string());
    let out = run.ok().trim().to_owned();
    (!out.is_empty()).then(|| serde_json::from_str(&out).unwrap())
}

/// A session planned, its plan approved and made current: what a Claude Code session that
/// implements it stops in. Its ID.
fn approved_and_current(env: &TestEnv, repo: &Path) -> String {
    let id = env.plan(repo, "Rate limiting");
    env.handoff(repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.handoff(repo, &["start", &id]).ok();
    id
}

fn exit_plan_mode(plan: &str) -> serde_json::Value {
    serde_json::json!({"hook_event_name": "PreToolUse", "tool_name": "ExitPlanMode",
        "tool_input": {"plan": plan}, "session_id": "s", "cwd": "."})
}

fn stop(active: bool, message: &str) -> serde_json::Value {
    serde_json::json!({"hook_event_name": "Stop", "stop_hook_active": active,
        "last_assistant_message": message, "session_id": "s", "cwd": "."})
}

#[test]
fn init_agents_installs_the_gates_once_and_uninstall_takes_only_them_back() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    let settings = || -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(repo.join(".claude/settings.local.json")).unwrap(),
        )
        .unwrap()
    };
    let installed = settings();
    for (event, command) in [
        ("SessionStart", "git handoff hook agent-session-start"),
        ("PreToolUse", "git handoff hook agent-plan-gate"),
        ("Stop", "git handoff hook agent-stop-gate"),
    ] {
        let groups = installed["hooks"][event].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{installed}");
        assert_eq!(groups[0]["hooks"][0]["command"], command);
    }
    assert_eq!(
        installed["hooks"]["PreToolUse"][0]["matcher"],
        "ExitPlanMode"
    );
    // Codex: what a conversation is told; no Stop gate while Codex reviews.
    let codex = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(repo.join(".codex/hooks.json")).unwrap())
            .unwrap()
    };
    assert_eq!(
        codex(),
        serde_json::json!({"hooks": {"SessionStart": [{"matcher": "startup|resume|clear",
            "hooks": [{"type": "command", "command": "git handoff hook agent-session-start"}]}]}})
    );
    // Where Codex implements, it is validated before it stops; and not once roles swap back.
    env.handoff(&repo, &["config", "agents.planner", "codex"])
        .ok();
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    assert_eq!(
        codex()["hooks"]["Stop"],
        serde_json::json!([{"hooks": [{"type": "command",
            "command": "git handoff hook agent-stop-gate", "timeout": 900}]}])
    );
    env.handoff(&repo, &["config", "agents.planner", "claude"])
        .ok();
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    assert!(codex()["hooks"].get("Stop").is_none(), "{}", codex());
    let excluded = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap();
    assert!(
        excluded.lines().any(|l| l == "/.codex/hooks.json"),
        "{excluded}"
    );
    let run = env.handoff(&repo, &["init", "--uninstall"]);
    assert_eq!(run.ok(), "", "{}", run.stderr);
    let left = settings();
    assert!(left.get("hooks").is_none(), "{left}");
    assert_eq!(left["permissions"]["allow"][0], "mcp__git-handoff");
    assert_eq!(codex(), serde_json::json!({}));
}

#[test]
fn a_new_conversation_is_told_the_current_session_and_its_next_step() {
    let env = TestEnv::new();
    let repo = setup(&env);
    let start = serde_json::json!({"hook_event_name": "SessionStart", "source": "startup"});
    assert_eq!(
        hook(&env, &repo, "agent-session-start", start.clone()),
        None
    );
    let id = env.plan(&repo, "Rate limiting");
    env.handoff(&repo, &["start", &id]).ok();
    let answer = hook(&env, &repo, "agent-session-start", start).unwrap();
    let context = answer["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert_eq!(
        answer["hookSpecificOutput"]["hookEventName"],
        "SessionStart"
    );
    assert!(context.contains(&id), "{context}");
    assert!(context.contains("AWAITING_CODEX_REVIEW"), "{context}");
    // With the short ID (the random part), which every command resolves.
    let short = id.split('-').nth(2).unwrap();
    assert!(
        context.contains(&format!("git handoff review {short}")),
        "{context}"
    );
}

#[test]
fn the_plan_is_reviewed_before_plan_mode_ends_and_the_work_validated_before_the_agent_stops() {
    let env = TestEnv::new();
    let repo = setup(&env);
    // Leaving plan mode: the plan becomes a session and is reviewed; changes are asked for.
    let first = hook(
        &env,
        &repo,
        "agent-plan-gate",
        exit_plan_mode("# Plan: Rate limiting\n\nBucket per user."),
    )
    .unwrap();
    let out = &first["hookSpecificOutput"];
    assert_eq!(out["permissionDecision"], "deny", "{first}");
    assert!(
        out["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("Add a fallback")
    );
    let status = env.handoff(&repo, &["status", "--json"]).json();
    let id = status["current"]["id"].as_str().unwrap().to_owned();
    // The revision is the next iteration of the same session, and it is approved.
    let second = hook(
        &env,
        &repo,
        "agent-plan-gate",
        exit_plan_mode("# Plan: Rate limiting\n\nBucket per user, Redis fallback."),
    )
    .unwrap();
    assert_eq!(
        second["hookSpecificOutput"]["permissionDecision"], "allow",
        "{second}"
    );
    // Stopping without any work: nothing to validate.
    assert_eq!(
        hook(&env, &repo, "agent-stop-gate", stop(false, "Planned.")),
        None
    );
    // Claude edits without committing and tries to stop: committed, recorded, validated.
    std::fs::write(repo.join("app.txt"), "limit\n").unwrap();
    let blocked = hook(
        &env,
        &repo,
        "agent-stop-gate",
        stop(false, "Added a limit."),
    )
    .unwrap();
    assert_eq!(blocked["decision"], "block", "{blocked}");
    assert!(
        blocked["reason"]
            .as_str()
            .unwrap()
            .contains("Add a second limit")
    );
    // It fixes and stops again: validated, approved, let go.
    std::fs::write(repo.join("app.txt"), "limit\nlimit\n").unwrap();
    assert_eq!(
        hook(&env, &repo, "agent-stop-gate", stop(true, "Second limit.")),
        None
    );
    assert_eq!(
        timeline(&env, &repo, &id),
        [
            "plan",
            "review request-changes",
            "plan",
            "review approve",
            "implementation",
            "validation request-changes",
            "implementation",
            "validation approve",
        ]
    );
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE");
    let log = env.git_ok(&repo, &["log", "--format=%B", "main"]);
    assert_eq!(
        log.matches(&format!("Handoff-Session: {id}")).count(),
        2,
        "{log}"
    );
}

#[test]
fn a_spent_budget_or_a_gate_that_cannot_run_never_traps_the_agent() {
    let env = TestEnv::new();
    let repo = setup(&env);
    let toml = std::fs::read_to_string(repo.join(".handoff.toml")).unwrap();
    std::fs::write(
        repo.join(".handoff.toml"),
        format!("{toml}\n[gate]\nmax-rounds = 1\n"),
    )
    .unwrap();
    approved_and_current(&env, &repo);
    std::fs::write(repo.join("app.txt"), "limit\n").unwrap();
    let blocked = hook(&env, &repo, "agent-stop-gate", stop(false, "One limit.")).unwrap();
    assert_eq!(blocked["decision"], "block", "{blocked}");
    // One round was the budget: the next stop goes through, with a warning.
    std::fs::write(repo.join("app.txt"), "limit\nlimit\n").unwrap();
    let let_go = hook(&env, &repo, "agent-stop-gate", stop(true, "Fixed.")).unwrap();
    assert!(let_go.get("decision").is_none(), "{let_go}");
    assert!(
        let_go["systemMessage"]
            .as_str()
            .unwrap()
            .contains("1 validation round(s)")
    );
    // A reviewer that cannot be started: the agent goes on, told why.
    let id = env.plan(&repo, "Another");
    std::fs::write(
        repo.join(".handoff.toml"),
        "[agents]\nreviewer = \"no-such-agent\"\n",
    )
    .unwrap();
    env.handoff(&repo, &["start", &id]).ok();
    let failed = hook(
        &env,
        &repo,
        "agent-plan-gate",
        exit_plan_mode("# Plan: Another\n\nSteps."),
    )
    .unwrap();
    assert!(failed.get("hookSpecificOutput").is_none(), "{failed}");
    assert!(
        failed["systemMessage"]
            .as_str()
            .unwrap()
            .contains("could not run"),
        "{failed}"
    );
}

/// Blocked, the agent changed nothing and stops again (Claude Code says it is continuing for an
/// earlier block): it may stop, told why, instead of being validated again on the same work.
#[test]
fn an_agent_that_changed_nothing_after_a_block_may_stop() {
    let env = TestEnv::new();
    let repo = setup(&env);
    let id = approved_and_current(&env, &repo);
    std::fs::write(repo.join("app.txt"), "limit\n").unwrap();
    let blocked = hook(&env, &repo, "agent-stop-gate", stop(false, "One limit.")).unwrap();
    assert_eq!(blocked["decision"], "block", "{blocked}");
    let again = hook(&env, &repo, "agent-stop-gate", stop(true, "Done.")).unwrap();
    assert!(again.get("decision").is_none(), "{again}");
    assert!(
        again["systemMessage"]
            .as_str()
            .unwrap()
            .contains("nothing changed"),
        "{again}"
    );
    assert_eq!(
        timeline(&env, &repo, &id),
        [
            "plan",
            "review approve",
            "implementation",
            "validation request-changes"
        ]
    );
}

/// An agent that `loop` starts has the gates installed too (a real Claude Code would run its
/// Stop hook when it finishes the implementation): they stand aside, and the loop alone
/// records and validates each step (before: the implementer's own Stop hook recorded and
/// validated the work a second time, inside the loop's step).
#[test]
fn the_gates_of_an_agent_that_loop_started_stand_aside() {
    let env = TestEnv::new();
    let repo = setup(&env);
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    let nested = env.path("nested-gate.out");
    let wrapper = env.path("planner-with-gates.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprompt=$(cat)\nout=$(printf '%s' \"$prompt\" | {planner})\ncode=$?\n\
             case \"$prompt\" in *\"CONTEXT FOR IMPLEMENTATION\"*)\n\
             printf '%s' '{stop}' | {bin} hook agent-stop-gate >> {nested}\n\
             printf 'DRIVEN=%s\\n' \"$GIT_HANDOFF_DRIVEN\" >> {nested}.env ;;\nesac\n\
             printf '%s\\n' \"$out\"\nexit $code\n",
            planner = env.path("planner.sh").display(),
            stop = stop(false, "Done."),
            bin = crate::common::BIN,
            nested = nested.display(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = std::fs::read_to_string(repo.join(".handoff.toml")).unwrap();
    std::fs::write(
        repo.join(".handoff.toml"),
        config.replace(
            &env.path("planner.sh").display().to_string(),
            &wrapper.display().to_string(),
        ),
    )
    .unwrap();
    let run = crate::test_loop::a_loop(&env, &repo, &[]);
    let id = run.ok().trim().to_owned();
    assert_eq!(
        std::fs::read_to_string(format!("{}.env", nested.display())).unwrap(),
        "DRIVEN=1\nDRIVEN=1\n"
    );
    assert_eq!(std::fs::read_to_string(&nested).unwrap(), "");
    assert_eq!(timeline(&env, &repo, &id), crate::test_loop::FULL_LOOP);
}

/// The stop gate commits the agent's work, not what was untracked when the session was made
/// current (`git handoff start`): a person's scratch file stays out of the session's commit and
/// of the diff the reviewer validates.
#[test]
fn the_stop_gate_leaves_files_untracked_before_the_session_started_alone() {
    let env = TestEnv::new();
    let repo = setup(&env);
    std::fs::write(repo.join("scratch.txt"), "my own notes\n").unwrap();
    let id = approved_and_current(&env, &repo);
    std::fs::write(repo.join("app.txt"), "limit\nlimit\n").unwrap();
    assert_eq!(
        hook(
            &env,
            &repo,
            "agent-stop-gate",
            stop(false, "Added the limits.")
        ),
        None
    );
    assert_eq!(
        timeline(&env, &repo, &id),
        [
            "plan",
            "review approve",
            "implementation",
            "validation approve"
        ]
    );
    assert_eq!(
        env.git_ok(&repo, &["show", "--name-only", "--format=", "HEAD"]),
        "app.txt"
    );
    assert_eq!(
        env.git_ok(&repo, &["status", "--porcelain"]),
        "?? scratch.txt"
    );
}
