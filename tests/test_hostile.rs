//! A remote cannot crash, stall or poison a clone: git's object checks on fetch, the session
//! layout checked before anything is served, tracking refs that never collide, refusals named.

use crate::common::{TestEnv, hash_object, mktree};

#[test]
fn a_hostile_remote_cannot_make_fsck_failing_objects_reachable() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["evil", "victim"]);
    let (evil, victim) = (&clones[0], &clones[1]);
    let good = env.plan(evil, "Good one");
    let good_tree = env.git_ok(
        evil,
        &[
            "rev-parse",
            &format!("refs/handoff/sessions/{good}^{{tree}}"),
        ],
    );
    let meta = env.git_ok(evil, &["rev-parse", &format!("{good_tree}:session.toml")]);
    let artifacts = env.git_ok(evil, &["rev-parse", &format!("{good_tree}:artifacts")]);
    let config = hash_object(&env, evil, b"[core]\n\tfsmonitor = evil\n");
    let dotgit = mktree(&env, evil, &[format!("100644 blob {config}\tconfig")]);
    // Each a copy of the good session plus one entry fsck refuses or our layout forbids.
    let extras = [
        ("DOTGIT00", format!("040000 tree {dotgit}\t.git")),
        ("SYMLINK0", format!("120000 blob {config}\tsession.link")),
        ("EXTRA000", format!("100644 blob {config}\tREADME")),
    ];
    for (tag, extra) in &extras {
        let tree = mktree(
            &env,
            evil,
            &[
                format!("100644 blob {meta}\tsession.toml"),
                format!("040000 tree {artifacts}\tartifacts"),
                extra.clone(),
            ],
        );
        let commit = env.git_ok(evil, &["commit-tree", &tree, "-m", "forged"]);
        env.git_ok(
            evil,
            &[
                "update-ref",
                &format!("refs/handoff/sessions/SESSION-20251027-{tag}-x"),
                &commit,
            ],
        );
    }
    // The bare remote accepts anything (no receive.fsckObjects), as a careless host would.
    env.git_ok(
        evil,
        &["push", "-q", "origin", "refs/handoff/*:refs/handoff/*"],
    );
    let _ = bare;

    let run = env.handoff(victim, &["pull", "--json"]);
    let report = run.json();
    assert_eq!(report["created"], serde_json::json!([good]), "{report}");
    let rejected = serde_json::to_string(&report["rejected"]).unwrap();
    for (tag, _) in &extras {
        assert!(rejected.contains(tag), "{tag} not reported: {rejected}");
    }
    assert!(
        rejected.contains("hasDotgit") || rejected.contains(".git"),
        "{rejected}"
    );
    // Nothing that fails fsck is in the repository, reachable or not.
    env.git_ok(victim, &["fsck", "--strict", "--no-dangling"]);
    // The refused sessions are listed as errors, never as sessions; nothing was copied into
    // the local namespace (the good one is read from its tracking ref).
    let list = env.handoff(victim, &["list", "--json"]).json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["sessions"][0]["id"], good.as_str());
    let local = env.git_ok(
        victim,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/handoff/sessions/",
        ],
    );
    assert_eq!(local, "", "{local}");
    // And a push from the victim to a strict host goes through.
    env.git_ok(&bare, &["config", "receive.fsckObjects", "true"]);
    env.plan(victim, "After the attack");
    env.handoff(victim, &["push"]).ok();
}

#[test]
fn tracking_refs_of_different_remotes_never_collide() {
    let env = TestEnv::new();
    let (_one, clones) = env.bare_with_clones("one", &["a"]);
    let a = &clones[0];
    let (two, _) = env.bare_with_clones("two", &[]);
    let id_one = env.plan(a, "For one");
    env.handoff(a, &["push"]).ok();
    // A remote named team/a and one named team_a: both pulled into a third clone.
    let victim = env.repo("victim");
    env.git_ok(
        &victim,
        &[
            "remote",
            "add",
            "team/a",
            env.path("one.git").to_str().unwrap(),
        ],
    );
    env.git_ok(&victim, &["remote", "add", "team_a", two.to_str().unwrap()]);
    // two.git gets a different session and a stray notes ref.
    let b = env.path("b");
    env.git_ok(
        env.root.path(),
        &["clone", "-q", two.to_str().unwrap(), b.to_str().unwrap()],
    );
    env.git_ok(&b, &["config", "user.name", "B"]);
    env.git_ok(&b, &["config", "user.email", "b@example.com"]);
    let id_two = env.plan(&b, "For two");
    env.handoff(&b, &["push"]).ok();
    env.handoff(&victim, &["pull", "team/a"]).ok();
    env.handoff(&victim, &["pull", "team_a"]).ok();
    let list = env.handoff(&victim, &["list"]).ok().to_owned();
    assert!(list.contains(&id_one) && list.contains(&id_two), "{list}");
    let tracking = env.git_ok(
        &victim,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/handoff-remotes/",
        ],
    );
    assert!(
        tracking.contains(&format!("team_2fa/sessions/{id_one}")),
        "{tracking}"
    );
    assert!(
        tracking.contains(&format!("team_5fa/sessions/{id_two}")),
        "{tracking}"
    );
}

#[test]
fn a_plain_git_fetch_after_init_makes_remote_sessions_visible_at_once() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(a, "Shared through plain fetch");
    env.handoff(a, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let commit = env.commit_file(a, "a.txt", "a\n", "work");
    env.handoff(a, &["implement", &id, "-m", "done"]).ok();
    env.handoff(a, &["push"]).ok();
    env.git_ok(a, &["push", "-q", "origin", "main"]);

    env.handoff(b, &["init"]).ok();
    // init touches nothing else: no notes rewrite settings for the user's own notes refs.
    assert_eq!(
        env.git(b, &["config", "--get", "notes.rewriteMode"]).code,
        1
    );
    env.git_ok(b, &["fetch", "-q"]);
    env.git_ok(b, &["merge", "-q", "--ff-only", "origin/main"]);
    let list = env.handoff(b, &["list", "--json"]).json();
    assert_eq!(list["sessions"][0]["id"], id.as_str(), "{list}");
    env.handoff(b, &["show", &id]).ok();
    let why = env.handoff(b, &["why", &commit, "--json"]).json();
    assert!(why.to_string().contains(&id), "{why}");
    let search = env.handoff(b, &["search", "plain fetch", "--json"]).json();
    assert!(search.to_string().contains(&id), "{search}");
    // Recording on it gives it a ref of its own, on top of the remote's chain.
    env.handoff(b, &["validate", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let local = env.git_ok(
        b,
        &[
            "rev-list",
            "--count",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    assert_eq!(local, "4");
    // Fetched objects never reach refs/handoff/sessions or refs/notes/handoff by themselves.
    let fetched = env.git_ok(
        b,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/handoff-remotes/",
        ],
    );
    assert!(
        fetched.contains("refs/handoff-remotes/origin/notes/handoff"),
        "{fetched}"
    );
}

#[test]
fn a_stale_lock_in_the_fetch_phase_is_named() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(a, "Locked on fetch");
    env.handoff(a, &["push"]).ok();
    env.handoff(b, &["pull"]).ok();
    env.handoff(a, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.handoff(a, &["push"]).ok();
    let lock = b.join(format!(
        ".git/refs/handoff-remotes/origin/sessions/{id}.lock"
    ));
    std::fs::write(&lock, "").unwrap();
    let err = env.handoff(b, &["pull"]).fails(1).to_owned();
    assert!(err.contains(&format!("{id}.lock")), "{err}");
    std::fs::remove_file(&lock).unwrap();
    env.handoff(b, &["pull"]).ok();
}

#[test]
fn a_refused_push_reports_the_servers_reason_and_blocks_nothing_else() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    let good = env.plan(a, "Fine");
    let bad = env.plan(a, "Refused by policy");
    let hook = bare.join("hooks/update");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\ncase \"$1\" in *{bad}*) echo 'policy: no such sessions here' >&2; exit 1;; esac\nexit 0\n"),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = env.handoff(a, &["push", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["retries"], 0, "a refusal is not a race: {report}");
    let refused = report["refused"].to_string();
    assert!(
        refused.contains(&bad) && refused.contains("hook declined"),
        "{refused}"
    );
    assert!(run.stderr.contains("hook declined"), "{}", run.stderr);
    env.git_ok(
        &bare,
        &[
            "rev-parse",
            "--verify",
            &format!("refs/handoff/sessions/{good}"),
        ],
    );
}

#[test]
fn sessions_known_from_one_remote_travel_on_to_another() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(a, "Passed along");
    env.handoff(a, &["push"]).ok();
    env.handoff(b, &["pull"]).ok();
    // b only reads it from origin's tracking ref; pushing to a backup still sends it.
    let backup = env.path("backup.git");
    env.git_ok(
        env.root.path(),
        &["init", "-q", "--bare", backup.to_str().unwrap()],
    );
    env.git_ok(b, &["remote", "add", "backup", backup.to_str().unwrap()]);
    env.handoff(b, &["push", "backup"]).ok();
    env.git_ok(
        &backup,
        &[
            "rev-parse",
            "--verify",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
}
