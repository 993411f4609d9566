//! `git handoff hook NAME` (hidden), and `start` / `stop`.

use std::io::Read;

use super::open;
use crate::ui;
use git_handoff::error::{CommandResult, user_error};
use git_handoff::hooks::handlers::{self, Verdict};
use git_handoff::workflow::gates::Decision;

/// Run a hook handler (called by the shims `git handoff init` installs)
#[derive(Debug, clap::Args)]
pub struct HookArgs {
    /// The hook: pre-push, post-rewrite or prepare-commit-msg
    pub name: String,
    /// The arguments git gave the hook
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Make a session current on this branch: commits here get a Handoff-Session trailer until
/// `git handoff stop`
///
/// The session belongs to the branch (or detached HEAD of the worktree) it was started on:
/// commits on other branches get no trailer, switching back resumes it, and two worktrees on
/// two branches can each have their own.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
}

/// Stop adding a Handoff-Session trailer to commits on this branch
#[derive(Debug, clap::Args)]
pub struct StopArgs {}

/// Runs `hook`. Handler failures are warnings: a hook never fails the user's git command
/// except when the `block` pre-push policy says so.
pub fn run(args: &HookArgs) -> CommandResult {
    if let Some(gate) = args.name.strip_prefix("agent-") {
        return agent_gate(gate);
    }
    let mut input = Vec::new();
    if matches!(args.name.as_str(), "pre-push" | "post-rewrite") {
        let _ = std::io::stdin().read_to_end(&mut input);
    }
    let mut handoff = match git_handoff::workflow::Handoff::open() {
        Ok(h) => h,
        Err(e) => {
            ui::warn(&format!("hook {}: {e}", args.name));
            return Ok(());
        }
    };
    handoff.reporter = std::sync::Arc::new(ui::StderrReporter);
    let mut reader = input.as_slice();
    let result = match args.name.as_str() {
        "pre-push" => {
            let remote = args.args.first().map_or("origin", String::as_str);
            let publish = !parent_push_is_dry_run();
            handlers::pre_push(&handoff, remote, &mut reader, publish)
        }
        "post-rewrite" => {
            let how = args.args.first().map_or("rebase", String::as_str);
            handlers::post_rewrite(&handoff, how, &mut reader).map(|()| Verdict::Allow)
        }
        "prepare-commit-msg" => {
            handlers::prepare_commit_msg(&handoff, &args.args).map(|()| Verdict::Allow)
        }
        other => {
            ui::warn(&format!("unknown hook '{}'; ignored", ui::sanitize(other)));
            Ok(Verdict::Allow)
        }
    };
    match result {
        Ok(Verdict::Allow) => Ok(()),
        Ok(Verdict::Block(message)) => Err(user_error(message)),
        Err(e) => {
            ui::warn(&format!("hook {}: {e:#}", args.name));
            Ok(())
        }
    }
}

/// The agents' own hooks (`agent-session-start`, `agent-plan-gate`, `agent-stop-gate`, which
/// `init --agents` installs in Claude Code's settings): the hook's JSON on standard input, the
/// decision as Claude Code's hook JSON on standard output (README, "Gates inside the agents").
/// A gate that cannot run lets the agent go on and says why: it never traps an agent.
fn agent_gate(gate: &str) -> CommandResult {
    // An agent that git-handoff itself started: the run that started it records and reviews
    // the step, so its own gates stand aside.
    if std::env::var_os(git_handoff::workflow::agent::DRIVEN_ENV).is_some() {
        return Ok(());
    }
    let input = crate::body::read_bounded(std::io::stdin(), "the hook's input")
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .unwrap_or_default();
    let handoff = match git_handoff::workflow::Handoff::open() {
        Ok(h) => h,
        Err(_) => return Ok(()),
    };
    let agents = git_handoff::workflow::drive::Agents {
        planner: handoff.config.agents.planner.clone(),
        reviewer: handoff.config.agents.reviewer.clone(),
        timeout: std::time::Duration::from_secs(15 * 60),
        allow_secrets: false,
    };
    let mut quiet = |_: std::time::Duration| {};
    let text = |key: &str| input.get(key).and_then(serde_json::Value::as_str);
    let answer = match gate {
        "session-start" => handoff.session_start_context().map(|context| {
            serde_json::json!({"hookSpecificOutput": {
                "hookEventName": "SessionStart", "additionalContext": context}})
        }),
        "plan-gate" => {
            let plan = input
                .pointer("/tool_input/plan")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            Some(match handoff.plan_gate(plan, &agents, &mut quiet) {
                Ok(Decision::Block { reason }) => serde_json::json!({"hookSpecificOutput": {
                    "hookEventName": "PreToolUse", "permissionDecision": "deny",
                    "permissionDecisionReason": reason}}),
                Ok(Decision::Allow { context, warning }) => {
                    let mut out = serde_json::json!({"hookSpecificOutput": {
                        "hookEventName": "PreToolUse", "permissionDecision": "allow",
                        "permissionDecisionReason": context.unwrap_or_default()}});
                    if let Some(w) = warning {
                        out["systemMessage"] = w.into();
                    }
                    out
                }
                Err(e) => gate_failed("the plan review", &e),
            })
        }
        "stop-gate" => {
            let active = input
                .get("stop_hook_active")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            let summary = text("last_assistant_message");
            match handoff.stop_gate(summary, active, &agents, &mut quiet) {
                Ok(Decision::Block { reason }) => {
                    Some(serde_json::json!({"decision": "block", "reason": reason}))
                }
                Ok(Decision::Allow { warning, .. }) => {
                    warning.map(|w| serde_json::json!({"systemMessage": w}))
                }
                Err(e) => Some(gate_failed("the validation", &e)),
            }
        }
        other => {
            ui::warn(&format!(
                "unknown agent hook '{}'; ignored",
                ui::sanitize(other)
            ));
            None
        }
    };
    if let Some(answer) = answer {
        ui::out(&format!("{answer}\n"));
    }
    Ok(())
}

/// What the agent is told when a gate could not run: go on, and why.
fn gate_failed(what: &str, error: &git_handoff::workflow::drive::Error) -> serde_json::Value {
    serde_json::json!({"systemMessage": format!(
        "git-handoff: {what} could not run ({}); going on without it",
        ui::sanitize_line(&error.to_string())
    )})
}

/// Runs `start`.
pub fn start(args: &StartArgs) -> CommandResult {
    let handoff = open()?;
    let id = handoff.resolve(&args.id)?;
    let status = handoff.store().load(&id)?.state.status;
    if let Some(
        done @ (git_handoff::session::Status::Complete | git_handoff::session::Status::Abandoned),
    ) = status
    {
        // A finished session never counts as current (docs/format.md): say so rather than
        // pretend.
        return Err(git_handoff::error::CommandError::user(anyhow::anyhow!(
            "{id} is {done}: it will not be current, and commits will get no trailer for it"
        ))
        .hint("start a new session with 'git handoff plan', or make an unfinished one current"));
    }
    let place = git_handoff::workflow::current::set(&handoff.repo, &id)?;
    // Work on it may start now: what is untracked already is not its work (for the stop gate).
    git_handoff::workflow::baseline::note(handoff.repo.common_dir(), handoff.repo.run_dir(), &id);
    ui::status(&format!(
        "{id} is current on {}: new commits there get a Handoff-Session trailer",
        git_handoff::workflow::current::place_name(&place)
    ));
    Ok(())
}

/// Runs `stop`.
pub fn stop(_args: &StopArgs) -> CommandResult {
    let handoff = open()?;
    match git_handoff::workflow::current::clear(&handoff.repo)? {
        Some(id) => ui::status(&format!("{id} is no longer current")),
        None => ui::status("no session was current"),
    }
    Ok(())
}

/// Whether the `git push` that runs this hook was given `--dry-run` (`-n`). Git runs pre-push
/// hooks on dry runs too and tells them nothing, so the shim passes git's process id and its
/// command line is read where the system shows it (`/proc`); elsewhere, `false`.
fn parent_push_is_dry_run() -> bool {
    let Some(pid) = std::env::var("HANDOFF_GIT_PID")
        .ok()
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    else {
        return false;
    };
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let Some(push) = args.iter().position(|a| *a == b"push") else {
        return false;
    };
    args[push + 1..]
        .iter()
        .take_while(|a| *a != b"--")
        .any(|a| {
            *a == b"--dry-run"
                || (a.len() > 1 && a[0] == b'-' && a[1] != b'-' && a[1..].contains(&b'n'))
        })
}
