//! The four steps from a fresh repository, read back with plain git.

use crate::common::TestEnv;

#[test]
fn four_steps_from_a_fresh_repository_and_plain_git_reads_everything() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Rate limiting");
    assert!(
        id.starts_with("SESSION-20251027-") && id.ends_with("-rate-limiting"),
        "{id}"
    );

    let findings = repo.join("findings.json");
    std::fs::write(&findings, r#"[{"title":"Key by user","body":"NAT","priority":1,"path":"src/a.rs","start_line":1,"end_line":2}]"#).unwrap();
    env.handoff(
        &repo,
        &[
            "review",
            &id,
            "--verdict",
            "approve-with-changes",
            "-m",
            "LGTM with changes",
            "--findings",
            findings.to_str().unwrap(),
        ],
    )
    .ok();
    let c1 = env.commit_file(&repo, "src/a.rs", "fn a() {}\n", "Add a");
    let c2 = env.commit_file(&repo, "src/b.rs", "fn b() {}\n", "Add b");
    let out = env
        .handoff(&repo, &["implement", &id, "-m", "Built a and b", "--json"])
        .json();
    assert_eq!(out["status"], "READY_FOR_CODEX_VALIDATION");
    assert_eq!(out["notes_added"], 2);
    env.handoff(
        &repo,
        &["validate", &id, "--verdict", "approve", "-m", "Good"],
    )
    .ok();
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE");
    assert_eq!(show["timeline"].as_array().unwrap().len(), 4);

    // Plain git reads what we wrote.
    let note = env.git_ok(&repo, &["notes", "--ref=handoff", "show", &c1]);
    assert_eq!(
        note,
        format!("Handoff-Session: {id} implementation\nHandoff-Session: {id} validation")
    );
    let log = env.git_ok(
        &repo,
        &["log", "--notes=handoff", "--format=%H%n%N", "-1", &c2],
    );
    assert!(
        log.contains(&format!("Handoff-Session: {id} implementation")),
        "{log}"
    );
    let files = env.git_ok(
        &repo,
        &[
            "ls-tree",
            "-r",
            "--name-only",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    assert_eq!(
        files
            .lines()
            .filter(|l| l.starts_with("artifacts/"))
            .count(),
        4,
        "{files}"
    );
    assert!(files.lines().any(|l| l == "session.toml"));
    let msg = env.git_ok(
        &repo,
        &[
            "log",
            "-1",
            "--format=%s",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    assert_eq!(msg, "validation: Rate limiting [COMPLETE]");
    let reflog = env.git_ok(
        &repo,
        &[
            "reflog",
            "show",
            "--format=%gs",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    assert!(
        reflog.lines().all(|l| l.starts_with("handoff:")) && reflog.lines().count() == 4,
        "{reflog}"
    );
    assert_eq!(env.git(&repo, &["fsck", "--strict"]).code, 0);
}

#[test]
fn bodies_come_from_file_stdin_and_messages() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    std::fs::write(repo.join("plan.md"), "# From a file\n").unwrap();
    let id = env
        .handoff(&repo, &["plan", "-t", "File plan", "-F", "plan.md"])
        .ok()
        .trim()
        .to_owned();
    let run = env.handoff_stdin(&repo, &["plan", "--session", &id], "# From stdin\n");
    run.ok();
    let run = env.handoff(
        &repo,
        &["plan", "--session", &id, "-m", "para one", "-m", "para two"],
    );
    run.ok();
    let log = env.handoff(&repo, &["log", &id, "--json"]).json();
    let bodies: Vec<&str> = log["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["# From a file", "# From stdin", "para one\n\npara two"]
    );
    let iterations: Vec<u64> = log["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["iteration"].as_u64().unwrap())
        .collect();
    assert_eq!(iterations, [1, 2, 3]);
}

#[test]
fn empty_plan_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let err = env
        .handoff(&repo, &["plan", "-t", "Nothing"])
        .fails(1)
        .to_owned();
    assert!(err.contains("the plan is empty"), "{err}");
    assert_eq!(env.git_ok(&repo, &["for-each-ref", "refs/handoff/"]), "");
}

#[test]
fn invalid_transition_names_status_and_next_command_and_force_records() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Guarded");
    let err = env
        .handoff(&repo, &["validate", &id, "--verdict", "approve", "-m", "x"])
        .fails(1)
        .to_owned();
    assert!(err.contains("AWAITING_CODEX_REVIEW"), "{err}");
    // The short ID (the random part), which every command resolves.
    let short = id.split('-').nth(2).unwrap();
    assert!(
        err.contains(&format!("git handoff review {short}")),
        "{err}"
    );
    let err = env
        .handoff(&repo, &["pattern", &id, "-m", "x"])
        .fails(1)
        .to_owned();
    assert!(err.contains("cannot record a pattern"), "{err}");
    let out = env
        .handoff(
            &repo,
            &[
                "implement",
                &id,
                "-m",
                "skipped review",
                "--force",
                "--json",
            ],
        )
        .json();
    assert_eq!(out["status"], "READY_FOR_CODEX_VALIDATION");
    assert_eq!(out["artifact"]["forced"], true);
    let out = env
        .handoff(&repo, &["abandon", &id, "-m", "superseded", "--json"])
        .json();
    assert_eq!(out["status"], "ABANDONED");
    let err = env
        .handoff(
            &repo,
            &["review", &id, "--verdict", "approve", "-m", "late"],
        )
        .fails(1)
        .to_owned();
    assert!(err.contains("ABANDONED"), "{err}");
}

#[test]
fn changes_requested_loops_back_to_a_new_plan_iteration() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Loop");
    env.handoff(
        &repo,
        &["review", &id, "--verdict", "request-changes", "-m", "No"],
    )
    .ok();
    let err = env
        .handoff(&repo, &["implement", &id, "-m", "x"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("CHANGES_REQUESTED") && err.contains("plan --session"),
        "{err}"
    );
    env.handoff(
        &repo,
        &["plan", "--session", &id, "-m", "## Plan v2\nBetter."],
    )
    .ok();
    let diff = env.handoff(&repo, &["diff", &id]).ok().to_owned();
    assert!(
        diff.contains("-Do the thing.") && diff.contains("+Better."),
        "{diff}"
    );
    let diff12 = env
        .handoff(&repo, &["diff", &id, "1", "2", "--json"])
        .json();
    assert!(diff12["diff"].as_str().unwrap().contains("+## Plan v2"));
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "AWAITING_CODEX_REVIEW");
    assert_eq!(show["iteration"], 2);
}

#[test]
fn codex_review_output_object_is_accepted_as_findings() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.commit_file(&repo, "src/rate.ts", "x\n", "rate");
    let id = env.plan(&repo, "Codex object");
    let abs = repo.join("src/rate.ts");
    let review = serde_json::json!({
        "findings": [{"title": "[P1] Hybrid key", "body": "NAT", "confidence_score": 0.5, "priority": 1,
            "code_location": {"absolute_file_path": abs, "line_range": {"start": 2, "end": 4}}}],
        "overall_correctness": "patch is incorrect",
        "overall_explanation": "Use a hybrid key."
    });
    std::fs::write(repo.join("review.json"), review.to_string()).unwrap();
    let out = env
        .handoff(
            &repo,
            &["review", &id, "--findings", "review.json", "--json"],
        )
        .json();
    assert_eq!(out["artifact"]["verdict"], "request-changes");
    assert_eq!(out["artifact"]["body"], "Use a hybrid key.");
    let f = &out["artifact"]["findings"][0];
    assert_eq!(f["path"], "src/rate.ts");
    assert_eq!(
        (f["start_line"].as_u64(), f["end_line"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(f["confidence"], 0.5);
    assert_eq!(out["status"], "CHANGES_REQUESTED");
}

#[test]
fn context_for_validation_embeds_the_real_diff_and_caps_it() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Diffed");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let big: String = (0..400).map(|i| format!("line {i}\n")).collect();
    env.commit_file(&repo, "big.txt", &big, "Add big");
    env.handoff(&repo, &["implement", &id, "-m", "added big.txt"])
        .ok();
    let prompt = env
        .handoff(&repo, &["context", &id, "--for", "validate"])
        .ok()
        .to_owned();
    assert!(
        prompt.starts_with(&format!("**[{id}] CONTEXT FOR CODEX VALIDATION")),
        "{prompt}"
    );
    assert!(prompt.contains("+line 399"), "diff missing");
    assert!(prompt.contains("diff --git a/big.txt b/big.txt"));
    assert!(
        prompt
            .trim_end()
            .ends_with(&format!("Session ID for retrieval: {id}"))
    );
    let capped = env
        .handoff(
            &repo,
            &[
                "context",
                &id,
                "--for",
                "validate",
                "--max-diff-bytes",
                "500",
                "--json",
            ],
        )
        .json();
    assert_eq!(capped["diff_truncated"], true);
    let text = capped["prompt"].as_str().unwrap();
    assert!(
        text.contains("[diff truncated: showing") && !text.contains("+line 399"),
        "{text}"
    );
    let review_ctx = env
        .handoff(&repo, &["context", &id, "--for", "review"])
        .ok()
        .to_owned();
    assert!(review_ctx.contains("## CLAUDE PLAN") && !review_ctx.contains("diff --git"));
}

#[test]
fn why_answers_from_notes_and_from_trailers() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Why");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let c = env.commit_file(&repo, "a.txt", "a\n", "Add a");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let why = env.handoff(&repo, &["why", &c, "--json"]).json();
    assert_eq!(why["sessions"][0]["id"], id.as_str());
    assert_eq!(why["sessions"][0]["source"], "note");
    assert_eq!(why["sessions"][0]["title"], "Why");
    assert_eq!(why["sessions"][0]["verdicts"][0]["verdict"], "approve");
    let human = env.handoff(&repo, &["why", &c]).ok().to_owned();
    assert!(
        human.contains(&id) && human.contains("READY_FOR_CODEX_VALIDATION"),
        "{human}"
    );

    std::fs::write(repo.join("b.txt"), "b\n").unwrap();
    env.git_ok(&repo, &["add", "b.txt"]);
    env.git_ok(
        &repo,
        &[
            "commit",
            "-q",
            "-m",
            &format!("Add b\n\nHandoff-Session: {id}"),
        ],
    );
    let why = env.handoff(&repo, &["why", "HEAD", "--json"]).json();
    assert_eq!(why["sessions"][0]["source"], "trailer");
    let none = env.handoff(&repo, &["why", "HEAD~2", "--json"]).json();
    assert_eq!(none["sessions"].as_array().unwrap().len(), 0);
}

#[test]
fn secrets_are_redacted_before_any_object_is_written() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    let run = env.handoff(
        &repo,
        &[
            "plan",
            "-t",
            "Deploy",
            "-m",
            &format!("Use token {token} to deploy"),
        ],
    );
    let id = run.ok().trim().to_owned();
    assert!(
        run.stderr.contains("redacted 1 secret") && run.stderr.contains("github-token"),
        "{}",
        run.stderr
    );
    let all = env.git_ok(
        &repo,
        &["log", "-p", &format!("refs/handoff/sessions/{id}")],
    );
    assert!(
        !all.contains(token) && all.contains("[REDACTED:github-token]"),
        "{all}"
    );
    let kept = env.handoff(
        &repo,
        &[
            "plan",
            "--session",
            &id,
            "--allow-secrets",
            "-m",
            &format!("keep {token}"),
        ],
    );
    kept.ok();
    let all = env.git_ok(
        &repo,
        &["log", "-p", &format!("refs/handoff/sessions/{id}")],
    );
    assert!(all.contains(token));
}

#[test]
fn terminal_escapes_in_stored_text_are_neutralised_when_printed() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env
        .handoff(
            &repo,
            &[
                "plan",
                "-t",
                "Evil \u{1b}]0;owned\u{7} title",
                "-m",
                "body \u{1b}[2J cleared",
            ],
        )
        .ok()
        .trim()
        .to_owned();
    for args in [
        vec!["show", id.as_str()],
        vec!["list"],
        vec!["log", id.as_str()],
        vec!["context", id.as_str(), "--for", "review"],
    ] {
        let out = env.handoff(&repo, &args).ok().to_owned();
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}'),
            "{args:?}: {out:?}"
        );
    }
    let json = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(json["title"], "Evil \u{1b}]0;owned\u{7} title");
}

#[test]
fn the_editor_opens_on_a_terminal_and_keeps_markdown_headings() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let editor = env.path("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\n{ printf '## Plan from the editor\\n\\nbody line\\n'; cat \"$1\"; } > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // A pseudo-terminal on stdin, as when a person runs the command.
    let out = env
        .command("python3", &repo)
        .env("GIT_EDITOR", &editor)
        .args([
            "-c",
            "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))",
            crate::common::BIN,
            "plan",
            "-t",
            "Edited",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let list = env.handoff(&repo, &["list", "--json"]).json();
    let id = list["sessions"][0]["id"].as_str().unwrap().to_owned();
    let log = env.handoff(&repo, &["log", &id, "--json"]).json();
    assert_eq!(
        log["artifacts"][0]["body"],
        "## Plan from the editor\n\nbody line"
    );
}

#[test]
fn a_large_range_is_noted_through_one_pack_that_git_fsck_accepts() {
    use std::io::Write as _;
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Many commits");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    // 300 commits (more than the 256 from which notes are written as one pack), by fast-import.
    let mut script = String::new();
    for i in 0..300 {
        let from = if i == 0 {
            "from refs/heads/main^0\n"
        } else {
            ""
        };
        script.push_str(&format!(
            "commit refs/heads/main\ncommitter A <a@example.com> {} +0000\ndata <<END\nc{i}\nEND\n{from}M 100644 inline f.txt\ndata <<END\n{i}\nEND\n\n",
            1_761_559_300 + i,
        ));
    }
    let mut child = env
        .command("git", &repo)
        .args(["fast-import", "--quiet", "--force"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    env.git_ok(&repo, &["reset", "--quiet", "--hard", "main"]);
    let loose = |env: &TestEnv| {
        let counts = env.git_ok(&repo, &["count-objects", "-v"]);
        counts
            .lines()
            .find_map(|l| l.strip_prefix("count: "))
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    let before = loose(&env);
    let out = env
        .handoff(&repo, &["implement", &id, "-m", "Built", "--json"])
        .json();
    assert_eq!(out["notes_added"], 300);
    // The notes trees and blobs went into a pack: only the session's own objects are loose.
    assert!(loose(&env) - before < 20, "{} loose", loose(&env) - before);
    env.git_ok(&repo, &["fsck", "--strict", "--no-dangling"]);
    env.handoff(
        &repo,
        &["validate", &id, "--verdict", "approve", "-m", "Good"],
    )
    .ok();
    env.git_ok(&repo, &["fsck", "--strict", "--no-dangling"]);
    let middle = env.git_ok(&repo, &["rev-parse", "main~150"]);
    assert_eq!(
        env.git_ok(&repo, &["notes", "--ref=handoff", "show", &middle]),
        format!("Handoff-Session: {id} implementation\nHandoff-Session: {id} validation")
    );
}

#[test]
fn context_diffs_read_gitattributes_from_the_work_tree_and_the_index() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Attributes");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(&repo, "data/table.txt", "line one\n", "Add data");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let prompt = || {
        env.handoff(&repo, &["context", &id, "--for", "validate"])
            .ok()
            .to_owned()
    };
    assert!(prompt().contains("+line one"));
    // An untracked .gitattributes in the file's directory makes its diff binary, as it does
    // for git diff.
    std::fs::write(repo.join("data/.gitattributes"), "*.txt -diff\n").unwrap();
    let git_diff = env.git_ok(&repo, &["diff", "HEAD~1..HEAD"]);
    assert!(git_diff.contains("Binary files"), "{git_diff}");
    let with_file = prompt();
    assert!(
        with_file.contains("Binary files") && !with_file.contains("+line one"),
        "{with_file}"
    );
    // Staged, then gone from the work tree: still read, from the index.
    env.git_ok(&repo, &["add", "data/.gitattributes"]);
    std::fs::remove_file(repo.join("data/.gitattributes")).unwrap();
    let from_index = prompt();
    assert!(from_index.contains("Binary files"), "{from_index}");
}

#[test]
fn a_commit_whose_tree_names_a_dot_dot_directory_is_diffed_without_a_panic() {
    use crate::common::{hash_object, mktree};
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Dots");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    // git mktree writes a directory named `..` (git fsck refuses it, a local commit keeps it).
    let blob = hash_object(&env, &repo, b"inside\n");
    let inner = mktree(&env, &repo, &[format!("100644 blob {blob}\tf.txt")]);
    let root = mktree(&env, &repo, &[format!("040000 tree {inner}\t..")]);
    let commit = env.git_ok(&repo, &["commit-tree", &root, "-p", "HEAD", "-m", "Dots"]);
    env.git_ok(&repo, &["update-ref", "refs/heads/main", &commit]);
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let prompt = env
        .handoff(&repo, &["context", &id, "--for", "validate"])
        .ok()
        .to_owned();
    assert!(prompt.contains("+inside"), "{prompt}");
}

/// After a pull the same note line is in our notes and the remote's: `why` names each kind of
/// artifact once (it said "implementation, implementation, implementation").
#[test]
fn why_names_a_note_once_when_a_remote_holds_it_too() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(a, "Shared");
    env.handoff(a, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let c = env.commit_file(a, "a.txt", "a\n", "Add a");
    env.handoff(a, &["implement", &id, "-m", "done"]).ok();
    env.git_ok(a, &["push", "-q", "origin", "HEAD"]);
    env.handoff(a, &["push", "origin"]).ok();
    env.git_ok(b, &["pull", "-q", "origin", "main"]);
    env.handoff(b, &["pull", "origin"]).ok();
    env.git_ok(b, &["fetch", "-q", "origin"]);
    let why = env.handoff(b, &["why", &c, "--json"]).json();
    assert_eq!(why["sessions"].as_array().unwrap().len(), 1, "{why}");
    assert_eq!(
        why["sessions"][0]["kinds"],
        serde_json::json!(["implementation"]),
        "{why}"
    );
    let human = env.handoff(b, &["why", &c]).ok().to_owned();
    assert!(human.contains("(note: implementation)"), "{human}");
}

/// Two reviews with the same prose but other findings and verdicts are not "the same":
/// `diff --kind review` shows what changed in them.
#[test]
fn diff_of_reviews_shows_their_findings_and_verdicts() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Reviewed twice");
    let review = |verdict: &str, findings: serde_json::Value| {
        std::fs::write(repo.join("f.json"), findings.to_string()).unwrap();
        env.handoff(
            &repo,
            &[
                "review",
                &id,
                "--verdict",
                verdict,
                "-m",
                "Same words.",
                "--findings",
                "f.json",
            ],
        )
        .ok();
    };
    review(
        "request-changes",
        serde_json::json!([{"title": "Add a fallback", "body": "Redis may be down.", "priority": 1}]),
    );
    env.handoff(&repo, &["plan", "--session", &id, "-m", "With a fallback."])
        .ok();
    review(
        "approve",
        serde_json::json!([{"title": "Name the metric", "body": "", "priority": 3}]),
    );
    let diff = env
        .handoff(&repo, &["diff", &id, "--kind", "review"])
        .ok()
        .to_owned();
    assert!(diff.contains("-Verdict: request-changes"), "{diff}");
    assert!(diff.contains("+Verdict: approve"), "{diff}");
    assert!(diff.contains("-- [P1] Add a fallback"), "{diff}");
    assert!(diff.contains("+- [P3] Name the metric"), "{diff}");
    assert!(!diff.contains("-Same words."), "{diff}");
}
