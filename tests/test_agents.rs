//! `git handoff run` with stand-in agent executables on PATH that behave like the real CLIs:
//! the presets' exact arguments, the prompt on standard input, Codex's `-o` answer file,
//! Claude's JSON result; and agents that fail, hang or answer garbage (nothing stored, output
//! kept, exit 1).

use std::path::{Path, PathBuf};

use crate::common::{BIN, Run, TestEnv};

const CODEX: &str = r###"#!/bin/sh
[ "$1" = exec ] && [ "$2" = --sandbox ] && [ "$3" = read-only ] && [ "$4" = --output-schema ] \
  && [ "$6" = -o ] && [ "$8" = - ] || { echo "codex: unexpected arguments: $*" >&2; exit 2; }
grep -q '"overall_correctness"' "$5" || { echo "codex: no schema at $5" >&2; exit 2; }
prompt=$(cat)
case "$prompt" in *SESSION-*"## CLAUDE PLAN"*) ;; *) echo "codex: no session in the prompt" >&2; exit 2;; esac
cat > "$7" <<'JSON'
{"findings":[{"title":"[P1] Key by user id","body":"NAT users share addresses.","confidence_score":0.8,"priority":1,"code_location":{"absolute_file_path":"README.md","line_range":{"start":1,"end":1}}}],"overall_correctness":"patch is incorrect","overall_explanation":"Needs a hybrid key.","overall_confidence_score":0.7}
JSON
echo "review written"
"###;

const CLAUDE: &str = r#"#!/bin/sh
[ "$1" = -p ] && [ "$2" = --output-format ] && [ "$3" = json ] && [ "$4" = --json-schema ] \
  || { echo "claude: unexpected arguments" >&2; exit 2; }
printf '%s' "$5" | grep -q overall_correctness || exit 2
cat > /dev/null
printf '%s\n' '{"type":"result","subtype":"success","is_error":false,"result":"done","structured_output":{"findings":[],"overall_correctness":"patch is correct","overall_explanation":"Looks right.","overall_confidence_score":0.9}}'
"#;

/// A directory holding an executable `name` with `script`.
fn stand_in(env: &TestEnv, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = env.path(&format!("agents-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs `git handoff ARGS` with `agents` first on PATH.
fn run_with(env: &TestEnv, repo: &Path, agents: &Path, args: &[&str]) -> Run {
    let bin = Path::new(BIN).parent().unwrap();
    let path = std::env::join_paths([
        agents,
        bin,
        Path::new("/usr/local/bin"),
        Path::new("/usr/bin"),
        Path::new("/bin"),
    ])
    .unwrap();
    Run::from(
        env.command(BIN, repo)
            .env("PATH", path)
            .args(args)
            .output()
            .unwrap(),
    )
}

fn artifacts(env: &TestEnv, repo: &Path, id: &str) -> usize {
    env.handoff(repo, &["log", id, "--json"]).json()["artifacts"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn codex_reviews_through_its_schema_and_answer_file() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Rate limiting");
    let agents = stand_in(&env, "codex", CODEX);
    let run = run_with(&env, &repo, &agents, &["run", "review", &id, "--json"]);
    let out: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(out["status"], "CHANGES_REQUESTED", "{out}");
    let artifact = &out["artifact"];
    assert_eq!(artifact["agent"], "codex");
    assert_eq!(artifact["verdict"], "request-changes");
    assert_eq!(artifact["findings"][0]["priority"], 1);
    assert_eq!(artifact["findings"][0]["path"], "README.md");
    assert_eq!(artifact["body"], "Needs a hybrid key.");
    // The schema the README tells users to pass is the one the tool uses.
    let schema = env.handoff(&repo, &["schema", "review"]);
    let schema: serde_json::Value = serde_json::from_str(schema.ok()).unwrap();
    assert_eq!(schema["required"][1], "overall_correctness");
}

#[test]
fn claude_validates_through_structured_output() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Claude validates");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(&repo, "a.txt", "a\n", "work");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let agents = stand_in(&env, "claude", CLAUDE);
    let run = run_with(
        &env,
        &repo,
        &agents,
        &["run", "validate", &id, "--agent", "claude"],
    );
    run.ok();
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE", "{show}");
    assert_eq!(show["timeline"][3]["agent"], "claude");
}

#[test]
fn a_configured_command_answers_in_markdown() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Markdown agent");
    std::fs::write(
        repo.join(".handoff.toml"),
        "[agents.commands]\nmdbot = [\"mdbot\", \"--quiet\"]\n",
    )
    .unwrap();
    let agents = stand_in(
        &env,
        "mdbot",
        "#!/bin/sh\ncat >/dev/null\nprintf '# Review\\n\\nFine plan.\\n\\n## Verdict\\n\\nAPPROVED\\n'\n",
    );
    let run = run_with(
        &env,
        &repo,
        &agents,
        &["run", "review", &id, "--agent", "mdbot"],
    );
    run.ok();
    assert!(!run.stderr.contains("unknown key"), "{}", run.stderr);
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "READY_FOR_IMPLEMENTATION", "{show}");
}

#[test]
fn failing_hanging_and_garbage_agents_store_nothing_and_keep_their_output() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Unreliable agents");
    let cases = [
        (
            "codex",
            "#!/bin/sh\ncat >/dev/null\necho 'stream error: rate limited' >&2\nexit 3\n",
            vec![],
            "rate limited",
        ),
        (
            "codex",
            "#!/bin/sh\ncat >/dev/null\necho 'lol'\n",
            vec![],
            "not a review",
        ),
        (
            "codex",
            "#!/bin/sh\ncat >/dev/null\nsleep 30\n",
            vec!["--timeout", "1s"],
            "did not answer within",
        ),
        (
            "claude",
            "#!/bin/sh\ncat >/dev/null\necho '{\"type\":\"result\",\"is_error\":true,\"result\":\"Credit balance is too low\"}'\n",
            vec!["--agent", "claude"],
            "Credit balance is too low",
        ),
    ];
    for (i, (name, script, extra, needle)) in cases.iter().enumerate() {
        let agents = stand_in(&env, &format!("{name}{i}"), script);
        // The stand-in must be found under the preset's program name.
        let named = agents.join(name);
        std::fs::rename(agents.join(format!("{name}{i}")), &named).unwrap();
        let mut args = vec!["run", "review", id.as_str()];
        args.extend(extra.iter().copied());
        let started = std::time::Instant::now();
        let run = run_with(&env, &repo, &agents, &args);
        let err = run.fails(1).to_owned();
        assert!(err.contains(needle), "case {i}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "case {i} waited out the agent"
        );
        let kept = err
            .split("kept in ")
            .nth(1)
            .map(|rest| rest.lines().next().unwrap().trim().to_owned())
            .unwrap_or_else(|| panic!("case {i}: no kept output named: {err}"));
        assert!(Path::new(&kept).exists(), "case {i}: {kept}");
        assert_eq!(artifacts(&env, &repo, &id), 1, "case {i} stored something");
    }
}
