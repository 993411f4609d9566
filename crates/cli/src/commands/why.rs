//! `git handoff why`.

use super::open;
use crate::ui::{self, Style, paint};
use git_handoff::error::CommandResult;
use git_handoff::workflow::why::{self, Source};

/// Show which sessions produced a commit
///
/// Reads refs/notes/handoff first, then Handoff-Session: trailers in the commit message, and
/// prints each session's plan title, verdicts and status.
#[derive(Debug, clap::Args)]
pub struct WhyArgs {
    /// The commit (any revision git understands)
    #[arg(default_value = "HEAD")]
    pub rev: String,
    /// Print {commit, sessions: [...]} as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `why`.
pub fn run(args: &WhyArgs) -> CommandResult {
    let handoff = open()?;
    let commit = handoff.repo.resolve_commit(&args.rev)?;
    let links = why::lookup(&handoff.store(), commit)?;
    let sessions: Vec<git_handoff::views::LinkView> = links
        .into_iter()
        .map(|l| {
            let (title, status, verdicts, error) = match &l.session {
                Ok(s) => (
                    Some(s.meta.title.clone()),
                    s.state.status.map(|s| s.as_str()),
                    s.artifacts
                        .iter()
                        .filter_map(|a| {
                            a.verdict.map(|v| git_handoff::views::VerdictView {
                                kind: a.kind,
                                verdict: v,
                                agent: a.agent.clone(),
                            })
                        })
                        .collect(),
                    None,
                ),
                Err(e) => (None, None, Vec::new(), Some(e.to_string())),
            };
            git_handoff::views::LinkView {
                id: l.id.to_string(),
                source: l.source,
                kinds: l.kinds,
                title,
                status,
                verdicts,
                error,
            }
        })
        .collect();
    if args.json {
        ui::json(&git_handoff::views::WhyView {
            commit: commit.to_string(),
            sessions,
        })?;
        return Ok(());
    }
    if sessions.is_empty() {
        ui::status(&format!("no handoff session is linked to {commit}"));
        super::hint_remote_sessions(&handoff);
        return Ok(());
    }
    let mut out = String::new();
    for s in &sessions {
        let via = match s.source {
            Source::Note => format!(
                "note: {}",
                s.kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Source::Trailer => "commit trailer".to_owned(),
        };
        out.push_str(&format!("{}  ({via})\n", paint(&s.id, Style::Cyan)));
        match (&s.title, &s.error) {
            (Some(title), _) => {
                out.push_str(&format!(
                    "  plan:     {}\n",
                    crate::ui::sanitize_line(title)
                ));
                out.push_str(&format!("  status:   {}\n", s.status.unwrap_or("-")));
                for v in &s.verdicts {
                    out.push_str(&format!(
                        "  {:<9} {} ({})\n",
                        format!("{}:", v.kind),
                        v.verdict,
                        crate::ui::sanitize_line(&v.agent)
                    ));
                }
            }
            (None, Some(err)) => {
                out.push_str(&format!(
                    "  cannot read the session: {}\n",
                    crate::ui::sanitize_line(err)
                ));
            }
            (None, None) => {}
        }
    }
    ui::out(&out);
    Ok(())
}
