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

use std::path::Path;

use super::refs::{SESSIONS_PREFIX, TRACKING_PREFIX};

/// Every ref name under `refs/handoff/sessions/` and `refs/handoff-remotes/` for which
/// `wanted` holds, loose or packed, sorted and without duplicates; of the own refs only those
/// whose ID starts with `id_start` (the packed ones are found by binary search: see
/// [`packed_names`]). Unreadable directories or files count as empty: resolving finds nothing
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

/// The loose refs under the directories `dirs` and the packed ones starting with one of
/// `ranges` (each ending in `/`, or longer), for which `wanted` holds.
fn names_under(
    common_dir: &Path,
    dirs: &[&str],
    ranges: &[&str],
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut names = Vec::new();
    for prefix in dirs {
        let dir = common_dir.join(prefix.trim_end_matches('/'));
        loose_names(&dir, prefix.trim_end_matches('/'), wanted, &mut names);
    }
    packed_names(&common_dir.join("packed-refs"), ranges, wanted, &mut names);
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

/// The refs of `packed-refs` under `prefixes` for which `wanted` holds: lines `<oid> <name>`,
/// `^<oid>` peeled lines and a `#` header skipped. git writes the file sorted (and says so in
/// its header, trait `sorted`): then each prefix's lines are found by binary search, as git's
/// own reader does, so a session's few tracking refs cost a read of the file and a few dozen
/// comparisons, not a pass over every ref. A file without that trait is read line by line.
fn packed_names(
    path: &Path,
    prefixes: &[&str],
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Vec<String>,
) {
    let Ok(buf) = std::fs::read(path) else {
        return;
    };
    let (header, body) = match buf.strip_prefix(b"# pack-refs with:") {
        Some(_) => {
            let end = line_end(&buf, 0);
            (&buf[..end], end)
        }
        None => (&buf[..0], 0),
    };
    let sorted = header
        .split(|b| b.is_ascii_whitespace())
        .any(|t| t == b"sorted");
    let mut take = |line: &[u8]| {
        if let Some((oid, name)) = packed_line(line)
            && wanted(name)
            && crate::git::parse_oid(oid).is_ok()
        {
            out.push(name.to_owned());
        }
    };
    if !sorted {
        let mut at = body;
        while at < buf.len() {
            let end = line_end(&buf, at);
            if packed_line(&buf[at..end])
                .is_some_and(|(_, n)| prefixes.iter().any(|p| n.starts_with(p)))
            {
                take(&buf[at..end]);
            }
            at = end;
        }
        return;
    }
    for prefix in prefixes {
        let mut at = first_record_at_or_after(&buf, body, buf.len(), prefix.as_bytes());
        while at < buf.len() {
            let end = line_end(&buf, at);
            let line = &buf[at..end];
            at = end;
            if line.first() == Some(&b'^') {
                continue;
            }
            // A malformed line names nothing; the first ref past the prefix ends the range.
            match packed_line(line) {
                Some((_, name)) if name.starts_with(prefix) => take(line),
                Some(_) => break,
                None => continue,
            }
        }
    }
}

/// The index just past the line starting at `at` (its `\n` included).
fn line_end(buf: &[u8], at: usize) -> usize {
    buf[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(buf.len(), |p| at + p + 1)
}

/// The start of the first record between `lo` and `hi` (both record starts) whose name is not
/// below `key`: binary search over lines, a peeled `^` line counting with the record it
/// follows.
fn first_record_at_or_after(buf: &[u8], mut lo: usize, mut hi: usize, key: &[u8]) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let line_start = |at: usize| {
            buf[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
        };
        let mut start = line_start(mid).max(lo);
        while start > lo && buf[start] == b'^' {
            start = line_start(start - 1).max(lo);
        }
        let end = line_end(buf, start);
        let line = buf[start..end]
            .strip_suffix(b"\n")
            .unwrap_or(&buf[start..end]);
        let name = line
            .iter()
            .position(|&b| b == b' ')
            .map_or(&line[..0], |space| &line[space + 1..]);
        if name < key {
            let mut next = end;
            while next < hi && buf[next] == b'^' {
                next = line_end(buf, next);
            }
            lo = next;
        } else {
            hi = start;
        }
    }
    lo
}

/// The object name and ref name of a `packed-refs` line `<oid> <name>`, `None` for a line of
/// another form (the object name is checked only for the names wanted: parsing it is most of
/// the cost of reading the file).
fn packed_line(line: &[u8]) -> Option<(&str, &str)> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let space = line.iter().position(|&b| b == b' ')?;
    let (oid, name) = (&line[..space], &line[space + 1..]);
    if oid.first().is_none_or(|b| !b.is_ascii_hexdigit()) {
        return None;
    }
    Some((
        std::str::from_utf8(oid).ok()?,
        std::str::from_utf8(name).ok()?,
    ))
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
                 not-an-oid refs/handoff/sessions/SESSION-H\n\
                 {OID}{} refs/handoff/sessions/SESSION-I\n\
                 {OID} refs/heads/SESSION-G",
                &OID[..24]
            ),
        );
        let all = session_ref_names(root, "", &|_| true);
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
        let some = session_ref_names(root, "", &|name| name.ends_with('F') || name.ends_with('C'));
        assert_eq!(
            some,
            [
                "refs/handoff-remotes/origin/sessions/SESSION-C",
                "refs/handoff/sessions/SESSION-F",
            ]
        );
    }

    /// A sorted file is searched, an unsorted one read whole: both find the same names, among
    /// thousands of others and peeled lines, and nothing of a neighbouring prefix.
    #[test]
    fn sorted_packed_refs_are_searched_and_unsorted_ones_read_whole() {
        let mut records: Vec<String> = (0..3_000)
            .map(|n| format!("refs/handoff/sessions/S-{n:05}"))
            .chain((0..40).map(|n| format!("refs/handoff-remotes/r{}/sessions/S-{n:05}", n % 3)))
            .chain([
                "refs/handoff-remotesX/a".into(),
                "refs/handoff-remote/b".into(),
            ])
            .chain((0..500).map(|n| format!("refs/heads/b{n}")))
            .collect();
        records.sort();
        let lines = |order: &[String]| -> String {
            order
                .iter()
                .enumerate()
                .map(|(n, name)| match n % 7 {
                    0 => format!("{OID} {name}\n^{OID}\n"),
                    _ => format!("{OID} {name}\n"),
                })
                .collect()
        };
        let wanted = |name: &str| name.ends_with('7') || name.contains("S-0001");
        let expected: Vec<String> = records
            .iter()
            .filter(|n| n.starts_with(TRACKING_PREFIX) && wanted(n))
            .cloned()
            .collect();
        assert!(expected.len() > 3);
        for (header, order) in [
            (
                "# pack-refs with: peeled fully-peeled sorted \n",
                records.clone(),
            ),
            (
                "# pack-refs with: peeled \n",
                records.iter().rev().cloned().collect(),
            ),
            ("", records.iter().rev().cloned().collect()),
        ] {
            let dir = tempfile::tempdir().unwrap();
            write(
                dir.path(),
                "packed-refs",
                &format!("{header}{}", lines(&order)),
            );
            assert_eq!(
                tracking_ref_names(dir.path(), &wanted),
                expected,
                "{header:?}"
            );
            let sessions = session_ref_names(dir.path(), "", &|_| true);
            assert_eq!(sessions.len(), 3_040, "{header:?}");
        }
    }

    #[test]
    fn a_repository_without_session_refs_has_no_names() {
        let dir = tempfile::tempdir().unwrap();
        assert!(session_ref_names(dir.path(), "", &|_| true).is_empty());
    }
}
