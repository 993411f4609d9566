//! `git handoff annotate`: every format from real sessions, SARIF checked by Microsoft's SARIF
//! Multitool (from npm), and `--post github` against a loopback stand-in for GitHub's REST API
//! that answers with GitHub's documented responses and records what was sent
//! (`tests/github/stub.py`).

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::common::{BIN, Run, TestEnv};

/// A session whose latest validation has `findings` (JSON array), with `src/x.ts` committed
/// in its range. Returns its ID.
fn session_with_findings(env: &TestEnv, repo: &Path, title: &str, findings: &str) -> String {
    let id = env.plan(repo, title);
    env.handoff(repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    env.commit_file(
        repo,
        &format!("src/{}.ts", title.to_lowercase().replace(' ', "-")),
        "a\nb\nc\nd\n",
        title,
    );
    env.handoff(repo, &["implement", &id, "-m", "done"]).ok();
    std::fs::write(repo.join("findings.json"), findings).unwrap();
    env.handoff(
        repo,
        &[
            "validate",
            &id,
            "--verdict",
            "request-changes",
            "-m",
            "fix",
            "--findings",
            "findings.json",
        ],
    )
    .ok();
    id
}

fn finding(title: &str, priority: u8, path: Option<&str>, lines: (u32, u32)) -> serde_json::Value {
    let mut f = serde_json::json!({"title": title, "body": format!("Body of {title}"), "priority": priority});
    if let Some(path) = path {
        f["path"] = path.into();
        f["start_line"] = lines.0.into();
        f["end_line"] = lines.1.into();
    }
    f
}

#[test]
fn github_workflow_commands_are_escaped_capped_per_severity_and_summarised() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let mut findings: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            finding(
                &format!("Bug {i}, really: 100%"),
                1,
                Some("src/a.ts"),
                (i + 1, i + 2),
            )
        })
        .collect();
    findings.push(finding(
        "Minor\ninjected ::error::x",
        3,
        Some("src/b,c.ts"),
        (3, 3),
    ));
    let id = session_with_findings(
        &env,
        &repo,
        "Caps",
        &serde_json::to_string(&findings).unwrap(),
    );
    let summary = env.path("summary.md");
    let run = Run::from(
        env.command(BIN, &repo)
            .args(["annotate", &id, "--format", "github"])
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap(),
    );
    let out = run.ok();
    let lines: Vec<&str> = out.lines().collect();
    // GitHub keeps 10 per severity: the errors come first, the notice still gets through.
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::error ")).count(),
        10
    );
    assert!(
        lines[0].starts_with(
            "::error file=src/a.ts,line=1,endLine=2,title=[P1] Bug 0%2C really%3A 100%25::"
        ),
        "{}",
        lines[0]
    );
    let notice = lines.iter().find(|l| l.starts_with("::notice ")).unwrap();
    assert!(
        notice.contains("file=src/b%2Cc.ts")
            && notice.contains("title=[P3] Minor injected %3A%3Aerror%3A%3Ax"),
        "{notice}"
    );
    assert_eq!(lines.len(), 11, "{out}");
    assert!(
        run.stderr.contains("2 finding(s) left out"),
        "{}",
        run.stderr
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("Bug 11") && summary.contains(&id),
        "{summary}"
    );
}

/// Microsoft's SARIF Multitool, installed from npm once.
fn sarif_multitool() -> PathBuf {
    static READY: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
    crate::common::npm_install(&READY, "sarif-cli", &["@microsoft/sarif-multitool@5.7.0"])
        .join("sarif-multitool")
}

/// Problems the validator reports (its own SARIF log's results).
fn sarif_problems(env: &TestEnv, file: &Path) -> Vec<String> {
    let out = file.with_extension("validation.sarif");
    let run = env
        .command(sarif_multitool().to_str().unwrap(), file.parent().unwrap())
        .args([
            "validate",
            file.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--log",
            "ForceOverwrite",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {} {}", r["ruleId"], r["level"], r["message"]))
        .collect()
}

#[test]
fn sarif_passes_the_official_validator_with_github_s_required_fields() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let findings = [
        finding("Null check", 0, Some("src/a b/ü.ts"), (3, 9)),
        finding("Naming", 2, Some("src/x.ts"), (1, 1)),
        finding("No place", 3, None, (0, 0)),
    ];
    let id = session_with_findings(
        &env,
        &repo,
        "Sarif",
        &serde_json::to_string(&findings).unwrap(),
    );
    let run = env.handoff(&repo, &["annotate", &id, "--format", "sarif"]);
    let file = env.path("out.sarif");
    std::fs::write(&file, run.ok()).unwrap();
    // Every rule passes but SARIF2005, which asks for the tool's home page (informationUri):
    // git-handoff has no published one to name yet.
    let problems: Vec<String> = sarif_problems(&env, &file)
        .into_iter()
        .filter(|p| !p.starts_with("\"SARIF2005\""))
        .collect();
    assert_eq!(problems, Vec::<String>::new());
    let sarif: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        2,
        "the finding without a path has no location"
    );
    assert!(run.stderr.contains("1 finding(s) left out"));
    let first = &results[0];
    assert_eq!(first["level"], "error");
    let location = &first["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/a%20b/%C3%BC.ts");
    assert_eq!(location["region"]["startLine"], 3);
    assert!(first["partialFingerprints"]["primaryLocationLineHash"].is_string());
    assert_eq!(results[1]["level"], "warning");
    // The validator does catch a broken log, so the check above can fail.
    let broken = env.path("broken.sarif");
    std::fs::write(
        &broken,
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}"#,
    )
    .unwrap();
    assert!(!sarif_problems(&env, &broken).is_empty());
}

#[test]
fn rdjsonl_gitlab_checks_and_markdown_shapes() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let mut findings: Vec<serde_json::Value> = (0..60)
        .map(|i| finding(&format!("Issue {i}"), 2, Some("src/a.ts"), (i + 1, i + 1)))
        .collect();
    findings.push(serde_json::json!({"title": "<script>alert(1)</script> ping @octocat", "body": "x", "priority": 1, "path": "src/z.ts", "start_line": 4}));
    let id = session_with_findings(
        &env,
        &repo,
        "Shapes",
        &serde_json::to_string(&findings).unwrap(),
    );

    let rd = env.handoff(&repo, &["annotate", &id, "--format", "rdjsonl"]);
    let diagnostics: Vec<serde_json::Value> = rd
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(diagnostics.len(), 61);
    assert_eq!(diagnostics[0]["severity"], "ERROR");
    assert_eq!(diagnostics[0]["location"]["range"]["start"]["line"], 4);
    assert_eq!(diagnostics[1]["code"]["value"], "P2");

    let gl: serde_json::Value = serde_json::from_str(
        env.handoff(&repo, &["annotate", &id, "--format", "gitlab"])
            .ok(),
    )
    .unwrap();
    let issues = gl.as_array().unwrap();
    let prints: std::collections::HashSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), 61, "fingerprints are unique");
    assert_eq!(issues[0]["severity"], "critical");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 4);

    let checks: serde_json::Value = serde_json::from_str(
        env.handoff(&repo, &["annotate", &id, "--format", "checks"])
            .ok(),
    )
    .unwrap();
    let batches = checks.as_array().unwrap();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0]["annotations"].as_array().unwrap().len(), 50);
    assert_eq!(batches[1]["annotations"].as_array().unwrap().len(), 11);
    assert_eq!(batches[0]["annotations"][0]["annotation_level"], "failure");

    let md = env.handoff(&repo, &["annotate", &id, "--format", "markdown"]);
    let text = md.ok();
    assert!(
        text.contains(&id)
            && text.contains("CHANGES_REQUESTED")
            && text.contains("request-changes")
    );
    assert!(
        !text.contains("<script>") && !text.contains("@octocat"),
        "{text}"
    );
}

#[test]
fn gitlab_fingerprints_do_not_move_with_lines_and_later_verdicts_supersede() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let before = [finding("Race", 1, Some("src/a.ts"), (3, 4))];
    let id = session_with_findings(
        &env,
        &repo,
        "Moves",
        &serde_json::to_string(&before).unwrap(),
    );
    let print = |env: &TestEnv| -> String {
        let gl: serde_json::Value = serde_json::from_str(
            env.handoff(&repo, &["annotate", &id, "--format", "gitlab"])
                .ok(),
        )
        .unwrap();
        gl[0]["fingerprint"].as_str().unwrap().to_owned()
    };
    let first = print(&env);
    // The fix moved the code: a new implementation, and a validation finding the same issue
    // ten lines lower.
    env.commit_file(&repo, "src/more.ts", "x\n", "More");
    env.handoff(&repo, &["implement", &id, "-m", "again"]).ok();
    std::fs::write(
        repo.join("findings.json"),
        serde_json::to_string(&[finding("Race", 1, Some("src/a.ts"), (13, 14))]).unwrap(),
    )
    .unwrap();
    env.handoff(
        &repo,
        &[
            "validate",
            &id,
            "--verdict",
            "request-changes",
            "-m",
            "still",
            "--findings",
            "findings.json",
        ],
    )
    .ok();
    assert_eq!(print(&env), first);
    // Fixed: the approving validation leaves nothing open.
    env.handoff(&repo, &["implement", &id, "-m", "fixed"]).ok();
    env.handoff(
        &repo,
        &["validate", &id, "--verdict", "approve", "-m", "good"],
    )
    .ok();
    let out = env.handoff(&repo, &["annotate", &id, "--format", "rdjsonl"]);
    assert_eq!(out.ok(), "");
}

#[test]
fn a_range_selects_sessions_by_notes_and_trailers() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let base = env.git_ok(&repo, &["rev-parse", "HEAD"]);
    let noted = session_with_findings(
        &env,
        &repo,
        "Noted",
        &serde_json::to_string(&[finding("A", 1, Some("src/a.ts"), (1, 1))]).unwrap(),
    );
    // A cherry-picked commit carries only the trailer.
    let trailed = env.plan(&repo, "Trailed");
    std::fs::write(repo.join("t.txt"), "t\n").unwrap();
    env.git_ok(&repo, &["add", "t.txt"]);
    env.git_ok(
        &repo,
        &[
            "commit",
            "-q",
            "-m",
            &format!("T\n\nHandoff-Session: {trailed}"),
        ],
    );
    let md = env.handoff(
        &repo,
        &[
            "annotate",
            "--range",
            &format!("{base}..HEAD"),
            "--format",
            "markdown",
        ],
    );
    let text = md.ok();
    assert!(text.contains(&noted) && text.contains(&trailed), "{text}");
    let none = env.handoff(
        &repo,
        &["annotate", "--range", "HEAD..HEAD", "--format", "markdown"],
    );
    assert!(none.ok().contains("No handoff session"));
    // Neither a session nor a range: a usage error.
    assert_eq!(
        env.handoff(&repo, &["annotate", "--format", "sarif"]).code,
        2
    );
}

/// The GitHub stand-in, stopped when dropped.
struct GitHub {
    child: Child,
    state: PathBuf,
    url: String,
}

impl GitHub {
    fn start(env: &TestEnv, files: &serde_json::Value) -> Self {
        let state = env.path("github");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(state.join("files"), files.to_string()).unwrap();
        let child = env
            .command("python3", &state)
            .args([
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/github/stub.py"),
                state.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port = crate::common::wait_for_port(&state, "the GitHub stand-in");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    fn script(&self, answers: &serde_json::Value) {
        std::fs::write(self.state.join("script"), answers.to_string()).unwrap();
    }

    fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.state.join("log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn posts(&self) -> Vec<serde_json::Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["method"] == "POST")
            .collect()
    }

    fn annotate(&self, env: &TestEnv, repo: &Path, id: &str) -> Run {
        Run::from(
            env.command(BIN, repo)
                .args(["annotate", id, "--post", "github", "--pr", "7", "--json"])
                .env("GITHUB_TOKEN", "ghs_test")
                .env("GITHUB_REPOSITORY", "octo/repo")
                .env("GITHUB_API_URL", &self.url)
                .output()
                .unwrap(),
        )
    }
}

impl Drop for GitHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pr_files() -> serde_json::Value {
    serde_json::json!([
        {"sha": "bbcd538c8e72b8c175046e27cc8f907076331401", "filename": "src/post.ts", "status": "added",
         "additions": 4, "deletions": 0, "changes": 4, "patch": "@@ -0,0 +1,4 @@\n+a\n+b\n+c\n+d"}
    ])
}

fn post_findings() -> String {
    serde_json::to_string(&[
        finding("On the diff", 1, Some("src/post.ts"), (2, 3)),
        finding("One line", 3, Some("src/post.ts"), (4, 4)),
        finding("Elsewhere", 2, Some("src/old.ts"), (10, 12)),
        serde_json::json!({"title": "General", "body": "no place", "priority": 2}),
    ])
    .unwrap()
}

#[test]
fn posting_anchors_findings_on_the_diff_and_a_rerun_posts_nothing() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = session_with_findings(&env, &repo, "Post", &post_findings());
    let github = GitHub::start(&env, &pr_files());
    let run = github.annotate(&env, &repo, &id);
    let posted = run.json();
    assert_eq!(posted["event"], "REQUEST_CHANGES", "{}", run.stderr);
    assert_eq!(posted["inline"], 2);
    assert_eq!(posted["in_body"], 2);
    let posts = github.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["path"], "/repos/octo/repo/pulls/7/reviews");
    assert_eq!(posts[0]["authorization"], "Bearer ghs_test");
    let review = &posts[0]["body"];
    let comments = review["comments"].as_array().unwrap();
    assert_eq!(comments[0]["path"], "src/post.ts");
    assert_eq!(comments[0]["line"], 3);
    assert_eq!(comments[0]["start_line"], 2);
    assert_eq!(comments[0]["side"], "RIGHT");
    assert_eq!(comments[1]["line"], 4);
    assert!(comments[1].get("start_line").is_none());
    let body = review["body"].as_str().unwrap();
    assert!(
        body.contains("Elsewhere") && body.contains("General") && body.contains("src/old.ts:10-12"),
        "{body}"
    );
    // The same findings again: nothing new is posted.
    let again = github.annotate(&env, &repo, &id);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(github.posts().len(), 1);
}

#[test]
fn a_422_moves_the_comments_into_the_body_and_nothing_is_lost() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = session_with_findings(&env, &repo, "Moved", &post_findings());
    let github = GitHub::start(&env, &pr_files());
    github.script(&serde_json::json!([{"method": "POST", "path_end": "/reviews", "status": 422}]));
    let posted = github.annotate(&env, &repo, &id).json();
    assert_eq!(posted["moved_after_422"], true);
    assert_eq!(posted["inline"], 0);
    assert_eq!(posted["in_body"], 4);
    let posts = github.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0]["body"]["comments"].as_array().unwrap().len(), 2);
    let second = &posts[1]["body"];
    assert!(second["comments"].as_array().unwrap().is_empty());
    let body = second["body"].as_str().unwrap();
    for title in ["On the diff", "One line", "Elsewhere", "General"] {
        assert!(body.contains(title), "{title} lost: {body}");
    }
}

#[test]
fn rate_limits_are_waited_out_or_reported() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = session_with_findings(&env, &repo, "Limited", &post_findings());
    let github = GitHub::start(&env, &pr_files());
    // A primary limit on the first read (reset in a second) and a secondary one on the post.
    github.script(&serde_json::json!([
        {"method": "GET", "path_end": "/reviews", "status": 403, "reset_in": 1,
         "body": {"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}},
        {"method": "POST", "path_end": "/reviews", "status": 429, "headers": {"Retry-After": "1"},
         "body": {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}}
    ]));
    let run = github.annotate(&env, &repo, &id);
    assert_eq!(run.json()["inline"], 2, "{}", run.stderr);
    assert_eq!(github.posts().len(), 2, "the limited post is sent again");
    // A limit that lasts an hour is reported, not waited for, and nothing is posted.
    let env2 = TestEnv::new();
    let repo2 = env2.repo("repo");
    let id2 = session_with_findings(&env2, &repo2, "Hour", &post_findings());
    let github2 = GitHub::start(&env2, &pr_files());
    github2.script(&serde_json::json!([{"method": "GET", "path_end": "/reviews", "status": 403, "reset_in": 3600,
        "body": {"message": "API rate limit exceeded for installation ID 1."}}]));
    let run = github2.annotate(&env2, &repo2, &id2);
    let stderr = run.fails(1);
    assert!(stderr.contains("rate limit"), "{stderr}");
    assert!(github2.posts().is_empty());
    // A refused token names the variable.
    github2.script(&serde_json::json!([{"method": "GET", "path_end": "/reviews", "status": 401, "body": {"message": "Bad credentials"}}]));
    let stderr = github2.annotate(&env2, &repo2, &id2).fails(1).to_owned();
    assert!(stderr.contains("GITHUB_TOKEN"), "{stderr}");
}

/// Codex writes the priority into its finding titles ("[P1] ..."): every view says it once.
#[test]
fn a_priority_tag_in_a_title_is_said_once_in_every_view() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let findings = serde_json::json!([finding(
        "[P1] Key the limiter by user",
        1,
        Some("src/limiter.ts"),
        (1, 2)
    )]);
    let id = session_with_findings(&env, &repo, "Limiter", &findings.to_string());
    let views = [
        env.handoff(&repo, &["context", &id, "--for", "implement"])
            .ok()
            .to_owned(),
        env.handoff(&repo, &["show", &id]).ok().to_owned(),
        env.handoff(&repo, &["annotate", &id, "--format", "github"])
            .ok()
            .to_owned(),
        env.handoff(&repo, &["annotate", &id, "--format", "markdown"])
            .ok()
            .to_owned(),
    ];
    for view in views {
        assert!(view.contains("Key the limiter by user"), "{view}");
        assert!(!view.contains("[P1] [P1]"), "{view}");
        assert!(!view.contains("P1] [P1]"), "{view}");
        assert!(!view.contains("**P1** [P1]"), "{view}");
    }
}

/// No open findings: the file formats are still valid documents, and stderr says why the
/// output is empty (GitHub's workflow commands printed nothing and said nothing).
#[test]
fn no_open_findings_is_said_and_the_documents_stay_valid() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Clean");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let github = env.handoff(&repo, &["annotate", &id, "--format", "github"]);
    assert_eq!(github.ok(), "");
    assert!(
        github.stderr.contains("no open findings in 1 session(s)"),
        "{}",
        github.stderr
    );
    let sarif = env
        .handoff(&repo, &["annotate", &id, "--format", "sarif"])
        .json();
    assert_eq!(
        sarif["runs"][0]["results"],
        serde_json::json!([]),
        "{sarif}"
    );
    let gitlab = env
        .handoff(&repo, &["annotate", &id, "--format", "gitlab"])
        .json();
    assert_eq!(gitlab, serde_json::json!([]));
    assert_eq!(
        env.handoff(&repo, &["annotate", &id, "--format", "rdjsonl"])
            .ok(),
        ""
    );
}
