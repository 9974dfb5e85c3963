//! The Bluesky firehose through a Jetstream server: JSON events over a
//! WebSocket (`/subscribe?wantedCollections=app.bsky.feed.post&cursor=…`).
//! Each new post (`kind: commit`, `operation: create`) is heard; identity
//! and account events, deletions and other collections are skipped.
//!
//! The cursor is the `time_us` of the last event read before a batch went
//! out. A reconnect resumes a little before it ([`StreamOptions::rewind`])
//! and drops what it already delivered; a message cut off by a dropped
//! connection is never seen (the WebSocket delivers only whole messages)
//! and comes again after the resume. After a restart from a stored cursor
//! the rewind window may bring posts stored already; the store keeps each
//! once.

use super::{
    Backoff, Batch, Batcher, HealthReporter, Heard, Running, SourceSettings, Status, StreamOptions,
    deliver,
};
use crate::contract::{Author, ConnectorError, InboundItem, ItemKind, Media};
use futures_util::StreamExt;
use reqwest::Url;
use serde::Deserialize;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A cursor is sent along when the last batch is at least this old.
const CURSOR_EVERY: Duration = Duration::from_secs(10);

/// A Jetstream server, as a stream.
#[derive(Debug, Clone)]
pub struct Jetstream {
    url: Url,
    collections: Vec<String>,
    opts: StreamOptions,
    roots: Vec<CertificateDer<'static>>,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    did: String,
    time_us: i64,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    commit: Option<Commit>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    #[serde(default)]
    operation: String,
    #[serde(default)]
    collection: String,
    #[serde(default)]
    rkey: String,
    #[serde(default)]
    record: Option<Post>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Post {
    text: String,
    #[serde(rename = "createdAt")]
    created_at: Option<String>,
    langs: Vec<String>,
    reply: Option<ReplyRef>,
    embed: Option<Embed>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReplyRef {
    root: Option<StrongRef>,
    parent: Option<StrongRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StrongRef {
    uri: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Embed {
    images: Vec<EmbedImage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmbedImage {
    alt: String,
    image: Option<Blob>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Blob {
    #[serde(rename = "ref")]
    reference: Option<Link>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Link {
    #[serde(rename = "$link")]
    link: String,
}

/// Something a reader and writer at once, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Socket = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;

/// Why a connection ended.
enum End {
    Lost(String),
    Failing(String),
    Stop,
}

impl Jetstream {
    /// The stream of a `jetstream` source.
    pub fn new(settings: &SourceSettings, opts: StreamOptions) -> Result<Self, ConnectorError> {
        let SourceSettings::Jetstream { url, collections } = settings else {
            return Err(ConnectorError::permanent(
                "this source is not a Jetstream server",
            ));
        };
        let url = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "ws" | "wss") && u.host_str().is_some())
            .ok_or_else(|| {
                ConnectorError::permanent("this is not the address of a Jetstream server")
            })?;
        Ok(Self {
            url,
            collections: collections.clone(),
            opts,
            roots: Vec::new(),
        })
    }

    /// The same source, also trusting the certificates in `pem` (a server
    /// of one's own with a self-signed certificate).
    pub fn with_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ConnectorError> {
        let before = self.roots.len();
        for cert in CertificateDer::pem_slice_iter(pem) {
            self.roots.push(cert.map_err(|e| {
                ConnectorError::permanent(format!("the certificate could not be read ({e})"))
            })?);
        }
        if self.roots.len() == before {
            return Err(ConnectorError::permanent(
                "there is no certificate in this text (expected -----BEGIN CERTIFICATE-----)",
            ));
        }
        Ok(self)
    }

    /// Runs as a task delivering into `out` from `cursor` (the cursor of the
    /// last stored batch; empty: from now on).
    pub fn spawn(self, cursor: String, out: mpsc::Sender<Batch>) -> Running {
        let (health, rx) = HealthReporter::new();
        let task = tokio::spawn(async move { self.run(cursor, out, health).await });
        Running::new(rx, task)
    }

    /// Runs until `out` is closed.
    pub async fn run(self, cursor: String, out: mpsc::Sender<Batch>, health: HealthReporter) {
        let mut run = Run {
            delivered_us: cursor.trim().parse::<i64>().ok().filter(|c| *c > 0),
            seen: VecDeque::new(),
            seen_set: HashSet::new(),
            out,
            health,
        };
        let mut backoff = Backoff::new(&self.opts);
        loop {
            let end = match self.connect(&run).await {
                Ok(socket) => {
                    run.health.set(Status::Connected, None);
                    backoff.reset();
                    self.read(socket, &mut run).await
                }
                Err(e) => e,
            };
            let (status, reason) = match end {
                End::Stop => return,
                End::Lost(r) => (Status::Reconnecting, r),
                End::Failing(r) => (Status::Failing, r),
            };
            run.health.set(status, Some(reason));
            tokio::time::sleep(backoff.wait(None)).await;
        }
    }

    fn subscribe_url(&self, run: &Run) -> Url {
        let mut url = self.url.clone();
        {
            let mut q = url.query_pairs_mut();
            for c in &self.collections {
                q.append_pair("wantedCollections", c);
            }
            // Jetstream leaves out larger messages itself, so one that is too
            // large cannot stop the stream at the same place again and again.
            q.append_pair(
                "maxMessageSizeBytes",
                &self.opts.max_message_bytes.to_string(),
            );
            if let Some(at) = run.delivered_us {
                let rewind = i64::try_from(self.opts.rewind.as_micros()).unwrap_or(i64::MAX);
                q.append_pair("cursor", &at.saturating_sub(rewind).max(1).to_string());
            }
        }
        url
    }

    async fn connect(&self, run: &Run) -> Result<Socket, End> {
        let url = self.subscribe_url(run);
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let deadline = Instant::now() + self.opts.idle_timeout.min(Duration::from_secs(30));
        let lost = |what: &str, e: &dyn std::fmt::Display| End::Lost(format!("{what} ({e})"));
        let tcp = timeout_at(
            deadline,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        .map_err(|_| End::Lost("the server did not answer in time".into()))?
        .map_err(|e| lost("the server could not be reached", &e))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if url.scheme() == "wss" {
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|_| End::Failing("the server's name is not valid for TLS".into()))?;
            let tls =
                tokio_rustls::TlsConnector::from(tls_config(&self.roots).map_err(End::Failing)?);
            let stream = timeout_at(deadline, tls.connect(name, tcp))
                .await
                .map_err(|_| End::Lost("the server did not answer in time".into()))?
                .map_err(|e| End::Failing(format!("a secure connection failed ({e})")))?;
            Box::new(stream)
        } else {
            Box::new(tcp)
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.opts.max_message_bytes))
            .max_frame_size(Some(self.opts.max_message_bytes));
        let (socket, _) = timeout_at(
            deadline,
            tokio_tungstenite::client_async_with_config(url.as_str(), io, Some(config)),
        )
        .await
        .map_err(|_| End::Lost("the server did not answer in time".into()))?
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(r) => End::Failing(format!(
                "the server refused the connection ({})",
                r.status()
            )),
            e => lost("the connection failed", &e),
        })?;
        Ok(socket)
    }

    async fn read(&self, mut socket: Socket, run: &mut Run) -> End {
        let mut batcher = Batcher::new(&self.opts);
        let mut read_us = run.delivered_us;
        let mut last_sent = Instant::now();
        let mut idle_at = Instant::now() + self.opts.idle_timeout;
        let end = loop {
            let until = batcher.deadline().map_or(idle_at, |d| d.min(idle_at));
            match timeout_at(until, socket.next()).await {
                Err(_) if Instant::now() >= idle_at => {
                    break End::Lost(format!(
                        "the stream was silent for {} s",
                        self.opts.idle_timeout.as_secs()
                    ));
                }
                Err(_) => {}
                Ok(None) => break End::Lost("the server closed the connection".into()),
                Ok(Some(Err(e))) => break End::Lost(format!("the connection broke ({e})")),
                Ok(Some(Ok(msg))) => {
                    idle_at = Instant::now() + self.opts.idle_timeout;
                    match msg {
                        Message::Text(text) => {
                            let Ok(event) = serde_json::from_str::<Event>(text.as_str()) else {
                                run.health.skipped();
                                continue;
                            };
                            let at_us = event.time_us;
                            read_us = Some(read_us.map_or(at_us, |r| r.max(at_us)));
                            if let Some(h) = heard(event)
                                && run.remember(&h, at_us)
                            {
                                batcher.push(h);
                            }
                        }
                        Message::Close(_) => {
                            break End::Lost("the server closed the connection".into());
                        }
                        // Pings are answered by the socket; nothing else is asked for.
                        _ => {}
                    }
                }
            }
            let cursor_due = batcher.is_empty()
                && read_us != run.delivered_us
                && last_sent.elapsed() >= CURSOR_EVERY;
            if batcher.due() || cursor_due {
                if !run.flush(&mut batcher, read_us, &self.opts).await {
                    break End::Stop;
                }
                last_sent = Instant::now();
                // Time spent waiting for the pipeline is not silence.
                idle_at = last_sent + self.opts.idle_timeout;
            }
        };
        // Whole messages read before the end still go out.
        if !batcher.is_empty() && !run.flush(&mut batcher, read_us, &self.opts).await {
            return End::Stop;
        }
        end
    }
}

/// The state of one run: what was delivered, and the ids delivered within
/// the rewind window (to drop them when they come again).
struct Run {
    delivered_us: Option<i64>,
    seen: VecDeque<(i64, String)>,
    seen_set: HashSet<String>,
    out: mpsc::Sender<Batch>,
    health: HealthReporter,
}

impl Run {
    /// Remembers a post read at `at_us`; `false` when it was delivered
    /// already.
    fn remember(&mut self, h: &Heard, at_us: i64) -> bool {
        if self.seen_set.contains(&h.item.external_id) {
            return false;
        }
        self.seen_set.insert(h.item.external_id.clone());
        self.seen.push_back((at_us, h.item.external_id.clone()));
        true
    }

    async fn flush(
        &mut self,
        batcher: &mut Batcher,
        read_us: Option<i64>,
        opts: &StreamOptions,
    ) -> bool {
        let batch = Batch {
            heard: batcher.take(),
            cursor: read_us.map(|r| r.to_string()).unwrap_or_default(),
        };
        if !deliver(&self.out, batch, &self.health, opts).await {
            return false;
        }
        self.delivered_us = read_us;
        self.forget_before(read_us, opts);
        true
    }

    /// Forgets ids older than the rewind window (with a margin).
    fn forget_before(&mut self, read_us: Option<i64>, opts: &StreamOptions) {
        let Some(now_us) = read_us else { return };
        let keep_us = i64::try_from(opts.rewind.as_micros() * 2).unwrap_or(i64::MAX);
        let floor = now_us.saturating_sub(keep_us);
        while self.seen.front().is_some_and(|(at, _)| *at < floor) {
            if let Some((_, id)) = self.seen.pop_front() {
                self.seen_set.remove(&id);
            }
        }
    }
}

/// A new post as heard; `None` for anything else.
fn heard(event: Event) -> Option<Heard> {
    if event.kind != "commit" {
        return None;
    }
    let commit = event.commit?;
    if commit.operation != "create" || commit.collection != super::settings::POSTS {
        return None;
    }
    let post = commit.record?;
    let did = event.did;
    if did.is_empty() || commit.rkey.is_empty() || did.len() > 2048 || commit.rkey.len() > 512 {
        return None;
    }
    let media = post
        .embed
        .map(|e| e.images)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| {
            let cid = i.image?.reference?.link;
            (!cid.is_empty()).then(|| Media {
                url: format!("https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg"),
                kind: "image".into(),
                alt: i.alt,
            })
        })
        .collect();
    let reply = post.reply.unwrap_or_default();
    let item = InboundItem {
        external_id: format!("at://{did}/{}/{}", super::settings::POSTS, commit.rkey),
        kind: ItemKind::Post,
        author: Author {
            id: did.clone(),
            name: did.clone(),
            handle: None,
        },
        thread_ref: reply.root.map(|r| r.uri).filter(|u| !u.is_empty()),
        in_reply_to: reply.parent.map(|r| r.uri).filter(|u| !u.is_empty()),
        text: post.text,
        url: Some(format!(
            "https://bsky.app/profile/{did}/post/{}",
            commit.rkey
        )),
        // The time the event passed the relay; the author's `createdAt`
        // can be anything they like, so it is kept only in the past.
        published_at: Some(event.time_us / 1000),
        media,
    };
    let created = post
        .created_at
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_millisecond())
        .filter(|t| *t > 0 && *t <= event.time_us / 1000);
    let mut item = item;
    if let Some(t) = created {
        item.published_at = Some(t);
    }
    let langs = post
        .langs
        .into_iter()
        .filter(|l| !l.is_empty() && l.len() <= 16)
        .take(3)
        .collect();
    Some(Heard {
        item,
        reach: None,
        langs,
    })
}

/// rustls with the platform's trusted certificates and `roots`.
fn tls_config(
    roots: &[CertificateDer<'static>],
) -> Result<Arc<tokio_rustls::rustls::ClientConfig>, String> {
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
        roots.iter().cloned(),
        provider.clone(),
    )
    .map_err(|e| format!("the trusted certificates could not be loaded ({e})"))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS could not be set up ({e})"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}
