//! Nothing lost, nothing forged, for ordinary use: notes kept byte for byte, sizes
//! symmetric, stored text validated and printed safely, crashes completed by a re-run, bad input
//! refused, secrets redacted, errors that tell the truth (docs/format.md).

use std::process::Stdio;

use crate::common::{Run, TestEnv, add_to_session, hash_object, mktree, note_bytes};

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
            &["implement", &id, "-m", "x", "--range", "HEAD~1...HEAD~1"],
        )
        .fails(1)
        .to_owned();
    assert!(err.contains("holds no commit"), "{err}");
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
fn errors_tell_the_truth() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    // The cause chain is said once.
    let err = env
        .handoff(&repo, &["plan", "-t", "x", "-F", "missing.md"])
        .fails(1)
        .to_owned();
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    // git's own first error line is kept (a location that is no repository)...
    let missing = env.path("nowhere");
    let err = env
        .handoff(&repo, &["pull", missing.to_str().unwrap()])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("does not appear to be a git repository"),
        "{err}"
    );
    // ...and a name that is no remote is said as such.
    let err = env.handoff(&repo, &["pull", "nowhere"]).fails(1).to_owned();
    assert!(err.contains("no remote configured"), "{err}");
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
    // A reftable repository, which libgit2 cannot open yet, says so with the way out, in
    // either object format and from a subdirectory.
    for formats in [
        &["--ref-format=reftable"][..],
        &["--ref-format=reftable", "--object-format=sha256"],
    ] {
        let dir = env.path(&formats.join("").replace(['-', '='], ""));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let mut args = vec!["init", "-q"];
        args.extend_from_slice(formats);
        env.git_ok(&dir, &args);
        for cwd in [dir.clone(), dir.join("sub")] {
            let err = env.handoff(&cwd, &["list"]).fails(1).to_owned();
            assert!(
                err.contains("reftable repositories are not supported yet")
                    && err.contains("git refs migrate --ref-format=files"),
                "{formats:?}: {err}"
            );
            assert!(!err.contains("not a git repository"), "{err}");
        }
        // The way out named works: after migrating, the same clone is read.
        env.git_ok(&dir, &["refs", "migrate", "--ref-format=files"]);
        env.handoff(&dir, &["list"]).ok();
    }
}

#[test]
fn a_note_that_cannot_be_rewritten_is_refused_and_left_untouched() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Odd note");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let commit = env.commit_file(&repo, "a.txt", "a\n", "a");
    // Someone's tool stored a directory where the note of this commit belongs.
    let blob = hash_object(&env, &repo, b"not a note\n");
    let inner = mktree(&env, &repo, &[format!("100644 blob {blob}\tfile")]);
    let fanout = mktree(
        &env,
        &repo,
        &[format!("040000 tree {inner}\t{}", &commit[2..])],
    );
    let root = mktree(
        &env,
        &repo,
        &[format!("040000 tree {fanout}\t{}", &commit[..2])],
    );
    let notes = env.git_ok(&repo, &["commit-tree", &root, "-m", "odd"]);
    env.git_ok(&repo, &["update-ref", "refs/notes/handoff", &notes]);
    let err = env
        .handoff(&repo, &["implement", &id, "-m", "done"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("refusing to rewrite refs/notes/handoff") && err.contains("left untouched"),
        "{err}"
    );
    assert_eq!(
        env.git_ok(&repo, &["rev-parse", "refs/notes/handoff"]),
        notes
    );
    // Nothing was recorded either: the notes come first.
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "READY_FOR_IMPLEMENTATION");
}

/// An object altered on disk (a bit flipped under git, a bad copy) is reported, never read as
/// content: libgit2 hashes what it reads (git facade, `Repo::wrap`).
#[test]
fn a_corrupted_object_is_reported_not_read() {
    use std::io::{Read as _, Write as _};
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let run = env.handoff(
        &repo,
        &["plan", "-t", "Corrupt", "-m", "Use a token bucket."],
    );
    let id = run.ok().trim().to_owned();
    let tree = env.git_ok(
        &repo,
        &[
            "ls-tree",
            "-r",
            "--name-only",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    let artifact = tree
        .lines()
        .find(|name| name.ends_with("-plan.md"))
        .expect("the plan's file")
        .to_owned();
    let blob = env
        .git_ok(
            &repo,
            &[
                "rev-parse",
                &format!("refs/handoff/sessions/{id}:{artifact}"),
            ],
        )
        .trim()
        .to_owned();
    // The loose object, inflated, altered in place (same length), deflated again: still a
    // well-formed object, with content that no longer hashes to its name.
    let path = repo.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let at = raw
        .windows(6)
        .position(|w| w == b"bucket")
        .expect("the plan's text in its blob");
    raw[at..at + 6].copy_from_slice(b"BUCKET");
    let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflated.write_all(&raw).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, deflated.finish().unwrap()).unwrap();
    let run = env.handoff(&repo, &["context", &id, "--for", "review"]);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(!out.contains("BUCKET"), "the altered text was read: {out}");
    assert!(out.contains("hash mismatch"), "{out}");
    assert!(!out.contains("internal error"), "{out}");
    assert_eq!(run.code, 1, "{out}");
}
