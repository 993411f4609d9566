//! `git handoff annotate`: the findings of reviews and validations, where code is reviewed
//! (docs/annotations.md). A session, or every session whose commits a range touches (notes,
//! then trailers), gives its open findings: those of its latest review or validation, which
//! supersedes the earlier ones. Each exporter in [`formats`] escapes for its own format;
//! [`github`] posts one pull request review through the REST API.

pub mod formats;
pub mod github;

use serde::Serialize;

use crate::session::{Finding, Kind, Session, SessionId, Verdict};
use crate::workflow::Handoff;

/// Why annotations could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A session could not be read.
    #[error(transparent)]
    Store(#[from] Box<crate::store::Error>),
    /// The range or a commit could not be read.
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    /// Resolving the session failed.
    #[error(transparent)]
    Workflow(#[from] Box<crate::workflow::Error>),
}

/// What to annotate.
#[derive(Debug, Clone)]
pub enum Target {
    /// One session (full ID, random part, prefix or slug).
    Session(String),
    /// Every session whose commits `A..B` touches.
    Range(String),
}

/// How severe a finding is, from its priority (P0 and P1 are errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// P0 or P1.
    Error,
    /// P2.
    Warning,
    /// P3 or no priority.
    Notice,
}

impl Severity {
    /// The severity of a priority.
    pub fn of(priority: Option<u8>) -> Self {
        match priority {
            Some(0 | 1) => Self::Error,
            Some(2) => Self::Warning,
            _ => Self::Notice,
        }
    }
}

/// One open finding with where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Annotation {
    /// Session ID.
    pub session: String,
    /// The review or validation artifact.
    pub artifact: String,
    /// `review` or `validation`.
    pub kind: Kind,
    /// Who found it.
    pub agent: String,
    /// The finding.
    pub finding: Finding,
}

impl Annotation {
    /// Its severity.
    pub fn severity(&self) -> Severity {
        Severity::of(self.finding.priority)
    }

    /// `P0`..`P3`, or `P?` without a priority.
    pub fn priority_label(&self) -> String {
        self.finding
            .priority
            .map_or_else(|| "P?".to_owned(), |p| format!("P{p}"))
    }

    /// The lines it points at, `(start, end)` with `end >= start`, when it has a path and a
    /// start line.
    pub fn lines(&self) -> Option<(u32, u32)> {
        self.finding.path.as_ref()?;
        let start = self.finding.start_line?.max(1);
        let end = self.finding.end_line.unwrap_or(start).max(start);
        Some((start, end))
    }
}

/// One session as the annotations summarise it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    /// Session ID.
    pub id: String,
    /// The plan's title.
    pub title: String,
    /// Derived status.
    pub status: Option<String>,
    /// Every review and validation verdict in order: (kind, verdict, agent).
    pub verdicts: Vec<(Kind, Option<Verdict>, String)>,
    /// Open findings.
    pub open: usize,
}

/// The sessions selected and their open findings, most severe first.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    /// The sessions.
    pub sessions: Vec<SessionSummary>,
    /// Their open findings.
    pub annotations: Vec<Annotation>,
}

/// Gathers the sessions `target` names and their open findings.
pub fn select(handoff: &Handoff, target: &Target) -> Result<Selection, Error> {
    let store = handoff.store();
    let ids: Vec<SessionId> = match target {
        Target::Session(input) => vec![handoff.resolve(input).map_err(Box::new)?],
        Target::Range(spec) => {
            let mut ids: Vec<SessionId> = Vec::new();
            for commit in handoff.repo.rev_list(spec)? {
                let notes = store.read_visible_notes(commit).map_err(Box::new)?;
                let message = handoff.repo.commit_message(commit)?;
                let named = crate::store::parse_note(&notes)
                    .into_iter()
                    .map(|line| line.session)
                    .chain(crate::workflow::why::mentioned_sessions(&message));
                for id in named {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            ids
        }
    };
    let mut selection = Selection {
        sessions: Vec::new(),
        annotations: Vec::new(),
    };
    for id in ids {
        let session = match store.load(&id) {
            Ok(session) => session,
            // A commit may name a session this clone has not fetched: nothing to annotate.
            Err(crate::store::Error::SessionNotFound(_)) => continue,
            Err(e) => return Err(Box::new(e).into()),
        };
        let open = open_findings(&session);
        selection.sessions.push(SessionSummary {
            id: session.meta.id.to_string(),
            title: session.meta.title.clone(),
            status: session.state.status.map(|s| s.as_str().to_owned()),
            verdicts: session
                .artifacts
                .iter()
                .filter(|a| matches!(a.kind, Kind::Review | Kind::Validation))
                .map(|a| (a.kind, a.verdict, a.agent.clone()))
                .collect(),
            open: open.len(),
        });
        selection.annotations.extend(open);
    }
    selection.annotations.sort_by(|a, b| {
        (
            a.severity(),
            a.finding.priority.unwrap_or(u8::MAX),
            &a.finding.path,
            a.finding.start_line,
        )
            .cmp(&(
                b.severity(),
                b.finding.priority.unwrap_or(u8::MAX),
                &b.finding.path,
                b.finding.start_line,
            ))
    });
    Ok(selection)
}

/// The findings of the latest review or validation: a later judgement supersedes the earlier
/// ones (an approving validation with no findings leaves nothing open).
fn open_findings(session: &Session) -> Vec<Annotation> {
    let Some(latest) = session
        .artifacts
        .iter()
        .rev()
        .filter(|a| !session.is_retracted(a))
        .find(|a| matches!(a.kind, Kind::Review | Kind::Validation))
    else {
        return Vec::new();
    };
    latest
        .findings
        .iter()
        .map(|f| Annotation {
            session: session.meta.id.to_string(),
            artifact: latest.id.to_string(),
            kind: latest.kind,
            agent: latest.agent.clone(),
            finding: f.clone(),
        })
        .collect()
}

/// A short, stable hex digest (SHA-256) of the parts, for fingerprints and markers.
pub fn digest(parts: &[&str]) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
