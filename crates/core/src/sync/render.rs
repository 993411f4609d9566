//! Each artifact as one self-contained text in the seed's format (docs/byterover.md), so that
//! an index that knows nothing of git still finds it by session ID, step, agent or status:
//! the session ID in the title line, the body and the last line; a `[TYPE: …] [AGENT: …]
//! [STATUS: …]` tag line; the commit range and its diffstat; the ref it came from.

use crate::session::{Artifact, Kind, Session};

/// What is sent for one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The session ID.
    pub session: String,
    /// The artifact's ULID.
    pub artifact: String,
    /// The artifact kind.
    pub kind: Kind,
    /// The title line's text after the step (the session's title).
    pub title: String,
    /// 1 for the first text sent for this artifact; one more each time its text changes.
    pub version: u32,
    /// The text, redacted.
    pub text: String,
}

/// The seed's heading for a step (what `byterover-store-knowledge` readers look for).
pub fn heading(kind: Kind) -> &'static str {
    match kind {
        Kind::Plan => "CLAUDE PLAN",
        Kind::Review => "CODEX REVIEW",
        Kind::Implementation => "IMPLEMENTATION COMPLETE",
        Kind::Validation => "CODEX VALIDATION",
        Kind::Pattern => "VALIDATED PATTERN",
        Kind::Note => "NOTE",
    }
}

/// The text of `artifact` of `session`; `diffstat` is the stat of its range, when it has one.
/// The text is not redacted yet (see [`super::prepare`]) and carries no version: the version
/// line is added once the journal has said which version this text is.
pub fn text(session: &Session, artifact: &Artifact, diffstat: Option<&str>) -> String {
    use std::fmt::Write as _;
    let id = session.meta.id.as_str();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**[{id}] {}: {}**\n",
        heading(artifact.kind),
        one_line(&session.meta.title)
    );
    let _ = write!(
        out,
        "[TYPE: {}] [AGENT: {}] [STATUS: {}] [ITERATION: {}]",
        artifact.kind.as_str(),
        one_line(&artifact.agent),
        artifact.status.as_str(),
        artifact.iteration
    );
    if let Some(verdict) = artifact.verdict {
        let _ = write!(out, " [VERDICT: {}]", verdict.as_str());
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Ref: {} (artifact {}, recorded {} by {})",
        crate::store::refs::session_ref(&session.meta.id),
        artifact.id,
        crate::views::rfc3339(artifact.created),
        one_line(&artifact.author)
    );
    if let Some(range) = &artifact.range {
        let _ = writeln!(out, "Range: {range}");
        if let Some(stat) = diffstat.filter(|s| !s.trim().is_empty()) {
            let _ = writeln!(out, "\n```\n{}\n```", stat.trim_end());
        }
    } else if !artifact.commits.is_empty() {
        let _ = writeln!(
            out,
            "Commits: {}",
            crate::workflow::work::describe_commits(&artifact.commits)
        );
    }
    let _ = writeln!(out, "\n{}", artifact.body.trim_end());
    if !artifact.findings.is_empty() {
        let _ = writeln!(out, "\n## Findings\n");
        for f in &artifact.findings {
            let priority = f.priority.map(|p| format!("[P{p}] ")).unwrap_or_default();
            let place = match (&f.path, f.start_line, f.end_line) {
                (Some(path), Some(start), Some(end)) if end != start => {
                    format!(" ({path}:{start}-{end})")
                }
                (Some(path), Some(start), _) => format!(" ({path}:{start})"),
                (Some(path), None, _) => format!(" ({path})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "- {priority}{}{place}", one_line(f.untagged_title()));
            for line in f.body.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    let _ = write!(out, "\nSession ID: {id}\n");
    out
}

/// The text with its version stated (after the tag line), as it is sent.
pub fn versioned(text: &str, version: u32) -> String {
    match text.split_once('\n') {
        Some((title, rest)) => match rest.split_once("\nRef: ") {
            Some((tags, tail)) => format!("{title}\n{tags} [VERSION: {version}]\nRef: {tail}"),
            None => format!("{title}\n[VERSION: {version}]\n{rest}"),
        },
        None => format!("{text}\n[VERSION: {version}]"),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_follows_the_tag_line() {
        let text = "**[S] CLAUDE PLAN: t**\n\n[TYPE: plan] [AGENT: claude]\nRef: r\n\nbody\n";
        let sent = versioned(text, 2);
        assert!(
            sent.contains("[TYPE: plan] [AGENT: claude] [VERSION: 2]\nRef: r"),
            "{sent}"
        );
        assert!(sent.starts_with("**[S] CLAUDE PLAN: t**\n"));
    }

    #[test]
    fn the_seed_reads_its_own_headings_back() {
        for kind in [
            Kind::Plan,
            Kind::Review,
            Kind::Implementation,
            Kind::Validation,
            Kind::Pattern,
        ] {
            let text = format!("**[SESSION-20251027-A7F3K2M9] {}: x**", heading(kind));
            assert_eq!(crate::workflow::seed::parse(&text).kind, kind);
        }
    }
}
