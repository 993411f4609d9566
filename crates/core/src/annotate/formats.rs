//! The annotation formats (docs/annotations.md), each escaping for itself: GitHub workflow
//! commands, SARIF 2.1.0, reviewdog's rdjsonl, GitLab Code Quality, Checks API output batches
//! and a markdown block for a pull request description.

use serde_json::{Value, json};

use super::{Annotation, Selection, Severity, digest};

/// GitHub keeps at most this many annotations of one severity per step.
pub const GITHUB_PER_SEVERITY: usize = 10;
/// The Checks API takes at most this many annotations per request.
pub const CHECKS_BATCH: usize = 50;

/// A format's output: the text for stdout, and for `github` the job summary.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// What goes to standard output.
    pub text: String,
    /// Markdown for `$GITHUB_STEP_SUMMARY` (the full list when some were left out).
    pub summary: Option<String>,
    /// Annotations left out of `text` by the format's limits.
    pub left_out: usize,
}

fn title_line(a: &Annotation) -> String {
    format!(
        "[{}] {}",
        a.priority_label(),
        one_line(a.finding.untagged_title())
    )
}

fn origin(a: &Annotation) -> String {
    format!(
        "{} of {} by {} (artifact {})",
        a.kind.as_str(),
        a.session,
        one_line(&a.agent),
        a.artifact
    )
}

/// The annotations that name a file, each with it, and how many do not: the formats that place
/// every finding in a file leave those out, and say how many.
fn located(selection: &Selection) -> (Vec<(&Annotation, &str)>, usize) {
    let located: Vec<(&Annotation, &str)> = selection
        .annotations
        .iter()
        .filter_map(|a| a.finding.path.as_deref().map(|path| (a, path)))
        .collect();
    let left_out = selection.annotations.len() - located.len();
    (located, left_out)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `::error|warning|notice file=,line=,endLine=,title=::message`, most severe first, at most
/// [`GITHUB_PER_SEVERITY`] of each severity (GitHub drops the rest silently); the full list
/// goes to the summary.
pub fn github(selection: &Selection) -> Output {
    let mut out = Output::default();
    let mut counts = [0_usize; 3];
    for a in &selection.annotations {
        let severity = a.severity();
        let slot = &mut counts[severity as usize];
        if *slot >= GITHUB_PER_SEVERITY {
            out.left_out += 1;
            continue;
        }
        *slot += 1;
        let command = match severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        };
        let mut props = Vec::new();
        if let Some(path) = &a.finding.path {
            props.push(format!("file={}", escape_property(path)));
            if let Some((start, end)) = a.lines() {
                props.push(format!("line={start}"));
                props.push(format!("endLine={end}"));
            }
        }
        props.push(format!("title={}", escape_property(&title_line(a))));
        let message = format!("{}\n\n{}", a.finding.body.trim_end(), origin(a));
        out.text.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            escape_data(message.trim_start())
        ));
    }
    if !selection.annotations.is_empty() {
        out.summary = Some(markdown(selection));
    }
    out
}

/// Workflow command data: `%`, CR and LF escaped (actions/toolkit `escapeData`); other
/// control characters (terminal escapes from a hostile remote) are dropped.
pub fn escape_data(text: &str) -> String {
    without_controls(text)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `text` without control characters other than tab, CR and LF.
fn without_controls(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
        .collect()
}

/// Workflow command property values: also `:` and `,` (actions/toolkit `escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// SARIF 2.1.0 as GitHub code scanning ingests it: one rule per priority, repository-relative
/// URIs, `partialFingerprints` that do not move with line numbers. Findings without a path
/// are left out (a SARIF result needs a location).
pub fn sarif(selection: &Selection) -> Output {
    let rules: Vec<Value> = (0..=3)
        .map(|p| {
            let level = sarif_level(Severity::of(Some(p)));
            json!({
                "id": format!("handoff/P{p}"),
                "name": format!("HandoffFindingP{p}"),
                "shortDescription": {"text": format!("P{p} finding of an agent review or validation")},
                "fullDescription": {"text": format!("A priority {p} finding recorded by a coding agent's review or validation of this change (git handoff).")},
                "defaultConfiguration": {"level": level},
                "properties": {"tags": ["git-handoff", "review"]},
            })
        })
        .collect();
    let (located, left_out) = located(selection);
    let results: Vec<Value> = located
        .into_iter()
        .map(|(a, path)| {
            let priority = a.finding.priority.unwrap_or(3).min(3);
            let (start, end) = a.lines().unwrap_or((1, 1));
            let text = format!(
                "{}\n\n{}\n\n{}",
                title_line(a),
                a.finding.body.trim_end(),
                origin(a)
            );
            json!({
                "ruleId": format!("handoff/P{priority}"),
                "ruleIndex": priority,
                "level": sarif_level(a.severity()),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri_path(path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": start, "endLine": end},
                    }
                }],
                "partialFingerprints": {
                    "primaryLocationLineHash": format!("{}:1", &digest(&[&a.session, path, &a.finding.title])[..16]),
                },
                "properties": {
                    "session": a.session,
                    "artifact": a.artifact,
                    "agent": a.agent,
                    "kind": a.kind.as_str(),
                },
            })
        })
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "git-handoff",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "automationDetails": {"id": "git-handoff/"},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
            "results": results,
        }],
    });
    Output {
        text: format!(
            "{}\n",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        ),
        summary: None,
        left_out,
    }
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "note",
    }
}

/// A repository-relative path as a URI reference: every byte outside RFC 3986's unreserved
/// set and `/` percent-encoded.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches("./").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// reviewdog's rdjsonl: one diagnostic per line; without columns a range covers whole lines,
/// end line included.
pub fn rdjsonl(selection: &Selection) -> Output {
    let (located, left_out) = located(selection);
    let mut out = Output {
        left_out,
        ..Output::default()
    };
    for (a, path) in located {
        let mut location = json!({"path": path});
        if let Some((start, end)) = a.lines() {
            location["range"] = json!({"start": {"line": start}, "end": {"line": end}});
        }
        let diagnostic = json!({
            "message": format!("{}\n{}\n{}", title_line(a), a.finding.body.trim_end(), origin(a)),
            "location": location,
            "severity": match a.severity() {
                Severity::Error => "ERROR",
                Severity::Warning => "WARNING",
                Severity::Notice => "INFO",
            },
            "source": {"name": "git-handoff"},
            "code": {"value": a.priority_label()},
        });
        out.text.push_str(&format!("{diagnostic}\n"));
    }
    out
}

/// GitLab Code Quality: an array of issues with fingerprints that do not change when lines
/// move (session, path and title; made unique when two findings share them).
pub fn gitlab(selection: &Selection) -> Output {
    let mut seen = std::collections::HashSet::new();
    let (located, left_out) = located(selection);
    let issues: Vec<Value> = located
        .into_iter()
        .map(|(a, path)| {
            let mut n = 0_u32;
            let fingerprint = loop {
                let candidate = digest(&[&a.session, path, &a.finding.title, &n.to_string()]);
                if seen.insert(candidate.clone()) {
                    break candidate[..32].to_owned();
                }
                n += 1;
            };
            let (start, end) = a.lines().unwrap_or((1, 1));
            json!({
                "description": format!("{}: {}", title_line(a), one_line(&a.finding.body)),
                "check_name": format!("git-handoff/{}", a.priority_label()),
                "fingerprint": fingerprint,
                "severity": match a.finding.priority {
                    Some(0) => "blocker",
                    Some(1) => "critical",
                    Some(2) => "major",
                    Some(_) => "minor",
                    None => "info",
                },
                "location": {"path": path, "lines": {"begin": start, "end": end}},
            })
        })
        .collect();
    Output {
        text: format!(
            "{}\n",
            serde_json::to_string_pretty(&issues).unwrap_or_default()
        ),
        summary: None,
        left_out,
    }
}

/// Checks API `output` objects of at most [`CHECKS_BATCH`] annotations each: the first for
/// `POST /check-runs`, the rest for `PATCH`es that append.
pub fn checks(selection: &Selection) -> Output {
    let mut left_out = 0;
    let annotations: Vec<Value> = selection
        .annotations
        .iter()
        .filter_map(|a| {
            let (Some(path), Some((start, end))) = (&a.finding.path, a.lines()) else {
                left_out += 1;
                return None;
            };
            Some(json!({
                "path": path,
                "start_line": start,
                "end_line": end,
                "annotation_level": match a.severity() {
                    Severity::Error => "failure",
                    Severity::Warning => "warning",
                    Severity::Notice => "notice",
                },
                "title": truncate(&title_line(a), 255),
                "message": truncate(&format!("{}\n\n{}", a.finding.body.trim_end(), origin(a)), 64 * 1024),
            }))
        })
        .collect();
    let summary = format!(
        "{} open finding(s) in {} session(s)",
        selection.annotations.len(),
        selection.sessions.len()
    );
    let mut batches: Vec<Value> = annotations
        .chunks(CHECKS_BATCH)
        .map(|chunk| json!({"title": "git-handoff findings", "summary": summary, "annotations": chunk}))
        .collect();
    if batches.is_empty() {
        batches
            .push(json!({"title": "git-handoff findings", "summary": summary, "annotations": []}));
    }
    Output {
        text: format!(
            "{}\n",
            serde_json::to_string_pretty(&batches).unwrap_or_default()
        ),
        summary: None,
        left_out,
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// A pull request description block: sessions, plan titles, verdicts, status, open findings.
/// Everything stored is neutralised: HTML cannot render and `@mentions` cannot ping anyone.
pub fn markdown(selection: &Selection) -> String {
    let mut out = String::from("<!-- git-handoff -->\n### Agent handoff\n\n");
    if selection.sessions.is_empty() {
        out.push_str("No handoff session is linked to these commits.\n");
        return out;
    }
    out.push_str("| session | plan | verdicts | status | open findings |\n|---|---|---|---|---|\n");
    for s in &selection.sessions {
        let verdicts: Vec<String> = s
            .verdicts
            .iter()
            .map(|(kind, verdict, agent)| {
                format!(
                    "{} {}: {}",
                    safe(agent),
                    kind.as_str(),
                    verdict.map_or("-", |v| v.as_str())
                )
            })
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            s.id,
            safe(&s.title).replace('|', "\\|"),
            if verdicts.is_empty() {
                "-".to_owned()
            } else {
                verdicts.join("; ").replace('|', "\\|")
            },
            s.status.as_deref().unwrap_or("-"),
            s.open
        ));
    }
    if !selection.annotations.is_empty() {
        out.push_str("\n#### Open findings\n\n");
        for a in &selection.annotations {
            let place = match (&a.finding.path, a.lines()) {
                (Some(path), Some((start, end))) if end > start => {
                    format!(" `{}:{start}-{end}`", safe(path).replace('`', "'"))
                }
                (Some(path), Some((start, _))) => {
                    format!(" `{}:{start}`", safe(path).replace('`', "'"))
                }
                (Some(path), None) => format!(" `{}`", safe(path).replace('`', "'")),
                _ => String::new(),
            };
            out.push_str(&format!(
                "- **{}** {}{place} ({} `{}`)\n",
                a.priority_label(),
                safe(&one_line(a.finding.untagged_title())),
                a.kind.as_str(),
                a.session
            ));
        }
    }
    out
}

/// Stored text made inert in markdown: HTML escaped, `@` followed by a zero-width joiner so no
/// mention pings anyone.
pub fn safe(text: &str) -> String {
    without_controls(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('@', "@\u{2060}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping_follows_the_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_data("a\u{1b}[31mred"), "a[31mred");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn uris_are_percent_encoded_but_keep_slashes() {
        assert_eq!(uri_path("./src/a b/ü.rs"), "src/a%20b/%C3%BC.rs");
    }

    #[test]
    fn markdown_neutralises_html_and_mentions() {
        let text = safe("<img src=x onerror=alert(1)> cc @octocat & co");
        assert!(!text.contains('<') && !text.contains("@octocat"), "{text}");
        assert!(text.contains("&lt;img"));
    }
}
