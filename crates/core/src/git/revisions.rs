//! Sets of commits named the way `git rev-list` names them, and what a list of commits looks
//! like as a range.
//!
//! A session's work is a list of commits (docs/format.md, "A session is its commits"), given on
//! the command line with git's revision forms (gitrevisions(7)): `A..B`, `A...B`, `X^!`, `X^@`,
//! `X^-`/`X^-N`, `^X`, and several revisions separated by spaces.

use git2::{Oid, Sort};

use super::{Error, Repo, Result, object_id};
use crate::session::Range;

/// What one word of a revision list asks for.
struct Parsed {
    /// Commits whose history is included.
    include: Vec<Oid>,
    /// Commits whose history is excluded.
    exclude: Vec<Oid>,
}

impl Repo {
    /// The commits that `git rev-list SPEC` lists, oldest first (reverse topological order).
    /// Options (words starting with `-`) are refused: this takes revisions only.
    pub fn rev_list(&self, spec: &str) -> Result<Vec<Oid>> {
        let bad = |problem: String| Error::BadRange {
            range: crate::session::codec::excerpt(spec),
            problem,
        };
        let mut parsed = Parsed {
            include: Vec::new(),
            exclude: Vec::new(),
        };
        let words: Vec<&str> = spec.split_whitespace().collect();
        if words.is_empty() {
            return Err(bad("it names no revision".into()));
        }
        for word in words {
            self.parse_word(word, &mut parsed).map_err(bad)?;
        }
        if parsed.include.is_empty() {
            return Err(bad(
                "it only excludes commits (^X); name the commits to include too".into(),
            ));
        }
        self.walk(&parsed.include, &parsed.exclude, usize::MAX)
            .map(|mut newest_first| {
                newest_first.reverse();
                newest_first
            })
    }

    /// Up to `limit` commits reachable from `include` and from none of `exclude`, newest first
    /// (topological order).
    pub fn walk(&self, include: &[Oid], exclude: &[Oid], limit: usize) -> Result<Vec<Oid>> {
        let git = |source| Error::git("walking the history", source);
        let mut walk = self.inner.revwalk().map_err(git)?;
        walk.set_sorting(Sort::TOPOLOGICAL).map_err(git)?;
        for oid in include {
            walk.push(*oid).map_err(git)?;
        }
        for oid in exclude {
            walk.hide(*oid).map_err(git)?;
        }
        walk.take(limit)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(git)
    }

    /// Up to `limit` commits reachable from `include` and from none of `exclude`, newest first
    /// (topological order), each given to `visit` with its raw message and its parents, read
    /// once.
    pub fn walk_commits(
        &self,
        include: &[Oid],
        exclude: &[Oid],
        limit: usize,
        mut visit: impl FnMut(Oid, &[u8], &[Oid]),
    ) -> Result<()> {
        let git = |source| Error::git("walking the history", source);
        let mut parents = Vec::new();
        for oid in self.walk(include, exclude, limit)? {
            let commit = self.inner.find_commit(oid).map_err(git)?;
            parents.clear();
            parents.extend(commit.parent_ids());
            visit(oid, commit.message_raw_bytes(), &parents);
        }
        Ok(())
    }

    /// `base..head` when `commits` (oldest first) are exactly that range: one line of
    /// single-parent commits, each the child of the one before. `None` otherwise (other work
    /// sits between them, or one of them is a merge).
    pub fn contiguous_range(&self, commits: &[Oid]) -> Option<Range> {
        contiguous(commits, |oid| self.parents(oid))
    }

    /// A commit's parents, `None` when it is not a commit here.
    pub fn parents(&self, commit: Oid) -> Option<Vec<Oid>> {
        Some(self.inner.find_commit(commit).ok()?.parent_ids().collect())
    }
}

/// [`Repo::contiguous_range`] with the parents of each commit from `parents`.
pub fn contiguous(commits: &[Oid], parents: impl Fn(Oid) -> Option<Vec<Oid>>) -> Option<Range> {
    let (first, rest) = commits.split_first()?;
    let base = match parents(*first)?.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => return None,
    };
    let mut previous = *first;
    for oid in rest {
        if parents(*oid)?.as_slice() != [previous] {
            return None;
        }
        previous = *oid;
    }
    Some(Range {
        base: base.map(object_id),
        head: object_id(previous),
    })
}

impl Repo {
    /// Orders commits oldest first (reverse topological order, as `git rev-list --reverse`
    /// lists them), dropping duplicates. The walk stops at `boundary` (the history of those
    /// commits is not searched): pass a commit older than all of them, such as the session's
    /// base, or nothing to search the whole history.
    pub fn oldest_first(&self, commits: &[Oid], boundary: &[Oid]) -> Result<Vec<Oid>> {
        let wanted: std::collections::HashSet<Oid> = commits.iter().copied().collect();
        if wanted.len() <= 1 {
            return Ok(wanted.into_iter().collect());
        }
        let tips: Vec<Oid> = wanted.iter().copied().collect();
        let ordered = |boundary: &[Oid]| -> Result<Vec<Oid>> {
            let mut ordered: Vec<Oid> = self
                .walk(&tips, boundary, usize::MAX)?
                .into_iter()
                .filter(|oid| wanted.contains(oid))
                .collect();
            ordered.reverse();
            Ok(ordered)
        };
        let found = ordered(boundary)?;
        if found.len() == wanted.len() {
            return Ok(found);
        }
        // The boundary hid some of them (it was not older than all): search everything.
        ordered(&[])
    }

    fn parse_word(&self, word: &str, into: &mut Parsed) -> std::result::Result<(), String> {
        if word.starts_with('-') {
            return Err(format!(
                "'{}' is an option; give revisions only (A..B, A^!, B ^X, ...)",
                crate::session::codec::excerpt(word)
            ));
        }
        if let Some((left, right)) = word.split_once("...") {
            let a = self.commit_of(if left.is_empty() { "HEAD" } else { left })?;
            let b = self.commit_of(if right.is_empty() { "HEAD" } else { right })?;
            into.include.extend([a, b]);
            if let Ok(base) = self.inner.merge_base(a, b) {
                into.exclude.push(base);
            }
            return Ok(());
        }
        if let Some((left, right)) = word.split_once("..") {
            into.exclude
                .push(self.commit_of(if left.is_empty() { "HEAD" } else { left })?);
            into.include
                .push(self.commit_of(if right.is_empty() { "HEAD" } else { right })?);
            return Ok(());
        }
        if let Some(rev) = word.strip_prefix('^') {
            into.exclude.push(self.commit_of(rev)?);
            return Ok(());
        }
        if let Some(rev) = word.strip_suffix("^!") {
            let commit = self.commit_of(rev)?;
            into.include.push(commit);
            into.exclude.extend(self.parents_of(commit)?);
            return Ok(());
        }
        if let Some(rev) = word.strip_suffix("^@") {
            let commit = self.commit_of(rev)?;
            into.include.extend(self.parents_of(commit)?);
            return Ok(());
        }
        if let Some((rev, n)) = word.rsplit_once("^-")
            && (n.is_empty() || n.bytes().all(|b| b.is_ascii_digit()))
        {
            let commit = self.commit_of(rev)?;
            let n: usize = if n.is_empty() {
                1
            } else {
                n.parse()
                    .map_err(|_| format!("bad parent number in {word}"))?
            };
            let parents = self.parents_of(commit)?;
            let parent = n
                .checked_sub(1)
                .and_then(|i| parents.get(i))
                .ok_or_else(|| format!("{rev} has no parent number {n}"))?;
            into.include.push(commit);
            into.exclude.push(*parent);
            return Ok(());
        }
        into.include.push(self.commit_of(word)?);
        Ok(())
    }

    fn commit_of(&self, rev: &str) -> std::result::Result<Oid, String> {
        let object = self
            .inner
            .revparse_single(rev)
            .map_err(|e| format!("{}: {}", crate::session::codec::excerpt(rev), e.message()))?;
        object
            .peel_to_commit()
            .map(|c| c.id())
            .map_err(|_| format!("{} is not a commit", crate::session::codec::excerpt(rev)))
    }

    fn parents_of(&self, commit: Oid) -> std::result::Result<Vec<Oid>, String> {
        self.inner
            .find_commit(commit)
            .map(|c| c.parent_ids().collect())
            .map_err(|e| e.message().to_owned())
    }
}
