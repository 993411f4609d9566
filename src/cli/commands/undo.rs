//! `git handoff undo`.

use super::open;
use crate::cli::ui;
use git_handoff::error::{CommandError, CommandResult};

/// Take back the last artifact of a session that has not been pushed
///
/// While no remote has the artifact, the session ref moves back one commit: the artifact
/// disappears from the session and its status is replayed without it, while the ref's reflog
/// keeps it (git reflog refs/handoff/sessions/<ID>). Once pushed, shared history is not
/// rewritten: a retraction is recorded instead (a note that every clone's replay honours). A
/// session's first plan cannot be undone (abandon it), nor a merge of two clones' work. Notes
/// the artifact added stay.
#[derive(Debug, clap::Args)]
pub struct UndoArgs {
    /// Session: full ID, random part, unique prefix or slug (default: the current session)
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Print what was taken back as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `undo`.
pub fn run(args: &UndoArgs) -> CommandResult {
    let handoff = open()?;
    let id = match &args.id {
        Some(input) => handoff.resolve(input)?,
        None => {
            git_handoff::workflow::current::get(handoff.repo.common_dir()).ok_or_else(|| {
                CommandError::user(anyhow::anyhow!(
                    "no session is current; name one: git handoff undo ID"
                ))
            })?
        }
    };
    let undone = handoff.undo(&id)?;
    let status = undone.session.state.status.map(|s| s.as_str());
    if args.json {
        return Ok(ui::json(&serde_json::json!({
            "session": id.as_str(),
            "undone": git_handoff::views::artifact_view(&undone.artifact),
            "retraction": undone.retraction.as_ref().map(git_handoff::views::artifact_view),
            "status": status,
            "next": undone.session.state.next_command(id.as_str()),
        }))?);
    }
    let how = if undone.retraction.is_some() {
        "it was pushed already, so a retraction takes back"
    } else {
        "took back"
    };
    ui::status(&format!(
        "{how} {} {} {} of {id}; status {}",
        undone.artifact.kind.article(),
        undone.artifact.kind,
        undone.artifact.id,
        status.unwrap_or("-")
    ));
    ui::status(&undone.session.state.next_step(id.as_str()));
    Ok(())
}
