//! The `brv` backend: ByteRover's CLI (`byterover-cli` on npm) and its local context tree.
//!
//! Every ByteRover write path that ships with the CLI needs an LLM provider (`brv curate`, the
//! MCP `brv-curate`), while `brv search` (BM25, no LLM, no login) indexes any markdown under
//! `.brv/context-tree/`. So each artifact is written as a topic file with ByteRover's front
//! matter under `.brv/context-tree/handoff/<SESSION-ID>/`, and searched with
//! `brv search --format json` (whose exit code is 0 even on failure: `success` decides).
//! Teams that share their tree through ByteRover set `brv-push` to end a sync with
//! `brv vc push`. Needs Node and `brv` on PATH (or `[byterover] brv-command`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::backend::{Backend, Fault, RemoteHit};
use super::render::{self, Document};

/// The folder of the handoff topics inside the context tree.
pub const TREE_DIR: &str = ".brv/context-tree/handoff";

/// ByteRover's local context tree as the index.
pub struct BrvBackend {
    workdir: PathBuf,
    command: Vec<String>,
    push: bool,
    timeout: Duration,
}

impl BrvBackend {
    /// A backend writing under `workdir/.brv/` and running `command` (`["brv"]`).
    pub fn new(workdir: PathBuf, command: Vec<String>, push: bool, timeout: Duration) -> Self {
        Self {
            workdir,
            command,
            push,
            timeout,
        }
    }

    /// Commits the handoff topics in ByteRover's own version control and pushes them
    /// (`brv vc add`, `commit`, `push`: its commands speak no JSON, their exit code decides).
    fn push_tree(&self) -> Result<(), Fault> {
        self.run_plain(&["vc", "add", "handoff"])?;
        self.run_plain(&["vc", "commit", "-m", "git-handoff sync"])?;
        self.run_plain(&["vc", "push"])
    }

    /// Runs the CLI with `args` in the work tree; a failure carries its last words.
    fn run_plain(&self, args: &[&str]) -> Result<(), Fault> {
        let output = self.spawn(args)?;
        if output.success() {
            return Ok(());
        }
        let text = format!("{}\n{}", output.stderr, output.stdout);
        let said = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.contains("--trace-warnings"))
            .unwrap_or("no reason given")
            .to_owned();
        Err(Fault::Local(format!(
            "brv {} failed: {}",
            args.join(" "),
            first_line(said.trim())
        )))
    }

    /// Runs the CLI with `args` in the work tree and returns its JSON answer's `data`.
    fn run(&self, args: &[&str]) -> Result<serde_json::Value, Fault> {
        let output = self.spawn(args)?;
        let program = self.command.first().map_or("brv", String::as_str);
        let stdout = &output.stdout;
        // One JSON line; anything before it (warnings) is skipped.
        let answer = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
            .ok_or_else(|| {
                Fault::Local(format!(
                    "{program} {} answered no JSON: {}",
                    args.first().copied().unwrap_or_default(),
                    first_line(&output.stderr)
                ))
            })?;
        let data = answer.get("data").cloned().unwrap_or_default();
        if answer.get("success").and_then(serde_json::Value::as_bool) != Some(true) {
            let error = data
                .get("error")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("no reason given");
            return Err(Fault::Local(format!(
                "{program} {} failed: {}",
                args.first().copied().unwrap_or_default(),
                first_line(error)
            )));
        }
        Ok(data)
    }

    /// Runs the CLI with `args` in the work tree, within the time limit.
    fn spawn(&self, args: &[&str]) -> Result<crate::process::Finished, Fault> {
        let Some((program, base)) = self.command.split_first() else {
            return Err(Fault::Local("[byterover] brv-command is empty".to_owned()));
        };
        let mut command = Command::new(program);
        command
            .args(base)
            .args(args)
            .current_dir(&self.workdir)
            .env("NO_UPDATE_NOTIFIER", "1");
        let finished = crate::process::run(command, None, self.timeout, &mut |_| {}).map_err(|e| {
            Fault::Local(format!(
                "cannot run {program}: {e} (install it with 'npm install -g byterover-cli', or set [byterover] brv-command)"
            ))
        })?;
        if finished.timed_out {
            return Err(Fault::Timeout(self.timeout));
        }
        Ok(finished)
    }
}

impl Backend for BrvBackend {
    fn key(&self) -> String {
        format!(
            "brv {}",
            self.workdir.display().to_string().trim_end_matches('/')
        )
    }

    fn preflight(&mut self) -> Result<(), Fault> {
        let tree = self.workdir.join(TREE_DIR);
        std::fs::create_dir_all(&tree)
            .map_err(|e| Fault::Local(format!("cannot create {}: {e}", tree.display())))?;
        // ByteRover finds its project by the nearest .brv/config.json.
        let config = self.workdir.join(".brv/config.json");
        if !config.exists() {
            let body = serde_json::json!({
                "createdAt": crate::views::rfc3339(crate::clock::now()),
                "cwd": self.workdir.display().to_string(),
                "version": "0.0.1",
            });
            std::fs::write(&config, format!("{body}\n"))
                .map_err(|e| Fault::Local(format!("cannot write {}: {e}", config.display())))?;
        }
        Ok(())
    }

    fn store(&mut self, docs: &[Document], done: &mut dyn FnMut(usize, Result<(), Fault>)) {
        let mut outcomes: Vec<Result<(), Fault>> = docs
            .iter()
            .map(|doc| write_topic(&self.workdir, doc))
            .collect();
        // With a shared tree, a text counts as sent once `brv vc push` took it: when the push
        // fails, every text written stays queued, and the next sync writes (the same files)
        // and pushes again.
        if self.push
            && outcomes.iter().any(Result::is_ok)
            && let Err(e) = self.push_tree()
        {
            for outcome in outcomes.iter_mut().filter(|o| o.is_ok()) {
                *outcome = Err(e.clone());
            }
        }
        for (i, outcome) in outcomes.into_iter().enumerate() {
            done(i, outcome);
        }
    }

    fn search(&mut self, query: &str, limit: usize) -> Result<Vec<RemoteHit>, Fault> {
        let limit = limit.clamp(1, 50).to_string();
        let data = self.run(&["search", query, "--format", "json", "--limit", &limit])?;
        let results = data
            .get("results")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(results
            .iter()
            .map(|r| RemoteHit {
                text: r
                    .get("excerpt")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                title: r
                    .get("path")
                    .or_else(|| r.get("title"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
                score: r.get("score").and_then(serde_json::Value::as_f64),
            })
            .collect())
    }
}

/// The topic file of a document: `<tree>/<SESSION-ID>/<ULID>-<kind>.md`, written whole
/// (temporary file, then rename) so a search never reads half of one.
pub fn topic_path(workdir: &Path, doc: &Document) -> PathBuf {
    workdir.join(TREE_DIR).join(&doc.session).join(format!(
        "{}-{}.md",
        doc.artifact,
        doc.kind.as_str()
    ))
}

fn write_topic(workdir: &Path, doc: &Document) -> Result<(), Fault> {
    let path = topic_path(workdir, doc);
    let dir = path.parent().unwrap_or(workdir);
    std::fs::create_dir_all(dir)
        .map_err(|e| Fault::Local(format!("cannot create {}: {e}", dir.display())))?;
    let now = crate::views::rfc3339(crate::clock::now());
    let title = format!(
        "{} {}: {}",
        doc.session,
        render::heading(doc.kind),
        doc.title
    );
    // ByteRover's front matter (its markdown writer's keys, in its order); search titles a
    // hit by the first '# ' heading, so the text follows one.
    let body = format!(
        "---\ntitle: {}\nsummary: {}\ntags: [handoff, {}]\nkeywords: [{}]\ncreatedAt: '{now}'\nupdatedAt: '{now}'\n---\n# {}\n\n{}",
        yaml_string(&title),
        yaml_string(&format!(
            "{} of {}, version {}",
            doc.kind.as_str(),
            doc.session,
            doc.version
        )),
        doc.kind.as_str(),
        yaml_string(&doc.session),
        title.replace('\n', " "),
        doc.text
    );
    let tmp = dir.join(format!(".{}.tmp", doc.artifact));
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| Fault::Local(format!("cannot write {}: {e}", path.display())))
}

/// A YAML double-quoted scalar.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(&text.replace(['\n', '\r'], " ")).unwrap_or_default()
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}
