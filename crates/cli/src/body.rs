//! Where artifact bodies come from, as `git commit` does it: `-F FILE` (`-` for stdin), `-m`
//! (repeatable, joined as paragraphs), standard input when it is not a terminal, or the user's
//! editor (the one `git var GIT_EDITOR` names: `GIT_EDITOR`, `core.editor`, `VISUAL`, `EDITOR`).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `-F FILE` could not be read.
    #[error("cannot read '{path}': {source}")]
    File {
        /// The file named.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    Stdin(std::io::Error),
    /// The editor could not be run or failed.
    #[error("the editor failed: {0}")]
    Editor(String),
    /// The body is not UTF-8.
    #[error("'{0}' is not UTF-8 text")]
    NotUtf8(String),
    /// The input goes on past the largest text that can be stored.
    #[error(
        "{0} is larger than {LIMIT_TEXT}, the largest text a session can store; nothing was read past it"
    )]
    TooLarge(String),
}

/// The largest body read, in bytes: a stored file's limit (docs/format.md).
pub const MAX_INPUT_BYTES: usize = git_handoff::session::codec::MAX_FILE_BYTES;

/// [`MAX_INPUT_BYTES`] for people.
const LIMIT_TEXT: &str = "8 MiB";

/// Reads `reader` to its end, or fails as soon as it goes past [`MAX_INPUT_BYTES`] (a file
/// like `/dev/zero`, or `yes |`, never ends): memory stays bounded.
pub fn read_bounded(reader: impl Read, what: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX);
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::Stdin)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Error::TooLarge(what.to_owned()));
    }
    Ok(bytes)
}

/// Reads the file at `path` as [`read_bounded`] does.
pub fn read_file_bounded(path: &Path) -> Result<Vec<u8>, Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::File {
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::File {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Error::TooLarge(format!("'{}'", path.display())));
    }
    Ok(bytes)
}

/// The body options of a command.
#[derive(Debug, Clone, Default)]
pub struct BodySource {
    /// `-F FILE`.
    pub file: Option<PathBuf>,
    /// `-m TEXT`, in order.
    pub messages: Vec<String>,
}

impl BodySource {
    /// Reads the body. `git_dir` holds the editor's scratch file; `template` is shown in it as
    /// comment lines, which are stripped afterwards.
    pub fn read(&self, git_dir: &Path, template: &str) -> Result<String, Error> {
        if let Some(path) = &self.file {
            if path.as_os_str() == "-" {
                return read_stdin();
            }
            let bytes = read_file_bounded(path)?;
            return String::from_utf8(bytes)
                .map_err(|_| Error::NotUtf8(path.display().to_string()));
        }
        if !self.messages.is_empty() {
            return Ok(self.messages.join("\n\n"));
        }
        if !std::io::stdin().is_terminal() {
            return read_stdin();
        }
        edit(git_dir, template)
    }
}

fn read_stdin() -> Result<String, Error> {
    let bytes = read_bounded(std::io::stdin(), "standard input")?;
    String::from_utf8(bytes).map_err(|_| Error::NotUtf8("standard input".into()))
}

/// The line below which the editor's text is ignored (git's `--cleanup=scissors` line), so
/// markdown headings (`# Title`) in the body survive.
const SCISSORS: &str = "# ------------------------ >8 ------------------------";

fn edit(git_dir: &Path, template: &str) -> Result<String, Error> {
    let path = git_dir.join("HANDOFF_EDITMSG");
    let mut initial = format!("\n{SCISSORS}\n");
    for line in template.lines() {
        initial.push_str("# ");
        initial.push_str(line);
        initial.push('\n');
    }
    std::fs::write(&path, initial).map_err(|source| Error::File {
        path: path.clone(),
        source,
    })?;
    let editor = Command::new("git")
        .args(["var", "GIT_EDITOR"])
        .output()
        .map_err(|e| Error::Editor(format!("cannot run git var GIT_EDITOR: {e}")))?;
    let editor = String::from_utf8_lossy(&editor.stdout).trim().to_owned();
    if editor.is_empty() {
        return Err(Error::Editor("no editor configured; use -m or -F".into()));
    }
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .arg(&path)
        .status()
        .map_err(|e| Error::Editor(e.to_string()))?;
    if !status.success() {
        return Err(Error::Editor(format!("'{editor}' exited with {status}")));
    }
    let text = std::fs::read_to_string(&path).map_err(|source| Error::File {
        path: path.clone(),
        source,
    })?;
    Ok(text
        .lines()
        .take_while(|l| l.trim_end() != SCISSORS)
        .collect::<Vec<_>>()
        .join("\n"))
}
