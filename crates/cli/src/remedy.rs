//! What a person can do about an error, in the command line's words (the MCP server says the
//! same facts with its tools and arguments).

use git_handoff::error::Remedy;

/// The remedy as the CLI says it, starting with its separator from the error's message.
pub fn for_person(remedy: &Remedy) -> String {
    match remedy {
        Remedy::NextStepOrForce { session, state } => format!(
            "; {}, or pass --force to record it anyway",
            state.next_step(session)
        ),
        Remedy::NameCommitsOrForce { session } => format!(
            "; commit the work first (with the session current: git handoff start {session}), name the commits with --range (A..B, A^!, B ^X), or --force to record it anyway"
        ),
        Remedy::GiveBody => " (give it with -m, -F FILE or standard input)".to_owned(),
        Remedy::GiveVerdict => {
            ": --verdict approve|approve-with-changes|request-changes|reject".to_owned()
        }
        Remedy::ForceUndo => " (--force)".to_owned(),
    }
}
