//! Queries as flat arrays of nodes, evaluated over the terms a post has,
//! and the terms that trigger them.

use rustc_hash::FxHashMap;

use super::terms::Present;
use super::{Query, Term};
use crate::doc::fold;
use crate::lang::Lang;

/// One node of a flattened query. A node's children follow it; `Not`, `And`
/// and `Or` hold where their subtree ends (relative to the query's first
/// node), so evaluation can skip a child without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Node {
    Term(u32),
    Lang(Lang),
    Source(u32),
    Not(u32),
    And(u32),
    Or(u32),
}

/// Gives each distinct value a number, in order of first sight.
#[derive(Debug)]
pub(super) struct Interner<T> {
    ids: FxHashMap<T, u32>,
    pub(super) items: Vec<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Self {
            ids: FxHashMap::default(),
            items: vec![],
        }
    }
}

impl<T: std::hash::Hash + Eq + Clone> Interner<T> {
    pub(super) fn id(&mut self, x: &T) -> u32 {
        if let Some(id) = self.ids.get(x) {
            return *id;
        }
        let id = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        self.ids.insert(x.clone(), id);
        self.items.push(x.clone());
        id
    }
}

fn at(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Appends `q` to `out` (which holds only this query's nodes, so positions
/// are relative to its start).
pub(super) fn flatten(
    q: &Query,
    terms: &mut Interner<Term>,
    sources: &mut Interner<String>,
    out: &mut Vec<Node>,
) {
    let start = out.len();
    let close = |out: &mut Vec<Node>, make: fn(u32) -> Node| {
        let end = at(out.len());
        if let Some(n) = out.get_mut(start) {
            *n = make(end);
        }
    };
    match q {
        Query::Term(t) => out.push(Node::Term(terms.id(t))),
        Query::Lang(l) => out.push(Node::Lang(*l)),
        Query::Source(s) => out.push(Node::Source(sources.id(s))),
        Query::Not(q) => {
            out.push(Node::Not(0));
            flatten(q, terms, sources, out);
            close(out, Node::Not);
        }
        Query::And(qs) | Query::Or(qs) => {
            out.push(Node::And(0));
            for q in qs {
                flatten(q, terms, sources, out);
            }
            if matches!(q, Query::And(_)) {
                close(out, Node::And);
            } else {
                close(out, Node::Or);
            }
        }
    }
}

/// Where the subtree at `i` ends.
#[inline]
fn end(nodes: &[Node], i: usize) -> usize {
    match nodes.get(i) {
        Some(Node::Not(e) | Node::And(e) | Node::Or(e)) => *e as usize,
        _ => i + 1,
    }
}

/// What a query is evaluated against.
pub(super) struct Facts<'a> {
    pub(super) present: &'a Present,
    pub(super) lang: Option<Lang>,
    pub(super) source: &'a str,
    pub(super) sources: &'a [String],
}

impl Facts<'_> {
    fn source_is(&self, s: u32) -> bool {
        self.sources
            .get(s as usize)
            .is_some_and(|s| self.source.eq_ignore_ascii_case(s) || fold(self.source) == *s)
    }
}

/// Evaluates the subtree at `i`.
pub(super) fn eval(nodes: &[Node], i: usize, f: &Facts<'_>) -> bool {
    match nodes.get(i) {
        Some(Node::Term(t)) => f.present.has(*t),
        Some(Node::Lang(l)) => f.lang == Some(*l),
        Some(Node::Source(s)) => f.source_is(*s),
        Some(Node::Not(_)) => !eval(nodes, i + 1, f),
        Some(Node::And(e)) => {
            let mut j = i + 1;
            while j < *e as usize {
                if !eval(nodes, j, f) {
                    return false;
                }
                j = end(nodes, j);
            }
            true
        }
        Some(Node::Or(e)) => {
            let mut j = i + 1;
            while j < *e as usize {
                if eval(nodes, j, f) {
                    return true;
                }
                j = end(nodes, j);
            }
            false
        }
        None => false,
    }
}

/// Terms of which the post has at least one whenever the subtree at `i`
/// matches, chosen to be rare (with their summed frequency); `None` when it
/// can match with none of its terms (`NOT spam`, `lang:nl`).
pub(super) fn triggers(
    nodes: &[Node],
    i: usize,
    frequency: &impl Fn(u32) -> u64,
) -> Option<(u64, Vec<u32>)> {
    match nodes.get(i)? {
        Node::Term(t) => Some((frequency(*t), vec![*t])),
        Node::Lang(_) | Node::Source(_) | Node::Not(_) => None,
        Node::And(e) => {
            // Any one child that must match will do: the rarest.
            let mut best: Option<(u64, Vec<u32>)> = None;
            let mut j = i + 1;
            while j < *e as usize {
                if let Some(c) = triggers(nodes, j, frequency)
                    && best.as_ref().is_none_or(|b| c.0 < b.0)
                {
                    best = Some(c);
                }
                j = end(nodes, j);
            }
            best
        }
        Node::Or(e) => {
            // Every branch needs its own.
            let (mut sum, mut all) = (0u64, vec![]);
            let mut j = i + 1;
            while j < *e as usize {
                let (f, ts) = triggers(nodes, j, frequency)?;
                sum = sum.saturating_add(f);
                all.extend(ts);
                j = end(nodes, j);
            }
            // An empty OR never matches: nothing needs to trigger it.
            Some((sum, all))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;
    use crate::query::terms::frequency;

    fn word(w: &str) -> Term {
        Term::Word(w.into())
    }

    /// The terms that trigger a query, sorted.
    fn trigger_terms(q: &str) -> Option<Vec<Term>> {
        let (mut terms, mut sources, mut nodes) =
            (Interner::default(), Interner::default(), vec![]);
        flatten(&parse(q).ok()?, &mut terms, &mut sources, &mut nodes);
        let freq = |t: u32| terms.items.get(t as usize).map_or(u64::MAX, frequency);
        let (_, ids) = triggers(&nodes, 0, &freq)?;
        let mut out: Vec<Term> = ids
            .iter()
            .filter_map(|t| terms.items.get(*t as usize).cloned())
            .collect();
        out.sort();
        Some(out)
    }

    #[test]
    fn queries_wait_for_their_rarest_terms() {
        assert_eq!(trigger_terms("merk5 service"), Some(vec![word("merk5")]));
        assert_eq!(trigger_terms("de bakkerij"), Some(vec![word("bakkerij")]));
        assert_eq!(
            trigger_terms("taart AND NOT vacature"),
            Some(vec![word("taart")])
        );
        assert_eq!(
            trigger_terms("(merk3 OR merk3nl) lang:nl"),
            Some(vec![word("merk3"), word("merk3nl")])
        );
        assert_eq!(
            trigger_terms("service #taart"),
            Some(vec![Term::Hashtag("taart".into())])
        );
        assert_eq!(
            trigger_terms("(de OR het) @anna"),
            Some(vec![Term::Mention("anna".into())])
        );
        // Only a query that can match without any term is checked on every post.
        assert_eq!(trigger_terms("NOT spam"), None);
        assert_eq!(trigger_terms("lang:nl source:rss"), None);
        assert_eq!(trigger_terms("taart OR NOT spam"), None);
        assert_eq!(trigger_terms("lang:nl taart"), Some(vec![word("taart")]));
    }

    #[test]
    fn a_query_is_one_flat_array() {
        let (mut terms, mut sources, mut nodes) =
            (Interner::default(), Interner::default(), vec![]);
        let q = parse("(taart OR brood) NOT (vacature OR lang:en) source:rss")
            .unwrap_or(Query::Or(vec![]));
        flatten(&q, &mut terms, &mut sources, &mut nodes);
        use Node::*;
        assert_eq!(
            nodes,
            [
                And(9),
                Or(4),
                Term(0),
                Term(1),
                Not(8),
                Or(8),
                Term(2),
                Lang(crate::Lang::En),
                Source(0)
            ]
        );
        assert_eq!(end(&nodes, 1), 4);
        assert_eq!(end(&nodes, 2), 3);
    }
}
