//! Syncing a channel: fetch through its connector from the last good cursor,
//! store each item once, and record the channel's health with a reason.

use dialoog_networks::feed::FeedConnector;
use dialoog_networks::{Connector, ConnectorError, InboundItem};
use dialoog_store::{Channel, NewItem, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::Cipher;

/// The credentials of a channel, by network (sealed at rest).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "network", rename_all = "lowercase")]
pub enum Credentials {
    /// An RSS, Atom or JSON feed.
    Rss {
        /// The feed's address.
        feed_url: String,
    },
}

impl Credentials {
    /// The network's stable name.
    pub fn network(&self) -> &'static str {
        match self {
            Credentials::Rss { .. } => "rss",
        }
    }

    fn connector(&self) -> Result<FeedConnector, ConnectorError> {
        match self {
            Credentials::Rss { feed_url } => FeedConnector::new(feed_url),
        }
    }
}

/// What a good sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Items the network returned.
    pub fetched: usize,
    /// Of those, items not stored before.
    pub new: u64,
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The network said no, or could not be reached (the channel records why).
    #[error(transparent)]
    Network(#[from] ConnectorError),
    /// The stored credentials cannot be read (another secret key?).
    #[error("the channel's credentials cannot be read: {0}")]
    Credentials(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks credentials before a channel is connected; returns its name.
pub async fn connector_check(credentials: &Credentials) -> Result<String, ConnectorError> {
    credentials.connector()?.check().await
}

fn to_new(it: InboundItem) -> NewItem {
    NewItem {
        external_id: it.external_id,
        kind: it.kind.as_str().to_owned(),
        author_id: it.author.id,
        author_name: it.author.name,
        author_handle: it.author.handle,
        thread_ref: it.thread_ref,
        in_reply_to: it.in_reply_to,
        text: it.text,
        url: it.url,
        published_at: it.published_at,
    }
}

/// Syncs one channel now. On failure the channel's status says why (and
/// since when); its cursor stays at the last good position, so the next
/// sync resumes there and nothing stored is lost or duplicated.
pub async fn sync_channel(
    store: &Store,
    cipher: &Cipher,
    channel: &Channel,
    now: i64,
) -> Result<SyncOutcome, SyncError> {
    let creds: Result<Credentials, SyncError> = cipher
        .open(&channel.credentials)
        .map_err(|e| SyncError::Credentials(e.to_string()))
        .and_then(|plain| {
            serde_json::from_slice(&plain).map_err(|e| SyncError::Credentials(e.to_string()))
        });
    let creds = match creds {
        Ok(c) => c,
        Err(e) => {
            store
                .record_sync(channel.id, "needs_reconnect", &e.to_string(), None, now)
                .await?;
            return Err(e);
        }
    };
    let fetched = match creds.connector() {
        Ok(c) => c.fetch(&channel.cursor).await,
        Err(e) => Err(e),
    };
    match fetched {
        Ok(f) => {
            let n = f.items.len();
            let items: Vec<NewItem> = f.items.into_iter().map(to_new).collect();
            let new = store.insert_items(channel.id, &items, now).await?;
            store
                .record_sync(channel.id, "ok", "", Some(&f.cursor), now)
                .await?;
            tracing::info!(channel = channel.id, fetched = n, new, "channel synced");
            Ok(SyncOutcome { fetched: n, new })
        }
        Err(e) => {
            tracing::warn!(channel = channel.id, error = %e, "channel sync failed");
            store
                .record_sync(channel.id, e.channel_status(), &e.to_string(), None, now)
                .await?;
            Err(e.into())
        }
    }
}
