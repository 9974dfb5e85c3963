//! One pass over a post for every query of every workspace.
//!
//! Every term of every query is found in the post's tokens at once (see
//! `terms`). A query is evaluated only when one of its trigger terms is
//! present: the rarest term that each of its branches needs, so a query on a
//! brand and a common word waits for the brand. Queries that can match with
//! no term at all (`NOT spam`, `lang:nl`) are evaluated on every post.
//! Queries are flat arrays of nodes read against a bit per term; identical
//! queries (from different workspaces) are evaluated once per post.

use super::plan::{Facts, Interner, Node, eval, flatten, triggers};
use super::terms::{Present, TermIndex, frequency};
use super::{Query, Term};
use crate::doc::Doc;
use crate::lang::Lang;
use rustc_hash::FxHashMap;

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

/// Every query of every workspace, compiled for one pass per post.
#[derive(Debug, Clone)]
pub struct Matcher {
    terms: TermIndex,
    /// The nodes of every distinct query, one after the other.
    nodes: Vec<Node>,
    /// Per distinct query: where its nodes start in `nodes` (one more entry
    /// at the end).
    node_at: Vec<u32>,
    /// Per distinct query: where its members start in `members`.
    member_at: Vec<u32>,
    /// Positions (in compile order) of the queries that are the same query.
    members: Vec<u32>,
    /// The ids, by position.
    ids: Vec<u64>,
    /// Per term: where the distinct queries it triggers start in `triggered`.
    trigger_at: Vec<u32>,
    triggered: Vec<u32>,
    /// Distinct queries evaluated on every post.
    always: Vec<u32>,
    sources: Vec<String>,
}

fn idx(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `lists[i]` laid out one after the other, with where each starts (and one
/// more entry for the end).
fn concat(lists: Vec<Vec<u32>>) -> (Vec<u32>, Vec<u32>) {
    let mut at = Vec::with_capacity(lists.len() + 1);
    let mut all = vec![];
    for l in lists {
        at.push(idx(all.len()));
        all.extend(l);
    }
    at.push(idx(all.len()));
    (at, all)
}

fn range(at: &[u32], i: usize) -> std::ops::Range<usize> {
    let start = at.get(i).map_or(0, |x| *x as usize);
    let end = at.get(i + 1).map_or(start, |x| *x as usize);
    start..end
}

impl Matcher {
    /// Compiles `(id, query)` pairs; the ids are returned by [`Matcher::matches`].
    pub fn new(queries: impl IntoIterator<Item = (u64, Query)>) -> Self {
        let mut terms = Interner::<Term>::default();
        let mut sources = Interner::<String>::default();
        let mut distinct: FxHashMap<Vec<Node>, u32> = FxHashMap::default();
        let mut nodes = vec![];
        let mut node_at = vec![];
        let mut members: Vec<Vec<u32>> = vec![];
        let mut ids = vec![];
        let mut flat = vec![];
        for (position, (id, q)) in queries.into_iter().enumerate() {
            flat.clear();
            flatten(&q, &mut terms, &mut sources, &mut flat);
            let next = idx(members.len());
            let d = *distinct.entry(flat.clone()).or_insert(next);
            if d == next {
                node_at.push(idx(nodes.len()));
                nodes.extend_from_slice(&flat);
                members.push(vec![]);
            }
            if let Some(m) = members.get_mut(d as usize) {
                m.push(idx(position));
            }
            ids.push(id);
        }
        node_at.push(idx(nodes.len()));
        let n_terms = terms.items.len();
        let freq: Vec<u64> = terms.items.iter().map(frequency).collect();
        let freq = |t: u32| freq.get(t as usize).copied().unwrap_or(u64::MAX);
        let mut by_term: Vec<Vec<u32>> = vec![vec![]; n_terms];
        let mut always = vec![];
        for d in 0..members.len() {
            let q = nodes.get(range(&node_at, d)).unwrap_or_default();
            match triggers(q, 0, &freq) {
                Some((_, mut ts)) => {
                    ts.sort_unstable();
                    ts.dedup();
                    for t in ts {
                        if let Some(l) = by_term.get_mut(t as usize) {
                            l.push(idx(d));
                        }
                    }
                }
                None => always.push(idx(d)),
            }
        }
        let (member_at, members) = concat(members);
        let (trigger_at, triggered) = concat(by_term);
        Self {
            terms: TermIndex::new(&terms.items),
            nodes,
            node_at,
            member_at,
            members,
            ids,
            trigger_at,
            triggered,
            always,
            sources: sources.items,
        }
    }

    /// How many queries are compiled in.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no query is compiled in.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
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
        self.terms.find(post.doc, &mut s.present);
        // A new stamp for this post: a distinct query whose stamp is this
        // one has been evaluated already.
        s.stamp = s.stamp.wrapping_add(1);
        if s.stamp == 0 {
            s.seen.fill(0);
            s.stamp = 1;
        }
        if s.seen.len() < self.member_at.len() {
            s.seen.resize(self.member_at.len(), 0);
        }
        let facts = Facts {
            present: &s.present,
            lang: post.lang,
            source: post.source,
            sources: &self.sources,
        };
        s.groups.clear();
        let check = |d: u32, groups: &mut Vec<u32>| {
            let q = self.nodes.get(range(&self.node_at, d as usize));
            if eval(q.unwrap_or_default(), 0, &facts) {
                groups.push(d);
            }
        };
        for t in facts.present.list() {
            let triggered = self.triggered.get(range(&self.trigger_at, *t as usize));
            for d in triggered.unwrap_or_default() {
                if let Some(seen) = s.seen.get_mut(*d as usize)
                    && *seen != s.stamp
                {
                    *seen = s.stamp;
                    check(*d, &mut s.groups);
                }
            }
        }
        for d in &self.always {
            check(*d, &mut s.groups);
        }
        let id = |p: &u32| self.ids.get(*p as usize).copied().unwrap_or_default();
        if let [d] = s.groups.as_slice() {
            out.extend(self.members(*d).iter().map(id));
        } else {
            self.members_in_order(&s.groups, &mut s.hits, &mut s.merged);
            out.extend(s.hits.iter().map(id));
        }
    }

    fn members(&self, d: u32) -> &[u32] {
        self.members
            .get(range(&self.member_at, d as usize))
            .unwrap_or_default()
    }

    /// The positions of the members of these distinct queries, ascending.
    /// Each one's members are in order already: a few are merged, many
    /// sorted.
    fn members_in_order(&self, groups: &[u32], hits: &mut Vec<u32>, tmp: &mut Vec<u32>) {
        hits.clear();
        if groups.len() > 8 {
            for d in groups {
                hits.extend_from_slice(self.members(*d));
            }
            hits.sort_unstable();
            return;
        }
        for d in groups {
            let m = self.members(*d);
            if hits.is_empty() {
                hits.extend_from_slice(m);
                continue;
            }
            tmp.clear();
            let (mut i, mut j) = (0, 0);
            while let (Some(a), Some(b)) = (hits.get(i), m.get(j)) {
                if a < b {
                    tmp.push(*a);
                    i += 1;
                } else {
                    tmp.push(*b);
                    j += 1;
                }
            }
            tmp.extend_from_slice(hits.get(i..).unwrap_or_default());
            tmp.extend_from_slice(m.get(j..).unwrap_or_default());
            std::mem::swap(hits, tmp);
        }
    }
}

/// Buffers reused across posts by [`Matcher::matches_into`].
#[derive(Debug, Default)]
pub struct Scratch {
    present: Present,
    /// Per distinct query, the stamp of the last post it was evaluated for.
    seen: Vec<u32>,
    pub(super) stamp: u32,
    /// The distinct queries that match.
    groups: Vec<u32>,
    /// Their members' positions, in order.
    hits: Vec<u32>,
    merged: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::TokenKind;
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
