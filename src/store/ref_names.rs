//! The names of the session refs, read from the files backend without reading the refs.
//!
//! Resolving what a user or an agent typed (a new full ID, an ID without its slug, a random
//! part) needs the session names, not their tips. libgit2's ref iterator stats every loose ref
//! file and parses every target: at 10,000 loose session refs that is about 25 ms, most of an
//! MCP store call. Here the loose ref directories are listed (one `getdents` per few hundred
//! names, no stat: the entry type comes with the name) and `packed-refs` is read once, as git
//! lays them out (docs/format.md, "Refs"). Names only: whoever uses one reads the ref itself
//! through libgit2, which then decides whether it exists.
//!
//! Loose refs are listed before `packed-refs` is read: `git pack-refs` writes the new
//! `packed-refs` before it deletes the loose files, so a ref being packed meanwhile is seen
//! in one place or both, never in neither.
//!
//! Files backend only. A reftable repository is refused when it is opened (docs/format.md,
//! "Object names"), so nothing reaches here with refs this reader cannot see; the day reftable
//! is read, session names must come through that backend instead, or resolving finds nothing.

use std::io::BufRead as _;
use std::path::Path;

use super::refs::{SESSIONS_PREFIX, TRACKING_PREFIX};

/// Every ref name under `refs/handoff/sessions/` and `refs/handoff-remotes/` for which
/// `wanted` holds, loose or packed, sorted and without duplicates. Unreadable directories or
/// files count as empty: resolving finds nothing there, and whatever reads refs through
/// libgit2 (`list`, `push`) reports the real error.
pub(super) fn session_ref_names(common_dir: &Path, wanted: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut names = Vec::new();
    for prefix in [SESSIONS_PREFIX, TRACKING_PREFIX] {
        let dir = common_dir.join(prefix.trim_end_matches('/'));
        loose_names(&dir, prefix.trim_end_matches('/'), wanted, &mut names);
    }
    packed_names(&common_dir.join("packed-refs"), wanted, &mut names);
    names.sort_unstable();
    names.dedup();
    names
}

/// The loose refs under `dir` (named `prefix/...`), recursively, without a stat per file.
fn loose_names(dir: &Path, prefix: &str, wanted: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        // Session IDs are ASCII: a file name that is not UTF-8 names no session.
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        let name = format!("{prefix}/{file}");
        if kind.is_dir() {
            loose_names(&entry.path(), &name, wanted, out);
        } else if kind.is_file() && !file.ends_with(".lock") && wanted(&name) {
            out.push(name);
        }
    }
}

/// The refs of `packed-refs` under the two prefixes: lines `<oid> <name>`, `^<oid>` peeled
/// lines and a `#` header skipped.
fn packed_names(path: &Path, wanted: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
    let Ok(file) = std::fs::File::open(path) else {
        return;
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        if let Some(name) = packed_line_name(&line)
            && (name.starts_with(SESSIONS_PREFIX) || name.starts_with(TRACKING_PREFIX))
            && wanted(name)
        {
            out.push(name.to_owned());
        }
        line.clear();
    }
}

/// The ref name of a `packed-refs` line `<oid> <name>`, `None` for any other line.
fn packed_line_name(line: &[u8]) -> Option<&str> {
    let line = std::str::from_utf8(line.strip_suffix(b"\n").unwrap_or(line)).ok()?;
    let (oid, name) = line.split_once(' ')?;
    crate::git::parse_oid(oid).ok().map(|_| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "0123456789abcdef0123456789abcdef01234567";

    fn write(root: &Path, name: &str, content: &str) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    #[test]
    fn loose_and_packed_names_are_merged_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "refs/handoff/sessions/SESSION-A", &format!("{OID}\n"));
        write(
            root,
            "refs/handoff/sessions/SESSION-B.lock",
            &format!("{OID}\n"),
        );
        write(
            root,
            "refs/handoff-remotes/origin/sessions/SESSION-C",
            &format!("{OID}\n"),
        );
        write(
            root,
            "refs/handoff-remotes/team/x/sessions/SESSION-D",
            &format!("{OID}\n"),
        );
        write(root, "refs/heads/SESSION-E", &format!("{OID}\n"));
        write(
            root,
            "packed-refs",
            &format!(
                "# pack-refs with: peeled fully-peeled sorted \n\
                 {OID} refs/handoff/sessions/SESSION-A\n\
                 {OID} refs/handoff/sessions/SESSION-F\n\
                 ^{OID}\n\
                 {OID} refs/heads/SESSION-G\n\
                 not-an-oid refs/handoff/sessions/SESSION-H\n\
                 {OID}{} refs/handoff/sessions/SESSION-I",
                &OID[..24]
            ),
        );
        let all = session_ref_names(root, &|_| true);
        assert_eq!(
            all,
            [
                "refs/handoff-remotes/origin/sessions/SESSION-C",
                "refs/handoff-remotes/team/x/sessions/SESSION-D",
                "refs/handoff/sessions/SESSION-A",
                "refs/handoff/sessions/SESSION-F",
                "refs/handoff/sessions/SESSION-I",
            ]
        );
        let some = session_ref_names(root, &|name| name.ends_with('F') || name.ends_with('C'));
        assert_eq!(
            some,
            [
                "refs/handoff-remotes/origin/sessions/SESSION-C",
                "refs/handoff/sessions/SESSION-F",
            ]
        );
    }

    #[test]
    fn a_repository_without_session_refs_has_no_names() {
        let dir = tempfile::tempdir().unwrap();
        assert!(session_ref_names(dir.path(), &|_| true).is_empty());
    }
}
