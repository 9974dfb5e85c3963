//! One pass over the matches: the newest `limit` ids (by published time,
//! then id, both read from fast fields) and, when asked, the facet counts.

use crate::FacetCounts;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

const DAY_MS: i64 = 86_400_000;

/// The field names the collector reads.
pub mod field {
    /// The store id.
    pub const ID: &str = "id";
    /// The workspace.
    pub const WORKSPACE: &str = "workspace";
    /// Published at (ms).
    pub const PUBLISHED: &str = "published_at";
    /// Sentiment label.
    pub const SENTIMENT: &str = "sentiment";
    /// Language code or `und`.
    pub const LANG: &str = "lang";
    /// Source kind.
    pub const SOURCE: &str = "source_kind";
    /// The queries that found it (several values).
    pub const QUERIES: &str = "query_ids";
}

/// Collects a page (newest first) and optionally the facets.
pub struct PageAndFacets {
    /// How many ids to keep.
    pub limit: usize,
    /// Only older than `(published_at, id)`.
    pub before: Option<(i64, i64)>,
    /// Whether to count facets.
    pub facets: bool,
}

/// Per segment: counts by term ordinal, turned into strings at harvest.
pub struct Segment {
    limit: usize,
    before: Option<(i64, i64)>,
    facets: bool,
    id: Column<i64>,
    published: Column<i64>,
    sentiment: Option<StrColumn>,
    lang: Option<StrColumn>,
    source: Option<StrColumn>,
    queries: Column<i64>,
    top: BinaryHeap<Reverse<(i64, i64)>>,
    by_sentiment: Vec<i64>,
    by_lang: Vec<i64>,
    by_source: Vec<i64>,
    by_query: FxHashMap<i64, i64>,
    by_day: FxHashMap<(i64, u64), i64>,
}

/// What one segment found.
#[derive(Default)]
pub struct SegmentFruit {
    top: Vec<(i64, i64)>,
    sentiment: FxHashMap<String, i64>,
    lang: FxHashMap<String, i64>,
    source: FxHashMap<String, i64>,
    query: FxHashMap<i64, i64>,
    days: FxHashMap<(i64, String), i64>,
}

fn terms(col: Option<&StrColumn>) -> usize {
    col.map_or(0, |c| c.dictionary().num_terms())
}

fn first_ord(col: Option<&StrColumn>, doc: DocId) -> Option<u64> {
    col.and_then(|c| c.term_ords(doc).next())
}

fn named(col: Option<&StrColumn>, counts: &[i64]) -> FxHashMap<String, i64> {
    let mut out = FxHashMap::default();
    let Some(col) = col else { return out };
    let mut s = String::new();
    for (ord, n) in counts.iter().enumerate() {
        if *n > 0 && matches!(col.ord_to_str(ord as u64, &mut s), Ok(true)) {
            *out.entry(s.clone()).or_default() += n;
        }
    }
    out
}

impl Collector for PageAndFacets {
    type Fruit = (Vec<i64>, FacetCounts);
    type Child = Segment;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Segment> {
        let ff = reader.fast_fields();
        let sentiment = ff.str(field::SENTIMENT)?;
        let lang = ff.str(field::LANG)?;
        let source = ff.str(field::SOURCE)?;
        Ok(Segment {
            limit: self.limit,
            before: self.before,
            facets: self.facets,
            id: ff.i64(field::ID)?,
            published: ff.i64(field::PUBLISHED)?,
            by_sentiment: vec![0; terms(sentiment.as_ref())],
            by_lang: vec![0; terms(lang.as_ref())],
            by_source: vec![0; terms(source.as_ref())],
            sentiment,
            lang,
            source,
            queries: ff.i64(field::QUERIES)?,
            top: BinaryHeap::with_capacity(self.limit + 1),
            by_query: FxHashMap::default(),
            by_day: FxHashMap::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFruit>) -> tantivy::Result<(Vec<i64>, FacetCounts)> {
        let mut top: Vec<(i64, i64)> = vec![];
        let mut all = SegmentFruit::default();
        for f in fruits {
            top.extend(f.top);
            for (k, v) in f.sentiment {
                *all.sentiment.entry(k).or_default() += v;
            }
            for (k, v) in f.lang {
                *all.lang.entry(k).or_default() += v;
            }
            for (k, v) in f.source {
                *all.source.entry(k).or_default() += v;
            }
            for (k, v) in f.query {
                *all.query.entry(k).or_default() += v;
            }
            for (k, v) in f.days {
                *all.days.entry(k).or_default() += v;
            }
        }
        top.sort_unstable_by(|a, b| b.cmp(a));
        top.truncate(self.limit);
        let most_first = |m: FxHashMap<String, i64>| {
            let mut v: Vec<(String, i64)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        let mut query: Vec<(i64, i64)> = all.query.into_iter().collect();
        query.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut days: Vec<(i64, String, i64)> =
            all.days.into_iter().map(|((d, s), n)| (d, s, n)).collect();
        days.sort();
        Ok((
            top.into_iter().map(|(_, id)| id).collect(),
            FacetCounts {
                sentiment: most_first(all.sentiment),
                lang: most_first(all.lang),
                source: most_first(all.source),
                query,
                days,
            },
        ))
    }
}

impl SegmentCollector for Segment {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let (Some(at), Some(id)) = (self.published.first(doc), self.id.first(doc)) else {
            return;
        };
        if self.before.is_some_and(|b| (at, id) >= b) {
            return;
        }
        if self.limit > 0 {
            if self.top.len() < self.limit {
                self.top.push(Reverse((at, id)));
            } else if self.top.peek().is_some_and(|Reverse(low)| (at, id) > *low) {
                self.top.pop();
                self.top.push(Reverse((at, id)));
            }
        }
        if !self.facets {
            return;
        }
        let s = first_ord(self.sentiment.as_ref(), doc);
        if let Some(n) = s.and_then(|o| self.by_sentiment.get_mut(o as usize)) {
            *n += 1;
        }
        if let Some(n) =
            first_ord(self.lang.as_ref(), doc).and_then(|o| self.by_lang.get_mut(o as usize))
        {
            *n += 1;
        }
        if let Some(n) =
            first_ord(self.source.as_ref(), doc).and_then(|o| self.by_source.get_mut(o as usize))
        {
            *n += 1;
        }
        for q in self.queries.values_for_doc(doc) {
            *self.by_query.entry(q).or_default() += 1;
        }
        if let Some(s) = s {
            *self
                .by_day
                .entry((at.div_euclid(DAY_MS) * DAY_MS, s))
                .or_default() += 1;
        }
    }

    fn harvest(self) -> SegmentFruit {
        let mut days = FxHashMap::default();
        if let Some(col) = self.sentiment.as_ref() {
            let mut s = String::new();
            for ((day, ord), n) in self.by_day {
                if matches!(col.ord_to_str(ord, &mut s), Ok(true)) {
                    *days.entry((day, s.clone())).or_default() += n;
                }
            }
        }
        SegmentFruit {
            top: self.top.into_iter().map(|Reverse(t)| t).collect(),
            sentiment: named(self.sentiment.as_ref(), &self.by_sentiment),
            lang: named(self.lang.as_ref(), &self.by_lang),
            source: named(self.source.as_ref(), &self.by_source),
            query: self.by_query,
            days,
        }
    }
}
