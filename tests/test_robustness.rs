//! Concurrent writers, killed processes, malformed sessions and bad input.

use std::process::Stdio;

use crate::common::{BIN, Run, TestEnv, forge_session};

#[test]
fn eight_processes_appending_to_one_session_lose_nothing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Contended");
    let per_worker = 3;
    let scripts: Vec<String> = (0..8)
        .map(|worker| {
            format!(
                "for i in $(seq 1 {per_worker}); do \"{BIN}\" plan --session {id} -m \"worker {worker} plan $i\" || exit 1; done"
            )
        })
        .collect();
    env.run_concurrently(&repo, &scripts);
    let log = env.handoff(&repo, &["log", &id, "--json"]).json();
    let artifacts = log["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 1 + 8 * per_worker);
    for worker in 0..8 {
        for i in 1..=per_worker {
            let body = format!("worker {worker} plan {i}");
            assert!(
                artifacts.iter().any(|a| a["body"] == body.as_str()),
                "lost {body}"
            );
        }
    }
    // The chain is linear: one commit per artifact.
    let count = env.git_ok(
        &repo,
        &[
            "rev-list",
            "--count",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    assert_eq!(count, (1 + 8 * per_worker).to_string());
}

#[test]
fn concurrent_implementations_all_land_in_the_notes() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let base = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    let commit = env.commit_file(&repo, "a.txt", "a\n", "a");
    // Several rounds, each starting without a notes ref: the first writers race to create it.
    for round in 0..5 {
        let _ = env.git(&repo, &["update-ref", "-d", "refs/notes/handoff"]);
        let ids: Vec<String> = (0..8)
            .map(|i| env.plan(&repo, &format!("R{round} S{i}")))
            .collect();
        let children: Vec<_> = ids
            .iter()
            .map(|id| {
                let mut cmd = env.command(BIN, &repo);
                cmd.args([
                    "implement",
                    id,
                    "--force",
                    "-m",
                    "done",
                    "--range",
                    &format!("{base}..{commit}"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let note = env.git_ok(&repo, &["notes", "--ref=handoff", "show", &commit]);
        for id in &ids {
            assert!(
                note.contains(&format!("Handoff-Session: {id} implementation")),
                "round {round}: {id} missing:\n{note}"
            );
        }
        assert_eq!(note.lines().count(), 8);
    }
}

#[test]
fn a_killed_writer_leaves_fsck_clean_and_the_session_readable() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Killed");
    for round in 0..12u64 {
        let mut child = env
            .command(BIN, &repo)
            .args(["plan", "--session", &id, "-m", &format!("round {round}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(500 + round * 700));
        let _ = child.kill();
        let _ = child.wait();
        // A lock file left by a kill at the worst instant is stale; git's own tools behave the
        // same way. Remove it as a user would, after reading our error message.
        let lock = repo.join(format!(".git/refs/handoff/sessions/{id}.lock"));
        let _ = std::fs::remove_file(lock);
    }
    let fsck = env.git(&repo, &["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.code, 0, "{}{}", fsck.stdout, fsck.stderr);
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "AWAITING_CODEX_REVIEW");
    env.handoff(&repo, &["plan", "--session", &id, "-m", "after the storm"])
        .ok();
}

#[test]
fn malformed_and_future_sessions_are_reported_without_hiding_others() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let good = env.plan(&repo, "Good one");
    let bad = "SESSION-20251027-BAD00000-broken";
    forge_session(
        &env,
        &repo,
        &format!("refs/handoff/sessions/{bad}"),
        &[("session.toml", "schema_version = 1\nid = [unclosed\n")],
    );
    let future = "SESSION-20251027-FFFFFFFF-future";
    forge_session(
        &env,
        &repo,
        &format!("refs/handoff/sessions/{future}"),
        &[(
            "session.toml",
            &format!("schema_version = 2\nid = \"{future}\"\nshape = \"new\"\n"),
        )],
    );
    forge_session(
        &env,
        &repo,
        "refs/handoff/sessions/not-a-session",
        &[("x", "y")],
    );

    let run = env.handoff(&repo, &["list", "--json"]);
    let json = run.json();
    let ids: Vec<&str> = json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [good.as_str()]);
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{errors:?}");
    let text = serde_json::to_string(errors).unwrap();
    assert!(text.contains("malformed TOML"), "{text}");
    assert!(text.contains("written by a newer git-handoff"), "{text}");
    assert!(text.contains("odd ref name"), "{text}");
    // One line per session and per error, so that line tools can take the output apart.
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("    {\"id\":"))
            .count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("    {\"ref\":"))
            .count(),
        3,
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(bad) && run.stderr.contains(future),
        "{}",
        run.stderr
    );

    let err = env.handoff(&repo, &["show", future]).fails(1).to_owned();
    assert!(err.contains("newer git-handoff"), "{err}");
    let err = env
        .handoff(&repo, &["plan", "--session", bad, "-m", "x"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("session.toml") && err.contains("malformed TOML"),
        "{err}"
    );
}

#[test]
fn bad_input_exits_1_with_a_message_naming_the_problem() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Inputs");
    let err = env
        .handoff(
            &repo,
            &["review", &id, "--verdict", "approve", "-F", "missing.md"],
        )
        .fails(1)
        .to_owned();
    assert!(err.contains("missing.md"), "{err}");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let err = env
        .handoff(
            &repo,
            &["implement", &id, "-m", "x", "--range", "nope..HEAD"],
        )
        .fails(1)
        .to_owned();
    assert!(
        err.contains("bad range 'nope..HEAD'") && err.contains("'nope'"),
        "{err}"
    );
    let err = env
        .handoff(
            &repo,
            &["implement", &id, "-m", "x", "--range", "HEAD...HEAD"],
        )
        .fails(1)
        .to_owned();
    // Symmetric ranges mean what git means: HEAD...HEAD is empty.
    assert!(err.contains("'HEAD...HEAD' holds no commit"), "{err}");
    let err = env
        .handoff(&repo, &["implement", &id, "-m", "x", "--range=--all"])
        .fails(1)
        .to_owned();
    assert!(err.contains("is an option"), "{err}");
    let err = env.handoff(&repo, &["show", "ZZZZZZ"]).fails(1).to_owned();
    assert!(err.contains("no session matches 'ZZZZZZ'"), "{err}");
    let err = env
        .handoff(&repo, &["review", &id, "--verdict", "maybe", "-m", "x"])
        .fails(2)
        .to_owned();
    assert!(err.contains("maybe"), "{err}");
    let err = env
        .handoff(&repo, &["review", &id, "-m", "x"])
        .fails(1)
        .to_owned();
    assert!(err.contains("needs a verdict"), "{err}");
    std::fs::write(repo.join("f.json"), "[{\"title\": \"t\", \"priority\": 9}]").unwrap();
    let err = env
        .handoff(
            &repo,
            &[
                "validate",
                &id,
                "--verdict",
                "approve",
                "--findings",
                "f.json",
                "-m",
                "x",
            ],
        )
        .fails(1)
        .to_owned();
    assert!(
        err.contains("f.json") && err.contains("priority 9"),
        "{err}"
    );
    env.handoff(&repo, &["list", "--status", "bogus"]).fails(2);
    env.handoff(&repo, &["frobnicate"]).fails(2);
    let outside = env.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let err = env.handoff(&outside, &["list"]).fails(1).to_owned();
    assert!(err.contains("not a git repository"), "{err}");
}

#[test]
fn ambiguous_ids_list_the_candidates() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let a = env.plan(&repo, "Same slug");
    let b = env.plan(&repo, "Same slug");
    let err = env
        .handoff(&repo, &["show", "same-slug"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("ambiguous") && err.contains(&a) && err.contains(&b),
        "{err}"
    );
    let random = &a["SESSION-20251027-".len().."SESSION-20251027-".len() + 8];
    let shown = env
        .handoff(&repo, &["show", &random.to_lowercase(), "--json"])
        .json();
    assert_eq!(shown["id"], a.as_str());
    let err = env
        .handoff(&repo, &["show", "SESSION-2025"])
        .fails(1)
        .to_owned();
    assert!(err.contains("ambiguous"), "{err}");
}

/// What a user types is resolved from the ref names wherever git keeps them: loose files,
/// `packed-refs` after `git pack-refs` (or a clone, or `git gc`), or only a remote's tracking
/// refs; a lock file left beside a ref is no session.
#[test]
fn ids_resolve_from_loose_packed_and_tracking_refs() {
    let env = TestEnv::new();
    let origin = env.repo("origin");
    let alpha = env.plan(&origin, "Limits alpha");
    let beta = env.plan(&origin, "Limits beta");
    let forms = |id: &str| -> Vec<String> {
        let end = "SESSION-20251027-".len() + 8;
        let (without_slug, random) = (&id[..end], &id[end - 8..end]);
        vec![
            id.to_owned(),
            without_slug.to_owned(),
            random.to_owned(),
            random[..5].to_lowercase(),
        ]
    };
    let shows = |repo: &std::path::Path, typed: &str, id: &str| {
        let shown = env.handoff(repo, &["show", typed, "--json"]).json();
        assert_eq!(shown["id"], id, "{typed} in {}", repo.display());
    };
    // A stale lock file named like a session ref is not one.
    let sessions = origin.join(".git/refs/handoff/sessions");
    std::fs::write(sessions.join("SESSION-20251027-ZZZZZZZZ.lock"), "").unwrap();
    for id in [&alpha, &beta] {
        for typed in forms(id) {
            shows(&origin, &typed, id);
        }
    }
    let err = env
        .handoff(&origin, &["show", "ZZZZZZZZ"])
        .fails(1)
        .to_owned();
    assert!(err.contains("no session"), "{err}");

    env.git_ok(&origin, &["pack-refs", "--all"]);
    assert!(
        std::fs::read_dir(&sessions).unwrap().all(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".lock")),
        "every session ref is packed"
    );
    for id in [&alpha, &beta] {
        for typed in forms(id) {
            shows(&origin, &typed, id);
        }
    }
    // One loose again (a new artifact), the other still packed.
    env.handoff(
        &origin,
        &["review", &alpha, "--verdict", "approve", "-m", "Fine."],
    )
    .ok();
    shows(&origin, &forms(&alpha)[1], &alpha);
    shows(&origin, &forms(&beta)[1], &beta);
    let err = env
        .handoff(&origin, &["show", "SESSION-20"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("ambiguous") && err.contains(&alpha) && err.contains(&beta),
        "{err}"
    );

    // A clone that has them only as a remote's tracking refs.
    let clone = env.path("clone");
    env.git_ok(
        env.root.path(),
        &[
            "clone",
            "-q",
            origin.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    env.git_ok(
        &clone,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/handoff/sessions/*:refs/handoff-remotes/origin/sessions/*",
        ],
    );
    for id in [&alpha, &beta] {
        for typed in forms(id) {
            shows(&clone, &typed, id);
        }
    }
}

/// A damaged loose session ref is named once, with libgit2's reason said once and without its
/// class and code.
#[test]
fn a_corrupt_session_ref_is_reported_once() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let good = env.plan(&repo, "Good one");
    let bad = "SESSION-20251027-ABCD1234";
    std::fs::write(
        repo.join(".git/refs/handoff/sessions").join(bad),
        "garbage\n",
    )
    .unwrap();
    let err = env.handoff(&repo, &["show", bad]).fails(1).to_owned();
    assert_eq!(
        err.matches("corrupted loose reference file").count(),
        1,
        "{err}"
    );
    assert!(err.contains(bad) && !err.contains("class="), "{err}");
    // The other session is still there.
    let shown = env.handoff(&repo, &["show", &good, "--json"]).json();
    assert_eq!(shown["id"], good.as_str());
}

#[test]
fn missing_identity_is_a_clear_error() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.git_ok(&repo, &["config", "--unset", "user.name"]);
    env.git_ok(&repo, &["config", "--unset", "user.email"]);
    let err = env
        .handoff(&repo, &["plan", "-t", "Who", "-m", "x"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("user.name") && err.contains("user.email"),
        "{err}"
    );
}

#[test]
fn plain_git_notes_merge_and_rewrites_interoperate_with_our_fanout() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let base = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    // Enough commits that every 2-hex fanout directory is likely used.
    let mut script = String::from("blob\nmark :1\ndata 2\nx\n");
    for i in 0..300 {
        let from = if i == 0 {
            format!("from {base}\n")
        } else {
            String::new()
        };
        script.push_str(&format!(
            "commit refs/heads/main\ncommitter C <c@e> {} +0000\ndata 4\nc{:03}\n{from}M 100644 :1 f{i}\n",
            1_700_000_000 + i,
            i % 1000
        ));
    }
    let mut child = env
        .command("git", &repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    env.git_ok(&repo, &["reset", "-q", "--hard", "main"]);

    let id = env.plan(&repo, "Bulk");
    let range = format!("{base}..HEAD");
    let out = env
        .handoff(
            &repo,
            &[
                "implement",
                &id,
                "--force",
                "-m",
                "bulk",
                "--range",
                &range,
                "--json",
            ],
        )
        .json();
    assert_eq!(out["notes_added"], 300);
    let listed = env.git_ok(&repo, &["notes", "--ref=handoff", "list"]);
    assert_eq!(listed.lines().count(), 300);

    // Plain git edits our tree (it may re-fanout it), then we write again: no duplicates.
    let head = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    env.git_ok(
        &repo,
        &[
            "notes",
            "--ref=handoff",
            "append",
            "-m",
            "Reviewed-by: a human",
            &head,
        ],
    );
    env.handoff(
        &repo,
        &["validate", &id, "--verdict", "approve", "-m", "ok"],
    )
    .ok();
    let note = env.git_ok(&repo, &["notes", "--ref=handoff", "show", &head]);
    let expected = [
        format!("Handoff-Session: {id} implementation"),
        format!("Handoff-Session: {id} validation"),
        "Reviewed-by: a human".to_owned(),
    ];
    assert_eq!(
        note.lines().collect::<Vec<_>>(),
        expected,
        "a sorted set of lines"
    );
    assert_eq!(
        env.git_ok(&repo, &["notes", "--ref=handoff", "list"])
            .lines()
            .count(),
        300
    );

    // A diverged copy merges with git's own cat_sort_uniq strategy.
    env.git_ok(
        &repo,
        &["update-ref", "refs/notes/other", "refs/notes/handoff~1"],
    );
    env.git_ok(
        &repo,
        &[
            "notes",
            "--ref=other",
            "append",
            "-m",
            "Handoff-Session: SESSION-20251027-OTHER000 note",
            &head,
        ],
    );
    env.git_ok(
        &repo,
        &[
            "notes",
            "--ref=handoff",
            "merge",
            "-s",
            "cat_sort_uniq",
            "refs/notes/other",
        ],
    );
    let merged = env.git_ok(&repo, &["notes", "--ref=handoff", "show", &head]);
    assert!(
        merged.contains("SESSION-20251027-OTHER000") && merged.contains("validation"),
        "{merged}"
    );
    let why = env.handoff(&repo, &["why", &head, "--json"]).json();
    assert_eq!(why["sessions"][0]["id"], id.as_str());
    assert_eq!(env.git(&repo, &["fsck", "--strict"]).code, 0);
}

#[test]
fn a_stale_lock_file_is_named_in_the_error() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Locked");
    let lock = repo.join(format!(".git/refs/handoff/sessions/{id}.lock"));
    std::fs::write(&lock, "").unwrap();
    let err = env
        .handoff(&repo, &["plan", "--session", &id, "-m", "blocked"])
        .fails(1)
        .to_owned();
    assert!(err.contains("is locked") && err.contains(".lock"), "{err}");
    std::fs::remove_file(&lock).unwrap();
    env.handoff(&repo, &["plan", "--session", &id, "-m", "unblocked"])
        .ok();
}

#[test]
fn network_commands_run_in_the_helper_beside_or_on_path_and_say_what_is_missing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    // git-handoff alone in a directory: the helper is neither beside it nor on PATH.
    let alone = env.path("alone");
    std::fs::create_dir_all(&alone).unwrap();
    let exe = alone.join("git-handoff");
    std::fs::copy(BIN, &exe).unwrap();
    let run = |args: &[&str], path: Option<&str>| {
        let mut command = env.command(exe.to_str().unwrap(), &repo);
        command.args(args).stdin(Stdio::null());
        if let Some(path) = path {
            command.env("PATH", path);
        }
        Run::from(command.output().unwrap())
    };
    let system_path = Some("/usr/local/bin:/usr/bin:/bin");
    for args in [
        &["mcp"][..],
        &["sync"],
        &["search", "--remote", "redis"],
        &["annotate", "--range", "HEAD..HEAD", "--format", "sarif"],
    ] {
        let stderr = run(args, system_path).fails(1).to_owned();
        assert!(
            stderr.contains("runs in git-handoff-net, which was not found")
                && stderr.contains("cargo install"),
            "{args:?}: {stderr}"
        );
    }
    // Other commands need no helper.
    run(&["list", "--json"], system_path).ok();
    // On PATH (the test environment's PATH holds the built executables): handed over, so the
    // error is the command's own.
    let stderr = run(&["search", "--remote", "redis"], None).stderr;
    assert!(!stderr.contains("was not found"), "{stderr}");
    assert!(stderr.to_lowercase().contains("byterover"), "{stderr}");
}

/// A write from an agent's read-only sandbox (as `codex exec` runs commands) is the user's
/// situation, exit 1 with the way out (the MCP tools), never exit 255 as a bug. The sandbox is a
/// read-only bind mount of `.git` in a user namespace (`unshare`), as Codex's sandbox is.
#[test]
fn a_write_from_a_read_only_sandbox_points_to_the_mcp_tools() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Read-only");
    let probe = env.command("unshare", &repo).args(["-rm", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: this machine cannot make a user namespace (unshare -rm)");
        return;
    }
    let git_dir = repo.join(".git");
    let git_dir = git_dir.to_str().unwrap();
    let script = format!(
        "mount --bind {git_dir} {git_dir} && mount -o remount,bind,ro {git_dir} {git_dir} && exec \"$0\" review {id} --verdict approve -m 'from the sandbox'"
    );
    let run = Run::from(
        env.command("unshare", &repo)
            .args(["-rm", "sh", "-c", &script, BIN])
            .output()
            .unwrap(),
    );
    let err = run.fails(1);
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(
        err.contains("MCP tools") && err.contains("git handoff mcp"),
        "{err}"
    );
    // Nothing was recorded.
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "AWAITING_CODEX_REVIEW");
}
