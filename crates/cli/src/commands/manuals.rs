//! `git handoff install-man` and `git handoff completion`: man pages and shell completions
//! generated from the clap definitions, so they never drift from `-h`.

use std::path::{Path, PathBuf};

use clap::CommandFactory as _;

use crate::{Cli, ui};
use git_handoff::error::{CommandError, CommandResult};

/// Install man pages for git handoff and every subcommand
///
/// Writes git-handoff.1 and git-handoff-<command>.1 into DIR/man1. Without DIR they go where
/// `man` looks for the pages of this binary: <prefix>/share/man next to <prefix>/bin (for
/// `cargo install`, ~/.cargo/share/man). Then `git handoff --help`, which git turns into
/// `man git-handoff`, and `git help handoff` show them.
#[derive(Debug, clap::Args)]
pub struct InstallManArgs {
    /// Where to install (the man1 folder is created inside)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Print a shell completion script
///
/// Completes subcommands, options and their values, and session IDs where an ID is expected
/// (bash). Load it from your shell's start-up file:
///
///   bash:  source <(git handoff completion bash)   (also `git handoff <TAB>` through git's own
///          completion)
///   zsh:   git handoff completion zsh > "${fpath[1]}/_git-handoff"
///   fish:  git handoff completion fish > ~/.config/fish/completions/git-handoff.fish
#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Runs `install-man`.
pub fn install_man(args: &InstallManArgs) -> CommandResult {
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => default_man_dir()?,
    };
    let man1 = dir.join("man1");
    let written = write_pages(&man1).map_err(|e| {
        CommandError::user(anyhow::anyhow!(
            "cannot write man pages into {}: {e}",
            man1.display()
        ))
        .hint("give a folder you can write to: git handoff install-man DIR")
    })?;
    ui::status(&format!(
        "installed {written} man page(s) into {}; try 'git handoff --help'",
        man1.display()
    ));
    Ok(())
}

/// `<prefix>/share/man` for the running binary at `<prefix>/bin/git-handoff`.
fn default_man_dir() -> CommandResult<PathBuf> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| CommandError::user(anyhow::anyhow!("cannot find this binary: {e}")))?;
    let prefix = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| CommandError::user(anyhow::anyhow!("{} has no prefix", exe.display())))?;
    Ok(prefix.join("share").join("man"))
}

/// Writes the page of the command and of each visible subcommand; returns how many.
fn write_pages(man1: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(man1)?;
    let root = Cli::command().name("git-handoff");
    let mut count = 0;
    let mut write = |name: &str, cmd: clap::Command| -> std::io::Result<()> {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut page)?;
        std::fs::write(man1.join(format!("{name}.1")), page)?;
        count += 1;
        Ok(())
    };
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("git-handoff-{}", sub.get_name());
        let cmd = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("git handoff {}", sub.get_name()));
        write(&name, cmd)?;
    }
    // Without clap's `help` subcommand, which has no page of its own: the main page listed a
    // git-handoff-help(1) that was never installed (`git handoff help CMD` still works).
    write("git-handoff", root.clone().disable_help_subcommand(true))?;
    Ok(count)
}

/// Runs `completion`.
pub fn completion(args: &CompletionArgs) -> CommandResult {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "git-handoff", &mut script);
    let mut text = String::from_utf8_lossy(&script).into_owned();
    if args.shell == clap_complete::Shell::Bash {
        // clap_complete names the bash function of a hyphenated executable `_git__handoff`
        // and looks each command's block up as `git__handoff__subcmd__log`, but labels the
        // blocks `git__subcmd__handoff__subcmd__log` (it turns the hyphen into its command
        // separator there): no option or value of any command ever completed.
        text = text.replace("git__subcmd__handoff", "git__handoff");
        text.push_str(BASH_EXTRA);
    }
    if args.shell == clap_complete::Shell::Zsh {
        text = zsh_with_ids(&text);
    }
    ui::out(&text);
    Ok(())
}

/// Session IDs where an ID is expected, and `git handoff <TAB>` through git's completion (it
/// calls `_git_handoff` for `git handoff`).
const BASH_EXTRA: &str = r#"
# git-handoff: session IDs (full or the random part) where a command expects one, instead of
# the options clap offers everywhere; `run` takes its step first.
_git_handoff_ids() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" sub="" w n=0 r
    for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        case "$w" in
            -*) ;;
            *) if [[ -z "$sub" ]]; then sub="$w"; else n=$((n + 1)); fi ;;
        esac
    done
    [[ "$cur" == -* ]] && return
    # The value of an option, which clap completed (a format, a status): nothing to add.
    if [[ "$prev" == -* ]]; then
        for r in "${COMPREPLY[@]}"; do [[ "$r" != -* ]] && return; done
    fi
    case "$sub" in
        run)
            if (( n == 0 )); then
                COMPREPLY=( $(compgen -W "plan review implement validate" -- "$cur") )
                return
            fi ;;
        review|implement|validate|pattern|abandon|show|log|diff|context|start|annotate|loop) ;;
        *) return ;;
    esac
    local ids
    ids="$(git-handoff complete-ids 2>/dev/null)"
    COMPREPLY=( $(compgen -W "$ids" -- "$cur") )
}
_git_handoff_complete() {
    _git__handoff "$@"
    _git_handoff_ids
}
complete -F _git_handoff_complete -o bashdefault -o default git-handoff
# `git handoff <TAB>` through git's own bash completion.
_git_handoff() {
    local COMP_WORDS=("git-handoff" "${words[@]:2}") COMP_CWORD=$((cword - 1))
    _git__handoff git-handoff "${cur}" "${prev}"
    _git_handoff_ids
}
"#;

/// The zsh script with session IDs where a command expects one (clap offers files there) and
/// the helper that lists them. The same file serves `git-handoff <TAB>` and `git handoff
/// <TAB>`: zsh's git completion calls `_git-handoff` for `git handoff`.
fn zsh_with_ids(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + ZSH_EXTRA.len());
    for line in script.lines() {
        let is_session = ["':id -- ", "'::id -- ", "'::session -- "]
            .iter()
            .any(|p| line.starts_with(p));
        if line.starts_with("if [ \"$funcstack[1]\" = \"_git-handoff\" ]") {
            out.push_str(ZSH_EXTRA);
        }
        match line.strip_suffix(":_default' \\") {
            Some(head) if is_session => {
                out.push_str(head);
                out.push_str(":_git_handoff_ids' \\");
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The zsh helper behind [`zsh_with_ids`].
const ZSH_EXTRA: &str = r#"# git-handoff: session IDs, full or the random part (the short ID every command resolves).
(( $+functions[_git_handoff_ids] )) ||
_git_handoff_ids() {
    local expl
    local -a ids
    ids=(${(f)"$(git-handoff complete-ids 2>/dev/null)"})
    _wanted sessions expl 'session' compadd -a ids
}

"#;

/// Print every session ID, one per line (used by the shell completions)
#[derive(Debug, clap::Args)]
pub struct CompleteIdsArgs {}

/// Runs `complete-ids`: every visible session's full ID and random part, from the index.
pub fn complete_ids(_args: &CompleteIdsArgs) -> CommandResult {
    let handoff = super::open()?;
    let mut out = String::new();
    // The random part is the short ID the README recommends typing.
    for id in handoff.store().session_ids()? {
        out.push_str(id.as_str());
        out.push('\n');
        out.push_str(id.random());
        out.push('\n');
    }
    ui::out(&out);
    Ok(())
}
