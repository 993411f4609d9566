//! `git handoff init`: per-clone configuration (README, "Hooks" and "Sharing").
//!
//! Sets `log.excludeDecoration=refs/handoff/*` (so session refs do not clutter `git log`), adds
//! to every remote the fetch refspecs that bring its sessions and notes into our tracking
//! namespace with a plain `git fetch` (docs/format.md, "Tracking refs"), and writes
//! `.handoff.toml` when absent. Every step is idempotent and reports whether it changed
//! anything.
//!
//! It touches nothing else: notes on our ref follow amend and rebase through the post-rewrite
//! hook alone (line union, scoped to `refs/notes/handoff`), so the user's own notes refs are
//! rewritten as they always were. The `notes.rewriteRef`/`notes.rewriteMode` pair an earlier
//! version set is taken back.

use crate::git::Repo;

use crate::config::{DEFAULTS, REPO_FILE};

/// Config keys and values `init` ensures, with whether the key holds several values.
pub const SETTINGS: &[(&str, &str, bool)] = &[("log.excludeDecoration", "refs/handoff/*", true)];

/// The fetch refspecs `init` adds to a remote, for its encoded tracking name.
pub fn fetch_refspecs(tracking: &str) -> [String; 2] {
    [
        format!(
            "+{}*:{}*",
            crate::store::refs::SESSIONS_PREFIX,
            crate::store::transport::tracking_prefix(tracking)
        ),
        format!(
            "+{}*:{}handoff*",
            crate::store::refs::NOTES_REF,
            crate::store::transport::fetched_notes_prefix(tracking)
        ),
    ]
}

/// Why setup failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing git config failed.
    #[error(transparent)]
    Config(#[from] crate::git::Error),
    /// Writing `.handoff.toml` failed.
    #[error("writing {REPO_FILE}: {0}")]
    RepoFile(std::io::Error),
}

/// Ensures the git config keys; returns the `key=value` pairs that were changed.
pub fn configure(repo: &Repo) -> Result<Vec<String>, Error> {
    let mut config = repo.local_config()?;
    let mut changed = Vec::new();
    for (key, value, multi) in SETTINGS {
        let present = if *multi {
            config.values(key)?.iter().any(|v| v == value)
        } else {
            config.get(key).as_deref() == Some(*value)
        };
        if !present {
            config.add(key, value)?;
            changed.push(format!("{key}={value}"));
        }
    }
    // Remotes: a plain `git fetch` brings their sessions and notes into tracking refs.
    for remote in repo.remotes()? {
        let Ok(tracking) = crate::store::transport::tracking_name(&remote) else {
            continue;
        };
        let key = format!("remote.{remote}.fetch");
        let present = config.values(&key)?;
        for spec in fetch_refspecs(&tracking) {
            if !present.contains(&spec) {
                config.add(&key, &spec)?;
                changed.push(format!("{key}={spec}"));
            }
        }
    }
    // Take back what an earlier version set: one mechanism carries our notes (post-rewrite).
    let ours = crate::store::refs::NOTES_REF;
    if config.values("notes.rewriteRef")?.iter().any(|v| v == ours) {
        config.remove("notes.rewriteRef", ours)?;
        changed.push(format!("unset notes.rewriteRef={ours}"));
        if config.get("notes.rewriteMode").as_deref() == Some("cat_sort_uniq") {
            config.unset("notes.rewriteMode")?;
            changed.push("unset notes.rewriteMode=cat_sort_uniq".to_owned());
        }
    }
    Ok(changed)
}

/// The skill that teaches Claude Code and Codex the git-native workflow.
pub const SKILL: &str = include_str!("SKILL.md");

/// Where `init --agents` installs the skill, relative to the work tree.
pub const SKILL_PATHS: [&str; 2] = [
    ".claude/skills/git-handoff/SKILL.md",
    ".agents/skills/git-handoff/SKILL.md",
];

/// The Codex registration of the MCP server, printed by `init --agents`.
pub const CODEX_ENTRY: &str = "codex mcp add git-handoff -- git handoff mcp

or in ~/.codex/config.toml:

[mcp_servers.git-handoff]
command = \"git\"
args = [\"handoff\", \"mcp\"]
";

/// What `init --agents` did to one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgentFile {
    /// The file, relative to the work tree.
    pub path: String,
    /// `created`, `updated`, `unchanged`, or `kept` (someone else's content, left alone).
    pub action: &'static str,
}

/// Why agent set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentsError {
    /// A bare repository has no work tree to put the files in.
    #[error("this repository has no work tree for .mcp.json and the skills")]
    NoWorkTree,
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// `.mcp.json` is not a JSON object; it is left as it is.
    #[error(".mcp.json is not a JSON object ({0}); fix it, then run init --agents again")]
    BadMcpJson(String),
}

/// Registers the MCP server with Claude Code (`.mcp.json`, merged: other servers and an
/// existing `git-handoff` entry of someone else's are kept) and installs the skill for both
/// agents (an existing different file is kept).
pub fn install_agents(repo: &Repo) -> Result<Vec<AgentFile>, AgentsError> {
    let work = repo.work_dir().ok_or(AgentsError::NoWorkTree)?;
    let io = |path: &str| {
        let path = path.to_owned();
        move |source| AgentsError::Io { path, source }
    };
    let mut done = Vec::new();
    let mcp_path = work.join(".mcp.json");
    let ours = serde_json::json!({"command": "git", "args": ["handoff", "mcp"]});
    let (mut config, existed) = match std::fs::read_to_string(&mcp_path) {
        Ok(text) => (
            serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| AgentsError::BadMcpJson(e.to_string()))?,
            true,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (serde_json::json!({}), false),
        Err(e) => return Err(io(".mcp.json")(e)),
    };
    let root = config
        .as_object_mut()
        .ok_or_else(|| AgentsError::BadMcpJson("the top level is not an object".to_owned()))?;
    let servers = root
        .entry("mcpServers")
        .or_insert_with(|| serde_json::json!({}));
    let servers = servers
        .as_object_mut()
        .ok_or_else(|| AgentsError::BadMcpJson("mcpServers is not an object".to_owned()))?;
    let action = match servers.get("git-handoff") {
        Some(existing) if *existing == ours => "unchanged",
        Some(_) => "kept",
        None => {
            servers.insert("git-handoff".to_owned(), ours);
            let mut text = serde_json::to_string_pretty(&config)
                .map_err(|e| AgentsError::BadMcpJson(e.to_string()))?;
            text.push('\n');
            std::fs::write(&mcp_path, text).map_err(io(".mcp.json"))?;
            if existed { "updated" } else { "created" }
        }
    };
    done.push(AgentFile {
        path: ".mcp.json".to_owned(),
        action,
    });
    for rel in SKILL_PATHS {
        let path = work.join(rel);
        let action = match std::fs::read_to_string(&path) {
            Ok(text) if text == SKILL => "unchanged",
            Ok(_) => "kept",
            Err(_) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io(rel))?;
                }
                std::fs::write(&path, SKILL).map_err(io(rel))?;
                "created"
            }
        };
        done.push(AgentFile {
            path: rel.to_owned(),
            action,
        });
    }
    Ok(done)
}

/// Writes `.handoff.toml` with the documented defaults when the work tree has none; returns
/// whether it wrote one.
pub fn write_repo_file(repo: &Repo) -> Result<bool, Error> {
    let Some(workdir) = repo.work_dir() else {
        return Ok(false);
    };
    let path = workdir.join(REPO_FILE);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, DEFAULTS.as_bytes()).map_err(Error::RepoFile)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::RepoFile(e)),
    }
}
