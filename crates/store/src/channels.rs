//! Channels and the inbound items fetched through them.

use crate::BeginWrite;
use crate::{Result, Store, on};

/// A connection to one account on one network.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Channel {
    /// Stable id.
    pub id: i64,
    /// The workspace it belongs to.
    pub workspace_id: i64,
    /// `rss`, `mastodon`, `bluesky`, `email`, `wordpress`.
    pub network: String,
    /// What people call it (the feed's title, the account's handle).
    pub name: String,
    /// Encrypted credentials (an AEAD box; never stored in the clear).
    pub credentials: Vec<u8>,
    /// Where the next fetch resumes (the connector's own format).
    pub cursor: String,
    /// `new`, `ok`, `needs_reconnect` or `failing`.
    pub status: String,
    /// Why, in words, when not ok.
    pub status_reason: String,
    /// Since when the status holds.
    pub status_since: i64,
    /// When the last sync finished, good or bad.
    pub last_sync_at: Option<i64>,
    /// When it was connected.
    pub created_at: i64,
    /// When it is next due to be polled (`None`: as soon as possible).
    pub next_sync_at: Option<i64>,
}

/// An inbound item to store.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NewItem {
    /// The network's id for it, stable across fetches.
    pub external_id: String,
    /// `comment`, `mention`, `direct_message`, `review`, `email`, `post`.
    pub kind: String,
    /// The author's id on the network.
    pub author_id: String,
    /// The author's display name.
    pub author_name: String,
    /// The author's handle, if the network has handles.
    pub author_handle: Option<String>,
    /// The conversation it belongs to.
    pub thread_ref: Option<String>,
    /// What it answers.
    pub in_reply_to: Option<String>,
    /// Its text (plain).
    pub text: String,
    /// A link to it.
    pub url: Option<String>,
    /// When it was written (UTC ms).
    pub published_at: Option<i64>,
    /// Attached media, as a JSON array.
    pub media: String,
    /// Its language (ISO 639-1), where it could be told.
    pub lang: Option<String>,
    /// `positive`, `negative` or `neutral`, where it was scored.
    pub sentiment: Option<String>,
    /// The sentiment score, -1.0 to 1.0.
    pub score: Option<f64>,
}

/// A stored inbound item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Item {
    /// Stable id.
    pub id: i64,
    /// The channel it came through.
    pub channel_id: i64,
    /// When it was stored.
    pub fetched_at: i64,
    /// The conversation it was threaded into (`None` until threaded, and
    /// for posts from feeds).
    pub conversation_id: Option<i64>,
    /// What the network said.
    #[sqlx(flatten)]
    pub item: NewItem,
}

/// What a sync did to a channel, for [`Store::record_sync`].
#[derive(Debug, Clone, Copy)]
pub struct SyncRecord<'a> {
    /// `ok`, `needs_reconnect` or `failing`.
    pub status: &'a str,
    /// Why, in words, when not ok.
    pub reason: &'a str,
    /// The new cursor after a good fetch (`None` keeps the old one).
    pub cursor: Option<&'a str>,
    /// When it happened.
    pub now: i64,
    /// When the channel is next due (`None`: never by itself).
    pub next_sync_at: Option<i64>,
}

const CHANNEL_COLS: &str = "id, workspace_id, network, name, credentials, cursor, status, status_reason, status_since, last_sync_at, created_at, next_sync_at";
pub(crate) const ITEM_COLS: &str = "id, channel_id, external_id, kind, author_id, author_name, author_handle, thread_ref, in_reply_to, text, url, published_at, media, lang, sentiment, score, fetched_at, conversation_id";

impl Store {
    /// Connects a channel.
    pub async fn create_channel(
        &self,
        workspace_id: i64,
        network: &str,
        name: &str,
        credentials: &[u8],
        now: i64,
    ) -> Result<Channel> {
        let sql = format!(
            "INSERT INTO channels (workspace_id, network, name, credentials, status_since, created_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {CHANNEL_COLS}"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(network).bind(name).bind(credentials).bind(now).fetch_one(p).await)?,
        )
    }

    /// A workspace's channels.
    pub async fn channels(&self, workspace_id: i64) -> Result<Vec<Channel>> {
        let sql = format!(
            "SELECT {CHANNEL_COLS} FROM channels WHERE workspace_id = $1 ORDER BY name, id"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).fetch_all(p).await)?)
    }

    /// One channel of a workspace ([`crate::StoreError::NotFound`] for another's).
    pub async fn channel(&self, workspace_id: i64, id: i64) -> Result<Channel> {
        let sql =
            format!("SELECT {CHANNEL_COLS} FROM channels WHERE workspace_id = $1 AND id = $2");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(id).fetch_one(p).await)?)
    }

    /// Disconnects a channel; its items go with it.
    pub async fn delete_channel(&self, workspace_id: i64, id: i64) -> Result<()> {
        let n = on!(self, p => sqlx::query("DELETE FROM channels WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            Err(crate::StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Records the outcome of a sync and when the channel is next due.
    /// `status_since` only moves when the status changes, so "failing since"
    /// stays true across retries.
    pub async fn record_sync(&self, id: i64, outcome: &SyncRecord<'_>) -> Result<()> {
        on!(self, p => sqlx::query(
            "UPDATE channels SET status_since = CASE WHEN status = $1 THEN status_since ELSE $3 END, \
             status = $1, status_reason = $2, last_sync_at = $3, cursor = COALESCE($4, cursor), \
             next_sync_at = $5 WHERE id = $6")
            .bind(outcome.status).bind(outcome.reason).bind(outcome.now).bind(outcome.cursor)
            .bind(outcome.next_sync_at).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks a channel as needing to be reconnected (the network refused
    /// its credentials outside a sync, when publishing).
    pub async fn mark_needs_reconnect(&self, id: i64, reason: &str, now: i64) -> Result<()> {
        on!(self, p => sqlx::query(
            "UPDATE channels SET status_since = CASE WHEN status = 'needs_reconnect' THEN status_since ELSE $2 END, \
             status = 'needs_reconnect', status_reason = $1 WHERE id = $3")
            .bind(reason).bind(now).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Claims up to `limit` channels that are due to be polled: each gets
    /// `next_sync_at = lease_until`, so another process (or the next round)
    /// does not take it meanwhile; a sync's [`Store::record_sync`] then sets
    /// the real next time. Channels that need to be reconnected are left
    /// alone until a person reconnects them.
    pub async fn claim_due_channels(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Channel>> {
        // The due condition is repeated outside the subquery: on PostgreSQL
        // a row another process claimed meanwhile is re-checked after its
        // lock is released, and then no longer matches.
        let sql = format!(
            "UPDATE channels SET next_sync_at = $2 \
             WHERE id IN (SELECT id FROM channels WHERE status <> 'needs_reconnect' \
                          AND (next_sync_at IS NULL OR next_sync_at <= $1) \
                          ORDER BY COALESCE(next_sync_at, 0), id LIMIT $3) \
             AND status <> 'needs_reconnect' AND (next_sync_at IS NULL OR next_sync_at <= $1) \
             RETURNING {CHANNEL_COLS}"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(now).bind(lease_until).bind(limit).fetch_all(p).await)?,
        )
    }

    /// Stores items once per (channel, external id): items seen before are
    /// left as they are. Returns how many were new.
    pub async fn insert_items(&self, channel_id: i64, items: &[NewItem], now: i64) -> Result<u64> {
        let mut new = 0;
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            for it in items {
                new += sqlx::query(
                    "INSERT INTO inbound_items (channel_id, external_id, kind, author_id, author_name, author_handle, \
                     thread_ref, in_reply_to, text, url, published_at, media, fetched_at, lang, sentiment, score) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     ON CONFLICT (channel_id, external_id) DO NOTHING")
                    .bind(channel_id).bind(&it.external_id).bind(&it.kind).bind(&it.author_id).bind(&it.author_name)
                    .bind(&it.author_handle).bind(&it.thread_ref).bind(&it.in_reply_to).bind(&it.text).bind(&it.url)
                    .bind(it.published_at).bind(&it.media).bind(now).bind(&it.lang).bind(&it.sentiment).bind(it.score)
                    .execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(new)
    }

    /// A channel's items, newest first.
    pub async fn items(&self, channel_id: i64, limit: i64) -> Result<Vec<Item>> {
        let sql = format!(
            "SELECT {ITEM_COLS} FROM inbound_items WHERE channel_id = $1 ORDER BY id DESC LIMIT $2"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(channel_id).bind(limit).fetch_all(p).await)?)
    }
}

impl Store {
    /// Every channel's id and sealed credentials (for key rotation).
    pub async fn all_channel_credentials(&self) -> Result<Vec<(i64, Vec<u8>)>> {
        Ok(
            on!(self, p => sqlx::query_as("SELECT id, credentials FROM channels ORDER BY id").fetch_all(p).await)?,
        )
    }

    /// Replaces sealed credentials, all in one transaction.
    pub async fn reseal_channels(&self, sealed: &[(i64, Vec<u8>)]) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            for (id, bytes) in sealed {
                sqlx::query("UPDATE channels SET credentials = $1 WHERE id = $2").bind(bytes).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
