//! The Jetstream client against a loopback Jetstream replay server that
//! speaks its wire format: JSON events over a WebSocket, replayed from the
//! `cursor` a client asks for, and dropping connections where told.

use dialoog_networks::listen::jetstream::Jetstream;
use dialoog_networks::listen::{
    Batch, SourceInput, SourceKind, SourceSettings, Status, StreamOptions,
};
use futures_util::SinkExt;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

const T0: i64 = 1_795_000_000_000_000;

/// One event on the wire: its `time_us` and its JSON.
#[derive(Clone)]
struct Wire {
    time_us: i64,
    json: String,
}

fn post(i: usize, time_us: i64) -> Wire {
    let ev = json!({
        "did": format!("did:plc:user{}", i % 97),
        "time_us": time_us,
        "kind": "commit",
        "commit": {"rev": "3l", "operation": "create", "collection": "app.bsky.feed.post",
            "rkey": format!("r{i}"), "cid": "bafy",
            "record": {"$type": "app.bsky.feed.post", "text": format!("bericht {i}"),
                "createdAt": "2026-11-20T10:00:00Z", "langs": ["nl"]}}
    });
    Wire {
        time_us,
        json: ev.to_string(),
    }
}

fn other(i: usize, time_us: i64) -> Wire {
    let ev = match i % 3 {
        0 => {
            json!({"did": "did:plc:x", "time_us": time_us, "kind": "identity", "identity": {"did": "did:plc:x", "handle": "x.test", "seq": 1, "time": "2026-11-20T10:00:00Z"}})
        }
        1 => {
            json!({"did": "did:plc:x", "time_us": time_us, "kind": "account", "account": {"active": true, "did": "did:plc:x", "seq": 2, "time": "2026-11-20T10:00:00Z"}})
        }
        _ => {
            json!({"did": "did:plc:x", "time_us": time_us, "kind": "commit", "commit": {"rev": "3l", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "gone"}})
        }
    };
    Wire {
        time_us,
        json: ev.to_string(),
    }
}

/// What the server does on one connection after replaying from the cursor.
#[derive(Clone, Copy)]
enum Plan {
    /// Sends this many events, then half of the next one, then drops.
    DropMidMessage(usize),
    /// Sends everything, then stays open.
    All,
}

struct Server {
    url: String,
    /// The query of every connection made.
    queries: Arc<Mutex<Vec<String>>>,
}

async fn serve(events: Arc<Vec<Wire>>, plans: Vec<Plan>) -> Server {
    serve_on(events, plans, None).await
}

/// Something a WebSocket can run over, plain or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

async fn serve_on(
    events: Arc<Vec<Wire>>,
    plans: Vec<Plan>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let url = format!("{scheme}://{}/subscribe", listener.local_addr().unwrap());
    let queries = Arc::new(Mutex::new(Vec::new()));
    let q2 = queries.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let plan = plans.get(n).copied().unwrap_or(Plan::All);
            n += 1;
            let events = events.clone();
            let queries = q2.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let tcp: Box<dyn Io> = match tls {
                    Some(t) => match t.accept(tcp).await {
                        Ok(s) => Box::new(s),
                        Err(_) => return,
                    },
                    None => Box::new(tcp),
                };
                let mut query = String::new();
                // The handshake callback's signature is tungstenite's own.
                #[allow(clippy::result_large_err)]
                let cb = |req: &Request, resp: Response| {
                    query = req.uri().query().unwrap_or_default().to_owned();
                    Ok(resp)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await else {
                    return;
                };
                queries.lock().unwrap().push(query.clone());
                let cursor = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("cursor="))
                    .and_then(|c| c.parse::<i64>().ok())
                    .unwrap_or(0);
                let from = events.partition_point(|e| e.time_us < cursor);
                let todo = &events[from..];
                let (send, half) = match plan {
                    Plan::DropMidMessage(k) => (k.min(todo.len()), todo.get(k)),
                    Plan::All => (todo.len(), None),
                };
                for (i, e) in todo[..send].iter().enumerate() {
                    if ws.feed(Message::text(e.json.clone())).await.is_err() {
                        return;
                    }
                    if i % 500 == 0 && ws.flush().await.is_err() {
                        return;
                    }
                }
                if ws.flush().await.is_err() {
                    return;
                }
                if let Some(e) = half {
                    // A text frame's header promising the whole event, then
                    // half of it, then the connection is gone.
                    let bytes = e.json.as_bytes();
                    let mut frame = vec![0x81u8, 126];
                    frame.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
                    frame.extend_from_slice(&bytes[..bytes.len() / 2]);
                    let tcp = ws.get_mut();
                    let _ = tcp.write_all(&frame).await;
                    let _ = tcp.flush().await;
                    return;
                }
                // Stay open until the client goes.
                use futures_util::StreamExt;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    Server { url, queries }
}

fn source(url: &str) -> SourceSettings {
    SourceSettings::parse(
        SourceKind::Jetstream,
        &SourceInput {
            url: url.into(),
            ..SourceInput::default()
        },
    )
    .unwrap()
}

fn fast() -> StreamOptions {
    StreamOptions {
        batch_max: 256,
        batch_wait: Duration::from_millis(20),
        idle_timeout: Duration::from_secs(20),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        slow_after: Duration::from_millis(20),
        ..StreamOptions::default()
    }
}

#[tokio::test]
async fn a_burst_of_100000_through_a_small_channel_with_a_drop_mid_message() {
    const N: usize = 100_000;
    // Every tenth event is no post (identity, account, a deletion).
    let mut events = Vec::with_capacity(N + N / 9);
    let mut posts = Vec::with_capacity(N);
    let mut t = T0;
    let mut i = 0;
    while posts.len() < N {
        t += 100;
        if i % 10 == 9 {
            events.push(other(i, t));
        } else {
            posts.push(format!(
                "at://did:plc:user{}/app.bsky.feed.post/r{i}",
                i % 97
            ));
            events.push(post(i, t));
        }
        i += 1;
    }
    let last_us = t;
    let server = serve(
        Arc::new(events),
        vec![Plan::DropMidMessage(40_000), Plan::All],
    )
    .await;
    let (tx, mut rx) = mpsc::channel::<Batch>(2);
    let running = Jetstream::new(&source(&server.url), fast())
        .unwrap()
        .spawn(String::new(), tx);

    // Watch the health for what the UI would see.
    let mut health = running.health.clone();
    let seen_states = Arc::new(Mutex::new(HashSet::new()));
    let states = seen_states.clone();
    tokio::spawn(async move {
        while health.changed().await.is_ok() {
            let h = health.borrow().clone();
            states.lock().unwrap().insert(h.status);
        }
    });

    let mut got: Vec<String> = Vec::with_capacity(N);
    let mut cursor = String::new();
    let mut batches = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    while got.len() < N {
        let batch = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("all posts in time")
            .expect("the source keeps running");
        batches += 1;
        if batches < 5 {
            // A slow pipeline at first: the reader must wait.
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        assert!(
            batch.heard.len() <= 256,
            "batches are bounded: {}",
            batch.heard.len()
        );
        if !batch.cursor.is_empty() && !cursor.is_empty() {
            assert!(
                batch.cursor.parse::<i64>().unwrap() >= cursor.parse::<i64>().unwrap(),
                "the cursor never goes back"
            );
        }
        cursor = batch.cursor.clone();
        got.extend(batch.heard.into_iter().map(|h| h.item.external_id));
    }
    assert_eq!(got.len(), N);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), N, "no post twice");
    assert_eq!(got, posts, "every post, in order");
    assert_eq!(
        cursor,
        last_us.to_string(),
        "the cursor ends at the last event"
    );

    let queries = server.queries.lock().unwrap().clone();
    assert!(queries.len() >= 2, "it reconnected: {queries:?}");
    assert!(queries[0].contains("wantedCollections=app.bsky.feed.post"));
    assert!(queries[0].contains("maxMessageSizeBytes="));
    assert!(!queries[0].contains("cursor="), "from now on at first");
    let resumed: i64 = queries[1]
        .split('&')
        .find_map(|kv| kv.strip_prefix("cursor="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        resumed < T0 + 40_000 * 100 && resumed > T0 + 40_000 * 100 - 3_000_000,
        "resumed a little before the dropped message: {resumed}"
    );
    let states = seen_states.lock().unwrap().clone();
    for s in [Status::Connected, Status::Slowed, Status::Reconnecting] {
        assert!(states.contains(&s), "{s:?} shown: {states:?}");
    }
    let h = running.health.borrow().clone();
    assert_eq!(h.delivered, N as u64);
    assert!(h.connects >= 2);
    drop(rx);
}

#[tokio::test]
async fn posts_are_read_for_what_listening_needs_and_the_rest_is_skipped() {
    let t = T0;
    let ev = |v: serde_json::Value| Wire {
        time_us: v["time_us"].as_i64().unwrap(),
        json: v.to_string(),
    };
    let events = vec![
        ev(
            json!({"did": "did:plc:anna", "time_us": t + 1, "kind": "commit", "commit": {
            "rev": "1", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3kabc", "cid": "bafyx",
            "record": {"$type": "app.bsky.feed.post", "text": "Slechte service bij @bakker 😡", "createdAt": "2026-11-18T10:00:00.000Z",
                "langs": ["nl", "en"],
                "reply": {"root": {"uri": "at://did:plc:b/app.bsky.feed.post/root", "cid": "c"}, "parent": {"uri": "at://did:plc:b/app.bsky.feed.post/parent", "cid": "c"}},
                "embed": {"$type": "app.bsky.embed.images", "images": [{"alt": "een taart", "image": {"$type": "blob", "ref": {"$link": "bafkimg"}, "mimeType": "image/jpeg", "size": 10}}]}}}}),
        ),
        Wire {
            time_us: t + 2,
            json: "{not json".into(),
        },
        ev(
            json!({"did": "did:plc:anna", "time_us": t + 3, "kind": "commit", "commit": {
            "rev": "2", "operation": "create", "collection": "app.bsky.feed.like", "rkey": "l1", "record": {"subject": {}}}}),
        ),
        ev(
            json!({"did": "did:plc:anna", "time_us": t + 4, "kind": "commit", "commit": {
            "rev": "3", "operation": "update", "collection": "app.bsky.feed.post", "rkey": "3kabc", "record": {"text": "edited"}}}),
        ),
        ev(
            json!({"did": "did:plc:z", "time_us": t + 5, "kind": "commit", "commit": {
            "rev": "4", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3kdef",
            "record": {"text": "from the future", "createdAt": "2099-01-01T00:00:00Z"}}}),
        ),
    ];
    let server = serve(Arc::new(events), vec![Plan::All]).await;
    let (tx, mut rx) = mpsc::channel::<Batch>(4);
    let running = Jetstream::new(&source(&server.url), fast())
        .unwrap()
        .spawn((T0 - 10).to_string(), tx);
    let mut heard = vec![];
    while heard.len() < 2 {
        let b = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        heard.extend(b.heard);
    }
    let a = &heard[0];
    assert_eq!(
        a.item.external_id,
        "at://did:plc:anna/app.bsky.feed.post/3kabc"
    );
    assert_eq!(
        a.item.url.as_deref(),
        Some("https://bsky.app/profile/did:plc:anna/post/3kabc")
    );
    assert_eq!(a.item.text, "Slechte service bij @bakker 😡");
    assert_eq!(a.item.author.id, "did:plc:anna");
    assert_eq!(a.langs, ["nl", "en"]);
    assert_eq!(a.reach, None);
    assert_eq!(a.item.published_at, Some(1_794_996_000_000));
    assert_eq!(
        a.item.thread_ref.as_deref(),
        Some("at://did:plc:b/app.bsky.feed.post/root")
    );
    assert_eq!(
        a.item.in_reply_to.as_deref(),
        Some("at://did:plc:b/app.bsky.feed.post/parent")
    );
    assert_eq!(a.item.media.len(), 1);
    assert_eq!(a.item.media[0].alt, "een taart");
    assert!(a.item.media[0].url.contains("did:plc:anna/bafkimg"));
    let z = &heard[1];
    assert_eq!(z.item.text, "from the future");
    assert_eq!(
        z.item.published_at,
        Some((T0 + 5) / 1000),
        "a creation time in the future is not believed"
    );
    let queries = server.queries.lock().unwrap().clone();
    assert!(
        queries[0].contains(&format!("cursor={}", T0 - 10 - 2_000_000)),
        "a stored cursor resumes with the rewind: {queries:?}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(running.health.borrow().skipped, 1, "the broken message");
}

#[tokio::test]
async fn a_server_that_is_not_there_shows_as_reconnecting_and_the_source_stops_with_its_receiver() {
    let port = dialoog_networks::testing::free_port();
    let (tx, rx) = mpsc::channel::<Batch>(1);
    let running = Jetstream::new(&source(&format!("ws://127.0.0.1:{port}")), fast())
        .unwrap()
        .spawn(String::new(), tx);
    let mut health = running.health.clone();
    tokio::time::timeout(
        Duration::from_secs(10),
        health.wait_for(|h| h.status == Status::Reconnecting),
    )
    .await
    .unwrap()
    .unwrap();
    let reason = health.borrow().reason.clone().unwrap();
    assert!(reason.contains("could not be reached"), "{reason}");
    drop(rx);
    running.stop();
}

#[tokio::test]
async fn a_pipeline_that_pauses_longer_than_the_idle_time_is_not_taken_for_silence() {
    let events: Vec<Wire> = (0..3000).map(|i| post(i, T0 + 1 + i as i64)).collect();
    let server = serve(Arc::new(events), vec![Plan::All]).await;
    let (tx, mut rx) = mpsc::channel::<Batch>(1);
    let opts = StreamOptions {
        batch_max: 100,
        idle_timeout: Duration::from_millis(300),
        ..fast()
    };
    let running = Jetstream::new(&source(&server.url), opts)
        .unwrap()
        .spawn(T0.to_string(), tx);
    let mut n = 0;
    let mut paused = false;
    while n < 3000 {
        let b = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap();
        n += b.heard.len();
        if !paused {
            paused = true;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    assert_eq!(n, 3000);
    assert_eq!(
        server.queries.lock().unwrap().len(),
        1,
        "one connection throughout"
    );
    assert_eq!(running.health.borrow().status, Status::Connected);
}

#[tokio::test]
async fn over_tls_with_a_certificate_of_our_own() {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = std::env::temp_dir().join(format!("dialoog-jetstream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .args(["-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("a test certificate needs the openssl command")
        .success();
    assert!(ok);
    let cert_pem = std::fs::read(dir.join("cert.pem")).unwrap();
    let key_pem = std::fs::read(dir.join("key.pem")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(&key_pem).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let events: Vec<Wire> = (0..10).map(|i| post(i, T0 + 1 + i as i64)).collect();
    let server = serve_on(Arc::new(events), vec![Plan::All], Some(acceptor)).await;

    // Without trusting the certificate: refused, and said so.
    let (tx, _rx) = mpsc::channel::<Batch>(1);
    let untrusted = Jetstream::new(&source(&server.url), fast())
        .unwrap()
        .spawn(T0.to_string(), tx);
    let mut h = untrusted.health.clone();
    tokio::time::timeout(
        Duration::from_secs(10),
        h.wait_for(|h| h.status == Status::Failing),
    )
    .await
    .unwrap()
    .unwrap();
    let reason = h.borrow().reason.clone().unwrap();
    assert!(reason.contains("secure connection"), "{reason}");
    drop(untrusted);

    let (tx, mut rx) = mpsc::channel::<Batch>(1);
    let _trusted = Jetstream::new(&source(&server.url), fast())
        .unwrap()
        .with_root_certificate_pem(&cert_pem)
        .unwrap()
        .spawn(T0.to_string(), tx);
    let b = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.heard.len(), 10);
}
