//! `git handoff mcp` driven by a real MCP client: the official Python SDK (`mcp` on PyPI,
//! installed by `.ci/run`), running the seed's flow through the seed's own tools.

use crate::common::{BIN, TestEnv};

#[test]
fn the_seed_flow_through_the_official_python_client() {
    seed_flow_through_the_python_client("sha1");
}

/// The same in a SHA-256 repository (docs/format.md, "Object names").
#[test]
fn the_seed_flow_through_the_python_client_in_a_sha256_repository() {
    seed_flow_through_the_python_client("sha256");
}

fn seed_flow_through_the_python_client(format: &str) {
    let env = TestEnv::new();
    let main = env.repo_in(format, "repo");
    // Served from a subdirectory of a linked worktree: the repository is found as git finds it.
    let repo = env.path("worktree");
    env.git_ok(&main, &["worktree", "add", "-q", repo.to_str().unwrap()]);
    let sub = repo.join("deep/inside");
    std::fs::create_dir_all(&sub).unwrap();
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/client.py");
    let out = env
        .command("python3", &repo)
        .args([client, BIN, sub.to_str().unwrap()])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "the MCP client failed (is the `mcp` package installed? .ci/run installs it):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["server"], "git-handoff");
    let tools = seen["tools"].to_string();
    for tool in [
        "byterover-store-knowledge",
        "byterover-retrieve-knowledge",
        "handoff_plan",
        "handoff_review",
        "handoff_implement",
        "handoff_validate",
        "handoff_show",
        "handoff_context",
        "handoff_search",
        "handoff_list",
    ] {
        assert!(tools.contains(tool), "{tool} missing: {tools}");
    }
    assert_eq!(
        seen["prompts"],
        serde_json::json!([
            "handoff-implement",
            "handoff-plan",
            "handoff-review",
            "handoff-validate"
        ])
    );
    // The seed's plan starts the session it names; its review lands there with its verdict.
    assert_eq!(seen["plan"]["error"], false, "{seen}");
    let review: serde_json::Value =
        serde_json::from_str(seen["review"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(review["session"], "SESSION-20251027-A7F3K2M9");
    assert_eq!(review["artifact"]["kind"], "review");
    assert_eq!(review["artifact"]["verdict"], "approve-with-changes");
    assert_eq!(review["status"], "READY_FOR_IMPLEMENTATION");
    // Retrievable at once, the named session first.
    let found: serde_json::Value =
        serde_json::from_str(seen["retrieve"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(found["results"][0]["session"], "SESSION-20251027-A7F3K2M9");
    assert_eq!(found["results"][0]["kind"], "review");
    // A write by another process is seen by the server (it only trusts itself for a moment).
    assert!(
        seen["other_writer"]
            .as_str()
            .unwrap()
            .contains("Zeppelin routes"),
        "{}",
        seen["other_writer"]
    );
    // Errors are tool errors with the CLI's message and hint.
    assert_eq!(seen["bad"]["error"], true);
    let bad = seen["bad"]["text"].as_str().unwrap();
    assert!(
        bad.contains("no session matches 'NOPE'") && bad.contains("hint:"),
        "{bad}"
    );
    assert!(seen["prompt"].as_str().unwrap().contains("handoff_review"));
    // And it is all in git, where the CLI sees it, from the main worktree too.
    let show = env
        .handoff(&main, &["show", "SESSION-20251027-A7F3K2M9", "--json"])
        .json();
    assert_eq!(show["status"], "READY_FOR_IMPLEMENTATION");
}

#[test]
fn init_agents_registers_the_server_without_clobbering_anything() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    std::fs::write(
        repo.join(".mcp.json"),
        r#"{"mcpServers": {"other": {"command": "other-server"}}, "keep": true}"#,
    )
    .unwrap();
    std::fs::create_dir_all(repo.join(".agents/skills/git-handoff")).unwrap();
    std::fs::write(repo.join(".agents/skills/git-handoff/SKILL.md"), "my own\n").unwrap();
    let run = env.handoff(&repo, &["init", "--agents", "--no-hooks", "--json"]);
    let out: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    let actions: Vec<(String, String)> = out["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_owned(),
                a["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.contains(&(".mcp.json".into(), "updated".into())),
        "{actions:?}"
    );
    assert!(actions.contains(&(
        ".claude/skills/git-handoff/SKILL.md".into(),
        "created".into()
    )));
    assert!(actions.contains(&(".agents/skills/git-handoff/SKILL.md".into(), "kept".into())));
    let mcp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join(".mcp.json")).unwrap()).unwrap();
    assert_eq!(mcp["keep"], true);
    assert_eq!(mcp["mcpServers"]["other"]["command"], "other-server");
    assert_eq!(
        mcp["mcpServers"]["git-handoff"]["args"],
        serde_json::json!(["handoff", "mcp"])
    );
    assert_eq!(
        std::fs::read_to_string(repo.join(".agents/skills/git-handoff/SKILL.md")).unwrap(),
        "my own\n"
    );
    let skill = std::fs::read_to_string(repo.join(".claude/skills/git-handoff/SKILL.md")).unwrap();
    assert!(skill.starts_with("---\nname: git-handoff\n"), "{skill}");
    // Again: nothing changes.
    let again = env
        .handoff(&repo, &["init", "--agents", "--no-hooks", "--json"])
        .json();
    assert!(again["agents"].to_string().contains("unchanged"), "{again}");
    // A broken .mcp.json is reported and left alone.
    std::fs::write(repo.join(".mcp.json"), "{not json").unwrap();
    let err = env
        .handoff(&repo, &["init", "--agents", "--no-hooks"])
        .fails(1)
        .to_owned();
    assert!(err.contains(".mcp.json is not a JSON object"), "{err}");
    assert_eq!(
        std::fs::read_to_string(repo.join(".mcp.json")).unwrap(),
        "{not json"
    );
}
