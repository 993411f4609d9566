//! The seed workflow's own text format, as agents following it write to
//! `byterover-store-knowledge`: a bold first line `**[SESSION-ID] HEADING: Title**` where the
//! heading names the step (`CLAUDE PLAN`, `CODEX REVIEW`, `IMPLEMENTATION COMPLETE`,
//! `CODEX VALIDATION`, `VALIDATED PATTERN`), a `## Verdict` section for reviews and
//! validations, and the session ID again at the end. Storing such a text records it as the
//! artifact it is, in the session it names.

use crate::session::{Kind, SessionId, Verdict};
use crate::workflow::{Handoff, Input, Recorded, Result};

/// What a seed-format text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The step its heading names (`note` when none).
    pub kind: Kind,
    /// The first session ID it mentions.
    pub session: Option<SessionId>,
    /// The verdict of a review or validation.
    pub verdict: Option<Verdict>,
    /// The title after the heading (`CLAUDE PLAN: <title>`), for a new session.
    pub title: Option<String>,
}

/// Reads a seed-format text.
pub fn parse(text: &str) -> Message {
    let upper = text.to_ascii_uppercase();
    let kind = [
        ("CLAUDE PLAN", Kind::Plan),
        ("CODEX REVIEW", Kind::Review),
        ("IMPLEMENTATION COMPLETE", Kind::Implementation),
        ("CODEX VALIDATION", Kind::Validation),
        ("VALIDATED PATTERN", Kind::Pattern),
        ("[TYPE: PLAN]", Kind::Plan),
        ("[TYPE: REVIEW]", Kind::Review),
        ("[TYPE: IMPLEMENTATION]", Kind::Implementation),
        ("[TYPE: VALIDATION]", Kind::Validation),
        ("[TYPE: PATTERN]", Kind::Pattern),
    ]
    .into_iter()
    .filter_map(|(heading, kind)| upper.find(heading).map(|at| (at, kind)))
    .min_by_key(|(at, _)| *at)
    .map_or(Kind::Note, |(_, kind)| kind);
    let title = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|first| first.split_once(':').map(|(_, t)| t))
        .map(|t| t.trim().trim_matches('*').trim().to_owned())
        .filter(|t| !t.is_empty());
    Message {
        kind,
        session: crate::session::id::find_in_text(text).into_iter().next(),
        verdict: verdict(text),
        title,
    }
}

/// The verdict of a `## Verdict` section or a `Verdict:` line, in the seed's words
/// (`✅ APPROVE with modifications above`, `CHANGES REQUESTED`, ...).
pub fn verdict(text: &str) -> Option<Verdict> {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        let words = if trimmed.starts_with('#')
            && trimmed
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("verdict")
        {
            lines
                .by_ref()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default()
        } else if let Some(rest) = trimmed
            .trim_start_matches(['*', '#', ' '])
            .strip_prefix("Verdict:")
            .or_else(|| trimmed.strip_prefix("VERDICT:"))
        {
            rest
        } else {
            continue;
        };
        if let Some(v) = words_to_verdict(words) {
            return Some(v);
        }
    }
    None
}

fn words_to_verdict(words: &str) -> Option<Verdict> {
    let w = words.to_ascii_lowercase().replace(['_', '-'], " ");
    if w.contains("reject") {
        Some(Verdict::Reject)
    } else if w.contains("request") || w.contains("changes requested") || w.contains("not approved")
    {
        Some(Verdict::RequestChanges)
    } else if w.contains("approve") {
        if ["with", "modif", "change", "condition"]
            .iter()
            .any(|k| w.contains(k))
        {
            Some(Verdict::ApproveWithChanges)
        } else {
            Some(Verdict::Approve)
        }
    } else {
        None
    }
}

/// What storing a seed-format text did.
#[derive(Debug)]
pub struct Stored {
    /// The recorded artifact and its session.
    pub recorded: Recorded,
    /// Whether a new session was started for it.
    pub new_session: bool,
}

/// Records a seed-format text: as the artifact its heading names, in the session it names (a
/// plan naming a session that does not exist yet starts it under that ID), or as a new
/// session's plan (a plan naming none) or a note in a new session. A review or validation
/// without a verdict is refused with the reason, so an agent can correct itself.
pub fn store(handoff: &Handoff, text: &str, agent: Option<&str>) -> Result<Stored> {
    let message = parse(text);
    let known = match &message.session {
        Some(named) => match handoff.resolve(named.as_str()) {
            Ok(id) => Some(id),
            Err(super::Error::Resolve(_)) => None,
            Err(other) => return Err(other),
        },
        None => None,
    };
    let mut input = Input::new(message.kind, text.trim());
    input.agent = agent.map(str::to_owned);
    input.verdict = message.verdict;
    if let Some(id) = known {
        return Ok(Stored {
            recorded: handoff.record(&id, input)?,
            new_session: false,
        });
    }
    match (message.kind, &message.session) {
        // A plan or a note may start a session (a plan under the ID it names).
        (Kind::Plan | Kind::Note, _) => {}
        // Anything else must name a session that exists.
        (_, Some(named)) => {
            return Err(crate::session::id::ResolveError::NotFound(named.to_string()).into());
        }
        (kind, None) => return Err(super::Error::NoSession(kind)),
    }
    let title = message.title.clone().unwrap_or_else(|| {
        text.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("Note")
            .trim()
            .chars()
            .take(80)
            .collect()
    });
    let id = message.session.filter(|_| message.kind == Kind::Plan);
    Ok(Stored {
        recorded: handoff.start_as(id, &title, None, input)?,
        new_session: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_own_texts() {
        let review = "**[SESSION-20251027-A7F3K2M9] CODEX REVIEW: Rate Limiting Plan**\n\n## Strengths\n- ok\n\n## Verdict\n✅ APPROVE with modifications above\n\nSession ID: SESSION-20251027-A7F3K2M9\n";
        let m = parse(review);
        assert_eq!(m.kind, Kind::Review);
        assert_eq!(
            m.session.as_ref().map(SessionId::as_str),
            Some("SESSION-20251027-A7F3K2M9")
        );
        assert_eq!(m.verdict, Some(Verdict::ApproveWithChanges));
        let plan =
            "**[SESSION-20251027-A7F3K2M9] CLAUDE PLAN: Rate Limiting for Express API**\n\nSteps";
        let m = parse(plan);
        assert_eq!(m.kind, Kind::Plan);
        assert_eq!(m.title.as_deref(), Some("Rate Limiting for Express API"));
        assert_eq!(parse("just a thought").kind, Kind::Note);
        assert_eq!(
            verdict("Verdict: CHANGES REQUESTED"),
            Some(Verdict::RequestChanges)
        );
        assert_eq!(
            verdict("## Verdict\n\n**APPROVED**"),
            Some(Verdict::Approve)
        );
        assert_eq!(
            verdict("## Verdict\nRejected: wrong approach"),
            Some(Verdict::Reject)
        );
    }
}
