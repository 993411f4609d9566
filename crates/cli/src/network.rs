//! The commands that talk to other programs over MCP or HTTP run in `git-handoff-net`, which is
//! built from this same front end with them (README, "Install"). `git-handoff` runs everything
//! else itself and hands those over: the MCP server, the Byterover client and the GitHub API
//! client bring an async runtime, HTTP and TLS, which were half of the executable and a sixth
//! of the start-up of every command.

use std::path::PathBuf;
use std::sync::OnceLock;

use git_handoff::annotate::Selection;
use git_handoff::annotate::github;
use git_handoff::error::{CommandError, CommandResult, ErrorKind};
use git_handoff::sync::backend::{Backend, Fault};
use git_handoff::sync::mcp::{Connector, Settings};

use crate::Command;

/// The executable that runs the network commands, installed beside `git-handoff`.
pub const HELPER: &str = "git-handoff-net";

/// What the network executable adds to this front end: the network crate (`git-handoff-net`)
/// implements it and passes it to [`crate::main`]; `git-handoff` passes none and hands the
/// network commands over.
pub trait Network: Sync {
    /// Serves the repository over MCP on standard input and output until the client leaves.
    fn serve_mcp(&self) -> CommandResult;
    /// The Byterover MCP client, for `[byterover] backend = "mcp"`.
    fn mcp_connector(&self) -> &dyn Connector;
    /// Posts one pull request review.
    fn post_review(
        &self,
        settings: github::Settings,
        selection: &Selection,
    ) -> Result<github::Posted, github::Error>;
}

static NETWORK: OnceLock<&'static dyn Network> = OnceLock::new();

/// Gives this process its network part (once, at start).
pub(crate) fn install(network: &'static dyn Network) {
    let _ = NETWORK.set(network);
}

/// This executable's network part, when it has one.
pub fn get() -> Option<&'static dyn Network> {
    NETWORK.get().copied()
}

/// Whether this executable runs the network commands itself.
pub fn here() -> bool {
    get().is_some()
}

/// The one table of the commands that run in `git-handoff-net`: the MCP server, `sync`,
/// `annotate` and `search --remote`. (`push` goes there too when `[byterover] sync-after-push`
/// is on, which only the configuration tells: `share::push` asks [`here`] once it is read.)
pub fn needs_network(command: &Command) -> bool {
    match command {
        Command::Mcp(_) | Command::Sync(_) | Command::Annotate(_) => true,
        Command::Search(args) => args.remote,
        _ => false,
    }
}

/// The network part, for a command of [`needs_network`] (dispatched here only when [`here`]).
pub fn required() -> Result<&'static dyn Network, CommandError> {
    get().ok_or_else(|| {
        CommandError::new(
            ErrorKind::Internal,
            anyhow::anyhow!("a network command reached an executable without the network crate"),
        )
    })
}

/// The MCP client to build sync backends with: this executable's, or one that says the
/// command belongs to `git-handoff-net`.
pub fn connector() -> &'static dyn Connector {
    match get() {
        Some(network) => network.mcp_connector(),
        None => &Elsewhere,
    }
}

/// The connector of an executable without the network crate.
struct Elsewhere;

impl Connector for Elsewhere {
    fn connect(&self, _: Settings) -> Result<Box<dyn Backend>, Fault> {
        Err(Fault::Local(format!(
            "the mcp backend runs in {HELPER}; run the command through git-handoff, which hands it over"
        )))
    }
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
            "install both executables: cargo install --path crates/net installs {HELPER} beside git-handoff"
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
