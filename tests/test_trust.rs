//! Trust, round 2 (issue "Trust, round 2"): no secret on the wire, in output or in a ref name;
//! the user's own git keeps working; bounded reads.

use crate::common::{Run, TestEnv};

const TOKEN: &str = "ghs_SECRET0123456789";

/// Every ref name and reflog line of `repo`, to look for a secret in.
fn refs_and_reflogs(env: &TestEnv, repo: &std::path::Path) -> String {
    let names = env.git_ok(repo, &["for-each-ref", "--format=%(refname)"]);
    let mut all = names.clone();
    for name in names.lines() {
        all.push_str(&env.git(repo, &["reflog", "show", name]).stdout);
    }
    all
}

#[test]
fn a_token_in_a_remote_url_never_reaches_output_or_ref_names() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.handoff(&repo, &["init", "--no-hooks"]).ok();
    let id = env.plan(&repo, "Tokens");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let commit = env.commit_file(&repo, "a.txt", "a\n", "A");
    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    // The usual CI form; nothing listens on port 9, so the push fails after the hook's work.
    let url = format!("https://x-access-token:{TOKEN}@127.0.0.1:9/o/r.git");
    for command in ["push", "pull"] {
        let run = env.handoff(&repo, &[command, &url]);
        assert_ne!(run.code, 0, "{command} reached nothing: {run:?}");
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !said.contains(TOKEN) && !said.contains("SECRET"),
            "{command}: {said}"
        );
        assert!(
            said.contains("https://127.0.0.1:9/o/r.git"),
            "{command}: {said}"
        );
    }
    // The pre-push hook, as git runs it for `git push URL main` (git passes the URL as both
    // the remote and its location).
    let zero = "0".repeat(40);
    let run = env.handoff_stdin(
        &repo,
        &["hook", "pre-push", &url, &url],
        &format!("refs/heads/main {commit} refs/heads/main {zero}\n"),
    );
    run.ok();
    assert!(run.stderr.contains("your push goes on"), "{}", run.stderr);
    assert!(!run.stderr.contains(TOKEN), "{}", run.stderr);
    assert!(
        run.stderr.contains("https://127.0.0.1:9/o/r.git"),
        "{}",
        run.stderr
    );
    let everything = refs_and_reflogs(&env, &repo);
    assert!(
        !everything.contains(TOKEN) && !everything.contains("SECRET"),
        "{everything}"
    );
}

#[test]
fn repair_renames_tracking_refs_an_older_version_named_after_a_token() {
    let env = TestEnv::new();
    let (_bare, clones) = env.bare_with_clones("remote", &["me"]);
    let me = &clones[0];
    env.handoff(me, &["init", "--no-hooks"]).ok();
    let id = env.plan(me, "Old refs");
    let tip = env.git_ok(me, &["rev-parse", &format!("refs/handoff/sessions/{id}")]);
    // What an older version made of `git handoff pull https://x:TOKEN@host/r.git`.
    let encoded = format!(
        "https_3a_2f_2fx_3a{}_40host_2fr.git",
        TOKEN.replace('_', "_5f")
    );
    let bad = format!("refs/handoff-remotes/{encoded}/sessions/{id}");
    env.git_ok(me, &["update-ref", &bad, &tip]);
    env.git_ok(
        me,
        &[
            "update-ref",
            &format!("refs/notes/handoff-remotes/{encoded}"),
            &tip,
        ],
    );
    // The next pull says so, without the name.
    let run = env.handoff(me, &["pull", "origin"]);
    run.ok();
    assert!(run.stderr.contains("git handoff repair"), "{}", run.stderr);
    assert!(!run.stderr.contains("SECRET"), "{}", run.stderr);
    let out = env.handoff(me, &["repair", "--json"]).json();
    assert_eq!(out["credential_refs_renamed"], 2, "{out}");
    let everything = refs_and_reflogs(&env, me);
    assert!(!everything.contains("SECRET"), "{everything}");
    let renamed = env.git_ok(
        me,
        &[
            "rev-parse",
            &format!("refs/handoff-remotes/https_3a_2f_2fhost_2fr.git/sessions/{id}"),
        ],
    );
    assert_eq!(renamed, tip);
    // Nothing left to do.
    let again = env.handoff(me, &["repair", "--json"]).json();
    assert_eq!(again["credential_refs_renamed"], 0, "{again}");
}

/// With the hooks installed, pushes that name our refs themselves (or every ref) are left to
/// git: the hook's own push never moves a ref git has already negotiated.
#[test]
fn the_users_own_pushes_of_our_refs_work_with_the_hooks() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["me"]);
    let me = &clones[0];
    env.handoff(me, &["init"]).ok();
    let id = env.plan(me, "Own pushes");
    env.handoff(me, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(me, "a.txt", "a\n", "A");
    env.handoff(me, &["implement", &id, "-m", "done"]).ok();
    let mirror = env.path("mirror.git");
    env.git_ok(
        env.root.path(),
        &["init", "-q", "--bare", mirror.to_str().unwrap()],
    );
    let mirror = mirror.to_str().unwrap();
    let bare = bare.to_str().unwrap();
    for (i, args) in [
        vec!["push", "-q", "--mirror", mirror],
        vec!["push", "-q", bare, "main", "refs/notes/*"],
        vec!["push", "-q", bare, "refs/handoff/*:refs/handoff/*"],
    ]
    .into_iter()
    .enumerate()
    {
        // A new note before each, so our refs have moved since the remote last saw them.
        env.commit_file(me, &format!("b{i}.txt"), "b\n", "B");
        env.handoff(
            me,
            &[
                "implement",
                &id,
                "-m",
                "again",
                "--force",
                "--range",
                "HEAD^!",
            ],
        )
        .ok();
        let run = env.git(me, &args);
        assert_eq!(run.code, 0, "git {args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("cannot lock ref"), "{}", run.stderr);
        assert!(!run.stderr.contains("but expected"), "{}", run.stderr);
    }
    env.commit_file(me, "c.txt", "c\n", "C");
    env.handoff(
        me,
        &[
            "implement",
            &id,
            "-m",
            "once more",
            "--force",
            "--range",
            "HEAD^!",
        ],
    )
    .ok();
    let run = env.git(me, &["push", "-q", bare, "main", "refs/notes/handoff"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // What the remotes hold is what this clone holds.
    let notes = env.git_ok(me, &["rev-parse", "refs/notes/handoff"]);
    let theirs = env.git_ok(me, &["ls-remote", bare, "refs/notes/handoff"]);
    assert!(theirs.starts_with(&notes), "{theirs} vs {notes}");
}

/// Reads stop at the limit of a stored text with a clear error, whatever the source.
#[test]
fn endless_input_stops_at_the_limit() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Endless");
    for args in [
        vec!["plan", "-t", "Zero", "-F", "/dev/zero"],
        vec![
            "review",
            &id,
            "--verdict",
            "approve",
            "-m",
            "x",
            "--findings",
            "/dev/zero",
        ],
    ] {
        let err = env.handoff(&repo, &args).fails(1).to_owned();
        assert!(err.contains("8 MiB"), "{args:?}: {err}");
    }
    // Standard input that never ends (`yes | git handoff plan -F -`).
    let run = Run::from(
        env.command("sh", &repo)
            .args([
                "-c",
                &format!("yes | \"{}\" plan -t Yes -F -", crate::common::BIN),
            ])
            .output()
            .unwrap(),
    );
    let err = run.fails(1);
    assert!(err.contains("8 MiB"), "{err}");
    let list = env.handoff(&repo, &["list", "--json"]).json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1, "{list}");
}

/// A limit larger than anything there is saturates: never a false "nothing matches".
#[test]
fn a_huge_limit_is_not_a_false_nothing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.plan(&repo, "Zeppelin routes");
    let max = u64::MAX.to_string();
    let found = env
        .handoff(&repo, &["search", "zeppelin", "--limit", &max, "--json"])
        .json();
    assert_eq!(found["results"].as_array().unwrap().len(), 1, "{found}");
    let listed = env
        .handoff(&repo, &["list", "--limit", &max, "--json"])
        .json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1, "{listed}");
}

/// A partial clone (`--filter=blob:none`) reads its sessions: the blobs of what `pull` fetched
/// are fetched with it, in one round trip.
#[test]
fn a_partial_clone_reads_its_sessions() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["author"]);
    let author = &clones[0];
    env.handoff(author, &["init", "--no-hooks"]).ok();
    let id = env.plan(author, "Partial clones");
    env.handoff(
        author,
        &["review", &id, "--verdict", "approve", "-m", "Looks right"],
    )
    .ok();
    env.commit_file(author, "a.txt", "a\n", "A");
    env.handoff(
        author,
        &["implement", &id, "-m", "done", "--range", "HEAD^!"],
    )
    .ok();
    env.git_ok(author, &["push", "-q", "origin", "main"]);
    env.handoff(author, &["push"]).ok();
    for key in ["uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"] {
        env.git_ok(&bare, &["config", key, "true"]);
    }
    let partial = env.path("partial");
    env.git_ok(
        env.root.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            "--filter=blob:none",
            &format!("file://{}", bare.display()),
            partial.to_str().unwrap(),
        ],
    );
    env.git_ok(&partial, &["config", "user.name", "Reviewer"]);
    env.git_ok(&partial, &["config", "user.email", "r@example.com"]);
    env.handoff(&partial, &["init", "--no-hooks"]).ok();
    // A plain fetch brings the refs without their blobs.
    env.git_ok(&partial, &["fetch", "-q"]);
    let run = env.handoff(&partial, &["pull"]);
    run.ok();
    assert!(!run.stderr.contains("object not found"), "{}", run.stderr);
    let show = env.handoff(&partial, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "READY_FOR_CODEX_VALIDATION", "{show}");
    let prompt = env
        .handoff(&partial, &["context", &id, "--for", "validate"])
        .ok()
        .to_owned();
    assert!(
        prompt.contains("Looks right") && prompt.contains("+a"),
        "{prompt}"
    );
    let why = env.handoff(&partial, &["why", "HEAD", "--json"]).json();
    assert_eq!(why["sessions"][0]["id"], id.as_str(), "{why}");
}

/// The token forms of the second round never reach a git object: recorded as a plan, each is
/// redacted in the stored blob.
#[test]
fn the_second_rounds_token_forms_never_reach_git() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let secrets = [
        "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijABCDEFGHIJ1234",
        "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        "SK0123456789abcdef0123456789abcdef",
        "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "shpat_0123456789abcdef0123456789abcdef",
        "key-0123456789abcdefABCDEF0123456789",
        "sq0atp-0123456789abcdefABCDEF",
        "123456789:AAEhBP0av28Ej5gF0123456789abcdefghi",
        "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
        "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
        "AccountKey=abcdefghijABCDEFGHIJ0123456789abcdefghijABCDEFGHIJ0123456789==",
        "sig=AbCdEf0123456789%2BghIjKlMn%3D",
        "client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=",
        "machine api.example.com login deploy password Hx7!kq29Lm",
        "Authorization: Basic dXNlcjpzM2NyZXQ=",
        "curl -u admin:Pa55w0rd https://api.example.com",
        "mysql -u root -pS3cretRoot app",
        "db.internal:5432:app:admin:Pg#Secr3t",
    ];
    let secret_parts = [
        "abcdefghijABCDEFGHIJ1234",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        "0123456789abcdef0123456789abcdef",
        "AAEhBP0av28Ej5gF",
        "QQQQQQQQQQQQQQQQQQQQ",
        "abcdefghijABCDEFGHIJ0123456789abcdefghij",
        "AbCdEf0123456789",
        "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo",
        "Hx7!kq29Lm",
        "dXNlcjpzM2NyZXQ",
        "Pa55w0rd",
        "S3cretRoot",
        "Pg#Secr3t",
    ];
    let body = format!("## Secrets pasted by mistake\n\n{}\n", secrets.join("\n\n"));
    let id = env
        .handoff_stdin(&repo, &["plan", "-t", "Pasted", "-F", "-"], &body)
        .ok()
        .trim()
        .to_owned();
    let stored = env.git_ok(
        &repo,
        &[
            "log",
            "-p",
            "--format=",
            &format!("refs/handoff/sessions/{id}"),
        ],
    );
    for part in secret_parts {
        assert!(!stored.contains(part), "{part} reached git:\n{stored}");
    }
    assert!(stored.contains("[REDACTED:slack-webhook]"), "{stored}");
}

/// A repository whose path holds a byte that is not UTF-8 gets its hooks where git looks for
/// them, never in a look-alike directory outside it.
#[test]
fn a_non_utf8_repository_path_gets_its_own_hooks() {
    use std::os::unix::ffi::OsStrExt as _;
    let env = TestEnv::new();
    let dir = env
        .root
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir(&dir).unwrap();
    env.git_ok(&dir, &["init", "-q", "--initial-branch=main"]);
    env.git_ok(&dir, &["config", "user.name", "A U Thor"]);
    env.git_ok(&dir, &["config", "user.email", "author@example.com"]);
    env.handoff(&dir, &["init"]).ok();
    assert!(dir.join(".git/hooks/prepare-commit-msg").exists());
    let look_alike = env.root.path().join("caf\u{fffd}");
    assert!(
        !look_alike.exists(),
        "hooks were written outside the repository"
    );
    // And they run: a commit made while a session is current gets its trailer.
    env.commit_file(&dir, "README.md", "hello\n", "Initial commit");
    let id = env.plan(&dir, "Bytes");
    env.commit_file(&dir, "a.txt", "a\n", "A");
    let message = env.git_ok(&dir, &["log", "-1", "--format=%B"]);
    assert!(message.contains(&id), "{message}");
}

/// A damaged search index (pages overwritten, the header intact) is rebuilt from the refs:
/// `list` and `search` answer, whatever the damage.
#[test]
fn a_damaged_index_is_rebuilt_not_fatal() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    for n in 0..25 {
        env.plan(&repo, &format!("Session number {n} about zeppelins"));
    }
    env.handoff(&repo, &["search", "zeppelins"]).ok();
    let index = repo.join(".git/handoff/index.sqlite");
    env.handoff(&repo, &["list"]).ok();
    let pristine = std::fs::read(&index).unwrap();
    for trial in 0..8u64 {
        // Overwrite a spread of bytes past the 100-byte header with a trial's pattern.
        let mut damaged = pristine.clone();
        let mut x = trial.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = 100 + (x as usize) % (damaged.len() - 100);
            damaged[at] ^= 0xa5;
        }
        std::fs::write(&index, &damaged).unwrap();
        let _ = std::fs::remove_file(repo.join(".git/handoff/index.sqlite-wal"));
        let _ = std::fs::remove_file(repo.join(".git/handoff/index.sqlite-shm"));
        let found = env.handoff(&repo, &["search", "zeppelins", "--json"]);
        assert_eq!(found.code, 0, "trial {trial}: {}", found.stderr);
        let found: serde_json::Value = serde_json::from_str(&found.stdout).unwrap();
        assert_eq!(
            found["results"].as_array().unwrap().len(),
            20,
            "trial {trial}"
        );
        std::fs::write(&index, &damaged).unwrap();
        let listed = env.handoff(&repo, &["list", "--json"]);
        assert_eq!(listed.code, 0, "trial {trial}: {}", listed.stderr);
        let listed: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
        assert_eq!(
            listed["sessions"].as_array().unwrap().len(),
            25,
            "trial {trial}"
        );
    }
}

/// A shallow clone that lacks a session's commits says so, and how to get them, instead of
/// "object not found".
#[test]
fn a_shallow_clone_says_why_it_cannot_show_the_diff() {
    let env = TestEnv::new();
    let (bare, clones) = env.bare_with_clones("remote", &["author"]);
    let author = &clones[0];
    env.handoff(author, &["init", "--no-hooks"]).ok();
    let id = env.plan(author, "Shallow");
    env.commit_file(author, "a.txt", "a\n", "A");
    env.commit_file(author, "b.txt", "b\n", "B");
    env.handoff(
        author,
        &[
            "implement",
            &id,
            "-m",
            "done",
            "--force",
            "--range",
            "HEAD~2..HEAD",
        ],
    )
    .ok();
    env.commit_file(author, "c.txt", "c\n", "C after");
    env.git_ok(author, &["push", "-q", "origin", "main"]);
    env.handoff(author, &["push"]).ok();
    let shallow = env.path("shallow");
    env.git_ok(
        env.root.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            &format!("file://{}", bare.display()),
            shallow.to_str().unwrap(),
        ],
    );
    env.handoff(&shallow, &["init", "--no-hooks"]).ok();
    env.handoff(&shallow, &["pull"]).ok();
    let err = env
        .handoff(&shallow, &["context", &id, "--for", "validate"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("shallow clone") && err.contains("--deepen"),
        "{err}"
    );
    env.git_ok(&shallow, &["fetch", "-q", "--unshallow"]);
    let prompt = env
        .handoff(&shallow, &["context", &id, "--for", "validate"])
        .ok()
        .to_owned();
    assert!(prompt.contains("+a") && prompt.contains("+b"), "{prompt}");
}

/// Runs `script` (sh) in a user and mount namespace, where it may mount (a read-only bind, a
/// small tmpfs); `None` where the machine cannot make one.
fn in_namespace(env: &TestEnv, dir: &std::path::Path, script: &str) -> Option<Run> {
    let probe = env.command("unshare", dir).args(["-rm", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: this machine cannot make a user namespace (unshare -rm)");
        return None;
    }
    Some(Run::from(
        env.command("unshare", dir)
            .args(["-rm", "sh", "-c", script, crate::common::BIN])
            .output()
            .unwrap(),
    ))
}

/// A read-only `.git/handoff` or a full disk is the environment's problem: exit 1 naming it,
/// and the index that was there is left whole (a read never deletes derived data).
#[test]
fn a_read_only_or_full_index_directory_is_named_and_left_whole() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    for n in 0..5 {
        env.plan(&repo, &format!("Session {n}"));
    }
    env.handoff(&repo, &["search", "session"]).ok();
    let handoff = repo.join(".git/handoff");
    let index = handoff.join("index.sqlite");
    // A new session since (which a write keeps in the index), so that the next list has
    // something to check.
    env.plan(&repo, "Written before the directory turns read-only");
    let before = std::fs::read(&index).unwrap();
    let dir = handoff.to_str().unwrap();
    let Some(run) = in_namespace(
        &env,
        &repo,
        &format!(
            "mount --bind {dir} {dir} && mount -o remount,bind,ro {dir} {dir} && exec \"$0\" list"
        ),
    ) else {
        return;
    };
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(".git/handoff"), "{}", run.stderr);
    assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
    assert_eq!(
        std::fs::read(&index).unwrap(),
        before,
        "the index was changed"
    );
    // A full disk: the index on a small file system with no room left.
    let saved = env.path("index-saved");
    let saved = saved.to_str().unwrap();
    let script = format!(
        "mkdir -p {saved} && cp -a {dir}/. {saved}/ && mount -t tmpfs -o size=512k tmpfs {dir} \
         && cp -a {saved}/. {dir}/ && (dd if=/dev/zero of={dir}/filler bs=4k 2>/dev/null; true) \
         && \"$0\" list; code=$?; cmp -s {saved}/index.sqlite {dir}/index.sqlite && echo index-intact; exit $code"
    );
    let run = in_namespace(&env, &repo, &script).unwrap();
    assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
    assert!(!run.stderr.contains("rebuilding"), "{}", run.stderr);
    assert!(run.stdout.contains("index-intact"), "{run:?}");
    assert!(run.code == 0 || run.code == 1, "{run:?}");
}

/// A session ref that names an object the repository lost (a gc racing a write) says the
/// object is missing, not that it "is not a commit".
#[test]
fn a_ref_to_a_lost_object_says_it_is_missing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Lost");
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let ref_file = repo.join(format!(".git/refs/handoff/sessions/{id}"));
    std::fs::write(&ref_file, format!("{missing}\n")).unwrap();
    let err = env.handoff(&repo, &["show", &id]).fails(1).to_owned();
    assert!(err.contains("missing from the repository"), "{err}");
    assert!(!err.contains("not a commit"), "{err}");
}

/// The repository's objects directory, and a shell command that moves it onto a tmpfs of
/// `size_kb` KiB holding the same objects (for [`in_namespace`]): a small disk to fill.
fn objects_on_small_disk(env: &TestEnv, repo: &std::path::Path, size_kb: u32) -> (String, String) {
    let objects = repo.join(".git/objects").to_str().unwrap().to_owned();
    let saved = env.path("objects-saved");
    let saved = saved.to_str().unwrap();
    let mount = format!(
        "mkdir -p {saved} && cp -a {objects}/. {saved}/ && mount -t tmpfs -o size={size_kb}k tmpfs {objects} \
         && cp -a {saved}/. {objects}/"
    );
    (objects, mount)
}

/// A write on a full disk is the environment's problem: exit 1, the cause named, nothing
/// recorded (before: exit 255, "internal error").
#[test]
fn a_write_on_a_full_disk_says_so() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Full disk");
    let (objects, mount) = objects_on_small_disk(&env, &repo, 256);
    let script = format!(
        "{mount} && (dd if=/dev/zero of={objects}/filler bs=4k 2>/dev/null; true) \
         && exec \"$0\" review {id} --verdict approve -m 'A review that does not fit'"
    );
    let Some(run) = in_namespace(&env, &repo, &script) else {
        return;
    };
    let err = run.fails(1);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("disk holding the repository is full"), "{err}");
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "AWAITING_CODEX_REVIEW");
}

/// A large text on a full disk: libgit2 fails to stream the blob without saying why ("writing
/// a blob: no error"); the file system is asked, and its answer is what the user reads.
#[test]
fn a_large_write_on_a_full_disk_names_the_cause_and_the_directory() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Full disk, large text");
    // Incompressible enough that the blob cannot fit in what is left.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let text: String = (0..300_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    let review = env.path("review.md");
    std::fs::write(&review, format!("## Verdict\n\nAPPROVED\n\n{text}\n")).unwrap();
    let (objects, mount) = objects_on_small_disk(&env, &repo, 1024);
    let script = format!(
        "{mount} \
         && free=$(df -k {objects} | tail -1 | awk '{{print $4}}') \
         && dd if=/dev/zero of={objects}/filler bs=1k count=$((free - 32)) 2>/dev/null \
         && exec \"$0\" review {id} --verdict approve -F {}",
        review.display()
    );
    let Some(run) = in_namespace(&env, &repo, &script) else {
        return;
    };
    let err = run.fails(1);
    assert!(!err.contains("no error"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains(".git/objects"), "{err}");
    assert!(err.contains("disk holding the repository is full"), "{err}");
    let show = env.handoff(&repo, &["show", &id, "--json"]).json();
    assert_eq!(show["status"], "AWAITING_CODEX_REVIEW");
}

/// Every amount of space left gets the same answer until the write fits: "No space left on
/// device", exit 1, and never an error about a missing object. (With room for all but the
/// last object, libgit2 reported the session commit written when its bytes never reached the
/// disk, and the ref update then said "target OID for the reference doesn't exist".)
#[test]
fn a_write_filling_the_disk_at_any_point_says_the_disk_is_full() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Full disk, every step");
    let (objects, mount) = objects_on_small_disk(&env, &repo, 1024);
    let script = format!(
        "{mount} || exit 99
         for left in $(seq 0 64); do
           rm -f {objects}/filler
           free=$(df -k {objects} | tail -1 | awk '{{print $4}}')
           dd if=/dev/zero of={objects}/filler bs=1k count=$((free - left)) 2>/dev/null
           \"$0\" review {id} --verdict approve -m 'A small review' 2>&1
           code=$?
           echo \"left=$left exit=$code\"
           [ $code = 0 ] && exec \"$0\" show {id} --json
         done
         exit 1"
    );
    let Some(run) = in_namespace(&env, &repo, &script) else {
        return;
    };
    assert_eq!(run.code, 0, "the review never fitted: {run:?}");
    // The objects were written to the tmpfs, gone with the namespace: the status is read there.
    assert!(
        run.stdout
            .contains(r#""status": "READY_FOR_IMPLEMENTATION""#),
        "{}",
        run.stdout
    );
    let mut failures = 0;
    for line in run.stdout.lines() {
        if line.starts_with("left=") {
            if !line.ends_with("exit=0") {
                assert!(line.ends_with("exit=1"), "{}", run.stdout);
            }
            continue;
        }
        if line.starts_with("error:") {
            failures += 1;
            assert!(line.contains("No space left on device"), "{}", run.stdout);
        }
        assert!(!line.contains("doesn't exist"), "{}", run.stdout);
        assert!(!line.contains("not found"), "{}", run.stdout);
    }
    assert!(failures > 0, "no write failed: {}", run.stdout);
}

/// Loose session refs are packed once they pile up, so listing the refs (the search index's
/// freshness check) stays cheap at thousands of sessions; every session still reads.
#[test]
fn loose_session_refs_are_packed_when_they_pile_up() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let first = env.plan(&repo, "First");
    let tip = env.git_ok(
        &repo,
        &["rev-parse", &format!("refs/handoff/sessions/{first}")],
    );
    let lines: String = (0..200)
        .map(|n| format!("create refs/handoff/sessions/{first}-{n:04} {tip}\n"))
        .collect();
    let run = Run::from(
        env.command("git", &repo)
            .args(["update-ref", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(lines.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap(),
    );
    run.ok();
    let dir = repo.join(".git/refs/handoff/sessions");
    assert!(std::fs::read_dir(&dir).unwrap().count() > 200);
    let second = env.plan(&repo, "Second");
    let loose = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert!(loose < 10, "{loose} loose session refs left");
    let listed = env.git_ok(&repo, &["for-each-ref", "refs/handoff/sessions/"]);
    assert_eq!(listed.lines().count(), 202);
    for id in [&first, &second] {
        let show = env.handoff(&repo, &["show", id, "--json"]).json();
        assert_eq!(show["status"], "AWAITING_CODEX_REVIEW", "{show}");
    }
}
