//! One file per subcommand: its `Args` (whose doc comment is the help text) and `run`. Glue only:
//! resolve arguments into library values, call one library function, render the result.

pub mod annotate;
pub mod config;
pub mod context;
pub mod demo;
pub mod diff;
pub mod hook;
pub mod init;
pub mod list;
pub mod log;
pub mod manuals;
pub mod record;
pub mod reindex;
pub mod repair;
pub mod run;
pub mod run_loop;
pub mod search;
pub mod share;
pub mod show;
pub mod status;
pub mod sync;
pub mod undo;
pub mod why;

use std::path::PathBuf;

use crate::body::BodySource;
use crate::ui;
use git_handoff::error::{CommandError, CommandResult};
use git_handoff::workflow::{Handoff, Recorded};

/// Where a body comes from: `-F`, `-m`, standard input, or the editor.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BodyArgs {
    /// Read the body from FILE ('-' for standard input)
    #[arg(short = 'F', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Use TEXT as the body; several -m are joined as paragraphs
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub message: Vec<String>,
}

impl BodyArgs {
    /// Reads the body (the editor opens only when nothing else gives one and stdin is a
    /// terminal).
    pub fn read(&self, handoff: &Handoff, what: &str) -> CommandResult<String> {
        let source = BodySource {
            file: self.file.clone(),
            messages: self.message.clone(),
        };
        let template = format!(
            "Write the {what} above this line (markdown). Everything below it is ignored;\nan empty {what} aborts."
        );
        source
            .read(handoff.repo.git_dir(), &template)
            .map_err(CommandError::user)
    }
}

/// Opens the repository of the current directory, printing configuration warnings.
pub fn open() -> CommandResult<Handoff> {
    Ok(on_terminal(Handoff::open()?))
}

/// `handoff` reporting on stderr, its configuration warnings said.
pub fn on_terminal(mut handoff: Handoff) -> Handoff {
    handoff.reporter = std::sync::Arc::new(ui::StderrReporter);
    for w in &handoff.config_warnings {
        ui::warn(w);
    }
    handoff
}

/// The remotes whose fetch does not bring their sessions (no `git handoff init` for them).
fn remotes_without_session_fetch(handoff: &Handoff) -> Vec<String> {
    let Ok(config) = handoff.repo.local_config() else {
        return Vec::new();
    };
    handoff
        .repo
        .remotes()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            !config
                .values(&format!("remote.{r}.fetch"))
                .unwrap_or_default()
                .iter()
                .any(|spec| spec.contains("refs/handoff/sessions/"))
        })
        .collect()
}

/// Whether `git handoff init` ran in this clone: its hooks are installed, or its remotes fetch
/// sessions (`init --no-hooks`).
pub fn clone_is_set_up(handoff: &Handoff) -> bool {
    git_handoff::hooks::install::is_installed(handoff.repo.run_dir())
        || (!handoff.repo.remotes().unwrap_or_default().is_empty()
            && remotes_without_session_fetch(handoff).is_empty())
}

/// When this clone has a remote whose fetch does not bring sessions (no `git handoff init`
/// here), says how to get them: a fresh clone fetches branches only.
pub fn hint_remote_sessions(handoff: &Handoff) {
    if let Some(remote) = remotes_without_session_fetch(handoff).first() {
        ui::status(&format!(
            "{remote}'s sessions are not fetched into this clone yet: run 'git handoff init' (then a plain 'git fetch' brings them), or 'git handoff pull {remote}'",
            remote = ui::sanitize_line(remote)
        ));
    }
}

/// Reports a recorded artifact: JSON on stdout, or status and the next step on stderr.
pub fn report_recorded(recorded: &Recorded, json: bool) -> CommandResult {
    let a = &recorded.artifact;
    let id = a.session.as_str();
    let view = git_handoff::views::recorded(recorded);
    for w in &recorded.warnings {
        ui::warn(&ui::sanitize_line(w));
    }
    if !recorded.redactions.is_empty() {
        ui::warn(&format!(
            "redacted {} secret(s) before writing ({}); pass --allow-secrets to keep them",
            recorded.redactions.len(),
            recorded.redactions.join(", ")
        ));
    }
    if json {
        ui::json(&view)?;
        return Ok(());
    }
    ui::status(&format!(
        "recorded {} {} on {id}: status {}",
        a.kind, a.id, a.status
    ));
    if let Some(range) = &a.range {
        ui::status(&format!(
            "range {range}: {} commit(s), {} note(s) added",
            recorded.range_commits, recorded.notes_added
        ));
    } else if !a.commits.is_empty() {
        ui::status(&format!(
            "{} commit(s), not contiguous ({}): {} note(s) added",
            recorded.range_commits,
            git_handoff::workflow::work::describe_commits(&a.commits),
            recorded.notes_added
        ));
    }
    ui::status(&view.next_text);
    Ok(())
}

/// A value parser that parses with `T`'s own `FromStr` (its leniency and its error) and names
/// the values it takes, so help lists them and shell completion offers them.
#[derive(Clone)]
pub struct Named<T> {
    names: Vec<&'static str>,
    parsed: std::marker::PhantomData<fn() -> T>,
}

impl<T> Named<T> {
    /// Takes the values `names`.
    pub fn new(names: impl IntoIterator<Item = &'static str>) -> Self {
        Self {
            names: names.into_iter().collect(),
            parsed: std::marker::PhantomData,
        }
    }
}

impl<T> clap::builder::TypedValueParser for Named<T>
where
    T: std::str::FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value
            .to_str()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8))?;
        text.parse().map_err(|e: String| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n"))
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.names
                .iter()
                .map(|n| clap::builder::PossibleValue::new(*n)),
        ))
    }
}

/// The statuses, as `--status` takes them.
pub fn status_parser() -> Named<git_handoff::session::Status> {
    Named::new(git_handoff::session::Status::ALL.iter().map(|s| s.as_str()))
}

/// The artifact kinds, as `--kind` takes them.
pub fn kind_parser() -> Named<git_handoff::session::Kind> {
    Named::new(git_handoff::session::Kind::ALL.iter().map(|k| k.as_str()))
}
