//! `git handoff search`.

use super::list::{FilterArgs, refreshed_index};
use super::open;
use crate::cli::ui::{self, Style, paint, sanitize};
use git_handoff::error::CommandResult;
use git_handoff::index::{MATCH_END, MATCH_START};

/// Search plans, reviews, implementations and validations
///
/// Full-text search over every artifact in the local index, best match first (BM25). Words are
/// matched as written (search syntax is not interpreted); `word*` matches a prefix. A session
/// ID or its 8-character random part in the query ranks that session first. Results are
/// instant: the index refreshes from the refs on every call.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// What to look for
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    pub query: Vec<String>,
    /// Which artifacts.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// At most this many results
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Print {"query": ..., "results": [...]} as JSON (matches marked with **)
    #[arg(long)]
    pub json: bool,
}

/// Runs `search`.
pub fn run(args: &SearchArgs) -> CommandResult {
    let handoff = open()?;
    let index = refreshed_index(&handoff)?;
    let query = args.query.join(" ");
    let hits = index.search(
        &handoff.store(),
        &query,
        &args.filter.filter(Some(args.limit)),
    )?;
    if args.json {
        let results = hits
            .into_iter()
            .map(|mut h| {
                h.snippet = h.snippet.replace([MATCH_START, MATCH_END], "**");
                h
            })
            .collect();
        ui::json(&git_handoff::views::SearchView {
            query: &query,
            results,
        })?;
        return Ok(());
    }
    if hits.is_empty() {
        ui::status(&format!("nothing matches '{}'", sanitize(&query)));
        return Ok(());
    }
    let (open_mark, close_mark) = if ui::color_enabled() {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    let mut out = String::new();
    for h in &hits {
        out.push_str(&format!(
            "{}  {} {} ({})  {}\n",
            paint(&h.session, Style::Cyan),
            h.kind,
            h.artifact,
            crate::cli::ui::sanitize_line(&h.agent),
            h.status.as_deref().unwrap_or("-")
        ));
        let snippet = sanitize(&h.snippet.replace('\n', " "))
            .replace(MATCH_START, open_mark)
            .replace(MATCH_END, close_mark);
        out.push_str(&format!("    {snippet}\n"));
    }
    ui::out(&out);
    Ok(())
}
