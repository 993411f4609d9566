//! `git-handoff`: parse, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = git_handoff::cli::Cli::parse();
    match git_handoff::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", git_handoff::ui::sanitize(&err.to_string()));
            ExitCode::from(err.exit_code())
        }
    }
}
