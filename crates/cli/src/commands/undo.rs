//! `git handoff undo`.

use super::open;
use crate::ui;
use git_handoff::error::{CommandError, CommandResult};

/// Take back the last artifact of a session that has not been pushed
///
/// While no remote has the artifact, the session ref moves back one commit: the artifact
/// disappears from the session and its status is replayed without it, while the ref's reflog
/// keeps it (git reflog refs/handoff/sessions/<ID>). Once pushed, shared history is not
/// rewritten: a retraction is recorded instead (a note that every clone's replay honours). A
/// session's first plan cannot be undone (abandon it), nor a merge of two clones' work. The
/// note lines an implementation or validation added to its commits are taken back with it. A
/// second undo in a row on the same session needs --force.
#[derive(Debug, clap::Args)]
pub struct UndoArgs {
    /// Session: full ID, random part, unique prefix or slug (default: the current session)
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Take back one more artifact right after an undo
    #[arg(long)]
    pub force: bool,
    /// Print what was taken back as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `undo`.
pub fn run(args: &UndoArgs) -> CommandResult {
    let handoff = open()?;
    let id = match &args.id {
        Some(input) => handoff.resolve(input)?,
        None => git_handoff::workflow::current::get(&handoff.repo).ok_or_else(|| {
            CommandError::user(anyhow::anyhow!(
                "no session is current; name one: git handoff undo ID"
            ))
        })?,
    };
    let undone = handoff.undo(&id, args.force)?;
    let status = undone.session.state.status.map(|s| s.as_str());
    if args.json {
        return Ok(ui::json(&serde_json::json!({
            "session": id.as_str(),
            "undone": git_handoff::views::artifact_view(&undone.artifact),
            "retraction": undone.retraction.as_ref().map(git_handoff::views::artifact_view),
            "notes_removed": undone.notes_removed,
            "status": status,
            "next": undone.session.state.next_command(id.as_str()),
        }))?);
    }
    let how = if undone.retraction.is_some() {
        "it was pushed already, so a retraction takes back"
    } else {
        "took back"
    };
    let first_line = undone
        .artifact
        .body
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    ui::status(&format!(
        "{how} {} {} {} of {id} ({}, {}); status {}",
        undone.artifact.kind.article(),
        undone.artifact.kind,
        undone.artifact.id,
        ui::sanitize_line(&undone.artifact.agent),
        ui::sanitize(&git_handoff::session::codec::excerpt_n(first_line, 60)),
        status.unwrap_or("-")
    ));
    if undone.notes_removed > 0 {
        ui::status(&format!(
            "took its note line back from {} commit(s)",
            undone.notes_removed
        ));
    }
    ui::status(&undone.session.state.next_step(id.as_str()));
    Ok(())
}
