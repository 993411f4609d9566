//! Human text for sessions. Every stored string passes through [`crate::ui::sanitize`]
//! or [`crate::ui::sanitize_line`]; the JSON shapes live in `git_handoff::views`.

use std::fmt::Write as _;

use git_handoff::session::{Artifact, Finding, Kind, Session};
use git_handoff::store::refs::session_ref;

use crate::ui::{Style, paint, sanitize_line, status_style};

fn status_text(session: &Session) -> String {
    let s = session.state.status.map_or("-", |s| s.as_str());
    paint(s, status_style(s))
}

/// The first 10 characters of an object name, for people (never a byte slice: stored text).
pub fn short_oid(oid: &str) -> String {
    sanitize_line(&oid.chars().take(10).collect::<String>())
}

/// Human `list`: one line per session.
/// One `list` row; `id_width` is the widest ID of the listing, so columns line up (padding is
/// added outside the colour codes, which take no room on screen).
pub fn list_line(
    id: &str,
    id_width: usize,
    status: Option<&str>,
    date: &str,
    title: &str,
) -> String {
    let status = status.unwrap_or("-");
    format!(
        "{}{}  {}{}  {}  {}\n",
        paint(id, Style::Cyan),
        " ".repeat(id_width.saturating_sub(id.chars().count())),
        paint(status, status_style(status)),
        " ".repeat(26_usize.saturating_sub(status.len())),
        sanitize_line(date),
        sanitize_line(title)
    )
}

/// Human `show`.
pub fn show(session: &Session) -> String {
    let mut out = String::new();
    let id = session.meta.id.as_str();
    let _ = writeln!(
        out,
        "{}",
        paint(&sanitize_line(&session.meta.title), Style::Bold)
    );
    let _ = writeln!(out, "session:   {}", paint(id, Style::Cyan));
    let _ = writeln!(out, "status:    {}", status_text(session));
    let _ = writeln!(out, "iteration: {}", session.state.iteration);
    if let Some(base) = &session.meta.base {
        let _ = writeln!(out, "base:      {base}");
    }
    if let Some(work) = session.work() {
        match &work.range {
            Some(range) => {
                let _ = writeln!(out, "range:     {range}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "commits:   {} (not contiguous: {})",
                    work.commits.len(),
                    git_handoff::workflow::work::describe_commits(&work.commits)
                );
            }
        }
    }
    let refname = session
        .refname
        .clone()
        .unwrap_or_else(|| session_ref(&session.meta.id));
    let _ = writeln!(out, "ref:       {}", sanitize_line(&refname));
    if let Some(ahead) = &session.remote_ahead {
        let note = if ahead.fast_forward {
            "shown with the remote's newer artifacts; git handoff pull to take them"
        } else {
            "remote has newer artifacts: pull"
        };
        let _ = writeln!(out, "remote:    {} ({note})", sanitize_line(&ahead.refname));
    }
    let _ = writeln!(out, "\nTimeline");
    for a in &session.artifacts {
        if session.is_retracted(a) {
            let line = format!("{}  [retracted]", timeline_line(a));
            let _ = writeln!(out, "  {}", paint(&line, Style::Dim));
        } else {
            let _ = writeln!(out, "  {}", timeline_line(a));
        }
    }
    if !session.unreadable.is_empty() {
        let _ = writeln!(out, "\nUnreadable artifacts (shown above: the others)");
        for u in &session.unreadable {
            let _ = writeln!(
                out,
                "  {}",
                paint(
                    &sanitize_line(&format!("{}: {}", u.path, u.error)),
                    Style::Red
                )
            );
        }
    }
    let findings: Vec<(&Artifact, &Finding)> = session
        .artifacts
        .iter()
        .flat_map(|a| a.findings.iter().map(move |f| (a, f)))
        .collect();
    if !findings.is_empty() {
        // Only the latest review or validation's findings are open; a later one supersedes
        // the earlier (docs/annotations.md).
        let latest = session
            .artifacts
            .iter()
            .rev()
            .filter(|a| !session.is_retracted(a))
            .find(|a| matches!(a.kind, Kind::Review | Kind::Validation))
            .map(|a| a.id);
        let _ = writeln!(out, "\nFindings");
        for (a, f) in findings {
            let line = finding_line(a, f);
            if Some(a.id) == latest {
                let _ = writeln!(out, "  {line}");
            } else {
                let _ = writeln!(
                    out,
                    "  {}",
                    paint(&format!("{line}  [superseded]"), Style::Dim)
                );
            }
        }
    }
    let _ = writeln!(out, "\n{}", session.state.next_step(id));
    out
}

/// One timeline entry: time, kind, agent, verdict, status.
pub fn timeline_line(a: &Artifact) -> String {
    let mut line = format!(
        "{}  {:<14} {:<8}",
        a.created.format("%Y-%m-%d %H:%M"),
        a.kind.as_str(),
        sanitize_line(&a.agent)
    );
    if let Some(v) = a.verdict {
        let _ = write!(
            line,
            " {}",
            paint(
                v.as_str(),
                if v.is_approval() {
                    Style::Green
                } else {
                    Style::Red
                }
            )
        );
    }
    let _ = write!(
        line,
        " → {}",
        paint(a.status.as_str(), status_style(a.status.as_str()))
    );
    if let Some(r) = &a.range {
        let base = r
            .base
            .as_deref()
            .map_or_else(|| "(root)".to_owned(), short_oid);
        let _ = write!(line, "  [{base}..{}]", short_oid(&r.head));
    } else if !a.commits.is_empty() {
        let _ = write!(line, "  [{} commits]", a.commits.len());
    }
    if a.forced {
        let _ = write!(line, " {}", paint("(forced)", Style::Yellow));
    }
    line
}

/// One finding: priority, location, title.
pub fn finding_line(a: &Artifact, f: &Finding) -> String {
    // Codex titles start with their own tag ("[P1] ..."): the priority is printed once.
    let (title, priority) = match f.priority {
        Some(p) => (sanitize_line(f.untagged_title()), format!("[P{p}] ")),
        None => (sanitize_line(&f.title), String::new()),
    };
    let location = match (&f.path, f.start_line, f.end_line) {
        (Some(p), Some(s), Some(e)) if s != e => format!("{}:{s}-{e}", sanitize_line(p)),
        (Some(p), Some(s), _) => format!("{}:{s}", sanitize_line(p)),
        (Some(p), None, _) => sanitize_line(p),
        _ => "-".to_owned(),
    };
    format!("{priority}{title}  {location} ({})", a.kind)
}
