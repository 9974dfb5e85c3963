//! Syncing a channel: fetch through its connector from the last good cursor,
//! store each item once, and record the channel's health with a reason.

use dialoog_networks::bluesky::BlueskyConnector;
use dialoog_networks::email::{EmailConfig, EmailConnector};
use dialoog_networks::feed::FeedConnector;
use dialoog_networks::mastodon::MastodonConnector;
use dialoog_networks::wordpress::WordPressConnector;
use dialoog_networks::{AnyConnector, Connector, ConnectorError, InboundItem};
use dialoog_store::{Channel, NewItem, Store, StoreError, SyncRecord};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::Cipher;
use crate::dispatcher::ms;

/// The credentials of a channel, by network (sealed at rest).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "network", rename_all = "lowercase")]
pub enum Credentials {
    /// An RSS, Atom or JSON feed.
    Rss {
        /// The feed's address.
        feed_url: String,
    },
    /// An account on a Mastodon instance.
    Mastodon {
        /// The instance's address.
        instance_url: String,
        /// The account's OAuth access token.
        access_token: String,
    },
    /// A Bluesky account.
    Bluesky {
        /// The service it signs in at (its PDS, or `https://bsky.social`).
        service_url: String,
        /// Its handle, DID or e-mail address.
        identifier: String,
        /// An app password made for Dialoog.
        app_password: String,
    },
    /// A WordPress site.
    #[serde(rename = "wordpress")]
    WordPress {
        /// The site's address.
        site_url: String,
        /// The WordPress user.
        username: String,
        /// An application password of that user.
        app_password: String,
    },
    /// A mailbox: IMAP in, SMTP out.
    Email {
        /// `imaps://host` or `imap://host` (STARTTLS).
        imap_url: String,
        /// `smtps://host` or `smtp://host` (STARTTLS).
        smtp_url: String,
        /// The user name for both servers.
        username: String,
        /// The password for both servers.
        password: String,
        /// The mailbox's address.
        address: String,
    },
}

impl Credentials {
    /// The network's stable name.
    pub fn network(&self) -> &'static str {
        match self {
            Credentials::Rss { .. } => "rss",
            Credentials::Mastodon { .. } => "mastodon",
            Credentials::Bluesky { .. } => "bluesky",
            Credentials::WordPress { .. } => "wordpress",
            Credentials::Email { .. } => "email",
        }
    }

    /// The connector these credentials open.
    pub fn connector(&self) -> Result<AnyConnector, ConnectorError> {
        Ok(match self {
            Credentials::Rss { feed_url } => AnyConnector::Feed(FeedConnector::new(feed_url)?),
            Credentials::Mastodon {
                instance_url,
                access_token,
            } => AnyConnector::Mastodon(MastodonConnector::new(instance_url, access_token)?),
            Credentials::Bluesky {
                service_url,
                identifier,
                app_password,
            } => AnyConnector::Bluesky(BlueskyConnector::new(
                service_url,
                identifier,
                app_password,
            )?),
            Credentials::WordPress {
                site_url,
                username,
                app_password,
            } => {
                AnyConnector::WordPress(WordPressConnector::new(site_url, username, app_password)?)
            }
            Credentials::Email {
                imap_url,
                smtp_url,
                username,
                password,
                address,
            } => AnyConnector::Email(EmailConnector::new(EmailConfig {
                imap_url: imap_url.clone(),
                smtp_url: smtp_url.clone(),
                username: username.clone(),
                password: password.clone(),
                address: address.clone(),
            })?),
        })
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

/// The longest stretch of an item read for its language and sentiment
/// (the start of a long e-mail says enough).
const ANALYSED_BYTES: usize = 8 * 1024;

/// An item's language and sentiment, from the text crate.
fn analyse(text: &str) -> (Option<String>, String, f64) {
    let mut end = text.len().min(ANALYSED_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let doc = dialoog_text::Doc::new(&text[..end]);
    let lang = dialoog_text::lang::detect(&doc);
    let s = dialoog_text::sentiment::score(&doc, lang);
    (
        lang.map(|l| l.code().to_owned()),
        s.label.as_str().to_owned(),
        f64::from(s.score),
    )
}

/// An item as stored: its names without characters that reorder or hide
/// text, its text without those that reorder it.
fn to_new(it: InboundItem) -> NewItem {
    use dialoog_domain::outside::{clean_name, clean_text};
    let text = clean_text(&it.text);
    let (lang, sentiment, score) = analyse(&text);
    let author_handle = it
        .author
        .handle
        .map(|h| clean_name(&h, ""))
        .filter(|h| !h.is_empty());
    let author_name = clean_name(&it.author.name, author_handle.as_deref().unwrap_or("?"));
    NewItem {
        lang,
        sentiment: Some(sentiment),
        score: Some(score),
        external_id: it.external_id,
        kind: it.kind.as_str().to_owned(),
        author_id: it.author.id,
        author_name,
        author_handle,
        thread_ref: it.thread_ref,
        in_reply_to: it.in_reply_to,
        text,
        url: it.url,
        published_at: it.published_at,
        media: serde_json::to_string(&it.media).unwrap_or_else(|_| "[]".to_owned()),
    }
}

/// The shortest wait after a failure.
const MIN_BACKOFF: Duration = Duration::from_secs(60);
/// The longest wait between attempts at a failing channel.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// When a failing channel is tried next: the longer it has been failing,
/// the longer the wait (about doubling, from one minute to an hour), and
/// never sooner than the network asked.
pub fn backoff(failing_for: Duration, retry_after: Option<Duration>) -> Duration {
    failing_for
        .clamp(MIN_BACKOFF, MAX_BACKOFF)
        .max(retry_after.unwrap_or_default())
}

/// Opens a channel's sealed credentials.
pub(crate) fn open_credentials(
    cipher: &Cipher,
    channel: &Channel,
) -> Result<Credentials, SyncError> {
    cipher
        .open(&channel.credentials)
        .map_err(|e| SyncError::Credentials(e.to_string()))
        .and_then(|plain| {
            serde_json::from_slice(&plain).map_err(|e| SyncError::Credentials(e.to_string()))
        })
}

/// A channel's network rules (`None` when its credentials cannot be
/// opened).
pub fn channel_rules(cipher: &Cipher, channel: &Channel) -> Option<dialoog_networks::Rules> {
    let connector = open_credentials(cipher, channel).ok()?.connector().ok()?;
    Some(connector.rules())
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
    let creds = match open_credentials(cipher, channel) {
        Ok(c) => c,
        Err(e) => {
            let reason = e.to_string();
            store
                .record_sync(
                    channel.id,
                    &record("needs_reconnect", &reason, None, now, None),
                )
                .await?;
            return Err(e);
        }
    };
    let connector = creds.connector();
    let fetched = match &connector {
        Ok(c) => c.fetch(&channel.cursor).await,
        Err(e) => Err(e.clone()),
    };
    match fetched {
        Ok(f) => {
            let n = f.items.len();
            let items: Vec<NewItem> = f.items.into_iter().map(to_new).collect();
            let new = store.insert_items(channel.id, &items, now).await?;
            // Stored items are safe; threading them into conversations may
            // fail and is then done by the next sync.
            if let Err(e) = store.thread_items(channel.id, now).await {
                tracing::warn!(channel = channel.id, error = %e, "threading items failed");
            }
            let every = connector
                .as_ref()
                .map_or(MAX_BACKOFF, |c| c.rules().poll_interval);
            // More waiting at the network: come back right away.
            let next = if f.more { now + 1000 } else { now + ms(every) };
            store
                .record_sync(
                    channel.id,
                    &record("ok", "", Some(&f.cursor), now, Some(next)),
                )
                .await?;
            tracing::info!(channel = channel.id, fetched = n, new, "channel synced");
            Ok(SyncOutcome { fetched: n, new })
        }
        Err(e) => {
            tracing::warn!(channel = channel.id, error = %e, "channel sync failed");
            let status = e.channel_status();
            let next = (status != "needs_reconnect").then(|| {
                let failing_for = if channel.status == status {
                    Duration::from_millis(u64::try_from(now - channel.status_since).unwrap_or(0))
                } else {
                    Duration::ZERO
                };
                let retry = match &e {
                    ConnectorError::Transient { retry_after, .. } => *retry_after,
                    _ => None,
                };
                now + ms(backoff(failing_for, retry))
            });
            let reason = e.to_string();
            store
                .record_sync(channel.id, &record(status, &reason, None, now, next))
                .await?;
            Err(e.into())
        }
    }
}

fn record<'a>(
    status: &'a str,
    reason: &'a str,
    cursor: Option<&'a str>,
    now: i64,
    next_sync_at: Option<i64>,
) -> SyncRecord<'a> {
    SyncRecord {
        status,
        reason,
        cursor,
        now,
        next_sync_at,
    }
}
