//! `git handoff show`.

use super::open;
use crate::render;
use crate::ui;
use git_handoff::error::CommandResult;

/// Show a session: title, status, timeline of artifacts, commit range and findings
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Print the session, with every artifact and its body, as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `show`.
pub fn run(args: &ShowArgs) -> CommandResult {
    let handoff = open()?;
    let session = handoff.session(&args.id)?;
    if args.json {
        ui::json(&git_handoff::views::detail(&session))?;
    } else {
        ui::out(&render::show(&session));
    }
    Ok(())
}
