//! `git handoff context`: a self-contained prompt for the next agent, in the seed's format: the
//! session ID in the header and the last line, the plan, every review, and for validation the
//! real `git diff base..head` (size-capped, with a visible note when cut).

use std::fmt::Write as _;

use git2::{DiffFormat, DiffOptions, DiffStatsFormat, Oid, Repository};

use crate::session::{Artifact, Kind, Range, Session};

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

/// The diff of a range as git prints it, with its stat, cut to `max_bytes`.
#[derive(Debug, Clone)]
pub struct RangeDiff {
    /// `git diff --stat` style summary.
    pub stat: String,
    /// The patch text (possibly truncated).
    pub patch: String,
    /// Size of the whole patch in bytes.
    pub total_bytes: usize,
    /// Whether `patch` was cut.
    pub truncated: bool,
}

/// Computes the diff of `range` (from the empty tree when it has no base).
pub fn range_diff(
    repo: &Repository,
    range: &Range,
    max_bytes: usize,
) -> Result<RangeDiff, git2::Error> {
    let tree_of = |oid: &str| -> Result<git2::Tree<'_>, git2::Error> {
        repo.find_commit(Oid::from_str(oid)?)?.tree()
    };
    let old = range.base.as_deref().map(tree_of).transpose()?;
    let new = tree_of(&range.head)?;
    let mut opts = DiffOptions::new();
    opts.context_lines(3);
    let diff = repo.diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut opts))?;
    let stat = diff
        .stats()?
        .to_buf(DiffStatsFormat::FULL, 80)?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut patch = Vec::new();
    diff.print(DiffFormat::Patch, |_, _, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            patch.push(line.origin() as u8);
        }
        patch.extend_from_slice(line.content());
        true
    })?;
    let text = String::from_utf8_lossy(&patch).into_owned();
    let total_bytes = text.len();
    let (patch, truncated) = cut_at_line(text, max_bytes);
    Ok(RangeDiff {
        stat,
        patch,
        total_bytes,
        truncated,
    })
}

fn cut_at_line(mut text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(end, |i| i + 1);
    text.truncate(end);
    (text, true)
}

/// Builds the prompt. `diff` is used for validation (and shown to the implementer if present).
pub fn build(session: &Session, purpose: Purpose, diff: Option<&RangeDiff>) -> String {
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
    let _ = writeln!(
        out,
        "You are the {role} in a git-handoff session. Everything you need is below; the \
         session is stored in this repository under refs/handoff/sessions/{id}.\n"
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
            Purpose::Review | Purpose::Implement => a.kind == Kind::Review,
            Purpose::Validate => matches!(a.kind, Kind::Review | Kind::Validation),
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
    if let (Some(diff), Some(range)) = (diff, session.range()) {
        let _ = writeln!(out, "\n## Diff {range}\n");
        let _ = writeln!(out, "```\n{}```\n", diff.stat);
        let _ = writeln!(out, "```diff\n{}```", diff.patch);
        if diff.truncated {
            let _ = writeln!(
                out,
                "\n[diff truncated: showing {} of {} bytes; run `git diff {range}` for the rest]",
                diff.patch.len(),
                diff.total_bytes
            );
        }
    }
    let _ = writeln!(out, "\n## What to do next\n");
    let _ = writeln!(out, "{}", next_instructions(id, purpose));
    let _ = writeln!(out, "\nSession ID for retrieval: {id}");
    out
}

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
            let _ = writeln!(out, "- {priority}{}{location}", f.title);
            for line in f.body.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    let _ = writeln!(out, "\nStatus after it: {}", a.status);
}

fn next_instructions(id: &str, purpose: Purpose) -> String {
    match purpose {
        Purpose::Review => format!(
            "Review the plan above. Record your review with:\n  git handoff review {id} --verdict \
             approve|approve-with-changes|request-changes|reject -F review.md [--findings findings.json]"
        ),
        Purpose::Implement => format!(
            "Implement the plan, addressing every review finding, and commit. Then record it with:\n  \
             git handoff implement {id} -F summary.md [--range BASE..HEAD]"
        ),
        Purpose::Validate => format!(
            "Validate the diff above against the plan and the reviews. Record your validation with:\n  \
             git handoff validate {id} --verdict approve|approve-with-changes|request-changes|reject \
             -F validation.md [--findings findings.json]"
        ),
    }
}

fn one_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_whole_lines() {
        let (cut, truncated) = cut_at_line("aaa\nbbb\nccc\n".into(), 9);
        assert!(truncated);
        assert_eq!(cut, "aaa\nbbb\n");
        let (same, truncated) = cut_at_line("short\n".into(), 100);
        assert!(!truncated);
        assert_eq!(same, "short\n");
    }
}
