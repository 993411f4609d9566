//! Sessions and their artifacts: identifiers, data model, file encoding and the derived state
//! machine. Pure logic; nothing here touches git.

pub mod codec;
pub mod id;
pub mod model;
pub mod status;

pub use id::SessionId;
pub use model::{
    Artifact, COMMITS_SCHEMA_VERSION, Finding, InvalidObjectId, Kind, ObjectId,
    READABLE_SCHEMA_VERSION, RETRACTION_SCHEMA_VERSION, Range, SCHEMA_VERSION, SessionMeta, Status,
    Verdict,
};
pub use status::State;

/// A session as read from git: its metadata, its artifacts in replay order and derived state.
#[derive(Debug, Clone)]
pub struct Session {
    /// `session.toml`.
    pub meta: SessionMeta,
    /// Artifacts sorted by (created, id).
    pub artifacts: Vec<Artifact>,
    /// Replay of the artifacts.
    pub state: State,
    /// The commit the session was read from (`None` for a merge being built).
    pub tip: Option<ObjectId>,
    /// The ref it was read from: `refs/handoff/sessions/<ID>`, or a remote's tracking ref
    /// when this clone holds the session only as fetched (or the remote is ahead, see
    /// `remote_ahead`). `None` for a session read at a given commit.
    pub refname: Option<String>,
    /// When the session is held locally and a remote's tracking ref has artifacts the local
    /// ref lacks: that tracking ref. Shown with the remote's artifacts when it is a
    /// fast-forward (`refname` is then the tracking ref), else only marked.
    pub remote_ahead: Option<RemoteAhead>,
    /// Artifact files that could not be read (from a newer or broken writer); the others are
    /// still shown and the session still accepts new artifacts.
    pub unreadable: Vec<Unreadable>,
}

/// A remote's copy of a session that has artifacts this clone's ref lacks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteAhead {
    /// The tracking ref.
    pub refname: String,
    /// Whether it only adds to the local ref (a fast-forward, shown as the view), rather than
    /// diverging from it (only `git handoff pull` merges the two).
    pub fast_forward: bool,
}

/// An artifact file of a session that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unreadable {
    /// Path inside the session tree (`artifacts/<name>`), escaped for printing.
    pub path: String,
    /// Why it could not be read.
    pub error: String,
    /// Whether it was written by a newer git-handoff (legitimate data this build cannot read),
    /// rather than damaged or hostile.
    pub from_newer_version: bool,
}

impl Session {
    /// Builds a session from its parts, sorting artifacts and deriving the state.
    ///
    /// Each artifact's `iteration` and `status` are replaced by the replayed ones: what a
    /// writer stored is what it saw, and two clones that wrote at once (then merged) saw
    /// different things. The replay is the one truth, so `show`, `log` and `context` agree.
    pub fn new(meta: SessionMeta, mut artifacts: Vec<Artifact>, tip: Option<ObjectId>) -> Self {
        sort_artifacts(&mut artifacts);
        let retracted = retracted(&artifacts);
        let mut state = State::default();
        for a in &mut artifacts {
            if !retracted.contains(&a.id) {
                state = step(state, a);
            }
            a.iteration = state.iteration.max(1);
            if let Some(status) = state.status {
                a.status = status;
            }
        }
        Self {
            meta,
            artifacts,
            state,
            tip,
            refname: None,
            remote_ahead: None,
            unreadable: Vec::new(),
        }
    }

    /// The latest artifact that records the session's work: its commits (schema 3) or, in
    /// older artifacts, a range (retracted ones aside).
    pub fn work(&self) -> Option<&Artifact> {
        let retracted = retracted(&self.artifacts);
        self.artifacts
            .iter()
            .rev()
            .filter(|a| !retracted.contains(&a.id))
            .find(|a| a.range.is_some() || !a.commits.is_empty())
    }

    /// The range summary of the latest recorded work, when it has one (its commits are
    /// contiguous, or it was written before schema 3).
    pub fn range(&self) -> Option<&Range> {
        self.work().and_then(|a| a.range.as_ref())
    }

    /// Whether a retraction in this session takes `artifact` back.
    pub fn is_retracted(&self, artifact: &Artifact) -> bool {
        self.artifacts
            .iter()
            .any(|a| a.retracts == Some(artifact.id))
    }

    /// When the last artifact was recorded.
    pub fn updated(&self) -> chrono::DateTime<chrono::Utc> {
        self.artifacts
            .last()
            .map_or(self.meta.created, |a| a.created)
    }

    /// The distinct agents that contributed, in order of first appearance.
    pub fn agents(&self) -> Vec<&str> {
        let mut agents: Vec<&str> = Vec::new();
        for a in &self.artifacts {
            if !agents.contains(&a.agent.as_str()) {
                agents.push(&a.agent);
            }
        }
        agents
    }
}

/// Sorts artifacts into replay order: created time, then id.
pub fn sort_artifacts(artifacts: &mut [Artifact]) {
    artifacts.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
}

/// The artifacts that retractions take back.
fn retracted(artifacts: &[Artifact]) -> Vec<ulid::Ulid> {
    artifacts.iter().filter_map(|a| a.retracts).collect()
}

fn step(state: State, a: &Artifact) -> State {
    if a.kind == Kind::Note && a.status == Status::Abandoned {
        state.abandoned()
    } else {
        state.apply(a.kind, a.verdict)
    }
}
