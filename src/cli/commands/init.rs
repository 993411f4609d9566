//! `git handoff init`.

use super::open;
use crate::cli::ui;
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
/// --agents, also registers the MCP server with Claude Code (.mcp.json), prints the Codex entry
/// and installs the git-handoff skill for both agents.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Do not install the git hooks
    #[arg(long)]
    pub no_hooks: bool,
    /// Remove our blocks from the hooks (and nothing else)
    #[arg(long, conflicts_with = "no_hooks")]
    pub uninstall: bool,
    /// Also set up the agents: .mcp.json for Claude Code, the skill for Claude and Codex, and
    /// the Codex MCP entry (printed)
    #[arg(long, conflicts_with = "uninstall")]
    pub agents: bool,
    /// Print what was changed as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `init`.
pub fn run(args: &InitArgs) -> CommandResult {
    let handoff = open()?;
    let dir = handoff.repo.run_dir().to_path_buf();
    if args.uninstall {
        let hooks = git_handoff::hooks::install::uninstall(&dir)?;
        if args.json {
            ui::json(&git_handoff::views::InitView {
                config_set: Vec::new(),
                wrote_repo_file: false,
                hooks,
                agents: Vec::new(),
            })?;
        } else {
            for h in &hooks {
                ui::status(&format!("{} {}", h.action, h.path.display()));
            }
            if hooks.is_empty() {
                ui::status("no git-handoff hook blocks to remove");
            }
        }
        return Ok(());
    }
    let config_set = init::configure(&handoff.repo)?;
    let wrote_repo_file = init::write_repo_file(&handoff.repo)?;
    let hooks = if args.no_hooks {
        Vec::new()
    } else {
        git_handoff::hooks::install::install(&dir)?
    };
    let agents = if args.agents {
        init::install_agents(&handoff.repo)?
    } else {
        Vec::new()
    };
    if args.json {
        ui::json(&git_handoff::views::InitView {
            config_set,
            wrote_repo_file,
            hooks,
            agents,
        })?;
        return Ok(());
    }
    for a in &agents {
        ui::status(&format!("{} {}", a.action, a.path));
    }
    if args.agents {
        ui::status("for Codex, register the MCP server with:");
        crate::cli::ui::err_write(&format!("\n{}\n", init::CODEX_ENTRY));
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
