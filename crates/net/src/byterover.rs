//! The `mcp` sync backend (`git_handoff::sync::mcp` holds its settings): an MCP client (rmcp, the SDK our server is built on) over streamable HTTP
//! (the 2025-06-18 handshake, JSON and SSE answers, `Mcp-Session-Id`, re-initialising when the
//! server forgets the session) or over stdio (`brv mcp`, Cipher, any local server).
//!
//! This module speaks HTTP and MCP only: it never touches git (the sync hands it finished
//! documents). Calls run with bounded concurrency; transient faults (429 with `Retry-After`,
//! 5xx, time-outs, dropped streams) are retried in rounds with a doubling backoff, reconnecting
//! after a broken connection; what still fails is reported per document.

use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::streamable_http_client::{
    HttpStatusError, StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
    StreamableHttpError,
};
use serde_json::{Map, Value};

use git_handoff::sync::backend::{Backend, Fault, RemoteHit};
use git_handoff::sync::mcp::{Endpoint, Settings};
use git_handoff::sync::render::Document;

/// Longest `Retry-After` waited out; a longer one leaves the document queued for a later sync.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

type Client = RunningService<RoleClient, ()>;

/// An MCP server as the index.
pub struct McpBackend {
    settings: Settings,
    runtime: tokio::runtime::Runtime,
    client: Option<Arc<Client>>,
}

impl McpBackend {
    /// A backend for `settings`; nothing is contacted until the first call.
    pub fn new(settings: Settings) -> Result<Self, Fault> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Fault::Local(format!("starting the MCP client: {e}")))?;
        Ok(Self {
            settings,
            runtime,
            client: None,
        })
    }

    fn token_env(&self) -> String {
        match &self.settings.endpoint {
            Endpoint::Http { token_env, .. } => token_env.clone(),
            Endpoint::Stdio { .. } => String::new(),
        }
    }

    /// The connection, made (handshake included) if there is none.
    fn client(&mut self) -> Result<Arc<Client>, Fault> {
        if let Some(client) = &self.client
            && !client.is_closed()
        {
            return Ok(client.clone());
        }
        let timeout = self.settings.timeout;
        let endpoint = self.settings.endpoint.clone();
        let token_env = self.token_env();
        let client = self.runtime.block_on(async move {
            let connecting = connect(endpoint);
            match tokio::time::timeout(timeout, connecting).await {
                Ok(result) => result.map_err(|e| classify(&*e, &token_env)),
                Err(_) => Err(Fault::Timeout(timeout)),
            }
        })?;
        let client = Arc::new(client);
        self.client = Some(client.clone());
        Ok(client)
    }

    /// Drops the connection (the next call reconnects).
    fn disconnect(&mut self) {
        if let Some(client) = self.client.take() {
            self.runtime.block_on(async move {
                if let Ok(client) = Arc::try_unwrap(client) {
                    let _ = client.cancel().await;
                }
            });
        }
    }

    /// Calls `tool` once with a time limit.
    fn call(&mut self, tool: &str, arguments: Map<String, Value>) -> Result<CallToolResult, Fault> {
        let client = self.client()?;
        let (timeout, token_env) = (self.settings.timeout, self.token_env());
        let tool = tool.to_owned();
        self.runtime
            .block_on(call(client, tool, arguments, timeout, token_env))
    }
}

async fn connect(endpoint: Endpoint) -> Result<Client, Box<dyn std::error::Error + Send + Sync>> {
    match endpoint {
        Endpoint::Http { url, token, .. } => {
            ensure_crypto_provider();
            let http = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()?;
            let mut config =
                StreamableHttpClientTransportConfig::with_uri(url).reinit_on_expired_session(true);
            if let Some(token) = token {
                // The variable may hold the whole header value, as some setups document.
                let bare = token.strip_prefix("Bearer ").unwrap_or(&token).trim();
                config = config.auth_header(bare.to_owned());
            }
            let transport = StreamableHttpClientTransport::with_client(http, config);
            Ok(().serve(transport).await?)
        }
        Endpoint::Stdio { command } => {
            let Some((program, args)) = command.split_first() else {
                return Err("[byterover] command is empty".into());
            };
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(args);
            let (transport, _) = rmcp::transport::TokioChildProcess::builder(cmd)
                .stderr(std::process::Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot run {program}: {e}"))?;
            Ok(().serve(transport).await?)
        }
    }
}

async fn call(
    client: Arc<Client>,
    tool: String,
    arguments: Map<String, Value>,
    timeout: Duration,
    token_env: String,
) -> Result<CallToolResult, Fault> {
    let request = CallToolRequestParams::new(tool.clone()).with_arguments(arguments);
    let result = match tokio::time::timeout(timeout, client.call_tool(request)).await {
        Err(_) => return Err(Fault::Timeout(timeout)),
        Ok(Err(e)) => return Err(classify(&e, &token_env)),
        Ok(Ok(result)) => result,
    };
    if result.is_error == Some(true) {
        return Err(Fault::Tool {
            tool,
            message: text_of(&result),
        });
    }
    Ok(result)
}

/// reqwest is built without a default TLS provider; rustls' ring provider is installed once.
pub(crate) fn ensure_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already: either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Backend for McpBackend {
    fn key(&self) -> String {
        match &self.settings.endpoint {
            Endpoint::Http { url, .. } => format!("mcp {url}"),
            Endpoint::Stdio { command } => format!("mcp-stdio {}", command.join(" ")),
        }
    }

    fn preflight(&mut self) -> Result<(), Fault> {
        let client = self.client()?;
        let (timeout, token_env) = (self.settings.timeout, self.token_env());
        let tools = self.runtime.block_on(async move {
            match tokio::time::timeout(timeout, client.list_all_tools()).await {
                Err(_) => Err(Fault::Timeout(timeout)),
                Ok(result) => result.map_err(|e| classify(&e, &token_env)),
            }
        })?;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        let Some(store) = tools
            .iter()
            .find(|t| t.name == self.settings.store_tool.as_str())
        else {
            return Err(Fault::Tools(format!(
                "the server has no tool '{}' (it offers: {}); set [byterover] store-tool",
                self.settings.store_tool,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )));
        };
        if store
            .annotations
            .as_ref()
            .and_then(|a| a.read_only_hint)
            .unwrap_or(false)
        {
            return Err(Fault::Tools(format!(
                "the server's tool '{}' is read-only: this space does not accept new knowledge",
                self.settings.store_tool
            )));
        }
        Ok(())
    }

    fn store(&mut self, docs: &[Document], done: &mut dyn FnMut(usize, Result<(), Fault>)) {
        let mut pending: Vec<usize> = (0..docs.len()).collect();
        let mut backoff = self.settings.backoff;
        let deadline = tokio::time::Instant::now() + self.settings.deadline;
        for round in 0..=self.settings.retries {
            if pending.is_empty() {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let fault = Fault::Timeout(self.settings.deadline);
                for i in pending.drain(..) {
                    done(i, Err(fault.clone()));
                }
                return;
            }
            let last_round = round == self.settings.retries;
            let client = match self.client() {
                Ok(client) => client,
                Err(fault) if fault.is_transient() && !last_round => {
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                Err(fault) => {
                    for i in pending.drain(..) {
                        done(i, Err(fault.clone()));
                    }
                    return;
                }
            };
            let outcomes = self.runtime.block_on(store_round(
                client,
                &self.settings,
                docs,
                &pending,
                self.token_env(),
                deadline,
            ));
            // A round in which nothing got through and calls kept timing out: the index
            // accepts connections but does not answer. What is left stays queued.
            let timed_out = outcomes
                .iter()
                .filter(|(_, o)| matches!(o, Err(Fault::Timeout(_))))
                .count();
            let unresponsive = timed_out >= self.settings.max_timeouts as usize
                && !outcomes.iter().any(|(_, o)| o.is_ok());
            let mut again = Vec::new();
            let mut wait = backoff;
            let mut reconnect = false;
            for (i, outcome) in outcomes {
                match outcome {
                    Err(fault) if fault.is_transient() && !last_round && !unresponsive => {
                        if let Fault::RateLimited {
                            retry_after: Some(after),
                        } = &fault
                        {
                            if *after > MAX_RETRY_AFTER {
                                done(i, Err(fault.clone()));
                                continue;
                            }
                            wait = wait.max(*after);
                        }
                        reconnect |= matches!(fault, Fault::Connection(_) | Fault::Timeout(_));
                        again.push(i);
                    }
                    outcome => done(i, outcome),
                }
            }
            if again.is_empty() {
                return;
            }
            if reconnect {
                self.disconnect();
            }
            again.sort_unstable();
            pending = again;
            std::thread::sleep(wait);
            backoff *= 2;
        }
    }

    fn search(&mut self, query: &str, limit: usize) -> Result<Vec<RemoteHit>, Fault> {
        let arguments = fill(
            &self.settings.retrieve_args,
            &[("query", Value::from(query)), ("limit", Value::from(limit))],
        );
        let tool = self.settings.retrieve_tool.clone();
        let result = self.call(&tool, arguments)?;
        Ok(hits_of(&result))
    }
}

/// One round: every pending document stored with at most `concurrency` calls in flight.
async fn store_round(
    client: Arc<Client>,
    settings: &Settings,
    docs: &[Document],
    pending: &[usize],
    token_env: String,
    deadline: tokio::time::Instant,
) -> Vec<(usize, Result<(), Fault>)> {
    let permits = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
    // Time-outs in a row, across the calls of the round: past the limit, the calls not
    // started yet give up at once (an index that accepts connections and never answers would
    // otherwise cost a time-out per document).
    let timeouts_in_a_row = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let max_timeouts = settings.max_timeouts;
    let mut calls = tokio::task::JoinSet::new();
    for &i in pending {
        let doc = &docs[i];
        let arguments = fill(
            &settings.store_args,
            &[
                ("text", Value::from(doc.text.as_str())),
                ("title", Value::from(doc.title.as_str())),
                ("session", Value::from(doc.session.as_str())),
                ("kind", Value::from(doc.kind.as_str())),
                ("artifact", Value::from(doc.artifact.as_str())),
                ("version", Value::from(doc.version)),
            ],
        );
        let (client, permits, in_a_row) =
            (client.clone(), permits.clone(), timeouts_in_a_row.clone());
        let (tool, timeout, token_env) = (
            settings.store_tool.clone(),
            settings.timeout,
            token_env.clone(),
        );
        calls.spawn(async move {
            use std::sync::atomic::Ordering;
            let _permit = permits.acquire_owned().await;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || in_a_row.load(Ordering::SeqCst) >= max_timeouts {
                return (i, Err(Fault::Timeout(timeout)));
            }
            let outcome = call(client, tool, arguments, timeout.min(left), token_env).await;
            match &outcome {
                Err(Fault::Timeout(_)) => {
                    in_a_row.fetch_add(1, Ordering::SeqCst);
                }
                _ => in_a_row.store(0, Ordering::SeqCst),
            }
            (i, outcome.map(|_| ()))
        });
    }
    let mut outcomes = Vec::with_capacity(pending.len());
    // A call that panicked leaves no outcome; the documents without one are reported below.
    while let Some(joined) = calls.join_next().await {
        if let Ok(outcome) = joined {
            outcomes.push(outcome);
        }
    }
    for &i in pending {
        if !outcomes.iter().any(|(j, _)| *j == i) {
            outcomes.push((i, Err(Fault::Connection("the call was lost".to_owned()))));
        }
    }
    outcomes
}

/// The arguments of a call from a template: in every string value `{name}` is replaced by the
/// variable's text, and a value that is exactly `{name}` of a number stays a number.
pub fn fill(template: &toml::Table, vars: &[(&str, Value)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in template {
        let filled = match value {
            toml::Value::String(s) => {
                let exact = vars
                    .iter()
                    .find(|(name, _)| s == &format!("{{{name}}}"))
                    .map(|(_, v)| v.clone());
                exact.unwrap_or_else(|| {
                    let mut text = s.clone();
                    for (name, v) in vars {
                        let shown = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        text = text.replace(&format!("{{{name}}}"), &shown);
                    }
                    Value::String(text)
                })
            }
            other => serde_json::to_value(other).unwrap_or(Value::Null),
        };
        out.insert(key.clone(), filled);
    }
    out
}

/// The text blocks of a result, joined.
fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hits from a retrieve tool's answer: a JSON document with a list of results (each a text
/// with an optional title and score), or free text, one hit per block.
fn hits_of(result: &CallToolResult) -> Vec<RemoteHit> {
    let mut hits = Vec::new();
    let structured = result.structured_content.clone();
    let texts: Vec<String> = result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.clone())
        .collect();
    let documents = structured.into_iter().chain(
        texts
            .iter()
            .filter_map(|t| serde_json::from_str::<Value>(t).ok()),
    );
    for doc in documents {
        let list = match &doc {
            Value::Array(items) => items.clone(),
            Value::Object(map) => match ["results", "memories", "items", "hits"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_array))
            {
                // A list of results, even an empty one, is the whole answer.
                Some(items) if items.is_empty() => return hits,
                Some(items) => items.clone(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        for item in list {
            let text = ["text", "content", "memory", "excerpt", "snippet"]
                .iter()
                .find_map(|k| item.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .unwrap_or_else(|| item.to_string());
            hits.push(RemoteHit {
                text,
                title: ["title", "path"]
                    .iter()
                    .find_map(|k| item.get(*k).and_then(Value::as_str))
                    .map(str::to_owned),
                score: item.get("score").and_then(Value::as_f64),
            });
        }
        if !hits.is_empty() {
            return hits;
        }
    }
    texts
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .map(|text| RemoteHit {
            text,
            title: None,
            score: None,
        })
        .collect()
}

/// What an rmcp error means for the user: walks the error's causes for what the HTTP transport
/// kept (status, `Retry-After`, a challenge), and otherwise says the innermost cause once.
fn classify(err: &(dyn std::error::Error + 'static), token_env: &str) -> Fault {
    let unauthorized = || Fault::Unauthorized {
        token_env: if token_env.is_empty() {
            "the server's credentials".to_owned()
        } else {
            token_env.to_owned()
        },
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut innermost = err.to_string();
    while let Some(e) = cause {
        if let Some(http) = e.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            match http {
                StreamableHttpError::HttpStatus(status) => return from_status(status),
                StreamableHttpError::AuthRequired(_) => return unauthorized(),
                StreamableHttpError::InsufficientScope(_) => {
                    return Fault::Forbidden("insufficient scope".to_owned());
                }
                StreamableHttpError::Client(client) => {
                    return Fault::Connection(reqwest_reason(client));
                }
                _ => {}
            }
        }
        if let Some(status) = e.downcast_ref::<HttpStatusError>() {
            return from_status(status);
        }
        // The handshake's transport error is not exposed as a source: look inside.
        if let Some(rmcp::service::ClientInitializeError::TransportError { error, .. }) =
            e.downcast_ref::<rmcp::service::ClientInitializeError>()
        {
            return classify(error, token_env);
        }
        innermost = e.to_string();
        cause = e.source();
    }
    let lower = innermost.to_ascii_lowercase();
    if lower.contains("401") || lower.contains("unauthorized") {
        return unauthorized();
    }
    if lower.contains("403") || lower.contains("forbidden") {
        return Fault::Forbidden(first_line(&innermost));
    }
    Fault::Connection(first_line(&innermost))
}

fn from_status(status: &HttpStatusError) -> Fault {
    match status.status {
        429 => Fault::RateLimited {
            retry_after: status.retry_after.as_deref().and_then(parse_retry_after),
        },
        code => Fault::Server(code),
    }
}

/// A reqwest failure in a few words: its innermost cause (connection refused, DNS, TLS).
fn reqwest_reason(err: &reqwest::Error) -> String {
    let mut reason = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(e) = cause {
        reason = e.to_string();
        cause = e.source();
    }
    let what = if err.is_connect() {
        "cannot connect"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_decode() || err.is_body() {
        "unreadable answer"
    } else {
        "request failed"
    };
    format!("{what}: {}", first_line(&reason))
}

/// `Retry-After` in seconds (the HTTP-date form is not used by MCP servers we know).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_text_and_keep_numbers() {
        let template: toml::Table = toml::from_str(
            "query = \"{query}\"\nlimit = \"{limit}\"\nnote = \"q={query} n={limit}\"\nfixed = 3\n",
        )
        .unwrap();
        let filled = fill(
            &template,
            &[("query", Value::from("a \"b\"")), ("limit", Value::from(5))],
        );
        assert_eq!(filled["query"], Value::from("a \"b\""));
        assert_eq!(filled["limit"], Value::from(5));
        assert_eq!(filled["note"], Value::from("q=a \"b\" n=5"));
        assert_eq!(filled["fixed"], Value::from(3));
    }
}
