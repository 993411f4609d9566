//! Splitting a row into terms exactly as the full-text table's tokenizer (unicode61, schema.rs)
//! does: here for ASCII text and the separators listed below, and through a temporary FTS5 table
//! with the same tokenizer for any other text.

use std::collections::HashMap;

use rusqlite::Connection;

use super::{COLUMNS, WEIGHTS_X2};
use crate::index::Result;

/// FTS5 keeps at most this many bytes of a token (`FTS5_MAX_TOKEN_SIZE`).
const MAX_TOKEN_BYTES: usize = 32_768;

/// Splits rows into terms, remembering whether its temporary table exists on the connection
/// and how FTS5 split the pieces it was asked about.
#[derive(Default)]
pub(super) struct Tokenizer {
    fts5_ready: bool,
    pieces: HashMap<String, Vec<String>>,
}

/// At most this many pieces are remembered (a cold build of text in other scripts meets tens of
/// thousands of distinct words).
const MAX_PIECES: usize = 200_000;

impl Tokenizer {
    /// Adds the terms of one full-text row (`columns` in the order of `artifact_text`) to
    /// `counts`, each counted with its column's weight times two, and returns the row's length
    /// in tokens.
    ///
    /// Tokens never span an ASCII separator, so text is cut there first: pieces this module
    /// splits exactly ([`splits_here`]) are split here, and the others (a word with an accent, a
    /// CJK run) are tokenized by FTS5 itself through a temporary table, all of a row's new ones
    /// in one pass, each distinct piece once.
    pub(super) fn row_terms(
        &mut self,
        conn: &Connection,
        columns: [&str; COLUMNS],
        counts: &mut HashMap<String, u32>,
    ) -> Result<u32> {
        let mut length = 0_u32;
        let mut add = |token: &str, weight: u32, counts: &mut HashMap<String, u32>| {
            length += 1;
            if let Some(count) = counts.get_mut(token) {
                *count += weight;
            } else {
                counts.insert(token.to_owned(), weight);
            }
        };
        // Pieces FTS5 must split, with their column's weight.
        let mut others: Vec<(&str, u32)> = Vec::new();
        for (text, weight) in columns.iter().zip(WEIGHTS_X2) {
            if splits_here(text) {
                for token in ascii_tokens(text) {
                    add(&token, weight, counts);
                }
                continue;
            }
            let pieces = text
                .split(|c: char| c.is_ascii() && !c.is_ascii_alphanumeric())
                .filter(|piece| !piece.is_empty());
            for piece in pieces {
                if splits_here(piece) {
                    for token in ascii_tokens(piece) {
                        add(&token, weight, counts);
                    }
                } else {
                    others.push((piece, weight));
                }
            }
        }
        if others.is_empty() {
            return Ok(length);
        }
        let mut new: Vec<&str> = others
            .iter()
            .map(|(piece, _)| *piece)
            .filter(|piece| !self.pieces.contains_key(*piece))
            .collect();
        new.sort_unstable();
        new.dedup();
        if !new.is_empty() {
            if self.pieces.len() + new.len() > MAX_PIECES {
                self.pieces.clear();
            }
            let split = self.fts5_tokens(conn, &new)?;
            self.pieces
                .extend(new.iter().map(|piece| (*piece).to_owned()).zip(split));
        }
        for (piece, weight) in others {
            for token in self.pieces.get(piece).map_or(&[][..], Vec::as_slice) {
                add(token, weight, counts);
            }
        }
        Ok(length)
    }

    /// The tokens of each of `texts` as FTS5's own tokenizer splits and folds them (in no
    /// particular order within a text): they go through a temporary full-text table with the
    /// same tokenizer, a row each, in one pass.
    fn fts5_tokens(&mut self, conn: &Connection, texts: &[&str]) -> Result<Vec<Vec<String>>> {
        if !self.fts5_ready {
            conn.execute_batch(&format!(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.handoff_tokenize
                     USING fts5(text, tokenize = '{}');
                 CREATE VIRTUAL TABLE IF NOT EXISTS temp.handoff_tokenize_terms
                     USING fts5vocab(temp, handoff_tokenize, instance);",
                crate::index::schema::TOKENIZER
            ))?;
            self.fts5_ready = true;
        }
        {
            let mut insert = conn.prepare_cached(
                "INSERT INTO temp.handoff_tokenize (rowid, text) VALUES (?1, ?2)",
            )?;
            for (at, text) in (1_i64..).zip(texts) {
                insert.execute(rusqlite::params![at, text])?;
            }
        }
        let mut split = vec![Vec::new(); texts.len()];
        {
            let mut terms =
                conn.prepare_cached("SELECT doc, term FROM temp.handoff_tokenize_terms")?;
            let mut rows = terms.query([])?;
            while let Some(row) = rows.next()? {
                let doc: i64 = row.get(0)?;
                if let Some(tokens) = usize::try_from(doc - 1).ok().and_then(|i| split.get_mut(i)) {
                    tokens.push(row.get(1)?);
                }
            }
        }
        conn.prepare_cached("DELETE FROM temp.handoff_tokenize")?
            .execute([])?;
        Ok(split)
    }
}

/// Whether [`ascii_tokens`] splits `text` exactly as unicode61 does: every character is ASCII or
/// one of the [`SEPARATORS`] (agents write dashes, curly quotes, arrows, bullets, box drawing and
/// emoji: text with those is still split here, not through the temporary FTS5 table, which
/// costs about 80 µs a call).
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
        let mut tokenizer = Tokenizer::default();
        let mut checked = 0;
        for range in SEPARATORS {
            let chars: Vec<char> = range.clone().collect();
            // "x<c>y" for each: FTS5 must see the tokens x and y, as often as there are chars.
            for chunk in chars.chunks(500) {
                let text: String = chunk.iter().map(|c| format!("x{c}y ")).collect();
                assert!(splits_here(&text));
                let mut tokens = tokenizer
                    .fts5_tokens(&index.conn, &[&text])
                    .unwrap()
                    .remove(0);
                tokens.sort();
                let mut expected = [vec!["x"; chunk.len()], vec!["y"; chunk.len()]].concat();
                expected.sort_unstable();
                assert_eq!(
                    tokens,
                    expected,
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
