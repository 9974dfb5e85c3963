//! `dialoog analyze`: one JSON line out per line in, in order, streaming.
//!
//! A line is plain text, or a JSON object with a `"text"` field. Lines are
//! read as bytes with a cap, so any input size runs in constant memory; a
//! line that is not UTF-8, or a JSON object without text, gets an `"error"`
//! in its output line (and a message naming the line on `errors`), and the
//! rest is still processed.

use std::io::{self, BufRead, Write};

use crate::{Doc, lang, sentiment};

/// Lines longer than this (8 MiB) are cut; only the first part is analysed.
pub const MAX_LINE_BYTES: usize = 8 << 20;

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Lines read.
    pub lines: u64,
    /// Lines that could not be analysed.
    pub errors: u64,
}

/// Reads one line into `buf` (without the newline), keeping at most `cap`
/// bytes; `None` at the end of input.
fn read_line_capped<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<()>> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(()));
        }
        any = true;
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&part[..part.len().min(room)]);
        let used = done.unwrap_or(chunk.len());
        r.consume(used);
        if done.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(()));
        }
    }
}

/// The analysis of one text as a JSON line (without the newline).
pub fn analyze_text(text: &str) -> String {
    let doc = Doc::new(text);
    let lang = lang::detect(&doc);
    let s = sentiment::score(&doc, lang);
    let lang = lang.map_or("null".to_owned(), |l| format!("\"{}\"", l.code()));
    format!(
        "{{\"lang\":{lang},\"sentiment\":\"{}\",\"score\":{:.4}}}",
        s.label.as_str(),
        s.score
    )
}

fn error_line(msg: &str) -> String {
    serde_json::json!({"lang": null, "sentiment": null, "score": null, "error": msg}).to_string()
}

/// Analyses every line of `input`, writing one JSON line per input line to
/// `output`, and a message per bad line to `errors`.
pub fn analyze_stream<R: BufRead, W: Write, E: Write>(
    mut input: R,
    mut output: W,
    errors: &mut E,
) -> io::Result<Stats> {
    let mut stats = Stats::default();
    let mut buf = Vec::with_capacity(4096);
    while read_line_capped(&mut input, &mut buf, MAX_LINE_BYTES)?.is_some() {
        stats.lines += 1;
        let n = stats.lines;
        let line = match std::str::from_utf8(&buf) {
            Ok(s) => s,
            Err(e) => {
                stats.errors += 1;
                let msg = format!(
                    "line {n}: not valid UTF-8 (at byte {})",
                    e.valid_up_to() + 1
                );
                writeln!(errors, "{msg}")?;
                writeln!(output, "{}", error_line(&msg))?;
                continue;
            }
        };
        let trimmed = line.trim_start();
        let out = if trimmed.starts_with('{') {
            match serde_json::from_str::<serde_json::Value>(trimmed) {
                Ok(serde_json::Value::Object(o)) => match o.get("text") {
                    Some(serde_json::Value::String(t)) => analyze_text(t),
                    _ => {
                        stats.errors += 1;
                        let msg =
                            format!("line {n}: a JSON object needs a \"text\" field with a string");
                        writeln!(errors, "{msg}")?;
                        error_line(&msg)
                    }
                },
                _ => analyze_text(line),
            }
        } else {
            analyze_text(line)
        };
        writeln!(output, "{out}")?;
        if n.is_multiple_of(1024) {
            output.flush()?;
        }
    }
    output.flush()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Vec<serde_json::Value>, String, Stats) {
        let (mut out, mut err) = (vec![], vec![]);
        let stats = analyze_stream(input, &mut out, &mut err).unwrap_or_default();
        let lines = String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
            .collect();
        (lines, String::from_utf8_lossy(&err).into_owned(), stats)
    }

    #[test]
    fn one_line_out_per_line_in_with_errors_in_place() {
        let input = b"Wat een heerlijke taart, echt top!\n{\"text\": \"The delivery was terrible and late\"}\n\xff\xfe oops\n\n{\"nope\": 1}\r\n{not json}\n";
        let (out, err, stats) = run(input);
        assert_eq!(
            stats,
            Stats {
                lines: 6,
                errors: 2
            }
        );
        assert_eq!(out.len(), 6);
        assert_eq!(
            (out[0]["lang"].as_str(), out[0]["sentiment"].as_str()),
            (Some("nl"), Some("positive"))
        );
        assert_eq!(
            (out[1]["lang"].as_str(), out[1]["sentiment"].as_str()),
            (Some("en"), Some("negative"))
        );
        assert_eq!(out[2]["error"], "line 3: not valid UTF-8 (at byte 1)");
        assert_eq!(
            (
                out[3]["lang"].is_null(),
                out[3]["sentiment"].as_str(),
                out[3]["score"].as_f64()
            ),
            (true, Some("neutral"), Some(0.0))
        );
        assert!(
            out[4]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("line 5:"))
        );
        assert_eq!(out[5]["sentiment"], "neutral");
        assert!(err.contains("line 3") && err.contains("line 5"));
    }

    #[test]
    fn last_line_without_newline_and_huge_lines() {
        let (out, _, _) = run(b"goed");
        assert_eq!(out.len(), 1);
        let mut big = "slecht ".repeat(2_000_000).into_bytes();
        big.extend_from_slice(b"\nok\n");
        let (out, _, stats) = run(&big);
        assert_eq!(stats.lines, 2);
        assert_eq!(out[0]["sentiment"], "negative");
    }
}
