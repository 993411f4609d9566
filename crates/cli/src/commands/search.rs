//! `git handoff search`.

use super::list::FilterArgs;
use super::open;
use crate::ui::{self, Style, paint, sanitize};
use git_handoff::error::CommandResult;
use git_handoff::index::{MATCH_END, MATCH_START};

/// Search plans, reviews, implementations and validations
///
/// Full-text search over every artifact in the local index, best match first (BM25). Words are
/// matched as written (search syntax is not interpreted); `word*` matches a prefix. A session
/// ID or its 8-character random part in the query ranks that session first. Results are
/// instant: the index refreshes from the refs on every call. With --remote the Byterover index
/// of [byterover] in .handoff.toml is asked instead, and each hit is mapped back to the session
/// it names and checked against the refs (hits git does not have are marked).
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
    /// Print {"query": ..., "results": [...]} as JSON (each hit's matches as byte offsets into
    /// its snippet; the score grows with relevance)
    #[arg(long)]
    pub json: bool,
    /// Ask the Byterover index ([byterover] in .handoff.toml) instead of the local one
    #[arg(long)]
    pub remote: bool,
}

/// Runs `search`.
pub fn run(args: &SearchArgs) -> CommandResult {
    if args.remote {
        // Here only in git-handoff-net (crate::network::needs_network).
        let handoff = open()?;
        return remote(&handoff, &args.query.join(" "), args);
    }
    let handoff = open()?;
    let query = args.query.join(" ");
    let store = handoff.store();
    let filter = args.filter.filter(Some(args.limit));
    let hits = git_handoff::index::read_with_rebuild(
        &store,
        &mut |line| ui::status(line),
        &mut ui::progress("indexing sessions"),
        |index| index.search(&store, &query, &filter),
    )?;
    if args.json {
        ui::json(&git_handoff::index::search_view(&query, hits))?;
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
            paint(&h.found.session, Style::Cyan),
            h.found.kind,
            h.found.artifact,
            crate::ui::sanitize_line(&h.found.agent),
            h.found.status.as_deref().unwrap_or("-")
        ));
        let snippet = sanitize(&h.snippet.replace('\n', " "))
            .replace(MATCH_START, open_mark)
            .replace(MATCH_END, close_mark);
        out.push_str(&format!("    {snippet}\n"));
    }
    ui::out(&out);
    Ok(())
}

/// `search --remote`: the same shape as the local search, from the Byterover index.
fn remote(
    handoff: &git_handoff::workflow::Handoff,
    query: &str,
    args: &SearchArgs,
) -> CommandResult {
    let mut backend = git_handoff::sync::backend(
        &handoff.config.byterover,
        handoff.repo.work_dir(),
        crate::network::connector(),
    )?;
    let results = git_handoff::sync::search_remote(handoff, backend.as_mut(), query, args.limit)?;
    if args.json {
        ui::json(
            &serde_json::json!({"query": query, "remote": backend.key(), "results": results}),
        )?;
        return Ok(());
    }
    if results.is_empty() {
        ui::status(&format!("the index has nothing for '{}'", sanitize(query)));
        return Ok(());
    }
    let mut out = String::new();
    for r in &results {
        let session = if r.session.is_empty() {
            "(no session named)"
        } else {
            r.session.as_str()
        };
        let mark = if r.in_git { "" } else { "  [not in git]" };
        out.push_str(&format!(
            "{}  {} {} ({})  {}{}\n",
            paint(&crate::ui::sanitize_line(session), Style::Cyan),
            r.kind.as_deref().unwrap_or("-"),
            crate::ui::sanitize_line(r.artifact.as_deref().unwrap_or("-")),
            crate::ui::sanitize_line(r.agent.as_deref().unwrap_or("-")),
            r.status.as_deref().unwrap_or("-"),
            mark
        ));
        let snippet: String = r.snippet.replace('\n', " ").chars().take(200).collect();
        out.push_str(&format!("    {}\n", crate::ui::sanitize_line(&snippet)));
    }
    ui::out(&out);
    Ok(())
}
