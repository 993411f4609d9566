//! The local search index (README, "Search"): a derived SQLite database under
//! `<git-common-dir>/handoff/index.sqlite` that serves `list` and `search` at any size.
//!
//! Git stays the source of truth. Every read refreshes incrementally: only refs whose tip
//! changed since the last refresh are re-read, so sessions fetched by plain `git fetch` appear at
//! once and deleted refs disappear. A missing, corrupt or older-format index is rebuilt with one
//! line on stderr; deleting the folder loses nothing. WAL mode and a busy timeout keep
//! concurrent commands and hooks safe. The index never writes refs or notes.
//!
//! Entry points: [`Index::open`] then [`Index::refresh`], [`Index::list`] and [`Index::search`].

mod postings;
mod query;
mod rank;
mod refresh;
mod schema;
mod snippet;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use query::{
    Filter, Hit, Listing, MATCH_END, MATCH_START, SessionError, SessionRow, Terms, parse_terms,
};
pub use refresh::Stats;

/// File name of the database inside `<git-common-dir>/handoff/`.
pub const FILE_NAME: &str = "index.sqlite";
/// How long a command waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("search index: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The index directory could not be created or cleared.
    #[error("search index {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Reading the refs failed.
    #[error(transparent)]
    Store(#[from] Box<crate::store::Error>),
    /// The index cannot be written where it lives (a read-only directory, a full disk, an I/O
    /// error): the environment's problem, left as it is.
    #[error("the search index in {} cannot be opened for writing: {cause}", .path.display())]
    Unwritable {
        /// The directory.
        path: PathBuf,
        /// What SQLite said.
        cause: String,
    },
    /// The user's query has nothing to search for.
    #[error("the query '{0}' has no words to search for")]
    EmptyQuery(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// An open index.
pub struct Index {
    conn: Connection,
    path: PathBuf,
}

impl Index {
    /// Opens (creating or rebuilding as needed) the index of a repository whose common dir is
    /// `common_dir`. `notice` receives the one line explaining a rebuild.
    pub fn open(common_dir: &Path, notice: &mut dyn FnMut(&str)) -> Result<Self> {
        let dir = common_dir.join("handoff");
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let existed = path.exists();
        match Self::open_at(&path) {
            Ok(index) => Ok(index),
            // Only a damaged file or one of another format is rebuilt: a full disk, a
            // read-only directory or an I/O error says nothing about the file, and a read must
            // never delete derived data it cannot write again.
            Err(reason) if !reason.calls_for_rebuild() => Err(Error::Unwritable {
                path: dir,
                cause: reason.to_string(),
            }),
            Err(reason) => {
                if existed {
                    notice(&format!("rebuilding the search index ({reason})"));
                }
                remove_database(&path)?;
                Self::open_at(&path).map_err(Error::from)
            }
        }
    }

    /// Opens `path`, creating the schema in an empty file; fails on a corrupt file or another
    /// schema version.
    fn open_at(path: &Path) -> std::result::Result<Self, OpenProblem> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Create the schema under the write lock, re-checking inside it: several processes may
        // open a missing index at once.
        let tx =
            rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables == 0 {
            tx.execute_batch(schema::CREATE)?;
            tx.pragma_update(None, "user_version", schema::VERSION)?;
        }
        tx.commit()?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version != schema::VERSION {
            return Err(OpenProblem::Version(version));
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Deletes the index's files, so that the next command rebuilds it (a damage found too late
    /// to rebuild within this one).
    pub fn discard(self) -> Result<()> {
        let path = self.path.clone();
        drop(self);
        remove_database(&path)
    }

    /// Deletes and recreates the index (`git handoff reindex`).
    pub fn reset(self) -> Result<Self> {
        let path = self.path.clone();
        drop(self);
        remove_database(&path)?;
        Self::open_at(&path).map_err(Error::from)
    }

    /// Size of the database files in bytes (main file plus WAL).
    pub fn size_bytes(&self) -> u64 {
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", self.path.display())).ok())
            .map(|m| m.len())
            .sum()
    }
}

/// Why an existing index file is not usable as is.
#[derive(Debug, thiserror::Error)]
enum OpenProblem {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("it has format {0}, this git-handoff uses {v}", v = schema::VERSION)]
    Version(i64),
}

impl OpenProblem {
    /// Whether the file itself is the problem (damaged, or of another format), which a rebuild
    /// cures.
    fn calls_for_rebuild(&self) -> bool {
        match self {
            Self::Version(_) => true,
            Self::Sqlite(e) => damaged(e),
        }
    }
}

impl From<OpenProblem> for Error {
    fn from(p: OpenProblem) -> Self {
        match p {
            OpenProblem::Sqlite(e) => Self::Sqlite(e),
            OpenProblem::Version(_) => Self::Sqlite(rusqlite::Error::InvalidQuery),
        }
    }
}

/// A second, read-only connection to an index that [`Index::open`] has opened (and so
/// created or checked) already: for work shared out across threads.
fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

fn remove_database(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Io { path: file, source }),
        }
    }
    Ok(())
}

/// Opens the index of the repository behind `store` and brings it up to date: the one entry
/// point for `list`, `search` and the retrieval tools. A database found corrupt while
/// refreshing is rebuilt once. `notice` receives one-line messages (rebuilds); `progress`
/// receives (done, total) while sessions are read.
pub fn open_refreshed(
    store: &crate::store::Store<'_>,
    notice: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Index> {
    let common = store.repo().common_dir().to_path_buf();
    let mut index = Index::open(&common, notice)?;
    match index.refresh(store, progress) {
        Ok(_) => Ok(index),
        Err(e) if is_corruption(&e) => {
            notice(&format!("rebuilding the search index ({e})"));
            let mut index = index.reset()?;
            index.refresh(store, progress)?;
            Ok(index)
        }
        Err(e) => Err(e),
    }
}

/// The view `search --json` and the MCP search tools print, of index hits (whose snippets
/// carry match markers and whose BM25 scores are negative, lower first).
pub fn search_view(query: &str, hits: Vec<Hit>) -> crate::views::SearchView<'_> {
    crate::views::SearchView {
        query,
        results: hits.into_iter().map(search_hit).collect(),
    }
}

/// One hit as printed: the snippet without its markers, the matches as offsets, the score
/// growing with relevance.
fn search_hit(h: Hit) -> crate::views::SearchHit {
    let mut snippet = String::with_capacity(h.snippet.len());
    let mut matches = Vec::new();
    let mut open = None;
    for c in h.snippet.chars() {
        match c {
            MATCH_START => open = Some(snippet.len()),
            MATCH_END => {
                if let Some(start) = open.take() {
                    matches.push([start, snippet.len()]);
                }
            }
            c => snippet.push(c),
        }
    }
    crate::views::SearchHit {
        found: h.found,
        snippet,
        matches,
        score: (-h.score).max(0.0),
    }
}

/// Re-reads one session ref that this process just wrote into the index, when the repository
/// has an index already (or, with `create`, in any case): any git-handoff process's write keeps
/// the index current, so the next query (another process's, the MCP server's) does not have to
/// find and read it. Returns whether the index holds the write. The index is derived data: a
/// failure here only means the next query reads the session itself.
pub fn keep_current(store: &crate::store::Store<'_>, refname: &str, create: bool) -> bool {
    let path = store.repo().common_dir().join("handoff").join(FILE_NAME);
    if !create && !path.exists() {
        return false;
    }
    Index::open(store.repo().common_dir(), &mut |_| {})
        .is_ok_and(|mut index| index.refresh_written(store, refname).is_ok())
}

/// Opens the index for a long-lived front end that has just written (within the file system's
/// timestamp tick, when the refs fingerprint cannot be trusted yet) and indexed its own writes
/// with [`Index::refresh_written`]: the full listing of every ref is skipped while the
/// fingerprint is still racy. Others' writes in that window (tens of milliseconds) are seen by
/// the next call after it, whose fingerprint no longer matches the one stored.
pub fn open_after_own_write(
    store: &crate::store::Store<'_>,
    notice: &mut dyn FnMut(&str),
) -> Result<Index> {
    if refresh::is_racy(store.repo()) {
        return Index::open(store.repo().common_dir(), notice);
    }
    open_refreshed(store, notice, &mut |_, _| {})
}

/// Whether an error means the database file itself is damaged (worth one rebuild): SQLite
/// says so, or a value read back is not what was written (a text that is not UTF-8, an integer
/// where text was stored): pages overwritten behind SQLite's back.
pub fn is_corruption(err: &Error) -> bool {
    matches!(err, Error::Sqlite(e) if damaged(e))
}

/// Whether a SQLite error means the database file is damaged: what [`is_corruption`] asks of
/// the index, and the sync journal of its own file.
pub(crate) fn damaged(e: &rusqlite::Error) -> bool {
    use rusqlite::Error as E;
    match e {
        E::SqliteFailure(f, _) => matches!(
            f.code,
            rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
        ),
        E::Utf8Error(..)
        | E::FromSqlConversionFailure(..)
        | E::InvalidColumnType(..)
        | E::IntegralValueOutOfRange(..) => true,
        _ => false,
    }
}

/// Runs `read` on the refreshed index; when the index turns out to be damaged (see
/// [`is_corruption`]), rebuilds it from the refs once and runs `read` again. The index is
/// derived data: a damaged one costs a rebuild, never the command.
pub fn read_with_rebuild<T>(
    store: &crate::store::Store<'_>,
    notice: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize),
    mut read: impl FnMut(&Index) -> Result<T>,
) -> Result<T> {
    let index = open_refreshed(store, notice, progress)?;
    match read(&index) {
        Err(e) if is_corruption(&e) => {
            notice(&format!("rebuilding the search index ({e})"));
            let mut index = index.reset()?;
            index.refresh(store, progress)?;
            read(&index)
        }
        other => other,
    }
}
