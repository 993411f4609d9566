//! `git handoff loop`: the four steps run by the agents until the session is COMPLETE.

use std::time::Duration;

use super::run::parse_duration;
use super::{BodyArgs, open};
use crate::ui;
use git_handoff::error::{CommandError, CommandResult};
use git_handoff::session::Status;
use git_handoff::workflow::drive::{self, Agents, Step};

/// Run plan, review, implement and validate with the agents until the session is COMPLETE
///
/// `loop -t TITLE -m TASK` (or `-F FILE`) starts a session: the planner (agents.planner, Claude
/// by default) plans, the reviewer (agents.reviewer, Codex by default) reviews; while the
/// review asks for changes the planner writes the next iteration with every review in its
/// prompt. Then the planner implements in this work tree (what it leaves uncommitted is
/// committed with the session's trailer), the reviewer validates the real diff, and while the
/// validation asks for changes the planner fixes with its findings in the prompt. Each step is
/// recorded in git as it ends, so `loop ID` resumes a session from its status (after a kill,
/// a failed agent or a spent budget) and never repeats a recorded step. Progress goes to
/// standard error, the session ID to standard output. Exit 0 at COMPLETE; 1 when a budget is
/// spent or an agent fails, with the status left as it is and the command to resume.
#[derive(Debug, clap::Args)]
pub struct LoopArgs {
    /// Session to resume: full ID, random part, unique prefix or slug
    #[arg(required_unless_present = "title")]
    pub id: Option<String>,
    /// Title of a new session
    #[arg(short = 't', long, value_name = "TITLE", conflicts_with = "id")]
    pub title: Option<String>,
    /// The task of a new session.
    #[command(flatten)]
    pub task: BodyArgs,
    /// Rounds per phase: plans while the reviewer asks for changes, implementations while the
    /// validator does
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rounds: u32,
    /// How long one agent run may take: 90s, 20m, 1h
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "20m")]
    pub timeout: Duration,
    /// The planner and implementer (default: agents.planner)
    #[arg(long, value_name = "AGENT")]
    pub planner: Option<String>,
    /// The reviewer and validator (default: agents.reviewer)
    #[arg(long, value_name = "AGENT")]
    pub reviewer: Option<String>,
    /// Keep secrets the agents quoted instead of redacting them
    #[arg(long)]
    pub allow_secrets: bool,
    /// Work in a linked worktree on a branch of its own (handoff/<slug>, beside this work tree),
    /// so this checkout is untouched; `loop ID --worktree` resumes in the same one
    #[arg(long)]
    pub worktree: bool,
}

/// Runs `loop`.
pub fn run(args: &LoopArgs) -> CommandResult {
    let mut handoff = open()?;
    if args.worktree {
        handoff = into_worktree(&handoff, args)?;
    }
    let agents = Agents {
        planner: args
            .planner
            .clone()
            .unwrap_or_else(|| handoff.config.agents.planner.clone()),
        reviewer: args
            .reviewer
            .clone()
            .unwrap_or_else(|| handoff.config.agents.reviewer.clone()),
        timeout: args.timeout,
        allow_secrets: args.allow_secrets,
    };
    let resume_hint = |id: &str| format!("resume with: git handoff loop {id}");
    let id = match (&args.id, &args.title) {
        (Some(input), _) => {
            let id = handoff.resolve(input)?;
            ui::out(&format!("{id}\n"));
            id
        }
        (None, Some(title)) => {
            let task = args.task.read(&handoff, "task")?;
            started(Step::Plan, &agents.planner, None);
            let done = handoff
                .run_first_plan(title, &task, &agents, &mut waiting(&agents.planner))
                .map_err(CommandError::from)?;
            ui::out(&format!("{}\n", done.id));
            finished(&done);
            done.id
        }
        (None, None) => unreachable!("clap requires an ID or a title"),
    };
    loop {
        let session = handoff.store().load(&id)?;
        let Some(step) = drive::next_step(&session) else {
            return match session.state.status {
                Some(Status::Complete) => {
                    ui::status(&format!("loop: {id} is COMPLETE"));
                    Ok(())
                }
                status => Err(CommandError::user(anyhow::anyhow!(
                    "{id} is {}: nothing left to run",
                    status.map_or_else(|| "empty".to_owned(), |s| s.to_string())
                ))),
            };
        };
        let spent = session.state.status == Some(Status::ChangesRequested)
            && drive::rounds(&session, step) >= args.max_rounds;
        if spent {
            let phase = match step {
                Step::Plan | Step::Review => "planning",
                Step::Implement | Step::Validate => "implementation",
            };
            return Err(CommandError::user(anyhow::anyhow!(
                "{id}: the {phase} phase spent its {} round(s) and changes are still requested; the session is left CHANGES_REQUESTED",
                args.max_rounds
            ))
            .hint(format!(
                "read the findings with git handoff show {id}, then {} --max-rounds {}",
                resume_hint(id.as_str()),
                args.max_rounds + 1
            )));
        }
        let agent = match step {
            Step::Plan | Step::Implement => &agents.planner,
            Step::Review | Step::Validate => &agents.reviewer,
        };
        started(step, agent, Some(id.as_str()));
        let done = handoff
            .run_step(&id, step, &agents, &mut waiting(agent))
            .map_err(|e| CommandError::from(e).hint(resume_hint(id.as_str())))?;
        finished(&done);
    }
}

/// Moves this process into the loop's own worktree (created on a new branch from HEAD, or the
/// one an earlier `loop --worktree` of the same session made), named by the session's slug.
fn into_worktree(
    handoff: &git_handoff::workflow::Handoff,
    args: &LoopArgs,
) -> CommandResult<git_handoff::workflow::Handoff> {
    let title = match (&args.id, &args.title) {
        (Some(input), _) => handoff.session(input)?.meta.title,
        (_, Some(title)) => title.clone(),
        (None, None) => unreachable!("clap requires an ID or a title"),
    };
    let slug = git_handoff::session::id::slugify(&title);
    let slug = if slug.is_empty() {
        "loop".to_owned()
    } else {
        slug
    };
    let work = handoff.repo.work_dir().ok_or_else(|| {
        CommandError::user(anyhow::anyhow!(
            "--worktree needs a work tree to branch from"
        ))
    })?;
    let name = work
        .file_name()
        .map_or_else(|| "repo".into(), |n| n.to_string_lossy().into_owned());
    let path = work.with_file_name(format!("{name}-handoff-{slug}"));
    let branch = format!("handoff/{slug}");
    let created = git_handoff::store::worktree::add_worktree(work, &path, &branch)?;
    ui::status(&format!(
        "loop: working in {} on branch {branch}{}",
        path.display(),
        if created { "" } else { " (resumed)" }
    ));
    std::env::set_current_dir(&path)
        .map_err(|e| CommandError::user(anyhow::anyhow!("cannot enter {}: {e}", path.display())))?;
    open()
}

fn started(step: Step, agent: &str, id: Option<&str>) {
    let on = id.map_or_else(|| "a new session".to_owned(), str::to_owned);
    // Agent names come from .handoff.toml, which a clone brings: printed sanitised.
    let agent = ui::sanitize_line(agent);
    ui::status(&format!("loop: {} by {agent} on {on}", step.as_str()));
}

fn finished(done: &drive::Done) {
    let mut line = format!(
        "loop: {} by {} done in {:.1}s",
        done.step.as_str(),
        ui::sanitize_line(&done.agent),
        done.elapsed.as_secs_f64()
    );
    if let Some(verdict) = done.verdict {
        line.push_str(&format!(", {verdict}, {} finding(s)", done.findings));
    }
    if let Some(commit) = &done.committed {
        line.push_str(&format!(", committed {}", &commit[..commit.len().min(12)]));
    }
    if let Some(status) = done.status {
        line.push_str(&format!(" -> {status}"));
    }
    ui::status(&line);
}

fn waiting(agent: &str) -> impl FnMut(Duration) {
    let agent = ui::sanitize_line(agent);
    move |elapsed| {
        ui::status(&format!(
            "loop: still waiting for {agent} ({}s)",
            elapsed.as_secs()
        ));
    }
}
