//! Commits are credited to the right session, and the hooks never break the user's git.

use crate::common::{TestEnv, write_hook};

#[test]
fn the_default_range_leaves_out_upstream_commits_after_a_rebase() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["me", "them"]);
    let (me, them) = (&clones[0], &clones[1]);
    let id = env.plan(me, "Mine");
    env.handoff(me, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let mine = env.commit_file(me, "mine.txt", "m\n", "my work");
    // Someone else pushes meanwhile; I rebase onto it.
    let theirs = env.commit_file(them, "theirs.txt", "t\n", "their work");
    env.git_ok(them, &["push", "-q", "origin", "main"]);
    env.git_ok(me, &["pull", "-q", "--rebase", "origin", "main"]);
    let out = env
        .handoff(me, &["implement", &id, "-m", "done", "--json"])
        .json();
    assert_eq!(out["commits_in_range"], 1, "{out}");
    let rebased = env.git_ok(me, &["rev-parse", "HEAD"]);
    assert_ne!(rebased, mine);
    assert_eq!(
        env.git(me, &["notes", "--ref=handoff", "show", &theirs])
            .code,
        1,
        "their commit was noted as mine"
    );
    assert_eq!(out["artifact"]["range"]["base"], theirs.as_str(), "{out}");
}

#[test]
fn commits_credited_to_another_session_are_named() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let a = env.plan(&repo, "Session A");
    env.handoff(&repo, &["review", &a, "--verdict", "approve", "-m", "ok"])
        .ok();
    let b = env.plan(&repo, "Session B");
    std::fs::write(repo.join("x.txt"), "x\n").unwrap();
    env.git_ok(&repo, &["add", "x.txt"]);
    env.git_ok(
        &repo,
        &[
            "commit",
            "-q",
            "-m",
            &format!("work\n\nHandoff-Session: {b}"),
        ],
    );
    // B's commit is never A's by default: nothing is recorded, and the refusal names B.
    let err = env
        .handoff(&repo, &["implement", &a, "-m", "done"])
        .fails(1)
        .to_owned();
    assert!(err.contains(&format!("1 of {b}")), "{err}");
    assert_eq!(
        env.git(&repo, &["notes", "--ref=handoff", "list"]).stdout,
        ""
    );
    // Named explicitly, it is recorded, with a warning that names B.
    let run = env.handoff(&repo, &["implement", &a, "-m", "done", "--range", "HEAD^!"]);
    run.ok();
    assert!(
        run.stderr.contains(&b) && run.stderr.contains("another session"),
        "{}",
        run.stderr
    );
}

#[test]
fn planning_a_second_session_does_not_steal_the_first_ones_commits() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init"]).ok();
    let a = env.plan(&repo, "Session A");
    let b_run = env.handoff(&repo, &["plan", "-t", "Session B", "-m", "plan"]);
    let b = b_run.ok().trim().to_owned();
    assert!(
        b_run.stderr.contains(&format!("{a} stays current")),
        "{}",
        b_run.stderr
    );
    let status = env.handoff(&repo, &["status", "--json"]).json();
    assert_eq!(status["current"]["id"], a.as_str(), "{status}");
    assert_eq!(status["initialized"], true);
    let commit = env.commit_file(&repo, "a.txt", "a\n", "work for A");
    let message = env.git_ok(&repo, &["log", "-1", "--format=%B", &commit]);
    assert!(
        message.contains(&format!("Handoff-Session: {a}")),
        "{message}"
    );
    // Asking for B's implementation instructions makes B current.
    let run = env.handoff(&repo, &["context", &b, "--for", "implement"]);
    run.ok();
    assert!(
        run.stderr.contains(&format!("{b} is now current")),
        "{}",
        run.stderr
    );
    let status = env.handoff(&repo, &["status"]).ok().to_owned();
    assert!(status.contains(&b), "{status}");
}

#[test]
fn a_recorded_range_rebased_onto_upstream_leaves_upstream_commits_out() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["me", "them"]);
    let (me, them) = (&clones[0], &clones[1]);
    env.handoff(me, &["init"]).ok();
    let id = env.plan(me, "Mine");
    env.handoff(me, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(me, "mine1.txt", "m\n", "my work 1");
    env.commit_file(me, "mine2.txt", "m\n", "my work 2");
    env.handoff(me, &["implement", &id, "-m", "done"]).ok();
    let theirs = env.commit_file(them, "theirs.txt", "t\n", "their work");
    env.git_ok(them, &["push", "-q", "origin", "main"]);
    env.git_ok(me, &["pull", "-q", "--rebase", "origin", "main"]);
    let out = env
        .handoff(
            me,
            &[
                "validate",
                &id,
                "--verdict",
                "approve",
                "-m",
                "ok",
                "--json",
            ],
        )
        .json();
    assert_eq!(out["commits_in_range"], 2, "{out}");
    assert_eq!(out["artifact"]["range"]["base"], theirs.as_str(), "{out}");
    assert_eq!(
        env.git(me, &["notes", "--ref=handoff", "show", &theirs])
            .code,
        1,
        "their commit was noted"
    );
}

#[test]
fn a_python_hook_is_chained_not_edited_into_a_broken_file() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let marker = env.path("python-ran");
    let hook = format!(
        "#!/usr/bin/env python3\nimport sys\nopen({:?}, 'w').write(sys.argv[1])\n",
        marker.to_str().unwrap()
    );
    write_hook(&repo, "prepare-commit-msg", &hook);
    let out = env.handoff(&repo, &["init", "--json"]).json();
    assert!(out.to_string().contains("chained"), "{out}");
    let id = env.plan(&repo, "Chained");
    let commit = env.commit_file(&repo, "a.txt", "a\n", "work");
    assert!(marker.exists(), "the user's python hook did not run");
    let message = env.git_ok(&repo, &["log", "-1", "--format=%B", &commit]);
    assert!(
        message.contains(&format!("Handoff-Session: {id}")),
        "{message}"
    );
    // Uninstalling puts the user's hook back as it was.
    env.handoff(&repo, &["init", "--uninstall"]).ok();
    let back = std::fs::read_to_string(repo.join(".git/hooks/prepare-commit-msg")).unwrap();
    assert_eq!(back, hook);
}

#[test]
fn pre_push_publishes_only_after_the_users_hook_allows_and_never_on_dry_run() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    // A secret scanner that refuses every push while a flag file exists.
    let flag = env.path("refuse");
    write_hook(
        a,
        "pre-push",
        &format!(
            "#!/bin/sh\ncat >/dev/null\nif [ -e {:?} ]; then echo 'scanner: refused' >&2; exit 1; fi\nexit 0\n",
            flag.to_str().unwrap()
        ),
    );
    env.handoff(a, &["init"]).ok();
    let id = env.plan(a, "Pushed");
    env.commit_file(a, "a.txt", "a\n", "work");
    let on_remote = |env: &TestEnv| {
        env.git(
            &bare,
            &[
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/handoff/sessions/{id}"),
            ],
        )
        .code
            == 0
    };
    std::fs::write(&flag, "").unwrap();
    let run = env.git(a, &["push", "-q", "origin", "main"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("scanner: refused"), "{}", run.stderr);
    assert!(
        !on_remote(&env),
        "handoff data was pushed past the user's refusal"
    );
    std::fs::remove_file(&flag).unwrap();
    env.git_ok(a, &["push", "-q", "--dry-run", "origin", "main"]);
    assert!(!on_remote(&env), "handoff data was pushed by a dry run");
    env.git_ok(a, &["push", "-q", "origin", "main"]);
    assert!(on_remote(&env), "handoff data was not pushed");
}

#[test]
fn hooks_say_so_when_git_handoff_is_not_on_path() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init"]).ok();
    std::fs::write(repo.join("b.txt"), "b\n").unwrap();
    env.git_ok(&repo, &["add", "b.txt"]);
    let out = env
        .command("git", &repo)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .args(["commit", "-q", "-m", "no handoff"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("git-handoff: not found on PATH"),
        "{stderr}"
    );
}

#[test]
fn init_on_a_read_only_hook_installs_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let hook = write_hook(&repo, "prepare-commit-msg", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o555)).unwrap();
    let err = env.handoff(&repo, &["init"]).fails(1).to_owned();
    assert!(err.contains("read-only"), "{err}");
    for name in ["pre-push", "post-rewrite"] {
        assert!(
            !repo.join(".git/hooks").join(name).exists(),
            "{name} was installed"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
}

#[test]
fn init_takes_back_the_notes_rewrite_settings_of_earlier_versions() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.git_ok(&repo, &["config", "notes.rewriteRef", "refs/notes/handoff"]);
    env.git_ok(&repo, &["config", "notes.rewriteMode", "cat_sort_uniq"]);
    env.git_ok(
        &repo,
        &["config", "--add", "notes.rewriteRef", "refs/notes/commits"],
    );
    env.handoff(&repo, &["init"]).ok();
    assert_eq!(
        env.git(&repo, &["config", "--get", "notes.rewriteMode"])
            .code,
        1
    );
    assert_eq!(
        env.git_ok(&repo, &["config", "--get-all", "notes.rewriteRef"]),
        "refs/notes/commits"
    );
    // Amend still carries our notes, through the post-rewrite hook alone: one notes commit.
    let id = env.plan(&repo, "Amend");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(&repo, "a.txt", "a\n", "work");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let before = env.git_ok(&repo, &["rev-list", "--count", "refs/notes/handoff"]);
    env.git_ok(&repo, &["commit", "-q", "--amend", "-m", "work, amended"]);
    let head = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    let note = env.git_ok(&repo, &["notes", "--ref=handoff", "show", &head]);
    assert!(note.contains(&id), "{note}");
    let after = env.git_ok(&repo, &["rev-list", "--count", "refs/notes/handoff"]);
    assert_eq!(
        after.parse::<u32>().unwrap(),
        before.parse::<u32>().unwrap() + 1
    );
}
