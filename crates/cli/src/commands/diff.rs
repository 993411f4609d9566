//! `git handoff diff`.

use similar::TextDiff;

use super::open;
use crate::ui::{self, sanitize};
use git_handoff::error::{CommandResult, user_error};
use git_handoff::session::{Artifact, Kind};

/// Show the text diff between two versions of an artifact
///
/// Versions are numbered 1, 2, ... in order among the artifacts of the kind, or named by
/// artifact ID (or a unique prefix). Without A and B the last two versions are compared, so
/// `git handoff diff ID` shows what changed from plan iteration 1 to 2.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Session: full ID, random part, unique prefix or slug
    pub id: String,
    /// Kind of artifact to compare
    #[arg(long, value_name = "KIND", default_value = "plan", value_parser = super::kind_parser())]
    pub kind: Kind,
    /// Older version (number or artifact ID)
    #[arg(requires = "b")]
    pub a: Option<String>,
    /// Newer version (number or artifact ID)
    pub b: Option<String>,
    /// Print {from, to, diff} as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `diff`.
pub fn run(args: &DiffArgs) -> CommandResult {
    let handoff = open()?;
    let session = handoff.session(&args.id)?;
    let versions: Vec<&Artifact> = session
        .artifacts
        .iter()
        .filter(|a| a.kind == args.kind)
        .collect();
    let (old, new) = match (&args.a, &args.b) {
        (Some(a), Some(b)) => (
            pick(&versions, a, args.kind)?,
            pick(&versions, b, args.kind)?,
        ),
        _ => match versions.as_slice() {
            [.., old, new] => (*old, *new),
            _ => {
                return Err(user_error(format!(
                    "session {} has {} {} artifact(s); a diff needs two",
                    session.meta.id,
                    versions.len(),
                    args.kind
                )));
            }
        },
    };
    // Versions by their place (and iteration), which people can read; the ULIDs are in --json.
    let label = |a: &Artifact| {
        let n = versions
            .iter()
            .position(|v| v.id == a.id)
            .map_or(0, |i| i + 1);
        format!("{} {n} (iteration {})", args.kind, a.iteration)
    };
    let old_name = label(old);
    let new_name = label(new);
    let (old_text, new_text) = (compared_text(old), compared_text(new));
    let diff = TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &new_name)
        .to_string();
    if args.json {
        ui::json(&git_handoff::views::DiffView {
            session: session.meta.id.as_str(),
            kind: args.kind,
            from: old.id,
            to: new.id,
            diff,
        })?;
    } else {
        ui::out(&sanitize(&diff));
    }
    Ok(())
}

/// What two versions are compared on: the body, then the verdict and the findings (a review
/// whose findings changed but whose prose did not is not "the same").
fn compared_text(a: &Artifact) -> String {
    let mut text = a.body.trim_end().to_owned();
    text.push('\n');
    if let Some(verdict) = a.verdict {
        text.push_str(&format!("\nVerdict: {verdict}\n"));
    }
    if !a.findings.is_empty() {
        text.push_str("\nFindings:\n");
        for f in &a.findings {
            let priority = f.priority.map_or_else(String::new, |p| format!("[P{p}] "));
            let place = match (&f.path, f.start_line, f.end_line) {
                (Some(p), Some(s), Some(e)) if s != e => format!(" ({p}:{s}-{e})"),
                (Some(p), Some(s), _) => format!(" ({p}:{s})"),
                (Some(p), None, _) => format!(" ({p})"),
                _ => String::new(),
            };
            text.push_str(&format!("- {priority}{}{place}\n", f.untagged_title()));
            for line in f.body.lines().filter(|l| !l.trim().is_empty()) {
                text.push_str(&format!("  {line}\n"));
            }
        }
    }
    text
}

fn pick<'a>(versions: &[&'a Artifact], which: &str, kind: Kind) -> CommandResult<&'a Artifact> {
    if let Ok(n) = which.parse::<usize>() {
        return versions.get(n.wrapping_sub(1)).copied().ok_or_else(|| {
            user_error(format!(
                "there is no {kind} version {n} (there are {})",
                versions.len()
            ))
        });
    }
    let upper = which.to_ascii_uppercase();
    let found: Vec<&&Artifact> = versions
        .iter()
        .filter(|a| a.id.to_string().starts_with(&upper))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(user_error(format!("no {kind} artifact matches '{which}'"))),
        _ => Err(user_error(format!(
            "'{which}' matches several {kind} artifacts"
        ))),
    }
}
