//! The listening pipeline: a batch of posts from a source is normalised once
//! per post, matched against every query of every workspace in one pass,
//! given its language and sentiment, folded into an earlier near-copy where
//! there is one, and the matched mentions are stored in one transaction.

use dialoog_store::{CopyOf, NewMention, Store, StoreError, Stored};
use dialoog_text::query::{Matcher, Post, Scratch};
use dialoog_text::sentiment::Sentiment;
use dialoog_text::{Doc, Lang, simhash};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

use crate::alerts::{Signals, Touched, Watch};

/// A post heard by a source, as the pipeline takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The post's identity across sources (its URI or URL).
    pub key: String,
    /// Where it can be read.
    pub url: Option<String>,
    /// The author's id on the source.
    pub author_id: String,
    /// The author's name.
    pub author_name: String,
    /// The author's handle.
    pub author_handle: Option<String>,
    /// The author's followers, where the source says.
    pub reach: Option<i64>,
    /// The text.
    pub text: String,
    /// The language the source says it is in (used where the text
    /// alone is too short to tell).
    pub lang_hint: Option<String>,
    /// When it was published (ms).
    pub published_at: i64,
}

/// Where a batch came from: the source kind (for `source:` in queries) and
/// the workspaces' sources that hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `rss`, `mastodon`, `bluesky`, `wikipedia`, … as queries name it.
    pub source: String,
    /// The stored source kind (`rss`, `mastodon_tag`, …).
    pub kind: String,
    /// `(source id, workspace id)` of each source hearing this stream.
    pub listeners: Vec<(i64, i64)>,
}

/// What a batch came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Posts in the batch.
    pub posts: usize,
    /// New mentions stored.
    pub stored: u64,
    /// Near-copies counted on an earlier mention.
    pub copies: u64,
    /// Already stored before (delivered again).
    pub known: u64,
}

/// How long a mention is remembered for folding copies into it.
pub const FOLD_WINDOW_MS: i64 = 24 * 3_600_000;
/// The longest stretch of a post analysed.
const ANALYSED_BYTES: usize = 16 * 1024;

/// The most originals remembered for folding, across workspaces (about
/// 260 bytes each, so some 65 MB at most): past it the oldest are
/// forgotten first, so memory stays flat however fast mentions are stored
/// (a copy of something older is then stored as new).
pub const FOLD_MAX: usize = 250_000;

/// Recent originals per workspace, found by any of four 16-bit bands of
/// their fingerprint: two fingerprints at most 3 bits apart share a band.
#[derive(Debug)]
struct Folds {
    bands: FxHashMap<(i64, u8, u16), Vec<(u64, i64)>>,
    order: VecDeque<(i64, i64, u64, i64)>,
    cap: usize,
}

impl Default for Folds {
    fn default() -> Self {
        Folds {
            bands: FxHashMap::default(),
            order: VecDeque::new(),
            cap: FOLD_MAX,
        }
    }
}

fn band(fp: u64, i: u8) -> u16 {
    (fp >> (u32::from(i) * 16)) as u16
}

impl Folds {
    fn add(&mut self, ws: i64, fp: u64, id: i64, at: i64) {
        if fp == 0 {
            return;
        }
        for i in 0..4 {
            self.bands
                .entry((ws, i, band(fp, i)))
                .or_default()
                .push((fp, id));
        }
        self.order.push_back((at, ws, fp, id));
        while self.order.len() > self.cap {
            self.forget_oldest();
        }
    }

    fn find(&self, ws: i64, fp: u64) -> Option<i64> {
        if fp == 0 {
            return None;
        }
        (0..4).find_map(|i| {
            self.bands
                .get(&(ws, i, band(fp, i)))?
                .iter()
                .find_map(|(other, id)| simhash::near(fp, *other).then_some(*id))
        })
    }

    fn expire(&mut self, before: i64) {
        while self.order.front().is_some_and(|o| o.0 < before) {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        let Some((_, ws, fp, id)) = self.order.pop_front() else {
            return;
        };
        for i in 0..4 {
            if let Some(v) = self.bands.get_mut(&(ws, i, band(fp, i))) {
                v.retain(|e| e.1 != id);
                if v.is_empty() {
                    self.bands.remove(&(ws, i, band(fp, i)));
                }
            }
        }
    }
}

/// The pipeline's state: the compiled queries and the recent originals.
#[derive(Debug)]
pub struct Pipeline {
    store: Store,
    matcher: Matcher,
    /// Query id → its workspace.
    owners: FxHashMap<u64, i64>,
    /// New mentions stored per listening source, since the pipeline was
    /// made (see [`Pipeline::process_by_source`]).
    stored_by_source: FxHashMap<i64, u64>,
    version: Option<(i64, i64)>,
    folds: Folds,
    /// Working memory of the two threads that analyse a batch.
    work: [Work; 2],
    /// Whether the machine has a second core to analyse on.
    two_cores: bool,
    watch: Watch,
    signals: Arc<Signals>,
    held: HeldUp,
}

/// Why the pipeline is not storing, and since when: set when a batch
/// cannot be stored, cleared when one is. Streams and polled sources keep
/// what they heard and hand it again, so nothing is lost meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// Since when (ms).
    pub since: i64,
    /// The disk is full (else the database failed otherwise).
    pub full: bool,
}

/// Where the pipeline says whether it is held up; cheap to clone and read
/// from elsewhere (the sources page) while the pipeline works.
#[derive(Debug, Clone, Default)]
pub struct HeldUp(Arc<std::sync::Mutex<Option<Held>>>);

impl HeldUp {
    /// Whether, why and since when the pipeline is held up.
    #[must_use]
    pub fn get(&self) -> Option<Held> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn record<T>(&self, r: &Result<T, StoreError>, now: i64) {
        let mut held = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match r {
            Ok(_) => *held = None,
            Err(e) => {
                let full = matches!(e, StoreError::Full);
                let since = held.filter(|h| h.full == full).map_or(now, |h| h.since);
                *held = Some(Held { since, full });
            }
        }
    }
}

impl Pipeline {
    /// A pipeline over `store`, remembering the originals of the last day.
    pub async fn new(store: Store, now: i64) -> Result<Self, StoreError> {
        let mut folds = Folds::default();
        let recent = store
            .recent_fingerprints(now - FOLD_WINDOW_MS, FOLD_MAX)
            .await?;
        for (ws, id, fp) in recent {
            folds.add(ws, fp as u64, id, now);
        }
        let mut p = Self {
            store,
            matcher: Matcher::new([]),
            owners: FxHashMap::default(),
            stored_by_source: FxHashMap::default(),
            version: None,
            folds,
            work: Default::default(),
            two_cores: std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
            watch: Watch::default(),
            signals: Arc::default(),
            held: HeldUp::default(),
        };
        p.refresh().await?;
        Ok(p)
    }

    /// Where the pipeline tells the alert loop what it stored.
    pub fn signals(&self) -> Arc<Signals> {
        self.signals.clone()
    }

    /// Where the pipeline says whether it is held up.
    pub fn held(&self) -> HeldUp {
        self.held.clone()
    }

    /// Compiles the queries (and watched words) again when any changed
    /// since the last time.
    pub async fn refresh(&mut self) -> Result<(), StoreError> {
        self.watch.refresh(&self.store).await?;
        let v = self.store.listening_queries_version().await?;
        if self.version == Some(v) {
            return Ok(());
        }
        let queries = self.store.all_listening_queries().await?;
        let mut owners = FxHashMap::default();
        let compiled = queries.into_iter().filter_map(|q| {
            // Stored queries were parsed when saved; one that no longer
            // parses (a newer grammar) is skipped, not fatal.
            let parsed = dialoog_text::query::parse(&q.query).ok()?;
            let id = u64::try_from(q.id).ok()?;
            owners.insert(id, q.workspace_id);
            Some((id, parsed))
        });
        self.matcher = Matcher::new(compiled.collect::<Vec<_>>());
        self.owners = owners;
        self.version = Some(v);
        Ok(())
    }

    /// Runs a batch through the pipeline and stores what the queries of
    /// the listening workspaces found; nothing of it when it fails (the
    /// pipeline is then held up until a batch is stored again).
    pub async fn process(
        &mut self,
        origin: &Origin,
        posts: &[Incoming],
        now: i64,
    ) -> Result<Outcome, StoreError> {
        let r = self.process_batch(origin, posts, now).await;
        self.held.record(&r, now);
        r
    }

    async fn process_batch(
        &mut self,
        origin: &Origin,
        posts: &[Incoming],
        now: i64,
    ) -> Result<Outcome, StoreError> {
        self.refresh().await?;
        self.folds.expire(now - FOLD_WINDOW_MS);
        let heard = self.analyse(origin, posts);
        let mut batch: Vec<NewMention> = vec![];
        let mut fps: Vec<u64> = vec![];
        // Per mention in the batch, the watched words it has.
        let mut words: Vec<Vec<(i64, String)>> = vec![];
        for (post, heard) in posts.iter().zip(heard) {
            let Some(h) = heard else { continue };
            for (source_id, ws, query_ids, found_words) in h.hits {
                let copy_of = self.folds.find(ws, h.fp).map(CopyOf::Stored).or_else(|| {
                    batch
                        .iter()
                        .zip(&fps)
                        .position(|(m, f)| {
                            m.workspace_id == ws
                                && m.copy_of.is_none()
                                && *f != 0
                                && simhash::near(*f, h.fp)
                        })
                        .map(CopyOf::InBatch)
                });
                fps.push(h.fp);
                words.push(found_words);
                batch.push(NewMention {
                    workspace_id: ws,
                    source_id: Some(source_id),
                    source_kind: origin.kind.clone(),
                    key: post.key.clone(),
                    url: post.url.clone(),
                    author_id: post.author_id.clone(),
                    author_name: post.author_name.clone(),
                    author_handle: post.author_handle.clone(),
                    reach: post.reach,
                    text: post.text.clone(),
                    lang: h.lang.map(|l| l.code().to_owned()),
                    sentiment: h.sentiment.label.as_str().to_owned(),
                    score: f64::from(h.sentiment.score),
                    fingerprint: h.fp as i64,
                    copy_of,
                    query_ids,
                    published_at: post.published_at,
                });
            }
        }
        let mut out = Outcome {
            posts: posts.len(),
            ..Outcome::default()
        };
        if batch.is_empty() {
            return Ok(out);
        }
        let stored = self.store.insert_mentions(&batch, now).await?;
        let mut touched = Touched::default();
        for (((m, fp), s), words) in batch.iter().zip(&fps).zip(&stored).zip(words) {
            match s {
                Stored::New(id) => {
                    out.stored += 1;
                    if let Some(source) = m.source_id {
                        *self.stored_by_source.entry(source).or_default() += 1;
                    }
                    self.folds.add(m.workspace_id, *fp, *id, now);
                    touched
                        .queries
                        .entry(m.workspace_id)
                        .or_default()
                        .extend(m.query_ids.iter().copied());
                }
                Stored::Copy(_) => out.copies += 1,
                Stored::Known => {
                    out.known += 1;
                    continue;
                }
            }
            // A near-copy is a new post all the same: a watched word in it
            // is news (volume counts it once, on its original).
            for w in words {
                touched.words.entry(w).or_insert((m.workspace_id, 0)).1 += 1;
            }
        }
        self.signals.add(touched);
        Ok(out)
    }
}

/// What the pipeline learnt of a post that some listening workspace's
/// queries found.
struct Heard {
    lang: Option<Lang>,
    sentiment: Sentiment,
    fp: u64,
    /// Per listening source whose workspace's queries found it.
    hits: Vec<Hit>,
}

/// `(source, workspace, the workspace's queries that found the post, the
/// watched words in it as (rule, word))`.
type Hit = (i64, i64, Vec<i64>, Vec<(i64, String)>);

/// One thread's working memory for analysing posts.
#[derive(Debug, Default)]
struct Work {
    queries: Scratch,
    words: Scratch,
    found: Vec<u64>,
    found_words: Vec<u64>,
}

/// Batches from this many posts on are analysed on two threads.
const PARALLEL_FROM: usize = 64;

/// What the compiled queries and watched words make of posts: shared by
/// the threads that analyse a batch.
struct Analyser<'a> {
    matcher: &'a Matcher,
    owners: &'a FxHashMap<u64, i64>,
    watch: &'a Watch,
    origin: &'a Origin,
}

impl Analyser<'_> {
    /// Normalises the post once, matches it against every query, and for
    /// a post some listening workspace's queries found: language,
    /// sentiment, fingerprint and watched words.
    fn post(&self, post: &Incoming, w: &mut Work) -> Option<Heard> {
        let mut end = post.text.len().min(ANALYSED_BYTES);
        while !post.text.is_char_boundary(end) {
            end -= 1;
        }
        let doc = Doc::new(&post.text[..end]);
        let lang = dialoog_text::lang::detect(&doc).or_else(|| {
            post.lang_hint.as_deref().and_then(|h| {
                dialoog_text::Lang::from_code(h.split(['-', '_']).next().unwrap_or(h))
            })
        });
        let as_post = Post {
            doc: &doc,
            lang,
            source: &self.origin.source,
        };
        self.matcher
            .matches_into(&as_post, &mut w.queries, &mut w.found);
        if w.found.is_empty() {
            return None;
        }
        let mut hits = vec![];
        for &(source_id, ws) in &self.origin.listeners {
            let query_ids: Vec<i64> = w
                .found
                .iter()
                .filter(|q| self.owners.get(q) == Some(&ws))
                .filter_map(|q| i64::try_from(*q).ok())
                .collect();
            if query_ids.is_empty() {
                continue;
            }
            let words = self
                .watch
                .find(&as_post, ws, &query_ids, &mut w.words, &mut w.found_words);
            hits.push((source_id, ws, query_ids, words));
        }
        if hits.is_empty() {
            return None;
        }
        Some(Heard {
            lang,
            sentiment: dialoog_text::sentiment::score(&doc, lang),
            fp: simhash::fingerprint(&doc),
            hits,
        })
    }

    fn posts(&self, posts: &[Incoming], w: &mut Work) -> Vec<Option<Heard>> {
        posts.iter().map(|p| self.post(p, w)).collect()
    }
}

impl Pipeline {
    /// Analyses a batch, its two halves on two threads when it is large
    /// enough and the machine has a second core (the storing that follows
    /// runs on the database's own thread).
    fn analyse(&mut self, origin: &Origin, posts: &[Incoming]) -> Vec<Option<Heard>> {
        let a = Analyser {
            matcher: &self.matcher,
            owners: &self.owners,
            watch: &self.watch,
            origin,
        };
        let [mine, other] = &mut self.work;
        if posts.len() < PARALLEL_FROM || !self.two_cores {
            return a.posts(posts, mine);
        }
        let (first, second) = posts.split_at(posts.len() / 2);
        std::thread::scope(|s| {
            let helper = s.spawn(|| a.posts(second, other));
            let mut heard = a.posts(first, mine);
            match helper.join() {
                Ok(rest) => heard.extend(rest),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            heard
        })
    }

    /// [`Pipeline::process`], also telling how many new mentions each
    /// listening source stored (`(source id, count)` for every listener,
    /// in the order of `origin.listeners`).
    pub async fn process_by_source(
        &mut self,
        origin: &Origin,
        posts: &[Incoming],
        now: i64,
    ) -> Result<(Outcome, Vec<(i64, u64)>), StoreError> {
        let before: Vec<(i64, u64)> = origin
            .listeners
            .iter()
            .map(|l| (l.0, self.stored_by_source.get(&l.0).copied().unwrap_or(0)))
            .collect();
        let out = self.process(origin, posts, now).await?;
        let counts = before
            .into_iter()
            .map(|(id, was)| {
                let now = self.stored_by_source.get(&id).copied().unwrap_or(0);
                (id, now.saturating_sub(was))
            })
            .collect();
        Ok((out, counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_find_near_fingerprints_per_workspace_and_forget_old_ones() {
        let mut f = Folds::default();
        let fp = 0x0123_4567_89ab_cdef_u64;
        f.add(1, fp, 10, 100);
        assert_eq!(f.find(1, fp ^ 0b1011), Some(10), "three bits apart");
        assert_eq!(f.find(1, fp ^ 0b1111), None, "four bits apart");
        assert_eq!(f.find(2, fp), None, "another workspace");
        f.expire(101);
        assert_eq!(f.find(1, fp), None);
        assert!(f.bands.is_empty());
    }

    #[test]
    fn folds_forget_the_oldest_past_their_bound() {
        let mut f = Folds {
            cap: 3,
            ..Folds::default()
        };
        let fps = [
            0x1111_2222_3333_4444_u64,
            0x5555_6666_7777_8888,
            0x9999_aaaa_bbbb_cccc,
            0xdddd_eeee_ffff_0001,
        ];
        for (i, fp) in fps.iter().enumerate() {
            f.add(1, *fp, i as i64 + 10, 100);
        }
        assert_eq!(f.find(1, fps[0]), None, "the oldest is forgotten");
        assert_eq!(f.find(1, fps[1]), Some(11));
        assert_eq!(f.find(1, fps[3]), Some(13));
        assert_eq!(f.order.len(), 3);
        let kept: usize = f.bands.values().map(Vec::len).sum();
        assert_eq!(kept, 3 * 4, "four bands each, no more");
    }
}
