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
//! (half the index's growth, with a varint for each). The pseudo-term [`LENGTHS`] lists every row with its length
//! in tokens. A row deleted after its entries were written is listed in `tombstones` and
//! skipped until [`compact`] rewrites the chunks without it.
//!
//! Terms come from the same tokenizer as FTS5's (unicode61): ASCII text is split here exactly
//! as FTS5 splits it; a row with any other character is tokenized by FTS5 itself through a
//! temporary table. A search checks that the row count and total length agree with FTS5's own
//! before trusting the postings, and otherwise lets FTS5 score (rank.rs).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension as _, params};

use super::Result;

/// Pseudo-term whose entries are every row with its length in tokens (never a token: a space
/// always separates tokens).
const LENGTHS: &str = " ";

/// BM25 weights of the columns of `artifact_text`, times two (rank.rs passes the halves to
/// `bm25()`: 2, 5, 1, 2, 0.5, 0.5, 0.5).
pub(super) const WEIGHTS_X2: [u32; COLUMNS] = [4, 10, 2, 4, 1, 1, 1];
/// Number of columns of `artifact_text`.
pub(super) const COLUMNS: usize = 7;

/// FTS5 keeps at most this many bytes of a token (`FTS5_MAX_TOKEN_SIZE`).
const MAX_TOKEN_BYTES: usize = 32_768;

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

/// BM25 constants of FTS5's `bm25()`.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Terms of rows being written in one transaction, buffered per term until [`Batch::flush`].
#[derive(Default)]
pub(super) struct Batch {
    terms: HashMap<String, Buffer>,
    rows: usize,
    bytes: usize,
    tokenizer_ready: bool,
}

/// One term's entries in a batch, encoded as in a chunk.
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
    /// Adds the terms of one full-text row, `columns` in the order of `artifact_text`. Call it
    /// after the row went into `artifact_text` (a row FTS5 tokenizes here needs its size).
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
        let length = if columns.iter().all(|c| splits_here(c)) {
            let mut length = 0_u32;
            for (text, weight) in columns.iter().zip(WEIGHTS_X2) {
                for token in ascii_tokens(text) {
                    length += 1;
                    *counts.entry(token).or_default() += weight;
                }
            }
            length
        } else {
            self.fts5_terms(conn, rowid, columns, &mut counts)?
        };
        self.push(LENGTHS, rowid, length);
        for (term, value) in counts {
            self.push(&term, rowid, value);
        }
        self.rows += 1;
        if self.bytes >= FLUSH_BYTES {
            self.flush(conn)?;
        }
        Ok(())
    }

    fn push(&mut self, term: &str, rowid: i64, value: u32) {
        let before;
        if let Some(buffer) = self.terms.get_mut(term) {
            before = buffer.data.len();
            buffer.push(rowid, value);
            self.bytes += buffer.data.len() - before;
        } else {
            let mut buffer = Buffer {
                last: 0,
                data: Vec::new(),
            };
            buffer.push(rowid, value);
            self.bytes += buffer.data.len() + term.len();
            self.terms.insert(term.to_owned(), buffer);
        }
    }

    /// Terms of a row with non-ASCII text, as FTS5's own tokenizer splits and folds them: the
    /// row goes through a temporary full-text table with the same tokenizer, and its length is
    /// read from the size FTS5 recorded for the real row.
    fn fts5_terms(
        &mut self,
        conn: &Connection,
        rowid: i64,
        columns: [&str; COLUMNS],
        counts: &mut HashMap<String, u32>,
    ) -> Result<u32> {
        if !self.tokenizer_ready {
            conn.execute_batch(&format!(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.handoff_tokenize
                     USING fts5(c0, c1, c2, c3, c4, c5, c6, tokenize = '{}');
                 CREATE VIRTUAL TABLE IF NOT EXISTS temp.handoff_tokenize_terms
                     USING fts5vocab(temp, handoff_tokenize, instance);",
                super::schema::TOKENIZER
            ))?;
            self.tokenizer_ready = true;
        }
        conn.prepare_cached(
            "INSERT INTO temp.handoff_tokenize (rowid, c0, c1, c2, c3, c4, c5, c6)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(columns)?;
        {
            let mut stmt =
                conn.prepare_cached("SELECT term, col FROM temp.handoff_tokenize_terms")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let term: String = row.get(0)?;
                let col: String = row.get(1)?;
                let weight = col
                    .strip_prefix('c')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| WEIGHTS_X2.get(n))
                    .copied()
                    .unwrap_or(0);
                *counts.entry(term).or_default() += weight;
            }
        }
        conn.prepare_cached("DELETE FROM temp.handoff_tokenize")?
            .execute([])?;
        let sizes: Option<Vec<u8>> = conn
            .prepare_cached("SELECT sz FROM artifact_text_docsize WHERE id = ?1")?
            .query_row([rowid], |r| r.get(0))
            .optional()?;
        let mut length = 0_u64;
        let mut at = 0;
        let sizes = sizes.unwrap_or_default();
        while let Some((value, used)) = sqlite_varint(&sizes[at..]) {
            length += value;
            at += used;
        }
        Ok(u32::try_from(length).unwrap_or(u32::MAX))
    }

    /// Writes the buffered entries as chunks. A small batch (an incremental refresh) appends
    /// to each term's newest chunk while that is small; a large one adds a chunk per term.
    pub(super) fn flush(&mut self, conn: &Connection) -> Result<()> {
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

/// Appends `entries` (encoded from rowid 0) to a chunk whose last rowid is `last`: the first
/// entry's delta is re-based on `last`, the rest are copied as they are.
fn append_entries(data: &mut Vec<u8>, last: i64, entries: &[u8]) {
    let mut reader = Entries::new(entries);
    if let Some((rowid, value)) = reader.next() {
        put_entry(data, rowid - last, value);
        data.extend_from_slice(&entries[reader.at..]);
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
    let rows = fts5_totals(conn)?.map_or(0, |(rows, _)| rows);
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
        let mut kept = Buffer {
            last: 0,
            data: Vec::new(),
        };
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

/// A scored full-text row: its rowid and its BM25 score as FTS5's `bm25()` gives it (lower is
/// better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scored {
    /// `artifact_text` rowid.
    pub rowid: i64,
    /// BM25 score.
    pub score: f64,
}

/// The tokens a query's words search for, when every word is one plain ASCII token and no
/// prefix (what the postings can answer); `None` otherwise.
pub(super) fn plain_tokens(words: &[(String, bool)]) -> Option<Vec<String>> {
    let mut tokens = Vec::with_capacity(words.len());
    for (word, prefix) in words {
        if *prefix || !word.is_ascii() {
            return None;
        }
        let mut found = ascii_tokens(word);
        let token = found.next()?;
        if found.next().is_some() {
            return None;
        }
        tokens.push(token);
    }
    Some(tokens)
}

/// The `cap` best-scoring rows holding any of `tokens` (each a phrase of the query, in its
/// order), and every other row scoring the same as the last of them, best first, scored as
/// FTS5's `bm25()` with this index's column weights would; `None` when the postings do not
/// agree with FTS5's own row count and total length (FTS5 then scores).
pub(super) fn best(
    conn: &Connection,
    tokens: &[String],
    cap: usize,
) -> Result<Option<Vec<Scored>>> {
    let Some((rows, total_tokens)) = fts5_totals(conn)? else {
        return Ok(Some(Vec::new()));
    };
    let lengths = match read_lengths(conn)? {
        Some(lengths) if lengths.rows == rows && lengths.total == total_tokens => lengths,
        _ => return Ok(None),
    };
    // FTS5: avgdl = (double)nToken / (double)nRow.
    let avgdl = total_tokens as f64 / rows as f64;
    let mut scores = vec![0.0_f64; lengths.of.len()];
    let mut matched = vec![false; lengths.of.len()];
    let mut hits = Vec::new();
    for token in tokens {
        hits.clear();
        let mut chunks = conn.prepare_cached("SELECT data FROM postings WHERE term = ?1")?;
        let mut found = chunks.query([token])?;
        while let Some(chunk) = found.next()? {
            for (rowid, value) in Entries::new(blob(chunk)?) {
                if let Some(&length) = usize::try_from(rowid).ok().and_then(|i| lengths.of.get(i))
                    && length != ABSENT
                {
                    hits.push((rowid as usize, value, length));
                }
            }
        }
        // FTS5: idf = log((nRow - nHit + 0.5) / (nHit + 0.5)), at least 1e-6.
        let n_hit = hits.len() as i64;
        let mut idf = (((rows - n_hit) as f64 + 0.5) / (n_hit as f64 + 0.5)).ln();
        if idf <= 0.0 {
            idf = 1e-6;
        }
        for &(row, value, length) in &hits {
            let freq = f64::from(value) / 2.0;
            let d = f64::from(length);
            // FTS5: score += aIDF[i] * ((aFreq[i] * (k1 + 1.0)) /
            //                          (aFreq[i] + k1 * (1 - b + b * D / avgdl)))
            scores[row] += idf * ((freq * (K1 + 1.0)) / (freq + K1 * (1.0 - B + B * d / avgdl)));
            matched[row] = true;
        }
    }
    Ok(Some(top(&scores, &matched, cap)))
}

/// Whether the postings hold exactly FTS5's rows (their count and total length agree), so that
/// plain-word searches are scored from them.
pub(super) fn agree(conn: &Connection) -> Result<bool> {
    let Some((rows, total_tokens)) = fts5_totals(conn)? else {
        return Ok(true);
    };
    Ok(read_lengths(conn)?
        .is_some_and(|lengths| lengths.rows == rows && lengths.total == total_tokens))
}

/// The `cap` lowest of `-score` among matched rows and every row tied with the last of them,
/// best first.
fn top(scores: &[f64], matched: &[bool], cap: usize) -> Vec<Scored> {
    /// Orders by score, worst (highest) on top of the heap.
    struct ByScore(Scored);
    impl PartialEq for ByScore {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other) == std::cmp::Ordering::Equal
        }
    }
    impl Eq for ByScore {}
    impl PartialOrd for ByScore {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for ByScore {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0
                .score
                .total_cmp(&other.0.score)
                .then(self.0.rowid.cmp(&other.0.rowid))
        }
    }
    if cap == 0 {
        return Vec::new();
    }
    let mut heap = std::collections::BinaryHeap::with_capacity(cap.min(scores.len()) + 1);
    for (row, score) in scores.iter().enumerate() {
        if !matched[row] {
            continue;
        }
        // FTS5 returns -1.0 * score.
        let scored = Scored {
            rowid: row as i64,
            score: -1.0 * score,
        };
        if heap.len() < cap {
            heap.push(ByScore(scored));
        } else if heap
            .peek()
            .is_some_and(|worst| scored.score < worst.0.score)
        {
            heap.pop();
            heap.push(ByScore(scored));
        }
    }
    let full = heap.len() == cap;
    let mut best: Vec<Scored> = heap.into_iter().map(|b| b.0).collect();
    if full && let Some(last) = best.iter().map(|s| s.score).max_by(f64::total_cmp) {
        // The heap kept the lowest rowids among rows scoring `last`: take them all.
        best.retain(|s| s.score != last);
        best.extend(scores.iter().enumerate().filter_map(|(row, score)| {
            (matched[row] && -1.0 * score == last).then_some(Scored {
                rowid: row as i64,
                score: last,
            })
        }));
    }
    best.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.rowid.cmp(&b.rowid)));
    best
}

/// Marks a rowid without a live row in [`Lengths::of`].
const ABSENT: u32 = u32::MAX;

/// Every live row's length in tokens, by rowid, with their count and sum.
struct Lengths {
    of: Vec<u32>,
    rows: i64,
    total: i64,
}

/// Reads [`LENGTHS`] without the rows in `tombstones`; `None` if a rowid is out of range.
fn read_lengths(conn: &Connection) -> Result<Option<Lengths>> {
    let mut of: Vec<u32> = Vec::new();
    {
        let mut stmt = conn.prepare_cached("SELECT data FROM postings WHERE term = ?1")?;
        let mut chunks = stmt.query([LENGTHS])?;
        while let Some(chunk) = chunks.next()? {
            for (rowid, length) in Entries::new(blob(chunk)?) {
                let Ok(at) = usize::try_from(rowid) else {
                    return Ok(None);
                };
                if at >= of.len() {
                    // Rowids are dense (artifact_rows is AUTOINCREMENT); a wild one is refused.
                    if at > (of.len() + 1) * 4 + (1 << 20) {
                        return Ok(None);
                    }
                    of.resize(at + 1, ABSENT);
                }
                of[at] = length.min(ABSENT - 1);
            }
        }
    }
    {
        let mut stmt = conn.prepare_cached("SELECT rowid FROM tombstones")?;
        let mut dead = stmt.query([])?;
        while let Some(row) = dead.next()? {
            let rowid: i64 = row.get(0)?;
            if let Some(slot) = usize::try_from(rowid).ok().and_then(|i| of.get_mut(i)) {
                *slot = ABSENT;
            }
        }
    }
    let (mut rows, mut total) = (0_i64, 0_i64);
    for &length in &of {
        if length != ABSENT {
            rows += 1;
            total += i64::from(length);
        }
    }
    Ok(Some(Lengths { of, rows, total }))
}

/// FTS5's own row count and total length in tokens (its "averages" record, id 1 of
/// `artifact_text_data`: a varint row count, then a varint per column); `None` when empty.
fn fts5_totals(conn: &Connection) -> Result<Option<(i64, i64)>> {
    let block: Option<Vec<u8>> = conn
        .prepare_cached("SELECT block FROM artifact_text_data WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let block = block.unwrap_or_default();
    let Some((rows, mut at)) = sqlite_varint(&block) else {
        return Ok(None);
    };
    let mut total = 0_u64;
    for _ in 0..COLUMNS {
        let Some((size, used)) = sqlite_varint(&block[at..]) else {
            break;
        };
        total += size;
        at += used;
    }
    let rows = i64::try_from(rows).unwrap_or(0);
    if rows <= 0 {
        return Ok(None);
    }
    Ok(Some((rows, i64::try_from(total).unwrap_or(i64::MAX))))
}

/// Column 0 of a row as a blob.
fn blob<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<&'r [u8]> {
    row.get_ref(0)?.as_blob().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
    })
}

/// Entries of a chunk: `(rowid, value)`. Stops at the first malformed entry.
struct Entries<'a> {
    data: &'a [u8],
    at: usize,
    last: i64,
}

impl<'a> Entries<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            at: 0,
            last: 0,
        }
    }
}

impl Iterator for Entries<'_> {
    type Item = (i64, u32);

    fn next(&mut self) -> Option<(i64, u32)> {
        let (head, used) = get_varint(&self.data[self.at..])?;
        self.at += used;
        let mut value = head & VALUE_MASK;
        if value == VALUE_MASK {
            let (more, used) = get_varint(&self.data[self.at..])?;
            self.at += used;
            value = value.checked_add(more)?;
        }
        self.last = self.last.wrapping_add(unzigzag(head >> VALUE_BITS));
        Some((self.last, u32::try_from(value).unwrap_or(u32::MAX)))
    }
}

/// Whether [`ascii_tokens`] splits `text` exactly as unicode61 does: every character is ASCII or
/// one of the [`SEPARATORS`] (agents write dashes, curly quotes, arrows, bullets, box drawing and
/// emoji: with those a row is still tokenized here, not through a temporary FTS5 table, which
/// cost 80 µs a row).
fn splits_here(text: &str) -> bool {
    text.is_ascii()
        || text
            .chars()
            .all(|c| c.is_ascii() || SEPARATORS.iter().any(|r| r.contains(&c)))
}

/// Non-ASCII characters unicode61 treats as separators (neither letters, digits nor private
/// use): Latin-1 punctuation and symbols, general punctuation and spaces, currency signs,
/// arrows, mathematical operators, technical symbols, box drawing, blocks, geometric shapes,
/// miscellaneous symbols and the emoji of Unicode 6. SQLite's tables are of that version: the
/// characters assigned since (the bidi isolates, newer currency signs and most newer emoji, 🙂
/// and 🤔 among them) are token characters to it, and are left out. A test checks every
/// character listed against FTS5's own tokenizer.
const SEPARATORS: &[std::ops::RangeInclusive<char>] = &[
    '\u{A0}'..='\u{A9}',
    '\u{AB}'..='\u{B1}',
    '\u{B4}'..='\u{B4}',
    '\u{B6}'..='\u{B8}',
    '\u{BB}'..='\u{BB}',
    '\u{BF}'..='\u{BF}',
    '\u{D7}'..='\u{D7}',
    '\u{F7}'..='\u{F7}',
    '\u{2000}'..='\u{2064}',
    '\u{206A}'..='\u{206F}',
    '\u{20A0}'..='\u{20B9}',
    '\u{2190}'..='\u{23F3}',
    '\u{2500}'..='\u{26FF}',
    '\u{1F300}'..='\u{1F320}',
    '\u{1F330}'..='\u{1F335}',
    '\u{1F337}'..='\u{1F37C}',
    '\u{1F380}'..='\u{1F393}',
    '\u{1F3A0}'..='\u{1F3C4}',
    '\u{1F3C6}'..='\u{1F3CA}',
    '\u{1F3E0}'..='\u{1F3F0}',
    '\u{1F400}'..='\u{1F43E}',
    '\u{1F440}'..='\u{1F440}',
    '\u{1F442}'..='\u{1F4F7}',
    '\u{1F4F9}'..='\u{1F4FC}',
    '\u{1F500}'..='\u{1F53D}',
    '\u{1F540}'..='\u{1F543}',
    '\u{1F550}'..='\u{1F567}',
    '\u{1F5FB}'..='\u{1F640}',
    '\u{1F645}'..='\u{1F64F}',
    '\u{1F680}'..='\u{1F6C5}',
];

/// The tokens of text [`splits_here`] holds for, as FTS5's unicode61 tokenizer makes them: runs
/// of ASCII letters and digits, lower-cased, cut at FTS5's token size limit.
fn ascii_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t[..t.len().min(MAX_TOKEN_BYTES)].to_ascii_lowercase())
}

/// Bits of an entry's first varint that hold its value.
const VALUE_BITS: u32 = 4;
/// The largest value held in the first varint; a larger one continues in a second.
const VALUE_MASK: u64 = (1 << VALUE_BITS) - 1;

/// Appends one entry: a rowid difference and a value (module doc). Rowids are below
/// [`MAX_ROWID`], so the shifted difference keeps every bit.
fn put_entry(out: &mut Vec<u8>, delta: i64, value: u32) {
    let low = u64::from(value).min(VALUE_MASK);
    put_varint(out, (zigzag(delta) << VALUE_BITS) | low);
    if low == VALUE_MASK {
        put_varint(out, u64::from(value) - VALUE_MASK);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// LEB128.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// LEB128: the value and the bytes it took.
fn get_varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0_u64;
    for (i, &byte) in data.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// SQLite's own varint (big-endian groups of 7 bits, the ninth byte whole), as FTS5 writes its
/// records: the value and the bytes it took.
fn sqlite_varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0_u64;
    for (i, &byte) in data.iter().enumerate().take(9) {
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
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

    /// Every match of `query`, by the postings and by FTS5, sorted alike; the scores compared
    /// bit for bit.
    /// Rowids with the bits of their scores, best first.
    type Ranking = Vec<(i64, u64)>;

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
        let dead: i64 = index
            .conn
            .query_row("SELECT count(*) FROM tombstones", [], |r| r.get(0))
            .unwrap();
        assert_eq!(dead, 15);
        let before = compare_all(&index);
        let size = |index: &Index| -> i64 {
            index
                .conn
                .query_row("SELECT sum(length(data)) FROM postings", [], |r| r.get(0))
                .unwrap()
        };
        let bytes = size(&index);
        compact(&index.conn).unwrap();
        assert!(size(&index) < bytes);
        assert_eq!(compare_all(&index), before);
        let dead: i64 = index
            .conn
            .query_row("SELECT count(*) FROM tombstones", [], |r| r.get(0))
            .unwrap();
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
        let dead: i64 = index
            .conn
            .query_row("SELECT count(*) FROM tombstones", [], |r| r.get(0))
            .unwrap();
        assert_eq!(dead, 0);
        let chunks: i64 = index
            .conn
            .query_row(
                "SELECT count(*) - count(DISTINCT term) FROM postings",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(chunks, 0, "one chunk per term");
        assert!(compare_all(&index) > 100);
    }

    #[test]
    fn small_batches_append_to_the_newest_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 10, true);
        let chunks = |index: &Index| -> i64 {
            index
                .conn
                .query_row("SELECT count(*) FROM postings", [], |r| r.get(0))
                .unwrap()
        };
        let before = chunks(&index);
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
        assert_eq!(chunks(&index), before + 1);
        compare_all(&index);
        let (ours, _) = both(&index, "zebra");
        assert_eq!(ours.len(), 3);
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

    #[test]
    fn the_schema_uses_the_tokenizer_named_here() {
        assert!(
            crate::index::schema::CREATE
                .contains(&format!("tokenize = '{}'", crate::index::schema::TOKENIZER))
        );
    }

    #[test]
    fn every_separator_named_here_separates_in_fts5() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path(), &mut |_| {}).unwrap();
        let tx = index.conn.unchecked_transaction().unwrap();
        let mut checked = 0;
        for range in SEPARATORS {
            let chars: Vec<char> = range.clone().collect();
            // "x<c>y" for each: FTS5 must see the tokens x and y, as often as there are chars.
            for chunk in chars.chunks(500) {
                let text: String = chunk.iter().map(|c| format!("x{c}y ")).collect();
                assert!(splits_here(&text));
                let mut counts = HashMap::new();
                tx.execute(
                    "INSERT INTO artifact_text (rowid, body) VALUES (1, ?1)",
                    [&text],
                )
                .unwrap();
                let length = Batch::default()
                    .fts5_terms(&tx, 1, ["", "", &text, "", "", "", ""], &mut counts)
                    .unwrap();
                tx.execute("DELETE FROM artifact_text WHERE rowid = 1", [])
                    .unwrap();
                let n = u32::try_from(chunk.len()).unwrap();
                assert_eq!(length, 2 * n, "{range:?}");
                let weight = WEIGHTS_X2[2];
                assert_eq!(
                    counts,
                    HashMap::from([("x".to_owned(), n * weight), ("y".to_owned(), n * weight)]),
                    "{range:?}: {}",
                    chunk.iter().collect::<String>()
                );
                checked += chunk.len();
            }
        }
        assert!(checked > 1900, "{checked}");
    }

    #[test]
    fn ascii_tokens_split_and_fold_like_unicode61() {
        let tokens: Vec<String> = ascii_tokens("Redis_backoff, JITTER-x2 a.b").collect();
        assert_eq!(tokens, ["redis", "backoff", "jitter", "x2", "a", "b"]);
    }

    #[test]
    fn varints_round_trip() {
        for v in [0_u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(get_varint(&out), Some((v, out.len())));
        }
        for v in [0_i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        // SQLite varints: 0x81 0x00 is 128; nine bytes take the last one whole.
        assert_eq!(sqlite_varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(sqlite_varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(sqlite_varint(&[0x80]), None);
    }

    #[test]
    fn appended_entries_continue_the_chunk() {
        let mut chunk = Buffer {
            last: 0,
            data: Vec::new(),
        };
        chunk.push(5, 1);
        chunk.push(9, 2);
        let mut more = Buffer {
            last: 0,
            data: Vec::new(),
        };
        more.push(3, 7);
        more.push(12, 4);
        let mut data = chunk.data.clone();
        append_entries(&mut data, chunk.last, &more.data);
        let entries: Vec<_> = Entries::new(&data).collect();
        assert_eq!(entries, [(5, 1), (9, 2), (3, 7), (12, 4)]);
        // Small differences and values take one byte; 15 and more a second varint.
        let mut one = Buffer {
            last: 0,
            data: Vec::new(),
        };
        one.push(3, 14);
        assert_eq!(one.data.len(), 1);
        for value in [15, 16, 400, u32::MAX] {
            one.push(one.last - 2, value);
        }
        one.push(1 << 40, 0);
        let entries: Vec<_> = Entries::new(&one.data).collect();
        assert_eq!(
            entries,
            [
                (3, 14),
                (1, 15),
                (-1, 16),
                (-3, 400),
                (-5, u32::MAX),
                (1 << 40, 0)
            ]
        );
    }

    #[test]
    fn the_best_rows_come_with_every_row_tied_with_the_last() {
        // Row 0 is unmatched; rows 2, 3 and 5 tie.
        let scores = [9.0, 5.0, 3.0, 3.0, 1.0, 3.0];
        let matched = [false, true, true, true, true, true];
        let rows = |cap| -> Vec<(i64, f64)> {
            top(&scores, &matched, cap)
                .into_iter()
                .map(|s| (s.rowid, s.score))
                .collect()
        };
        assert_eq!(rows(1), [(1, -5.0)]);
        assert_eq!(rows(2), [(1, -5.0), (2, -3.0), (3, -3.0), (5, -3.0)]);
        assert_eq!(rows(4), [(1, -5.0), (2, -3.0), (3, -3.0), (5, -3.0)]);
        assert_eq!(
            rows(5),
            [(1, -5.0), (2, -3.0), (3, -3.0), (5, -3.0), (4, -1.0)]
        );
        assert_eq!(rows(9).len(), 5);
        assert!(rows(0).is_empty());
    }

    #[test]
    fn plain_tokens_only_for_single_ascii_words() {
        let words = |w: &[(&str, bool)]| -> Vec<(String, bool)> {
            w.iter().map(|(s, p)| ((*s).to_owned(), *p)).collect()
        };
        assert_eq!(
            plain_tokens(&words(&[("Redis,", false), ("backoff", false)])),
            Some(vec!["redis".to_owned(), "backoff".to_owned()])
        );
        assert_eq!(plain_tokens(&words(&[("rate-limit", false)])), None);
        assert_eq!(plain_tokens(&words(&[("rate", true)])), None);
        assert_eq!(plain_tokens(&words(&[("café", false)])), None);
    }
}
