//! The first command a new user runs, and the CLI surface.

use crate::common::{COMMANDS, TestEnv};

#[test]
fn demo_plays_the_seed_example_to_complete_and_plain_git_can_read_it() {
    let env = TestEnv::new();
    let dir = env.path("demo");
    let run = env.handoff(env.root.path(), &["demo", dir.to_str().unwrap()]);
    let out = run.ok().to_owned();
    for step in [
        "[1/5]",
        "[2/5]",
        "[3/5]",
        "[4/5]",
        "[5/5]",
        "git log --notes=handoff",
    ] {
        assert!(out.contains(step), "missing {step} in:\n{out}");
    }
    assert!(
        run.stderr
            .contains(&format!("remove it with: rm -rf {}", dir.display())),
        "{}",
        run.stderr
    );
    let list = env.handoff(&dir, &["list", "--json"]).json();
    let session = &list["sessions"][0];
    assert_eq!(session["status"], "COMPLETE");
    assert_eq!(session["artifacts"], 5);
    let id = session["id"].as_str().unwrap();
    let note = env.git_ok(&dir, &["notes", "--ref=handoff", "show", "HEAD"]);
    assert!(
        note.contains(&format!("Handoff-Session: {id} implementation")),
        "{note}"
    );
    let trailer = env.git_ok(
        &dir,
        &[
            "log",
            "-1",
            "--format=%(trailers:key=Handoff-Session,valueonly)",
        ],
    );
    assert_eq!(trailer, id);
    let review = env.handoff(&dir, &["show", id, "--json"]).json();
    let findings = &review["timeline"][1]["findings"];
    assert_eq!(findings[0]["path"], "src/middleware/rateLimiter.ts");
    // A second run into the same directory refuses instead of mixing repositories.
    let err = env
        .handoff(env.root.path(), &["demo", dir.to_str().unwrap()])
        .fails(1)
        .to_owned();
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn every_subcommand_explains_itself() {
    let env = TestEnv::new();
    let top = env.handoff(env.root.path(), &["--help"]).ok().to_owned();
    for command in COMMANDS {
        assert!(top.contains(command), "{command} missing from --help");
        let help = env
            .handoff(env.root.path(), &[command, "--help"])
            .ok()
            .to_owned();
        assert!(help.contains("Usage: git handoff"), "{command}: {help}");
    }
    let plan = env
        .handoff(env.root.path(), &["plan", "--help"])
        .ok()
        .to_owned();
    for flag in [
        "--title",
        "--file",
        "--message",
        "--base",
        "--session",
        "--agent",
        "--json",
        "--force",
    ] {
        assert!(plan.contains(flag), "plan --help lacks {flag}");
    }
}
