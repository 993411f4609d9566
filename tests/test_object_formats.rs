//! The main workflow in both object formats, SHA-1 and SHA-256 (the default of new repositories
//! from Git 3.0), as one parameterised test: the four steps, push and pull through a bare
//! remote, amend and rebase under the hooks, `why`, `repair`, search; `git fsck --strict` clean
//! everywhere. And a clone of the other format is told apart, not "not found".

use std::path::Path;

use crate::common::TestEnv;

#[test]
fn main_workflow_in_a_sha1_repository() {
    main_workflow("sha1");
}

#[test]
fn main_workflow_in_a_sha256_repository() {
    main_workflow("sha256");
}

fn hex_len(format: &str) -> usize {
    if format == "sha256" { 64 } else { 40 }
}

fn why_sessions(env: &TestEnv, dir: &Path, rev: &str) -> Vec<(String, String)> {
    let why = env.handoff(dir, &["why", rev, "--json"]).json();
    why["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn fsck_clean(env: &TestEnv, dir: &Path) {
    let fsck = env.git(dir, &["fsck", "--strict"]);
    assert_eq!(fsck.code, 0, "{}: {}", dir.display(), fsck.stderr);
}

fn main_workflow(format: &str) {
    let env = TestEnv::new();
    let hex = hex_len(format);
    let (bare, clones) = env.bare_with_clones_in(format, "remote", &["a", "b"]);
    let (a, b) = (&clones[0], &clones[1]);
    assert_eq!(
        env.git_ok(a, &["rev-parse", "--show-object-format"]),
        format
    );
    for dir in [a, b] {
        env.handoff(dir, &["init"]).ok();
    }

    // The four steps. Forty commits, so the notes go through one pack (docs/format.md).
    let id = env.plan(a, "Object formats");
    env.handoff(a, &["review", &id, "--verdict", "approve", "-m", "Fine"])
        .ok();
    for n in 1..=40 {
        env.commit_file(
            a,
            &format!("src/f{n}.rs"),
            &format!("fn f{n}() {{}}\n"),
            &format!("Add f{n}"),
        );
    }
    // A note plain git wrote first (flat, its full name at the root) is absorbed, not lost.
    env.git_ok(
        a,
        &[
            "notes",
            "--ref=handoff",
            "add",
            "-m",
            "Checked-by: a person",
            "HEAD~1",
        ],
    );
    let implemented = env
        .handoff(a, &["implement", &id, "-m", "Forty functions", "--json"])
        .json();
    assert_eq!(implemented["notes_added"], 40, "{implemented}");
    let prompt = env
        .handoff(a, &["context", &id, "--for", "validate"])
        .ok()
        .to_owned();
    assert!(prompt.contains("src/f40.rs"), "the real diff: {prompt}");
    env.handoff(a, &["validate", &id, "--verdict", "approve", "-m", "Good"])
        .ok();
    let show = env.handoff(a, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE");
    let range = show["range"].as_str().unwrap().to_owned();
    let (base, head) = range.split_once("..").unwrap();
    assert_eq!((base.len(), head.len()), (hex, hex), "{range}");
    assert_eq!(head, env.git_ok(a, &["rev-parse", "HEAD"]));

    // Plain git reads the notes, at the fanout git uses for names of this length.
    let note = env.git_ok(a, &["notes", "--ref=handoff", "show", "HEAD"]);
    assert!(
        note.contains(&format!("Handoff-Session: {id} implementation")),
        "{note}"
    );
    let kept = env.git_ok(a, &["notes", "--ref=handoff", "show", "HEAD~1"]);
    assert!(
        kept.contains("Checked-by: a person") && kept.contains(&id),
        "{kept}"
    );
    let paths = env.git_ok(a, &["ls-tree", "-r", "--name-only", "refs/notes/handoff"]);
    assert_eq!(paths.lines().count(), 40, "{paths}");
    for path in paths.lines() {
        let (dir, rest) = path.split_once('/').unwrap();
        assert_eq!((dir.len(), rest.len()), (2, hex - 2), "{path}");
    }
    let trailer = env.git_ok(a, &["log", "-1", "--format=%B"]);
    assert!(
        trailer.contains(&format!("Handoff-Session: {id}")),
        "{trailer}"
    );
    assert_eq!(
        why_sessions(&env, a, "HEAD")[0],
        (id.clone(), "note".into())
    );

    // Amend and rebase: notes and the recorded range follow the rewritten commits.
    env.git_ok(a, &["commit", "-q", "--amend", "-m", "Add f40 (amended)"]);
    assert_eq!(
        why_sessions(&env, a, "HEAD")[0],
        (id.clone(), "note".into())
    );
    env.git_ok(a, &["rebase", "-q", "--force-rebase", "HEAD~3"]);
    for rev in ["HEAD", "HEAD~2"] {
        assert_eq!(
            why_sessions(&env, a, rev)[0],
            (id.clone(), "note".into()),
            "{rev} after rebase"
        );
    }
    let show = env.handoff(a, &["show", &id, "--json"]).json();
    let head = env.git_ok(a, &["rev-parse", "HEAD"]);
    assert!(
        show["range"].as_str().unwrap().ends_with(&head),
        "the range follows: {show}"
    );

    // Sharing through the bare remote.
    env.git_ok(a, &["push", "-q", "origin", "main"]);
    env.handoff(a, &["push", "origin"]).ok();
    env.git_ok(b, &["pull", "-q", "origin", "main"]);
    let pulled = env.handoff(b, &["pull", "origin", "--json"]).json();
    assert_eq!(pulled["created"][0], id.as_str(), "{pulled}");
    let show = env.handoff(b, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE");
    assert_eq!(
        why_sessions(&env, b, "HEAD~1")[0],
        (id.clone(), "note".into())
    );
    let hits = env.handoff(b, &["search", "functions", "--json"]).json();
    assert_eq!(hits["results"][0]["session"], id.as_str(), "{hits}");

    // repair: a cherry-pick of a noted commit is linked back by its patch ID.
    env.git_ok(b, &["checkout", "-q", "-b", "release", "HEAD~5"]);
    env.git_ok(b, &["cherry-pick", "main"]);
    let picked = env.git_ok(b, &["rev-parse", "HEAD"]);
    let repaired = env.handoff(b, &["repair", "--json"]).json();
    assert!(
        repaired["relinked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["commit"] == picked.as_str() && r["by"] == "patch-id"),
        "{repaired}"
    );
    assert_eq!(
        why_sessions(&env, b, &picked)[0],
        (id.clone(), "note".into())
    );

    for dir in [a, b, &bare] {
        fsck_clean(&env, dir);
    }

    // A clone of the other format is a different repository, and is said to be one.
    let other = if format == "sha256" { "sha1" } else { "sha256" };
    let stranger = env.repo_in(other, "stranger");
    env.git_ok(
        &stranger,
        &["remote", "add", "origin", bare.to_str().unwrap()],
    );
    for command in ["pull", "push"] {
        env.plan(&stranger, "Elsewhere");
        let err = env
            .handoff(&stranger, &[command, "origin"])
            .fails(1)
            .to_owned();
        assert!(
            err.contains("object format") && err.contains("different repositories"),
            "{command}: {err}"
        );
    }
    // A session whose stored range names commits of the other format (copied from a clone of
    // the other format) says what is wrong instead of "object not found".
    let copied = "SESSION-20251027-C0P1ED00-copied";
    let artifact = |ulid: &str, kind: &str, status: &str, extra: &str| {
        format!(
            "+++\nschema_version = 1\nid = \"{ulid}\"\nsession = \"{copied}\"\nkind = \"{kind}\"\nagent = \"claude\"\ncreated = \"2025-10-27T10:00:00.000Z\"\nauthor = \"A U Thor <a@example.com>\"\niteration = 1\nstatus = \"{status}\"\n{extra}+++\n\nBody.\n"
        )
    };
    let plan = artifact(
        "01JB0000000000000000000001",
        "plan",
        "AWAITING_CODEX_REVIEW",
        "",
    );
    let implementation = artifact(
        "01JB0000000000000000000002",
        "implementation",
        "READY_FOR_CODEX_VALIDATION",
        &format!(
            "[range]\nbase = \"{}\"\nhead = \"{}\"\n",
            "b".repeat(hex_len(other)),
            "c".repeat(hex_len(other))
        ),
    );
    crate::common::forge_session(
        &env,
        a,
        &format!("refs/handoff/sessions/{copied}"),
        &[
            (
                "session.toml",
                &format!(
                    "schema_version = 1\nid = \"{copied}\"\ntitle = \"Copied\"\ncreated = \"2025-10-27T10:00:00.000Z\"\n"
                ),
            ),
            ("artifacts/01JB0000000000000000000001-plan.md", &plan),
            (
                "artifacts/01JB0000000000000000000002-implementation.md",
                &implementation,
            ),
        ],
    );
    let err = env
        .handoff(a, &["context", copied, "--for", "validate"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("different repositories")
            && (err.contains(&"b".repeat(hex_len(other)))
                || err.contains(&"c".repeat(hex_len(other)))),
        "{err}"
    );

    // A full name of the other format is not mistaken for a prefix of one of ours.
    let foreign = format!("{}..HEAD", "a".repeat(hex_len(other)));
    let err = env
        .handoff(a, &["repair", "--dry-run", "--range", &foreign])
        .fails(1)
        .to_owned();
    assert!(err.contains("bad range"), "{err}");
}
