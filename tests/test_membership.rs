//! A session is its commits (docs/format.md, "A session is its commits"): the diff a validator
//! reads and what `why` says stay right through amend, rebase, push, two sessions in turn, two
//! worktrees, undo, and a reviewer's clone. Real git, real hooks (`init`).

use std::path::Path;

use crate::common::TestEnv;

/// A repository set up with `init` (hooks installed), no session current.
fn set_up(env: &TestEnv, name: &str) -> std::path::PathBuf {
    let repo = env.repo(name);
    env.handoff(&repo, &["init"]).ok();
    repo
}

/// Plans and approves a session (which `plan` makes current when none is) and returns its ID.
fn approved(env: &TestEnv, repo: &Path, title: &str) -> String {
    let id = env.plan(repo, title);
    env.handoff(repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    id
}

/// What the validator reads.
fn validator_reads(env: &TestEnv, repo: &Path, id: &str) -> String {
    env.handoff(repo, &["context", id, "--for", "validate"])
        .ok()
        .to_owned()
}

/// The sessions `why REV` names.
fn why(env: &TestEnv, repo: &Path, rev: &str) -> Vec<String> {
    let out = env.handoff(repo, &["why", rev, "--json"]).json();
    out["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The session's recorded commits (`show --json`), oldest first.
fn recorded(env: &TestEnv, repo: &Path, id: &str) -> Vec<String> {
    let out = env.handoff(repo, &["show", id, "--json"]).json();
    out["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// Runs `git rebase -i` with `script` as the sequence editor (a sed program on the todo list).
fn rebase_i(env: &TestEnv, repo: &Path, onto: &str, script: &str) {
    let run = env
        .command("git", repo)
        .args(["rebase", "-q", "-i", onto])
        .env("GIT_SEQUENCE_EDITOR", format!("sed -i -e '{script}'"))
        .env("GIT_EDITOR", "true")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "rebase -i: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn head(env: &TestEnv, repo: &Path) -> String {
    env.git_ok(repo, &["rev-parse", "HEAD"])
}

#[test]
fn amending_the_last_commit_keeps_every_commit_of_the_session() {
    let env = TestEnv::new();
    let repo = set_up(&env, "repo");
    let id = approved(&env, &repo, "Amend last");
    env.commit_file(&repo, "one.txt", "one\n", "One");
    env.commit_file(&repo, "two.txt", "two\n", "Two");
    let out = env
        .handoff(&repo, &["implement", &id, "-m", "done", "--json"])
        .json();
    assert_eq!(out["commits_in_range"], 2, "{out}");
    std::fs::write(repo.join("two.txt"), "two, amended\n").unwrap();
    env.git_ok(&repo, &["commit", "-q", "-a", "--amend", "--no-edit"]);
    let amended = head(&env, &repo);
    let commits = recorded(&env, &repo, &id);
    assert_eq!(commits.len(), 2, "{commits:?}");
    assert_eq!(commits[1], amended);
    let prompt = validator_reads(&env, &repo, &id);
    assert!(prompt.contains("+one"), "{prompt}");
    assert!(prompt.contains("+two, amended"), "{prompt}");
    assert_eq!(why(&env, &repo, "HEAD"), [id.as_str()]);
    assert_eq!(why(&env, &repo, "HEAD~1"), [id.as_str()]);
    // The validation covers both, and notes them.
    let out = env
        .handoff(
            &repo,
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
}

#[test]
fn amending_the_only_commit_and_a_middle_one_follows_the_rewrites() {
    let env = TestEnv::new();
    let repo = set_up(&env, "repo");
    let id = approved(&env, &repo, "Amend only");
    env.commit_file(&repo, "a.txt", "a\n", "A");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    std::fs::write(repo.join("a.txt"), "a2\n").unwrap();
    env.git_ok(&repo, &["commit", "-q", "-a", "--amend", "--no-edit"]);
    assert_eq!(recorded(&env, &repo, &id), [head(&env, &repo)]);
    let prompt = validator_reads(&env, &repo, &id);
    assert!(prompt.contains("+a2"), "{prompt}");

    // Two more commits, recorded again (the session asks for changes first), then the
    // middle one is edited with `rebase -i`.
    env.handoff(
        &repo,
        &[
            "validate",
            &id,
            "--verdict",
            "request-changes",
            "-m",
            "more",
        ],
    )
    .ok();
    env.commit_file(&repo, "b.txt", "b\n", "B");
    env.commit_file(&repo, "c.txt", "c\n", "C");
    let out = env
        .handoff(&repo, &["implement", &id, "-m", "again", "--json"])
        .json();
    assert_eq!(out["commits_in_range"], 3, "{out}");
    let run = env
        .command("git", &repo)
        .args(["rebase", "-q", "-i", "HEAD~2"])
        .env("GIT_SEQUENCE_EDITOR", "sed -i -e '1s/^pick/edit/'")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::write(repo.join("b.txt"), "b2\n").unwrap();
    env.git_ok(&repo, &["commit", "-q", "-a", "--amend", "--no-edit"]);
    env.git_ok(&repo, &["rebase", "--continue"]);
    let commits = recorded(&env, &repo, &id);
    let history: Vec<String> = env
        .git_ok(&repo, &["rev-list", "--reverse", "HEAD~3..HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(commits, history);
    let prompt = validator_reads(&env, &repo, &id);
    for text in ["+a2", "+b2", "+c"] {
        assert!(prompt.contains(text), "{text}: {prompt}");
    }
    for rev in ["HEAD", "HEAD~1", "HEAD~2"] {
        assert_eq!(why(&env, &repo, rev), [id.as_str()], "{rev}");
    }
}

#[test]
fn a_squash_of_two_sessions_commits_belongs_to_both_and_a_reorder_keeps_both() {
    let env = TestEnv::new();
    let repo = set_up(&env, "repo");
    let a = approved(&env, &repo, "Session A");
    env.commit_file(&repo, "a.txt", "a\n", "A work");
    env.handoff(&repo, &["implement", &a, "-m", "A done"]).ok();
    let b = env.plan(&repo, "Session B");
    env.handoff(&repo, &["review", &b, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.handoff(&repo, &["start", &b]).ok();
    env.commit_file(&repo, "b.txt", "b\n", "B work");
    env.commit_file(&repo, "b2.txt", "b2\n", "B more");
    env.handoff(&repo, &["implement", &b, "-m", "B done"]).ok();
    assert_eq!(recorded(&env, &repo, &b).len(), 2);

    // Reorder B's two commits, then squash B's first into A's.
    rebase_i(&env, &repo, "HEAD~2", "1h;1d;2G");
    let b_commits = recorded(&env, &repo, &b);
    assert_eq!(b_commits.len(), 2);
    assert_eq!(b_commits[1], head(&env, &repo));
    let prompt = validator_reads(&env, &repo, &b);
    assert!(
        prompt.contains("+b\n") && prompt.contains("+b2"),
        "{prompt}"
    );

    rebase_i(&env, &repo, "HEAD~3", "2s/^pick/squash/");
    let squashed = env.git_ok(&repo, &["rev-parse", "HEAD~1"]);
    let mut names = why(&env, &repo, &squashed);
    names.sort();
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(names, both);
    assert_eq!(recorded(&env, &repo, &a), [squashed.as_str()]);
    assert!(recorded(&env, &repo, &b).contains(&squashed));
    // A's validator reads the squashed commit; B's reads both of its commits.
    let prompt = validator_reads(&env, &repo, &a);
    assert!(prompt.contains("+a") && prompt.contains("+b2"), "{prompt}");
    assert!(!prompt.contains("+b\n"), "{prompt}");
    assert_eq!(why(&env, &repo, "HEAD"), [b.as_str()]);
}

#[test]
fn pushing_the_branch_half_way_changes_nothing() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["me"]);
    let me = &clones[0];
    env.handoff(me, &["init"]).ok();
    env.git_ok(me, &["switch", "-q", "-c", "feature"]);
    let id = approved(&env, me, "Pushed half-way");
    env.commit_file(me, "one.txt", "one\n", "One");
    env.commit_file(me, "two.txt", "two\n", "Two");
    env.git_ok(me, &["push", "-q", "-u", "origin", "feature"]);
    env.commit_file(me, "three.txt", "three\n", "Three");
    let out = env
        .handoff(me, &["implement", &id, "-m", "done", "--json"])
        .json();
    assert_eq!(out["commits_in_range"], 3, "{out}");
    let prompt = validator_reads(&env, me, &id);
    for file in ["one.txt", "two.txt", "three.txt"] {
        assert!(prompt.contains(&format!("b/{file}")), "{file}: {prompt}");
    }
    for rev in ["HEAD", "HEAD~1", "HEAD~2"] {
        assert_eq!(why(&env, me, rev), [id.as_str()], "{rev}");
    }
}

#[test]
fn two_sessions_in_turn_keep_their_own_commits() {
    let env = TestEnv::new();
    let repo = set_up(&env, "repo");
    let b = approved(&env, &repo, "Session B");
    let c = approved(&env, &repo, "Session C");
    env.handoff(&repo, &["start", &b]).ok();
    let b1 = env.commit_file(&repo, "b1.txt", "b1\n", "B one");
    env.handoff(&repo, &["start", &c]).ok();
    let c1 = env.commit_file(&repo, "c1.txt", "c1\n", "C one");
    env.handoff(&repo, &["start", &b]).ok();
    let b2 = env.commit_file(&repo, "b2.txt", "b2\n", "B two");

    let run = env.handoff(&repo, &["implement", &b, "-m", "B done", "--json"]);
    let out = run.json();
    assert_eq!(out["commits_in_range"], 2, "{out}");
    assert_eq!(out["artifact"]["commits"], serde_json::json!([b1, b2]));
    // Not contiguous: no range summary, and the validator reads each commit's patch.
    assert!(out["artifact"].get("range").is_none(), "{out}");
    let prompt = validator_reads(&env, &repo, &b);
    assert!(prompt.contains("+b1") && prompt.contains("+b2"), "{prompt}");
    assert!(
        !prompt.contains("c1.txt"),
        "C's change in B's diff: {prompt}"
    );
    assert!(prompt.contains(&format!("commit {b1}")), "{prompt}");
    let show = env.handoff(&repo, &["show", &b]).ok().to_owned();
    assert!(show.contains("commits:   2 (not contiguous"), "{show}");

    // C's commit is C's alone; named with git's `X^!` form it is recorded for C.
    assert_eq!(why(&env, &repo, &c1), [c.as_str()]);
    let out = env
        .handoff(
            &repo,
            &[
                "implement",
                &c,
                "-m",
                "C done",
                "--range",
                &format!("{c1}^!"),
                "--json",
            ],
        )
        .json();
    assert_eq!(out["artifact"]["commits"], serde_json::json!([c1]));
    assert_eq!(why(&env, &repo, &c1), [c.as_str()]);
    assert_eq!(why(&env, &repo, &b1), [b.as_str()]);
    // Several revisions, with exclusions: what `git rev-list` lists, oldest first.
    env.handoff(
        &repo,
        &[
            "validate",
            &b,
            "--verdict",
            "request-changes",
            "-m",
            "again",
        ],
    )
    .ok();
    for spec in [
        format!("{b1}^! {b2}^!"),
        format!("{b2} ^{c1}"),
        format!("{b2}^- {b1}^!"),
        format!("HEAD~3..{b2}"),
    ] {
        let listed: Vec<String> = env
            .git_ok(
                &repo,
                &[
                    &["rev-list", "--reverse"][..],
                    &spec.split(' ').collect::<Vec<_>>(),
                ]
                .concat(),
            )
            .lines()
            .map(str::to_owned)
            .collect();
        let out = env
            .handoff(
                &repo,
                &[
                    "implement",
                    &b,
                    "-m",
                    "B again",
                    "--range",
                    &spec,
                    "--json",
                    "--force",
                ],
            )
            .json();
        assert_eq!(
            out["artifact"]["commits"],
            serde_json::json!(listed),
            "{spec}"
        );
    }
}

#[test]
fn the_current_session_belongs_to_its_branch_and_worktree() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["me"]);
    let me = &clones[0];
    env.handoff(me, &["init"]).ok();
    env.handoff(me, &["config", "policy.pre-push", "block"])
        .ok();
    env.git_ok(me, &["switch", "-q", "-c", "feature"]);
    let a = approved(&env, me, "On feature");
    env.handoff(me, &["start", &a]).ok();
    let on_feature = env.commit_file(me, "f.txt", "f\n", "Feature work");
    let msg = env.git_ok(me, &["log", "-1", "--format=%B", &on_feature]);
    assert!(msg.contains(&a), "{msg}");

    // On main the session is not current: no trailer, and the push of main is not blocked.
    env.git_ok(me, &["switch", "-q", "main"]);
    let fix = env.commit_file(me, "fix.txt", "fix\n", "Unrelated fix");
    let msg = env.git_ok(me, &["log", "-1", "--format=%B", &fix]);
    assert!(!msg.contains("Handoff-Session"), "{msg}");
    let status = env.handoff(me, &["status", "--json"]).json();
    assert!(status["current"].is_null(), "{status}");
    assert_eq!(status["head"], "refs/heads/main");
    assert_eq!(
        status["elsewhere"][0]["place"], "refs/heads/feature",
        "{status}"
    );
    env.git_ok(me, &["push", "-q", "origin", "main"]);

    // Switching back resumes it.
    env.git_ok(me, &["switch", "-q", "feature"]);
    let more = env.commit_file(me, "g.txt", "g\n", "More feature work");
    let msg = env.git_ok(me, &["log", "-1", "--format=%B", &more]);
    assert!(msg.contains(&a), "{msg}");
    let status = env.handoff(me, &["status"]).ok().to_owned();
    assert!(
        status.contains("current on:      branch feature"),
        "{status}"
    );

    // A second worktree on another branch has its own current session.
    let wt = env.path("wt");
    env.git_ok(
        me,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "other",
            wt.to_str().unwrap(),
            "main",
        ],
    );
    let b = approved(&env, &wt, "In the worktree");
    env.handoff(&wt, &["start", &b]).ok();
    let in_wt = env.commit_file(&wt, "w.txt", "w\n", "Worktree work");
    let msg = env.git_ok(&wt, &["log", "-1", "--format=%B", &in_wt]);
    assert!(msg.contains(&b) && !msg.contains(&a), "{msg}");
    let back = env.commit_file(me, "h.txt", "h\n", "Back in the first worktree");
    let msg = env.git_ok(me, &["log", "-1", "--format=%B", &back]);
    assert!(msg.contains(&a) && !msg.contains(&b), "{msg}");
    let status = env.handoff(&wt, &["status", "--json"]).json();
    assert_eq!(status["current"]["id"], b.as_str(), "{status}");
    let out = env
        .handoff(me, &["implement", &a, "-m", "done", "--json"])
        .json();
    assert_eq!(out["commits_in_range"], 3, "{out}");
    assert_eq!(why(&env, me, &fix), Vec::<String>::new());
}

#[test]
fn undo_takes_its_notes_back_and_a_second_undo_needs_force() {
    let env = TestEnv::new();
    let repo = set_up(&env, "repo");
    let id = approved(&env, &repo, "Undo");
    env.commit_file(&repo, "a.txt", "a\n", "A");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let notes = |env: &TestEnv| env.git(&repo, &["notes", "--ref=handoff", "list"]).stdout;
    assert_ne!(notes(&env), "");
    let run = env.handoff(&repo, &["undo", &id]);
    run.ok();
    assert!(
        run.stderr.contains("took back an implementation") && run.stderr.contains("'done'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("note line back from 1 commit"),
        "{}",
        run.stderr
    );
    assert_eq!(notes(&env), "", "the implementation's notes stayed");
    // A rebase afterwards carries nothing of the taken-back implementation.
    env.commit_file(&repo, "b.txt", "b\n", "B");
    rebase_i(&env, &repo, "HEAD~2", "1s/^pick/reword/");
    assert_eq!(notes(&env), "");
    // A second undo in a row is refused without --force, and nothing moves.
    let err = env.handoff(&repo, &["undo", &id]).fails(1).to_owned();
    assert!(
        err.contains("was an undo already") && err.contains("--force"),
        "{err}"
    );
    let status = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(status["status"], "READY_FOR_IMPLEMENTATION");
    env.handoff(&repo, &["undo", &id, "--force"]).ok();
    let status = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(status["status"], "AWAITING_CODEX_REVIEW");
}

#[test]
fn a_reviewer_clone_sees_what_it_reads_and_what_the_remote_has() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["author", "reviewer"]);
    let (author, reviewer) = (&clones[0], &clones[1]);
    for dir in [author, reviewer] {
        env.handoff(dir, &["init"]).ok();
    }
    let id = env.plan(author, "Shared");
    env.handoff(author, &["push"]).ok();

    // Pulled only: the session is a tracking ref, and that is what is named.
    env.handoff(reviewer, &["pull"]).ok();
    let tracking = format!("refs/handoff-remotes/origin/sessions/{id}");
    let show = env.handoff(reviewer, &["show", &id, "--json"]).json();
    assert_eq!(show["ref"], tracking.as_str(), "{show}");
    let prompt = env
        .handoff(reviewer, &["context", &id, "--for", "review"])
        .ok()
        .to_owned();
    assert!(prompt.contains(&format!("under {tracking}")), "{prompt}");
    env.git_ok(reviewer, &["show", &format!("{tracking}:session.toml")]);

    // The reviewer records a review (now held locally) and pushes it.
    env.handoff(
        reviewer,
        &["review", &id, "--verdict", "approve", "-m", "ok"],
    )
    .ok();
    env.handoff(reviewer, &["push"]).ok();
    let show = env.handoff(reviewer, &["show", &id, "--json"]).json();
    assert_eq!(show["ref"], format!("refs/handoff/sessions/{id}").as_str());

    // The author implements and validates meanwhile.
    env.handoff(author, &["pull"]).ok();
    env.commit_file(author, "a.txt", "a\n", "A");
    env.handoff(author, &["implement", &id, "-m", "done"]).ok();
    env.handoff(
        author,
        &["validate", &id, "--verdict", "approve", "-m", "good"],
    )
    .ok();
    env.handoff(author, &["push"]).ok();

    // A plain fetch: the remote is ahead of the reviewer's local ref, shown as a view.
    env.git_ok(reviewer, &["fetch", "-q"]);
    let show = env.handoff(reviewer, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "COMPLETE", "{show}");
    assert_eq!(show["ref"], tracking.as_str(), "{show}");
    assert_eq!(show["remote_ahead"]["fast_forward"], true, "{show}");
    let text = env.handoff(reviewer, &["show", &id]).ok().to_owned();
    assert!(text.contains("git handoff pull"), "{text}");
    let status = env.handoff(reviewer, &["status", "--json"]).json();
    let session_ref = format!("refs/handoff/sessions/{id}");
    assert!(
        !status["unpushed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == session_ref.as_str()),
        "{status}"
    );
    assert!(
        status["behind"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == session_ref.as_str()),
        "{status}"
    );
    let text = env.handoff(reviewer, &["status"]).ok().to_owned();
    assert!(text.contains("pull (git handoff pull origin)"), "{text}");
    // The local ref itself did not move: the view wrote nothing.
    let local = env.git_ok(reviewer, &["rev-parse", &session_ref]);
    let remote = env.git_ok(reviewer, &["rev-parse", &tracking]);
    assert_ne!(local, remote);
    env.handoff(reviewer, &["pull"]).ok();
    let status = env.handoff(reviewer, &["status", "--json"]).json();
    assert_eq!(status["behind"], serde_json::json!([]), "{status}");
}

#[test]
fn a_session_without_trailers_falls_back_to_its_untagged_commits_and_says_so() {
    let env = TestEnv::new();
    // No init: no hooks, so no trailers.
    let repo = env.repo("repo");
    let id = approved(&env, &repo, "No hooks");
    env.commit_file(&repo, "a.txt", "a\n", "A");
    let run = env.handoff(&repo, &["implement", &id, "-m", "done", "--json"]);
    let out = run.json();
    assert_eq!(out["commits_in_range"], 1, "{out}");
    assert!(
        run.stderr.contains("no commit carries the trailer"),
        "{}",
        run.stderr
    );
}

/// What undo prints of the artifact it takes back (its agent, its first line) never carries a
/// raw control byte.
#[test]
fn undo_prints_the_taken_back_artifact_sanitised() {
    let env = TestEnv::new();
    let repo = set_up(&env, "repo");
    let id = approved(&env, &repo, "Escapes");
    env.commit_file(&repo, "a.txt", "a\n", "A");
    env.handoff(
        &repo,
        &[
            "implement",
            &id,
            "-m",
            "done\u{1b}[2J",
            "--agent",
            "evil\u{1b}]0;title\u{7}",
        ],
    )
    .ok();
    let run = env.handoff(&repo, &["undo", &id]);
    run.ok();
    assert!(
        run.stderr.contains("took back an implementation"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{:?}",
        run.stderr
    );
}
