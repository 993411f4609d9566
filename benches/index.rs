//! Index benchmark (issue: local index, `list` and `search` fast at 10,000 sessions). Prints
//! figures; asserts only that the commands succeed.
//!
//! Generates repositories with 1,000 and 10,000 sessions (4 artifacts each: plan, review,
//! implementation, validation, with realistic text) in the exact storage format through
//! `git fast-import`, then reports side by side in one run:
//! - `list --json` and `search` (warm) against `git for-each-ref refs/handoff/sessions/`
//!   (goal ≤ 3× each);
//! - the cold index build (`git handoff reindex`);
//! - the index size against the size of the refs' objects;
//! - how list and search time grow from 1k to 10k sessions (goal: flat or logarithmic).
//!
//! Run: `cargo bench --bench index` (a few minutes on two cores).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
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
    list: Duration,
    list_recent: Duration,
    search: Duration,
    search_rare: Duration,
    cold: Duration,
    index_bytes: u64,
    object_bytes: u64,
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
    Figures {
        for_each_ref: median(dir, "git", &["for-each-ref", "refs/handoff/sessions/"]),
        list: median(dir, BIN, &["list", "--json"]),
        list_recent: median(dir, BIN, &["list", "--limit", "20", "--json"]),
        search: median(dir, BIN, &common),
        search_rare: median(dir, BIN, &["search", "ticket00777", "--json"]),
        cold,
        index_bytes: dir_size(&dir.join(".git/handoff")),
        object_bytes: dir_size(&dir.join(".git/objects")),
    }
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for sessions in [1_000, 10_000] {
        let dir = tmp.path().join(format!("s{sessions}"));
        let built = build(&dir, sessions);
        println!(
            "{sessions} sessions ({} artifacts) written by fast-import in {built:.2?}",
            sessions * 4
        );
        // Let the ref timestamps age past the racy window, as they would in real use.
        std::thread::sleep(Duration::from_secs(3));
        results.push((sessions, measure(&dir)));
    }
    println!();
    println!("warm, median of {RUNS} runs; ratio = time / for-each-ref of the same refs");
    for (n, f) in &results {
        let r = |d: Duration| d.as_secs_f64() / f.for_each_ref.as_secs_f64();
        println!("{n} sessions:");
        println!(
            "  git for-each-ref refs/handoff/sessions/  {:>10.2?}",
            f.for_each_ref
        );
        println!(
            "  list --json (all sessions)               {:>10.2?}  {:>5.2}x",
            f.list,
            r(f.list)
        );
        println!(
            "  list --limit 20 --json                   {:>10.2?}  {:>5.2}x",
            f.list_recent,
            r(f.list_recent)
        );
        println!(
            "  search (3 common words, top 20)          {:>10.2?}  {:>5.2}x",
            f.search,
            r(f.search)
        );
        println!(
            "  search (a rare word)                     {:>10.2?}  {:>5.2}x",
            f.search_rare,
            r(f.search_rare)
        );
        println!(
            "  cold build (reindex)                     {:>10.2?}",
            f.cold
        );
        println!(
            "  index {:.1} MB for {:.1} MB of objects ({:.2}x)",
            f.index_bytes as f64 / 1e6,
            f.object_bytes as f64 / 1e6,
            f.index_bytes as f64 / f.object_bytes as f64
        );
    }
    let (small, large) = (&results[0].1, &results[1].1);
    let g = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
    println!();
    println!("growth from 1k to 10k sessions (10x the data):");
    println!(
        "  for-each-ref {:.2}x",
        g(small.for_each_ref, large.for_each_ref)
    );
    println!(
        "  list all {:.2}x, list --limit 20 {:.2}x",
        g(small.list, large.list),
        g(small.list_recent, large.list_recent)
    );
    println!(
        "  search common {:.2}x, search rare {:.2}x",
        g(small.search, large.search),
        g(small.search_rare, large.search_rare)
    );
}
