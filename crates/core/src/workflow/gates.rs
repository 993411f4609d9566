//! The gates inside the agents (`init --agents` installs them as Claude Code hooks; README,
//! "Gates inside the agents"): what a new conversation is told, the reviewer's review of a plan
//! before Claude leaves plan mode, and the reviewer's validation of the real diff before the
//! agent stops. Every gate decision is recorded in the session like any other review or
//! validation. The front end reads the agent's hook input and writes its decision; nothing
//! here prints.

use std::time::Duration;

use super::Handoff;
use super::drive::{self, Agents, Step};
use crate::config::GateMode;
use crate::session::{Artifact, Kind, Session, Status, Verdict};

/// What a gate tells the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go on; `context` is added to what the agent knows, `warning` is shown to the person.
    Allow {
        /// Context for the agent (the review of its plan).
        context: Option<String>,
        /// A note for the person (a spent budget, a request for changes in warn mode, a gate
        /// that could not run).
        warning: Option<String>,
    },
    /// Stop here and do this instead (the findings to address).
    Block {
        /// The agent's next instruction.
        reason: String,
    },
}

impl Decision {
    fn allow() -> Self {
        Self::Allow {
            context: None,
            warning: None,
        }
    }

    fn warn(warning: String) -> Self {
        Self::Allow {
            context: None,
            warning: Some(warning),
        }
    }
}

/// Why a gate could not decide (the front end lets the agent go on and says why: a gate never
/// traps an agent because of its own failure).
pub type Result<T> = std::result::Result<T, drive::Error>;

impl Handoff {
    /// What a new (or resumed, cleared, compacted) conversation is told: the current session
    /// of this branch, its status and its next step; `None` without a current session.
    pub fn session_start_context(&self) -> Option<String> {
        let id = super::current::get(&self.repo)?;
        let session = self.store().load_view(&id).ok()?;
        let status = session
            .state
            .status
            .map_or_else(|| "not planned yet".to_owned(), |s| s.to_string());
        Some(format!(
            "git-handoff: the current session on this branch is {id} \"{}\", status {status} (plan iteration {}). {}\nRead it with `git handoff context {id}` or the MCP tool byterover-retrieve-knowledge with the session ID.",
            session.meta.title.lines().next().unwrap_or_default().trim(),
            session.state.iteration,
            session.state.next_step(id.as_str())
        ))
    }

    /// Before Claude leaves plan mode with `plan`: the plan is recorded (the next iteration of
    /// the current session when its reviewer asked for changes, else a new session, made
    /// current) and the reviewer reviews it. A request for changes (or a rejection) blocks
    /// with the review; an approval lets the plan through with the review as context.
    pub fn plan_gate(
        &self,
        plan: &str,
        agents: &Agents,
        waiting: &mut dyn FnMut(Duration),
    ) -> Result<Decision> {
        let mode = self.config.gate.mode;
        if mode == GateMode::Off || plan.trim().is_empty() {
            return Ok(Decision::allow());
        }
        let current = super::current::get(&self.repo)
            .and_then(|id| self.store().load(&id).ok())
            .filter(|s| {
                s.state.status == Some(Status::ChangesRequested)
                    && s.state.changes_requested_by == Some(Kind::Review)
            });
        let id = match current {
            Some(session) => {
                let mut input = super::Input::new(Kind::Plan, plan);
                input.agent = Some(agents.planner.clone());
                self.record(&session.meta.id, input)?;
                session.meta.id
            }
            None => {
                let mut input = super::Input::new(Kind::Plan, plan);
                input.agent = Some(agents.planner.clone());
                let recorded = self.start(&title_of(plan), None, input)?;
                let id = recorded.artifact.session;
                super::current::set(&self.repo, &id)?;
                id
            }
        };
        let done = self.run_step(&id, Step::Review, agents, waiting)?;
        let session = self.store().load(&id)?;
        let review = session.artifacts.last().map(|a| described(&session, a));
        let decision = match (done.verdict, mode) {
            (Some(Verdict::RequestChanges | Verdict::Reject), GateMode::Block) => Decision::Block {
                reason: format!(
                    "{} asked for changes to the plan of {id}. Revise the plan to answer every finding, then leave plan mode again (the revision is reviewed again).\n\n{}",
                    agents.reviewer,
                    review.unwrap_or_default()
                ),
            },
            (Some(Verdict::RequestChanges | Verdict::Reject), _) => Decision::warn(format!(
                "{} asked for changes to the plan of {id} (gate mode warn: going on)",
                agents.reviewer
            )),
            _ => Decision::Allow {
                context: review.map(|r| {
                    format!(
                        "The plan is session {id}; {} reviewed it:\n\n{r}",
                        agents.reviewer
                    )
                }),
                warning: None,
            },
        };
        if !matches!(decision, Decision::Block { .. }) {
            // The implementation begins here: what is untracked now is not its work.
            super::baseline::note(self.repo.common_dir(), self.repo.run_dir(), &id);
        }
        Ok(decision)
    }

    /// Before the agent stops: when the current session has work no approving validation
    /// covers (uncommitted changes, or commits since the plan was approved), what is left
    /// uncommitted is committed with the session's trailer, the implementation is recorded
    /// (with `summary`, the agent's last message), and the reviewer validates the real diff. A
    /// request for changes blocks with the findings, until `[gate] max-rounds` implementations
    /// of this plan iteration have been validated; then it may stop with a warning. When
    /// `stop_hook_active` says the agent is continuing for an earlier block and it changed
    /// nothing since the validation that asked for changes, it may stop too (with a warning)
    /// rather than be validated again on the same work.
    pub fn stop_gate(
        &self,
        summary: Option<&str>,
        stop_hook_active: bool,
        agents: &Agents,
        waiting: &mut dyn FnMut(Duration),
    ) -> Result<Decision> {
        let mode = self.config.gate.mode;
        let Some(id) = super::current::get(&self.repo) else {
            return Ok(Decision::allow());
        };
        if mode == GateMode::Off {
            return Ok(Decision::allow());
        }
        let session = self.store().load(&id)?;
        let implementing = match session.state.status {
            Some(Status::ReadyForImplementation) => true,
            Some(Status::ChangesRequested) => {
                session.state.changes_requested_by == Some(Kind::Validation)
            }
            Some(Status::ReadyForCodexValidation) => false,
            _ => return Ok(Decision::allow()),
        };
        let max = self.config.gate.max_rounds.max(1);
        if drive::rounds(&session, Step::Implement) >= max && implementing {
            return Ok(Decision::warn(format!(
                "git-handoff: {id} had {max} validation round(s) for this plan; stopping without another (run git handoff validate {id} when ready)"
            )));
        }
        if implementing {
            let before = super::baseline::read(self.repo.common_dir(), &id);
            let committed = self.commit_session_work(&session, &before)?;
            let last_validated = session
                .artifacts
                .iter()
                .rev()
                .find(|a| a.kind == Kind::Validation)
                .and_then(|a| a.commits.last())
                .map(ToString::to_string);
            let head = self.head()?.map(|h| h.to_string());
            if stop_hook_active && committed.is_none() && head.is_some() && head == last_validated {
                return Ok(Decision::warn(format!(
                    "git-handoff: nothing changed since the validation of {id} asked for changes; stopping without validating again"
                )));
            }
            let body = summary
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or("Implemented in a Claude Code session (recorded by the stop gate).");
            let mut input = super::Input::new(Kind::Implementation, body);
            input.agent = Some(agents.planner.clone());
            match self.record(&id, input) {
                Ok(_) => {}
                // Nothing was done in this session yet: nothing to validate.
                Err(super::Error::NoCommits { .. }) => return Ok(Decision::allow()),
                Err(e) => return Err(e.into()),
            }
        }
        let done = self.run_step(&id, Step::Validate, agents, waiting)?;
        let session = self.store().load(&id)?;
        let validation = session
            .artifacts
            .last()
            .map(|a| described(&session, a))
            .unwrap_or_default();
        Ok(match (done.verdict, mode) {
            (Some(Verdict::RequestChanges | Verdict::Reject), GateMode::Block) => Decision::Block {
                reason: format!(
                    "{} validated the work of {id} and asked for changes. Fix every finding (commit as you go; the session's trailer is added), then stop again: the fix is validated again.\n\n{validation}",
                    agents.reviewer
                ),
            },
            (Some(Verdict::RequestChanges | Verdict::Reject), _) => Decision::warn(format!(
                "{} asked for changes to the work of {id} (gate mode warn: stopping anyway)",
                agents.reviewer
            )),
            _ => Decision::allow(),
        })
    }
}

/// A new session's title from a plan: its first heading or line, without markdown marks.
fn title_of(plan: &str) -> String {
    let line = plan
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("Plan");
    let title = line.trim_start_matches('#').trim().trim_matches('*').trim();
    let title = title
        .strip_prefix("Plan:")
        .map_or(title, str::trim)
        .chars()
        .take(80)
        .collect::<String>();
    if title.is_empty() {
        "Plan".to_owned()
    } else {
        title
    }
}

/// An artifact as the agent reads it: its body and findings.
fn described(session: &Session, artifact: &Artifact) -> String {
    crate::sync::render::text(session, artifact, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_plans_first_line() {
        assert_eq!(title_of("# Plan: Rate limiting\n\nSteps"), "Rate limiting");
        assert_eq!(title_of("\n\n**Add a cache**\n"), "Add a cache");
        assert_eq!(title_of("   \n"), "Plan");
        assert_eq!(title_of(&"x".repeat(200)).len(), 80);
    }
}
