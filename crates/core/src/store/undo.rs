//! Taking back the last artifact of a session that has not been shared: the session ref moves
//! back one commit (its reflog keeps the artifact), never past what a remote has.

use git2::Oid;

use super::refs::{self, Swap, compare_and_swap, read_ref, session_ref};
use super::{Error, Result, Store};
use crate::session::SessionId;

/// Why the last artifact cannot be taken back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Only a remote has the session: there is nothing of ours to take back.
    #[error("{0} is only a remote's (nothing was recorded on it here)")]
    NotLocal(SessionId),
    /// The artifact is the session's first: taking it back would delete the session.
    #[error("the last artifact of {0} is its first plan; abandon the session instead")]
    FirstArtifact(SessionId),
    /// The tip merges two clones' work, which both sides have.
    #[error("the last change of {0} merges another clone's work, which is shared")]
    Merge(SessionId),
    /// The last artifact is a retraction (taking it back would bring the other one back).
    #[error("the last artifact of {0} is a retraction; record the step again instead")]
    Retraction(SessionId),
    /// A remote has the artifact already.
    #[error(
        "the last artifact of {id} is on {remote} already; undoing it would rewrite shared history"
    )]
    Pushed {
        /// The session.
        id: SessionId,
        /// The remote that has it.
        remote: String,
    },
}

/// What was taken back.
#[derive(Debug, Clone)]
pub struct Undone {
    /// The commit the ref pointed at (kept by the reflog).
    pub from: Oid,
    /// The commit it points at now.
    pub to: Oid,
}

impl Store<'_> {
    /// Whether the last change to the session's ref was an undo (its newest reflog entry).
    pub fn last_change_was_undo(&self, id: &SessionId) -> Result<bool> {
        let name = session_ref(id);
        let reflog = self
            .repo
            .reflog(&name)
            .map_err(|source| Error::git(format!("reading the reflog of {name}"), source))?;
        Ok(reflog
            .get(0)
            .and_then(|entry| {
                entry
                    .message()
                    .ok()
                    .flatten()
                    .map(|m| m.starts_with("handoff: undo"))
            })
            .unwrap_or(false))
    }

    /// Moves the session ref back over its last artifact when no remote has that artifact.
    /// Returns the refusal, or what moved.
    pub fn undo_last(
        &self,
        id: &SessionId,
        reason: &str,
    ) -> Result<std::result::Result<Undone, Refusal>> {
        let name = session_ref(id);
        let Some(tip) = read_ref(self.repo, &name)? else {
            return Ok(Err(Refusal::NotLocal(id.clone())));
        };
        let commit = self
            .repo
            .find_commit(tip)
            .map_err(|source| Error::git(format!("reading {name}"), source))?;
        let parent = match commit.parent_count() {
            0 => return Ok(Err(Refusal::FirstArtifact(id.clone()))),
            1 => commit
                .parent_id(0)
                .map_err(|source| Error::git(format!("reading the parent of {tip}"), source))?,
            _ => return Ok(Err(Refusal::Merge(id.clone()))),
        };
        for (tracking, remote_tip) in
            self.refs_under(&format!("{}*/sessions/{id}", refs::TRACKING_PREFIX))?
        {
            let has_it = remote_tip == tip
                || self
                    .repo
                    .graph_descendant_of(remote_tip, tip)
                    .unwrap_or(false);
            if has_it {
                let remote = tracking
                    .strip_prefix(refs::TRACKING_PREFIX)
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or("a remote")
                    .to_owned();
                return Ok(Err(Refusal::Pushed {
                    id: id.clone(),
                    remote,
                }));
            }
        }
        match compare_and_swap(
            self.repo,
            &name,
            Some(tip),
            parent,
            &format!("handoff: undo {reason}"),
        )? {
            Swap::Done => Ok(Ok(Undone {
                from: tip,
                to: parent,
            })),
            Swap::Raced | Swap::Locked => Err(Error::Contended { name, attempts: 1 }),
        }
    }
}
