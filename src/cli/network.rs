//! The commands that talk to other programs over MCP or HTTP run in `git-handoff-net`, which is
//! built from this same front end with them (README, "Install"). `git-handoff` runs everything
//! else itself and hands those over: the MCP server, the Byterover client and the GitHub API
//! client bring an async runtime, HTTP and TLS, which were half of the executable and a sixth
//! of the start-up of every command.

use std::path::PathBuf;

use git_handoff::error::{CommandError, CommandResult, ErrorKind};

/// The executable that runs the network commands, installed beside `git-handoff`.
pub const HELPER: &str = "git-handoff-net";

/// Runs a network command: here in `git-handoff-net`, else by handing the whole command line
/// over to it.
pub fn run(command: impl FnOnce() -> CommandResult) -> CommandResult {
    if crate::RUNS_NETWORK_COMMANDS {
        command()
    } else {
        hand_over()
    }
}

/// Whether this executable runs the network commands itself.
pub fn here() -> bool {
    crate::RUNS_NETWORK_COMMANDS
}

/// Runs this same command line in `git-handoff-net`, which takes over this process: its
/// standard streams (an MCP server's protocol on stdio), its exit code and its signals are the
/// command's own. Returns only when it cannot be started.
pub fn hand_over() -> CommandResult {
    let helper = helper_path().ok_or_else(|| {
        let beside = beside_this().map_or_else(String::new, |p| format!(" at {}", p.display()));
        CommandError::new(
            ErrorKind::Config,
            anyhow::anyhow!(
                "this command runs in {HELPER}, which was not found{beside} or on PATH"
            ),
        )
        .hint(format!(
            "install both executables: cargo install --path . installs {HELPER} beside git-handoff"
        ))
    })?;
    let mut command = std::process::Command::new(&helper);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // Only returns on failure.
        let err = command.arg0("git-handoff").exec();
        Err(cannot_run(&helper, &err))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(|err| cannot_run(&helper, &err))?;
        std::process::exit(status.code().unwrap_or(1))
    }
}

fn cannot_run(helper: &std::path::Path, err: &std::io::Error) -> CommandError {
    CommandError::new(
        ErrorKind::Internal,
        anyhow::anyhow!("cannot run {}: {err}", helper.display()),
    )
}

/// `git-handoff-net` in this executable's directory.
fn beside_this() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.with_file_name(format!("{HELPER}{}", std::env::consts::EXE_SUFFIX)))
}

/// `git-handoff-net` beside this executable, else the first on PATH.
fn helper_path() -> Option<PathBuf> {
    if let Some(beside) = beside_this().filter(|p| p.is_file()) {
        return Some(beside);
    }
    let name = format!("{HELPER}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&name))
        .find(|p| p.is_file())
}
