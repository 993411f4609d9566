//! Encoding of session files: `session.toml` and artifacts as markdown with TOML front matter
//! between `+++` lines (SPEC §3).
//!
//! Decoding checks `schema_version` before anything else, so a file from a newer git-handoff is
//! refused with a clear error instead of being misread.

use super::model::{Artifact, SCHEMA_VERSION, SessionMeta};

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
    #[error("malformed TOML: {0}")]
    Toml(Box<toml::de::Error>),
    /// `schema_version` is missing or not an integer.
    #[error("missing or invalid schema_version")]
    NoSchemaVersion,
    /// Written by a newer git-handoff.
    #[error(
        "schema_version {found} was written by a newer git-handoff (this one reads up to {SCHEMA_VERSION}); upgrade git-handoff"
    )]
    NewerSchema {
        /// The version found.
        found: i64,
    },
}

impl From<toml::de::Error> for DecodeError {
    fn from(e: toml::de::Error) -> Self {
        Self::Toml(Box::new(e))
    }
}

/// Why a value could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode as TOML: {0}")]
pub struct EncodeError(#[from] toml::ser::Error);

/// Encodes `session.toml`.
pub fn encode_meta(meta: &SessionMeta) -> Result<String, EncodeError> {
    Ok(toml::to_string(meta)?)
}

/// Decodes `session.toml`.
pub fn decode_meta(bytes: &[u8]) -> Result<SessionMeta, DecodeError> {
    let text = checked_text(bytes)?;
    check_schema(text)?;
    Ok(toml::from_str(text)?)
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
    Ok(out)
}

/// Decodes an artifact file.
pub fn decode_artifact(bytes: &[u8]) -> Result<Artifact, DecodeError> {
    let text = checked_text(bytes)?;
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or(DecodeError::NoFrontMatter)?;
    // The first fence line whose preceding text is TOML closes the front matter: a finding body
    // may hold a "+++" line inside a multi-line string, which cut there would not parse.
    let mut last_err = None;
    let mut parsed = None;
    for (front, body) in fence_candidates(rest) {
        match check_schema(front) {
            Ok(()) => {
                parsed = Some((toml::from_str::<Artifact>(front), body));
                break;
            }
            Err(e @ DecodeError::Toml(_)) => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    let (artifact, body) = match parsed {
        Some(p) => p,
        None => return Err(last_err.unwrap_or(DecodeError::NoFrontMatter)),
    };
    let mut artifact = artifact?;
    let body = body.strip_prefix('\n').unwrap_or(body);
    artifact.body = body.trim_end().to_owned();
    Ok(artifact)
}

/// Every way to split `front\n+++\nbody` at a fence line, first fence first.
fn fence_candidates(rest: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut offset = 0;
    rest.split_inclusive('\n').filter_map(move |line| {
        let start = offset;
        offset += line.len();
        (line.trim_end() == FENCE).then(|| (&rest[..start], &rest[start + line.len()..]))
    })
}

fn checked_text(bytes: &[u8]) -> Result<&str, DecodeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(DecodeError::TooLarge { size: bytes.len() });
    }
    std::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8)
}

/// Reads only `schema_version`, so that a newer layout is refused before field errors.
fn check_schema(toml_text: &str) -> Result<(), DecodeError> {
    let table: toml::Table = toml::from_str(toml_text)?;
    match table
        .get("schema_version")
        .and_then(toml::Value::as_integer)
    {
        None => Err(DecodeError::NoSchemaVersion),
        Some(v) if v > i64::from(SCHEMA_VERSION) => Err(DecodeError::NewerSchema { found: v }),
        Some(v) if v < 1 => Err(DecodeError::NoSchemaVersion),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::id::SessionId;
    use crate::session::model::{Finding, Kind, Range, Status, Verdict};

    fn sample() -> Artifact {
        Artifact {
            schema_version: SCHEMA_VERSION,
            id: "01JB0000000000000000000000".into(),
            session: SessionId::parse("SESSION-20251027-A7F3K2M9-rate").unwrap(),
            kind: Kind::Review,
            agent: "codex".into(),
            created: "2025-10-27T10:00:00.123Z".parse().unwrap(),
            author: "A U Thor <a@example.com>".into(),
            iteration: 1,
            status: Status::ReadyForImplementation,
            verdict: Some(Verdict::ApproveWithChanges),
            range: Some(Range {
                base: Some("a".repeat(40)),
                head: "b".repeat(40),
            }),
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
        assert!(matches!(err, DecodeError::NewerSchema { found: 7 }));
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
}
