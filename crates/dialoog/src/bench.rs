//! `dialoog bench <what>`: whole-pipeline benchmarks on generated data. Each
//! ends with one JSON line on stdout (see API.md).

use dialoog_text::eval::{sample_queries, sample_texts};
use dialoog_text::query::{Matcher, Post, parse};
use dialoog_text::{Doc, lang, sentiment};
use std::time::Instant;

fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// `dialoog bench text`: language plus sentiment over `items` texts on one
/// thread, then the matcher against `queries` queries over the same texts.
pub fn text(items: usize, n_queries: usize) -> serde_json::Value {
    let corpus = sample_texts(items, 42);
    // Warm the lexicons and tables.
    let _ = sentiment::score(&Doc::new("warm up"), None);
    let start = Instant::now();
    let mut positive = 0usize;
    for t in &corpus {
        let doc = Doc::new(t);
        let l = lang::detect(&doc);
        if sentiment::score(&doc, l).score > 0.0 {
            positive += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();

    let parsed: Vec<(u64, dialoog_text::query::Query)> = sample_queries(n_queries, 7)
        .iter()
        .enumerate()
        .filter_map(|(i, q)| Some((i as u64, parse(q).ok()?)))
        .collect();
    let compiled = parsed.len();
    let t0 = Instant::now();
    let matcher = Matcher::new(parsed);
    let compile_seconds = t0.elapsed().as_secs_f64();
    // Normalise in chunks (untimed: that cost is measured above), then time
    // the matcher alone, so memory stays flat whatever `items` is.
    let mut scratch = dialoog_text::query::Scratch::default();
    let mut out = vec![];
    let mut matched = 0usize;
    let mut match_time = std::time::Duration::ZERO;
    for chunk in corpus.chunks(10_000) {
        let docs: Vec<(Doc, Option<dialoog_text::Lang>)> = chunk
            .iter()
            .map(|t| {
                let d = Doc::new(t);
                let l = lang::detect(&d);
                (d, l)
            })
            .collect();
        let t1 = Instant::now();
        for (doc, l) in &docs {
            matcher.matches_into(
                &Post {
                    doc,
                    lang: *l,
                    source: "mastodon",
                },
                &mut scratch,
                &mut out,
            );
            matched += out.len();
        }
        match_time += t1.elapsed();
    }
    let match_seconds = match_time.as_secs_f64();
    serde_json::json!({
        "what": "text",
        "items": items,
        "seconds": round(seconds),
        "items_per_second": (items as f64 / seconds).round(),
        "positive_share": round(positive as f64 / items.max(1) as f64),
        "matcher_queries": compiled,
        "matcher_compile_seconds": round(compile_seconds),
        "matcher_seconds": round(match_seconds),
        "matcher_posts_per_second": (items as f64 / match_seconds).round(),
        "matches_per_post": round(matched as f64 / items.max(1) as f64),
        "peak_rss_bytes": peak_rss_bytes(),
    })
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `dialoog bench sync`: one sync of `items` inbound items from a loopback
/// feed server into a fresh embedded database, through the real connector,
/// storage and health recording.
pub async fn sync(items: usize) -> anyhow::Result<serde_json::Value> {
    use dialoog_engine::{Cipher, Credentials, sync_channel};
    let corpus = sample_texts(items, 11);
    let body: String = corpus
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t = t.replace('&', "&amp;").replace('<', "&lt;");
            format!("<item><guid>item-{i}</guid><title>Item {i}</title><link>https://example.nl/{i}</link><description>{t}</description><author>klant{i}@example.nl (Klant {i})</author></item>")
        })
        .collect();
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Bench</title><link>https://example.nl</link><description>d</description>{body}</channel></rss>"
    );
    let feed_bytes = feed.len();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/feed.xml", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let feed = feed.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/rss+xml")],
                    feed,
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = std::env::temp_dir().join(format!("dialoog-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store =
        dialoog_store::Store::connect(&format!("sqlite://{}/dialoog.db", dir.display())).await?;
    store.migrate().await?;
    let owner = dialoog_store::NewOwner {
        organisation: "Bench",
        name: "Bench",
        email: "bench@example.nl",
        password_hash: "-",
        locale: "nl",
        timezone: "UTC",
    };
    let (_, ws) = store.setup(&owner, 0).await?;
    let cipher = Cipher::new([9; 32]);
    let creds = serde_json::to_vec(&Credentials::Rss { feed_url: url })?;
    let ch = store
        .create_channel(ws.id, "rss", "Bench", &cipher.seal(&creds)?, 0)
        .await?;
    let start = Instant::now();
    let outcome = sync_channel(&store, &cipher, &ch, 1).await?;
    let seconds = start.elapsed().as_secs_f64();
    let stored = store.items(ch.id, i64::MAX).await?.len();
    store.close().await;
    std::fs::remove_dir_all(&dir).ok();
    anyhow::ensure!(
        stored == items && outcome.new as usize == items,
        "stored {stored} of {items}"
    );
    Ok(serde_json::json!({
        "what": "sync",
        "connector": "rss",
        "items": items,
        "feed_bytes": feed_bytes,
        "seconds": round(seconds),
        "items_per_second": (items as f64 / seconds).round(),
        "peak_rss_bytes": peak_rss_bytes(),
    }))
}
