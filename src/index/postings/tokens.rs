//! Splitting a row into terms exactly as the full-text table's tokenizer (unicode61, schema.rs)
//! does: here for ASCII text and the separators listed below, and through a temporary FTS5 table
//! with the same tokenizer for any other text.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension as _};

use super::encoding::sqlite_varint;
use super::{COLUMNS, WEIGHTS_X2};
use crate::index::Result;

/// FTS5 keeps at most this many bytes of a token (`FTS5_MAX_TOKEN_SIZE`).
const MAX_TOKEN_BYTES: usize = 32_768;

/// Splits rows into terms, remembering whether its temporary table exists on the connection.
#[derive(Default)]
pub(super) struct Tokenizer {
    fts5_ready: bool,
}

impl Tokenizer {
    /// Adds the terms of one full-text row (`columns` in the order of `artifact_text`) to
    /// `counts`, each counted with its column's weight times two, and returns the row's length
    /// in tokens. Call it after the row went into `artifact_text` (a row FTS5 tokenizes here
    /// needs its size).
    pub(super) fn row_terms(
        &mut self,
        conn: &Connection,
        rowid: i64,
        columns: [&str; COLUMNS],
        counts: &mut HashMap<String, u32>,
    ) -> Result<u32> {
        if !columns.iter().all(|c| splits_here(c)) {
            return self.fts5_terms(conn, rowid, columns, counts);
        }
        let mut length = 0_u32;
        for (text, weight) in columns.iter().zip(WEIGHTS_X2) {
            for token in ascii_tokens(text) {
                length += 1;
                *counts.entry(token).or_default() += weight;
            }
        }
        Ok(length)
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
        if !self.fts5_ready {
            conn.execute_batch(&format!(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.handoff_tokenize
                     USING fts5(c0, c1, c2, c3, c4, c5, c6, tokenize = '{}');
                 CREATE VIRTUAL TABLE IF NOT EXISTS temp.handoff_tokenize_terms
                     USING fts5vocab(temp, handoff_tokenize, instance);",
                crate::index::schema::TOKENIZER
            ))?;
            self.fts5_ready = true;
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
}

/// Whether [`ascii_tokens`] splits `text` exactly as unicode61 does: every character is ASCII or
/// one of the [`SEPARATORS`] (agents write dashes, curly quotes, arrows, bullets, box drawing and
/// emoji: with those a row is still tokenized here, not through a temporary FTS5 table, which
/// cost 80 µs a row).
pub(super) fn splits_here(text: &str) -> bool {
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
pub(super) fn ascii_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t[..t.len().min(MAX_TOKEN_BYTES)].to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;

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
                let length = Tokenizer::default()
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
    fn the_schema_uses_the_tokenizer_named_here() {
        assert!(
            crate::index::schema::CREATE
                .contains(&format!("tokenize = '{}'", crate::index::schema::TOKENIZER))
        );
    }
}
