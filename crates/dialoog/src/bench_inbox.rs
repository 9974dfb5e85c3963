//! `dialoog bench inbox --items N [--database-url postgres://…] [--rate R]
//! [--seconds S]`: fills a fresh database (an SQLite file in a temporary
//! folder, or a new PostgreSQL database dropped afterwards) with `N`
//! generated conversations of one workspace (Dutch and English texts from
//! the development sets, five channels, every kind, status, assignee, tag,
//! language and sentiment), then serves the same app as `dialoog serve` on
//! a loopback port and measures, at once:
//!
//! - the inbox's first page with filters, requested open-loop at `rate`
//!   per second for `seconds` (each latency counts from the moment its
//!   request was due, so queueing cannot hide), overall and per filter;
//! - beside them, searches (names, handles, words, order numbers) at
//!   `search_rate` per second, the same way, overall and per kind;
//! - live updates: an open event stream of the inbox, and the time from
//!   the start of storing a new inbound item until its event arrives, for
//!   at least 100 items.
//!
//! With `DIALOOG_BENCH_KEEP` set, the data is kept (its place is logged);
//! with `DIALOOG_BENCH_REUSE` set to such a place (the folder of an SQLite
//! run, or the database name of a PostgreSQL run on `--database-url`'s
//! server), the run measures that data again instead of filling anew, and
//! keeps it.

use crate::bench::{peak_rss_bytes, percentile, round};
use crate::bench_calendar::{clean, database_on, open};
use crate::bench_inbox_load::{ByLabel, Load, Target, live_updates, load};
use dialoog_domain::Role;
use dialoog_store::{GeneratedConversation, GeneratedItem, NewInvitee, NewOwner, Store};
use serde_json::{Value, json};
use std::time::Instant;

/// What the benchmark runs against.
#[derive(Debug, Clone)]
pub struct InboxBench {
    /// Conversations to fill.
    pub items: usize,
    /// A PostgreSQL server URL; `None`: SQLite in a temporary folder.
    pub database_url: Option<String>,
    /// Filtered first pages per second.
    pub rate: u32,
    /// Searches per second, beside them.
    pub search_rate: u32,
    /// How long the page requests go on.
    pub seconds: u32,
    /// New items whose live update is timed.
    pub live_items: usize,
}

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    pub(crate) fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        v.get(self.below(v.len()))
    }
}

const FIRST: [&str; 24] = [
    "Sanne", "Daan", "Emma", "Lucas", "Julia", "Milan", "Fleur", "Sem", "Lotte", "Thijs", "Anouk",
    "Bram", "Olivia", "James", "Sophie", "Noah", "Amira", "Mohammed", "Yara", "Finn", "Chloé",
    "Jürgen", "Eva", "Liam",
];
const LAST: [&str; 20] = [
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Smith",
    "Brown",
    "Wilson",
    "El Amrani",
    "Yılmaz",
    "Kowalski",
];
/// The workspace's tags.
pub(crate) const TAGS: [&str; 10] = [
    "klacht",
    "bezorging",
    "factuur",
    "compliment",
    "vraag",
    "retour",
    "spoed",
    "vip",
    "lead",
    "pers",
];
/// (network, channel name, kinds it brings).
const CHANNELS: [(&str, &str, &[&str]); 5] = [
    (
        "mastodon",
        "@bakkerij@social.example",
        &["mention", "comment", "direct_message"],
    ),
    ("bluesky", "bakkerij.bsky.social", &["mention", "comment"]),
    ("email", "klantenservice@bakkerij.nl", &["email"]),
    ("wordpress", "Blog", &["comment"]),
    (
        "mastodon",
        "@reviews@social.example",
        &["review", "mention"],
    ),
];
const AGENTS: usize = 8;
const DAY: i64 = 86_400_000;

/// Runs the benchmark; one JSON line.
pub async fn run(b: &InboxBench) -> anyhow::Result<Value> {
    anyhow::ensure!(
        b.items > 0 && b.rate > 0 && b.seconds > 0,
        "items, rate and seconds must be at least 1"
    );
    if let Some(place) = std::env::var_os("DIALOOG_BENCH_REUSE") {
        let store = reopen(b.database_url.as_deref(), &place.to_string_lossy()).await?;
        let result = match existing(&store).await {
            Ok(world) => measure(b, &store, world).await,
            Err(e) => Err(e),
        };
        store.close().await;
        return result;
    }
    let (store, place) = open(b.database_url.as_deref()).await?;
    let result = match fill(&store, b.items).await {
        Ok(world) => measure(b, &store, world).await,
        Err(e) => Err(e),
    };
    if std::env::var_os("DIALOOG_BENCH_KEEP").is_some() {
        // Kept for looking at query plans afterwards.
        tracing::warn!(data = %place.describe(), "benchmark data kept");
        store.close().await;
    } else {
        clean(store, place).await;
    }
    result
}

/// One analysed text to draw from.
struct Text {
    text: String,
    lang: Option<String>,
    sentiment: String,
}

fn texts() -> Vec<Text> {
    dialoog_text::eval::sample_texts(5_000, 23)
        .into_iter()
        .map(|text| {
            let doc = dialoog_text::Doc::new(&text);
            let lang = dialoog_text::lang::detect(&doc);
            let score = dialoog_text::sentiment::score(&doc, lang).score;
            let sentiment = if score > 0.05 {
                "positive"
            } else if score < -0.05 {
                "negative"
            } else {
                "neutral"
            };
            Text {
                lang: lang.map(|l| l.code().to_owned()),
                sentiment: sentiment.to_owned(),
                text,
            }
        })
        .collect()
}

/// The world the requests ask about.
pub(crate) struct World {
    pub(crate) ws: i64,
    pub(crate) channels: Vec<i64>,
    pub(crate) agents: Vec<i64>,
    pub(crate) session: String,
    /// `None` when the data was reused.
    pub(crate) fill_seconds: Option<f64>,
}

async fn fill(store: &Store, items: usize) -> anyhow::Result<World> {
    let now = dialoog_engine::dispatcher::now_ms();
    let (owner, ws) = store
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
    let mut agents = vec![owner.id];
    for i in 1..AGENTS {
        let code = dialoog_web::security::token_hash(&format!("bench-invite-{i}"));
        store
            .create_invite(
                &code,
                ws.id,
                &format!("agent{i}@example.nl"),
                Role::Agent,
                owner.id,
                now,
                now + DAY,
            )
            .await?;
        let (u, _) = store
            .accept_invite(
                &code,
                &NewInvitee {
                    name: &format!("{} {}", FIRST[i], LAST[i]),
                    password_hash: "-",
                    locale: "nl",
                },
                now,
            )
            .await?;
        agents.push(u.id);
    }
    let mut channels = vec![];
    for (network, name, _) in CHANNELS {
        channels.push(
            store
                .create_channel(ws.id, network, name, b"-", now)
                .await?
                .id,
        );
    }
    let pool = texts();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Two years of conversations up to two hours ago, oldest first.
    let end = now - 2 * 3_600_000;
    let span = 730 * DAY;
    let step = span / i64::try_from(items).unwrap_or(1).max(1);
    let started = Instant::now();
    let mut made = 0usize;
    while made < items {
        let n = (items - made).min(20_000);
        let batch: Vec<GeneratedConversation> = (made..made + n)
            .map(|i| {
                conversation(
                    &mut rng,
                    &pool,
                    &channels,
                    &agents,
                    end - span + step * i as i64,
                    now,
                )
            })
            .collect();
        store.fill_generated_inbox(ws.id, &batch, now).await?;
        made += n;
    }
    store.analyze().await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    Ok(World {
        ws: ws.id,
        channels,
        agents,
        session: session(store, owner.id, now).await?,
        fill_seconds: Some(fill_seconds),
    })
}

fn conversation(
    rng: &mut Rng,
    pool: &[Text],
    channels: &[i64],
    agents: &[i64],
    start: i64,
    now: i64,
) -> GeneratedConversation {
    let c = rng.below(CHANNELS.len());
    let kinds = CHANNELS.get(c).map_or(&["mention"][..], |x| x.2);
    let kind = rng.pick(kinds).copied().unwrap_or("mention");
    let first = rng.pick(&FIRST).copied().unwrap_or("Sanne");
    let last = rng.pick(&LAST).copied().unwrap_or("Bakker");
    let n = rng.below(1000);
    let handle = format!(
        "@{}{}{n}",
        first.to_lowercase(),
        last.replace(' ', "").to_lowercase()
    );
    let items = match rng.below(20) {
        0..=11 => 1,
        12..=16 => 2,
        _ => 3 + rng.below(3),
    };
    let mut at = start;
    let mut lang = None;
    let mut sentiment = None;
    let items = (0..items)
        .map(|_| {
            let t = rng.pick(pool);
            lang = t.and_then(|t| t.lang.clone());
            sentiment = t.map(|t| t.sentiment.clone());
            let mut text = t.map(|t| t.text.clone()).unwrap_or_default();
            if rng.below(10) == 0 {
                // An order number, as customers quote them.
                text.push_str(&format!(
                    " Bestelnummer {}",
                    1_000_000 + rng.below(9_000_000)
                ));
            }
            // Never later than two hours ago: a conversation answered an
            // hour after its last item is still in the past, so the live
            // updates' new items are the latest changes.
            at = (at + i64::try_from(rng.below(3_600_000)).unwrap_or(0)).min(now - 2 * 3_600_000);
            GeneratedItem { text, at }
        })
        .collect();
    let status = match rng.below(100) {
        0..=9 => "open",
        10..=14 => "pending",
        _ => "resolved",
    };
    let tags = match rng.below(10) {
        0..=6 => vec![],
        7 | 8 => vec![rng.pick(&TAGS).copied().unwrap_or("vraag").to_owned()],
        _ => vec![
            "klacht".to_owned(),
            rng.pick(&TAGS[1..]).copied().unwrap_or("spoed").to_owned(),
        ],
    };
    GeneratedConversation {
        channel_id: channels.get(c).copied().unwrap_or(0),
        kind: kind.to_owned(),
        author_id: format!("{handle}@social.example"),
        author_name: format!("{first} {last}"),
        author_handle: Some(handle),
        status: status.to_owned(),
        assignee_id: (rng.below(10) >= 3)
            .then(|| rng.pick(agents).copied())
            .flatten(),
        snoozed_until: (status == "open" && rng.below(20) == 0).then_some(now + DAY),
        lang,
        sentiment,
        tags,
        items,
    }
}

/// The data a kept run left at `place`.
async fn reopen(database_url: Option<&str>, place: &str) -> anyhow::Result<Store> {
    let url = match database_url.filter(|u| !u.trim().is_empty()) {
        Some(admin) => database_on(admin, place),
        None => format!("sqlite://{place}/dialoog.db?mode=rw"),
    };
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    Ok(store)
}

/// The world of a filled database, with a new session for its owner.
async fn existing(store: &Store) -> anyhow::Result<World> {
    let now = dialoog_engine::dispatcher::now_ms();
    let owner = store
        .user_by_email("bench@example.nl")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no benchmark data there"))?;
    let ws = store
        .memberships(owner.id)
        .await?
        .first()
        .map(|m| m.workspace.id)
        .ok_or_else(|| anyhow::anyhow!("the benchmark owner has no workspace"))?;
    let mut channels: Vec<i64> = store.channels(ws).await?.iter().map(|c| c.id).collect();
    channels.sort_unstable();
    let mut agents: Vec<i64> = store.members(ws).await?.iter().map(|m| m.user_id).collect();
    agents.sort_unstable();
    Ok(World {
        ws,
        channels,
        agents,
        session: session(store, owner.id, now).await?,
        fill_seconds: None,
    })
}

/// A new session of `user`; its cookie value.
async fn session(store: &Store, user: i64, now: i64) -> anyhow::Result<String> {
    let session = dialoog_web::security::random_token();
    store
        .create_session(
            &dialoog_web::security::token_hash(&session),
            user,
            false,
            now,
            now + DAY,
        )
        .await?;
    Ok(session)
}

fn figures(v: &[f64]) -> Value {
    json!({"n": v.len(), "p50_ms": round(percentile(v, 0.50)), "p99_ms": round(percentile(v, 0.99)),
           "max_ms": round(percentile(v, 1.0))})
}

/// Latencies (ms), sorted: all of them, and figures by label.
fn summary(by: ByLabel) -> (Vec<f64>, Value) {
    let mut all: Vec<f64> = by.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    all.sort_by(f64::total_cmp);
    let mut per = serde_json::Map::new();
    for (label, mut v) in by {
        v.sort_by(f64::total_cmp);
        per.insert(label.to_owned(), figures(&v));
    }
    (all, Value::Object(per))
}

async fn measure(b: &InboxBench, store: &Store, world: World) -> anyhow::Result<Value> {
    let target = Target::start(store, &world).await?;
    let plan = Load {
        rate: b.rate,
        search_rate: b.search_rate,
        seconds: b.seconds,
    };
    let ((pages, searches), live) = tokio::join!(
        load(&target, &world, &plan),
        live_updates(&target, store, &world, b.live_items)
    );
    let mut live = live?;
    live.sort_by(f64::total_cmp);
    let (pages, per_filter) = summary(pages);
    let (searches, per_search) = summary(searches);
    // The figures of API.md are those of the filtered pages; searches
    // have theirs beside them.
    Ok(json!({
        "what": "inbox",
        "backend": format!("{:?}", store.kind()).to_lowercase(),
        "items": b.items,
        "fill_seconds": world.fill_seconds.map(round),
        "seconds": b.seconds,
        "errors": target.errors(),
        "rate": b.rate,
        "requests": pages.len(),
        "items_per_second": round(pages.len() as f64 / f64::from(b.seconds)),
        "p50_ms": round(percentile(&pages, 0.50)),
        "p99_ms": round(percentile(&pages, 0.99)),
        "max_ms": round(percentile(&pages, 1.0)),
        "per_filter": per_filter,
        "search_rate": b.search_rate,
        "searches": figures(&searches),
        "per_search": per_search,
        "live_items": live.len(),
        "live_p50_ms": round(percentile(&live, 0.50)),
        "live_p99_ms": round(percentile(&live, 0.99)),
        "live_max_ms": round(percentile(&live, 1.0)),
        "peak_rss_bytes": peak_rss_bytes(),
    }))
}
