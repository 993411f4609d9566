//! The names of the session refs, from git's ref files through the facade
//! ([`crate::git::ref_files`]) without reading the refs.
//!
//! Resolving what a user or an agent typed (a new full ID, an ID without its slug, a random
//! part) needs the session names, not their tips; reading a session's view needs its tracking
//! refs. libgit2's ref iterator stats every loose ref file and parses every target (about
//! 25 ms at 10,000 loose session refs), and copies its whole cache of `packed-refs` whatever
//! the pattern (about 8 ms at 10,000 packed refs).

use std::path::Path;

use super::refs::{SESSIONS_PREFIX, TRACKING_PREFIX};
use crate::git::ref_files::names_under;

/// Every ref name under `refs/handoff/sessions/` and `refs/handoff-remotes/` for which
/// `wanted` holds, loose or packed, sorted and without duplicates; of the own refs only those
/// whose ID starts with `id_start` (the packed ones are found by binary search: see
/// [`crate::git::ref_files`]). Unreadable directories or files count as empty: resolving finds nothing
/// there, and whatever reads refs through libgit2 (`list`, `push`) reports the real error.
pub(super) fn session_ref_names(
    common_dir: &Path,
    id_start: &str,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let own = format!("{SESSIONS_PREFIX}{id_start}");
    let wanted =
        |name: &str| (!name.starts_with(SESSIONS_PREFIX) || name.starts_with(&own)) && wanted(name);
    names_under(
        common_dir,
        &[SESSIONS_PREFIX, TRACKING_PREFIX],
        &[&own, TRACKING_PREFIX],
        &wanted,
    )
}

/// Every ref name under `refs/handoff-remotes/` for which `wanted` holds, as
/// [`session_ref_names`]: what a session's tracking refs are found by, without libgit2's ref
/// iterator (which copies its whole cache of `packed-refs`, about 8 ms at 10,000 packed refs,
/// however few refs the pattern matches).
pub(super) fn tracking_ref_names(common_dir: &Path, wanted: &dyn Fn(&str) -> bool) -> Vec<String> {
    names_under(common_dir, &[TRACKING_PREFIX], &[TRACKING_PREFIX], wanted)
}
