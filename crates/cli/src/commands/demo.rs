//! `git handoff demo`.

use std::path::PathBuf;

use crate::ui;
use git_handoff::error::{CommandError, CommandResult};

/// Play the seed's rate-limiting example end to end in a scratch repository
///
/// Plan, Codex review with findings, commits, implementation, validation and pattern, from
/// recorded agent answers, offline. Prints each step and the plain-git commands to look at the
/// result. The scratch repository is kept so you can explore it.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where to create the scratch repository (default: a new directory under the temp dir)
    pub dir: Option<PathBuf>,
}

/// Runs `demo`.
pub fn run(args: &DemoArgs) -> CommandResult {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => tempfile::Builder::new()
            .prefix("git-handoff-demo-")
            .tempdir()
            .map_err(|e| CommandError::user(anyhow::anyhow!("creating a scratch directory: {e}")))?
            .keep(),
    };
    let outcome =
        crate::demo_script::run(&dir, &mut |text| ui::out(text)).map_err(CommandError::user)?;
    ui::status(&format!(
        "demo finished: {} is {}",
        outcome.session, outcome.status
    ));
    ui::status(&format!(
        "the scratch repository stays in {d} for you to look around; remove it with: rm -rf {d}",
        d = ui::sanitize_line(&dir.display().to_string())
    ));
    Ok(())
}
