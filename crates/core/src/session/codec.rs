//! Encoding of session files: `session.toml` and artifacts as markdown with TOML front matter
//! between `+++` lines.
//!
//! Decoding checks `schema_version` before anything else, so a file from a newer git-handoff is
//! refused with a clear error instead of being misread. The layout is specified in
//! `docs/format.md`.
//!
//! The front matter ends at the first `+++` line that is not inside a TOML multi-line string.
//! One linear scan finds it ([`front_matter_end`]), so decoding costs O(size) whatever the
//! content, and files written by every earlier version (which may hold `+++` lines inside
//! multi-line strings) read the same.

use super::model::{Artifact, READABLE_SCHEMA_VERSION, SCHEMA_VERSION, SessionMeta};

/// The front matter delimiter line.
const FENCE: &str = "+++";
/// The largest file we agree to decode (data from a remote is untrusted).
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Why a stored file could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")]
    TooLarge {
        /// Size of the blob.
        size: usize,
    },
    /// Not UTF-8.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// No `+++` front matter.
    #[error("missing the '+++' front matter")]
    NoFrontMatter,
    /// The TOML does not parse or does not have the expected fields.
    #[error("malformed TOML{}", toml_message(.0))]
    Toml(Box<toml::de::Error>),
    /// `schema_version` is missing or not an integer.
    #[error("missing or invalid schema_version")]
    NoSchemaVersion,
    /// Written by a newer git-handoff.
    #[error(
        "schema_version {found} was written by a newer git-handoff (this one reads up to {newest}); upgrade git-handoff"
    )]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this build reads for that payload.
        newest: u32,
    },
}

impl From<toml::de::Error> for DecodeError {
    fn from(e: toml::de::Error) -> Self {
        Self::Toml(Box::new(e))
    }
}

/// Why a value could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The serializer refused the value.
    #[error("cannot encode as TOML: {0}")]
    Toml(#[from] toml::ser::Error),
    /// The encoded file would be larger than any reader accepts: refused at write, so that
    /// whatever is written can be read back.
    #[error(
        "the {what} would be {size} bytes once stored, over the {MAX_FILE_BYTES}-byte (8 MiB) limit of a stored file; shorten the body or the findings"
    )]
    TooLarge {
        /// What was being encoded (`plan`, `review`, `session.toml`, ...).
        what: String,
        /// The encoded size.
        size: usize,
    },
}

/// Encodes `session.toml`.
pub fn encode_meta(meta: &SessionMeta) -> Result<String, EncodeError> {
    let text = toml::to_string(meta)?;
    if text.len() > MAX_FILE_BYTES {
        return Err(EncodeError::TooLarge {
            what: "session.toml".to_owned(),
            size: text.len(),
        });
    }
    Ok(text)
}

/// Decodes `session.toml`.
pub fn decode_meta(bytes: &[u8]) -> Result<SessionMeta, DecodeError> {
    let text = checked_text(bytes)?;
    // Object names are checked by their type (`ObjectId`) while decoding.
    decode_versioned(text, SCHEMA_VERSION, |meta: &SessionMeta| {
        meta.schema_version
    })
}

/// Encodes an artifact file: front matter, a blank line, then the body.
pub fn encode_artifact(artifact: &Artifact) -> Result<String, EncodeError> {
    let front = toml::to_string(artifact)?;
    let body = artifact.body.trim_end();
    let mut out = String::with_capacity(front.len() + body.len() + 16);
    out.push_str(FENCE);
    out.push('\n');
    out.push_str(&front);
    if !front.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(FENCE);
    out.push_str("\n\n");
    out.push_str(body);
    out.push('\n');
    if out.len() > MAX_FILE_BYTES {
        return Err(EncodeError::TooLarge {
            what: artifact.kind.to_string(),
            size: out.len(),
        });
    }
    Ok(out)
}

/// Decodes an artifact file.
pub fn decode_artifact(bytes: &[u8]) -> Result<Artifact, DecodeError> {
    let text = checked_text(bytes)?;
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or(DecodeError::NoFrontMatter)?;
    let end = front_matter_end(rest).ok_or(DecodeError::NoFrontMatter)?;
    let front = &rest[..end.front];
    let body = &rest[end.body..];
    // Typed fields (`ObjectId`, `Ulid`) are validated by serde while decoding: stored data
    // may come from a hostile remote.
    let mut artifact = decode_versioned(front, READABLE_SCHEMA_VERSION, |a: &Artifact| {
        a.schema_version
    })?;
    let body = body.strip_prefix('\n').unwrap_or(body);
    artifact.body = body.trim_end().to_owned();
    Ok(artifact)
}

/// Where the front matter ends: `front` is the length of the TOML text, `body` where the body
/// starts (after the closing fence line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrontMatterEnd {
    front: usize,
    body: usize,
}

/// Finds the first `+++` line outside a TOML multi-line string (`"""` or `'''`), in one pass.
///
/// Only multi-line strings can hold a line break inside a value, so tracking them is enough:
/// single-line strings, comments and keys end at their line's end. An unterminated multi-line
/// string yields `None` (no front matter), never a scan from every later line.
fn front_matter_end(text: &str) -> Option<FrontMatterEnd> {
    let bytes = text.as_bytes();
    let mut in_multi: Option<&[u8]> = None;
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = bytes[line_start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |p| line_start + p);
        let line = &bytes[line_start..line_end];
        let next = (line_end + 1).min(bytes.len());
        if in_multi.is_none() && trim_ascii_end(line) == FENCE.as_bytes() {
            return Some(FrontMatterEnd {
                front: line_start,
                body: next,
            });
        }
        in_multi = scan_line(line, in_multi);
        line_start = next;
    }
    None
}

/// Scans one line of TOML, returning the multi-line string delimiter still open at its end.
fn scan_line<'d>(line: &[u8], mut open: Option<&'d [u8]>) -> Option<&'d [u8]> {
    const BASIC: &[u8] = b"\"\"\"";
    const LITERAL: &[u8] = b"'''";
    let mut i = 0;
    while i < line.len() {
        if let Some(delim) = open {
            if delim == BASIC && line[i] == b'\\' {
                i += 2;
                continue;
            }
            if line[i..].starts_with(delim) {
                // Up to two more quotes may belong to the string ("""a"""" is `a"`).
                i += delim.len();
                while i < line.len() && line[i] == delim[0] {
                    i += 1;
                }
                open = None;
                continue;
            }
            i += 1;
            continue;
        }
        match line[i] {
            b'#' => return None,
            b'"' if line[i..].starts_with(BASIC) => {
                open = Some(BASIC);
                i += 3;
            }
            b'\'' if line[i..].starts_with(LITERAL) => {
                open = Some(LITERAL);
                i += 3;
            }
            b'"' => i = skip_single(line, i + 1, b'"', true),
            b'\'' => i = skip_single(line, i + 1, b'\'', false),
            _ => i += 1,
        }
    }
    open
}

/// Skips a single-line string starting after its opening quote; returns the index after it.
fn skip_single(line: &[u8], mut i: usize, quote: u8, escapes: bool) -> usize {
    while i < line.len() {
        if escapes && line[i] == b'\\' {
            i += 2;
        } else if line[i] == quote {
            return i + 1;
        } else {
            i += 1;
        }
    }
    i
}

fn trim_ascii_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && line[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    &line[..end]
}

/// Whether `value` is a full object name: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
pub fn is_full_oid(value: &str) -> bool {
    matches!(value.len(), 40 | 64)
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// At most 40 characters of a hostile value, quoted, with control characters escaped, for
/// messages.
pub fn excerpt(value: &str) -> String {
    excerpt_n(value, 40)
}

/// [`excerpt`] with at most `max` characters.
pub fn excerpt_n(value: &str, max: usize) -> String {
    let mut out = String::from("'");
    for (n, c) in value.chars().enumerate() {
        if n == max {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A TOML error as one short line: where it is and at most 120 characters of the parser's
/// message (which may quote hostile input), escaped.
fn toml_message(err: &toml::de::Error) -> String {
    let at = err
        .span()
        .map(|span| format!(" at byte {}", span.start))
        .unwrap_or_default();
    let message: String = err.message().lines().next().unwrap_or_default().to_owned();
    let short = excerpt_n(&message, 120);
    format!("{at}: {}", &short[1..short.len() - 1])
}

fn checked_text(bytes: &[u8]) -> Result<&str, DecodeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(DecodeError::TooLarge { size: bytes.len() });
    }
    std::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8)
}

/// Decodes `T` from `toml_text`, whose `schema_version` (read by `version`) must be at most
/// `newest`.
///
/// Straight into `T` first: a file this version wrote decodes without the intermediate table,
/// which made each file cost a third more. When that fails, or the
/// version is out of range, the table route decides the error exactly as before: the schema
/// version first, so a newer layout is refused as newer rather than by its first unknown field.
fn decode_versioned<T: serde::de::DeserializeOwned>(
    toml_text: &str,
    newest: u32,
    version: impl Fn(&T) -> u32,
) -> Result<T, DecodeError> {
    if let Ok(decoded) = toml::from_str::<T>(toml_text)
        && (1..=newest).contains(&version(&decoded))
    {
        return Ok(decoded);
    }
    let table = check_schema(toml_text, newest)?;
    Ok(T::deserialize(table)?)
}

/// Reads only `schema_version`, so that a newer layout is refused before field errors.
/// Parses the TOML once and checks `schema_version` before any other field is looked at;
/// returns the table to deserialize from.
fn check_schema(toml_text: &str, newest: u32) -> Result<toml::Value, DecodeError> {
    let table: toml::Table = toml::from_str(toml_text)?;
    match table
        .get("schema_version")
        .and_then(toml::Value::as_integer)
    {
        None => Err(DecodeError::NoSchemaVersion),
        Some(v) if v > i64::from(newest) => Err(DecodeError::NewerSchema { found: v, newest }),
        Some(v) if v < 1 => Err(DecodeError::NoSchemaVersion),
        Some(_) => Ok(toml::Value::Table(table)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::id::SessionId;
    use crate::session::model::{Finding, Kind, ObjectId, Range, Status, Verdict};

    fn sample() -> Artifact {
        Artifact {
            schema_version: SCHEMA_VERSION,
            id: "01JB0000000000000000000000".parse().unwrap(),
            session: SessionId::parse("SESSION-20251027-A7F3K2M9-rate").unwrap(),
            kind: Kind::Review,
            agent: "codex".into(),
            created: "2025-10-27T10:00:00.123Z".parse().unwrap(),
            author: "A U Thor <a@example.com>".into(),
            retracts: None,
            iteration: 1,
            status: Status::ReadyForImplementation,
            verdict: Some(Verdict::ApproveWithChanges),
            range: Some(Range {
                base: Some(ObjectId::parse(&"a".repeat(40)).unwrap()),
                head: ObjectId::parse(&"b".repeat(40)).unwrap(),
            }),
            commits: Vec::new(),
            forced: false,
            findings: vec![Finding {
                title: "Use a hybrid key".into(),
                body: "NAT users share IPs.\n+++\nnot a fence for us".into(),
                priority: Some(1),
                confidence: Some(0.8),
                path: Some("src/rate.ts".into()),
                start_line: Some(3),
                end_line: Some(9),
            }],
            body: "## Strengths\n\n+++\nSolid.".into(),
        }
    }

    #[test]
    fn artifact_round_trips_including_fence_like_lines_in_body() {
        let a = sample();
        let text = encode_artifact(&a).unwrap();
        assert!(text.starts_with("+++\nschema_version = 1\n"), "{text}");
        assert_eq!(decode_artifact(text.as_bytes()).unwrap(), a);
    }

    #[test]
    fn newer_schema_is_refused_not_misread() {
        let text = encode_artifact(&sample()).unwrap().replace(
            "schema_version = 1",
            "schema_version = 99\nnew_field = { x = 1 }",
        );
        let err = decode_artifact(text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("newer git-handoff"), "{err}");
        let err = decode_meta(b"schema_version = 7\nid = 3\n").unwrap_err();
        assert!(matches!(err, DecodeError::NewerSchema { found: 7, .. }));
    }

    /// What decoding gave before the direct route: the table first, its schema version
    /// checked, then the fields.
    fn through_the_table<T: serde::de::DeserializeOwned>(
        text: &str,
        newest: u32,
    ) -> Result<T, DecodeError> {
        let table = check_schema(text, newest)?;
        Ok(T::deserialize(table)?)
    }

    #[test]
    fn the_direct_route_decodes_and_refuses_exactly_as_the_table_route() {
        let front = toml::to_string(&sample()).unwrap();
        let meta = "schema_version = 1\nid = \"SESSION-20251027-A7F3K2M9-rate\"\ntitle = \"t\"\n\
                    created = \"2025-10-27T10:00:00Z\"\nauthor = \"A <a@b>\"\n";
        let edits: &[(&str, &str)] = &[
            ("", ""),
            ("schema_version = 1", "schema_version = 2"),
            (
                "schema_version = 1",
                "schema_version = 99\nnew_field = { x = 1 }",
            ),
            ("schema_version = 1", "schema_version = 0"),
            ("schema_version = 1", "schema_version = -3"),
            ("schema_version = 1", "schema_version = 4294967297"),
            ("schema_version = 1", "schema_version = \"1\""),
            ("schema_version = 1", "schema_version = 1.0"),
            ("schema_version = 1", ""),
            ("schema_version = 1", "schema_version = 1\nunknown = true"),
            ("iteration = 1", "iteration = \"one\""),
            ("iteration = 1", ""),
            ("kind = \"review\"", "kind = \"poem\""),
            ("verdict = \"approve-with-changes\"", "verdict = 3"),
            ("created = \"", "created = 2025-10-27T10:00:00Z\nx = \""),
            ("id = \"", "id = \"not a ulid"),
            ("title = ", "title = ["),
        ];
        let mut decoded = Vec::new();
        for (from, to) in edits {
            let artifact = front.replacen(from, to, 1);
            let direct = decode_versioned(&artifact, READABLE_SCHEMA_VERSION, |a: &Artifact| {
                a.schema_version
            });
            let table = through_the_table::<Artifact>(&artifact, READABLE_SCHEMA_VERSION);
            assert_eq!(format!("{direct:?}"), format!("{table:?}"), "{to}");
            if direct.is_ok() {
                decoded.push(*to);
            }
            let meta = meta.replacen(from, to, 1);
            let direct =
                decode_versioned(&meta, SCHEMA_VERSION, |m: &SessionMeta| m.schema_version);
            let table = through_the_table::<SessionMeta>(&meta, SCHEMA_VERSION);
            assert_eq!(format!("{direct:?}"), format!("{table:?}"), "{to}");
        }
        // Of the artifacts, both routes accept the unchanged one, the newest readable version,
        // an unknown field and a TOML date-time for a string one, and nothing else.
        assert_eq!(
            decoded,
            [
                "",
                "schema_version = 2",
                "schema_version = 1\nunknown = true",
                "created = 2025-10-27T10:00:00Z\nx = \""
            ]
        );
    }

    #[test]
    fn malformed_files_give_specific_errors() {
        assert!(matches!(
            decode_artifact(b"no front matter"),
            Err(DecodeError::NoFrontMatter)
        ));
        assert!(matches!(
            decode_artifact(b"+++\nx = \n+++\n"),
            Err(DecodeError::Toml(_))
        ));
        assert!(matches!(
            decode_artifact(&[0xff, 0xfe]),
            Err(DecodeError::NotUtf8)
        ));
        assert!(matches!(
            decode_meta(b"title = 'x'"),
            Err(DecodeError::NoSchemaVersion)
        ));
        let huge = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(matches!(
            decode_meta(&huge),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn decoding_is_linear_in_fence_lines() {
        // 8k fence lines in a finding body (inside a multi-line string) and in the body.
        let mut a = sample();
        a.findings[0].body = "x\n+++\n".repeat(8_000);
        a.body = "+++\n".repeat(8_000).trim_end().to_owned();
        let text = encode_artifact(&a).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(decode_artifact(text.as_bytes()).unwrap(), a);
        // Generous for debug builds; the quadratic decoder took seconds here.
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn fences_in_strings_of_every_toml_form_are_skipped() {
        for (text, expected) in [
            // The fence inside a multi-line string is skipped; the one after it ends.
            ("a = \"\"\"\n+++\n\"\"\"\n+++\nbody", Some(16)),
            ("a = '''\n+++\n'''\n+++\nbody", Some(16)),
            // Escaped quotes inside a basic string open nothing.
            ("a = \"q\\\" \\\"\\\"\\\"\"\n+++\nbody", Some(17)),
            // A comment ends the line, quotes and all.
            ("a = \"#\" # \"\"\"\n+++\nbody", Some(14)),
            // """x""""" closes with up to two extra quotes.
            ("a = \"\"\"x\"\"\"\"\"\n+++\nbody", Some(14)),
            // An unterminated multi-line string: no front matter.
            ("a = \"\"\"\n+++\nbody", None),
        ] {
            let end = front_matter_end(text).map(|e| e.front);
            assert_eq!(end, expected, "{text:?}");
        }
    }

    #[test]
    fn hostile_fields_are_refused_on_decode() {
        let text = encode_artifact(&sample())
            .unwrap()
            .replace(&"b".repeat(40), "a\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}");
        let err = decode_artifact(text.as_bytes()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Toml(_))
                && err.to_string().contains("not a full object name"),
            "{err}"
        );
        let text = encode_artifact(&sample())
            .unwrap()
            .replace("01JB0000000000000000000000", "\\u001b[31mnot-a-ulid");
        let err = decode_artifact(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("malformed TOML"), "{err}");
        assert!(!err.contains('\u{1b}'), "{err}");
        let meta = SessionMeta {
            schema_version: SCHEMA_VERSION,
            id: SessionId::parse("SESSION-20251027-A7F3K2M9-rate").unwrap(),
            title: "t".into(),
            created: "2025-10-27T10:00:00Z".parse().unwrap(),
            base: Some(ObjectId::parse(&"c".repeat(40)).unwrap()),
        };
        let text = encode_meta(&meta)
            .unwrap()
            .replace(&"c".repeat(40), "HEAD~1");
        let err = decode_meta(text.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains("'HEAD~1' is not a full object name"),
            "{err}"
        );
    }

    #[test]
    fn toml_errors_quote_only_a_short_excerpt() {
        let long = "x".repeat(100_000);
        let text = format!("+++\nschema_version = 1\nid = {long}\n+++\n");
        let err = decode_artifact(text.as_bytes()).unwrap_err().to_string();
        assert!(err.len() < 300, "{} bytes", err.len());
    }

    #[test]
    fn oversized_artifacts_are_refused_at_write() {
        let mut a = sample();
        a.body = "x".repeat(MAX_FILE_BYTES);
        let err = encode_artifact(&a).unwrap_err();
        assert!(err.to_string().contains("8 MiB"), "{err}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                ".*",
                "(\\+\\+\\+|\"\"\"|'''|\\\\|\n|\r|#|[a-z\u{e9}\u{a0}\u{1b}\u{202e} ])*",
            ]
        }

        proptest! {
            #[test]
            fn encode_then_decode_is_the_identity(
                title in text(),
                fbody in text(),
                body in text(),
                path in proptest::option::of(text()),
                priority in proptest::option::of(0u8..4),
                lines in proptest::option::of((1u32..100_000, 1u32..100_000)),
            ) {
                let mut a = sample();
                a.findings[0].title = title;
                a.findings[0].body = fbody;
                a.findings[0].path = path;
                a.findings[0].priority = priority;
                a.findings[0].start_line = lines.map(|l| l.0);
                a.findings[0].end_line = lines.map(|l| l.1);
                a.body = body;
                let text = encode_artifact(&a).unwrap();
                let mut expected = a.clone();
                expected.body = a.body.trim_end().to_owned();
                prop_assert_eq!(decode_artifact(text.as_bytes()).unwrap(), expected);
            }
        }
    }
}
