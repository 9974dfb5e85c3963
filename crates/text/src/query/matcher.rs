//! One pass over a post for every query of every workspace.
//!
//! The post's tokens are laid out once as ` word #tag @who word ` (other
//! tokens become a separator, so phrases do not run across them). Every term
//! of every query becomes one or two patterns (` taart `, ` #taart `,
//! ` bak`, ` bakkerij de vries `, ` @anna@`) in a single Aho-Corasick
//! automaton; one overlapping scan gives every term present. Only the
//! queries that contain a present term (and the few that can match with no
//! term at all, such as `NOT spam`) are then evaluated.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;

use super::{Query, Term};
use crate::doc::{Doc, TokenKind, fold};
use crate::lang::Lang;

/// A post as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct Post<'a> {
    /// The normalised text.
    pub doc: &'a Doc,
    /// Its detected language.
    pub lang: Option<Lang>,
    /// Where it came from (`mastodon`, `rss`, …), for `source:`.
    pub source: &'a str,
}

#[derive(Debug, Clone)]
enum Compiled {
    Term(u32),
    Lang(Lang),
    Source(String),
    Not(Box<Compiled>),
    And(Vec<Compiled>),
    Or(Vec<Compiled>),
}

impl Compiled {
    fn new(q: &Query, ids: &HashMap<Term, u32>) -> Self {
        match q {
            Query::Term(t) => Compiled::Term(ids.get(t).copied().unwrap_or(u32::MAX)),
            Query::Lang(l) => Compiled::Lang(*l),
            Query::Source(s) => Compiled::Source(s.clone()),
            Query::Not(q) => Compiled::Not(Box::new(Compiled::new(q, ids))),
            Query::And(qs) => Compiled::And(qs.iter().map(|q| Compiled::new(q, ids)).collect()),
            Query::Or(qs) => Compiled::Or(qs.iter().map(|q| Compiled::new(q, ids)).collect()),
        }
    }

    fn eval(&self, hits: &[u32], lang: Option<Lang>, source: &str) -> bool {
        match self {
            Compiled::Term(id) => hits.binary_search(id).is_ok(),
            Compiled::Lang(l) => lang == Some(*l),
            Compiled::Source(s) => source.eq_ignore_ascii_case(s) || fold(source) == *s,
            Compiled::Not(q) => !q.eval(hits, lang, source),
            Compiled::And(qs) => qs.iter().all(|q| q.eval(hits, lang, source)),
            Compiled::Or(qs) => qs.iter().any(|q| q.eval(hits, lang, source)),
        }
    }
}

/// Every query of every workspace, compiled for one pass per post.
#[derive(Debug, Clone)]
pub struct Matcher {
    ac: Option<AhoCorasick>,
    pattern_term: Vec<u32>,
    term_queries: Vec<Vec<u32>>,
    queries: Vec<(u64, Compiled)>,
    always: Vec<u32>,
}

/// Separator for tokens that are not words, hashtags or mentions.
const GAP: &str = " \u{1}";

fn patterns(t: &Term) -> Vec<String> {
    match t {
        Term::Word(w) => vec![format!(" {w} "), format!(" #{w} ")],
        Term::Prefix(p) => vec![format!(" {p}")],
        Term::Phrase(ws) => vec![format!(" {} ", ws.join(" "))],
        Term::Hashtag(h) => vec![format!(" #{h} ")],
        Term::Mention(m) => vec![format!(" @{m} "), format!(" @{m}@")],
    }
}

/// Lays a post's tokens out the way the patterns expect.
pub(crate) fn layout(doc: &Doc, out: &mut String) {
    out.clear();
    for t in &doc.tokens {
        match t.kind {
            TokenKind::Word | TokenKind::Hashtag | TokenKind::Mention => {
                out.push(' ');
                out.push_str(t.folded());
            }
            _ => out.push_str(GAP),
        }
    }
    out.push(' ');
}

impl Matcher {
    /// Compiles `(id, query)` pairs; the ids are returned by [`Matcher::matches`].
    pub fn new(queries: impl IntoIterator<Item = (u64, Query)>) -> Self {
        let mut term_ids: HashMap<Term, u32> = HashMap::new();
        let mut term_queries: Vec<Vec<u32>> = vec![];
        let mut compiled = vec![];
        let mut always = vec![];
        for (qi, (id, q)) in queries.into_iter().enumerate() {
            let qi = u32::try_from(qi).unwrap_or(u32::MAX);
            let mut terms = vec![];
            q.terms(&mut terms);
            for t in terms {
                let next = u32::try_from(term_ids.len()).unwrap_or(u32::MAX);
                let tid = *term_ids.entry(t).or_insert(next);
                if tid as usize == term_queries.len() {
                    term_queries.push(vec![]);
                }
                if let Some(list) = term_queries.get_mut(tid as usize)
                    && list.last() != Some(&qi)
                {
                    list.push(qi);
                }
            }
            if q.matches_without_terms() {
                always.push(qi);
            }
            compiled.push((id, Compiled::new(&q, &term_ids)));
        }
        let mut pats: Vec<String> = vec![];
        let mut pattern_term = vec![];
        let mut by_id: Vec<(&Term, &u32)> = term_ids.iter().collect();
        by_id.sort_by_key(|(_, id)| **id);
        for (t, id) in by_id {
            for p in patterns(t) {
                pats.push(p);
                pattern_term.push(*id);
            }
        }
        let ac = if pats.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&pats)
                .or_else(|_| {
                    AhoCorasick::builder()
                        .match_kind(MatchKind::Standard)
                        .build(&pats)
                })
                .ok()
        };
        Self {
            ac,
            pattern_term,
            term_queries,
            queries: compiled,
            always,
        }
    }

    /// How many queries are compiled in.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// Whether no query is compiled in.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }

    /// The ids of every query that matches the post, in compile order.
    pub fn matches(&self, post: &Post<'_>) -> Vec<u64> {
        let mut out = vec![];
        let mut scratch = Scratch::default();
        self.matches_into(post, &mut scratch, &mut out);
        out
    }

    /// Like [`Matcher::matches`], reusing buffers across posts.
    pub fn matches_into(&self, post: &Post<'_>, s: &mut Scratch, out: &mut Vec<u64>) {
        out.clear();
        s.hits.clear();
        s.candidates.clear();
        if let Some(ac) = &self.ac {
            layout(post.doc, &mut s.text);
            for m in ac.find_overlapping_iter(s.text.as_str()) {
                if let Some(t) = self.pattern_term.get(m.pattern().as_usize()) {
                    s.hits.push(*t);
                }
            }
        }
        s.hits.sort_unstable();
        s.hits.dedup();
        for t in &s.hits {
            if let Some(qs) = self.term_queries.get(*t as usize) {
                s.candidates.extend_from_slice(qs);
            }
        }
        s.candidates.extend_from_slice(&self.always);
        s.candidates.sort_unstable();
        s.candidates.dedup();
        for qi in &s.candidates {
            if let Some((id, q)) = self.queries.get(*qi as usize)
                && q.eval(&s.hits, post.lang, post.source)
            {
                out.push(*id);
            }
        }
    }
}

/// Buffers reused across posts by [`Matcher::matches_into`].
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    hits: Vec<u32>,
    candidates: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;
    use proptest::prelude::*;

    fn m(queries: &[&str], text: &str, lang: Option<Lang>) -> Vec<u64> {
        let matcher = Matcher::new(
            queries
                .iter()
                .enumerate()
                .map(|(i, q)| (i as u64, parse(q).unwrap_or(Query::Or(vec![])))),
        );
        let doc = Doc::new(text);
        matcher.matches(&Post {
            doc: &doc,
            lang,
            source: "mastodon",
        })
    }

    #[test]
    fn finds_the_queries_that_match() {
        let qs = [
            "bakkerij",
            "\"de vries\"",
            "croiss*",
            "#taart",
            "@bakkerijdv",
            "taart NOT vacature",
            "lang:nl brood",
            "source:rss",
            "NOT spam",
        ];
        assert_eq!(
            m(
                &qs,
                "Bij Bakkerij De Vries zijn de croissants top! #Taart @BakkerijDV@mastodon.social",
                Some(Lang::Nl)
            ),
            vec![0, 1, 2, 3, 4, 5, 8]
        );
        assert_eq!(
            m(&qs, "Vacature: taart bakker gezocht, spam", None),
            Vec::<u64>::new()
        );
        assert_eq!(m(&qs, "Vers brood", Some(Lang::Nl)), vec![6, 8]);
        assert_eq!(m(&qs, "Vers brood", Some(Lang::En)), vec![8]);
        // A phrase does not run across a URL.
        assert_eq!(
            m(&["\"de vries\""], "de https://x.nl vries", None),
            Vec::<u64>::new()
        );
        assert_eq!(m(&["café"], "Het CAFÉ is open", None), vec![0]);
    }

    /// The reference: the query's meaning, evaluated the slow, obvious way.
    fn naive(q: &Query, doc: &Doc, lang: Option<Lang>) -> bool {
        let elems: Vec<Option<(&str, TokenKind)>> = doc
            .tokens
            .iter()
            .map(|t| {
                matches!(
                    t.kind,
                    TokenKind::Word | TokenKind::Hashtag | TokenKind::Mention
                )
                .then_some((t.folded(), t.kind))
            })
            .collect();
        q.eval(lang, "mastodon", &mut |t: &Term| match t {
            Term::Word(w) => elems
                .iter()
                .flatten()
                .any(|(f, _)| f == w || *f == format!("#{w}")),
            Term::Prefix(p) => elems
                .iter()
                .flatten()
                .any(|(f, k)| *k == TokenKind::Word && f.starts_with(p.as_str())),
            Term::Hashtag(h) => elems.iter().flatten().any(|(f, _)| *f == format!("#{h}")),
            Term::Mention(who) => elems
                .iter()
                .flatten()
                .any(|(f, _)| *f == format!("@{who}") || f.starts_with(&format!("@{who}@"))),
            Term::Phrase(ws) => elems.windows(ws.len()).any(|win| {
                win.iter()
                    .zip(ws)
                    .all(|(e, w)| e.is_some_and(|(f, k)| k == TokenKind::Word && f == w))
            }),
        })
    }

    const VOCAB: [&str; 8] = [
        "taart", "brood", "bakker", "bakkerij", "de", "vries", "koek", "top",
    ];

    fn word() -> impl Strategy<Value = String> {
        prop::sample::select(VOCAB.to_vec()).prop_map(str::to_owned)
    }

    fn query() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            word(),
            word().prop_map(|w| format!("#{w}")),
            word().prop_map(|w| format!("@{w}")),
            (word(), 2usize..6).prop_map(|(w, n)| format!("{}*", &w[..n.min(w.len())])),
            (word(), word()).prop_map(|(a, b)| format!("\"{a} {b}\"")),
            Just("lang:nl".to_owned()),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
                inner.prop_map(|a| format!("NOT {a}")),
            ]
        })
    }

    fn post() -> impl Strategy<Value = String> {
        let tok = prop_oneof![
            4 => word(),
            1 => word().prop_map(|w| format!("#{w}")),
            1 => word().prop_map(|w| format!("@{w}")),
            1 => word().prop_map(|w| format!("@{w}@social.nl")),
            1 => Just("https://x.nl".to_owned()),
            1 => Just("🙂".to_owned()),
            1 => word().prop_map(|w| w.to_uppercase()),
        ];
        prop::collection::vec(tok, 0..12).prop_map(|v| v.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]
        #[test]
        fn matcher_agrees_with_the_reference(qs in prop::collection::vec(query(), 1..8), text in post(), nl in any::<bool>()) {
            let parsed: Vec<Query> = qs.iter().filter_map(|q| parse(q).ok()).collect();
            let matcher = Matcher::new(parsed.iter().cloned().enumerate().map(|(i, q)| (i as u64, q)));
            let doc = Doc::new(&text);
            let lang = if nl { Some(Lang::Nl) } else { None };
            let got = matcher.matches(&Post { doc: &doc, lang, source: "mastodon" });
            let want: Vec<u64> = parsed.iter().enumerate().filter(|(_, q)| naive(q, &doc, lang)).map(|(i, _)| i as u64).collect();
            prop_assert_eq!(got, want, "text {:?}", text);
        }
    }
}
