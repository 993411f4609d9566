//! The command-line front end of `git-handoff` and `git-handoff-net`: the `Cli` type, the
//! table of subcommands and their dispatch, terminals, editors and standard input. Only this
//! crate knows clap. The network commands run where a [`network::Network`] was given to
//! [`main`] (the network crate's executable); elsewhere they are handed over to it.

pub mod body;
pub mod commands;
pub mod demo_script;
pub mod network;
pub mod remedy;
pub mod render;
pub mod terminal;
pub mod ui;

use clap::{Parser, Subcommand};

use crate::commands::{
    annotate, config, context, demo, diff, hook, init, list, log, manuals, record, reindex, repair,
    run, run_loop, search, share, show, status, sync, undo, why,
};
use git_handoff::error::CommandResult;

/// Git-native handoff between coding agents
///
/// Plans, reviews, implementation summaries and validations are stored in the repository:
/// one commit chain per session under refs/handoff/sessions/<ID>, and git notes
/// (refs/notes/handoff) on the code commits each session produced. Start with
/// `git handoff demo`.
#[derive(Debug, Parser)]
#[command(
    name = "git-handoff",
    bin_name = "git handoff",
    version,
    max_term_width = 100
)]
pub struct Cli {
    /// When to colour the output: auto (a terminal, unless NO_COLOR is set or git's color.ui
    /// says otherwise), always or never
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = terminal::ColorChoice::Auto, display_order = 900)]
    pub color: terminal::ColorChoice,
    /// The subcommand
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up this clone (config keys, hooks, .handoff.toml); safe to run again
    Init(Deferred<init::InitArgs>),
    /// Start a session with a plan (or add the next plan iteration)
    Plan(Deferred<record::PlanArgs>),
    /// Record a review of the plan
    Review(Deferred<record::ReviewArgs>),
    /// Record the implementation and note every commit of its range
    Implement(Deferred<record::ImplementArgs>),
    /// Record a validation of the implementation's commit range
    Validate(Deferred<record::ValidateArgs>),
    /// Record a validated, reusable pattern from a COMPLETE session
    Pattern(Deferred<record::PatternArgs>),
    /// Abandon a session
    Abandon(Deferred<record::AbandonArgs>),
    /// Take back the last artifact of a session that has not been pushed
    Undo(Deferred<undo::UndoArgs>),
    /// Serve the repository to Claude Code and Codex over MCP (stdio)
    Mcp(Deferred<McpArgs>),
    /// Run an agent (claude, codex, ...) for one step and record its answer
    Run(Deferred<run::RunArgs>),
    /// Run plan, review, implement and validate with the agents until COMPLETE
    Loop(Deferred<run_loop::LoopArgs>),
    /// Print the JSON schema of a structured review answer (for codex --output-schema)
    Schema(Deferred<run::SchemaArgs>),
    /// Show a session: status, timeline, range, findings
    Show(Deferred<show::ShowArgs>),
    /// Show the current session, its next step, and handoff data not yet pushed
    Status(Deferred<status::StatusArgs>),
    /// List sessions, newest first
    List(Deferred<list::ListArgs>),
    /// Search every artifact (plans, reviews, ...) with ranked full-text search
    Search(Deferred<search::SearchArgs>),
    /// Rebuild the local search index from the refs
    Reindex(Deferred<reindex::ReindexArgs>),
    /// Send new artifacts to the Byterover index (MCP server or ByteRover's CLI)
    Sync(Deferred<sync::SyncArgs>),
    /// Turn review findings into PR annotations (GitHub, SARIF, reviewdog, GitLab, ...)
    Annotate(Deferred<annotate::AnnotateArgs>),
    /// Show a session's artifact history
    Log(Deferred<log::LogArgs>),
    /// Diff two versions of an artifact (e.g. plan iteration 1 and 2)
    Diff(Deferred<diff::DiffArgs>),
    /// Print a self-contained prompt for the next agent
    Context(Deferred<context::ContextArgs>),
    /// Show which sessions produced a commit
    Why(Deferred<why::WhyArgs>),
    /// Send sessions and notes to a remote (never forced)
    Push(Deferred<share::PushArgs>),
    /// Fetch and merge a remote's sessions and notes
    Pull(Deferred<share::PullArgs>),
    /// Re-attach sessions to commits after cherry-picks and forge squash merges
    Repair(Deferred<repair::RepairArgs>),
    /// Make a session current (commits get its Handoff-Session trailer)
    Start(Deferred<hook::StartArgs>),
    /// Stop adding the Handoff-Session trailer
    Stop(Deferred<hook::StopArgs>),
    /// Play the seed's example end to end in a scratch repository
    Demo(Deferred<demo::DemoArgs>),
    /// Show or set configuration (and where each value comes from)
    Config(Deferred<config::ConfigArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completion(Deferred<manuals::CompletionArgs>),
    /// Install man pages, so `git handoff --help` works
    InstallMan(Deferred<manuals::InstallManArgs>),
    /// Print every session ID (for shell completion)
    #[command(hide = true)]
    CompleteIds(Deferred<manuals::CompleteIdsArgs>),
    /// Run a hook handler (called by the installed git hooks)
    #[command(hide = true)]
    Hook(Deferred<hook::HookArgs>),
}

/// Serve this repository to coding agents over MCP on standard input and output
///
/// Tools: the seed's byterover-store-knowledge and byterover-retrieve-knowledge (so the seed
/// skill works unchanged, with the repository as the memory), and handoff_plan, handoff_review,
/// handoff_implement, handoff_validate, handoff_show, handoff_context, handoff_search,
/// handoff_list. Prompts: the four steps. Register it with Claude Code
/// (`claude mcp add git-handoff -- git handoff mcp`) or Codex (`codex mcp add git-handoff -- git
/// handoff mcp`).
#[derive(Debug, clap::Args)]
pub struct McpArgs {}

/// A subcommand's arguments, added to clap's command only when that subcommand is parsed (or
/// help, completions or manuals need them): otherwise every start of the program builds the
/// arguments of all subcommands, a tenth of the instructions of a short command such as
/// `context`. Reads as the arguments themselves.
#[derive(Debug)]
pub struct Deferred<T>(T);

impl<T> std::ops::Deref for Deferred<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: clap::FromArgMatches> clap::FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Self)
    }
    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Self)
    }
    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: clap::Args> clap::Args for Deferred<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keep_about(cmd, T::augment_args))
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keep_about(cmd, T::augment_args_for_update))
    }
}

/// Adds a subcommand's arguments, keeping the description the subcommand's variant gave it
/// (the arguments' own doc comment would otherwise replace it, as it runs later now).
fn keep_about(cmd: clap::Command, augment: fn(clap::Command) -> clap::Command) -> clap::Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    augment(cmd)
        .about(clap::builder::Resettable::from(about))
        .long_about(clap::builder::Resettable::from(long_about))
}

/// Parses the command line, runs it, and maps the result to an exit code. `network` is what
/// the network crate adds (`None` in `git-handoff`, which hands those commands over).
pub fn main(network: Option<&'static dyn network::Network>) -> std::process::ExitCode {
    if let Some(network) = network {
        network::install(network);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let report = err.render(remedy::for_person);
            ui::err_write(&format!("{}\n", ui::sanitize(&report)));
            std::process::ExitCode::from(err.exit_code())
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> CommandResult {
    terminal::set_color_choice(cli.color);
    // Long human views page on a terminal, as git's own do.
    let paged = match &cli.command {
        Command::Log(a) => !a.json,
        Command::Show(a) => !a.json,
        Command::Diff(a) => !a.json,
        Command::Context(a) => !a.json,
        _ => false,
    };
    if paged {
        terminal::start_pager();
    }
    let result = dispatch(cli);
    terminal::finish_pager();
    result
}

fn dispatch(cli: Cli) -> CommandResult {
    if network::needs_network(&cli.command) && !network::here() {
        return network::hand_over();
    }
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Plan(args) => record::plan(&args),
        Command::Review(args) => record::review(&args),
        Command::Implement(args) => record::implement(&args),
        Command::Validate(args) => record::validate(&args),
        Command::Pattern(args) => record::pattern(&args),
        Command::Abandon(args) => record::abandon(&args),
        Command::Undo(args) => undo::run(&args),
        Command::Mcp(_) => network::required()?.serve_mcp(),
        Command::Run(args) => run::run(&args),
        Command::Loop(args) => run_loop::run(&args),
        Command::Schema(args) => run::schema(&args),
        Command::Show(args) => show::run(&args),
        Command::Status(args) => status::run(&args),
        Command::List(args) => list::run(&args),
        Command::Search(args) => search::run(&args),
        Command::Reindex(args) => reindex::run(&args),
        Command::Sync(args) => sync::run(&args),
        Command::Annotate(args) => annotate::run(&args),
        Command::Log(args) => log::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Context(args) => context::run(&args),
        Command::Why(args) => why::run(&args),
        Command::Push(args) => share::push(&args),
        Command::Pull(args) => share::pull(&args),
        Command::Repair(args) => repair::run(&args),
        Command::Start(args) => hook::start(&args),
        Command::Stop(args) => hook::stop(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Config(args) => config::run(&args),
        Command::Completion(args) => manuals::completion(&args),
        Command::InstallMan(args) => manuals::install_man(&args),
        Command::CompleteIds(args) => manuals::complete_ids(&args),
        Command::Hook(args) => hook::run(&args),
    }
}
