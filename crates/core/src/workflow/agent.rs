//! Running an agent (`git handoff run`, `git handoff loop`): the command line of each preset,
//! the prompt on standard input (never a shell string built from artifact text), a time limit,
//! and the parsing of its answer: a reviewer's into a verdict, findings and a body ([`run`]), a
//! planner's or implementer's into its text ([`run_text`]).
//!
//! Presets (README, "Agents"):
//! - `codex`: `codex exec --sandbox read-only --output-schema FILE -o FILE -`; the final JSON
//!   (the review schema, [`REVIEW_SCHEMA`]) is read from the `-o` file.
//! - `claude`: `claude -p --output-format json --json-schema '<schema>'`; the answer is the
//!   result object's `structured_output`, and `is_error: true` is a failure whatever the exit
//!   code.
//! - any other command (`[agents.commands]` in the configuration): prompt on stdin, markdown on
//!   stdout, the verdict read from a `## Verdict` section.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::session::{Finding, Verdict};
use crate::workflow::findings;

/// The JSON schema of a structured review answer: Codex's own review output shape, written
/// with every property required, as OpenAI's strict structured outputs want.
pub const REVIEW_SCHEMA: &str = include_str!("review-schema.json");

/// Why running an agent gave nothing to record. Nothing is stored in any of these cases, and
/// the agent's raw output is kept in the file named by [`Failure::raw`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The agent could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The agent failed: a non-zero exit, or a result marked as an error.
    #[error("{agent} failed: {message}{}", raw_note(.raw))]
    Failed {
        /// The agent's name.
        agent: String,
        /// Its own message (the end of its stderr, or its error result).
        message: String,
        /// Where its raw output was kept.
        raw: Option<PathBuf>,
    },
    /// The agent ran longer than allowed and was stopped.
    #[error("{agent} did not answer within {limit:?} and was stopped{}", raw_note(.raw))]
    TimedOut {
        /// The agent's name.
        agent: String,
        /// The limit.
        limit: Duration,
        /// Where its raw output was kept.
        raw: Option<PathBuf>,
    },
    /// The agent answered something that is not a review (or, asked for a plan or a summary,
    /// nothing).
    #[error("{agent} answered something that is not {wanted} ({problem}){}", raw_note(.raw))]
    Garbage {
        /// The agent's name.
        agent: String,
        /// What was asked for: "a review", "a plan", "a summary".
        wanted: &'static str,
        /// What is wrong with the answer.
        problem: String,
        /// Where its raw output was kept.
        raw: Option<PathBuf>,
    },
    /// No such agent.
    #[error(
        "unknown agent '{0}': use codex, claude, or a command configured under [agents.commands] in .handoff.toml"
    )]
    Unknown(String),
}

fn raw_note(raw: &Option<PathBuf>) -> String {
    raw.as_ref()
        .map(|p| format!("; its output is kept in {}", p.display()))
        .unwrap_or_default()
}

/// How an agent is run and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preset {
    /// OpenAI's Codex CLI.
    Codex,
    /// Anthropic's Claude Code CLI.
    Claude,
    /// A configured command: prompt on stdin, markdown on stdout.
    Command(Vec<String>),
}

impl Preset {
    /// The preset for an agent name: `codex`, `claude`, or a configured command.
    pub fn for_agent(
        name: &str,
        commands: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<Self, Error> {
        if let Some(command) = commands.get(name).filter(|c| !c.is_empty()) {
            return Ok(Self::Command(command.clone()));
        }
        match name {
            "codex" => Ok(Self::Codex),
            "claude" => Ok(Self::Claude),
            other => Err(Error::Unknown(other.to_owned())),
        }
    }
}

/// What an agent answered, ready to record.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The verdict.
    pub verdict: Verdict,
    /// The findings, paths relative to the repository.
    pub findings: Vec<Finding>,
    /// The markdown body.
    pub body: String,
}

/// Where and how long an agent runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The agent's name (for messages and the recorded artifact).
    pub agent: String,
    /// The repository's work tree: the agent runs there, and paths are made relative to it.
    pub work_dir: PathBuf,
    /// A directory for the schema, the answer file and kept raw output.
    pub scratch: PathBuf,
    /// How long the agent may run.
    pub timeout: Duration,
}

/// Runs `preset` with `prompt` on its standard input and parses its answer. `waiting` is called
/// about every 15 seconds with the time spent so far (for progress on a terminal).
pub fn run(
    preset: &Preset,
    prompt: &str,
    options: &RunOptions,
    waiting: &mut dyn FnMut(Duration),
) -> Result<Answer, Error> {
    let schema = options.scratch.join("review-schema.json");
    invoke(
        options,
        prompt,
        "a review",
        "json",
        |answer_file| {
            let (program, args) =
                command_line(preset, Ask::Verdict { schema: &schema }, answer_file);
            if *preset == Preset::Codex {
                std::fs::write(&schema, REVIEW_SCHEMA).map_err(|source| Error::Spawn {
                    program: program.clone(),
                    source,
                })?;
            }
            Ok((program, args))
        },
        |output, answer_text| match preset {
            Preset::Codex => {
                if output.code != Some(0) {
                    Err(failure_message(output))
                } else {
                    answer_text
                        .ok_or_else(|| Problem::Garbage("no answer file was written".to_owned()))
                        .and_then(|text| structured(text, &options.work_dir))
                }
            }
            Preset::Claude => claude_answer(output, &options.work_dir),
            Preset::Command(_) => {
                if output.code != Some(0) {
                    Err(failure_message(output))
                } else {
                    markdown(&output.stdout)
                }
            }
        },
        waiting,
    )
}

/// One run of an agent, whatever it is asked for: the scratch directory, an answer file named
/// for this run (`line` makes the command line from its path), the prompt on standard input
/// under the time limit, then `parse` of the output and the answer file's text. A time-out or
/// an answer `parse` refuses keeps the raw output in a file the error names.
fn invoke<T>(
    options: &RunOptions,
    prompt: &str,
    wanted: &'static str,
    extension: &str,
    line: impl FnOnce(&Path) -> Result<(String, Vec<String>), Error>,
    parse: impl FnOnce(&Output, Option<&str>) -> Result<T, Problem>,
    waiting: &mut dyn FnMut(Duration),
) -> Result<T, Error> {
    std::fs::create_dir_all(&options.scratch).map_err(|source| Error::Spawn {
        program: options.agent.clone(),
        source,
    })?;
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        crate::clock::now().timestamp_millis()
    );
    let answer_file = options.scratch.join(format!("answer-{stamp}.{extension}"));
    let (program, args) = line(&answer_file)?;
    let output = spawn_and_wait(&program, &args, prompt, options, waiting)?;
    let answer_text = std::fs::read_to_string(&answer_file).ok();
    let _ = std::fs::remove_file(&answer_file);
    let keep = |output: &Output| {
        keep_raw(
            options,
            &stamp,
            &program,
            &args,
            output,
            answer_text.as_deref(),
        )
    };
    if output.timed_out {
        return Err(Error::TimedOut {
            agent: options.agent.clone(),
            limit: options.timeout,
            raw: keep(&output),
        });
    }
    parse(&output, answer_text.as_deref()).map_err(|problem| {
        let raw = keep(&output);
        match problem {
            Problem::Failed(message) => Error::Failed {
                agent: options.agent.clone(),
                message,
                raw,
            },
            Problem::Garbage(problem) => Error::Garbage {
                agent: options.agent.clone(),
                wanted,
                problem,
                raw,
            },
        }
    })
}

/// What a planner or implementer is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// A plan, read-only: Claude in plan mode, Codex in its read-only sandbox.
    Plan,
    /// The implementation, edits allowed in the work tree and nowhere else: Claude with
    /// `--permission-mode acceptEdits` (edits inside its working directory), Codex in its
    /// `workspace-write` sandbox.
    Implement,
}

impl Task {
    fn wanted(self) -> &'static str {
        match self {
            Self::Plan => "a plan",
            Self::Implement => "a summary",
        }
    }
}

/// Runs `preset` with `prompt` on its standard input for a plan or an implementation and
/// returns its answer's text (the plan, or the summary of what it did), under the same rules
/// as [`run`]: a failure, a time-out or an empty answer is an error, with the raw output kept.
pub fn run_text(
    preset: &Preset,
    task: Task,
    prompt: &str,
    options: &RunOptions,
    waiting: &mut dyn FnMut(Duration),
) -> Result<String, Error> {
    invoke(
        options,
        prompt,
        task.wanted(),
        "md",
        |answer_file| Ok(command_line(preset, Ask::Text(task), answer_file)),
        |output, answer_text| {
            let text = match preset {
                Preset::Claude => claude_text(output),
                _ if output.code != Some(0) => Err(failure_message(output)),
                Preset::Codex => answer_text
                    .map(str::to_owned)
                    .ok_or_else(|| Problem::Garbage("no answer file was written".to_owned())),
                Preset::Command(_) => Ok(output.stdout.clone()),
            }?;
            let text = text.trim();
            if text.is_empty() {
                Err(Problem::Garbage("an empty answer".to_owned()))
            } else {
                Ok(text.to_owned())
            }
        },
        waiting,
    )
}

/// Keeps an agent's raw output (and its answer file) in the scratch directory for the error
/// to name.
fn keep_raw(
    options: &RunOptions,
    stamp: &str,
    program: &str,
    args: &[String],
    output: &Output,
    answer: Option<&str>,
) -> Option<PathBuf> {
    let path = options.scratch.join(format!("raw-{stamp}.txt"));
    let mut text = format!(
        "$ {program} {}\n--- exit: {}\n--- stdout\n{}\n--- stderr\n{}\n",
        args.join(" "),
        output.code.map_or("killed".to_owned(), |c| c.to_string()),
        output.stdout,
        output.stderr
    );
    if let Some(a) = answer {
        text.push_str(&format!("--- answer file\n{a}\n"));
    }
    std::fs::write(&path, text).ok().map(|()| path)
}

/// Claude's result object for a plan or a summary: its `result` text.
fn claude_text(output: &Output) -> Result<String, Problem> {
    claude_result(output)?
        .get("result")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Problem::Garbage("the result has no text".to_owned()))
}

/// Claude's result object (`--output-format json`): `is_error` is a failure whatever the exit
/// code, with its `result` as the message; a non-zero exit is one too.
fn claude_result(output: &Output) -> Result<serde_json::Value, Problem> {
    let value: serde_json::Value = match serde_json::from_str(output.stdout.trim()) {
        Ok(v) => v,
        Err(_) if output.code != Some(0) => return Err(failure_message(output)),
        Err(e) => {
            return Err(Problem::Garbage(format!(
                "stdout is not a JSON result: {e}"
            )));
        }
    };
    if value.get("is_error").and_then(serde_json::Value::as_bool) == Some(true) {
        let message = value
            .get("result")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("the result is marked as an error");
        return Err(Problem::Failed(crate::session::codec::excerpt(message)));
    }
    if output.code != Some(0) {
        return Err(failure_message(output));
    }
    Ok(value)
}

/// What an agent is asked for, which picks its flags.
#[derive(Debug, Clone, Copy)]
pub enum Ask<'a> {
    /// A review or validation in the review schema (Codex reads it from `schema`, Claude gets
    /// it inline), read-only.
    Verdict {
        /// Where the schema file is (written there for Codex).
        schema: &'a Path,
    },
    /// A plan (read-only) or an implementation (edits in the work tree).
    Text(Task),
}

/// The program and arguments of a preset asked for `ask`, its answer written to `answer`
/// (Codex's `-o`). The prompt is never among them: it goes on standard input.
pub fn command_line(preset: &Preset, ask: Ask<'_>, answer: &Path) -> (String, Vec<String>) {
    match preset {
        Preset::Codex => {
            let sandbox = match ask {
                Ask::Text(Task::Implement) => "workspace-write",
                Ask::Text(Task::Plan) | Ask::Verdict { .. } => "read-only",
            };
            let mut args: Vec<String> = vec!["exec".into(), "--sandbox".into(), sandbox.into()];
            if let Ask::Verdict { schema } = ask {
                args.extend(["--output-schema".into(), schema.display().to_string()]);
            }
            args.extend(["-o".into(), answer.display().to_string(), "-".into()]);
            ("codex".to_owned(), args)
        }
        Preset::Claude => {
            let mut args: Vec<String> = vec!["-p".into(), "--output-format".into(), "json".into()];
            match ask {
                Ask::Verdict { .. } => args.extend(["--json-schema".into(), compact_schema()]),
                Ask::Text(task) => args.extend([
                    "--permission-mode".into(),
                    match task {
                        Task::Plan => "plan",
                        Task::Implement => "acceptEdits",
                    }
                    .into(),
                ]),
            }
            ("claude".to_owned(), args)
        }
        // A configured command is run as configured, whatever it is asked for.
        Preset::Command(command) => configured(command),
    }
}

/// A configured command's program and arguments (`Preset::for_agent` keeps only non-empty
/// commands).
fn configured(command: &[String]) -> (String, Vec<String>) {
    match command {
        [program, args @ ..] => (program.clone(), args.to_vec()),
        [] => (String::new(), Vec::new()),
    }
}

/// The review schema on one line, for `--json-schema`, which takes it inline.
fn compact_schema() -> String {
    serde_json::from_str::<serde_json::Value>(REVIEW_SCHEMA)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| REVIEW_SCHEMA.to_owned())
}

/// What an agent process did.
type Output = crate::process::Finished;

/// Why an answer could not be used (before the raw output is kept).
enum Problem {
    Failed(String),
    Garbage(String),
}

/// Set in the environment of every agent git-handoff starts (`run`, `loop`, the gates): the
/// agent's own hooks, which `init --agents` installed, then leave the step to the run that
/// started it instead of gating it again (a Stop hook in an implementer that `loop` runs would
/// otherwise validate the work a second time, and a reviewer started by a gate would gate its
/// own review).
pub const DRIVEN_ENV: &str = "GIT_HANDOFF_DRIVEN";

fn spawn_and_wait(
    program: &str,
    args: &[String],
    prompt: &str,
    options: &RunOptions,
    waiting: &mut dyn FnMut(Duration),
) -> Result<Output, Error> {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&options.work_dir)
        .env(DRIVEN_ENV, "1");
    crate::process::run(
        command,
        Some(prompt.as_bytes().to_vec()),
        options.timeout,
        waiting,
    )
    .map_err(|source| Error::Spawn {
        program: program.to_owned(),
        source,
    })
}

fn failure_message(output: &Output) -> Problem {
    let last: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let message = last[last.len().saturating_sub(3)..].join("; ");
    let code = output
        .code
        .map_or("was killed".to_owned(), |c| format!("exited with {c}"));
    Problem::Failed(if message.is_empty() {
        code
    } else {
        format!("{code}: {}", crate::session::codec::excerpt(&message))
    })
}

/// A structured answer (the review schema) into verdict, findings and body.
fn structured(text: &str, work_dir: &Path) -> Result<Answer, Problem> {
    let parsed =
        findings::parse(text, Some(work_dir)).map_err(|e| Problem::Garbage(e.to_string()))?;
    let verdict = parsed.verdict.ok_or_else(|| {
        Problem::Garbage(
            "overall_correctness is neither 'patch is correct' nor 'patch is incorrect'".to_owned(),
        )
    })?;
    Ok(Answer {
        verdict,
        findings: parsed.findings,
        body: parsed.explanation.unwrap_or_default(),
    })
}

/// Claude's result object for a review: its `structured_output`.
fn claude_answer(output: &Output, work_dir: &Path) -> Result<Answer, Problem> {
    let value = claude_result(output)?;
    let answer = value
        .get("structured_output")
        .filter(|v| v.is_object())
        .ok_or_else(|| Problem::Garbage("the result has no structured_output".to_owned()))?;
    structured(&answer.to_string(), work_dir)
}

/// A markdown answer: the verdict from a `## Verdict` section (or a `Verdict:` line) in the
/// seed's words, the whole text as the body. Findings are not guessed from prose.
fn markdown(text: &str) -> Result<Answer, Problem> {
    let verdict = crate::workflow::seed::verdict(text).ok_or_else(|| {
        Problem::Garbage(
            "no '## Verdict' section naming approve, approve-with-changes, request-changes or reject"
                .to_owned(),
        )
    })?;
    Ok(Answer {
        verdict,
        findings: Vec::new(),
        body: text.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_strict_json() {
        let v: serde_json::Value = serde_json::from_str(REVIEW_SCHEMA).unwrap();
        assert_eq!(v["additionalProperties"], false);
        assert_eq!(v["required"].as_array().unwrap().len(), 4);
        assert!(!compact_schema().contains('\n'));
    }

    #[test]
    fn markdown_verdicts_in_the_seeds_words() {
        for (text, verdict) in [
            ("## Verdict\n\nAPPROVED\n", Verdict::Approve),
            (
                "# Review\n## Verdict\n**approve with changes**",
                Verdict::ApproveWithChanges,
            ),
            ("Verdict: CHANGES REQUESTED", Verdict::RequestChanges),
            ("## VERDICT\nreject.", Verdict::Reject),
        ] {
            let answer = markdown(text).unwrap_or_else(|_| panic!("{text}"));
            assert_eq!(answer.verdict, verdict, "{text}");
        }
        assert!(markdown("I think it is fine.").is_err());
    }

    #[test]
    fn the_prompt_is_never_in_the_arguments() {
        let schema = Ask::Verdict {
            schema: Path::new("/s.json"),
        };
        let (program, args) = command_line(&Preset::Codex, schema, Path::new("/a.json"));
        assert_eq!(program, "codex");
        assert_eq!(args.last().map(String::as_str), Some("-"));
        let (_, args) = command_line(&Preset::Claude, schema, Path::new("/a"));
        assert_eq!(
            args[..4],
            ["-p", "--output-format", "json", "--json-schema"]
        );
    }
}
