//! What the search index and retention need of mentions: originals in id
//! order for the index to catch up with, a page loaded by the ids a search
//! found, how long each workspace keeps its mentions, and removing older
//! ones in batches.

use crate::BeginWrite;
use crate::mentions::Mention;
use crate::{Result, Store, on};

/// How many days a workspace keeps its mentions unless it chose otherwise.
pub const DEFAULT_KEEP_DAYS: i64 = 365;

/// An original mention as the search index takes it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IndexRow {
    /// Stable id (the index catches up by it).
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The text.
    pub text: String,
    /// The author's name.
    pub author_name: String,
    /// The author's handle.
    pub author_handle: Option<String>,
    /// Its language.
    pub lang: Option<String>,
    /// `positive`, `negative` or `neutral`.
    pub sentiment: String,
    /// The source kind.
    pub source_kind: String,
    /// When it was published.
    pub published_at: i64,
}

const MENTION_COLS: &str = "m.id, m.workspace_id, m.source_id, m.source_kind, m.url, m.author_name, \
    m.author_handle, m.reach, m.text, m.lang, m.sentiment, m.score, m.copies, m.published_at";

impl Store {
    /// Originals with an id above `after`, in id order, at most `limit`,
    /// each with the queries that found it. `settled_before` leaves out
    /// mentions stored at or after that time (on PostgreSQL a transaction
    /// still open may hold lower ids than one already committed; waiting a
    /// few seconds lets it land before the index moves past it).
    pub async fn mentions_to_index(
        &self,
        after: i64,
        settled_before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(IndexRow, Vec<i64>)>> {
        let rows: Vec<IndexRow> = on!(self, p => sqlx::query_as(
            "SELECT id, workspace_id, text, author_name, author_handle, lang, sentiment, source_kind, published_at \
             FROM mentions WHERE id > $1 AND copy_of IS NULL AND stored_at < $2 ORDER BY id LIMIT $3")
            .bind(after).bind(settled_before.unwrap_or(i64::MAX)).bind(limit.clamp(1, 100_000))
            .fetch_all(p).await)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let pairs = self.mention_query_ids(&ids).await?;
        let mut at = 0;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut qs = vec![];
                // Both are in mention id order.
                while at < pairs.len() && pairs[at].0 < r.id {
                    at += 1;
                }
                while at < pairs.len() && pairs[at].0 == r.id {
                    qs.push(pairs[at].1);
                    at += 1;
                }
                (r, qs)
            })
            .collect())
    }

    /// A workspace's mentions with these ids, in the order given (ids of
    /// other workspaces, of copies and of removed mentions are left out).
    pub async fn mentions_by_ids(&self, workspace_id: i64, ids: &[i64]) -> Result<Vec<Mention>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT {MENTION_COLS} FROM mentions m WHERE m.workspace_id = $1 AND m.copy_of IS NULL AND m.id IN ({list})"
        );
        let found: Vec<Mention> = on!(self, p => sqlx::query_as::<_, Mention>(&sql).bind(workspace_id).fetch_all(p).await)?;
        let mut out = Vec::with_capacity(found.len());
        for id in ids {
            if let Some(m) = found.iter().find(|m| m.id == *id) {
                out.push(m.clone());
            }
        }
        Ok(out)
    }

    /// How many days the workspace keeps its mentions.
    pub async fn listening_keep_days(&self, workspace_id: i64) -> Result<i64> {
        let days: Option<i64> = on!(self, p => sqlx::query_scalar(
            "SELECT keep_days FROM listening_settings WHERE workspace_id = $1")
            .bind(workspace_id).fetch_optional(p).await)?;
        Ok(days.unwrap_or(DEFAULT_KEEP_DAYS))
    }

    /// Sets how many days the workspace keeps its mentions (checked by the
    /// caller).
    pub async fn set_listening_keep_days(
        &self,
        workspace_id: i64,
        days: i64,
        now: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO listening_settings (workspace_id, keep_days, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (workspace_id) DO UPDATE SET keep_days = excluded.keep_days, updated_at = excluded.updated_at")
            .bind(workspace_id).bind(days).bind(now).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Every workspace with how many days it keeps its mentions.
    pub async fn listening_retention(&self) -> Result<Vec<(i64, i64)>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT w.id, COALESCE(s.keep_days, $1) FROM workspaces w \
             LEFT JOIN listening_settings s ON s.workspace_id = w.id ORDER BY w.id")
            .bind(DEFAULT_KEEP_DAYS).fetch_all(p).await)?)
    }

    /// Removes at most `limit` of a workspace's mentions published before
    /// `before` (with the queries that found them, and the copies of a
    /// removed original); returns how many were removed. Call again until
    /// it returns 0: each batch is a short transaction of its own.
    pub async fn remove_old_mentions(
        &self,
        workspace_id: i64,
        before: i64,
        limit: i64,
    ) -> Result<u64> {
        let done = on!(self, p => {
            let mut tx = p.begin_write().await?;
            let old: Vec<(i64, Option<i64>)> = sqlx::query_as(
                "SELECT id, copy_of FROM mentions WHERE workspace_id = $1 AND published_at < $2 \
                 ORDER BY published_at LIMIT $3")
                .bind(workspace_id).bind(before).bind(limit.clamp(1, 100_000))
                .fetch_all(&mut *tx).await?;
            // A copy removed before its original (published earlier, heard
            // later) no longer counts on the original that stays.
            let gone: std::collections::HashSet<i64> = old.iter().map(|r| r.0).collect();
            let mut less: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
            for orig in old.iter().filter_map(|r| r.1).filter(|o| !gone.contains(o)) {
                *less.entry(orig).or_default() += 1;
            }
            for (orig, n) in less {
                sqlx::query("UPDATE mentions SET copies = copies - $1 WHERE id = $2")
                    .bind(n).bind(orig).execute(&mut *tx).await?;
            }
            let mut done = 0;
            for chunk in old.chunks(1000) {
                let list = chunk.iter().map(|r| r.0.to_string()).collect::<Vec<_>>().join(",");
                done += sqlx::query(&format!("DELETE FROM mentions WHERE id IN ({list})"))
                    .execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(done)
        })?;
        Ok(done)
    }
}
