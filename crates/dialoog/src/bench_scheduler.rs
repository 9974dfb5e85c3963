//! `dialoog bench scheduler`: dispatch lag under load. `items` posts fall
//! due at `rate` per second; one or more real `dialoog serve` processes
//! publish them to a loopback Mastodon-like endpoint in this process, which
//! notes when each publish call arrives. The lag is that moment minus the
//! post's due time (one clock: this machine's). Ends with the JSON line of
//! API.md plus the lag's maximum, the duplicates seen (must be 0) and the
//! dispatchers' peak memory.

use crate::bench::round;
use axum::extract::State;
use axum::http::HeaderMap;
use dialoog_engine::dispatcher::now_ms;
use dialoog_engine::{Cipher, Credentials};
use dialoog_store::{NewOwner, NewPost, NewTarget, Store};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the benchmark runs against.
#[derive(Debug, Clone)]
pub struct SchedulerBench {
    /// Posts.
    pub items: usize,
    /// Posts falling due per second.
    pub rate: u32,
    /// A PostgreSQL server URL (a fresh database is made there and dropped
    /// afterwards); `None`: SQLite in a temporary folder.
    pub database_url: Option<String>,
    /// `dialoog serve` processes dispatching.
    pub dispatchers: usize,
}

/// First arrival time (UTC ms) per idempotency key, and how many calls
/// came again for a key already seen.
#[derive(Default)]
struct Arrivals {
    first: HashMap<String, i64>,
    again: usize,
}

type Shared = Arc<Mutex<Arrivals>>;

async fn statuses(
    State(arrivals): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let at = now_ms();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let id = {
        let mut a = arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if a.first.contains_key(&key) {
            a.again += 1;
        } else {
            a.first.insert(key.clone(), at);
        }
        a.first.len()
    };
    axum::Json(json!({
        "id": id.to_string(),
        "url": format!("https://social.example/@bench/{id}"),
        "content": body["status"],
        "account": {"id": "1", "acct": "bench"},
    }))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The child processes, killed on drop.
struct Dispatchers(Vec<Child>);

impl Drop for Dispatchers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn peak_rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// A database for the run, and how to remove it.
struct Db {
    url: String,
    admin: Option<(String, String)>,
    dir: std::path::PathBuf,
}

impl Db {
    async fn make(server: Option<&str>, dir: &std::path::Path) -> anyhow::Result<Self> {
        let Some(server) = server else {
            return Ok(Self {
                url: format!("sqlite://{}/dialoog.db", dir.display()),
                admin: None,
                dir: dir.to_owned(),
            });
        };
        let name = format!("dialoog_bench_{}", std::process::id());
        let admin = Store::connect(server).await?;
        admin
            .execute_admin(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await;
        let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            admin: Some((server.to_owned(), name)),
            dir: dir.to_owned(),
        })
    }

    async fn remove(self) {
        if let Some((server, name)) = self.admin
            && let Ok(admin) = Store::connect(&server).await
        {
            let _ = admin
                .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            admin.close().await;
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// Runs the benchmark.
pub async fn run(b: &SchedulerBench) -> anyhow::Result<Value> {
    anyhow::ensure!(
        b.items > 0 && b.rate > 0 && b.dispatchers > 0,
        "items, rate and dispatchers must be at least 1"
    );
    let dir = std::env::temp_dir().join(format!("dialoog-bench-sched-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = Db::make(b.database_url.as_deref(), &dir).await?;
    let result = measure(b, &db).await;
    db.remove().await;
    result
}

async fn measure(b: &SchedulerBench, db: &Db) -> anyhow::Result<Value> {
    let arrivals: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/api/v1/statuses", axum::routing::post(statuses))
        // The poller in each process reads the channel too: nothing new.
        .route(
            "/api/v1/notifications",
            axum::routing::get(|| async { axum::Json(json!([])) }),
        )
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let store = Store::connect(&db.url).await?;
    store.migrate().await?;
    let owner = NewOwner {
        organisation: "Bench",
        name: "Bench",
        email: "bench@example.nl",
        password_hash: "-",
        locale: "nl",
        timezone: "UTC",
    };
    let (user, ws) = store.setup(&owner, now_ms()).await?;
    let key = Cipher::generate_key_text()?;
    let cipher = Cipher::from_text(&key)?;
    let creds = Credentials::Mastodon {
        instance_url: base,
        access_token: "bench".into(),
    };
    let sealed = cipher.seal(&serde_json::to_vec(&creds)?)?;
    let ch = store
        .create_channel(ws.id, "mastodon", "@bench", &sealed, now_ms())
        .await?;

    // The dispatchers start first, as a running installation would be.
    let mut children = Dispatchers(vec![]);
    let mut ports = vec![];
    for n in 0..b.dispatchers {
        let port = free_port()?;
        let data = db.dir.join(format!("d{n}"));
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data")
            .arg(if db.admin.is_some() { &data } else { &db.dir })
            .env("DIALOOG_SECRET_KEY", &key)
            .env("DIALOOG_LOG", "error")
            .env_remove("DIALOOG_SMTP_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if db.admin.is_some() {
            cmd.args(["--database-url", &db.url]);
        } else {
            cmd.env_remove("DIALOOG_DATABASE_URL");
        }
        children.0.push(cmd.spawn()?);
        ports.push(port);
    }
    for port in ports {
        let mut up = false;
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        anyhow::ensure!(up, "a dispatcher process did not start");
    }

    // The posts are stored first, a day ahead, by four writers (each post
    // once), then moved in one step to fall due from `first` on, `rate` per
    // second: the dispatchers meet a stored plan, as in a running
    // installation, and storing does not compete with dispatching.
    let items = b.items;
    let every = 1000.0 / f64::from(b.rate);
    let ahead = 86_400_000;
    let offset = move |i: usize| (i as f64 * every) as i64;
    let stored_from = now_ms() + ahead;
    let mut writers = vec![];
    for w in 0..4 {
        let store = store.clone();
        let (ws, ch, author) = (ws.id, ch.id, user.id);
        writers.push(tokio::spawn(async move {
            for i in (w..items).step_by(4) {
                let post = NewPost {
                    workspace_id: ws,
                    author_id: Some(author),
                    text: format!("Bench post {i}"),
                    scheduled_at: Some(stored_from + offset(i)),
                    state: "scheduled".into(),
                    targets: vec![NewTarget {
                        channel_id: ch,
                        network: "mastodon".into(),
                        channel_name: "@bench".into(),
                        text: None,
                        idempotency_key: format!("bench-{i}"),
                    }],
                };
                store.create_post(&post, now_ms()).await?;
            }
            anyhow::Ok(())
        }));
    }
    for w in writers {
        w.await??;
    }
    let first = now_ms() + 2000;
    store.shift_schedule(ws.id, first - stored_from).await?;
    let due = move |i: usize| first + offset(i);

    let last_due = due(items - 1);
    let deadline = last_due + 60_000;
    loop {
        let seen = arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first
            .len();
        if seen >= items || now_ms() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A moment more, for any call that would come twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let peak = children
        .0
        .iter()
        .map(|c| peak_rss_of(c.id()))
        .max()
        .unwrap_or(0);
    drop(children);

    let (mut lags, again, last_arrival) = {
        let a = arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut lags = Vec::with_capacity(items);
        let mut last = first;
        for (k, at) in &a.first {
            if let Some(i) = k
                .strip_prefix("bench-")
                .and_then(|i| i.parse::<usize>().ok())
            {
                lags.push(at - due(i));
                last = last.max(*at);
            }
        }
        (lags, a.again, last)
    };
    let published = store
        .target_states()
        .await?
        .into_iter()
        .find(|(s, _)| s == "published")
        .map_or(0, |(_, n)| n);
    store.close().await;
    anyhow::ensure!(
        lags.len() == items,
        "only {} of {items} posts were published in time",
        lags.len()
    );
    lags.sort_unstable();
    let pct = |p: f64| lags[((lags.len() as f64 * p) as usize).min(lags.len() - 1)];
    let seconds = (last_arrival - first) as f64 / 1000.0;
    Ok(json!({
        "what": "scheduler",
        "system": "dialoog",
        "backend": if db.admin.is_some() { "postgres" } else { "sqlite" },
        "dispatchers": b.dispatchers,
        "items": items,
        "rate": b.rate,
        "seconds": round(seconds),
        "items_per_second": (items as f64 / seconds.max(0.001)).round(),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": lags.last().copied().unwrap_or(0),
        "published": published,
        "duplicates": again,
        "peak_rss_bytes": peak,
    }))
}
