//! Messages that lead somewhere: the next step after the last step is not the same command
//! again, a finished session is not made current, abandoning twice records nothing.

use crate::common::TestEnv;

/// A session taken to COMPLETE.
fn complete(env: &TestEnv, repo: &std::path::Path) -> String {
    let id = env.plan(repo, "Finished");
    env.handoff(repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(repo, "f.txt", "f\n", "F");
    env.handoff(repo, &["implement", &id, "-m", "done"]).ok();
    env.handoff(
        repo,
        &["validate", &id, "--verdict", "approve", "-m", "good"],
    )
    .ok();
    id
}

#[test]
fn after_the_pattern_nothing_follows() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = complete(&env, &repo);
    let pattern = env.handoff(&repo, &["pattern", &id, "-m", "Reuse it.", "--json"]);
    let json = pattern.json();
    assert!(json["next"].is_null(), "{json}");
    let human = env.handoff(&repo, &["show", &id]);
    assert!(human.ok().contains("nothing follows"), "{}", human.stdout);
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert!(show["next"].is_null());
}

#[test]
fn abandoning_twice_records_nothing_the_second_time() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Dropped");
    env.handoff(&repo, &["abandon", &id, "-m", "not needed"])
        .ok();
    let before = env.git_ok(
        &repo,
        &["rev-parse", &format!("refs/handoff/sessions/{id}")],
    );
    let again = env.handoff(&repo, &["abandon", &id, "-m", "again"]);
    assert!(
        again.fails(1).contains("abandoned already"),
        "{}",
        again.stderr
    );
    let after = env.git_ok(
        &repo,
        &["rev-parse", &format!("refs/handoff/sessions/{id}")],
    );
    assert_eq!(before, after);
}

#[test]
fn a_finished_session_is_not_made_current() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = complete(&env, &repo);
    let start = env.handoff(&repo, &["start", &id]);
    let stderr = start.fails(1);
    assert!(
        stderr.contains("COMPLETE") && stderr.contains("will not be current"),
        "{stderr}"
    );
}

#[test]
fn filters_take_several_values_in_any_case_and_git_like_dates() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let done = complete(&env, &repo);
    let waiting = env.plan(&repo, "Waiting");
    let dropped = env.plan(&repo, "Dropped");
    env.handoff(&repo, &["abandon", &dropped, "-m", "no"]).ok();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list", "--json"];
        all.extend_from_slice(args);
        env.handoff(&repo, &all).json()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let both = ids(&["--status", "complete,Awaiting_Codex_Review"]);
    assert!(
        both.contains(&done) && both.contains(&waiting) && !both.contains(&dropped),
        "{both:?}"
    );
    assert_eq!(
        ids(&["--status", "abandoned", "--status", "complete"]).len(),
        2
    );
    assert_eq!(ids(&["--agent", "CODEX"]), vec![done.clone()]);
    assert_eq!(ids(&["--kind", "validation,pattern"]), vec![done.clone()]);
    // The test clock is 2025-10-27: everything happened today, nothing before yesterday.
    assert_eq!(ids(&["--since", "yesterday"]).len(), 3);
    assert_eq!(ids(&["--until", "2 days ago"]).len(), 0);
    assert_eq!(ids(&["--since", "2025-10-27", "--until", "now"]).len(), 3);
    // A span too large for any calendar is an error, not a crash.
    let huge = env.handoff(&repo, &["list", "--since", "9999999999999999 seconds ago"]);
    assert_eq!(huge.code, 2, "{}", huge.stderr);
    let bad = env.handoff(&repo, &["list", "--since", "the other day"]);
    assert!(bad.fails(2).contains("3 days ago"), "{}", bad.stderr);
    let none = env.handoff(&repo, &["list", "--status", "changes_requested"]);
    assert!(
        none.stderr.contains("no session matches"),
        "{}",
        none.stderr
    );
}

#[test]
fn context_infers_the_step_and_review_offers_no_range() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Infer");
    let for_review = env.handoff(&repo, &["context", &id, "--json"]).json();
    assert_eq!(for_review["for"], "review");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    assert_eq!(
        env.handoff(&repo, &["context", &id, "--json"]).json()["for"],
        "implement"
    );
    assert!(
        !env.handoff(&repo, &["review", "-h"])
            .ok()
            .contains("--range")
    );
    assert!(
        env.handoff(&repo, &["validate", "-h"])
            .ok()
            .contains("--range")
    );
    assert_eq!(
        env.handoff(
            &repo,
            &["review", &id, "--range", "HEAD", "--verdict", "approve"]
        )
        .code,
        2
    );
}

/// Runs git-handoff on a pseudo-terminal (as a person does), with extra environment.
fn on_terminal(
    env: &TestEnv,
    repo: &std::path::Path,
    args: &[&str],
    vars: &[(&str, &str)],
) -> String {
    let mut cmd = env.command("python3", repo);
    cmd.args([
        "-c",
        "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))",
        crate::common::BIN,
    ])
    .args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn long_views_go_through_the_pager_on_a_terminal_and_colour_follows_git() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Paged");
    let paged = env.path("paged.txt");
    let pager = format!("cat > {}", paged.display());
    // On a terminal, `show` goes to GIT_PAGER (with git's LESS=FRX).
    let seen = on_terminal(&env, &repo, &["show", &id], &[("GIT_PAGER", &pager)]);
    let text = std::fs::read_to_string(&paged).unwrap();
    assert!(
        text.contains(&id) && !seen.contains("timeline"),
        "{text}\n---\n{seen}"
    );
    // `cat` means no pager; NO_COLOR (set by the test environment) keeps colour off, and
    // --color=always turns it on anyway.
    let plain = on_terminal(&env, &repo, &["show", &id], &[("GIT_PAGER", "cat")]);
    assert!(plain.contains(&id) && !plain.contains('\u{1b}'), "{plain}");
    let coloured = on_terminal(
        &env,
        &repo,
        &["show", &id, "--color=always"],
        &[("GIT_PAGER", "cat")],
    );
    assert!(coloured.contains("\u{1b}["), "{coloured}");
    // Not a terminal: no pager, no colour, even with color.ui = always unless asked.
    let piped = env.handoff(&repo, &["show", &id]);
    assert!(!piped.ok().contains('\u{1b}'));
    env.git_ok(&repo, &["config", "color.ui", "always"]);
    let forced = env.handoff(&repo, &["--color", "never", "show", &id]);
    assert!(!forced.ok().contains('\u{1b}'));
}

#[test]
fn messages_read_well() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Café naïve");
    assert!(id.ends_with("-cafe-naive"), "{id}");
    let early = env.handoff(&repo, &["implement", &id, "-m", "too early"]);
    assert!(
        early.fails(1).contains("cannot record an implementation"),
        "{}",
        early.stderr
    );
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(&repo, "f.txt", "f\n", "F");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let reflog = env.git_ok(
        &repo,
        &["reflog", "show", "--format=%gs", "refs/notes/handoff"],
    );
    assert!(
        reflog.starts_with("handoff: note ") && !reflog.contains("handoff: handoff:"),
        "{reflog}"
    );
}

#[test]
fn undo_takes_back_an_unpushed_artifact_and_refuses_a_pushed_one() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["repo"]);
    let repo = &clones[0];
    env.handoff(repo, &["init", "--no-hooks"]).ok();
    let id = env.plan(repo, "Undoable");
    let refname = format!("refs/handoff/sessions/{id}");
    let planned = env.git_ok(repo, &["rev-parse", &refname]);
    // The first plan cannot be taken back: the session would vanish.
    let first = env.handoff(repo, &["undo", &id]);
    assert!(first.fails(1).contains("abandon"), "{}", first.stderr);
    env.handoff(repo, &["review", &id, "--verdict", "reject", "-m", "no"])
        .ok();
    let reviewed = env.git_ok(repo, &["rev-parse", &refname]);
    // A mistaken review, not pushed: the ref moves back, the reflog keeps it.
    let undone = env.handoff(repo, &["undo", &id, "--json"]).json();
    assert_eq!(undone["undone"]["kind"], "review");
    assert_eq!(undone["status"], "AWAITING_CODEX_REVIEW");
    assert_eq!(env.git_ok(repo, &["rev-parse", &refname]), planned);
    let reflog = env.git_ok(repo, &["reflog", "show", "--format=%H %gs", &refname]);
    assert!(
        reflog.contains(&reviewed) && reflog.contains("handoff: undo review"),
        "{reflog}"
    );
    // Pushed: shared history is not rewritten; a retraction takes the review back.
    env.handoff(repo, &["review", &id, "--verdict", "approve", "-m", "yes"])
        .ok();
    env.handoff(repo, &["push"]).ok();
    let shared = env.git_ok(repo, &["rev-parse", &refname]);
    let retracted = env.handoff(repo, &["undo", &id, "--json"]).json();
    assert_eq!(retracted["undone"]["kind"], "review", "{retracted}");
    assert_eq!(retracted["retraction"]["kind"], "note");
    assert_eq!(retracted["status"], "AWAITING_CODEX_REVIEW");
    let now = env.git_ok(repo, &["rev-parse", &refname]);
    assert_eq!(
        env.git_ok(repo, &["rev-parse", &format!("{now}^")]),
        shared,
        "the ref moved forward"
    );
    let show = env.handoff(repo, &["show", &id]);
    assert!(show.ok().contains("[retracted]"), "{}", show.stdout);
    // A retraction is not undone in turn.
    let again = env.handoff(repo, &["undo", &id]);
    assert!(
        again.fails(1).contains("is a retraction"),
        "{}",
        again.stderr
    );
    // Every clone replays it the same way.
    env.handoff(repo, &["push"]).ok();
    let other = env.path("other");
    env.git_ok(
        env.root.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    env.handoff(&other, &["pull"]).ok();
    let theirs = env.handoff(&other, &["show", &id, "--json"]).json();
    assert_eq!(theirs["status"], "AWAITING_CODEX_REVIEW", "{theirs}");
}

#[test]
fn remotes_are_named_plainly_and_a_fresh_clone_is_told_how_to_get_sessions() {
    let env = TestEnv::new();
    let lonely = env.repo("lonely");
    env.plan(&lonely, "Alone");
    let push = env.handoff(&lonely, &["push"]);
    assert!(
        push.fails(1).contains("no remote configured"),
        "{}",
        push.stderr
    );
    let (_bare, clones) = env.bare_with_clones("remote", &["first", "second"]);
    let first = &clones[0];
    env.handoff(first, &["init", "--no-hooks"]).ok();
    env.plan(first, "Shared");
    env.handoff(first, &["push"]).ok();
    let wrong = env.handoff(first, &["pull", "upstream"]);
    assert!(
        wrong
            .fails(1)
            .contains("no remote named 'upstream' (remotes: origin)"),
        "{}",
        wrong.stderr
    );
    // The second clone never ran init: its list is empty and says how to get origin's sessions.
    let second = &clones[1];
    let list = env.handoff(second, &["list"]);
    assert!(
        list.stderr.contains("git handoff pull origin"),
        "{}",
        list.stderr
    );
    env.handoff(second, &["init", "--no-hooks"]).ok();
    env.git_ok(second, &["fetch", "-q"]);
    let after = env.handoff(second, &["list"]);
    assert!(
        after.ok().contains("shared") && !after.stderr.contains("not fetched"),
        "{}",
        after.stderr
    );
}

/// The hint after an unknown ID is a whole sentence (it ended "... brings a remote's").
#[test]
fn the_unknown_id_hint_ends_its_sentence() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let err = env
        .handoff(&repo, &["show", "NOSUCHID"])
        .fails(1)
        .to_owned();
    assert!(
        err.trim_end()
            .ends_with("'git handoff pull' brings a remote's sessions"),
        "{err}"
    );
}
