//! Which of the matcher's terms a post contains, found from its tokens.
//!
//! What a term means is a text search over the post laid out as
//! ` e1 e2 … en ` ([`layout`]): each word, hashtag or mention gives its folded
//! form, every other token a separator `\u{1}`, so that phrases do not run
//! across it. A term is present when one of its [`patterns`] occurs there.
//! No element contains a space (tokens hold none, and neither lower-casing
//! nor removing diacritics makes one), so each pattern comes down to a test
//! on whole elements: ` w ` is an element equal to `w`, ` p` an element that
//! starts with `p` (and ` ` alone is in every layout), ` a b ` the elements
//! `a`, `b` one after the other. Those tests are made here from the tokens,
//! without laying the text out: a hash look-up per token behind small bit
//! filters, and for a phrase a check of the words around its rarest word
//! wherever that occurs. The checks have a budget per post; past it, the
//! remaining phrases are searched for in the laid-out text, which costs the
//! text's length per phrase rather than the phrase's length per occurrence.
//! A term with a space in it (only a query built by hand has one) keeps the
//! text search too.

use rustc_hash::FxHashMap;

use super::Term;
use crate::doc::{Doc, Token, TokenKind};

/// Separator for tokens that are not words, hashtags or mentions.
const GAP: &str = "\u{1}";

/// The patterns of a term in the laid-out text.
pub(crate) fn patterns(t: &Term) -> Vec<String> {
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
        out.push(' ');
        out.push_str(match t.kind {
            TokenKind::Word | TokenKind::Hashtag | TokenKind::Mention => t.folded(),
            _ => GAP,
        });
    }
    out.push(' ');
}

/// A token as the layout has it, in bytes.
#[inline]
fn element(t: &Token) -> &[u8] {
    match t.kind {
        TokenKind::Word | TokenKind::Hashtag | TokenKind::Mention => t.folded_bytes(),
        _ => GAP.as_bytes(),
    }
}

/// How often a word is expected in posts, roughly (higher is more often):
/// function words and short words are everywhere, long words and words
/// with digits (brand and product names) are rare.
pub(super) fn word_frequency(w: &str) -> u64 {
    if crate::lang::is_function_word(w) {
        return 1000;
    }
    let by_length = match w.chars().count() {
        0..=2 => 500,
        3 => 200,
        4 => 60,
        5 => 25,
        6 => 12,
        7 => 8,
        _ => 5,
    };
    let digit = w.bytes().any(|b| b.is_ascii_digit());
    let letter = w.chars().any(char::is_alphabetic);
    if digit && letter {
        by_length.min(3)
    } else {
        by_length
    }
}

/// How often a term is expected in posts, roughly.
pub(super) fn frequency(t: &Term) -> u64 {
    match t {
        Term::Word(w) => word_frequency(w),
        Term::Prefix(p) => word_frequency(p).saturating_mul(4),
        Term::Phrase(ws) => ws.iter().map(|w| word_frequency(w)).min().unwrap_or(1) / 4 + 1,
        Term::Hashtag(h) => word_frequency(h) / 4 + 1,
        Term::Mention(_) => 1,
    }
}

/// Bits of a small filter: a string's length, first two and last bytes.
const FILTER_BITS: u32 = 16;

fn sketch(b: &[u8]) -> usize {
    let byte = |x: Option<&u8>| x.map_or(0, |x| u64::from(*x));
    let x = b.len() as u64 | byte(b.first()) << 16 | byte(b.get(1)) << 24 | byte(b.last()) << 32;
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FILTER_BITS)) as usize
}

#[derive(Debug, Clone)]
struct Filter(Vec<u64>);

impl Filter {
    fn new(bits: u32) -> Self {
        Self(vec![0; (1usize << bits) / 64])
    }

    fn insert(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    #[inline]
    fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
}

/// In `TermIndex::starts`: a whole-element key starts with these bytes.
const EXACT: u8 = 1;
/// In `TermIndex::starts`: a prefix key starts with these bytes.
const PREFIX: u8 = 2;

/// The two first bytes of an element (0 past its end).
#[inline]
fn first_two(b: &[u8]) -> usize {
    usize::from(b.first().copied().unwrap_or(0)) << 8 | usize::from(b.get(1).copied().unwrap_or(0))
}

/// A whole-element key: the terms an element equal to it has, and the
/// phrases anchored on it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Range in `TermIndex::entry_terms`.
    terms: (u32, u32),
    /// Range in `TermIndex::anchors`.
    anchors: (u32, u32),
}

/// A phrase of two or more words, checked around its rarest word (its
/// anchor) wherever that word occurs.
#[derive(Debug, Clone)]
struct Phrase {
    term: u32,
    /// Range in `TermIndex::words`.
    words: (u32, u32),
    /// Its pattern, for the text search when the checks around anchors
    /// have used up their budget.
    pattern: Box<str>,
}

/// Word comparisons that phrase checks may make per token of a post, and
/// at least, before the rest of the post's phrases are searched for in its
/// text instead: the checks cost phrase length times occurrences of the
/// anchor, the search only text length per phrase. Tests use tiny budgets
/// so that both ways are exercised.
const PHRASE_WORK: usize = if cfg!(test) { 1 } else { 16 };
const PHRASE_WORK_MIN: usize = if cfg!(test) { 2 } else { 1024 };

/// Every term of a matcher, ready to be found in a post's tokens.
#[derive(Debug, Clone)]
pub(super) struct TermIndex {
    n_terms: usize,
    /// Whole-element keys, each with its position in `entries`.
    exact: FxHashMap<Box<[u8]>, u32>,
    /// By an element's first two bytes: whether a key may be it
    /// ([`EXACT`]) or start it ([`PREFIX`]).
    starts: Vec<u8>,
    exact_filter: Filter,
    entries: Vec<Entry>,
    entry_terms: Vec<u32>,
    /// `(phrase, position of the anchor in it)`.
    anchors: Vec<(u32, u32)>,
    phrases: Vec<Phrase>,
    words: Vec<Box<[u8]>>,
    /// Element-prefix keys, each with a range in `prefix_terms`.
    prefix: FxHashMap<Box<[u8]>, (u32, u32)>,
    prefix_terms: Vec<u32>,
    /// The byte lengths of the prefix keys, ascending.
    prefix_lens: Vec<usize>,
    /// The shortest of them (`usize::MAX` when there are none).
    prefix_min: usize,
    prefix_filter: Filter,
    /// Terms present in every post (the empty prefix).
    everywhere: Vec<u32>,
    /// Terms with a space in them, with their patterns.
    odd: Vec<(u32, Vec<String>)>,
}

fn idx(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn slice<T>(all: &[T], (start, end): (u32, u32)) -> &[T] {
    all.get(start as usize..end as usize).unwrap_or_default()
}

fn push_range<T: Copy>(all: &mut Vec<T>, items: &[T]) -> (u32, u32) {
    let start = idx(all.len());
    all.extend_from_slice(items);
    (start, idx(all.len()))
}

/// What a whole-element key collects while the index is built.
#[derive(Default)]
struct KeyBuild {
    terms: Vec<u32>,
    anchors: Vec<(u32, u32)>,
}

fn key<'a>(exact: &'a mut FxHashMap<Box<[u8]>, KeyBuild>, k: &str) -> &'a mut KeyBuild {
    exact.entry(k.as_bytes().into()).or_default()
}

impl TermIndex {
    /// The index of `terms`; a term's id is its position.
    pub(super) fn new(terms: &[Term]) -> Self {
        let mut exact: FxHashMap<Box<[u8]>, KeyBuild> = FxHashMap::default();
        let mut prefix: FxHashMap<Box<[u8]>, Vec<u32>> = FxHashMap::default();
        let mut phrases = vec![];
        let mut words: Vec<Box<[u8]>> = vec![];
        let mut everywhere = vec![];
        let mut odd = vec![];
        for (id, t) in terms.iter().enumerate() {
            let id = idx(id);
            let has_space = match t {
                Term::Word(s) | Term::Prefix(s) | Term::Hashtag(s) | Term::Mention(s) => {
                    s.contains(' ')
                }
                Term::Phrase(ws) => ws.iter().any(|w| w.contains(' ')),
            };
            if has_space {
                odd.push((id, patterns(t)));
                continue;
            }
            match t {
                Term::Word(w) => {
                    key(&mut exact, w).terms.push(id);
                    key(&mut exact, &format!("#{w}")).terms.push(id);
                }
                Term::Hashtag(h) => key(&mut exact, &format!("#{h}")).terms.push(id),
                Term::Mention(m) => {
                    key(&mut exact, &format!("@{m}")).terms.push(id);
                    let p = format!("@{m}@").into_bytes().into_boxed_slice();
                    prefix.entry(p).or_default().push(id);
                }
                Term::Prefix(p) if p.is_empty() => everywhere.push(id),
                Term::Prefix(p) => prefix.entry(p.as_bytes().into()).or_default().push(id),
                Term::Phrase(ws) if ws.len() < 2 => {
                    key(&mut exact, ws.first().map_or("", String::as_str))
                        .terms
                        .push(id);
                }
                Term::Phrase(ws) => {
                    let anchor = (0..ws.len())
                        .min_by_key(|i| ws.get(*i).map_or(0, |w| word_frequency(w)))
                        .unwrap_or(0);
                    let start = idx(words.len());
                    words.extend(ws.iter().map(|w| Box::from(w.as_bytes())));
                    let phrase = idx(phrases.len());
                    phrases.push(Phrase {
                        term: id,
                        words: (start, idx(words.len())),
                        pattern: patterns(t).concat().into(),
                    });
                    if let Some(w) = ws.get(anchor) {
                        key(&mut exact, w).anchors.push((phrase, idx(anchor)));
                    }
                }
            }
        }
        let mut starts = vec![0u8; 1 << 16];
        let mut mark = |i: usize, flag: u8| {
            if let Some(x) = starts.get_mut(i) {
                *x |= flag;
            }
        };
        let mut exact_filter = Filter::new(FILTER_BITS);
        let (mut entries, mut entry_terms, mut anchors) = (vec![], vec![], vec![]);
        let exact = exact
            .into_iter()
            .map(|(k, b)| {
                exact_filter.insert(sketch(&k));
                mark(first_two(&k), EXACT);
                entries.push(Entry {
                    terms: push_range(&mut entry_terms, &b.terms),
                    anchors: push_range(&mut anchors, &b.anchors),
                });
                (k, idx(entries.len() - 1))
            })
            .collect();
        let mut prefix_filter = Filter::new(FILTER_BITS);
        let mut prefix_lens = vec![];
        let mut prefix_terms = vec![];
        let prefix = prefix
            .into_iter()
            .map(|(b, ts)| {
                prefix_filter.insert(sketch(&b));
                prefix_lens.push(b.len());
                match &*b {
                    [one] => (0..256).for_each(|x| mark(usize::from(*one) << 8 | x, PREFIX)),
                    _ => mark(first_two(&b), PREFIX),
                }
                let r = push_range(&mut prefix_terms, &ts);
                (b, r)
            })
            .collect();
        prefix_lens.sort_unstable();
        prefix_lens.dedup();
        Self {
            n_terms: terms.len(),
            exact,
            starts,
            exact_filter,
            entries,
            entry_terms,
            anchors,
            phrases,
            words,
            prefix,
            prefix_terms,
            prefix_min: prefix_lens.first().copied().unwrap_or(usize::MAX),
            prefix_lens,
            prefix_filter,
            everywhere,
            odd,
        }
    }

    /// Finds every term the post contains (clearing those of the last post).
    pub(super) fn find(&self, doc: &Doc, found: &mut Present) {
        found.reset(self.n_terms, self.entries.len(), self.phrases.len());
        let tokens = doc.tokens.as_slice();
        found.budget = tokens
            .len()
            .saturating_mul(PHRASE_WORK)
            .saturating_add(PHRASE_WORK_MIN);
        for t in &self.everywhere {
            found.set(*t);
        }
        for (i, tok) in tokens.iter().enumerate() {
            let b = element(tok);
            let starts = self.starts.get(first_two(b)).copied().unwrap_or(0);
            if starts == 0 {
                continue;
            }
            if starts & EXACT != 0
                && self.exact_filter.has(sketch(b))
                && let Some(e) = self.exact.get(b)
            {
                self.on_key(*e, tokens, i, found);
            }
            if starts & PREFIX != 0 && b.len() >= self.prefix_min {
                for len in &self.prefix_lens {
                    if *len > b.len() {
                        break;
                    }
                    if let Some(p) = b.get(..*len)
                        && self.prefix_filter.has(sketch(p))
                        && let Some(r) = self.prefix.get(p)
                    {
                        for t in slice(&self.prefix_terms, *r) {
                            found.set(*t);
                        }
                    }
                }
            }
        }
        if found.pending.is_empty() && self.odd.is_empty() {
            return;
        }
        layout(doc, &mut found.text);
        let pending = std::mem::take(&mut found.pending);
        for ph in &pending {
            if let Some(p) = self.phrases.get(*ph as usize)
                && !found.has(p.term)
                && found.text.contains(&*p.pattern)
            {
                found.set(p.term);
            }
        }
        found.pending = pending;
        for (t, pats) in &self.odd {
            if pats.iter().any(|p| found.text.contains(p.as_str())) {
                found.set(*t);
            }
        }
    }

    /// Token `i` equals the key of entry `e`.
    #[inline]
    fn on_key(&self, e: u32, tokens: &[Token], i: usize, found: &mut Present) {
        let Some(entry) = self.entries.get(e as usize) else {
            return;
        };
        for t in slice(&self.entry_terms, entry.terms) {
            found.set(*t);
        }
        let anchors = slice(&self.anchors, entry.anchors);
        if anchors.is_empty() {
            return;
        }
        if !found.over_budget {
            for (phrase, anchor) in anchors {
                if !self.phrase_at(tokens, i, *phrase, *anchor, found) {
                    found.over_budget = true;
                    break;
                }
            }
        }
        // Over budget: each of the key's phrases waits (once) for the search.
        if found.over_budget
            && let Some(seen) = found.entry_seen.get_mut(e as usize)
            && *seen != found.stamp
        {
            *seen = found.stamp;
            for (phrase, _) in anchors {
                if let Some(seen) = found.phrase_seen.get_mut(*phrase as usize)
                    && *seen != found.stamp
                {
                    *seen = found.stamp;
                    found.pending.push(*phrase);
                }
            }
        }
    }

    /// Checks a phrase whose word at `anchor` is token `i`; false when the
    /// budget does not allow the check.
    fn phrase_at(
        &self,
        tokens: &[Token],
        i: usize,
        phrase: u32,
        anchor: u32,
        found: &mut Present,
    ) -> bool {
        let Some(p) = self.phrases.get(phrase as usize) else {
            return true;
        };
        if found.has(p.term) {
            return true;
        }
        let words = slice(&self.words, p.words);
        let Some(budget) = found.budget.checked_sub(words.len()) else {
            return false;
        };
        found.budget = budget;
        let Some(at) = i.checked_sub(anchor as usize) else {
            return true;
        };
        let Some(run) = tokens.get(at..at.saturating_add(words.len())) else {
            return true;
        };
        if run.iter().zip(words).all(|(t, w)| element(t) == &**w) {
            found.set(p.term);
        }
        true
    }
}

/// The terms found in one post: a bit per term, and the list of those set
/// (which is also how the bits are cleared for the next post).
#[derive(Debug, Default)]
pub(super) struct Present {
    bits: Vec<u64>,
    list: Vec<u32>,
    /// The laid-out text, for phrase searches and terms with a space.
    text: String,
    /// Word comparisons left for phrase checks in this post.
    budget: usize,
    over_budget: bool,
    /// Phrases to search for in the text.
    pending: Vec<u32>,
    /// This post's number: an entry or phrase marked with it has been seen.
    stamp: u32,
    entry_seen: Vec<u32>,
    phrase_seen: Vec<u32>,
}

impl Present {
    /// Clears the last post and makes room for this index.
    fn reset(&mut self, terms: usize, entries: usize, phrases: usize) {
        for t in &self.list {
            if let Some(w) = self.bits.get_mut((*t / 64) as usize) {
                *w = 0;
            }
        }
        self.list.clear();
        let words = terms.div_ceil(64);
        if self.bits.len() < words {
            self.bits.resize(words, 0);
        }
        self.over_budget = false;
        self.pending.clear();
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.entry_seen.fill(0);
            self.phrase_seen.fill(0);
            self.stamp = 1;
        }
        if self.entry_seen.len() < entries {
            self.entry_seen.resize(entries, 0);
        }
        if self.phrase_seen.len() < phrases {
            self.phrase_seen.resize(phrases, 0);
        }
    }

    #[inline]
    fn set(&mut self, t: u32) {
        if let Some(w) = self.bits.get_mut((t / 64) as usize) {
            let bit = 1u64 << (t % 64);
            if *w & bit == 0 {
                *w |= bit;
                self.list.push(t);
            }
        }
    }

    /// Whether term `t` is present.
    #[inline]
    pub(super) fn has(&self, t: u32) -> bool {
        self.bits
            .get((t / 64) as usize)
            .is_some_and(|w| w >> (t % 64) & 1 == 1)
    }

    /// The terms present, in the order found.
    pub(super) fn list(&self) -> &[u32] {
        &self.list
    }
}
