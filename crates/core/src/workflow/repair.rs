//! `git handoff repair`: re-attaches sessions to commits that no local hook saw being made
//! (a cherry-pick elsewhere, a forge's squash or rebase merge): first by `Handoff-Session:`
//! trailer, then by patch-id — a commit whose change equals one of a session's recorded
//! commits, or all of them when they are contiguous (a squash), gets that session's note lines.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::git::Oid;
use serde::Serialize;

use crate::session::Kind;
use crate::store::{Additions, NoteLine, parse_note};
use crate::workflow::Handoff;
use crate::workflow::why::mentioned_sessions;

/// Most commits `repair` looks at without `--range`.
pub const DEFAULT_DEPTH: usize = 2_000;

/// One re-attached link.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Relink {
    /// The commit that gained note lines.
    pub commit: String,
    /// The session linked.
    pub session: String,
    /// `trailer` or `patch-id`.
    pub by: &'static str,
}

/// Finds and records missing links in the commits `revisions` names with git's revision forms
/// (default: the last [`DEFAULT_DEPTH`] commits of HEAD). With `dry_run`, reports without
/// writing.
pub fn repair(
    handoff: &Handoff,
    revisions: Option<&str>,
    dry_run: bool,
) -> super::Result<Vec<Relink>> {
    let repo = &handoff.repo;
    let store = handoff.store();
    let candidates = candidates(handoff, revisions)?;
    let reader = store.notes_reader()?;
    let note_of = |oid: Oid| -> super::Result<Vec<NoteLine>> {
        Ok(match &reader {
            Some(r) => r.get(oid)?.map(|t| parse_note(&t)).unwrap_or_default(),
            None => Vec::new(),
        })
    };
    // Patch-ids of every noted commit and of every session's recorded range.
    let mut by_patch: HashMap<Oid, BTreeSet<NoteLine>> = HashMap::new();
    for listed in store.list()? {
        let Ok(session) = listed.result else { continue };
        for artifact in &session.artifacts {
            if artifact.range.is_none() && artifact.commits.is_empty() {
                continue;
            }
            let kind = if artifact.kind == Kind::Validation {
                Kind::Validation
            } else {
                Kind::Implementation
            };
            let line = NoteLine {
                session: session.meta.id.clone(),
                kind,
            };
            if let Some(range) = &artifact.range
                && let Ok(id) = repo.range_patch_id(range)
            {
                by_patch.entry(id).or_default().insert(line.clone());
            }
            for commit in handoff.artifact_commits(artifact).unwrap_or_default() {
                if let Ok(Some(id)) = repo.commit_patch_id(commit) {
                    by_patch.entry(id).or_default().insert(line.clone());
                }
            }
        }
    }
    let mut additions = Additions::new();
    let mut relinks = Vec::new();
    for oid in candidates {
        let noted: BTreeSet<_> = note_of(oid)?.into_iter().map(|l| l.session).collect();
        let message = repo.commit_message(oid)?;
        let mut add = |line: NoteLine, by: &'static str, additions: &mut Additions| {
            if !noted.contains(&line.session)
                && additions.get(&oid).is_none_or(|set| {
                    set.iter()
                        .flat_map(|l| parse_note(l))
                        .all(|n| n.session != line.session)
                })
            {
                relinks.push(Relink {
                    commit: oid.to_string(),
                    session: line.session.to_string(),
                    by,
                });
                additions.entry(oid).or_default().insert(line.to_bytes());
            }
        };
        for session in mentioned_sessions(&message) {
            add(
                NoteLine {
                    session,
                    kind: Kind::Implementation,
                },
                "trailer",
                &mut additions,
            );
        }
        if let Ok(Some(id)) = repo.commit_patch_id(oid) {
            for line in by_patch.get(&id).into_iter().flatten() {
                add(line.clone(), "patch-id", &mut additions);
            }
        }
    }
    drop(reader);
    if !dry_run && !additions.is_empty() {
        store.add_note_lines(&additions, "handoff: repair links")?;
    }
    Ok(relinks)
}

fn candidates(handoff: &Handoff, revisions: Option<&str>) -> super::Result<Vec<Oid>> {
    if let Some(spec) = revisions {
        return Ok(handoff.repo.rev_list(spec)?);
    }
    let Some(head) = handoff.head()? else {
        return Ok(Vec::new());
    };
    Ok(handoff.repo.history(head, DEFAULT_DEPTH)?)
}

/// Groups relinks by session for reporting.
pub fn by_session(relinks: &[Relink]) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for r in relinks {
        *out.entry(r.session.as_str()).or_default() += 1;
    }
    out
}
