//! Bulk import of posts from a CSV file: every row is checked first with
//! the composer's own rules; one bad row and nothing is imported, and the
//! report names each bad row, its column and what is wrong. A good file is
//! imported in one transaction.
//!
//! The file: UTF-8 (with or without a byte-order mark), separated by `,`
//! or by `;` (as Dutch Excel writes it; whichever the header line has
//! more of), fields in double quotes may hold separators, quotes (`""`)
//! and line breaks. The header names its columns, in Dutch or English, in
//! any order and case: `date`/`datum` (`2026-03-29`, or `29-3-2026` and
//! `29/03/2026`), `time`/`tijd` (`09:00`), `channels`/`kanalen` (names or
//! ids, several separated by `|` or `,`), `text`/`tekst`. Other columns
//! are ignored. At most [`MAX_ROWS`] rows and [`MAX_BYTES`] bytes.

use dialoog_domain::{Action, FieldError, time};
use dialoog_store::{Channel, NewPost, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::posts::{Compose, When};
use crate::service::{Result, access, audit, now_ms};

/// The most rows (after the header) one file may have.
pub const MAX_ROWS: usize = 5000;
/// The largest file accepted.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// An example file, offered for download.
pub const EXAMPLE: &str = "datum;tijd;kanalen;tekst\n\
2026-04-06;09:00;Bakkerij Mastodon;\"Vers brood vanaf zeven uur. Tot straks!\"\n\
2026-04-08;15:30;Bakkerij Mastodon|Bakkerij Bluesky;\"Nieuw: speltbrood.\nProeven? Kom langs!\"\n";

/// One thing wrong with one row.
#[derive(Debug, Clone)]
pub struct RowProblem {
    /// The row as a spreadsheet numbers it (the header is row 1).
    pub row: usize,
    /// The column, as named in the file's header.
    pub column: String,
    /// What is wrong.
    pub error: FieldError,
}

/// How an import went.
#[derive(Debug)]
pub enum Imported {
    /// Every row was good: this many posts were made.
    Done(usize),
    /// Nothing was imported, because of these rows.
    Refused(Vec<RowProblem>),
}

fn file_error(code: &'static str) -> AppError {
    AppError::Invalid(vec![FieldError::new("file", code)])
}

/// A parsed file: its records (the header first), each with its row number.
pub fn parse(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>> {
    if bytes.len() > MAX_BYTES {
        return Err(AppError::Invalid(vec![
            FieldError::new("file", "csv_too_large").with("max", "2 MB"),
        ]));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| file_error("csv_not_utf8"))?;
    if text.trim().is_empty() {
        return Err(file_error("csv_empty"));
    }
    let first_line = text.lines().next().unwrap_or_default();
    let sep = if first_line.matches(';').count() > first_line.matches(',').count() {
        ';'
    } else {
        ','
    };
    let mut records = vec![];
    let mut record: Vec<String> = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    let mut row = 1;
    let mut end_record = |record: &mut Vec<String>, field: &mut String, row: &mut usize| {
        record.push(std::mem::take(field));
        let r = std::mem::take(record);
        if r.iter().any(|f| !f.trim().is_empty()) {
            records.push((*row, r));
        }
        *row += 1;
        records.len()
    };
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            c if c == sep => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                was_quoted = false;
                if end_record(&mut record, &mut field, &mut row) > MAX_ROWS + 1 {
                    return Err(AppError::Invalid(vec![
                        FieldError::new("file", "csv_too_many_rows")
                            .with("max", MAX_ROWS.to_string()),
                    ]));
                }
            }
            // Text after a closing quote ("a"b) is kept as written.
            c => field.push(c),
        }
    }
    if quoted {
        return Err(AppError::Invalid(vec![
            FieldError::new("file", "csv_unclosed_quote").with("row", row.to_string()),
        ]));
    }
    if !field.is_empty() || !record.is_empty() {
        end_record(&mut record, &mut field, &mut row);
    }
    if records.len() > MAX_ROWS + 1 {
        return Err(AppError::Invalid(vec![
            FieldError::new("file", "csv_too_many_rows").with("max", MAX_ROWS.to_string()),
        ]));
    }
    if records.len() < 2 {
        return Err(file_error("csv_no_rows"));
    }
    Ok(records)
}

/// Where each column is, and what the file calls it.
struct Columns {
    at: [(usize, String); 4],
}

const DATE: usize = 0;
const TIME: usize = 1;
const CHANNELS: usize = 2;
const TEXT: usize = 3;

fn columns(header: &[String]) -> Result<Columns> {
    let names: [&[&str]; 4] = [
        &["date", "datum"],
        &["time", "tijd"],
        &["channels", "kanalen", "channel", "kanaal"],
        &["text", "tekst"],
    ];
    let mut found: [Option<(usize, String)>; 4] = Default::default();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        let low = h.to_lowercase();
        for (k, alts) in names.iter().enumerate() {
            if found[k].is_none() && alts.contains(&low.as_str()) {
                found[k] = Some((i, h.to_owned()));
            }
        }
    }
    let missing: Vec<&str> = found
        .iter()
        .zip(names)
        .filter(|(f, _)| f.is_none())
        .map(|(_, n)| n[0])
        .collect();
    match found {
        [Some(a), Some(b), Some(c), Some(d)] => Ok(Columns { at: [a, b, c, d] }),
        _ => Err(AppError::Invalid(vec![
            FieldError::new("file", "csv_missing_columns").with("columns", missing.join(", ")),
        ])),
    }
}

/// A date as typed: `2026-03-29`, `29-3-2026` or `29/03/2026`.
fn date_of(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.parse::<jiff::civil::Date>().is_ok() {
        return Some(raw.to_owned());
    }
    let parts: Vec<&str> = raw.split(['-', '/', '.']).collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    let (d, m, y): (i8, i8, i16) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
    if y < 1000 {
        return None;
    }
    jiff::civil::Date::new(y, m, d).ok().map(|d| d.to_string())
}

/// A time as typed: `09:00`, `9:00` or `09:00:00`.
fn time_of(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let hm = raw
        .strip_suffix(":00")
        .filter(|r| r.contains(':'))
        .unwrap_or(raw);
    dialoog_domain::schedule::parse_minute(hm).map(|m| format!("{:02}:{:02}", m / 60, m % 60))
}

fn find_channels(raw: &str, channels: &[Channel]) -> std::result::Result<Vec<i64>, FieldError> {
    let mut out = vec![];
    for name in raw
        .split(['|', ',', ';'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let by_id = name
            .parse::<i64>()
            .ok()
            .and_then(|id| channels.iter().find(|c| c.id == id));
        let by_name: Vec<&Channel> = channels
            .iter()
            .filter(|c| c.name.trim().eq_ignore_ascii_case(name))
            .collect();
        match (by_id, by_name.as_slice()) {
            (Some(c), _) => out.push(c.id),
            (None, [c]) => out.push(c.id),
            (None, []) => {
                return Err(FieldError::new("channels", "csv_channel_unknown")
                    .with("channel", name.to_owned()));
            }
            (None, _) => {
                return Err(FieldError::new("channels", "csv_channel_ambiguous")
                    .with("channel", name.to_owned()));
            }
        }
    }
    Ok(out)
}

/// Checks every row of a CSV file and, when all are good, imports them
/// as scheduled posts in one transaction.
pub async fn import(state: &AppState, user: &User, ws: i64, bytes: &[u8]) -> Result<Imported> {
    let m = access(state, user, ws, Action::ComposePosts).await?;
    let records = parse(bytes)?;
    let Some(((_, header), rows)) = records.split_first() else {
        return Err(file_error("csv_no_rows"));
    };
    let cols = columns(header)?;
    let tz = &m.workspace.timezone;
    // Where approval is required of this person, the imported posts wait
    // as drafts, to be submitted one by one.
    let planned = match crate::approval::planned_state(state, &m).await? {
        "in_review" => "draft",
        other => other,
    };
    let channels = state.store.channels(ws).await?;
    let now = now_ms();
    let mut problems = vec![];
    let mut posts = vec![];
    for (row, fields) in rows {
        let cell = |k: usize| fields.get(cols.at[k].0).map_or("", String::as_str);
        let mut report = |k: usize, e: FieldError| {
            problems.push(RowProblem {
                row: *row,
                column: cols.at[k].1.clone(),
                error: e,
            });
        };
        let date = date_of(cell(DATE));
        let time = time_of(cell(TIME));
        if date.is_none() {
            report(DATE, FieldError::new("date", "csv_date_invalid"));
        }
        if time.is_none() {
            report(TIME, FieldError::new("time", "csv_time_invalid"));
        }
        let at = match (&date, &time) {
            (Some(d), Some(t)) => match time::local_instant(d, t, tz) {
                Ok(at) => Some(at),
                Err(e) => {
                    report(TIME, e);
                    None
                }
            },
            _ => None,
        };
        let targets = match find_channels(cell(CHANNELS), &channels) {
            Ok(t) => t,
            Err(e) => {
                report(CHANNELS, e);
                continue;
            }
        };
        let text = cell(TEXT).trim();
        if text.is_empty() {
            report(TEXT, FieldError::new("text", "required"));
            continue;
        }
        let compose = Compose {
            text: text.to_owned(),
            targets: targets.iter().map(|id| (*id, None)).collect(),
            when: When::At(at.unwrap_or(now)),
            media: vec![],
            campaign: String::new(),
        };
        match crate::posts::check(state, &channels, &compose, &[], now) {
            Ok(checked) => {
                if let Some(at) = at {
                    posts.push(NewPost {
                        workspace_id: ws,
                        author_id: Some(user.id),
                        text: text.to_owned(),
                        scheduled_at: Some(at),
                        state: planned.to_owned(),
                        targets: crate::posts::with_keys(checked)?,
                    });
                }
            }
            Err(errors) => {
                for e in errors {
                    let k = match (e.field, e.code) {
                        ("text", _) | (_, "too_long_for_channel") => TEXT,
                        ("scheduled_at", _) => TIME,
                        _ => CHANNELS,
                    };
                    report(k, e);
                }
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Imported::Refused(problems));
    }
    let n = state.store.create_posts(&posts, now).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "posts.imported",
        json!({"posts": n}),
    )
    .await;
    Ok(Imported::Done(n))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn rows(s: &str) -> Vec<Vec<String>> {
        parse(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    #[test]
    fn quoted_fields_keep_separators_quotes_and_line_breaks() {
        let got = rows("a;b;c\r\n1;\"x;y\";\"regel 1\nregel \"\"2\"\"\"\r\n\r\n2;;z\n");
        assert_eq!(got[1], ["1", "x;y", "regel 1\nregel \"2\""]);
        assert_eq!(got[2], ["2", "", "z"]);
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn row_numbers_count_records_like_a_spreadsheet() {
        let got = parse(b"a,b\n1,\"two\nlines\"\n3,4").unwrap();
        let nums: Vec<usize> = got.iter().map(|r| r.0).collect();
        assert_eq!(nums, [1, 2, 3]);
    }

    #[test]
    fn a_bom_is_skipped_and_commas_are_the_default() {
        let got = rows("\u{feff}date,time\n2026-01-01,09:00");
        assert_eq!(got[0], ["date", "time"]);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let code = |b: &[u8]| match parse(b) {
            Err(AppError::Invalid(f)) => f[0].code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(b"datum;tekst\n2026;caf\xe9"), "csv_not_utf8");
        assert_eq!(code(b""), "csv_empty");
        assert_eq!(code(b"  \n"), "csv_empty");
        assert_eq!(code(b"datum;tekst\n"), "csv_no_rows");
        assert_eq!(code(b"a;b\n\"open;x\n"), "csv_unclosed_quote");
        let many = format!("a;b\n{}", "1;2\n".repeat(MAX_ROWS + 1));
        assert_eq!(code(many.as_bytes()), "csv_too_many_rows");
        let big = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(code(&big), "csv_too_large");
    }

    #[test]
    fn dates_and_times_as_spreadsheets_write_them() {
        assert_eq!(date_of("2026-03-29").as_deref(), Some("2026-03-29"));
        assert_eq!(date_of("29-3-2026").as_deref(), Some("2026-03-29"));
        assert_eq!(date_of("29/03/2026").as_deref(), Some("2026-03-29"));
        assert_eq!(date_of("31-02-2026"), None);
        assert_eq!(date_of("29-3-26"), None);
        assert_eq!(time_of("9:00").as_deref(), Some("09:00"));
        assert_eq!(time_of("09:30:00").as_deref(), Some("09:30"));
        assert_eq!(time_of("25:00"), None);
    }
}
