//! `git handoff init`.

use serde::Serialize;

use super::open;
use crate::error::{CommandResult, user_error};
use crate::init;
use crate::ui;

/// Set up this clone for git-handoff (safe to run again)
///
/// Sets notes.rewriteRef=refs/notes/handoff and notes.rewriteMode=cat_sort_uniq so notes follow
/// amend and rebase, log.excludeDecoration=refs/handoff/* so session refs stay out of git log,
/// and writes .handoff.toml with the documented defaults when it is absent.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Do not install the git hooks
    #[arg(long)]
    pub no_hooks: bool,
    /// Print what was changed as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct InitJson {
    config_set: Vec<String>,
    wrote_repo_file: bool,
}

/// Runs `init`.
pub fn run(args: &InitArgs) -> CommandResult {
    let handoff = open()?;
    let config_set = init::configure(&handoff.repo).map_err(user_error)?;
    let wrote_repo_file = init::write_repo_file(&handoff.repo).map_err(user_error)?;
    let _ = args.no_hooks;
    if args.json {
        ui::json(&InitJson {
            config_set,
            wrote_repo_file,
        })?;
        return Ok(());
    }
    for c in &config_set {
        ui::status(&format!("set {c}"));
    }
    if wrote_repo_file {
        ui::status(&format!("wrote {}", crate::config::REPO_FILE));
    }
    if config_set.is_empty() && !wrote_repo_file {
        ui::status("already set up; nothing changed");
    }
    Ok(())
}
