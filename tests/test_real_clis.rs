//! The real agent CLIs and MCP Inspector, from npm (see `common::node_clis`): our presets' flags
//! are accepted by the real `codex` and `claude` argument parsers (parsing works offline), and
//! the MCP Inspector in CLI mode talks to `git handoff mcp`.

use std::path::Path;

use git_handoff::workflow::agent::{Ask, Preset, command_line};

use crate::common::{BIN, Run, TestEnv, node_clis};

fn run_in(env: &TestEnv, dir: &Path, program: &Path, args: &[&str]) -> Run {
    let path = std::env::join_paths([
        program.parent().unwrap(),
        Path::new(BIN).parent().unwrap(),
        Path::new("/usr/local/bin"),
        Path::new("/usr/bin"),
        Path::new("/bin"),
    ])
    .unwrap();
    Run::from(
        env.command(program.to_str().unwrap(), dir)
            .env("PATH", path)
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn the_presets_flags_parse_with_the_real_clis() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let bin = node_clis();
    // codex: clap parses every flag before it acts on --help; an unknown flag is an error.
    let (program, args) = command_line(
        &Preset::Codex,
        Ask::Verdict {
            schema: Path::new("/tmp/s.json"),
        },
        Path::new("/tmp/o.json"),
    );
    let mut parsed: Vec<&str> = args[..args.len() - 1].iter().map(String::as_str).collect();
    parsed.push("--help");
    let run = run_in(&env, &repo, &bin.join(&program), &parsed);
    assert!(run.ok().contains("Usage: codex exec"), "{}", run.stdout);
    let mut bogus = parsed.clone();
    bogus.insert(0, "--no-such-flag");
    assert_ne!(run_in(&env, &repo, &bin.join(&program), &bogus).code, 0);
    // claude: with the preset's flags and no prompt it gets past parsing to ask for input.
    let schema = Ask::Verdict {
        schema: Path::new("/s"),
    };
    let (program, args) = command_line(&Preset::Claude, schema, Path::new("/a"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_in(&env, &repo, &bin.join(&program), &args);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !said.contains("unknown option") && !said.contains("is invalid"),
        "claude refused the preset's flags: {said}"
    );
    assert!(said.contains("Input must be provided"), "{said}");
    let mut bogus = args.clone();
    bogus.push("--no-such-flag");
    let run = run_in(&env, &repo, &bin.join(&program), &bogus);
    assert!(format!("{}{}", run.stdout, run.stderr).contains("unknown option"));
}

#[test]
fn the_mcp_inspector_cli_lists_calls_and_retrieves() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let inspector = node_clis().join("mcp-inspector");
    let list = run_in(
        &env,
        &repo,
        &inspector,
        &["--cli", BIN, "mcp", "--method", "tools/list"],
    );
    let tools: serde_json::Value = serde_json::from_str(list.ok()).unwrap();
    let names = tools["tools"].to_string();
    assert!(names.contains("byterover-store-knowledge") && names.contains("handoff_context"));
    let plan = "**[SESSION-20251028-B7F3K2M9] CLAUDE PLAN: Inspector plan**\n\nSteps.";
    let call = |tool: &str, arg: &str| {
        run_in(
            &env,
            &repo,
            &inspector,
            &[
                "--cli",
                BIN,
                "mcp",
                "--method",
                "tools/call",
                "--tool-name",
                tool,
                "--tool-arg",
                arg,
            ],
        )
    };
    let stored = call("byterover-store-knowledge", &format!("messages={plan}"));
    assert!(
        stored.ok().contains("SESSION-20251028-B7F3K2M9"),
        "{}",
        stored.stdout
    );
    let found = call("byterover-retrieve-knowledge", "query=inspector plan");
    assert!(
        found.ok().contains("SESSION-20251028-B7F3K2M9"),
        "{}",
        found.stdout
    );
}

/// The scripted model stand-in (tests/agents/model_stub.py), on 127.0.0.1.
struct ModelStub {
    state: std::path::PathBuf,
    port: u16,
    child: std::process::Child,
}

impl ModelStub {
    /// Starts the stand-in with `script` (see the stub's documentation).
    fn start(env: &TestEnv, name: &str, script: &serde_json::Value) -> Self {
        let state = env.path(name);
        std::fs::create_dir_all(&state).unwrap();
        let script_path = state.join("script.json");
        std::fs::write(&script_path, script.to_string()).unwrap();
        let stub = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/agents/model_stub.py");
        let child = env
            .command("python3", &state)
            .args([stub, state.to_str().unwrap(), script_path.to_str().unwrap()])
            .spawn()
            .unwrap();
        let port = crate::common::wait_for_port(&state, "the model stand-in");
        Self { state, port, child }
    }

    /// What each tool call of the CLI returned, in order: `(tool, output, is_error)`.
    fn results(&self) -> Vec<(String, String, bool)> {
        std::fs::read_to_string(self.state.join("results.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["tool"].as_str().unwrap_or_default().to_owned(),
                    v["output"].as_str().unwrap_or_default().to_owned(),
                    v["error"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }

    /// The output of the call of `tool`, which must have been made.
    #[track_caller]
    fn output_of(&self, tool: &str) -> String {
        let results = self.results();
        results
            .iter()
            .find(|(name, _, _)| name == tool)
            .map(|(_, output, _)| output.clone())
            .unwrap_or_else(|| panic!("{tool} was never called: {results:?}"))
    }
}

impl Drop for ModelStub {
    fn drop(&mut self) {
        let _ = std::fs::write(self.state.join("stop"), "");
        let _ = self.child.wait();
    }
}

/// Runs the real `claude -p` in `repo` against the stand-in, configured only from what
/// `init --agents` wrote (`.mcp.json`, `.claude/settings.local.json`).
fn claude(env: &TestEnv, repo: &Path, stub: &ModelStub, prompt: &str) -> Run {
    let program = node_clis().join("claude");
    let mut command = env.command(program.to_str().unwrap(), repo);
    Run::from(
        claude_stand_in(&mut command, env, stub)
            .env("PATH", agent_path())
            .args(["-p", prompt, "--output-format", "json"])
            .output()
            .unwrap(),
    )
}

/// `command` with Claude Code's model pointed at the stand-in: a home of its own, the stand-in's
/// address, a dummy key, and nothing sent anywhere else.
fn claude_stand_in<'a>(
    command: &'a mut std::process::Command,
    env: &TestEnv,
    stub: &ModelStub,
) -> &'a mut std::process::Command {
    let home = env.path("claude-home");
    std::fs::create_dir_all(&home).unwrap();
    command
        .env("HOME", &home)
        .env(
            "ANTHROPIC_BASE_URL",
            format!("http://127.0.0.1:{}", stub.port),
        )
        .env("ANTHROPIC_API_KEY", "dummy-key")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
}

/// Runs the real `codex exec` in `repo` against the stand-in, with the model provider pointed
/// at it and the MCP server registered exactly as `init --agents` printed it.
fn codex(env: &TestEnv, repo: &Path, stub: &ModelStub, server_table: &str, prompt: &str) -> Run {
    codex_with(env, repo, stub, server_table, &[], prompt)
}

/// A CODEX_HOME whose configuration points Codex's model at the stand-in (no retries: a broken
/// stand-in fails at once), followed by `more` (tables or keys of the test's own).
fn codex_home_for(env: &TestEnv, stub: &ModelStub, more: &str) -> std::path::PathBuf {
    let home = env.path("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model_provider = \"stub\"\n{more}\n[model_providers.stub]\nname = \"stub\"\nbase_url = \"http://127.0.0.1:{}/v1\"\nwire_api = \"responses\"\nenv_key = \"STUB_KEY\"\nrequest_max_retries = 0\nstream_max_retries = 0\n",
            stub.port
        ),
    )
    .unwrap();
    home
}

/// [`codex`] with more arguments for `codex exec`.
fn codex_with(
    env: &TestEnv,
    repo: &Path,
    stub: &ModelStub,
    server_table: &str,
    extra: &[&str],
    prompt: &str,
) -> Run {
    let home = codex_home_for(env, stub, server_table);
    let program = node_clis().join("codex");
    Run::from(
        env.command(program.to_str().unwrap(), repo)
            .env("PATH", agent_path())
            .env("HOME", env.path("home"))
            .env("CODEX_HOME", &home)
            .env("STUB_KEY", "dummy-key")
            // Plain function tools (deferred behind tool_search), not the default model's
            // code mode.
            .args(["exec", "-m", "gpt-5.5", "--skip-git-repo-check"])
            .args(extra)
            .arg(prompt)
            .output()
            .unwrap(),
    )
}

/// PATH for the agent CLIs: node, git and the git-handoff under test.
fn agent_path() -> std::ffi::OsString {
    let mut dirs = vec![Path::new(BIN).parent().unwrap().to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

const SESSION: &str = "SESSION-20251027-R3A7CX9S";

/// Claude's steps: find the store tool (Claude Code defers MCP tools behind ToolSearch), then
/// store `text`.
fn claude_stores(server: &str, text: &str) -> serde_json::Value {
    let tool = format!("mcp__{server}__byterover-store-knowledge");
    serde_json::json!({"anthropic": [
        {"tool": "ToolSearch", "input": {"query": format!("select:{tool}")}},
        {"tool": tool, "input": {"messages": text}},
        {"text": "Stored."}
    ]})
}

/// Codex's steps: discover the tools (tool_search), retrieve with `query`, then store `text`.
fn codex_retrieves_and_stores(query: &str, text: &str) -> serde_json::Value {
    serde_json::json!({"openai": [
        {"item": {"type": "tool_search_call", "execution": "client",
                  "arguments": {"query": "byterover retrieve store knowledge", "limit": 8}}},
        {"tool": "byterover_retrieve_knowledge", "namespace": "mcp__git_handoff",
         "input": {"query": query, "limit": 1}},
        {"tool": "byterover_store_knowledge", "namespace": "mcp__git_handoff",
         "input": {"messages": text}},
        {"text": "Done."}
    ]})
}

/// The seed's four steps with the real CLIs, each configured only from `init --agents`: Claude
/// plans, Codex retrieves the plan in full and reviews it, Claude records the implementation
/// after a commit, Codex retrieves it and validates. Everything lands in git.
#[test]
fn the_seeds_four_steps_through_the_real_claude_and_codex() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let init = env.handoff(&repo, &["init", "--agents", "--json"]).json();
    let server_table = init["codex_config"].as_str().unwrap().to_owned();
    let plan = format!(
        "**[{SESSION}] CLAUDE PLAN: Rate limiting**\n\n## Steps\n1. A token bucket per API key, 100 requests a minute\n2. Answer 429 with Retry-After\n\nSession ID: {SESSION}\n"
    );

    // 1. Claude plans.
    let stub = ModelStub::start(&env, "stub-plan", &claude_stores("git-handoff", &plan));
    let run = claude(&env, &repo, &stub, "Plan rate limiting and store the plan.");
    run.ok();
    let stored = stub.output_of("mcp__git-handoff__byterover-store-knowledge");
    assert!(stored.contains("AWAITING_CODEX_REVIEW"), "{stored}");
    drop(stub);

    // 2. Codex reviews: the plan's full text reaches it.
    let review = format!(
        "**[{SESSION}] CODEX REVIEW: Rate limiting**\n\nA bucket per key is right.\n\n## Verdict\nAPPROVE\n\nSession ID: {SESSION}\n"
    );
    let stub = ModelStub::start(
        &env,
        "stub-review",
        &codex_retrieves_and_stores(&format!("{SESSION} Claude plan"), &review),
    );
    let run = codex(
        &env,
        &repo,
        &stub,
        &server_table,
        "Retrieve the plan and review it.",
    );
    run.ok();
    let retrieved = stub.output_of("byterover_retrieve_knowledge");
    assert!(
        retrieved.contains("1. A token bucket per API key, 100 requests a minute")
            && retrieved.contains("2. Answer 429 with Retry-After"),
        "the plan's full text did not reach Codex: {retrieved}"
    );
    let stored = stub.output_of("byterover_store_knowledge");
    assert!(stored.contains("READY_FOR_IMPLEMENTATION"), "{stored}");
    drop(stub);

    // 3. Claude implements: a commit (made while the session is current gets its trailer),
    //    then the summary through the same tool.
    let commit = env.commit_file(
        &repo,
        "src/limit.js",
        "module.exports = 100;\n",
        "Add the limiter",
    );
    let message = env.git_ok(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        message.contains(&format!("Handoff-Session: {SESSION}")),
        "{message}"
    );
    let summary = format!(
        "**[{SESSION}] IMPLEMENTATION COMPLETE: Rate limiting**\n\nsrc/limit.js holds the limit.\n\nSession ID: {SESSION}\n"
    );
    let stub = ModelStub::start(
        &env,
        "stub-implement",
        &claude_stores("git-handoff", &summary),
    );
    claude(&env, &repo, &stub, "Record the implementation.").ok();
    let stored = stub.output_of("mcp__git-handoff__byterover-store-knowledge");
    assert!(stored.contains("READY_FOR_CODEX_VALIDATION"), "{stored}");
    drop(stub);

    // 4. Codex validates what was implemented.
    let validation = format!(
        "**[{SESSION}] CODEX VALIDATION: Rate limiting**\n\nThe limit is in place.\n\n## Verdict\nAPPROVE\n\nSession ID: {SESSION}\n"
    );
    let stub = ModelStub::start(
        &env,
        "stub-validate",
        &codex_retrieves_and_stores(&format!("{SESSION} implementation"), &validation),
    );
    codex(
        &env,
        &repo,
        &stub,
        &server_table,
        "Validate the implementation.",
    )
    .ok();
    let retrieved = stub.output_of("byterover_retrieve_knowledge");
    assert!(
        retrieved.contains("src/limit.js holds the limit."),
        "{retrieved}"
    );
    drop(stub);

    // All of it is in git, tied to the commit.
    let show = env.handoff(&repo, &["show", SESSION, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE", "{show}");
    let agents: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["claude", "codex", "claude", "codex"], "{show}");
    assert_eq!(show["commits"], serde_json::json!([commit]), "{show}");
    let why = env.handoff(&repo, &["why", &commit, "--json"]).json();
    assert_eq!(why["sessions"][0]["id"], SESSION, "{why}");
}

/// The same first step with the server command broken in `.mcp.json`: the tool call fails,
/// nothing is stored, and the checks above would say so.
#[test]
fn a_wrong_server_command_is_caught() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    let mcp = std::fs::read_to_string(repo.join(".mcp.json")).unwrap();
    std::fs::write(
        repo.join(".mcp.json"),
        mcp.replace("\"mcp\"", "\"no-such-command\""),
    )
    .unwrap();
    let plan = format!("**[{SESSION}] CLAUDE PLAN: Broken**\n\nSteps.\n");
    let stub = ModelStub::start(&env, "stub", &claude_stores("git-handoff", &plan));
    // Claude's own exit code depends on how it takes a failed tool: what was stored is checked.
    let _ = claude(&env, &repo, &stub, "Store the plan.");
    let stored = stub
        .results()
        .into_iter()
        .find(|(tool, _, _)| tool == "mcp__git-handoff__byterover-store-knowledge");
    assert!(
        stored
            .as_ref()
            .is_none_or(|(_, output, error)| *error || !output.contains("AWAITING_CODEX_REVIEW")),
        "{stored:?}"
    );
    let list = env.handoff(&repo, &["list", "--json"]).json();
    assert_eq!(list["sessions"], serde_json::json!([]), "{list}");
}

/// The tools' MCP annotations say none of them destroys anything: with them, `codex exec`
/// 0.169 runs even a store without the approval mode `init --agents` prints (the printed line
/// keeps the configuration working where Codex asks to approve every write). Removing the
/// annotations makes this test fail ("MCP tool call requires approval").
#[test]
fn codex_exec_runs_the_annotated_tools_without_an_approval_setting() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let init = env
        .handoff(&repo, &["init", "--agents", "--no-hooks", "--json"])
        .json();
    let table = init["codex_config"].as_str().unwrap();
    assert!(
        table.contains("default_tools_approval_mode = \"approve\""),
        "{table}"
    );
    let without: String = table
        .lines()
        .filter(|l| !l.starts_with("default_tools_approval_mode"))
        .map(|l| format!("{l}\n"))
        .collect();
    let plan = format!("**[{SESSION}] CLAUDE PLAN: Approvals**\n\nSteps.\n");
    let stub = ModelStub::start(
        &env,
        "stub",
        &codex_retrieves_and_stores(&format!("{SESSION} plan"), &plan),
    );
    codex(&env, &repo, &stub, &without, "Store the plan.").ok();
    let stored = stub.output_of("byterover_store_knowledge");
    assert!(
        stored.contains("AWAITING_CODEX_REVIEW") && !stored.contains("requires approval"),
        "{stored}"
    );
    let show = env.handoff(&repo, &["show", SESSION, "--json"]).json();
    assert_eq!(show["status"], "AWAITING_CODEX_REVIEW", "{show}");
}

/// The Claude Code plugin in the repository (`plugins/claude/handoff`, listed by
/// `.claude-plugin/marketplace.json`) passes the real `claude plugin validate`, and carries
/// exactly what `init --agents` installs: the same hooks, MCP server and skill.
#[test]
fn the_claude_plugin_validates_and_matches_what_init_installs() {
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let plugin = root.join("plugins/claude/handoff");
    let home = env.path("claude-home");
    std::fs::create_dir_all(&home).unwrap();
    for dir in [&plugin, &root.to_path_buf()] {
        let run = Run::from(
            env.command(node_clis().join("claude").to_str().unwrap(), root)
                .env("HOME", &home)
                .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
                .args(["plugin", "validate"])
                .arg(dir)
                .output()
                .unwrap(),
        );
        let out = run.ok().to_owned();
        assert!(out.contains("Validation passed"), "{out}");
    }
    let json = |path: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(path)).unwrap()).unwrap()
    };
    let market = json(".claude-plugin/marketplace.json");
    assert_eq!(market["plugins"][0]["source"], "./plugins/claude/handoff");
    // What init --agents writes, in a scratch repository.
    let repo = env.repo("repo");
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    let local: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join(".claude/settings.local.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        json("plugins/claude/handoff/hooks/hooks.json")["hooks"],
        local["hooks"]
    );
    let mcp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join(".mcp.json")).unwrap()).unwrap();
    assert_eq!(
        json("plugins/claude/handoff/.mcp.json")["mcpServers"]["git-handoff"],
        mcp["mcpServers"]["git-handoff"]
    );
    assert_eq!(
        std::fs::read_to_string(plugin.join("skills/git-handoff/SKILL.md")).unwrap(),
        std::fs::read_to_string(repo.join(".claude/skills/git-handoff/SKILL.md")).unwrap()
    );
}

/// Whether the model behind `stub` was told session `id` (planned, not reviewed yet), its
/// status and its next step, as the session-start gate tells it.
#[track_caller]
fn assert_told_current_session(stub: &ModelStub, id: &str) {
    let requests = std::fs::read_to_string(stub.state.join("requests.jsonl")).unwrap();
    assert!(requests.contains(id), "the model was not told the session");
    assert!(
        requests.contains("AWAITING_CODEX_REVIEW"),
        "the model was not told its status"
    );
    let short = id.split('-').nth(2).unwrap();
    assert!(
        requests.contains(&format!("git handoff review {short}")),
        "the model was not told the next step"
    );
}

/// A repository set up by `init --agents` with a planned session current, and a stand-in whose
/// model (`api`: anthropic or openai) only answers "Noted.".
fn a_current_session(env: &TestEnv, api: &str) -> (std::path::PathBuf, String, ModelStub) {
    let repo = env.repo("repo");
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    let id = env.plan(&repo, "Rate limiting");
    env.handoff(&repo, &["start", &id]).ok();
    let stub = ModelStub::start(
        env,
        "stub",
        &serde_json::json!({ api: [{"text": "Noted."}] }),
    );
    (repo, id, stub)
}

/// A session start in the real Claude Code receives the current session's status: the hook
/// `init --agents` installs adds it to what the model is sent.
#[test]
fn claude_is_told_the_current_session_when_it_starts() {
    let env = TestEnv::new();
    let (repo, id, stub) = a_current_session(&env, "anthropic");
    let run = claude(&env, &repo, &stub, "Which session is current?");
    run.ok();
    assert_told_current_session(&stub, &id);
}

/// A session start in the real Codex receives the current session's status too: the hook
/// `init --agents` writes to .codex/hooks.json, run once the project is trusted and the hook
/// vetted (here `--dangerously-bypass-hook-trust`, the flag for vetted automation).
#[test]
fn codex_is_told_the_current_session_when_it_starts() {
    let env = TestEnv::new();
    let (repo, id, stub) = a_current_session(&env, "openai");
    let canonical = std::fs::canonicalize(&repo).unwrap();
    let trusted = format!(
        "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        canonical.display()
    );
    let run = codex_with(
        &env,
        &repo,
        &stub,
        &trusted,
        &["--dangerously-bypass-hook-trust"],
        "Which session is current?",
    );
    run.ok();
    assert_told_current_session(&stub, &id);
}

/// A command in `repo` whose environment reaches both real CLIs and their stand-in, as one
/// started by the other (a gate's reviewer inside Claude's hook, or `loop`) finds them:
/// `codex` and `claude` on PATH beside git-handoff, Codex's configuration in CODEX_HOME naming
/// the stand-in, Claude's variables.
fn both_clis(
    env: &TestEnv,
    repo: &Path,
    stub: &ModelStub,
    program: &Path,
) -> std::process::Command {
    // gpt-5.5: plain function tools, not the default model's code mode.
    let codex_home = codex_home_for(env, stub, "model = \"gpt-5.5\"\n");
    let mut path = vec![node_clis()];
    path.extend(std::env::split_paths(&agent_path()));
    let mut command = env.command(program.to_str().unwrap(), repo);
    claude_stand_in(&mut command, env, stub)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("CODEX_HOME", &codex_home)
        .env("STUB_KEY", "dummy-key");
    command
}

/// `init --agents`, then a session planned, approved and made current: ready for an agent to
/// implement with its Stop gate on. Its ID.
fn ready_to_implement(env: &TestEnv, repo: &Path) -> String {
    env.handoff(repo, &["init", "--agents", "--no-hooks"]).ok();
    let id = env.plan(repo, "Rate limiting");
    env.handoff(
        repo,
        &["review", &id, "--verdict", "approve", "-m", "Fine."],
    )
    .ok();
    env.handoff(repo, &["start", &id]).ok();
    id
}

/// The timeline of a session whose implementation the Stop gate validated twice: changes
/// asked for, then approved.
const VALIDATED_AFTER_ONE_ROUND: [&str; 6] = [
    "plan -",
    "review approve",
    "implementation -",
    "validation request-changes",
    "implementation -",
    "validation approve",
];

/// The kinds and verdicts of a session's artifacts, in order (`-` for none).
fn timeline_of(show: &serde_json::Value) -> Vec<String> {
    show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["kind"].as_str().unwrap(),
                a["verdict"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

/// Claude's two implementations of the limiter, as the scripted model makes them: a limit line
/// in `app` (a full path), then a second one after the validation asked for it.
fn claude_implements_twice(app: &str) -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"tool": "Write", "input": {"file_path": app, "content": "limit\n"}}),
        serde_json::json!({"text": "Added a limit."}),
        serde_json::json!({"tool": "Write", "input": {"file_path": app, "content": "limit\nlimit\n"}}),
        serde_json::json!({"text": "Added the second limit."}),
    ]
}

/// What the scripted Codex answers for a review or a validation (`codex exec
/// --output-schema`): no finding, or one asking for `change`.
fn codex_verdict(change: Option<&str>) -> serde_json::Value {
    let answer = match change {
        None => serde_json::json!({"findings": [], "overall_correctness": "patch is correct",
            "overall_explanation": "Looks right.", "overall_confidence_score": 0.9}),
        Some(change) => serde_json::json!({"findings": [{"title": format!("[P1] {change}"),
            "body": "It is needed.", "confidence_score": 0.9, "priority": 1,
            "code_location": {"absolute_file_path": "app.txt",
                              "line_range": {"start": 1, "end": 1}}}],
            "overall_correctness": "patch is incorrect",
            "overall_explanation": format!("{change}, please."),
            "overall_confidence_score": 0.9}),
    };
    serde_json::json!({"text": answer.to_string()})
}

/// The Stop gate with both real CLIs: Claude Code edits and tries to stop; its Stop hook
/// (installed by `init --agents`) commits, records the implementation and has the real Codex
/// validate the diff; Codex asks for a second limit, Claude is blocked with the finding, fixes
/// it, stops again, Codex approves and the session is COMPLETE, every round in git.
#[test]
fn claude_is_validated_by_codex_before_it_stops() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = ready_to_implement(&env, &repo);
    let app = std::fs::canonicalize(&repo).unwrap().join("app.txt");
    let app = app.to_str().unwrap();
    let stub = ModelStub::start(
        &env,
        "stub",
        &serde_json::json!({
            "anthropic": claude_implements_twice(app),
            "openai": [codex_verdict(Some("Add a second limit")), codex_verdict(None)]
        }),
    );
    let run = Run::from(
        both_clis(&env, &repo, &stub, &node_clis().join("claude"))
            .args(["-p", "Implement the plan.", "--output-format", "json"])
            .args(["--permission-mode", "acceptEdits"])
            .output()
            .unwrap(),
    );
    run.ok();
    // Claude was told the finding, and went on.
    let requests = std::fs::read_to_string(stub.state.join("requests.jsonl")).unwrap();
    assert!(
        requests.contains("Add a second limit"),
        "Claude was not told the finding"
    );
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(timeline_of(&show), VALIDATED_AFTER_ONE_ROUND, "{show}");
    assert_eq!(show["status"], "COMPLETE");
    assert_eq!(show["timeline"][2]["body"], "Added a limit.", "{show}");
    assert_eq!(
        std::fs::read_to_string(repo.join("app.txt")).unwrap(),
        "limit\nlimit\n"
    );
    let log = env.git_ok(&repo, &["log", "--format=%B%x00", "HEAD"]);
    assert_eq!(
        log.matches(&format!("Handoff-Session: {id}")).count(),
        2,
        "{log}"
    );
}

/// `git handoff loop` with both real CLIs and scripted models: Claude plans, Codex asks for a
/// fallback, Claude revises, Codex approves; Claude implements, Codex asks for a second limit
/// (the finding reaches Claude's next prompt), Claude fixes, Codex approves: COMPLETE.
#[test]
fn loop_drives_the_real_claude_and_codex_to_complete() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let app = std::fs::canonicalize(&repo).unwrap().join("app.txt");
    let app = app.to_str().unwrap();
    let mut plans_then_implementations = vec![
        serde_json::json!({"text": "## Plan\n\nBucket per user."}),
        serde_json::json!({"text": "## Plan\n\nBucket per user, with a Redis fallback."}),
    ];
    plans_then_implementations.extend(claude_implements_twice(app));
    let stub = ModelStub::start(
        &env,
        "stub",
        &serde_json::json!({
            "anthropic": plans_then_implementations,
            "openai": [
                codex_verdict(Some("Add a fallback")),
                codex_verdict(None),
                codex_verdict(Some("Add a second limit")),
                codex_verdict(None)
            ]
        }),
    );
    let run = Run::from(
        both_clis(&env, &repo, &stub, Path::new(BIN))
            .args(["loop", "-t", "Rate limiting", "-m", "Add a rate limiter."])
            .output()
            .unwrap(),
    );
    let id = run.ok().trim().to_owned();
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(
        timeline_of(&show),
        [
            "plan -",
            "review request-changes",
            "plan -",
            "review approve",
            "implementation -",
            "validation request-changes",
            "implementation -",
            "validation approve"
        ],
        "{}",
        run.stderr
    );
    assert_eq!(show["status"], "COMPLETE");
    assert_eq!(show["timeline"][0]["agent"], "claude", "{show}");
    assert_eq!(show["timeline"][1]["agent"], "codex", "{show}");
    // Each finding reached the next prompt of the other agent.
    let requests = std::fs::read_to_string(stub.state.join("requests.jsonl")).unwrap();
    let claude_asked: Vec<&str> = requests
        .lines()
        .filter(|l| l.contains("CONTEXT FOR"))
        .collect();
    assert!(
        claude_asked.iter().any(|l| l.contains("Add a fallback")),
        "the review did not reach the second plan"
    );
    assert!(
        claude_asked
            .iter()
            .any(|l| l.contains("Add a second limit")),
        "the validation did not reach the second implementation"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("app.txt")).unwrap(),
        "limit\nlimit\n"
    );
}

/// The Codex plugin in this repository (`.agents/plugins/marketplace.json`,
/// `plugins/codex/handoff`) installs with the real codex (`codex plugin marketplace add`, then
/// `codex plugin add`), registers the MCP server, carries what `init --agents` installs for
/// Codex, and its session-start hook tells Codex the current session.
#[test]
fn the_codex_plugin_installs_and_tells_codex_the_current_session() {
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let codex_home = env.path("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    let codex_cli = |args: &[&str]| {
        Run::from(
            env.command(node_clis().join("codex").to_str().unwrap(), root)
                .env("HOME", env.path("home"))
                .env("CODEX_HOME", &codex_home)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    codex_cli(&["plugin", "marketplace", "add", root.to_str().unwrap()]).ok();
    let added = codex_cli(&["plugin", "add", "handoff@git-handoff"]);
    assert!(
        added.ok().contains("Added plugin `handoff`"),
        "{}",
        added.stdout
    );
    let servers = codex_cli(&["mcp", "list"]);
    assert!(
        servers
            .ok()
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..3]
                == ["git-handoff", "git", "handoff"]),
        "{}",
        servers.stdout
    );
    // The plugin carries what init --agents writes for Codex.
    let installed = codex_home.join("plugins/cache/git-handoff/handoff/0.1.0");
    let repo = env.repo("repo");
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    let json = |path: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(
        json(&installed.join("hooks/hooks.json")),
        json(&repo.join(".codex/hooks.json"))
    );
    assert_eq!(
        json(&installed.join(".mcp.json"))["mcpServers"]["git-handoff"],
        json(&repo.join(".mcp.json"))["mcpServers"]["git-handoff"]
    );
    assert_eq!(
        std::fs::read_to_string(installed.join("skills/git-handoff/SKILL.md")).unwrap(),
        std::fs::read_to_string(repo.join(".agents/skills/git-handoff/SKILL.md")).unwrap()
    );
    // In a clone without init --agents' own files, the plugin alone tells Codex the session.
    std::fs::remove_file(repo.join(".codex/hooks.json")).unwrap();
    let id = env.plan(&repo, "Rate limiting");
    env.handoff(&repo, &["start", &id]).ok();
    let stub = ModelStub::start(
        &env,
        "stub",
        &serde_json::json!({"openai": [{"text": "Noted."}]}),
    );
    let plugin_config = std::fs::read_to_string(codex_home.join("config.toml")).unwrap();
    let run = codex_with(
        &env,
        &repo,
        &stub,
        &plugin_config,
        &["--dangerously-bypass-hook-trust"],
        "Which session is current?",
    );
    run.ok();
    assert_told_current_session(&stub, &id);
}

/// `command` as a shell script (its environment, directory, program and arguments), for a
/// terminal multiplexer to run.
fn as_script(command: &std::process::Command) -> String {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let mut script = String::from("#!/bin/sh\n");
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => script.push_str(&format!("export {}={}\n", key.to_string_lossy(), quote(v))),
            None => script.push_str(&format!("unset {}\n", key.to_string_lossy())),
        }
    }
    if let Some(dir) = command.get_current_dir() {
        script.push_str(&format!("cd {}\n", quote(dir.as_os_str())));
    }
    script.push_str("exec ");
    script.push_str(&quote(command.get_program()));
    for arg in command.get_args() {
        script.push(' ');
        script.push_str(&quote(arg));
    }
    script.push('\n');
    script
}

/// The plan gate with the real, interactive Claude Code in plan mode (headless `claude -p`
/// disables ExitPlanMode), in a terminal under tmux, and the real Codex reviewing: Claude
/// writes its plan file and asks to leave plan mode; the hook records the plan and Codex asks
/// for a fallback; Claude is denied with the finding, revises the plan file, asks again; Codex
/// approves and Claude leaves plan mode. Both iterations and both reviews are in git. (Claude
/// Code 2.1 keeps the plan in a plan file, `~/.claude/plans/<slug>.md`, and hands its text to
/// the hook as `tool_input.plan`.)
#[test]
fn claude_plan_mode_is_reviewed_by_codex_before_it_ends() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    if !env
        .command("tmux", &repo)
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: no tmux here (.ci/run installs Debian's tmux)");
        return;
    }
    env.handoff(&repo, &["init", "--agents", "--no-hooks"]).ok();
    let canonical = std::fs::canonicalize(&repo).unwrap();
    // Claude Code's first-run questions, answered as the person would have once: onboarding
    // done, this folder trusted, the API key accepted, the project's MCP server enabled.
    let home = env.path("claude-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".claude.json"),
        serde_json::json!({
            "hasCompletedOnboarding": true,
            "theme": "dark",
            "customApiKeyResponses": {"approved": ["dummy-key"], "rejected": []},
            "projects": {canonical.to_str().unwrap(): {"hasTrustDialogAccepted": true}}
        })
        .to_string(),
    )
    .unwrap();
    let settings_path = repo.join(".claude/settings.local.json");
    let mut settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings_path).unwrap()).unwrap();
    settings["enabledMcpjsonServers"] = serde_json::json!(["git-handoff"]);
    std::fs::write(&settings_path, settings.to_string()).unwrap();
    let stub = ModelStub::start(
        &env,
        "stub",
        &serde_json::json!({
            "anthropic": [
                {"tool": "Write", "input": {"file_path": "$PLAN_FILE",
                    "content": "# Plan: Rate limiting\n\nBucket per user.\n"}},
                {"tool": "ExitPlanMode", "input": {}},
                {"tool": "Write", "input": {"file_path": "$PLAN_FILE",
                    "content": "# Plan: Rate limiting\n\nBucket per user, with a Redis fallback.\n"}},
                {"tool": "ExitPlanMode", "input": {}},
                {"text": "The plan is approved."}
            ],
            "openai": [codex_verdict(Some("Add a fallback")), codex_verdict(None)]
        }),
    );
    let mut claude = both_clis(&env, &repo, &stub, &node_clis().join("claude"));
    claude.args(["--permission-mode", "plan", "Plan a rate limiter."]);
    let script = env.path("claude.sh");
    std::fs::write(&script, as_script(&claude)).unwrap();
    let socket = format!("handoff-test-{}", std::process::id());
    let tmux = |args: &[&str]| {
        env.command("tmux", &repo)
            .args(["-L", &socket])
            .args(args)
            .output()
            .unwrap()
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-x",
        "160",
        "-y",
        "45",
        "sh",
        script.to_str().unwrap(),
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    // Wait for both reviews; accept leaving plan mode when Claude Code asks the person.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut timeline = Vec::new();
    let mut screen = String::new();
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(500));
        screen = String::from_utf8_lossy(&tmux(&["capture-pane", "-p"]).stdout).into_owned();
        let asks = ["Would you like to proceed?", "Exit plan mode?"];
        if timeline.len() == 4 && asks.iter().any(|a| screen.contains(a)) {
            tmux(&["send-keys", "Enter"]);
        }
        let list = env.handoff(&repo, &["list", "--json"]).json();
        if let Some(id) = list["sessions"]
            .as_array()
            .and_then(|a| a.first())
            .map(|s| s["id"].clone())
        {
            let show = env
                .handoff(&repo, &["show", id.as_str().unwrap(), "--json"])
                .json();
            timeline = timeline_of(&show);
        }
        if timeline.len() == 4 && screen.contains("The plan is approved.") {
            break;
        }
    }
    tmux(&["kill-server"]);
    assert_eq!(
        timeline,
        [
            "plan -",
            "review request-changes",
            "plan -",
            "review approve"
        ],
        "{screen}"
    );
    let requests = std::fs::read_to_string(stub.state.join("requests.jsonl")).unwrap();
    assert!(
        requests.contains("Add a fallback"),
        "Claude was not told the finding"
    );
    let list = env.handoff(&repo, &["list", "--json"]).json();
    let id = list["sessions"][0]["id"].as_str().unwrap();
    let show = env.handoff(&repo, &["show", id, "--json"]).json();
    assert!(
        show["timeline"][2]["body"]
            .as_str()
            .unwrap()
            .contains("Redis fallback"),
        "{show}"
    );
}

/// The roles swapped by configuration (`[agents] planner = "codex"`, `reviewer = "claude"`):
/// the real Codex implements and its Stop hook (`.codex/hooks.json`, from `init --agents`)
/// has the real Claude Code validate the diff; Claude asks for a second limit, Codex is
/// blocked with the finding, fixes, stops again, Claude approves: COMPLETE.
#[test]
fn codex_is_validated_by_claude_before_it_stops() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["config", "agents.planner", "codex"])
        .ok();
    env.handoff(&repo, &["config", "agents.reviewer", "claude"])
        .ok();
    let id = ready_to_implement(&env, &repo);
    let verdict = |change: Option<&str>| {
        let answer: serde_json::Value =
            serde_json::from_str(codex_verdict(change)["text"].as_str().unwrap()).unwrap();
        serde_json::json!({"tool": "StructuredOutput", "input": answer})
    };
    let stub = ModelStub::start(
        &env,
        "stub",
        &serde_json::json!({
            "openai": [
                {"tool": "exec_command", "input": {"cmd": "printf 'limit\\n' > app.txt"}},
                {"text": "Added a limit."},
                {"tool": "exec_command", "input": {"cmd": "printf 'limit\\nlimit\\n' > app.txt"}},
                {"text": "Added the second limit."}
            ],
            "anthropic": [verdict(Some("Add a second limit")), verdict(None)]
        }),
    );
    let canonical = std::fs::canonicalize(&repo).unwrap();
    let mut codex = both_clis(&env, &repo, &stub, &node_clis().join("codex"));
    codex_home_for(
        &env,
        &stub,
        &format!(
            "model = \"gpt-5.5\"\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            canonical.display()
        ),
    );
    let run = Run::from(
        codex
            .args([
                "exec",
                "--skip-git-repo-check",
                "--sandbox",
                "workspace-write",
            ])
            .arg("--dangerously-bypass-hook-trust")
            .arg("Implement the plan.")
            .output()
            .unwrap(),
    );
    run.ok();
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(
        timeline_of(&show),
        VALIDATED_AFTER_ONE_ROUND,
        "{}\n{show}",
        run.stderr
    );
    assert_eq!(show["timeline"][2]["agent"], "codex", "{show}");
    assert_eq!(show["timeline"][3]["agent"], "claude", "{show}");
    assert_eq!(show["status"], "COMPLETE");
    let requests = std::fs::read_to_string(stub.state.join("requests.jsonl")).unwrap();
    assert!(
        requests.contains("Add a second limit"),
        "Codex was not told the finding"
    );
}
