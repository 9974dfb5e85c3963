//! `dialoog serve` killed with SIGKILL while it publishes, on SQLite and on
//! PostgreSQL: after claiming posts but before calling the network, and
//! after the network took a post but before its answer was recorded; then
//! at random moments while posts fall due, restarting each time. In the
//! end every post is out exactly once (by idempotency key where the
//! network has one) or, where the network has no key and the answer was
//! lost, `unconfirmed` with its author told once, by e-mail too: nothing
//! lost, nothing twice.

use crate::fake_net::FakeNet;
use dialoog_engine::{Cipher, Credentials};
use dialoog_networks::testing::SmtpPeer;
use dialoog_store::{NewOwner, NewPost, NewTarget, Store, Target};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn now() -> i64 {
    dialoog_engine::dispatcher::now_ms()
}

/// A running `dialoog serve`; killed with SIGKILL on drop.
struct Serve {
    child: Child,
}

impl Serve {
    async fn start(data: &Path, db_url: Option<&str>, smtp_port: Option<u16>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("serve.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dialoog"));
        cmd.env_remove("DIALOOG_DATABASE_URL")
            .env("DIALOOG_LOG", "warn")
            .env("DIALOOG_SECRET_KEY", KEY)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--data", data.to_str().unwrap()])
            // A short lease, so a restart takes over a dead process's posts
            // within seconds; four claimed per publish under way.
            .args(["--dispatch-lease", "3", "--dispatch-tick-ms", "20"])
            .args(["--dispatch-concurrency", "16"])
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(url) = db_url {
            cmd.args(["--database-url", url]);
        }
        if let Some(p) = smtp_port {
            cmd.args(["--smtp-url", &format!("smtp://127.0.0.1:{p}")]);
            cmd.args(["--public-url", "https://dialoog.bakkerij.example"]);
        }
        let mut child = cmd.spawn().unwrap();
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Self { child };
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "dialoog serve exited: {}",
                std::fs::read_to_string(data.join("serve.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("dialoog serve did not start");
    }

    /// SIGKILL: no shutdown, no last writes.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct World {
    store: Store,
    ws: i64,
    author: i64,
    channels: Vec<i64>,
    posts: Vec<(i64, String)>,
}

impl World {
    async fn new(store: Store, net: &FakeNet) -> Self {
        let (user, ws) = store
            .setup(
                &NewOwner {
                    organisation: "Bakkerij De Vries",
                    name: "Eva",
                    email: "eva@bakkerij.example",
                    password_hash: "x",
                    locale: "nl",
                    timezone: "Europe/Amsterdam",
                },
                now(),
            )
            .await
            .unwrap();
        let cipher = Cipher::from_text(KEY).unwrap();
        let mut channels = vec![];
        for (creds, name) in [
            (
                Credentials::Mastodon {
                    instance_url: net.url.clone(),
                    access_token: "t".into(),
                },
                "@bakkerij",
            ),
            (
                Credentials::WordPress {
                    site_url: net.url.clone(),
                    username: "eva".into(),
                    app_password: "abcd efgh".into(),
                },
                "Blog",
            ),
        ] {
            let sealed = cipher.seal(&serde_json::to_vec(&creds).unwrap()).unwrap();
            let ch = store
                .create_channel(ws.id, creds.network(), name, &sealed, now())
                .await
                .unwrap();
            channels.push(ch.id);
        }
        Self {
            store,
            ws: ws.id,
            author: user.id,
            channels,
            posts: vec![],
        }
    }

    /// `n` posts to both channels, the first due at `first`, one every
    /// `every` ms.
    async fn plan(&mut self, n: usize, first: i64, every: i64) {
        for i in 0..n {
            let text = format!("Post {}", self.posts.len() + 1);
            let targets = self
                .channels
                .iter()
                .zip(["mastodon", "wordpress"])
                .map(|(id, network)| NewTarget {
                    channel_id: *id,
                    network: network.into(),
                    channel_name: if network == "mastodon" {
                        "@bakkerij"
                    } else {
                        "Blog"
                    }
                    .into(),
                    text: None,
                    idempotency_key: format!("k-{text}-{network}"),
                })
                .collect();
            let (p, _) = self
                .store
                .create_post(
                    &NewPost {
                        workspace_id: self.ws,
                        author_id: Some(self.author),
                        text: text.clone(),
                        scheduled_at: Some(first + every * i64::try_from(i).unwrap()),
                        state: "scheduled".into(),
                        targets,
                    },
                    now(),
                )
                .await
                .unwrap();
            self.posts.push((p.id, text));
        }
    }

    async fn targets(&self) -> Vec<(String, Target)> {
        let mut out = vec![];
        for (id, text) in &self.posts {
            for t in self.store.post(self.ws, *id).await.unwrap().1 {
                out.push((text.clone(), t));
            }
        }
        out
    }
}

/// A small deterministic generator, seeded per run (the seed is printed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

async fn killed_mid_publish_loses_nothing_and_doubles_nothing(
    store: Store,
    db_url: Option<String>,
    data: PathBuf,
) {
    let started = Instant::now();
    let smtp = SmtpPeer::start();
    let smtp_port = smtp.as_ref().map(|s| s.port);
    let net = FakeNet::start().await;
    let mut w = World::new(store, &net).await;
    let db = db_url.as_deref();

    // 1. The network takes every post and holds its answer. One process
    // claims 64 targets and calls the network for 16 (its concurrency):
    // 48 are claimed but not sent, 16 are sent but not recorded. Kill it.
    net.hold(true);
    w.plan(40, now() - 1000, 0).await;
    let serve = Serve::start(&data, db, smtp_port).await;
    net.wait_for_calls(16).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let targets = w.targets().await;
    let claimed_unsent = targets
        .iter()
        .filter(|(_, t)| t.state == "publishing" && t.sending_since.is_none())
        .count();
    let sent_unrecorded = targets
        .iter()
        .filter(|(_, t)| t.state == "publishing" && t.sending_since.is_some())
        .count();
    serve.kill();
    assert_eq!(net.calls().len(), 16, "only the publishes under way");
    assert_eq!(
        (claimed_unsent, sent_unrecorded),
        (48, 16),
        "killed after claiming and after sending"
    );
    net.hold(false);

    // 2. More posts fall due over three seconds; the process is killed at
    // random moments and started again each time.
    let seed = u64::try_from(now()).unwrap();
    eprintln!("crash test seed {seed}");
    let mut rng = Lcg(seed);
    net.jitter(30, seed);
    w.plan(150, now() + 500, 20).await;
    for _ in 0..3 {
        let serve = Serve::start(&data, db, smtp_port).await;
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1200))).await;
        serve.kill();
    }

    // 3. A last start runs until everything is settled.
    let serve = Serve::start(&data, db, smtp_port).await;
    let mut settled = false;
    for _ in 0..150 {
        let t = w.targets().await;
        if t.iter()
            .all(|(_, t)| t.state == "published" || t.state == "unconfirmed")
        {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let targets = w.targets().await;
    assert!(
        settled,
        "not settled: {:?}",
        targets
            .iter()
            .filter(|(_, t)| t.state != "published" && t.state != "unconfirmed")
            .map(|(_, t)| (&t.state, &t.error_code, t.attempts))
            .collect::<Vec<_>>()
    );

    // The ledger: what the network made against what Dialoog recorded.
    let made = net.made();
    let calls = net.calls();
    let mut unconfirmed = 0;
    for (text, t) in &targets {
        let mine: Vec<_> = made
            .iter()
            .filter(|m| m.network == t.network && &m.text == text)
            .collect();
        match (t.network.as_str(), t.state.as_str()) {
            ("mastodon", "published") => {
                assert_eq!(mine.len(), 1, "{text} on Mastodon: {mine:?}");
                assert_eq!(mine[0].key.as_deref(), Some(t.idempotency_key.as_str()));
                assert_eq!(t.remote_id.as_deref(), Some(mine[0].id.as_str()));
            }
            ("wordpress", "published") => {
                assert_eq!(mine.len(), 1, "{text} on WordPress: {mine:?}");
                assert_eq!(t.remote_id.as_deref(), Some(mine[0].id.as_str()));
            }
            ("wordpress", "unconfirmed") => {
                // The answer was lost: it is there at most once, and a
                // person is asked rather than a second one sent.
                assert!(mine.len() <= 1, "{text} on WordPress: {mine:?}");
                assert_eq!(t.error_code, "interrupted");
                unconfirmed += 1;
            }
            other => panic!("{text}: {other:?} ({t:?})"),
        }
    }
    for m in &made {
        assert!(
            targets
                .iter()
                .any(|(text, t)| t.network == m.network && *text == m.text),
            "nothing made that Dialoog does not know of: {m:?}"
        );
    }
    assert!(
        unconfirmed >= 8,
        "the WordPress posts sent before the first kill are asked about"
    );
    let resent = calls.len()
        - calls
            .iter()
            .map(|c| (c.network, c.key.clone(), c.text.clone()))
            .collect::<std::collections::HashSet<_>>()
            .len();
    assert!(
        resent >= 8,
        "Mastodon got the lost ones again with the same key"
    );

    // The author is told once per post that needs a look, in the app and
    // (with SMTP) by e-mail; never twice.
    let told = w.store.notifications(w.author, 10_000).await.unwrap();
    assert_eq!(told.len(), unconfirmed);
    assert!(told.iter().all(|n| n.kind == "post_unconfirmed"));
    if let Some(smtp) = &smtp {
        // Mails claimed by a process that was then killed are not sent
        // again (at most once); the last process mails the rest.
        let mut mailed = 0;
        for _ in 0..100 {
            let n = w.store.notifications(w.author, 10_000).await.unwrap();
            mailed = n.iter().filter(|n| n.mailed_at.is_some()).count();
            if mailed == n.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(mailed, unconfirmed);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mails = smtp.received();
        assert!(!mails.is_empty() && mails.len() <= unconfirmed);
        let mut subjects_and_posts: Vec<String> = mails
            .iter()
            .map(|m| {
                let data = String::from_utf8_lossy(&m.data).replace("=\r\n", "");
                let at = data.find("#post-").unwrap();
                data[at..].split_whitespace().next().unwrap().to_owned()
            })
            .collect();
        subjects_and_posts.sort();
        let all = subjects_and_posts.len();
        subjects_and_posts.dedup();
        assert_eq!(all, subjects_and_posts.len(), "no post mailed twice");
        assert!(mails.iter().all(|m| m.to == ["eva@bakkerij.example"]));
    }
    serve.kill();
    eprintln!(
        "crash test: {} targets, {unconfirmed} unconfirmed, {} calls, {:?}",
        targets.len(),
        calls.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_mid_publish_loses_nothing_and_doubles_nothing() {
    let db = dialoog_store::testing::TestDb::sqlite().await;
    let data = PathBuf::from(db.url.trim_start_matches("sqlite://"))
        .parent()
        .unwrap()
        .to_owned();
    killed_mid_publish_loses_nothing_and_doubles_nothing(db.store.clone(), None, data).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_publish_loses_nothing_and_doubles_nothing() {
    let Some(db) = dialoog_store::testing::TestDb::postgres().await else {
        return;
    };
    let data = std::env::temp_dir().join(format!("dialoog-crash-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    killed_mid_publish_loses_nothing_and_doubles_nothing(
        db.store.clone(),
        Some(db.url.clone()),
        data.clone(),
    )
    .await;
    std::fs::remove_dir_all(&data).ok();
}
