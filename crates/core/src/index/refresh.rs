//! Incremental refresh: re-read only the refs whose tip changed since the last refresh.
//!
//! A refresh fills what `list` needs (sessions and artifact rows) and leaves the full-text
//! terms of the sessions it read pending: tokenizing every body is most of the cost of a cold
//! index, and only `search` needs it, so [`Index::fill_text`] adds them the first time a search
//! runs (`list` right after a plain `git fetch` of many sessions stays cheap).

use std::collections::HashMap;

use rusqlite::{OptionalExtension as _, Transaction, TransactionBehavior, params};

use super::postings::{self, Batch};
use super::{Index, Result};
use crate::git::RefStamps;
use crate::session::{Session, SessionId};
use crate::store::{self, Store};
use crate::views as render;

/// What a refresh did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Sessions (re-)read from git because their tip changed or they are new.
    pub read: usize,
    /// Sessions removed because their ref is gone.
    pub removed: usize,
    /// Sessions whose tip had not changed.
    pub unchanged: usize,
}

impl Index {
    /// Brings the index up to date with `refs/handoff/sessions/*`. `progress(done, total)` is
    /// called while sessions are read (for a progress line on large rebuilds).
    pub fn refresh(
        &mut self,
        store: &Store<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Stats> {
        self.refresh_with(store, progress, false)
    }

    /// Rebuilds or refreshes with the full-text terms written at once (`reindex`: one pass over
    /// the sessions instead of a second one at the first search).
    pub fn refresh_with_text(
        &mut self,
        store: &Store<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Stats> {
        self.refresh_with(store, progress, true)
    }

    fn refresh_with(
        &mut self,
        store: &Store<'_>,
        progress: &mut dyn FnMut(usize, usize),
        with_text: bool,
    ) -> Result<Stats> {
        let stamps = stamps(store.repo());
        let fingerprint = stamps.fingerprint();
        if fingerprint.is_some() && self.meta("refs") == fingerprint {
            return Ok(Stats::default());
        }
        // Only loose local refs changed (an agent recorded here): re-read those alone, not
        // every ref. A loose ref gone since (deleted, or packed, which moves packed-refs)
        // needs the full listing below.
        if !with_text
            && let (Some(rest), Some(loose)) = (&stamps.rest, &stamps.loose)
            && self.meta("refs-rest").as_ref() == Some(rest)
            && let Some(before) = self
                .meta("loose")
                .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
            && before.iter().all(|n| loose.binary_search(n).is_ok())
            && let Some(stats) = self.refresh_loose(store, loose)?
        {
            self.remember(&stamps)?;
            return Ok(stats);
        }
        let refs = store.session_refs().map_err(Box::new)?;
        let known: HashMap<String, String> = {
            let mut stmt = self.conn.prepare_cached("SELECT ref, tip FROM sessions")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut stats = Stats::default();
        let mut changed = Vec::new();
        for (name, tip) in &refs {
            let tip = tip.to_string();
            if known.get(name) == Some(&tip) {
                stats.unchanged += 1;
            } else {
                changed.push((name.as_str(), tip));
            }
        }
        let current: std::collections::HashSet<&str> =
            refs.iter().map(|(n, _)| n.as_str()).collect();
        let removed: Vec<&String> = known
            .keys()
            .filter(|k| !current.contains(k.as_str()))
            .collect();
        if changed.is_empty() && removed.is_empty() {
            self.remember(&stamps)?;
            return Ok(stats);
        }
        let total = changed.len();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for name in &removed {
            delete_session(&tx, name)?;
        }
        let mut batch = Batch::default();
        let mut write = |loaded: &[Loaded<'_>]| -> Result<()> {
            for (name, tip, result) in loaded {
                delete_session(&tx, name)?;
                write_session(&tx, name, tip, result, with_text.then_some(&mut batch))?;
            }
            Ok(())
        };
        if total < READ_CHUNK {
            // A few sessions (an agent's new artifact, a small fetch): read them right here.
            write(&read_chunk(store, &changed))?;
            progress(total, total);
        } else {
            // Many: reading from git and writing rows run side by side. A reader thread (with
            // its own handle on the repository) loads sessions in chunks, each spread over the
            // cores, while this thread writes the previous chunk, so a cold build takes about
            // the longer of the two instead of their sum and holds a few chunks in memory, not
            // all of them. Readers of the index are never held up (WAL).
            let git_dir = store.repo().git_dir().to_path_buf();
            std::thread::scope(|scope| -> Result<()> {
                let (send, chunks) = std::sync::mpsc::sync_channel::<Vec<Loaded<'_>>>(2);
                let changed = &changed;
                scope.spawn(move || {
                    let repo = crate::git::Repo::open(&git_dir);
                    for chunk in changed.chunks(READ_CHUNK) {
                        let loaded = match &repo {
                            Ok(repo) => read_chunk(&Store::new(repo), chunk),
                            Err(e) => chunk
                                .iter()
                                .map(|(name, tip)| {
                                    let why = format!("cannot open the repository: {e}");
                                    (*name, tip.clone(), Err(why))
                                })
                                .collect(),
                        };
                        // The writer stopped (an error it returns): stop reading.
                        if send.send(loaded).is_err() {
                            break;
                        }
                    }
                });
                let mut written = 0;
                for loaded in chunks {
                    write(&loaded)?;
                    written += loaded.len();
                    progress(written, total);
                }
                Ok(())
            })?;
        }
        batch.finish(&tx)?;
        tx.commit()?;
        self.remember(&stamps)?;
        stats.read = total;
        stats.removed = removed.len();
        Ok(stats)
    }
}

impl Index {
    /// Re-reads one session ref (one this process just wrote) into the index, with its
    /// full-text terms, without listing every ref: a long-lived front end (the MCP server)
    /// keeps what it wrote retrievable at once. Rows of the same session under another ref (its tracking ref, before this clone
    /// recorded on it) are replaced.
    pub fn refresh_written(&mut self, store: &Store<'_>, refname: &str) -> Result<()> {
        let Some(tip) = store.tip(refname).map_err(Box::new)? else {
            return Ok(());
        };
        let tip = tip.to_string();
        let session = load(store, refname, &tip);
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        // With its full-text terms: a search right after the write (the next agent's) then
        // has nothing to fill, and a process that wrote thousands of sessions leaves no
        // thousands of pending texts to the first search of another.
        let mut batch = Batch::default();
        replace_session(&tx, refname, &tip, &session, Some(&mut batch))?;
        batch.finish(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Adds the full-text terms of every session whose terms are pending (read by a refresh
    /// since the last search), reading them from git again at the tip the index recorded, in
    /// chunks of [`READ_CHUNK`] sessions: thousands of fetched sessions are held in memory a
    /// chunk at a time, never all at once.
    pub fn fill_text(&self, store: &Store<'_>) -> Result<usize> {
        let pending: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT ref, tip FROM sessions WHERE text_pending = 1 AND error IS NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut filled = 0;
        for chunk in pending.chunks(READ_CHUNK) {
            filled += self.fill_text_of(store, chunk)?;
        }
        Ok(filled)
    }

    /// [`Index::fill_text`] for some of the pending sessions, in one transaction.
    fn fill_text_of(&self, store: &Store<'_>, pending: &[(String, String)]) -> Result<usize> {
        let loaded: Vec<(&str, &str, std::result::Result<Session, String>)> = pending
            .iter()
            .map(|(name, tip)| (name.as_str(), tip.as_str(), load(store, name, tip)))
            .collect();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut batch = Batch::default();
        let mut filled = 0;
        for (name, tip, session) in &loaded {
            // Another process may have filled or replaced it meanwhile: only a row still
            // pending at the same tip is ours to fill.
            let still: bool = tx
                .query_row(
                    "SELECT count(*) FROM sessions WHERE ref = ?1 AND tip = ?2 AND text_pending = 1",
                    params![name, tip],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n > 0)?;
            if !still {
                continue;
            }
            if let Ok(session) = session {
                let mut rows = tx.prepare_cached(
                    "SELECT r.rowid, r.artifact FROM artifact_rows r
                     JOIN sessions s ON s.sid = r.sid WHERE s.ref = ?1",
                )?;
                let ids: Vec<(i64, String)> = rows
                    .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                for (rowid, artifact) in ids {
                    if let Some(a) = session
                        .artifacts
                        .iter()
                        .find(|a| a.id.to_string() == artifact)
                    {
                        insert_text(&tx, rowid, session, a, &mut batch)?;
                    }
                }
            }
            tx.execute(
                "UPDATE sessions SET text_pending = 0 WHERE ref = ?1",
                [name],
            )?;
            filled += 1;
        }
        batch.finish(&tx)?;
        tx.commit()?;
        Ok(filled)
    }

    /// Re-reads the loose local session refs named (all of them) whose tip differs from the
    /// index's; `None` when one has vanished meanwhile (the caller then lists every ref).
    fn refresh_loose(&self, store: &Store<'_>, names: &[String]) -> Result<Option<Stats>> {
        let mut stats = Stats::default();
        let mut changed = Vec::new();
        {
            let mut indexed = self
                .conn
                .prepare_cached("SELECT tip FROM sessions WHERE ref = ?1")?;
            for name in names {
                let refname = format!("{}{name}", store::refs::SESSIONS_PREFIX);
                let Some(tip) = store.tip(&refname).map_err(Box::new)? else {
                    return Ok(None);
                };
                let tip = tip.to_string();
                let known: Option<String> =
                    indexed.query_row([&refname], |r| r.get(0)).optional()?;
                if known.as_deref() == Some(tip.as_str()) {
                    stats.unchanged += 1;
                } else {
                    changed.push((refname, tip));
                }
            }
        }
        if changed.is_empty() {
            return Ok(Some(stats));
        }
        let loaded: Vec<_> = changed
            .into_iter()
            .map(|(name, tip)| {
                let session = load(store, &name, &tip);
                (name, tip, session)
            })
            .collect();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for (name, tip, result) in &loaded {
            replace_session(&tx, name, tip, result, None)?;
        }
        tx.commit()?;
        stats.read = loaded.len();
        Ok(Some(stats))
    }

    /// A value of the index's own facts.
    fn meta(&self, key: &str) -> Option<String> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .ok()
    }

    /// Records the refs stamps the index now reflects (forgetting those that are racy).
    fn remember(&self, stamps: &RefStamps) -> Result<()> {
        let loose = stamps
            .loose
            .as_ref()
            .and_then(|names| serde_json::to_string(names).ok());
        for (key, value) in [
            ("refs", stamps.fingerprint()),
            ("refs-rest", stamps.rest.clone()),
            ("loose", loose),
        ] {
            match value {
                Some(v) => self.conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![key, v],
                )?,
                None => self
                    .conn
                    .execute("DELETE FROM meta WHERE key = ?1", [key])?,
            };
        }
        Ok(())
    }
}

/// Whether the refs fingerprint cannot be trusted now (a timestamp inside its racy window).
pub(super) fn is_racy(repo: &crate::git::Repo) -> bool {
    stamps(repo).fingerprint().is_none()
}

/// At most this many loose session refs are re-read one by one after a local write; beyond,
/// a refresh lists every ref.
const LOOSE_MAX: usize = 1_000;

/// The stamps of the session refs, own and tracking (see [`RefStamps`]).
fn stamps(repo: &crate::git::Repo) -> RefStamps {
    repo.ref_stamps(
        store::refs::SESSIONS_PREFIX,
        store::refs::TRACKING_PREFIX,
        LOOSE_MAX,
    )
}

/// How many sessions a refresh reads per chunk (and reports progress after).
const READ_CHUNK: usize = 512;

/// A session ref, its tip, and the session read there (or why it could not be).
type Loaded<'a> = (&'a str, String, std::result::Result<Session, String>);

/// Reads a chunk of `(ref, tip)` pairs, spread over the cores.
fn read_chunk<'a>(store: &Store<'_>, chunk: &[(&'a str, String)]) -> Vec<Loaded<'a>> {
    let mut ids = Vec::with_capacity(chunk.len());
    let mut slots = Vec::with_capacity(chunk.len());
    for (name, tip) in chunk {
        match parse_ref(name, tip) {
            Ok(pair) => {
                slots.push(None);
                ids.push(pair);
            }
            Err(e) => slots.push(Some(Err(e))),
        }
    }
    let mut read = store.load_many(&ids).into_iter();
    chunk
        .iter()
        .zip(slots)
        .map(|((name, tip), slot)| {
            let result = match slot {
                Some(err) => err,
                None => read
                    .next()
                    .unwrap_or_else(|| Err(crate::store::Error::SessionNotFound(name.to_string())))
                    .map_err(|e| e.to_string()),
            };
            (*name, tip.clone(), result)
        })
        .collect()
}

fn load(store: &Store<'_>, name: &str, tip: &str) -> std::result::Result<Session, String> {
    let (id, oid) = parse_ref(name, tip)?;
    store.load_at(&id, oid).map_err(|e| e.to_string())
}

/// The session ID a ref names and its tip as an OID.
fn parse_ref(name: &str, tip: &str) -> std::result::Result<(SessionId, crate::git::Oid), String> {
    let short = name.rsplit('/').next().unwrap_or_default();
    let id = SessionId::parse(short).map_err(|e| format!("odd ref name: {e}"))?;
    let oid = crate::git::parse_oid(tip).map_err(|e| e.to_string())?;
    Ok((id, oid))
}

/// Replaces every row of the session `name` holds, under this ref or another (a tracking ref
/// this local ref now hides), by what was read at `tip`.
fn replace_session(
    tx: &Transaction<'_>,
    name: &str,
    tip: &str,
    read: &std::result::Result<Session, String>,
    text: Option<&mut Batch>,
) -> Result<()> {
    let id = name.rsplit('/').next().unwrap_or_default();
    let same: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT ref FROM sessions WHERE id = ?1 OR ref = ?2")?;
        let rows = stmt.query_map(params![id, name], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for other in &same {
        delete_session(tx, other)?;
    }
    write_session(tx, name, tip, read, text)
}

/// Writes the rows of a session read at `tip`, or its error row when it could not be read;
/// with `text`, its full-text rows too (their terms go to `text`).
fn write_session(
    tx: &Transaction<'_>,
    name: &str,
    tip: &str,
    read: &std::result::Result<Session, String>,
    text: Option<&mut Batch>,
) -> Result<()> {
    match read {
        Ok(session) => insert_session(tx, name, tip, session, text),
        Err(error) => {
            tx.execute(
                "INSERT INTO sessions (ref, tip, id, error) VALUES (?1, ?2, ?3, ?4)",
                params![name, tip, name.rsplit('/').next(), error],
            )?;
            Ok(())
        }
    }
}

/// Removes every row of the session under ref `name`, if the index has it (a new ref costs one
/// indexed lookup: most sessions of a cold build or a large fetch are new).
pub(super) fn delete_session(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<()> {
    let sid: Option<i64> = tx
        .prepare_cached("SELECT sid FROM sessions WHERE ref = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    let Some(sid) = sid else {
        return Ok(());
    };
    postings::bury_session(tx, sid)?;
    tx.prepare_cached(
        "DELETE FROM artifact_text WHERE rowid IN (SELECT rowid FROM artifact_rows WHERE sid = ?1)",
    )?
    .execute([sid])?;
    tx.prepare_cached("DELETE FROM artifact_rows WHERE sid = ?1")?
        .execute([sid])?;
    tx.prepare_cached("DELETE FROM sessions WHERE sid = ?1")?
        .execute([sid])?;
    Ok(())
}

/// Adds a session's row and its artifacts' rows, with their full-text terms (into `text`) or
/// leaving them pending.
fn insert_session(
    tx: &Transaction<'_>,
    name: &str,
    tip: &str,
    session: &Session,
    mut text: Option<&mut Batch>,
) -> Result<()> {
    let with_text = text.is_some();
    let s = render::summary(session);
    let agents = serde_json::to_string(&s.agents).unwrap_or_else(|_| "[]".to_owned());
    tx.prepare_cached(
        "INSERT INTO sessions (ref, tip, id, title, status, iteration, created, updated, base, head, artifacts, agents, text_pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        name, tip, s.id, s.title, s.status, s.iteration, s.created, s.updated, s.base, s.head,
        i64::try_from(s.artifacts).unwrap_or(i64::MAX), agents, i64::from(!with_text)
    ])?;
    let sid = tx.last_insert_rowid();
    let mut row = tx.prepare_cached(
        "INSERT INTO artifact_rows (sid, artifact, kind, agent, status, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for a in &session.artifacts {
        row.execute(params![
            sid,
            a.id.to_string(),
            a.kind.as_str(),
            a.agent,
            a.status.as_str(),
            render::rfc3339(a.created),
        ])?;
        if let Some(batch) = text.as_deref_mut() {
            insert_text(tx, tx.last_insert_rowid(), session, a, batch)?;
        }
    }
    Ok(())
}

/// Adds one artifact's terms to the full-text table, under its `artifact_rows` rowid, and to
/// the postings (`batch`).
fn insert_text(
    tx: &Transaction<'_>,
    rowid: i64,
    session: &Session,
    a: &crate::session::Artifact,
    batch: &mut Batch,
) -> Result<()> {
    let mut text = tx.prepare_cached(
        "INSERT INTO artifact_text (rowid, session, title, body, findings, kind, agent, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let findings: String = a
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}\n{}\n{}\n",
                f.title,
                f.body,
                f.path.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let columns = [
        session.meta.id.as_str(),
        session.meta.title.as_str(),
        a.body.as_str(),
        findings.as_str(),
        a.kind.as_str(),
        a.agent.as_str(),
        a.status.as_str(),
    ];
    text.execute(params![
        rowid, columns[0], columns[1], columns[2], columns[3], columns[4], columns[5], columns[6]
    ])?;
    batch.add_row(tx, rowid, columns)?;
    Ok(())
}
