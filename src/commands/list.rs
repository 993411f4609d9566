//! `git handoff list`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::open;
use crate::error::{CommandResult, user_error};
use crate::render::{self, Summary};
use crate::session::{Kind, Session, Status};
use crate::ui;

/// List sessions, newest first
///
/// A session that cannot be read (malformed or from a newer git-handoff) is reported on
/// stderr, and under "errors" with --json; it never hides the others.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only sessions with this status (e.g. AWAITING_CODEX_REVIEW, complete)
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Option<Status>,
    /// Only sessions an agent contributed to
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
    /// Only sessions updated on or after DATE (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Only sessions holding an artifact of this kind
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Print {"sessions": [...], "errors": [...]} as JSON
    #[arg(long)]
    pub json: bool,
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

#[derive(Serialize)]
struct ListJson<'a> {
    sessions: Vec<Summary<'a>>,
    errors: Vec<ErrorJson>,
}

#[derive(Serialize)]
struct ErrorJson {
    #[serde(rename = "ref")]
    refname: String,
    error: String,
}

impl ListArgs {
    fn keeps(&self, s: &Session) -> bool {
        self.status.is_none_or(|st| s.state.status == Some(st))
            && self
                .agent
                .as_deref()
                .is_none_or(|a| s.artifacts.iter().any(|x| x.agent.eq_ignore_ascii_case(a)))
            && self.since.is_none_or(|t| s.updated() >= t)
            && self
                .kind
                .is_none_or(|k| s.artifacts.iter().any(|x| x.kind == k))
    }
}

/// Runs `list`.
pub fn run(args: &ListArgs) -> CommandResult {
    let handoff = open()?;
    let listed = handoff.store().list().map_err(user_error)?;
    let mut sessions = Vec::new();
    let mut errors = Vec::new();
    for entry in listed {
        match entry.result {
            Ok(s) => sessions.push(s),
            Err(e) => errors.push(ErrorJson {
                refname: entry.refname,
                error: e.to_string(),
            }),
        }
    }
    sessions.retain(|s| args.keeps(s));
    sessions.sort_by(|a, b| {
        b.updated()
            .cmp(&a.updated())
            .then_with(|| b.meta.id.cmp(&a.meta.id))
    });
    for e in &errors {
        ui::warn(&format!(
            "cannot read {}: {}",
            ui::sanitize(&e.refname),
            ui::sanitize(&e.error)
        ));
    }
    if args.json {
        ui::json(&ListJson {
            sessions: sessions.iter().map(render::summary).collect(),
            errors,
        })?;
    } else {
        let text: String = sessions.iter().map(render::list_line).collect();
        ui::out(&text);
        if sessions.is_empty() && errors.is_empty() {
            ui::status("no sessions yet; start one with: git handoff plan -t TITLE");
        }
    }
    Ok(())
}
