//! `dialoog bench listening [--seconds S] [--mentions N] [--queries Q]`, on
//! SQLite in a temporary folder:
//!
//! 1. the whole listening pipeline (match against `Q` queries, language,
//!    sentiment, near-copy folding, storing) with the search index kept
//!    caught up beside it, fed generated Dutch and English posts
//!    ([`crate::bench_posts`]: each different, one in twenty a repost) in
//!    batches of 1,000 for `S` seconds: posts per second (overall and per
//!    minute), and the resident memory at the start of each minute and at
//!    the end (all of it, and the process's own without the files it
//!    maps: the database and index files' pages are the kernel's to drop);
//! 2. search over `N` stored mentions of the same kind of posts: a
//!    three-word query with facets, timed on the tantivy index and on an
//!    SQLite FTS5 table built over the same mentions, one after the other,
//!    200 queries each (50 below 1,000,000 mentions);
//! 3. alert latency: after part 1, on the same pipeline with the alert
//!    loop running as `dialoog serve` runs it, 40 times a new watched-word
//!    rule and a batch of 1,000 posts one of which has the word: the time
//!    from handing the batch to the pipeline until the alert is stored.
//!
//! `--seconds 0` leaves out parts 1 and 3, `--mentions 0` part 2. Ends
//! with one JSON line (see API.md); the search and alert figures are
//! nested.

use crate::bench::{peak_rss_bytes, percentile, round};
use crate::bench_posts::{Posts, Rng};
use dialoog_engine::listening::{Incoming, Origin, Pipeline};
use dialoog_engine::mention_index;
use dialoog_search::{MentionSearch, SearchFilter, TantivyIndex};
use dialoog_store::{NewMention, NewOwner, Store};
use dialoog_text::eval::sample_queries;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The benchmark's settings.
pub struct ListeningBench {
    /// How long the pipeline runs.
    pub seconds: u32,
    /// How many mentions the search part stores.
    pub mentions: usize,
    /// How many queries the pipeline matches.
    pub queries: usize,
}

/// The process's resident memory now (`VmRSS`), or one part of it
/// (`RssAnon`: its own memory, without the files it maps).
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn rss_bytes() -> u64 {
    status_bytes("VmRSS:")
}

async fn owner(store: &Store, now: i64) -> anyhow::Result<i64> {
    let (_, ws) = store
        .setup(
            &NewOwner {
                organisation: "Bench",
                name: "Bench",
                email: "bench@example.nl",
                password_hash: "-",
                locale: "nl",
                timezone: "Europe/Amsterdam",
            },
            now,
        )
        .await?;
    Ok(ws.id)
}

/// Runs both parts; the temporary folder is removed afterwards.
pub async fn run(b: &ListeningBench) -> anyhow::Result<Value> {
    let (pipeline_store, place) = crate::bench_calendar::open(None).await?;
    let crate::bench_calendar::Place::Dir(dir) = place else {
        anyhow::bail!("the listening bench runs on SQLite");
    };
    let out = async {
        let pipe = if b.seconds > 0 {
            pipeline(&pipeline_store, &dir.join("search-a"), b).await?
        } else {
            json!({"what": "listening"})
        };
        pipeline_store.close().await;
        let search = if b.mentions > 0 {
            let store = Store::connect(&format!("sqlite://{}/search.db", dir.display())).await?;
            store.migrate().await?;
            let s = search(&store, &dir.join("search-b"), b.mentions).await?;
            store.close().await;
            s
        } else {
            Value::Null
        };
        anyhow::Ok((pipe, search))
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    let (mut pipe, search) = out?;
    pipe["search"] = search;
    pipe["peak_rss_bytes"] = peak_rss_bytes().into();
    Ok(pipe)
}

async fn pipeline(
    store: &Store,
    index_dir: &std::path::Path,
    b: &ListeningBench,
) -> anyhow::Result<Value> {
    let now = jiff::Timestamp::now().as_millisecond();
    let ws = owner(store, now).await?;
    let mut made = 0usize;
    for (i, q) in sample_queries(b.queries, 7).iter().enumerate() {
        if dialoog_text::query::parse(q).is_ok()
            && store
                .create_listening_query(ws, &format!("q{i}"), q, "brand", now)
                .await
                .is_ok()
        {
            made += 1;
        }
    }
    let source = store
        .create_source(ws, "mastodon_public", "https://bench.example", "Bench", now)
        .await?;
    let index: Arc<dyn MentionSearch> = Arc::new(TantivyIndex::open(index_dir)?);
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let indexer = tokio::spawn(mention_index::run(
        store.clone(),
        Arc::clone(&index),
        Duration::from_secs(1),
        async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        },
    ));
    let mut p = Pipeline::new(store.clone(), now).await?;
    let origin = Origin {
        source: "mastodon".into(),
        kind: "mastodon_public".into(),
        listeners: vec![(source.id, ws)],
    };
    let texts = Posts::new(42, b.queries);
    let rss_start = rss_bytes();
    let start = Instant::now();
    let limit = Duration::from_secs(u64::from(b.seconds.max(1)));
    let (mut posts, mut stored, mut copies) = (0usize, 0u64, 0u64);
    let mut in_pipeline = Duration::ZERO;
    let mut batch = Vec::with_capacity(1000);
    let mut rss_samples = vec![];
    let mut minute_marks: Vec<usize> = vec![];
    let mut anon_samples = vec![];
    while start.elapsed() < limit {
        batch.clear();
        for _ in 0..1000 {
            batch.push(Incoming {
                key: format!("https://bench.example/{posts}"),
                url: None,
                author_id: format!("a{}", posts % 5000),
                author_name: format!("Auteur {}", posts % 5000),
                author_handle: None,
                reach: None,
                text: texts.text(posts as u64),
                lang_hint: None,
                published_at: now - (posts as i64 % 86_400) * 1000,
            });
            posts += 1;
        }
        let at = now + start.elapsed().as_millis() as i64;
        let t = Instant::now();
        let o = p.process(&origin, &batch, at).await?;
        in_pipeline += t.elapsed();
        stored += o.stored;
        copies += o.copies;
        // The resident memory at the start of each minute, to see whether
        // it stays flat, and the posts of each minute, to see whether the
        // rate holds as the tables grow.
        if rss_samples.len() <= (start.elapsed().as_secs() / 60) as usize {
            rss_samples.push(rss_bytes());
            anon_samples.push(status_bytes("RssAnon:"));
            minute_marks.push(posts);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let rss_end = rss_bytes();
    minute_marks.push(posts);
    let per_minute: Vec<usize> = minute_marks.windows(2).map(|w| w[1] - w[0]).collect();
    let alerts = alert_latency(store, &mut p, &origin, ws, &texts, posts as u64, now).await?;
    let _ = stop_tx.send(true);
    let _ = indexer.await;
    let lag_start = Instant::now();
    mention_index::catch_up(store, &index, now).await?;
    let catch_up_seconds = lag_start.elapsed().as_secs_f64();
    Ok(json!({
        "what": "listening",
        "items": posts,
        "seconds": round(seconds),
        "items_per_second": (posts as f64 / seconds).round(),
        "items_per_second_in_pipeline": (posts as f64 / in_pipeline.as_secs_f64()).round(),
        "queries": made,
        "mentions_stored": stored,
        "copies_folded": copies,
        "index_catch_up_after_seconds": round(catch_up_seconds),
        "rss_start_bytes": rss_start,
        "rss_end_bytes": rss_end,
        "rss_per_minute_bytes": rss_samples,
        "rss_anon_per_minute_bytes": anon_samples,
        "posts_per_minute": per_minute,
        "alerts": alerts,
    }))
}

/// Part 3: from a batch's arrival to its alert, with the real alert loop.
async fn alert_latency(
    store: &Store,
    p: &mut Pipeline,
    origin: &Origin,
    ws: i64,
    texts: &Posts,
    from: u64,
    now: i64,
) -> anyhow::Result<Value> {
    const SAMPLES: usize = 40;
    store
        .create_listening_query(ws, "alarm", "alarmmeting", "brand", now)
        .await?;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let body: dialoog_engine::alerts::BodyFn = Arc::new(|a| a.id.to_string());
    let alert_loop = tokio::spawn(dialoog_engine::alerts::run(
        store.clone(),
        p.signals(),
        body,
        async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        },
    ));
    let mut ms = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let word = format!("alarmwoord{i}");
        let rule = dialoog_store::NewAlertRule {
            kind: "words".into(),
            query_id: None,
            factor: 3.0,
            min_count: 1,
            share: 0.4,
            words: word.clone(),
            window_minutes: 60,
        };
        store.create_alert_rule(ws, &rule, now).await?;
        let batch: Vec<Incoming> = (0..1000)
            .map(|j| Incoming {
                key: format!("https://bench.example/alert/{i}/{j}"),
                url: None,
                author_id: format!("a{j}"),
                author_name: format!("Auteur {j}"),
                author_handle: None,
                reach: None,
                text: if j == 500 {
                    format!(
                        "alarmmeting {word}: {}",
                        texts.text(from + (i * 1000 + j) as u64)
                    )
                } else {
                    texts.text(from + (i * 1000 + j) as u64)
                },
                lang_hint: None,
                published_at: now,
            })
            .collect();
        let before = store.alerts(ws, 1000).await?.len();
        let t0 = Instant::now();
        p.process(origin, &batch, jiff::Timestamp::now().as_millisecond())
            .await?;
        let deadline = t0 + Duration::from_secs(30);
        while store.alerts(ws, 1000).await?.len() == before {
            anyhow::ensure!(Instant::now() < deadline, "no alert within 30 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = stop_tx.send(true);
    let _ = alert_loop.await;
    ms.sort_by(f64::total_cmp);
    Ok(json!({
        "samples": SAMPLES,
        "batch_posts": 1000,
        "p50_ms": round(percentile(&ms, 0.5)),
        "p99_ms": round(percentile(&ms, 0.99)),
        "max_ms": round(ms.last().copied().unwrap_or(0.0)),
    }))
}

/// Fills `n` mentions (generated posts, each different but for reposts)
/// over 30 days, indexes them, builds FTS5, then times the same
/// three-word queries on both.
async fn search(store: &Store, index_dir: &std::path::Path, n: usize) -> anyhow::Result<Value> {
    let now = jiff::Timestamp::now().as_millisecond();
    let first = owner(store, now).await?;
    let texts = Posts::new(9, 1000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let kinds = ["rss", "mastodon_public", "jetstream"];
    let sentiments = ["positive", "neutral", "negative"];
    let fill = Instant::now();
    let mut batch: Vec<NewMention> = Vec::with_capacity(5000);
    for i in 0..n {
        let t = texts.text(i as u64);
        let doc = dialoog_text::Doc::new(&t);
        let lang = dialoog_text::lang::detect(&doc).map(|l| l.code().to_owned());
        batch.push(NewMention {
            workspace_id: first,
            source_id: None,
            source_kind: kinds[rng.below(3)].into(),
            key: format!("k{i}"),
            url: None,
            author_id: format!("a{}", rng.below(10_000)),
            author_name: "Auteur".into(),
            author_handle: None,
            reach: None,
            text: t,
            lang,
            sentiment: sentiments[rng.below(3)].into(),
            score: 0.0,
            fingerprint: 0,
            copy_of: None,
            query_ids: vec![],
            published_at: now - rng.below(30 * 86_400) as i64 * 1000,
        });
        if batch.len() == 5000 || i + 1 == n {
            store.insert_mentions(&batch, now).await?;
            batch.clear();
        }
    }
    let fill_seconds = fill.elapsed().as_secs_f64();
    let index: Arc<dyn MentionSearch> = Arc::new(TantivyIndex::open(index_dir)?);
    let t0 = Instant::now();
    mention_index::catch_up(store, &index, now).await?;
    let index_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    store.bench_fts_build().await?;
    let fts_build_seconds = t1.elapsed().as_secs_f64();

    // Three words of one text (longer than three letters), so each query
    // finds at least that text.
    let rounds = if n >= 1_000_000 { 200 } else { 50 };
    let mut queries: Vec<[String; 3]> = vec![];
    while queries.len() < rounds {
        let words: Vec<String> = texts
            .text(rng.below(n) as u64)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 3)
            .map(str::to_lowercase)
            .collect();
        if words.len() >= 3 {
            let a = rng.below(words.len() - 2);
            queries.push([words[a].clone(), words[a + 1].clone(), words[a + 2].clone()]);
        }
    }
    let (mut tantivy_ms, mut fts_ms) = (vec![], vec![]);
    let (mut tantivy_hits, mut fts_hits) = (0usize, 0usize);
    for q in &queries {
        let f = SearchFilter {
            q: q.join(" "),
            ..SearchFilter::default()
        };
        let ix = Arc::clone(&index);
        let t = Instant::now();
        let found = tokio::task::spawn_blocking(move || ix.search(first, &f, 50, true)).await??;
        tantivy_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        tantivy_hits += found.ids.len();
    }
    for q in &queries {
        let m = q
            .iter()
            .map(|w| format!("\"{}\"", w.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" ");
        let t = Instant::now();
        let (ids, _) = store.bench_fts_search(first, &m, 50).await?;
        fts_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        fts_hits += ids.len();
    }
    tantivy_ms.sort_by(f64::total_cmp);
    fts_ms.sort_by(f64::total_cmp);
    Ok(json!({
        "mentions": n,
        "fill_seconds": round(fill_seconds),
        "index_seconds": round(index_seconds),
        "fts5_build_seconds": round(fts_build_seconds),
        "queries": queries.len(),
        "tantivy_p50_ms": round(percentile(&tantivy_ms, 0.5)),
        "tantivy_p95_ms": round(percentile(&tantivy_ms, 0.95)),
        "tantivy_hits_per_query": round(tantivy_hits as f64 / queries.len() as f64),
        "fts5_p50_ms": round(percentile(&fts_ms, 0.5)),
        "fts5_p95_ms": round(percentile(&fts_ms, 0.95)),
        "fts5_hits_per_query": round(fts_hits as f64 / queries.len() as f64),
    }))
}
