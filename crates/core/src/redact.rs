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
    /// Exactly 40 base64 characters without padding, passing [`ValueCheck::Entropy`] (an AWS
    /// secret access key).
    Key40,
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
        // A run of base64 characters is matched whole and checked in code (exactly 40, no
        // padding): a simple pattern the regex engine scans at memory speed.
        pattern: r"[A-Za-z0-9/+=]{40,}",
        value: Some((0, ValueCheck::Key40)),
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
        pattern: r"\bsig=([A-Za-z0-9%+/=]{20,})",
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
        // The name's prefix (DB_, MYSQL_ROOT_, PG) is not matched: the pattern starts at the
        // keyword, which the regex engine finds with its literal search.
        pattern: r#"(?i)(?:passw(?:or)?d|pwd)[A-Za-z0-9_.-]*["']?\s*(?::|=|:=)\s*["']?([^\s"'`,;]{6,})"#,
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
        pattern: r#"(?i)(?:secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)[A-Za-z0-9_.-]*["']?\s*(?::|=|:=|=>)\s*["']?([^\s"'`,;]{10,})"#,
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

/// The keywords (lower case) one of which a text must hold for a rule to be run on it, as
/// gitleaks pre-filters its rules: one search for all of them over the text instead of a scan
/// per rule. An empty list runs the rule on every text. A test holds each rule's examples to
/// its keywords.
fn keywords(kind: &str) -> &'static [&'static str] {
    match kind {
        "private-key" => &["private key"],
        "aws-access-key" => &["a3t", "akia", "asia", "abia", "acca"],
        "github-token" => &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        "gitlab-token" => &["glpat-", "gldt-", "glptt-", "glrt-", "glcbt-", "gloas-"],
        "slack-token" => &["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"],
        "anthropic-key" => &["sk-ant-"],
        "openai-key" => &["sk-"],
        "google-api-key" => &["aiza"],
        "stripe-key" => &["sk_", "rk_"],
        "npm-token" => &["npm_"],
        "pypi-token" => &["pypi-"],
        "huggingface-token" => &["hf_", "api_org_"],
        "jwt" => &["eyj"],
        "slack-webhook" => &["hooks.slack.com"],
        "discord-webhook" => &["/api/webhooks/"],
        "sendgrid-key" => &["sg."],
        // SK and AC are in too many words to filter on; the pattern's own literal search is
        // as fast.
        "twilio-key" => &[],
        "twilio-auth-token" => &["twilio"],
        "digitalocean-token" => &["_v1_"],
        "shopify-token" => &["shpat_", "shpca_", "shppa_", "shpss_"],
        "mailgun-key" => &["key-"],
        "square-token" => &["eaaa", "sq0atp-", "sq0csp-"],
        "telegram-bot-token" => &[":aa"],
        "age-secret-key" => &["age-secret-key-1"],
        "azure-account-key" => &["accountkey="],
        "azure-sas-signature" => &["sig="],
        "kubernetes-client-key" => &["client-key-data"],
        "netrc-password" => &["password"],
        "basic-auth" => &["basic"],
        "curl-user" => &["curl"],
        "mysql-password" => &["mysql"],
        "pgpass" => &[],
        "bearer-token" => &["bearer"],
        "url-credentials" => &["://"],
        "password" => &["passw", "pwd"],
        // Its names (key, token, auth) are in too much prose to filter on; the pattern starts
        // with them, so the regex engine's own literal search is as fast.
        "secret" => &[],
        _ => &[],
    }
}

/// Which rules' keywords `text` holds (index into [`compiled`]): one search of the text in
/// lower case for every keyword at once (an alternation of literals, which the regex engine
/// searches with its SIMD multi-literal search). A keyword found marks every rule with a keyword inside it
/// too (`sk-ant-` holds `sk-`), since the longest one wins the search.
fn rules_to_run(text: &str) -> Vec<bool> {
    type Search = (Regex, std::collections::HashMap<&'static str, Vec<usize>>);
    static SEARCH: OnceLock<Option<Search>> = OnceLock::new();
    let rules = compiled();
    let Some((search, owners)) = SEARCH
        .get_or_init(|| {
            let mut patterns: Vec<&'static str> = rules
                .iter()
                .flat_map(|(_, rule)| keywords(rule.kind).iter().copied())
                .collect();
            patterns.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            patterns.dedup();
            let owners = patterns
                .iter()
                .map(|found| {
                    let marked = rules
                        .iter()
                        .enumerate()
                        .filter(|(_, (_, rule))| {
                            keywords(rule.kind).iter().any(|k| found.contains(k))
                        })
                        .map(|(i, _)| i)
                        .collect();
                    (*found, marked)
                })
                .collect();
            let alternation: Vec<String> = patterns.iter().map(|p| regex::escape(p)).collect();
            Regex::new(&alternation.join("|"))
                .ok()
                .map(|re| (re, owners))
        })
        .as_ref()
    else {
        return vec![true; rules.len()];
    };
    let mut run: Vec<bool> = rules
        .iter()
        .map(|(_, rule)| keywords(rule.kind).is_empty())
        .collect();
    // Lower case once, then a case-sensitive search: the engine's multi-literal search only
    // takes literals as they are.
    let lower = text.to_ascii_lowercase();
    for m in search.find_iter(&lower) {
        if let Some(marked) = owners.get(m.as_str()) {
            for &i in marked {
                run[i] = true;
            }
        }
    }
    run
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
    let run = rules_to_run(text);
    for ((re, rule), run) in compiled().iter().zip(run) {
        if !run {
            continue;
        }
        if matches!(rule.value, Some((0, ValueCheck::Key40))) {
            // Runs of base64 characters, found by a byte scan: the pattern has no literal to
            // search for, and the regex engine would try it at every position.
            let (next, keys) = redact_runs(&out, 40, |run| {
                is_literal_secret(run, ValueCheck::Key40).then_some(rule.kind.to_owned())
            });
            out = next;
            found.extend(keys.into_iter().map(|_| Finding { kind: rule.kind }));
            continue;
        }
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
/// line break between two runs of token characters (the first at least 6 long, the second at
/// least 4, with letters and digits between them) is tried joined, and when a token rule
/// matches across it, both halves are redacted. Line breaks are found with a byte search, not
/// a pattern, so prose costs one pass.
fn redact_split_tokens(text: &str) -> (String, Vec<Finding>) {
    let token_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut last = 0;
    for (at, _) in text.match_indices('\n') {
        // The run before: an optional closing quote or backslash, then token characters.
        let mut end = at;
        if end > 0 && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        if end > 0 && matches!(bytes[end - 1], b'\\' | b'"' | b'\'') {
            end -= 1;
        }
        let mut start = end;
        while start > last && token_byte(bytes[start - 1]) {
            start -= 1;
        }
        if end - start < 6 {
            continue;
        }
        // The run after: indentation or quoting, then token characters.
        let mut from = at + 1;
        while from < bytes.len()
            && matches!(
                bytes[from],
                b' ' | b'\t' | b'>' | b'#' | b'*' | b'/' | b'"' | b'\''
            )
        {
            from += 1;
        }
        let mut to = from;
        while to < bytes.len() && token_byte(bytes[to]) {
            to += 1;
        }
        if to - from < 4 {
            continue;
        }
        let (head, tail) = (&text[start..end], &text[from..to]);
        let joined = format!("{head}{tail}");
        if !joined.bytes().any(|b| b.is_ascii_digit())
            || !joined.bytes().any(|b| b.is_ascii_alphabetic())
        {
            continue;
        }
        let junction = head.len();
        let kind = token_rules().find_map(|(re, rule)| {
            re.find_iter(&joined)
                .any(|m| m.start() < junction && m.end() > junction)
                .then_some(rule.kind)
        });
        let Some(kind) = kind else { continue };
        out.push_str(&text[last..start]);
        out.push_str(&format!("[REDACTED:{kind}]"));
        out.push_str(&text[end..from]);
        out.push_str(&format!("[REDACTED:{kind}]"));
        last = to;
        found.push(Finding { kind });
    }
    out.push_str(&text[last..]);
    (out, found)
}

/// Tokens wrapped in base64 (`echo Z2hwXz... | base64 -d`, a Kubernetes secret's data): each
/// base64 run of 24 to 4,096 characters is decoded and, when a token rule finds a token in it,
/// redacted whole.
fn redact_base64(text: &str) -> (String, Vec<Finding>) {
    use base64::Engine as _;
    let (out, kinds) = redact_runs(text, 24, |run| {
        let encoded = run.trim_end_matches('=');
        // Tokens are short; a run of letters alone is a word, not base64 worth decoding.
        if encoded.len() > 4096
            || !encoded
                .bytes()
                .any(|b| b.is_ascii_digit() || b == b'+' || b == b'/')
        {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(encoded)
            .ok()?;
        let decoded = std::str::from_utf8(&decoded).ok()?;
        token_rules()
            .find_map(|(re, rule)| re.is_match(decoded).then_some(rule.kind))
            .map(|kind| format!("{kind}-base64"))
    });
    let found = kinds
        .into_iter()
        .filter_map(|k| {
            token_rules()
                .find(|(_, rule)| k.strip_suffix("-base64") == Some(rule.kind))
                .map(|(_, rule)| Finding { kind: rule.kind })
        })
        .collect();
    (out, found)
}

/// Replaces each maximal run of base64 characters (`A-Z a-z 0-9 + /`, then any `=`) at least
/// `min` long for which `judge` names a kind with `[REDACTED:<kind>]`; returns the text and the
/// kinds named. A byte scan: one pass however long the text.
fn redact_runs(
    text: &str,
    min: usize,
    mut judge: impl FnMut(&str) -> Option<String>,
) -> (String, Vec<String>) {
    const IN_RUN: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            table[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
            b += 1;
        }
        table
    };
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut kinds = Vec::new();
    let mut last = 0;
    let mut at = 0;
    while at < bytes.len() {
        // The next run, and its end: two tight searches over a lookup table.
        let Some(skip) = bytes[at..].iter().position(|&b| IN_RUN[usize::from(b)]) else {
            break;
        };
        let start = at + skip;
        at = start
            + bytes[start..]
                .iter()
                .position(|&b| !IN_RUN[usize::from(b)])
                .unwrap_or(bytes.len() - start);
        while at < bytes.len() && bytes[at] == b'=' {
            at += 1;
        }
        if at - start < min {
            continue;
        }
        if let Some(kind) = judge(&text[start..at]) {
            if out.capacity() == 0 {
                out.reserve(text.len());
            }
            out.push_str(&text[last..start]);
            out.push_str(&format!("[REDACTED:{kind}]"));
            last = at;
            kinds.push(kind);
        }
    }
    if last == 0 {
        return (text.to_owned(), kinds);
    }
    out.push_str(&text[last..]);
    (out, kinds)
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
        ValueCheck::Key40 => {
            value.len() == 40
                && !value.contains('=')
                && is_literal_secret(value, ValueCheck::Entropy)
        }
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
    fn every_example_holds_one_of_its_rules_keywords() {
        for rule in RULES {
            let words = keywords(rule.kind);
            for text in rule.matches {
                let lower = text.to_ascii_lowercase();
                assert!(
                    words.is_empty() || words.iter().any(|k| lower.contains(k)),
                    "{}: {text:?} holds none of {words:?}",
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
