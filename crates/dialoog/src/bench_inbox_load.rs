//! The two measurements of `dialoog bench inbox` against the served app:
//! open-loop page requests with a mix of filters, and the live-update delay
//! of new inbound items on an open event stream.

use crate::bench_inbox::{Rng, TAGS, World};
use dialoog_engine::dispatcher::now_ms;
use dialoog_store::{NewItem, Store};
use dialoog_web::{AppState, WebConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The served app and a client for it.
pub(crate) struct Target {
    base: String,
    client: reqwest::Client,
    cookie: String,
    errors: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Target {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Target {
    /// Serves the app `dialoog serve` serves (without its background work)
    /// on a loopback port, signed in as the workspace's owner.
    pub(crate) async fn start(store: &Store, world: &World) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let cipher =
            dialoog_engine::Cipher::from_text(&dialoog_engine::Cipher::generate_key_text()?)?;
        let state = AppState::new(
            store.clone(),
            WebConfig {
                public_url: base.clone(),
                mailer: None,
                allow_loopback_media: false,
            },
            cipher,
        );
        let app = dialoog_web::app(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        Ok(Self {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            cookie: format!("{}={}", dialoog_web::ui::SESSION_COOKIE, world.session),
            errors: Arc::default(),
            server,
        })
    }

    /// Requests that failed or did not answer 200, and new items that could
    /// not be stored.
    pub(crate) fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }
}

/// How hard the pages are asked for.
pub(crate) struct Load {
    /// Filtered first pages per second.
    pub(crate) rate: u32,
    /// Searches per second, asked for beside them.
    pub(crate) search_rate: u32,
    /// For how long.
    pub(crate) seconds: u32,
}

type Request = (&'static str, Vec<(&'static str, String)>);

/// The filtered first pages asked for: the views, and each filter with the
/// open view (the list's default).
fn filtered(w: &World) -> Vec<Request> {
    let open = || ("view", "open".to_owned());
    let mut v: Vec<Request> = vec![];
    for view in ["open", "pending", "snoozed", "resolved", "all"] {
        v.push(("view", vec![("view", view.to_owned())]));
    }
    for ch in &w.channels {
        v.push(("channel", vec![open(), ("channel", ch.to_string())]));
    }
    for k in ["comment", "mention", "direct_message", "email", "review"] {
        v.push(("kind", vec![open(), ("kind", k.to_owned())]));
    }
    for a in w
        .agents
        .iter()
        .map(ToString::to_string)
        .chain(["none".into(), "me".into()])
    {
        v.push(("assignee", vec![open(), ("assignee", a)]));
    }
    for s in ["negative", "neutral", "positive"] {
        v.push(("sentiment", vec![open(), ("sentiment", s.to_owned())]));
    }
    for l in ["nl", "en", "fr", "de"] {
        v.push(("lang", vec![open(), ("lang", l.to_owned())]));
    }
    for t in TAGS {
        v.push(("tag", vec![open(), ("tag", t.to_owned())]));
    }
    v
}

/// The searches asked for: names, handles, words, order numbers, an
/// absent word and a two-letter word, in the open view and in all.
fn searches() -> Vec<Request> {
    let mut v: Vec<Request> = vec![];
    for (label, q) in [
        ("q_name", "bakker"),
        ("q_name", "sanne de vries"),
        ("q_name", "yılmaz"),
        ("q_name", "@emmajansen"),
        ("q_text", "taart"),
        ("q_text", "service"),
        ("q_text", "bezorging"),
        ("q_text", "niet meer"),
        ("q_order", "bestelnummer 4821"),
        ("q_order", "5512"),
        ("q_absent", "xylofoon"),
        ("q_short", "ok"),
    ] {
        for view in ["open", "all"] {
            v.push((label, vec![("view", view.to_owned()), ("q", q.to_owned())]));
        }
    }
    v
}

/// Latencies (ms) by label.
pub(crate) type ByLabel = Vec<(&'static str, Vec<f64>)>;

/// Asks for filtered first pages at `plan.rate` and searches at
/// `plan.search_rate`, at once; (filtered, searches).
pub(crate) async fn load(t: &Target, w: &World, plan: &Load) -> (ByLabel, ByLabel) {
    tokio::join!(
        open_loop(
            t,
            w,
            filtered(w),
            plan.rate,
            plan.seconds,
            0x5DEE_CE66_D1CE_4E5B
        ),
        open_loop(
            t,
            w,
            searches(),
            plan.search_rate,
            plan.seconds,
            0x1234_5678_9ABC_DEF1
        ),
    )
}

/// Asks for pages drawn from `kinds` open-loop: request `i` is due at
/// `i / rate` seconds, sent then whatever the answers before it do, and
/// its latency counts from that moment to the last byte of the page.
async fn open_loop(
    t: &Target,
    w: &World,
    kinds: Vec<Request>,
    rate: u32,
    seconds: u32,
    seed: u64,
) -> ByLabel {
    if rate == 0 {
        return vec![];
    }
    let mut rng = Rng(seed);
    let total = usize::try_from(rate.saturating_mul(seconds)).unwrap_or(0);
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let (tx, mut rx) = mpsc::unbounded_channel::<(&'static str, f64)>();
    let url = format!("{}/w/{}/inbox", t.base, w.ws);
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    for i in 0..total {
        let Some((label, query)) = rng.pick(&kinds).cloned() else {
            break;
        };
        let due = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        let req = t
            .client
            .get(&url)
            .query(&query)
            .header(reqwest::header::COOKIE, &t.cookie);
        let (tx, errors) = (tx.clone(), t.errors.clone());
        tokio::spawn(async move {
            let ok = match req.send().await {
                Ok(r) if r.status() == reqwest::StatusCode::OK => r.bytes().await.is_ok(),
                _ => false,
            };
            if !ok {
                errors.fetch_add(1, Ordering::Relaxed);
            }
            let _ = tx.send((label, due.elapsed().as_secs_f64() * 1000.0));
        });
    }
    drop(tx);
    let mut by: ByLabel = vec![];
    while let Some((label, ms)) = rx.recv().await {
        match by.iter_mut().find(|(l, _)| *l == label) {
            Some((_, v)) => v.push(ms),
            None => by.push((label, vec![ms])),
        }
    }
    by
}

/// Opens the inbox's event stream and stores `n` new inbound items one
/// after another (a random pause of 50 to 450 ms before each, so they fall
/// anywhere in the stream's polling cycle); for each, the time (ms) from
/// the start of storing it until its `changed` event arrives.
pub(crate) async fn live_updates(
    t: &Target,
    store: &Store,
    w: &World,
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    let since = store.inbox_changed_at(w.ws).await?;
    let mut resp = t
        .client
        .get(format!("{}/w/{}/inbox/events", t.base, w.ws))
        .query(&[("since", since)])
        .header(reqwest::header::COOKIE, &t.cookie)
        .timeout(Duration::from_secs(3600))
        .send()
        .await?
        .error_for_status()?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let reader = tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                if event.lines().any(|l| l.trim() == "event: changed") {
                    let _ = tx.send(Instant::now());
                }
            }
        }
    });
    let channel = w.channels.first().copied().unwrap_or(0);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut out = Vec::with_capacity(n);
    // New ids on every run, so reused data takes them as new.
    let run = now_ms();
    for i in 0..n {
        tokio::time::sleep(Duration::from_millis(50 + rng.below(400) as u64)).await;
        while rx.try_recv().is_ok() {}
        let started = Instant::now();
        let item = NewItem {
            external_id: format!("live-{run}-{i}"),
            kind: "mention".into(),
            author_id: "https://social.example/@nieuw".into(),
            author_name: "Nieuwe Klant".into(),
            author_handle: Some("@nieuw@social.example".into()),
            thread_ref: Some(format!("live-{run}-{i}")),
            in_reply_to: None,
            text: format!("Hallo, waar blijft bestelling {i}?"),
            url: None,
            published_at: Some(now_ms()),
            media: "[]".into(),
            lang: Some("nl".into()),
            sentiment: Some("neutral".into()),
            score: Some(0.0),
        };
        // Under overload a store may time out: counted, the run goes on.
        let stored = match store.insert_items(channel, &[item], now_ms()).await {
            Ok(_) => store.thread_items(channel, now_ms()).await.is_ok(),
            Err(_) => false,
        };
        if !stored {
            t.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(at)) => out.push(at.duration_since(started).as_secs_f64() * 1000.0),
            Ok(None) => {
                reader.abort();
                anyhow::bail!("the event stream ended before item {i}");
            }
            // Missed within 10 s: counted as an error, the run goes on.
            Err(_) => {
                t.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    reader.abort();
    Ok(out)
}
