//! Messages that lead somewhere: the next step after the last step is not the same command
//! again, a finished session is not made current, abandoning twice records nothing.

use crate::common::TestEnv;

/// A session taken to COMPLETE.
fn complete(env: &TestEnv, repo: &std::path::Path) -> String {
    let id = env.plan(repo, "Finished");
    env.handoff(repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(repo, "f.txt", "f\n", "F");
    env.handoff(repo, &["implement", &id, "-m", "done"]).ok();
    env.handoff(
        repo,
        &["validate", &id, "--verdict", "approve", "-m", "good"],
    )
    .ok();
    id
}

#[test]
fn after_the_pattern_nothing_follows() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = complete(&env, &repo);
    let pattern = env.handoff(&repo, &["pattern", &id, "-m", "Reuse it.", "--json"]);
    let next = pattern.json()["next"].as_str().unwrap().to_owned();
    assert!(!next.contains("git handoff pattern"), "{next}");
    assert!(next.contains("nothing follows"), "{next}");
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert!(show["next"].as_str().unwrap().contains("nothing follows"));
}

#[test]
fn abandoning_twice_records_nothing_the_second_time() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Dropped");
    env.handoff(&repo, &["abandon", &id, "-m", "not needed"])
        .ok();
    let before = env.git_ok(
        &repo,
        &["rev-parse", &format!("refs/handoff/sessions/{id}")],
    );
    let again = env.handoff(&repo, &["abandon", &id, "-m", "again"]);
    assert!(
        again.fails(1).contains("abandoned already"),
        "{}",
        again.stderr
    );
    let after = env.git_ok(
        &repo,
        &["rev-parse", &format!("refs/handoff/sessions/{id}")],
    );
    assert_eq!(before, after);
}

#[test]
fn a_finished_session_is_not_made_current() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = complete(&env, &repo);
    let start = env.handoff(&repo, &["start", &id]);
    let stderr = start.fails(1);
    assert!(
        stderr.contains("COMPLETE") && stderr.contains("will not be current"),
        "{stderr}"
    );
}
