//! `git handoff init`: per-clone configuration (README, "Hooks" and "Sharing").
//!
//! Sets `log.excludeDecoration=refs/handoff/*` (so session refs do not clutter `git log`), adds
//! to every remote the fetch refspecs that bring its sessions and notes into our tracking
//! namespace with a plain `git fetch` (docs/format.md, "Refs"), and writes
//! `.handoff.toml` when absent. Every step is idempotent and reports whether it changed
//! anything.
//!
//! It touches nothing else: notes on our ref follow amend and rebase through the post-rewrite
//! hook alone (line union, scoped to `refs/notes/handoff`), so the user's own notes refs are
//! rewritten as they always were. The `notes.rewriteRef`/`notes.rewriteMode` pair an earlier
//! version set is taken back.

use crate::git::Repo;

use crate::config::REPO_FILE;

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
    /// The alias name asked for is someone else's already.
    #[error("alias.{name} is already set (to '{value}'); it was left as it is")]
    AliasTaken {
        /// The alias name.
        name: String,
        /// What it is set to.
        value: String,
    },
}

/// What the log alias of `init --log-alias` runs: `git log` over every ref but ours (git has
/// no way to hide refs from `--all`; `--exclude` must come before it). Arguments given to the
/// alias follow (`git lga --oneline --graph`).
pub const LOG_ALIAS: &str = "log --exclude=refs/handoff* --exclude=refs/notes/* --all";

/// Sets `alias.NAME` to [`LOG_ALIAS`] in the repository's configuration; the `key=value` set,
/// `None` when it is there already. An alias of that name with another value, at any level of
/// git's configuration, is the user's: refused, never replaced.
pub fn log_alias(repo: &Repo, name: &str) -> Result<Option<String>, Error> {
    let key = format!("alias.{name}");
    match repo.config_value(&key) {
        Some(value) if value == LOG_ALIAS => Ok(None),
        Some(value) => Err(Error::AliasTaken {
            name: name.to_owned(),
            value,
        }),
        None => {
            repo.local_config()?.set(&key, LOG_ALIAS)?;
            Ok(Some(format!("{key}={LOG_ALIAS}")))
        }
    }
}

/// Removes every alias of the repository's configuration that [`log_alias`] set (those whose
/// value is [`LOG_ALIAS`]); the keys removed.
pub fn remove_log_aliases(repo: &Repo) -> Result<Vec<String>, Error> {
    let mut config = repo.local_config()?;
    let mut removed = Vec::new();
    for (key, value) in config.matching("^alias\\.")? {
        if value == LOG_ALIAS {
            config.unset(&key)?;
            removed.push(key);
        }
    }
    Ok(removed)
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

/// The name the MCP server is registered under by default.
pub const DEFAULT_SERVER_NAME: &str = "git-handoff";

/// The name the seed skill's `allowed-tools` expect (`mcp__byterover-mcp__...`): registering the
/// server under it runs the seed skill unchanged.
pub const SEED_SERVER_NAME: &str = "byterover-mcp";

/// The Codex configuration of the MCP server, printed by `init --agents`: a complete
/// `config.toml` table. `codex exec` runs with approval policy "never", which refuses an MCP
/// call not approved beforehand; the server's tools say in their annotations that none is
/// destructive, which Codex 0.169 takes as approval, and the table approves them outright for a
/// Codex that asks about every write. `codex mcp add` cannot set that, so the table is the
/// form to use.
pub fn codex_entry(server: &str) -> String {
    format!(
        "# in ~/.codex/config.toml (or $CODEX_HOME/config.toml); approval mode \"approve\" because\n\
         # codex exec's approval policy \"never\" refuses MCP calls not approved beforehand:\n\
         [mcp_servers.{server}]\n\
         command = \"git\"\n\
         args = [\"handoff\", \"mcp\"]\n\
         default_tools_approval_mode = \"approve\"\n"
    )
}

/// What a script passes to `claude -p` to let it call the server's tools without the settings
/// file (headless Claude Code refuses every MCP call that no permission rule allows).
pub fn claude_allowed_tools(server: &str) -> String {
    format!("--allowedTools mcp__{server}")
}

/// Where Claude Code honours a permission rule without trusting the workspace: the local
/// settings, which stay out of git.
pub const CLAUDE_LOCAL_SETTINGS: &str = ".claude/settings.local.json";

/// One agent hook: event, matcher, command, timeout in seconds.
pub type AgentHook = (
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<u64>,
);

/// The gates `init --agents` installs as Claude Code hooks: what a new conversation is told,
/// the plan review before leaving plan mode, the validation before stopping (README, "Gates
/// inside the agents").
pub const CLAUDE_HOOKS: [AgentHook; 3] = [
    (
        "SessionStart",
        Some("startup|resume|clear|compact"),
        "git handoff hook agent-session-start",
        None,
    ),
    (
        "PreToolUse",
        Some("ExitPlanMode"),
        "git handoff hook agent-plan-gate",
        Some(900),
    ),
    ("Stop", None, "git handoff hook agent-stop-gate", Some(900)),
];

/// Where Codex reads a project's hooks: in the same shape as Claude Code's settings, and run
/// once the project is trusted and each hook reviewed (`/hooks` in Codex). Kept out of git, as
/// Claude Code's local settings are.
pub const CODEX_HOOKS_FILE: &str = ".codex/hooks.json";

/// The gates `init --agents` installs as Codex hooks. What a new conversation is told, always;
/// the validation before stopping only where Codex implements (`[agents] planner = "codex"`):
/// in the default roles Codex's turns are reviews, which nothing validates.
pub fn codex_hooks(codex_implements: bool) -> Vec<AgentHook> {
    let mut hooks = vec![(
        "SessionStart",
        Some("startup|resume|clear"),
        "git handoff hook agent-session-start",
        None,
    )];
    if codex_implements {
        hooks.push(CLAUDE_HOOKS[2]);
    }
    hooks
}

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
    /// A JSON file we merge into is not valid JSON, or not an object; it is left as it is.
    #[error("{0} is not a JSON object ({1}); fix it, then run init --agents again")]
    BadJson(String, String),
}

/// Registers the MCP server with Claude Code under `server` (`.mcp.json`, merged: other
/// servers and an existing entry of someone else's under that name are kept), allows its tools
/// and installs the gates ([`CLAUDE_HOOKS`]) in `.claude/settings.local.json` and Codex's
/// ([`codex_hooks`]) in `.codex/hooks.json` (both merged, and kept out of git through
/// `.git/info/exclude`), and installs the skill for both agents (an existing different file is
/// kept).
pub fn install_agents(
    repo: &Repo,
    server: &str,
    codex_implements: bool,
) -> Result<Vec<AgentFile>, AgentsError> {
    let work = repo.work_dir().ok_or(AgentsError::NoWorkTree)?;
    let io = |path: &str| {
        let path = path.to_owned();
        move |source| AgentsError::Io { path, source }
    };
    let mut done = Vec::new();
    let ours = serde_json::json!({"command": "git", "args": ["handoff", "mcp"]});
    let action = merge_json(&work.join(".mcp.json"), ".mcp.json", |root| {
        let servers = object_at(root, "mcpServers")?;
        Ok(match servers.get(server) {
            Some(existing) if *existing == ours => false,
            Some(_) => return Err(Kept),
            None => {
                servers.insert(server.to_owned(), ours.clone());
                true
            }
        })
    })?;
    done.push(AgentFile {
        path: ".mcp.json".to_owned(),
        action,
    });
    let rule = serde_json::Value::String(format!("mcp__{server}"));
    let action = merge_json(
        &work.join(CLAUDE_LOCAL_SETTINGS),
        CLAUDE_LOCAL_SETTINGS,
        |root| {
            let permissions = object_at(root, "permissions")?;
            let allow = permissions
                .entry("allow")
                .or_insert_with(|| serde_json::json!([]))
                .as_array_mut()
                .ok_or(Kept)?;
            let mut changed = false;
            if !allow.contains(&rule) {
                allow.push(rule.clone());
                changed = true;
            }
            Ok(add_hooks(root, &CLAUDE_HOOKS)? | changed)
        },
    )?;
    exclude_locally(repo, CLAUDE_LOCAL_SETTINGS).map_err(io(".git/info/exclude"))?;
    done.push(AgentFile {
        path: CLAUDE_LOCAL_SETTINGS.to_owned(),
        action,
    });
    let codex = codex_hooks(codex_implements);
    let action = merge_json(&work.join(CODEX_HOOKS_FILE), CODEX_HOOKS_FILE, |root| {
        // A Stop gate from when Codex implemented goes when it no longer does.
        let removed = remove_hooks(root, &CLAUDE_HOOKS[2..])?;
        Ok(add_hooks(root, &codex)? | removed)
    })?;
    exclude_locally(repo, CODEX_HOOKS_FILE).map_err(io(".git/info/exclude"))?;
    done.push(AgentFile {
        path: CODEX_HOOKS_FILE.to_owned(),
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

/// Removes the gates `init --agents` installed from `.claude/settings.local.json` and
/// `.codex/hooks.json` (only our hook groups; the permission rule and everything else stay).
/// One entry per file that exists.
pub fn uninstall_agent_hooks(repo: &Repo) -> Result<Vec<AgentFile>, AgentsError> {
    let Some(work) = repo.work_dir() else {
        return Ok(Vec::new());
    };
    let mut done = Vec::new();
    for (rel, hooks) in [
        (CLAUDE_LOCAL_SETTINGS, CLAUDE_HOOKS.to_vec()),
        (CODEX_HOOKS_FILE, codex_hooks(true)),
    ] {
        let path = work.join(rel);
        if !path.exists() {
            continue;
        }
        let action = merge_json(&path, rel, |root| remove_hooks(root, &hooks))?;
        done.push(AgentFile {
            path: rel.to_owned(),
            action: if action == "updated" {
                "removed"
            } else {
                action
            },
        });
    }
    Ok(done)
}

/// Adds each of `hooks` to the `hooks` object of an agent's settings, unless a group of it is
/// there already (one with the same command under the event). Whether anything was added.
fn add_hooks(
    root: &mut serde_json::Map<String, serde_json::Value>,
    hooks: &[AgentHook],
) -> Result<bool, Kept> {
    let table = object_at(root, "hooks")?;
    let mut changed = false;
    for &(event, matcher, command, timeout) in hooks {
        let groups = table
            .entry(event)
            .or_insert_with(|| serde_json::json!([]))
            .as_array_mut()
            .ok_or(Kept)?;
        if groups.iter().any(|g| runs(g, command)) {
            continue;
        }
        let mut hook = serde_json::json!({"type": "command", "command": command});
        if let Some(timeout) = timeout {
            hook["timeout"] = timeout.into();
        }
        let mut group = serde_json::json!({"hooks": [hook]});
        if let Some(matcher) = matcher {
            group["matcher"] = matcher.into();
        }
        groups.push(group);
        changed = true;
    }
    Ok(changed)
}

/// Removes the groups that run one of `hooks`' commands from an agent's settings, and the
/// events and the `hooks` object they leave empty. Whether anything was removed.
fn remove_hooks(
    root: &mut serde_json::Map<String, serde_json::Value>,
    hooks: &[AgentHook],
) -> Result<bool, Kept> {
    let Some(table) = root
        .get_mut("hooks")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return Ok(false);
    };
    let ours = |group: &serde_json::Value| hooks.iter().any(|&(_, _, c, _)| runs(group, c));
    let mut changed = false;
    for &(event, ..) in hooks {
        if let Some(groups) = table
            .get_mut(event)
            .and_then(serde_json::Value::as_array_mut)
        {
            let before = groups.len();
            groups.retain(|g| !ours(g));
            changed |= groups.len() != before;
            if groups.is_empty() {
                table.remove(event);
            }
        }
    }
    if table.is_empty() {
        root.remove("hooks");
    }
    Ok(changed)
}

/// Whether a hook group runs `command`.
fn runs(group: &serde_json::Value, command: &str) -> bool {
    group["hooks"]
        .as_array()
        .is_some_and(|hs| hs.iter().any(|h| h["command"] == command))
}

/// A JSON file someone else's content must be kept in as it is.
struct Kept;

/// The object under `key` of `root`, created when missing.
fn object_at<'a>(
    root: &'a mut serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Result<&'a mut serde_json::Map<String, serde_json::Value>, Kept> {
    root.entry(key)
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
        .ok_or(Kept)
}

/// Merges into the JSON object file at `path` with `edit` (which says whether it changed
/// anything, or [`Kept`] when the file holds something of someone else's there); writes it only
/// when it changed. Returns `created`, `updated`, `unchanged` or `kept`.
fn merge_json(
    path: &std::path::Path,
    name: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>) -> Result<bool, Kept>,
) -> Result<&'static str, AgentsError> {
    let io = |source| AgentsError::Io {
        path: name.to_owned(),
        source,
    };
    let (mut config, existed) = match std::fs::read_to_string(path) {
        Ok(text) => (
            serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| AgentsError::BadJson(name.to_owned(), e.to_string()))?,
            true,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (serde_json::json!({}), false),
        Err(e) => return Err(io(e)),
    };
    let root = config.as_object_mut().ok_or_else(|| {
        AgentsError::BadJson(name.to_owned(), "the top level is not an object".to_owned())
    })?;
    match edit(root) {
        Err(Kept) => Ok("kept"),
        Ok(false) => Ok("unchanged"),
        Ok(true) => {
            let mut text = serde_json::to_string_pretty(&config)
                .map_err(|e| AgentsError::BadJson(name.to_owned(), e.to_string()))?;
            text.push('\n');
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            std::fs::write(path, text).map_err(io)?;
            Ok(if existed { "updated" } else { "created" })
        }
    }
}

/// Adds `path` (relative to the work tree) to `.git/info/exclude` when no line there names it,
/// so a file that holds one person's settings is never committed.
fn exclude_locally(repo: &Repo, path: &str) -> std::io::Result<()> {
    let exclude = repo.common_dir().join("info").join("exclude");
    let line = format!("/{path}");
    let text = match std::fs::read_to_string(&exclude) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if text.lines().any(|l| l.trim() == line || l.trim() == path) {
        return Ok(());
    }
    if let Some(dir) = exclude.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{line}\n"));
    std::fs::write(&exclude, text)
}

/// What `init` writes into a new `.handoff.toml`: no setting (the built-in defaults apply, and
/// stay free to improve), only where to see and change them. A team's own choices are then the
/// only lines in the file.
pub const REPO_FILE_TEMPLATE: &str = "\
# git-handoff settings shared by this repository's clones: only what differs from the built-in
# defaults. `git handoff config --show-origin` lists every setting with where it comes from;
# `git handoff config KEY VALUE` sets one here, keeping these comments.
";

/// Writes `.handoff.toml` ([`REPO_FILE_TEMPLATE`]) when the work tree has none; returns
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
            std::io::Write::write_all(&mut file, REPO_FILE_TEMPLATE.as_bytes())
                .map_err(Error::RepoFile)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::RepoFile(e)),
    }
}
