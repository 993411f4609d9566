//! Ranking search hits: artifacts of the sessions a query names first, then BM25 (column
//! weights below), then the newest artifact among equal scores.
//!
//! The straightforward query joins every match to its session before sorting, and for common
//! words that is most artifacts of the repository. Without filters the same order is reached in
//! two steps: the best BM25 scores alone from the full-text table (no join), then the few rows
//! they name. When equal scores straddle the cut, the straightforward query answers instead,
//! so the order is always exactly the same.

use rusqlite::params;

use super::postings::{self, Scored};
use super::query::{Filter, Hit, Terms};
use super::{Index, Result};

/// BM25 of an artifact: weights of the columns session, title, body, findings, kind, agent and
/// status (the order of `artifact_text` in the schema).
const BM25: &str = "bm25(artifact_text, 2.0, 5.0, 1.0, 2.0, 0.5, 0.5, 0.5)";

/// A hit and the session tip its snippet is read from.
pub(super) type Ranked = (String, Hit);

impl Index {
    /// The best `filter.limit` (default 20) hits for `terms`, in rank order.
    pub(super) fn ranked(&self, terms: &Terms, filter: &Filter) -> Result<Vec<Ranked>> {
        let limit = filter.limit.unwrap_or(20);
        if filter.is_unfiltered()
            && let Some(rows) = self.ranked_top(terms, limit, None)?
        {
            return Ok(rows);
        }
        self.ranked_joined(terms, filter, limit)
    }

    /// Every match joined to its session, filtered, sorted, cut at `limit`.
    fn ranked_joined(&self, terms: &Terms, filter: &Filter, limit: usize) -> Result<Vec<Ranked>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT s.id, r.artifact, r.kind, r.agent, s.status, s.title, s.tip,
                    {BM25} AS score,
                    (s.id IN (SELECT value FROM json_each(?2))
                     OR substr(s.id, 18, 8) IN (SELECT value FROM json_each(?2))) AS named
             FROM artifact_text
             JOIN artifact_rows r ON r.rowid = artifact_text.rowid
             JOIN sessions s ON s.sid = r.sid
             WHERE artifact_text MATCH ?1
               AND (?3 IS NULL OR s.status IN (SELECT value FROM json_each(?3)))
               AND (?4 IS NULL OR lower(r.agent) IN (SELECT value FROM json_each(?4)))
               AND (?5 IS NULL OR r.created >= ?5)
               AND (?6 IS NULL OR r.created <= ?6)
               AND (?7 IS NULL OR r.kind IN (SELECT value FROM json_each(?7)))
             ORDER BY named DESC, score ASC, r.created DESC, r.rowid DESC
             LIMIT ?8"
        ))?;
        let [status, agent, since, until, kind] = filter.params();
        let rows = stmt
            .query_map(
                params![
                    terms.fts,
                    named_json(terms),
                    status,
                    agent,
                    since,
                    until,
                    kind,
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| Ok((r.get(6)?, hit(r, r.get(7)?)?)),
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The same order without joining every match: `None` when the cut cannot be made exactly
    /// (equal scores across it, or a full-text row without its artifact row).
    fn ranked_top(
        &self,
        terms: &Terms,
        limit: usize,
        parts: Option<usize>,
    ) -> Result<Option<Vec<Ranked>>> {
        if limit == 0 {
            return Ok(Some(Vec::new()));
        }
        let named = self.named_matches(terms)?;
        let wanted = limit.saturating_sub(named.len());
        let mut others = Vec::new();
        if wanted > 0 {
            // One more than could be needed, to see whether the last one taken ties with it.
            let cap = wanted.saturating_add(named.len()).saturating_add(1);
            let (best, with_ties) = match parts {
                None => self.best_scores(terms, cap)?,
                Some(parts) => (
                    self.best_scores_in(&terms.fts, cap, self.last_rowid()?, parts)?,
                    false,
                ),
            };
            let full = best.len() >= cap;
            others = best
                .into_iter()
                .filter(|s| !named.iter().any(|n| n.rowid == s.rowid))
                .collect();
            if full && others.len() > wanted {
                let last = others[wanted - 1].score;
                if others[wanted].score != last {
                    others.truncate(wanted);
                } else if with_ties {
                    // Rows scoring the same as the last one kept are ordered by creation time
                    // once joined; every row with that score is here (the postings return all
                    // rows tied with their cut).
                    others.retain(|s| s.score <= last);
                    if others.len() > wanted.saturating_add(MAX_TIED_JOINS) {
                        // Joining them one by one would cost more than the joined query.
                        return Ok(None);
                    }
                } else {
                    // FTS5 cut them anywhere: only the joined query sees them all.
                    return Ok(None);
                }
            }
        }
        let mut rows = Vec::with_capacity(named.len() + others.len());
        for group in [named, others] {
            let mut joined = Vec::with_capacity(group.len());
            for scored in group {
                let Some(row) = self.joined_row(scored)? else {
                    return Ok(None);
                };
                joined.push(row);
            }
            // Score, then the newest first, as the joined query orders them.
            joined.sort_by(|(a, a_created, a_rowid), (b, b_created, b_rowid)| {
                a.1.score
                    .total_cmp(&b.1.score)
                    .then_with(|| b_created.cmp(a_created))
                    .then_with(|| b_rowid.cmp(a_rowid))
            });
            rows.extend(joined.into_iter().map(|(ranked, _, _)| ranked));
        }
        rows.truncate(limit);
        Ok(Some(rows))
    }

    /// The `cap` best scores of the whole full-text table: from the index's own postings when
    /// the query is plain words (postings.rs, the same scores without visiting every match in
    /// FTS5, and with every row tied with the last: then `true`), else from FTS5.
    fn best_scores(&self, terms: &Terms, cap: usize) -> Result<(Vec<Scored>, bool)> {
        if let Some(tokens) = postings::plain_tokens(&terms.words) {
            // One snapshot for the postings, the deleted rows and FTS5's totals.
            let snapshot = if self.conn.is_autocommit() {
                Some(self.conn.unchecked_transaction()?)
            } else {
                None
            };
            let best = postings::best(&self.conn, &tokens, cap)?;
            drop(snapshot);
            if let Some(best) = best {
                return Ok((best, true));
            }
        }
        Ok((self.best_fts5(&terms.fts, cap)?, false))
    }

    /// [`Self::best_scores`] by FTS5. Scoring every match is most of a search for common
    /// words, so a large table is cut into rowid ranges scored side by side on their own read
    /// connections (BM25's document frequencies are the whole table's in every range, so
    /// scores do not change), and the ranges' best are merged.
    fn best_fts5(&self, fts: &str, cap: usize) -> Result<Vec<Scored>> {
        let last = self.last_rowid()?;
        let parts = if last < PARALLEL_FROM_ROWS {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_PARALLEL))
        };
        self.best_scores_in(fts, cap, last, parts)
    }

    /// [`Self::best_fts5`] over `parts` rowid ranges of `[.., last]`.
    fn best_scores_in(
        &self,
        fts: &str,
        cap: usize,
        last: i64,
        parts: usize,
    ) -> Result<Vec<Scored>> {
        if parts <= 1 {
            return best_in(&self.conn, fts, cap, (i64::MIN, i64::MAX));
        }
        let width = last / i64::try_from(parts).unwrap_or(1) + 1;
        let ranges: Vec<(i64, i64)> = (0..i64::try_from(parts).unwrap_or(1))
            .map(|i| {
                let start = if i == 0 { i64::MIN } else { i * width };
                let end = if i + 1 == i64::try_from(parts).unwrap_or(1) {
                    i64::MAX
                } else {
                    (i + 1) * width
                };
                (start, end)
            })
            .collect();
        let path = self.path.as_path();
        let mut best = std::thread::scope(|scope| -> Result<Vec<Scored>> {
            let others: Vec<_> = ranges[1..]
                .iter()
                .map(|&range| {
                    scope.spawn(move || -> Result<Vec<Scored>> {
                        best_in(&super::open_reader(path)?, fts, cap, range)
                    })
                })
                .collect();
            let mut all = best_in(&self.conn, fts, cap, ranges[0])?;
            for other in others {
                match other.join() {
                    Ok(found) => all.extend(found?),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Ok(all)
        })?;
        best.sort_by(|a, b| a.score.total_cmp(&b.score));
        best.truncate(cap);
        Ok(best)
    }

    /// Whether plain-word searches are scored from the index's own postings (they agree with
    /// FTS5's rows) rather than by FTS5: for diagnostics and tests.
    pub fn postings_in_use(&self) -> Result<bool> {
        let _snapshot = if self.conn.is_autocommit() {
            Some(self.conn.unchecked_transaction()?)
        } else {
            None
        };
        postings::agree(&self.conn)
    }

    fn last_rowid(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(rowid), 0) FROM artifact_rows",
            [],
            |r| r.get(0),
        )?)
    }

    /// Matches among the artifacts of the sessions the query names, with their scores.
    fn named_matches(&self, terms: &Terms) -> Result<Vec<Scored>> {
        if terms.ids.is_empty() && terms.randoms.is_empty() {
            return Ok(Vec::new());
        }
        let rowids: Vec<i64> = {
            let mut stmt = self.conn.prepare_cached(
                // Two indexed lookups (schema.rs): by full ID, then by random part.
                "SELECT r.rowid FROM sessions s JOIN artifact_rows r ON r.sid = s.sid
                 WHERE s.id IN (SELECT value FROM json_each(?1))
                 UNION
                 SELECT r.rowid FROM sessions s JOIN artifact_rows r ON r.sid = s.sid
                 WHERE substr(s.id, 18, 8) IN (SELECT value FROM json_each(?1))",
            )?;
            stmt.query_map([named_json(terms)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT rowid, {BM25} FROM artifact_text WHERE artifact_text MATCH ?1 AND rowid = ?2"
        ))?;
        let mut found = Vec::new();
        for rowid in rowids {
            let mut rows = stmt.query_map(params![terms.fts, rowid], |r| {
                Ok(Scored {
                    rowid: r.get(0)?,
                    score: r.get(1)?,
                })
            })?;
            if let Some(scored) = rows.next() {
                found.push(scored?);
            }
        }
        Ok(found)
    }

    /// A scored row joined to its artifact and session, with the artifact's creation time and
    /// its rowid (the order among equal scores).
    fn joined_row(&self, scored: Scored) -> Result<Option<(Ranked, String, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, r.artifact, r.kind, r.agent, s.status, s.title, s.tip, r.created
             FROM artifact_rows r JOIN sessions s ON s.sid = r.sid
             WHERE r.rowid = ?1",
        )?;
        let mut rows = stmt.query_map([scored.rowid], |r| {
            Ok(((r.get(6)?, hit(r, scored.score)?), r.get(7)?, scored.rowid))
        })?;
        Ok(rows.next().transpose()?)
    }
}

/// At most this many rows tied at the cut are joined one by one (each an indexed lookup).
const MAX_TIED_JOINS: usize = 4096;
/// Below this many artifacts one connection scores a search alone.
const PARALLEL_FROM_ROWS: i64 = 4096;
/// At most this many connections score one search side by side.
const MAX_PARALLEL: usize = 4;

/// The `cap` best scores among the full-text rows whose rowid is in `[start, end)`.
pub(super) fn best_in(
    conn: &rusqlite::Connection,
    fts: &str,
    cap: usize,
    (start, end): (i64, i64),
) -> Result<Vec<Scored>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT rowid, {BM25} AS score FROM artifact_text
         WHERE artifact_text MATCH ?1 AND rowid >= ?2 AND rowid < ?3
         ORDER BY score ASC LIMIT ?4"
    ))?;
    let found = stmt
        .query_map(
            params![fts, start, end, i64::try_from(cap).unwrap_or(i64::MAX)],
            |r| {
                Ok(Scored {
                    rowid: r.get(0)?,
                    score: r.get(1)?,
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found)
}

/// The session IDs and random parts a query names, as a JSON array for `json_each`.
fn named_json(terms: &Terms) -> String {
    let named: Vec<&String> = terms.ids.iter().chain(&terms.randoms).collect();
    serde_json::to_string(&named).unwrap_or_else(|_| "[]".to_owned())
}

/// A hit from the first six columns of a row (snippet filled in later).
fn hit(r: &rusqlite::Row<'_>, score: f64) -> rusqlite::Result<Hit> {
    Ok(Hit {
        found: crate::views::Found {
            session: r.get(0)?,
            artifact: r.get(1)?,
            kind: r.get(2)?,
            agent: r.get(3)?,
            status: r.get(4)?,
            title: r.get(5)?,
        },
        snippet: String::new(),
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::parse_terms;

    const WORDS: &[&str] = &[
        "redis", "backoff", "cache", "token", "bucket", "retry", "queue",
    ];

    /// An index of `sessions` sessions of three artifacts with bodies from a small vocabulary;
    /// every fifth body repeats an earlier one, so equal scores are common.
    fn index(dir: &std::path::Path, sessions: usize) -> Index {
        let index = Index::open(dir, &mut |_| {}).unwrap();
        let mut seed = 7_u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            usize::try_from(seed >> 33).unwrap()
        };
        let mut bodies: Vec<String> = Vec::new();
        let mut batch = super::postings::Batch::default();
        for s in 0..sessions {
            let id = format!("SESSION-20250101-{s:08}");
            let name = format!("refs/handoff/sessions/{id}");
            index
                .conn
                .execute(
                    "INSERT INTO sessions (ref, tip, id, title, status) VALUES (?1, 'tip', ?2, ?3, 'COMPLETE')",
                    params![name, id, format!("title {s}")],
                )
                .unwrap();
            let sid = index.conn.last_insert_rowid();
            for a in 0..3 {
                let body = if s % 5 == 4 && !bodies.is_empty() {
                    bodies[next() % bodies.len()].clone()
                } else {
                    (0..(5 + next() % 20))
                        .map(|_| WORDS[next() % WORDS.len()])
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                bodies.push(body.clone());
                index
                    .conn
                    .execute(
                        "INSERT INTO artifact_rows (sid, artifact, kind, agent, status, created)
                         VALUES (?1, ?2, 'plan', 'claude', 'COMPLETE', ?3)",
                        params![
                            sid,
                            format!("A{s}-{a}"),
                            format!("2025-01-{:02}T00:00:00Z", 1 + next() % 28)
                        ],
                    )
                    .unwrap();
                let rowid = index.conn.last_insert_rowid();
                index
                    .conn
                    .execute(
                        "INSERT INTO artifact_text (rowid, session, title, body, findings, kind, agent, status)
                         VALUES (?1, ?2, 'title', ?3, '', 'plan', 'claude', 'COMPLETE')",
                        params![rowid, id, body],
                    )
                    .unwrap();
                batch
                    .add_row(
                        &index.conn,
                        rowid,
                        [&id, "title", &body, "", "plan", "claude", "COMPLETE"],
                    )
                    .unwrap();
            }
        }
        batch.finish(&index.conn).unwrap();
        index
    }

    fn keys(rows: &[Ranked]) -> Vec<(String, String)> {
        rows.iter()
            .map(|(_, h)| (h.found.session.clone(), h.found.artifact.clone()))
            .collect()
    }

    #[test]
    fn the_two_step_ranking_is_the_joined_ranking() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 300);
        let queries = [
            "redis",
            "redis backoff",
            "queue cache token",
            "SESSION-20250101-00000042 redis",
            "00000007 bucket",
            "nothing-matches-this",
        ];
        let mut compared = 0;
        for query in queries {
            let terms = parse_terms(query).unwrap();
            for limit in [1, 3, 5, 20, 2000] {
                let joined = index
                    .ranked_joined(&terms, &Filter::default(), limit)
                    .unwrap();
                // None: scored from the postings, which never leave ties at the cut to the
                // joined query; Some: by FTS5 in that many parts.
                for parts in [None, Some(1), Some(2), Some(3)] {
                    let top = index.ranked_top(&terms, limit, parts).unwrap();
                    assert!(parts.is_some() || top.is_some(), "{query} limit {limit}");
                    if let Some(top) = top {
                        assert_eq!(
                            keys(&top),
                            keys(&joined),
                            "{query} limit {limit} parts {parts:?}"
                        );
                        compared += 1;
                    }
                }
            }
        }
        // Ties send some cuts to the joined query; most must have been compared.
        assert!(compared > 80, "{compared}");
    }

    #[test]
    fn a_named_session_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let index = index(dir.path(), 50);
        let terms = parse_terms("redis 00000042").unwrap();
        let top = index.ranked_top(&terms, 5, Some(2)).unwrap().unwrap();
        assert_eq!(top[0].1.found.session, "SESSION-20250101-00000042");
    }
}
