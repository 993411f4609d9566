//! Ref naming and compare-and-swap ref updates.
//!
//! Every name under `refs/handoff/` is built here; every update is a compare-and-swap against
//! the OID that was read, carries a reflog message starting `handoff:`, and is retried by the
//! caller when another writer got there first.

use git2::{ErrorCode, Oid, Repository};

use super::Error;
use crate::session::SessionId;

/// Prefix of the session refs.
pub const SESSIONS_PREFIX: &str = "refs/handoff/sessions/";
/// The notes ref.
pub const NOTES_REF: &str = "refs/notes/handoff";
/// Where fetches put what remotes have: `refs/handoff-remotes/<remote>/sessions/<ID>` and
/// `refs/handoff-remotes/<remote>/notes/handoff` (docs/format.md, "Refs").
pub const TRACKING_PREFIX: &str = "refs/handoff-remotes/";

/// The session ID of a tracking ref `refs/handoff-remotes/<remote>/sessions/<ID>`.
pub fn tracking_session_id(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(TRACKING_PREFIX)?;
    let (_remote, id) = rest.rsplit_once("/sessions/")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}
/// How many times a compare-and-swap is retried before giving up.
pub const MAX_ATTEMPTS: u32 = 200;

/// The ref holding a session's commit chain.
pub fn session_ref(id: &SessionId) -> String {
    format!("{SESSIONS_PREFIX}{id}")
}

/// Outcome of one compare-and-swap attempt.
pub enum Swap {
    /// The ref now points at the new commit.
    Done,
    /// Someone else moved the ref: re-read and try again.
    Raced,
    /// The ref's lock file exists: someone is writing it now, or a killed process left it.
    Locked,
}

/// How many attempts in a row may find the ref locked before we call the lock stale.
pub const MAX_LOCKED_ATTEMPTS: u32 = 50;

/// Moves `name` from `expected` (or from not existing, when `None`) to `new`.
pub fn compare_and_swap(
    repo: &Repository,
    name: &str,
    expected: Option<Oid>,
    new: Oid,
    message: &str,
) -> Result<Swap, Error> {
    // Make sure a reflog is kept even where core.logAllRefUpdates would not log refs/handoff/*.
    repo.reference_ensure_log(name)
        .map_err(|source| Error::git(format!("creating the reflog of {name}"), source))?;
    // A zero OID as the expected value means "must not exist", checked under the ref's lock.
    // (`reference(.., force = false, ..)` checks existence before taking the lock, so two
    // processes creating the same ref at once could both succeed, the second overwriting the
    // first.)
    let expected = expected.unwrap_or_else(|| crate::git::zero_oid(repo.object_format()));
    let result = repo.reference_matching(name, new, true, expected, message);
    match result {
        Ok(_) => Ok(Swap::Done),
        Err(e) if e.code() == ErrorCode::Locked => Ok(Swap::Locked),
        Err(e)
            if matches!(
                e.code(),
                ErrorCode::Modified | ErrorCode::Exists | ErrorCode::NotFound
            ) =>
        {
            Ok(Swap::Raced)
        }
        Err(source) => Err(Error::git(format!("updating {name}"), source)),
    }
}

/// What one attempt of [`update_with_retry`] decided.
pub enum Attempt<T> {
    /// Move the ref from `expected` to `new`, then return `value`.
    Swap {
        /// The tip the attempt read (`None`: the ref must not exist).
        expected: Option<Oid>,
        /// The new tip.
        new: Oid,
        /// What to return once the swap lands.
        value: T,
    },
    /// Nothing to write: return `value` now.
    Finished(T),
}

/// Runs `attempt` (read the tip, build the new commit) and compare-and-swaps the ref, again
/// and again while other writers move it first, backing off between tries. A lock file that
/// stays for [`MAX_LOCKED_ATTEMPTS`] tries is reported as stale.
pub fn update_with_retry<T>(
    repo: &Repository,
    name: &str,
    message: &str,
    mut attempt: impl FnMut() -> Result<Attempt<T>, Error>,
) -> Result<T, Error> {
    let mut locked = 0;
    for n in 0..MAX_ATTEMPTS {
        let (expected, new, value) = match attempt()? {
            Attempt::Finished(value) => return Ok(value),
            Attempt::Swap {
                expected,
                new,
                value,
            } => (expected, new, value),
        };
        match compare_and_swap(repo, name, expected, new, message)? {
            Swap::Done => return Ok(value),
            Swap::Raced => backoff(n),
            Swap::Locked if locked >= MAX_LOCKED_ATTEMPTS => break,
            Swap::Locked => {
                locked += 1;
                backoff(n);
            }
        }
    }
    Err(Error::contended(repo, name))
}

/// Reads the OID a ref points at, `None` when it does not exist.
pub fn read_ref(repo: &Repository, name: &str) -> Result<Option<Oid>, Error> {
    match repo.refname_to_id(name) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(source) => Err(Error::git(format!("reading {name}"), source)),
    }
}

/// Sleeps a little before the next attempt: grows with the attempt number, jittered so that
/// contending processes spread out.
pub fn backoff(attempt: u32) {
    let jitter = u64::from(std::process::id() % 7) + u64::from(attempt % 5);
    let millis = (u64::from(attempt.min(20)) * 2 + jitter).max(1);
    std::thread::sleep(std::time::Duration::from_millis(millis));
}

/// Applies many ref updates with compare-and-swap semantics (`None` = must not exist yet),
/// each through libgit2's locked compare-and-swap: the one engine that writes our refs.
/// Returns one result per update, in order; a failed one is left for the caller to retry.
pub fn update_many(
    repo: &Repository,
    updates: &[(String, Option<Oid>, Oid)],
    message: &str,
) -> Vec<Result<(), Error>> {
    updates
        .iter()
        .map(
            |(name, old, new)| match compare_and_swap(repo, name, *old, *new, message)? {
                Swap::Done => Ok(()),
                Swap::Raced | Swap::Locked => Err(Error::contended(repo, name)),
            },
        )
        .collect()
}
