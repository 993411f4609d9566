//! Secret scanning and redaction (SPEC §9).
//!
//! Runs on every text before it becomes a git object: pushed data is permanent. Each match is
//! replaced by `[REDACTED:<kind>]`; callers report what was found.

use std::sync::OnceLock;

use regex::Regex;

/// One kind of secret and the pattern that finds it.
struct Rule {
    kind: &'static str,
    pattern: &'static str,
    /// For assignment-style rules: the capture group holding the value to check for entropy.
    value_group: Option<usize>,
}

const RULES: &[Rule] = &[
    Rule {
        kind: "private-key",
        pattern: r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----",
        value_group: None,
    },
    Rule {
        kind: "aws-access-key",
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        value_group: None,
    },
    Rule {
        kind: "github-token",
        pattern: r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        value_group: None,
    },
    Rule {
        kind: "gitlab-token",
        pattern: r"\bgl(?:pat|dt|ptt|rt|cbt|oas)-[A-Za-z0-9_\-]{20,}\b",
        value_group: None,
    },
    Rule {
        kind: "slack-token",
        pattern: r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",
        value_group: None,
    },
    Rule {
        kind: "anthropic-key",
        pattern: r"\bsk-ant-[A-Za-z0-9_\-]{20,}",
        value_group: None,
    },
    Rule {
        kind: "openai-key",
        pattern: r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        value_group: None,
    },
    Rule {
        kind: "google-api-key",
        pattern: r"\bAIza[0-9A-Za-z_\-]{35}\b",
        value_group: None,
    },
    Rule {
        kind: "aws-secret-key",
        pattern: r#"(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})"#,
        value_group: Some(1),
    },
    Rule {
        kind: "password",
        pattern: r#"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)["']?\s*[:=]\s*["']?([^\s"'`,;]{8,})"#,
        value_group: Some(1),
    },
];

/// Minimum Shannon entropy (bits per character) for an assigned value to count as a secret,
/// so that `password = hunter2` in prose or `password: string` in code is left alone.
const MIN_ENTROPY: f64 = 3.0;

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The kind of secret (`github-token`, ...).
    pub kind: &'static str,
}

fn compiled() -> &'static [(Regex, &'static Rule)] {
    static CELL: OnceLock<Vec<(Regex, &'static Rule)>> = OnceLock::new();
    CELL.get_or_init(|| {
        RULES
            .iter()
            .filter_map(|r| Regex::new(r.pattern).ok().map(|re| (re, r)))
            .collect()
    })
}

/// Replaces every secret in `text` with `[REDACTED:<kind>]`, returning what was found.
pub fn redact(text: &str) -> (String, Vec<Finding>) {
    let mut out = text.to_owned();
    let mut found = Vec::new();
    for (re, rule) in compiled() {
        let mut replaced = String::with_capacity(out.len());
        let mut last = 0;
        for caps in re.captures_iter(&out) {
            let Some(whole) = caps.get(0) else { continue };
            let target = match rule.value_group {
                Some(g) => match caps.get(g) {
                    Some(v) if looks_like_a_secret(v.as_str()) => v,
                    _ => continue,
                },
                None => whole,
            };
            replaced.push_str(&out[last..target.start()]);
            replaced.push_str(&format!("[REDACTED:{}]", rule.kind));
            last = target.end();
            found.push(Finding { kind: rule.kind });
        }
        if last > 0 {
            replaced.push_str(&out[last..]);
            out = replaced;
        }
    }
    (out, found)
}

/// Whether an assigned value looks like a literal secret rather than code or prose: high
/// entropy, letters and digits, and not an expression (`os.environ["X"]`, `get(x)`, `${VAR}`).
fn looks_like_a_secret(value: &str) -> bool {
    let is_expression = value.contains(['(', '[', '{', '<'])
        || value.starts_with('$')
        || value.starts_with("[REDACTED");
    !is_expression
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(char::is_alphabetic)
        && entropy(value) >= MIN_ENTROPY
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_each_kind() {
        let cases = [
            (
                "key ghp_0123456789abcdefghijABCDEFGHIJ012345 here",
                "github-token",
            ),
            ("AKIAIOSFODNN7EXAMPLE", "aws-access-key"),
            ("glpat-abcdefghij0123456789", "gitlab-token"),
            ("xoxb-123456789012-abcdefghij", "slack-token"),
            ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "anthropic-key"),
            ("sk-proj-abcdefghijklmnopqrstuvwxyz012345", "openai-key"),
            ("AIzaSyA-0123456789abcdefghijklmnopqrstu", "google-api-key"),
            ("password=Xk9#mQ2$vL8pZr4!", "password"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
                "private-key",
            ),
        ];
        for (text, kind) in cases {
            let (out, found) = redact(text);
            assert_eq!(found.first().map(|f| f.kind), Some(kind), "{text} -> {out}");
            assert!(out.contains(&format!("[REDACTED:{kind}]")), "{out}");
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "Use a password: string field and hash it.",
            "password = changeme",
            "The task-specific plan for sk-learn is fine.",
            "Rate limit AKIA keys per user.",
            "api_key = os.environ[\"API_KEY\"]",
            "password: process.env.DB_PASSWORD",
            "secret = get_secret(\"db\")",
            "token=${GITHUB_TOKEN}",
        ] {
            let (out, found) = redact(text);
            assert!(found.is_empty(), "{text}: {found:?}");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn redacting_twice_finds_nothing_new() {
        let (once, found) = redact("token: ghp_0123456789abcdefghijABCDEFGHIJ012345");
        assert_eq!(found.len(), 1);
        let (twice, again) = redact(&once);
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(once, twice);
    }
}
