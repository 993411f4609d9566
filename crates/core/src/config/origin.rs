//! `git handoff config`: every effective setting with where it comes from, and setting one in
//! the repository file without losing its comments.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{DEFAULTS, Error, REPLACED_TABLES, REPO_FILE};

/// Tables whose keys the user names: their entries are settings of their own.
const NAMED_TABLES: [&str; 3] = [
    "agents.commands",
    "byterover.store-args",
    "byterover.retrieve-args",
];

/// One effective setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    /// Dotted key (`policy.pre-push`).
    pub key: String,
    /// The value: a string as it is (`warn`), anything else as TOML writes it (`200000`,
    /// `["brv"]`).
    pub value: String,
    /// Where it comes from: `built-in`, or the file that set it.
    pub origin: String,
}

/// Every effective setting, in key order, with the layer that set it (defaults, then the
/// repository's `.handoff.toml`, then the user file).
pub fn settings(workdir: Option<&Path>) -> Result<Vec<Setting>, Error> {
    let mut out: std::collections::BTreeMap<String, Setting> = std::collections::BTreeMap::new();
    let defaults: toml::Table = toml::from_str(DEFAULTS).map_err(|source| Error::Parse {
        path: PathBuf::from("<built-in defaults>"),
        source: Box::new(source),
    })?;
    flatten(&defaults, "", "built-in", &mut out);
    for (path, table) in super::layers(workdir)? {
        // A layer that sets one of these tables replaces it whole (see `merge`).
        for replaced in REPLACED_TABLES {
            let prefix = format!("byterover.{replaced}.");
            if table
                .get("byterover")
                .and_then(|b| b.get(replaced))
                .is_some()
            {
                out.retain(|k, _| !k.starts_with(&prefix));
            }
        }
        flatten(&table, "", &path.display().to_string(), &mut out);
    }
    Ok(out.into_values().collect())
}

fn flatten(
    table: &toml::Table,
    prefix: &str,
    origin: &str,
    out: &mut std::collections::BTreeMap<String, Setting>,
) {
    for (key, value) in table {
        let full = format!("{prefix}{key}");
        match value {
            toml::Value::Table(inner) => flatten(inner, &format!("{full}."), origin, out),
            other => {
                out.insert(
                    full.clone(),
                    Setting {
                        key: full,
                        value: match other {
                            toml::Value::String(text) => text.clone(),
                            value => value.to_string(),
                        },
                        origin: origin.to_owned(),
                    },
                );
            }
        }
    }
}

/// Why a setting could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// Not a key git-handoff knows.
    #[error("unknown key '{0}' (git handoff config lists them)")]
    UnknownKey(String),
    /// Tokens never go in a file that is committed.
    #[error(
        "'{0}' would put a secret in .handoff.toml; set the variable named by byterover.token-env instead"
    )]
    Secret(String),
    /// There is no work tree to hold `.handoff.toml`.
    #[error("this repository has no work tree for .handoff.toml")]
    NoWorkTree,
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The new value makes the configuration invalid (the file is left as it was).
    #[error(transparent)]
    Invalid(#[from] Error),
}

/// Sets `key` to `value` in the repository's `.handoff.toml`, keeping its comments and layout.
/// `value` is read as TOML (`3`, `true`, `["a", "b"]`), or taken as a string when it is not.
/// The whole configuration must still load, or nothing is written.
pub fn set(workdir: Option<&Path>, key: &str, value: &str) -> Result<PathBuf, SetError> {
    let workdir = workdir.ok_or(SetError::NoWorkTree)?;
    let known = settings(None)?;
    let named = NAMED_TABLES.iter().any(|t| {
        key.strip_prefix(t)
            .is_some_and(|rest| rest.len() > 1 && rest.starts_with('.'))
    });
    if !named && !known.iter().any(|s| s.key == key) {
        return Err(SetError::UnknownKey(key.to_owned()));
    }
    if key.to_ascii_lowercase().contains("token") && !key.ends_with("token-env") {
        return Err(SetError::Secret(key.to_owned()));
    }
    let path = workdir.join(REPO_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(SetError::Io { path, source }),
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| SetError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?;
    let item = format!("v = {value}")
        .parse::<toml_edit::DocumentMut>()
        .ok()
        .and_then(|d| d.get("v").and_then(|v| v.as_value().cloned()))
        .unwrap_or_else(|| toml_edit::Value::from(value));
    let parts: Vec<&str> = key.split('.').collect();
    let (last, tables) = parts
        .split_last()
        .ok_or_else(|| SetError::UnknownKey(key.to_owned()))?;
    let mut table = doc.as_table_mut();
    for part in tables {
        let entry = table
            .entry(part)
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
        table = entry
            .as_table_mut()
            .ok_or_else(|| SetError::UnknownKey(key.to_owned()))?;
    }
    // A key already there keeps its comments (the lines above it, the one after its value).
    match table.get_mut(last) {
        Some(toml_edit::Item::Value(existing)) => {
            let decor = existing.decor().clone();
            *existing = item;
            *existing.decor_mut() = decor;
        }
        _ => {
            table.insert(last, toml_edit::Item::Value(item));
        }
    }
    let backup = text;
    std::fs::write(&path, doc.to_string()).map_err(|source| SetError::Io {
        path: path.clone(),
        source,
    })?;
    if let Err(e) = super::Config::load(Some(workdir)) {
        let _ = std::fs::write(&path, backup);
        return Err(e.into());
    }
    Ok(path)
}
