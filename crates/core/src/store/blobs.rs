//! Reading a stored file whole, with its type and size checked before it is inflated: a blob
//! from a hostile remote may claim to be anything and be gigabytes long (docs/format.md,
//! "What a reader must reject", and "Notes" for the notes' own limit).

use std::io::Read as _;

use git2::{ObjectType, Oid, Repository};

/// Why a bounded read refused an object without inflating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// The object is not a blob; its type is given.
    NotABlob(ObjectType),
    /// The blob is larger than the limit; its size is given.
    TooLarge(usize),
}

/// The bytes of blob `oid` when it is a blob of at most `max` bytes, else why not.
///
/// A loose object (what a small write leaves: a plan, a review) is read from one open file
/// whose header gives its type and size before the content is inflated. libgit2 searches every
/// pack before the loose objects, and formats an error message for each pack that does not
/// hold the object, so reading the header and then the object the usual way searched every
/// pack twice: with the packs a few ranges of notes leave, that was about half the cost of
/// reading a session. A packed object (after a clone, a fetch or `git gc`) is read as before:
/// its header, then the object.
pub(super) fn read_bounded(
    repo: &Repository,
    oid: Oid,
    max: usize,
) -> Result<Result<Vec<u8>, Refused>, git2::Error> {
    let odb = repo.odb()?;
    if let Ok((reader, size, kind)) = odb.reader(oid) {
        if let Some(refused) = refusal(kind, size, max) {
            return Ok(Err(refused));
        }
        // One byte past the size the header claims, to notice a stream that runs longer.
        let mut bytes = Vec::with_capacity(size);
        let limit = u64::try_from(size).map_or(u64::MAX, |s| s.saturating_add(1));
        // libgit2 hashes what it reads, but not through a stream: checked here, so that an
        // object altered on disk is an error (the read below says so), never content.
        if reader.take(limit).read_to_end(&mut bytes).is_ok()
            && bytes.len() == size
            && Oid::hash_object_ext(kind, &bytes, repo.object_format()).ok() == Some(oid)
        {
            return Ok(Ok(bytes));
        }
        // A damaged loose object: the read below reports it in libgit2's words.
    }
    let (size, kind) = odb.read_header(oid)?;
    if let Some(refused) = refusal(kind, size, max) {
        return Ok(Err(refused));
    }
    Ok(Ok(odb.read(oid)?.data().to_vec()))
}

fn refusal(kind: ObjectType, size: usize, max: usize) -> Option<Refused> {
    if kind != ObjectType::Blob {
        Some(Refused::NotABlob(kind))
    } else if size > max {
        Some(Refused::TooLarge(size))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        (dir, repo)
    }

    /// Where git keeps `oid` as a loose object.
    fn loose_path(dir: &std::path::Path, oid: Oid) -> std::path::PathBuf {
        let hex = oid.to_string();
        dir.join("objects").join(&hex[..2]).join(&hex[2..])
    }

    fn git(dir: &std::path::Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    #[test]
    fn loose_and_packed_blobs_read_the_same_and_are_checked_alike() {
        let (dir, repo) = repo();
        let small = repo.blob(b"plan text\n").unwrap();
        let large = repo.blob(&vec![b'x'; 5000]).unwrap();
        let tree = {
            let mut builder = repo.treebuilder(None).unwrap();
            builder.insert("a", small, 0o100_644).unwrap();
            builder.insert("b", large, 0o100_644).unwrap();
            builder.write().unwrap()
        };
        let check = |repo: &Repository| {
            assert_eq!(
                read_bounded(repo, small, 100).unwrap(),
                Ok(b"plan text\n".to_vec())
            );
            assert_eq!(
                read_bounded(repo, large, 5000).unwrap().unwrap().len(),
                5000
            );
            assert_eq!(
                read_bounded(repo, large, 4999).unwrap(),
                Err(Refused::TooLarge(5000))
            );
            assert_eq!(
                read_bounded(repo, tree, 1000).unwrap(),
                Err(Refused::NotABlob(ObjectType::Tree))
            );
            let missing = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
            assert_eq!(
                read_bounded(repo, missing, 100).unwrap_err().code(),
                git2::ErrorCode::NotFound
            );
        };
        check(&repo);
        // The same objects packed, the loose copies gone.
        let who = git2::Signature::new("T", "t@example.com", &git2::Time::new(0, 0)).unwrap();
        let tree_object = repo.find_tree(tree).unwrap();
        repo.commit(Some("refs/heads/main"), &who, &who, "m", &tree_object, &[])
            .unwrap();
        git(dir.path(), &["repack", "-a", "-d", "-q"]);
        for oid in [small, large, tree] {
            assert!(
                !loose_path(dir.path(), oid).exists(),
                "{oid} is still loose"
            );
        }
        let reopened = Repository::open_bare(dir.path()).unwrap();
        check(&reopened);
    }

    #[test]
    fn a_loose_object_longer_than_its_header_says_is_refused() {
        let (dir, repo) = repo();
        let oid = repo.blob(b"0123456789").unwrap();
        // Rewrite the loose file: the header says 4 bytes, the stream holds 10.
        let path = loose_path(dir.path(), oid);
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, b"blob 4\x000123456789").unwrap();
        // Loose objects are read-only files in a writable directory.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let reopened = Repository::open_bare(dir.path()).unwrap();
        // Not the first four bytes, nor all ten: libgit2's own error for the damaged object.
        let err = read_bounded(&reopened, oid, 100).unwrap_err();
        assert!(
            err.message().contains("longer than specified in header"),
            "{err}"
        );
    }
}
