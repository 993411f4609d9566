//! Codec and redaction benchmark (issue: nothing lost, nothing forged). Prints figures;
//! asserts nothing.
//!
//! - Decoding an artifact holding 1k, 2k, 4k and 8k `+++` lines (in the body and inside a
//!   finding's multi-line string): growth must be linear, 8k ≤ 10 ms. Baseline in the same
//!   run: one `str::lines` pass over the same bytes.
//! - Redacting an 8 MiB body of prose with a few secrets: ≤ 100 ms. Baseline: the same
//!   `str::lines` pass.
//!
//! Run: `cargo bench --bench codec`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use git_handoff::session::codec::{decode_artifact, encode_artifact};
use git_handoff::session::{Artifact, Finding, Kind, SCHEMA_VERSION, SessionId, Status, Verdict};

fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn artifact(fences: usize) -> Artifact {
    Artifact {
        schema_version: SCHEMA_VERSION,
        id: "01JB0000000000000000000000".parse().unwrap(),
        session: SessionId::parse("SESSION-20251027-A7F3K2M9-rate").unwrap(),
        kind: Kind::Review,
        agent: "codex".into(),
        created: "2025-10-27T10:00:00Z".parse().unwrap(),
        author: "A U Thor <a@example.com>".into(),
        iteration: 1,
        status: Status::ReadyForImplementation,
        verdict: Some(Verdict::Approve),
        range: None,
        commits: Vec::new(),
        forced: false,
        findings: vec![Finding {
            title: "fences".into(),
            body: "text\n+++\n".repeat(fences / 2),
            priority: Some(1),
            confidence: None,
            path: None,
            start_line: None,
            end_line: None,
        }],
        retracts: None,
        body: "+++\nline\n".repeat(fences / 2),
    }
}

fn main() {
    println!("decode: artifact with N '+++' lines (median of 15)");
    let mut first = None;
    for fences in [1_000, 2_000, 4_000, 8_000] {
        let text = encode_artifact(&artifact(fences)).unwrap();
        let decode = median(
            || drop(black_box(decode_artifact(text.as_bytes()).unwrap())),
            15,
        );
        let scan = median(
            || {
                black_box(text.lines().count());
            },
            15,
        );
        let base = *first.get_or_insert(decode);
        println!(
            "  {fences:>5} fences, {:>7} bytes: {decode:>9.2?} ({:.1}x the 1k figure; {:.0}x a lines() pass of {scan:.2?})",
            text.len(),
            decode.as_secs_f64() / base.as_secs_f64(),
            decode.as_secs_f64() / scan.as_secs_f64().max(1e-9),
        );
    }

    let paragraph = "The rate limiter keys requests by user id, falls back to the client address \
                     for anonymous calls, and refills its buckets every second with jitter.\n";
    let mut body = String::new();
    while body.len() < 8 * 1024 * 1024 {
        body.push_str(paragraph);
        if body.len() % 100_000 < paragraph.len() {
            body.push_str("DB_PASSWORD=hunter22 token=a8Fk29dLq0xZ7vB3nM1pQw\n");
        }
    }
    let redact = median(|| drop(black_box(git_handoff::redact::redact(&body))), 5);
    let scan = median(
        || {
            black_box(body.lines().count());
        },
        5,
    );
    let (_, found) = git_handoff::redact::redact(&body);
    println!(
        "redact: {} MiB body, {} secrets: {redact:.2?} (goal <= 50 ms; {:.0}x a lines() pass of {scan:.2?})",
        body.len() / (1024 * 1024),
        found.len(),
        redact.as_secs_f64() / scan.as_secs_f64().max(1e-9)
    );
}
