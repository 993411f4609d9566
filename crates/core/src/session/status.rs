//! The derived state machine (docs/format.md, "Status and iterations are derived").
//!
//! Status is never stored as mutable state: it is the fold of every artifact in order (created
//! time, then id), so two clones holding the same artifacts always agree. Each artifact also
//! records the status after it, for readers with plain git; replay does not trust it.

use super::model::{Kind, Status, Verdict};

/// What replaying a session's artifacts yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    /// Current status; `None` before the first plan.
    pub status: Option<Status>,
    /// For CHANGES_REQUESTED: whether a review or a validation asked for them.
    pub changes_requested_by: Option<Kind>,
    /// Number of plans so far.
    pub iteration: u32,
    /// Number of patterns recorded (a COMPLETE session with one has nothing left to do).
    pub patterns: u32,
}

/// An artifact the state machine does not allow now. It carries the facts (what was refused,
/// in which state); each front end says what to do instead in its own words (the next step
/// from [`State::next_step`] and `--force` for a person, the next tool and `force` for an
/// agent: see [`crate::error::Remedy`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot record {} {kind}: the session is {}", kind.article(), state.describe())]
pub struct TransitionError {
    /// The kind that was refused.
    pub kind: Kind,
    /// The session's state when it was refused.
    pub state: State,
    /// The session (as the caller named it).
    pub session: String,
}

impl State {
    /// The state after recording an artifact of `kind` (whether or not it was allowed).
    pub fn apply(self, kind: Kind, verdict: Option<Verdict>) -> Self {
        let mut next = self;
        match kind {
            Kind::Plan => {
                next.iteration += 1;
                next.status = Some(Status::AwaitingCodexReview);
                next.changes_requested_by = None;
            }
            Kind::Review | Kind::Validation => {
                let approved = verdict.is_some_and(Verdict::is_approval);
                next.status = Some(match (kind, approved) {
                    (Kind::Review, true) => Status::ReadyForImplementation,
                    (_, true) => Status::Complete,
                    (_, false) => Status::ChangesRequested,
                });
                next.changes_requested_by = (!approved).then_some(kind);
            }
            Kind::Implementation => {
                next.status = Some(Status::ReadyForCodexValidation);
                next.changes_requested_by = None;
            }
            Kind::Pattern => next.patterns += 1,
            Kind::Note => {}
        }
        next
    }

    /// The state after abandoning.
    pub fn abandoned(self) -> Self {
        Self {
            status: Some(Status::Abandoned),
            changes_requested_by: None,
            ..self
        }
    }

    /// Checks that an artifact of `kind` may be recorded now (`abandon` and `note` always may).
    pub fn check(&self, kind: Kind, session: &str) -> Result<(), TransitionError> {
        use Status::*;
        let allowed = match (kind, self.status) {
            (Kind::Note, _) => true,
            (Kind::Plan, None) => true,
            (Kind::Plan, Some(s)) => matches!(
                s,
                AwaitingCodexReview | ReadyForImplementation | ChangesRequested
            ),
            (Kind::Review, s) => s == Some(AwaitingCodexReview),
            (Kind::Implementation, Some(ReadyForImplementation | ReadyForCodexValidation)) => true,
            (Kind::Implementation, Some(ChangesRequested)) => {
                self.changes_requested_by == Some(Kind::Validation)
            }
            (Kind::Validation, s) => s == Some(ReadyForCodexValidation),
            (Kind::Pattern, s) => s == Some(Complete),
            _ => false,
        };
        if allowed {
            return Ok(());
        }
        Err(TransitionError {
            kind,
            state: *self,
            session: session.to_owned(),
        })
    }

    /// The status in words: its marker, or "not planned yet".
    pub fn describe(&self) -> String {
        self.status
            .map_or_else(|| "not planned yet".to_owned(), |s| s.to_string())
    }

    /// The command that moves the session on from here, alone (for `--json`): `None` when
    /// nothing follows.
    pub fn next_command(&self, session: &str) -> Option<String> {
        Some(match self.status {
            None => format!("git handoff plan --session {session} -t TITLE"),
            Some(Status::AwaitingCodexReview) => {
                format!("git handoff review {session} --verdict VERDICT")
            }
            Some(Status::ReadyForImplementation) => format!("git handoff implement {session}"),
            Some(Status::ReadyForCodexValidation) => {
                format!("git handoff validate {session} --verdict VERDICT")
            }
            Some(Status::Complete) if self.patterns > 0 => return None,
            Some(Status::Complete) => format!("git handoff pattern {session}"),
            Some(Status::ChangesRequested) => match self.changes_requested_by {
                Some(Kind::Validation) => format!("git handoff implement {session}"),
                _ => format!("git handoff plan --session {session}"),
            },
            Some(Status::Abandoned) => return None,
        })
    }

    /// The command that moves the session on from here, as a sentence for a person: with the
    /// session's short ID (its random part, which every command resolves), not the 60-character
    /// full one ([`State::next_command`] keeps the full ID for scripts).
    pub fn next_step(&self, session: &str) -> String {
        let short = super::SessionId::parse(session)
            .map_or_else(|_| session.to_owned(), |id| id.random().to_owned());
        let session = short.as_str();
        match self.status {
            None => format!("next: git handoff plan --session {session} -t TITLE"),
            Some(Status::AwaitingCodexReview) => {
                format!("next: git handoff review {session} --verdict VERDICT")
            }
            Some(Status::ReadyForImplementation) => {
                format!("next: git handoff implement {session}")
            }
            Some(Status::ReadyForCodexValidation) => {
                format!("next: git handoff validate {session} --verdict VERDICT")
            }
            Some(Status::Complete) if self.patterns > 0 => {
                "the session is complete and its pattern is recorded; nothing follows".to_owned()
            }
            Some(Status::Complete) => format!("next: git handoff pattern {session} (optional)"),
            Some(Status::ChangesRequested) => match self.changes_requested_by {
                Some(Kind::Validation) => {
                    format!("next: fix the code, then git handoff implement {session}")
                }
                _ => format!("next: revise the plan with git handoff plan --session {session}"),
            },
            Some(Status::Abandoned) => "the session is abandoned; nothing follows".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(steps: &[(Kind, Option<Verdict>)]) -> State {
        steps
            .iter()
            .fold(State::default(), |s, (k, v)| s.apply(*k, *v))
    }

    #[test]
    fn the_four_steps_reach_complete() {
        let s = walk(&[
            (Kind::Plan, None),
            (Kind::Review, Some(Verdict::ApproveWithChanges)),
            (Kind::Implementation, None),
            (Kind::Validation, Some(Verdict::Approve)),
        ]);
        assert_eq!(s.status, Some(Status::Complete));
        assert!(s.check(Kind::Pattern, "S").is_ok());
    }

    #[test]
    fn changes_requested_remembers_who_asked() {
        let after_review = walk(&[(Kind::Plan, None), (Kind::Review, Some(Verdict::Reject))]);
        assert_eq!(after_review.status, Some(Status::ChangesRequested));
        assert!(after_review.check(Kind::Plan, "S").is_ok());
        assert!(after_review.check(Kind::Implementation, "S").is_err());

        let after_validation = walk(&[
            (Kind::Plan, None),
            (Kind::Review, Some(Verdict::Approve)),
            (Kind::Implementation, None),
            (Kind::Validation, Some(Verdict::RequestChanges)),
        ]);
        assert!(after_validation.check(Kind::Implementation, "S").is_ok());
        assert_eq!(
            after_validation.next_step("S"),
            "next: fix the code, then git handoff implement S"
        );
    }

    #[test]
    fn invalid_transition_names_status_and_next_command() {
        let s = walk(&[(Kind::Plan, None)]);
        let err = s.check(Kind::Validation, "SESSION-X").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot record a validation: the session is AWAITING_CODEX_REVIEW"
        );
        assert_eq!(err.state, s);
        assert_eq!(
            err.state.next_step(&err.session),
            "next: git handoff review SESSION-X --verdict VERDICT"
        );
        assert!(State::default().check(Kind::Review, "S").is_err());
    }

    #[test]
    fn iterations_count_plans_and_abandon_wins() {
        let s = walk(&[
            (Kind::Plan, None),
            (Kind::Review, Some(Verdict::RequestChanges)),
            (Kind::Plan, None),
        ]);
        assert_eq!(s.iteration, 2);
        assert_eq!(s.abandoned().status, Some(Status::Abandoned));
        assert!(s.abandoned().check(Kind::Plan, "S").is_err());
    }
}
