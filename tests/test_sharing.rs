//! push and pull between clones, through a bare remote on disk and a real network remote.

use crate::common::{GitDaemon, TestEnv, forge_session};

fn artifact_ids(env: &TestEnv, dir: &std::path::Path, id: &str) -> Vec<String> {
    let log = env.handoff(dir, &["log", id, "--json"]).json();
    let mut ids: Vec<String> = log["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn status(env: &TestEnv, dir: &std::path::Path, id: &str) -> String {
    env.handoff(dir, &["show", id, "--json"]).json()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Both clones add to the same session offline, then share in the given order.
fn offline_edits_converge(env: &TestEnv, a: &std::path::Path, b: &std::path::Path, remote: &str) {
    let id = env.plan(a, "Shared work");
    env.handoff(a, &["push", remote]).ok();
    let pulled = env.handoff(b, &["pull", remote, "--json"]).json();
    assert_eq!(pulled["created"][0], id.as_str());

    // Offline: A reviews, B adds a plan iteration and a note.
    env.handoff(
        a,
        &["review", &id, "--verdict", "approve", "-m", "A approves"],
    )
    .ok();
    env.handoff(b, &["plan", "--session", &id, "-m", "B's second iteration"])
        .ok();
    // The same code commit noted by two sessions, one per clone.
    env.git_ok(a, &["pull", "-q", remote, "main"]);
    let commit = env.commit_file(a, "shared.txt", "x\n", "Shared commit");
    env.git_ok(a, &["push", "-q", remote, "main"]);
    env.git_ok(b, &["pull", "-q", "--no-rebase", remote, "main"]);
    let other = env.plan(b, "Other session");
    env.handoff(
        a,
        &[
            "implement",
            &id,
            "--force",
            "-m",
            "A implemented",
            "--range",
            &format!("{commit}~1..{commit}"),
        ],
    )
    .ok();
    env.handoff(
        b,
        &[
            "implement",
            &other,
            "--force",
            "-m",
            "B implemented",
            "--range",
            &format!("{commit}~1..{commit}"),
        ],
    )
    .ok();

    // A pushes first; B's push is rejected, pulls, merges and retries.
    env.handoff(a, &["push", remote]).ok();
    let pushed = env.handoff(b, &["push", remote, "--json"]).json();
    assert!(pushed["retries"].as_u64().unwrap() >= 1, "{pushed}");
    env.handoff(a, &["pull", remote]).ok();

    assert_eq!(artifact_ids(env, a, &id), artifact_ids(env, b, &id));
    assert_eq!(
        artifact_ids(env, a, &id).len(),
        4,
        "plan, review, plan 2, implementation"
    );
    assert_eq!(status(env, a, &id), status(env, b, &id));
    for dir in [a, b] {
        let note = env.git_ok(dir, &["notes", "--ref=handoff", "show", &commit]);
        assert!(
            note.contains(&id) && note.contains(&other),
            "{}: {note}",
            dir.display()
        );
        assert_eq!(env.git(dir, &["fsck", "--strict"]).code, 0);
    }
    // Nothing is left to send either way.
    let again = env.handoff(b, &["pull", remote, "--json"]).json();
    assert_eq!(again["merged"].as_array().unwrap().len(), 0, "{again}");
}

#[test]
fn clones_converge_through_a_bare_remote_on_disk() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    offline_edits_converge(&env, &clones[0], &clones[1], "origin");
}

#[test]
fn clones_converge_through_git_daemon_on_loopback() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("served", &["a", "b"]);
    let daemon = GitDaemon::start(&env, bare.parent().unwrap());
    let url = format!("{}served.git", daemon.url);
    for dir in &clones {
        env.git_ok(dir, &["remote", "add", "net", &url]);
    }
    offline_edits_converge(&env, &clones[0], &clones[1], "net");
    // The other order: B shares first this time.
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(b, "Reverse order");
    env.handoff(b, &["push", "net"]).ok();
    env.handoff(a, &["pull", "net"]).ok();
    env.handoff(
        a,
        &["review", &id, "--verdict", "reject", "-m", "A rejects"],
    )
    .ok();
    env.handoff(b, &["plan", "--session", &id, "-m", "B revises"])
        .ok();
    env.handoff(b, &["pull", "net"]).ok();
    env.handoff(b, &["push", "net"]).ok();
    env.handoff(a, &["push", "net"]).ok();
    env.handoff(b, &["pull", "net"]).ok();
    assert_eq!(artifact_ids(&env, a, &id), artifact_ids(&env, b, &id));
    assert_eq!(status(&env, a, &id), status(&env, b, &id));
}

#[test]
fn pushing_never_adds_push_refspecs_or_forces() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    let id = env.plan(a, "Refspecs");
    env.handoff(a, &["push"]).ok();
    assert_eq!(
        env.git(a, &["config", "--get-all", "remote.origin.push"])
            .code,
        1,
        "no push refspec added"
    );
    let remote_tip = env.git_ok(
        &bare,
        &["rev-parse", &format!("refs/handoff/sessions/{id}")],
    );
    assert_eq!(
        remote_tip,
        env.git_ok(a, &["rev-parse", &format!("refs/handoff/sessions/{id}")])
    );
}

#[test]
fn hostile_remote_data_is_reported_per_session_and_never_hides_good_ones() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["evil", "victim"]);
    let (evil, victim) = (&clones[0], &clones[1]);
    let good = env.plan(evil, "Good \u{1b}[31mred\u{1b}[0m title");
    forge_session(
        &env,
        evil,
        "refs/handoff/sessions/SESSION-20251027-BAD00000-toml",
        &[("session.toml", "schema_version = 1\nid = [\n")],
    );
    forge_session(
        &env,
        evil,
        "refs/handoff/sessions/SESSION-20251027-F0000000-future",
        &[(
            "session.toml",
            "schema_version = 9\nid = \"SESSION-20251027-F0000000-future\"\n",
        )],
    );
    forge_session(
        &env,
        evil,
        "refs/handoff/sessions/not-a-session",
        &[("session.toml", "x")],
    );
    let huge = "a".repeat(9 * 1024 * 1024);
    let meta = "schema_version = 1\nid = \"SESSION-20251027-B1600000-huge\"\ntitle = \"huge\"\ncreated = \"2025-10-27T10:00:00Z\"\n";
    forge_session(
        &env,
        evil,
        "refs/handoff/sessions/SESSION-20251027-B1600000-huge",
        &[
            ("session.toml", meta),
            ("artifacts/01K8JHRQ2R809HTE0M1SJ0XNG5-plan.md", &huge),
        ],
    );
    env.git_ok(
        evil,
        &["push", "-q", "origin", "refs/handoff/*:refs/handoff/*"],
    );

    let run = env.handoff(victim, &["pull", "--json"]);
    let report = run.json();
    assert_eq!(report["created"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["created"][0], good.as_str());
    let rejected = serde_json::to_string(&report["rejected"]).unwrap();
    assert_eq!(
        report["rejected"].as_array().unwrap().len(),
        4,
        "{rejected}"
    );
    for needle in [
        "malformed TOML",
        "newer git-handoff",
        "odd ref name",
        "larger than",
    ] {
        assert!(rejected.contains(needle), "{needle} missing in {rejected}");
    }
    assert!(
        !run.stderr.contains('\u{1b}'),
        "escape sequences reach the terminal: {:?}",
        run.stderr
    );
    let list = env.handoff(victim, &["list"]).ok().to_owned();
    assert!(list.contains(&good) && !list.contains('\u{1b}'), "{list:?}");
    // Nothing was copied into the local namespace: the good session is read from its
    // tracking ref, the bad ones are listed as errors only.
    let local = env.git_ok(
        victim,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/handoff/sessions/",
        ],
    );
    assert_eq!(local, "", "{local}");
    let listed = env.handoff(victim, &["list", "--json"]).json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1, "{listed}");
    env.git_ok(victim, &["fsck", "--strict"]);
}

#[test]
fn one_locked_session_does_not_stop_a_pull_of_the_others() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let ids: Vec<String> = (0..3)
        .map(|i| env.plan(a, &format!("Session {i}")))
        .collect();
    env.handoff(a, &["push"]).ok();
    env.handoff(b, &["pull"]).ok();
    // Both clones add to every session: the next pull has three merges to write.
    for id in &ids {
        env.handoff(a, &["review", id, "--verdict", "approve", "-m", "from a"])
            .ok();
        env.handoff(b, &["plan", "--session", id, "-m", "from b"])
            .ok();
    }
    env.handoff(a, &["push"]).ok();
    // A killed process left a lock on one ref: only that session fails, with the lock named.
    let refs = b.join(".git/refs/handoff/sessions");
    std::fs::write(refs.join(format!("{}.lock", ids[1])), "").unwrap();
    let report = env.handoff(b, &["pull", "--json"]).json();
    let merged: Vec<&str> = report["merged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        merged.contains(&ids[0].as_str()) && merged.contains(&ids[2].as_str()),
        "{report}"
    );
    let rejected = serde_json::to_string(&report["rejected"]).unwrap();
    assert!(
        rejected.contains(&ids[1]) && rejected.contains("is locked"),
        "{rejected}"
    );
    std::fs::remove_file(refs.join(format!("{}.lock", ids[1]))).unwrap();
    let again = env.handoff(b, &["pull", "--json"]).json();
    assert_eq!(again["merged"][0], ids[1].as_str(), "{again}");
}
