//! `git handoff repair`.

use super::open;
use crate::ui;
use git_handoff::error::CommandResult;
use git_handoff::workflow::repair;

/// Re-attach sessions to commits after a cherry-pick or a forge's squash or rebase merge
///
/// Also renames tracking refs whose names carry a URL's credentials (from a push or pull of
/// https://user:TOKEN@host/... by an older version), so a later push --mirror cannot copy them.
///
/// Looks at the commits of --range (default: the last 2,000 commits of HEAD) and adds note
/// lines for sessions found by Handoff-Session: trailer first, then by patch-id (the same
/// change as a noted commit, or as a session's whole recorded range, as a squash merge has).
#[derive(Debug, clap::Args)]
pub struct RepairArgs {
    /// Commits to look at, in git's revision forms (A..B, A^!, "B ^X", several revisions)
    #[arg(long, value_name = "REVS")]
    pub range: Option<String>,
    /// Report what would be relinked without writing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Print {"relinked": [...]} as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `repair`.
pub fn run(args: &RepairArgs) -> CommandResult {
    let handoff = open()?;
    let relinked = repair::repair(&handoff, args.range.as_deref(), args.dry_run)?;
    // Tracking refs named after a URL with a token (older versions made them): renamed to the
    // URL without it, their old names never printed.
    let renamed = git_handoff::share::rename_tracking_refs_with_credentials(&handoff, args.dry_run)
        .map_err(anyhow::Error::from)?;
    if args.json {
        ui::json(&git_handoff::views::RepairView {
            relinked: &relinked,
            dry_run: args.dry_run,
            credential_refs_renamed: renamed.len(),
        })?;
        return Ok(());
    }
    if !renamed.is_empty() {
        let verb = if args.dry_run {
            "would rename"
        } else {
            "renamed"
        };
        ui::status(&format!(
            "{verb} {} tracking ref(s) whose names carried a URL's credentials",
            renamed.len()
        ));
    }
    let mut out = String::new();
    for r in &relinked {
        out.push_str(&format!(
            "{}  {}  ({})\n",
            &crate::render::short_oid(&r.commit),
            r.session,
            r.by
        ));
    }
    ui::out(&out);
    let verb = if args.dry_run {
        "would relink"
    } else {
        "relinked"
    };
    ui::status(&format!(
        "{verb} {} commit link(s) across {} session(s)",
        relinked.len(),
        repair::by_session(&relinked).len()
    ));
    Ok(())
}
