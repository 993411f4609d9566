//! Diffs and patch-ids of commits and ranges.

use git2::{DiffOptions, Oid};

use super::stat::DiffStat;
use super::{Error, Repo, Result};
use crate::session::Range;

/// Columns of the stat, as `git diff --stat` prints for a terminal 80 wide.
const STAT_WIDTH: usize = 80;

/// The diff of a range as git prints it, with its stat, cut to a size.
#[derive(Debug, Clone)]
pub struct RangeDiff {
    /// `git diff --stat` style summary.
    pub stat: String,
    /// The patch text (possibly truncated at a line boundary).
    pub patch: String,
    /// Size of the whole patch in bytes.
    pub total_bytes: usize,
    /// Whether `patch` was cut.
    pub truncated: bool,
}

impl Repo {
    fn tree_of(&self, commit: Oid) -> Result<git2::Tree<'_>> {
        self.inner
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| Error::git(format!("reading the tree of {commit}"), e))
    }

    fn range_trees(&self, range: &Range) -> Result<(Option<git2::Tree<'_>>, git2::Tree<'_>)> {
        let old = match &range.base {
            Some(base) => Some(self.tree_of(self.oid(base)?)?),
            None => None,
        };
        Ok((old, self.tree_of(self.oid(&range.head)?)?))
    }

    /// The diff of `range` (from the empty tree when it has no base), cut to `max_bytes` at a
    /// line boundary, with its stat. Each file's patch is generated once, for both.
    pub fn range_diff(&self, range: &Range, max_bytes: usize) -> Result<RangeDiff> {
        let (stat, patch) = self.range_patches(range, true)?;
        Ok(finish(stat, patch, max_bytes))
    }

    /// The `git diff --stat` summary of `range` alone.
    pub fn range_stat(&self, range: &Range) -> Result<String> {
        Ok(self.range_patches(range, false)?.0)
    }

    /// The stat of `range` and, when `with_text`, its patch text, from one pass over the
    /// files' patches.
    ///
    /// libgit2 looks up each file's `diff` attribute on both sides, and in a repository with a
    /// work tree it resolves the file's directory with realpath(3) every time: a readlink per
    /// path component per file, which was a tenth of `context` on a small diff. When no
    /// `.gitattributes` lies on the way to any changed path (in the work tree or the index),
    /// a handle without a work tree reads exactly the same attribute files (the repository's
    /// info/attributes, core.attributesFile, the system file) without that cost, so the
    /// patches and their stat come from there.
    fn range_patches(&self, range: &Range, with_text: bool) -> Result<(String, Vec<u8>)> {
        let (old, new) = self.range_trees(range)?;
        let pair = TreePair {
            old: old.as_ref().map(git2::Tree::id),
            new: new.id(),
            header: Vec::new(),
        };
        self.patches(&[pair], with_text, &range.to_string())
    }

    /// The stat (one line per file, counts added up over every pair) and, when `with_text`,
    /// the patch text of each pair of trees in turn, each after its header.
    fn patches(
        &self,
        pairs: &[TreePair],
        with_text: bool,
        what: &str,
    ) -> Result<(String, Vec<u8>)> {
        let git = |source| Error::git(format!("computing the diff {what}"), source);
        let mut opts = DiffOptions::new();
        opts.context_lines(3);
        fn tree_diff<'r>(
            repo: &'r git2::Repository,
            (old, new): (Option<Oid>, Oid),
            opts: &mut DiffOptions,
        ) -> std::result::Result<git2::Diff<'r>, git2::Error> {
            let old = old.map(|id| repo.find_tree(id)).transpose()?;
            let new = repo.find_tree(new)?;
            repo.diff_tree_to_tree(old.as_ref(), Some(&new), Some(opts))
        }
        // Which files changed does not depend on attributes: ask the handle without a work
        // tree first, and go back to the full one only when an attribute file is on the way.
        let bare = match self.work_dir() {
            Some(work_dir) => git2::Repository::open_bare(self.inner.path())
                .ok()
                .map(|bare| {
                    // The object database this handle has open already, rather than listing
                    // and mapping every pack index a second time.
                    if let Ok(odb) = self.inner.odb() {
                        // Without it the bare handle opens its own: slower, same objects.
                        let _ = bare.set_odb(&odb);
                    }
                    // libgit2 reads attributes from the index too, which meant reading and
                    // checksumming the whole file (a twentieth of `context`). An index that
                    // names no `.gitattributes` adds none: an empty one in memory answers the
                    // same.
                    if !index_may_name_attributes(&bare.path().join("index"))
                        && let Ok(mut empty) = git2::Index::new()
                    {
                        let _ = bare.set_index(&mut empty);
                    }
                    (bare, work_dir)
                }),
            None => None,
        };
        let mut stat = DiffStat::default();
        let mut text = Vec::new();
        for pair in pairs {
            let trees = (pair.old, pair.new);
            let diff = match &bare {
                Some((bare, work_dir)) => {
                    let diff = tree_diff(bare, trees, &mut opts).map_err(git)?;
                    if attribute_files_on_the_way(bare, work_dir, &diff) {
                        tree_diff(&self.inner, trees, &mut opts).map_err(git)?
                    } else {
                        diff
                    }
                }
                None => tree_diff(&self.inner, trees, &mut opts).map_err(git)?,
            };
            if with_text {
                text.extend_from_slice(&pair.header);
            }
            for (index, delta) in diff.deltas().enumerate() {
                let Some(mut patch) = git2::Patch::from_diff(&diff, index).map_err(git)? else {
                    continue;
                };
                let (_, insertions, deletions) = patch.line_stats().map_err(git)?;
                stat.add(&delta, insertions, deletions);
                if with_text {
                    text.extend_from_slice(&patch.to_buf().map_err(git)?);
                }
            }
        }
        Ok((stat.render(STAT_WIDTH), text))
    }

    /// The work of `commits` (oldest first) that are not one unbroken range: each commit's
    /// patch against its first parent, in order, after a `commit <name>` line and its subject
    /// (as `git log -p` shows them), with the stat of all of them added up per file; cut to
    /// `max_bytes` at a line boundary.
    pub fn commits_diff(&self, commits: &[Oid], max_bytes: usize) -> Result<RangeDiff> {
        let git = |source| Error::git("reading the session's commits", source);
        let mut pairs = Vec::with_capacity(commits.len());
        for oid in commits {
            let commit = self.inner.find_commit(*oid).map_err(git)?;
            let old = match commit.parent_ids().next() {
                Some(parent) => Some(self.tree_of(parent)?.id()),
                None => None,
            };
            let subject =
                String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned();
            pairs.push(TreePair {
                old,
                new: commit.tree_id(),
                header: format!("commit {oid}\n\n    {subject}\n\n").into_bytes(),
            });
        }
        let (stat, patch) = self.patches(&pairs, true, &format!("of {} commits", commits.len()))?;
        Ok(finish(stat, patch, max_bytes))
    }

    /// The patch-id of one commit against its first parent (`None` for merges and commits that
    /// change nothing).
    pub fn commit_patch_id(&self, commit: Oid) -> Result<Option<Oid>> {
        let git = |source| Error::git(format!("computing the patch-id of {commit}"), source);
        let found = self.inner.find_commit(commit).map_err(git)?;
        if found.parent_count() > 1 {
            return Ok(None);
        }
        let old = found
            .parents()
            .next()
            .map(|p| p.tree())
            .transpose()
            .map_err(git)?;
        let new = found.tree().map_err(git)?;
        let diff = self
            .inner
            .diff_tree_to_tree(old.as_ref(), Some(&new), None)
            .map_err(git)?;
        if diff.deltas().len() == 0 {
            return Ok(None);
        }
        diff.patchid(None).map(Some).map_err(git)
    }

    /// The patch-id of a whole range: what a squash merge of it contains.
    pub fn range_patch_id(&self, range: &Range) -> Result<Oid> {
        let git = |source| Error::git(format!("computing the patch-id of {range}"), source);
        let (old, new) = self.range_trees(range)?;
        let diff = self
            .inner
            .diff_tree_to_tree(old.as_ref(), Some(&new), None)
            .map_err(git)?;
        diff.patchid(None).map_err(git)
    }
}

/// Whether a `.gitattributes` file sits in any directory from the top of the work tree down to
/// a path the diff changes, in the work tree or in the index (where libgit2 looks). The index
/// is read through `repo`, which keeps it for the attribute lookups that follow.
fn attribute_files_on_the_way(
    repo: &git2::Repository,
    work_dir: &std::path::Path,
    diff: &git2::Diff<'_>,
) -> bool {
    let Ok(index) = repo.index() else {
        return true;
    };
    let mut seen = std::collections::HashSet::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            let Some(path) = file.path() else {
                return true;
            };
            // Each directory once: its ancestors were checked with it.
            for dir in path.ancestors().skip(1) {
                if !seen.insert(dir.to_path_buf()) {
                    break;
                }
                let attributes = dir.join(".gitattributes");
                // A tree may name a directory `.` or `..` (git mktree writes them, fsck refuses
                // them), which the index lookup cannot take: leave such paths to libgit2.
                let plain = attributes
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
                if !plain
                    || index.get_path(&attributes, 0).is_some()
                    || work_dir.join(&attributes).exists()
                {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether the index file at `path` may have an entry named `.gitattributes` (in any
/// directory): false only when it is missing, or of version 2 or 3 (paths stored whole) with no
/// such bytes anywhere. Version 4 shares path prefixes between entries, so a name may be split;
/// a split index keeps most entries in another file, and a sparse one folds directories into
/// one entry: true for those (any `link` or `sdir` bytes), and the caller reads it properly.
fn index_may_name_attributes(path: &std::path::Path) -> bool {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return e.kind() != std::io::ErrorKind::NotFound,
    };
    let plain_paths = bytes.len() >= 8
        && &bytes[..4] == b"DIRC"
        && matches!(
            u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            2 | 3
        );
    !plain_paths
        || bytes.windows(NAME.len()).any(|w| w[0] == b'.' && w == NAME)
        || bytes.windows(4).any(|w| w == b"link" || w == b"sdir")
}

/// The attribute file's name, as [`index_may_name_attributes`] looks for it.
const NAME: &[u8] = b".gitattributes";

/// Two trees to compare, and what to print before their patch.
struct TreePair {
    old: Option<Oid>,
    new: Oid,
    header: Vec<u8>,
}

/// The patch as text, cut to `max_bytes` at a line boundary.
fn finish(stat: String, patch: Vec<u8>, max_bytes: usize) -> RangeDiff {
    // Validating is cheaper than the lossy conversion's scan, and almost every patch is valid
    // UTF-8.
    let text = String::from_utf8(patch)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let total_bytes = text.len();
    let (patch, truncated) = cut_at_line(text, max_bytes);
    RangeDiff {
        stat,
        patch,
        total_bytes,
        truncated,
    }
}

/// `text` cut to at most `max` bytes at a line boundary (or a character boundary when one line
/// is longer), and whether it was cut.
pub fn cut_at_line(mut text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(end, |i| i + 1);
    text.truncate(end);
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_whole_lines() {
        let (cut, truncated) = cut_at_line("aaa\nbbb\nccc\n".into(), 9);
        assert!(truncated);
        assert_eq!(cut, "aaa\nbbb\n");
        let (same, truncated) = cut_at_line("short\n".into(), 100);
        assert!(!truncated);
        assert_eq!(same, "short\n");
    }

    /// Runs real git in `dir` (hermetic: no user or system configuration).
    fn git(dir: &std::path::Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn the_index_bytes_tell_whether_an_attributes_file_may_be_staged() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let index = repo.join(".git/index");
        git(repo, &["init", "-q"]);
        // No index yet: nothing staged.
        assert!(!index_may_name_attributes(&index));
        std::fs::create_dir(repo.join("sub")).unwrap();
        std::fs::write(repo.join("sub/a.txt"), "a\n").unwrap();
        std::fs::write(repo.join("sub/.gitattributes.bak"), "x\n").unwrap();
        git(repo, &["add", "sub/a.txt"]);
        assert!(!index_may_name_attributes(&index));
        // A lookalike name is a false alarm, never a miss.
        git(repo, &["add", "sub/.gitattributes.bak"]);
        assert!(index_may_name_attributes(&index));
        git(repo, &["rm", "-q", "--cached", "sub/.gitattributes.bak"]);
        assert!(!index_may_name_attributes(&index));
        std::fs::write(repo.join("sub/.gitattributes"), "*.txt diff=x\n").unwrap();
        git(repo, &["add", "sub/.gitattributes"]);
        assert!(index_may_name_attributes(&index));
        git(repo, &["rm", "-q", "--cached", "sub/.gitattributes"]);
        // A split index keeps its entries in another file: always read properly.
        git(repo, &["update-index", "--split-index"]);
        assert!(index_may_name_attributes(&index));
        git(repo, &["update-index", "--no-split-index"]);
        assert!(!index_may_name_attributes(&index));
        // Version 4 shares path prefixes: always read properly.
        git(repo, &["update-index", "--index-version", "4"]);
        assert!(index_may_name_attributes(&index));
    }
}
