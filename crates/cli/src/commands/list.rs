//! `git handoff list`.

use chrono::{DateTime, NaiveDate, Utc};

use super::open;
use crate::render;
use crate::ui;
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
    /// Print {"sessions": [...], "errors": [...]} as JSON, one session per line
    #[arg(long)]
    pub json: bool,
}

/// Filters shared by `list` and `search`. Several values of one filter (repeated, or
/// comma-separated) match any of them.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only sessions with this status: AWAITING_CODEX_REVIEW, READY_FOR_IMPLEMENTATION,
    /// READY_FOR_CODEX_VALIDATION, COMPLETE, CHANGES_REQUESTED, ABANDONED (any case; several:
    /// repeat or comma-separate)
    #[arg(long, value_name = "STATUS", value_parser = super::status_parser(), value_delimiter = ',')]
    pub status: Vec<Status>,
    /// Only work by this agent (any case; several: repeat or comma-separate)
    #[arg(long, value_name = "AGENT", value_delimiter = ',')]
    pub agent: Vec<String>,
    /// Only work on or after DATE: 2026-11-01, an RFC 3339 time, now, today, yesterday, or
    /// "N minutes|hours|days|weeks|months|years ago"
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<DateTime<Utc>>,
    /// Only work on or before DATE (same forms as --since)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub until: Option<DateTime<Utc>>,
    /// Only artifacts (or sessions holding artifacts) of this kind: plan, review,
    /// implementation, validation, pattern, note (several: repeat or comma-separate)
    #[arg(long, value_name = "KIND", value_parser = super::kind_parser(), value_delimiter = ',')]
    pub kind: Vec<Kind>,
}

impl FilterArgs {
    /// The library filter.
    pub fn filter(&self, limit: Option<usize>) -> Filter {
        Filter {
            status: self.status.clone(),
            agent: self.agent.clone(),
            since: self.since,
            until: self.until,
            kind: self.kind.clone(),
            limit,
        }
    }
}

/// Parses `--since` and `--until` as git reads dates, in the forms people type: a date
/// (midnight UTC), a date and time, an RFC 3339 time, `now`, `today`, `yesterday`, or
/// `N <unit>s ago` (a month is 30 days, a year 365).
pub fn parse_date(s: &str) -> Result<DateTime<Utc>, String> {
    let text = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    if let Some(t) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t.and_utc());
    }
    let now = git_handoff::clock::now();
    let midnight = |t: DateTime<Utc>| {
        t.date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(t, |m| m.and_utc())
    };
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "now" => return Ok(now),
        "today" => return Ok(midnight(now)),
        "yesterday" => return Ok(midnight(now - chrono::Duration::days(1))),
        _ => {}
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    if let [n, unit, "ago"] = words.as_slice()
        && let Ok(n) = n.parse::<i64>()
    {
        let seconds = match unit.trim_end_matches('s') {
            "second" | "sec" => Some(1),
            "minute" | "min" => Some(60),
            "hour" => Some(3_600),
            "day" => Some(86_400),
            "week" => Some(7 * 86_400),
            "month" => Some(30 * 86_400),
            "year" => Some(365 * 86_400),
            _ => None,
        };
        if let Some(span) = seconds
            .and_then(|s| n.checked_mul(s))
            .and_then(chrono::Duration::try_seconds)
            && let Some(t) = now.checked_sub_signed(span)
        {
            return Ok(t);
        }
    }
    Err(format!(
        "'{s}' is not a date: use 2026-11-01, an RFC 3339 time, now, today, yesterday or \"3 days ago\""
    ))
}

/// Runs `list`.
pub fn run(args: &ListArgs) -> CommandResult {
    let handoff = open()?;
    let store = handoff.store();
    let filter = args.filter.filter(args.limit);
    if args.json {
        return json_listing(&store, &filter);
    }
    let (errors, listing) = index::read_with_rebuild(
        &store,
        &mut |line| ui::status(line),
        &mut ui::progress("indexing sessions"),
        |index| Ok((index.list_errors()?, index.list(&filter)?)),
    )?;
    warn_of(&errors);
    let width = listing
        .sessions
        .iter()
        .map(|r| r.id.chars().count())
        .max()
        .unwrap_or(0);
    let text: String = listing.sessions.iter().map(|r| line(r, width)).collect();
    ui::out(&text);
    if listing.sessions.is_empty() && listing.errors.is_empty() {
        if args.filter.filter(None).is_unfiltered() {
            ui::status("no sessions yet; start one with: git handoff plan -t TITLE");
            super::hint_remote_sessions(&handoff);
        } else {
            ui::status("no session matches these filters");
        }
    }
    Ok(())
}

fn warn_of(errors: &[index::SessionError]) {
    for e in errors {
        ui::warn(&format!(
            "cannot read {}: {}",
            ui::sanitize_line(&e.refname),
            ui::sanitize_line(&e.error)
        ));
    }
}

/// How much of a JSON listing is held back before it streams: damage found in the index while
/// the output is still held costs a rebuild and a second try; later, the index is discarded for
/// the next command to rebuild, and this one fails cleanly.
const HELD_BACK: usize = 1 << 20;

/// `list --json`, streamed (see [`write_json`]) after the first [`HELD_BACK`] bytes.
fn json_listing(store: &git_handoff::store::Store<'_>, filter: &index::Filter) -> CommandResult {
    let mut notice = |line: &str| ui::status(line);
    let mut progress = ui::progress("indexing sessions");
    let mut index = index::open_refreshed(store, &mut notice, &mut progress)?;
    for attempt in 0..2 {
        let errors = match index.list_errors() {
            Err(e) if attempt == 0 && index::is_corruption(&e) => {
                notice(&format!("rebuilding the search index ({e})"));
                index = index.reset()?;
                index.refresh(store, &mut progress)?;
                continue;
            }
            other => other?,
        };
        warn_of(&errors);
        let mut held = Vec::new();
        let mut spilled = false;
        let result = ui::out_streamed(|out| {
            let mut writer = HeldBack {
                held: &mut held,
                out,
                spilled: &mut spilled,
            };
            write_json(&mut writer, &index, filter, &errors)?;
            writer.release()?;
            Ok(())
        });
        let damage = result.as_ref().err().and_then(|e| {
            e.chain()
                .find_map(|c| c.downcast_ref::<index::Error>())
                .filter(|e| index::is_corruption(e))
                .map(ToString::to_string)
        });
        match (damage, spilled) {
            (None, _) => return Ok(result?),
            (Some(damage), false) if attempt == 0 => {
                notice(&format!("rebuilding the search index ({damage})"));
                index = index.reset()?;
                index.refresh(store, &mut progress)?;
            }
            (Some(damage), _) => {
                index.discard()?;
                return Err(git_handoff::error::CommandError::user(anyhow::anyhow!(
                    "the search index was found damaged partway through the listing ({damage}); it was discarded"
                ))
                .hint("run the command again: the index is rebuilt from the refs"));
            }
        }
    }
    Ok(())
}

/// A writer that holds the first [`HELD_BACK`] bytes, then passes everything through.
struct HeldBack<'a> {
    held: &'a mut Vec<u8>,
    out: &'a mut dyn std::io::Write,
    spilled: &'a mut bool,
}

impl HeldBack<'_> {
    /// Writes what is held (at the end of a listing that fitted).
    fn release(&mut self) -> std::io::Result<()> {
        if !self.held.is_empty() {
            self.out.write_all(self.held)?;
            self.held.clear();
        }
        Ok(())
    }
}

impl std::io::Write for HeldBack<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if *self.spilled {
            return self.out.write(buf);
        }
        self.held.extend_from_slice(buf);
        if self.held.len() > HELD_BACK {
            *self.spilled = true;
            self.release()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if *self.spilled {
            self.out.flush()
        } else {
            Ok(())
        }
    }
}

/// `{"sessions": [...], "errors": [...]}` with one session (or error) per line, written as the
/// rows are read: 100,000 sessions stream in flat memory, and a line-oriented tool can still
/// take the output apart.
fn write_json(
    out: &mut dyn std::io::Write,
    index: &index::Index,
    filter: &index::Filter,
    errors: &[index::SessionError],
) -> anyhow::Result<()> {
    out.write_all(b"{\n  \"sessions\": [")?;
    // Each line is serialized into one reused buffer and written whole: serde_json writes a
    // row in a few dozen small pieces, cheap into a Vec, not through `dyn Write` (10k rows:
    // about a tenth of the command's CPU time).
    let mut line = Vec::with_capacity(1024);
    let mut first = true;
    index.list_each(filter, |row| {
        line.clear();
        line.extend_from_slice(if first { b"\n    " } else { b",\n    " });
        first = false;
        serde_json::to_writer(&mut line, &row).map_err(std::io::Error::from)?;
        out.write_all(&line)
    })??;
    out.write_all(if first { b"],\n" } else { b"\n  ],\n" })?;
    out.write_all(b"  \"errors\": [")?;
    for (i, e) in errors.iter().enumerate() {
        out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *out, e)?;
    }
    out.write_all(if errors.is_empty() {
        b"]\n}\n"
    } else {
        b"\n  ]\n}\n"
    })?;
    Ok(())
}

fn line(row: &SessionRow, width: usize) -> String {
    render::list_line(
        &row.id,
        width,
        row.status.as_deref(),
        row.updated.get(..10).unwrap_or(&row.updated),
        &row.title,
    )
}
