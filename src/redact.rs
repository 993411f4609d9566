//! Secret scanning and redaction (README, "Secrets").
//!
//! Runs on every text before it becomes a git object: pushed data is permanent. Each match is
//! replaced by `[REDACTED:<kind>]`; callers report what was found.

use std::sync::OnceLock;

use regex::Regex;

/// One kind of secret, the pattern that finds it, and examples that hold it to its job.
struct Rule {
    kind: &'static str,
    pattern: &'static str,
    /// For assignment-style rules: the capture group holding the value, and the check it must
    /// pass to count as a literal secret.
    value: Option<(usize, ValueCheck)>,
    /// Texts the rule must redact (tested).
    #[cfg_attr(not(test), allow(dead_code))]
    matches: &'static [&'static str],
    /// Texts the rule must leave alone (tested).
    #[cfg_attr(not(test), allow(dead_code))]
    ignores: &'static [&'static str],
}

/// How an assigned value is told apart from code, prose and placeholders.
#[derive(Clone, Copy)]
enum ValueCheck {
    /// Letters and digits and high entropy (tokens, keys, secrets).
    Entropy,
    /// At least one character that is not a letter (passwords: `hunter2`, not `changeme`).
    NotAWord,
    /// Anything that is not an expression or a placeholder (credentials in URLs).
    Literal,
}

// The patterns follow gitleaks' rule set (https://github.com/gitleaks/gitleaks,
// config/gitleaks.toml, MIT licence): the same token prefixes and lengths, with the generic
// assignment rule split by the kind of name so that prose and code stay readable.
const RULES: &[Rule] = &[
    Rule {
        kind: "private-key",
        pattern: r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----",
        value: None,
        matches: &["-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"],
        ignores: &["-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"],
    },
    Rule {
        kind: "aws-access-key",
        pattern: r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        value: None,
        matches: &["AKIAIOSFODNN7EXAMPLE"],
        ignores: &["Rate limit AKIA keys per user."],
    },
    Rule {
        kind: "aws-secret-key",
        // A bare secret access key: 40 characters of base64 with upper and lower case and a
        // digit (a hex object name has no upper case), not part of a longer word.
        pattern: r"(?:^|[^A-Za-z0-9/+=])((?:[A-Za-z0-9/+]){40})(?:[^A-Za-z0-9/+=]|$)",
        value: Some((1, ValueCheck::Entropy)),
        matches: &[
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ],
        ignores: &[
            "commit 0123456789abcdef0123456789abcdef01234567",
            "AbcdefghijAbcdefghijAbcdefghijAbcdefghij",
        ],
    },
    Rule {
        kind: "github-token",
        pattern: r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        value: None,
        matches: &["key ghp_0123456789abcdefghijABCDEFGHIJ012345 here"],
        ignores: &["ghp_short"],
    },
    Rule {
        kind: "gitlab-token",
        pattern: r"\bgl(?:pat|dt|ptt|rt|cbt|oas)-[A-Za-z0-9_\-]{20,}\b",
        value: None,
        matches: &["glpat-abcdefghij0123456789"],
        ignores: &["glpat-short"],
    },
    Rule {
        kind: "slack-token",
        pattern: r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",
        value: None,
        matches: &["xoxb-123456789012-abcdefghij"],
        ignores: &["xoxb-1"],
    },
    Rule {
        kind: "anthropic-key",
        pattern: r"\bsk-ant-[A-Za-z0-9_\-]{20,}",
        value: None,
        matches: &["sk-ant-api03-abcdefghijklmnopqrstuvwxyz"],
        ignores: &["sk-ant-short"],
    },
    Rule {
        kind: "openai-key",
        pattern: r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        value: None,
        matches: &["sk-proj-abcdefghijklmnopqrstuvwxyz012345"],
        ignores: &["The task-specific plan for sk-learn is fine."],
    },
    Rule {
        kind: "google-api-key",
        pattern: r"\bAIza[0-9A-Za-z_\-]{35}\b",
        value: None,
        matches: &["AIzaSyA-0123456789abcdefghijklmnopqrstu"],
        ignores: &["AIza is the prefix of Google keys"],
    },
    Rule {
        kind: "stripe-key",
        pattern: r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}\b",
        value: None,
        matches: &["sk_live_51H8a7bCdEfGhIjKlMnOp"],
        ignores: &["sk_live_ is Stripe's prefix"],
    },
    Rule {
        kind: "npm-token",
        pattern: r"\bnpm_[A-Za-z0-9]{36}\b",
        value: None,
        matches: &["//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789"],
        ignores: &["npm_config_cache"],
    },
    Rule {
        kind: "pypi-token",
        pattern: r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9\-_]{50,}",
        value: None,
        matches: &["pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz"],
        ignores: &["pypi-AgEI"],
    },
    Rule {
        kind: "huggingface-token",
        pattern: r"\b(?:hf_|api_org_)[A-Za-z]{34}\b",
        value: None,
        matches: &["HF_TOKEN is hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"],
        ignores: &["hf_hub_download"],
    },
    Rule {
        kind: "jwt",
        pattern: r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        value: None,
        matches: &[
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ],
        ignores: &["eyJ is how base64 JSON starts"],
    },
    Rule {
        kind: "bearer-token",
        pattern: r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{20,})",
        value: Some((1, ValueCheck::Entropy)),
        matches: &["curl -H 'Authorization: Bearer 8f3Kd92LmQx7Zp0RtVb4Nc1W'"],
        ignores: &["Send a bearer token in the Authorization header."],
    },
    Rule {
        kind: "url-credentials",
        pattern: r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:([^\s:/@]+)@",
        value: Some((1, ValueCheck::Literal)),
        matches: &["DATABASE_URL=postgres://admin:pw@db.internal:5432/app"],
        ignores: &[
            "postgres://admin:${DB_PASSWORD}@db/app",
            "https://example.com/a:b",
        ],
    },
    Rule {
        kind: "password",
        // A name holding passw(or)d, passwd or pwd, with any prefix (DB_, MYSQL_ROOT_, PG,
        // export), then = or : (YAML) and a literal value.
        pattern: r#"(?i)[A-Za-z0-9_.-]*(?:passw(?:or)?d|pwd)[A-Za-z0-9_.-]*["']?\s*(?::|=|:=)\s*["']?([^\s"'`,;]{6,})"#,
        value: Some((1, ValueCheck::NotAWord)),
        matches: &[
            "DB_PASSWORD=hunter22",
            "MYSQL_ROOT_PASSWORD=S3cretRoot!",
            "export PGPASSWORD=pg_Pass1",
            "  db_password: Tr0ub4dor&3",
            "password=Xk9#mQ2$vL8pZr4!",
        ],
        ignores: &[
            "Use a password: string field and hash it.",
            "password = changeme",
            "password: process.env.DB_PASSWORD",
        ],
    },
    Rule {
        kind: "secret",
        // gitleaks' generic-api-key, for names holding secret, token, key, credential or auth.
        pattern: r#"(?i)[A-Za-z0-9_.-]*(?:secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)[A-Za-z0-9_.-]*["']?\s*(?::|=|:=|=>)\s*["']?([^\s"'`,;]{10,})"#,
        value: Some((1, ValueCheck::Entropy)),
        matches: &[
            "SECRET_KEY=8f14e45fceea167a5a36dedd4bea2543",
            "token=a8Fk29dLq0xZ7vB3nM1pQw",
            "api_key: zA81kd02Lq9XmW3t",
        ],
        ignores: &[
            "api_key = os.environ[\"API_KEY\"]",
            "secret = get_secret(\"db\")",
            "token=${GITHUB_TOKEN}",
            "max_tokens=4096",
            "the token: a_long_descriptive_name",
        ],
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
            let target = match rule.value {
                Some((g, check)) => match caps.get(g) {
                    Some(v) if is_literal_secret(v.as_str(), check) => v,
                    _ => continue,
                },
                None => whole,
            };
            if target.start() < last {
                continue;
            }
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

/// Whether an assigned value is a literal secret rather than code, prose or a placeholder:
/// never an expression (`os.environ["X"]`, `get(x)`, `${VAR}`, `process.env.X`), then the
/// rule's own check.
fn is_literal_secret(value: &str, check: ValueCheck) -> bool {
    let is_expression = value.contains(['(', '[', '{', '<'])
        || value.starts_with('$')
        || value.starts_with('%')
        || value.starts_with("process.env")
        || value.starts_with("REDACTED")
        || value.chars().all(|c| c == '*' || c == 'x' || c == 'X');
    if is_expression {
        return false;
    }
    match check {
        ValueCheck::Literal => true,
        ValueCheck::NotAWord => value.chars().any(|c| !c.is_alphabetic()),
        ValueCheck::Entropy => {
            value.chars().any(|c| c.is_ascii_digit())
                && value.chars().any(char::is_alphabetic)
                && (value.chars().any(|c| c.is_ascii_uppercase()) || value.len() < 40)
                && entropy(value) >= MIN_ENTROPY
        }
    }
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
    fn every_rule_compiles() {
        for rule in RULES {
            assert!(
                Regex::new(rule.pattern).is_ok(),
                "{} does not compile",
                rule.kind
            );
        }
        assert_eq!(compiled().len(), RULES.len());
    }

    #[test]
    fn every_rule_matches_its_examples_and_ignores_its_counter_examples() {
        for rule in RULES {
            assert!(
                !rule.matches.is_empty() && !rule.ignores.is_empty(),
                "{}",
                rule.kind
            );
            for text in rule.matches {
                let (out, found) = redact(text);
                assert!(
                    found.iter().any(|f| f.kind == rule.kind),
                    "{}: did not redact {text:?} -> {out}",
                    rule.kind
                );
            }
            for text in rule.ignores {
                let (out, found) = redact(text);
                assert!(
                    found.is_empty(),
                    "{}: redacted {text:?} -> {out}",
                    rule.kind
                );
            }
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
