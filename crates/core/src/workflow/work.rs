//! A session is its commits (docs/format.md, "A session is its commits"): which commits make up
//! a session's work, and the diff a validator reads of them.
//!
//! Membership, in order of precedence:
//! - `--range` names them with git's revision forms ([`crate::git::Repo::rev_list`]);
//! - otherwise the commits that carry the session's `Handoff-Session:` trailer on this branch
//!   since the session's base, plus the commits its last recorded work lists (as rewrites
//!   carried them on);
//! - a session none of whose commits carries its trailer (the hooks were not installed) falls
//!   back to the commits since its base that carry no trailer at all, leaving out what the
//!   branch's upstream brought in, and says so.

use std::collections::{BTreeMap, HashSet};

use crate::git::{Oid, RangeDiff};
use crate::session::{Artifact, Kind, ObjectId, Range, Session, SessionId};
use crate::store;

use super::why::mentioned_sessions;
use super::{Handoff, Result};

/// The longest history searched for a session's trailers when it has no base.
const MAX_WALK: usize = 500_000;

/// A session's work: its commits, oldest first, and the range they make when contiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// The commits, oldest first.
    pub commits: Vec<Oid>,
    /// `base..head` holding exactly these commits, when they form one unbroken line.
    pub range: Option<Range>,
}

impl Work {
    /// The work of `commits` (oldest first, no duplicates).
    pub fn of(handoff: &Handoff, commits: Vec<Oid>) -> Self {
        let range = handoff.repo.contiguous_range(&commits);
        Self { commits, range }
    }

    /// The commits as stored (full object names, oldest first).
    pub fn object_ids(&self) -> Vec<ObjectId> {
        self.commits.iter().map(|c| store::object_id(*c)).collect()
    }

    /// How the work is named to people: `base..head` when contiguous, else the commits'
    /// short names.
    pub fn describe(&self) -> String {
        match &self.range {
            Some(range) => range.to_string(),
            None => describe_commits(&self.object_ids()),
        }
    }

    /// The git command that shows this work in full.
    pub fn git_command(&self) -> String {
        match &self.range {
            Some(range) => format!("git diff {range}"),
            None => format!("git show {}", self.describe()),
        }
    }
}

/// Short names of commits, separated by spaces.
pub fn describe_commits(commits: &[ObjectId]) -> String {
    commits
        .iter()
        .map(|c| c.short(12))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How [`Handoff::default_work`] found the commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// By the session's trailer (and its recorded commits).
    Trailer,
    /// No commit carried the trailer: the untagged commits since the base. Commits since the
    /// base that carry other sessions' trailers are counted per session (they were left out).
    Untagged {
        /// Other sessions whose commits were passed over, with how many.
        others: BTreeMap<SessionId, usize>,
    },
}

impl Handoff {
    /// The session's latest recorded work (its commits, or the range of an artifact written
    /// before schema 3), `None` before an implementation. Commits this clone lacks are an
    /// error that says so.
    pub fn recorded_work(&self, session: &Session) -> Result<Option<Work>> {
        let Some(artifact) = session.work() else {
            return Ok(None);
        };
        Ok(Some(Work {
            commits: self.artifact_commits(artifact)?,
            range: artifact.range.clone(),
        }))
    }

    /// The commits an artifact records, oldest first: its `commits` (schema 3), or what its
    /// `range` holds for one written before; none for an artifact with neither.
    pub fn artifact_commits(&self, artifact: &Artifact) -> Result<Vec<Oid>> {
        if !artifact.commits.is_empty() {
            return Ok(artifact
                .commits
                .iter()
                .map(|c| self.repo.oid(c))
                .collect::<std::result::Result<Vec<_>, _>>()?);
        }
        let Some(range) = &artifact.range else {
            return Ok(Vec::new());
        };
        let mut commits = self.repo.commits_in(range)?;
        commits.reverse();
        Ok(commits)
    }

    /// The diff the validator reads: `git diff base..head` when the work is contiguous, else
    /// each commit's patch in order with their combined stat. `None` before an implementation.
    pub fn work_diff(
        &self,
        session: &Session,
        max_bytes: usize,
    ) -> Result<Option<(Work, RangeDiff)>> {
        let Some(work) = self
            .recorded_work(session)
            .map_err(|e| self.beyond_shallow(e))?
        else {
            return Ok(None);
        };
        let diff = match &work.range {
            Some(range) => self.repo.range_diff(range, max_bytes),
            None => self.repo.commits_diff(&work.commits, max_bytes),
        }
        .map_err(|e| self.beyond_shallow(e.into()))?;
        Ok(Some((work, diff)))
    }

    /// In a shallow clone, "object not found" for a session's commits means they lie past the
    /// clone's depth: say so, and how to get them.
    fn beyond_shallow(&self, error: super::Error) -> super::Error {
        let missing = matches!(&error, super::Error::Git(e) if e.is_missing_object());
        if missing && self.repo.is_shallow() {
            super::Error::Shallow(error.to_string())
        } else {
            error
        }
    }

    /// The commits `spec` names with git's revision forms, oldest first.
    pub fn work_of_spec(&self, spec: &str) -> Result<Work> {
        Ok(Work::of(self, self.repo.rev_list(spec)?))
    }

    /// What `implement` records by default: the commits carrying the session's trailer on
    /// this branch since its base, plus its recorded commits; see the module documentation.
    pub fn default_work(&self, session: &Session) -> Result<(Work, Found)> {
        let id = &session.meta.id;
        let head = self.head()?.ok_or_else(|| crate::git::Error::BadRange {
            range: "HEAD".into(),
            problem: "HEAD has no commits yet; commit the implementation first".into(),
        })?;
        let base = session
            .meta
            .base
            .as_ref()
            .and_then(|b| self.repo.oid(b).ok())
            .filter(|b| self.repo.peel_to_commit(*b).is_some());
        let mut members: Vec<Oid> = Vec::new();
        let mut untagged: Vec<Oid> = Vec::new();
        let mut others: BTreeMap<SessionId, usize> = BTreeMap::new();
        // Each commit is read once: its message says whose it is, its parents whether the
        // session's commits are one unbroken range.
        let mut parents: std::collections::HashMap<Oid, Vec<Oid>> = Default::default();
        self.repo
            .walk_commits(&[head], base.as_slice(), MAX_WALK, |oid, message, of| {
                let sessions = mentioned_sessions(&String::from_utf8_lossy(message));
                if sessions.contains(id) {
                    members.push(oid);
                    parents.insert(oid, of.to_vec());
                } else if sessions.is_empty() {
                    untagged.push(oid);
                    parents.insert(oid, of.to_vec());
                } else {
                    for other in sessions {
                        *others.entry(other).or_default() += 1;
                    }
                }
            })?;
        // The work of `commits`, with the parents read by the walk.
        let work_of = |commits: Vec<Oid>| -> Work {
            let range = crate::git::contiguous(&commits, |oid| {
                parents
                    .get(&oid)
                    .cloned()
                    .or_else(|| self.repo.parents(oid))
            });
            Work { commits, range }
        };
        // The walk lists them newest first already; the recorded commits it did not reach
        // (on another branch, or rewritten away from HEAD) need ordering with them.
        let reached: HashSet<Oid> = members.iter().copied().collect();
        let elsewhere: Vec<Oid> = self
            .recorded_work(session)
            .ok()
            .flatten()
            .map(|previous| previous.commits)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !reached.contains(c) && self.repo.peel_to_commit(*c).is_some())
            .collect();
        if !members.is_empty() || !elsewhere.is_empty() {
            let commits = if elsewhere.is_empty() {
                members.reverse();
                members
            } else {
                members.extend(elsewhere);
                self.repo.oldest_first(&members, base.as_slice())?
            };
            return Ok((work_of(commits), Found::Trailer));
        }
        // No trailer anywhere: the untagged commits since the base, less the upstream's.
        let upstream_base = self
            .repo
            .upstream_merge_base(head)
            .filter(|u| base.is_none_or(|b| *u != b && self.repo.descends(*u, b)));
        let upstream: HashSet<Oid> = match upstream_base {
            Some(u) => self
                .repo
                .walk(&[u], base.as_slice(), MAX_WALK)?
                .into_iter()
                .collect(),
            None => HashSet::new(),
        };
        let mut commits: Vec<Oid> = untagged
            .into_iter()
            .filter(|c| !upstream.contains(c))
            .collect();
        commits.reverse();
        Ok((work_of(commits), Found::Untagged { others }))
    }

    /// Commits of `work` whose trailer names another session (work credited to one session
    /// must not silently be recorded as another's), counted per session.
    pub(super) fn credited_elsewhere(
        &self,
        id: &SessionId,
        commits: &[Oid],
    ) -> Result<Vec<String>> {
        let mut others: BTreeMap<SessionId, usize> = BTreeMap::new();
        for oid in commits {
            for other in mentioned_sessions(&self.repo.commit_message(*oid)?) {
                if &other != id {
                    *others.entry(other).or_default() += 1;
                }
            }
        }
        Ok(others
            .into_iter()
            .map(|(other, n)| {
                format!("{n} of the recorded commits carry the trailer of another session, {other}")
            })
            .collect())
    }

    /// The work an implementation or validation records: `spec` when given; for a
    /// validation the latest recorded work; for an implementation [`Handoff::default_work`].
    /// Returns it with warnings for the user, and what to say when it holds no commit.
    pub(super) fn work_for(
        &self,
        kind: Kind,
        spec: Option<&str>,
        session: &Session,
    ) -> Result<(Work, Vec<String>, String)> {
        if let Some(spec) = spec {
            let work = self.work_of_spec(spec)?;
            let warnings = if kind == Kind::Implementation {
                self.credited_elsewhere(&session.meta.id, &work.commits)?
            } else {
                Vec::new()
            };
            let empty = format!(
                "the range {} holds no commit",
                crate::session::codec::excerpt(spec)
            );
            return Ok((work, warnings, empty));
        }
        if kind == Kind::Validation
            && let Some(work) = self.recorded_work(session)?
        {
            return Ok((work, Vec::new(), "its recorded work holds no commit".into()));
        }
        let (work, found) = self.default_work(session)?;
        let id = &session.meta.id;
        let mut warnings = Vec::new();
        let mut empty = "no commit on this branch since its base carries its trailer".to_owned();
        if let Found::Untagged { others } = &found {
            if !work.commits.is_empty() {
                warnings.push(format!(
                    "no commit carries the trailer of {id}, so the {n} commit(s) since its base without a trailer were taken; \
                     'git handoff start {id}' before committing (with the hooks of 'git handoff init') makes the session's commits explicit",
                    n = work.commits.len()
                ));
            }
            let named: Vec<String> = others
                .iter()
                .map(|(other, n)| format!("{n} of {other}"))
                .collect();
            if !named.is_empty() {
                let passed = format!(
                    "commits of other sessions were left out ({})",
                    named.join(", ")
                );
                if work.commits.is_empty() {
                    empty = format!("{empty}, and {passed}");
                } else {
                    warnings.push(passed);
                }
            }
        }
        Ok((work, warnings, empty))
    }
}
