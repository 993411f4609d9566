//! Packs written whole: the new objects of one large write, stored undeltified in a single pack
//! that libgit2's indexer then names and indexes (docs/format.md, "Notes").
//!
//! A notes commit over a range of thousands of commits rewrites every fanout directory: a few
//! hundred small trees. Written loose they cost a file each; packed by libgit2's packbuilder
//! they cost a delta search that saved little space and most of the time. A pack of whole
//! objects is what `git fast-import` writes too, and `git gc` deltifies it later.

use std::io::Write as _;

use git2::{ObjectType, Odb, OdbLookupFlags, Oid, Repository};

use super::{Error, Result};

/// Collects the objects reachable from `tip` that `known` lacks (a tree that `known` has is
/// not entered: everything under it is there too), reading them from `source`.
pub(super) fn missing_objects(
    source: &Odb<'_>,
    known: &Odb<'_>,
    tip: Oid,
) -> Result<Vec<(ObjectType, Vec<u8>)>> {
    let fail = |source| Error::git("reading an object to pack", source);
    let mut out = Vec::new();
    let mut pending = vec![tip];
    let mut seen = std::collections::HashSet::new();
    while let Some(oid) = pending.pop() {
        if !seen.insert(oid) || known.exists_ext(oid, OdbLookupFlags::NO_REFRESH) {
            continue;
        }
        let object = source.read(oid).map_err(fail)?;
        let data = object.data();
        match object.kind() {
            ObjectType::Commit => {
                let tree = commit_tree(data).ok_or_else(|| {
                    Error::git(
                        "reading an object to pack",
                        git2::Error::from_str("a commit without a tree line"),
                    )
                })?;
                pending.push(tree);
            }
            ObjectType::Tree => pending.extend(tree_entries(data, oid.as_bytes().len())),
            _ => {}
        }
        out.push((object.kind(), data.to_vec()));
    }
    Ok(out)
}

/// The tree a commit's text names on its first line.
fn commit_tree(data: &[u8]) -> Option<Oid> {
    let line = data.split(|b| *b == b'\n').next()?;
    let hex = std::str::from_utf8(line.strip_prefix(b"tree ")?).ok()?;
    Oid::from_str(hex).ok()
}

/// The object IDs a tree's entries name (`<mode> <name>\0<raw id>`, repeated), skipping
/// gitlinks, whose commits live in another repository.
fn tree_entries(data: &[u8], id_len: usize) -> Vec<Oid> {
    let mut ids = Vec::new();
    let mut rest = data;
    while let Some(nul) = rest.iter().position(|b| *b == 0) {
        let gitlink = rest.starts_with(b"160000 ");
        let Some(raw) = rest.get(nul + 1..nul + 1 + id_len) else {
            break;
        };
        if !gitlink && let Ok(id) = Oid::from_bytes(raw) {
            ids.push(id);
        }
        rest = &rest[nul + 1 + id_len..];
    }
    ids
}

/// Writes `objects` as one pack through `repo`'s indexer (which verifies the pack, names it
/// and writes its index).
pub(super) fn write_pack(repo: &Repository, objects: &[(ObjectType, Vec<u8>)]) -> Result<()> {
    if objects.is_empty() {
        return Ok(());
    }
    let bytes = encode(objects)?;
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
/// header and zlib stream, then the SHA-1 of everything before.
fn encode(objects: &[(ObjectType, Vec<u8>)]) -> Result<Vec<u8>> {
    use sha1::Digest as _;
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
    for (kind, data) in objects {
        object_header(&mut pack, *kind, data.len());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        let compressed = z.write_all(data).and_then(|()| z.finish()).map_err(|e| {
            Error::git(
                "compressing an object",
                git2::Error::from_str(&e.to_string()),
            )
        })?;
        pack.extend_from_slice(&compressed);
    }
    let trailer = sha1::Sha1::digest(&pack);
    pack.extend_from_slice(&trailer);
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

    #[test]
    fn a_written_pack_is_indexed_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let blob = b"line\n".repeat(40);
        let objects = vec![(ObjectType::Blob, blob.clone())];
        write_pack(&repo, &objects).unwrap();
        let id = Oid::hash_object(ObjectType::Blob, &blob).unwrap();
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
