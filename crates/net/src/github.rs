//! `annotate --post github --pr N`: one pull request review through GitHub's REST API
//! (docs/annotations.md). This module speaks HTTP only; it never touches git.
//!
//! Findings on lines of the pull request's diff become inline comments (`line` = end,
//! `start_line` = start, side RIGHT); the others go into the review body. The event is
//! REQUEST_CHANGES when a P0 or P1 finding is open, else COMMENT. GitHub refuses a whole review
//! with 422 when one comment's line is not in the diff, without saying which: the review is
//! then posted again with every comment in the body, so nothing is lost. Rate limits (403 or 429
//! with `Retry-After` or `X-RateLimit-Reset`) are waited out up to a minute, otherwise reported.
//! A marker in the body makes a re-run on the same pull request post nothing new.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{Value, json};

use git_handoff::annotate::formats::safe;
use git_handoff::annotate::github::{Error, Posted, Settings};
use git_handoff::annotate::{Annotation, Selection, Severity, digest};

struct Client {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    settings: Settings,
}

struct Answer {
    status: u16,
    body: Value,
}

impl Client {
    fn new(settings: Settings) -> Result<Self, Error> {
        let network = |reason: String| Error::Network {
            url: settings.api_url.clone(),
            reason,
        };
        crate::byterover::ensure_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("git-handoff/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| network(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| network(e.to_string()))?;
        Ok(Self {
            http,
            runtime,
            settings,
        })
    }

    /// Sends a request, waiting out rate limits (at most three times).
    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Error> {
        let url = format!("{}{path}", self.settings.api_url.trim_end_matches('/'));
        for _ in 0..3 {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .bearer_auth(&self.settings.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let (status, headers, text) = self
                .runtime
                .block_on(async {
                    let response = request.send().await?;
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let text = response.text().await?;
                    Ok::<_, reqwest::Error>((status, headers, text))
                })
                .map_err(|e| Error::Network {
                    url: self.settings.api_url.clone(),
                    reason: e.to_string(),
                })?;
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if let Some(wait) = rate_limit_wait(status, &headers, &body) {
                if wait > self.settings.max_wait {
                    return Err(Error::RateLimited(wait.as_secs()));
                }
                std::thread::sleep(wait);
                continue;
            }
            if status == 401 {
                return Err(Error::Unauthorized);
            }
            return Ok(Answer { status, body });
        }
        Err(Error::RateLimited(self.settings.max_wait.as_secs()))
    }
}

/// How long a rate-limit answer asks to wait, if it is one.
fn rate_limit_wait(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) -> Option<Duration> {
    if status != 429 && status != 403 {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(seconds) = header("retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    let message = body["message"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if header("x-ratelimit-remaining") == Some(0) || message.contains("rate limit") || status == 429
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let reset = header("x-ratelimit-reset").unwrap_or(now + 60);
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
    }
    None
}

fn refused(answer: &Answer, what: &str) -> Error {
    let mut message = answer.body["message"]
        .as_str()
        .unwrap_or("no message")
        .to_owned();
    if let Some(errors) = answer.body["errors"].as_array() {
        let details: Vec<String> = errors
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect();
        if !details.is_empty() {
            message.push_str(&format!(" ({})", details.join("; ")));
        }
    }
    Error::Refused {
        status: answer.status,
        what: what.to_owned(),
        message: message.chars().take(500).collect(),
    }
}

/// Posts one review of `selection` on the pull request.
pub fn post(settings: Settings, selection: &Selection) -> Result<Posted, Error> {
    let client = Client::new(settings)?;
    let base = format!(
        "/repos/{}/pulls/{}",
        client.settings.repository, client.settings.pr
    );
    let marker = format!(
        "<!-- git-handoff review {} -->",
        &digest(&[&serde_json::to_string(&selection.annotations).unwrap_or_default()])[..16]
    );
    let event = if selection
        .annotations
        .iter()
        .any(|a| a.severity() == Severity::Error)
    {
        "REQUEST_CHANGES"
    } else {
        "COMMENT"
    };
    let mut posted = Posted {
        review: None,
        duplicate: false,
        event: event.to_owned(),
        inline: 0,
        in_body: 0,
        moved_after_422: false,
    };
    // Already posted: the same findings carry the same marker.
    let reviews = client.send(
        reqwest::Method::GET,
        &format!("{base}/reviews?per_page=100"),
        None,
    )?;
    if reviews.status != 200 {
        return Err(refused(&reviews, "listing the pull request's reviews"));
    }
    if reviews.body.as_array().is_some_and(|list| {
        list.iter()
            .any(|r| r["body"].as_str().is_some_and(|b| b.contains(&marker)))
    }) {
        posted.duplicate = true;
        return Ok(posted);
    }
    let lines = diff_lines(&client, &base)?;
    let (inline, rest): (Vec<&Annotation>, Vec<&Annotation>) = selection
        .annotations
        .iter()
        .partition(|a| anchorable(a, &lines));
    let mut attempt = (inline, rest);
    loop {
        let (inline, in_body) = &attempt;
        let review = json!({
            "event": event,
            "body": review_body(selection, in_body, &marker),
            "comments": inline.iter().map(|a| comment(a)).collect::<Vec<_>>(),
        });
        let answer = client.send(
            reqwest::Method::POST,
            &format!("{base}/reviews"),
            Some(&review),
        )?;
        match answer.status {
            200 | 201 => {
                posted.review = answer.body["id"].as_u64();
                posted.inline = inline.len();
                posted.in_body = in_body.len();
                return Ok(posted);
            }
            422 if !inline.is_empty() => {
                // One comment's line is not in the diff (it moved since we read it): GitHub
                // does not say which, so every finding goes into the body.
                posted.moved_after_422 = true;
                let mut all: Vec<&Annotation> = inline.clone();
                all.extend(in_body.iter().copied());
                attempt = (Vec::new(), all);
            }
            _ => return Err(refused(&answer, "creating the review")),
        }
    }
}

/// The lines each file of the pull request's diff has on its new side, as GitHub anchors
/// comments.
fn diff_lines(client: &Client, base: &str) -> Result<HashMap<String, BTreeSet<u32>>, Error> {
    let mut lines = HashMap::new();
    for page in 1..=30 {
        let answer = client.send(
            reqwest::Method::GET,
            &format!("{base}/files?per_page=100&page={page}"),
            None,
        )?;
        if answer.status != 200 {
            return Err(refused(&answer, "listing the pull request's files"));
        }
        let files = answer.body.as_array().cloned().unwrap_or_default();
        for file in &files {
            if let (Some(name), Some(patch)) = (file["filename"].as_str(), file["patch"].as_str()) {
                lines.insert(name.to_owned(), new_side_lines(patch));
            }
        }
        if files.len() < 100 {
            break;
        }
    }
    Ok(lines)
}

/// New-side line numbers of a unified diff's hunks (added and context lines).
pub fn new_side_lines(patch: &str) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    let mut next: Option<u32> = None;
    for line in patch.lines() {
        if let Some(header) = line.strip_prefix("@@ ") {
            next = header
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|range| range.split(',').next())
                .and_then(|start| start.parse().ok());
            continue;
        }
        let Some(n) = next else { continue };
        match line.as_bytes().first() {
            Some(b'+' | b' ') => {
                out.insert(n);
                next = n.checked_add(1);
            }
            Some(b'-' | b'\\') => {}
            _ => {
                out.insert(n);
                next = n.checked_add(1);
            }
        }
    }
    out
}

/// Whether every line of the finding is on the new side of one stretch of the diff.
fn anchorable(a: &Annotation, lines: &HashMap<String, BTreeSet<u32>>) -> bool {
    let (Some(path), Some((start, end))) = (&a.finding.path, a.lines()) else {
        return false;
    };
    lines
        .get(path)
        .is_some_and(|set| (start..=end).all(|n| set.contains(&n)))
}

fn comment(a: &Annotation) -> Value {
    let (start, end) = a.lines().unwrap_or((1, 1));
    let mut c = json!({
        "path": a.finding.path,
        "line": end,
        "side": "RIGHT",
        "body": finding_text(a),
    });
    if start < end {
        c["start_line"] = json!(start);
        c["start_side"] = json!("RIGHT");
    }
    c
}

fn finding_text(a: &Annotation) -> String {
    format!(
        "**[{}] {}**\n\n{}\n\n<sub>{} of `{}` by {}</sub>",
        a.priority_label(),
        safe(a.finding.untagged_title()),
        safe(a.finding.body.trim_end()),
        a.kind.as_str(),
        a.session,
        safe(&a.agent)
    )
}

fn review_body(selection: &Selection, in_body: &[&Annotation], marker: &str) -> String {
    let mut body = git_handoff::annotate::formats::markdown(selection);
    if !in_body.is_empty() {
        body.push_str("\n#### Not on lines of this diff\n\n");
        for a in in_body {
            let place = match (&a.finding.path, a.lines()) {
                (Some(path), Some((start, end))) => format!("`{}:{start}-{end}` ", safe(path)),
                (Some(path), None) => format!("`{}` ", safe(path)),
                _ => String::new(),
            };
            body.push_str(&format!(
                "- {place}{}\n",
                finding_text(a).replace('\n', " ")
            ));
        }
    }
    body.push_str(&format!("\n{marker}\n"));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_side_of_a_patch() {
        let patch = "@@ -1,3 +1,4 @@\n a\n-b\n+c\n+d\n e\n@@ -10,2 +20,2 @@\n x\n+y";
        let lines: Vec<u32> = new_side_lines(patch).into_iter().collect();
        assert_eq!(lines, [1, 2, 3, 4, 20, 21]);
        // A hostile patch cannot overflow the counter.
        let last = new_side_lines("@@ -1 +4294967295,2 @@\n+a\n+b\n+c");
        assert_eq!(last.into_iter().collect::<Vec<_>>(), [u32::MAX]);
    }
}
