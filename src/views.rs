//! The `--json` shapes: one set of types, owned by the core and shared by every front end
//! (the CLI's `--json`, the MCP server). They are a contract with users' scripts, held by
//! snapshot tests (docs/format.md describes what is stored; this module what is printed).

use serde::Serialize;

use crate::session::{Artifact, Session};
use crate::store::refs::session_ref;

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
