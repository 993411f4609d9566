//! Reading and appending to session commit chains.

use chrono::{DateTime, Utc};
use git2::{FileMode, Oid, Repository, Tree};

use super::blobs::Refused;
use super::ref_names;
use super::refs::{self, Attempt, Swap, compare_and_swap, read_ref, session_ref};
use super::{Error, Problem, Result, Store};
use crate::session::codec::{self, DecodeError, MAX_FILE_BYTES};
use crate::session::{
    Artifact, Finding, Kind, ObjectId, Range, SCHEMA_VERSION, Session, SessionId, SessionMeta,
    State, Status, Unreadable, Verdict,
};

/// File name of the session metadata at the root of each session tree.
pub const META_FILE: &str = "session.toml";
/// Directory holding the artifacts.
pub const ARTIFACTS_DIR: &str = "artifacts";

/// What a command wants to record; the store fills in id, author, iteration and status.
#[derive(Debug, Clone)]
pub struct NewArtifact {
    /// The kind.
    pub kind: Kind,
    /// The agent that produced it.
    pub agent: String,
    /// Verdict, for reviews and validations.
    pub verdict: Option<Verdict>,
    /// Commit range summary, for implementations and validations whose commits are
    /// contiguous.
    pub range: Option<Range>,
    /// The session's commits it covers, oldest first (implementations, validations, and notes
    /// that follow a rewrite).
    pub commits: Vec<ObjectId>,
    /// Findings, for reviews and validations.
    pub findings: Vec<Finding>,
    /// Markdown body (already redacted).
    pub body: String,
    /// When it is recorded.
    pub created: DateTime<Utc>,
    /// Record even if the state machine refuses.
    pub force: bool,
    /// This note abandons the session.
    pub abandon: bool,
    /// This note retracts that artifact (docs/format.md, "Retractions").
    pub retracts: Option<ulid::Ulid>,
}

impl NewArtifact {
    /// A `note` by `agent` with `body`, recorded now.
    pub fn note(agent: String, body: String) -> Self {
        Self {
            kind: Kind::Note,
            agent,
            verdict: None,
            range: None,
            commits: Vec::new(),
            findings: Vec::new(),
            body,
            created: crate::clock::now(),
            force: false,
            abandon: false,
            retracts: None,
        }
    }
}

/// The ID part of an own (`refs/handoff/sessions/<ID>`) or tracking session ref name.
fn session_id_part(name: &str) -> Option<&str> {
    let id = match name.strip_prefix(refs::SESSIONS_PREFIX) {
        Some(own) => own,
        None => refs::tracking_session_id(name)?,
    };
    (!id.contains('/')).then_some(id)
}

/// One entry of [`Store::list`]: a session, or why it could not be read.
#[derive(Debug)]
pub struct ListedSession {
    /// The full ref name.
    pub refname: String,
    /// The session, or the per-session error.
    pub result: Result<Session>,
}

impl Store<'_> {
    /// IDs of every session (own or tracked) whose ref name is a valid session ID, sorted,
    /// from the ref names alone (see [`ref_names`]): what resolving a random part or a typed
    /// prefix needs, without reading every ref.
    pub fn session_ids(&self) -> Result<Vec<SessionId>> {
        Ok(self.session_ids_where("", &|_| true))
    }

    /// IDs of the sessions (own or tracked) whose ID starts with `prefix`, sorted.
    pub fn session_ids_starting_with(&self, prefix: &str) -> Result<Vec<SessionId>> {
        Ok(self.session_ids_where(prefix, &|id| id.starts_with(prefix)))
    }

    /// IDs of the own and tracked session refs whose ID part satisfies `wanted` (own refs:
    /// only IDs starting with `id_start`), sorted and without duplicates.
    fn session_ids_where(&self, id_start: &str, wanted: &dyn Fn(&str) -> bool) -> Vec<SessionId> {
        let names = ref_names::session_ref_names(self.repo.commondir(), id_start, &|name| {
            session_id_part(name).is_some_and(wanted)
        });
        let mut ids: Vec<SessionId> = names
            .iter()
            .filter_map(|name| SessionId::parse(session_id_part(name)?).ok())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Every session visible to read commands, as (ref, tip): its own ref under
    /// `refs/handoff/sessions/`, or, for a session only a remote has, its tracking ref
    /// `refs/handoff-remotes/<remote>/sessions/<ID>` (the first remote in name order), as git
    /// serves remote-tracking branches. A plain `git fetch` with the refspecs `init` adds makes
    /// a remote's sessions visible at once; nothing is copied until the session changes here.
    pub fn session_refs(&self) -> Result<Vec<(String, Oid)>> {
        let mut refs = self.local_session_refs()?;
        let local: std::collections::HashSet<String> = refs
            .iter()
            .map(|(name, _)| name[refs::SESSIONS_PREFIX.len()..].to_owned())
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut tracking = self.refs_under(refs::TRACKING_PREFIX)?;
        tracking.sort();
        for (name, tip) in tracking {
            let Some(id) = refs::tracking_session_id(&name) else {
                continue;
            };
            if !local.contains(id) && seen.insert(id.to_owned()) {
                refs.push((name, tip));
            }
        }
        Ok(refs)
    }

    /// Every ref under `refs/handoff/sessions/` with its tip: the sessions this clone wrote or
    /// merged, which `push` sends.
    pub fn local_session_refs(&self) -> Result<Vec<(String, Oid)>> {
        self.refs_under(refs::SESSIONS_PREFIX)
    }

    /// Gives a session seen only through a remote's tracking ref a ref of its own, at the
    /// tracking tip, after checking the chain as `pull` does; returns whether it did. `push`
    /// does this before sending to another remote, so sessions known from one remote travel on.
    pub fn adopt(&self, id: &SessionId) -> Result<bool> {
        let name = session_ref(id);
        if read_ref(self.repo, &name)?.is_some() {
            return Ok(false);
        }
        let Some((_, tip)) = self.session_tip(id)? else {
            return Err(Error::SessionNotFound(id.to_string()));
        };
        let session = self.load_at(id, tip)?;
        self.check_remote(&session)?;
        match compare_and_swap(self.repo, &name, None, tip, &format!("handoff: adopt {id}"))? {
            Swap::Done => Ok(true),
            Swap::Raced => Ok(false),
            Swap::Locked => Err(Error::contended(self.repo, &name)),
        }
    }

    /// Where a session is read from: its own ref, else a remote's tracking ref.
    pub fn session_tip(&self, id: &SessionId) -> Result<Option<(String, Oid)>> {
        let name = session_ref(id);
        if let Some(tip) = read_ref(self.repo, &name)? {
            return Ok(Some((name, tip)));
        }
        Ok(self.tracking_refs_of(id).into_iter().next())
    }

    /// This session's tracking refs with their tips, in name order (see
    /// [`ref_names::tracking_ref_names`]). A ref packed or deleted since it was listed, or a
    /// file that holds no ref, is left out: tracking refs are views.
    fn tracking_refs_of(&self, id: &SessionId) -> Vec<(String, Oid)> {
        ref_names::tracking_ref_names(self.repo.commondir(), &|name| {
            refs::tracking_session_id(name) == Some(id.as_str())
        })
        .into_iter()
        .filter_map(|name| Some((name.clone(), read_ref(self.repo, &name).ok()??)))
        .collect()
    }

    /// Every session, each read independently so that one bad session hides no other.
    pub fn list(&self) -> Result<Vec<ListedSession>> {
        Ok(self
            .session_refs()?
            .into_iter()
            .map(|(refname, tip)| {
                let short = refname.rsplit('/').next().unwrap_or_default().to_owned();
                let result = SessionId::parse(&short)
                    .map_err(|e| Error::Malformed {
                        session: refname.clone(),
                        problem: e.into(),
                    })
                    .and_then(|id| self.load_at(&id, tip));
                ListedSession { refname, result }
            })
            .collect())
    }

    /// Reads a session at its current tip.
    pub fn load(&self, id: &SessionId) -> Result<Session> {
        let (refname, tip) = self
            .session_tip(id)?
            .ok_or_else(|| Error::SessionNotFound(id.to_string()))?;
        let mut session = self.load_at(id, tip)?;
        session.refname = Some(refname);
        Ok(session)
    }

    /// Reads a session for people and agents to see: as [`Store::load`], except that when a
    /// remote's tracking ref (after a plain `git fetch`) holds artifacts the local ref lacks,
    /// the session is read from the tracking ref when that only adds to the local one (a
    /// fast-forward is a view, not a write), and marked as behind it either way
    /// ([`Session::remote_ahead`]).
    pub fn load_view(&self, id: &SessionId) -> Result<Session> {
        let local = read_ref(self.repo, &session_ref(id))?;
        let Some(local) = local else {
            return self.load(id);
        };
        let mut ahead = None;
        for (tracking, tip) in self.tracking_refs_of(id) {
            if tip == local || self.repo.graph_descendant_of(local, tip).unwrap_or(false) {
                continue;
            }
            let fast_forward = self.repo.graph_descendant_of(tip, local).unwrap_or(false);
            // A fast-forward wins over a divergence; among equals, the first in name order.
            if ahead.as_ref().is_none_or(|(_, _, ff)| fast_forward && !ff) {
                ahead = Some((tracking, tip, fast_forward));
            }
        }
        let Some((tracking, tip, fast_forward)) = ahead else {
            return self.load(id);
        };
        let mut session = match fast_forward {
            true => self.load_at(id, tip).map(|mut s| {
                s.refname = Some(tracking.clone());
                s
            }),
            false => self.load(id),
        }
        .or_else(|_| self.load(id))?;
        session.remote_ahead = Some(crate::session::RemoteAhead {
            refname: tracking,
            fast_forward,
        });
        Ok(session)
    }

    /// Reads a session at a given commit of its chain.
    pub fn load_at(&self, id: &SessionId, tip: Oid) -> Result<Session> {
        let malformed = |problem: Problem| Error::Malformed {
            session: id.to_string(),
            problem,
        };
        let commit = self.repo.find_commit(tip).map_err(|e| {
            malformed(if e.code() == git2::ErrorCode::NotFound {
                Problem::MissingObject(tip)
            } else {
                Problem::NotACommit(tip)
            })
        })?;
        let tree = commit
            .tree()
            .map_err(|source| Error::git(format!("reading the tree of {id}"), source))?;
        if let Some(problem) = root_problem(&tree, None) {
            return Err(malformed(problem));
        }
        let meta_entry = tree
            .get_name(META_FILE)
            .ok_or_else(|| malformed(Problem::NoMeta(tip)))?;
        let meta_bytes = read_blob(self.repo, id, META_FILE, meta_entry.id())?;
        let meta = codec::decode_meta(&meta_bytes).map_err(|source| Error::Corrupt {
            session: id.to_string(),
            path: META_FILE.to_owned(),
            source,
        })?;
        if &meta.id != id {
            return Err(malformed(Problem::MetaNamesAnother(meta.id)));
        }
        let (artifacts, unreadable) = self.read_artifacts(id, &tree)?;
        let mut session = Session::new(meta, artifacts, Some(super::object_id(tip)));
        session.unreadable = unreadable;
        Ok(session)
    }

    /// Reads one artifact file (`<ULID>-<kind>.md`) of a session at a given tip.
    pub fn load_artifact(&self, id: &SessionId, tip: Oid, file: &str) -> Result<Artifact> {
        let path = format!("{ARTIFACTS_DIR}/{file}");
        let entry = self
            .repo
            .find_commit(tip)
            .and_then(|c| c.tree())
            .and_then(|t| t.get_path(std::path::Path::new(&path)))
            .map_err(|source| Error::git(format!("reading {path} of {id}"), source))?;
        let bytes = read_blob(self.repo, id, &path, entry.id())?;
        codec::decode_artifact(&bytes).map_err(|source| Error::Corrupt {
            session: id.to_string(),
            path,
            source,
        })
    }

    /// Reads every artifact of a session tree. An artifact that cannot be read is set aside
    /// with its reason, so one bad file never hides the rest of its session.
    fn read_artifacts(
        &self,
        id: &SessionId,
        root: &Tree<'_>,
    ) -> Result<(Vec<Artifact>, Vec<Unreadable>)> {
        let Some(entry) = root.get_name(ARTIFACTS_DIR) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let dir = self
            .repo
            .find_tree(entry.id())
            .map_err(|_| Error::Malformed {
                session: id.to_string(),
                problem: Problem::ArtifactsNotADirectory,
            })?;
        let mut artifacts = Vec::with_capacity(dir.len());
        let mut unreadable = Vec::new();
        for entry in dir.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            let path = format!("{ARTIFACTS_DIR}/{name}");
            let entry_result = if entry.filemode() == 0o100644 {
                self.read_artifact_entry(id, &path, &name, entry.id())
            } else {
                Err(Error::Malformed {
                    session: id.to_string(),
                    problem: Problem::NotAPlainFile {
                        path: crate::session::codec::excerpt(&path),
                        mode: entry.filemode(),
                    },
                })
            };
            match entry_result {
                Ok(artifact) => artifacts.push(artifact),
                Err(err @ (Error::Corrupt { .. } | Error::Malformed { .. })) => {
                    let from_newer_version = matches!(
                        err,
                        Error::Corrupt {
                            source: DecodeError::NewerSchema { .. },
                            ..
                        }
                    );
                    unreadable.push(Unreadable {
                        path: crate::session::codec::excerpt(&path),
                        error: err.to_string(),
                        from_newer_version,
                    });
                }
                Err(other) => return Err(other),
            }
        }
        Ok((artifacts, unreadable))
    }

    fn read_artifact_entry(
        &self,
        id: &SessionId,
        path: &str,
        name: &str,
        oid: Oid,
    ) -> Result<Artifact> {
        let bytes = read_blob(self.repo, id, path, oid)?;
        let artifact = codec::decode_artifact(&bytes).map_err(|source| Error::Corrupt {
            session: id.to_string(),
            path: path.to_owned(),
            source,
        })?;
        if &artifact.session != id {
            return Err(Error::Malformed {
                session: id.to_string(),
                problem: Problem::ArtifactOfAnotherSession {
                    path: crate::session::codec::excerpt(path),
                    other: artifact.session,
                },
            });
        }
        if artifact.file_name() != name {
            return Err(Error::Malformed {
                session: id.to_string(),
                problem: Problem::MisnamedArtifact {
                    path: crate::session::codec::excerpt(path),
                    expected: artifact.file_name(),
                },
            });
        }
        Ok(artifact)
    }

    /// Checks what a remote sent before any ref of ours points at it: every commit of the chain
    /// holds exactly the layout of docs/format.md (`session.toml`, `artifacts/<ULID>-<kind>.md`,
    /// plain files and one directory), so nothing `git fsck --strict` refuses (`.git`, `..`,
    /// symlinks, gitlinks, odd modes) becomes reachable, and every artifact reads back except
    /// those written by a newer git-handoff.
    pub fn check_remote(&self, session: &Session) -> Result<()> {
        let id = &session.meta.id;
        let bad = |problem: Problem| Error::Malformed {
            session: id.to_string(),
            problem,
        };
        if let Some(u) = session.unreadable.iter().find(|u| !u.from_newer_version) {
            return Err(bad(Problem::UnreadableArtifact {
                path: u.path.clone(),
                error: u.error.clone(),
            }));
        }
        let git = |source| Error::git(format!("walking the chain of {id}"), source);
        let tip = match &session.tip {
            Some(tip) => super::oid(tip)?,
            None => return Err(bad(Problem::NoTip)),
        };
        let mut walk = self.repo.revwalk().map_err(git)?;
        walk.push(tip).map_err(git)?;
        for (n, oid) in walk.enumerate() {
            let oid = oid.map_err(git)?;
            if n >= MAX_CHAIN_COMMITS {
                return Err(bad(Problem::ChainTooLong(MAX_CHAIN_COMMITS)));
            }
            let tree = self
                .repo
                .find_commit(oid)
                .and_then(|c| c.tree())
                .map_err(git)?;
            check_layout(&tree, self.repo, oid).map_err(bad)?;
        }
        Ok(())
    }

    /// Starts a new session with its first plan.
    pub fn create(&self, meta: SessionMeta, new: NewArtifact) -> Result<(Session, Artifact)> {
        let state = State::default();
        let artifact = build_artifact(&meta.id, &state, None, new, self)?;
        let meta_blob = self.blob(codec::encode_meta(&meta)?.as_bytes())?;
        let dir = self.artifacts_tree(None, &artifact)?;
        let tree = self.tree_with(
            None,
            &[
                (META_FILE, meta_blob, FileMode::Blob),
                (ARTIFACTS_DIR, dir, FileMode::Tree),
            ],
        )?;
        let name = session_ref(&meta.id);
        let commit = self.commit(&meta.title, &artifact, tree, None)?;
        match compare_and_swap(
            self.repo,
            &name,
            None,
            commit,
            &format!("handoff: plan {}", meta.id),
        )? {
            Swap::Done => {}
            Swap::Raced | Swap::Locked => {
                return Err(Error::Malformed {
                    session: meta.id.to_string(),
                    problem: Problem::AlreadyExists,
                });
            }
        }
        // New sessions leave loose refs; past a few thousand of them every listing of the refs
        // (the index's freshness check) pays for each one. Packing them is derived work: a
        // failure changes nothing.
        let _ = self.pack_refs_when_they_pile_up();
        let session = Session::new(meta, vec![artifact.clone()], Some(super::object_id(commit)));
        Ok((session, artifact))
    }

    /// Packs our refs (`git pack-refs --include 'refs/handoff/*'`, which locks each ref as any
    /// ref update does) when more than [`MAX_LOOSE_SESSION_REFS`] session refs are loose.
    /// Returns whether it packed.
    pub fn pack_refs_when_they_pile_up(&self) -> std::io::Result<bool> {
        if self.git.loose_ref_count(refs::SESSIONS_PREFIX) <= MAX_LOOSE_SESSION_REFS {
            return Ok(false);
        }
        let status = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.commondir())
            .args(["pack-refs", "--include", "refs/handoff/*"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        Ok(status.success())
    }

    /// Appends an artifact to an existing session: reads the tip, checks the state machine,
    /// writes one commit and moves the ref by compare-and-swap, retrying when another writer
    /// moved it first. Returns the session as it was read and the recorded artifact.
    pub fn append(&self, id: &SessionId, new: NewArtifact) -> Result<(Session, Artifact)> {
        let name = session_ref(id);
        let message = format!("handoff: {} {id}", new.kind);
        refs::update_with_retry(self.repo, &name, &message, || {
            // A session seen only through a remote's tracking ref gets its own ref now, on top
            // of the tracking tip (the ref must not exist yet: compare-and-swap against none).
            let (expected, tip) = match read_ref(self.repo, &name)? {
                Some(tip) => (Some(tip), tip),
                None => (
                    None,
                    self.session_tip(id)?
                        .map(|(_, tip)| tip)
                        .ok_or_else(|| Error::SessionNotFound(id.to_string()))?,
                ),
            };
            let session = self.load_at(id, tip)?;
            let latest = session.artifacts.last().map(|a| a.created);
            let artifact = build_artifact(id, &session.state, latest, new.clone(), self)?;
            let parent = self
                .repo
                .find_commit(tip)
                .map_err(|source| Error::git(format!("reading {name}"), source))?;
            let root = parent
                .tree()
                .map_err(|source| Error::git(format!("reading {name}"), source))?;
            let dir = self.artifacts_tree(Some(&root), &artifact)?;
            let tree = self.tree_with(Some(&root), &[(ARTIFACTS_DIR, dir, FileMode::Tree)])?;
            let commit = self.commit(&session.meta.title, &artifact, tree, Some(&parent))?;
            Ok(Attempt::Swap {
                expected,
                new: commit,
                value: (session, artifact),
            })
        })
    }

    fn artifacts_tree(&self, root: Option<&Tree<'_>>, artifact: &Artifact) -> Result<Oid> {
        let existing = match root.and_then(|r| r.get_name(ARTIFACTS_DIR)) {
            Some(entry) => Some(
                self.repo
                    .find_tree(entry.id())
                    .map_err(|source| Error::git("reading the artifacts tree", source))?,
            ),
            None => None,
        };
        let blob = self.blob(codec::encode_artifact(artifact)?.as_bytes())?;
        self.tree_with(
            existing.as_ref(),
            &[(&artifact.file_name(), blob, FileMode::Blob)],
        )
    }

    /// Writes `base` (or an empty tree) with `entries` inserted or replaced.
    fn tree_with(&self, base: Option<&Tree<'_>>, entries: &[(&str, Oid, FileMode)]) -> Result<Oid> {
        let git = |source| Error::git("writing a session tree", source);
        let mut builder = self.repo.treebuilder(base).map_err(git)?;
        for (name, oid, mode) in entries {
            builder.insert(name, *oid, (*mode).into()).map_err(git)?;
        }
        crate::git::write_object(self.repo, || builder.write())
            .map_err(|source| self.write_failed("writing a session tree", source, 4096))
    }

    pub(super) fn blob(&self, data: &[u8]) -> Result<Oid> {
        crate::git::write_object(self.repo, || self.repo.blob(data))
            .map_err(|source| self.write_failed("writing a blob", source, data.len()))
    }

    /// The error for an object write of about `len` bytes that failed: libgit2's, or, when it
    /// could not say why (on a full disk it may say "no error"), what the file system says
    /// when the objects directory is written to.
    fn write_failed(&self, action: &str, source: git2::Error, len: usize) -> Error {
        if !crate::git::unexplained_failure(&source) {
            return Error::git(action, source);
        }
        let objects = self.repo.commondir().join("objects");
        match crate::git::probe_write(&objects, len) {
            Some(io) => Error::Write {
                action: action.to_owned(),
                path: objects,
                source: io,
            },
            None => Error::git(action, source),
        }
    }

    fn commit(
        &self,
        title: &str,
        artifact: &Artifact,
        tree: Oid,
        parent: Option<&git2::Commit<'_>>,
    ) -> Result<Oid> {
        let sig = self.signature(artifact.created)?;
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(|source| Error::git("reading a tree just written", source))?;
        let message = format!(
            "{}: {} [{}]\n",
            artifact.kind,
            one_line(title),
            artifact.status
        );
        let parents: Vec<&git2::Commit<'_>> = parent.into_iter().collect();
        crate::git::write_object(self.repo, || {
            self.repo
                .commit(None, &sig, &sig, &message, &tree, &parents)
        })
        .map_err(|source| self.write_failed("writing a session commit", source, message.len()))
    }
}

/// Fills in id, author, iteration and status; refuses transitions unless forced.
///
/// The created time is made strictly later than the latest artifact the writer saw, so that
/// replay order (created, then id) follows the chain even when a script records several steps
/// within one millisecond or the clock is fixed or stepped back.
fn build_artifact(
    id: &SessionId,
    state: &State,
    latest: Option<DateTime<Utc>>,
    mut new: NewArtifact,
    store: &Store<'_>,
) -> Result<Artifact> {
    if let Some(latest) = latest {
        new.created = new.created.max(latest + chrono::Duration::milliseconds(1));
    }
    let refused = if new.abandon {
        None
    } else {
        state.check(new.kind, id.as_str()).err()
    };
    if let (Some(err), false) = (&refused, new.force) {
        return Err(err.clone().into());
    }
    let after = if new.abandon {
        state.abandoned()
    } else {
        state.apply(new.kind, new.verdict)
    };
    let status = after.status.unwrap_or(Status::AwaitingCodexReview);
    let (name, email) = super::identity(store.repo).ok_or(Error::NoIdentity)?;
    let created_st: std::time::SystemTime = new.created.into();
    Ok(Artifact {
        schema_version: if !new.commits.is_empty() {
            crate::session::COMMITS_SCHEMA_VERSION
        } else if new.retracts.is_some() {
            crate::session::RETRACTION_SCHEMA_VERSION
        } else {
            SCHEMA_VERSION
        },
        id: crate::random::ulid_at(created_st),
        session: id.clone(),
        kind: new.kind,
        agent: new.agent,
        created: new.created,
        author: format!("{name} <{email}>"),
        iteration: after.iteration.max(1),
        status,
        verdict: new.verdict,
        range: new.range,
        commits: new.commits,
        forced: refused.is_some(),
        findings: new.findings,
        retracts: new.retracts,
        body: new.body,
    })
}

/// Loose session refs tolerated before they are packed (see
/// [`Store::pack_refs_when_they_pile_up`]). Small, because the index's freshness check after a
/// write re-reads every loose session ref (index/refresh.rs): at 128 that is under a
/// millisecond, and `git pack-refs` (about 15 ms at 10,000 refs) runs once per 128 writes.
pub const MAX_LOOSE_SESSION_REFS: usize = 128;

/// The longest session chain accepted from a remote (a session has one commit per artifact).
pub const MAX_CHAIN_COMMITS: usize = 10_000;

/// Checks one session tree (of `commit`) against docs/format.md.
fn check_layout(
    root: &Tree<'_>,
    repo: &Repository,
    commit: Oid,
) -> std::result::Result<(), Problem> {
    if let Some(problem) = root_problem(root, Some(commit)) {
        return Err(problem);
    }
    let Some(entry) = root.get_name(ARTIFACTS_DIR) else {
        return Ok(());
    };
    let dir = repo
        .find_tree(entry.id())
        .map_err(|_| Problem::ArtifactsNotADirectory)?;
    for file in dir.iter() {
        let name = String::from_utf8_lossy(file.name_bytes());
        if file.filemode() != i32::from(FileMode::Blob) || !is_artifact_name(&name) {
            return Err(Problem::UnexpectedEntry {
                name: crate::session::codec::excerpt(&format!("{ARTIFACTS_DIR}/{name}")),
                mode: file.filemode(),
                commit: Some(commit),
            });
        }
    }
    Ok(())
}

/// The first entry at the top of a session tree that docs/format.md does not allow: only
/// `session.toml` (a plain file) and `artifacts` (a directory).
fn root_problem(root: &Tree<'_>, commit: Option<Oid>) -> Option<Problem> {
    let blob = i32::from(FileMode::Blob);
    let tree = i32::from(FileMode::Tree);
    root.iter()
        .find(|e| {
            let mode = e.filemode();
            !((e.name_bytes() == META_FILE.as_bytes() && mode == blob)
                || (e.name_bytes() == ARTIFACTS_DIR.as_bytes() && mode == tree))
        })
        .map(|odd| Problem::UnexpectedEntry {
            name: crate::session::codec::excerpt(&String::from_utf8_lossy(odd.name_bytes())),
            mode: odd.filemode(),
            commit,
        })
}

/// `<26 Crockford base32 characters>-<kind>.md`.
fn is_artifact_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".md") else {
        return false;
    };
    let Some((ulid, kind)) = stem.split_once('-') else {
        return false;
    };
    ulid.len() == 26
        && ulid
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && kind.parse::<Kind>().is_ok()
}

/// Reads a blob, refusing oversized or non-blob objects before inflating them.
fn read_blob(repo: &Repository, id: &SessionId, path: &str, oid: Oid) -> Result<Vec<u8>> {
    match super::blobs::read_bounded(repo, oid, MAX_FILE_BYTES) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(Refused::NotABlob(_))) => Err(Error::Malformed {
            session: id.to_string(),
            problem: Problem::NotAFile(crate::session::codec::excerpt(path)),
        }),
        Ok(Err(Refused::TooLarge(size))) => Err(Error::Corrupt {
            session: id.to_string(),
            path: path.to_owned(),
            source: DecodeError::TooLarge { size },
        }),
        Err(source) => Err(Error::git(format!("reading {path} of {id}"), source)),
    }
}

/// The first line of `text` with control characters dropped, for a commit subject.
pub(crate) fn one_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect::<String>()
        .trim()
        .to_owned()
}
