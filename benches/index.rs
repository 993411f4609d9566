//! Index benchmark (issues: local index fast at 10,000 sessions; scale to 100,000). Prints
//! figures; asserts only that the commands succeed.
//!
//! Generates repositories of 1,000 and 10,000 sessions, and of 100,000 with `BENCH_100K=1`
//! (4 artifacts each: plan, review, implementation, validation, with realistic text), in the
//! exact storage format through `git fast-import`, refs packed as after `git gc` or a clone.
//! Each figure is printed beside the floor it is measured against, in the same run:
//! - `list --json` (every session) and `search` (warm) against git's fastest enumeration of the
//!   sessions: `git for-each-ref refs/handoff/sessions/` by names only
//!   (`--format=%(refname)`, which reads no object) and in its default format (which reads
//!   every object's type), both printed, the ratio taken to the faster (goal at 100k: list ≤
//!   1×, search top 20 ≤ 100 ms);
//! - the cold index build (`git handoff reindex`) against git's fastest read of every object
//!   once: `git cat-file --batch` fed in object-traversal order (`git rev-list --objects --all
//!   --no-object-names`) and in pack order (`--batch-all-objects --unordered`, blobs only),
//!   both printed, the ratio taken to the faster (goal ≤ 3×);
//! - `list --limit 20` right after one new session (an incremental refresh; goal ≤ 20 ms);
//! - the index size against the sessions' pack (goal ≤ 1.2×);
//! - the growth of each from one size to the next (10× the data each).
//!
//! Run: `cargo bench --bench index` (a few minutes on two cores);
//! `BENCH_100K=1 cargo bench --bench index` adds 100,000 sessions (about ten minutes more).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{BIN, RUNS, build, cmd, median};

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let meta = e.metadata().unwrap();
                    if meta.is_dir() {
                        dir_size(&e.path())
                    } else {
                        meta.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

struct Figures {
    for_each_ref: Duration,
    for_each_ref_names: Duration,
    cat_file: Duration,
    cat_traversal: Duration,
    incremental: Duration,
    list: Duration,
    list_recent: Duration,
    search: Duration,
    search_rare: Duration,
    cold: Duration,
    index_bytes: u64,
    object_bytes: u64,
}

/// `git cat-file --batch` of every blob in the repository (all of them the sessions'), in pack
/// order, the floor of a cold build: reading every artifact once. (In object-name order each
/// read lands somewhere else in the pack: 100 times slower at 100,000 sessions.)
fn cat_every_blob(dir: &Path) -> Duration {
    let out = cmd(dir, "git")
        .args([
            "cat-file",
            "--batch-all-objects",
            "--unordered",
            "--batch-check=%(objecttype) %(objectname)",
        ])
        .output()
        .unwrap();
    let blobs: String = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("blob "))
        .map(|id| format!("{id}\n"))
        .collect();
    cat_batch(dir, blobs.as_bytes())
}

/// The median of three `git cat-file --batch` runs fed the object names in `names`.
fn cat_batch(dir: &Path, names: &[u8]) -> Duration {
    let list = dir.join(".git/object-list");
    std::fs::write(&list, names).unwrap();
    let time = || {
        let start = Instant::now();
        let status = cmd(dir, "git")
            .args(["cat-file", "--batch"])
            .stdin(std::fs::File::open(&list).unwrap())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        start.elapsed()
    };
    let times = (0..3).map(|_| time()).collect();
    std::fs::remove_file(&list).unwrap();
    common::median_of(times)
}

/// `git cat-file --batch` of every object reachable from a ref, in the order
/// `git rev-list --objects --all` walks them (commit, its tree, the tree's blobs): the other
/// floor of a cold build, faster where objects sit in the pack in that order.
fn cat_in_traversal_order(dir: &Path) -> Duration {
    let out = cmd(dir, "git")
        .args(["rev-list", "--objects", "--all", "--no-object-names"])
        .output()
        .unwrap();
    assert!(out.status.success());
    cat_batch(dir, &out.stdout)
}

fn measure(dir: &Path) -> Figures {
    let start = Instant::now();
    let out = cmd(dir, BIN).args(["reindex"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cold = start.elapsed();
    let common = ["search", "redis", "fallback", "timeout", "--json"];
    let object_bytes = dir_size(&dir.join(".git/objects"));
    let mut figures = Figures {
        for_each_ref: median(dir, "git", &["for-each-ref", "refs/handoff/sessions/"]),
        for_each_ref_names: median(
            dir,
            "git",
            &[
                "for-each-ref",
                "--format=%(refname)",
                "refs/handoff/sessions/",
            ],
        ),
        cat_file: cat_every_blob(dir),
        cat_traversal: cat_in_traversal_order(dir),
        incremental: Duration::ZERO,
        list: median(dir, BIN, &["list", "--json"]),
        list_recent: median(dir, BIN, &["list", "--limit", "20", "--json"]),
        search: median(dir, BIN, &common),
        search_rare: median(dir, BIN, &["search", "ticket00777", "--json"]),
        cold,
        index_bytes: dir_size(&dir.join(".git/handoff")),
        object_bytes,
    };
    // One new session at a time, as an agent records them; the next read refreshes.
    figures.incremental = common::median_of(
        (0..RUNS)
            .map(|i| {
                common::timed(
                    dir,
                    BIN,
                    &["plan", "-t", &format!("New {i}"), "-m", "A plan."],
                );
                common::timed(dir, BIN, &["list", "--limit", "20", "--json"])
            })
            .collect(),
    );
    figures
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    // BENCH_KEEP=DIR keeps the generated repositories there, to try changes on them by hand.
    let root =
        std::env::var_os("BENCH_KEEP").map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    let mut sizes = vec![1_000, 10_000];
    if std::env::var_os("BENCH_100K").is_some() {
        sizes.push(100_000);
    }
    let mut results = Vec::new();
    for sessions in sizes {
        let dir = root.join(format!("s{sessions}"));
        let built = build(&dir, sessions);
        common::git(&dir, &["pack-refs", "--all"]);
        println!(
            "{sessions} sessions ({} artifacts) written by fast-import in {built:.2?}, refs packed",
            sessions * 4
        );
        // Let the ref timestamps age past the racy window, as they would in real use.
        std::thread::sleep(Duration::from_secs(3));
        results.push((sessions, measure(&dir)));
    }
    println!();
    println!("warm, median of {RUNS} runs; each figure beside its floor");
    for (n, f) in &results {
        let r = |d: Duration, floor: Duration| d.as_secs_f64() / floor.as_secs_f64();
        let refs = f.for_each_ref.min(f.for_each_ref_names);
        let objects = f.cat_file.min(f.cat_traversal);
        println!("{n} sessions:");
        println!(
            "  git for-each-ref, names only             {:>10.2?}",
            f.for_each_ref_names
        );
        println!(
            "  git for-each-ref, default format         {:>10.2?}",
            f.for_each_ref
        );
        println!(
            "  list --json (all sessions)               {:>10.2?}  {:>5.2}x the faster for-each-ref (goal <= 1x)",
            f.list,
            r(f.list, refs)
        );
        println!(
            "  list --limit 20 --json                   {:>10.2?}  {:>5.2}x",
            f.list_recent,
            r(f.list_recent, refs)
        );
        println!(
            "  search (3 common words, top 20)          {:>10.2?}  {:>5.2}x (goal <= 100ms)",
            f.search,
            r(f.search, refs)
        );
        println!(
            "  search (a rare word)                     {:>10.2?}  {:>5.2}x",
            f.search_rare,
            r(f.search_rare, refs)
        );
        println!(
            "  list --limit 20 after one new session    {:>10.2?}  (goal <= 20ms)",
            f.incremental
        );
        println!(
            "  git cat-file --batch, traversal order    {:>10.2?}",
            f.cat_traversal
        );
        println!(
            "  git cat-file --batch, every blob, pack order {:>6.2?}",
            f.cat_file
        );
        println!(
            "  cold build (reindex)                     {:>10.2?}  {:>5.2}x the faster cat-file (goal <= 3x)",
            f.cold,
            r(f.cold, objects)
        );
        println!(
            "  index {:.1} MB for {:.1} MB of objects ({:.2}x, goal <= 1.2x)",
            f.index_bytes as f64 / 1e6,
            f.object_bytes as f64 / 1e6,
            f.index_bytes as f64 / f.object_bytes as f64
        );
    }
    let g = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
    for pair in results.windows(2) {
        let ((n_small, small), (n_large, large)) = (&pair[0], &pair[1]);
        println!();
        println!("growth from {n_small} to {n_large} sessions (10x the data):");
        println!(
            "  for-each-ref {:.2}x, cat-file {:.2}x",
            g(small.for_each_ref, large.for_each_ref),
            g(small.cat_file, large.cat_file)
        );
        println!(
            "  list all {:.2}x, list --limit 20 {:.2}x, after one new session {:.2}x",
            g(small.list, large.list),
            g(small.list_recent, large.list_recent),
            g(small.incremental, large.incremental)
        );
        println!(
            "  search common {:.2}x, search rare {:.2}x",
            g(small.search, large.search),
            g(small.search_rare, large.search_rare)
        );
        println!(
            "  cold build {:.2}x, index size {:.2}x",
            g(small.cold, large.cold),
            large.index_bytes as f64 / small.index_bytes as f64
        );
    }
}
