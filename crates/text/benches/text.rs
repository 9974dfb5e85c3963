//! Criterion benchmarks of the parts: `cargo bench -p dialoog-text`.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dialoog_text::eval::{sample_queries, sample_texts};
use dialoog_text::query::{Matcher, Post, Scratch, parse};
use dialoog_text::{Doc, lang, sentiment};
use std::hint::black_box;

fn parts(c: &mut Criterion) {
    let texts = sample_texts(10_000, 42);
    let docs: Vec<Doc> = texts.iter().map(|t| Doc::new(t)).collect();
    let mut g = c.benchmark_group("text");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("normalise_and_tokenise", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| Doc::new(black_box(t)).tokens.len())
                .sum::<usize>()
        })
    });
    g.bench_function("language", |b| {
        b.iter(|| {
            docs.iter()
                .filter(|d| lang::detect(black_box(d)).is_some())
                .count()
        })
    });
    g.bench_function("sentiment", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| sentiment::score(black_box(d), None).score)
                .sum::<f32>()
        })
    });
    g.bench_function("language_and_sentiment_from_text", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| {
                    let d = Doc::new(black_box(t));
                    let l = lang::detect(&d);
                    sentiment::score(&d, l).score
                })
                .sum::<f32>()
        })
    });
    let queries: Vec<_> = sample_queries(10_000, 7)
        .iter()
        .enumerate()
        .map(|(i, q)| (i as u64, parse(q).unwrap()))
        .collect();
    let matcher = Matcher::new(queries);
    let langs: Vec<_> = docs.iter().map(lang::detect).collect();
    g.bench_function("matcher_10000_queries", |b| {
        let mut scratch = Scratch::default();
        let mut out = vec![];
        b.iter(|| {
            let mut n = 0;
            for (d, l) in docs.iter().zip(&langs) {
                matcher.matches_into(
                    &Post {
                        doc: d,
                        lang: *l,
                        source: "mastodon",
                    },
                    &mut scratch,
                    &mut out,
                );
                n += out.len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, parts);
criterion_main!(benches);
