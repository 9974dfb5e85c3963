//! `dialoog bench <what>`: whole-pipeline benchmarks on generated data. Each
//! ends with one JSON line on stdout (see API.md).

use dialoog_text::eval::{sample_queries, sample_texts};
use dialoog_text::query::{Matcher, Post, parse};
use dialoog_text::{Doc, lang, sentiment};
use std::time::Instant;

/// The process's peak resident set size.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// `dialoog bench text`: language plus sentiment over `items` texts on one
/// thread, then the matcher against `queries` queries over the same texts.
pub fn text(items: usize, n_queries: usize) -> serde_json::Value {
    let corpus = sample_texts(items, 42);
    // Warm the lexicons and tables.
    let _ = sentiment::score(&Doc::new("warm up"), None);
    let start = Instant::now();
    let mut positive = 0usize;
    for t in &corpus {
        let doc = Doc::new(t);
        let l = lang::detect(&doc);
        if sentiment::score(&doc, l).score > 0.0 {
            positive += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();

    let parsed: Vec<(u64, dialoog_text::query::Query)> = sample_queries(n_queries, 7)
        .iter()
        .enumerate()
        .filter_map(|(i, q)| Some((i as u64, parse(q).ok()?)))
        .collect();
    let compiled = parsed.len();
    let t0 = Instant::now();
    let matcher = Matcher::new(parsed);
    let compile_seconds = t0.elapsed().as_secs_f64();
    // Normalise in chunks (untimed: that cost is measured above), then time
    // the matcher alone, so memory stays flat whatever `items` is.
    let mut scratch = dialoog_text::query::Scratch::default();
    let mut out = vec![];
    let mut matched = 0usize;
    let mut match_time = std::time::Duration::ZERO;
    for chunk in corpus.chunks(10_000) {
        let docs: Vec<(Doc, Option<dialoog_text::Lang>)> = chunk
            .iter()
            .map(|t| {
                let d = Doc::new(t);
                let l = lang::detect(&d);
                (d, l)
            })
            .collect();
        let t1 = Instant::now();
        for (doc, l) in &docs {
            matcher.matches_into(
                &Post {
                    doc,
                    lang: *l,
                    source: "mastodon",
                },
                &mut scratch,
                &mut out,
            );
            matched += out.len();
        }
        match_time += t1.elapsed();
    }
    let match_seconds = match_time.as_secs_f64();
    serde_json::json!({
        "what": "text",
        "items": items,
        "seconds": round(seconds),
        "items_per_second": (items as f64 / seconds).round(),
        "positive_share": round(positive as f64 / items.max(1) as f64),
        "matcher_queries": compiled,
        "matcher_compile_seconds": round(compile_seconds),
        "matcher_seconds": round(match_seconds),
        "matcher_posts_per_second": (items as f64 / match_seconds).round(),
        "matches_per_post": round(matched as f64 / items.max(1) as f64),
        "peak_rss_bytes": peak_rss_bytes(),
    })
}

/// The `p` quantile (0.0 to 1.0) of sorted samples, nearest rank; 0 when
/// there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

/// Rounded to four decimals.
pub fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
