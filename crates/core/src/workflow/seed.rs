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
    /// What the text became when it could not be recorded as the step it names (kept as a
    /// note, or recorded out of order), for the agent to read; `None` when it is that step.
    pub kept_as: Option<String>,
}

/// The body to store: the text without the seed's header line (`**[ID] HEADING: title**`,
/// which every reader renders again from the artifact) and without a closing `Session ID:`
/// line (likewise), so neither appears twice.
pub fn body_of(text: &str) -> String {
    let whole = text.trim();
    // Slices of the text as it came (line endings and all), never a rebuilt copy.
    let mut body = whole;
    if let Some(first) = body.lines().next()
        && is_header(first)
    {
        body = &body[first.len()..];
    }
    let last_start = body.rfind('\n').map_or(0, |at| at + 1);
    if body[last_start..].trim_start().starts_with("Session ID:") {
        body = &body[..last_start];
    }
    let body = body.trim();
    // A text that was nothing but its header keeps it: an empty body tells nothing.
    if body.is_empty() { whole } else { body }.to_owned()
}

/// Whether a line is the seed's header: bold, naming a session in brackets and a step.
fn is_header(line: &str) -> bool {
    let line = line.trim();
    let upper = line.to_ascii_uppercase();
    line.starts_with("**[")
        && line.ends_with("**")
        && upper.contains("SESSION-")
        && [
            "CLAUDE PLAN",
            "CODEX REVIEW",
            "IMPLEMENTATION COMPLETE",
            "CODEX VALIDATION",
            "VALIDATED PATTERN",
            "NOTE",
        ]
        .iter()
        .any(|heading| upper.contains(heading))
}

/// Records a seed-format text, never losing it: as the artifact its heading names, in the
/// session it names (a plan naming a session that does not exist yet starts it under that ID),
/// or as a new session's plan (a plan naming none). What cannot be that step is still kept, and
/// [`Stored::kept_as`] says how: a step the session's status does not allow is recorded out of
/// order (marked `forced`, as `--force` marks it); a review or validation without a verdict, or
/// a step naming no session or an unknown one, is kept as a note (in a new session when needed).
/// Only an empty text (or one over the size limit) is refused.
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
    let body = body_of(text);
    if body.trim().is_empty() {
        return Err(super::Error::EmptyBody(message.kind));
    }
    let mut kind = message.kind;
    let mut kept_as = None;
    if matches!(kind, Kind::Review | Kind::Validation) && message.verdict.is_none() {
        kept_as = Some(format!(
            "kept as a note: {} {kind} needs a verdict (a '## Verdict' section: APPROVE, APPROVE with changes, CHANGES REQUESTED or REJECT); store it again with one to record the {kind}",
            kind.article()
        ));
        kind = Kind::Note;
    }
    let mut input = Input::new(kind, body.clone());
    input.agent = agent.map(str::to_owned);
    input.verdict = message.verdict.filter(|_| kind != Kind::Note);
    if let Some(id) = known {
        let session = handoff.store().load(&id)?;
        if let Err(refused) = session.state.check(kind, id.as_str()) {
            input.force = true;
            kept_as = Some(format!("recorded out of order (marked forced): {refused}"));
        }
        let recorded = match handoff.record(&id, input.clone()) {
            // An implementation with no commit of the session to note: kept all the same.
            Err(super::Error::NoCommits { why, .. }) => {
                input.force = true;
                kept_as = Some(format!(
                    "recorded without commits ({why}); once the work is committed on this branch with {id} current, store the implementation again or run: git handoff implement {id} --force"
                ));
                handoff.record(&id, input)?
            }
            other => other?,
        };
        return Ok(Stored {
            recorded,
            new_session: false,
            kept_as,
        });
    }
    if !matches!(kind, Kind::Plan | Kind::Note) {
        // A step other than a plan needs its session: keep the text as a note of a new one.
        kept_as = Some(match &message.session {
            Some(named) => format!(
                "kept as a note in a new session {named}: no session {named} was stored here to record {} {kind} in (a plan starts one)",
                kind.article()
            ),
            None => format!(
                "kept as a note in a new session: {} {kind} must name its session (**[SESSION-ID] ...** on its first line)",
                kind.article()
            ),
        });
        input.kind = Kind::Note;
        input.verdict = None;
    }
    let title = message.title.clone().unwrap_or_else(|| {
        body.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("Note")
            .trim()
            .chars()
            .take(80)
            .collect()
    });
    Ok(Stored {
        recorded: handoff.start_as(message.session, &title, None, input)?,
        new_session: true,
        kept_as,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_and_the_closing_id_are_not_stored_twice() {
        let review = "**[SESSION-20251027-A7F3K2M9] CODEX REVIEW: Rate Limiting Plan**\n\n## Strengths\n- ok\n\nSession ID: SESSION-20251027-A7F3K2M9\n";
        assert_eq!(body_of(review), "## Strengths\n- ok");
        // Not a header: kept.
        assert_eq!(
            body_of("**Bold start** of prose\nmore"),
            "**Bold start** of prose\nmore"
        );
        // Line endings stay as they came.
        assert_eq!(
            body_of("**[SESSION-20251027-A7F3K2M9] CODEX REVIEW: T**\r\n\r\nOne\r\nTwo\r\n"),
            "One\r\nTwo"
        );
        // Nothing but a header: kept whole rather than emptied.
        let only = "**[SESSION-20251027-A7F3K2M9] CLAUDE PLAN: Title**";
        assert_eq!(body_of(only), only);
    }

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
