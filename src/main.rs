//! `git-handoff`: parse, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser as _;

mod cli;
mod mcp;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            cli::ui::err_write(&format!("{}\n", cli::ui::sanitize(&err.to_string())));
            ExitCode::from(err.exit_code())
        }
    }
}
