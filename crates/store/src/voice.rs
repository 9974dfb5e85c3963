//! Share of voice and the texts behind rising terms: how often the brand
//! and each competitor were mentioned per day, and what was said.

use crate::{Result, Store, on};

const DAY_MS: i64 = 86_400_000;

impl Store {
    /// Mentions found per day (UTC) by each brand or competitor query of
    /// the workspace, published in `[since, until)`: `(query, day start,
    /// count)`, by day then query. Copies count once, on their original.
    pub async fn voice_days(
        &self,
        workspace_id: i64,
        since: i64,
        until: i64,
    ) -> Result<Vec<(i64, i64, i64)>> {
        let sql = format!(
            "SELECT mq.query_id, (mq.published_at / {DAY_MS}) * {DAY_MS} AS day, COUNT(*) \
             FROM mention_queries mq WHERE mq.query_id IN (SELECT id FROM listening_queries \
             WHERE workspace_id = $1 AND role IN ('brand', 'competitor')) \
             AND mq.published_at >= $2 AND mq.published_at < $3 GROUP BY 1, 2 ORDER BY 2, 1"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(since).bind(until)
            .fetch_all(p).await)?,
        )
    }

    /// The texts of the workspace's mentions published in `[since,
    /// until)`, newest first, at most `limit` (copies left out).
    pub async fn mention_texts(
        &self,
        workspace_id: i64,
        since: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<String>> {
        Ok(on!(self, p => sqlx::query_scalar(
            "SELECT text FROM mentions WHERE workspace_id = $1 AND published_at >= $2 \
             AND published_at < $3 AND copy_of IS NULL ORDER BY published_at DESC LIMIT $4")
            .bind(workspace_id).bind(since).bind(until).bind(limit).fetch_all(p).await)?)
    }
}
