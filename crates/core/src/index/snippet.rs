//! Snippets for search hits. The full-text table stores no text (it is contentless, so the index
//! stays a fraction of the repository's size); the few hits shown are read back from git and
//! cut here around the first match, with every match marked.

use super::query::{MATCH_END, MATCH_START};

/// Characters kept on each side of the first match.
const CONTEXT: usize = 70;

/// Lower-case alphanumeric pieces of the user's words, as the tokenizer splits them; `true`
/// marks a prefix search (`word*`).
pub fn pieces(words: &[(String, bool)]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (word, prefix) in words {
        let parts: Vec<String> = word
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .map(str::to_lowercase)
            .collect();
        let last = parts.len().saturating_sub(1);
        for (i, p) in parts.into_iter().enumerate() {
            out.push((p, *prefix && i == last));
        }
    }
    out
}

/// Cuts `text` around the first token that matches `pieces` and marks every matching token in
/// the cut with [`MATCH_START`] / [`MATCH_END`]. Falls back to the start of the text.
pub fn make(text: &str, pieces: &[(String, bool)]) -> String {
    let tokens = tokens(text);
    let matches = |word: &str| {
        let lower = word.to_lowercase();
        pieces.iter().any(|(p, prefix)| {
            if *prefix {
                lower.starts_with(p.as_str())
            } else {
                lower == *p
            }
        })
    };
    let first = tokens
        .iter()
        .find(|(s, e)| matches(&text[*s..*e]))
        .map_or(0, |(s, _)| *s);
    let start = floor_boundary(text, first.saturating_sub(CONTEXT));
    let start = if start == 0 {
        0
    } else {
        // Past the first whitespace character, whatever its width (U+00A0 is two bytes).
        text[start..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(start, |(i, c)| start + i + c.len_utf8())
    };
    let end = floor_boundary(text, (first + 2 * CONTEXT).min(text.len()));
    let end = if end >= text.len() {
        text.len()
    } else {
        text[..end].rfind(char::is_whitespace).unwrap_or(end)
    };
    let (start, end) = if start < end {
        (start, end)
    } else {
        (0, text.len().min(floor_boundary(text, 2 * CONTEXT)))
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut cursor = start;
    for (s, e) in tokens.iter().filter(|(s, e)| *s >= start && *e <= end) {
        if matches(&text[*s..*e]) {
            out.push_str(&text[cursor..*s]);
            out.push(MATCH_START);
            out.push_str(&text[*s..*e]);
            out.push(MATCH_END);
            cursor = *e;
        }
    }
    out.push_str(&text[cursor..end]);
    if end < text.len() {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Byte ranges of the alphanumeric runs of `text` (what the tokenizer indexes).
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(s: &str) -> String {
        s.replace(MATCH_START, "[").replace(MATCH_END, "]")
    }

    #[test]
    fn marks_matches_around_the_first_one() {
        let text = format!(
            "{} Redis failure handling: fall back to memory when redis is down. {}",
            "lead ".repeat(40),
            "tail ".repeat(40)
        );
        let p = pieces(&[("redis".to_owned(), false), ("fall".to_owned(), true)]);
        let s = marked(&make(&text, &p));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(
            s.contains("[Redis] failure handling: [fall] back to memory when [redis] is down."),
            "{s}"
        );
    }

    #[test]
    fn short_texts_and_no_match_fall_back_to_the_start() {
        let p = pieces(&[("absent".to_owned(), false)]);
        assert_eq!(make("short text", &p), "short text");
        let p = pieces(&[("SESSION-20251027-A7F3K2M9".to_owned(), false)]);
        assert_eq!(p.len(), 3);
        let s = marked(&make("for SESSION-20251027-A7F3K2M9 here", &p));
        assert_eq!(s, "for [SESSION]-[20251027]-[A7F3K2M9] here");
    }

    #[test]
    fn wide_whitespace_near_the_cut_does_not_split_a_character() {
        let p = pieces(&[("needle".to_owned(), false)]);
        for pad in 0..8 {
            let text = format!(
                "{}{}\u{a0}\u{3000}\u{a0}{} needle {}",
                "x".repeat(pad),
                "word\u{a0}".repeat(30),
                "y\u{a0}".repeat(20),
                "tail\u{a0}".repeat(40)
            );
            assert!(marked(&make(&text, &p)).contains("[needle]"));
        }
    }
}
