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
