//! Existing repositories keep working: a repository written by git-handoff 0.1
//! (`fixtures/v1/`, schema_version 1) is read, linked and extended by this version
//! (docs/format.md, "Versions").

use std::path::PathBuf;

use crate::common::TestEnv;

const COMPLETE: &str = "SESSION-20251027-VXHYHY9M-rate-limiting-for-the-express-api";
const FENCES: &str = "SESSION-20251027-VNWTT0FK-fences-in-v1";

fn restore(env: &TestEnv) -> PathBuf {
    let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/v1/repo.bundle");
    let repo = env.path("v1");
    std::fs::create_dir_all(&repo).unwrap();
    env.git_ok(&repo, &["init", "-q", "--initial-branch=main"]);
    env.git_ok(&repo, &["config", "user.name", "A U Thor"]);
    env.git_ok(&repo, &["config", "user.email", "author@example.com"]);
    env.git_ok(
        &repo,
        &["fetch", "-q", "--update-head-ok", bundle, "+refs/*:refs/*"],
    );
    env.git_ok(&repo, &["reset", "-q", "--hard", "main"]);
    repo
}

#[test]
fn a_version_1_repository_reads_as_it_was_written() {
    let env = TestEnv::new();
    let repo = restore(&env);
    env.git_ok(&repo, &["fsck", "--strict"]);

    let list = env.handoff(&repo, &["list", "--json"]).json();
    let statuses: Vec<(String, String)> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&(COMPLETE.to_owned(), "COMPLETE".to_owned())),
        "{list}"
    );
    assert!(
        statuses.contains(&(FENCES.to_owned(), "AWAITING_CODEX_REVIEW".to_owned())),
        "{list}"
    );
    assert_eq!(list["errors"].as_array().unwrap().len(), 0, "{list}");

    // The complete session: every step, its findings, its range and notes.
    let show = env.handoff(&repo, &["show", COMPLETE, "--json"]).json();
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["plan", "review", "implementation", "validation", "pattern"],
        "{show}"
    );
    assert!(
        !show["timeline"][1]["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(show["range"].as_str().unwrap().contains(".."), "{show}");
    let why = env.handoff(&repo, &["why", "HEAD", "--json"]).json();
    assert!(why.to_string().contains(COMPLETE), "{why}");
    // Its range (version 1 has no `commits`) is still the diff a validator reads.
    let prompt = env
        .handoff(&repo, &["context", COMPLETE, "--for", "validate"])
        .ok()
        .to_owned();
    assert!(
        prompt.contains("## Diff ") && prompt.contains("diff --git"),
        "{prompt}"
    );
    // Amending its last commit carries the session on, as an explicit list of commits.
    env.handoff(&repo, &["init"]).ok();
    env.git_ok(
        &repo,
        &["commit", "-q", "--amend", "-m", "Amended after the upgrade"],
    );
    let amended = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    let show = env.handoff(&repo, &["show", COMPLETE, "--json"]).json();
    let commits = show["commits"].as_array().unwrap();
    assert_eq!(commits.last().unwrap(), amended.as_str(), "{show}");
    let why = env.handoff(&repo, &["why", "HEAD", "--json"]).json();
    assert!(why.to_string().contains(COMPLETE), "{why}");

    // The fences session: a '+++' line inside a finding body, and a second plan iteration.
    let show = env.handoff(&repo, &["show", FENCES, "--json"]).json();
    assert_eq!(show["iteration"], 2, "{show}");
    assert_eq!(show["timeline"][1]["findings"][0]["body"], "x\n+++\ny");
    assert!(
        show["timeline"][0]["body"]
            .as_str()
            .unwrap()
            .contains("+++\nnot a fence")
    );
    env.handoff(&repo, &["context", FENCES, "--for", "review"])
        .ok();
    let search = env.handoff(&repo, &["search", "fence", "--json"]).json();
    assert!(search.to_string().contains(FENCES), "{search}");

    // And it goes on: this version records on top of what the old one wrote.
    env.handoff(
        &repo,
        &["review", FENCES, "--verdict", "approve", "-m", "ok now"],
    )
    .ok();
    let show = env.handoff(&repo, &["show", FENCES, "--json"]).json();
    assert_eq!(show["status"], "READY_FOR_IMPLEMENTATION");
    env.git_ok(&repo, &["fsck", "--strict"]);
}
