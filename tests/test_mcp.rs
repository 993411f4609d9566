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
    // Every tool says whether it writes: read-only ones run without approval in Codex.
    let annotations = &seen["annotations"];
    for tool in [
        "byterover-retrieve-knowledge",
        "handoff_show",
        "handoff_context",
        "handoff_search",
        "handoff_list",
    ] {
        assert_eq!(
            annotations[tool]["readOnlyHint"], true,
            "{tool}: {annotations}"
        );
    }
    for tool in [
        "byterover-store-knowledge",
        "handoff_plan",
        "handoff_review",
        "handoff_implement",
        "handoff_validate",
    ] {
        assert_eq!(
            annotations[tool]["readOnlyHint"], false,
            "{tool}: {annotations}"
        );
        assert_eq!(
            annotations[tool]["destructiveHint"], false,
            "{tool}: {annotations}"
        );
        assert!(
            annotations[tool]["title"].is_string(),
            "{tool}: {annotations}"
        );
    }
    // The seed's plan starts the session it names; its review lands there with its verdict.
    assert_eq!(seen["plan"]["error"], false, "{seen}");
    let review = &seen["review"]["structured"];
    assert_eq!(review["session"], "SESSION-20251027-A7F3K2M9");
    assert_eq!(review["artifact"]["kind"], "review");
    assert_eq!(review["artifact"]["verdict"], "approve-with-changes");
    assert_eq!(review["status"], "READY_FOR_IMPLEMENTATION");
    assert!(
        seen["review"]["text"].as_str().unwrap().contains("Next: "),
        "{}",
        seen["review"]["text"]
    );
    // Retrieve answers with the stored texts, not snippets: the review in full, its header
    // once, ahead of the rest of the session.
    let found = seen["retrieve"]["text"].as_str().unwrap();
    assert!(
        found.contains("users behind corporate NAT share IPs"),
        "{found}"
    );
    assert_eq!(found.matches("CODEX REVIEW: ").count(), 1, "{found}");
    let memories = &seen["retrieve"]["structured"]["memories"];
    assert_eq!(memories[0]["session"], "SESSION-20251027-A7F3K2M9");
    assert_eq!(memories[0]["kind"], "review", "{memories}");
    let plan = seen["retrieve_plan"]["text"].as_str().unwrap();
    assert!(
        plan.starts_with(
            "**[SESSION-20251027-A7F3K2M9] CLAUDE PLAN: Rate Limiting for Express API**"
        ) && plan.contains("1. express-rate-limit with a Redis store")
            && plan
                .trim_end()
                .ends_with("Session ID: SESSION-20251027-A7F3K2M9"),
        "{plan}"
    );
    assert_eq!(plan.matches("CLAUDE PLAN").count(), 1, "{plan}");
    // Nothing an agent stores is lost: out-of-order reviews are recorded and say so, a review
    // without a verdict is kept as a note.
    for again in seen["again"].as_array().unwrap() {
        assert_eq!(again["error"], false, "{again}");
        assert!(
            again["text"].as_str().unwrap().contains("out of order"),
            "{again}"
        );
    }
    assert_eq!(seen["no_verdict"]["error"], false, "{}", seen["no_verdict"]);
    assert!(
        seen["no_verdict"]["text"]
            .as_str()
            .unwrap()
            .contains("kept as a note"),
        "{}",
        seen["no_verdict"]
    );
    // The latest plan iteration answers for the plan; a bare ID gives the newest text.
    let plan2 = seen["retrieve_plan2"]["text"].as_str().unwrap();
    assert!(
        plan2.contains("Key by API key") && !plan2.contains("Key by IP"),
        "{plan2}"
    );
    let newest = &seen["retrieve_id"]["structured"]["memories"][0];
    assert_eq!(newest["kind"], "plan", "{newest}");
    // A session this clone does not hold: nothing, not an error.
    assert_eq!(
        seen["retrieve_unknown"]["error"], false,
        "{}",
        seen["retrieve_unknown"]
    );
    assert!(
        seen["retrieve_unknown"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Nothing stored matches"),
        "{}",
        seen["retrieve_unknown"]
    );
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
    // A refused step is phrased for an agent: the next tool and the force argument.
    let id = seen["refused_session"].as_str().unwrap();
    assert_eq!(seen["refused"]["error"], true, "{}", seen["refused"]);
    assert_eq!(
        seen["refused"]["text"],
        format!(
            "error: cannot record a validation: the session is AWAITING_CODEX_REVIEW; next: \
             handoff_review with session {id}, or call this tool again with force: true to \
             record it anyway"
        )
    );
    assert_eq!(seen["forced"]["error"], false, "{}", seen["forced"]);
    let forced: serde_json::Value =
        serde_json::from_str(seen["forced"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(forced["artifact"]["kind"], "validation", "{forced}");
    assert_eq!(forced["artifact"]["forced"], true, "{forced}");
    assert!(seen["prompt"].as_str().unwrap().contains("handoff_review"));
    // And it is all in git, where the CLI sees it, from the main worktree too.
    let show = env
        .handoff(&main, &["show", "SESSION-20251027-A7F3K2M9", "--json"])
        .json();
    assert_eq!(show["status"], "AWAITING_CODEX_REVIEW");
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "plan", "review", "review", "review", "review", "review", "review", "note", "plan"
        ],
        "{show}"
    );
    assert_eq!(show["timeline"][2]["forced"], true, "{show}");
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
    // Claude Code headless needs a permission rule where it honours one without trust: the
    // local settings, kept out of git. Codex needs its approval mode, printed as config.
    let local: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join(".claude/settings.local.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        local["permissions"]["allow"],
        serde_json::json!(["mcp__git-handoff"])
    );
    assert!(
        std::fs::read_to_string(repo.join(".git/info/exclude"))
            .unwrap()
            .contains("/.claude/settings.local.json")
    );
    std::fs::write(repo.join(".claude/x"), "").unwrap();
    let untracked = env.git_ok(&repo, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(!untracked.contains("settings.local.json"), "{untracked}");
    let codex = out["codex_config"].as_str().unwrap();
    assert!(
        codex.contains("[mcp_servers.git-handoff]")
            && codex.contains("default_tools_approval_mode = \"approve\""),
        "{codex}"
    );
    let parsed: toml::Table = toml::from_str(codex).unwrap();
    assert_eq!(
        parsed["mcp_servers"]["git-handoff"]["args"],
        toml::Value::Array(vec!["handoff".into(), "mcp".into()])
    );
    assert_eq!(
        out["claude_allowed_tools"],
        "--allowedTools mcp__git-handoff"
    );
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

#[test]
fn init_agents_under_the_seeds_server_name_runs_the_seed_skill_unchanged() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let out = env
        .handoff(
            &repo,
            &[
                "init",
                "--agents",
                "--no-hooks",
                "--server-name",
                "byterover-mcp",
                "--json",
            ],
        )
        .json();
    let mcp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join(".mcp.json")).unwrap()).unwrap();
    assert_eq!(mcp["mcpServers"]["byterover-mcp"]["command"], "git");
    assert!(mcp["mcpServers"].get("git-handoff").is_none(), "{mcp}");
    assert!(
        out["codex_config"]
            .as_str()
            .unwrap()
            .contains("[mcp_servers.byterover-mcp]")
    );
    // The real Byterover already registered under that name: kept, with a warning.
    let other = env.repo("other");
    std::fs::write(
        other.join(".mcp.json"),
        r#"{"mcpServers": {"byterover-mcp": {"command": "brv", "args": ["mcp"]}}}"#,
    )
    .unwrap();
    let run = env.handoff(
        &other,
        &[
            "init",
            "--agents",
            "--no-hooks",
            "--server-name",
            "byterover-mcp",
        ],
    );
    run.ok();
    assert!(run.stderr.contains("real Byterover"), "{}", run.stderr);
    let mcp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(other.join(".mcp.json")).unwrap()).unwrap();
    assert_eq!(mcp["mcpServers"]["byterover-mcp"]["command"], "brv");
    // A name no MCP client takes is a usage error.
    env.handoff(&repo, &["init", "--agents", "--server-name", "a b"])
        .fails(2);
}

/// Every request line gets an answer, even one the server cannot read: not JSON (before
/// `initialize` too), nested too deep, or over the 16 MiB line limit. The client never waits
/// forever, and the server goes on serving.
#[test]
fn unreadable_requests_are_answered_not_dropped() {
    use std::io::{BufRead, BufReader, Write};
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let mut child = env
        .command(BIN, &repo)
        .arg("mcp")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut answer = |request: &[u8]| -> serde_json::Value {
        stdin.write_all(request).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        let line = received
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("no answer: the request was dropped");
        serde_json::from_str(&line).unwrap()
    };
    let not_json = answer(b"hello, is this MCP?");
    assert_eq!(not_json["error"]["code"], -32700, "{not_json}");
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let deep = answer(deep.as_bytes());
    assert_eq!(deep["id"], 3, "{deep}");
    assert_eq!(deep["error"]["code"], -32600, "{deep}");
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{{"name":"byterover-store-knowledge","arguments":{{"messages":"{}"}}}}}}"#,
        "x".repeat(17 * 1024 * 1024)
    );
    let huge = answer(huge.as_bytes());
    assert_eq!(huge["id"], 5, "{huge}");
    assert!(
        huge["error"]["message"]
            .as_str()
            .unwrap()
            .contains("16 MiB"),
        "{huge}"
    );
    // And the server still serves.
    let init = answer(
        br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
    );
    assert_eq!(init["id"], 1, "{init}");
    assert_eq!(
        init["result"]["serverInfo"]["name"], "git-handoff",
        "{init}"
    );
    drop(stdin);
    let _ = child.wait();
}
