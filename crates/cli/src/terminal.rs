//! Colour and the pager, decided as git decides them.
//!
//! Colour: `--color=always|never` wins; then a non-empty `NO_COLOR` turns it off; then git's
//! `color.ui` (`always`, `never`/`false`, `auto`/`true`); in `auto`, colour only when the output
//! is a terminal (or a pager started from one).
//!
//! Pager: `log`, `show`, `diff` and `context` page their output on a terminal through
//! `GIT_PAGER`, `core.pager`, `PAGER`, else `less`, with git's `LESS=FRX` and `LV=-c` unless
//! set; `cat` or an empty pager means none. Output then goes to the pager's standard input, and
//! the program waits for the pager before it exits.

use std::io::{IsTerminal, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, as `color.ui` and `NO_COLOR` allow.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();
static PAGER: Mutex<Option<Child>> = Mutex::new(None);

/// Records the `--color` given on the command line (once, at start).
pub fn set_color_choice(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
}

/// Whether output is coloured.
pub fn color_enabled() -> bool {
    static DECIDED: OnceLock<bool> = OnceLock::new();
    *DECIDED.get_or_init(|| {
        match CHOICE.get().copied().unwrap_or_default() {
            ColorChoice::Always => return true,
            ColorChoice::Never => return false,
            ColorChoice::Auto => {}
        }
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return false;
        }
        let to_terminal = paging() || std::io::stdout().is_terminal();
        match git_config("color.ui")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("always") => true,
            Some("never" | "false") => false,
            _ => to_terminal,
        }
    })
}

/// A value of the user's git configuration, through `git config` (so includes and
/// conditional includes work as in git).
fn git_config(key: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["config", "--get", key])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Starts the pager when standard output is a terminal and a pager is configured.
pub fn start_pager() {
    if !std::io::stdout().is_terminal() {
        return;
    }
    let pager = std::env::var("GIT_PAGER")
        .ok()
        .or_else(|| git_config("core.pager"))
        .or_else(|| std::env::var("PAGER").ok())
        .unwrap_or_else(|| "less".to_owned());
    if pager.trim().is_empty() || pager.trim() == "cat" {
        return;
    }
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &pager]).stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        cmd.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        cmd.env("LV", "-c");
    }
    if let Ok(child) = cmd.spawn() {
        *PAGER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(child);
    }
}

/// Whether output goes to a pager.
fn paging() -> bool {
    PAGER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .is_some()
}

/// Writes to the pager when one runs: `None` when none does, else the write's result.
pub fn write_to_pager(bytes: &[u8]) -> Option<std::io::Result<()>> {
    let mut pager = PAGER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stdin = pager.as_mut()?.stdin.as_mut()?;
    Some(stdin.write_all(bytes).and_then(|()| stdin.flush()))
}

/// Closes the pager's input and waits for the user to leave it.
pub fn finish_pager() {
    let child = PAGER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(mut child) = child {
        drop(child.stdin.take());
        let _ = child.wait();
    }
}
