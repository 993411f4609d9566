//! `git handoff context`: a self-contained prompt for the next agent, in the seed's format: the
//! session ID in the header and the last line, the plan, every review, and for validation the
//! real diff of the session's commits (`git diff base..head` when they are contiguous, each
//! commit's patch in order when not; size-capped, with a visible note when cut).

use std::fmt::Write as _;

use super::work::Work;
pub use crate::git::RangeDiff;
use crate::session::{Artifact, Kind, Session};

/// Who the context is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The reviewer, reviewing the plan.
    Review,
    /// The implementer, working from the approved plan and its reviews.
    Implement,
    /// The validator, reading the real diff.
    Validate,
}

impl Purpose {
    /// The step a session's status asks for next: implementing once the plan is approved (or
    /// a validation asked for changes), validating once an implementation is recorded, else
    /// reviewing.
    pub fn for_status(state: &crate::session::State) -> Self {
        use crate::session::{Kind, Status};
        match state.status {
            Some(Status::ReadyForImplementation) => Self::Implement,
            Some(Status::ChangesRequested)
                if state.changes_requested_by == Some(Kind::Validation) =>
            {
                Self::Implement
            }
            Some(Status::ReadyForCodexValidation) => Self::Validate,
            _ => Self::Review,
        }
    }
}

/// Builds the prompt. `diff` is used for validation (and shown to the implementer if present).
pub fn build(session: &Session, purpose: Purpose, diff: Option<&(Work, RangeDiff)>) -> String {
    let id = session.meta.id.as_str();
    let mut out = String::new();
    let (role, heading) = match purpose {
        Purpose::Review => ("reviewer", "CONTEXT FOR CODEX REVIEW"),
        Purpose::Implement => ("implementer", "CONTEXT FOR IMPLEMENTATION"),
        Purpose::Validate => ("validator", "CONTEXT FOR CODEX VALIDATION"),
    };
    let _ = writeln!(
        out,
        "**[{id}] {heading}: {}**\n",
        one_line(&session.meta.title)
    );
    let refname = session
        .refname
        .clone()
        .unwrap_or_else(|| format!("refs/handoff/sessions/{id}"));
    let _ = writeln!(
        out,
        "You are the {role} in a git-handoff session. Everything you need is below; the \
         session is stored in this repository under {}.\n",
        one_line(&refname)
    );
    let _ = writeln!(out, "Session ID: {id}");
    if let Some(status) = session.state.status {
        let _ = writeln!(out, "Status: {status}");
    }
    let _ = writeln!(out, "Plan iteration: {}", session.state.iteration);
    if let Some(base) = &session.meta.base {
        let _ = writeln!(out, "Base commit: {base}");
    }
    let latest_plan = session
        .artifacts
        .iter()
        .rev()
        .find(|a| a.kind == Kind::Plan);
    if let Some(plan) = latest_plan {
        section(&mut out, plan);
    }
    for a in &session.artifacts {
        let include = match purpose {
            Purpose::Review => a.kind == Kind::Review,
            // The implementer fixing what a validation asked for reads its findings too.
            Purpose::Implement | Purpose::Validate => {
                matches!(a.kind, Kind::Review | Kind::Validation)
            }
        };
        if include {
            section(&mut out, a);
        }
    }
    if purpose == Purpose::Validate
        && let Some(implementation) = session
            .artifacts
            .iter()
            .rev()
            .find(|a| a.kind == Kind::Implementation)
    {
        section(&mut out, implementation);
    }
    if let Some((work, diff)) = diff {
        match &work.range {
            Some(range) => {
                let _ = writeln!(out, "\n## Diff {range}\n");
            }
            None => {
                let _ = writeln!(
                    out,
                    "\n## The session's {} commits, each patch in order (other work sits between them and is not shown)\n",
                    work.commits.len()
                );
            }
        }
        let _ = writeln!(out, "```\n{}```\n", diff.stat);
        let _ = writeln!(out, "```diff\n{}```", diff.patch);
        if diff.truncated {
            let _ = writeln!(
                out,
                "\n[diff truncated: showing {} of {} bytes; run `{}` for the rest]",
                diff.patch.len(),
                diff.total_bytes,
                work.git_command()
            );
        }
    }
    let _ = writeln!(out, "\n## What to do next\n");
    let _ = writeln!(out, "{}", next_instructions(id, purpose));
    let _ = writeln!(out, "\nSession ID for retrieval: {id}");
    out
}

/// The prompt of a planner (`git handoff run plan`, `loop`): the task, and when the session
/// exists (a plan the reviewer sent back), its latest plan and every review, so the next
/// iteration answers them.
pub fn plan(title: &str, task: &str, session: Option<&Session>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "**CONTEXT FOR CLAUDE PLAN: {}**\n", one_line(title));
    let _ = writeln!(
        out,
        "You are the planner in a git-handoff session: write the plan for the task below. A \
         reviewer (Codex) reviews it before anyone implements it.\n"
    );
    if let Some(session) = session {
        let _ = writeln!(out, "Session ID: {}", session.meta.id);
        let _ = writeln!(
            out,
            "Plan iteration to write: {}",
            session.state.iteration + 1
        );
    }
    let _ = writeln!(out, "\n## Task\n\n{}", task.trim_end());
    if let Some(session) = session {
        if let Some(plan) = session
            .artifacts
            .iter()
            .rev()
            .find(|a| a.kind == Kind::Plan)
        {
            section(&mut out, plan);
        }
        for a in session.artifacts.iter().filter(|a| a.kind == Kind::Review) {
            section(&mut out, a);
        }
        let _ = writeln!(
            out,
            "\nThe reviewer asked for changes: write the next iteration of the plan, answering \
             every finding."
        );
    }
    let _ = writeln!(
        out,
        "\n## What to return\n\nAnswer with the plan in markdown (context, approach, steps, \
         risks, tests). Do not edit any file: git-handoff records your answer as the plan."
    );
    out
}

/// What an implementer started by `git handoff run implement` (or `loop`) is told after the
/// `context` prompt: it edits, git-handoff commits and records.
pub const RUN_IMPLEMENT: &str = "\n## You were started by git-handoff\n\n\
     Edit the files in this work tree (and nothing outside it). You need not commit or record \
     anything: git-handoff commits what you leave uncommitted, with the session's trailer, and \
     records the implementation with your answer as its summary. Answer with a short markdown \
     summary of what you changed and why.\n";

fn section(out: &mut String, a: &Artifact) {
    let mut header = format!(
        "\n## {} (iteration {}, {}, {}",
        a.kind.seed_heading(),
        a.iteration,
        a.agent,
        a.created.format("%Y-%m-%d %H:%M UTC")
    );
    if let Some(v) = a.verdict {
        let _ = write!(header, ", verdict {v}");
    }
    header.push(')');
    let _ = writeln!(out, "{header}\n");
    let _ = writeln!(out, "{}", a.body.trim_end());
    if !a.findings.is_empty() {
        let _ = writeln!(out, "\n### Findings\n");
        for f in &a.findings {
            let priority = f.priority.map_or_else(String::new, |p| format!("[P{p}] "));
            let location = match (&f.path, f.start_line, f.end_line) {
                (Some(p), Some(s), Some(e)) => format!(" ({p}:{s}-{e})"),
                (Some(p), _, _) => format!(" ({p})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "- {priority}{}{location}", f.untagged_title());
            for line in f.body.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    let _ = writeln!(out, "\nStatus after it: {}", a.status);
}

/// What a reviewing agent must return, and how it gets recorded, so that an agent following
/// the prompt by hand does it right too.
fn answer_format(id: &str, heading: &str) -> String {
    format!(
        "## What to return\n\n\
         If you were started by `git handoff run` (or are asked for structured output), answer \
         with one JSON object of the review schema (`git handoff schema review`):\n\n\
         {{\"findings\": [{{\"title\": \"[P1] one imperative line\", \"body\": \"markdown\", \
         \"confidence_score\": 0.8, \"priority\": 1, \"code_location\": {{\"absolute_file_path\": \
         \"path/in/repo\", \"line_range\": {{\"start\": 3, \"end\": 9}}}}}}], \
         \"overall_correctness\": \"patch is correct\" or \"patch is incorrect\", \
         \"overall_explanation\": \"markdown\", \"overall_confidence_score\": 0.8}}\n\n\
         It is recorded as it is: \"patch is correct\" becomes the verdict approve, \"patch is \
         incorrect\" request-changes, and each finding keeps its priority and lines.\n\n\
         Otherwise answer in markdown starting with `**[{id}] {heading}: <title>**`, with a \
         `## Verdict` section naming approve, approve-with-changes, request-changes or reject, \
         and store it with the MCP tool byterover-store-knowledge or the command above."
    )
}

fn next_instructions(id: &str, purpose: Purpose) -> String {
    match purpose {
        Purpose::Review => format!(
            "Review the plan above. Record your review with:\n  git handoff review {id} --verdict \
             approve|approve-with-changes|request-changes|reject -F review.md [--findings findings.json]\n\n{}",
            answer_format(id, "CODEX REVIEW")
        ),
        Purpose::Implement => format!(
            "Implement the plan, addressing every review finding, and commit on this branch (while \
             {id} is current, each commit gets its Handoff-Session trailer, which makes it part \
             of the session). Then record it with:\n  \
             git handoff implement {id} -F summary.md [--range REVS]"
        ),
        Purpose::Validate => format!(
            "Validate the diff above against the plan and the reviews. Record your validation with:\n  \
             git handoff validate {id} --verdict approve|approve-with-changes|request-changes|reject \
             -F validation.md [--findings findings.json]\n\n{}",
            answer_format(id, "CODEX VALIDATION")
        ),
    }
}

fn one_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}
