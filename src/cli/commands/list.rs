//! `git handoff list`.

use chrono::{DateTime, NaiveDate, Utc};

use super::open;
use crate::cli::render;
use crate::cli::ui;
use git_handoff::error::CommandResult;
use git_handoff::index::{self, Filter, SessionRow};
use git_handoff::session::{Kind, Status};

/// List sessions, newest first
///
/// Served from the local index (refreshed from the refs first, so sessions fetched with plain
/// git appear at once). A session that cannot be read (malformed, or from a newer
/// git-handoff) is reported on stderr, and under "errors" with --json; it never hides the
/// others.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Which sessions.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// At most this many sessions (the newest)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print {"sessions": [...], "errors": [...]} as JSON
    #[arg(long)]
    pub json: bool,
}

/// Filters shared by `list` and `search`.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only sessions with this status (e.g. AWAITING_CODEX_REVIEW, complete)
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Option<Status>,
    /// Only work by this agent (case-insensitive)
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
    /// Only work on or after DATE (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Only artifacts (or sessions holding artifacts) of this kind
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<Kind>,
}

impl FilterArgs {
    /// The library filter.
    pub fn filter(&self, limit: Option<usize>) -> Filter {
        Filter {
            status: self.status,
            agent: self.agent.clone(),
            since: self.since,
            kind: self.kind,
            limit,
        }
    }
}

fn parse_status(s: &str) -> Result<Status, String> {
    s.parse()
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    s.parse()
}

/// Parses `--since`: a date (midnight UTC) or an RFC 3339 time.
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("'{s}' is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// Opens and refreshes the index for a read command.
pub fn refreshed_index(handoff: &git_handoff::workflow::Handoff) -> CommandResult<index::Index> {
    Ok(index::open_refreshed(
        &handoff.store(),
        &mut |line| ui::status(line),
        &mut ui::progress("indexing sessions"),
    )?)
}

/// Runs `list`.
pub fn run(args: &ListArgs) -> CommandResult {
    let handoff = open()?;
    let index = refreshed_index(&handoff)?;
    let listing = index.list(&args.filter.filter(args.limit))?;
    for e in &listing.errors {
        ui::warn(&format!(
            "cannot read {}: {}",
            ui::sanitize_line(&e.refname),
            ui::sanitize_line(&e.error)
        ));
    }
    if args.json {
        ui::json(&listing)?;
        return Ok(());
    }
    let text: String = listing.sessions.iter().map(line).collect();
    ui::out(&text);
    if listing.sessions.is_empty() && listing.errors.is_empty() {
        ui::status("no sessions yet; start one with: git handoff plan -t TITLE");
    }
    Ok(())
}

fn line(row: &SessionRow) -> String {
    render::list_line(
        &row.id,
        row.status.as_deref(),
        row.updated.get(..10).unwrap_or(&row.updated),
        &row.title,
    )
}
