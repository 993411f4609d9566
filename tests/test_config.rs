//! `git handoff config`: effective settings with their origin, and setting one in
//! `.handoff.toml` as git config does.

use crate::common::TestEnv;

#[test]
fn config_lists_gets_and_sets_with_origins() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let list = env.handoff(&repo, &["config"]);
    assert!(
        list.ok().lines().any(|l| l == "policy.pre-push=warn"),
        "{}",
        list.stdout
    );
    assert!(
        list.ok()
            .lines()
            .any(|l| l == "byterover.brv-command=[\"brv\"]")
    );
    assert_eq!(
        env.handoff(&repo, &["config", "agents.reviewer"]).ok(),
        "codex\n"
    );
    // A comment in the repository file survives a set.
    std::fs::write(
        repo.join(".handoff.toml"),
        "# ours\n[policy]\npre-push = \"warn\"\n",
    )
    .unwrap();
    env.handoff(&repo, &["config", "policy.pre-push", "block"])
        .ok();
    let file = std::fs::read_to_string(repo.join(".handoff.toml")).unwrap();
    assert!(
        file.starts_with("# ours\n") && file.contains("pre-push = \"block\""),
        "{file}"
    );
    let origin = env.handoff(&repo, &["config", "--show-origin", "policy.pre-push"]);
    assert!(
        origin
            .ok()
            .ends_with(".handoff.toml\tpolicy.pre-push=block\n"),
        "{}",
        origin.stdout
    );
    let builtin = env.handoff(&repo, &["config", "--show-origin", "agents.planner"]);
    assert_eq!(builtin.ok(), "built-in\tagents.planner=claude\n");
    env.handoff(&repo, &["config", "context.max-diff-bytes", "5000"])
        .ok();
    let json = env
        .handoff(&repo, &["config", "context.max-diff-bytes", "--json"])
        .json();
    assert_eq!(json[0]["value"], "5000");
    // The user file wins over the repository's.
    let user = env.path("home/.config/git-handoff");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(
        user.join("config.toml"),
        "[agents]\nreviewer = \"gemini\"\n",
    )
    .unwrap();
    let reviewer = env.handoff(&repo, &["config", "--show-origin", "agents.reviewer"]);
    assert!(
        reviewer
            .ok()
            .contains("config.toml\tagents.reviewer=gemini"),
        "{}",
        reviewer.stdout
    );
}

#[test]
fn config_refuses_bad_values_unknown_keys_and_secrets_and_changes_nothing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    std::fs::write(
        repo.join(".handoff.toml"),
        "[policy]\npre-push = \"warn\"\n",
    )
    .unwrap();
    let before = std::fs::read_to_string(repo.join(".handoff.toml")).unwrap();
    let bad = env.handoff(&repo, &["config", "policy.pre-push", "blok"]);
    assert!(bad.fails(1).contains("block"), "{}", bad.stderr);
    let unknown = env.handoff(&repo, &["config", "policy.pre-pull", "warn"]);
    assert!(
        unknown.fails(1).contains("unknown key"),
        "{}",
        unknown.stderr
    );
    let secret = env.handoff(&repo, &["config", "byterover.token", "abc"]);
    assert_eq!(secret.code, 1);
    assert_eq!(
        std::fs::read_to_string(repo.join(".handoff.toml")).unwrap(),
        before
    );
    assert_eq!(env.handoff(&repo, &["config", "no.such.key"]).code, 1);
}

/// `init` writes no setting into a new `.handoff.toml` (so `--show-origin` credits the
/// built-in defaults, and they can improve), and `config KEY VALUE` keeps every comment: above
/// the key, after its value, and elsewhere.
#[test]
fn init_writes_only_a_pointer_and_a_set_keeps_every_comment() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init", "--no-hooks"]).ok();
    let file = std::fs::read_to_string(repo.join(".handoff.toml")).unwrap();
    assert!(
        file.lines()
            .all(|l| l.starts_with('#') || l.trim().is_empty()),
        "{file}"
    );
    assert!(file.contains("git handoff config --show-origin"), "{file}");
    let origin = env.handoff(&repo, &["config", "--show-origin", "policy.pre-push"]);
    assert_eq!(origin.ok(), "built-in\tpolicy.pre-push=warn\n");
    std::fs::write(
        repo.join(".handoff.toml"),
        "# ours\n[policy]\n# what pre-push does\npre-push = \"warn\" # for now\n",
    )
    .unwrap();
    env.handoff(&repo, &["config", "policy.pre-push", "block"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(repo.join(".handoff.toml")).unwrap(),
        "# ours\n[policy]\n# what pre-push does\npre-push = \"block\" # for now\n"
    );
}

/// `init --log-alias` adds `git lga`: `git log` over every ref but git-handoff's, so session
/// and notes commits stay out of it (they flood `git log --all`); a name the user has is
/// refused, never replaced; `init --uninstall` takes back only ours.
#[test]
fn init_log_alias_shows_the_code_without_session_commits() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.plan(&repo, "Alias");
    let all = env.git_ok(&repo, &["log", "--all", "--format=%s"]);
    assert!(all.contains("plan: Alias"), "{all}");
    let run = env.handoff(&repo, &["init", "--no-hooks", "--log-alias", "--json"]);
    let set = run.json()["config_set"].to_string();
    assert!(
        set.contains("alias.lga=log --exclude=refs/handoff*"),
        "{set}"
    );
    let code = env.git_ok(&repo, &["lga", "--format=%s"]);
    assert_eq!(code, env.git_ok(&repo, &["log", "--format=%s", "HEAD"]));
    assert!(!code.contains("plan: Alias"), "{code}");
    // Someone else's alias of that name stays.
    env.git_ok(&repo, &["config", "alias.mine", "log --oneline"]);
    let refused = env
        .handoff(&repo, &["init", "--no-hooks", "--log-alias", "mine"])
        .fails(1)
        .to_owned();
    assert!(
        refused.starts_with("error: alias.mine is already set (to 'log --oneline')"),
        "{refused}"
    );
    assert_eq!(
        env.git_ok(&repo, &["config", "alias.mine"]),
        "log --oneline"
    );
    env.handoff(&repo, &["init", "--uninstall"]).ok();
    assert_eq!(env.git(&repo, &["config", "alias.lga"]).code, 1);
    assert_eq!(
        env.git_ok(&repo, &["config", "alias.mine"]),
        "log --oneline"
    );
}
