//! Hooks installed by `init`, driven by real git commands.

use crate::common::TestEnv;

fn hooks_dir(env: &TestEnv, dir: &std::path::Path) -> std::path::PathBuf {
    std::path::PathBuf::from(env.git_ok(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    ))
}

#[test]
fn init_keeps_existing_hooks_is_idempotent_and_uninstalls_only_its_block() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    let hooks = hooks_dir(&env, a);
    std::fs::create_dir_all(&hooks).unwrap();
    let marker = env.path("user-hook-ran");
    let user_hook = format!(
        "#!/bin/sh\nwhile read l; do echo \"$l\" >> '{}'; done\nexit 0\n",
        marker.display()
    );
    std::fs::write(hooks.join("pre-push"), &user_hook).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            hooks.join("pre-push"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let first = env.handoff(a, &["init", "--json"]).json();
    assert_eq!(first["hooks"].as_array().unwrap().len(), 3, "{first}");
    let config_before = std::fs::read_to_string(a.join(".git/config")).unwrap();
    let second = env.handoff(a, &["init", "--json"]).json();
    assert_eq!(second["hooks"].as_array().unwrap().len(), 0, "{second}");
    assert_eq!(second["config_set"].as_array().unwrap().len(), 0);
    assert_eq!(second["wrote_repo_file"], false);
    assert_eq!(
        std::fs::read_to_string(a.join(".git/config")).unwrap(),
        config_before
    );

    // The user's hook still runs, and still sees the refs on its standard input.
    env.commit_file(a, "f.txt", "f\n", "A commit");
    let push = env.git(a, &["push", "-q", "origin", "main"]);
    assert_eq!(push.code, 0, "{}", push.stderr);
    let seen = std::fs::read_to_string(&marker).unwrap();
    assert!(seen.contains("refs/heads/main"), "{seen}");

    env.handoff(a, &["init", "--uninstall"]).ok();
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        user_hook
    );
    assert!(!hooks.join("post-rewrite").exists());
}

#[test]
fn hooks_go_where_core_hookspath_points() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.git_ok(&repo, &["config", "core.hooksPath", ".husky/_"]);
    env.handoff(&repo, &["init"]).ok();
    let hook = std::fs::read_to_string(repo.join(".husky/_/pre-push")).unwrap();
    assert!(hook.starts_with("#!/bin/sh\n# BEGIN git-handoff"), "{hook}");
    assert!(!repo.join(".git/hooks/pre-push").exists());
}

#[test]
fn commits_get_the_current_sessions_trailer_and_why_survives_cherry_pick_and_squash_merge() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init"]).ok();
    env.git_ok(&repo, &["checkout", "-q", "-b", "feature"]);
    let id = env.plan(&repo, "Trailers");
    let c = env.commit_file(&repo, "a.txt", "a\n", "Add a");
    let msg = env.git_ok(&repo, &["log", "-1", "--format=%B", &c]);
    assert!(msg.ends_with(&format!("Handoff-Session: {id}")), "{msg}");
    // Amending keeps one trailer.
    env.git_ok(&repo, &["commit", "-q", "--amend", "-m", "Add a (amended)"]);
    let msg = env.git_ok(&repo, &["log", "-1", "--format=%B"]);
    assert_eq!(msg.matches("Handoff-Session:").count(), 1, "{msg}");
    let feature_tip = env.git_ok(&repo, &["rev-parse", "HEAD"]);

    env.git_ok(&repo, &["checkout", "-q", "main"]);
    env.git_ok(&repo, &["cherry-pick", &feature_tip]);
    let why = env.handoff(&repo, &["why", "HEAD", "--json"]).json();
    assert_eq!(why["sessions"][0]["id"], id.as_str(), "{why}");
    env.git_ok(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    env.git_ok(&repo, &["merge", "-q", "--squash", "feature"]);
    env.git_ok(&repo, &["commit", "-q", "--no-edit"]);
    let why = env.handoff(&repo, &["why", "HEAD", "--json"]).json();
    assert_eq!(why["sessions"][0]["id"], id.as_str(), "{why}");

    env.handoff(&repo, &["stop"]).ok();
    let plain = env.commit_file(&repo, "b.txt", "b\n", "Unrelated");
    let msg = env.git_ok(&repo, &["log", "-1", "--format=%B", &plain]);
    assert!(!msg.contains("Handoff-Session"), "{msg}");
}

#[test]
fn notes_and_ranges_follow_amend_and_interactive_rebase() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init"]).ok();
    env.handoff(&repo, &["stop"]).ok();
    let id = env.plan(&repo, "Rewrites");
    env.handoff(&repo, &["stop"]).ok();
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    for n in 1..=3 {
        env.commit_file(
            &repo,
            &format!("f{n}.txt"),
            &format!("{n}\n"),
            &format!("Commit {n}"),
        );
    }
    env.handoff(&repo, &["implement", &id, "-m", "three commits"])
        .ok();

    env.git_ok(
        &repo,
        &["commit", "-q", "--amend", "-m", "Commit 3 (amended)"],
    );
    let why = env.handoff(&repo, &["why", "HEAD", "--json"]).json();
    assert_eq!(why["sessions"][0]["id"], id.as_str(), "amend: {why}");

    // Reorder the first two and squash the third into the second.
    let script = env.path("sequence.sh");
    std::fs::write(&script, "#!/bin/sh\nawk 'NR==1{a=$0;next} NR==2{print;print a;next} NR==3{sub(/^pick/,\"squash\")} {print}' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let rebase = env
        .command("git", &repo)
        .env("GIT_SEQUENCE_EDITOR", &script)
        .env("GIT_EDITOR", "true")
        .args(["rebase", "-q", "-i", "HEAD~3"])
        .output()
        .unwrap();
    assert!(
        rebase.status.success(),
        "{}",
        String::from_utf8_lossy(&rebase.stderr)
    );
    let subjects = env.git_ok(&repo, &["log", "--format=%s", "-2"]);
    assert!(
        subjects.starts_with("Commit 1"),
        "reordered and squashed: {subjects}"
    );
    for rev in ["HEAD", "HEAD~1"] {
        let why = env.handoff(&repo, &["why", rev, "--json"]).json();
        assert_eq!(why["sessions"][0]["id"], id.as_str(), "{rev}: {why}");
        assert_eq!(why["sessions"][0]["source"], "note");
    }
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    let head = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    assert!(
        show["range"].as_str().unwrap().ends_with(&head),
        "range follows: {show}"
    );
    let prompt = env
        .handoff(&repo, &["context", &id, "--for", "validate"])
        .ok()
        .to_owned();
    assert!(prompt.contains("f3.txt"), "the diff still resolves");
}

#[test]
fn pre_push_sends_the_handoff_data_and_applies_the_policy() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    env.handoff(a, &["init"]).ok();
    let id = env.plan(a, "Pushed along");
    env.handoff(a, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(a, "x.txt", "x\n", "Work");
    env.handoff(a, &["implement", &id, "-m", "done"]).ok();

    // warn (default): the push goes through, the session and notes travel with it.
    let push = env.git(a, &["push", "origin", "main"]);
    assert_eq!(push.code, 0, "{}", push.stderr);
    assert!(push.stderr.contains("not COMPLETE"), "{}", push.stderr);
    assert!(
        push.stderr.contains("pushed 2 handoff ref(s)"),
        "{}",
        push.stderr
    );
    assert_eq!(
        env.git_ok(
            &bare,
            &["rev-parse", &format!("refs/handoff/sessions/{id}")]
        ),
        env.git_ok(a, &["rev-parse", &format!("refs/handoff/sessions/{id}")])
    );
    env.git_ok(&bare, &["rev-parse", "refs/notes/handoff"]);

    // Nothing changed: no second nested push.
    env.commit_file(a, "y.txt", "y\n", "Unrelated work");
    let quiet = env.git(a, &["push", "origin", "main"]);
    assert_eq!(quiet.code, 0);
    assert!(!quiet.stderr.contains("handoff ref(s)"), "{}", quiet.stderr);

    // block: refused with a way out.
    std::fs::write(a.join(".handoff.toml"), "[policy]\npre-push = \"block\"\n").unwrap();
    env.git_ok(a, &["reset", "-q", "--hard", "HEAD~1"]);
    env.commit_file(a, "z.txt", "z\n", "More work");
    env.handoff(
        a,
        &["implement", &id, "-m", "again", "--range", "HEAD~1..HEAD"],
    )
    .ok();
    let blocked = env.git(a, &["push", "-f", "origin", "main"]);
    assert_ne!(blocked.code, 0);
    assert!(
        blocked.stderr.contains("push blocked") && blocked.stderr.contains("--no-verify"),
        "{}",
        blocked.stderr
    );
    let forced = env.git(a, &["push", "-f", "--no-verify", "origin", "main"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
}

#[test]
fn an_unreachable_handoff_push_never_blocks_the_code_push() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    // The remote refuses our refs (as a locked-down server might) but takes branches.
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\nwhile read old new ref; do case \"$ref\" in refs/handoff/*|refs/notes/*) echo \"no handoff here\" >&2; exit 1;; esac; done\nexit 0\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.handoff(a, &["init"]).ok();
    let id = env.plan(a, "Refused");
    env.commit_file(a, "x.txt", "x\n", "Work");
    env.handoff(a, &["implement", &id, "--force", "-m", "done"])
        .ok();
    let push = env.git(a, &["push", "origin", "main"]);
    assert_eq!(push.code, 0, "{}", push.stderr);
    assert!(
        push.stderr.contains("origin refused") && push.stderr.contains("hook declined"),
        "{}",
        push.stderr
    );
    assert_eq!(
        env.git_ok(&bare, &["rev-parse", "main"]),
        env.git_ok(a, &["rev-parse", "HEAD"])
    );

    // A remote that does not exist at all: the handler warns and lets git go on.
    let run = env.handoff_stdin(
        a,
        &["hook", "pre-push", "nowhere", "/nonexistent/repo.git"],
        &format!(
            "refs/heads/main {} refs/heads/main {}\n",
            env.git_ok(a, &["rev-parse", "HEAD"]),
            "0".repeat(40)
        ),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().last().unwrap(),
        "handoff: warning: could not push the handoff data to nowhere (git push nowhere failed: \
         fatal: 'nowhere' does not appear to be a git repository; Please make sure you have the \
         correct access rights; and the repository exists.); your push goes on. Retry with: git \
         handoff push nowhere",
        "{}",
        run.stderr
    );
}

#[test]
fn repair_relinks_forge_squash_merges_and_cherry_picks_by_patch_id_and_trailer() {
    let env = TestEnv::new();
    // No hooks here: like a forge, nothing local sees these commits being made.
    let repo = env.repo("repo");
    env.git_ok(&repo, &["checkout", "-q", "-b", "feature"]);
    let id = env.plan(&repo, "Forge merged");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let base = env.git_ok(&repo, &["rev-parse", "main"]);
    env.commit_file(&repo, "a.txt", "a\n", "Add a");
    let b = env.commit_file(&repo, "b.txt", "b\n", "Add b");
    env.handoff(
        &repo,
        &[
            "implement",
            &id,
            "-m",
            "a and b",
            "--range",
            &format!("{base}..{b}"),
        ],
    )
    .ok();

    // A squash merge on main with a plain message, and a cherry-pick elsewhere.
    env.git_ok(&repo, &["checkout", "-q", "main"]);
    env.git_ok(&repo, &["merge", "-q", "--squash", "feature"]);
    env.git_ok(&repo, &["commit", "-q", "-m", "Feature (#12)"]);
    let squash = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    env.git_ok(&repo, &["checkout", "-q", "-b", "release", &base]);
    env.git_ok(&repo, &["cherry-pick", &b]);
    let picked = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    env.commit_file(
        &repo,
        "c.txt",
        "c\n",
        &format!("Follow-up\n\nHandoff-Session: {id}"),
    );
    let trailer_only = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    for c in [&squash, &picked, &trailer_only] {
        let why = env.handoff(&repo, &["why", c, "--json"]).json();
        let sources: Vec<&str> = why["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["source"].as_str().unwrap())
            .collect();
        assert!(!sources.contains(&"note"), "{c} is not noted yet: {why}");
    }

    let dry = env
        .handoff(
            &repo,
            &[
                "repair",
                "--dry-run",
                "--range",
                &format!("{base}..{squash}"),
                "--json",
            ],
        )
        .json();
    assert_eq!(dry["relinked"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.handoff(&repo, &["why", &squash, "--json"]).json()["sessions"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let out = env
        .handoff(
            &repo,
            &["repair", "--range", &format!("{base}..{squash}"), "--json"],
        )
        .json();
    assert_eq!(out["relinked"][0]["by"], "patch-id", "{out}");
    let out = env.handoff(&repo, &["repair", "--json"]).json();
    let by: Vec<(&str, &str)> = out["relinked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["commit"].as_str().unwrap(), r["by"].as_str().unwrap()))
        .collect();
    assert!(by.contains(&(picked.as_str(), "patch-id")), "{by:?}");
    assert!(by.contains(&(trailer_only.as_str(), "trailer")), "{by:?}");
    for c in [&squash, &picked, &trailer_only] {
        let why = env.handoff(&repo, &["why", c, "--json"]).json();
        assert_eq!(why["sessions"][0]["id"], id.as_str());
        assert_eq!(why["sessions"][0]["source"], "note", "{why}");
    }
    // Running it again finds nothing new.
    let again = env.handoff(&repo, &["repair", "--json"]).json();
    assert_eq!(again["relinked"].as_array().unwrap().len(), 0, "{again}");
}

#[test]
fn commits_replayed_by_a_rebase_do_not_get_the_current_sessions_trailer() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init"]).ok();
    env.commit_file(&repo, "old.txt", "old\n", "Old work");
    env.git_ok(&repo, &["checkout", "-q", "-b", "side", "HEAD~1"]);
    env.commit_file(&repo, "side.txt", "side\n", "Side work");
    env.plan(&repo, "Current");
    env.git_ok(&repo, &["checkout", "-q", "main"]);
    env.git_ok(&repo, &["rebase", "-q", "side"]);
    let msg = env.git_ok(&repo, &["log", "-1", "--format=%B"]);
    assert_eq!(msg, "Old work", "a replayed commit keeps its message");
}
