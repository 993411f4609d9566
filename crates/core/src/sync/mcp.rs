//! What the `mcp` sync backend is told: where the MCP server is and how to call its tools.
//! The client itself (rmcp over streamable HTTP or stdio) lives in the network crate
//! (`git-handoff-net`, `byterover.rs`), which the front end hands to [`super::backend`] as a
//! [`Connector`]; the core needs no HTTP or async runtime.

use std::time::Duration;

use super::backend::{Backend, Fault};

/// Makes the `mcp` backend for its settings (the network crate's MCP client).
pub trait Connector {
    /// A backend for `settings`; nothing is contacted until its first call.
    fn connect(&self, settings: Settings) -> Result<Box<dyn Backend>, Fault>;
}

/// Where the server is.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// Streamable HTTP at `url`, with a bearer token from the variable `token_env`.
    Http {
        /// The server's URL.
        url: String,
        /// The token (`None` when the variable is unset: the server decides).
        token: Option<String>,
        /// The variable's name, for messages.
        token_env: String,
    },
    /// A server run as `command` speaking MCP on its stdio.
    Stdio {
        /// Program and arguments.
        command: Vec<String>,
    },
}

/// How the backend calls the server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server.
    pub endpoint: Endpoint,
    /// The tool that stores a text.
    pub store_tool: String,
    /// The tool that searches.
    pub retrieve_tool: String,
    /// Argument templates of the store tool (the client fills in the `{name}` variables of each string value).
    pub store_args: toml::Table,
    /// Argument templates of the retrieve tool.
    pub retrieve_args: toml::Table,
    /// Time one call may take.
    pub timeout: Duration,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Retries of a transiently failed call.
    pub retries: u32,
    /// First backoff (doubles each round).
    pub backoff: Duration,
    /// Time the whole store may take; what is not stored by then is reported failed (and so
    /// stays queued).
    pub deadline: Duration,
    /// Calls in a row that may time out before the rest is given up for this run.
    pub max_timeouts: u32,
}
