//! `dialoog bench calendar --items N [--database-url postgres://…]`: fills a
//! fresh database (an SQLite file in a temporary folder, or a new
//! PostgreSQL database that is dropped afterwards) with `N` generated
//! posts spread over four years and ten workspaces (each with a Mastodon
//! target, every second one a Bluesky target too), then times the calendar
//! page's month query (the days of a whole-week grid in Europe/Amsterdam,
//! three posts per day with their targets, the rest counted) over every
//! month of every workspace, three rounds.

use crate::bench::{peak_rss_bytes, round};
use anyhow::Context;
use dialoog_store::{GeneratedPost, NewOwner, Store};
use dialoog_web::calendar::{MONTH_PER_DAY, day_start, month_grid};
use serde_json::{Value, json};
use std::time::Instant;

const WORKSPACES: usize = 10;
const FIRST_YEAR: i16 = 2025;
const YEARS: i16 = 4;
const TZ: &str = "Europe/Amsterdam";

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Where the benchmark's data lives, and how to clean it up.
pub(crate) enum Place {
    Dir(std::path::PathBuf),
    Postgres { admin: String, name: String },
}

/// The URL of database `name` on the PostgreSQL server of `admin`.
pub(crate) fn database_on(admin: &str, name: &str) -> String {
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    format!("{base}/{name}")
}

/// A fresh, migrated database: an SQLite file in a temporary folder, or a
/// new database on the PostgreSQL server `database_url`.
pub(crate) async fn open(database_url: Option<&str>) -> anyhow::Result<(Store, Place)> {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    let suffix: String = b.iter().map(|x| format!("{x:02x}")).collect();
    match database_url.filter(|u| !u.trim().is_empty()) {
        Some(admin) => {
            let name = format!("dialoog_bench_{suffix}");
            let a = Store::connect(admin)
                .await
                .context("cannot reach PostgreSQL")?;
            a.execute_admin(&format!("CREATE DATABASE {name}")).await?;
            a.close().await;
            let store = Store::connect(&database_on(admin, &name)).await?;
            store.migrate().await?;
            Ok((
                store,
                Place::Postgres {
                    admin: admin.to_owned(),
                    name,
                },
            ))
        }
        None => {
            let dir = std::env::temp_dir().join(format!("dialoog-bench-{suffix}"));
            std::fs::create_dir_all(&dir)?;
            let store = Store::connect(&format!("sqlite://{}/dialoog.db", dir.display())).await?;
            store.migrate().await?;
            Ok((store, Place::Dir(dir)))
        }
    }
}

impl Place {
    /// Where the data is: a folder, or a database name.
    pub(crate) fn describe(&self) -> String {
        match self {
            Place::Dir(d) => d.display().to_string(),
            Place::Postgres { name, .. } => name.clone(),
        }
    }
}

/// Closes the store and removes its database.
pub(crate) async fn clean(store: Store, place: Place) {
    store.close().await;
    match place {
        Place::Dir(d) => {
            let _ = std::fs::remove_dir_all(d);
        }
        Place::Postgres { admin, name } => {
            if let Ok(a) = Store::connect(&admin).await {
                let _ = a
                    .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                a.close().await;
            }
        }
    }
}

/// Runs the benchmark; one JSON line.
pub async fn run(items: usize, database_url: Option<&str>) -> anyhow::Result<Value> {
    let (store, place) = open(database_url).await?;
    let result = measure(&store, items).await;
    clean(store, place).await;
    result
}

fn instant(year: i16, month: i8) -> i64 {
    jiff::civil::Date::new(year, month, 1)
        .map(|d| day_start(d, TZ))
        .unwrap_or_default()
}

async fn measure(store: &Store, items: usize) -> anyhow::Result<Value> {
    let now = jiff::Timestamp::now().as_millisecond();
    let (user, first) = store
        .setup(
            &NewOwner {
                organisation: "Bench",
                name: "Bench",
                email: "bench@example.nl",
                password_hash: "-",
                locale: "nl",
                timezone: TZ,
            },
            now,
        )
        .await?;
    let mut workspaces = vec![first.id];
    for i in 1..WORKSPACES {
        let ws = store
            .create_workspace(&format!("Klant {i}"), TZ, user.id, now)
            .await?;
        workspaces.push(ws.id);
    }
    let start = instant(FIRST_YEAR, 1);
    let span = u64::try_from(instant(FIRST_YEAR + YEARS, 1) - start).unwrap_or(1);
    let texts = dialoog_text::eval::sample_texts(5_000, 11);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let fill = Instant::now();
    let per_ws = items.div_ceil(WORKSPACES);
    let mut left = items;
    for ws in &workspaces {
        let mut mine = per_ws.min(left);
        left -= mine;
        while mine > 0 {
            let n = mine.min(50_000);
            mine -= n;
            let batch: Vec<GeneratedPost> = (0..n)
                .map(|_| {
                    // A minute somewhere in the four years.
                    let at = start + i64::try_from(rng.below(span / 60_000) * 60_000).unwrap_or(0);
                    let text = texts
                        .get(usize::try_from(rng.below(texts.len() as u64)).unwrap_or(0))
                        .cloned()
                        .unwrap_or_default();
                    GeneratedPost {
                        scheduled_at: at,
                        text,
                    }
                })
                .collect();
            store.fill_generated_posts(*ws, &batch, now).await?;
        }
    }
    store.analyze().await?;
    let fill_seconds = fill.elapsed().as_secs_f64();

    let mut months = vec![];
    for y in FIRST_YEAR..FIRST_YEAR + YEARS {
        for m in 1..=12 {
            months.push((y, m));
        }
    }
    let mut samples = vec![];
    let mut shown = 0usize;
    let mut counted = 0i64;
    for _round in 0..3 {
        for ws in &workspaces {
            for (y, m) in &months {
                let days = month_grid(*y, *m).unwrap_or_default();
                let mut bounds: Vec<i64> = days.iter().map(|d| day_start(*d, TZ)).collect();
                if let Some(end) = days.last().and_then(|d| d.tomorrow().ok()) {
                    bounds.push(day_start(end, TZ));
                }
                let t = Instant::now();
                let found = store.calendar_days(*ws, &bounds, MONTH_PER_DAY).await?;
                samples.push(t.elapsed().as_secs_f64() * 1000.0);
                shown += found.iter().map(|d| d.posts.len()).sum::<usize>();
                counted += found.iter().map(|d| d.total).sum::<i64>();
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(i).copied().unwrap_or(0.0)
    };
    let query_seconds: f64 = samples.iter().sum::<f64>() / 1000.0;
    Ok(json!({
        "what": "calendar",
        "items": items,
        "backend": format!("{:?}", store.kind()).to_lowercase(),
        "seconds": round(fill_seconds),
        "items_per_second": (items as f64 / fill_seconds).round(),
        "month_queries": samples.len(),
        "month_queries_per_second": (samples.len() as f64 / query_seconds).round(),
        "posts_per_month_grid": counted / i64::try_from(samples.len().max(1)).unwrap_or(1),
        "shown_per_month_grid": shown / samples.len().max(1),
        "p50_ms": round(pct(0.50)),
        "p99_ms": round(pct(0.99)),
        "max_ms": round(pct(1.0)),
        "peak_rss_bytes": peak_rss_bytes(),
    }))
}
