//! `git handoff hook NAME` (hidden), and `start` / `stop`.

use std::io::Read;

use super::open;
use crate::ui;
use git_handoff::error::{CommandResult, user_error};
use git_handoff::hooks::handlers::{self, Verdict};

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
