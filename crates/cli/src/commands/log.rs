//! `git handoff log`.

use super::open;
use crate::render;
use crate::ui::{self, sanitize};
use git_handoff::error::CommandResult;
use git_handoff::session::Artifact;

/// Show a session's artifact history, oldest first
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Print the history as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `log`.
pub fn run(args: &LogArgs) -> CommandResult {
    let handoff = open()?;
    let session = handoff.session(&args.id)?;
    if args.json {
        ui::json(&git_handoff::views::LogView {
            session: session.meta.id.as_str(),
            artifacts: session
                .artifacts
                .iter()
                .map(git_handoff::views::artifact_view)
                .collect(),
        })?;
        return Ok(());
    }
    let mut out = format!(
        "{}  {}\n{}, iteration {}, {} artifact(s)\n\n",
        ui::paint(session.meta.id.as_str(), ui::Style::Cyan),
        ui::paint(
            &crate::ui::sanitize_line(&session.meta.title),
            ui::Style::Bold
        ),
        session.state.status.map_or("-", |s| s.as_str()),
        session.state.iteration,
        session.artifacts.len()
    );
    for a in &session.artifacts {
        out.push_str(&entry(a));
    }
    ui::out(&out);
    Ok(())
}

fn entry(a: &Artifact) -> String {
    let mut out = format!(
        "{}  (iteration {})\n{}\nAuthor: {}\n\n",
        ui::paint(&format!("artifact {}", a.id), ui::Style::Yellow),
        a.iteration,
        render::timeline_line(a),
        sanitize(&a.author)
    );
    for line in a.body.lines() {
        out.push_str("    ");
        out.push_str(&sanitize(line));
        out.push('\n');
    }
    for f in &a.findings {
        out.push_str("    - ");
        out.push_str(&render::finding_line(a, f));
        out.push('\n');
    }
    out.push('\n');
    out
}
