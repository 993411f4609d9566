//! Agents benchmark (issues: `run`; the handoff runs itself). Prints figures; asserts only that
//! the commands succeed. (The MCP server at 10,000 sessions, beside three peers, is
//! `cargo bench --bench peers`.)
//!
//! - `git handoff run validate` over a 5,000-commit range with an agent that answers at once:
//!   everything but the agent ≤ 100 ms.
//! - `context --for validate` against `git diff base..head` of the same range (medians of 50
//!   interleaved pairs, ten per session): ≤ 1.5×.
//! - On the same repository, the agents' own gates when no gate is needed (the common turn):
//!   the Stop hook without a current session and with a COMPLETE one, ≤ 50 ms each; and
//!   `git handoff loop` with agents that answer at once, its own time per step (everything but
//!   the agents) ≤ 100 ms.
//!
//! Run: `cargo bench --bench agents`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use common::{BIN, cmd, fast_import, git, linear_history, median_of as median, timed};

const CALLS: usize = 15;
const COMMITS: usize = 5_000;
/// Interleaved `context` / `git diff` pairs timed per session.
const PAIRS: usize = 10;

fn run_and_context(root: &Path) {
    let dir = root.join("history");
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "--initial-branch=main"]);
    fast_import(&dir, linear_history(COMMITS, 50).as_bytes());
    git(&dir, &["reset", "-q", "--hard", "main"]);
    let agent = root.join("instant-agent");
    std::fs::write(
        &agent,
        "#!/bin/sh\ncat >/dev/null\nprintf '## Verdict\\n\\nAPPROVED\\n'\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        dir.join(".handoff.toml"),
        format!("[agents.commands]\ninstant = [\"{}\"]\n", agent.display()),
    )
    .unwrap();
    let root_commit = git(&dir, &["rev-list", "--max-parents=0", "HEAD"])
        .trim()
        .to_owned();
    let (mut runs, mut agents, mut contexts, mut diffs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..5 {
        let out = cmd(&dir, BIN)
            .args([
                "plan",
                "-t",
                &format!("Run {i}"),
                "-m",
                "plan",
                "--base",
                &root_commit,
            ])
            .output()
            .unwrap();
        let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        timed(
            &dir,
            BIN,
            &["review", &id, "--verdict", "approve", "-m", "ok"],
        );
        timed(&dir, BIN, &["implement", &id, "-m", "done"]);
        // Two-millisecond commands: ten interleaved pairs per session rather than one, so that
        // the ratio is not one unlucky scheduling of either.
        for _ in 0..PAIRS {
            contexts.push(timed(
                &dir,
                BIN,
                &[
                    "context",
                    &id,
                    "--for",
                    "validate",
                    "--max-diff-bytes",
                    "100000000",
                ],
            ));
            diffs.push(timed(
                &dir,
                "git",
                &["diff", &format!("{root_commit}..HEAD")],
            ));
        }
        // The agent alone, on the same prompt.
        let prompt = cmd(&dir, BIN)
            .args(["context", &id, "--for", "validate"])
            .output()
            .unwrap()
            .stdout;
        let start = Instant::now();
        let mut child = cmd(&dir, agent.to_str().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&prompt).unwrap();
        child.wait().unwrap();
        agents.push(start.elapsed());
        runs.push(timed(
            &dir,
            BIN,
            &["run", "validate", &id, "--agent", "instant"],
        ));
    }
    gates_and_loop(&dir, &root_commit);
    let (run, agent_alone) = (median(runs), median(agents));
    println!();
    println!("run validate over {COMMITS} commits (median of 5):");
    println!("  git handoff run validate     {run:>10.2?}");
    println!("  the agent alone              {agent_alone:>10.2?}");
    println!(
        "  overhead                     {:>10.2?}   (goal <= 100ms)",
        run.saturating_sub(agent_alone)
    );
    let pairs = contexts.len();
    let (context, diff) = (median(contexts), median(diffs));
    println!(
        "context --for validate against git diff of the same {COMMITS}-commit range (median of {pairs} interleaved pairs):"
    );
    println!("  git diff base..head          {diff:>10.2?}");
    println!("  git handoff context          {context:>10.2?}");
    println!(
        "  ratio                        {:>10.2}x   (goal <= 1.5x)",
        context.as_secs_f64() / diff.as_secs_f64()
    );
}

/// The Stop gate when no gate is needed, and `loop`'s own time per step, on the 5,000-commit
/// repository of [`run_and_context`].
fn gates_and_loop(dir: &Path, root_commit: &str) {
    let stop =
        r#"{"hook_event_name":"Stop","stop_hook_active":false,"last_assistant_message":"done"}"#;
    let hook = |dir: &Path| {
        let start = Instant::now();
        let mut child = cmd(dir, BIN)
            .args(["hook", "agent-stop-gate"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stop.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        start.elapsed()
    };
    cmd(dir, BIN).arg("stop").output().unwrap();
    let no_session = median((0..CALLS).map(|_| hook(dir)).collect());
    // A COMPLETE session made current by hand (start refuses finished ones): the current-session
    // file names it.
    let id = String::from_utf8(
        cmd(dir, BIN)
            .args(["plan", "-t", "Gated", "-m", "plan", "--base", root_commit])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    cmd(dir, BIN).args(["start", &id]).output().unwrap();
    timed(
        dir,
        BIN,
        &["review", &id, "--verdict", "approve", "-m", "ok"],
    );
    // Being implemented, and the turn changed nothing (an agent that answered a question):
    // the gate looks for work, finds none and lets the agent stop.
    let unchanged = median((0..CALLS).map(|_| hook(dir)).collect());
    timed(
        dir,
        BIN,
        &[
            "implement",
            &id,
            "-m",
            "done",
            "--range",
            &format!("{root_commit}..HEAD"),
        ],
    );
    timed(
        dir,
        BIN,
        &["validate", &id, "--verdict", "approve", "-m", "ok"],
    );
    let complete = median((0..CALLS).map(|_| hook(dir)).collect());
    // loop with an agent that answers at once and, asked to implement, adds a line.
    let looper = dir.join("../loop-agent");
    std::fs::write(
        &looper,
        "#!/bin/sh\nprompt=$(cat)\ncase \"$prompt\" in *\"CONTEXT FOR IMPLEMENTATION\"*) echo x >> loop.txt; echo done ;; *) printf '## Verdict\\n\\nAPPROVED\\n' ;; esac\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&looper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = std::fs::read_to_string(dir.join(".handoff.toml")).unwrap();
    std::fs::write(
        dir.join(".handoff.toml"),
        format!("{config}looper = [\"{}\"]\n", looper.display()),
    )
    .unwrap();
    let (mut loops, mut alone) = (Vec::new(), Vec::new());
    for i in 0..5 {
        loops.push(timed(
            dir,
            BIN,
            &[
                "loop",
                "-t",
                &format!("Looped {i}"),
                "-m",
                "task",
                "--planner",
                "looper",
                "--reviewer",
                "looper",
            ],
        ));
        let start = Instant::now();
        let mut child = cmd(dir, looper.to_str().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"a prompt").unwrap();
        child.wait().unwrap();
        alone.push(start.elapsed());
    }
    let (whole, agent) = (median(loops), median(alone));
    println!();
    println!("the agents' gates and loop on {COMMITS} commits:");
    println!("  Stop gate, no current session    {no_session:>10.2?}   (goal <= 50ms)");
    println!("  Stop gate, session COMPLETE      {complete:>10.2?}   (goal <= 50ms)");
    println!("  Stop gate, implementing, no work {unchanged:>10.2?}   (goal <= 50ms)");
    println!("  loop, 4 steps (median of 5)      {whole:>10.2?}");
    println!(
        "  loop's own time per step         {:>10.2?}   (goal <= 100ms)",
        (whole.saturating_sub(agent * 4)) / 4
    );
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    // BENCH_KEEP=1 keeps the generated repositories (printed) for profiling by hand.
    let root = if std::env::var_os("BENCH_KEEP").is_some() {
        let kept = tmp.keep();
        println!("repositories kept under {}", kept.display());
        kept
    } else {
        tmp.path().to_path_buf()
    };
    run_and_context(&root);
}
