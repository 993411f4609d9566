//! Installing and removing our block in hook files. The block editing is pure string work
//! (tested below); the file work resolves the hooks directory git really uses.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{ALL_HOOKS, BEGIN, END};

/// Why hooks could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `git rev-parse --git-path hooks` failed.
    #[error("cannot find the hooks directory: {0}")]
    HooksDir(String),
    /// A hook file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The hook file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A hook file has a BEGIN marker without an END marker.
    #[error("{0} has '# BEGIN git-handoff' without '# END git-handoff'; fix it by hand")]
    Unterminated(PathBuf),
}

/// What happened to one hook file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The hook file.
    pub path: PathBuf,
    /// `created`, `added`, `updated`, `removed`.
    pub action: &'static str,
}

/// The hooks directory git uses for this repository (honours `core.hooksPath`).
pub fn hooks_dir(repo_dir: &Path) -> Result<PathBuf, Error> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo_dir)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .map_err(|e| Error::HooksDir(e.to_string()))?;
    if !out.status.success() {
        return Err(Error::HooksDir(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    // The path as git printed it, byte for byte: a directory name that is not UTF-8
    // (`caf\xe9`) must not become another directory (`caf\u{fffd}`) outside the repository.
    let mut bytes = out.stdout;
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    Ok(path_from_bytes(bytes))
}

/// A path from the bytes git printed for it.
#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

/// A path from the bytes git printed for it (UTF-8 on systems whose paths are not bytes).
#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// Inserts or replaces our block. New content goes right after the shebang, so it runs even
/// when the user's hook ends with `exit`. `None` when nothing changes.
pub fn with_block(existing: Option<&str>, block: &str) -> Result<Option<String>, &'static str> {
    let block = block.trim_end();
    let Some(text) = existing.filter(|t| !t.trim().is_empty()) else {
        return Ok(Some(format!("#!/bin/sh\n{block}\n")));
    };
    if let Some((before, _, after)) = split_block(text)? {
        let updated = format!("{before}{block}\n{after}");
        return Ok((updated != text).then_some(updated));
    }
    let (shebang, rest) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("#!") => (format!("{first}\n"), rest),
        _ => (String::new(), text),
    };
    Ok(Some(format!("{shebang}{block}\n{rest}")))
}

/// Removes our block; `None` when there is none.
pub fn without_block(text: &str) -> Result<Option<String>, &'static str> {
    Ok(split_block(text)?.map(|(before, _, after)| format!("{before}{after}")))
}

/// Splits around our block: (before, block, after).
fn split_block(text: &str) -> Result<Option<(&str, &str, &str)>, &'static str> {
    let Some(start) = text.find(BEGIN) else {
        return Ok(None);
    };
    let Some(end_rel) = text[start..].find(END) else {
        return Err("unterminated");
    };
    let mut end = start + end_rel + END.len();
    if text[end..].starts_with('\n') {
        end += 1;
    }
    Ok(Some((&text[..start], &text[start..end], &text[end..])))
}

/// Whether our block is in at least one hook of the hooks directory git uses here.
pub fn is_installed(repo_dir: &Path) -> bool {
    let Ok(dir) = hooks_dir(repo_dir) else {
        return false;
    };
    ALL_HOOKS.iter().any(|(name, _)| {
        std::fs::read_to_string(dir.join(name)).is_ok_and(|text| text.contains(BEGIN))
    })
}

/// Suffix of a user's hook that is not a POSIX shell script, moved aside and chained to.
pub const CHAINED_SUFFIX: &str = ".git-handoff-chained";

/// Whether a hook file is a shell script our block can be edited into: a `sh`, `bash`,
/// `dash`, `ksh` or `zsh` shebang, or no shebang at all on a text file (git runs those with
/// `sh`). Python, Node, other interpreters and binaries are chained to instead.
pub fn is_shell_script(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Some(shebang) = text.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return !text.contains('\0');
    };
    let mut words = shebang.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let program = match program.rsplit('/').next() {
        Some("env") => words.find(|w| !w.starts_with('-')).unwrap_or_default(),
        Some(p) => p,
        None => return false,
    };
    matches!(program, "sh" | "bash" | "dash" | "ksh" | "zsh")
}

/// One planned file change of [`install`].
enum Step {
    Write {
        path: PathBuf,
        text: String,
    },
    Chain {
        path: PathBuf,
        to: PathBuf,
        text: String,
    },
}

/// Installs every hook block; idempotent. A user's hook that is not a shell script is moved to
/// `<name>.git-handoff-chained` and run from ours. Every change is planned and checked first,
/// and undone if a later one fails, so a partly read-only hooks directory is left as it was.
pub fn install(repo_dir: &Path) -> Result<Vec<Change>, Error> {
    let dir = hooks_dir(repo_dir)?;
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let mut steps = Vec::new();
    let mut changes = Vec::new();
    for (name, block) in ALL_HOOKS {
        let path = dir.join(name);
        let chained = dir.join(format!("{name}{CHAINED_SUFFIX}"));
        let bytes = read_bytes(&path)?;
        match bytes {
            Some(bytes) if !is_shell_script(&bytes) => {
                let text = format!(
                    "#!/bin/sh\n{}\nexec \"$(dirname \"$0\")/{name}{CHAINED_SUFFIX}\" \"$@\"\n",
                    block.trim_end()
                );
                steps.push(Step::Chain {
                    path: path.clone(),
                    to: chained,
                    text,
                });
                changes.push(Change {
                    path,
                    action: "chained",
                });
            }
            existing => {
                let existing = existing.map(|b| String::from_utf8_lossy(&b).into_owned());
                let updated = with_block(existing.as_deref(), block)
                    .map_err(|_| Error::Unterminated(path.clone()))?;
                match updated {
                    Some(text) => {
                        let action = match &existing {
                            None => "created",
                            Some(t) if t.contains(BEGIN) => "updated",
                            Some(_) => "added",
                        };
                        steps.push(Step::Write {
                            path: path.clone(),
                            text,
                        });
                        changes.push(Change { path, action });
                    }
                    None => make_executable(&path)?,
                }
            }
        }
    }
    // Check before touching anything: every file we replace must be writable by its owner.
    for step in &steps {
        let path = match step {
            Step::Write { path, .. } | Step::Chain { path, .. } => path,
        };
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().readonly()
        {
            return Err(Error::Io {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the hook file is read-only; nothing was installed",
                ),
            });
        }
    }
    let mut done: Vec<(PathBuf, Option<Vec<u8>>, Option<PathBuf>)> = Vec::new();
    for step in steps {
        let result = match &step {
            Step::Write { path, text } => {
                let before = read_bytes(path)?;
                let r = write(path, text);
                done.push((path.clone(), before, None));
                r
            }
            Step::Chain { path, to, text } => {
                let before = read_bytes(path)?;
                std::fs::rename(path, to)
                    .map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })
                    .and_then(|()| {
                        done.push((path.clone(), before, Some(to.clone())));
                        write(path, text)
                    })
            }
        };
        if let Err(e) = result {
            rollback(done);
            return Err(e);
        }
    }
    Ok(changes)
}

/// Puts back what [`install`] changed before it failed.
fn rollback(done: Vec<(PathBuf, Option<Vec<u8>>, Option<PathBuf>)>) {
    for (path, before, moved) in done.into_iter().rev() {
        match moved {
            Some(from) => {
                let _ = std::fs::rename(from, &path);
            }
            None => match before {
                Some(bytes) => {
                    let _ = std::fs::write(&path, bytes);
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            },
        }
    }
}

/// Removes every hook block, leaving the rest of each file as it was, and puts chained hooks
/// back in place.
pub fn uninstall(repo_dir: &Path) -> Result<Vec<Change>, Error> {
    let dir = hooks_dir(repo_dir)?;
    let mut changes = Vec::new();
    for (name, _) in ALL_HOOKS {
        let path = dir.join(name);
        let chained = dir.join(format!("{name}{CHAINED_SUFFIX}"));
        if chained.exists() {
            std::fs::rename(&chained, &path).map_err(|source| Error::Io {
                path: chained.clone(),
                source,
            })?;
            changes.push(Change {
                path,
                action: "unchained",
            });
            continue;
        }
        let Some(text) = read(&path)? else { continue };
        let Some(rest) = without_block(&text).map_err(|_| Error::Unterminated(path.clone()))?
        else {
            continue;
        };
        if rest.trim() == "#!/bin/sh" || rest.trim().is_empty() {
            std::fs::remove_file(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        } else {
            write(&path, &rest)?;
        }
        changes.push(Change {
            path,
            action: "removed",
        });
    }
    Ok(changes)
}

fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn read(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    make_executable(path)
}

fn make_executable(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut perms = std::fs::metadata(path).map_err(io)?.permissions();
        if perms.mode() & 0o111 != 0o111 {
            perms.set_mode(perms.mode() | 0o755);
            std::fs::set_permissions(path, perms).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "# BEGIN git-handoff\necho ours\n# END git-handoff\n";

    #[test]
    fn block_goes_after_the_shebang_and_keeps_the_users_hook() {
        let user = "#!/bin/bash\necho mine\nexit 0\n";
        let out = with_block(Some(user), BLOCK).unwrap().unwrap();
        assert_eq!(
            out,
            "#!/bin/bash\n# BEGIN git-handoff\necho ours\n# END git-handoff\necho mine\nexit 0\n"
        );
        assert_eq!(with_block(Some(&out), BLOCK).unwrap(), None, "idempotent");
        assert_eq!(without_block(&out).unwrap().unwrap(), user);
    }

    #[test]
    fn new_files_get_a_shebang_and_blocks_are_replaced_in_place() {
        assert_eq!(
            with_block(None, BLOCK).unwrap().unwrap(),
            format!("#!/bin/sh\n{BLOCK}")
        );
        let old = "#!/bin/sh\n# BEGIN git-handoff\nold\n# END git-handoff\ntail\n";
        assert_eq!(
            with_block(Some(old), BLOCK).unwrap().unwrap(),
            "#!/bin/sh\n# BEGIN git-handoff\necho ours\n# END git-handoff\ntail\n"
        );
        assert!(with_block(Some("# BEGIN git-handoff\nno end\n"), BLOCK).is_err());
        assert_eq!(without_block("#!/bin/sh\nnothing\n").unwrap(), None);
    }
}
