//! Session identifiers: `SESSION-YYYYMMDD-XXXXXXXX-slug` (docs/format.md).
//!
//! Owns generation, parsing and the resolution of what a user typed (full ID, random part,
//! unique prefix of either, or unique slug) against the set of known sessions. It knows nothing
//! about git: callers pass the candidate IDs in.

use std::fmt;

use chrono::{DateTime, Utc};

/// Prefix every session ID starts with.
pub const PREFIX: &str = "SESSION-";
/// Maximum slug length in characters.
pub const MAX_SLUG_LEN: usize = 40;
/// Crockford base32 alphabet (upper case), used for the random part.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A validated session ID.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub struct SessionId(String);

impl TryFrom<String> for SessionId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> Self {
        id.0
    }
}

/// Why a string is not a session ID.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{input}' is not a session ID (expected SESSION-YYYYMMDD-XXXXXXXX[-slug]): {reason}")]
pub struct ParseError {
    input: String,
    reason: &'static str,
}

/// What went wrong resolving user input to one session.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    /// Nothing matched.
    #[error("no session matches '{0}'")]
    NotFound(String),
    /// Several sessions matched; the candidates are listed.
    #[error("'{input}' is ambiguous; it matches:\n  {}", .candidates.join("\n  "))]
    Ambiguous {
        /// What the user typed.
        input: String,
        /// Every matching ID, sorted.
        candidates: Vec<String>,
    },
}

impl SessionId {
    /// Makes a fresh ID for a session created at `now` with the given title.
    pub fn generate(now: DateTime<Utc>, title: &str) -> Self {
        let random = random_part();
        let slug = slugify(title);
        let mut id = format!("{PREFIX}{}-{random}", now.format("%Y%m%d"));
        if !slug.is_empty() {
            id.push('-');
            id.push_str(&slug);
        }
        Self(id)
    }

    /// Parses and validates a full session ID.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let err = |reason| ParseError {
            input: input.to_owned(),
            reason,
        };
        let rest = input
            .strip_prefix(PREFIX)
            .ok_or_else(|| err("missing SESSION- prefix"))?;
        let bytes = rest.as_bytes();
        if bytes.len() < 17 || bytes[8] != b'-' {
            return Err(err(
                "expected an 8-digit date and an 8-character random part",
            ));
        }
        if !bytes[..8].iter().all(u8::is_ascii_digit) {
            return Err(err("the date must be 8 digits"));
        }
        if !bytes[9..17].iter().all(|b| CROCKFORD.contains(b)) {
            return Err(err("the random part must be 8 Crockford base32 characters"));
        }
        match &rest[17..] {
            "" => {}
            tail => {
                let slug = tail
                    .strip_prefix('-')
                    .ok_or_else(|| err("junk after the random part"))?;
                if slug.is_empty()
                    || slug.len() > MAX_SLUG_LEN
                    || !slug
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err(err("the slug must be 1-40 characters of [a-z0-9-]"));
                }
            }
        }
        Ok(Self(input.to_owned()))
    }

    /// The full ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 8-character random part.
    pub fn random(&self) -> &str {
        &self.0[PREFIX.len() + 9..PREFIX.len() + 17]
    }

    /// The slug, if the ID has one.
    pub fn slug(&self) -> Option<&str> {
        self.0.get(PREFIX.len() + 18..).filter(|s| !s.is_empty())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Turns a title into a slug: transliterated to ASCII (`café` → `cafe`, other scripts by
/// their usual romanisation), lower-case letters and digits, other runs become one `-`,
/// trimmed, at most [`MAX_SLUG_LEN`] characters, never ending in `-`.
pub fn slugify(title: &str) -> String {
    let ascii = deunicode::deunicode(title);
    let mut slug = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() > MAX_SLUG_LEN {
            break;
        }
    }
    if slug.len() > MAX_SLUG_LEN {
        // Cut at the last word boundary that fits, not mid-word ("...-sqlite-with-expir"); a
        // single word longer than the limit is cut where it must be.
        let cut = slug[..=MAX_SLUG_LEN]
            .rfind('-')
            .filter(|&at| at > 0)
            .unwrap_or(MAX_SLUG_LEN);
        slug.truncate(cut);
    }
    slug.trim_end_matches('-').to_owned()
}

fn random_part() -> String {
    // A ULID's last 16 characters are 80 random bits in Crockford base32: take 8 of them.
    let ulid = crate::random::ulid_at(std::time::SystemTime::now()).to_string();
    let tail = &ulid[ulid.len() - 8..];
    debug_assert!(tail.bytes().all(|b| CROCKFORD.contains(&b)));
    tail.to_owned()
}

/// Resolves what a user typed against the known sessions.
///
/// Order: an exact full ID, then an exact random part, then an exact slug, then a unique prefix
/// of a full ID or of a random part. The random part is matched case-insensitively (Crockford
/// base32 is). Several matches at the first level that has any is an ambiguity error.
pub fn resolve<'a>(input: &str, known: &'a [SessionId]) -> Result<&'a SessionId, ResolveError> {
    let input = input.trim();
    let upper = input.to_ascii_uppercase();
    let levels: [&dyn Fn(&SessionId) -> bool; 4] = [
        &|id| id.as_str() == input,
        &|id| id.random() == upper,
        &|id| id.slug() == Some(input),
        &|id| {
            !input.is_empty()
                && (id.as_str().starts_with(input)
                    || (upper.len() < 8 && id.random().starts_with(&upper)))
        },
    ];
    for matches in levels {
        let found: Vec<&SessionId> = known.iter().filter(|id| matches(id)).collect();
        match found.as_slice() {
            [] => continue,
            [one] => return Ok(one),
            many => {
                let mut candidates: Vec<String> = many.iter().map(|id| id.to_string()).collect();
                candidates.sort();
                candidates.dedup();
                if candidates.len() == 1 {
                    return Ok(many[0]);
                }
                return Err(ResolveError::Ambiguous {
                    input: input.to_owned(),
                    candidates,
                });
            }
        }
    }
    Err(ResolveError::NotFound(input.to_owned()))
}

/// Finds every session ID mentioned in free text (used to read trailers and seed-style text).
pub fn find_in_text(text: &str) -> Vec<SessionId> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find(PREFIX) {
        let candidate = &rest[pos..];
        let end = candidate
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(candidate.len());
        let mut token = candidate[..end].trim_end_matches('-');
        // Try the longest form first, then without slug.
        let parsed = SessionId::parse(token).or_else(|_| {
            token = token.get(..PREFIX.len() + 17).unwrap_or(token);
            SessionId::parse(token)
        });
        if let Ok(id) = parsed
            && !out.contains(&id)
        {
            out.push(id);
        }
        rest = &rest[pos + PREFIX.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<SessionId> {
        list.iter().map(|s| SessionId::parse(s).unwrap()).collect()
    }

    #[test]
    fn generated_ids_parse_and_carry_the_slug() {
        let now = DateTime::parse_from_rfc3339("2025-10-27T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = SessionId::generate(now, "Rate limiting for the Express API!");
        assert!(id.as_str().starts_with("SESSION-20251027-"), "{id}");
        assert_eq!(id.slug(), Some("rate-limiting-for-the-express-api"));
        assert_eq!(SessionId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.random().len(), 8);
    }

    #[test]
    fn slug_is_capped_and_trimmed() {
        let slug = slugify(&"word ".repeat(30));
        assert!(slug.len() <= MAX_SLUG_LEN);
        assert!(!slug.ends_with('-'));
        assert_eq!(slugify("  ¿Qué?  "), "que");
        assert_eq!(slugify("Café naïve"), "cafe-naive");
        assert_eq!(slugify("東京 cache"), "dong-jing-cache");
        assert_eq!(slugify("!!!"), "");
        // Cut at a word boundary, never mid-word.
        assert_eq!(
            slugify("Add an in-memory cache layer backed by sqlite with expiry"),
            "add-an-in-memory-cache-layer-backed-by"
        );
        assert_eq!(slugify(&"x".repeat(50)), "x".repeat(MAX_SLUG_LEN));
        assert_eq!(slugify(&format!("{} tail", "y".repeat(40))), "y".repeat(40));
    }

    #[test]
    fn parse_rejects_malformed_ids() {
        for bad in [
            "SESSION-2025102-A7F3K2M9",
            "SESSION-20251027-A7F3K2MU",
            "SESSION-20251027-A7F3K2M9-Bad_Slug",
            "session-20251027-A7F3K2M9",
            "SESSION-20251027-A7F3K2M9-",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad}");
        }
        assert!(SessionId::parse("SESSION-20251027-A7F3K2M9").is_ok());
    }

    #[test]
    fn resolve_by_every_form() {
        let known = ids(&[
            "SESSION-20251027-A7F3K2M9-rate-limiting",
            "SESSION-20251027-A7G00000-auth",
            "SESSION-20251028-B0000000-rate",
        ]);
        let full = "SESSION-20251027-A7F3K2M9-rate-limiting";
        assert_eq!(resolve(full, &known).unwrap().as_str(), full);
        assert_eq!(resolve("A7F3K2M9", &known).unwrap().as_str(), full);
        assert_eq!(resolve("a7f3", &known).unwrap().as_str(), full);
        assert_eq!(resolve("auth", &known).unwrap().random(), "A7G00000");
        assert_eq!(resolve("rate", &known).unwrap().random(), "B0000000");
        assert_eq!(
            resolve("SESSION-20251028", &known).unwrap().random(),
            "B0000000"
        );
        match resolve("A7", &known) {
            Err(ResolveError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("expected ambiguity, got {other:?}"),
        }
        assert!(matches!(
            resolve("ZZZ", &known),
            Err(ResolveError::NotFound(_))
        ));
        assert!(matches!(
            resolve("", &known),
            Err(ResolveError::NotFound(_))
        ));
    }

    #[test]
    fn finds_ids_in_text() {
        let text = "**[SESSION-20251027-A7F3K2M9] CLAUDE PLAN**\nHandoff-Session: SESSION-20251028-B0000000-rate implementation";
        let found = find_in_text(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].slug(), Some("rate"));
    }
}
