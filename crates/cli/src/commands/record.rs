//! `plan`, `review`, `implement`, `validate`, `pattern` and `abandon`: the recording commands.

use std::path::PathBuf;

use super::{BodyArgs, open, report_recorded};
use crate::ui;
use git_handoff::error::{CommandResult, user_error};
use git_handoff::session::{Kind, Verdict};
use git_handoff::workflow::Input;
use git_handoff::workflow::findings;

/// Options every recording command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Print the recorded artifact as JSON
    #[arg(long)]
    pub json: bool,
    /// Record even if the session's status does not allow this step now
    #[arg(long)]
    pub force: bool,
    /// Keep secrets found in the text instead of redacting them (they will be pushed)
    #[arg(long)]
    pub allow_secrets: bool,
    /// Agent that produced this (default from config: planner 'claude', reviewer 'codex')
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
}

/// Start a session with a plan, or add the next plan iteration to one
///
/// Prints the new session ID on stdout and the next step for the reviewer on stderr.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Title of the work (becomes the session's slug)
    #[arg(
        short = 't',
        long,
        value_name = "TITLE",
        required_unless_present = "session"
    )]
    pub title: Option<String>,
    /// Where the body comes from.
    #[command(flatten)]
    pub body: BodyArgs,
    /// Base commit the work starts from (default HEAD)
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Add the plan as the next iteration of this session instead of starting one
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Shared recording options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Record a review of the plan
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Where the body comes from.
    #[command(flatten)]
    pub body: BodyArgs,
    /// The verdict (taken from a Codex review's overall_correctness when omitted)
    #[arg(long, value_name = "VERDICT", value_parser = parse_verdict)]
    pub verdict: Option<Verdict>,
    /// Findings: a JSON array of findings, or a Codex review output object
    #[arg(long, value_name = "FILE.json")]
    pub findings: Option<PathBuf>,
    /// Shared recording options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Record a validation of the implementation's commits
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// What a review takes too.
    #[command(flatten)]
    pub judgement: ReviewArgs,
    /// Commits the validation covers, in git's revision forms (A..B, A^!, "B ^X", several
    /// revisions separated by spaces; default: the implementation's commits)
    #[arg(long, value_name = "REVS")]
    pub range: Option<String>,
}

/// Record the implementation and note every one of its commits
///
/// A session is its commits: by default those that carry its Handoff-Session trailer (made
/// while it was current) on this branch since it was planned, plus the commits of its last
/// implementation as amend and rebase rewrote them. Another session's commits and upstream
/// work are never taken, and pushing the branch changes nothing.
#[derive(Debug, clap::Args)]
pub struct ImplementArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Where the body comes from.
    #[command(flatten)]
    pub body: BodyArgs,
    /// Commits the implementation produced, in git's revision forms (A..B, A^!, "B ^X",
    /// several revisions separated by spaces; default: the session's own commits)
    #[arg(long, value_name = "REVS")]
    pub range: Option<String>,
    /// Shared recording options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Record a validated, reusable pattern from a COMPLETE session
#[derive(Debug, clap::Args)]
pub struct PatternArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Where the body comes from.
    #[command(flatten)]
    pub body: BodyArgs,
    /// Shared recording options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Abandon a session (from any status)
#[derive(Debug, clap::Args)]
pub struct AbandonArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Why it is abandoned
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub message: Vec<String>,
    /// Print the recorded artifact as JSON
    #[arg(long)]
    pub json: bool,
    /// Keep secrets found in the text instead of redacting them
    #[arg(long)]
    pub allow_secrets: bool,
}

fn parse_verdict(s: &str) -> Result<Verdict, String> {
    s.parse()
}

fn input(kind: Kind, body: String, common: &CommonArgs) -> Input {
    Input {
        agent: common.agent.clone(),
        force: common.force,
        allow_secrets: common.allow_secrets,
        ..Input::new(kind, body)
    }
}

/// `git handoff plan`.
pub fn plan(args: &PlanArgs) -> CommandResult {
    let handoff = open()?;
    // Resolve the session before asking for a body, so a typo does not cost an editor session.
    let existing = args
        .session
        .as_deref()
        .map(|s| handoff.resolve(s))
        .transpose()?;
    let body = args.body.read(&handoff, "plan")?;
    let input = input(Kind::Plan, body, &args.common);
    let recorded = match &existing {
        Some(id) => handoff.record(id, input),
        None => {
            let title = args.title.as_deref().unwrap_or_default();
            handoff.start(title, args.base.as_deref(), input)
        }
    }?;
    let id = recorded.artifact.session.as_str();
    if existing.is_none() {
        // The planner usually implements next: its commits get the session's trailer, unless
        // another unfinished session is current (its commits must not change hands).
        match handoff.offer_current(&recorded.artifact.session) {
            Ok(git_handoff::workflow::current::Offer::Kept(other)) => ui::status(&format!(
                "{other} stays current (new commits get its trailer); to work on {id}: git handoff start {id}"
            )),
            Ok(_) => {}
            Err(e) => ui::warn(&format!("could not make {id} current: {e}")),
        }
    }
    if !args.common.json {
        ui::out(&format!("{id}\n"));
    }
    report_recorded(&recorded, args.common.json)?;
    if !args.common.json {
        ui::status(&format!(
            "for the reviewer: git handoff context {id} --for review | codex exec -"
        ));
    }
    Ok(())
}

/// `git handoff review` and `git handoff validate`.
pub fn review(args: &ReviewArgs) -> CommandResult {
    judge(args, Kind::Review, None)
}

/// `git handoff validate`.
pub fn validate(args: &ValidateArgs) -> CommandResult {
    judge(&args.judgement, Kind::Validation, args.range.as_deref())
}

/// Records a review or a validation.
fn judge(args: &ReviewArgs, kind: Kind, range: Option<&str>) -> CommandResult {
    let handoff = open()?;
    let id = handoff.resolve(&args.id)?;
    let parsed = match &args.findings {
        Some(path) => {
            let bytes = if path.as_os_str() == "-" {
                crate::body::read_bounded(std::io::stdin(), "the findings on standard input")
            } else {
                crate::body::read_file_bounded(path)
            }
            .map_err(|e| user_error(format!("cannot read the findings: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                user_error(format!(
                    "the findings in '{}' are not UTF-8 text",
                    path.display()
                ))
            })?;
            let parsed = findings::parse(&text, handoff.repo.work_dir())
                .map_err(|e| user_error(format!("{}: {e}", path.display())))?;
            for w in &parsed.warnings {
                ui::warn(w);
            }
            parsed
        }
        None => findings::Parsed::default(),
    };
    let verdict = args.verdict.or(parsed.verdict).ok_or_else(|| {
        user_error(format!(
            "{} {kind} needs a verdict: --verdict approve|approve-with-changes|request-changes|reject", kind.article()
        ))
    })?;
    let reads_stdin_for_findings = args.findings.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let body = if args.body.file.is_none()
        && args.body.message.is_empty()
        && (parsed.explanation.is_some() || reads_stdin_for_findings)
    {
        parsed.explanation.clone().unwrap_or_default()
    } else {
        args.body.read(&handoff, kind.as_str())?
    };
    let mut input = input(kind, body, &args.common);
    input.verdict = Some(verdict);
    input.findings = parsed.findings;
    input.range = range.map(str::to_owned);
    let recorded = handoff.record(&id, input)?;
    report_recorded(&recorded, args.common.json)
}

/// `git handoff implement`.
pub fn implement(args: &ImplementArgs) -> CommandResult {
    let handoff = open()?;
    let id = handoff.resolve(&args.id)?;
    if let Some(range) = &args.range {
        handoff.work_of_spec(range)?;
    }
    let body = args.body.read(&handoff, "implementation summary")?;
    let mut input = input(Kind::Implementation, body, &args.common);
    input.range.clone_from(&args.range);
    let recorded = handoff.record(&id, input)?;
    report_recorded(&recorded, args.common.json)
}

/// `git handoff pattern`.
pub fn pattern(args: &PatternArgs) -> CommandResult {
    let handoff = open()?;
    let id = handoff.resolve(&args.id)?;
    let body = args.body.read(&handoff, "pattern")?;
    let recorded = handoff.record(&id, input(Kind::Pattern, body, &args.common))?;
    report_recorded(&recorded, args.common.json)
}

/// `git handoff abandon`.
pub fn abandon(args: &AbandonArgs) -> CommandResult {
    let handoff = open()?;
    let id = handoff.resolve(&args.id)?;
    let reason = args.message.join("\n\n");
    let recorded = handoff.abandon(&id, &reason, args.allow_secrets)?;
    report_recorded(&recorded, args.json)
}
