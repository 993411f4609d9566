//! The handoff run by the agents themselves (`git handoff run plan|implement`, `git handoff
//! loop`): each step starts its agent with the step's prompt, records the answer, and the
//! session's status (derived from git alone) says what comes next. A loop killed at any point
//! resumes from the status and never repeats a recorded step: nothing is kept anywhere else.
//!
//! plan → review → (changes requested: the next plan iteration, with every review in its
//! prompt) → implement → validate → (changes requested: implement again, with the validation's
//! findings in the prompt) → COMPLETE. The planner (Claude by default) plans and implements;
//! the reviewer (Codex by default) reviews and validates.

use std::time::{Duration, Instant};

use super::agent::{self, Preset, RunOptions, Task};
use super::prompt::{self, Purpose};
use super::{Handoff, Input};
use crate::session::{Kind, Session, SessionId, Status, Verdict};

/// Why a step gave nothing to record.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or recording failed.
    #[error(transparent)]
    Workflow(#[from] Box<super::Error>),
    /// The agent failed, timed out or answered nothing usable; nothing was recorded.
    #[error(transparent)]
    Agent(#[from] agent::Error),
    /// The session could not be made current for the implementer.
    #[error(transparent)]
    Current(#[from] super::current::Error),
}

impl From<super::Error> for Error {
    fn from(err: super::Error) -> Self {
        Self::Workflow(Box::new(err))
    }
}

impl From<crate::store::Error> for Error {
    fn from(err: crate::store::Error) -> Self {
        Self::Workflow(Box::new(err.into()))
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// One of the four steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The planner writes a plan (or its next iteration).
    Plan,
    /// The reviewer reviews the latest plan.
    Review,
    /// The planner implements the approved plan (or fixes what a validation found).
    Implement,
    /// The reviewer validates the session's real diff.
    Validate,
}

impl Step {
    /// The step's name, as `run` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Review => "review",
            Self::Implement => "implement",
            Self::Validate => "validate",
        }
    }
}

/// Who runs the steps, and for how long.
#[derive(Debug, Clone)]
pub struct Agents {
    /// The planner and implementer: `claude`, `codex` or a configured command.
    pub planner: String,
    /// The reviewer and validator.
    pub reviewer: String,
    /// How long one agent run may take.
    pub timeout: Duration,
    /// Keep secrets the agents quoted instead of redacting them.
    pub allow_secrets: bool,
}

/// What a step recorded.
#[derive(Debug)]
pub struct Done {
    /// The session.
    pub id: SessionId,
    /// The step.
    pub step: Step,
    /// The agent that ran it.
    pub agent: String,
    /// How long the agent took.
    pub elapsed: Duration,
    /// The verdict of a review or validation.
    pub verdict: Option<Verdict>,
    /// How many findings it had.
    pub findings: usize,
    /// The session's status after it.
    pub status: Option<Status>,
    /// The commit made of what the implementer left uncommitted, if any.
    pub committed: Option<String>,
    /// What was recorded.
    pub recorded: super::Recorded,
}

/// What the next step is for a session in `session`'s state, `None` when there is none
/// (COMPLETE or abandoned).
pub fn next_step(session: &Session) -> Option<Step> {
    match session.state.status {
        None => Some(Step::Plan),
        Some(Status::AwaitingCodexReview) => Some(Step::Review),
        Some(Status::ReadyForImplementation) => Some(Step::Implement),
        Some(Status::ReadyForCodexValidation) => Some(Step::Validate),
        Some(Status::ChangesRequested) => Some(
            if session.state.changes_requested_by == Some(Kind::Validation) {
                Step::Implement
            } else {
                Step::Plan
            },
        ),
        Some(Status::Complete | Status::Abandoned) => None,
    }
}

/// How many rounds the session's current phase has had: plan iterations while planning,
/// implementations since the latest plan while implementing.
pub fn rounds(session: &Session, step: Step) -> u32 {
    match step {
        Step::Plan | Step::Review => session.state.iteration,
        Step::Implement | Step::Validate => {
            let since_plan = session
                .artifacts
                .iter()
                .rposition(|a| a.kind == Kind::Plan)
                .map_or(0, |i| i + 1);
            let n = session.artifacts[since_plan..]
                .iter()
                .filter(|a| a.kind == Kind::Implementation)
                .count();
            u32::try_from(n).unwrap_or(u32::MAX)
        }
    }
}

impl Handoff {
    fn run_options(&self, agent: &str, timeout: Duration) -> RunOptions {
        RunOptions {
            agent: agent.to_owned(),
            work_dir: self.repo.run_dir().to_path_buf(),
            scratch: self.repo.common_dir().join("handoff").join("runs"),
            timeout,
        }
    }

    /// Commits what an agent left uncommitted in the work tree as `session`'s work: its title,
    /// and its `Handoff-Session:` trailer (`run implement`, `loop`, the stop gate). `None` when
    /// there was nothing to commit.
    pub(super) fn commit_session_work(
        &self,
        session: &Session,
        before: &crate::store::worktree::Untracked,
    ) -> Result<Option<String>> {
        let message = format!(
            "{}\n\n{} {}\n",
            session.meta.title.lines().next().unwrap_or_default().trim(),
            crate::store::LINE_KEY,
            session.meta.id
        );
        Ok(crate::store::worktree::commit_all(
            self.repo.run_dir(),
            &message,
            before,
        )?)
    }

    fn preset(&self, agent: &str) -> Result<Preset> {
        Ok(Preset::for_agent(agent, &self.config.agents.commands)?)
    }

    /// Starts a session with a plan the planner writes for `task`.
    pub fn run_first_plan(
        &self,
        title: &str,
        task: &str,
        agents: &Agents,
        waiting: &mut dyn FnMut(Duration),
    ) -> Result<Done> {
        let preset = self.preset(&agents.planner)?;
        let options = self.run_options(&agents.planner, agents.timeout);
        let start = Instant::now();
        let text = agent::run_text(
            &preset,
            Task::Plan,
            &prompt::plan(title, task, None),
            &options,
            waiting,
        )?;
        let elapsed = start.elapsed();
        let mut input = Input::new(Kind::Plan, text);
        input.agent = Some(agents.planner.clone());
        input.allow_secrets = agents.allow_secrets;
        let recorded = self.start(title, None, input)?;
        Ok(Done {
            id: recorded.artifact.session.clone(),
            step: Step::Plan,
            agent: agents.planner.clone(),
            elapsed,
            verdict: None,
            findings: 0,
            status: Some(recorded.artifact.status),
            committed: None,
            recorded,
        })
    }

    /// Runs the step `step` of session `id` with its agent and records the answer. The state
    /// machine is asked first, so no agent's time is spent on a step the session cannot take.
    pub fn run_step(
        &self,
        id: &SessionId,
        step: Step,
        agents: &Agents,
        waiting: &mut dyn FnMut(Duration),
    ) -> Result<Done> {
        let session = self.store().load(id)?;
        let kind = match step {
            Step::Plan => Kind::Plan,
            Step::Review => Kind::Review,
            Step::Implement => Kind::Implementation,
            Step::Validate => Kind::Validation,
        };
        session
            .state
            .check(kind, id.as_str())
            .map_err(crate::store::Error::from)?;
        let agent_name = match step {
            Step::Plan | Step::Implement => &agents.planner,
            Step::Review | Step::Validate => &agents.reviewer,
        };
        let preset = self.preset(agent_name)?;
        let options = self.run_options(agent_name, agents.timeout);
        let start = Instant::now();
        let (mut input, committed) = match step {
            Step::Plan => {
                let text = agent::run_text(
                    &preset,
                    Task::Plan,
                    &prompt::plan(&session.meta.title, &session.meta.title, Some(&session)),
                    &options,
                    waiting,
                )?;
                (Input::new(Kind::Plan, text), None)
            }
            Step::Review | Step::Validate => {
                let (purpose, diff) = if step == Step::Validate {
                    let diff = self.work_diff(&session, self.config.context.max_diff_bytes)?;
                    (Purpose::Validate, diff)
                } else {
                    (Purpose::Review, None)
                };
                let text = prompt::build(&session, purpose, diff.as_ref());
                let answer = agent::run(&preset, &text, &options, waiting)?;
                let mut input = Input::new(kind, answer.body);
                input.verdict = Some(answer.verdict);
                input.findings = answer.findings;
                (input, None)
            }
            Step::Implement => {
                // The session is current: commits the agent makes get the trailer.
                super::current::set(&self.repo, id)?;
                let mut text = prompt::build(&session, Purpose::Implement, None);
                text.push_str(prompt::RUN_IMPLEMENT);
                // What was untracked when the implementation began is not its work (noted
                // once: an implementer killed halfway left files that are).
                super::baseline::note(self.repo.common_dir(), self.repo.run_dir(), id);
                let before = super::baseline::read(self.repo.common_dir(), id);
                let summary = agent::run_text(&preset, Task::Implement, &text, &options, waiting)?;
                let committed = self.commit_session_work(&session, &before)?;
                (Input::new(kind, summary), committed)
            }
        };
        let elapsed = start.elapsed();
        input.agent = Some(agent_name.clone());
        input.allow_secrets = agents.allow_secrets;
        let findings = input.findings.len();
        let verdict = input.verdict;
        let recorded = self.record(id, input)?;
        Ok(Done {
            id: id.clone(),
            step,
            agent: agent_name.clone(),
            elapsed,
            verdict,
            findings,
            status: Some(recorded.artifact.status),
            committed,
            recorded,
        })
    }
}
