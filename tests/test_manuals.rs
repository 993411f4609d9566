//! Man pages and shell completions, generated from the clap definitions.

use crate::common::{BIN, Run, TestEnv};

#[test]
fn man_pages_install_for_every_command_with_name_and_synopsis() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let dir = env.path("man");
    let run = env.handoff(&repo, &["install-man", dir.to_str().unwrap()]);
    run.ok();
    for command in crate::common::COMMANDS {
        let page = dir.join(format!("man1/git-handoff-{command}.1"));
        assert!(page.exists(), "{} missing", page.display());
    }
    let main = std::fs::read_to_string(dir.join("man1/git-handoff.1")).unwrap();
    let head: String = main
        .lines()
        .skip_while(|l| !l.starts_with(".SH NAME"))
        .take_while(|l| !l.starts_with(".SH DESCRIPTION"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("man_name_and_synopsis", head);
    // Every page the main page names is installed (it named a git-handoff-help(1) that was not).
    for named in main.split("git\\-handoff\\-").skip(1) {
        let sub: String = named
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '\\' || *c == '-')
            .collect::<String>()
            .replace("\\-", "-");
        if named[sub.replace('-', "\\-").len()..].starts_with("(1)") {
            assert!(
                dir.join(format!("man1/git-handoff-{sub}.1")).exists(),
                "git-handoff-{sub}(1) is named but not installed"
            );
        }
    }
    let plan = std::fs::read_to_string(dir.join("man1/git-handoff-plan.1")).unwrap();
    assert!(
        plan.contains("git\\-handoff\\-plan") && plan.contains("\\-\\-title"),
        "{plan}"
    );
}

#[test]
fn man_pages_go_next_to_the_binary_by_default() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let prefix = env.path("prefix");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    let bin = prefix.join("bin/git-handoff");
    std::fs::copy(BIN, &bin).unwrap();
    let run = Run::from(
        env.command(bin.to_str().unwrap(), &repo)
            .arg("install-man")
            .output()
            .unwrap(),
    );
    run.ok();
    assert!(
        prefix.join("share/man/man1/git-handoff.1").exists(),
        "{}",
        run.stderr
    );
}

#[test]
fn bash_completion_loads_and_completes_session_ids() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Completion");
    let script = env.handoff(&repo, &["completion", "bash"]).ok().to_owned();
    let file = env.path("completion.bash");
    std::fs::write(&file, &script).unwrap();
    let loaded = Run::from(
        env.command("bash", &repo)
            .args(["-c", &format!("source {}; complete -p", file.display())])
            .output()
            .unwrap(),
    );
    insta::assert_snapshot!("completion_bash_complete_p", loaded.ok());
    // `git-handoff show <TAB>` offers the sessions; `git-handoff sh<TAB>` the subcommands.
    let complete = |words: &str, cword: usize| {
        Run::from(
            env.command("bash", &repo)
                .args([
                    "-c",
                    &format!(
                        "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; _git_handoff_complete git-handoff \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                        file.display()
                    ),
                ])
                .output()
                .unwrap(),
        )
    };
    let ids = complete("git-handoff show ''", 2);
    assert!(ids.ok().contains(&id), "{}\n{}", ids.stdout, ids.stderr);
    let subs = complete("git-handoff sh", 1);
    assert!(subs.ok().lines().any(|l| l == "show"), "{}", subs.stdout);
    // Options, values and the short ID the README recommends (the random part).
    let lines = |run: Run| -> Vec<String> { run.ok().lines().map(str::to_owned).collect() };
    let random = id.split('-').nth(2).unwrap().to_owned();
    assert!(lines(complete("git-handoff log --", 2)).contains(&"--json".to_owned()));
    assert_eq!(
        lines(complete("git-handoff run ''", 2)),
        ["plan", "review", "implement", "validate"]
    );
    assert_eq!(
        lines(complete("git-handoff run review ''", 3)),
        [id.clone(), random.clone()]
    );
    assert_eq!(
        lines(complete(&format!("git-handoff show {}", &random[..3]), 2)),
        [random]
    );
    assert!(lines(complete("git-handoff list --status ''", 3)).contains(&"COMPLETE".to_owned()));
    let formats = lines(complete("git-handoff annotate --format ''", 3));
    assert!(formats.contains(&"sarif".to_owned()), "{formats:?}");
    assert!(!formats.contains(&id), "{formats:?}");
    // Through git's own bash completion: `git handoff sh<TAB>`, `git handoff show <TAB>`.
    let git_completion = [
        "/usr/share/bash-completion/completions/git",
        "/etc/bash_completion.d/git",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("git's bash completion script (Debian's git package ships it)");
    let through_git = |words: &str, cword: usize| {
        Run::from(
            env.command("bash", &repo)
                .args([
                    "-c",
                    &format!(
                        "source {git_completion}; source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                        file.display()
                    ),
                ])
                .output()
                .unwrap(),
        )
    };
    let subs = through_git("git handoff sh", 2);
    assert!(
        subs.ok().lines().any(|l| l.trim() == "show"),
        "{}\n{}",
        subs.stdout,
        subs.stderr
    );
    let ids = through_git("git handoff show ''", 3);
    assert!(ids.ok().contains(&id), "{}\n{}", ids.stdout, ids.stderr);
    let options = through_git("git handoff log --", 3);
    assert!(
        options.ok().lines().any(|l| l.trim() == "--json"),
        "{}",
        options.stdout
    );
    let steps = through_git("git handoff run ''", 3);
    assert!(
        steps.ok().lines().any(|l| l.trim() == "review"),
        "{}",
        steps.stdout
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(!env.handoff(&repo, &["completion", shell]).ok().is_empty());
    }
}

/// zsh, driven for real (an interactive zsh under zpty, TAB pressed at the end of the line,
/// tests/shells/zsh_complete.zsh): the completion file `git handoff completion zsh` prints
/// completes subcommands, option values and session IDs (full and short), standalone and
/// through zsh's own git completion (`git handoff <TAB>` calls `_git-handoff`).
#[test]
fn zsh_completion_completes_commands_values_and_session_ids() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    if !env
        .command("zsh", &repo)
        .args(["-fc", "zmodload zsh/zpty"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: no zsh with zsh/zpty here (.ci/run installs Debian's zsh)");
        return;
    }
    let id = env.plan(&repo, "Completion");
    let random = id.split('-').nth(2).unwrap().to_owned();
    let functions = env.path("zsh-functions");
    std::fs::create_dir_all(&functions).unwrap();
    let script = env.handoff(&repo, &["completion", "zsh"]).ok().to_owned();
    std::fs::write(functions.join("_git-handoff"), script).unwrap();
    let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/shells/zsh_complete.zsh");
    let mut path = vec![std::path::Path::new(BIN).parent().unwrap().to_path_buf()];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    let path = std::env::join_paths(path).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let run = Run::from(
            env.command("zsh", &repo)
                .env("PATH", &path)
                .args([
                    "-f",
                    driver,
                    functions.to_str().unwrap(),
                    repo.to_str().unwrap(),
                    line,
                ])
                .output()
                .unwrap(),
        );
        run.ok().lines().map(str::to_owned).collect()
    };
    let mut sessions = vec![id.clone(), random.clone()];
    sessions.sort();
    for prefix in ["git-handoff", "git handoff"] {
        assert_eq!(complete(&format!("{prefix} show ")), sessions, "{prefix}");
        assert_eq!(
            complete(&format!("{prefix} show {}", &random[..3])),
            std::slice::from_ref(&random),
            "{prefix}"
        );
        assert!(
            complete(&format!("{prefix} sh")).contains(&"show".to_owned()),
            "{prefix}"
        );
        assert_eq!(
            complete(&format!("{prefix} run ")),
            ["implement", "plan", "review", "validate"],
            "{prefix}"
        );
        assert!(
            complete(&format!("{prefix} list --status ")).contains(&"COMPLETE".to_owned()),
            "{prefix}"
        );
        let formats = complete(&format!("{prefix} annotate {random} --format "));
        assert!(
            formats.contains(&"sarif".to_owned()),
            "{prefix}: {formats:?}"
        );
        assert!(!formats.contains(&id), "{prefix}: {formats:?}");
        assert!(
            complete(&format!("{prefix} log --j")).contains(&"--json".to_owned()),
            "{prefix}"
        );
    }
}
