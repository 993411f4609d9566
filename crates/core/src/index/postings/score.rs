//! Scoring plain-word queries from the postings with FTS5's own `bm25()` arithmetic, operation
//! for operation (`fts5Bm25Function` in SQLite's fts5_aux.c), so that scores, and so the order,
//! are bit for bit those of FTS5.

use rusqlite::{Connection, OptionalExtension as _};

use super::encoding::{Entries, sqlite_varint};
use super::tokens::ascii_tokens;
use super::{COLUMNS, LENGTHS, blob};
use crate::index::Result;

/// BM25 constants of FTS5's `bm25()`.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A scored full-text row: its rowid and its BM25 score as FTS5's `bm25()` gives it (lower is
/// better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::index) struct Scored {
    /// `artifact_text` rowid.
    pub(in crate::index) rowid: i64,
    /// BM25 score.
    pub(in crate::index) score: f64,
}

/// The tokens a query's words search for, when every word is one plain ASCII token and no
/// prefix (what the postings can answer); `None` otherwise.
pub(in crate::index) fn plain_tokens(words: &[(String, bool)]) -> Option<Vec<String>> {
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
pub(in crate::index) fn best(
    conn: &Connection,
    tokens: &[String],
    cap: usize,
) -> Result<Option<Vec<Scored>>> {
    let lengths = match checked_lengths(conn)? {
        Checked::Empty => return Ok(Some(Vec::new())),
        Checked::Disagree => return Ok(None),
        Checked::Agree(lengths) => lengths,
    };
    let (rows, total_tokens) = (lengths.rows, lengths.total);
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
pub(in crate::index) fn agree(conn: &Connection) -> Result<bool> {
    Ok(!matches!(checked_lengths(conn)?, Checked::Disagree))
}

/// The postings' lengths, checked against FTS5's own totals.
enum Checked {
    /// FTS5 holds no rows.
    Empty,
    /// Same row count and total length as FTS5's.
    Agree(Lengths),
    /// Not FTS5's rows (or rowids spread too far to hold by rowid): FTS5 must score.
    Disagree,
}

fn checked_lengths(conn: &Connection) -> Result<Checked> {
    let Some((rows, total_tokens)) = fts5_totals(conn)? else {
        return Ok(Checked::Empty);
    };
    Ok(match read_lengths(conn, rows)? {
        Some(lengths) if lengths.rows == rows && lengths.total == total_tokens => {
            Checked::Agree(lengths)
        }
        _ => Checked::Disagree,
    })
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

/// Reads [`LENGTHS`] without the rows in `tombstones`, for an index of about `rows` live rows;
/// `None` if a rowid lies beyond what a search should hold by rowid ([`rowid_span`]).
fn read_lengths(conn: &Connection, rows: i64) -> Result<Option<Lengths>> {
    let span = rowid_span(rows);
    let mut of: Vec<u32> = Vec::new();
    {
        let mut stmt = conn.prepare_cached("SELECT data FROM postings WHERE term = ?1")?;
        let mut chunks = stmt.query([LENGTHS])?;
        while let Some(chunk) = chunks.next()? {
            for (rowid, length) in Entries::new(blob(chunk)?) {
                let Some(at) = usize::try_from(rowid).ok().filter(|at| *at < span) else {
                    return Ok(None);
                };
                if at >= of.len() {
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

/// How far rowids may reach for a search to score by rowid (13 bytes a rowid: length, score,
/// match): eight times the live rows, and at least 4M (52 MB). Rowids count every row ever
/// written, a few times the live ones as sessions grow artifact by artifact; an index churned
/// far beyond that is scored by FTS5 until `git handoff reindex` numbers its rows afresh.
fn rowid_span(rows: i64) -> usize {
    usize::try_from(rows)
        .unwrap_or(0)
        .saturating_mul(8)
        .max(1 << 22)
}

/// FTS5's own row count and total length in tokens (its "averages" record, id 1 of
/// `artifact_text_data`: a varint row count, then a varint per column); `None` when empty.
pub(super) fn fts5_totals(conn: &Connection) -> Result<Option<(i64, i64)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
