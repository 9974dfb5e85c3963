//! Listening sources: settling what the team typed into a source, fetching
//! each due source from its last good cursor, running what it heard through
//! the pipeline, and recording its health (with a back-off while it fails).

use dialoog_networks::ConnectorError;
use dialoog_networks::listen::{
    Heard, Poller, SettingsError, SourceInput, SourceKind, SourceSettings,
};
use dialoog_store::{Channel, Source, SourceFetch, Store, StoreError};
use std::time::Duration;
use tokio::sync::Mutex;

use crate::dispatcher::{ms, now_ms};
use crate::listening::{Incoming, Origin, Pipeline};
use crate::sync::backoff;

/// The kinds of source a workspace can add. The Bluesky firehose is
/// always streamed (by [`crate::listen_streams`]); a Mastodon timeline is
/// polled unless the team chooses streaming.
pub const SOURCE_KINDS: [SourceKind; 5] = [
    SourceKind::Rss,
    SourceKind::MastodonTag,
    SourceKind::MastodonPublic,
    SourceKind::Jetstream,
    SourceKind::MediaWiki,
];

/// Why a source cannot be added or fetched.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// This kind of source is not one Dialoog can add.
    #[error("unknown kind of source")]
    UnknownKind,
    /// The settings are not usable.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The source said no or could not be reached.
    #[error(transparent)]
    Network(#[from] ConnectorError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A source as it will be stored: its kind, its settings (as JSON, the
/// stored target) and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The kind's stable name.
    pub kind: String,
    /// The settings as JSON.
    pub target: String,
    /// A name to show.
    pub name: String,
    /// Run as a live stream rather than polled.
    pub streamed: bool,
}

fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_owned()
}

/// A short name for a source's settings.
pub fn source_name(settings: &SourceSettings) -> String {
    match settings {
        SourceSettings::Rss { url } => host(url),
        SourceSettings::MastodonTag { instance, tag } => format!("#{tag} · {}", host(instance)),
        SourceSettings::MastodonPublic { instance, .. } => host(instance),
        SourceSettings::Jetstream { url, .. } => host(url),
        SourceSettings::MediaWiki { api } => host(api),
    }
}

/// Checks what the team typed for a source of `kind` and settles it,
/// polled (the Bluesky firehose is always streamed).
pub fn settle_source(kind: &str, input: &SourceInput) -> Result<Settled, SourceError> {
    settle_source_with(kind, input, false)
}

/// [`settle_source`], streamed when `stream` is asked and the kind can
/// stream (a Mastodon timeline; the firehose streams anyway; feeds and
/// wikis are polled whatever is asked).
pub fn settle_source_with(
    kind: &str,
    input: &SourceInput,
    stream: bool,
) -> Result<Settled, SourceError> {
    let kind = SourceKind::parse(kind.trim())
        .filter(|k| SOURCE_KINDS.contains(k))
        .ok_or(SourceError::UnknownKind)?;
    let settings = SourceSettings::parse(kind, input)?;
    let target =
        serde_json::to_string(&settings).map_err(|e| ConnectorError::permanent(e.to_string()))?;
    Ok(Settled {
        kind: kind.as_str().to_owned(),
        name: source_name(&settings),
        target,
        streamed: kind == SourceKind::Jetstream || (stream && kind.streams()),
    })
}

/// The kind of a source that hears a connected channel's own mentions and
/// comments (those its inbox sync stored) through the listening pipeline.
/// It is a source row like any other, so the team switches it on per
/// channel, pauses it and sees its health; it is polled from the inbox's
/// items, not from the network, and `source:` in a query names the
/// channel's network.
pub const CHANNEL: &str = "channel";

/// The reason a channel source records when its channel was removed.
pub const CHANNEL_GONE: &str = "the channel is no longer connected";

/// How many of a channel's items one fetch of its source takes.
const CHANNEL_PAGE: i64 = 500;

/// How often a channel source looks for what the inbox stored.
const CHANNEL_EVERY: Duration = Duration::from_secs(60);

/// Which channel a `channel` source hears (its stored target).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ChannelTarget {
    kind: String,
    channel: i64,
}

/// A `channel` source for a connected channel.
pub fn settle_channel_source(channel: &Channel) -> Settled {
    let target = ChannelTarget {
        kind: CHANNEL.to_owned(),
        channel: channel.id,
    };
    Settled {
        kind: CHANNEL.to_owned(),
        target: serde_json::to_string(&target).unwrap_or_default(),
        name: format!("{} · {}", channel.name, channel.network),
        streamed: false,
    }
}

/// What `source:` in a query calls a kind of source.
pub fn source_word(kind: &str) -> &'static str {
    match kind {
        "mastodon_tag" | "mastodon_public" => "mastodon",
        "jetstream" => "bluesky",
        "mediawiki" => "wiki",
        _ => "rss",
    }
}

/// A heard post as the pipeline takes it: a feed's article is known by
/// its link (the same article in two feeds is one post), else by the feed
/// and its id; other sources' ids are their network's own URIs.
fn incoming(source: &Source, h: Heard) -> Incoming {
    incoming_from(&source.kind, &source.target, h)
}

/// [`incoming`] for a source known by its kind and settings (a stream
/// that several sources share).
pub(crate) fn incoming_from(kind: &str, target: &str, h: Heard) -> Incoming {
    let it = h.item;
    let key = match (kind, &it.url) {
        ("rss", Some(url)) => url.clone(),
        ("rss", None) => format!("{target}#{}", it.external_id),
        _ => it.external_id,
    };
    Incoming {
        key,
        url: it.url,
        author_id: it.author.id,
        author_name: it.author.name,
        author_handle: it.author.handle,
        reach: h.reach.and_then(|r| i64::try_from(r).ok()),
        text: it.text,
        lang_hint: h.langs.into_iter().next(),
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

/// Fetches one source now, runs what it heard through the pipeline and
/// records how it went. On failure the cursor stays where it was, so the
/// next fetch hears the same posts again (and stores each once).
pub async fn sync_source(
    store: &Store,
    pipeline: &Mutex<Pipeline>,
    source: &Source,
    now: i64,
) -> Result<SourceOutcome, SourceError> {
    if source.kind == CHANNEL {
        return sync_channel_source(store, pipeline, source, now).await;
    }
    let poller = serde_json::from_str::<SourceSettings>(&source.target)
        .map_err(|_| ConnectorError::permanent("the source's settings cannot be read"))
        .and_then(|settings| {
            Poller::new(&settings, None)?
                .ok_or_else(|| ConnectorError::permanent("this source is streamed, not fetched"))
        });
    let fetched = match &poller {
        Ok(p) => p.poll(&source.cursor).await.map(|f| {
            let posts: Vec<Incoming> = f.heard.into_iter().map(|h| incoming(source, h)).collect();
            (posts, f.cursor, f.more)
        }),
        Err(e) => Err(e.clone()),
    };
    match fetched {
        Ok((posts, cursor, more)) => {
            let origin = Origin {
                source: source_word(&source.kind).into(),
                kind: source.kind.clone(),
                listeners: vec![(source.id, source.workspace_id)],
            };
            let outcome = pipeline.lock().await.process(&origin, &posts, now).await?;
            let every = poller
                .as_ref()
                .map_or(Duration::from_secs(900), Poller::interval);
            let next_at = if more { now + 1000 } else { now + ms(every) };
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

/// A channel's own mentions and comments, stored by its inbox sync since
/// the source's cursor (an inbound item id), through the pipeline.
async fn sync_channel_source(
    store: &Store,
    pipeline: &Mutex<Pipeline>,
    source: &Source,
    now: i64,
) -> Result<SourceOutcome, SourceError> {
    let channel = match serde_json::from_str::<ChannelTarget>(&source.target) {
        Ok(t) => match store.channel(source.workspace_id, t.channel).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let Some(channel) = channel else {
        let e = ConnectorError::permanent(CHANNEL_GONE);
        store
            .record_source_fetch(
                source.id,
                &SourceFetch::Failed {
                    reason: e.to_string(),
                    next_at: None,
                },
                now,
            )
            .await?;
        return Err(e.into());
    };
    let after = source.cursor.trim().parse::<i64>().unwrap_or(0);
    let items = store
        .channel_mentions_after(channel.id, after, CHANNEL_PAGE)
        .await?;
    let more = i64::try_from(items.len()).unwrap_or(i64::MAX) >= CHANNEL_PAGE;
    let cursor = items
        .last()
        .map_or_else(|| source.cursor.clone(), |i| i.id.to_string());
    let posts: Vec<Incoming> = items
        .into_iter()
        .map(|i| {
            let it = i.item;
            // A network's own URI is the post's identity across sources
            // (the firehose hears the same `at://`); another id is the
            // channel's own.
            let key = if it.external_id.starts_with("at://") || it.external_id.starts_with("http") {
                it.external_id
            } else {
                format!("channel{}#{}", channel.id, it.external_id)
            };
            Incoming {
                key,
                url: it.url,
                author_id: it.author_id,
                author_name: it.author_name,
                author_handle: it.author_handle,
                reach: None,
                text: it.text,
                lang_hint: it.lang,
                published_at: it.published_at.unwrap_or(i.fetched_at),
            }
        })
        .collect();
    let origin = Origin {
        source: channel.network.clone(),
        kind: CHANNEL.to_owned(),
        listeners: vec![(source.id, source.workspace_id)],
    };
    let outcome = pipeline.lock().await.process(&origin, &posts, now).await?;
    let fetched = i64::try_from(posts.len()).unwrap_or(i64::MAX);
    store
        .record_source_fetch(
            source.id,
            &SourceFetch::Ok {
                cursor,
                fetched,
                stored: i64::try_from(outcome.stored).unwrap_or(i64::MAX),
                next_at: if more {
                    now + 1000
                } else {
                    now + ms(CHANNEL_EVERY)
                },
            },
            now,
        )
        .await?;
    Ok(SourceOutcome {
        fetched: posts.len(),
        stored: outcome.stored,
    })
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
