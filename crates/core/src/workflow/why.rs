//! `git handoff why REV`: which sessions produced a commit, from its notes first, then from
//! `Handoff-Session:` lines in its message (trailers, which survive cherry-picks, and the
//! trailers of squashed commits that a squash leaves in the message).

use serde::Serialize;

use crate::session::{Kind, Session, SessionId};
use crate::store::{self, LINE_KEY, Store, parse_note};

/// How a session was linked to the commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A line in `refs/notes/handoff`.
    Note,
    /// A `Handoff-Session:` trailer in the commit message.
    Trailer,
}

/// One session linked to the commit.
#[derive(Debug)]
pub struct Link {
    /// The session.
    pub id: SessionId,
    /// Where the link came from.
    pub source: Source,
    /// Kinds of artifacts that noted the commit (empty for trailers).
    pub kinds: Vec<Kind>,
    /// The session, or why it could not be read (it may not have been fetched).
    pub session: Result<Session, store::Error>,
}

/// Finds the sessions linked to `commit`.
pub fn lookup(store: &Store<'_>, commit: crate::git::Oid) -> Result<Vec<Link>, store::Error> {
    let mut links: Vec<Link> = Vec::new();
    let text = store.read_visible_notes(commit)?;
    {
        for line in parse_note(&text) {
            match links.iter_mut().find(|l| l.id == line.session) {
                // The same line in our notes and a remote's (after a fetch) is one link.
                Some(link) if link.kinds.contains(&line.kind) => {}
                Some(link) => link.kinds.push(line.kind),
                None => links.push(Link {
                    session: store.load(&line.session),
                    id: line.session,
                    source: Source::Note,
                    kinds: vec![line.kind],
                }),
            }
        }
    }
    let message = store.repo().commit_message(commit)?;
    for id in mentioned_sessions(&message) {
        if !links.iter().any(|l| l.id == id) {
            links.push(Link {
                session: store.load(&id),
                id,
                source: Source::Trailer,
                kinds: Vec::new(),
            });
        }
    }
    Ok(links)
}

/// Every session a `Handoff-Session: <ID>` line anywhere in `message` names, in order, each
/// once: the trailer block, and the paragraphs a squash leaves (`rebase -i` keeps each squashed
/// message's trailers where they were; `merge --squash` indents them under each commit).
pub fn mentioned_sessions(message: &str) -> Vec<SessionId> {
    let mut out: Vec<SessionId> = Vec::new();
    // A message from a remote may name thousands: dedupe in linear time.
    let mut seen = std::collections::HashSet::new();
    for line in message.lines() {
        let line = line.trim_start();
        let Some(rest) = line
            .get(..LINE_KEY.len())
            .filter(|key| key.eq_ignore_ascii_case(LINE_KEY))
            .map(|_| &line[LINE_KEY.len()..])
        else {
            continue;
        };
        if let Some(id) = rest
            .split_whitespace()
            .next()
            .and_then(|v| SessionId::parse(v).ok())
            && seen.insert(id.clone())
        {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_are_read_with_others_around_them() {
        let msg = "Add limiter\n\nBody text.\n\nHandoff-Session: SESSION-20251027-A7F3K2M9-rate\nSigned-off-by: A <a@b>\n";
        let ids = mentioned_sessions(msg);
        assert_eq!(ids.len(), 1);
        assert_eq!(ids[0].random(), "A7F3K2M9");
        assert!(mentioned_sessions("Handoff-Session: SESSION-20251027-A7F3K2M9\n").len() <= 1);
        assert!(
            mentioned_sessions("Not-Handoff-Session: SESSION-20251027-A7F3K2M9-x\n").is_empty()
        );
    }

    #[test]
    fn thousands_of_sessions_in_one_message_are_each_named_once() {
        const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let ids: Vec<String> = (0..5_000usize)
            .map(|n| {
                let random: String = (0..8)
                    .map(|k| char::from(CROCKFORD[(n >> (5 * k)) % 32]))
                    .collect();
                format!("SESSION-20251027-{random}")
            })
            .collect();
        let message: String = ids
            .iter()
            .chain(ids.iter())
            .map(|id| format!("Handoff-Session: {id}\n"))
            .collect();
        let found: Vec<String> = mentioned_sessions(&message)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found, ids);
    }

    #[test]
    fn squashed_messages_name_every_session() {
        let a = "SESSION-20251027-A7F3K2M9-rate";
        let b = "SESSION-20251027-B7F3K2M9-cache";
        // What `rebase -i` leaves after a squash: the first message's trailer mid-message.
        let squashed = format!("One\n\nHandoff-Session: {a}\n\nTwo\n\nHandoff-Session: {b}\n");
        let ids: Vec<String> = mentioned_sessions(&squashed)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ids, [a, b]);
        // What `merge --squash` writes: each commit indented, a session named twice once.
        let merged = format!(
            "Squashed commit of the following:\n\ncommit 1\n\n    x\n\n    Handoff-Session: {a}\n\ncommit 2\n\n    Handoff-Session: {a}\n"
        );
        assert_eq!(mentioned_sessions(&merged).len(), 1);
        assert!(mentioned_sessions("Handoff-Session: not-an-id\n").is_empty());
    }
}
