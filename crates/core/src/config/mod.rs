//! Configuration: compiled-in defaults < repository `.handoff.toml` < user file
//! (`$XDG_CONFIG_HOME/git-handoff/config.toml`). Keys are kebab-case; unknown keys warn, because
//! a committed file is read by several versions of the tool.

pub mod origin;

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The defaults, also the reference documentation of every key.
pub const DEFAULTS: &str = include_str!("defaults.toml");
/// Name of the repository file.
pub const REPO_FILE: &str = ".handoff.toml";

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not valid TOML or has a value of the wrong type.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error.
        source: Box<toml::de::Error>,
    },
    /// A key holds a value it may not hold (`pre-push = "blok"`).
    #[error("configuration key {key}: {message} (set in .handoff.toml or git-handoff/config.toml)")]
    Value {
        /// The key, as a dotted path (`policy.pre-push`).
        key: String,
        /// What is wrong, with the valid values.
        message: String,
    },
}

/// The resolved configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    /// Default agents.
    pub agents: Agents,
    /// `git handoff context` settings.
    pub context: ContextConfig,
    /// Hook policies.
    pub policy: Policy,
    /// Byterover index sync.
    pub byterover: Byterover,
    /// The agents' own gates.
    pub gate: Gate,
}

/// `[gate]`: the plan and stop gates inside the agents (docs in defaults.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Gate {
    /// What a request for changes does to the agent.
    pub mode: GateMode,
    /// Implementations the stop gate validates per plan iteration.
    pub max_rounds: u32,
}

/// `[gate] mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateMode {
    /// No gate runs.
    Off,
    /// The gate runs and records, but only tells the agent.
    Warn,
    /// A request for changes sends the agent back with the findings.
    Block,
}

/// `[byterover]`: the searchable index the artifacts are synced to (docs in defaults.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Byterover {
    /// Which backend.
    pub backend: BackendKind,
    /// MCP over streamable HTTP: the server's URL.
    pub url: String,
    /// MCP over stdio: the server's command line (wins over `url` when set).
    pub command: Vec<String>,
    /// The environment variable holding the bearer token.
    pub token_env: String,
    /// The tool that stores a text.
    pub store_tool: String,
    /// The tool that searches.
    pub retrieve_tool: String,
    /// Argument templates of the store tool.
    pub store_args: toml::Table,
    /// Argument templates of the retrieve tool.
    pub retrieve_args: toml::Table,
    /// Seconds one call may take.
    pub timeout: u64,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Retries of a failed call.
    pub retries: u32,
    /// Seconds a whole sync may take; the rest stays queued.
    pub deadline: u64,
    /// Calls in a row that may time out before a sync stops, leaving the rest queued.
    pub max_timeouts: u32,
    /// First backoff between retries, in milliseconds (doubles each time).
    pub retry_backoff_ms: u64,
    /// Run `sync` after `git handoff push`.
    pub sync_after_push: bool,
    /// The command running the ByteRover CLI.
    pub brv_command: Vec<String>,
    /// End `sync` with `brv vc push`.
    pub brv_push: bool,
}

/// `[byterover] backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// No index beyond the local one.
    Off,
    /// An MCP server (HTTP or stdio).
    Mcp,
    /// ByteRover's CLI and local context tree.
    Brv,
}

/// Default agent names.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Agents {
    /// Recorded on plans, implementations and patterns.
    pub planner: String,
    /// Recorded on reviews and validations; also the agent `git handoff run` starts.
    pub reviewer: String,
    /// Agents run as commands (`name = ["program", "arg", ...]`): prompt on standard input,
    /// markdown on standard output.
    #[serde(default)]
    pub commands: std::collections::BTreeMap<String, Vec<String>>,
}

/// `git handoff context` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ContextConfig {
    /// Diff size cap in bytes.
    pub max_diff_bytes: usize,
}

/// Hook policies.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    /// What pre-push does with commits of sessions that are not COMPLETE.
    pub pre_push: PrePushPolicy,
}

/// `[policy] pre-push`: what the pre-push hook does with pushed commits whose sessions are not
/// COMPLETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrePushPolicy {
    /// Nothing.
    Off,
    /// Warn and push.
    Warn,
    /// Refuse the push.
    Block,
}

impl Config {
    /// Loads the layers for a repository whose work tree is `workdir` (if any). Unknown keys
    /// are returned as warnings.
    pub fn load(workdir: Option<&Path>) -> Result<(Self, Vec<String>), Error> {
        let mut merged: toml::Table = toml::from_str(DEFAULTS).map_err(|source| Error::Parse {
            path: PathBuf::from("<built-in defaults>"),
            source: Box::new(source),
        })?;
        let known = merged.clone();
        let mut warnings = Vec::new();
        for (path, table) in layers(workdir)? {
            unknown_keys(&table, &known, "", &mut warnings, &path);
            merge(&mut merged, table);
        }
        let config = serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
            Error::Value {
                key: e.path().to_string(),
                message: e.into_inner().message().to_owned(),
            }
        })?;
        Ok((config, warnings))
    }
}

/// The configuration files that exist, in order (the repository's `.handoff.toml`, then the
/// user file), parsed.
fn layers(workdir: Option<&Path>) -> Result<Vec<(PathBuf, toml::Table)>, Error> {
    let mut out = Vec::new();
    for path in [workdir.map(|w| w.join(REPO_FILE)), user_file()]
        .into_iter()
        .flatten()
    {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Read { path, source }),
        };
        let table: toml::Table = toml::from_str(&text).map_err(|source| Error::Parse {
            path: path.clone(),
            source: Box::new(source),
        })?;
        out.push((path, table));
    }
    Ok(out)
}

/// `$XDG_CONFIG_HOME/git-handoff/config.toml`, else `~/.config/git-handoff/config.toml`.
pub fn user_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("git-handoff").join("config.toml"))
}

/// Tables whose keys the user names: a layer that sets one replaces it whole (tool arguments
/// merged key by key would send the defaults' arguments too).
const REPLACED_TABLES: [&str; 2] = ["store-args", "retrieve-args"];

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o))
                if !REPLACED_TABLES.contains(&key.as_str()) =>
            {
                merge(b, o);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn unknown_keys(
    table: &toml::Table,
    known: &toml::Table,
    prefix: &str,
    out: &mut Vec<String>,
    path: &Path,
) {
    for (key, value) in table {
        let full = format!("{prefix}{key}");
        match (known.get(key), value) {
            // Agent commands and tool arguments are named by the user.
            (Some(toml::Value::Table(_)), toml::Value::Table(_))
                if matches!(
                    full.as_str(),
                    "agents.commands" | "byterover.store-args" | "byterover.retrieve-args"
                ) => {}
            (Some(toml::Value::Table(k)), toml::Value::Table(t)) => {
                unknown_keys(t, k, &format!("{full}."), out, path);
            }
            (Some(_), _) => {}
            (None, _) => out.push(format!("{}: unknown key '{full}' ignored", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_repo_file_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let (config, warnings) = Config::load(Some(dir.path())).unwrap();
        assert_eq!(config.agents.planner, "claude");
        assert!(warnings.is_empty());
        std::fs::write(
            dir.path().join(REPO_FILE),
            "[agents]\nreviewer = \"gemini\"\n[agentz]\nx = 1\n",
        )
        .unwrap();
        let (config, warnings) = Config::load(Some(dir.path())).unwrap();
        assert_eq!(config.agents.reviewer, "gemini");
        assert_eq!(config.agents.planner, "claude");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        std::fs::write(
            dir.path().join(REPO_FILE),
            "[context]\nmax-diff-bytes = 'big'\n",
        )
        .unwrap();
        let err = Config::load(Some(dir.path())).unwrap_err();
        assert!(
            err.to_string().contains("max-diff-bytes") || err.to_string().contains("integer"),
            "{err}"
        );
        std::fs::write(dir.path().join(REPO_FILE), "[policy]\npre-push = 'blok'\n").unwrap();
        let err = Config::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("policy.pre-push")
                && err.contains("blok")
                && err.contains("block")
                && err.contains("warn"),
            "{err}"
        );
    }
}
