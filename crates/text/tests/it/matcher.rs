//! The listening matcher gives the same answers as before: fingerprints of
//! every query id it returns, over generated posts and queries, recorded from
//! the matcher as it was when they were written.

use crate::outputs::odd_texts;
use dialoog_text::eval::{Rng, sample_queries, sample_texts};
use dialoog_text::query::{Matcher, Post, Query, Scratch, parse};
use dialoog_text::{Doc, lang};

/// Queries written by hand around the odd corners of the language.
const HAND: &[&str] = &[
    "NOT spam",
    "NOT (goed OR slecht)",
    "lang:nl",
    "lang:en NOT lang:nl",
    "source:mastodon",
    "source:RSS",
    "bron:Mastodon goed",
    "taart NOT vacature",
    "\"de vries\"",
    "\"bakkerij de vries\"",
    "\"niet goed\"",
    "\"#lekker goed\"",
    "\"@anna goed\"",
    "\"goed\"",
    "bak*",
    "goe*",
    "ge*",
    "#lekker",
    "#Ironie",
    "lekker",
    "ironie",
    "@anna",
    "@anna@mastodon.social",
    "@anna@",
    "@x.y",
    "x.y",
    "info@bakker.nl",
    "a@b",
    "cafe",
    "café",
    "e-mail",
    "don't",
    "don’t",
    "z'n",
    "ijs",
    "geïrriteerd",
    "straße",
    "ss",
    "😍",
    ":-)",
    "https://x.nl/a?b=1",
    "1:2",
    "1/5",
    "\"1 5\"",
    "not",
    "#not",
    "NOT not",
    "de OR the OR is",
    "(goed NOT niet) OR lang:en",
    "(goed OR great) (niet OR not) NOT (slecht OR bad)",
    "service levering bestelling",
    "(a* OR b*) NOT c*",
    "x",
    "_",
    "a\u{301}",
    "ελληνικά",
    "ΣΑΣ",
    "İstanbul",
];

/// Queries made of the odd texts' pieces, with operators between them.
fn odd_queries(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    odd_texts(n, seed)
        .into_iter()
        .map(|t| {
            let mut q = String::new();
            for w in t.split_whitespace() {
                if !q.is_empty() {
                    q.push_str(
                        rng.pick(&[" ", " OR ", " AND ", " NOT ", " OR NOT ", " "])
                            .copied()
                            .unwrap_or(" "),
                    );
                }
                match rng.below(8) {
                    0 => q.push_str(&format!("\"{w}\"")),
                    1 => q.push_str(&format!("{w}*")),
                    2 => q.push_str(&format!("({w} OR {w}*)")),
                    _ => q.push_str(w),
                }
            }
            q
        })
        .collect()
}

/// FNV-1a over every answer of every post.
fn answers(queries: &[String], texts: &[String]) -> (usize, u64) {
    let parsed: Vec<(u64, Query)> = queries
        .iter()
        .enumerate()
        .filter_map(|(i, q)| Some((i as u64, parse(q).ok()?)))
        .collect();
    let matcher = Matcher::new(parsed);
    let (mut scratch, mut out) = (Scratch::default(), vec![]);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut matched = 0;
    for (i, t) in texts.iter().enumerate() {
        let doc = Doc::new(t);
        let source = ["mastodon", "rss", "Bluesky"][i % 3];
        matcher.matches_into(
            &Post {
                doc: &doc,
                lang: lang::detect(&doc),
                source,
            },
            &mut scratch,
            &mut out,
        );
        matched += out.len();
        for id in out.iter().chain(std::iter::once(&u64::MAX)) {
            h ^= *id;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (matched, h)
}

#[test]
fn matcher_answers_on_the_benchmark_mix_are_unchanged() {
    let queries = sample_queries(10_000, 7);
    let texts = sample_texts(20_000, 42);
    assert_eq!(answers(&queries, &texts), (258779, 14670754400127333911));
}

#[test]
fn matcher_answers_on_odd_queries_and_texts_are_unchanged() {
    let mut queries: Vec<String> = HAND.iter().map(|q| (*q).to_owned()).collect();
    queries.extend(odd_queries(3_000, 5));
    queries.extend(sample_queries(500, 9));
    let mut texts = odd_texts(20_000, 13);
    texts.extend(sample_texts(5_000, 3));
    assert_eq!(answers(&queries, &texts), (6837561, 16330276627939699552));
}

/// A long phrase of one common word against a long post of that word: the
/// checks around each occurrence would cost length times occurrences; the
/// matcher stays within a budget and searches the text instead.
#[test]
fn long_phrases_on_long_posts_stay_quick() {
    let many = |n: usize| vec!["de"; n].join(" ");
    let queries = [
        format!("\"{} het\"", many(9_999)),
        format!("\"{}\"", many(10_000)),
        format!("\"het {}\"", many(9_999)),
        "\"de vries\" OR vries*".to_owned(),
    ];
    let matcher = Matcher::new((0u64..).zip(queries.iter().filter_map(|q| parse(q).ok())));
    assert_eq!(matcher.len(), 4);
    let started = std::time::Instant::now();
    for (text, want) in [
        (format!("{} het", many(100_000)), vec![0, 1]),
        (format!("het {} vries", many(100_000)), vec![1, 2, 3]),
        (many(50), vec![]),
    ] {
        let doc = Doc::new(&text);
        let post = Post {
            doc: &doc,
            lang: None,
            source: "rss",
        };
        assert_eq!(matcher.matches(&post), want);
    }
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}
