//! `git handoff reindex`.

use super::open;
use crate::ui;
use git_handoff::error::CommandResult;
use git_handoff::index::Index;

/// Rebuild the local search index from the refs
///
/// Never needed for correctness (every read refreshes incrementally and a damaged index is
/// rebuilt by itself); use it after changing git-handoff versions or to measure a cold build.
#[derive(Debug, clap::Args)]
pub struct ReindexArgs {
    /// Print {"sessions": n, "bytes": n} as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `reindex`.
pub fn run(args: &ReindexArgs) -> CommandResult {
    let handoff = open()?;
    let store = handoff.store();
    let index = Index::open(store.repo().common_dir(), &mut |line| ui::status(line))?;
    let mut index = index.reset()?;
    // A rebuild is the whole index: the full-text terms too, not left for the first search.
    let stats = index.refresh_with_text(&store, &mut ui::progress("indexing sessions"))?;
    let bytes = index.size_bytes();
    if args.json {
        ui::json(&git_handoff::views::ReindexView {
            sessions: stats.read,
            bytes,
        })?;
    } else {
        ui::status(&format!("indexed {} session(s), {bytes} bytes", stats.read));
    }
    Ok(())
}
