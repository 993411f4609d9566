//! Sharing between clones (README, "Sharing between clones"): `pull` fetches a remote's sessions and notes into tracking
//! refs and merges them into ours; `push` sends ours, never forced, and on rejection pulls,
//! merges and retries a bounded number of times. Data from a remote is untrusted: a session
//! that does not load is reported on its own and left out of the merge.

use serde::Serialize;

use crate::session::SessionId;
use crate::store::refs::{NOTES_REF, SESSIONS_PREFIX};
use crate::store::transport::{self, tracking_name, tracking_notes, tracking_prefix};
use crate::store::{NotesMerge, SessionMerge};
use crate::workflow::Handoff;

/// How many times `push` pulls and retries after a rejection.
pub const PUSH_ATTEMPTS: u32 = 3;

/// Why sharing failed as a whole (per-session problems are in the reports).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to the remote failed.
    #[error(transparent)]
    Transport(#[from] transport::Error),
    /// Local git work failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The remote kept moving.
    #[error(
        "{remote} kept rejecting the push after {PUSH_ATTEMPTS} pull-merge-retry rounds: {refs}"
    )]
    StillRejected {
        /// The remote.
        remote: String,
        /// The refs still rejected.
        refs: String,
    },
}

/// What `pull` did.
#[derive(Debug, Default, Serialize)]
pub struct PullReport {
    /// The remote.
    pub remote: String,
    /// Sessions new to this clone.
    pub created: Vec<String>,
    /// Sessions we were behind on.
    pub fast_forwarded: Vec<String>,
    /// Sessions both sides had changed (merge commits).
    pub merged: Vec<String>,
    /// Sessions already up to date.
    pub up_to_date: usize,
    /// Remote sessions that could not be read or merged, with why.
    pub rejected: Vec<Rejected>,
    /// Artifact files that differ between the clones (ours kept), per session.
    pub conflicts: Vec<Rejected>,
    /// What happened to the notes: `none`, `up-to-date`, `copied`, `fast-forward`, `merged`.
    pub notes: &'static str,
}

/// A remote session we did not take, and why.
#[derive(Debug, Serialize)]
pub struct Rejected {
    /// The tracking ref.
    #[serde(rename = "ref")]
    pub refname: String,
    /// The problem.
    pub error: String,
}

/// What `push` did.
#[derive(Debug, Default, Serialize)]
pub struct PushReport {
    /// The remote.
    pub remote: String,
    /// Refs the remote accepted.
    pub pushed: Vec<String>,
    /// Pull-merge rounds needed after rejections.
    pub retries: u32,
    /// The pulls done for those retries.
    pub pulls: Vec<PullReport>,
    /// Refs the remote refused for a reason other than a race, with the server's words.
    pub refused: Vec<Rejected>,
}

/// Fetches and merges a remote's sessions and notes.
pub fn pull(handoff: &Handoff, remote: &str, quiet: bool) -> Result<PullReport, Error> {
    let workdir = handoff.repo.run_dir().to_path_buf();
    let name = tracking_name(remote)?;
    let before: std::collections::HashMap<String, crate::git::Oid> = handoff
        .store()
        .refs_under(&tracking_prefix(&name))?
        .into_iter()
        .collect();
    let fetched = crate::report::timed(&*handoff.reporter, "fetch", || {
        transport::fetch(&workdir, remote, quiet)
    })?;
    let mut report = merge_fetched(handoff, remote, Some(&before))?;
    report.rejected.extend(
        fetched
            .refused
            .into_iter()
            .map(|(refname, error)| Rejected { refname, error }),
    );
    Ok(report)
}

/// Merges what the last fetch from `remote` left in the tracking refs. With `before` (the
/// tracking tips before that fetch), a session this clone has no ref of and whose tracking
/// tip did not move is up to date: it was taken (read from its tracking ref) earlier.
pub fn merge_fetched(
    handoff: &Handoff,
    remote: &str,
    before: Option<&std::collections::HashMap<String, crate::git::Oid>>,
) -> Result<PullReport, Error> {
    let store = handoff.store();
    let name = tracking_name(remote)?;
    let prefix = tracking_prefix(&name);
    let mut report = PullReport {
        remote: crate::store::transport::shown(remote).into_owned(),
        notes: "none",
        ..PullReport::default()
    };
    let mut remotes = Vec::new();
    let tracked = store.refs_under(&prefix)?;
    let tips: std::collections::HashMap<String, crate::git::Oid> =
        tracked.iter().cloned().collect();
    for (refname, tip) in tracked {
        match SessionId::parse(&refname[prefix.len()..]) {
            Ok(id) => remotes.push((id, tip)),
            Err(e) => {
                store.drop_tracking(&refname, tip)?;
                report.rejected.push(Rejected {
                    refname,
                    error: format!("odd ref name: {e}"),
                });
            }
        }
    }
    let merged = crate::report::timed(&*handoff.reporter, "merge sessions", || {
        store.merge_sessions(&remotes, &*handoff.reporter)
    });
    for (id, result) in merged {
        let refname = format!("{prefix}{id}");
        match result {
            // Every remote session is checked again (a plain `git fetch` may have brought it
            // unchecked), but one whose tracking tip this fetch did not move is not new.
            Ok(SessionMerge::Created)
                if before.and_then(|b| b.get(&refname)).is_some()
                    && before.and_then(|b| b.get(&refname)) == tips.get(&refname) =>
            {
                report.up_to_date += 1;
            }
            Ok(SessionMerge::Created) => report.created.push(id.to_string()),
            Ok(SessionMerge::FastForward) => report.fast_forwarded.push(id.to_string()),
            Ok(SessionMerge::UpToDate) => report.up_to_date += 1,
            Ok(SessionMerge::Merged { conflicts, .. }) => {
                if !conflicts.is_empty() {
                    report.conflicts.push(Rejected {
                        refname: refname.clone(),
                        error: format!("kept our copy of {}", conflicts.join(", ")),
                    });
                }
                report.merged.push(id.to_string());
            }
            Err(e) => {
                // Refused: not served to read commands from the tracking ref either.
                if let Some(tip) = tips.get(&refname)
                    && !matches!(
                        e,
                        crate::store::Error::Locked { .. } | crate::store::Error::Contended { .. }
                    )
                {
                    store.drop_tracking(&refname, *tip)?;
                }
                report.rejected.push(Rejected {
                    refname,
                    error: e.to_string(),
                });
            }
        }
    }
    let fetched_notes = format!("{}handoff", transport::fetched_notes_prefix(&name));
    if let Some(theirs) = handoff.store().tip(&fetched_notes)?
        && handoff.store().tip(&tracking_notes(&name))? != Some(theirs)
    {
        store.set_tracking(&tracking_notes(&name), theirs)?;
    }
    if let Some(theirs) = handoff.store().tip(&tracking_notes(&name))? {
        let message = format!("merge notes from {remote}");
        report.notes = match store.merge_notes(theirs, &message) {
            Ok(NotesMerge::UpToDate) => "up-to-date",
            Ok(NotesMerge::Copied) => "copied",
            Ok(NotesMerge::FastForward) => "fast-forward",
            Ok(NotesMerge::Merged { .. }) => "merged",
            Err(e) => {
                report.rejected.push(Rejected {
                    refname: tracking_notes(&name),
                    error: e.to_string(),
                });
                "rejected"
            }
        };
    }
    Ok(report)
}

/// The refs `push` sends to `remote` by default: every session and the notes. A session known
/// here only from another remote's tracking refs is given a ref of its own first (checked as
/// `pull` checks it), so that it travels on; one that fails the check is reported, not sent.
pub fn refs_to_push(
    handoff: &Handoff,
    remote: &str,
) -> Result<(Vec<String>, Vec<Rejected>), Error> {
    let store = handoff.store();
    let own = tracking_prefix(&tracking_name(remote)?);
    let mut refused = Vec::new();
    for (name, _) in store.session_refs()? {
        if !name.starts_with(crate::store::refs::TRACKING_PREFIX) || name.starts_with(&own) {
            continue;
        }
        let Some(id) =
            crate::store::refs::tracking_session_id(&name).and_then(|id| SessionId::parse(id).ok())
        else {
            continue;
        };
        if store.tip(&format!("{own}{id}"))?.is_some() {
            continue;
        }
        if let Err(e) = store.adopt(&id) {
            refused.push(Rejected {
                refname: name,
                error: e.to_string(),
            });
        }
    }
    Ok((all_refs(handoff)?, refused))
}

/// Every session ref of this clone and the notes.
pub fn all_refs(handoff: &Handoff) -> Result<Vec<String>, Error> {
    let mut refs: Vec<String> = handoff
        .store()
        .local_session_refs()?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    if handoff.store().tip(NOTES_REF)?.is_some() {
        refs.push(NOTES_REF.to_owned());
    }
    Ok(refs)
}

/// Tracking refs whose names carry credentials (made by an older version from a URL with a
/// token, `git push https://user:TOKEN@host/r.git`), each with the name it should have: the
/// same with the URL's userinfo and query left out. `repair` renames them.
pub fn tracking_refs_with_credentials(handoff: &Handoff) -> Result<Vec<(String, String)>, Error> {
    let store = handoff.store();
    let mut out = Vec::new();
    for prefix in [
        crate::store::refs::TRACKING_PREFIX,
        "refs/notes/handoff-remotes/",
    ] {
        for (name, _) in store.refs_starting_with(prefix)? {
            let Some(rest) = name.strip_prefix(prefix) else {
                continue;
            };
            let (encoded, tail) = rest.split_once('/').unwrap_or((rest, ""));
            let Some(remote) = transport::remote_of_tracking_name(encoded) else {
                continue;
            };
            if transport::shown(&remote) == remote {
                continue;
            }
            let clean = tracking_name(&remote)?;
            let renamed = if tail.is_empty() {
                format!("{prefix}{clean}")
            } else {
                format!("{prefix}{clean}/{tail}")
            };
            out.push((name, renamed));
        }
    }
    Ok(out)
}

/// Renames the tracking refs [`tracking_refs_with_credentials`] finds (unless `dry_run`);
/// returns them as `(old name, new name)`, the old names for the caller to keep to itself.
pub fn rename_tracking_refs_with_credentials(
    handoff: &Handoff,
    dry_run: bool,
) -> Result<Vec<(String, String)>, Error> {
    let found = tracking_refs_with_credentials(handoff)?;
    if !dry_run {
        for (old, new) in &found {
            handoff.store().rename_tracking(old, new)?;
        }
    }
    Ok(found)
}

/// Of `refs`, those with local commits that what we last saw on `remote` (fetched or pushed)
/// lacks: the ones a push would change.
pub fn changed_refs(
    handoff: &Handoff,
    remote: &str,
    refs: &[String],
) -> Result<Vec<String>, Error> {
    let name = tracking_name(remote)?;
    let mut out = Vec::new();
    for r in refs {
        let Some(local) = handoff.store().tip(r)? else {
            continue;
        };
        let tracking = handoff.store().tip(&tracking_ref(&name, r))?;
        // Unpushed only when the remote lacks something of ours: a ref the remote is ahead of
        // is behind (pull), not unpushed.
        let remote_has_it = tracking.is_some_and(|t| t == local || handoff.repo.descends(t, local));
        if !remote_has_it {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// Of `refs`, those the remote's tracking refs are strictly ahead of (after a fetch): the
/// remote has artifacts or notes this clone has not merged yet (`git handoff pull`).
pub fn behind_refs(handoff: &Handoff, remote: &str, refs: &[String]) -> Result<Vec<String>, Error> {
    let name = tracking_name(remote)?;
    let mut out = Vec::new();
    for r in refs {
        let Some(local) = handoff.store().tip(r)? else {
            continue;
        };
        if let Some(tracking) = handoff.store().tip(&tracking_ref(&name, r))?
            && handoff.repo.descends(tracking, local)
        {
            out.push(r.clone());
        }
    }
    Ok(out)
}

fn tracking_ref(name: &str, r: &str) -> String {
    match r.strip_prefix(SESSIONS_PREFIX) {
        Some(id) => format!("{}{id}", tracking_prefix(name)),
        None => tracking_notes(name),
    }
}

/// Pushes `refs` to `remote`; on rejection pulls, merges and retries, at most
/// [`PUSH_ATTEMPTS`] times. Never forced.
pub fn push(
    handoff: &Handoff,
    remote: &str,
    refs: &[String],
    quiet: bool,
) -> Result<PushReport, Error> {
    let workdir = handoff.repo.run_dir().to_path_buf();
    let name = tracking_name(remote)?;
    let mut report = PushReport {
        remote: crate::store::transport::shown(remote).into_owned(),
        ..PushReport::default()
    };
    let mut refs = refs.to_vec();
    for round in 0..=PUSH_ATTEMPTS {
        let mut outcome = transport::push(&workdir, remote, &refs, quiet)?;
        // A remote that refuses the whole pack for one bad object refuses every ref with it:
        // push the refused ones one by one, so one bad session never blocks the others.
        if outcome.refused.len() > 1 {
            let refused = std::mem::take(&mut outcome.refused);
            for (r, _) in refused {
                let single = transport::push(&workdir, remote, std::slice::from_ref(&r), quiet)?;
                outcome.updated.extend(single.updated);
                outcome.up_to_date.extend(single.up_to_date);
                outcome.rejected.extend(single.rejected);
                outcome.refused.extend(single.refused);
            }
        }
        report.refused.extend(
            outcome
                .refused
                .drain(..)
                .map(|(refname, error)| Rejected { refname, error }),
        );
        for r in outcome.updated.iter().chain(&outcome.up_to_date) {
            if let Some(oid) = handoff.store().tip(r)? {
                handoff.store().set_tracking(&tracking_ref(&name, r), oid)?;
            }
        }
        report.pushed.extend(outcome.updated);
        if outcome.rejected.is_empty() {
            return Ok(report);
        }
        if round == PUSH_ATTEMPTS {
            return Err(Error::StillRejected {
                remote: crate::store::transport::shown(remote).into_owned(),
                refs: outcome.rejected.join(", "),
            });
        }
        report.retries += 1;
        report.pulls.push(pull(handoff, remote, quiet)?);
        refs = outcome.rejected;
    }
    Ok(report)
}
