//! What a searchable index must offer, and how its failures are told apart.

use std::time::Duration;

use super::render::Document;

/// Why a call to the index failed. Every variant says what the user can do; none carries the
/// token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Fault {
    /// 401: the token is missing or refused.
    #[error("the server refused the credentials (HTTP 401): set {token_env} to a valid token")]
    Unauthorized {
        /// The variable that holds the token.
        token_env: String,
    },
    /// 403: the token may not do this.
    #[error("the server forbids this (HTTP 403): the token may not write to this space ({0})")]
    Forbidden(String),
    /// 429: too many requests; `retry_after` when the server said how long to wait.
    #[error("the server is rate limiting (HTTP 429{})", .retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// 5xx.
    #[error("the server failed (HTTP {0})")]
    Server(u16),
    /// No answer in time.
    #[error("no answer within {}s", .0.as_secs())]
    Timeout(Duration),
    /// The connection broke or the answer was not MCP (malformed JSON or SSE, closed stream).
    #[error("{0}")]
    Connection(String),
    /// The server has no such tool, or it cannot write.
    #[error("{0}")]
    Tools(String),
    /// The tool answered with an error.
    #[error("the tool {tool} failed: {message}")]
    Tool {
        /// The tool.
        tool: String,
        /// Its message.
        message: String,
    },
    /// A local program (the `brv` CLI, a stdio server) could not be run or answered wrongly.
    #[error("{0}")]
    Local(String),
}

impl Fault {
    /// Whether the same call may succeed if tried again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server(_) | Self::Timeout(_) | Self::Connection(_)
        )
    }
}

/// One hit of a remote search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RemoteHit {
    /// The text (or excerpt) the index returned.
    pub text: String,
    /// A title or path, when the index gives one.
    pub title: Option<String>,
    /// The index's score, when it gives one.
    pub score: Option<f64>,
}

/// A searchable index the artifacts are synced to.
pub trait Backend {
    /// Identifies the index in the sync journal: another URL, command or tree is another
    /// index, which gets everything again.
    fn key(&self) -> String;

    /// Checks that the index can take what `sync` sends (reachable, the tools exist and can
    /// write), before anything is sent.
    fn preflight(&mut self) -> Result<(), Fault>;

    /// Stores documents, reporting each outcome through `done(index into docs, result)` as
    /// soon as it is known, in any order. Transient faults are retried inside, so a reported
    /// failure is final for this run.
    fn store(&mut self, docs: &[Document], done: &mut dyn FnMut(usize, Result<(), Fault>));

    /// Searches the index.
    fn search(&mut self, query: &str, limit: usize) -> Result<Vec<RemoteHit>, Fault>;
}
