//! The `--json` shapes: one set of types, owned by the core and shared by every front end
//! (the CLI's `--json`, the MCP server). They are a contract with users' scripts, held by
//! snapshot tests (docs/format.md describes what is stored; this module what is printed).

use std::borrow::Cow;

use serde::Serialize;

use crate::session::{Artifact, Kind, Session, Verdict};
use crate::store::refs::session_ref;
use crate::workflow::repair::Relink;
use crate::workflow::why::Source;

/// One line of `list --json`, the summary in `show --json`: the one shape of a session's
/// summary, built from a loaded session ([`summary`]) or borrowed from an index row as it is
/// read (`list --json` writes 100,000 rows without copying their text).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary<'a> {
    /// Full session ID.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Derived status (`null` only for a session with no artifacts).
    pub status: Option<&'a str>,
    /// Plan iteration.
    pub iteration: u32,
    /// Creation time.
    pub created: Cow<'a, str>,
    /// Time of the latest artifact.
    pub updated: Cow<'a, str>,
    /// Base commit recorded at planning.
    pub base: Option<&'a str>,
    /// Head of the latest recorded range.
    pub head: Option<&'a str>,
    /// Number of artifacts.
    pub artifacts: usize,
    /// Agents that contributed.
    pub agents: Vec<Cow<'a, str>>,
    /// The ref holding the session.
    #[serde(rename = "ref")]
    pub refname: Cow<'a, str>,
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
    /// Latest recorded range, `base..head`, when the session's commits are contiguous.
    pub range: Option<String>,
    /// The session's commits as last recorded (full object names, oldest first).
    pub commits: Vec<&'a str>,
    /// A remote's tracking ref with artifacts the local ref lacks, `null` when none.
    pub remote_ahead: Option<&'a crate::session::RemoteAhead>,
    /// The command that moves the session on, `null` when nothing follows.
    pub next: Option<String>,
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
        created: rfc3339(session.meta.created).into(),
        updated: rfc3339(session.updated()).into(),
        base: session.meta.base.as_deref(),
        head: session
            .work()
            .and_then(|w| w.range.as_ref().map(|r| &r.head).or(w.commits.last()))
            .map(|h| h.as_str()),
        artifacts: session.artifacts.len(),
        agents: session.agents().into_iter().map(Cow::Borrowed).collect(),
        refname: session
            .refname
            .as_deref()
            .map_or_else(|| session_ref(&session.meta.id).into(), Cow::Borrowed),
        tip: session.tip.as_deref().unwrap_or_default(),
    }
}

/// Builds the detail view of a session.
pub fn detail(session: &Session) -> Detail<'_> {
    Detail {
        summary: summary(session),
        range: session.range().map(ToString::to_string),
        commits: session
            .work()
            .map(|w| w.commits.iter().map(|c| c.as_str()).collect())
            .unwrap_or_default(),
        remote_ahead: session.remote_ahead.as_ref(),
        next: session.state.next_command(session.meta.id.as_str()),
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

/// What `repair --json` prints.
#[derive(Debug, Serialize)]
pub struct RepairView<'a> {
    /// `relinked`.
    pub relinked: &'a [Relink],
    /// `dry_run`.
    pub dry_run: bool,
    /// Tracking refs renamed because their names carried a URL's credentials.
    pub credential_refs_renamed: usize,
}

/// What `init --json` prints.
#[derive(Debug, Serialize)]
pub struct InitView {
    /// `config_set`.
    pub config_set: Vec<String>,
    /// `wrote_repo_file`.
    pub wrote_repo_file: bool,
    /// `hooks`.
    pub hooks: Vec<crate::hooks::install::Change>,
    /// `agents` (with `--agents`): `.mcp.json`, `.claude/settings.local.json` and the skill
    /// files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<crate::init::AgentFile>,
    /// With `--agents`: the Codex `config.toml` table that registers the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codex_config: Option<String>,
    /// With `--agents`: the `claude -p` arguments that allow the server's tools in scripts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claude_allowed_tools: Option<String>,
}

/// What `reindex --json` prints.
#[derive(Debug, Serialize)]
pub struct ReindexView {
    /// `sessions`.
    pub sessions: usize,
    /// `bytes`.
    pub bytes: u64,
}

/// What `search --json` (and the MCP search tools) print.
#[derive(Debug, Serialize)]
pub struct SearchView<'a> {
    /// `query`.
    pub query: &'a str,
    /// `results`, best first.
    pub results: Vec<SearchHit>,
}

/// One search result as printed: the snippet as plain text with the matches as offsets, and a
/// score that grows with relevance (the index makes it from its own hit:
/// [`crate::index::search_view`]).
#[derive(Debug, Serialize)]
pub struct SearchHit {
    /// Where the match is.
    #[serde(flatten)]
    pub found: Found,
    /// Text around the matches.
    pub snippet: String,
    /// Where the matches are in `snippet`: `[start, end)` UTF-8 byte offsets.
    pub matches: Vec<[usize; 2]>,
    /// Relevance, 0 or more, higher first (BM25 with the column weights of the index).
    pub score: f64,
}

/// The artifact a search matched, as the index keeps it and as `search --json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Found {
    /// Session ID.
    pub session: String,
    /// Artifact ULID.
    pub artifact: String,
    /// Artifact kind.
    pub kind: String,
    /// Artifact agent.
    pub agent: String,
    /// The session's current status.
    pub status: Option<String>,
    /// The session's title.
    pub title: String,
}

/// What `why --json` prints: the commit and the sessions linked to it.
#[derive(Debug, Serialize)]
pub struct WhyView {
    /// `commit`.
    pub commit: String,
    /// `sessions`.
    pub sessions: Vec<LinkView>,
}

/// One session linked to a commit, in `why --json`.
#[derive(Debug, Serialize)]
pub struct LinkView {
    /// `id`.
    pub id: String,
    /// `source`.
    pub source: Source,
    /// `kinds`.
    pub kinds: Vec<Kind>,
    /// `title`.
    pub title: Option<String>,
    /// `status`.
    pub status: Option<&'static str>,
    /// `verdicts`.
    pub verdicts: Vec<VerdictView>,
    /// `error`.
    pub error: Option<String>,
}

/// One verdict of a linked session, in `why --json`.
#[derive(Debug, Serialize)]
pub struct VerdictView {
    /// `kind`.
    pub kind: Kind,
    /// `verdict`.
    pub verdict: Verdict,
    /// `agent`.
    pub agent: String,
}

/// What `context --json` prints.
#[derive(Debug, Serialize)]
pub struct ContextView<'a> {
    /// `session`.
    pub session: &'a str,
    #[serde(rename = "for")]
    /// `purpose`.
    pub purpose: &'static str,
    /// `prompt`.
    pub prompt: String,
    /// `diff_truncated`.
    pub diff_truncated: bool,
}

/// What `log --json` prints.
#[derive(Debug, Serialize)]
pub struct LogView<'a> {
    /// `session`.
    pub session: &'a str,
    /// `artifacts`.
    pub artifacts: Vec<crate::views::ArtifactView<'a>>,
}

/// What every recording command (`plan`, `review`, `implement`, ...) prints with `--json`.
#[derive(Debug, Serialize)]
pub struct RecordedView<'a> {
    /// `session`.
    pub session: &'a str,
    /// `status`.
    pub status: &'static str,
    /// The command that moves the session on, `null` when nothing follows.
    pub next: Option<String>,
    /// The next step as a sentence, for people.
    #[serde(skip)]
    pub next_text: String,
    /// `artifact`.
    pub artifact: crate::views::ArtifactView<'a>,
    /// `redacted`.
    pub redacted: &'a [&'static str],
    /// `commits_in_range`.
    pub commits_in_range: usize,
    /// `notes_added`.
    pub notes_added: usize,
    /// `warnings`.
    pub warnings: &'a [String],
}

/// The view of a recorded artifact, shared by the CLI's `--json` and the MCP tools.
pub fn recorded(recorded: &crate::workflow::Recorded) -> RecordedView<'_> {
    let a = &recorded.artifact;
    let after = crate::session::State {
        status: Some(a.status),
        changes_requested_by: (a.status == crate::session::Status::ChangesRequested)
            .then_some(a.kind),
        iteration: a.iteration,
        patterns: u32::from(a.kind == crate::session::Kind::Pattern),
    };
    RecordedView {
        session: a.session.as_str(),
        status: a.status.as_str(),
        next: after.next_command(a.session.as_str()),
        next_text: after.next_step(a.session.as_str()),
        artifact: artifact_view(a),
        redacted: &recorded.redactions,
        commits_in_range: recorded.range_commits,
        notes_added: recorded.notes_added,
        warnings: &recorded.warnings,
    }
}

/// What `diff --json` prints.
#[derive(Debug, Serialize)]
pub struct DiffView<'a> {
    /// `session`.
    pub session: &'a str,
    /// `kind`.
    pub kind: Kind,
    /// `from`.
    pub from: ulid::Ulid,
    /// `to`.
    pub to: ulid::Ulid,
    /// `diff`.
    pub diff: String,
}

/// What `status --json` prints.
#[derive(Debug, Serialize)]
pub struct StatusView<'a> {
    /// `current`.
    pub current: Option<CurrentView<'a>>,
    /// `initialized`.
    pub initialized: bool,
    /// `remote`.
    pub remote: Option<&'a str>,
    /// `unpushed`: refs with local artifacts or notes the remote lacks.
    pub unpushed: Vec<String>,
    /// Refs the remote is ahead of (fetched, not merged yet: `git handoff pull`).
    pub behind: Vec<String>,
    /// Where HEAD is: `refs/heads/NAME`, or `HEAD` / `HEAD@WORKTREE` when detached.
    pub head: String,
    /// Sessions current on other branches (or worktrees), as `{place, id}`.
    pub elsewhere: Vec<PlaceView>,
}

/// A session current on some branch, in `status --json`.
#[derive(Debug, Serialize)]
pub struct PlaceView {
    /// `refs/heads/NAME`, `HEAD`, `HEAD@WORKTREE`, or `*` (every branch, as older versions
    /// recorded it).
    pub place: String,
    /// The session.
    pub id: String,
}

/// The current session, in `status --json`.
#[derive(Debug, Serialize)]
pub struct CurrentView<'a> {
    /// `id`.
    pub id: String,
    /// `title`.
    pub title: Option<&'a str>,
    /// `status`.
    pub status: Option<&'static str>,
    /// The command that moves the session on, `null` when nothing follows.
    pub next: Option<String>,
    /// The next step as a sentence, for people.
    #[serde(skip)]
    pub next_text: Option<String>,
    /// `error`.
    pub error: Option<String>,
}
