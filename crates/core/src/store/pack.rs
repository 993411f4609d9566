//! New objects built in memory and written in one go before any ref names them: as one pack
//! of whole objects when there are many, else loose (docs/format.md, "Notes").
//!
//! A notes commit over a range of thousands of commits rewrites every fanout directory: a few
//! hundred small trees. Written loose they cost a file each; written through libgit2's object
//! database each one also rescans the pack directory (an unknown object refreshes it), and
//! libgit2's packbuilder adds a delta search that saved little space and most of the time. A
//! pack of whole objects is what `git fast-import` writes too; `git gc` deltifies it later.

use std::collections::HashSet;
use std::io::Write as _;

use git2::{ObjectFormat, ObjectType, Oid, Repository, Signature};

use super::{Error, Result};

/// The mode of a file entry in a tree.
pub(super) const BLOB_MODE: i32 = 0o100_644;
/// The mode of a directory entry in a tree.
pub(super) const TREE_MODE: i32 = 0o040_000;
/// From how many new objects they are written as one pack instead of loose files.
const PACKED_FROM: usize = 32;

/// One entry of a tree being built.
#[derive(Debug, Clone)]
pub(super) struct TreeEntry {
    /// The entry's name (one path component).
    pub name: Vec<u8>,
    /// Its mode, as git writes it (`0o100644`, `0o040000`, ...).
    pub mode: i32,
    /// The object it names.
    pub id: Oid,
}

/// Objects named by hashing as they are built, written by [`NewObjects::write`].
#[derive(Debug)]
pub(super) struct NewObjects {
    /// The repository's object format: how objects are named and packs checksummed.
    format: ObjectFormat,
    objects: Vec<(ObjectType, Vec<u8>)>,
    named: HashSet<Oid>,
}

impl NewObjects {
    /// No objects yet, to be named in `format` (the repository's).
    pub(super) fn new(format: ObjectFormat) -> Self {
        Self {
            format,
            objects: Vec::new(),
            named: HashSet::new(),
        }
    }

    /// Adds an object; returns its name.
    pub(super) fn add(&mut self, kind: ObjectType, bytes: Vec<u8>) -> Result<Oid> {
        let id = Oid::hash_object_ext(kind, &bytes, self.format)
            .map_err(|source| Error::git("naming a new object", source))?;
        if self.named.insert(id) {
            self.objects.push((kind, bytes));
        }
        Ok(id)
    }

    /// Adds a tree of `entries`, sorted as git sorts them (by name, a directory's name read
    /// as if it ended in `/`).
    pub(super) fn tree(&mut self, mut entries: Vec<TreeEntry>) -> Result<Oid> {
        let key = |e: &TreeEntry| {
            let mut k = e.name.clone();
            if e.mode == TREE_MODE {
                k.push(b'/');
            }
            k
        };
        entries.sort_by_cached_key(key);
        if let Some(pair) = entries.windows(2).find(|p| p[0].name == p[1].name) {
            return Err(Error::git(
                "building a tree",
                git2::Error::from_str(&format!(
                    "two entries named {}",
                    crate::session::codec::excerpt(&String::from_utf8_lossy(&pair[0].name))
                )),
            ));
        }
        let mut bytes = Vec::with_capacity(entries.len() * 60);
        for e in &entries {
            bytes.extend_from_slice(format!("{:o} ", e.mode).as_bytes());
            bytes.extend_from_slice(&e.name);
            bytes.push(0);
            bytes.extend_from_slice(e.id.as_bytes());
        }
        self.add(ObjectType::Tree, bytes)
    }

    /// Adds a commit of `tree` with `parents`, authored and committed by `sig`.
    pub(super) fn commit(
        &mut self,
        tree: Oid,
        parents: &[Oid],
        sig: &Signature<'_>,
        message: &str,
    ) -> Result<Oid> {
        let when = sig.when();
        let offset = when.offset_minutes();
        let person = {
            let mut p = Vec::new();
            p.extend_from_slice(sig.name_bytes());
            p.extend_from_slice(b" <");
            p.extend_from_slice(sig.email_bytes());
            p.extend_from_slice(
                format!(
                    "> {} {}{:02}{:02}\n",
                    when.seconds(),
                    if offset < 0 { '-' } else { '+' },
                    offset.abs() / 60,
                    offset.abs() % 60
                )
                .as_bytes(),
            );
            p
        };
        let mut bytes = format!("tree {tree}\n").into_bytes();
        for parent in parents {
            bytes.extend_from_slice(format!("parent {parent}\n").as_bytes());
        }
        bytes.extend_from_slice(b"author ");
        bytes.extend_from_slice(&person);
        bytes.extend_from_slice(b"committer ");
        bytes.extend_from_slice(&person);
        bytes.push(b'\n');
        bytes.extend_from_slice(message.as_bytes());
        self.add(ObjectType::Commit, bytes)
    }

    /// Writes every object into `repo`: one pack when there are many, else loose.
    pub(super) fn write(self, repo: &Repository) -> Result<()> {
        if self.objects.len() >= PACKED_FROM {
            return write_pack(repo, self.format, &self.objects);
        }
        let odb = repo
            .odb()
            .map_err(|source| Error::git("opening the object database", source))?;
        for (kind, bytes) in &self.objects {
            crate::git::write_object(repo, || odb.write(*kind, bytes))
                .map_err(|source| Error::git("writing an object", source))?;
        }
        Ok(())
    }
}

/// Writes `objects` as one pack through `repo`'s indexer (which verifies the pack, names it
/// and writes its index).
fn write_pack(
    repo: &Repository,
    format: ObjectFormat,
    objects: &[(ObjectType, Vec<u8>)],
) -> Result<()> {
    if objects.is_empty() {
        return Ok(());
    }
    let bytes = encode(format, objects)?;
    let fail = |source| Error::git("writing a pack", source);
    let odb = repo.odb().map_err(fail)?;
    let mut writer = odb.packwriter().map_err(fail)?;
    writer
        .write_all(&bytes)
        .map_err(|e| fail(git2::Error::from_str(&e.to_string())))?;
    writer.commit().map_err(fail)?;
    Ok(())
}

/// The bytes of a version 2 pack holding `objects` whole: header, each object's type-and-size
/// header and zlib stream, then the checksum of everything before in the repository's hash
/// (SHA-1 or SHA-256, as git's packs in each format end).
fn encode(format: ObjectFormat, objects: &[(ObjectType, Vec<u8>)]) -> Result<Vec<u8>> {
    let count = u32::try_from(objects.len()).map_err(|_| {
        Error::git(
            "writing a pack",
            git2::Error::from_str("too many objects for one pack"),
        )
    })?;
    let mut pack = Vec::with_capacity(objects.iter().map(|(_, d)| d.len() / 2 + 16).sum());
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&count.to_be_bytes());
    // One compressor for every object, reset between them: setting up zlib's state (a few
    // hundred KiB) for each of thousands of small notes was a tenth of writing them.
    let mut z = flate2::Compress::new(flate2::Compression::fast(), true);
    let fail = |e: String| Error::git("compressing an object", git2::Error::from_str(&e));
    for (kind, data) in objects {
        object_header(&mut pack, *kind, data.len());
        z.reset();
        // Room for the whole stream in one call: zlib's bound for incompressible input.
        pack.reserve(data.len() + data.len() / 1000 + 64);
        let status = z
            .compress_vec(data, &mut pack, flate2::FlushCompress::Finish)
            .map_err(|e| fail(e.to_string()))?;
        if status != flate2::Status::StreamEnd {
            return Err(fail(format!("the stream did not end ({status:?})")));
        }
    }
    match format {
        ObjectFormat::Sha1 => {
            let trailer = <sha1::Sha1 as sha1::Digest>::digest(&pack);
            pack.extend_from_slice(&trailer);
        }
        _ => {
            let trailer = <sha2::Sha256 as sha2::Digest>::digest(&pack);
            pack.extend_from_slice(&trailer);
        }
    }
    Ok(pack)
}

/// An object's header in a pack: its type in bits 4–6 of the first byte and its size in
/// little-endian groups of 4, then 7 bits, each byte but the last with its high bit set.
fn object_header(out: &mut Vec<u8>, kind: ObjectType, size: usize) {
    let code: u8 = match kind {
        ObjectType::Commit => 1,
        ObjectType::Tree => 2,
        ObjectType::Blob => 3,
        _ => 4,
    };
    let mut byte = (code << 4) | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest != 0 {
        out.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(byte);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_header_matches_gits_encoding() {
        let mut out = Vec::new();
        object_header(&mut out, ObjectType::Blob, 15);
        assert_eq!(out, [0x3f]);
        out.clear();
        object_header(&mut out, ObjectType::Tree, 16);
        assert_eq!(out, [0xa0, 0x01]);
        out.clear();
        object_header(&mut out, ObjectType::Commit, 100_000);
        // 100000 = 0x186a0: low 4 bits 0, then 0x186a (7 bits at a time: 0x6a, 0x30).
        assert_eq!(out, [0x90, 0xea, 0x30]);
    }

    const FORMATS: [ObjectFormat; 2] = [ObjectFormat::Sha1, ObjectFormat::Sha256];

    fn init(dir: &std::path::Path, format: ObjectFormat) -> Repository {
        let mut opts = git2::RepositoryInitOptions::new();
        opts.object_format(format);
        Repository::init_opts(dir, &opts).unwrap()
    }

    #[test]
    fn trees_and_commits_are_named_as_libgit2_names_them() {
        for format in FORMATS {
            named_as_libgit2_names_them(format);
        }
    }

    fn named_as_libgit2_names_them(format: ObjectFormat) {
        let dir = tempfile::tempdir().unwrap();
        let repo = init(dir.path(), format);
        assert_eq!(repo.object_format(), format);
        let blob = repo.blob(b"x\n").unwrap();
        let sub = {
            let mut b = repo.treebuilder(None).unwrap();
            b.insert("f", blob, BLOB_MODE).unwrap();
            b.write().unwrap()
        };
        // Names that sort differently as files and as directories ("a" < "a-b" < "a/").
        let mut builder = repo.treebuilder(None).unwrap();
        let mut entries = Vec::new();
        for (name, mode, id) in [
            ("a-b", BLOB_MODE, blob),
            ("a", TREE_MODE, sub),
            ("a.c", BLOB_MODE, blob),
            ("0f", TREE_MODE, sub),
            ("ab", BLOB_MODE, blob),
        ] {
            builder.insert(name, id, mode).unwrap();
            entries.push(TreeEntry {
                name: name.as_bytes().to_vec(),
                mode,
                id,
            });
        }
        let expected = builder.write().unwrap();
        let mut objects = NewObjects::new(format);
        assert_eq!(objects.tree(entries).unwrap(), expected);

        let tree = repo.find_tree(expected).unwrap();
        let sig = Signature::new(
            "A U Thor",
            "a@example.com",
            &git2::Time::new(1_700_000_000, -90),
        )
        .unwrap();
        let first = repo.commit(None, &sig, &sig, "one\n", &tree, &[]).unwrap();
        let parent = repo.find_commit(first).unwrap();
        let second = repo
            .commit(None, &sig, &sig, "two\n", &tree, &[&parent])
            .unwrap();
        assert_eq!(objects.commit(expected, &[], &sig, "one\n").unwrap(), first);
        assert_eq!(
            objects.commit(expected, &[first], &sig, "two\n").unwrap(),
            second
        );
    }

    #[test]
    fn a_written_pack_is_indexed_and_readable() {
        for format in FORMATS {
            pack_is_indexed_and_readable(format);
        }
    }

    fn pack_is_indexed_and_readable(format: ObjectFormat) {
        let dir = tempfile::tempdir().unwrap();
        let repo = init(dir.path(), format);
        let blob = b"line\n".repeat(40);
        let objects = vec![(ObjectType::Blob, blob.clone())];
        // The indexer checks the trailer: a pack checksummed in the other format fails.
        let other = FORMATS.into_iter().find(|f| *f != format).unwrap();
        assert!(write_pack(&repo, other, &objects).is_err());
        write_pack(&repo, format, &objects).unwrap();
        let id = Oid::hash_object_ext(ObjectType::Blob, &blob, format).unwrap();
        assert_eq!(id.to_string().len(), crate::git::hex_len(format));
        let odb = repo.odb().unwrap();
        assert_eq!(odb.read(id).unwrap().data(), blob.as_slice());
        let packs = std::fs::read_dir(dir.path().join(".git/objects/pack"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
            .count();
        assert_eq!(packs, 1);
    }
}
