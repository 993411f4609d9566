//! Merging a remote's copy of a session into ours (docs/format.md, "A session"): fast-forward, or a merge
//! commit whose tree holds the union of both artifact sets. Artifacts are immutable files named
//! by ULID, so the union is by file name and nothing is ever dropped; status is derived by
//! replay, so both clones end with the same status.

use git2::{FileMode, Oid};

use super::refs::{self, Attempt, read_ref, session_ref};
use super::sessions::ARTIFACTS_DIR;
use super::{Error, Result, Store};
use crate::session::{Session, SessionId};

/// What merging one session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionMerge {
    /// We already had everything.
    UpToDate,
    /// A session we did not have.
    Created,
    /// We were behind.
    FastForward,
    /// Both sides had artifacts the other lacked.
    Merged {
        /// Artifacts taken from theirs.
        added: usize,
        /// Artifact files present on both sides with different content (ours kept).
        conflicts: Vec<String>,
    },
}

/// One planned ref update of a batch merge (`update` is `None` when nothing is written).
struct Planned {
    id: SessionId,
    update: Option<(String, Option<Oid>, Oid)>,
    outcome: SessionMerge,
}

impl Planned {
    /// A session new to this clone, visible from its tracking ref with no write.
    fn visible(id: &SessionId) -> Self {
        Self {
            id: id.clone(),
            update: None,
            outcome: SessionMerge::Created,
        }
    }
}

impl Store<'_> {
    /// Merges many remote sessions at once: each is validated and decided on its own (a bad one
    /// is an error in its slot, never a reason to skip the others). A session new to this clone
    /// needs no write (it is read from its tracking ref); the others are updated by
    /// compare-and-swap, and one that raced falls back to [`Store::merge_session`]'s retries.
    pub fn merge_sessions(
        &self,
        remotes: &[(SessionId, Oid)],
        reporter: &dyn crate::report::Reporter,
    ) -> Vec<(SessionId, Result<SessionMerge>)> {
        let mut results: Vec<(SessionId, Result<SessionMerge>)> = Vec::with_capacity(remotes.len());
        let mut planned: Vec<Planned> = Vec::new();
        let validated = crate::report::timed(reporter, "validate remote sessions", || {
            self.load_many(remotes)
        });
        for ((id, theirs), remote) in remotes.iter().zip(validated) {
            let checked = remote.and_then(|remote| self.check_remote(&remote).map(|()| remote));
            match checked.and_then(|remote| self.plan_merge(id, *theirs, &remote)) {
                Ok(Some(p)) => planned.push(p),
                Ok(None) => results.push((id.clone(), Ok(SessionMerge::UpToDate))),
                Err(e) => results.push((id.clone(), Err(e))),
            }
        }
        if planned.is_empty() {
            return results;
        }
        let updates: Vec<(String, Option<Oid>, Oid)> =
            planned.iter().filter_map(|p| p.update.clone()).collect();
        let mut applied = crate::report::timed(reporter, "update refs", || {
            refs::update_many(self.repo, &updates, "handoff: merge from a remote")
        })
        .into_iter();
        for p in planned {
            if p.update.is_none() {
                results.push((p.id, Ok(p.outcome)));
                continue;
            }
            if matches!(applied.next(), Some(Ok(()))) {
                results.push((p.id, Ok(p.outcome)));
                continue;
            }
            // Another writer moved the ref meanwhile (or holds its lock): merge this one
            // again with the retrying compare-and-swap.
            let theirs = remotes.iter().find(|(id, _)| *id == p.id).map(|(_, t)| *t);
            let result = match theirs {
                Some(t) => self.merge_session(&p.id, t),
                None => Ok(SessionMerge::UpToDate),
            };
            results.push((p.id, result));
        }
        results
    }

    /// Loads (and so validates) many sessions, spread over the machine's cores: each thread
    /// opens its own handle on the repository. Results are in input order.
    pub fn load_many(&self, sessions: &[(SessionId, Oid)]) -> Vec<Result<Session>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        if threads < 2 || sessions.len() < 64 {
            return sessions
                .iter()
                .map(|(id, tip)| self.load_at(id, *tip))
                .collect();
        }
        let chunk = sessions.len().div_ceil(threads);
        let path = self.repo.path().to_path_buf();
        let failed = |problem: String| Error::Malformed {
            session: "(validation)".to_owned(),
            problem: super::Problem::Validation(problem),
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = sessions
                .chunks(chunk)
                .map(|part| {
                    let path = path.clone();
                    let handle = scope.spawn(move || match crate::git::Repo::open(&path) {
                        Ok(repo) => {
                            let store = Store::new(&repo);
                            part.iter()
                                .map(|(id, tip)| store.load_at(id, *tip))
                                .collect::<Vec<_>>()
                        }
                        Err(e) => part
                            .iter()
                            .map(|_| Err(failed(format!("cannot open the repository: {e}"))))
                            .collect(),
                    });
                    (part.len(), handle)
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|(len, h)| {
                    h.join().unwrap_or_else(|_| {
                        (0..len)
                            .map(|_| Err(failed("a validation thread panicked".to_owned())))
                            .collect()
                    })
                })
                .collect()
        })
    }

    /// Decides what to do with their (validated) session; `None` when we are up to date.
    fn plan_merge(&self, id: &SessionId, theirs: Oid, remote: &Session) -> Result<Option<Planned>> {
        let name = session_ref(id);
        let ours = read_ref(self.repo, &name)?;
        let (new, outcome) = match ours {
            // New to this clone: served from the tracking ref until it changes here.
            None => return Ok(Some(Planned::visible(id))),
            Some(o) if o == theirs || self.descends(o, theirs)? => return Ok(None),
            Some(o) if self.descends(theirs, o)? => (theirs, SessionMerge::FastForward),
            Some(o) => self.merge_commit(id, o, remote)?,
        };
        Ok(Some(Planned {
            id: id.clone(),
            update: Some((name, ours, new)),
            outcome,
        }))
    }

    /// Merges `theirs` (a commit of a remote's chain for session `id`, already validated by
    /// loading it) into the local ref.
    pub fn merge_session(&self, id: &SessionId, theirs: Oid) -> Result<SessionMerge> {
        let remote = self.load_at(id, theirs)?;
        self.check_remote(&remote)?;
        let name = session_ref(id);
        let message = format!("handoff: merge {id} from a remote");
        refs::update_with_retry(self.repo, &name, &message, || {
            let ours = read_ref(self.repo, &name)?;
            let (new, value) = match ours {
                None => return Ok(Attempt::Finished(SessionMerge::Created)),
                Some(o) if o == theirs || self.descends(o, theirs)? => {
                    return Ok(Attempt::Finished(SessionMerge::UpToDate));
                }
                Some(o) if self.descends(theirs, o)? => (theirs, SessionMerge::FastForward),
                Some(o) => self.merge_commit(id, o, &remote)?,
            };
            Ok(Attempt::Swap {
                expected: ours,
                new,
                value,
            })
        })
    }

    /// Whether `descendant` contains `ancestor` in its history.
    fn descends(&self, descendant: Oid, ancestor: Oid) -> Result<bool> {
        self.repo
            .graph_descendant_of(descendant, ancestor)
            .map_err(|source| Error::git("comparing session histories", source))
    }

    /// Writes the merge commit of our tip `ours` and the remote session.
    fn merge_commit(
        &self,
        id: &SessionId,
        ours: Oid,
        remote: &Session,
    ) -> Result<(Oid, SessionMerge)> {
        let git = |action: &'static str| move |source| Error::git(action, source);
        let local = self.load_at(id, ours)?;
        let our_commit = self
            .repo
            .find_commit(ours)
            .map_err(git("reading our session commit"))?;
        let their_commit = self
            .repo
            .find_commit(match &remote.tip {
                Some(tip) => super::oid(tip)?,
                None => return Err(Error::SessionNotFound(id.to_string())),
            })
            .map_err(git("reading their session commit"))?;
        let our_root = our_commit.tree().map_err(git("reading our session tree"))?;
        let their_root = their_commit
            .tree()
            .map_err(git("reading their session tree"))?;
        let dir_of = |root: &git2::Tree<'_>| -> Result<Option<git2::Tree<'_>>> {
            root.get_name(ARTIFACTS_DIR)
                .map(|e| self.repo.find_tree(e.id()))
                .transpose()
                .map_err(git("reading an artifacts tree"))
        };
        let our_dir = dir_of(&our_root)?;
        let their_dir = dir_of(&their_root)?;
        let mut builder = self
            .repo
            .treebuilder(our_dir.as_ref())
            .map_err(git("building the merged artifacts tree"))?;
        let mut added = 0;
        let mut conflicts = Vec::new();
        for entry in their_dir.iter().flat_map(git2::Tree::iter) {
            let file = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            match our_dir.as_ref().and_then(|d| d.get_name(&file)) {
                None => {
                    builder
                        .insert(&file, entry.id(), FileMode::Blob.into())
                        .map_err(git("building the merged artifacts tree"))?;
                    added += 1;
                }
                Some(ours) if ours.id() != entry.id() => conflicts.push(file),
                Some(_) => {}
            }
        }
        let dir = crate::git::write_object(self.repo, || builder.write())
            .map_err(git("writing the merged artifacts tree"))?;
        let mut root = self
            .repo
            .treebuilder(Some(&our_root))
            .map_err(git("building the merged session tree"))?;
        root.insert(ARTIFACTS_DIR, dir, FileMode::Tree.into())
            .map_err(git("building the merged session tree"))?;
        let tree = crate::git::write_object(self.repo, || root.write())
            .map_err(git("writing the merged session tree"))?;
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(git("reading the merged session tree"))?;
        let mut artifacts = local.artifacts.clone();
        for a in &remote.artifacts {
            if !artifacts.iter().any(|x| x.id == a.id) {
                artifacts.push(a.clone());
            }
        }
        let merged = Session::new(local.meta.clone(), artifacts, None);
        let status = merged.state.status.map_or("-", |s| s.as_str());
        let sig = self.signature(crate::clock::now())?;
        let message = format!(
            "merge: {} [{status}]\n",
            super::sessions::one_line(&local.meta.title)
        );
        let commit = crate::git::write_object(self.repo, || {
            self.repo.commit(
                None,
                &sig,
                &sig,
                &message,
                &tree,
                &[&our_commit, &their_commit],
            )
        })
        .map_err(git("writing the merge commit"))?;
        Ok((commit, SessionMerge::Merged { added, conflicts }))
    }
}
