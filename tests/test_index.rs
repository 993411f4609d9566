//! The local search index: incremental refresh, rebuilds, search and filters.

use crate::common::{BIN, TestEnv};

fn list_ids(env: &TestEnv, repo: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut full = vec!["list", "--json"];
    full.extend_from_slice(args);
    let json = env.handoff(repo, &full).json();
    json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A clone of `origin` named `b`, with an identity of its own.
fn clone_as_b(env: &TestEnv, origin: &std::path::Path) -> std::path::PathBuf {
    let b = env.path("b");
    env.git_ok(
        env.root.path(),
        &["clone", "-q", origin.to_str().unwrap(), b.to_str().unwrap()],
    );
    env.git_ok(&b, &["config", "user.name", "B"]);
    env.git_ok(&b, &["config", "user.email", "b@example.com"]);
    b
}

#[test]
fn sessions_fetched_or_deleted_with_plain_git_show_up_at_once() {
    let env = TestEnv::new();
    let a = env.repo("a");
    let first = env.plan(&a, "First");
    let b = clone_as_b(&env, &a);
    assert_eq!(
        list_ids(&env, &b, &[]),
        Vec::<String>::new(),
        "the index starts empty"
    );
    env.git_ok(
        &b,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/handoff/sessions/*:refs/handoff/sessions/*",
        ],
    );
    assert_eq!(list_ids(&env, &b, &[]), [first.as_str()]);
    let hits = env.handoff(&b, &["search", "thing", "--json"]).json();
    assert_eq!(hits["results"][0]["session"], first.as_str());

    // A new artifact upstream (tip moves) is re-read after the next fetch.
    env.handoff(
        &a,
        &[
            "review",
            &first,
            "--verdict",
            "approve",
            "-m",
            "Looks right: zebra",
        ],
    )
    .ok();
    env.git_ok(
        &b,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/handoff/sessions/*:refs/handoff/sessions/*",
        ],
    );
    let json = env.handoff(&b, &["list", "--json"]).json();
    assert_eq!(json["sessions"][0]["status"], "READY_FOR_IMPLEMENTATION");
    assert_eq!(json["sessions"][0]["artifacts"], 2);
    assert_eq!(
        env.handoff(&b, &["search", "zebra", "--json"]).json()["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    env.git_ok(
        &b,
        &[
            "update-ref",
            "-d",
            &format!("refs/handoff/sessions/{first}"),
        ],
    );
    assert_eq!(list_ids(&env, &b, &[]), Vec::<String>::new());
    assert_eq!(
        env.handoff(&b, &["search", "zebra", "--json"]).json()["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn a_corrupt_or_old_index_is_rebuilt_with_one_line_and_the_same_results() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let ids = [env.plan(&repo, "Alpha"), env.plan(&repo, "Beta")];
    let before = env.handoff(&repo, &["list", "--json"]).json();
    let db = repo.join(".git/handoff/index.sqlite");
    assert!(db.exists());
    std::fs::write(&db, b"this is not a database, just garbage bytes............................................................").unwrap();
    let run = env.handoff(&repo, &["list", "--json"]);
    assert_eq!(run.json(), before);
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("rebuilding the search index"))
            .count(),
        1,
        "{}",
        run.stderr
    );

    // Another format version is rebuilt too.
    let status = std::process::Command::new("python3")
        .args(["-c", &format!("import sqlite3; c=sqlite3.connect('{}'); c.execute('PRAGMA user_version=999'); c.commit()", db.display())])
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "python3 with sqlite3 is needed to age the index"
    );
    let run = env.handoff(&repo, &["list", "--json"]);
    assert_eq!(run.json(), before);
    assert!(run.stderr.contains("format 999"), "{}", run.stderr);

    // Deleting the folder loses nothing.
    std::fs::remove_dir_all(repo.join(".git/handoff")).unwrap();
    let mut after = list_ids(&env, &repo, &[]);
    after.sort();
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(after, expected);
    let reindex = env.handoff(&repo, &["reindex", "--json"]).json();
    assert_eq!(reindex["sessions"], 2);
}

#[test]
fn filters_select_by_status_agent_kind_and_date() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let planned = env.plan(&repo, "Only planned");
    let reviewed = env.plan(&repo, "Reviewed by gemini");
    env.handoff(
        &repo,
        &[
            "review",
            &reviewed,
            "--verdict",
            "reject",
            "--agent",
            "Gemini",
            "-m",
            "no",
        ],
    )
    .ok();
    assert_eq!(
        list_ids(&env, &repo, &["--status", "changes-requested"]),
        [reviewed.as_str()]
    );
    assert_eq!(
        list_ids(&env, &repo, &["--status", "AWAITING_CODEX_REVIEW"]),
        [planned.as_str()]
    );
    assert_eq!(
        list_ids(&env, &repo, &["--agent", "gemini"]),
        [reviewed.as_str()]
    );
    assert_eq!(
        list_ids(&env, &repo, &["--kind", "review"]),
        [reviewed.as_str()]
    );
    assert_eq!(
        list_ids(&env, &repo, &[]),
        [reviewed.clone(), planned.clone()],
        "newest first"
    );
    assert_eq!(
        list_ids(&env, &repo, &["--limit", "1"]),
        [reviewed.as_str()]
    );
    assert_eq!(
        list_ids(&env, &repo, &["--since", "2099-01-01"]),
        Vec::<String>::new()
    );
    assert_eq!(list_ids(&env, &repo, &["--since", "2025-10-27"]).len(), 2);
    let hits = env
        .handoff(
            &repo,
            &[
                "search",
                "do thing",
                "--kind",
                "plan",
                "--status",
                "AWAITING_CODEX_REVIEW",
                "--json",
            ],
        )
        .json();
    let sessions: Vec<&str> = hits["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["session"].as_str().unwrap())
        .collect();
    assert_eq!(sessions, [planned.as_str()]);
    let hits = env
        .handoff(&repo, &["search", "no", "--agent", "GEMINI", "--json"])
        .json();
    assert_eq!(hits["results"][0]["kind"], "review");
}

#[test]
fn search_ranks_a_named_session_first_and_marks_matches() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let target = env.plan(&repo, "Quiet session");
    for i in 0..3 {
        env.handoff(
            &repo,
            &[
                "plan",
                "-t",
                &format!("Noisy {i}"),
                "-m",
                "rate limiting rate limiting rate limiting review",
            ],
        )
        .ok();
    }
    let random = &target["SESSION-20251027-".len().."SESSION-20251027-".len() + 8];
    for query in [
        format!("{target} rate limiting review"),
        format!("{random} rate limiting"),
    ] {
        let hits = env.handoff(&repo, &["search", &query, "--json"]).json();
        assert_eq!(
            hits["results"][0]["session"],
            target.as_str(),
            "{query}: {hits}"
        );
    }
    let hits = env.handoff(&repo, &["search", "limiting", "--json"]).json();
    let first = &hits["results"][0];
    let snippet = first["snippet"].as_str().unwrap();
    let [start, end] = [&first["matches"][0][0], &first["matches"][0][1]]
        .map(|v| usize::try_from(v.as_u64().unwrap()).unwrap());
    assert_eq!(snippet[start..end].to_lowercase(), "limiting", "{first}");
    assert!(
        !snippet.contains("**") && first["score"].as_f64().unwrap() > 0.0,
        "{first}"
    );
    let human = env.handoff(&repo, &["search", "limiting"]).ok().to_owned();
    assert!(human.contains("[limiting]"), "{human}");
    let limited = env
        .handoff(&repo, &["search", "limiting", "--limit", "2", "--json"])
        .json();
    assert_eq!(limited["results"].as_array().unwrap().len(), 2);
}

#[test]
fn query_syntax_from_users_never_leaks_sqlite_errors() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    env.plan(&repo, "Syntax");
    for query in [
        "\"unbalanced",
        "AND OR",
        "foo*(",
        "NEAR(",
        "thing)",
        "col:thing",
        "^thing",
        "-thing",
        "thing*",
    ] {
        let run = env.handoff(&repo, &["search", "--json", "--", query]);
        assert!(run.code == 0, "{query}: exit {} {}", run.code, run.stderr);
        assert!(
            !run.stderr.to_lowercase().contains("fts5") && !run.stderr.contains("sqlite"),
            "{query}: {}",
            run.stderr
        );
    }
    let hits = env.handoff(&repo, &["search", "thing)", "--json"]).json();
    assert_eq!(hits["results"].as_array().unwrap().len(), 1);
    let err = env.handoff(&repo, &["search", "( ) *"]).fails(1).to_owned();
    assert!(err.contains("no words to search for"), "{err}");
}

#[test]
fn concurrent_readers_and_writers_share_the_index() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Busy");
    let scripts: Vec<String> = (0..6)
        .map(|i| {
            if i % 2 == 0 {
                format!(
                    "for n in 1 2 3; do \"{BIN}\" plan --session {id} -m \"writer {i} $n\" >/dev/null || exit 1; done"
                )
            } else {
                format!(
                    "for n in 1 2 3 4 5; do \"{BIN}\" list --json >/dev/null || exit 1; \"{BIN}\" search writer >/dev/null || exit 1; done"
                )
            }
        })
        .collect();
    env.run_concurrently(&repo, &scripts);
    let json = env.handoff(&repo, &["list", "--json"]).json();
    assert_eq!(json["sessions"][0]["artifacts"], 1 + 3 * 3);
    let hits = env
        .handoff(&repo, &["search", "writer", "--limit", "100", "--json"])
        .json();
    assert_eq!(hits["results"].as_array().unwrap().len(), 9);
}

#[test]
fn terms_left_pending_by_list_are_searchable_at_the_first_search() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Pending terms");
    env.handoff(&repo, &["list"]).ok();
    let hits = env.handoff(&repo, &["search", "thing", "--json"]).json();
    assert_eq!(hits["results"][0]["session"], id.as_str(), "{hits}");
    env.handoff(&repo, &["plan", "--session", &id, "-m", "zeppelin route"])
        .ok();
    env.handoff(&repo, &["list"]).ok();
    let hits = env.handoff(&repo, &["search", "zeppelin", "--json"]).json();
    assert_eq!(hits["results"].as_array().unwrap().len(), 1, "{hits}");
    // The old terms of the replaced rows are gone with them.
    let hits = env.handoff(&repo, &["search", "thing", "--json"]).json();
    assert_eq!(hits["results"].as_array().unwrap().len(), 1, "{hits}");
}

#[test]
fn local_writes_are_listed_at_once_and_exactly_without_rereading_every_ref() {
    let env = TestEnv::new();
    let a = env.repo("a");
    let first = env.plan(&a, "First");
    let b = clone_as_b(&env, &a);
    env.handoff(&b, &["pull"]).ok();
    let rows = |env: &TestEnv| -> Vec<(String, String, String)> {
        let json = env.handoff(&b, &["list", "--json"]).json();
        json["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let field = |k: &str| s[k].as_str().unwrap().to_owned();
                (field("id"), field("ref"), field("status"))
            })
            .collect()
    };
    let tracking = format!("refs/handoff-remotes/origin/sessions/{first}");
    let local = |id: &str| format!("refs/handoff/sessions/{id}");
    assert_eq!(
        rows(&env),
        [(first.clone(), tracking, "AWAITING_CODEX_REVIEW".to_owned())]
    );
    // Past the racy window of the refs written so far, so that only the local sessions
    // directory changes from here on (the case re-read without listing every ref).
    std::thread::sleep(std::time::Duration::from_millis(200));
    // Recording here adopts the session: its local ref hides the tracking one.
    env.handoff(&b, &["review", &first, "--verdict", "approve", "-m", "ok"])
        .ok();
    assert_eq!(
        rows(&env),
        [(
            first.clone(),
            local(&first),
            "READY_FOR_IMPLEMENTATION".to_owned()
        )]
    );
    let second = env.plan(&b, "Second");
    assert_eq!(list_ids(&env, &b, &[]), [second.clone(), first.clone()]);
    // A loose ref deleted with plain git, then every ref packed: still exact.
    env.git_ok(&b, &["update-ref", "-d", &local(&second)]);
    assert_eq!(list_ids(&env, &b, &[]), [first.as_str()]);
    env.git_ok(&b, &["pack-refs", "--all"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let third = env.plan(&b, "Third");
    assert_eq!(list_ids(&env, &b, &[]), [third.clone(), first.clone()]);
    // The index agrees with one rebuilt from nothing.
    let before = env.handoff(&b, &["list", "--json"]).json();
    env.handoff(&b, &["reindex"]).ok();
    let after = env.handoff(&b, &["list", "--json"]).json();
    assert_eq!(before, after);
}

#[test]
fn a_refresh_of_many_sessions_reads_them_while_writing_and_misses_none() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let first = env.plan(&repo, "Written by the tool");
    // More sessions than one read chunk (crates/core/src/index/refresh.rs): 700 written by fast-import
    // in the storage layout (docs/format.md), as a fetch of a busy remote brings them.
    let mut script = String::new();
    for i in 0..700 {
        let id = format!("SESSION-20251027-{i:08}");
        let word = if i == 555 { "quokka" } else { "wombat" };
        let toml = format!(
            "schema_version = 1\nid = \"{id}\"\ntitle = \"Imported {i}\"\ncreated = \"2025-10-27T10:00:00.000Z\"\n"
        );
        let plan = format!(
            "+++\nschema_version = 1\nid = \"01JB{i:022}\"\nsession = \"{id}\"\nkind = \"plan\"\nagent = \"claude\"\ncreated = \"2025-10-27T10:00:00.000Z\"\nauthor = \"A U Thor <author@example.com>\"\niteration = 1\nstatus = \"AWAITING_CODEX_REVIEW\"\n+++\n\nPlan about the {word}.\n"
        );
        let message = format!("plan: Imported {i}");
        script.push_str(&format!(
            "commit refs/handoff/sessions/{id}\ncommitter A U Thor <author@example.com> 1761559200 +0000\ndata {}\n{message}\nM 100644 inline session.toml\ndata {}\n{toml}\nM 100644 inline artifacts/01JB{i:022}-plan.md\ndata {}\n{plan}\n\n",
            message.len(),
            toml.len(),
            plan.len()
        ));
    }
    let mut child = env
        .command("git", &repo)
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());

    let listed = env.handoff(&repo, &["list", "--json"]).json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 701);
    assert_eq!(
        listed["errors"].as_array().unwrap().len(),
        0,
        "{}",
        listed["errors"]
    );
    let found = env.handoff(&repo, &["search", "quokka", "--json"]).json();
    assert_eq!(found["results"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["results"][0]["session"], "SESSION-20251027-00000555");
    assert_eq!(list_ids(&env, &repo, &["--limit", "1"]), [first]);
    // The same as an index rebuilt from nothing, full-text terms written at once.
    env.handoff(&repo, &["reindex"]).ok();
    assert_eq!(env.handoff(&repo, &["list", "--json"]).json(), listed);
    let found_again = env.handoff(&repo, &["search", "quokka", "--json"]).json();
    assert_eq!(
        found_again["results"][0]["session"],
        "SESSION-20251027-00000555"
    );
}

/// Artifact IDs with the bits of their scores.
type Scores = Vec<(String, u64)>;

/// Every hit of `query` (up to 1,000) as `search --json` gives it, and as FTS5's own `bm25()`
/// scores the same matches in the index file: artifact ID to score, compared exactly.
fn scores_both_ways(env: &TestEnv, repo: &std::path::Path, query: &str) -> (Scores, Scores) {
    let run = env.handoff(repo, &["search", query, "--limit", "1000", "--json"]);
    let hits = run.json();
    // The scores as printed, parsed exactly (serde_json's own float parsing may be one unit
    // in the last place off).
    let printed: Vec<f64> = run
        .ok()
        .split("\"score\":")
        .skip(1)
        .map(|rest| {
            let end = rest.find([',', '}']).unwrap();
            rest[..end].trim().parse().unwrap()
        })
        .collect();
    let results = hits["results"].as_array().unwrap();
    assert_eq!(printed.len(), results.len());
    let mut ours: Scores = results
        .iter()
        .zip(printed)
        .map(|(h, score)| (h["artifact"].as_str().unwrap().to_owned(), score.to_bits()))
        .collect();
    let db = rusqlite::Connection::open(repo.join(".git/handoff/index.sqlite")).unwrap();
    let terms = git_handoff::index::parse_terms(query).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT r.artifact, bm25(artifact_text, 2.0, 5.0, 1.0, 2.0, 0.5, 0.5, 0.5)
             FROM artifact_text JOIN artifact_rows r ON r.rowid = artifact_text.rowid
             WHERE artifact_text MATCH ?1",
        )
        .unwrap();
    let mut theirs: Scores = stmt
        .query_map([&terms.fts], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (-r.get::<_, f64>(1)?).max(0.0).to_bits(),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ours.sort();
    theirs.sort();
    (ours, theirs)
}

#[test]
fn plain_word_searches_are_scored_from_the_postings_exactly_as_fts5_scores() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let texts = [
        "redis backoff with jitter, then redis again",
        "Straße café naïve résumé: redis — backoff",
        "Cache-Control headers and the redis cache",
        "jitter jitter jitter",
    ];
    let mut ids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let run = env.handoff(&repo, &["plan", "-t", &format!("Session {i}"), "-m", text]);
        ids.push(run.ok().trim().to_owned());
    }
    let queries = [
        "redis",
        "redis backoff jitter",
        "cafe strasse",
        "cache",
        "session 1",
    ];
    let check = |stage: &str| {
        for query in queries {
            let (ours, theirs) = scores_both_ways(&env, &repo, query);
            assert!(!theirs.is_empty(), "{stage}: {query}");
            assert_eq!(ours, theirs, "{stage}: {query}");
        }
        let index = git_handoff::index::Index::open(&repo.join(".git"), &mut |_| {}).unwrap();
        assert!(index.postings_in_use().unwrap(), "{stage}");
    };
    // Terms written at the first search (left pending by plan's refresh).
    check("first search");
    // A review replaces its session's rows: the old ones are deleted under the postings.
    env.handoff(
        &repo,
        &[
            "review",
            &ids[1],
            "--verdict",
            "approve",
            "-m",
            "redis looks right; ÉCOLE",
        ],
    )
    .ok();
    // The write indexed its own full-text terms: nothing is left for the next search to read
    // from git (a process that wrote thousands of sessions leaves no thousands to another).
    let db = rusqlite::Connection::open(repo.join(".git/handoff/index.sqlite")).unwrap();
    let pending: i64 = db
        .query_row(
            "SELECT count(*) FROM sessions WHERE text_pending = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pending, 0, "the review's terms were left pending");
    check("after a review");
    // A cold build writes them all at once.
    env.handoff(&repo, &["reindex"]).ok();
    check("after reindex");
}

/// A write by any git-handoff process keeps an existing index current: right after `plan`,
/// before any read command, the index already holds the new session (so the next query, or an
/// MCP server's, does not have to find and read it). A repository without an index gets none.
#[test]
fn writes_keep_an_existing_index_current() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let first = env.plan(&repo, "First");
    let index = repo.join(".git/handoff/index.sqlite");
    assert!(!index.exists(), "a write created an index nobody asked for");
    env.handoff(&repo, &["list"]).ok();
    let second = env.plan(&repo, "Second");
    env.handoff(
        &repo,
        &["review", &first, "--verdict", "approve", "-m", "ok"],
    )
    .ok();
    let rows = env
        .command("python3", &repo)
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print('\\n'.join(f'{r[0]} {r[1]}' for r in c.execute('select id, status from sessions order by id')))",
            index.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let rows = String::from_utf8_lossy(&rows.stdout);
    assert!(
        rows.contains(&format!("{second} AWAITING_CODEX_REVIEW")),
        "{rows}"
    );
    assert!(
        rows.contains(&format!("{first} READY_FOR_IMPLEMENTATION")),
        "{rows}"
    );
}
