//! What `byterover-retrieve-knowledge` answers (README, "MCP: the repository as the agents'
//! shared memory"): the stored texts
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

/// The most words of a query tried as a session's random part (each costs a lookup).
const MAX_RANDOM_PARTS: usize = 8;

/// The sessions a query names: full IDs, or a word that is a session's random part.
fn sessions_named(handoff: &Handoff, query: &str) -> Vec<SessionId> {
    let mut found = crate::session::id::find_in_text(query);
    if found.is_empty() {
        let candidates = query
            .split_whitespace()
            .map(|word| word.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
            .filter(|word| {
                word.len() == 8
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            })
            .take(MAX_RANDOM_PARTS);
        for word in candidates {
            if let Ok(id) = handoff.resolve(word)
                && !found.contains(&id)
            {
                found.push(id);
            }
        }
    }
    found
}

/// The most memories one retrieve returns.
pub const MAX_LIMIT: usize = 50;

/// A retrieve, read once: the sessions it names and the steps and words it asks for.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    limit: usize,
    words: Vec<String>,
    kinds: Vec<Kind>,
    named: Vec<SessionId>,
}

impl Query {
    /// Reads `text` (and clamps `limit` to 1..=[`MAX_LIMIT`]).
    pub fn new(handoff: &Handoff, text: &str, limit: usize) -> Self {
        let words = words(text);
        Self {
            text: text.to_owned(),
            limit: limit.clamp(1, MAX_LIMIT),
            kinds: kinds_named(&words),
            named: sessions_named(handoff, text),
            words,
        }
    }

    /// How many full-text hits [`Query::answer`] wants when the query names no session
    /// (`None` when it names one and needs no search): enough to fill the limit after the
    /// step words reorder them.
    pub fn search_limit(&self) -> Option<usize> {
        self.named
            .is_empty()
            .then(|| self.limit.saturating_mul(4).max(20))
    }

    /// Answers the query (see the module documentation). `searched` are the full-text
    /// search's `(session, artifact ULID)` hits, best first, when [`Query::search_limit`] asked
    /// for them; they are ignored when the query names a session.
    pub fn answer(&self, handoff: &Handoff, searched: Vec<(String, String)>) -> Result<Retrieved> {
        // Each session read once; the picks point into it.
        let mut sessions: Vec<Session> = Vec::new();
        let mut picked: Vec<(usize, usize)> = Vec::new();
        if self.named.is_empty() {
            let mut read: std::collections::HashMap<String, usize> = Default::default();
            for (id, artifact) in searched {
                // Without step words the order is the search's: the first hits are the answer.
                if self.kinds.is_empty() && picked.len() >= self.limit {
                    break;
                }
                let at = match read.get(&id) {
                    Some(at) => *at,
                    None => {
                        let Ok(session) = handoff.session(&id) else {
                            continue;
                        };
                        sessions.push(session);
                        read.insert(id, sessions.len() - 1);
                        sessions.len() - 1
                    }
                };
                if let Some(i) = sessions[at]
                    .artifacts
                    .iter()
                    .position(|a| a.id.to_string() == artifact)
                {
                    picked.push((at, i));
                }
            }
            // A stable sort keeps the search's ranking among hits of the same standing.
            picked.sort_by_key(|&(s, i)| !self.kinds.contains(&sessions[s].artifacts[i].kind));
        } else {
            for id in &self.named {
                // A session this clone does not hold matches nothing (as a search would say).
                let session = match handoff.store().load_view(id) {
                    Err(crate::store::Error::SessionNotFound(_)) => continue,
                    other => other?,
                };
                let at = sessions.len();
                picked.extend(
                    session
                        .artifacts
                        .iter()
                        .enumerate()
                        .filter(|(_, a)| !session.is_retracted(a) && a.retracts.is_none())
                        .map(|(i, _)| (at, i)),
                );
                sessions.push(session);
            }
            // Step and agent words first, then the newest.
            picked.sort_by_cached_key(|&(s, i)| {
                let a = &sessions[s].artifacts[i];
                let agent = a.agent.to_lowercase();
                (
                    std::cmp::Reverse((self.kinds.contains(&a.kind), self.words.contains(&agent))),
                    std::cmp::Reverse((a.created, a.id)),
                )
            });
        }
        let matched = picked.len().min(self.limit);
        let mut memories = Vec::new();
        let mut size = 0;
        for (s, i) in picked.into_iter().take(self.limit) {
            let memory = memory(&sessions[s], &sessions[s].artifacts[i]);
            if !memories.is_empty() && size + memory.text.len() > MAX_ANSWER_BYTES {
                break;
            }
            size += memory.text.len();
            memories.push(memory);
        }
        Ok(Retrieved {
            query: self.text.clone(),
            left_out: matched - memories.len(),
            memories,
        })
    }
}

/// One artifact as a memory: its text in the seed's layout, cut at [`MAX_HIT_BYTES`].
fn memory(session: &Session, artifact: &Artifact) -> Memory {
    let id = session.meta.id.as_str();
    let text = crate::sync::render::text(session, artifact, None);
    let whole = text.len();
    let (text, truncated) = crate::git::cut_at_line(text, MAX_HIT_BYTES);
    let text = if truncated {
        format!(
            "{text}\n[cut at {} of {whole} bytes: the whole text is in handoff_show {id} (git handoff show {id}); Session ID: {id}]\n",
            text.len()
        )
    } else {
        text
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
