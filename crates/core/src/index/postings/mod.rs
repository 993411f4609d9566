//! The index's own postings of plain words, so that a search for common words does not ask FTS5
//! to score most of the repository (README, "Search").
//!
//! FTS5 answers a search by visiting every matching row: for each it decodes the positions and
//! looks the row's length up in its size table, and for words found in most artifacts that is
//! most of the table (at 100,000 sessions, 400,000 rows and a quarter of a second). BM25 needs
//! much less: for each word, the rows holding it with the column-weighted count of its
//! occurrences, and each row's length in tokens. This module keeps exactly that, written beside
//! the full-text rows, and scores a query from it with FTS5's own `bm25()` arithmetic, operation
//! for operation, so the scores (and so the order) are bit for bit those of FTS5.
//!
//! Storage (schema.rs): `postings` holds chunks `(term, last, data)`; `data` is a run of
//! entries, each the rowid's difference from the previous one (from 0) and a value: the term's
//! count weighted by the BM25 column weights times two (the weights are halves: 1 to 10). An
//! entry is one varint, `zigzag(difference) << 4 | min(value, 15)`, followed by a second one,
//! `value - 15`, only when the value is 15 or more: most entries of common words take one byte
//! (two varints each grew the index twice as much; encoding.rs). The pseudo-term [`LENGTHS`]
//! lists every row with its length in tokens. A row deleted after its entries were written is
//! listed in `tombstones` and skipped until [`compact`] rewrites the chunks without it.
//!
//! Terms come from the same tokenizer as FTS5's (unicode61, tokens.rs): ASCII text and common
//! separators are split here exactly as FTS5 splits them; a row with any other character is
//! tokenized by FTS5 itself through a temporary table. A search (score.rs) checks that the row
//! count and total length agree with FTS5's own before trusting the postings, and otherwise
//! lets FTS5 score (rank.rs).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension as _, params};

mod encoding;
mod score;
mod tokens;

pub(super) use score::{Scored, agree, best, plain_tokens};

use super::Result;
use encoding::{Entries, append_entries, put_entry};
use tokens::Tokenizer;

/// Pseudo-term whose entries are every row with its length in tokens (never a token: a space
/// always separates tokens).
const LENGTHS: &str = " ";

/// BM25 weights of the columns of `artifact_text`, times two (rank.rs passes the halves to
/// `bm25()`: 2, 5, 1, 2, 0.5, 0.5, 0.5).
pub(super) const WEIGHTS_X2: [u32; COLUMNS] = [4, 10, 2, 4, 1, 1, 1];
/// Number of columns of `artifact_text`.
pub(super) const COLUMNS: usize = 7;

/// A small batch appends to a term's newest chunk while it is under this size, rather than
/// adding a chunk per term per refresh.
const APPEND_BELOW: usize = 4096;
/// Batches of at most this many rows try to append (one lookup per term); larger ones (a cold
/// build) always start new chunks.
const APPEND_BATCH_ROWS: usize = 64;
/// Rows at or above this rowid (never reached: rowids count rows ever written) are left to
/// FTS5.
const MAX_ROWID: i64 = 1 << 56;
/// Fewer deleted rows than this are never worth a compaction.
const COMPACT_FROM: i64 = 1024;
/// A batch is written out once its buffers hold this many bytes.
const FLUSH_BYTES: usize = 64 << 20;

/// Terms of rows being written in one transaction, buffered per term until [`Batch::flush`].
#[derive(Default)]
pub(super) struct Batch {
    terms: HashMap<String, Buffer>,
    /// Rows buffered since the last flush.
    rows: usize,
    /// Rows added in all.
    added: usize,
    bytes: usize,
    tokenizer: Tokenizer,
}

/// One term's entries in a batch, encoded as in a chunk.
#[derive(Default)]
struct Buffer {
    last: i64,
    data: Vec<u8>,
}

impl Buffer {
    fn push(&mut self, rowid: i64, value: u32) {
        put_entry(&mut self.data, rowid - self.last, value);
        self.last = rowid;
    }
}

impl Batch {
    /// Adds the terms of one full-text row, `columns` in the order of `artifact_text`.
    pub(super) fn add_row(
        &mut self,
        conn: &Connection,
        rowid: i64,
        columns: [&str; COLUMNS],
    ) -> Result<()> {
        if !(0..MAX_ROWID).contains(&rowid) {
            // Not held here (entries encode differences below 2^57); the totals then differ
            // from FTS5's, which scores every search instead.
            return Ok(());
        }
        let mut counts: HashMap<String, u32> = HashMap::new();
        let length = self.tokenizer.row_terms(conn, columns, &mut counts)?;
        self.push(LENGTHS, rowid, length);
        for (term, value) in counts {
            self.push(&term, rowid, value);
        }
        self.rows += 1;
        self.added += 1;
        if self.bytes >= FLUSH_BYTES {
            self.flush(conn)?;
        }
        Ok(())
    }

    fn push(&mut self, term: &str, rowid: i64, value: u32) {
        if !self.terms.contains_key(term) {
            self.bytes += term.len();
            self.terms.insert(term.to_owned(), Buffer::default());
        }
        if let Some(buffer) = self.terms.get_mut(term) {
            let before = buffer.data.len();
            buffer.push(rowid, value);
            self.bytes += buffer.data.len() - before;
        }
    }

    /// Writes what is buffered and compacts the postings if enough rows were deleted; call it
    /// once before the transaction commits. Nothing to do when no row was added.
    pub(super) fn finish(&mut self, conn: &Connection) -> Result<()> {
        if self.added == 0 {
            return Ok(());
        }
        self.flush(conn)?;
        compact_if_due(conn)?;
        Ok(())
    }

    /// Writes the buffered entries as chunks. A small batch (an incremental refresh) appends
    /// to each term's newest chunk while that is small; a large one adds a chunk per term.
    fn flush(&mut self, conn: &Connection) -> Result<()> {
        let append = self.rows <= APPEND_BATCH_ROWS;
        // length() of a blob is read from the record header: a large chunk is not loaded.
        let mut newest = conn.prepare_cached(
            "SELECT rowid, last, length(data) FROM postings WHERE term = ?1
             ORDER BY rowid DESC LIMIT 1",
        )?;
        let mut data_of = conn.prepare_cached("SELECT data FROM postings WHERE rowid = ?1")?;
        let mut update =
            conn.prepare_cached("UPDATE postings SET last = ?2, data = ?3 WHERE rowid = ?1")?;
        let mut insert =
            conn.prepare_cached("INSERT INTO postings (term, last, data) VALUES (?1, ?2, ?3)")?;
        for (term, buffer) in self.terms.drain() {
            if append {
                let found: Option<(i64, i64, i64)> = newest
                    .query_row([&term], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                if let Some((chunk, last, size)) = found
                    && usize::try_from(size).is_ok_and(|size| size < APPEND_BELOW)
                {
                    let mut data: Vec<u8> = data_of.query_row([chunk], |r| r.get(0))?;
                    append_entries(&mut data, last, &buffer.data);
                    update.execute(params![chunk, buffer.last, data])?;
                    continue;
                }
            }
            insert.execute(params![term, buffer.last, buffer.data])?;
        }
        self.rows = 0;
        self.bytes = 0;
        Ok(())
    }
}

/// Lists the rows of session `sid` as deleted when their terms were written (called before the
/// rows go).
pub(super) fn bury_session(conn: &Connection, sid: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO tombstones (rowid)
         SELECT r.rowid FROM artifact_rows r JOIN sessions s ON s.sid = r.sid
         WHERE r.sid = ?1 AND s.text_pending = 0",
    )?
    .execute([sid])?;
    Ok(())
}

/// Rewrites every term's chunks as one without the deleted rows, once the deleted rows are an
/// eighth of the rows (a cost of one pass over the postings, paid once per that many deletions).
pub(super) fn compact_if_due(conn: &Connection) -> Result<bool> {
    let dead: i64 = conn.query_row("SELECT count(*) FROM tombstones", [], |r| r.get(0))?;
    if dead < COMPACT_FROM {
        return Ok(false);
    }
    // FTS5's row count: one record, where counting artifact_rows would visit every row.
    let rows = score::fts5_totals(conn)?.map_or(0, |(rows, _)| rows);
    if dead * 8 < rows {
        return Ok(false);
    }
    compact(conn)?;
    Ok(true)
}

/// Rewrites every term's chunks as a single chunk without the rows in `tombstones`, and
/// empties it.
pub(super) fn compact(conn: &Connection) -> Result<()> {
    let dead: std::collections::HashSet<i64> = {
        let mut stmt = conn.prepare_cached("SELECT rowid FROM tombstones")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let terms: Vec<String> = {
        let mut stmt = conn.prepare("SELECT DISTINCT term FROM postings")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut read = conn.prepare_cached("SELECT data FROM postings WHERE term = ?1")?;
    let mut delete = conn.prepare_cached("DELETE FROM postings WHERE term = ?1")?;
    let mut insert =
        conn.prepare_cached("INSERT INTO postings (term, last, data) VALUES (?1, ?2, ?3)")?;
    for term in terms {
        let mut kept = Buffer::default();
        {
            let mut chunks = read.query([&term])?;
            while let Some(chunk) = chunks.next()? {
                let data = blob(chunk)?;
                for (rowid, value) in Entries::new(data) {
                    if !dead.contains(&rowid) {
                        kept.push(rowid, value);
                    }
                }
            }
        }
        delete.execute([&term])?;
        if !kept.data.is_empty() {
            insert.execute(params![term, kept.last, kept.data])?;
        }
    }
    conn.execute("DELETE FROM tombstones", [])?;
    Ok(())
}

/// Column 0 of a row as a blob.
fn blob<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<&'r [u8]> {
    row.get_ref(0)?.as_blob().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
    })
}

#[cfg(test)]
mod tests {
    use super::tokens::splits_here;
    use super::*;
    use crate::index::Index;

    /// Words of the generated rows: ASCII ones, and others FTS5 folds (diacritics, ß, a
    /// ligature, dotted capital I), splits (a dash, an ideograph run) or drops.
    const WORDS: &[&str] = &[
        "redis",
        "backoff",
        "cache",
        "Token",
        "bucket",
        "retry",
        "queue",
        "a",
        "x_y",
        "r2d2",
        "naïve",
        "café",
        "Straße",
        "résumé",
        "ÉCOLE",
        "ﬁle",
        "İstanbul",
        "—",
        "“quoted”",
        "→✓",
        "🙂",
        "東京都",
        "e\u{301}",
        "Cache-Control",
        "déjà-vu",
    ];

    /// An index with `sessions` sessions of three artifacts written as a refresh writes them
    /// (full-text row, then postings); some texts repeat, so equal scores are common.
    fn index(dir: &std::path::Path, sessions: usize, ascii_only: bool) -> Index {
        if ascii_only {
            index_of(dir, sessions, str::is_ascii)
        } else {
            index_of(dir, sessions, |_| true)
        }
    }

    /// [`index`] with the words `keep` holds for.
    fn index_of(dir: &std::path::Path, sessions: usize, keep: fn(&str) -> bool) -> Index {
        let index = Index::open(dir, &mut |_| {}).unwrap();
        let mut seed = 11_u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            usize::try_from(seed >> 33).unwrap()
        };
        let words: Vec<&str> = WORDS.iter().copied().filter(|w| keep(w)).collect();
        let mut text = |n: usize| -> String {
            (0..n)
                .map(|_| words[next() % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let tx = index.conn.unchecked_transaction().unwrap();
        let mut batch = Batch::default();
        let mut bodies: Vec<String> = Vec::new();
        for s in 0..sessions {
            let id = format!("SESSION-20250101-{s:08}");
            tx.execute(
                "INSERT INTO sessions (ref, tip, id, title, status) VALUES (?1, 'tip', ?2, ?3, 'COMPLETE')",
                params![format!("refs/handoff/sessions/{id}"), id, text(3)],
            )
            .unwrap();
            let sid = tx.last_insert_rowid();
            for a in 0..3 {
                let body = if s % 5 == 4 && !bodies.is_empty() {
                    bodies[(s * 7 + a) % bodies.len()].clone()
                } else {
                    text(4 + (s * 13 + a * 5) % 30)
                };
                bodies.push(body.clone());
                tx.execute(
                    "INSERT INTO artifact_rows (sid, artifact, kind, agent, status, created)
                     VALUES (?1, ?2, 'plan', 'claude', 'COMPLETE', '2025-01-01T00:00:00Z')",
                    params![sid, format!("A{s}-{a}")],
                )
                .unwrap();
                let rowid = tx.last_insert_rowid();
                let findings = if a == 1 { text(5) } else { String::new() };
                let columns = [
                    id.as_str(),
                    "title",
                    &body,
                    &findings,
                    "plan",
                    "claude",
                    "COMPLETE",
                ];
                write_row(&tx, &mut batch, rowid, columns);
            }
        }
        batch.flush(&tx).unwrap();
        tx.commit().unwrap();
        index
    }

    /// Writes a full-text row and its postings, as refresh.rs does.
    fn write_row(tx: &Connection, batch: &mut Batch, rowid: i64, columns: [&str; COLUMNS]) {
        tx.execute(
            "INSERT INTO artifact_text (rowid, session, title, body, findings, kind, agent, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                rowid, columns[0], columns[1], columns[2], columns[3], columns[4], columns[5],
                columns[6]
            ],
        )
        .unwrap();
        batch.add_row(tx, rowid, columns).unwrap();
    }

    /// The one integer `sql` selects.
    fn scalar(index: &Index, sql: &str) -> i64 {
        index.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Rowids with the bits of their scores, best first.
    type Ranking = Vec<(i64, u64)>;

    /// Every match of `query`, by the postings and by FTS5, sorted alike; the scores compared
    /// bit for bit.
    fn both(index: &Index, query: &str) -> (Ranking, Ranking) {
        let terms = crate::index::parse_terms(query).unwrap();
        let tokens = plain_tokens(&terms.words).expect("plain words");
        let ours = best(&index.conn, &tokens, usize::MAX >> 8)
            .unwrap()
            .expect("the postings agree with FTS5's totals");
        let theirs = crate::index::rank::best_in(
            &index.conn,
            &terms.fts,
            usize::MAX >> 8,
            (i64::MIN, i64::MAX),
        )
        .unwrap();
        let sorted = |mut v: Vec<Scored>| {
            v.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.rowid.cmp(&b.rowid)));
            v.into_iter()
                .map(|s| (s.rowid, s.score.to_bits()))
                .collect::<Vec<_>>()
        };
        (sorted(ours), sorted(theirs))
    }

    const QUERIES: &[&str] = &[
        "redis",
        "redis backoff",
        "Cache token queue",
        "naive cafe",
        "strasse",
        "resume ecole",
        "file",
        "e",
        "y x",
        "redis redis",
        "nothing",
        "session 00000003",
    ];

    fn compare_all(index: &Index) -> usize {
        let mut matched = 0;
        for query in QUERIES {
            let (ours, theirs) = both(index, query);
            assert_eq!(ours, theirs, "{query}");
            matched += ours.len();
        }
        matched
    }

    #[test]
    fn scores_are_fts5_scores_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 120, false);
        assert!(compare_all(&index) > 1000);
        // Only separators beyond ASCII (dashes, quotes, arrows): tokenized here, not by FTS5.
        let dir = tempfile::tempdir().unwrap();
        let index = index_of(dir.path(), 120, splits_here);
        let words: Vec<&str> = WORDS.iter().copied().filter(|w| splits_here(w)).collect();
        assert!(words.contains(&"—") && words.contains(&"“quoted”") && !words.contains(&"🙂"));
        assert!(compare_all(&index) > 1000);
    }

    #[test]
    fn deleted_rows_are_skipped_and_compaction_drops_them() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 80, false);
        let tx = index.conn.unchecked_transaction().unwrap();
        for s in [0, 3, 4, 41, 79] {
            let name = format!("refs/handoff/sessions/SESSION-20250101-{s:08}");
            crate::index::refresh::delete_session(&tx, &name).unwrap();
        }
        tx.commit().unwrap();
        let dead = scalar(&index, "SELECT count(*) FROM tombstones");
        assert_eq!(dead, 15);
        let before = compare_all(&index);
        let size = "SELECT sum(length(data)) FROM postings";
        let bytes = scalar(&index, size);
        compact(&index.conn).unwrap();
        assert!(scalar(&index, size) < bytes);
        assert_eq!(compare_all(&index), before);
        let dead = scalar(&index, "SELECT count(*) FROM tombstones");
        assert_eq!(dead, 0);
    }

    #[test]
    fn compaction_comes_once_an_eighth_of_the_rows_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 400, true);
        let delete = |sessions: std::ops::Range<usize>| {
            let tx = index.conn.unchecked_transaction().unwrap();
            for s in sessions {
                let name = format!("refs/handoff/sessions/SESSION-20250101-{s:08}");
                crate::index::refresh::delete_session(&tx, &name).unwrap();
            }
            let compacted = compact_if_due(&tx).unwrap();
            tx.commit().unwrap();
            compacted
        };
        // 300 of 1,200 rows: fewer than the 1,024 deletions ever worth a rewrite.
        assert!(!delete(0..300));
        assert!(delete(300..350));
        let dead = scalar(&index, "SELECT count(*) FROM tombstones");
        assert_eq!(dead, 0);
        let chunks = scalar(
            &index,
            "SELECT count(*) - count(DISTINCT term) FROM postings",
        );
        assert_eq!(chunks, 0, "one chunk per term");
        assert!(compare_all(&index) > 100);
    }

    #[test]
    fn small_batches_append_to_the_newest_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 10, true);
        let chunks = "SELECT count(*) FROM postings";
        let before = scalar(&index, chunks);
        for n in 0..3 {
            let tx = index.conn.unchecked_transaction().unwrap();
            tx.execute(
                "INSERT INTO artifact_rows (sid, artifact, kind, agent, status, created)
                 VALUES (1, ?1, 'plan', 'claude', 'COMPLETE', '2025-01-01T00:00:00Z')",
                [format!("B{n}")],
            )
            .unwrap();
            let rowid = tx.last_insert_rowid();
            let columns = [
                "SESSION-20250101-00000000",
                "title",
                "redis zebra",
                "",
                "plan",
                "claude",
                "COMPLETE",
            ];
            let mut batch = Batch::default();
            write_row(&tx, &mut batch, rowid, columns);
            batch.flush(&tx).unwrap();
            tx.commit().unwrap();
        }
        // One new chunk (the new word), the rest appended.
        assert_eq!(scalar(&index, chunks), before + 1);
        compare_all(&index);
        let (ours, _) = both(&index, "zebra");
        assert_eq!(ours.len(), 3);
    }

    #[test]
    fn rowids_far_apart_are_still_scored_from_the_postings() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 20, true);
        // The oldest sessions went (rowids count every row ever written), the newest rows
        // start 1.5M rowids later: still held by rowid, still the postings' to score.
        let tx = index.conn.unchecked_transaction().unwrap();
        for s in 0..10 {
            let name = format!("refs/handoff/sessions/SESSION-20250101-{s:08}");
            crate::index::refresh::delete_session(&tx, &name).unwrap();
        }
        tx.execute(
            "UPDATE sqlite_sequence SET seq = 1500000 WHERE name = 'artifact_rows'",
            [],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO artifact_rows (sid, artifact, kind, agent, status, created)
             VALUES (11, 'late', 'plan', 'claude', 'COMPLETE', '2025-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let rowid = tx.last_insert_rowid();
        assert!(rowid > 1_500_000);
        let mut batch = Batch::default();
        let columns = [
            "SESSION-20250101-00000011",
            "title",
            "redis late",
            "",
            "plan",
            "claude",
            "COMPLETE",
        ];
        write_row(&tx, &mut batch, rowid, columns);
        batch.finish(&tx).unwrap();
        tx.commit().unwrap();
        assert!(score::agree(&index.conn).unwrap());
        let (ours, _) = both(&index, "late");
        assert_eq!(ours.len(), 1);
        compare_all(&index);
    }

    #[test]
    fn rows_missing_from_the_postings_leave_scoring_to_fts5() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 5, true);
        index
            .conn
            .execute(
                "INSERT INTO artifact_text (rowid, body) VALUES (100000, 'redis')",
                [],
            )
            .unwrap();
        let tokens = vec!["redis".to_owned()];
        assert!(best(&index.conn, &tokens, 20).unwrap().is_none());
    }
}
