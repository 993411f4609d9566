//! git's own ref files read directly, where speed needs it (files backend only): ref names
//! from the loose ref directories (listed, not opened) and `packed-refs` (binary-searched when
//! sorted, as git's own reader does), and cheap stamps of everything that can change the refs
//! under a prefix. Names only: whoever uses one reads the ref itself through libgit2, which
//! then decides whether it exists.
//!
//! Loose refs are listed before `packed-refs` is read: `git pack-refs` writes the new
//! `packed-refs` before it deletes the loose files, so a ref being packed meanwhile is seen in
//! one place or both, never in neither. A reftable repository is refused when it is opened
//! (docs/format.md, "Object names"); its stamps are `None` (never trusted), so nothing here
//! can go stale unseen the day it is read.

use std::path::Path;

/// The loose refs under the directories `dirs` and the packed ones starting with one of
/// `ranges` (each ending in `/`, or longer), for which `wanted` holds.
pub fn names_under(
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

/// How long a file timestamp must be in the past before we trust it to reveal the next change
/// (git's "racily clean" rule: a change in the same timestamp tick could go unseen). The tick
/// is the file system's: a few milliseconds where timestamps carry sub-second digits, up to two
/// seconds where they do not (FAT, HFS+).
fn racy_window(modified: std::time::SystemTime) -> std::time::Duration {
    let subsecond = modified
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    if subsecond == 0 {
        std::time::Duration::from_secs(2)
    } else {
        std::time::Duration::from_millis(50)
    }
}

/// Cheap stamps of everything that can change the refs under two prefixes (own refs, and
/// tracking refs `<tracking><remote>/<dir>/...`): `packed-refs` (mtime and size), the own
/// refs' directory (whose mtime moves whenever git creates, renames into or deletes a loose
/// ref there) and the tracking refs' directories. A stamp is `None` when it cannot be trusted:
/// a reftable repository, nested directories under the own prefix, or a timestamp too recent
/// to rule out a racy change.
pub struct RefStamps {
    /// The own refs' directory.
    pub local: Option<String>,
    /// Everything else: `packed-refs` and the tracking refs' directories.
    pub rest: Option<String>,
    /// The names of the loose own refs, when there are at most `loose_max` and no
    /// subdirectory.
    pub loose: Option<Vec<String>>,
}

impl RefStamps {
    /// Reads the stamps of the refs under `own` and `tracking` (each ending in `/`).
    pub fn read(common_dir: &Path, own: &str, tracking: &str, loose_max: usize) -> Self {
        if common_dir.join("reftable").exists() {
            return Self {
                local: None,
                rest: None,
                loose: None,
            };
        }
        let now = std::time::SystemTime::now();
        // A remote's copies of the own refs sit in a directory named as the own prefix's last
        // part (`refs/handoff/sessions/` -> `<remote>/sessions/`).
        let own_leaf = own
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let stamp = |path: &Path| stamp(path, now);
        let sessions = common_dir.join(own.trim_end_matches('/'));
        let (nested, loose) = loose_refs(&sessions, loose_max);
        let local = if nested { None } else { stamp(&sessions) };
        // Sessions only a remote has are read from its tracking refs: their directories count.
        let tracking = common_dir.join(tracking.trim_end_matches('/'));
        let rest = (|| {
            let mut stamps = vec![stamp(&common_dir.join("packed-refs"))?, stamp(&tracking)?];
            if let Ok(remotes) = std::fs::read_dir(&tracking) {
                let mut dirs: Vec<_> = remotes.filter_map(std::result::Result::ok).collect();
                dirs.sort_by_key(std::fs::DirEntry::file_name);
                for remote in dirs {
                    let dir = remote.path().join(own_leaf);
                    if loose_refs(&dir, loose_max).0 {
                        return None;
                    }
                    stamps.push(stamp(&remote.path())?);
                    stamps.push(stamp(&dir)?);
                }
            }
            Some(stamps.join("|"))
        })();
        Self {
            local,
            rest,
            loose: (!nested).then_some(loose).flatten(),
        }
    }

    /// The fingerprint of all the refs: unchanged means no ref under the prefixes changed.
    pub fn fingerprint(&self) -> Option<String> {
        Some(format!("{}|{}", self.local.as_ref()?, self.rest.as_ref()?))
    }
}

/// The mtime and size of a file or directory, `-` when it does not exist, `None` when it
/// changed too recently to be trusted.
fn stamp(path: &Path, now: std::time::SystemTime) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let modified = meta.modified().ok()?;
            if now.duration_since(modified).unwrap_or_default() < racy_window(modified) {
                return None;
            }
            let ns = modified
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            Some(format!("{ns}:{}", meta.len()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("-".to_owned()),
        Err(_) => None,
    }
}

/// Whether a refs directory has a subdirectory (a loose ref there would not move the
/// directory's mtime), and the names of its loose refs when there are at most `loose_max`.
fn loose_refs(dir: &Path, loose_max: usize) -> (bool, Option<Vec<String>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (false, Some(Vec::new()));
    };
    let mut names = Some(Vec::new());
    for entry in entries.filter_map(std::result::Result::ok) {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            return (true, None);
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".lock") {
            continue;
        }
        if let Some(list) = &mut names {
            if list.len() == loose_max {
                names = None;
            } else {
                list.push(name);
            }
        }
    }
    if let Some(list) = &mut names {
        list.sort();
    }
    (false, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSIONS_PREFIX: &str = "refs/handoff/sessions/";
    const TRACKING_PREFIX: &str = "refs/handoff-remotes/";

    fn session_ref_names(
        common_dir: &Path,
        id_start: &str,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let own = format!("{SESSIONS_PREFIX}{id_start}");
        let wanted = |name: &str| {
            (!name.starts_with(SESSIONS_PREFIX) || name.starts_with(&own)) && wanted(name)
        };
        names_under(
            common_dir,
            &[SESSIONS_PREFIX, TRACKING_PREFIX],
            &[&own, TRACKING_PREFIX],
            &wanted,
        )
    }

    fn tracking_ref_names(common_dir: &Path, wanted: &dyn Fn(&str) -> bool) -> Vec<String> {
        names_under(common_dir, &[TRACKING_PREFIX], &[TRACKING_PREFIX], wanted)
    }

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

    /// The stamps change with the refs, and are not trusted while a change is too recent.
    #[test]
    fn stamps_follow_the_refs_and_distrust_a_racy_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let age = |path: &Path, secs: u64| {
            let when = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
            std::fs::File::open(path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        };
        write(root, "refs/handoff/sessions/S-1", &format!("{OID}\n"));
        write(root, "packed-refs", &format!("{OID} refs/heads/main\n"));
        let sessions = root.join("refs/handoff/sessions");
        age(&sessions, 60);
        age(&root.join("packed-refs"), 60);
        let read = || RefStamps::read(root, SESSIONS_PREFIX, TRACKING_PREFIX, 10);
        let before = read();
        assert_eq!(before.loose.as_deref(), Some(&["S-1".to_owned()][..]));
        let first = before.fingerprint().expect("old enough to trust");
        assert_eq!(read().fingerprint().as_ref(), Some(&first));
        // A new loose ref moves the directory's time: racy at once, different once it ages.
        write(root, "refs/handoff/sessions/S-2", &format!("{OID}\n"));
        assert_eq!(read().fingerprint(), None);
        age(&sessions, 30);
        let second = read().fingerprint().expect("old enough to trust");
        assert_ne!(second, first);
        // packed-refs rewritten (a pack, a fetch): another fingerprint.
        write(
            root,
            "packed-refs",
            &format!("{OID} refs/heads/main\n{OID} refs/heads/x\n"),
        );
        age(&root.join("packed-refs"), 30);
        let third = read().fingerprint().expect("old enough to trust");
        assert_ne!(third, second);
        // A subdirectory among the own refs hides changes inside it: never trusted.
        write(
            root,
            "refs/handoff/sessions/nested/S-3",
            &format!("{OID}\n"),
        );
        age(&sessions, 20);
        assert_eq!(read().fingerprint(), None);
    }
}
