//! Findings input for `review` and `validate --findings FILE.json`: either a JSON array of our
//! findings (docs/format.md) or a Codex review output object (`findings[]` with `code_location`,
//! `overall_correctness`, `overall_explanation`, as `codex exec --output-schema` returns it).

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::session::{Finding, Verdict};

/// Why a findings file was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON.
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON of the wrong shape.
    #[error("expected a JSON array of findings or an object with a 'findings' array")]
    Shape,
    /// An object with keys that neither shape has.
    #[error(
        "unknown key '{0}' (a Codex review object has findings, overall_correctness, overall_explanation and overall_confidence_score)"
    )]
    UnknownKey(String),
    /// One finding is invalid.
    #[error("finding {index}: {problem}")]
    Invalid {
        /// 1-based position in the input.
        index: usize,
        /// What is wrong.
        problem: String,
    },
}

/// What a findings file says.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The findings, paths relative to the repository root.
    pub findings: Vec<Finding>,
    /// The verdict implied by Codex's `overall_correctness`, if given.
    pub verdict: Option<Verdict>,
    /// Codex's `overall_explanation`, if given.
    pub explanation: Option<String>,
    /// Paths that could not be made relative to the repository.
    pub warnings: Vec<String>,
}

/// A finding in either of the two accepted shapes; any other key is refused, so a file of
/// another tool's shape (`{"file", "line", "severity"}`) is an error, not a finding without a
/// location.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodexFinding {
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    confidence_score: Option<f64>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    code_location: Option<CodeLocation>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    start_line: Option<i64>,
    #[serde(default)]
    end_line: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeLocation {
    absolute_file_path: String,
    #[serde(default)]
    line_range: Option<LineRange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineRange {
    start: i64,
    end: i64,
}

/// The top-level keys of Codex's review output object.
const CODEX_KEYS: [&str; 4] = [
    "findings",
    "overall_correctness",
    "overall_explanation",
    "overall_confidence_score",
];

/// Parses findings JSON. `workdir` is the repository's work tree, used to make paths relative.
pub fn parse(text: &str, workdir: Option<&Path>) -> Result<Parsed, Error> {
    let value: Value = serde_json::from_str(text)?;
    let mut parsed = Parsed::default();
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut obj) => {
            if let Some(key) = obj.keys().find(|k| !CODEX_KEYS.contains(&k.as_str())) {
                return Err(Error::UnknownKey(key.chars().take(40).collect()));
            }
            parsed.verdict = match obj.get("overall_correctness").and_then(Value::as_str) {
                Some("patch is correct") => Some(Verdict::Approve),
                Some("patch is incorrect") => Some(Verdict::RequestChanges),
                _ => None,
            };
            parsed.explanation = obj
                .get("overall_explanation")
                .and_then(Value::as_str)
                .map(str::to_owned);
            match obj.remove("findings") {
                Some(Value::Array(items)) => items,
                _ => return Err(Error::Shape),
            }
        }
        _ => return Err(Error::Shape),
    };
    for (i, item) in items.into_iter().enumerate() {
        let index = i + 1;
        let invalid = |problem: String| Error::Invalid { index, problem };
        let raw: CodexFinding = serde_json::from_value(item).map_err(|e| invalid(e.to_string()))?;
        if raw.title.trim().is_empty() {
            return Err(invalid("the title is empty".into()));
        }
        let priority = match raw.priority {
            None => None,
            Some(p @ 0..=3) => u8::try_from(p).ok(),
            Some(p) => return Err(invalid(format!("priority {p} is outside 0-3"))),
        };
        let confidence = raw.confidence_score.or(raw.confidence);
        if let Some(c) = confidence
            && !(0.0..=1.0).contains(&c)
        {
            return Err(invalid(format!("confidence {c} is outside 0-1")));
        }
        let (path, start, end) = match raw.code_location {
            Some(loc) => (
                Some(loc.absolute_file_path),
                loc.line_range.as_ref().map(|r| r.start),
                loc.line_range.as_ref().map(|r| r.end),
            ),
            None => (raw.path, raw.start_line, raw.end_line.or(raw.start_line)),
        };
        let line = |n: Option<i64>| -> Result<Option<u32>, Error> {
            n.map(|n| u32::try_from(n).ok().filter(|n| *n >= 1))
                .map(|n| n.ok_or_else(|| invalid("line numbers start at 1".into())))
                .transpose()
        };
        let (start_line, end_line) = (line(start)?, line(end)?);
        if let (Some(s), Some(e)) = (start_line, end_line)
            && e < s
        {
            return Err(invalid(format!("end_line {e} is before start_line {s}")));
        }
        let path = match path {
            Some(p) => {
                let (rel, ok) = relative_path(&p, workdir);
                if !ok {
                    parsed.warnings.push(format!(
                        "finding {index}: '{p}' is not inside this repository; kept as given"
                    ));
                }
                Some(rel)
            }
            None => None,
        };
        parsed.findings.push(Finding {
            title: raw.title.trim().to_owned(),
            body: raw.body,
            priority,
            confidence,
            path,
            start_line,
            end_line,
        });
    }
    Ok(parsed)
}

/// Makes a path relative to the work tree. An absolute path from another checkout of the same
/// repository (CI workspace, another clone) is matched by its longest suffix that exists here.
/// Returns the path and whether it was recognised.
fn relative_path(path: &str, workdir: Option<&Path>) -> (String, bool) {
    let p = Path::new(path);
    if p.is_relative() {
        // A relative path that climbs out of the repository (`../../etc/passwd`) is treated
        // like an absolute one from elsewhere: matched by suffix, or kept with a warning.
        let mut depth = 0usize;
        let mut escapes = false;
        for c in p.components() {
            match c {
                std::path::Component::ParentDir if depth == 0 => escapes = true,
                std::path::Component::ParentDir => depth -= 1,
                std::path::Component::Normal(_) => depth += 1,
                _ => {}
            }
        }
        if !escapes {
            return (path.trim_start_matches("./").to_owned(), true);
        }
        let Some(workdir) = workdir else {
            return (path.to_owned(), false);
        };
        let parts: Vec<_> = p
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect();
        for start in 0..parts.len() {
            let suffix: std::path::PathBuf = parts[start..].iter().collect();
            if workdir.join(&suffix).is_file() {
                return (suffix.to_string_lossy().into_owned(), true);
            }
        }
        return (path.to_owned(), false);
    }
    let Some(workdir) = workdir else {
        return (path.to_owned(), false);
    };
    let canonical = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    for root in [workdir, canonical.as_path()] {
        if let Ok(rel) = p.strip_prefix(root) {
            return (rel.to_string_lossy().into_owned(), true);
        }
    }
    let parts: Vec<_> = p.components().skip(1).collect();
    for start in 1..parts.len() {
        let suffix: std::path::PathBuf = parts[start..].iter().collect();
        if workdir.join(&suffix).exists() {
            return (suffix.to_string_lossy().into_owned(), true);
        }
    }
    (path.to_owned(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_review_output_maps_one_to_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/rate.ts"), "x").unwrap();
        let json = serde_json::json!({
            "findings": [{
                "title": "[P1] Key by user id",
                "body": "NAT",
                "confidence_score": 0.7,
                "priority": 1,
                "code_location": {
                    "absolute_file_path": dir.path().join("src/rate.ts"),
                    "line_range": {"start": 3, "end": 5}
                }
            }, {
                "title": "Other checkout",
                "code_location": {"absolute_file_path": "/ci/work/repo/src/rate.ts", "line_range": {"start": 1, "end": 1}}
            }],
            "overall_correctness": "patch is incorrect",
            "overall_explanation": "Needs a hybrid key."
        });
        let parsed = parse(&json.to_string(), Some(dir.path())).unwrap();
        assert_eq!(parsed.verdict, Some(Verdict::RequestChanges));
        assert_eq!(parsed.explanation.as_deref(), Some("Needs a hybrid key."));
        let f = &parsed.findings[0];
        assert_eq!(f.path.as_deref(), Some("src/rate.ts"));
        assert_eq!(
            (f.start_line, f.end_line, f.priority),
            (Some(3), Some(5), Some(1))
        );
        assert_eq!(f.confidence, Some(0.7));
        assert_eq!(parsed.findings[1].path.as_deref(), Some("src/rate.ts"));
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn our_array_form_and_its_errors() {
        let ok = r#"[{"title":"t","body":"b","priority":0,"path":"./a.rs","start_line":2,"end_line":4}]"#;
        let parsed = parse(ok, None).unwrap();
        assert_eq!(parsed.findings[0].path.as_deref(), Some("a.rs"));
        let outside = parse(r#"[{"title":"t","path":"../../etc/passwd"}]"#, None).unwrap();
        assert_eq!(outside.warnings.len(), 1, "{:?}", outside.warnings);
        for (bad, needle) in [
            (r#"[{"title":"t","priority":7}]"#, "priority 7"),
            (r#"[{"title":"t","confidence":1.5}]"#, "confidence"),
            (r#"[{"title":"t","start_line":5,"end_line":2}]"#, "before"),
            (r#"[{"title":"  "}]"#, "empty"),
            (r#"[{"body":"no title"}]"#, "title"),
            (r#""text""#, "expected a JSON array"),
            (r#"{"not":"findings"}"#, "unknown key 'not'"),
            (
                r#"{"overall_correctness":"patch is correct"}"#,
                "'findings' array",
            ),
            (
                r#"[{"file":"a.rs","line":3,"severity":"high"}]"#,
                "unknown field `file`",
            ),
            (
                r#"[{"title":"t","code_location":{"path":"a"}}]"#,
                "unknown field `path`",
            ),
            ("{oops", "not valid JSON"),
        ] {
            let err = parse(bad, None).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }
}
