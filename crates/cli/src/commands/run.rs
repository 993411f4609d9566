//! `git handoff run` and `git handoff schema`.

use std::time::Duration;

use super::{open, report_recorded};
use crate::ui;
use git_handoff::error::{CommandError, CommandResult, ErrorKind};
use git_handoff::session::Kind;
use git_handoff::workflow::Input;
use git_handoff::workflow::agent::{self, Preset, RunOptions};
use git_handoff::workflow::prompt::{self, Purpose};

/// Run the reviewing agent on a session and record its answer
///
/// Builds the `context` prompt (for a validation: with the real diff), runs the agent with the
/// prompt on its standard input, and records its answer as the review or validation, with the
/// verdict and findings. codex runs `codex exec --sandbox read-only --output-schema FILE -o FILE -`;
/// claude runs `claude -p --output-format json --json-schema SCHEMA`; other agents are
/// configured under [agents.commands]. An agent that fails, times out or answers something that
/// is not a review records nothing, and its output is kept in a file the error names.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// What the agent does: review (the plan) or validate (the implementation's diff)
    #[arg(value_parser = ["review", "validate"])]
    pub step: String,
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// The agent: codex, claude, or a name under [agents.commands] (default: agents.reviewer)
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
fn parse_duration(text: &str) -> Result<Duration, String> {
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
    let id = handoff.resolve(&args.id)?;
    let session = handoff.store().load(&id)?;
    let (kind, purpose) = match args.step.as_str() {
        "review" => (Kind::Review, Purpose::Review),
        _ => (Kind::Validation, Purpose::Validate),
    };
    // Refuse before spending minutes of an agent's time on a step the session cannot take.
    session
        .state
        .check(kind, id.as_str())
        .map_err(git_handoff::store::Error::from)?;
    let diff = match purpose {
        Purpose::Validate => handoff.work_diff(&session, handoff.config.context.max_diff_bytes)?,
        _ => None,
    };
    let text = prompt::build(&session, purpose, diff.as_ref());
    let name = args
        .agent
        .clone()
        .unwrap_or_else(|| handoff.config.agents.reviewer.clone());
    let preset =
        Preset::for_agent(&name, &handoff.config.agents.commands).map_err(CommandError::user)?;
    let options = RunOptions {
        agent: name.clone(),
        work_dir: handoff.repo.run_dir().to_path_buf(),
        scratch: handoff.repo.common_dir().join("handoff").join("runs"),
        timeout: args.timeout,
    };
    ui::status(&format!(
        "running {name} on {id} ({}; up to {:?})",
        args.step, args.timeout
    ));
    let answer = agent::run(&preset, &text, &options, &mut |elapsed| {
        ui::status(&format!(
            "still waiting for {name} ({}s)",
            elapsed.as_secs()
        ));
    })
    .map_err(|e| match e {
        agent::Error::Unknown(_) => CommandError::user(e),
        _ => CommandError::new(ErrorKind::Remote, e),
    })?;
    let mut input = Input::new(kind, answer.body);
    input.agent = Some(name);
    input.verdict = Some(answer.verdict);
    input.findings = answer.findings;
    input.allow_secrets = args.allow_secrets;
    let recorded = handoff.record(&id, input)?;
    report_recorded(&recorded, args.json)
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
