//! The matcher against its definition: a text search for each term's
//! patterns in the laid-out post, queries evaluated the obvious way. Queries
//! here are also built by hand, with terms the parser never gives (empty,
//! with spaces, with the separator), so that every corner is the same.

use super::terms::{layout, patterns};
use super::{Matcher, Post, Query, Scratch, Term, parse};
use crate::doc::{Doc, fold};
use crate::lang::Lang;
use proptest::prelude::*;

/// The definition, written plainly.
fn reference(q: &Query, text: &str, lang: Option<Lang>, source: &str) -> bool {
    match q {
        Query::Term(t) => patterns(t).iter().any(|p| text.contains(p.as_str())),
        Query::Lang(l) => lang == Some(*l),
        Query::Source(s) => source.eq_ignore_ascii_case(s) || fold(source) == *s,
        Query::Not(q) => !reference(q, text, lang, source),
        Query::And(qs) => qs.iter().all(|q| reference(q, text, lang, source)),
        Query::Or(qs) => qs.iter().any(|q| reference(q, text, lang, source)),
    }
}

fn answers(queries: &[Query], post: &Post<'_>) -> Vec<u64> {
    let mut text = String::new();
    layout(post.doc, &mut text);
    (0u64..)
        .zip(queries)
        .filter(|(_, q)| reference(q, &text, post.lang, post.source))
        .map(|(i, _)| i)
        .collect()
}

const STRINGS: [&str; 24] = [
    "taart",
    "brood",
    "de",
    "vries",
    "bakkerij",
    "merk1",
    "cafe",
    "ta",
    "t",
    "",
    "\u{1}",
    "de vries",
    "#taart",
    "@anna",
    "anna",
    "anna@mastodon.social",
    "anna@",
    "x@y",
    "don't",
    "ijs",
    "a",
    "1",
    "#",
    "@",
];

fn string() -> impl Strategy<Value = String> {
    prop::sample::select(STRINGS.to_vec()).prop_map(str::to_owned)
}

fn term() -> impl Strategy<Value = Term> {
    prop_oneof![
        3 => string().prop_map(Term::Word),
        2 => (string(), 0usize..5).prop_map(|(s, n)| {
            Term::Prefix(s.chars().take(n).collect())
        }),
        2 => prop::collection::vec(string(), 0..4).prop_map(Term::Phrase),
        1 => string().prop_map(Term::Hashtag),
        1 => string().prop_map(Term::Mention),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    let leaf = prop_oneof![
        6 => term().prop_map(Query::Term),
        1 => prop::sample::select(vec![Lang::Nl, Lang::En]).prop_map(Query::Lang),
        1 => prop::sample::select(vec!["mastodon", "Mastodon", "rss", "cafe"])
            .prop_map(|s| Query::Source(s.to_owned())),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|q| Query::Not(Box::new(q))),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Query::And),
            prop::collection::vec(inner, 0..4).prop_map(Query::Or),
        ]
    })
}

fn post() -> impl Strategy<Value = String> {
    let tok = prop_oneof![
        6 => string(),
        1 => string().prop_map(|w| format!("#{w}")),
        1 => string().prop_map(|w| format!("@{w}")),
        1 => prop::sample::select(vec![
            "@anna@mastodon.social", "https://x.nl", "🙂", "info@bakker.nl", "\u{301}",
            "a\u{301}", "CAFÉ", "Bakkerij", ":-)", "mérk1", "de-vries", "IJs", "anna@x",
        ]).prop_map(str::to_owned),
    ];
    prop::collection::vec(tok, 0..12).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]

    #[test]
    fn matcher_is_its_definition_for_any_query(
        qs in prop::collection::vec(query(), 1..10),
        texts in prop::collection::vec(post(), 1..4),
        nl in any::<bool>(),
        source in prop::sample::select(vec!["mastodon", "MASTODON", "rss", "café"]),
    ) {
        let matcher = Matcher::new((0u64..).zip(qs.iter().cloned()));
        let lang = if nl { Some(Lang::Nl) } else { None };
        let mut scratch = Scratch::default();
        let mut out = vec![];
        for text in &texts {
            let doc = Doc::new(text);
            let post = Post { doc: &doc, lang, source };
            matcher.matches_into(&post, &mut scratch, &mut out);
            prop_assert_eq!(&out, &answers(&qs, &post), "text {:?}", text);
        }
    }
}

#[test]
fn the_same_query_in_many_workspaces_answers_for_each() {
    let q = |s: &str| parse(s).unwrap_or(Query::Or(vec![]));
    let matcher = Matcher::new([
        (10, q("taart NOT vacature")),
        (11, q("brood")),
        (12, q("taart NOT vacature")),
        (13, q("lang:nl")),
        (14, q("brood")),
        (15, q("taart NOT vacature")),
    ]);
    let doc = Doc::new("Verse taart en brood");
    let post = Post {
        doc: &doc,
        lang: Some(Lang::Nl),
        source: "rss",
    };
    assert_eq!(matcher.matches(&post), vec![10, 11, 12, 13, 14, 15]);
    let doc = Doc::new("Vacature: taart");
    let post = Post { doc: &doc, ..post };
    assert_eq!(matcher.matches(&post), vec![13]);
}

#[test]
fn one_scratch_serves_every_matcher_and_every_post() {
    let small = Matcher::new([(1, Query::Term(Term::Word("taart".into())))]);
    let words: Vec<(u64, Query)> = (0..500)
        .map(|i| (i, Query::Term(Term::Word(format!("w{i}")))))
        .collect();
    let big = Matcher::new(words);
    let mut scratch = Scratch::default();
    let mut out = vec![];
    let run = |m: &Matcher, text: &str, s: &mut Scratch, out: &mut Vec<u64>| {
        let doc = Doc::new(text);
        let post = Post {
            doc: &doc,
            lang: None,
            source: "rss",
        };
        m.matches_into(&post, s, out);
        out.clone()
    };
    assert_eq!(run(&big, "w499 w3 x", &mut scratch, &mut out), vec![3, 499]);
    assert_eq!(run(&small, "taart w3", &mut scratch, &mut out), vec![1]);
    assert_eq!(run(&big, "w7", &mut scratch, &mut out), vec![7]);
    // The stamp wraps around without forgetting or inventing anything.
    scratch.stamp = u32::MAX - 1;
    for _ in 0..4 {
        assert_eq!(run(&big, "w1 w2", &mut scratch, &mut out), vec![1, 2]);
    }
    assert_eq!(run(&small, "", &mut scratch, &mut out), Vec::<u64>::new());
    assert!(Matcher::new([]).is_empty());
}

#[test]
fn ten_thousand_terms_stay_quick() {
    let words: Vec<String> = (0..10_000).map(|i| format!("woord{i}")).collect();
    let or = parse(&words.join(" OR ")).unwrap_or(Query::Or(vec![]));
    let and = parse(&words.join(" ")).unwrap_or(Query::Or(vec![]));
    let not = parse(&format!("NOT ({})", words.join(" OR "))).unwrap_or(Query::Or(vec![]));
    let matcher = Matcher::new([(0, or), (1, and), (2, not)]);
    let text = words.join(" ");
    let doc = Doc::new(&text);
    let started = std::time::Instant::now();
    let mut scratch = Scratch::default();
    let mut out = vec![];
    for _ in 0..20 {
        let post = Post {
            doc: &doc,
            lang: None,
            source: "rss",
        };
        matcher.matches_into(&post, &mut scratch, &mut out);
        assert_eq!(out, vec![0, 1]);
    }
    let doc = Doc::new("woord17");
    let post = Post {
        doc: &doc,
        lang: None,
        source: "rss",
    };
    assert_eq!(matcher.matches(&post), vec![0]);
    assert!(started.elapsed().as_secs() < 10);
}
