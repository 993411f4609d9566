//! The real agent CLIs and MCP Inspector, from npm (see `common::node_clis`): our presets' flags
//! are accepted by the real `codex` and `claude` argument parsers (parsing works offline), and
//! the MCP Inspector in CLI mode talks to `git handoff mcp`.

use std::path::Path;

use git_handoff::workflow::agent::{Preset, command_line};

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
        Path::new("/tmp/s.json"),
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
    let (program, args) = command_line(&Preset::Claude, Path::new("/s"), Path::new("/a"));
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
