//! Language plus sentiment throughput on one thread, in texts per second of
//! the thread's own CPU time (read from `/proc/thread-self/schedstat`), so
//! that other work on the machine does not count against it; the wall-clock
//! rate is printed beside it.
//!
//!     cargo run --release -p dialoog-text --example throughput -- 1000000

#![allow(clippy::print_stdout)]

use dialoog_text::eval::sample_texts;
use dialoog_text::{Doc, lang, sentiment};
use std::time::Instant;

/// CPU time this thread has run, in nanoseconds (0 where unknown).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let items: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let corpus = sample_texts(items, 42);
    let _ = sentiment::score(&Doc::new("warm up"), None);
    let (wall, cpu) = (Instant::now(), thread_cpu_ns());
    let mut positive = 0usize;
    for t in &corpus {
        let doc = Doc::new(t);
        let l = lang::detect(&doc);
        if sentiment::score(&doc, l).score > 0.0 {
            positive += 1;
        }
    }
    let cpu_s = thread_cpu_ns().saturating_sub(cpu) as f64 / 1e9;
    let wall_s = wall.elapsed().as_secs_f64();
    println!(
        "{{\"items\":{items},\"cpu_seconds\":{cpu_s:.4},\"items_per_cpu_second\":{:.0},\"wall_seconds\":{wall_s:.4},\"items_per_second\":{:.0},\"positive\":{positive}}}",
        items as f64 / cpu_s.max(1e-9),
        items as f64 / wall_s.max(1e-9)
    );
}
