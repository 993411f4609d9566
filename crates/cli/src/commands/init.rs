//! `git handoff init`.

use super::open;
use crate::ui;
use git_handoff::error::CommandResult;
use git_handoff::init;

/// Set up this clone for git-handoff (safe to run again)
///
/// Adds to every remote the fetch refspecs that bring its sessions and notes into
/// refs/handoff-remotes/<remote>/ with a plain git fetch, sets log.excludeDecoration=refs/handoff/*
/// so session refs stay out of git log, writes .handoff.toml with the documented defaults when
/// it is absent, and installs the pre-push, post-rewrite and prepare-commit-msg hooks in the
/// hooks directory git uses (core.hooksPath respected), between '# BEGIN git-handoff' /
/// '# END git-handoff' lines so existing hooks keep working (other hooks are chained). With
/// --agents, also registers the MCP server with Claude Code (.mcp.json), installs the gates in
/// both agents' project settings, prints the Codex entry and installs the git-handoff skill for
/// both agents.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Do not install the git hooks
    #[arg(long)]
    pub no_hooks: bool,
    /// Remove our blocks from the hooks (and nothing else)
    #[arg(long, conflicts_with = "no_hooks")]
    pub uninstall: bool,
    /// Also set up the agents: .mcp.json, a permission rule and the gates in
    /// .claude/settings.local.json for Claude Code, the gates in .codex/hooks.json for Codex,
    /// the skill for both, and the Codex MCP entry (printed)
    #[arg(long, conflicts_with = "uninstall")]
    pub agents: bool,
    /// The name the MCP server is registered under; byterover-mcp runs the seed skill
    /// unchanged (its allowed tools are mcp__byterover-mcp__*)
    #[arg(long, value_name = "NAME", default_value = init::DEFAULT_SERVER_NAME, requires = "agents", value_parser = parse_server_name)]
    pub server_name: String,
    /// Also add a git alias (default name: lga) for `git log` over every ref but git-handoff's:
    /// `git lga --oneline --graph` shows your branches without session and notes commits
    /// (git cannot hide refs from `git log --all`)
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "lga", conflicts_with = "uninstall", value_parser = parse_alias_name)]
    pub log_alias: Option<String>,
    /// Print what was changed as JSON
    #[arg(long)]
    pub json: bool,
}

/// An alias name git accepts as a configuration key's last part: letters, digits and `-`,
/// starting with a letter.
fn parse_alias_name(name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    if chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(name.to_owned())
    } else {
        Err("an alias name is letters, digits and '-', starting with a letter".to_owned())
    }
}

/// A server name as MCP clients accept it in tool names: letters, digits, `-` and `_`.
fn parse_server_name(name: &str) -> Result<String, String> {
    if !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(name.to_owned())
    } else {
        Err("a server name is 1 to 64 letters, digits, '-' or '_'".to_owned())
    }
}

/// Runs `init`.
pub fn run(args: &InitArgs) -> CommandResult {
    let handoff = open()?;
    let dir = handoff.repo.run_dir().to_path_buf();
    if args.uninstall {
        let hooks = git_handoff::hooks::install::uninstall(&dir)?;
        let aliases = init::remove_log_aliases(&handoff.repo)?;
        let agents: Vec<_> = init::uninstall_agent_hooks(&handoff.repo)
            .map_err(git_handoff::error::CommandError::user)?
            .into_iter()
            .filter(|f| f.action == "removed")
            .collect();
        if args.json {
            ui::json(&git_handoff::views::InitView {
                config_set: Vec::new(),
                wrote_repo_file: false,
                hooks,
                agents,
                codex_config: None,
                claude_allowed_tools: None,
            })?;
        } else {
            for h in &hooks {
                ui::status(&format!("{} {}", h.action, h.path.display()));
            }
            for f in &agents {
                ui::status(&format!("removed the agent gates from {}", f.path));
            }
            for key in &aliases {
                ui::status(&format!("removed {key}"));
            }
            if hooks.is_empty() && agents.is_empty() && aliases.is_empty() {
                ui::status("no git-handoff hook blocks to remove");
            }
        }
        return Ok(());
    }
    // First, so that a name someone else has refuses before anything else changes.
    let alias = match &args.log_alias {
        Some(name) => init::log_alias(&handoff.repo, name).map_err(|e| {
            git_handoff::error::CommandError::from(e)
                .hint("choose another name: git handoff init --log-alias NAME")
        })?,
        None => None,
    };
    let mut config_set = init::configure(&handoff.repo)?;
    config_set.extend(alias);
    let wrote_repo_file = init::write_repo_file(&handoff.repo)?;
    let hooks = if args.no_hooks {
        Vec::new()
    } else {
        git_handoff::hooks::install::install(&dir)?
    };
    let agents = if args.agents {
        let codex_implements = handoff.config.agents.planner == "codex";
        init::install_agents(&handoff.repo, &args.server_name, codex_implements)?
    } else {
        Vec::new()
    };
    if args.json {
        ui::json(&git_handoff::views::InitView {
            config_set,
            wrote_repo_file,
            hooks,
            codex_config: args.agents.then(|| init::codex_entry(&args.server_name)),
            claude_allowed_tools: args
                .agents
                .then(|| init::claude_allowed_tools(&args.server_name)),
            agents,
        })?;
        return Ok(());
    }
    for a in &agents {
        ui::status(&format!("{} {}", a.action, a.path));
        if a.action == "kept" && a.path == ".mcp.json" {
            let what = if args.server_name == init::SEED_SERVER_NAME {
                "is already configured (for the real Byterover?)"
            } else {
                "already names another server"
            };
            ui::warn(&format!(
                ".mcp.json: the server name '{}' {what}; it was left as it is, so Claude Code does not reach git handoff mcp under it (choose another with --server-name)",
                args.server_name
            ));
        }
    }
    if args.agents {
        ui::status(&format!(
            "Claude Code: .mcp.json registers the server and {} allows its tools (scripts: claude -p {})",
            init::CLAUDE_LOCAL_SETTINGS,
            init::claude_allowed_tools(&args.server_name)
        ));
        ui::status(&format!(
            "Codex: {} holds its gates, which Codex runs once this project is trusted and the hooks reviewed (/hooks in codex; codex exec --dangerously-bypass-hook-trust for vetted automation)",
            init::CODEX_HOOKS_FILE
        ));
        ui::status("Codex: add this table to its configuration:");
        crate::ui::err_write(&format!("\n{}\n", init::codex_entry(&args.server_name)));
    }
    for h in &hooks {
        ui::status(&format!("hook {}: {}", h.action, h.path.display()));
    }
    for c in &config_set {
        ui::status(&format!("set {c}"));
    }
    if wrote_repo_file {
        ui::status(&format!("wrote {}", git_handoff::config::REPO_FILE));
    }
    if config_set.is_empty() && !wrote_repo_file && hooks.is_empty() && !args.agents {
        ui::status("already set up; nothing changed");
    }
    Ok(())
}
