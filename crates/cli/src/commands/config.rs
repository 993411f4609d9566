//! `git handoff config`.

use crate::ui::{self, sanitize_line};
use git_handoff::config::origin;
use git_handoff::error::{CommandError, CommandResult, ErrorKind};

/// Show or set configuration, as git config does
///
/// Without KEY: every effective setting as key=value, from the built-in defaults, the
/// repository's .handoff.toml (committed, shared with the team) and the user file
/// ($XDG_CONFIG_HOME/git-handoff/config.toml), the later winning. With KEY: its value. With KEY
/// VALUE: sets it in .handoff.toml, keeping the file's comments; VALUE is read as TOML (3,
/// true, ["brv", "mcp"]) or taken as a string. Tokens are never set here: they come from the
/// environment.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// A dotted key (policy.pre-push, byterover.backend, ...)
    #[arg(value_name = "KEY")]
    pub key: Option<String>,
    /// The value to set
    #[arg(value_name = "VALUE", requires = "key")]
    pub value: Option<String>,
    /// Say where each value comes from
    #[arg(long)]
    pub show_origin: bool,
    /// Print [{key, value, origin}] as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `config`.
pub fn run(args: &ConfigArgs) -> CommandResult {
    let repo = git_handoff::git::Repo::open_from_env().map_err(CommandError::from)?;
    let workdir = repo.work_dir().map(std::path::Path::to_path_buf);
    if let (Some(key), Some(value)) = (&args.key, &args.value) {
        let path = origin::set(workdir.as_deref(), key, value).map_err(|e| match e {
            origin::SetError::Invalid(inner) => CommandError::from(inner),
            other => CommandError::new(ErrorKind::Config, other),
        })?;
        ui::status(&format!("set {key} in {}", path.display()));
        return Ok(());
    }
    let mut settings = origin::settings(workdir.as_deref())?;
    if let Some(key) = &args.key {
        settings.retain(|s| &s.key == key || s.key.starts_with(&format!("{key}.")));
        if settings.is_empty() {
            // As git config: an unset key exits 1 with nothing printed.
            return Err(CommandError::new(
                ErrorKind::Config,
                anyhow::anyhow!("'{key}' is not set (git handoff config lists every key)"),
            ));
        }
    }
    if args.json {
        return Ok(ui::json(&settings)?);
    }
    let mut out = String::new();
    for s in &settings {
        if args.show_origin {
            out.push_str(&format!("{}\t", sanitize_line(&s.origin)));
        }
        if args.key.as_deref() == Some(s.key.as_str()) && !args.show_origin {
            out.push_str(&format!("{}\n", sanitize_line(&s.value)));
        } else {
            out.push_str(&format!("{}={}\n", s.key, sanitize_line(&s.value)));
        }
    }
    ui::out(&out);
    Ok(())
}
