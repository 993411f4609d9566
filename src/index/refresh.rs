//! Incremental refresh: re-read only the refs whose tip changed since the last refresh.
//!
//! A refresh fills what `list` needs (sessions and artifact rows) and leaves the full-text
//! terms of the sessions it read pending: tokenizing every body is most of the cost of a cold
//! index, and only `search` needs it, so [`Index::fill_text`] adds them the first time a search
//! runs (`list` right after a plain `git fetch` of many sessions stays cheap).

use std::collections::HashMap;

use rusqlite::{Transaction, TransactionBehavior, params};

use super::{Index, Result};
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
        let fingerprint = fingerprint(store.repo().common_dir());
        let stored: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'refs'", [], |r| {
                r.get(0)
            })
            .ok();
        if fingerprint.is_some() && stored == fingerprint {
            return Ok(Stats::default());
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
            self.remember(fingerprint.as_deref())?;
            return Ok(stats);
        }
        // Read from git before taking the write lock, so other readers are not held up.
        let total = changed.len();
        let mut loaded = Vec::with_capacity(total);
        // Read in chunks spread over the cores, reporting progress after each.
        for chunk in changed.chunks(512) {
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
            for ((name, tip), slot) in chunk.iter().zip(slots) {
                let result = match slot {
                    Some(err) => err,
                    None => read
                        .next()
                        .unwrap_or_else(|| {
                            Err(crate::store::Error::SessionNotFound(name.to_string()))
                        })
                        .map_err(|e| e.to_string()),
                };
                loaded.push((*name, tip.clone(), result));
            }
            progress(loaded.len(), total);
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for name in &removed {
            delete_session(&tx, name)?;
        }
        for (name, tip, result) in &loaded {
            delete_session(&tx, name)?;
            match result {
                Ok(session) => insert_session(&tx, name, tip, session, with_text)?,
                Err(error) => {
                    tx.execute(
                        "INSERT INTO sessions (ref, tip, id, error) VALUES (?1, ?2, ?3, ?4)",
                        params![name, tip, name.rsplit('/').next(), error],
                    )?;
                }
            }
        }
        tx.commit()?;
        self.remember(fingerprint.as_deref())?;
        stats.read = loaded.len();
        stats.removed = removed.len();
        Ok(stats)
    }
}

impl Index {
    /// Re-reads one session ref (one this process just wrote) into the index, without listing
    /// every ref: a long-lived front end (the MCP server) keeps what it wrote retrievable at
    /// once. Rows of the same session under another ref (its tracking ref, before this clone
    /// recorded on it) are replaced.
    pub fn refresh_written(&mut self, store: &Store<'_>, refname: &str) -> Result<()> {
        let Some(tip) = store.tip(refname).map_err(Box::new)? else {
            return Ok(());
        };
        let tip = tip.to_string();
        let session = load(store, refname, &tip);
        let id = refname.rsplit('/').next().unwrap_or_default().to_owned();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let same: Vec<String> = {
            let mut stmt =
                tx.prepare_cached("SELECT ref FROM sessions WHERE id = ?1 OR ref = ?2")?;
            let rows = stmt.query_map(params![id, refname], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for name in &same {
            delete_session(&tx, name)?;
        }
        match &session {
            Ok(session) => insert_session(&tx, refname, &tip, session, false)?,
            Err(error) => {
                tx.execute(
                    "INSERT INTO sessions (ref, tip, id, error) VALUES (?1, ?2, ?3, ?4)",
                    params![refname, tip, id, error],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds the full-text terms of every session whose terms are pending (read by a refresh
    /// since the last search), reading them from git again at the tip the index recorded.
    pub fn fill_text(&self, store: &Store<'_>) -> Result<usize> {
        let pending: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT ref, tip FROM sessions WHERE text_pending = 1 AND error IS NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if pending.is_empty() {
            return Ok(0);
        }
        let loaded: Vec<(String, String, std::result::Result<Session, String>)> = pending
            .into_iter()
            .map(|(name, tip)| {
                let session = load(store, &name, &tip);
                (name, tip, session)
            })
            .collect();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
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
                let mut rows =
                    tx.prepare_cached("SELECT rowid, artifact FROM artifact_rows WHERE ref = ?1")?;
                let ids: Vec<(i64, String)> = rows
                    .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                for (rowid, artifact) in ids {
                    if let Some(a) = session
                        .artifacts
                        .iter()
                        .find(|a| a.id.to_string() == artifact)
                    {
                        insert_text(&tx, rowid, session, a)?;
                    }
                }
            }
            tx.execute(
                "UPDATE sessions SET text_pending = 0 WHERE ref = ?1",
                [name],
            )?;
            filled += 1;
        }
        tx.commit()?;
        Ok(filled)
    }

    /// Records the refs fingerprint the index now reflects (or forgets it when it is racy).
    fn remember(&self, fingerprint: Option<&str>) -> Result<()> {
        match fingerprint {
            Some(f) => self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('refs', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [f],
            )?,
            None => self
                .conn
                .execute("DELETE FROM meta WHERE key = 'refs'", [])?,
        };
        Ok(())
    }
}

/// How long a file timestamp must be in the past before we trust it to reveal the next change
/// (git's "racily clean" rule: a change in the same timestamp tick could go unseen). The tick
/// is the file system's: a few milliseconds where timestamps carry sub-second digits, up to two
/// seconds where they do not (FAT, HFS+).
fn racy_window(modified: std::time::SystemTime) -> std::time::Duration {
    let subsecond = modified
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    if subsecond == 0 {
        std::time::Duration::from_secs(2)
    } else {
        std::time::Duration::from_millis(50)
    }
}

/// A cheap fingerprint of everything that can change the session refs: `packed-refs` (mtime and
/// size) and the `refs/handoff/sessions/` directory (whose mtime moves whenever git creates,
/// renames into or deletes a loose ref there). `None` when it cannot be trusted: a reftable
/// repository, nested session directories, or a timestamp too recent to rule out a racy change.
/// Whether the refs fingerprint cannot be trusted now (a timestamp inside its racy window).
pub(super) fn is_racy(common_dir: &std::path::Path) -> bool {
    fingerprint(common_dir).is_none()
}

fn fingerprint(common_dir: &std::path::Path) -> Option<String> {
    if common_dir.join("reftable").exists() {
        return None;
    }
    let now = std::time::SystemTime::now();
    let stamp = |path: &std::path::Path| -> Option<String> {
        match std::fs::metadata(path) {
            Ok(meta) => {
                let modified = meta.modified().ok()?;
                if now.duration_since(modified).unwrap_or_default() < racy_window(modified) {
                    return None;
                }
                let ns = modified
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?
                    .as_nanos();
                Some(format!("{ns}:{}", meta.len()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("-".to_owned()),
            Err(_) => None,
        }
    };
    let sessions = common_dir.join(store::refs::SESSIONS_PREFIX.trim_end_matches('/'));
    if let Ok(entries) = std::fs::read_dir(&sessions) {
        // A loose ref in a subdirectory would not move this directory's mtime.
        if entries
            .filter_map(std::result::Result::ok)
            .any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        {
            return None;
        }
    }
    // Sessions only a remote has are read from its tracking refs: their directories count.
    let tracking = common_dir.join(store::refs::TRACKING_PREFIX.trim_end_matches('/'));
    let mut stamps = vec![
        stamp(&common_dir.join("packed-refs"))?,
        stamp(&sessions)?,
        stamp(&tracking)?,
    ];
    if let Ok(remotes) = std::fs::read_dir(&tracking) {
        let mut dirs: Vec<_> = remotes.filter_map(std::result::Result::ok).collect();
        dirs.sort_by_key(std::fs::DirEntry::file_name);
        for remote in dirs {
            let dir = remote.path().join("sessions");
            if let Ok(entries) = std::fs::read_dir(&dir)
                && entries
                    .filter_map(std::result::Result::ok)
                    .any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            {
                return None;
            }
            stamps.push(stamp(&remote.path())?);
            stamps.push(stamp(&dir)?);
        }
    }
    Some(stamps.join("|"))
}

fn load(store: &Store<'_>, name: &str, tip: &str) -> std::result::Result<Session, String> {
    let (id, oid) = parse_ref(name, tip)?;
    store.load_at(&id, oid).map_err(|e| e.to_string())
}

/// The session ID a ref names and its tip as an OID.
fn parse_ref(name: &str, tip: &str) -> std::result::Result<(SessionId, crate::git::Oid), String> {
    let short = name.rsplit('/').next().unwrap_or_default();
    let id = SessionId::parse(short).map_err(|e| format!("odd ref name: {e}"))?;
    let oid = crate::git::Oid::from_str(tip).map_err(|e| e.to_string())?;
    Ok((id, oid))
}

fn delete_session(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM artifact_text WHERE rowid IN (SELECT rowid FROM artifact_rows WHERE ref = ?1)",
        [name],
    )?;
    tx.execute("DELETE FROM artifact_rows WHERE ref = ?1", [name])?;
    tx.execute("DELETE FROM sessions WHERE ref = ?1", [name])?;
    Ok(())
}

/// Adds a session's row and its artifacts' rows, with their full-text terms or leaving them
/// pending.
fn insert_session(
    tx: &Transaction<'_>,
    name: &str,
    tip: &str,
    session: &Session,
    with_text: bool,
) -> Result<()> {
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
    let mut row = tx.prepare_cached(
        "INSERT INTO artifact_rows (ref, artifact, kind, agent, status, created, tip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for a in &session.artifacts {
        row.execute(params![
            name,
            a.id.to_string(),
            a.kind.as_str(),
            a.agent,
            a.status.as_str(),
            render::rfc3339(a.created),
            tip
        ])?;
        if with_text {
            insert_text(tx, tx.last_insert_rowid(), session, a)?;
        }
    }
    Ok(())
}

/// Adds one artifact's terms to the full-text table, under its `artifact_rows` rowid.
fn insert_text(
    tx: &Transaction<'_>,
    rowid: i64,
    session: &Session,
    a: &crate::session::Artifact,
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
    text.execute(params![
        rowid,
        session.meta.id.as_str(),
        session.meta.title,
        a.body,
        findings,
        a.kind.as_str(),
        a.agent,
        a.status.as_str()
    ])?;
    Ok(())
}
