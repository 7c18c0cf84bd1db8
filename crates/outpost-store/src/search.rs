//! Full-text search over the local cache, Chinese and English.
//!
//! Two FTS5 indexes over one document per ticket:
//! - `search_tri` (trigram tokenizer) finds any substring of three or more characters, in any
//!   script: `E1023`, `refund`, `资金未到账`.
//! - `search_short` holds every CJK character and every pair of adjacent CJK characters as
//!   tokens (and Latin words as words), for the one- and two-character queries trigram cannot
//!   answer: `登录`, `冻结`, `退款`, `钱`.
//!
//! A query is split into terms at spaces and at CJK/Latin boundaries; each term goes to the index
//! that can answer it and all terms must match the same ticket. Newest tickets come first, which
//! lets FTS5 stop after one page instead of ranking every match. Highlights are returned as
//! character ranges over plain text — never as markup, because ticket text is customer-supplied.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use outpost_core::model::{Priority, Status, TicketId};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::columns::{from_millis, priority_from_rank};
use crate::{corrupt, Result, Store};

/// Text with the ranges (in characters) that matched the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Highlighted {
    pub text: String,
    pub ranges: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchHit {
    pub id: TicketId,
    pub key: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub updated_at: DateTime<Utc>,
    pub subject: Highlighted,
    /// The best passage of the ticket's text around the first match.
    pub snippet: Highlighted,
}

/// CJK ideographs, kana and hangul: scripts written without spaces between words.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x3134F) // CJK extensions B–G
}

/// The text fed to the short index: each CJK run becomes its characters and its adjacent pairs
/// as separate tokens; other text passes through for `unicode61` to split into words. The
/// short index only answers single-token queries (presence), so each CJK token and each
/// whitespace-separated chunk of other text is emitted once per document: the set of tokens is
/// the same, the work to index it smaller.
pub(crate) fn short_index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut seen_cjk: HashSet<(char, Option<char>)> = HashSet::new();
    let mut seen_chunks: HashSet<&str> = HashSet::new();
    let mut run: Vec<char> = Vec::new();
    let mut chunk: Option<usize> = None;
    let mut flush_run = |run: &mut Vec<char>, out: &mut String| {
        for c in run.iter() {
            if seen_cjk.insert((*c, None)) {
                out.push(*c);
                out.push(' ');
            }
        }
        for pair in run.windows(2) {
            if seen_cjk.insert((pair[0], Some(pair[1]))) {
                out.push(pair[0]);
                out.push(pair[1]);
                out.push(' ');
            }
        }
        run.clear();
    };
    let mut end_chunk = |chunk: &mut Option<usize>, end: usize, out: &mut String| {
        if let Some(start) = chunk.take() {
            let word = &text[start..end];
            if seen_chunks.insert(word) {
                out.push_str(word);
                out.push(' ');
            }
        }
    };
    for (i, c) in text.char_indices() {
        if is_cjk(c) {
            end_chunk(&mut chunk, i, &mut out);
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            flush_run(&mut run, &mut out);
        }
        if c.is_whitespace() {
            end_chunk(&mut chunk, i, &mut out);
        } else if chunk.is_none() {
            chunk = Some(i);
        }
    }
    end_chunk(&mut chunk, text.len(), &mut out);
    flush_run(&mut run, &mut out);
    out
}

/// Replaces (or with `None`, removes) the search document of ticket `rowid` in both indexes.
pub(crate) fn replace_document(conn: &Connection, rowid: i64, text: Option<&str>) -> Result<()> {
    let old: Option<String> = conn
        .prepare_cached("SELECT text FROM search_docs WHERE rowid = ?1")?
        .query_row([rowid], |r| r.get(0))
        .optional()?;
    if old.as_deref() == text {
        return Ok(());
    }
    if let Some(old) = old {
        conn.prepare_cached(
            "INSERT INTO search_tri (search_tri, rowid, text) VALUES ('delete', ?1, ?2)",
        )?
        .execute(params![rowid, old])?;
        conn.prepare_cached("DELETE FROM search_short WHERE rowid = ?1")?
            .execute([rowid])?;
        conn.prepare_cached("DELETE FROM search_docs WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    if let Some(text) = text {
        conn.prepare_cached("INSERT INTO search_docs (rowid, text) VALUES (?1, ?2)")?
            .execute(params![rowid, text])?;
        conn.prepare_cached("INSERT INTO search_tri (rowid, text) VALUES (?1, ?2)")?
            .execute(params![rowid, text])?;
        conn.prepare_cached("INSERT INTO search_short (rowid, text) VALUES (?1, ?2)")?
            .execute(params![rowid, short_index_text(text)])?;
    }
    Ok(())
}

/// Splits a query into terms: at whitespace and wherever the script changes between CJK and
/// anything else ("App登录" is "App" and "登录").
pub(crate) fn terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    for word in query.split_whitespace() {
        let mut current = String::new();
        let mut current_cjk = None;
        for c in word.chars() {
            let cjk = is_cjk(c);
            if current_cjk.is_some_and(|was| was != cjk) {
                terms.push(std::mem::take(&mut current));
            }
            current.push(c);
            current_cjk = Some(cjk);
        }
        if !current.is_empty() {
            terms.push(current);
        }
    }
    terms.retain(|t| t.chars().any(char::is_alphanumeric));
    terms
}

/// An FTS5 string literal: the term as one phrase, with quotes doubled so no query syntax
/// (`OR`, `NEAR`, `*`, `:`) in user input is interpreted.
fn phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

struct Plan {
    trigram: Option<String>,
    short: Option<String>,
}

fn plan(terms: &[String]) -> Plan {
    let mut tri = Vec::new();
    let mut short = Vec::new();
    for term in terms {
        let len = term.chars().count();
        if len >= 3 {
            tri.push(phrase(term));
        } else if term.chars().all(is_cjk) {
            short.push(phrase(term));
        } else {
            // One or two Latin characters: a word prefix ("id", "ok") is the useful reading.
            short.push(format!("{}*", phrase(term)));
        }
    }
    let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(" AND "));
    Plan {
        trigram: join(tri),
        short: join(short),
    }
}

/// Character ranges in `text` where any term occurs (case-insensitive), merged and sorted.
fn match_ranges(text: &str, terms: &[Vec<char>]) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    // Lowercasing can change length for a few scripts; fall back to no highlight rather than
    // pointing at the wrong characters.
    if chars.len() != text.chars().count() {
        return Vec::new();
    }
    let mut ranges = Vec::new();
    for term in terms {
        if term.is_empty() || term.len() > chars.len() {
            continue;
        }
        for start in 0..=chars.len() - term.len() {
            if chars[start..start + term.len()] == term[..] {
                ranges.push((start, start + term.len()));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

fn highlight(text: &str, terms: &[Vec<char>]) -> Highlighted {
    Highlighted {
        ranges: match_ranges(text, terms),
        text: text.to_owned(),
    }
}

/// Lines of a search document before the description: key, subject, requester, account. The
/// result list shows them already, so snippets prefer the text below.
pub(crate) const HEADER_LINES: usize = 4;

fn join_lines(lines: &[&str]) -> String {
    lines
        .iter()
        .filter(|l| !l.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A window of about `width` characters around the first match in `doc`, taken from the body
/// when the body matches.
fn snippet(doc: &str, terms: &[Vec<char>], width: usize) -> Highlighted {
    let lines: Vec<&str> = doc.split('\n').collect();
    let body = join_lines(lines.get(HEADER_LINES..).unwrap_or_default());
    let body_ranges = match_ranges(&body, terms);
    let (flat, ranges) = if body_ranges.is_empty() {
        let all = join_lines(&lines);
        let ranges = match_ranges(&all, terms);
        (all, ranges)
    } else {
        (body, body_ranges)
    };
    let total = flat.chars().count();
    let first = ranges.first().map_or(0, |r| r.0);
    let start = first.saturating_sub(width / 3);
    let end = (start + width).min(total);
    let mut text: String = flat.chars().skip(start).take(end - start).collect();
    let offset = usize::from(start > 0);
    if start > 0 {
        text.insert(0, '…');
    }
    if end < total {
        text.push('…');
    }
    let ranges = ranges
        .into_iter()
        .filter(|&(s, e)| s >= start && e <= end)
        .map(|(s, e)| (s - start + offset, e - start + offset))
        .collect();
    Highlighted { text, ranges }
}

impl Store {
    fn newest_matches(&self, table: &str, expr: &str, limit: u32) -> Result<Vec<i64>> {
        let sql = format!(
            "SELECT rowid FROM {table} WHERE {table} MATCH ?1 ORDER BY rowid DESC LIMIT ?2"
        );
        let rowids = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![expr, limit], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rowids)
    }

    /// Tickets matching both indexes: a merge of two newest-first streams. SQLite would answer
    /// `rowid IN (subquery)` against FTS5 by probing row by row (seconds on 100 000 tickets);
    /// walking both doclists in step stops as soon as a page is full.
    fn intersect_newest(&self, trigram: &str, short: &str, limit: u32) -> Result<Vec<i64>> {
        let mut tri = self.conn.prepare_cached(
            "SELECT rowid FROM search_tri WHERE search_tri MATCH ?1 ORDER BY rowid DESC",
        )?;
        let mut sho = self.conn.prepare_cached(
            "SELECT rowid FROM search_short WHERE search_short MATCH ?1 ORDER BY rowid DESC",
        )?;
        let mut tri_rows = tri.query([trigram])?;
        let mut short_rows = sho.query([short])?;
        let next = |rows: &mut rusqlite::Rows<'_>| -> Result<Option<i64>> {
            Ok(match rows.next()? {
                Some(row) => Some(row.get(0)?),
                None => None,
            })
        };
        let mut out = Vec::new();
        let (mut a, mut b) = (next(&mut tri_rows)?, next(&mut short_rows)?);
        while let (Some(x), Some(y)) = (a, b) {
            match x.cmp(&y) {
                std::cmp::Ordering::Equal => {
                    out.push(x);
                    if out.len() >= limit as usize {
                        break;
                    }
                    a = next(&mut tri_rows)?;
                    b = next(&mut short_rows)?;
                }
                std::cmp::Ordering::Greater => a = next(&mut tri_rows)?,
                std::cmp::Ordering::Less => b = next(&mut short_rows)?,
            }
        }
        Ok(out)
    }

    /// Tickets matching every term of `query`, newest first, at most `limit`.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let terms = terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let plan = plan(&terms);
        let rowids = match (&plan.trigram, &plan.short) {
            (Some(tri), Some(short)) => self.intersect_newest(tri, short, limit)?,
            (Some(expr), None) => self.newest_matches("search_tri", expr, limit)?,
            (None, Some(expr)) => self.newest_matches("search_short", expr, limit)?,
            (None, None) => Vec::new(),
        };

        let lowered: Vec<Vec<char>> = terms
            .iter()
            .map(|t| t.chars().flat_map(char::to_lowercase).collect())
            .collect();
        let mut fetch = self.conn.prepare_cached(
            "SELECT t.id, t.key, t.status, t.priority, t.updated_at, t.subject, d.text
             FROM tickets t JOIN search_docs d ON d.rowid = t.rowid WHERE t.rowid = ?1",
        )?;
        let mut hits = Vec::with_capacity(rowids.len());
        for rowid in rowids {
            let row = fetch.query_row([rowid], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?;
            let (id, key, status, priority, updated, subject, doc) = row;
            hits.push(SearchHit {
                id: TicketId::from_slice(&id).map_err(corrupt)?,
                key,
                status: status.parse().map_err(corrupt)?,
                priority: priority_from_rank(priority)?,
                updated_at: from_millis(updated).ok_or_else(|| corrupt("time out of range"))?,
                subject: highlight(&subject, &lowered),
                snippet: snippet(&doc, &lowered, 120),
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_index_text_emits_unigrams_and_bigrams_of_cjk_runs() {
        assert_eq!(
            short_index_text("App登录失败"),
            "App 登 录 失 败 登录 录失 失败 "
        );
        // Each CJK token and each chunk of other text once per document.
        assert_eq!(
            short_index_text("登录登录 OK, e-mail OK, 登录\nE1023 ok,"),
            "登 录 登录 录登 OK, e-mail E1023 ok, "
        );
    }

    #[test]
    fn terms_split_at_script_boundaries() {
        assert_eq!(
            terms("App登录 失败  E1023"),
            vec!["App", "登录", "失败", "E1023"]
        );
        assert_eq!(terms("  ,, "), Vec::<String>::new());
    }

    #[test]
    fn plan_routes_terms_by_length_and_script() {
        let p = plan(&terms("登录 E1023 id"));
        assert_eq!(p.trigram.as_deref(), Some("\"E1023\""));
        assert_eq!(p.short.as_deref(), Some("\"登录\" AND \"id\"*"));
    }

    #[test]
    fn query_syntax_in_user_input_is_quoted() {
        assert_eq!(phrase("a\" OR \"b"), "\"a\"\" OR \"\"b\"");
    }

    #[test]
    fn highlights_are_character_ranges_case_insensitive() {
        let t: Vec<Vec<char>> = vec!["登录".chars().collect(), "app".chars().collect()];
        let h = highlight("无法登录 App，再次登录", &t);
        assert_eq!(h.ranges, vec![(2, 4), (5, 8), (11, 13)]);
    }

    #[test]
    fn snippets_center_on_the_first_match() {
        let doc = format!(
            "OP-1\n标题\n王先生\nACC\n{}\n退款未到账\n",
            "前文".repeat(100)
        );
        let t: Vec<Vec<char>> = vec!["退款".chars().collect()];
        let s = snippet(&doc, &t, 40);
        assert!(s.text.starts_with('…'));
        let (a, b) = s.ranges[0];
        let picked: String = s.text.chars().skip(a).take(b - a).collect();
        assert_eq!(picked, "退款");
    }

    #[test]
    fn snippets_prefer_the_body_and_fall_back_to_the_header() {
        let doc = "OP-1\n退款问题\n王先生\nACC-1\n钱没有到账\n";
        let refund: Vec<Vec<char>> = vec!["退款".chars().collect()];
        assert_eq!(
            snippet(doc, &refund, 40).text,
            "OP-1 · 退款问题 · 王先生 · ACC-1 · 钱没有到账"
        );
        let money: Vec<Vec<char>> = vec!["到账".chars().collect()];
        let s = snippet(doc, &money, 40);
        assert_eq!(
            (s.text.as_str(), s.ranges.as_slice()),
            ("钱没有到账", &[(3, 5)][..])
        );
    }
}
