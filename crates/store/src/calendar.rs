//! The content calendar: a workspace's posts day by day between two
//! instants, bounded per day (the first few, and how many there are in
//! all), and the workspace's secret iCalendar feed link, kept only as the
//! SHA-256 hash of its token.

use crate::BeginWrite;
use crate::posts::POST_COLS;
use crate::{Post, Result, Store, Target, Workspace, on};

/// The most posts one calendar read looks at (a month of a very busy
/// workspace); beyond it the day counts stop growing.
pub const CALENDAR_SCAN: i64 = 100_000;

/// One day of the calendar.
#[derive(Debug, Clone, Default)]
pub struct CalendarDay {
    /// Its first posts (by time, then id), with their targets.
    pub posts: Vec<(Post, Vec<Target>)>,
    /// How many posts the day has in all.
    pub total: i64,
}

/// A workspace's feed link (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CalendarFeed {
    /// The workspace.
    pub workspace_id: i64,
    /// Who made the link (`None` once that account is gone).
    pub created_by: Option<i64>,
    /// When it was made.
    pub created_at: i64,
}

impl Store {
    /// The posts of a workspace per day. `bounds` are the instants (UTC
    /// ms) where the days start, followed by the end of the last day, in
    /// ascending order: `n + 1` bounds give `n` days. Each day holds its
    /// first `per_day` posts with their targets and its total count.
    /// Reads the posts' times from the `(workspace_id, scheduled_at)`
    /// index, then only the shown posts.
    pub async fn calendar_days(
        &self,
        workspace_id: i64,
        bounds: &[i64],
        per_day: usize,
    ) -> Result<Vec<CalendarDay>> {
        let (Some(&from), Some(&to)) = (bounds.first(), bounds.last()) else {
            return Ok(vec![]);
        };
        let n = bounds.len().saturating_sub(1);
        let mut days: Vec<CalendarDay> = vec![CalendarDay::default(); n];
        if n == 0 {
            return Ok(days);
        }
        let times: Vec<(i64, i64)> = on!(self, p => sqlx::query_as(
            "SELECT id, scheduled_at FROM posts WHERE workspace_id = $1 AND scheduled_at >= $2 \
             AND scheduled_at < $3 ORDER BY scheduled_at, id LIMIT $4")
            .bind(workspace_id).bind(from).bind(to).bind(CALENDAR_SCAN).fetch_all(p).await)?;
        let mut shown: Vec<(usize, i64)> = vec![];
        for (id, at) in times {
            // The day whose start is the last bound at or before `at`.
            let i = bounds.partition_point(|b| *b <= at).saturating_sub(1);
            let Some(day) = days.get_mut(i) else { continue };
            if usize::try_from(day.total).unwrap_or(usize::MAX) < per_day {
                shown.push((i, id));
            }
            day.total += 1;
        }
        let ids: Vec<i64> = shown.iter().map(|(_, id)| *id).collect();
        let posts: Vec<Post> = self
            .rows_by_id(&format!("SELECT {POST_COLS} FROM posts WHERE id"), &ids)
            .await?;
        let mut full = self.with_targets(posts).await?;
        full.sort_by_key(|(p, _)| (p.scheduled_at, p.id));
        for (p, t) in full {
            if let Some((i, _)) = shown.iter().find(|(_, id)| *id == p.id)
                && let Some(day) = days.get_mut(*i)
            {
                day.posts.push((p, t));
            }
        }
        Ok(days)
    }

    /// Makes `token_hash` the workspace's feed link; an earlier link stops
    /// working at once.
    pub async fn replace_calendar_feed(
        &self,
        workspace_id: i64,
        token_hash: &str,
        user_id: i64,
        now: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO calendar_feeds (workspace_id, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id) DO UPDATE SET token_hash = excluded.token_hash, \
             created_by = excluded.created_by, created_at = excluded.created_at")
            .bind(workspace_id).bind(token_hash).bind(user_id).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The workspace's feed link, if it has one.
    pub async fn calendar_feed(&self, workspace_id: i64) -> Result<Option<CalendarFeed>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT workspace_id, created_by, created_at FROM calendar_feeds WHERE workspace_id = $1")
            .bind(workspace_id).fetch_optional(p).await)?)
    }

    /// Revokes the workspace's feed link; `false` when it had none.
    pub async fn delete_calendar_feed(&self, workspace_id: i64) -> Result<bool> {
        let n = on!(self, p => sqlx::query("DELETE FROM calendar_feeds WHERE workspace_id = $1")
            .bind(workspace_id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The workspace whose feed link has this token hash.
    pub async fn workspace_by_calendar_token(&self, token_hash: &str) -> Result<Option<Workspace>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT w.id, w.name, w.timezone, w.created_at FROM workspaces w \
             JOIN calendar_feeds f ON f.workspace_id = w.id WHERE f.token_hash = $1")
            .bind(token_hash).fetch_optional(p).await)?)
    }
}

/// A generated post for [`Store::fill_generated_posts`].
#[derive(Debug, Clone)]
pub struct GeneratedPost {
    /// When it is due (UTC ms).
    pub scheduled_at: i64,
    /// Its text.
    pub text: String,
}

impl Store {
    /// Stores many generated posts of one workspace at once, for
    /// benchmarks: rows in batches inside one transaction, each with a
    /// Mastodon target (and every second post a Bluesky one), published
    /// when their time is before `now`, scheduled otherwise. The targets
    /// name no channel (as if it was disconnected), so nothing is sent.
    pub async fn fill_generated_posts(
        &self,
        workspace_id: i64,
        posts: &[GeneratedPost],
        now: i64,
    ) -> Result<()> {
        const BATCH: usize = 500;
        let targets = |network: &str, every: i64| {
            format!(
                "INSERT INTO post_targets (post_id, channel_id, network, channel_name, state, due_at, \
                 idempotency_key, published_at, updated_at) \
                 SELECT id, NULL, '{network}', '@bench', \
                 CASE WHEN scheduled_at < $2 THEN 'published' ELSE 'scheduled' END, scheduled_at, \
                 '{network}-' || CAST(id AS TEXT), \
                 CASE WHEN scheduled_at < $2 THEN scheduled_at ELSE NULL END, $2 \
                 FROM posts WHERE workspace_id = $1 AND id > $3 AND id % {every} = 0"
            )
        };
        let (mastodon, bluesky) = (targets("mastodon", 1), targets("bluesky", 2));
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let (before,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM posts")
                .fetch_one(&mut *tx).await?;
            for chunk in posts.chunks(BATCH) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|i| format!("($1, ${}, ${}, $2, $2)", 3 + 2 * i, 4 + 2 * i))
                    .collect();
                let sql = format!(
                    "INSERT INTO posts (workspace_id, text, scheduled_at, created_at, updated_at) VALUES {}",
                    rows.join(", ")
                );
                let mut q = sqlx::query(&sql).bind(workspace_id).bind(now);
                for g in chunk {
                    q = q.bind(&g.text).bind(g.scheduled_at);
                }
                q.execute(&mut *tx).await?;
            }
            for sql in [&mastodon, &bluesky] {
                sqlx::query(sql).bind(workspace_id).bind(now).bind(before.unwrap_or(0))
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Moves every scheduled post of a workspace `by_ms` in time, with its
    /// targets, in one transaction (benchmarks: posts stored well ahead are
    /// brought due at a chosen moment).
    pub async fn shift_schedule(&self, workspace_id: i64, by_ms: i64) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE post_targets SET due_at = due_at + $2 \
                         WHERE state = 'scheduled' AND post_id IN (SELECT id FROM posts WHERE workspace_id = $1)")
                .bind(workspace_id).bind(by_ms).execute(&mut *tx).await?;
            sqlx::query("UPDATE posts SET scheduled_at = scheduled_at + $2 \
                         WHERE workspace_id = $1 AND scheduled_at IS NOT NULL")
                .bind(workspace_id).bind(by_ms).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Refreshes the planner's statistics after a bulk load (benchmarks).
    pub async fn analyze(&self) -> Result<()> {
        on!(self, p => sqlx::raw_sql("ANALYZE").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
