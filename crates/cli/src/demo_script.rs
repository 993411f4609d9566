//! `git handoff demo`: plays the seed's rate-limiting example end to end in a scratch
//! repository, offline, from recorded agent answers (`fixtures/demo/`, compiled in), and says
//! where to look with plain git afterwards.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::render;
use git_handoff::session::{Kind, Verdict};
use git_handoff::workflow::findings;
use git_handoff::workflow::prompt::{self, Purpose};
use git_handoff::workflow::{Handoff, Input};

const PLAN: &str = include_str!("../fixtures/demo/plan.md");
const REVIEW: &str = include_str!("../fixtures/demo/review.md");
const REVIEW_JSON: &str = include_str!("../fixtures/demo/review.json");
const IMPLEMENTATION: &str = include_str!("../fixtures/demo/implementation.md");
const VALIDATION: &str = include_str!("../fixtures/demo/validation.md");
const VALIDATION_JSON: &str = include_str!("../fixtures/demo/validation.json");
const PATTERN: &str = include_str!("../fixtures/demo/pattern.md");
const APP_TS: &str = include_str!("../fixtures/demo/code/app.ts");
const REDIS_TS: &str = include_str!("../fixtures/demo/code/redis.ts");
const LIMITER_TS: &str = include_str!("../fixtures/demo/code/rateLimiter.ts");
const LIMITER_TEST_TS: &str = include_str!("../fixtures/demo/code/rateLimiter.test.ts");

/// What the demo did, for the caller to print or check.
#[derive(Debug)]
pub struct Outcome {
    /// The session it created.
    pub session: String,
    /// The final status.
    pub status: String,
}

/// Runs the demo in `dir` (created; must not exist or be empty), writing its narration to
/// `say` as it goes.
pub fn run(dir: &Path, say: &mut dyn FnMut(&str)) -> Result<Outcome> {
    prepare_dir(dir)?;
    let git = |args: &[&str]| git(dir, args);
    git(&["init", "--quiet", "--initial-branch=main"])?;
    if git(&["config", "user.email"]).is_err() {
        git(&["config", "user.name", "Demo User"])?;
        git(&["config", "user.email", "demo@example.com"])?;
    }
    write(dir, "src/app.ts", APP_TS)?;
    write(
        dir,
        "src/config/redis.ts",
        "export const redisUrl = process.env.REDIS_URL;\n",
    )?;
    write(
        dir,
        "src/middleware/rateLimiter.ts",
        "// TODO: rate limiting\n",
    )?;
    git(&["add", "."])?;
    git(&[
        "commit",
        "--quiet",
        "-m",
        "Express API without rate limiting",
    ])?;
    let repo = git_handoff::git::Repo::open(dir).context("opening the demo repository")?;
    let handoff = Handoff::with_repo(repo)?;
    git_handoff::init::configure(&handoff.repo)?;
    say(&format!("Scratch repository: {}\n", dir.display()));

    step(
        say,
        1,
        "Claude plans",
        "git handoff plan -t \"Rate limiting for the Express API\" -F plan.md",
    );
    let recorded = handoff.start(
        "Rate limiting for the Express API",
        None,
        Input {
            agent: Some("claude".into()),
            ..Input::new(Kind::Plan, PLAN)
        },
    )?;
    let id = recorded.artifact.session.clone();
    let short = id.random().to_owned();
    say(&format!(
        "  session {id}\n          (commands take the full ID, its random part {short}, or the slug)\n  status  {}\n",
        recorded.artifact.status
    ));
    let session = handoff.store().load(&id)?;
    let context = prompt::build(&session, Purpose::Review, None);
    say(&format!(
        "  the reviewer's prompt (git handoff context {short} --for review) starts:\n{}\n",
        indent(
            &context.lines().take(4).collect::<Vec<_>>().join("\n"),
            "    | "
        )
    ));

    step(
        say,
        2,
        "Codex reviews the plan (recorded answer: a Codex review output object)",
        &format!(
            "git handoff review {short} --verdict approve-with-changes -F review.md --findings review.json"
        ),
    );
    let recorded = codex_verdict(
        &handoff,
        &id,
        Kind::Review,
        Verdict::ApproveWithChanges,
        REVIEW,
        REVIEW_JSON,
    )?;
    for f in &recorded.artifact.findings {
        say(&format!(
            "  {}\n",
            render::finding_line(&recorded.artifact, f)
        ));
    }
    say(&format!("  status  {}\n", recorded.artifact.status));

    step(
        say,
        3,
        "Claude implements and commits",
        &format!("git commit ... && git handoff implement {short} -F summary.md"),
    );
    let trailer = format!("\n\nHandoff-Session: {id}");
    write(dir, "src/config/redis.ts", REDIS_TS)?;
    git(&[
        "commit",
        "--quiet",
        "-am",
        &format!("Redis store with an in-memory fallback{trailer}"),
    ])?;
    write(dir, "src/middleware/rateLimiter.ts", LIMITER_TS)?;
    write(
        dir,
        "src/middleware/__tests__/rateLimiter.test.ts",
        LIMITER_TEST_TS,
    )?;
    git(&["add", "."])?;
    git(&[
        "commit",
        "--quiet",
        "-m",
        &format!("Hybrid user/IP rate limiting{trailer}"),
    ])?;
    let recorded = handoff.record(
        &id,
        Input {
            agent: Some("claude".into()),
            ..Input::new(Kind::Implementation, IMPLEMENTATION)
        },
    )?;
    say(&format!(
        "  range   {}\n  noted   {} commit(s) in refs/notes/handoff\n  status  {}\n",
        recorded
            .artifact
            .range
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        recorded.notes_added,
        recorded.artifact.status
    ));

    step(
        say,
        4,
        "Codex validates the real diff",
        &format!(
            "git handoff context {short} --for validate | codex exec - ; git handoff validate {short} --verdict approve ..."
        ),
    );
    let recorded = codex_verdict(
        &handoff,
        &id,
        Kind::Validation,
        Verdict::Approve,
        VALIDATION,
        VALIDATION_JSON,
    )?;
    say(&format!("  status  {}\n", recorded.artifact.status));

    step(
        say,
        5,
        "Claude extracts the validated pattern",
        &format!("git handoff pattern {short} -F pattern.md"),
    );
    handoff.record(
        &id,
        Input {
            agent: Some("claude".into()),
            ..Input::new(Kind::Pattern, PATTERN)
        },
    )?;
    let session = handoff.store().load(&id)?;
    let status = session
        .state
        .status
        .map(|s| s.to_string())
        .unwrap_or_default();
    say(&format!(
        "  {} artifacts, status {status}\n",
        session.artifacts.len()
    ));

    let first = session
        .artifacts
        .first()
        .map(|a| format!("artifacts/{}", a.file_name()))
        .unwrap_or_default();
    let d = dir.display();
    let mut look = String::new();
    let _ = writeln!(
        look,
        "\nEverything is in the repository. Look with plain git:"
    );
    let _ = writeln!(look, "  cd {d}");
    let _ = writeln!(
        look,
        "  git log --notes=handoff --oneline          # code commits and their sessions"
    );
    let _ = writeln!(look, "  git log --oneline refs/handoff/sessions/{id}");
    let _ = writeln!(look, "  git show refs/handoff/sessions/{id}:{first}");
    let _ = writeln!(look, "  git notes --ref=handoff show HEAD");
    let _ = writeln!(look, "and with git handoff:");
    let _ = writeln!(look, "  git handoff show {short}");
    let _ = writeln!(look, "  git handoff why HEAD");
    let _ = writeln!(look, "  git handoff context {short} --for validate");
    say(&look);
    Ok(Outcome {
        session: id.to_string(),
        status,
    })
}

/// Records Codex's recorded answer: a verdict, a markdown body and a review output object.
fn codex_verdict(
    handoff: &Handoff,
    id: &git_handoff::session::SessionId,
    kind: Kind,
    verdict: Verdict,
    body: &str,
    findings_json: &str,
) -> Result<git_handoff::workflow::Recorded> {
    let parsed = findings::parse(findings_json, handoff.repo.work_dir())?;
    Ok(handoff.record(
        id,
        Input {
            agent: Some("codex".into()),
            verdict: Some(verdict),
            findings: parsed.findings,
            ..Input::new(kind, body)
        },
    )?)
}

fn step(say: &mut dyn FnMut(&str), n: u32, what: &str, command: &str) {
    say(&format!("\n[{n}/5] {what}\n  $ {command}\n"));
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} exists and is not empty; give the demo a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn write(dir: &Path, path: &str, text: &str) -> Result<()> {
    let full = dir.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&full, text).with_context(|| format!("writing {}", full.display()))
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("running git (is it installed and on PATH?)")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
