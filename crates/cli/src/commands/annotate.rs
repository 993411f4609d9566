//! `git handoff annotate`.

use std::io::Write as _;

use super::open;
use crate::ui;
use git_handoff::annotate::{self, Target, formats, github};
use git_handoff::error::{CommandError, CommandResult, ErrorKind};

/// Turn review and validation findings into pull request annotations
///
/// Takes the open findings (those of each session's latest review or validation) of one
/// session, or of every session whose commits a range touches (notes, then trailers), most
/// severe first, and prints them as GitHub workflow commands (at most 10 per severity, as
/// GitHub keeps; the full list goes to $GITHUB_STEP_SUMMARY when set), SARIF 2.1.0 for code
/// scanning, reviewdog rdjsonl, GitLab Code Quality JSON, Checks API output batches of at most
/// 50 annotations, or a markdown block for the pull request description. With --post github
/// --pr N it posts one pull request review (GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL,
/// as inside GitHub Actions): findings on lines of the diff inline, the rest in the body.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["session", "range"])))]
#[command(group(clap::ArgGroup::new("how").required(true).multiple(true).args(["format", "post"])))]
pub struct AnnotateArgs {
    /// The session (full ID, random part, unique prefix or slug)
    #[arg(value_name = "ID")]
    pub session: Option<String>,
    /// Every session whose commits this range touches (A..B, as git log reads it)
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Output format
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Post one review to this forge's pull request (needs --pr)
    #[arg(long, value_enum, requires = "pr")]
    pub post: Option<Forge>,
    /// The pull request number for --post
    #[arg(long, value_name = "N", requires = "post")]
    pub pr: Option<u64>,
    /// With --post: print what was posted as JSON
    #[arg(long)]
    pub json: bool,
}

/// The formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// GitHub Actions workflow commands (::error file=...::)
    Github,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
    /// reviewdog diagnostics, one JSON object per line
    Rdjsonl,
    /// GitLab Code Quality report
    Gitlab,
    /// Checks API output objects, at most 50 annotations each
    Checks,
    /// A block for the pull request description
    Markdown,
}

/// Where --post posts.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Forge {
    /// A GitHub pull request review
    Github,
}

/// Runs `annotate`.
pub fn run(args: &AnnotateArgs) -> CommandResult {
    let handoff = open()?;
    let target = match (&args.session, &args.range) {
        (Some(id), _) => Target::Session(id.clone()),
        (None, Some(range)) => Target::Range(range.clone()),
        // clap requires one of them.
        (None, None) => {
            return Err(CommandError::user(anyhow::anyhow!(
                "name a session or give --range A..B"
            )));
        }
    };
    let selection = annotate::select(&handoff, &target).map_err(|e| match e {
        annotate::Error::Workflow(e) => CommandError::from(*e),
        annotate::Error::Store(e) => CommandError::from(*e),
        annotate::Error::Git(e) => CommandError::from(e),
    })?;
    if let Some(format) = args.format {
        if selection.annotations.is_empty() {
            // The output is still a valid document of its format (an empty SARIF run, `[]`,
            // no lines): said here, so an empty result is not mistaken for a failure.
            ui::status(&format!(
                "no open findings in {} session(s)",
                selection.sessions.len()
            ));
        }
        let output = match format {
            Format::Github => formats::github(&selection),
            Format::Sarif => formats::sarif(&selection),
            Format::Rdjsonl => formats::rdjsonl(&selection),
            Format::Gitlab => formats::gitlab(&selection),
            Format::Checks => formats::checks(&selection),
            Format::Markdown => formats::Output {
                text: formats::markdown(&selection),
                ..formats::Output::default()
            },
        };
        ui::out(&output.text);
        if let Some(summary) = &output.summary
            && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
        {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(summary.as_bytes()))
                .map_err(|e| {
                    CommandError::user(anyhow::anyhow!(
                        "cannot write the job summary {}: {e}",
                        std::path::Path::new(&path).display()
                    ))
                })?;
        }
        if output.left_out > 0 {
            let why = match format {
                Format::Github => {
                    "beyond GitHub's 10 per severity; all are in the job summary ($GITHUB_STEP_SUMMARY)"
                }
                Format::Checks => "without a path and line",
                _ => "without a path",
            };
            ui::warn(&format!("{} finding(s) left out: {why}", output.left_out));
        }
    }
    if args.post.is_some() {
        let pr = args.pr.unwrap_or_default();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let token = env("GITHUB_TOKEN").ok_or_else(|| {
            CommandError::new(
                ErrorKind::Config,
                anyhow::anyhow!("GITHUB_TOKEN is not set"),
            )
            .hint("GitHub Actions sets it with 'permissions: pull-requests: write'")
        })?;
        let repository = env("GITHUB_REPOSITORY").ok_or_else(|| {
            CommandError::new(
                ErrorKind::Config,
                anyhow::anyhow!("GITHUB_REPOSITORY is not set (owner/repo)"),
            )
        })?;
        let settings = github::Settings {
            api_url: env("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".to_owned()),
            repository,
            token,
            pr,
            max_wait: std::time::Duration::from_secs(60),
        };
        let posted = crate::network::required()?.post_review(settings, &selection)?;
        if args.json {
            ui::json(&posted)?;
        } else if posted.duplicate {
            ui::status(&format!(
                "pull request #{pr} already has this review; nothing posted"
            ));
        } else {
            ui::status(&format!(
                "posted a {} review on #{pr}: {} inline comment(s), {} finding(s) in its body{}",
                posted.event,
                posted.inline,
                posted.in_body,
                if posted.moved_after_422 {
                    " (GitHub refused the inline comments: they are in the body)"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(())
}
