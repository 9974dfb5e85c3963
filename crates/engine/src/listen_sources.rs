//! Listening sources: settling what the team typed into a source, fetching
//! each due source from its last good cursor, running what it heard through
//! the pipeline, and recording its health (with a back-off while it fails).

use dialoog_networks::feed::FeedConnector;
use dialoog_networks::{Connector, ConnectorError, InboundItem};
use dialoog_store::{Source, SourceFetch, Store, StoreError};
use std::time::Duration;
use tokio::sync::Mutex;

use crate::dispatcher::now_ms;
use crate::listening::{Heard, Origin, Pipeline};
use crate::sync::backoff;

/// The kinds of source a workspace can add.
pub const SOURCE_KINDS: [&str; 1] = ["rss"];

/// How often a feed is fetched when all is well.
pub const FEED_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Why a source cannot be added or fetched.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// This kind of source is not one Dialoog knows.
    #[error("unknown kind of source")]
    UnknownKind,
    /// The source's network said no or could not be reached.
    #[error(transparent)]
    Network(#[from] ConnectorError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A source as it will be stored: its kind, its settled target and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The kind.
    pub kind: String,
    /// The address, tag or wiki.
    pub target: String,
    /// A name to show.
    pub name: String,
}

/// Checks what the team typed for a source of `kind` and settles it.
pub fn settle_source(kind: &str, target: &str) -> Result<Settled, SourceError> {
    match kind.trim() {
        "rss" => {
            let url = target.trim();
            FeedConnector::new(url)?;
            let name = reqwest_host(url).unwrap_or_else(|| url.to_owned());
            Ok(Settled {
                kind: "rss".into(),
                target: url.to_owned(),
                name,
            })
        }
        _ => Err(SourceError::UnknownKind),
    }
}

fn reqwest_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

/// A feed item as a heard post: known by its link (the same article in
/// two feeds is one post), else by the feed and its id.
fn from_feed(feed: &str, it: InboundItem) -> Heard {
    let text = it.text;
    Heard {
        key: it
            .url
            .clone()
            .unwrap_or_else(|| format!("{feed}#{}", it.external_id)),
        url: it.url,
        author_id: it.author.id,
        author_name: it.author.name,
        author_handle: it.author.handle,
        reach: None,
        text,
        published_at: it.published_at.unwrap_or_else(now_ms),
    }
}

/// What a good fetch of a source did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceOutcome {
    /// Posts the source returned.
    pub fetched: usize,
    /// New mentions stored.
    pub stored: u64,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Fetches one source now, runs what it heard through the pipeline and
/// records how it went. On failure the cursor stays where it was, so the
/// next fetch hears the same posts again (and stores each once).
pub async fn sync_source(
    store: &Store,
    pipeline: &Mutex<Pipeline>,
    source: &Source,
    now: i64,
) -> Result<SourceOutcome, SourceError> {
    let fetched = match source.kind.as_str() {
        "rss" => match FeedConnector::new(&source.target) {
            Ok(c) => c.fetch(&source.cursor).await.map(|f| {
                let posts: Vec<Heard> = f
                    .items
                    .into_iter()
                    .map(|it| from_feed(&source.target, it))
                    .collect();
                (posts, f.cursor, f.more)
            }),
            Err(e) => Err(e),
        },
        _ => Err(ConnectorError::permanent("unknown kind of source")),
    };
    match fetched {
        Ok((posts, cursor, more)) => {
            let origin = Origin {
                source: "rss".into(),
                kind: source.kind.clone(),
                listeners: vec![(source.id, source.workspace_id)],
            };
            let outcome = pipeline.lock().await.process(&origin, &posts, now).await?;
            let next_at = if more {
                now + 1000
            } else {
                now + ms(FEED_INTERVAL)
            };
            let stored = i64::try_from(outcome.stored).unwrap_or(i64::MAX);
            let fetched = i64::try_from(posts.len()).unwrap_or(i64::MAX);
            store
                .record_source_fetch(
                    source.id,
                    &SourceFetch::Ok {
                        cursor,
                        fetched,
                        stored,
                        next_at,
                    },
                    now,
                )
                .await?;
            tracing::info!(source = source.id, fetched, stored, "source fetched");
            Ok(SourceOutcome {
                fetched: posts.len(),
                stored: outcome.stored,
            })
        }
        Err(e) => {
            tracing::warn!(source = source.id, error = %e, "source fetch failed");
            let failing_for = source.failing_since.map_or(Duration::ZERO, |t| {
                Duration::from_millis(u64::try_from(now - t).unwrap_or(0))
            });
            // Sources come back by themselves (a feed that is down today):
            // every failure is tried again, a permanent one after an hour.
            let (failing_for, retry) = match &e {
                ConnectorError::Permanent { .. } => (Duration::from_secs(3600), None),
                ConnectorError::Transient { retry_after, .. } => (failing_for, *retry_after),
                _ => (failing_for, None),
            };
            let next_at = Some(now + ms(backoff(failing_for, retry)));
            store
                .record_source_fetch(
                    source.id,
                    &SourceFetch::Failed {
                        reason: e.to_string(),
                        next_at,
                    },
                    now,
                )
                .await?;
            Err(e.into())
        }
    }
}

/// One round: claims the due sources and fetches them, a few at a time.
/// Returns how many it fetched.
pub async fn poll_sources_once(store: &Store, pipeline: &Mutex<Pipeline>, batch: i64) -> usize {
    let now = now_ms();
    let due = match store.claim_due_sources(now, now + 15 * 60_000, batch).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read which sources are due");
            return 0;
        }
    };
    let n = due.len();
    use futures_util::StreamExt;
    futures_util::stream::iter(due)
        .for_each_concurrent(4, |s| async move {
            if let Err(e) = sync_source(store, pipeline, &s, now_ms()).await {
                tracing::debug!(source = s.id, error = %e, "source fetch failed");
            }
        })
        .await;
    n
}

/// Fetches due sources until `stop` resolves.
pub async fn run(
    store: Store,
    pipeline: std::sync::Arc<Mutex<Pipeline>>,
    tick: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let n = poll_sources_once(&store, &pipeline, 16).await;
        let wait = if n >= 16 { Duration::ZERO } else { tick };
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
