//! Adding many new refs at once to `packed-refs`, the way `git pack-refs` and git's own ref
//! transactions write it: under `packed-refs.lock`, sorted, replaced by an atomic rename.
//!
//! A pull that brings thousands of sessions would otherwise create thousands of loose ref files
//! (after `git fetch` already created as many tracking refs), and on many disks file creation
//! is what a fetch costs. Only refs that exist nowhere yet are added; anything unusual (a
//! reftable repository, a lock held by another process, a ref that appeared meanwhile) makes
//! [`add_new_refs`] decline, and the caller writes loose refs instead.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use git2::{Oid, Repository};

/// The header git writes; our refs point at commits, so they need no peel lines.
const HEADER: &str = "# pack-refs with: peeled fully-peeled sorted \n";

/// Adds `refs` (which must not exist) to `packed-refs`. Returns `Ok(false)` when it declined
/// and wrote nothing.
pub fn add_new_refs(repo: &Repository, refs: &[(String, Oid)]) -> std::io::Result<bool> {
    let common = repo.commondir();
    let uses_files_backend = repo
        .config()
        .ok()
        .and_then(|c| c.get_string("extensions.refStorage").ok())
        .is_none_or(|s| s == "files");
    if refs.is_empty() || !uses_files_backend || common.join("reftable").exists() {
        return Ok(false);
    }
    let path = common.join("packed-refs");
    let lock = common.join("packed-refs.lock");
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    };
    let result = write_locked(common, &path, &lock, &mut file, refs);
    if !matches!(result, Ok(true)) {
        let _ = std::fs::remove_file(&lock);
    }
    result
}

fn write_locked(
    common: &Path,
    path: &Path,
    lock: &Path,
    file: &mut std::fs::File,
    refs: &[(String, Oid)],
) -> std::io::Result<bool> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut header = HEADER.to_owned();
    // name -> the entry's lines (the ref line and any peel line after it), kept verbatim.
    let mut entries: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in existing.split_inclusive('\n') {
        if line.starts_with('#') {
            header = line.to_owned();
            if !header.ends_with('\n') {
                header.push('\n');
            }
        } else if line.starts_with('^') {
            match last.as_ref().and_then(|name| entries.get_mut(name)) {
                Some(entry) => entry.push_str(line),
                None => return Ok(false),
            }
        } else if let Some((_, name)) = line.trim_end().split_once(' ') {
            let mut entry = line.to_owned();
            if !entry.ends_with('\n') {
                entry.push('\n');
            }
            entries.insert(name.to_owned(), entry);
            last = Some(name.to_owned());
        } else if !line.trim().is_empty() {
            return Ok(false);
        }
    }
    for (name, oid) in refs {
        // A loose ref, or a writer holding its lock, means the ref is someone else's business.
        if entries.contains_key(name)
            || common.join(name).exists()
            || common.join(format!("{name}.lock")).exists()
        {
            return Ok(false);
        }
        entries.insert(name.clone(), format!("{oid} {name}\n"));
    }
    let mut out = String::with_capacity(existing.len() + refs.len() * 100);
    out.push_str(&header);
    for entry in entries.values() {
        out.push_str(entry);
    }
    file.write_all(out.as_bytes())?;
    file.flush()?;
    std::fs::rename(lock, path)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with_commit() -> (tempfile::TempDir, Repository, Oid) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let sig = git2::Signature::now("T", "t@e").unwrap();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let oid = repo.commit(None, &sig, &sig, "c", &tree, &[]).unwrap();
        drop(tree);
        (dir, repo, oid)
    }

    #[test]
    fn adds_sorted_entries_and_keeps_existing_ones_with_their_peel_lines() {
        let (_dir, repo, oid) = repo_with_commit();
        let existing = format!(
            "# pack-refs with: peeled sorted \n{oid} refs/tags/v1\n^{oid}\n{oid} refs/zzz\n"
        );
        std::fs::write(repo.commondir().join("packed-refs"), &existing).unwrap();
        let refs = vec![
            ("refs/handoff/sessions/B".to_owned(), oid),
            ("refs/handoff/sessions/A".to_owned(), oid),
        ];
        assert!(add_new_refs(&repo, &refs).unwrap());
        let text = std::fs::read_to_string(repo.commondir().join("packed-refs")).unwrap();
        assert_eq!(
            text,
            format!(
                "# pack-refs with: peeled sorted \n{oid} refs/handoff/sessions/A\n{oid} refs/handoff/sessions/B\n{oid} refs/tags/v1\n^{oid}\n{oid} refs/zzz\n"
            )
        );
        assert_eq!(repo.refname_to_id("refs/handoff/sessions/A").unwrap(), oid);
        assert!(!repo.commondir().join("packed-refs.lock").exists());
    }

    #[test]
    fn declines_when_a_ref_exists_or_the_lock_is_held() {
        let (_dir, repo, oid) = repo_with_commit();
        repo.reference("refs/handoff/sessions/A", oid, false, "t")
            .unwrap();
        let refs = vec![("refs/handoff/sessions/A".to_owned(), oid)];
        assert!(!add_new_refs(&repo, &refs).unwrap());
        assert!(!repo.commondir().join("packed-refs.lock").exists());
        std::fs::write(repo.commondir().join("packed-refs.lock"), "").unwrap();
        let other = vec![("refs/handoff/sessions/B".to_owned(), oid)];
        assert!(!add_new_refs(&repo, &other).unwrap());
        assert!(
            repo.commondir().join("packed-refs.lock").exists(),
            "someone else's lock stays"
        );
    }
}
