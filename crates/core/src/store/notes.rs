//! `refs/notes/handoff`: one line per (session, kind) on each code commit a session produced.
//!
//! Lines are a set (sorted, unique), so any two versions merge by line union exactly like git's
//! `cat_sort_uniq`. libgit2 never creates fanout levels and has no notes merge, so the tree is
//! written here by hand with a fixed fanout of one 2-digit directory level (2/38 for SHA-1
//! names, 2/62 for SHA-256), which plain git reads and merges. Reading accepts any fanout git
//! may have written (flat, 2/38, 2/2/36, mixed).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use git2::{ObjectType, Oid, Repository, Tree};

use super::blobs::Refused;
use super::pack::{BLOB_MODE, NewObjects, TREE_MODE, TreeEntry};
use super::refs::{self, Attempt, NOTES_REF, read_ref};
use super::{Error, Result, Store};
use crate::session::{Kind, SessionId};

/// The trailer-like key each note line starts with.
pub const LINE_KEY: &str = "Handoff-Session:";
/// The largest note we agree to rewrite. A larger one is refused and left untouched: notes are
/// never truncated (docs/format.md, "Notes").
pub const MAX_NOTE_BYTES: usize = 64 * 1024 * 1024;

/// Looks up notes in one version of the notes tree, at any fanout.
pub struct NotesReader<'r> {
    repo: &'r Repository,
    tree: Tree<'r>,
}

impl NotesReader<'_> {
    /// The note's bytes on a commit, `None` when it has none.
    pub fn get(&self, commit: Oid) -> Result<Option<Vec<u8>>> {
        let hex = commit.to_string();
        for path in [
            format!("{}/{}", &hex[..2], &hex[2..]),
            hex.clone(),
            format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..]),
        ] {
            if let Ok(entry) = self.tree.get_path(std::path::Path::new(&path)) {
                return read_note_blob(self.repo, entry.id()).map(Some);
            }
        }
        Ok(None)
    }
}

/// Rewritten notes by (old note blobs, added lines, removed lines): the new blob (`None` when
/// no line is left) and whether its lines changed.
type Rewrites<'a> = HashMap<
    (
        Vec<Oid>,
        Option<&'a BTreeSet<Vec<u8>>>,
        Option<&'a BTreeSet<Vec<u8>>>,
    ),
    (Option<Oid>, bool),
>;

/// Lines to add to the notes of commits, as bytes: lines others wrote on our ref are kept byte
/// for byte, whatever their encoding.
pub type Additions = BTreeMap<Oid, BTreeSet<Vec<u8>>>;

/// What merging a remote's notes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotesMerge {
    /// Nothing to do.
    UpToDate,
    /// We had no notes: took theirs.
    Copied,
    /// We were behind: moved to theirs.
    FastForward,
    /// Both had changes: a merge commit with the union of lines.
    Merged {
        /// Notes that gained lines.
        changed: usize,
    },
}

/// One parsed note line: `Handoff-Session: <ID> <kind>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoteLine {
    /// The session.
    pub session: SessionId,
    /// The kind of artifact that noted the commit.
    pub kind: Kind,
}

impl NoteLine {
    /// The line as stored.
    pub fn render(&self) -> String {
        format!("{LINE_KEY} {} {}", self.session, self.kind)
    }

    /// The line as stored, as bytes for [`Additions`].
    pub fn to_bytes(&self) -> Vec<u8> {
        self.render().into_bytes()
    }
}

/// The lines of a note, without their newlines; empty lines are dropped as git's
/// `cat_sort_uniq` drops them. Nothing else is changed.
pub fn note_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty())
}

/// Parses a note; lines that are not ours are ignored (others may share the ref).
pub fn parse_note(bytes: &[u8]) -> Vec<NoteLine> {
    note_lines(bytes)
        .filter_map(|line| {
            let line = std::str::from_utf8(line).ok()?;
            let rest = line.trim().strip_prefix(LINE_KEY)?;
            let mut words = rest.split_whitespace();
            let session = SessionId::parse(words.next()?).ok()?;
            let kind = words.next()?.parse().ok()?;
            Some(NoteLine { session, kind })
        })
        .collect()
}

impl Store<'_> {
    /// The note's bytes on a commit, `None` when it has none.
    pub fn read_note(&self, commit: Oid) -> Result<Option<Vec<u8>>> {
        match self.notes_reader()? {
            Some(reader) => reader.get(commit),
            None => Ok(None),
        }
    }

    /// The lines of every note on `commit` this clone can see: `refs/notes/handoff`, then what
    /// fetches brought from remotes (`refs/handoff-remotes/<remote>/notes/handoff`,
    /// `refs/notes/handoff-remotes/<remote>`), so that `why` sees a remote's links right after a
    /// plain `git fetch`.
    pub fn read_visible_notes(&self, commit: Oid) -> Result<Vec<u8>> {
        let mut refs = vec![NOTES_REF.to_owned()];
        for prefix in [refs::TRACKING_PREFIX, "refs/notes/handoff-remotes/"] {
            for (name, _) in self.refs_under(prefix)? {
                if prefix == "refs/notes/handoff-remotes/" || name.ends_with("/notes/handoff") {
                    refs.push(name);
                }
            }
        }
        let mut out = Vec::new();
        for name in refs {
            let Some(tip) = read_ref(self.repo, &name)? else {
                continue;
            };
            let reader = NotesReader {
                repo: self.repo,
                tree: notes_tree(self.repo, tip)?,
            };
            if let Some(bytes) = reader.get(commit)? {
                out.extend_from_slice(&bytes);
                out.push(b'\n');
            }
        }
        Ok(out)
    }

    /// A reader over the current notes tree, for looking up many commits at once.
    pub fn notes_reader(&self) -> Result<Option<NotesReader<'_>>> {
        let Some(tip) = read_ref(self.repo, NOTES_REF)? else {
            return Ok(None);
        };
        Ok(Some(NotesReader {
            repo: self.repo,
            tree: notes_tree(self.repo, tip)?,
        }))
    }

    /// Adds `line` to the notes of every commit in `commits` (one notes commit for all),
    /// keeping each note a sorted set of lines. Returns how many notes changed.
    pub fn add_note_line(&self, commits: &[Oid], line: &NoteLine, message: &str) -> Result<usize> {
        let line = BTreeSet::from([line.to_bytes()]);
        let additions: Additions = commits.iter().map(|c| (*c, line.clone())).collect();
        self.add_note_lines(&additions, message)
    }

    /// Adds lines to the notes of several commits in one notes commit (each note stays a
    /// sorted set). Returns how many notes changed.
    pub fn add_note_lines(&self, additions: &Additions, message: &str) -> Result<usize> {
        self.write_notes(additions, &Additions::new(), None, message)
    }

    /// Takes lines back from the notes of several commits in one notes commit (`undo` of an
    /// artifact takes back the lines it added, docs/format.md "Notes"); a note left with no
    /// line is removed. Lines others wrote stay byte for byte. Returns how many notes changed.
    pub fn remove_note_lines(&self, removals: &Additions, message: &str) -> Result<usize> {
        self.write_notes(&Additions::new(), removals, None, message)
    }

    /// Merges another notes commit (a remote's copy) into `refs/notes/handoff`: copy when we
    /// have none, fast-forward when we are behind, otherwise a merge commit whose notes are the
    /// line union of both sides, like `git notes merge -s cat_sort_uniq`. Nothing is dropped.
    pub fn merge_notes(&self, theirs: Oid, message: &str) -> Result<NotesMerge> {
        notes_tree(self.repo, theirs)?;
        let reflog = format!("handoff: {message}");
        let merged = refs::update_with_retry(self.repo, NOTES_REF, &reflog, || {
            let ours = read_ref(self.repo, NOTES_REF)?;
            Ok(match ours {
                Some(o) if o == theirs || self.is_ancestor(theirs, o)? => {
                    Attempt::Finished(Some(NotesMerge::UpToDate))
                }
                Some(o) if self.is_ancestor(o, theirs)? => Attempt::Swap {
                    expected: ours,
                    new: theirs,
                    value: Some(NotesMerge::FastForward),
                },
                Some(_) => Attempt::Finished(None),
                None => Attempt::Swap {
                    expected: None,
                    new: theirs,
                    value: Some(NotesMerge::Copied),
                },
            })
        })?;
        if let Some(outcome) = merged {
            return Ok(outcome);
        }
        // Diverged: add every line of theirs to ours in a merge commit.
        let tree = notes_tree(self.repo, theirs)?;
        let mut all = BTreeMap::new();
        collect_notes(self.repo, &tree, String::new(), &mut all)?;
        let mut additions = Additions::new();
        for (hex, blobs) in all {
            let Ok(oid) = crate::git::parse_oid(&hex) else {
                continue;
            };
            let lines = additions.entry(oid).or_default();
            for b in blobs {
                let bytes = read_note_blob(self.repo, b)?;
                lines.extend(note_lines(&bytes).map(<[u8]>::to_vec));
            }
        }
        let changed = self.write_notes(&additions, &Additions::new(), Some(theirs), message)?;
        Ok(NotesMerge::Merged { changed })
    }

    fn is_ancestor(&self, ancestor: Oid, of: Oid) -> Result<bool> {
        self.repo
            .graph_descendant_of(of, ancestor)
            .map_err(|source| Error::git("comparing notes histories", source))
    }

    /// Writes one notes commit adding `additions` to the current notes (with `second_parent`
    /// for a merge), by compare-and-swap with retries. The new trees, blobs and commit are
    /// built in memory and written in one go before the ref moves: as one pack when there are
    /// many (a large range rewrites every fanout directory), else loose (store/pack.rs).
    fn write_notes(
        &self,
        additions: &Additions,
        removals: &Additions,
        second_parent: Option<Oid>,
        message: &str,
    ) -> Result<usize> {
        let reflog = format!("handoff: {message}");
        refs::update_with_retry(self.repo, NOTES_REF, &reflog, || {
            let tip = read_ref(self.repo, NOTES_REF)?;
            let tree = tip.map(|t| notes_tree(self.repo, t)).transpose()?;
            let mut objects = NewObjects::new(self.repo.object_format());
            let (new_tree, changed) =
                self.notes_tree_with(tree.as_ref(), additions, removals, &mut objects)?;
            if changed == 0 && second_parent.is_none() {
                return Ok(Attempt::Finished(0));
            }
            let sig = self.signature(crate::clock::now())?;
            let parents: Vec<Oid> = tip.into_iter().chain(second_parent).collect();
            let commit = objects.commit(new_tree, &parents, &sig, &format!("{message}\n"))?;
            objects.write(self.repo)?;
            Ok(Attempt::Swap {
                expected: tip,
                new: commit,
                value: changed,
            })
        })
    }

    /// Builds the new notes tree in canonical 2/38 fanout, rewriting only the fanout
    /// directories that gain or lose a line (or that hold notes written at another fanout).
    fn notes_tree_with(
        &self,
        old: Option<&Tree<'_>>,
        additions: &Additions,
        removals: &Additions,
        objects: &mut NewObjects,
    ) -> Result<(Oid, usize)> {
        // Each note is a sorted set of byte lines; the map is keyed by the object's hex.
        let repo = self.repo;
        let git = |action: &'static str| move |source| Error::git(action, source);
        // Additions grouped by their 2-hex fanout directory.
        type Edit<'a> = (Option<&'a BTreeSet<Vec<u8>>>, Option<&'a BTreeSet<Vec<u8>>>);
        let mut targets: BTreeMap<String, BTreeMap<String, Edit<'_>>> = BTreeMap::new();
        for (edits, removing) in [(additions, false), (removals, true)] {
            for (oid, lines) in edits {
                let hex = oid.to_string();
                let edit = targets
                    .entry(hex[..2].to_owned())
                    .or_default()
                    .entry(hex)
                    .or_default();
                if removing {
                    edit.1 = Some(lines);
                } else {
                    edit.0 = Some(lines);
                }
            }
        }
        let mut root: Vec<TreeEntry> = Vec::new();
        let mut groups: BTreeMap<String, BTreeMap<String, Vec<Oid>>> = BTreeMap::new();
        let mut kept_dirs: BTreeMap<String, Oid> = BTreeMap::new();
        // A note's path names its object in full: 40 hex digits (SHA-1) or 64 (SHA-256).
        let full_len = crate::git::hex_len(repo.object_format());
        if let Some(old) = old {
            for entry in old.iter() {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                let kind = entry.kind();
                if is_hex(&name) && name.len() == full_len && kind == Some(ObjectType::Blob) {
                    groups
                        .entry(name[..2].to_owned())
                        .or_default()
                        .entry(name.clone())
                        .or_default()
                        .push(entry.id());
                } else if is_hex(&name) && name.len() == 2 && kind == Some(ObjectType::Tree) {
                    kept_dirs.insert(name, entry.id());
                } else {
                    root.push(TreeEntry {
                        name: entry.name_bytes().to_vec(),
                        mode: entry.filemode(),
                        id: entry.id(),
                    });
                }
            }
        }
        // A directory is rewritten when it gains a note or has flat notes to absorb.
        let touched: BTreeSet<String> = targets.keys().chain(groups.keys()).cloned().collect();
        // A foreign entry named like a fanout directory we write (a file `ab`) would stand
        // twice in the new tree: refuse rather than drop it or write a broken tree.
        if let Some(clash) = root
            .iter()
            .find(|e| touched.contains(String::from_utf8_lossy(&e.name).as_ref()))
        {
            return Err(Error::NoteRefused {
                note: clash.id,
                problem: super::NoteProblem::UnexpectedEntry(crate::session::codec::excerpt(
                    &String::from_utf8_lossy(&clash.name),
                )),
            });
        }
        let mut blob_cache: HashMap<Vec<u8>, Oid> = HashMap::new();
        // Most notes of a range hold the same lines and gain the same one: rewrite each
        // distinct (old blobs, added lines) pair once.
        let mut merged: Rewrites<'_> = HashMap::new();
        let mut changed = 0;
        for dir in &touched {
            let mut notes = groups.remove(dir).unwrap_or_default();
            if let Some(sub) = kept_dirs.remove(dir) {
                let sub = repo
                    .find_tree(sub)
                    .map_err(git("reading a notes fanout directory"))?;
                collect_notes(repo, &sub, dir.clone(), &mut notes)?;
            }
            let wanted = targets.remove(dir).unwrap_or_default();
            let mut fanout: Vec<TreeEntry> = Vec::new();
            let names: BTreeSet<&String> = notes.keys().chain(wanted.keys()).collect();
            for hex in names {
                let blobs = notes.get(hex).map(Vec::as_slice).unwrap_or_default();
                let (add, remove) = wanted.get(hex).copied().unwrap_or_default();
                let blob = match (blobs, add, remove) {
                    ([one], None, None) => Some(*one),
                    _ => {
                        let key = (blobs.to_vec(), add, remove);
                        let (blob, edited) = match merged.get(&key) {
                            Some(done) => *done,
                            None => {
                                let mut lines = BTreeSet::new();
                                for b in blobs {
                                    let bytes = read_note_blob(repo, *b)?;
                                    lines.extend(note_lines(&bytes).map(<[u8]>::to_vec));
                                }
                                let before = lines.clone();
                                if let Some(add) = add {
                                    lines.extend(add.iter().cloned());
                                }
                                if let Some(remove) = remove {
                                    lines.retain(|l| !remove.contains(l));
                                }
                                let edited = lines != before;
                                let blob = match blobs {
                                    _ if lines.iter().all(|l| l.is_empty()) => None,
                                    [one] if !edited => Some(*one),
                                    _ => Some(note_blob(&lines, &mut blob_cache, objects)?),
                                };
                                merged.insert(key, (blob, edited));
                                (blob, edited)
                            }
                        };
                        if edited {
                            changed += 1;
                        }
                        blob
                    }
                };
                if let Some(blob) = blob {
                    fanout.push(TreeEntry {
                        name: hex.as_bytes()[2..].to_vec(),
                        mode: BLOB_MODE,
                        id: blob,
                    });
                }
            }
            if fanout.is_empty() {
                continue;
            }
            root.push(TreeEntry {
                name: dir.as_bytes().to_vec(),
                mode: TREE_MODE,
                id: objects.tree(fanout)?,
            });
        }
        for (dir, oid) in kept_dirs {
            root.push(TreeEntry {
                name: dir.into_bytes(),
                mode: TREE_MODE,
                id: oid,
            });
        }
        Ok((objects.tree(root)?, changed))
    }
}

/// The blob of a note's lines (one per line, sorted), built once per distinct set.
fn note_blob(
    lines: &BTreeSet<Vec<u8>>,
    cache: &mut HashMap<Vec<u8>, Oid>,
    objects: &mut NewObjects,
) -> Result<Oid> {
    let mut bytes = Vec::new();
    for l in lines.iter().filter(|l| !l.is_empty()) {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    if let Some(oid) = cache.get(&bytes) {
        return Ok(*oid);
    }
    let oid = objects.add(ObjectType::Blob, bytes.clone())?;
    cache.insert(bytes, oid);
    Ok(oid)
}

/// Walks a fanout directory of any depth, collecting `full hex → note blobs`.
fn collect_notes(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: String,
    out: &mut BTreeMap<String, Vec<Oid>>,
) -> Result<()> {
    let full_len = crate::git::hex_len(repo.object_format());
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes());
        let full = format!("{prefix}{name}");
        match entry.kind() {
            Some(ObjectType::Blob) if is_hex(&name) && full.len() == full_len => {
                out.entry(full).or_default().push(entry.id());
            }
            Some(ObjectType::Tree) if is_hex(&name) && full.len() < full_len => {
                let sub = repo
                    .find_tree(entry.id())
                    .map_err(|source| Error::git("reading a notes fanout directory", source))?;
                collect_notes(repo, &sub, full, out)?;
            }
            // Anything else inside a fanout directory would be lost by a rewrite: refuse.
            _ => {
                return Err(Error::NoteRefused {
                    note: entry.id(),
                    problem: super::NoteProblem::UnexpectedEntry(crate::session::codec::excerpt(
                        &full,
                    )),
                });
            }
        }
    }
    Ok(())
}

fn notes_tree(repo: &Repository, tip: Oid) -> Result<Tree<'_>> {
    repo.find_commit(tip)
        .and_then(|c| c.tree())
        .map_err(|source| Error::git(format!("reading {NOTES_REF}"), source))
}

/// Reads a note's bytes whole. A note larger than [`MAX_NOTE_BYTES`] is refused (before it is
/// inflated), never cut: a cut note written back would lose the lines past the cut.
fn read_note_blob(repo: &Repository, oid: Oid) -> Result<Vec<u8>> {
    let problem = match super::blobs::read_bounded(repo, oid, MAX_NOTE_BYTES) {
        Ok(Ok(bytes)) => return Ok(bytes),
        Ok(Err(Refused::NotABlob(kind))) => super::NoteProblem::NotABlob(kind.str()),
        Ok(Err(Refused::TooLarge(size))) => super::NoteProblem::TooLarge(size),
        Err(source) => return Err(Error::git("reading a note", source)),
    };
    Err(Error::NoteRefused { note: oid, problem })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(repo: &Repository, text: &str) -> Oid {
        repo.blob(text.as_bytes()).unwrap()
    }

    /// The commit the tests note.
    const TARGET: &str = "abcdef0123456789abcdef0123456789abcdef01";

    /// A new repository with an identity, as libgit2 and as the facade see it.
    fn repo_with_identity() -> (tempfile::TempDir, Repository, crate::git::Repo) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut config = repo.config().unwrap();
        config.set_str("user.name", "T").unwrap();
        config.set_str("user.email", "t@e").unwrap();
        let git = crate::git::Repo::open(dir.path()).unwrap();
        (dir, repo, git)
    }

    #[test]
    fn a_file_named_like_a_fanout_directory_is_refused_not_dropped() {
        let (_dir, repo, git) = repo_with_identity();
        let target = Oid::from_str(TARGET).unwrap();
        let root = {
            let mut b = repo.treebuilder(None).unwrap();
            b.insert("ab", blob(&repo, "a file, not a directory\n"), 0o100644)
                .unwrap();
            b.write().unwrap()
        };
        let sig = git2::Signature::now("T", "t@e").unwrap();
        let tree = repo.find_tree(root).unwrap();
        let commit = repo.commit(None, &sig, &sig, "odd", &tree, &[]).unwrap();
        repo.reference(NOTES_REF, commit, true, "test").unwrap();

        let store = Store::new(&git);
        let additions = Additions::from([(target, BTreeSet::from([b"added".to_vec()]))]);
        let err = store.add_note_lines(&additions, "test").unwrap_err();
        assert!(matches!(err, Error::NoteRefused { .. }), "{err}");
        assert_eq!(
            repo.refname_to_id(NOTES_REF).unwrap(),
            commit,
            "nothing moved"
        );
        // A note elsewhere is still written, and the file kept.
        let other = Oid::from_str("cdef0123456789abcdef0123456789abcdef0123").unwrap();
        let additions = Additions::from([(other, BTreeSet::from([b"added".to_vec()]))]);
        assert_eq!(store.add_note_lines(&additions, "test").unwrap(), 1);
        let tip = repo.refname_to_id(NOTES_REF).unwrap();
        let tree = repo.find_commit(tip).unwrap().tree().unwrap();
        assert!(tree.get_name("ab").is_some() && tree.get_name("cd").is_some());
    }

    #[test]
    fn notes_written_at_any_fanout_merge_into_one_canonical_entry() {
        let (_dir, repo, git) = repo_with_identity();
        let target = Oid::from_str(TARGET).unwrap();
        let hex = target.to_string();
        // The same object noted three times: flat, 2/38 and 2/2/36 (a damaged, mixed tree).
        let inner = {
            let mut b = repo.treebuilder(None).unwrap();
            b.insert(&hex[4..], blob(&repo, "from 2/2/36\n"), 0o100644)
                .unwrap();
            b.write().unwrap()
        };
        let two = {
            let mut b = repo.treebuilder(None).unwrap();
            b.insert(&hex[2..], blob(&repo, "from 2/38\n"), 0o100644)
                .unwrap();
            b.insert(&hex[2..4], inner, 0o040000).unwrap();
            b.write().unwrap()
        };
        let root = {
            let mut b = repo.treebuilder(None).unwrap();
            b.insert(&hex, blob(&repo, "from flat\n"), 0o100644)
                .unwrap();
            b.insert(&hex[..2], two, 0o040000).unwrap();
            b.insert("README", blob(&repo, "not a note\n"), 0o100644)
                .unwrap();
            b.write().unwrap()
        };
        let sig = git2::Signature::now("T", "t@e").unwrap();
        let tree = repo.find_tree(root).unwrap();
        let commit = repo.commit(None, &sig, &sig, "mixed", &tree, &[]).unwrap();
        repo.reference(NOTES_REF, commit, true, "test").unwrap();

        let store = Store::new(&git);
        let additions = Additions::from([(target, BTreeSet::from([b"added".to_vec()]))]);
        assert_eq!(store.add_note_lines(&additions, "test").unwrap(), 1);

        let tip = repo.refname_to_id(NOTES_REF).unwrap();
        let tree = repo.find_commit(tip).unwrap().tree().unwrap();
        assert!(
            tree.get_name(&hex).is_none(),
            "the flat entry moved into the fanout"
        );
        assert!(
            tree.get_name("README").is_some(),
            "non-note entries are kept"
        );
        let sub = repo
            .find_tree(tree.get_name(&hex[..2]).unwrap().id())
            .unwrap();
        assert_eq!(sub.len(), 1, "exactly one entry for the object");
        assert_eq!(
            store.read_note(target).unwrap().unwrap(),
            b"added\nfrom 2/2/36\nfrom 2/38\nfrom flat\n"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            /// Whatever bytes others wrote on our ref, adding our line keeps every one of their
            /// lines byte for byte, and merging two versions keeps both sides' lines.
            #[test]
            fn foreign_lines_survive_additions_and_merges(
                ours in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 1..40), 0..12),
                theirs in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 1..40), 0..12),
            ) {
                let (_dir, repo, git) = repo_with_identity();
                let target = Oid::from_str(TARGET).unwrap();
                let store = Store::new(&git);
                let set = |lines: &[Vec<u8>]| -> Additions {
                    Additions::from([(target, lines.iter().cloned().collect())])
                };
                // Their version: a notes commit of its own, from the same start.
                store.add_note_lines(&set(&[b"start".to_vec()]), "start").unwrap();
                let start = repo.refname_to_id(NOTES_REF).unwrap();
                store.add_note_lines(&set(&theirs), "theirs").unwrap();
                let their_tip = repo.refname_to_id(NOTES_REF).unwrap();
                repo.reference(NOTES_REF, start, true, "back").unwrap();
                store.add_note_lines(&set(&ours), "ours").unwrap();
                store.add_note_lines(&set(&[b"Handoff-Session: x plan".to_vec()]), "line").unwrap();
                store.merge_notes(their_tip, "merge").unwrap();
                let note = store.read_note(target).unwrap().unwrap();
                let lines: BTreeSet<&[u8]> = note_lines(&note).collect();
                for l in ours.iter().chain(&theirs) {
                    prop_assert!(lines.contains(l.as_slice()), "lost {:?}", l);
                }
                prop_assert!(lines.contains(&b"start"[..]));
            }
        }
    }
}
