//! `git handoff push` and `git handoff pull`.

use super::open;
use crate::ui::{self, sanitize, sanitize_line};
use git_handoff::error::CommandResult;
use git_handoff::share::{self, PullReport};

/// Send sessions and notes to a remote (never forced)
///
/// Pushes every refs/handoff/sessions/* ref and refs/notes/handoff through your git (so
/// credentials, ssh config and proxies work as for any push). When the remote has changes we
/// lack, pulls and merges them, then retries (at most 3 times). Never adds remote.<name>.push
/// refspecs, so a bare `git push` behaves as before.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The remote
    #[arg(default_value = "origin")]
    pub remote: String,
    /// Print what was pushed as JSON
    #[arg(long)]
    pub json: bool,
}

/// Fetch a remote's sessions and notes and merge them into yours
///
/// Fetches into refs/handoff-remotes/<remote>/sessions/* and refs/notes/handoff-remotes/<remote>,
/// then merges: a new session is copied, one you are behind on fast-forwards, one both sides
/// changed gets a merge commit holding every artifact of both; notes merge by line union.
/// Nothing is ever dropped. A remote session that cannot be read is reported and left out.
#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The remote
    #[arg(default_value = "origin")]
    pub remote: String,
    /// Print what was merged as JSON
    #[arg(long)]
    pub json: bool,
}

/// Refuses a remote that is neither configured nor a URL or path, saying so plainly (git's
/// own message for it talks about access rights).
fn check_remote(handoff: &git_handoff::workflow::Handoff, remote: &str) -> CommandResult {
    let remotes = handoff.repo.remotes()?;
    let looks_like_location = remote.contains(['/', ':', '\\']) || remote.starts_with('.');
    if remotes.iter().any(|r| r == remote) || looks_like_location {
        return Ok(());
    }
    let error = if remotes.is_empty() {
        git_handoff::error::CommandError::new(
            git_handoff::error::ErrorKind::Config,
            anyhow::anyhow!("this repository has no remote configured"),
        )
        .hint("add one with: git remote add origin URL")
    } else {
        git_handoff::error::CommandError::new(
            git_handoff::error::ErrorKind::Config,
            anyhow::anyhow!(
                "no remote named '{}' (remotes: {})",
                sanitize_line(remote),
                remotes.join(", ")
            ),
        )
    };
    Err(error)
}

/// Runs `push`.
pub fn push(args: &PushArgs) -> CommandResult {
    // Opened before its warnings are said: handed over, git-handoff-net says them.
    let handoff = git_handoff::workflow::Handoff::open()?;
    let sync_after = handoff.config.byterover.sync_after_push
        && handoff.config.byterover.backend != git_handoff::config::BackendKind::Off;
    if sync_after && !crate::network::here() {
        // The sync after the push needs the network commands: the push runs there too.
        return crate::network::hand_over();
    }
    let handoff = super::on_terminal(handoff);
    check_remote(&handoff, &args.remote)?;
    let (refs, not_adopted) = share::refs_to_push(&handoff, &args.remote)?;
    for r in &not_adopted {
        ui::warn(&format!(
            "not sending {}: {}",
            sanitize(&r.refname),
            sanitize(&r.error)
        ));
    }
    if refs.is_empty() {
        ui::status("nothing to push: no sessions yet");
    }
    let report = share::push(&handoff, &args.remote, &refs, args.json)?;
    for pull in &report.pulls {
        report_problems(pull);
    }
    if args.json {
        ui::json(&report)?;
    } else {
        ui::status(&format!(
            "pushed {} ref(s) to {} ({} pull-merge round(s))",
            report.pushed.len(),
            sanitize(&git_handoff::store::transport::shown(&args.remote)),
            report.retries
        ));
    }
    // (Here `sync_after` implies `here()`; saying so leaves the sync out of git-handoff.)
    if sync_after && crate::network::here() {
        // The push itself succeeded; a failed sync is a warning, its artifacts stay queued.
        let synced = git_handoff::sync::backend(
            &handoff.config.byterover,
            handoff.repo.work_dir(),
            crate::network::connector(),
        )
        .and_then(|mut backend| {
            git_handoff::sync::sync(
                &handoff,
                backend.as_mut(),
                false,
                &mut ui::progress("syncing artifacts"),
            )
        });
        match synced {
            Ok(sync_report) if !args.json => super::sync::print(&sync_report, false)?,
            Ok(_) => {}
            Err(e) => ui::warn(&format!(
                "sync after push: {}",
                sanitize_line(&e.to_string())
            )),
        }
    }
    if !report.refused.is_empty() {
        let list: Vec<String> = report
            .refused
            .iter()
            .map(|r| format!("{}: {}", r.refname, r.error))
            .collect();
        return Err(git_handoff::error::CommandError::new(
            git_handoff::error::ErrorKind::Remote,
            anyhow::anyhow!(
                "{} refused {} ref(s): {}",
                crate::ui::sanitize_line(&git_handoff::store::transport::shown(&args.remote)),
                list.len(),
                crate::ui::sanitize_line(&list.join("; "))
            ),
        ));
    }
    Ok(())
}

/// Runs `pull`.
pub fn pull(args: &PullArgs) -> CommandResult {
    let handoff = open()?;
    check_remote(&handoff, &args.remote)?;
    let report = share::pull(&handoff, &args.remote, args.json)?;
    report_problems(&report);
    warn_of_credential_refs(&handoff);
    if args.json {
        ui::json(&report)?;
    } else {
        ui::status(&format!(
            "from {}: {} new, {} fast-forwarded, {} merged, {} up to date; notes {}",
            sanitize(&git_handoff::store::transport::shown(&args.remote)),
            report.created.len(),
            report.fast_forwarded.len(),
            report.merged.len(),
            report.up_to_date,
            report.notes
        ));
    }
    Ok(())
}

/// Warns when tracking refs carry a URL's credentials in their names (see `repair`).
fn warn_of_credential_refs(handoff: &git_handoff::workflow::Handoff) {
    if let Ok(found) = share::tracking_refs_with_credentials(handoff)
        && !found.is_empty()
    {
        ui::warn(&format!(
            "{} tracking ref(s) carry a URL's credentials in their names (made by an older git-handoff from a URL with a token); a push --mirror would copy them: rename them with 'git handoff repair'",
            found.len()
        ));
    }
}

fn report_problems(report: &PullReport) {
    for r in &report.rejected {
        ui::warn(&format!(
            "not merged: {}: {}",
            crate::ui::sanitize_line(&r.refname),
            crate::ui::sanitize_line(&r.error)
        ));
    }
    for c in &report.conflicts {
        ui::warn(&format!(
            "{}: {}",
            crate::ui::sanitize_line(&c.refname),
            crate::ui::sanitize_line(&c.error)
        ));
    }
}
