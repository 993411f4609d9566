//! The seed's four steps as library calls: plan, review, implement, validate, plus pattern,
//! abandon and notes. Commands call these after resolving their arguments; this module turns
//! user intent into store writes (redacting first) and knows nothing about clap.

pub mod agent;
pub mod baseline;
pub mod current;
pub mod drive;
pub mod findings;
pub mod gates;
pub mod prompt;
pub mod repair;
pub mod retrieve;
pub mod seed;
pub mod why;
pub mod work;

use crate::git::{Oid, Repo};

use crate::config::Config;
use crate::redact;
use crate::session::{
    Artifact, Finding, Kind, Range, SCHEMA_VERSION, Session, SessionId, SessionMeta, Verdict,
};
use crate::store::{self, NewArtifact, NoteLine, Store};

/// Why a workflow step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// From the store (includes refused transitions).
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Reading the repository failed (including: not a repository, a format not supported
    /// yet, a bad range or revision).
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    /// The configuration could not be loaded.
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    /// The session has no commit to record (or the revisions given name none). What to do
    /// about it is phrased by each front end ([`crate::error::Remedy::NameCommitsOrForce`]).
    #[error("no commit to record for {session}: {why}")]
    NoCommits {
        /// The session.
        session: SessionId,
        /// Where we looked.
        why: String,
    },
    /// A seed-format text of this kind names no session.
    #[error("{article} {kind} must name its session (**[SESSION-ID] ...** on its first line)", article = .0.article(), kind = .0)]
    NoSession(Kind),
    /// A body that must not be empty was ([`crate::error::Remedy::GiveBody`]).
    #[error("aborting: the {0} is empty")]
    EmptyBody(Kind),
    /// The title is empty.
    #[error("aborting: the title is empty")]
    EmptyTitle,
    /// A review or validation without a verdict ([`crate::error::Remedy::GiveVerdict`]).
    #[error("{article} {kind} needs a verdict", article = .0.article(), kind = .0)]
    NoVerdict(Kind),
    /// Resolving a session failed.
    #[error(transparent)]
    Resolve(#[from] crate::session::id::ResolveError),
    /// `abandon` on a session that is abandoned already.
    #[error("{0} is abandoned already; nothing was recorded")]
    AlreadyAbandoned(SessionId),
    /// The session's commits are past a shallow clone's depth.
    #[error(
        "the session's commits are not in this shallow clone ({0}); fetch more history: git fetch --deepen=100 (or git fetch --unshallow)"
    )]
    Shallow(String),
    /// `undo` cannot take the last artifact back.
    #[error("cannot undo: {0}")]
    Undo(store::Refusal),
    /// A second `undo` in a row on a session, without forcing it
    /// ([`crate::error::Remedy::ForceUndo`]).
    #[error(
        "the last change to {id} was an undo already; taking back {article} {kind} too needs forcing"
    , article = .kind.article())]
    UndoAgain {
        /// The session.
        id: SessionId,
        /// What the second undo would take back.
        kind: Kind,
    },
}

/// What `undo` took back.
#[derive(Debug)]
pub struct UndoneArtifact {
    /// The artifact taken back.
    pub artifact: crate::session::Artifact,
    /// Commits whose notes lost the line the artifact had added.
    pub notes_removed: usize,
    /// How: `None` when the ref moved back (the reflog keeps the artifact), or the
    /// retraction recorded because a remote had the artifact already.
    pub retraction: Option<crate::session::Artifact>,
    /// The session as it is now.
    pub session: crate::session::Session,
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// An open repository with its configuration.
pub struct Handoff {
    /// The repository.
    pub repo: Repo,
    /// Resolved configuration.
    pub config: Config,
    /// Configuration warnings (unknown keys) to show the user.
    pub config_warnings: Vec<String>,
    /// Where status lines, warnings and timings go (the core never prints).
    pub reporter: std::sync::Arc<dyn crate::report::Reporter>,
    /// Whether a write creates the search index when the repository has none (a long-lived
    /// front end that answers queries, the MCP server); otherwise only an existing index is
    /// kept current (see [`crate::index::keep_current`]).
    pub index_every_write: bool,
}

/// What recording an artifact produced.
#[derive(Debug)]
pub struct Recorded {
    /// The session before the artifact (as read for the compare-and-swap that succeeded).
    pub before: Session,
    /// The recorded artifact.
    pub artifact: Artifact,
    /// Kinds of secrets that were redacted before writing.
    pub redactions: Vec<&'static str>,
    /// Commits whose notes gained a line.
    pub notes_added: usize,
    /// Commits in the recorded range.
    pub range_commits: usize,
    /// Things the user should know (commits of the range credited to another session, ...).
    pub warnings: Vec<String>,
    /// Whether the search index holds the artifact already (it was kept current).
    pub indexed: bool,
}

impl Recorded {
    fn new(before: Session, artifact: Artifact, redactions: Vec<&'static str>) -> Self {
        Self {
            before,
            artifact,
            redactions,
            notes_added: 0,
            range_commits: 0,
            warnings: Vec::new(),
            indexed: false,
        }
    }
}

/// What a caller wants to record (before redaction and state checks).
#[derive(Debug, Clone)]
pub struct Input {
    /// Kind of artifact.
    pub kind: Kind,
    /// Agent; `None` takes the configured default for the kind.
    pub agent: Option<String>,
    /// Markdown body.
    pub body: String,
    /// Verdict (reviews and validations).
    pub verdict: Option<Verdict>,
    /// Findings (reviews and validations).
    pub findings: Vec<Finding>,
    /// The commits of an implementation or validation, in git's revision forms; `None` takes
    /// the default (the session's own commits, see [`work`]).
    pub range: Option<String>,
    /// Record even when the state machine refuses.
    pub force: bool,
    /// Keep secrets instead of redacting them.
    pub allow_secrets: bool,
}

impl Input {
    /// An input of `kind` with `body` and defaults for everything else.
    pub fn new(kind: Kind, body: impl Into<String>) -> Self {
        Self {
            kind,
            agent: None,
            body: body.into(),
            verdict: None,
            findings: Vec::new(),
            range: None,
            force: false,
            allow_secrets: false,
        }
    }
}

impl Handoff {
    /// Opens the repository the environment points at (`GIT_DIR`, or the current directory).
    pub fn open() -> Result<Self> {
        Self::with_repo(Repo::open_from_env()?)
    }

    /// Wraps an open repository and loads its configuration.
    pub fn with_repo(repo: Repo) -> Result<Self> {
        let (config, config_warnings) = Config::load(repo.work_dir())?;
        Ok(Self {
            repo,
            config,
            config_warnings,
            reporter: std::sync::Arc::new(crate::report::Silent),
            index_every_write: false,
        })
    }

    /// The store of this repository.
    pub fn store(&self) -> Store<'_> {
        Store::new(&self.repo)
    }

    /// Resolves what the user typed to a session ID.
    pub fn resolve(&self, input: &str) -> Result<SessionId> {
        // A full ID (or a full ID's prefix) names its refs directly: look only at those, not
        // at every session of a large repository.
        let input = input.trim();
        if let Ok(id) = SessionId::parse(input) {
            // An exact full ID wins over every longer ID it is a prefix of: one ref lookup.
            if self.store().session_tip(&id)?.is_some() {
                return Ok(id);
            }
            // A full ID can only be itself or the prefix of a longer ID (it is neither an
            // 8-character random part nor a lower-case slug), so the refs that start with it
            // are every candidate: a new ID is "not found" without listing every session.
            let near = self.store().session_ids_starting_with(input)?;
            return Ok(crate::session::id::resolve(input, &near)?.clone());
        }
        let known = self.store().session_ids()?;
        Ok(crate::session::id::resolve(input, &known)?.clone())
    }

    /// Makes `id` current where HEAD is, as a new plan does, unless another unfinished session
    /// is current there (its commits must not change hands); see [`current::offer`].
    pub fn offer_current(
        &self,
        id: &SessionId,
    ) -> std::result::Result<current::Offer, current::Error> {
        current::offer(&self.repo, id, |other| {
            self.store().load(other).is_ok_and(|s| {
                !matches!(
                    s.state.status,
                    Some(crate::session::Status::Complete | crate::session::Status::Abandoned)
                )
            })
        })
    }

    /// Brings the search index's rows of session `id` up to date after this process wrote it
    /// (see [`crate::index::keep_current`]).
    /// Returns whether the index holds it now.
    fn keep_index_current(&self, id: &SessionId) -> bool {
        crate::index::keep_current(
            &self.store(),
            &crate::store::refs::session_ref(id),
            self.index_every_write,
        )
    }

    /// Loads a session by what the user typed, as people and agents see it (with a remote's
    /// newer artifacts when its tracking ref is ahead, see [`Store::load_view`]).
    pub fn session(&self, input: &str) -> Result<Session> {
        let id = self.resolve(input)?;
        Ok(self.store().load_view(&id)?)
    }

    /// Starts a session with its first plan. `base` defaults to HEAD (none in an empty repo).
    pub fn start(&self, title: &str, base: Option<&str>, input: Input) -> Result<Recorded> {
        self.start_as(None, title, base, input)
    }

    /// Starts a session as [`Handoff::start`] does, under `id` when given (an agent following
    /// the seed names its new session itself; a taken ID is refused).
    pub fn start_as(
        &self,
        id: Option<SessionId>,
        title: &str,
        base: Option<&str>,
        input: Input,
    ) -> Result<Recorded> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::EmptyTitle);
        }
        let (title, mut redactions) = self.redact(title, input.allow_secrets);
        let base = match base {
            Some(rev) => Some(store::object_id(self.repo.resolve_commit(rev)?)),
            None => self.head()?.map(store::object_id),
        };
        let created = crate::clock::now();
        let meta = SessionMeta {
            schema_version: SCHEMA_VERSION,
            id: id.unwrap_or_else(|| SessionId::generate(created, &title)),
            title,
            created,
            base,
        };
        let (new, more) = self.prepare(input, created)?;
        redactions.extend(more);
        let (before, artifact) = self.store().create(meta, new)?;
        let indexed = self.keep_index_current(&artifact.session);
        Ok(Recorded {
            indexed,
            ..Recorded::new(before, artifact, redactions)
        })
    }

    /// Appends an artifact to a session; implementations and validations also note every commit
    /// of their range.
    ///
    /// The notes are written first and the artifact second, each in one atomic ref update, so
    /// a process killed at any point leaves nothing, the notes alone (re-running the command
    /// records the artifact once; note lines are a set), or both (docs/format.md, "Crash
    /// safety").
    pub fn record(&self, id: &SessionId, input: Input) -> Result<Recorded> {
        let session = self.store().load(id)?;
        let created = crate::clock::now();
        let force = input.force;
        let spec = input.range.clone();
        let kind = input.kind;
        let (mut new, redactions) = self.prepare(input, created)?;
        let (work, work_warnings) = match kind {
            Kind::Implementation | Kind::Validation => {
                let (work, warnings, why) = self.work_for(kind, spec.as_deref(), &session)?;
                new.range.clone_from(&work.range);
                new.commits = work.object_ids();
                (Some((work, why)), warnings)
            }
            _ => (None, Vec::new()),
        };
        if !force {
            session
                .state
                .check(new.kind, id.as_str())
                .map_err(store::Error::from)?;
        }
        let mut warnings = Vec::new();
        let mut noted = None;
        if let (Some((work, found)), Kind::Implementation | Kind::Validation) = (&work, new.kind) {
            if work.commits.is_empty() && !force {
                return Err(Error::NoCommits {
                    session: id.clone(),
                    why: found.clone(),
                });
            }
            warnings.extend(work_warnings);
            let line = NoteLine {
                session: id.clone(),
                kind: new.kind,
            };
            let added = self.store().add_note_line(
                &work.commits,
                &line,
                &format!("note {} commits of {id} ({})", work.commits.len(), new.kind),
            )?;
            crate::failpoint::hit("record-after-notes");
            noted = Some((work.commits.len(), added));
        }
        let (before, artifact) = self.store().append(id, new)?;
        let indexed = self.keep_index_current(id);
        let mut recorded = Recorded {
            indexed,
            ..Recorded::new(before, artifact, redactions)
        };
        if let Some((commits, added)) = noted {
            recorded.range_commits = commits;
            recorded.notes_added = added;
        }
        recorded.warnings = warnings;
        Ok(recorded)
    }

    /// Redacts and fills in defaults (the work of an implementation or validation is
    /// resolved by the caller).
    fn prepare(
        &self,
        input: Input,
        created: chrono::DateTime<chrono::Utc>,
    ) -> Result<(NewArtifact, Vec<&'static str>)> {
        let kind = input.kind;
        if matches!(kind, Kind::Review | Kind::Validation) && input.verdict.is_none() {
            return Err(Error::NoVerdict(kind));
        }
        if matches!(kind, Kind::Plan | Kind::Implementation | Kind::Pattern)
            && input.body.trim().is_empty()
        {
            return Err(Error::EmptyBody(kind));
        }
        let (body, mut redactions) = self.redact(&input.body, input.allow_secrets);
        let mut findings = input.findings;
        for f in &mut findings {
            let (title, a) = self.redact(&f.title, input.allow_secrets);
            let (fbody, b) = self.redact(&f.body, input.allow_secrets);
            f.title = title;
            f.body = fbody;
            redactions.extend(a.into_iter().chain(b));
            if let Some(path) = &f.path {
                let (path, c) = self.redact(path, input.allow_secrets);
                f.path = Some(path);
                redactions.extend(c);
            }
        }
        let agent = input
            .agent
            .filter(|a| !a.trim().is_empty())
            .unwrap_or_else(|| match kind {
                Kind::Review | Kind::Validation => self.config.agents.reviewer.clone(),
                _ => self.config.agents.planner.clone(),
            });
        let (agent, more) = self.redact(&agent, input.allow_secrets);
        redactions.extend(more);
        Ok((
            NewArtifact {
                kind,
                agent,
                verdict: input.verdict,
                range: None,
                commits: Vec::new(),
                findings,
                body,
                created,
                force: input.force,
                abandon: false,
                retracts: None,
            },
            redactions,
        ))
    }

    /// Takes back the last artifact of a session no remote has yet: the session ref moves back
    /// one commit (the reflog keeps it); once a remote has it, a retraction is recorded
    /// instead. Either way the note lines it added (an implementation's or validation's) are
    /// taken back from its commits, unless another artifact of the session still accounts for
    /// them. A second undo in a row needs `force`: one typed twice by mistake would take back
    /// the step before too.
    pub fn undo(&self, id: &SessionId, force: bool) -> Result<UndoneArtifact> {
        let store = self.store();
        let before = store.load(id)?;
        let Some(last) = before.artifacts.last().cloned() else {
            return Err(Error::Undo(store::Refusal::FirstArtifact(id.clone())));
        };
        if before.is_retracted(&last) || last.retracts.is_some() {
            // Retracting a retraction would bring an artifact back: record it anew instead.
            return Err(Error::Undo(store::Refusal::Retraction(id.clone())));
        }
        if !force && store.last_change_was_undo(id)? {
            return Err(Error::UndoAgain {
                id: id.clone(),
                kind: last.kind,
            });
        }
        let reason = format!("{} {}", last.kind, last.id);
        let retraction = match store.undo_last(id, &reason)? {
            Ok(_) => None,
            // Shared already: the history stays, a retraction takes the artifact back.
            Err(store::Refusal::Pushed { .. }) => {
                let new = NewArtifact {
                    retracts: Some(last.id),
                    ..NewArtifact::note(
                        self.config.agents.planner.clone(),
                        format!(
                            "Retracted {} {} {} (undo after it was pushed).",
                            last.kind.article(),
                            last.kind,
                            last.id
                        ),
                    )
                };
                Some(store.append(id, new)?.1)
            }
            Err(refusal) => return Err(Error::Undo(refusal)),
        };
        let session = store.load(id)?;
        self.keep_index_current(id);
        let notes_removed = self.take_back_notes(&session, &last)?;
        Ok(UndoneArtifact {
            artifact: last,
            notes_removed,
            retraction,
            session,
        })
    }

    /// Removes the note line `artifact` added from each of its commits that no artifact of
    /// the same kind left in `session` also lists.
    fn take_back_notes(&self, session: &Session, artifact: &Artifact) -> Result<usize> {
        if !matches!(artifact.kind, Kind::Implementation | Kind::Validation) {
            return Ok(0);
        }
        // Commits this clone cannot read stay noted: nothing to take back from them here.
        let commits_of = |a: &Artifact| self.artifact_commits(a).unwrap_or_default();
        let kept: std::collections::HashSet<Oid> = session
            .artifacts
            .iter()
            .filter(|a| a.kind == artifact.kind && a.id != artifact.id && !session.is_retracted(a))
            .flat_map(commits_of)
            .collect();
        let line = NoteLine {
            session: session.meta.id.clone(),
            kind: artifact.kind,
        }
        .to_bytes();
        let removals: store::Additions = commits_of(artifact)
            .into_iter()
            .filter(|c| !kept.contains(c))
            .map(|c| (c, std::collections::BTreeSet::from([line.clone()])))
            .collect();
        if removals.is_empty() {
            return Ok(0);
        }
        Ok(self.store().remove_note_lines(
            &removals,
            &format!(
                "undo {} {} of {}",
                artifact.kind, artifact.id, session.meta.id
            ),
        )?)
    }

    /// Abandons a session from any state.
    pub fn abandon(&self, id: &SessionId, reason: &str, allow_secrets: bool) -> Result<Recorded> {
        if self.store().load(id)?.state.status == Some(crate::session::Status::Abandoned) {
            return Err(Error::AlreadyAbandoned(id.clone()));
        }
        let (body, redactions) = self.redact(reason, allow_secrets);
        let new = NewArtifact {
            abandon: true,
            ..NewArtifact::note(self.config.agents.planner.clone(), body)
        };
        let (before, artifact) = self.store().append(id, new)?;
        self.keep_index_current(id);
        Ok(Recorded::new(before, artifact, redactions))
    }

    /// Records a `note` carrying the session's commits as a rewrite (amend, rebase) left them,
    /// so that `context`, `show` and the next `implement` follow the rewritten commits. Status
    /// is unchanged.
    pub fn record_rewritten_work(
        &self,
        id: &SessionId,
        body: &str,
        work: &work::Work,
    ) -> Result<Recorded> {
        let new = NewArtifact {
            range: work.range.clone(),
            commits: work.object_ids(),
            ..NewArtifact::note("git-handoff".to_owned(), body.to_owned())
        };
        let (before, artifact) = self.store().append(id, new)?;
        self.keep_index_current(id);
        Ok(Recorded::new(before, artifact, Vec::new()))
    }

    fn redact(&self, text: &str, allow: bool) -> (String, Vec<&'static str>) {
        if allow {
            return (text.to_owned(), Vec::new());
        }
        let (out, found) = redact::redact(text);
        (out, found.into_iter().map(|f| f.kind).collect())
    }

    /// HEAD's commit, `None` on an unborn branch.
    pub fn head(&self) -> Result<Option<Oid>> {
        Ok(self.repo.head()?)
    }

    /// The commits of `base..head`, newest first.
    pub fn commits_in(&self, range: &Range) -> Result<Vec<Oid>> {
        Ok(self.repo.commits_in(range)?)
    }
}
