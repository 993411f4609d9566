//! The index's SQLite schema. Bump [`VERSION`] whenever it changes: an index of another version
//! is rebuilt, never migrated (it is derived data).

/// Schema version, stored in `PRAGMA user_version`.
pub const VERSION: i64 = 8;

/// The full-text tokenizer (postings.rs tokenizes non-ASCII rows with the same one).
pub const TOKENIZER: &str = "unicode61 remove_diacritics 2";

/// Creates every table of an empty index.
pub const CREATE: &str = r#"
-- key/value facts about the index itself (the refs fingerprint of the last refresh).
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE sessions (
    sid        INTEGER PRIMARY KEY,  -- what artifact rows point at (an integer, not the ref text)
    ref        TEXT NOT NULL UNIQUE,
    tip        TEXT NOT NULL,
    id         TEXT,
    title      TEXT,
    status     TEXT,
    iteration  INTEGER,
    created    TEXT,
    updated    TEXT,
    base       TEXT,
    head       TEXT,
    artifacts  INTEGER,
    agents     TEXT,      -- JSON array, in order of first contribution
    error      TEXT,      -- set when the session could not be read; other columns are then NULL
    text_pending INTEGER NOT NULL DEFAULT 0  -- 1 until its artifacts' terms are in artifact_text
);
-- list reads the unreadable sessions on every call: without a scan of every row.
CREATE INDEX sessions_errors ON sessions(ref) WHERE error IS NOT NULL;
CREATE INDEX sessions_text_pending ON sessions(text_pending) WHERE text_pending = 1;
-- list reads sessions newest first from this index alone (it holds every listed column, so
-- no table lookup per row): at 100,000 sessions 10-17% less CPU for `list --json`, for 9% more
-- index (40 of 469 MB).
CREATE INDEX sessions_listed ON sessions(
    updated DESC, id DESC, title, status, iteration, created, base, head, artifacts, agents, ref,
    tip, error
) WHERE error IS NULL;
-- A query naming a session (its full ID or its random part) finds it without a scan.
CREATE INDEX sessions_id ON sessions(id);
CREATE INDEX sessions_random ON sessions(substr(id, 18, 8));

-- An artifact as read at its session's tip (sessions.tip, where snippets are cut from).
-- AUTOINCREMENT: a rowid is never reused, so a deleted row's postings (tombstones) can never
-- be mistaken for a new row's.
CREATE TABLE artifact_rows (
    rowid      INTEGER PRIMARY KEY AUTOINCREMENT,
    sid        INTEGER NOT NULL,  -- sessions.sid
    artifact   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    agent      TEXT NOT NULL,
    status     TEXT NOT NULL,
    created    TEXT NOT NULL
);
CREATE INDEX artifact_rows_sid ON artifact_rows(sid);
CREATE INDEX artifact_rows_kind ON artifact_rows(kind, sid);
CREATE INDEX artifact_rows_agent ON artifact_rows(agent COLLATE NOCASE, sid);

-- rowid = artifact_rows.rowid. Column order matters for bm25() weights in query.rs.
-- Contentless: the text stays in git (snippets are cut from it), the index holds only terms.
CREATE VIRTUAL TABLE artifact_text USING fts5(
    session, title, body, findings, kind, agent, status,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- postings.rs: for each term, chunks of (rowid, column-weighted count) entries; the term ' '
-- lists every row with its length in tokens. What BM25 needs, without asking FTS5 to visit
-- every matching row.
CREATE TABLE postings (term TEXT NOT NULL, last INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX postings_term ON postings(term);
-- Rows deleted after their postings were written, skipped until the chunks are rewritten.
CREATE TABLE tombstones (rowid INTEGER PRIMARY KEY);
"#;
