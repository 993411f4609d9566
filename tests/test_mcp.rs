//! `git handoff mcp` driven by a real MCP client: the official Python SDK (`mcp` on PyPI,
//! installed by `.ci/run`), running the seed's flow through the seed's own tools.

use crate::common::{BIN, TestEnv};

#[test]
fn the_seed_flow_through_the_official_python_client() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/client.py");
    let out = env
        .command("python3", &repo)
        .args([client, BIN, repo.to_str().unwrap()])
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
    assert_eq!(review["kind"], "review");
    assert_eq!(review["verdict"], "approve-with-changes");
    assert_eq!(review["status"], "READY_FOR_IMPLEMENTATION");
    // Retrievable at once, the named session first.
    let found: serde_json::Value =
        serde_json::from_str(seen["retrieve"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(found["results"][0]["session"], "SESSION-20251027-A7F3K2M9");
    assert_eq!(found["results"][0]["kind"], "review");
    // Errors are tool errors with the CLI's message and hint.
    assert_eq!(seen["bad"]["error"], true);
    let bad = seen["bad"]["text"].as_str().unwrap();
    assert!(
        bad.contains("no session matches 'NOPE'") && bad.contains("hint:"),
        "{bad}"
    );
    assert!(seen["prompt"].as_str().unwrap().contains("handoff_review"));
    // And it is all in git, where the CLI sees it.
    let show = env
        .handoff(&repo, &["show", "SESSION-20251027-A7F3K2M9", "--json"])
        .json();
    assert_eq!(show["status"], "READY_FOR_IMPLEMENTATION");
}
