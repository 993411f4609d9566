//! The data of a session: artifacts, findings, verdicts and statuses (docs/format.md), as serde types.
//!
//! These are plain values; how they are laid out in git lives in [`crate::store`] and how they
//! are encoded as files lives in [`super::codec`].

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::id::SessionId;

/// The payload format this build writes; newer versions are refused, never misread.
pub const SCHEMA_VERSION: u32 = 1;
/// The format of a retraction (a `note` with `retracts`, docs/format.md): a reader that does
/// not know retractions must refuse it rather than count the retracted artifact silently.
pub const RETRACTION_SCHEMA_VERSION: u32 = 2;
/// The format of an artifact that lists its commits (`commits`, docs/format.md "A session is
/// its commits"): a reader that knows only ranges must refuse it rather than guess the work
/// from a range that may hold other sessions' commits.
pub const COMMITS_SCHEMA_VERSION: u32 = 3;
/// The newest format this build reads.
pub const READABLE_SCHEMA_VERSION: u32 = COMMITS_SCHEMA_VERSION;

/// The kind of an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A plan (or a new iteration of it), usually by the planner agent.
    Plan,
    /// A review of the plan, usually by the reviewer agent.
    Review,
    /// A summary of the implementation, with the commit range it produced.
    Implementation,
    /// A validation of the implementation's commit range.
    Validation,
    /// A reusable pattern extracted from a completed session.
    Pattern,
    /// A free note; it never changes the status (abandoning is a note with status ABANDONED).
    Note,
}

impl Kind {
    /// Every kind, in workflow order.
    pub const ALL: [Self; 6] = [
        Self::Plan,
        Self::Review,
        Self::Implementation,
        Self::Validation,
        Self::Pattern,
        Self::Note,
    ];

    /// The indefinite article that goes before the kind's name ("an implementation").
    pub fn article(self) -> &'static str {
        match self {
            Self::Implementation => "an",
            _ => "a",
        }
    }

    /// The name used in files, messages and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Review => "review",
            Self::Implementation => "implementation",
            Self::Validation => "validation",
            Self::Pattern => "pattern",
            Self::Note => "note",
        }
    }

    /// The seed's heading for this kind (`CLAUDE PLAN`, `CODEX REVIEW`, ...).
    pub fn seed_heading(self) -> &'static str {
        match self {
            Self::Plan => "CLAUDE PLAN",
            Self::Review => "CODEX REVIEW",
            Self::Implementation => "IMPLEMENTATION COMPLETE",
            Self::Validation => "CODEX VALIDATION",
            Self::Pattern => "VALIDATED PATTERN",
            Self::Note => "NOTE",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown kind '{s}' (expected plan, review, implementation, validation, pattern or note)")
            })
    }
}

/// A reviewer's or validator's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Go ahead as is.
    Approve,
    /// Go ahead, taking the findings into account.
    ApproveWithChanges,
    /// Do not go ahead until the findings are addressed.
    RequestChanges,
    /// The approach is wrong.
    Reject,
}

impl Verdict {
    /// The name used on the command line, in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::ApproveWithChanges => "approve-with-changes",
            Self::RequestChanges => "request-changes",
            Self::Reject => "reject",
        }
    }

    /// Whether the work may go on to the next step.
    pub fn is_approval(self) -> bool {
        matches!(self, Self::Approve | Self::ApproveWithChanges)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approve" => Ok(Self::Approve),
            "approve-with-changes" => Ok(Self::ApproveWithChanges),
            "request-changes" => Ok(Self::RequestChanges),
            "reject" => Ok(Self::Reject),
            _ => Err(format!(
                "unknown verdict '{s}' (expected approve, approve-with-changes, request-changes or reject)"
            )),
        }
    }
}

/// The seed's status markers, kept verbatim because agents following the seed look for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// A plan waits for the reviewer.
    AwaitingCodexReview,
    /// The plan was approved.
    ReadyForImplementation,
    /// The implementation waits for the validator.
    ReadyForCodexValidation,
    /// The implementation was validated.
    Complete,
    /// A review or validation asked for changes.
    ChangesRequested,
    /// The session was given up.
    Abandoned,
}

impl Status {
    /// Every status.
    pub const ALL: [Self; 6] = [
        Self::AwaitingCodexReview,
        Self::ReadyForImplementation,
        Self::ReadyForCodexValidation,
        Self::Complete,
        Self::ChangesRequested,
        Self::Abandoned,
    ];

    /// The marker as the seed writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingCodexReview => "AWAITING_CODEX_REVIEW",
            Self::ReadyForImplementation => "READY_FOR_IMPLEMENTATION",
            Self::ReadyForCodexValidation => "READY_FOR_CODEX_VALIDATION",
            Self::Complete => "COMPLETE",
            Self::ChangesRequested => "CHANGES_REQUESTED",
            Self::Abandoned => "ABANDONED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == wanted)
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown status '{s}' (expected one of {})", all.join(", "))
            })
    }
}

/// One finding of a review or validation; the shape of Codex's review output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// One line, ideally at most 80 characters.
    pub title: String,
    /// Markdown explanation.
    #[serde(default)]
    pub body: String,
    /// 0 (P0, most severe) to 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Path relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// First line of the range (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_line: Option<u32>,
    /// Last line of the range (1-based, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
}

impl Finding {
    /// The title without a leading priority tag when the finding has a priority of its own
    /// (`[P1] Key the limiter` -> `Key the limiter`): Codex writes its tag into the title, and
    /// every view that shows the priority adds its own, which printed it twice. Without a
    /// priority the title is kept whole (its tag is the only one).
    pub fn untagged_title(&self) -> &str {
        let title = self.title.trim_start();
        match title.as_bytes() {
            [b'[', b'P' | b'p', d, b']', ..] if d.is_ascii_digit() && self.priority.is_some() => {
                title[4..].trim_start()
            }
            _ => &self.title,
        }
    }
}

/// A full object name: 40 lower-case hex digits (SHA-1) or 64 (SHA-256). Validated when it is
/// parsed or decoded, so stored names are never printed or sliced unchecked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectId(String);

/// A string that is not a full object name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a full object name (40 or 64 lower-case hex digits)")]
pub struct InvalidObjectId(String);

impl ObjectId {
    /// Parses a full object name.
    pub fn parse(value: &str) -> Result<Self, InvalidObjectId> {
        if super::codec::is_full_oid(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidObjectId(super::codec::excerpt(value)))
        }
    }

    /// Wraps hex that git itself produced (an `Oid`'s text), which needs no check.
    pub(crate) fn from_git_hex(hex: String) -> Self {
        debug_assert!(super::codec::is_full_oid(&hex));
        Self(hex)
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `n` hex digits, for people.
    pub fn short(&self, n: usize) -> &str {
        &self.0[..n.min(self.0.len())]
    }
}

impl TryFrom<String> for ObjectId {
    type Error = InvalidObjectId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ObjectId> for String {
    fn from(id: ObjectId) -> Self {
        id.0
    }
}

impl std::ops::Deref for ObjectId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A commit range `base..head` of full object names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// Exclusive lower end; `None` when the range starts at a root commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<ObjectId>,
    /// Inclusive upper end.
    pub head: ObjectId,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.base {
            Some(base) => write!(f, "{base}..{}", self.head),
            None => write!(f, "{}", self.head),
        }
    }
}

/// One artifact: the front matter of `artifacts/<ULID>-<kind>.md` plus its markdown body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Payload format version.
    pub schema_version: u32,
    /// A ULID, unique across all sessions.
    pub id: ulid::Ulid,
    /// The session this artifact belongs to.
    pub session: SessionId,
    /// What the artifact is.
    pub kind: Kind,
    /// Who produced it (`claude`, `codex`, ...).
    pub agent: String,
    /// When it was recorded (UTC).
    pub created: DateTime<Utc>,
    /// The git identity that recorded it, `Name <email>`.
    pub author: String,
    /// The plan iteration this artifact belongs to (1 for the first plan).
    pub iteration: u32,
    /// The status of the session after this artifact.
    pub status: Status,
    /// Verdict of a review or validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Commit range of an implementation or validation: since schema 3 a summary of
    /// `commits`, present only when they are contiguous (`base..head` holds exactly them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    /// The session's commits that an implementation or validation covers (or a `note` that
    /// follows them through a rewrite), full object names, oldest first. Empty in artifacts
    /// written before schema 3, which carry only `range`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<ObjectId>,
    /// Whether the artifact was recorded with `--force` against the state machine.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forced: bool,
    /// Findings of a review or validation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// For a retraction (a `note`): the artifact it takes back, which replay then skips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retracts: Option<ulid::Ulid>,
    /// The markdown body (stored after the front matter, not in it).
    #[serde(skip)]
    pub body: String,
}

impl Artifact {
    /// The file name inside the session tree: `<ULID>-<kind>.md`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.md", self.id, self.kind)
    }
}

/// `session.toml`: what a session is, independent of its artifacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// Payload format version.
    pub schema_version: u32,
    /// The session ID (also the ref name).
    pub id: SessionId,
    /// Human title, from the first plan.
    pub title: String,
    /// When the session was created (UTC).
    pub created: DateTime<Utc>,
    /// The commit HEAD pointed at when the session was planned; the default range base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<ObjectId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(title: &str, priority: Option<u8>) -> Finding {
        Finding {
            title: title.to_owned(),
            body: String::new(),
            priority,
            confidence: None,
            path: None,
            start_line: None,
            end_line: None,
        }
    }

    #[test]
    fn a_priority_tag_in_the_title_is_dropped_only_when_the_priority_says_it() {
        assert_eq!(finding("[P1] Key it", Some(1)).untagged_title(), "Key it");
        assert_eq!(finding("[p0]Key it", Some(0)).untagged_title(), "Key it");
        assert_eq!(finding("[P1] Key it", None).untagged_title(), "[P1] Key it");
        assert_eq!(
            finding("[PX] Key it", Some(1)).untagged_title(),
            "[PX] Key it"
        );
        assert_eq!(
            finding("Key [P1] it", Some(1)).untagged_title(),
            "Key [P1] it"
        );
        assert_eq!(finding("[P1]", Some(1)).untagged_title(), "");
    }
}
