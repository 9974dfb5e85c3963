//! Listening set-up: a workspace's queries (in the query language) and its
//! sources (feeds, timelines, streams), with each source's health and where
//! its next fetch resumes.

use crate::BeginWrite;
use crate::{Result, Store, StoreError, on};

/// A listening query of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ListeningQuery {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// What the team calls it.
    pub name: String,
    /// The query, as written.
    pub query: String,
    /// `brand`, `competitor` or `topic`.
    pub role: String,
    /// When it was made.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// A source a workspace listens to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Source {
    /// Stable id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// `rss`, `mastodon_tag`, `mastodon_public`, `jetstream`, `mediawiki`.
    pub kind: String,
    /// The address, tag or wiki it listens to.
    pub target: String,
    /// The name shown.
    pub name: String,
    /// Where the next fetch resumes.
    pub cursor: String,
    /// `new`, `ok`, `failing` or `paused`.
    pub status: String,
    /// Why it is failing or paused.
    pub reason: String,
    /// Since when it has been failing.
    pub failing_since: Option<i64>,
    /// The last good fetch.
    pub last_ok_at: Option<i64>,
    /// When it is fetched next.
    pub next_at: i64,
    /// Posts fetched, all time.
    pub fetched_total: i64,
    /// Mentions stored from it, all time.
    pub stored_total: i64,
    /// When it was added.
    pub created_at: i64,
    /// Run as a live stream rather than polled (the Bluesky firehose
    /// always; a Mastodon timeline when the team chose it).
    pub streamed: bool,
    /// Posts heard in the last minute, as its running stream last said.
    pub per_minute: i64,
    /// When its running stream last reported (`None`: polled, or not
    /// running).
    pub live_at: Option<i64>,
    /// What its running stream was doing then (`starting`, `connected`,
    /// `polling`, `slowed`, `reconnecting`, `failing`; empty when polled).
    pub live_status: String,
}

/// What a running stream says about its sources' health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHealth {
    /// `ok` or `failing`; `None` while it is still starting (the status
    /// stays as it was).
    pub status: Option<&'static str>,
    /// What the stream is doing (`connected`, `polling`, …).
    pub live_status: &'static str,
    /// Why (polling instead of streaming, slowed, reconnecting, failing).
    pub reason: String,
    /// Posts heard in the last minute.
    pub per_minute: i64,
}

/// How a fetch of a source went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceFetch {
    /// Good: resume at `cursor` next time.
    Ok {
        /// The source's new cursor.
        cursor: String,
        /// Posts the source returned.
        fetched: i64,
        /// Of those, mentions stored.
        stored: i64,
        /// When to fetch next.
        next_at: i64,
    },
    /// Failed: the cursor stays where it was.
    Failed {
        /// Why, for the team.
        reason: String,
        /// When to try again (`None`: only when someone asks).
        next_at: Option<i64>,
    },
}

const QUERY_COLS: &str = "id, workspace_id, name, query, role, created_at, updated_at";
const SOURCE_COLS: &str = "id, workspace_id, kind, target, name, cursor, status, reason, \
    failing_since, last_ok_at, next_at, fetched_total, stored_total, created_at, streamed, \
    per_minute, live_at, live_status";

/// A far-off time for a source that waits until someone asks.
const NEVER: i64 = i64::MAX / 2;

impl Store {
    /// Adds a query; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_listening_query(
        &self,
        workspace_id: i64,
        name: &str,
        query: &str,
        role: &str,
        now: i64,
    ) -> Result<ListeningQuery> {
        let sql = format!(
            "INSERT INTO listening_queries (workspace_id, name, query, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {QUERY_COLS}"
        );
        on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(name).bind(query).bind(role)
            .bind(now).fetch_one(p).await)
        .map_err(StoreError::from)
    }

    /// Changes a query's name, text and role.
    pub async fn update_listening_query(
        &self,
        workspace_id: i64,
        id: i64,
        name: &str,
        query: &str,
        role: &str,
        now: i64,
    ) -> Result<ListeningQuery> {
        let sql = format!(
            "UPDATE listening_queries SET name = $1, query = $2, role = $3, updated_at = $4 \
             WHERE id = $5 AND workspace_id = $6 RETURNING {QUERY_COLS}"
        );
        on!(self, p => sqlx::query_as(&sql).bind(name).bind(query).bind(role).bind(now)
            .bind(id).bind(workspace_id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
    }

    /// Removes a query (its mentions stay, found by other queries or not).
    pub async fn delete_listening_query(&self, workspace_id: i64, id: i64) -> Result<()> {
        let n = on!(self, p => sqlx::query("DELETE FROM listening_queries WHERE id = $1 AND workspace_id = $2")
            .bind(id).bind(workspace_id).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A workspace's queries, by name.
    pub async fn listening_queries(&self, workspace_id: i64) -> Result<Vec<ListeningQuery>> {
        let sql = format!(
            "SELECT {QUERY_COLS} FROM listening_queries WHERE workspace_id = $1 ORDER BY lower(name), id"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).fetch_all(p).await)?)
    }

    /// Every query of every workspace (for the matcher).
    pub async fn all_listening_queries(&self) -> Result<Vec<ListeningQuery>> {
        let sql = format!("SELECT {QUERY_COLS} FROM listening_queries ORDER BY id");
        Ok(on!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?)
    }

    /// A number that changes whenever any query is added, changed or
    /// removed (the matcher is compiled again when it does).
    pub async fn listening_queries_version(&self) -> Result<(i64, i64)> {
        let v: (i64, Option<i64>) = on!(self, p => sqlx::query_as(
            "SELECT COUNT(*), MAX(updated_at) FROM listening_queries").fetch_one(p).await)?;
        Ok((v.0, v.1.unwrap_or(0)))
    }

    /// Adds a source, due at once; [`StoreError::Conflict`] when the
    /// workspace listens to it already.
    pub async fn create_source(
        &self,
        workspace_id: i64,
        kind: &str,
        target: &str,
        name: &str,
        now: i64,
    ) -> Result<Source> {
        self.create_source_with(workspace_id, kind, target, name, false, now)
            .await
    }

    /// Adds a source, polled or `streamed`; [`StoreError::Conflict`] when
    /// the workspace listens to it already.
    pub async fn create_source_with(
        &self,
        workspace_id: i64,
        kind: &str,
        target: &str,
        name: &str,
        streamed: bool,
        now: i64,
    ) -> Result<Source> {
        let sql = format!(
            "INSERT INTO listening_sources (workspace_id, kind, target, name, next_at, created_at, streamed) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING {SOURCE_COLS}"
        );
        on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(kind).bind(target).bind(name)
            .bind(now).bind(streamed).fetch_one(p).await)
        .map_err(StoreError::from)
    }

    /// Every streamed source that is not paused, of every workspace (for
    /// the stream runner), by id.
    pub async fn streamed_sources(&self) -> Result<Vec<Source>> {
        let sql = format!(
            "SELECT {SOURCE_COLS} FROM listening_sources WHERE streamed AND status <> 'paused' ORDER BY id"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?)
    }

    /// Records a stored batch of a stream on each listening source: the
    /// cursor to resume from (only once the batch's mentions are stored),
    /// the posts heard, and per source the mentions stored. Paused sources
    /// are left alone.
    pub async fn record_stream_batch(
        &self,
        cursor: &str,
        fetched: i64,
        stored: &[(i64, i64)],
        now: i64,
    ) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            for (id, n) in stored {
                sqlx::query(
                    "UPDATE listening_sources SET cursor = $1, last_ok_at = $2, \
                     fetched_total = fetched_total + $3, stored_total = stored_total + $4, \
                     next_at = $2 WHERE id = $5 AND status <> 'paused'")
                    .bind(cursor).bind(now).bind(fetched).bind(n).bind(id)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records a running stream's health on its sources (`failing_since`
    /// and the status move only when the status changes; paused sources
    /// are left alone).
    pub async fn record_stream_health(
        &self,
        ids: &[i64],
        health: &StreamHealth,
        now: i64,
    ) -> Result<()> {
        for id in ids {
            match health.status {
                Some(status) => {
                    on!(self, p => sqlx::query(
                        "UPDATE listening_sources SET status = $1, reason = $2, per_minute = $3, live_at = $4, \
                         live_status = $6, \
                         failing_since = CASE WHEN $1 = 'failing' THEN COALESCE(failing_since, $4) ELSE NULL END \
                         WHERE id = $5 AND status <> 'paused'")
                        .bind(status).bind(&health.reason).bind(health.per_minute).bind(now).bind(id)
                        .bind(health.live_status)
                        .execute(p).await.map(|_| ()))?;
                }
                None => {
                    on!(self, p => sqlx::query(
                        "UPDATE listening_sources SET per_minute = $1, live_at = $2, live_status = $4 \
                         WHERE id = $3 AND status <> 'paused'")
                        .bind(health.per_minute).bind(now).bind(id).bind(health.live_status)
                        .execute(p).await.map(|_| ()))?;
                }
            }
        }
        Ok(())
    }

    /// A workspace's sources, oldest first.
    pub async fn sources(&self, workspace_id: i64) -> Result<Vec<Source>> {
        let sql = format!(
            "SELECT {SOURCE_COLS} FROM listening_sources WHERE workspace_id = $1 ORDER BY id"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).fetch_all(p).await)?)
    }

    /// One source of a workspace.
    pub async fn source(&self, workspace_id: i64, id: i64) -> Result<Source> {
        let sql = format!(
            "SELECT {SOURCE_COLS} FROM listening_sources WHERE id = $1 AND workspace_id = $2"
        );
        on!(self, p => sqlx::query_as(&sql).bind(id).bind(workspace_id).fetch_optional(p).await)?
            .ok_or(StoreError::NotFound)
    }

    /// Removes a source (its mentions stay).
    pub async fn delete_source(&self, workspace_id: i64, id: i64) -> Result<()> {
        let n = on!(self, p => sqlx::query("DELETE FROM listening_sources WHERE id = $1 AND workspace_id = $2")
            .bind(id).bind(workspace_id).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Pauses a source (or resumes it, due at once).
    pub async fn pause_source(
        &self,
        workspace_id: i64,
        id: i64,
        paused: bool,
        now: i64,
    ) -> Result<()> {
        let (status, next) = if paused {
            ("paused", NEVER)
        } else {
            ("new", now)
        };
        let n = on!(self, p => sqlx::query(
            "UPDATE listening_sources SET status = $1, reason = '', next_at = $2, lease_until = NULL \
             WHERE id = $3 AND workspace_id = $4")
            .bind(status).bind(next).bind(id).bind(workspace_id).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A channel's mentions and comments stored after the inbound item
    /// `after_id`, oldest first (for a `channel` listening source).
    pub async fn channel_mentions_after(
        &self,
        channel_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<crate::Item>> {
        let sql = format!(
            "SELECT {} FROM inbound_items WHERE channel_id = $1 AND id > $2 \
             AND kind IN ('mention', 'comment') ORDER BY id LIMIT $3",
            crate::channels::ITEM_COLS
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(channel_id).bind(after_id).bind(limit)
            .fetch_all(p).await)?,
        )
    }

    /// Claims up to `limit` polled sources that are due (and not claimed
    /// by a process still within its lease) until `lease_until`; streamed
    /// sources belong to the stream runner.
    pub async fn claim_due_sources(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Source>> {
        let sql = format!(
            "UPDATE listening_sources SET lease_until = $1 WHERE id IN (\
               SELECT id FROM listening_sources WHERE next_at <= $2 AND status <> 'paused' AND NOT streamed \
               AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_at LIMIT $3) \
             RETURNING {SOURCE_COLS}"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(lease_until).bind(now).bind(limit).fetch_all(p).await)?,
        )
    }

    /// Records how a fetch went and gives the claim back.
    pub async fn record_source_fetch(&self, id: i64, fetch: &SourceFetch, now: i64) -> Result<()> {
        match fetch {
            SourceFetch::Ok {
                cursor,
                fetched,
                stored,
                next_at,
            } => {
                on!(self, p => sqlx::query(
                    "UPDATE listening_sources SET cursor = $1, status = 'ok', reason = '', failing_since = NULL, \
                     last_ok_at = $2, next_at = $3, lease_until = NULL, fetched_total = fetched_total + $4, \
                     stored_total = stored_total + $5 WHERE id = $6 AND status <> 'paused'")
                    .bind(cursor).bind(now).bind(next_at).bind(fetched).bind(stored).bind(id)
                    .execute(p).await.map(|r| r.rows_affected()))?;
            }
            SourceFetch::Failed { reason, next_at } => {
                on!(self, p => sqlx::query(
                    "UPDATE listening_sources SET status = 'failing', reason = $1, \
                     failing_since = COALESCE(failing_since, $2), next_at = $3, lease_until = NULL \
                     WHERE id = $4 AND status <> 'paused'")
                    .bind(reason).bind(now).bind(next_at.unwrap_or(NEVER)).bind(id)
                    .execute(p).await.map(|r| r.rows_affected()))?;
            }
        }
        Ok(())
    }
}
