//! `git handoff sync`.

use super::open;
use crate::ui::{self, sanitize, sanitize_line};
use git_handoff::error::{CommandError, CommandResult, ErrorKind};
use git_handoff::sync::{self, SyncReport};

/// Send new and changed artifacts to the Byterover index
///
/// Renders every artifact the index does not have yet as one self-contained text in the seed's
/// format (session ID in the title and last line, a [TYPE: ...] [AGENT: ...] [STATUS: ...] tag
/// line, the commit range and diffstat, the ref it came from), redacts secrets again, and sends
/// it to the backend set in [byterover] of .handoff.toml: an MCP server (Byterover's, `brv
/// mcp`, ...) or ByteRover's local context tree. A journal under .git/handoff/ remembers what the
/// index acknowledged: a sync with nothing new contacts nothing, a sync cut short resumes, and
/// an artifact whose text changed is sent again as its next version. What fails stays queued
/// for the next sync, and the command exits 1 with what was and was not sent.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Print exactly what would be sent (after redaction) and contact nothing
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: show what this backend (mcp or brv) would be sent, whatever [byterover]
    /// backend says (its default, off, sends nothing), to see it before configuring one
    #[arg(long, value_name = "NAME", value_parser = ["mcp", "brv"], requires = "dry_run")]
    pub backend: Option<String>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `sync`.
pub fn run(args: &SyncArgs) -> CommandResult {
    let handoff = open()?;
    let mut config = handoff.config.byterover.clone();
    if let Some(name) = &args.backend {
        config.backend = match name.as_str() {
            "brv" => git_handoff::config::BackendKind::Brv,
            _ => git_handoff::config::BackendKind::Mcp,
        };
    }
    let mut backend = sync::backend(
        &config,
        handoff.repo.work_dir(),
        crate::network::connector(),
    )?;
    let report = sync::sync(
        &handoff,
        backend.as_mut(),
        args.dry_run,
        &mut ui::progress("syncing artifacts"),
    )?;
    print(&report, args.json)?;
    if report.failed > 0 {
        return Err(CommandError::new(
            ErrorKind::Remote,
            anyhow::anyhow!(
                "{} of {} artifact(s) not sent to {}; they stay queued",
                report.failed,
                report.failed + report.sent,
                sanitize_line(&report.backend)
            ),
        )
        .hint("run 'git handoff sync' again once the index answers"));
    }
    Ok(())
}

/// Prints a sync report (also after `push` when `sync-after-push` is set).
pub fn print(report: &SyncReport, json: bool) -> anyhow::Result<()> {
    for w in &report.warnings {
        ui::warn(&sanitize_line(w));
    }
    for u in &report.unreadable {
        ui::warn(&format!(
            "not synced: {}: {}",
            sanitize_line(&u.refname),
            sanitize_line(&u.error)
        ));
    }
    if json {
        return ui::json(report);
    }
    if report.dry_run {
        let mut out = String::new();
        for d in &report.documents {
            out.push_str(&format!(
                "=== {} {} {} (version {})\n{}\n",
                d.session,
                d.kind,
                d.artifact,
                d.version,
                sanitize(d.text.as_deref().unwrap_or_default())
            ));
        }
        ui::out(&out);
        ui::status(&format!(
            "dry run: {} artifact(s) would be sent to {}; {} session(s) already there",
            report.documents.len(),
            sanitize_line(&report.backend),
            report.unchanged_sessions
        ));
        return Ok(());
    }
    for d in report.documents.iter().filter(|d| d.error.is_some()) {
        ui::warn(&format!(
            "not sent: {} {} {}: {}",
            d.session,
            d.kind,
            d.artifact,
            sanitize_line(d.error.as_deref().unwrap_or_default())
        ));
    }
    if report.redactions > 0 {
        ui::warn(&format!(
            "{} secret(s) redacted from the texts before sending",
            report.redactions
        ));
    }
    if report.sent == 0 && report.failed == 0 {
        ui::status(&format!(
            "nothing new for {} ({} session(s) up to date)",
            sanitize_line(&report.backend),
            report.unchanged_sessions
        ));
    } else {
        ui::status(&format!(
            "sent {} artifact(s) to {}, {} failed",
            report.sent,
            sanitize_line(&report.backend),
            report.failed
        ));
    }
    Ok(())
}
