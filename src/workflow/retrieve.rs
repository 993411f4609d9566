//! What `byterover-retrieve-knowledge` answers (docs/mcp.md, "Retrieve"): the stored texts
//! themselves, as Byterover answers with memories, not snippets, so an agent that knows only
//! the seed's two tools gets the plan, reviews and validations in full.
//!
//! - A query that names a session (its full ID, or its 8-character random part) returns that
//!   session's artifacts. Words naming a step (`plan`, `review`, `feedback`, `implementation`,
//!   `validation`, `pattern`) or an agent (`claude`, `codex`, ...) rank those artifacts first;
//!   among equals the newest comes first, so the latest plan iteration wins.
//! - Any other query is a ranked full-text search; each hit is its artifact's whole text.
//!
//! Each text is in the seed's layout (header line, tag line, body, findings, `Session ID:`
//! line) and is cut at [`MAX_HIT_BYTES`]; the answer stops at [`MAX_ANSWER_BYTES`]. A cut text
//! ends with a line naming the tool and command that give the rest.

use crate::session::{Artifact, Kind, Session, SessionId};

use super::{Handoff, Result};

/// The largest text of one hit, in bytes.
pub const MAX_HIT_BYTES: usize = 16 * 1024;
/// The largest answer, in bytes (the hits that fit, in rank order).
pub const MAX_ANSWER_BYTES: usize = 48 * 1024;

/// One retrieved artifact.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Memory {
    /// The session.
    pub session: String,
    /// The artifact's ULID.
    pub artifact: String,
    /// Its kind.
    pub kind: Kind,
    /// Who wrote it.
    pub agent: String,
    /// The session's status after it.
    pub status: String,
    /// When it was recorded (RFC 3339).
    pub created: String,
    /// Whether `text` was cut at [`MAX_HIT_BYTES`].
    pub truncated: bool,
    /// The text in the seed's layout.
    pub text: String,
}

/// What a retrieve found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Retrieved {
    /// The query as given.
    pub query: String,
    /// The hits, best first, within [`MAX_ANSWER_BYTES`].
    pub memories: Vec<Memory>,
    /// Hits that matched but were left out to stay within the answer's bound.
    pub left_out: usize,
}

impl Retrieved {
    /// The answer as text: each memory's text, separated by `---` lines.
    pub fn text(&self) -> String {
        if self.memories.is_empty() {
            return format!(
                "Nothing stored matches '{}'. Stored sessions are listed by handoff_list (git handoff list).",
                one_line(&self.query)
            );
        }
        let mut out = self
            .memories
            .iter()
            .map(|m| m.text.trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n\n---\n\n");
        if self.left_out > 0 {
            out.push_str(&format!(
                "\n\n[{} more match(es) left out to keep this answer within {} KiB; ask with a narrower query or a session ID]",
                self.left_out,
                MAX_ANSWER_BYTES / 1024
            ));
        }
        out.push('\n');
        out
    }
}

/// The steps a query's words name.
fn kinds_named(words: &[String]) -> Vec<Kind> {
    let mut kinds = Vec::new();
    for word in words {
        let kind = match word.as_str() {
            "plan" | "plans" | "planning" | "planned" => Kind::Plan,
            "review" | "reviews" | "reviewed" | "feedback" => Kind::Review,
            "implementation" | "implement" | "implemented" | "implementing" | "summary" => {
                Kind::Implementation
            }
            "validation" | "validate" | "validated" | "validating" => Kind::Validation,
            "pattern" | "patterns" => Kind::Pattern,
            _ => continue,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// The query's words, lower case, without punctuation.
fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The sessions a query names: full IDs, or a word that is a session's random part.
fn sessions_named(handoff: &Handoff, query: &str) -> Vec<SessionId> {
    let mut found = crate::session::id::find_in_text(query);
    if found.is_empty() {
        for word in query.split_whitespace() {
            let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            let looks_random = word.len() == 8
                && word
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            if looks_random
                && let Ok(id) = handoff.resolve(word)
                && !found.contains(&id)
            {
                found.push(id);
            }
        }
    }
    found
}

/// How many full-text hits [`retrieve`] wants for `limit` memories when the query names no
/// session (`None` when it names one and needs no search): enough to fill the limit after the
/// step words reorder them.
pub fn search_needed(handoff: &Handoff, query: &str, limit: usize) -> Option<usize> {
    sessions_named(handoff, query)
        .is_empty()
        .then(|| limit.clamp(1, MAX_LIMIT).saturating_mul(4).max(20))
}

/// The most memories one retrieve returns.
pub const MAX_LIMIT: usize = 50;

/// Answers a retrieve (see the module documentation). `searched` are the full-text search's
/// `(session, artifact ULID)` hits, best first, for a query that names no session (see
/// [`search_needed`]); they are ignored when it names one.
pub fn retrieve(
    handoff: &Handoff,
    query: &str,
    limit: usize,
    searched: Vec<(String, String)>,
) -> Result<Retrieved> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let words = words(query);
    let kinds = kinds_named(&words);
    let named = sessions_named(handoff, query);
    let mut picked: Vec<(Session, Artifact)> = Vec::new();
    if named.is_empty() {
        let hits = searched;
        let mut loaded: Vec<(Session, Artifact)> = Vec::new();
        for (session, artifact) in hits {
            let Ok(session) = handoff.session(&session) else {
                continue;
            };
            if let Some(a) = session
                .artifacts
                .iter()
                .find(|a| a.id.to_string() == artifact)
                .cloned()
            {
                loaded.push((session, a));
            }
        }
        // A stable sort keeps the search's ranking among hits of the same standing.
        loaded.sort_by_key(|(_, a)| !kinds.contains(&a.kind));
        picked = loaded;
    } else {
        for id in &named {
            // A session this clone does not hold matches nothing (as a search would say).
            let session = match handoff.store().load_view(id) {
                Err(crate::store::Error::SessionNotFound(_)) => continue,
                other => other?,
            };
            for a in &session.artifacts {
                if !session.is_retracted(a) && a.retracts.is_none() {
                    picked.push((session.clone(), a.clone()));
                }
            }
        }
        let agent_named = |a: &Artifact| words.iter().any(|w| *w == a.agent.to_lowercase());
        picked.sort_by(|(_, a), (_, b)| {
            let standing = |x: &Artifact| (kinds.contains(&x.kind), agent_named(x));
            standing(b)
                .cmp(&standing(a))
                .then_with(|| b.created.cmp(&a.created))
                .then_with(|| b.id.cmp(&a.id))
        });
    }
    let matched = picked.len().min(limit);
    let mut memories = Vec::new();
    let mut size = 0;
    for (session, artifact) in picked.into_iter().take(limit) {
        let memory = memory(&session, &artifact);
        if !memories.is_empty() && size + memory.text.len() > MAX_ANSWER_BYTES {
            break;
        }
        size += memory.text.len();
        memories.push(memory);
    }
    Ok(Retrieved {
        query: query.to_owned(),
        left_out: matched - memories.len(),
        memories,
    })
}

/// One artifact as a memory: its text in the seed's layout, cut at [`MAX_HIT_BYTES`].
fn memory(session: &Session, artifact: &Artifact) -> Memory {
    let id = session.meta.id.as_str();
    let text = crate::sync::render::text(session, artifact, None);
    let (text, truncated) = if text.len() > MAX_HIT_BYTES {
        let mut end = MAX_HIT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let end = text[..end].rfind('\n').map_or(end, |i| i + 1);
        (
            format!(
                "{}\n[cut at {end} of {} bytes: the whole text is in handoff_show {id} (git handoff show {id}); Session ID: {id}]\n",
                &text[..end],
                text.len()
            ),
            true,
        )
    } else {
        (text, false)
    };
    Memory {
        session: id.to_owned(),
        artifact: artifact.id.to_string(),
        kind: artifact.kind,
        agent: artifact.agent.clone(),
        status: artifact.status.as_str().to_owned(),
        created: crate::views::rfc3339(artifact.created),
        truncated,
        text,
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
