//! How sessions look: JSON views (the stable `--json` contract) and human text. Human text
//! passes stored strings through [`crate::ui::sanitize`]; JSON escapes control characters
//! itself.

use std::fmt::Write as _;

use serde::Serialize;

use crate::session::{Artifact, Finding, Session};
use crate::store::refs::session_ref;
use crate::ui::{Style, paint, sanitize_line, status_style};

/// One line of `list --json`.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    /// Full session ID.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Derived status (`null` only for a session with no artifacts).
    pub status: Option<&'static str>,
    /// Plan iteration.
    pub iteration: u32,
    /// Creation time.
    pub created: String,
    /// Time of the latest artifact.
    pub updated: String,
    /// Base commit recorded at planning.
    pub base: Option<&'a str>,
    /// Head of the latest recorded range.
    pub head: Option<&'a str>,
    /// Number of artifacts.
    pub artifacts: usize,
    /// Agents that contributed.
    pub agents: Vec<&'a str>,
    /// The ref holding the session.
    #[serde(rename = "ref")]
    pub refname: String,
    /// The ref's tip.
    pub tip: &'a str,
}

/// An artifact with its body, for JSON.
#[derive(Debug, Serialize)]
pub struct ArtifactView<'a> {
    /// Front matter fields.
    #[serde(flatten)]
    pub artifact: &'a Artifact,
    /// Path inside the session tree.
    pub path: String,
    /// Markdown body.
    pub body: &'a str,
}

/// `show --json`.
#[derive(Debug, Serialize)]
pub struct Detail<'a> {
    /// Summary fields.
    #[serde(flatten)]
    pub summary: Summary<'a>,
    /// Latest recorded range, `base..head`.
    pub range: Option<String>,
    /// The next step, as a sentence.
    pub next: String,
    /// Every artifact in order.
    pub timeline: Vec<ArtifactView<'a>>,
    /// Artifact files that could not be read, and why (the rest is shown).
    pub unreadable: &'a [crate::session::Unreadable],
}

/// Builds the summary of a session.
pub fn summary(session: &Session) -> Summary<'_> {
    Summary {
        id: session.meta.id.as_str(),
        title: &session.meta.title,
        status: session.state.status.map(|s| s.as_str()),
        iteration: session.state.iteration,
        created: rfc3339(session.meta.created),
        updated: rfc3339(session.updated()),
        base: session.meta.base.as_deref(),
        head: session.range().map(|r| r.head.as_str()),
        artifacts: session.artifacts.len(),
        agents: session.agents(),
        refname: session_ref(&session.meta.id),
        tip: &session.tip,
    }
}

/// Builds the detail view of a session.
pub fn detail(session: &Session) -> Detail<'_> {
    Detail {
        summary: summary(session),
        range: session.range().map(ToString::to_string),
        next: session.state.next_step(session.meta.id.as_str()),
        timeline: session.artifacts.iter().map(artifact_view).collect(),
        unreadable: &session.unreadable,
    }
}

/// The JSON view of one artifact.
pub fn artifact_view(a: &Artifact) -> ArtifactView<'_> {
    ArtifactView {
        artifact: a,
        path: format!("artifacts/{}", a.file_name()),
        body: &a.body,
    }
}

/// Times as we print them: RFC 3339, UTC, milliseconds.
pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn status_text(session: &Session) -> String {
    let s = session.state.status.map_or("-", |s| s.as_str());
    paint(s, status_style(s))
}

/// The first 10 characters of an object name, for people (never a byte slice: stored text).
pub fn short_oid(oid: &str) -> String {
    sanitize_line(&oid.chars().take(10).collect::<String>())
}

/// Human `list`: one line per session.
pub fn list_line(id: &str, status: Option<&str>, date: &str, title: &str) -> String {
    let status = status.unwrap_or("-");
    format!(
        "{}  {:<26}  {}  {}\n",
        paint(id, Style::Cyan),
        paint(status, status_style(status)),
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
    if let Some(range) = session.range() {
        let _ = writeln!(out, "range:     {range}");
    }
    let _ = writeln!(out, "ref:       {}", session_ref(&session.meta.id));
    let _ = writeln!(out, "\nTimeline");
    for a in &session.artifacts {
        let _ = writeln!(out, "  {}", timeline_line(a));
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
        let _ = writeln!(out, "\nFindings");
        for (a, f) in findings {
            let _ = writeln!(out, "  {}", finding_line(a, f));
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
    }
    if a.forced {
        let _ = write!(line, " {}", paint("(forced)", Style::Yellow));
    }
    line
}

/// One finding: priority, location, title.
pub fn finding_line(a: &Artifact, f: &Finding) -> String {
    let title = sanitize_line(&f.title);
    // Codex titles already start with their tag ("[P1] ..."): do not print it twice.
    let priority = match f.priority {
        Some(p) if title.starts_with(&format!("[P{p}]")) => String::new(),
        Some(p) => format!("[P{p}] "),
        None => String::new(),
    };
    let location = match (&f.path, f.start_line, f.end_line) {
        (Some(p), Some(s), Some(e)) if s != e => format!("{}:{s}-{e}", sanitize_line(p)),
        (Some(p), Some(s), _) => format!("{}:{s}", sanitize_line(p)),
        (Some(p), None, _) => sanitize_line(p),
        _ => "-".to_owned(),
    };
    format!("{priority}{title}  {location} ({})", a.kind)
}
