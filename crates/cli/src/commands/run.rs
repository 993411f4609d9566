//! `git handoff run` and `git handoff schema`.

use std::time::Duration;

use super::{BodyArgs, open, report_recorded};
use crate::ui;
use git_handoff::error::{CommandError, CommandResult};
use git_handoff::workflow::agent;
use git_handoff::workflow::drive::{Agents, Step};

/// Run an agent for one step of a session and record its answer
///
/// review and validate run the reviewer (default agents.reviewer) on the `context` prompt (for a
/// validation: with the real diff) and record its review or validation, with the verdict and
/// findings: codex runs `codex exec --sandbox read-only --output-schema FILE -o FILE -`, claude
/// `claude -p --output-format json --json-schema SCHEMA`. plan runs the planner (default
/// agents.planner) read-only (`claude -p --permission-mode plan`, `codex exec --sandbox
/// read-only`) on the task (`run plan -t TITLE -m TASK` starts a session) or, for a session the
/// reviewer sent back, on its latest plan and every review (`run plan ID`), and records its
/// answer as the plan. implement makes the session current, runs the planner with edits allowed
/// in this work tree (`claude -p --permission-mode acceptEdits`, `codex exec --sandbox
/// workspace-write`), commits what it left uncommitted with the session's trailer, and records
/// the implementation with its answer as the summary. Other agents are configured under
/// [agents.commands] (prompt on standard input, markdown on standard output). An agent that
/// fails, times out or answers nothing usable records nothing, and its output is kept in a file
/// the error names.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The step: plan, review (the plan), implement, or validate (the implementation's diff)
    #[arg(value_parser = ["plan", "review", "implement", "validate"])]
    pub step: String,
    /// Session: full ID, random part, unique prefix or slug (plan without one starts a session)
    #[arg(required_unless_present = "title")]
    pub id: Option<String>,
    /// Title of a new session (run plan only)
    #[arg(short = 't', long, value_name = "TITLE", conflicts_with = "id")]
    pub title: Option<String>,
    /// The task a new session's plan is for (run plan -t only).
    #[command(flatten)]
    pub task: BodyArgs,
    /// The agent: codex, claude, or a name under [agents.commands] (default: agents.planner
    /// for plan and implement, agents.reviewer for review and validate)
    #[arg(long)]
    pub agent: Option<String>,
    /// How long the agent may run: 90s, 20m, 1h
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "20m")]
    pub timeout: Duration,
    /// Keep secrets the agent quoted instead of redacting them
    #[arg(long)]
    pub allow_secrets: bool,
    /// Print what was recorded as JSON
    #[arg(long)]
    pub json: bool,
}

/// Print the JSON schema of a structured review answer
///
/// The shape Codex's own reviews use; pass it to `codex exec --output-schema FILE`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which schema
    #[arg(value_parser = ["review"])]
    pub which: String,
}

/// Parses `90s`, `20m`, `1h` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (90s, 20m, 1h)"))?;
    let seconds = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => return Err(format!("'{text}' is not a duration (90s, 20m, 1h)")),
    };
    seconds
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' is too long a duration"))
}

/// Runs `schema`.
pub fn schema(_args: &SchemaArgs) -> CommandResult {
    ui::out(agent::REVIEW_SCHEMA);
    Ok(())
}

/// Runs `run`.
pub fn run(args: &RunArgs) -> CommandResult {
    let handoff = open()?;
    let step = match args.step.as_str() {
        "plan" => Step::Plan,
        "review" => Step::Review,
        "implement" => Step::Implement,
        _ => Step::Validate,
    };
    let agent = args.agent.clone().unwrap_or_else(|| match step {
        Step::Plan | Step::Implement => handoff.config.agents.planner.clone(),
        Step::Review | Step::Validate => handoff.config.agents.reviewer.clone(),
    });
    let agents = Agents {
        planner: agent.clone(),
        reviewer: agent.clone(),
        timeout: args.timeout,
        allow_secrets: args.allow_secrets,
    };
    // Agent names come from .handoff.toml, which a clone brings: printed sanitised.
    let shown = ui::sanitize_line(&agent);
    let mut waiting = |elapsed: Duration| {
        ui::status(&format!(
            "still waiting for {shown} ({}s)",
            elapsed.as_secs()
        ));
    };
    let done = match (&args.id, &args.title) {
        (None, Some(title)) => {
            if step != Step::Plan {
                return Err(CommandError::user(anyhow::anyhow!(
                    "-t starts a session, which only `run plan` does: name the session instead"
                )));
            }
            let task = args.task.read(&handoff, "task")?;
            ui::status(&format!(
                "running {shown}: a plan for a new session (up to {:?})",
                args.timeout
            ));
            handoff.run_first_plan(title, &task, &agents, &mut waiting)?
        }
        (Some(input), _) => {
            let id = handoff.resolve(input)?;
            ui::status(&format!(
                "running {shown} on {id} ({}; up to {:?})",
                args.step, args.timeout
            ));
            handoff.run_step(&id, step, &agents, &mut waiting)?
        }
        (None, None) => unreachable!("clap requires an ID or a title"),
    };
    if let Some(commit) = &done.committed {
        ui::status(&format!(
            "committed what {shown} left in the work tree: {}",
            &commit[..commit.len().min(12)]
        ));
    }
    if args.json {
        report_recorded(&done.recorded, true)?;
        return print_id_if_new(&done, args);
    }
    report_recorded(&done.recorded, false)?;
    print_id_if_new(&done, args)
}

/// A new session's ID on standard output (as `plan` prints it), for scripts.
fn print_id_if_new(done: &git_handoff::workflow::drive::Done, args: &RunArgs) -> CommandResult {
    if args.id.is_none() && !args.json {
        ui::out(&format!("{}\n", done.id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit_and_never_an_overflow() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("20m"), Ok(Duration::from_secs(1200)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert!(parse_duration("99999999999999999h").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("").is_err());
    }
}
