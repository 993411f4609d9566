//! What `git handoff hook NAME` does. Every handler is local and quick unless handoff data must
//! be pushed, and reports its own failures as warnings: only the `block` pre-push policy may
//! stop the user's git command.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::process::Command;

use crate::git::{Oid, parse_oid};

use crate::config::PrePushPolicy;
use crate::session::{SessionId, Status};
use crate::share;
use crate::store::refs::{NOTES_REF, session_ref};
use crate::store::{Additions, NoteLine, parse_note};
use crate::workflow::Handoff;
use crate::workflow::why::mentioned_sessions;
use crate::workflow::work::Work;

/// Largest number of pushed commits the pre-push hook inspects.
pub const MAX_PUSHED_COMMITS: usize = 20_000;

/// What a hook decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Let git go on.
    Allow,
    /// Stop git (only the `block` pre-push policy does this), with the message to print.
    Block(String),
}

/// `pre-push REMOTE URL` with `<local ref> <local oid> <remote ref> <remote oid>` lines.
/// With `publish` false (`git push --dry-run`) the policy still applies but nothing is sent.
pub fn pre_push(
    handoff: &Handoff,
    remote: &str,
    input: &mut dyn BufRead,
    publish: bool,
) -> super::Result<Verdict> {
    let mut tips = Vec::new();
    let mut hide = Vec::new();
    // Our refs the user's own push names (`--mirror`, `refs/notes/*`, `refs/handoff/*:...`):
    // git has negotiated them already, so they are git's to update, not the nested push's.
    let mut named_by_git: BTreeSet<String> = BTreeSet::new();
    for line in input.lines() {
        let line = line?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local, remote_ref, remote_oid] = fields.as_slice() else {
            continue;
        };
        let ours = |r: &str| r.starts_with("refs/handoff/") || r.starts_with("refs/notes/");
        if ours(local_ref) || ours(remote_ref) {
            named_by_git.insert((*local_ref).to_owned());
            named_by_git.insert((*remote_ref).to_owned());
            continue;
        }
        // Object names of either format (40 or 64 hex digits); all zeros is a deletion.
        let local = parse_oid(local)
            .map_err(|_| super::Error::BadInput(crate::session::codec::excerpt(local)))?;
        if local.is_zero() {
            continue;
        }
        tips.push(local);
        if let Ok(oid) = parse_oid(remote_oid)
            && !oid.is_zero()
        {
            hide.push(oid);
        }
    }
    if tips.is_empty() {
        return Ok(Verdict::Allow);
    }
    let sessions = sessions_of_pushed(handoff, remote, &tips, &hide)?;
    if sessions.is_empty() {
        return Ok(Verdict::Allow);
    }
    // Policy first: a blocked push sends nothing.
    let policy = handoff.config.policy.pre_push;
    if policy != PrePushPolicy::Off {
        let mut unfinished = Vec::new();
        for id in &sessions {
            let status = handoff.store().load(id).ok().and_then(|s| s.state.status);
            if status != Some(Status::Complete) {
                let shown =
                    status.map_or_else(|| "not in this clone".to_owned(), |s| s.to_string());
                unfinished.push(format!("{id} ({shown})"));
            }
        }
        if !unfinished.is_empty() {
            let list = unfinished.join(", ");
            if policy == PrePushPolicy::Block {
                return Ok(Verdict::Block(format!(
                    "handoff: push blocked: pushed commits belong to sessions that are not COMPLETE: {list}\n\
                     handoff: finish them (git handoff validate ...), push once with 'git push --no-verify', \
                     or set [policy] pre-push = \"warn\" in .handoff.toml"
                )));
            }
            handoff.reporter.warn(&format!(
                "pushing commits of sessions that are not COMPLETE: {list}"
            ));
        }
    }
    if !publish {
        return Ok(Verdict::Allow);
    }
    let mut refs: Vec<String> = sessions
        .iter()
        .filter(|id| {
            handoff
                .store()
                .tip(&session_ref(id))
                .ok()
                .flatten()
                .is_some()
        })
        .map(session_ref)
        .collect();
    if handoff.store().tip(NOTES_REF)?.is_some() {
        refs.push(NOTES_REF.to_owned());
    }
    refs.retain(|r| !named_by_git.contains(r));
    let changed = share::changed_refs(handoff, remote, &refs)?;
    if changed.is_empty() {
        return Ok(Verdict::Allow);
    }
    // A URL given to `git push` may carry a token: never show it.
    let shown = crate::store::transport::shown(remote);
    match share::push(handoff, remote, &changed, true) {
        Ok(report) => {
            if !report.pushed.is_empty() {
                handoff.reporter.status(&format!(
                    "pushed {} handoff ref(s) to {shown}",
                    report.pushed.len()
                ));
            }
            for r in &report.refused {
                handoff.reporter.warn(&format!(
                    "{shown} refused {}: {}; your push goes on",
                    r.refname, r.error
                ));
            }
        }
        Err(e) => handoff.reporter.warn(&format!(
            "could not push the handoff data to {shown} ({e}); your push goes on. Retry with: git handoff push {shown}"
        )),
    }
    Ok(Verdict::Allow)
}

/// Sessions linked (by note or trailer) to the commits being pushed.
fn sessions_of_pushed(
    handoff: &Handoff,
    remote: &str,
    tips: &[Oid],
    hide: &[Oid],
) -> super::Result<BTreeSet<SessionId>> {
    // Tags (and anything else) are peeled to the commit they name; what is not a commit
    // cannot carry sessions.
    let pushed = handoff.repo.new_commits(
        tips,
        hide,
        &format!("refs/remotes/{remote}/*"),
        MAX_PUSHED_COMMITS,
    )?;
    let store = handoff.store();
    let reader = store.notes_reader()?;
    let mut sessions = BTreeSet::new();
    for oid in pushed {
        if let Some(reader) = &reader
            && let Some(text) = reader.get(oid)?
        {
            sessions.extend(parse_note(&text).into_iter().map(|l| l.session));
        }
        sessions.extend(mentioned_sessions(&handoff.repo.commit_message(oid)?));
    }
    Ok(sessions)
}

/// `post-rewrite amend|rebase` with `<old> <new> [extra]` lines: notes follow the rewritten
/// commits (line union, also without `notes.rewriteRef`), and every session whose recorded
/// commits were rewritten gets a `note` artifact listing them as they are now (an amended
/// commit replaces the old one; commits squashed into one become that one, which belongs to
/// every session any of them belonged to).
pub fn post_rewrite(handoff: &Handoff, how: &str, input: &mut dyn BufRead) -> super::Result<()> {
    let mut map: BTreeMap<Oid, Oid> = BTreeMap::new();
    // Git lists the rewrites in the order it made them, which is the new history's order.
    let mut order: HashMap<Oid, usize> = HashMap::new();
    for line in input.lines() {
        let line = line?;
        let mut fields = line.split_whitespace();
        if let (Some(old), Some(new)) = (fields.next(), fields.next())
            && let (Ok(old), Ok(new)) = (parse_oid(old), parse_oid(new))
        {
            map.insert(old, new);
            let next = order.len();
            order.entry(old).or_insert(next);
        }
    }
    let store = handoff.store();
    let Some(reader) = store.notes_reader()? else {
        return Ok(());
    };
    let mut additions = Additions::new();
    let mut sessions = BTreeSet::new();
    for (old, new) in &map {
        if let Some(text) = reader.get(*old)? {
            let lines = parse_note(&text);
            sessions.extend(lines.iter().map(|l| l.session.clone()));
            additions
                .entry(*new)
                .or_default()
                .extend(lines.iter().map(NoteLine::to_bytes));
        }
    }
    drop(reader);
    if additions.is_empty() {
        return Ok(());
    }
    store.add_note_lines(&additions, &format!("notes follow {how}"))?;
    for id in sessions {
        let Ok(session) = store.load(&id) else {
            continue;
        };
        // A session whose recorded work cannot be read here (commits this clone lacks) keeps
        // it: its notes moved, and `repair` relinks the rest.
        let Ok(Some(work)) = handoff.recorded_work(&session) else {
            continue;
        };
        let boundary: Vec<Oid> = session
            .meta
            .base
            .as_ref()
            .and_then(|b| handoff.repo.oid(b).ok())
            .filter(|b| handoff.repo.peel_to_commit(*b).is_some())
            .into_iter()
            .collect();
        let Some(moved) = rewritten(handoff, &work, &map, &order, &boundary) else {
            continue;
        };
        let body = format!(
            "The session's commits moved with `git {how}`: {} is now {}.",
            work.describe(),
            moved.describe()
        );
        handoff.record_rewritten_work(&id, &body, &moved)?;
        handoff.reporter.status(&format!(
            "{id}: its {} commit(s) follow the {how}",
            moved.commits.len()
        ));
    }
    Ok(())
}

/// The session's work with every rewritten commit replaced by its rewrite (an amended commit
/// by the new one, the commits squashed into one by that one), oldest first; `None` when no
/// commit of it was rewritten.
///
/// When git rewrote the session's commits in their old order (amend, a rebase without
/// reordering), the list keeps its order and needs no walk; a reorder is sorted by the history.
fn rewritten(
    handoff: &Handoff,
    work: &Work,
    map: &BTreeMap<Oid, Oid>,
    order: &HashMap<Oid, usize>,
    boundary: &[Oid],
) -> Option<Work> {
    if !work.commits.iter().any(|c| map.contains_key(c)) {
        return None;
    }
    let positions: Vec<usize> = work
        .commits
        .iter()
        .filter_map(|c| order.get(c))
        .copied()
        .collect();
    let in_order = positions.windows(2).all(|w| w[0] <= w[1]);
    let mut commits: Vec<Oid> = Vec::with_capacity(work.commits.len());
    let mut seen = HashSet::new();
    for c in &work.commits {
        let new = map.get(c).copied().unwrap_or(*c);
        // Commits squashed into one become that one, once.
        if seen.insert(new) {
            commits.push(new);
        }
    }
    let commits = if in_order {
        commits
    } else {
        handoff.repo.oldest_first(&commits, boundary).ok()?
    };
    // A commit that was not rewritten still has the parents it had: when the work was one
    // unbroken range, the parent of each such commit is the one before it in the old list, so
    // only the rewritten commits are read.
    let old_parent: HashMap<Oid, Oid> = match &work.range {
        Some(range) => {
            let base = range.base.as_ref().and_then(|b| crate::store::oid(b).ok());
            work.commits
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let parent = if i == 0 {
                        base
                    } else {
                        Some(work.commits[i - 1])
                    };
                    parent.map(|p| (*c, p))
                })
                .collect()
        }
        None => HashMap::new(),
    };
    let range = crate::git::contiguous(&commits, |oid| match old_parent.get(&oid) {
        Some(parent) if !map.contains_key(&oid) => Some(vec![*parent]),
        _ => handoff.repo.parents(oid),
    });
    let moved = Work { commits, range };
    (moved != *work).then_some(moved)
}

/// `prepare-commit-msg FILE [SOURCE [SHA]]`: adds the trailer of the session current on this
/// branch, and for the commit of a `git merge --squash` those of the squashed commits' sessions.
pub fn prepare_commit_msg(handoff: &Handoff, args: &[String]) -> super::Result<()> {
    let Some(file) = args.first() else {
        return Ok(());
    };
    // Commits replayed by a rebase, cherry-pick or revert, and merges, belong to whatever they
    // were made for, not to the session that happens to be current.
    if handoff.repo.operation_in_progress() {
        return Ok(());
    }
    let mut sessions = Vec::new();
    // `git merge --squash` then `git commit`: the squashed commits' sessions (their trailers,
    // indented in the prepared message) are the new commit's too.
    if args.get(1).is_some_and(|source| source == "squash")
        && let Ok(text) = std::fs::read_to_string(file)
    {
        sessions.extend(crate::workflow::why::mentioned_sessions(&text));
    }
    if let Some(id) = crate::workflow::current::get(&handoff.repo) {
        // A finished session is no longer current.
        let finished = matches!(
            handoff.store().load(&id).map(|s| s.state.status),
            Ok(Some(Status::Complete | Status::Abandoned)) | Err(_)
        );
        if !finished && !sessions.contains(&id) {
            sessions.push(id);
        }
    }
    if sessions.is_empty() {
        return Ok(());
    }
    let mut command = Command::new("git");
    command.current_dir(handoff.repo.run_dir()).args([
        "interpret-trailers",
        "--in-place",
        "--if-exists",
        "addIfDifferent",
    ]);
    for id in &sessions {
        command
            .arg("--trailer")
            .arg(format!("Handoff-Session: {id}"));
    }
    let status = command
        .arg(file)
        .status()
        .map_err(|e| super::Error::Trailers(e.to_string()))?;
    if !status.success() {
        return Err(super::Error::Trailers(status.to_string()));
    }
    Ok(())
}
