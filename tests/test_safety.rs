//! Nothing lost, nothing forged: notes kept byte for byte, sizes symmetric, hostile stored data
//! validated on decode, bad input refused (docs/format.md).

use std::io::Write;
use std::process::Stdio;

use crate::common::{Run, TestEnv};

/// Writes `bytes` as a blob with plain git and returns its OID.
fn hash_object(env: &TestEnv, repo: &std::path::Path, bytes: &[u8]) -> String {
    let mut child = env
        .command("git", repo)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The raw bytes of the note on `commit` in `refs/notes/handoff`.
fn note_bytes(env: &TestEnv, repo: &std::path::Path, commit: &str) -> Vec<u8> {
    let out = env
        .command("git", repo)
        .args(["notes", "--ref=handoff", "show", commit])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn notes_over_one_mib_and_foreign_bytes_are_kept_whole() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Big notes");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let commit = env.commit_file(&repo, "a.txt", "a\n", "a");
    // A person's own note on our ref: 2 MiB of lines, one of them not UTF-8, the last one
    // past the old 1 MiB cut.
    let mut foreign = Vec::new();
    for i in 0..40_000 {
        foreign.extend_from_slice(format!("line {i:06} of a long human note.\n").as_bytes());
    }
    foreign.extend_from_slice(b"latin-1 caf\xe9 \xff\xfe\n");
    foreign.extend_from_slice(b"zz the very last line\n");
    assert!(foreign.len() > 1024 * 1024);
    let blob = hash_object(&env, &repo, &foreign);
    env.git_ok(
        &repo,
        &["notes", "--ref=handoff", "add", "-C", &blob, &commit],
    );

    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let note = note_bytes(&env, &repo, &commit);
    let ours = format!("Handoff-Session: {id} implementation\n");
    // Every foreign line is still there, byte for byte, and ours was added.
    let mut expected: Vec<&[u8]> = foreign.split_inclusive(|b| *b == b'\n').collect();
    expected.push(ours.as_bytes());
    expected.sort();
    let got: Vec<&[u8]> = note.split_inclusive(|b| *b == b'\n').collect();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the note was altered");
    assert!(note.windows(6).any(|w| w == b"caf\xe9 \xff"));
    env.git_ok(&repo, &["fsck", "--strict"]);
}

/// Adds `path` with `content` to a session's tree in a new commit, with plain git plumbing, as
/// an older clone or a hostile remote could have written it.
fn add_to_session(env: &TestEnv, repo: &std::path::Path, id: &str, path: &str, content: &[u8]) {
    let refname = format!("refs/handoff/sessions/{id}");
    let index = env.path("forge-index");
    let _ = std::fs::remove_file(&index);
    let blob = hash_object(env, repo, content);
    let git_index = |args: &[&str]| {
        let out = env
            .command("git", repo)
            .env("GIT_INDEX_FILE", &index)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    git_index(&["read-tree", &refname]);
    git_index(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{blob},{path}"),
    ]);
    let tree = git_index(&["write-tree"]);
    let commit = env.git_ok(
        repo,
        &["commit-tree", &tree, "-p", &refname, "-m", "forged"],
    );
    env.git_ok(repo, &["update-ref", &refname, &commit]);
}

#[test]
fn oversized_bodies_are_refused_at_write_naming_the_limit() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let big = "word ".repeat(2 * 1024 * 1024); // 10 MiB
    std::fs::write(repo.join("big.md"), &big).unwrap();
    let err = env
        .handoff(&repo, &["plan", "-t", "Huge", "-F", "big.md"])
        .fails(1)
        .to_owned();
    assert!(err.contains("8 MiB"), "{err}");
    let id = env.plan(&repo, "Normal");
    let err = env
        .handoff(
            &repo,
            &["review", &id, "--verdict", "approve", "-F", "big.md"],
        )
        .fails(1)
        .to_owned();
    assert!(err.contains("8 MiB"), "{err}");
    // Nothing was written: the session still has its one plan and can go on.
    let log = env.handoff(&repo, &["log", &id, "--json"]).json();
    assert_eq!(log["artifacts"].as_array().unwrap().len(), 1);
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
}

#[test]
fn one_unreadable_artifact_hides_nothing_else() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Partly broken");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    // An artifact from a newer writer, and one with a hostile range head.
    add_to_session(
        &env,
        &repo,
        &id,
        "artifacts/01JC0000000000000000000000-review.md",
        b"+++\nschema_version = 9\n+++\nfuture\n",
    );
    let hostile = format!(
        "+++\nschema_version = 1\nid = \"01JC0000000000000000000001\"\nsession = \"{id}\"\nkind = \"implementation\"\nagent = \"x\"\ncreated = \"2025-10-27T11:00:00Z\"\nauthor = \"x\"\niteration = 1\nstatus = \"READY_FOR_CODEX_VALIDATION\"\n[range]\nhead = \"a\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\"\n+++\nbody\n"
    );
    add_to_session(
        &env,
        &repo,
        &id,
        "artifacts/01JC0000000000000000000001-implementation.md",
        hostile.as_bytes(),
    );
    let show = env.handoff(&repo, &["show", &id]);
    let out = show.ok();
    assert!(out.contains("READY_FOR_IMPLEMENTATION"), "{out}");
    assert!(
        out.contains("01JC0000000000000000000000-review.md"),
        "{out}"
    );
    assert!(out.contains("newer git-handoff"), "{out}");
    assert!(out.contains("not a full object name"), "{out}");
    let json = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(json["timeline"].as_array().unwrap().len(), 2);
    assert_eq!(json["unreadable"].as_array().unwrap().len(), 2);
    env.handoff(&repo, &["log", &id]).ok();
    env.handoff(&repo, &["context", &id, "--for", "implement"])
        .ok();
    env.handoff(&repo, &["list"]).ok();
    // The session still accepts new artifacts, and keeps the files it could not read.
    env.commit_file(&repo, "a.txt", "a\n", "a");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let tree = env.git_ok(
        &repo,
        &[
            "ls-tree",
            "--name-only",
            &format!("refs/handoff/sessions/{id}:artifacts"),
        ],
    );
    assert_eq!(tree.lines().count(), 5, "{tree}");
}

#[test]
fn stored_text_cannot_forge_rows_or_escape_the_terminal() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(
        &repo,
        "Real\nSESSION-20251027-FORGED00-fake  COMPLETE  \u{1b}]0;pwn\u{7}",
    );
    let list = env.handoff(&repo, &["list"]).ok().to_owned();
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(!list.contains('\u{1b}'), "{list}");
    let subject = env.git_ok(
        &repo,
        &[
            "log",
            "-1",
            "--format=%s",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    assert!(
        !subject.contains('\u{1b}') && !subject.contains('\u{7}'),
        "{subject:?}"
    );
}

/// Builds a session commit by hand from `ls-tree`-style lines (mode, type, oid, name) with
/// `git mktree`, which accepts what `git fsck --strict` refuses.
fn mktree(env: &TestEnv, repo: &std::path::Path, lines: &[String]) -> String {
    let mut child = env
        .command("git", repo)
        .args(["mktree", "--missing"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_hostile_remote_cannot_make_fsck_failing_objects_reachable() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["evil", "victim"]);
    let (evil, victim) = (&clones[0], &clones[1]);
    let good = env.plan(evil, "Good one");
    let good_tree = env.git_ok(
        evil,
        &[
            "rev-parse",
            &format!("refs/handoff/sessions/{good}^{{tree}}"),
        ],
    );
    let meta = env.git_ok(evil, &["rev-parse", &format!("{good_tree}:session.toml")]);
    let artifacts = env.git_ok(evil, &["rev-parse", &format!("{good_tree}:artifacts")]);
    let config = hash_object(&env, evil, b"[core]\n\tfsmonitor = evil\n");
    let dotgit = mktree(&env, evil, &[format!("100644 blob {config}\tconfig")]);
    // Each a copy of the good session plus one entry fsck refuses or our layout forbids.
    let extras = [
        ("DOTGIT00", format!("040000 tree {dotgit}\t.git")),
        ("SYMLINK0", format!("120000 blob {config}\tsession.link")),
        ("EXTRA000", format!("100644 blob {config}\tREADME")),
    ];
    for (tag, extra) in &extras {
        let tree = mktree(
            &env,
            evil,
            &[
                format!("100644 blob {meta}\tsession.toml"),
                format!("040000 tree {artifacts}\tartifacts"),
                extra.clone(),
            ],
        );
        let commit = env.git_ok(evil, &["commit-tree", &tree, "-m", "forged"]);
        env.git_ok(
            evil,
            &[
                "update-ref",
                &format!("refs/handoff/sessions/SESSION-20251027-{tag}-x"),
                &commit,
            ],
        );
    }
    // The bare remote accepts anything (no receive.fsckObjects), as a careless host would.
    env.git_ok(
        evil,
        &["push", "-q", "origin", "refs/handoff/*:refs/handoff/*"],
    );
    let _ = bare;

    let run = env.handoff(victim, &["pull", "--json"]);
    let report = run.json();
    assert_eq!(report["created"], serde_json::json!([good]), "{report}");
    let rejected = serde_json::to_string(&report["rejected"]).unwrap();
    for (tag, _) in &extras {
        assert!(rejected.contains(tag), "{tag} not reported: {rejected}");
    }
    assert!(
        rejected.contains("hasDotgit") || rejected.contains(".git"),
        "{rejected}"
    );
    // Nothing that fails fsck is in the repository, reachable or not.
    env.git_ok(victim, &["fsck", "--strict", "--no-dangling"]);
    // The refused sessions are listed as errors, never as sessions; nothing was copied into
    // the local namespace (the good one is read from its tracking ref).
    let list = env.handoff(victim, &["list", "--json"]).json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["sessions"][0]["id"], good.as_str());
    let local = env.git_ok(
        victim,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/handoff/sessions/",
        ],
    );
    assert_eq!(local, "", "{local}");
    // And a push from the victim to a strict host goes through.
    env.git_ok(&bare, &["config", "receive.fsckObjects", "true"]);
    env.plan(victim, "After the attack");
    env.handoff(victim, &["push"]).ok();
}

#[test]
fn tracking_refs_of_different_remotes_never_collide() {
    let env = TestEnv::new();
    let (_one, clones) = env.bare_with_clones("one", &["a"]);
    let a = &clones[0];
    let (two, _) = env.bare_with_clones("two", &[]);
    let id_one = env.plan(a, "For one");
    env.handoff(a, &["push"]).ok();
    // A remote named team/a and one named team_a: both pulled into a third clone.
    let victim = env.repo("victim");
    env.git_ok(
        &victim,
        &[
            "remote",
            "add",
            "team/a",
            env.path("one.git").to_str().unwrap(),
        ],
    );
    env.git_ok(&victim, &["remote", "add", "team_a", two.to_str().unwrap()]);
    // two.git gets a different session and a stray notes ref.
    let b = env.path("b");
    env.git_ok(
        env.root.path(),
        &["clone", "-q", two.to_str().unwrap(), b.to_str().unwrap()],
    );
    env.git_ok(&b, &["config", "user.name", "B"]);
    env.git_ok(&b, &["config", "user.email", "b@example.com"]);
    let id_two = env.plan(&b, "For two");
    env.handoff(&b, &["push"]).ok();
    env.handoff(&victim, &["pull", "team/a"]).ok();
    env.handoff(&victim, &["pull", "team_a"]).ok();
    let list = env.handoff(&victim, &["list"]).ok().to_owned();
    assert!(list.contains(&id_one) && list.contains(&id_two), "{list}");
    let tracking = env.git_ok(
        &victim,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/handoff-remotes/",
        ],
    );
    assert!(
        tracking.contains(&format!("team_2fa/sessions/{id_one}")),
        "{tracking}"
    );
    assert!(
        tracking.contains(&format!("team_5fa/sessions/{id_two}")),
        "{tracking}"
    );
}

#[test]
fn ranges_mean_what_git_means_and_empty_ones_are_refused() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Ranges");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(&repo, "a.txt", "a\n", "a");
    for spec in ["..HEAD", "..", "HEAD..HEAD~1"] {
        let err = env
            .handoff(&repo, &["implement", &id, "-m", "x", "--range", spec])
            .fails(1)
            .to_owned();
        assert!(err.contains("holds no commit"), "{spec}: {err}");
    }
    // Nothing was recorded, no note written.
    assert_eq!(
        env.git(&repo, &["notes", "--ref=handoff", "list"]).stdout,
        ""
    );
    let err = env
        .handoff(
            &repo,
            &["implement", &id, "-m", "x", "--range", "HEAD...HEAD~1"],
        )
        .fails(1)
        .to_owned();
    assert!(err.contains("symmetric"), "{err}");
    let out = env
        .handoff(
            &repo,
            &["implement", &id, "-m", "x", "--range", "HEAD~1..", "--json"],
        )
        .json();
    assert_eq!(out["commits_in_range"], 1, "{out}");
}

#[test]
fn bad_findings_files_are_refused_not_recorded_empty() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Findings");
    for (content, needle) in [
        (r#"{"not":"findings"}"#, "unknown key 'not'"),
        (
            r#"[{"file":"a.rs","line":3,"severity":"high"}]"#,
            "unknown field `file`",
        ),
    ] {
        std::fs::write(repo.join("f.json"), content).unwrap();
        let err = env
            .handoff(
                &repo,
                &[
                    "review",
                    &id,
                    "--verdict",
                    "approve",
                    "-m",
                    "x",
                    "--findings",
                    "f.json",
                ],
            )
            .fails(1)
            .to_owned();
        assert!(err.contains(needle), "{content}: {err}");
    }
    let log = env.handoff(&repo, &["log", &id, "--json"]).json();
    assert_eq!(log["artifacts"].as_array().unwrap().len(), 1);
}

#[test]
fn a_crash_between_notes_and_artifact_is_completed_by_running_again() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Crash");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let commits: Vec<String> = (0..3)
        .map(|i| env.commit_file(&repo, &format!("f{i}"), "x\n", &format!("c{i}")))
        .collect();
    let run = Run::from(
        env.command(crate::common::BIN, &repo)
            .env("GIT_HANDOFF_FAILPOINT", "record-after-notes")
            .args(["implement", &id, "-m", "done"])
            .output()
            .unwrap(),
    );
    assert_ne!(run.code, 0, "the failpoint did not fire");
    // Killed after the notes: every commit is noted, the artifact is not there yet.
    for c in &commits {
        let note = String::from_utf8(note_bytes(&env, &repo, c)).unwrap();
        assert!(note.contains(&format!("{id} implementation")), "{note}");
    }
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "READY_FOR_IMPLEMENTATION");
    // Running it again completes it, once.
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "READY_FOR_CODEX_VALIDATION");
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["plan", "review", "implementation"]);
    env.git_ok(&repo, &["fsck", "--strict"]);
}

#[test]
fn the_default_range_leaves_out_upstream_commits_after_a_rebase() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["me", "them"]);
    let (me, them) = (&clones[0], &clones[1]);
    let id = env.plan(me, "Mine");
    env.handoff(me, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let mine = env.commit_file(me, "mine.txt", "m\n", "my work");
    // Someone else pushes meanwhile; I rebase onto it.
    let theirs = env.commit_file(them, "theirs.txt", "t\n", "their work");
    env.git_ok(them, &["push", "-q", "origin", "main"]);
    env.git_ok(me, &["pull", "-q", "--rebase", "origin", "main"]);
    let out = env
        .handoff(me, &["implement", &id, "-m", "done", "--json"])
        .json();
    assert_eq!(out["commits_in_range"], 1, "{out}");
    let rebased = env.git_ok(me, &["rev-parse", "HEAD"]);
    assert_ne!(rebased, mine);
    assert_eq!(
        env.git(me, &["notes", "--ref=handoff", "show", &theirs])
            .code,
        1,
        "their commit was noted as mine"
    );
    assert_eq!(out["artifact"]["range"]["base"], theirs.as_str(), "{out}");
}

#[test]
fn commits_credited_to_another_session_are_named() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let a = env.plan(&repo, "Session A");
    env.handoff(&repo, &["review", &a, "--verdict", "approve", "-m", "ok"])
        .ok();
    let b = env.plan(&repo, "Session B");
    std::fs::write(repo.join("x.txt"), "x\n").unwrap();
    env.git_ok(&repo, &["add", "x.txt"]);
    env.git_ok(
        &repo,
        &[
            "commit",
            "-q",
            "-m",
            &format!("work\n\nHandoff-Session: {b}"),
        ],
    );
    let run = env.handoff(&repo, &["implement", &a, "-m", "done"]);
    run.ok();
    assert!(
        run.stderr.contains(&b) && run.stderr.contains("another session"),
        "{}",
        run.stderr
    );
}

#[test]
fn clones_that_wrote_at_once_agree_on_iterations_after_merging() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(a, "Shared");
    env.handoff(a, &["push"]).ok();
    env.handoff(b, &["pull"]).ok();
    // Both add plan iterations without seeing each other's.
    for i in 0..3 {
        env.handoff(a, &["plan", "--session", &id, "-m", &format!("a{i}")])
            .ok();
        env.handoff(b, &["plan", "--session", &id, "-m", &format!("b{i}")])
            .ok();
    }
    env.handoff(a, &["push"]).ok();
    env.handoff(b, &["pull"]).ok();
    let show = env.handoff(b, &["show", &id, "--json"]).json();
    assert_eq!(show["iteration"], 7);
    let iterations: Vec<u64> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["iteration"].as_u64().unwrap())
        .collect();
    assert_eq!(iterations, (1..=7).collect::<Vec<_>>());
    let context = env
        .handoff(b, &["context", &id, "--for", "review"])
        .ok()
        .to_owned();
    assert!(context.contains("Plan iteration: 7"), "{context}");
}

#[test]
fn planning_a_second_session_does_not_steal_the_first_ones_commits() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init"]).ok();
    let a = env.plan(&repo, "Session A");
    let b_run = env.handoff(&repo, &["plan", "-t", "Session B", "-m", "plan"]);
    let b = b_run.ok().trim().to_owned();
    assert!(
        b_run.stderr.contains(&format!("{a} stays current")),
        "{}",
        b_run.stderr
    );
    let status = env.handoff(&repo, &["status", "--json"]).json();
    assert_eq!(status["current"]["id"], a.as_str(), "{status}");
    assert_eq!(status["initialized"], true);
    let commit = env.commit_file(&repo, "a.txt", "a\n", "work for A");
    let message = env.git_ok(&repo, &["log", "-1", "--format=%B", &commit]);
    assert!(
        message.contains(&format!("Handoff-Session: {a}")),
        "{message}"
    );
    // Asking for B's implementation instructions makes B current.
    let run = env.handoff(&repo, &["context", &b, "--for", "implement"]);
    run.ok();
    assert!(
        run.stderr.contains(&format!("{b} is now current")),
        "{}",
        run.stderr
    );
    let status = env.handoff(&repo, &["status"]).ok().to_owned();
    assert!(status.contains(&b), "{status}");
}

#[test]
fn a_recorded_range_rebased_onto_upstream_leaves_upstream_commits_out() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["me", "them"]);
    let (me, them) = (&clones[0], &clones[1]);
    env.handoff(me, &["init"]).ok();
    let id = env.plan(me, "Mine");
    env.handoff(me, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(me, "mine1.txt", "m\n", "my work 1");
    env.commit_file(me, "mine2.txt", "m\n", "my work 2");
    env.handoff(me, &["implement", &id, "-m", "done"]).ok();
    let theirs = env.commit_file(them, "theirs.txt", "t\n", "their work");
    env.git_ok(them, &["push", "-q", "origin", "main"]);
    env.git_ok(me, &["pull", "-q", "--rebase", "origin", "main"]);
    let out = env
        .handoff(
            me,
            &[
                "validate",
                &id,
                "--verdict",
                "approve",
                "-m",
                "ok",
                "--json",
            ],
        )
        .json();
    assert_eq!(out["commits_in_range"], 2, "{out}");
    assert_eq!(out["artifact"]["range"]["base"], theirs.as_str(), "{out}");
    assert_eq!(
        env.git(me, &["notes", "--ref=handoff", "show", &theirs])
            .code,
        1,
        "their commit was noted"
    );
}

#[test]
fn secrets_in_every_stored_text_are_redacted_before_writing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env
        .handoff(
            &repo,
            &[
                "plan",
                "-t",
                "Rotate DB_PASSWORD=hunter22 now",
                "-m",
                "export PGPASSWORD=pg_Pass1\nMYSQL_ROOT_PASSWORD=S3cretRoot!\ndb:\n  db_password: Tr0ub4dor&3\nSECRET_KEY=8f14e45fceea167a5a36dedd4bea2543\ntoken=a8Fk29dLq0xZ7vB3nM1pQw\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\npostgres://admin:pw@db.internal/app\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\nsk_live_51H8a7bCdEfGhIjKlMnOp npm_abcdefghijklmnopqrstuvwxyz0123456789 hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
                "--agent",
                "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            ],
        )
        .ok()
        .trim()
        .to_owned();
    std::fs::write(
        repo.join("f.json"),
        r#"[{"title":"leak","body":"ok","path":"config/sk-proj-abcdefghijklmnopqrstuvwxyz012345.env"}]"#,
    )
    .unwrap();
    env.handoff(
        &repo,
        &[
            "review",
            &id,
            "--verdict",
            "approve",
            "-m",
            "ok",
            "--findings",
            "f.json",
        ],
    )
    .ok();
    // Every object reachable from the session: nothing of the secrets is left.
    let dump = env.git_ok(
        &repo,
        &[
            "log",
            "-p",
            "--format=%B",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    let tree = env.git_ok(
        &repo,
        &["ls-tree", "-r", &format!("refs/handoff/sessions/{id}")],
    );
    let mut all = dump.clone();
    for line in tree.lines() {
        let oid = line.split_whitespace().nth(2).unwrap();
        all.push_str(&env.git_ok(&repo, &["cat-file", "-p", oid]));
    }
    for secret in [
        "hunter22",
        "pg_Pass1",
        "S3cretRoot!",
        "Tr0ub4dor&3",
        "8f14e45fceea167a5a36dedd4bea2543",
        "a8Fk29dLq0xZ7vB3nM1pQw",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ":pw@",
        "dozjgNryP4J3jVmNHl0w5N",
        "sk_live_51H8a7bCdEfGhIjKlMnOp",
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
    ] {
        assert!(!all.contains(secret), "{secret} was written:\n{all}");
    }
    assert!(all.contains("[REDACTED:"), "{all}");
}

fn write_hook(repo: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = repo.join(".git/hooks").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_python_hook_is_chained_not_edited_into_a_broken_file() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let marker = env.path("python-ran");
    let hook = format!(
        "#!/usr/bin/env python3\nimport sys\nopen({:?}, 'w').write(sys.argv[1])\n",
        marker.to_str().unwrap()
    );
    write_hook(&repo, "prepare-commit-msg", &hook);
    let out = env.handoff(&repo, &["init", "--json"]).json();
    assert!(out.to_string().contains("chained"), "{out}");
    let id = env.plan(&repo, "Chained");
    let commit = env.commit_file(&repo, "a.txt", "a\n", "work");
    assert!(marker.exists(), "the user's python hook did not run");
    let message = env.git_ok(&repo, &["log", "-1", "--format=%B", &commit]);
    assert!(
        message.contains(&format!("Handoff-Session: {id}")),
        "{message}"
    );
    // Uninstalling puts the user's hook back as it was.
    env.handoff(&repo, &["init", "--uninstall"]).ok();
    let back = std::fs::read_to_string(repo.join(".git/hooks/prepare-commit-msg")).unwrap();
    assert_eq!(back, hook);
}

#[test]
fn pre_push_publishes_only_after_the_users_hook_allows_and_never_on_dry_run() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    // A secret scanner that refuses every push while a flag file exists.
    let flag = env.path("refuse");
    write_hook(
        a,
        "pre-push",
        &format!(
            "#!/bin/sh\ncat >/dev/null\nif [ -e {:?} ]; then echo 'scanner: refused' >&2; exit 1; fi\nexit 0\n",
            flag.to_str().unwrap()
        ),
    );
    env.handoff(a, &["init"]).ok();
    let id = env.plan(a, "Pushed");
    env.commit_file(a, "a.txt", "a\n", "work");
    let on_remote = |env: &TestEnv| {
        env.git(
            &bare,
            &[
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/handoff/sessions/{id}"),
            ],
        )
        .code
            == 0
    };
    std::fs::write(&flag, "").unwrap();
    let run = env.git(a, &["push", "-q", "origin", "main"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("scanner: refused"), "{}", run.stderr);
    assert!(
        !on_remote(&env),
        "handoff data was pushed past the user's refusal"
    );
    std::fs::remove_file(&flag).unwrap();
    env.git_ok(a, &["push", "-q", "--dry-run", "origin", "main"]);
    assert!(!on_remote(&env), "handoff data was pushed by a dry run");
    env.git_ok(a, &["push", "-q", "origin", "main"]);
    assert!(on_remote(&env), "handoff data was not pushed");
}

#[test]
fn hooks_say_so_when_git_handoff_is_not_on_path() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init"]).ok();
    std::fs::write(repo.join("b.txt"), "b\n").unwrap();
    env.git_ok(&repo, &["add", "b.txt"]);
    let out = env
        .command("git", &repo)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .args(["commit", "-q", "-m", "no handoff"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("git-handoff: not found on PATH"),
        "{stderr}"
    );
}

#[test]
fn init_on_a_read_only_hook_installs_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let hook = write_hook(&repo, "prepare-commit-msg", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o555)).unwrap();
    let err = env.handoff(&repo, &["init"]).fails(1).to_owned();
    assert!(err.contains("read-only"), "{err}");
    for name in ["pre-push", "post-rewrite"] {
        assert!(
            !repo.join(".git/hooks").join(name).exists(),
            "{name} was installed"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
}

#[test]
fn a_closed_stderr_never_turns_into_a_panic() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.plan(&repo, "Noisy");
    for args in [
        &["pull", "nowhere"][..],
        &["show", "nothing"][..],
        &["plan", "-t", "x", "-m", "DB_PASSWORD=hunter22"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = env
            .command(crate::common::BIN, &repo)
            .args(args)
            .stderr(writer)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert_ne!(out.code(), Some(101), "{args:?} panicked");
        assert!(out.code().is_some(), "{args:?} died of a signal");
    }
}

#[test]
fn a_plain_git_fetch_after_init_makes_remote_sessions_visible_at_once() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(a, "Shared through plain fetch");
    env.handoff(a, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let commit = env.commit_file(a, "a.txt", "a\n", "work");
    env.handoff(a, &["implement", &id, "-m", "done"]).ok();
    env.handoff(a, &["push"]).ok();
    env.git_ok(a, &["push", "-q", "origin", "main"]);

    env.handoff(b, &["init"]).ok();
    // init touches nothing else: no notes rewrite settings for the user's own notes refs.
    assert_eq!(
        env.git(b, &["config", "--get", "notes.rewriteMode"]).code,
        1
    );
    env.git_ok(b, &["fetch", "-q"]);
    env.git_ok(b, &["merge", "-q", "--ff-only", "origin/main"]);
    let list = env.handoff(b, &["list", "--json"]).json();
    assert_eq!(list["sessions"][0]["id"], id.as_str(), "{list}");
    env.handoff(b, &["show", &id]).ok();
    let why = env.handoff(b, &["why", &commit, "--json"]).json();
    assert!(why.to_string().contains(&id), "{why}");
    let search = env.handoff(b, &["search", "plain fetch", "--json"]).json();
    assert!(search.to_string().contains(&id), "{search}");
    // Recording on it gives it a ref of its own, on top of the remote's chain.
    env.handoff(b, &["validate", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let local = env.git_ok(
        b,
        &[
            "rev-list",
            "--count",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    assert_eq!(local, "4");
    // Fetched objects never reach refs/handoff/sessions or refs/notes/handoff by themselves.
    let fetched = env.git_ok(
        b,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/handoff-remotes/",
        ],
    );
    assert!(
        fetched.contains("refs/handoff-remotes/origin/notes/handoff"),
        "{fetched}"
    );
}

#[test]
fn init_takes_back_the_notes_rewrite_settings_of_earlier_versions() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.git_ok(&repo, &["config", "notes.rewriteRef", "refs/notes/handoff"]);
    env.git_ok(&repo, &["config", "notes.rewriteMode", "cat_sort_uniq"]);
    env.git_ok(
        &repo,
        &["config", "--add", "notes.rewriteRef", "refs/notes/commits"],
    );
    env.handoff(&repo, &["init"]).ok();
    assert_eq!(
        env.git(&repo, &["config", "--get", "notes.rewriteMode"])
            .code,
        1
    );
    assert_eq!(
        env.git_ok(&repo, &["config", "--get-all", "notes.rewriteRef"]),
        "refs/notes/commits"
    );
    // Amend still carries our notes, through the post-rewrite hook alone: one notes commit.
    let id = env.plan(&repo, "Amend");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(&repo, "a.txt", "a\n", "work");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let before = env.git_ok(&repo, &["rev-list", "--count", "refs/notes/handoff"]);
    env.git_ok(&repo, &["commit", "-q", "--amend", "-m", "work, amended"]);
    let head = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    let note = env.git_ok(&repo, &["notes", "--ref=handoff", "show", &head]);
    assert!(note.contains(&id), "{note}");
    let after = env.git_ok(&repo, &["rev-list", "--count", "refs/notes/handoff"]);
    assert_eq!(
        after.parse::<u32>().unwrap(),
        before.parse::<u32>().unwrap() + 1
    );
}

#[test]
fn errors_tell_the_truth() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    // The cause chain is said once.
    let err = env
        .handoff(&repo, &["plan", "-t", "x", "-F", "missing.md"])
        .fails(1)
        .to_owned();
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    // git's own first error line is kept.
    let err = env.handoff(&repo, &["pull", "nowhere"]).fails(1).to_owned();
    assert!(
        err.contains("fatal: 'nowhere' does not appear to be a git repository"),
        "{err}"
    );
    // A typo in a policy names the key and the valid values.
    std::fs::write(
        repo.join(".handoff.toml"),
        "[policy]\npre-push = \"blok\"\n",
    )
    .unwrap();
    let err = env.handoff(&repo, &["list"]).fails(1).to_owned();
    assert!(
        err.contains("policy.pre-push") && err.contains("`block`") && err.contains("blok"),
        "{err}"
    );
    std::fs::remove_file(repo.join(".handoff.toml")).unwrap();
    // Repositories of formats libgit2 cannot open yet say so, with the way out.
    for (flag, needle) in [
        (
            "--object-format=sha256",
            "SHA-256 repositories are not supported yet",
        ),
        (
            "--ref-format=reftable",
            "git refs migrate --ref-format=files",
        ),
    ] {
        let dir = env.path(flag.trim_start_matches('-').replace('=', "-").as_str());
        std::fs::create_dir_all(&dir).unwrap();
        env.git_ok(&dir, &["init", "-q", flag]);
        let err = env.handoff(&dir, &["list"]).fails(1).to_owned();
        assert!(err.contains(needle), "{flag}: {err}");
        assert!(!err.contains("not a git repository"), "{err}");
    }
}

#[test]
fn a_stale_lock_in_the_fetch_phase_is_named() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    let id = env.plan(a, "Locked on fetch");
    env.handoff(a, &["push"]).ok();
    env.handoff(b, &["pull"]).ok();
    env.handoff(a, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.handoff(a, &["push"]).ok();
    let lock = b.join(format!(
        ".git/refs/handoff-remotes/origin/sessions/{id}.lock"
    ));
    std::fs::write(&lock, "").unwrap();
    let err = env.handoff(b, &["pull"]).fails(1).to_owned();
    assert!(err.contains(&format!("{id}.lock")), "{err}");
    std::fs::remove_file(&lock).unwrap();
    env.handoff(b, &["pull"]).ok();
}

#[test]
fn a_refused_push_reports_the_servers_reason_and_blocks_nothing_else() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["a"]);
    let a = &clones[0];
    let good = env.plan(a, "Fine");
    let bad = env.plan(a, "Refused by policy");
    let hook = bare.join("hooks/update");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\ncase \"$1\" in *{bad}*) echo 'policy: no such sessions here' >&2; exit 1;; esac\nexit 0\n"),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = env.handoff(a, &["push", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["retries"], 0, "a refusal is not a race: {report}");
    let refused = report["refused"].to_string();
    assert!(
        refused.contains(&bad) && refused.contains("hook declined"),
        "{refused}"
    );
    assert!(run.stderr.contains("hook declined"), "{}", run.stderr);
    env.git_ok(
        &bare,
        &[
            "rev-parse",
            "--verify",
            &format!("refs/handoff/sessions/{good}"),
        ],
    );
}
