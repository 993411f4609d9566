//! `git handoff status`: what a user needs before committing or pushing.

use super::open;
use crate::ui;
use git_handoff::error::CommandResult;

/// Show the current session (the one new commits are credited to), its status and next
/// step, handoff data not yet pushed, and whether this clone was set up with init
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The remote to compare with (default: the current branch's remote, else origin)
    #[arg(long)]
    pub remote: Option<String>,
    /// Print {"current": ..., "initialized": ..., "remote": ..., "unpushed": [...]} as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `status`.
pub fn run(args: &StatusArgs) -> CommandResult {
    let handoff = open()?;
    let current_id = git_handoff::workflow::current::get(&handoff.repo);
    let head = handoff.repo.head_place();
    let elsewhere: Vec<git_handoff::views::PlaceView> =
        git_handoff::workflow::current::all(&handoff.repo)
            .into_iter()
            .filter(|(place, id)| *place != head && Some(id) != current_id.as_ref())
            .map(|(place, id)| git_handoff::views::PlaceView {
                place,
                id: id.to_string(),
            })
            .collect();
    let here = git_handoff::workflow::current::place_name(&head);
    let session = current_id.as_ref().map(|id| handoff.store().load(id));
    let current = match (&current_id, &session) {
        (Some(id), Some(Ok(s))) => Some(git_handoff::views::CurrentView {
            id: id.to_string(),
            title: Some(&s.meta.title),
            status: s.state.status.map(|st| st.as_str()),
            next: s.state.next_command(id.as_str()),
            next_text: Some(s.state.next_step(id.as_str())),
            error: None,
        }),
        (Some(id), Some(Err(e))) => Some(git_handoff::views::CurrentView {
            id: id.to_string(),
            title: None,
            status: None,
            next: None,
            next_text: None,
            error: Some(e.to_string()),
        }),
        _ => None,
    };
    let initialized = super::clone_is_set_up(&handoff);
    let remote = args
        .remote
        .clone()
        .or_else(|| handoff.repo.default_remote());
    let (unpushed, behind) = match &remote {
        Some(r) => {
            let all = git_handoff::share::all_refs(&handoff).map_err(anyhow::Error::from)?;
            (
                git_handoff::share::changed_refs(&handoff, r, &all).map_err(anyhow::Error::from)?,
                git_handoff::share::behind_refs(&handoff, r, &all).map_err(anyhow::Error::from)?,
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    if args.json {
        ui::json(&git_handoff::views::StatusView {
            current,
            initialized,
            remote: remote.as_deref(),
            unpushed,
            behind,
            head,
            elsewhere,
        })?;
        return Ok(());
    }
    let mut out = String::new();
    match &current {
        Some(c) => {
            out.push_str(&format!(
                "current session: {}  {}\n",
                ui::paint(&c.id, ui::Style::Cyan),
                ui::sanitize_line(c.title.unwrap_or("(unreadable)"))
            ));
            out.push_str(&format!("current on:      {}\n", ui::sanitize_line(&here)));
            if let Some(status) = c.status {
                out.push_str(&format!(
                    "status:          {}\n",
                    ui::paint(status, ui::status_style(status))
                ));
            }
            if let Some(next) = &c.next_text {
                let next = next.strip_prefix("next: ").unwrap_or(next);
                out.push_str(&format!("next:            {next}\n"));
            }
            if let Some(e) = &c.error {
                out.push_str(&format!("error:           {}\n", ui::sanitize_line(e)));
            }
        }
        None => out.push_str(&format!(
            "no current session on {}: commits here get no Handoff-Session trailer (git handoff start ID)\n",
            ui::sanitize_line(&here)
        )),
    }
    for other in &elsewhere {
        out.push_str(&format!(
            "also current:    {} on {}\n",
            other.id,
            ui::sanitize_line(&git_handoff::workflow::current::place_name(&other.place))
        ));
    }
    if let Some(r) = &remote {
        if !behind.is_empty() {
            out.push_str(&format!(
                "behind:          {} ref(s) of {} have newer artifacts or notes: pull (git handoff pull {})\n",
                behind.len(),
                ui::sanitize_line(&git_handoff::store::transport::shown(r)),
                ui::sanitize_line(&git_handoff::store::transport::shown(r))
            ));
        }
        if unpushed.is_empty() {
            if behind.is_empty() {
                out.push_str(&format!(
                    "handoff data:    up to date with {}\n",
                    ui::sanitize_line(&git_handoff::store::transport::shown(r))
                ));
            }
        } else {
            out.push_str(&format!(
                "handoff data:    {} ref(s) not pushed to {} (git handoff push {})\n",
                unpushed.len(),
                ui::sanitize_line(&git_handoff::store::transport::shown(r)),
                ui::sanitize_line(&git_handoff::store::transport::shown(r))
            ));
        }
    }
    ui::out(&out);
    if !initialized {
        ui::status(
            "hint: this clone was not set up; run 'git handoff init' (hooks, fetch refspecs)",
        );
    }
    Ok(())
}
