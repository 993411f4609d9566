//! `git handoff context`.

use super::open;
use crate::ui;
use git_handoff::error::{CommandError, CommandResult};
use git_handoff::workflow::prompt::{self, Purpose};

/// Print a self-contained prompt for the next agent
///
/// The seed's header with the session ID, the plan, every review, and for validation the real
/// diff of the session's commits: `git diff base..head` when they are contiguous, each commit's
/// patch in order when other work sits between them (capped at context.max-diff-bytes, with a
/// note when cut). Pipe it to an
/// agent: git handoff context ID --for review | codex exec -
#[derive(Debug, clap::Args)]
pub struct ContextArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Who the prompt is for: review, implement or validate (default: the step the session's
    /// status asks for)
    #[arg(long = "for", value_name = "STEP", value_parser = parse_purpose)]
    pub purpose: Option<Purpose>,
    /// Largest diff to embed, in bytes (default from config: context.max-diff-bytes)
    #[arg(long, value_name = "BYTES")]
    pub max_diff_bytes: Option<usize>,
    /// Print {session, for, prompt, diff_truncated} as JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_purpose(s: &str) -> Result<Purpose, String> {
    match s {
        "review" => Ok(Purpose::Review),
        "implement" => Ok(Purpose::Implement),
        "validate" => Ok(Purpose::Validate),
        _ => Err(format!(
            "unknown step '{s}' (expected review, implement or validate)"
        )),
    }
}

/// Runs `context`.
pub fn run(args: &ContextArgs) -> CommandResult {
    let handoff = open()?;
    let session = handoff.session(&args.id)?;
    let purpose = args
        .purpose
        .unwrap_or_else(|| Purpose::for_status(&session.state));
    let max = args
        .max_diff_bytes
        .unwrap_or(handoff.config.context.max_diff_bytes);
    let diff = match purpose {
        Purpose::Validate | Purpose::Implement => handoff.work_diff(&session, max)?,
        Purpose::Review => None,
    };
    if purpose == Purpose::Validate && diff.is_none() {
        ui::warn("no implementation recorded yet, so there is no diff to validate");
    }
    if diff.as_ref().is_some_and(|(_, d)| d.truncated) {
        ui::warn(&format!(
            "the diff is larger than {max} bytes and was cut; see the note at its end"
        ));
    }
    if purpose == Purpose::Implement {
        // Whoever asks for the implementation instructions is about to commit for this session.
        let id = &session.meta.id;
        // What is untracked already is not the implementation's work (for the stop gate).
        git_handoff::workflow::baseline::note(
            handoff.repo.common_dir(),
            handoff.repo.run_dir(),
            id,
        );
        match git_handoff::workflow::current::get(&handoff.repo) {
            Some(current) if &current == id => {}
            previous => {
                let place = git_handoff::workflow::current::set(&handoff.repo, id)
                    .map_err(|e| CommandError::user(anyhow::anyhow!("making {id} current: {e}")))?;
                let was = previous.map(|p| format!(" (was {p})")).unwrap_or_default();
                ui::status(&format!(
                    "{id} is now current on {}: new commits there get its trailer{was}",
                    git_handoff::workflow::current::place_name(&place)
                ));
            }
        }
    }
    let text = prompt::build(&session, purpose, diff.as_ref());
    if args.json {
        ui::json(&git_handoff::views::ContextView {
            session: session.meta.id.as_str(),
            purpose: match purpose {
                Purpose::Review => "review",
                Purpose::Implement => "implement",
                Purpose::Validate => "validate",
            },
            prompt: text,
            diff_truncated: diff.is_some_and(|(_, d)| d.truncated),
        })?;
    } else {
        ui::out(&ui::sanitize(&text));
    }
    Ok(())
}
