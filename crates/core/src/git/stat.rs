//! The `git diff --stat` summary, counted from patches the caller already generated.
//!
//! libgit2's own `git_diff_get_stats` generates every file's patch again, and each generation
//! looks the file's `diff` attribute up anew (a path resolution per directory level), so a
//! diff with its stat cost two patch passes. Collecting the counts while the patch is printed
//! halves that. The layout is libgit2's `GIT_DIFF_STATS_FULL` (what `git diff --stat` prints),
//! byte for byte; a unit test compares the two.

/// Separator between the old and new name of a renamed file.
const RENAME_SEPARATOR: &[u8] = b" => ";
/// The narrowest graph libgit2 scales to.
const MIN_GRAPH_WIDTH: usize = 7;

/// One file's counts.
#[derive(Debug, Clone)]
struct FileStat {
    /// The name as printed (`a/{x => y}` for a rename).
    name: Vec<u8>,
    insertions: usize,
    deletions: usize,
    /// Old and new sizes of a binary file.
    binary: Option<(u64, u64)>,
}

/// A diffstat being collected, one file at a time, in diff order.
#[derive(Debug, Default, Clone)]
pub struct DiffStat {
    files: Vec<FileStat>,
    /// Where each name is in `files`.
    by_name: std::collections::HashMap<Vec<u8>, usize>,
}

impl DiffStat {
    /// Records one file of the diff.
    pub fn add(&mut self, delta: &git2::DiffDelta<'_>, insertions: usize, deletions: usize) {
        let old = delta.old_file().path_bytes();
        let new = delta.new_file().path_bytes();
        let name = match (old, new) {
            (Some(old), Some(new)) if old != new => rename_name(old, new),
            _ => new.or(old).unwrap_or_default().to_vec(),
        };
        let binary = delta
            .flags()
            .is_binary()
            .then(|| (delta.old_file().size(), delta.new_file().size()));
        // Several commits' patches of one file (a session's commits shown one by one) count
        // as one line, as the stat of their combined diff would.
        if let Some(seen) = self.by_name.get(&name).map(|&i| &mut self.files[i]) {
            seen.insertions += insertions;
            seen.deletions += deletions;
            seen.binary = binary.or(seen.binary);
            return;
        }
        self.by_name.insert(name.clone(), self.files.len());
        self.files.push(FileStat {
            name,
            insertions,
            deletions,
            binary,
        });
    }

    /// The summary as `git diff --stat` prints it for a terminal `width` columns wide.
    pub fn render(&self, width: usize) -> String {
        let max_name = self.files.iter().map(|f| f.name.len()).max().unwrap_or(0);
        let max_filestat = self
            .files
            .iter()
            .map(|f| f.insertions + f.deletions)
            .max()
            .unwrap_or(0);
        let max_digits = digits(max_filestat + 1);
        let mut graph = width;
        if graph > 0 {
            if graph > max_name + max_digits + 5 {
                graph -= max_name + max_digits + 5;
            }
            graph = graph.max(MIN_GRAPH_WIDTH);
        }
        if graph > max_filestat {
            graph = 0;
        }
        let mut out = Vec::new();
        for file in &self.files {
            out.push(b' ');
            out.extend_from_slice(&file.name);
            out.resize(out.len() + max_name - file.name.len(), b' ');
            out.extend_from_slice(b" | ");
            match file.binary {
                Some((old, new)) => {
                    out.extend_from_slice(format!("Bin {old} -> {new} bytes").as_bytes());
                }
                None => {
                    let total = file.insertions + file.deletions;
                    out.extend_from_slice(format!("{total:>max_digits$}").as_bytes());
                    if total > 0 {
                        out.push(b' ');
                        let (plus, minus) = if graph == 0 {
                            (file.insertions, file.deletions)
                        } else {
                            let full = (total * graph + max_filestat / 2) / max_filestat;
                            let plus = full * file.insertions / total;
                            (plus.max(1), (full - plus).max(1))
                        };
                        out.resize(out.len() + plus, b'+');
                        out.resize(out.len() + minus, b'-');
                    }
                }
            }
            out.push(b'\n');
        }
        let insertions: usize = self.files.iter().map(|f| f.insertions).sum();
        let deletions: usize = self.files.iter().map(|f| f.deletions).sum();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let files = self.files.len();
        let mut summary = format!(" {files} file{} changed", plural(files));
        if insertions > 0 || deletions == 0 {
            summary.push_str(&format!(
                ", {insertions} insertion{}(+)",
                plural(insertions)
            ));
        }
        if deletions > 0 || insertions == 0 {
            summary.push_str(&format!(", {deletions} deletion{}(-)", plural(deletions)));
        }
        out.extend_from_slice(summary.as_bytes());
        out.push(b'\n');
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// `dir/{old => new}` when both names share a directory, else `old => new`.
fn rename_name(old: &[u8], new: &[u8]) -> Vec<u8> {
    let common = common_dir_len(old, new);
    let mut name = Vec::new();
    if common > 0 {
        name.extend_from_slice(&old[..common]);
        name.push(b'{');
        name.extend_from_slice(&old[common..]);
        name.extend_from_slice(RENAME_SEPARATOR);
        name.extend_from_slice(&new[common..]);
        name.push(b'}');
    } else {
        name.extend_from_slice(old);
        name.extend_from_slice(RENAME_SEPARATOR);
        name.extend_from_slice(new);
    }
    name
}

/// Length of the longest common leading directory, slash included.
fn common_dir_len(one: &[u8], two: &[u8]) -> usize {
    let mut dir_end = 0;
    for (i, (a, b)) in one.iter().zip(two).enumerate() {
        if a != b {
            break;
        }
        if *a == b'/' {
            dir_end = i + 1;
        }
    }
    dir_end
}

fn digits(mut value: usize) -> usize {
    let mut count = 1;
    while value >= 10 {
        value /= 10;
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn commit(repo: &git2::Repository, files: &[(&str, &[u8])]) -> git2::Oid {
        let mut builder = repo.treebuilder(None).unwrap();
        let mut dirs: std::collections::BTreeMap<&str, git2::TreeBuilder<'_>> =
            std::collections::BTreeMap::new();
        for (path, content) in files {
            let blob = repo.blob(content).unwrap();
            match path.split_once('/') {
                Some((dir, name)) => {
                    dirs.entry(dir)
                        .or_insert_with(|| repo.treebuilder(None).unwrap())
                        .insert(name, blob, 0o100644)
                        .unwrap();
                }
                None => {
                    builder.insert(path, blob, 0o100644).unwrap();
                }
            }
        }
        for (dir, sub) in dirs {
            builder.insert(dir, sub.write().unwrap(), 0o040000).unwrap();
        }
        builder.write().unwrap()
    }

    /// The hand-counted stat matches libgit2's `git_diff_stats_to_buf` byte for byte, for
    /// additions, deletions, a binary file, renames inside and across directories, and graphs
    /// that do and do not need scaling.
    #[test]
    fn matches_libgit2_stats() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let many: String = (0..300).map(|i| format!("line {i}\n")).collect();
        let moved: String = (0..40).map(|i| format!("kept line {i}\n")).collect();
        let old = commit(
            &repo,
            &[
                ("a.txt", b"one\ntwo\nthree\n"),
                ("gone.txt", b"bye\n"),
                ("bin.dat", b"\0\x01\x02"),
                ("src/old_name.rs", moved.as_bytes()),
                ("top.rs", moved.replace("kept", "top").as_bytes()),
            ],
        );
        let new = commit(
            &repo,
            &[
                ("a.txt", b"one\n2\nthree\nfour\n"),
                ("big.txt", many.as_bytes()),
                ("bin.dat", b"\0\x01\x02\x03\x04"),
                ("src/new_name.rs", moved.as_bytes()),
                ("lib/top.rs", moved.replace("kept", "top").as_bytes()),
            ],
        );
        let (old, new) = (repo.find_tree(old).unwrap(), repo.find_tree(new).unwrap());
        for renames in [false, true] {
            let mut diff = repo
                .diff_tree_to_tree(Some(&old), Some(&new), None)
                .unwrap();
            if renames {
                diff.find_similar(None).unwrap();
            }
            let theirs = diff
                .stats()
                .unwrap()
                .to_buf(git2::DiffStatsFormat::FULL, 80)
                .unwrap();
            let mut ours = DiffStat::default();
            for (i, delta) in diff.deltas().enumerate() {
                let patch = git2::Patch::from_diff(&diff, i).unwrap().unwrap();
                let (_, insertions, deletions) = patch.line_stats().unwrap();
                ours.add(&delta, insertions, deletions);
            }
            for width in [80, 0, 20] {
                let theirs = diff
                    .stats()
                    .unwrap()
                    .to_buf(git2::DiffStatsFormat::FULL, width)
                    .unwrap();
                assert_eq!(
                    ours.render(width),
                    theirs.as_str().unwrap(),
                    "width {width}"
                );
            }
            assert!(theirs.as_str().unwrap().contains("Bin 3 -> 5 bytes"));
            if renames {
                assert!(ours.render(80).contains("src/{old_name.rs => new_name.rs}"));
            }
        }
    }

    #[test]
    fn an_empty_stat_reads_like_git() {
        assert_eq!(
            DiffStat::default().render(80),
            " 0 files changed, 0 insertions(+), 0 deletions(-)\n"
        );
    }
}
