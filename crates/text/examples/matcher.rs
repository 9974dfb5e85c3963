//! The listening matcher on one thread, against the same 10,000-query mix as
//! `dialoog bench text`: posts per second of the thread's own CPU time (read
//! from `/proc/thread-self/schedstat`), so that other work on the machine
//! does not count against it. The posts are normalised and their language
//! detected before the clock starts; only matching is timed.
//!
//!     cargo run --release -p dialoog-text --example matcher -- 1000000 [queries]
//!
//! The line printed ends with the number of matches and a fingerprint of
//! every answer, so two versions of the matcher can be compared.

#![allow(clippy::print_stdout)]

use dialoog_text::eval::{sample_queries, sample_texts};
use dialoog_text::query::{Matcher, Post, Scratch, parse};
use dialoog_text::{Doc, Lang, lang};
use std::time::Instant;

/// CPU time this thread has run, in nanoseconds (0 where unknown).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Matches every post; returns the number of matches and an FNV-1a hash of
/// the answers. Kept out of line so a profiler can count it alone.
#[inline(never)]
fn match_all(matcher: &Matcher, docs: &[(Doc, Option<Lang>)]) -> (usize, u64) {
    let mut scratch = Scratch::default();
    let mut out = vec![];
    let (mut matched, mut hash) = (0usize, 0xcbf2_9ce4_8422_2325u64);
    for (doc, l) in docs {
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
        for id in out.iter().chain(std::iter::once(&u64::MAX)) {
            hash ^= *id;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (matched, hash)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let items: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let n_queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let queries: Vec<_> = sample_queries(n_queries, 7)
        .iter()
        .enumerate()
        .filter_map(|(i, q)| Some((i as u64, parse(q).ok()?)))
        .collect();
    let compiled = queries.len();
    let t0 = Instant::now();
    let matcher = Matcher::new(queries);
    let compile_s = t0.elapsed().as_secs_f64();
    let docs: Vec<(Doc, Option<Lang>)> = sample_texts(items, 42)
        .iter()
        .map(|t| {
            let d = Doc::new(t);
            let l = lang::detect(&d);
            (d, l)
        })
        .collect();
    let (wall, cpu) = (Instant::now(), thread_cpu_ns());
    let (matched, hash) = match_all(&matcher, &docs);
    let cpu_s = thread_cpu_ns().saturating_sub(cpu) as f64 / 1e9;
    let wall_s = wall.elapsed().as_secs_f64();
    println!(
        "{{\"posts\":{items},\"queries\":{compiled},\"compile_seconds\":{compile_s:.4},\"cpu_seconds\":{cpu_s:.4},\"posts_per_cpu_second\":{:.0},\"wall_seconds\":{wall_s:.4},\"posts_per_second\":{:.0},\"matches_per_post\":{:.4},\"answers\":\"{hash:016x}\"}}",
        items as f64 / cpu_s.max(1e-9),
        items as f64 / wall_s.max(1e-9),
        matched as f64 / items.max(1) as f64,
    );
}
