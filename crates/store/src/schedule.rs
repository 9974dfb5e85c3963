//! Queue slots per channel, recurring series and posts made in bulk (a
//! CSV import, a series' occurrences).
//!
//! A series' occurrences are ordinary posts with `series_id` set; the
//! unique index on `(series_id, scheduled_at)` makes topping a series up
//! idempotent, whichever process does it and however often.

use crate::BeginWrite;
use crate::posts::{EDITABLE, NewPost, POST_COLS, Post};
use crate::{Result, Store, StoreError, on};

/// A recurring post as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Series {
    /// Stable id.
    pub id: i64,
    /// The workspace.
    pub workspace_id: i64,
    /// Who made it.
    pub author_id: Option<i64>,
    /// The text every occurrence gets.
    pub text: String,
    /// The channels, as a comma-separated list of ids.
    pub channel_ids: String,
    /// `weekly` or `monthly`.
    pub kind: String,
    /// For `weekly`: day numbers (1 = Monday), comma-separated.
    pub weekdays: String,
    /// For `monthly`: the day of the month.
    pub month_day: Option<i64>,
    /// Local time, minutes after midnight.
    pub minute: i64,
    /// First day (`YYYY-MM-DD`).
    pub start_date: String,
    /// Last day, if any.
    pub until_date: Option<String>,
    /// How many occurrences at most, if limited.
    pub max_count: Option<i64>,
    /// Occurrences before this instant (UTC ms) have been made.
    pub made_until: i64,
    /// When it was stopped (`None`: running).
    pub stopped_at: Option<i64>,
    /// When it was made.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

impl Series {
    /// The channel ids.
    #[must_use]
    pub fn channels(&self) -> Vec<i64> {
        self.channel_ids
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    }
}

/// A series to store.
#[derive(Debug, Clone)]
pub struct NewSeries {
    /// The workspace.
    pub workspace_id: i64,
    /// Its author.
    pub author_id: Option<i64>,
    /// The text.
    pub text: String,
    /// The channels.
    pub channel_ids: Vec<i64>,
    /// `weekly` or `monthly`.
    pub kind: String,
    /// Weekday numbers for `weekly`.
    pub weekdays: Vec<u8>,
    /// Day of the month for `monthly`.
    pub month_day: Option<i64>,
    /// Minutes after midnight.
    pub minute: i64,
    /// First day.
    pub start_date: String,
    /// Last day.
    pub until_date: Option<String>,
    /// At most this many.
    pub max_count: Option<i64>,
}

const SERIES_COLS: &str = "id, workspace_id, author_id, text, channel_ids, kind, weekdays, month_day, minute, \
    start_date, until_date, max_count, made_until, stopped_at, created_at, updated_at";

impl Store {
    /// The weekly queue of every channel of a workspace: (channel, weekday
    /// 1–7, minute after midnight), in order.
    pub async fn workspace_slots(&self, workspace_id: i64) -> Result<Vec<(i64, i64, i64)>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT s.channel_id, CAST(s.weekday AS BIGINT), CAST(s.minute AS BIGINT) FROM channel_slots s \
             JOIN channels c ON c.id = s.channel_id WHERE c.workspace_id = $1 \
             ORDER BY s.channel_id, s.weekday, s.minute")
            .bind(workspace_id).fetch_all(p).await)?)
    }

    /// Replaces a channel's weekly queue ([`StoreError::NotFound`] when the
    /// channel is not the workspace's).
    pub async fn set_slots(
        &self,
        workspace_id: i64,
        channel_id: i64,
        slots: &[(i64, i64)],
    ) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM channels WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id).bind(channel_id).fetch_one(&mut *tx).await?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM channel_slots WHERE channel_id = $1")
                .bind(channel_id).execute(&mut *tx).await?;
            for (day, minute) in slots {
                sqlx::query("INSERT INTO channel_slots (channel_id, weekday, minute) VALUES ($1, $2, $3) \
                             ON CONFLICT DO NOTHING")
                    .bind(channel_id).bind(i16::try_from(*day).unwrap_or(0)).bind(*minute)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The instants in `[from, to)` at which each of `channels` has a post
    /// planned (any state): (channel, instant).
    pub async fn planned_times(
        &self,
        workspace_id: i64,
        channels: &[i64],
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64)>> {
        let mut out = vec![];
        for ch in channels {
            let rows: Vec<(i64, i64)> = on!(self, p => sqlx::query_as(
                "SELECT t.channel_id, p.scheduled_at FROM post_targets t JOIN posts p ON p.id = t.post_id \
                 WHERE p.workspace_id = $1 AND t.channel_id = $2 AND p.scheduled_at >= $3 AND p.scheduled_at < $4")
                .bind(workspace_id).bind(ch).bind(from).bind(to).fetch_all(p).await)?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Stores several posts with their targets in one transaction: all or
    /// none. Returns how many posts were made.
    pub async fn create_posts(&self, posts: &[NewPost], now: i64) -> Result<usize> {
        self.insert_posts(posts, None, now).await
    }

    /// Stores posts; with `series` (id, made until), each is an occurrence
    /// of that series, one already there (same series and time) is left
    /// alone, and the series' mark moves on in the same transaction, only
    /// while it runs (`Ok(0)` once stopped).
    async fn insert_posts(
        &self,
        posts: &[NewPost],
        series: Option<(i64, i64)>,
        now: i64,
    ) -> Result<usize> {
        let post_sql = format!(
            "INSERT INTO posts (workspace_id, author_id, text, scheduled_at, created_at, updated_at, series_id) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT DO NOTHING RETURNING {POST_COLS}"
        );
        let target_sql = "INSERT INTO post_targets (post_id, channel_id, network, channel_name, text, state, due_at, \
             idempotency_key, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            if let Some((id, until)) = series {
                let n = sqlx::query("UPDATE post_series SET made_until = $1, updated_at = $2 \
                                     WHERE id = $3 AND stopped_at IS NULL AND made_until < $1")
                    .bind(until).bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Ok(0);
                }
            }
            let mut made = 0;
            for new in posts {
                let post: Option<Post> = sqlx::query_as(&post_sql)
                    .bind(new.workspace_id).bind(new.author_id).bind(&new.text).bind(new.scheduled_at).bind(now)
                    .bind(series.map(|s| s.0))
                    .fetch_optional(&mut *tx).await?;
                let Some(post) = post else { continue };
                made += 1;
                for t in &new.targets {
                    sqlx::query(target_sql)
                        .bind(post.id).bind(t.channel_id).bind(&t.network).bind(&t.channel_name).bind(&t.text)
                        .bind(&new.state).bind(new.scheduled_at.or(Some(now))).bind(&t.idempotency_key).bind(now)
                        .execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(made)
        })
    }

    /// Stores a new series (nothing made yet: `made_until` is `now`).
    pub async fn create_series(&self, s: &NewSeries, now: i64) -> Result<Series> {
        let sql = format!(
            "INSERT INTO post_series (workspace_id, author_id, text, channel_ids, kind, weekdays, month_day, minute, \
             start_date, until_date, max_count, made_until, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12) RETURNING {SERIES_COLS}"
        );
        let ids: Vec<String> = s.channel_ids.iter().map(i64::to_string).collect();
        let days: Vec<String> = s.weekdays.iter().map(u8::to_string).collect();
        Ok(on!(self, p => sqlx::query_as(&sql)
            .bind(s.workspace_id).bind(s.author_id).bind(&s.text).bind(ids.join(",")).bind(&s.kind)
            .bind(days.join(",")).bind(s.month_day).bind(s.minute).bind(&s.start_date).bind(&s.until_date)
            .bind(s.max_count).bind(now)
            .fetch_one(p).await)?)
    }

    /// One series of a workspace.
    pub async fn series(&self, workspace_id: i64, id: i64) -> Result<Series> {
        let sql =
            format!("SELECT {SERIES_COLS} FROM post_series WHERE workspace_id = $1 AND id = $2");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(id).fetch_one(p).await)?)
    }

    /// A workspace's series, newest first.
    pub async fn series_list(&self, workspace_id: i64) -> Result<Vec<Series>> {
        let sql = format!(
            "SELECT {SERIES_COLS} FROM post_series WHERE workspace_id = $1 ORDER BY id DESC LIMIT 200"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).fetch_all(p).await)?)
    }

    /// Running series whose occurrences are made only up to before
    /// `horizon`, with their workspace's timezone.
    pub async fn series_to_top_up(
        &self,
        horizon: i64,
        limit: i64,
    ) -> Result<Vec<(Series, String)>> {
        let cols: Vec<String> = SERIES_COLS.split(", ").map(|c| format!("s.{c}")).collect();
        let sql = format!(
            "SELECT {}, w.timezone FROM post_series s JOIN workspaces w ON w.id = s.workspace_id \
             WHERE s.stopped_at IS NULL AND s.made_until < $1 ORDER BY s.made_until, s.id LIMIT $2",
            cols.join(", ")
        );
        let rows: Vec<TzSeries> =
            on!(self, p => sqlx::query_as(&sql).bind(horizon).bind(limit).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|r| (r.series, r.timezone)).collect())
    }

    /// Stores a series' occurrences and moves its `made_until` on, in one
    /// transaction; only while it is running (`Ok(0)` once stopped).
    /// Occurrences already there are left alone.
    pub async fn add_occurrences(
        &self,
        series: i64,
        posts: &[NewPost],
        made_until: i64,
        now: i64,
    ) -> Result<usize> {
        self.insert_posts(posts, Some((series, made_until)), now)
            .await
    }

    /// The posts of a series, by time.
    pub async fn series_posts(&self, workspace_id: i64, series: i64) -> Result<Vec<Post>> {
        let sql = format!(
            "SELECT {POST_COLS} FROM posts WHERE workspace_id = $1 AND series_id = $2 ORDER BY scheduled_at, id LIMIT 500"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(series).fetch_all(p).await)?)
    }

    /// Stops a series and deletes its occurrences after `now` that no
    /// channel has started on. Returns how many were deleted.
    pub async fn stop_series(&self, workspace_id: i64, id: i64, now: i64) -> Result<u64> {
        let delete = format!(
            "DELETE FROM posts WHERE series_id = $1 AND workspace_id = $2 AND scheduled_at > $3 AND NOT EXISTS \
             (SELECT 1 FROM post_targets t WHERE t.post_id = posts.id \
              AND (t.state NOT IN {EDITABLE} OR t.sending_since IS NOT NULL))"
        );
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE post_series SET stopped_at = COALESCE(stopped_at, $1), updated_at = $1 \
                                 WHERE workspace_id = $2 AND id = $3")
                .bind(now).bind(workspace_id).bind(id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let gone = sqlx::query(&delete).bind(id).bind(workspace_id).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(gone)
        })
    }

    /// Changes a series' text and that of its occurrences after `now` that
    /// no channel has started on. Returns how many posts changed.
    pub async fn change_series_text(
        &self,
        workspace_id: i64,
        id: i64,
        text: &str,
        now: i64,
    ) -> Result<u64> {
        let update = format!(
            "UPDATE posts SET text = $1, updated_at = $2 WHERE series_id = $3 AND workspace_id = $4 \
             AND scheduled_at > $2 AND NOT EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = posts.id \
             AND (t.state NOT IN {EDITABLE} OR t.sending_since IS NOT NULL))"
        );
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE post_series SET text = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
                .bind(text).bind(now).bind(workspace_id).bind(id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let changed = sqlx::query(&update).bind(text).bind(now).bind(id).bind(workspace_id)
                .execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(changed)
        })
    }
}

#[derive(sqlx::FromRow)]
struct TzSeries {
    #[sqlx(flatten)]
    series: Series,
    timezone: String,
}
