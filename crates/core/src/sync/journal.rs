//! The sync journal: what each index has acknowledged, so that `sync` is idempotent and
//! resumable (docs/byterover.md, "The journal"). A SQLite file beside the search index,
//! `<git-common-dir>/handoff/sync.sqlite`: derived local data, never pushed. Deleting it only
//! means everything is sent again.
//!
//! - `synced(backend, ref, tip)`: a session whose every artifact the index acknowledged at that
//!   tip. A session whose tip has not moved is not read again, so a sync with nothing new reads
//!   no artifact and makes no call.
//! - `sent(backend, artifact, hash, version, acknowledged)`: the text of an artifact the index
//!   acknowledged (its hash), as which version, and when. A new text for the same artifact is
//!   sent as the next version.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

/// File name inside `<git-common-dir>/handoff/`.
pub const FILE_NAME: &str = "sync.sqlite";
const VERSION: i64 = 1;

/// What can go wrong with the journal.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("sync journal {path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The folder could not be created.
    #[error("sync journal {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What the journal knows of one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Hash of the text acknowledged.
    pub hash: String,
    /// Its version.
    pub version: u32,
}

/// An open journal.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl Journal {
    /// Opens the journal as [`Journal::open`] does; a damaged one (SQLite says so, or its own
    /// check does) is set aside as `sync.sqlite.damaged` and started afresh, with the warning
    /// to give: every text is then sent again, as a new version where the index has it.
    pub fn open_or_rebuild(common_dir: &Path) -> Result<(Self, Option<String>), Error> {
        let damaged = match Self::open(common_dir) {
            Ok(journal) => match journal.check() {
                Ok(()) => return Ok((journal, None)),
                Err(problem) => problem,
            },
            Err(Error::Sqlite { source, .. }) if crate::index::damaged(&source) => {
                source.to_string()
            }
            Err(other) => return Err(other),
        };
        let path = common_dir.join("handoff").join(FILE_NAME);
        let aside = path.with_extension("sqlite.damaged");
        std::fs::rename(&path, &aside).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.clone().into_os_string();
            side.push(suffix);
            let _ = std::fs::remove_file(side);
        }
        let journal = Self::open(common_dir)?;
        Ok((
            journal,
            Some(format!(
                "the sync journal was damaged ({damaged}); it was set aside as {} and started afresh, so every text is sent again (as a new version where the index has it already)",
                aside.display()
            )),
        ))
    }

    /// SQLite's own check of the file, and a read of every row.
    fn check(&self) -> Result<(), String> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if verdict != "ok" {
            return Err(verdict);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT backend, ref, tip FROM synced")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| e.to_string())?;
        for row in rows {
            row.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Opens (creating) the journal of the repository whose common dir is `common_dir`.
    pub fn open(common_dir: &Path) -> Result<Self, Error> {
        let dir = common_dir.join("handoff");
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let sqlite = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite)?;
        if version != VERSION {
            conn.execute_batch(
                "BEGIN IMMEDIATE;
                 DROP TABLE IF EXISTS synced;
                 DROP TABLE IF EXISTS sent;
                 CREATE TABLE synced (backend TEXT NOT NULL, ref TEXT NOT NULL, tip TEXT NOT NULL,
                                      PRIMARY KEY (backend, ref));
                 CREATE TABLE sent (backend TEXT NOT NULL, artifact TEXT NOT NULL,
                                    session TEXT NOT NULL, hash TEXT NOT NULL,
                                    version INTEGER NOT NULL, acknowledged TEXT NOT NULL,
                                    PRIMARY KEY (backend, artifact));
                 PRAGMA user_version = 1;
                 COMMIT;",
            )
            .map_err(sqlite)?;
        }
        Ok(Self { conn, path })
    }

    fn sqlite(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Tips of the sessions fully synced to `backend`, by ref.
    pub fn synced_tips(&self, backend: &str) -> Result<HashMap<String, String>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT ref, tip FROM synced WHERE backend = ?1")
            .map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map([backend], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<_>>())
            .map_err(|e| self.sqlite(e))?;
        Ok(rows)
    }

    /// What `backend` acknowledged of `artifact`.
    pub fn sent(&self, backend: &str, artifact: &str) -> Result<Option<Sent>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash, version FROM sent WHERE backend = ?1 AND artifact = ?2")
            .map_err(|e| self.sqlite(e))?;
        let mut rows = stmt
            .query_map([backend, artifact], |r| {
                Ok(Sent {
                    hash: r.get(0)?,
                    version: r.get(1)?,
                })
            })
            .map_err(|e| self.sqlite(e))?;
        rows.next().transpose().map_err(|e| self.sqlite(e))
    }

    /// Records that `backend` acknowledged `hash` as `version` of `artifact`.
    pub fn acknowledge(
        &self,
        backend: &str,
        session: &str,
        artifact: &str,
        hash: &str,
        version: u32,
        at: &str,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO sent (backend, artifact, session, hash, version, acknowledged)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (backend, artifact) DO UPDATE SET
                   hash = excluded.hash, version = excluded.version,
                   acknowledged = excluded.acknowledged",
                params![backend, artifact, session, hash, version, at],
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(())
    }

    /// Records that every artifact of the session at `tip` is acknowledged by `backend`.
    pub fn session_synced(&self, backend: &str, refname: &str, tip: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO synced (backend, ref, tip) VALUES (?1, ?2, ?3)
                 ON CONFLICT (backend, ref) DO UPDATE SET tip = excluded.tip",
                params![backend, refname, tip],
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(())
    }
}
