//! Reading the index: `list` rows and full-text `search` hits.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use serde::Serialize;

use super::{Error, Index, Result};
use crate::session::{Kind, SessionId, Status};
use crate::views::{Summary, rfc3339};

/// Marks the start of a match in a raw snippet (a private-use character no text contains).
pub const MATCH_START: char = '\u{E000}';
/// Marks the end of a match in a raw snippet.
pub const MATCH_END: char = '\u{E001}';

/// Filters shared by `list` and `search`. Each list matches any of its values; an empty list
/// matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Sessions with one of these current statuses.
    pub status: Vec<Status>,
    /// Sessions (for `list`) or artifacts (for `search`) by one of these agents,
    /// case-insensitively.
    pub agent: Vec<String>,
    /// Updated (list) or created (search) at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Updated (list) or created (search) at or before this time.
    pub until: Option<DateTime<Utc>>,
    /// Sessions holding (list) or artifacts of (search) one of these kinds.
    pub kind: Vec<Kind>,
    /// At most this many results.
    pub limit: Option<usize>,
}

impl Filter {
    /// Whether it restricts anything but the number of results.
    pub fn is_unfiltered(&self) -> bool {
        self.status.is_empty()
            && self.agent.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && self.kind.is_empty()
    }

    /// The SQL parameters of the filters, in the order the queries number them: statuses,
    /// agents (lower case), since, until, kinds; a list as a JSON array, NULL when empty.
    pub(super) fn params(&self) -> [Value; 5] {
        let list = |values: Vec<String>| {
            if values.is_empty() {
                Value::Null
            } else {
                Value::Text(serde_json::to_string(&values).unwrap_or_default())
            }
        };
        [
            list(self.status.iter().map(|s| s.as_str().to_owned()).collect()),
            list(self.agent.iter().map(|a| a.to_lowercase()).collect()),
            opt_text(self.since.map(rfc3339).as_deref()),
            opt_text(self.until.map(rfc3339).as_deref()),
            list(self.kind.iter().map(|k| k.as_str().to_owned()).collect()),
        ]
    }
}

/// One session's row of the index, owned (for callers that keep rows past the read); it is
/// serialized as its borrowed form, [`Summary`], which alone names the JSON fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Full session ID.
    pub id: String,
    /// Title.
    pub title: String,
    /// Derived status.
    pub status: Option<String>,
    /// Plan iteration.
    pub iteration: u32,
    /// Creation time.
    pub created: String,
    /// Time of the latest artifact.
    pub updated: String,
    /// Base commit recorded at planning.
    pub base: Option<String>,
    /// Head of the latest recorded range.
    pub head: Option<String>,
    /// Number of artifacts.
    pub artifacts: usize,
    /// Agents that contributed.
    pub agents: Vec<String>,
    /// The ref holding the session.
    pub refname: String,
    /// The ref's tip.
    pub tip: String,
}

impl SessionRow {
    /// The row, borrowed.
    pub fn as_ref(&self) -> Summary<'_> {
        Summary {
            id: &self.id,
            title: &self.title,
            status: self.status.as_deref(),
            iteration: self.iteration,
            created: self.created.as_str().into(),
            updated: self.updated.as_str().into(),
            base: self.base.as_deref(),
            head: self.head.as_deref(),
            artifacts: self.artifacts,
            agents: self.agents.iter().map(|a| a.as_str().into()).collect(),
            refname: self.refname.as_str().into(),
            tip: &self.tip,
        }
    }
}

impl Serialize for SessionRow {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.as_ref().serialize(serializer)
    }
}

impl Summary<'_> {
    /// The row, owned.
    pub fn to_row(&self) -> SessionRow {
        SessionRow {
            id: self.id.to_owned(),
            title: self.title.to_owned(),
            status: self.status.map(str::to_owned),
            iteration: self.iteration,
            created: self.created.to_string(),
            updated: self.updated.to_string(),
            base: self.base.map(str::to_owned),
            head: self.head.map(str::to_owned),
            artifacts: self.artifacts,
            agents: self.agents.iter().map(|a| a.to_string()).collect(),
            refname: self.refname.to_string(),
            tip: self.tip.to_owned(),
        }
    }
}

/// A session that could not be read, as `list` reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionError {
    /// The ref.
    #[serde(rename = "ref")]
    pub refname: String,
    /// Why it could not be read.
    pub error: String,
}

/// What `list` shows: readable sessions (newest first) and per-session errors.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// Sessions matching the filter.
    pub sessions: Vec<SessionRow>,
    /// Sessions that could not be read.
    pub errors: Vec<SessionError>,
}

/// One search result as the index ranks it (printed as [`crate::views::SearchHit`]).
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The artifact matched.
    #[serde(flatten)]
    pub found: crate::views::Found,
    /// Text around the match; matches are between [`MATCH_START`] and [`MATCH_END`].
    pub snippet: String,
    /// BM25 score (lower is better), after exact-ID hits.
    pub score: f64,
}

/// A parsed user query: FTS5 text that cannot be a syntax error, and the session IDs or random
/// parts it names (which rank their session first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// The FTS5 MATCH expression.
    pub fts: String,
    /// Full IDs named in the query.
    pub ids: Vec<String>,
    /// 8-character random parts named in the query.
    pub randoms: Vec<String>,
    /// The words as typed, with whether each is a prefix search.
    pub words: Vec<(String, bool)>,
}

/// Turns free text into a safe FTS5 expression: every word is a quoted string (quotes doubled),
/// words are OR-ed and ranked by BM25; `word*` keeps a prefix search. Words without a letter or
/// digit are dropped, so FTS5 syntax in user input is searched for, never interpreted.
pub fn parse_terms(query: &str) -> Result<Terms> {
    let mut parts = Vec::new();
    let mut ids = Vec::new();
    let mut randoms = Vec::new();
    let mut words = Vec::new();
    for word in query.split_whitespace() {
        let (word, prefix) = match word.strip_suffix('*') {
            Some(w) if w.chars().last().is_some_and(char::is_alphanumeric) => (w, true),
            _ => (word, false),
        };
        if !word.chars().any(char::is_alphanumeric) {
            continue;
        }
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
        if let Ok(id) = SessionId::parse(bare) {
            ids.push(id.to_string());
        } else if bare.len() == 8
            && bare.bytes().all(|b| b.is_ascii_alphanumeric())
            && bare.bytes().any(|b| b.is_ascii_digit())
        {
            randoms.push(bare.to_ascii_uppercase());
        }
        words.push((word.to_owned(), prefix));
        let quoted = format!("\"{}\"", word.replace('"', "\"\""));
        parts.push(if prefix { format!("{quoted}*") } else { quoted });
    }
    if parts.is_empty() {
        return Err(Error::EmptyQuery(query.to_owned()));
    }
    Ok(Terms {
        fts: parts.join(" OR "),
        ids,
        randoms,
        words,
    })
}

/// The agents column (a JSON array of names), borrowed where no name holds an escape.
fn agents(json: &str) -> Vec<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match serde_json::from_str::<Vec<&str>>(json) {
        Ok(names) => names.into_iter().map(Cow::Borrowed).collect(),
        Err(_) => serde_json::from_str::<Vec<String>>(json)
            .map(|names| names.into_iter().map(Cow::Owned).collect())
            .unwrap_or_default(),
    }
}

/// A text column that may be NULL, borrowed.
fn opt_borrowed<'r>(
    row: &'r rusqlite::Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(column)?.as_str_or_null()?)
}

/// A text column of a row, borrowed.
fn text<'r>(row: &'r rusqlite::Row<'_>, column: usize) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(column)?.as_str()?)
}

pub(super) fn opt_text(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::Text(s.to_owned()))
}

impl Index {
    /// Sessions matching `filter`, newest first, and the sessions that could not be read.
    pub fn list(&self, filter: &Filter) -> Result<Listing> {
        let mut sessions = Vec::new();
        self.list_each(filter, |row| {
            sessions.push(row.to_row());
            Ok::<(), std::convert::Infallible>(())
        })?
        .unwrap_or_else(|never| match never {});
        Ok(Listing {
            sessions,
            errors: self.list_errors()?,
        })
    }

    /// Hands each session matching `filter` to `each`, newest first, as it is read (nothing
    /// is collected or copied: `list --json` streams 100,000 sessions in flat memory). Stops
    /// at the first error `each` returns, which comes back as the inner result.
    pub fn list_each<E>(
        &self,
        filter: &Filter,
        mut each: impl FnMut(&Summary<'_>) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<(), E>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, title, status, iteration, created, updated, base, head, artifacts, agents, ref, tip
             FROM sessions s
             WHERE error IS NULL
               AND (?1 IS NULL OR status IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM artifact_rows a
                                          WHERE a.sid = s.sid
                                            AND lower(a.agent) IN (SELECT value FROM json_each(?2))))
               AND (?3 IS NULL OR updated >= ?3)
               AND (?4 IS NULL OR updated <= ?4)
               AND (?5 IS NULL OR EXISTS (SELECT 1 FROM artifact_rows a WHERE a.sid = s.sid
                                          AND a.kind IN (SELECT value FROM json_each(?5))))
             ORDER BY updated DESC, id DESC
             LIMIT ?6",
        )?;
        let limit = filter
            .limit
            .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let [status, agent, since, until, kind] = filter.params();
        let mut rows = stmt.query(rusqlite::params![status, agent, since, until, kind, limit])?;
        while let Some(r) = rows.next()? {
            let row = Summary {
                id: text(r, 0)?,
                title: text(r, 1)?,
                status: opt_borrowed(r, 2)?,
                iteration: r.get(3)?,
                created: text(r, 4)?.into(),
                updated: text(r, 5)?.into(),
                base: opt_borrowed(r, 6)?,
                head: opt_borrowed(r, 7)?,
                artifacts: usize::try_from(r.get::<_, i64>(8)?).unwrap_or_default(),
                agents: agents(text(r, 9)?),
                refname: text(r, 10)?.into(),
                tip: text(r, 11)?,
            };
            if let Err(e) = each(&row) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    /// The sessions that could not be read, by ref name.
    pub fn list_errors(&self) -> Result<Vec<SessionError>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ref, error FROM sessions WHERE error IS NOT NULL ORDER BY ref",
        )?;
        let errors = stmt
            .query_map([], |r| {
                Ok(SessionError {
                    refname: r.get(0)?,
                    error: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(errors)
    }

    /// Full-text search over artifacts, best first. A session named by its full ID or random
    /// part in the query comes before everything else. Snippets are cut from the artifacts as
    /// stored in git (read through `store`).
    pub fn search(
        &self,
        store: &crate::store::Store<'_>,
        query: &str,
        filter: &Filter,
    ) -> Result<Vec<Hit>> {
        let terms = parse_terms(query)?;
        self.fill_text(store)?;
        let rows = self.ranked(&terms, filter)?;
        let pieces = super::snippet::pieces(&terms.words);
        Ok(rows
            .into_iter()
            .map(|(tip, mut hit)| {
                if let Some(text) = artifact_text(store, &hit, &tip) {
                    hit.snippet = super::snippet::make(&text, &pieces);
                }
                hit
            })
            .collect())
    }
}

/// The searchable text of a hit's artifact, read from the session tip it was indexed from.
fn artifact_text(store: &crate::store::Store<'_>, hit: &Hit, tip: &str) -> Option<String> {
    let id = SessionId::parse(&hit.found.session).ok()?;
    let tip = crate::git::parse_oid(tip).ok()?;
    let file = format!("{}-{}.md", hit.found.artifact, hit.found.kind);
    let a = store.load_artifact(&id, tip, &file).ok()?;
    let mut text = a.body;
    for f in &a.findings {
        text.push('\n');
        text.push_str(&f.title);
        text.push('\n');
        text.push_str(&f.body);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The owned row (the MCP `list` tool) and the borrowed one (`list --json`) print the same.
    #[test]
    fn owned_and_borrowed_rows_serialize_alike() {
        let row = SessionRow {
            id: "SESSION-20251027-A7F3K2M9-x".into(),
            title: "Quote \" and \u{1b}".into(),
            status: None,
            iteration: 2,
            created: "2025-10-27T10:00:00Z".into(),
            updated: "2025-10-27T11:00:00Z".into(),
            base: Some("abc".into()),
            head: None,
            artifacts: 3,
            agents: vec!["claude".into(), "co\"dex".into()],
            refname: "refs/handoff/sessions/SESSION-20251027-A7F3K2M9-x".into(),
            tip: "def".into(),
        };
        let owned = serde_json::to_value(&row).unwrap();
        assert_eq!(owned, serde_json::to_value(row.as_ref()).unwrap());
        assert_eq!(owned["ref"], row.refname.as_str());
        assert_eq!(owned["agents"][1], "co\"dex");
        assert_eq!(owned.as_object().unwrap().len(), 12);
    }

    #[test]
    fn user_syntax_is_quoted_not_interpreted() {
        let t = parse_terms(r#""unbalanced AND OR foo*( NEAR( rate* x"y"#).unwrap();
        assert_eq!(
            t.fts,
            r#""""unbalanced" OR "AND" OR "OR" OR "foo*(" OR "NEAR(" OR "rate"* OR "x""y""#
        );
        assert!(matches!(
            parse_terms(" ( ) * \" "),
            Err(Error::EmptyQuery(_))
        ));
    }

    #[test]
    fn session_ids_and_random_parts_are_recognised() {
        let t =
            parse_terms("SESSION-20251027-A7F3K2M9-rate Codex review a7g00000 feedback").unwrap();
        assert_eq!(t.ids, ["SESSION-20251027-A7F3K2M9-rate"]);
        assert_eq!(t.randoms, ["A7G00000"]);
        assert!(parse_terms("limiting").unwrap().randoms.is_empty());
    }
}
