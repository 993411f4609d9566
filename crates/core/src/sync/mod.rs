//! `git handoff sync` and `search --remote`: Byterover (or any MCP memory, or ByteRover's local
//! context tree) as the searchable index of the artifacts, with git as the source of truth
//! (docs/byterover.md).
//!
//! Each artifact is rendered as one self-contained text ([`render`]), redacted again, and sent
//! through a [`backend::Backend`]; the [`journal`] records what each index acknowledged, so a
//! sync with nothing new makes no call and a sync cut short resumes where it stopped. Nothing
//! here is needed for local work: with `[byterover] backend = "off"` no command contacts
//! anything.

pub mod backend;
pub mod brv;
pub mod journal;
pub mod mcp;
pub mod render;

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use sha2::Digest as _;

use crate::config::{BackendKind, Byterover};
use crate::session::{Kind, SessionId};
use crate::workflow::Handoff;
use backend::{Backend, Fault, RemoteHit};
use render::Document;

/// The variable that overrides `[byterover] url`.
pub const URL_ENV: &str = "GIT_HANDOFF_BYTEROVER_URL";

/// Why a sync or a remote search could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `[byterover] backend = "off"`.
    #[error("no Byterover backend is configured ([byterover] backend = \"off\")")]
    NotConfigured,
    /// The index refused or could not be reached before anything was sent.
    #[error("{0}")]
    Backend(#[from] Fault),
    /// Reading sessions failed.
    #[error(transparent)]
    Store(#[from] Box<crate::store::Error>),
    /// Reading the repository failed.
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] journal::Error),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// The backend `config` names, for the repository whose work tree is `workdir`; the `mcp`
/// backend comes from `mcp` (the network crate's client).
pub fn backend(
    config: &Byterover,
    workdir: Option<&std::path::Path>,
    mcp: &dyn mcp::Connector,
) -> Result<Box<dyn Backend>> {
    match config.backend {
        BackendKind::Off => Err(Error::NotConfigured),
        BackendKind::Mcp => {
            let endpoint = if config.command.is_empty() {
                let url = std::env::var(URL_ENV)
                    .ok()
                    .filter(|u| !u.trim().is_empty())
                    .unwrap_or_else(|| config.url.clone());
                mcp::Endpoint::Http {
                    url,
                    token: std::env::var(&config.token_env)
                        .ok()
                        .filter(|t| !t.trim().is_empty()),
                    token_env: config.token_env.clone(),
                }
            } else {
                mcp::Endpoint::Stdio {
                    command: config.command.clone(),
                }
            };
            Ok(mcp.connect(mcp::Settings {
                endpoint,
                store_tool: config.store_tool.clone(),
                retrieve_tool: config.retrieve_tool.clone(),
                store_args: config.store_args.clone(),
                retrieve_args: config.retrieve_args.clone(),
                timeout: Duration::from_secs(config.timeout.max(1)),
                concurrency: config.concurrency.max(1),
                retries: config.retries,
                backoff: Duration::from_millis(config.retry_backoff_ms),
                deadline: Duration::from_secs(config.deadline.max(1)),
                max_timeouts: config.max_timeouts.max(1),
            })?)
        }
        BackendKind::Brv => {
            let Some(workdir) = workdir else {
                return Err(Fault::Local(
                    "the brv backend needs a work tree (ByteRover keeps its context tree in .brv/)"
                        .to_owned(),
                )
                .into());
            };
            Ok(Box::new(brv::BrvBackend::new(
                workdir.to_path_buf(),
                config.brv_command.clone(),
                config.brv_push,
                Duration::from_secs(config.timeout.max(1)),
            )))
        }
    }
}

/// One document on its way, with what the journal needs.
#[derive(Debug, Clone)]
struct Outgoing {
    doc: Document,
    hash: String,
    refname: String,
}

/// What a sync would send.
struct Pending {
    outgoing: Vec<Outgoing>,
    /// Sessions read because their tip moved: ref, tip, and whether any of their artifacts
    /// needs sending.
    sessions: Vec<(String, String)>,
    /// Sessions not read: their tip is the one the index has.
    unchanged: usize,
    /// Sessions that could not be read (reported, skipped).
    unreadable: Vec<(String, String)>,
    /// Secrets replaced in the rendered texts.
    redactions: usize,
}

/// One document as a sync reports it.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    /// Session ID.
    pub session: String,
    /// Artifact ULID.
    pub artifact: String,
    /// Artifact kind.
    pub kind: String,
    /// Version of its text at the index.
    pub version: u32,
    /// The text exactly as sent (only with `--dry-run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why it was not sent (it stays queued).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What `sync` did (`sync --json`).
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The index, as the journal names it.
    pub backend: String,
    /// Whether nothing was sent on purpose.
    pub dry_run: bool,
    /// Documents acknowledged by the index in this run.
    pub sent: usize,
    /// Documents that failed; they are sent again by the next sync.
    pub failed: usize,
    /// Sessions whose tip the index already has (not read).
    pub unchanged_sessions: usize,
    /// Secrets replaced in the texts before they were sent.
    pub redactions: usize,
    /// Each document sent, failed or (dry run) to send.
    pub documents: Vec<DocumentView>,
    /// Sessions that could not be read, and why.
    pub unreadable: Vec<DocumentError>,
    /// Things the user should know (a damaged journal set aside).
    pub warnings: Vec<String>,
}

/// A session that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentError {
    /// The ref.
    #[serde(rename = "ref")]
    pub refname: String,
    /// Why.
    pub error: String,
}

/// Sends what the index does not have yet. `dry_run` reports the texts instead and contacts
/// nothing; so does a sync with nothing new. A document that fails stays queued for the next
/// sync (the report says which and why); the caller decides the exit code from
/// [`SyncReport::failed`].
pub fn sync(
    handoff: &Handoff,
    backend: &mut dyn Backend,
    dry_run: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport> {
    let (journal, rebuilt) = journal::Journal::open_or_rebuild(handoff.repo.common_dir())?;
    let key = backend.key();
    let pending = pending(handoff, &journal, &key)?;
    let mut report = SyncReport {
        backend: key.clone(),
        dry_run,
        sent: 0,
        failed: 0,
        unchanged_sessions: pending.unchanged,
        redactions: pending.redactions,
        documents: Vec::new(),
        unreadable: pending
            .unreadable
            .iter()
            .map(|(refname, error)| DocumentError {
                refname: refname.clone(),
                error: error.clone(),
            })
            .collect(),
        warnings: rebuilt.into_iter().collect(),
    };
    if dry_run {
        report.documents = pending
            .outgoing
            .iter()
            .map(|o| view(&o.doc, Some(o.doc.text.clone()), None))
            .collect();
        return Ok(report);
    }
    let mut acknowledged = vec![false; pending.outgoing.len()];
    if !pending.outgoing.is_empty() {
        backend.preflight()?;
        let docs: Vec<Document> = pending.outgoing.iter().map(|o| o.doc.clone()).collect();
        let total = docs.len();
        let now = crate::views::rfc3339(crate::clock::now());
        let mut journal_error = None;
        let mut done = 0;
        backend.store(&docs, &mut |i, outcome| {
            done += 1;
            progress(done, total);
            let o = &pending.outgoing[i];
            match outcome {
                Ok(()) => {
                    if let Err(e) = journal.acknowledge(
                        &key,
                        &o.doc.session,
                        &o.doc.artifact,
                        &o.hash,
                        o.doc.version,
                        &now,
                    ) {
                        journal_error.get_or_insert(e);
                    }
                    acknowledged[i] = true;
                    report.sent += 1;
                    report.documents.push(view(&o.doc, None, None));
                }
                Err(fault) => {
                    report.failed += 1;
                    report
                        .documents
                        .push(view(&o.doc, None, Some(fault.to_string())));
                }
            }
        });
        if let Some(e) = journal_error {
            return Err(e.into());
        }
    }
    // A session is synced at its tip once every text it needed is acknowledged.
    for (refname, tip) in &pending.sessions {
        let complete = pending
            .outgoing
            .iter()
            .zip(&acknowledged)
            .all(|(o, ack)| *ack || &o.refname != refname);
        if complete {
            journal.session_synced(&key, refname, tip)?;
        }
    }
    report.documents.sort_by(|a, b| {
        (a.error.is_none(), &a.session, &a.artifact).cmp(&(
            b.error.is_none(),
            &b.session,
            &b.artifact,
        ))
    });
    Ok(report)
}

fn view(doc: &Document, text: Option<String>, error: Option<String>) -> DocumentView {
    DocumentView {
        session: doc.session.clone(),
        artifact: doc.artifact.clone(),
        kind: doc.kind.as_str().to_owned(),
        version: doc.version,
        text,
        error,
    }
}

/// Reads the sessions whose tip moved since the index had them and renders what it lacks.
fn pending(handoff: &Handoff, journal: &journal::Journal, key: &str) -> Result<Pending> {
    let store = handoff.store();
    let refs = store.session_refs().map_err(Box::new)?;
    let synced = journal.synced_tips(key)?;
    let mut pending = Pending {
        outgoing: Vec::new(),
        sessions: Vec::new(),
        unchanged: 0,
        unreadable: Vec::new(),
        redactions: 0,
    };
    let mut changed = Vec::new();
    for (refname, tip) in refs {
        let tip_text = tip.to_string();
        if synced.get(&refname) == Some(&tip_text) {
            pending.unchanged += 1;
            continue;
        }
        match refname.rsplit('/').next().map(SessionId::parse) {
            Some(Ok(id)) => changed.push((refname, tip_text, id, tip)),
            _ => pending
                .unreadable
                .push((refname.clone(), "odd ref name".to_owned())),
        }
    }
    let ids: Vec<(SessionId, crate::git::Oid)> = changed
        .iter()
        .map(|(_, _, id, tip)| (id.clone(), *tip))
        .collect();
    let loaded = store.load_many(&ids);
    let mut stats: HashMap<String, Option<String>> = HashMap::new();
    for ((refname, tip, _, _), session) in changed.into_iter().zip(loaded) {
        let session = match session {
            Ok(session) => session,
            Err(e) => {
                pending.unreadable.push((refname, e.to_string()));
                continue;
            }
        };
        for artifact in &session.artifacts {
            let stat = match &artifact.range {
                Some(range) => stats
                    .entry(range.to_string())
                    .or_insert_with(|| handoff.repo.range_stat(range).ok())
                    .clone(),
                None => None,
            };
            let (text, found) =
                crate::redact::redact(&render::text(&session, artifact, stat.as_deref()));
            pending.redactions += found.len();
            let hash = hex(&sha2::Sha256::digest(text.as_bytes()));
            let artifact_id = artifact.id.to_string();
            let version = match journal.sent(key, &artifact_id)? {
                Some(sent) if sent.hash == hash => continue,
                Some(sent) => sent.version + 1,
                None => 1,
            };
            pending.outgoing.push(Outgoing {
                doc: Document {
                    session: session.meta.id.to_string(),
                    artifact: artifact_id,
                    kind: artifact.kind,
                    title: session.meta.title.clone(),
                    version,
                    text: render::versioned(&text, version),
                },
                hash,
                refname: refname.clone(),
            });
        }
        pending.sessions.push((refname, tip));
    }
    Ok(pending)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One hit of `search --remote`, mapped back to git: the fields of a local search hit
/// (`index::Hit`), filled from git where the session is known, plus whether it is.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteResult {
    /// The session the hit names ("" when it names none).
    pub session: String,
    /// The artifact ULID the text names, when it names one.
    pub artifact: Option<String>,
    /// The kind the text says it is.
    pub kind: Option<String>,
    /// The agent the text's tag line names.
    pub agent: Option<String>,
    /// The session's current status, from git.
    pub status: Option<String>,
    /// The session's title from git, else the index's title or path.
    pub title: String,
    /// The text the index returned (at most 500 characters).
    pub snippet: String,
    /// The index's score.
    pub score: Option<f64>,
    /// Whether this repository has the session (a hit git does not have is marked, never
    /// trusted).
    pub in_git: bool,
}

/// Asks the index and maps each hit to the session it names, checked against the refs.
pub fn search_remote(
    handoff: &Handoff,
    backend: &mut dyn Backend,
    query: &str,
    limit: usize,
) -> Result<Vec<RemoteResult>> {
    let hits = backend.search(query, limit)?;
    let store = handoff.store();
    let mut out = Vec::with_capacity(hits.len());
    for RemoteHit { text, title, score } in hits {
        let named = crate::session::id::find_in_text(&format!(
            "{}\n{text}",
            title.as_deref().unwrap_or_default()
        ));
        let known = match named.first() {
            Some(id) => {
                let found = store
                    .session_ids_starting_with(id.as_str())
                    .map_err(Box::new)?;
                let full = found
                    .iter()
                    .find(|f| f.as_str() == id.as_str())
                    .or(found.first())
                    .cloned();
                full.and_then(|full| store.load(&full).ok())
            }
            None => None,
        };
        let kind = crate::workflow::seed::parse(&text).kind;
        let (session, status, session_title) = match (&known, named.first()) {
            (Some(s), _) => (
                s.meta.id.to_string(),
                s.state.status.map(|st| st.as_str().to_owned()),
                Some(s.meta.title.clone()),
            ),
            (None, Some(id)) => (id.to_string(), None, None),
            (None, None) => (String::new(), None, None),
        };
        out.push(RemoteResult {
            session,
            artifact: tagged(&text, "(artifact ", &[',', ')']),
            kind: (kind != Kind::Note).then(|| kind.as_str().to_owned()),
            agent: tagged(&text, "[AGENT: ", &[']']),
            status,
            title: session_title.or(title).unwrap_or_default(),
            snippet: text.chars().take(500).collect(),
            score,
            in_git: known.is_some(),
        });
    }
    Ok(out)
}

/// The value after `marker` up to the first of `ends`, as a rendered text states it.
fn tagged(text: &str, marker: &str, ends: &[char]) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let end = rest.find(ends)?;
    Some(rest[..end].trim().to_owned()).filter(|v| !v.is_empty() && v.len() <= 80)
}
