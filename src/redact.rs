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
        kind: "slack-webhook",
        pattern: r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}",
        value: None,
        matches: &[
            "SLACK=https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijABCDEFGHIJ1234",
        ],
        ignores: &["Post to https://hooks.slack.com/services/ with the webhook of your workspace."],
    },
    Rule {
        kind: "discord-webhook",
        pattern: r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
        value: None,
        matches: &[
            "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
        ],
        ignores: &["https://discord.com/api/webhooks/ID/TOKEN is the form."],
    },
    Rule {
        kind: "sendgrid-key",
        pattern: r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",
        value: None,
        matches: &[
            "SENDGRID=SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        ],
        ignores: &["SG.short.key"],
    },
    Rule {
        kind: "twilio-key",
        // API key SIDs (SK) and account SIDs (AC) are 32 hex digits after the prefix.
        pattern: r"\b(?:SK|AC)[0-9a-f]{32}\b",
        value: None,
        matches: &["TWILIO_API_KEY=SK0123456789abcdef0123456789abcdef"],
        ignores: &["SKU 0123456789abcdef"],
    },
    Rule {
        kind: "twilio-auth-token",
        pattern: r"(?i)twilio[A-Za-z0-9_.-]*(?:auth|token|secret)[A-Za-z0-9_.-]*[\x22']?\s*(?::|=|:=)\s*[\x22']?([0-9a-f]{32})\b",
        value: Some((1, ValueCheck::Literal)),
        matches: &["TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef"],
        ignores: &["TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN}"],
    },
    Rule {
        kind: "digitalocean-token",
        pattern: r"\bdo[opr]_v1_[a-f0-9]{64}\b",
        value: None,
        matches: &["dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
        ignores: &["dop_v1_ is the prefix"],
    },
    Rule {
        kind: "shopify-token",
        pattern: r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        value: None,
        matches: &["shpat_0123456789abcdef0123456789abcdef"],
        ignores: &["shpat_ tokens are Shopify's"],
    },
    Rule {
        kind: "mailgun-key",
        pattern: r"\bkey-[0-9a-zA-Z]{32}\b",
        value: None,
        matches: &["MAILGUN_API_KEY=key-0123456789abcdefABCDEF0123456789"],
        ignores: &["a key-value store"],
    },
    Rule {
        kind: "square-token",
        pattern: r"\b(?:EAAA[A-Za-z0-9_-]{60}|sq0atp-[0-9A-Za-z_-]{22}|sq0csp-[0-9A-Za-z_-]{43})\b",
        value: None,
        matches: &[
            "sq0atp-0123456789abcdefABCDEF",
            "EAAAl0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW",
        ],
        ignores: &["sq0atp- is Square's prefix"],
    },
    Rule {
        kind: "telegram-bot-token",
        // Also inside an API URL (`/bot<token>/`), where a word character comes before it.
        pattern: r"(?:^|[^0-9])([0-9]{8,10}:AA[0-9A-Za-z_-]{33})\b",
        value: Some((1, ValueCheck::Literal)),
        matches: &["bot123456789:AAEhBP0av28Ej5gF0123456789abcdefghi/sendMessage"],
        ignores: &["at 12345678:AA the meeting"],
    },
    Rule {
        kind: "age-secret-key",
        pattern: r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
        value: None,
        matches: &["AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"],
        ignores: &["AGE-SECRET-KEY-1 starts an age identity"],
    },
    Rule {
        kind: "azure-account-key",
        pattern: r"(?i)\bAccountKey=([A-Za-z0-9+/]{40,}={0,2})",
        value: Some((1, ValueCheck::Literal)),
        matches: &[
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abcdefghijABCDEFGHIJ0123456789abcdefghijABCDEFGHIJ0123456789abcdefghijABCDEFGHIJ0123==;EndpointSuffix=core.windows.net",
        ],
        ignores: &["AccountKey=<your key>"],
    },
    Rule {
        kind: "azure-sas-signature",
        pattern: r"[?&]sig=([A-Za-z0-9%+/=]{20,})",
        value: Some((1, ValueCheck::Literal)),
        matches: &[
            "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2026-01-01&sp=r&sig=AbCdEf0123456789%2BghIjKlMn%3D",
        ],
        ignores: &["?sig=short"],
    },
    Rule {
        kind: "kubernetes-client-key",
        pattern: r"\bclient-key-data:\s*([A-Za-z0-9+/]{20,}={0,2})",
        value: Some((1, ValueCheck::Literal)),
        matches: &["    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo="],
        ignores: &["client-key-data: (base64 of the key)"],
    },
    Rule {
        kind: "netrc-password",
        pattern: r"(?im)(?:^|\blogin\s+\S+\s+)password\s+([^\s]{6,})",
        value: Some((1, ValueCheck::NotAWord)),
        matches: &[
            "machine api.example.com login deploy password Hx7!kq29Lm",
            "password 3xtra$ecret",
        ],
        ignores: &["password protection is on", "the password is hashed"],
    },
    Rule {
        kind: "basic-auth",
        pattern: r"(?i)\bauthorization:\s*basic\s+([A-Za-z0-9+/]{8,}={0,2})",
        value: Some((1, ValueCheck::Literal)),
        matches: &["curl -H 'Authorization: Basic dXNlcjpzM2NyZXQ='"],
        ignores: &["Use Authorization: Basic with a base64 user:password."],
    },
    Rule {
        kind: "curl-user",
        pattern: r#"\bcurl\b[^\n]*?\s(?:-u|--user)\s*['"]?[^\s:'"]+:([^\s'"]+)"#,
        value: Some((1, ValueCheck::Literal)),
        matches: &["curl -u admin:Pa55w0rd https://api.example.com"],
        ignores: &["curl -u admin https://api.example.com (asks for the password)"],
    },
    Rule {
        kind: "mysql-password",
        pattern: r"\bmysql(?:dump|admin)?\b[^\n]*?\s-p([^\s'\x22-][^\s'\x22]*)",
        value: Some((1, ValueCheck::Literal)),
        matches: &["mysql -u root -pS3cretRoot app < dump.sql"],
        ignores: &["mysql -u root -p app (asks for the password)"],
    },
    Rule {
        kind: "pgpass",
        // host:port:database:user:password, one per line, as in ~/.pgpass.
        pattern: r"(?m)^[A-Za-z0-9_.*-]+:(?:[0-9]+|\*):[A-Za-z0-9_.*-]+:[A-Za-z0-9_.*-]+:(\S{6,})$",
        value: Some((1, ValueCheck::NotAWord)),
        matches: &["db.internal:5432:app:admin:Pg#Secr3t"],
        ignores: &["10:30:00:meeting:tomorrow"],
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

/// Replaces every secret in `text` with `[REDACTED:<kind>]`, returning what was found: each
/// rule's matches, then tokens split across a line break, then tokens wrapped in base64.
pub fn redact(text: &str) -> (String, Vec<Finding>) {
    let (out, mut found) = redact_rules(text);
    let (out, split) = redact_split_tokens(&out);
    found.extend(split);
    let (out, wrapped) = redact_base64(&out);
    found.extend(wrapped);
    (out, found)
}

/// The rules' pass of [`redact`].
fn redact_rules(text: &str) -> (String, Vec<Finding>) {
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

/// The rules a token is recognised by on its own, without an assignment around it (a prefix
/// and a length): the ones that can find a token split across lines or wrapped in base64.
fn token_rules() -> impl Iterator<Item = &'static (Regex, &'static Rule)> {
    compiled().iter().filter(|(_, rule)| rule.value.is_none())
}

/// Tokens whose two halves sit on two lines (a wrapped paste, a split shell string): each
/// line break between two runs of token characters is tried joined, and when a token rule
/// matches across it, both halves are redacted.
fn redact_split_tokens(text: &str) -> (String, Vec<Finding>) {
    static SPLIT: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(split) = SPLIT
        .get_or_init(|| {
            Regex::new(r#"([A-Za-z0-9_.-]{6,})["'\\]?\r?\n[ \t>#*/"'-]*([A-Za-z0-9_-]{4,})"#).ok()
        })
        .as_ref()
    else {
        return (text.to_owned(), Vec::new());
    };
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut last = 0;
    for caps in split.captures_iter(text) {
        let (Some(head), Some(tail)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let joined = format!("{}{}", head.as_str(), tail.as_str());
        let junction = head.as_str().len();
        let kind = token_rules().find_map(|(re, rule)| {
            re.find_iter(&joined)
                .any(|m| m.start() < junction && m.end() > junction)
                .then_some(rule.kind)
        });
        let Some(kind) = kind else { continue };
        if head.start() < last {
            continue;
        }
        out.push_str(&text[last..head.start()]);
        out.push_str(&format!("[REDACTED:{kind}]"));
        out.push_str(&text[head.end()..tail.start()]);
        out.push_str(&format!("[REDACTED:{kind}]"));
        last = tail.end();
        found.push(Finding { kind });
    }
    out.push_str(&text[last..]);
    (out, found)
}

/// Tokens wrapped in base64 (`echo Z2hwXz... | base64 -d`, a Kubernetes secret's data): each
/// base64 run is decoded and, when a token rule finds a token in it, redacted whole.
fn redact_base64(text: &str) -> (String, Vec<Finding>) {
    use base64::Engine as _;
    static RUN: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(run) = RUN
        .get_or_init(|| Regex::new(r"[A-Za-z0-9+/]{24,4096}={0,2}").ok())
        .as_ref()
    else {
        return (text.to_owned(), Vec::new());
    };
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut last = 0;
    for m in run.find_iter(text) {
        let encoded = m.as_str().trim_end_matches('=');
        let Ok(decoded) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded) else {
            continue;
        };
        let Ok(decoded) = std::str::from_utf8(&decoded) else {
            continue;
        };
        let Some(kind) =
            token_rules().find_map(|(re, rule)| re.is_match(decoded).then_some(rule.kind))
        else {
            continue;
        };
        out.push_str(&text[last..m.start()]);
        out.push_str(&format!("[REDACTED:{kind}-base64]"));
        last = m.end();
        found.push(Finding { kind });
    }
    out.push_str(&text[last..]);
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
    fn a_token_split_across_lines_is_redacted_whole() {
        let text = "export GH=ghp_0123456789abcdefghij\\\n  ABCDEFGHIJ012345 && run";
        let (out, found) = redact(text);
        assert!(found.iter().any(|f| f.kind == "github-token"), "{out}");
        assert!(
            !out.contains("0123456789abcdefghij") && !out.contains("ABCDEFGHIJ012345"),
            "{out}"
        );
        // Two ordinary lines are left alone.
        let prose = "the implementation\nfollows the plan";
        assert_eq!(redact(prose).0, prose);
    }

    #[test]
    fn a_token_wrapped_in_base64_is_redacted() {
        use base64::Engine as _;
        let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let wrapped = base64::engine::general_purpose::STANDARD.encode(token);
        let (out, found) = redact(&format!("echo {wrapped} | base64 -d"));
        assert!(found.iter().any(|f| f.kind == "github-token"), "{out}");
        assert!(!out.contains(&wrapped), "{out}");
        assert!(out.contains("[REDACTED:github-token-base64]"), "{out}");
        // Base64 of ordinary text stays.
        let plain =
            base64::engine::general_purpose::STANDARD.encode("just some ordinary words here");
        assert!(redact(&plain).1.is_empty());
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
