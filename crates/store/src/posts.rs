//! Posts, their targets (one per channel) and the dispatcher's queue.
//!
//! A target is its own job: the dispatcher claims due targets with a lease
//! (`state = 'publishing'`, `lease_until`), and every claim adds one to
//! `attempts`. That number fences the claim: a process whose lease ran out
//! and was taken over can no longer record anything, because its updates
//! name the attempt it claimed. `sending_since` is written just before a
//! network call, so whoever takes over an expired lease knows whether the
//! network may have been reached.

use crate::BeginWrite;
use crate::{Backend, Result, Store, StoreError, on};

/// A post as the author wrote it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Post {
    /// Stable id.
    pub id: i64,
    /// The workspace it belongs to.
    pub workspace_id: i64,
    /// Who wrote it (`None` once that account is gone).
    pub author_id: Option<i64>,
    /// The text every channel gets unless its target has its own.
    pub text: String,
    /// When it is due (UTC ms); `None` for a draft without a time.
    pub scheduled_at: Option<i64>,
    /// When it was made.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// The recurring series it is an occurrence of, if any.
    pub series_id: Option<i64>,
    /// The campaign its links are tagged with (empty: none).
    pub campaign: String,
}

/// One channel a post goes out to, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Target {
    /// Stable id.
    pub id: i64,
    /// The post.
    pub post_id: i64,
    /// The channel (`None` once it was disconnected).
    pub channel_id: Option<i64>,
    /// The channel's network, kept when the channel goes.
    pub network: String,
    /// The channel's name, kept when the channel goes.
    pub channel_name: String,
    /// This channel's own text (`None`: the post's).
    pub text: Option<String>,
    /// `draft`, `in_review`, `approved`, `scheduled`, `publishing`,
    /// `published`, `failed` or `unconfirmed`.
    pub state: String,
    /// When the dispatcher takes it (UTC ms).
    pub due_at: Option<i64>,
    /// Until when the claim of a publishing target holds.
    pub lease_until: Option<i64>,
    /// How often it was claimed.
    pub attempts: i64,
    /// When the last network call started (`None`: none was made since
    /// the outcome was last known).
    pub sending_since: Option<i64>,
    /// The same for every attempt at this target.
    pub idempotency_key: String,
    /// The network's id of the published post.
    pub remote_id: Option<String>,
    /// Its address.
    pub remote_url: Option<String>,
    /// Why it failed or is unconfirmed, as a stable code.
    pub error_code: String,
    /// The network's words.
    pub error: String,
    /// When it went out.
    pub published_at: Option<i64>,
    /// When it last changed.
    pub updated_at: i64,
}

/// A target to make with a new post.
#[derive(Debug, Clone)]
pub struct NewTarget {
    /// The channel.
    pub channel_id: i64,
    /// Its network.
    pub network: String,
    /// Its name.
    pub channel_name: String,
    /// Its own text, if it differs from the post's.
    pub text: Option<String>,
    /// A random key, the same for every attempt.
    pub idempotency_key: String,
}

/// A post to store.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// The workspace.
    pub workspace_id: i64,
    /// Its author.
    pub author_id: Option<i64>,
    /// The text.
    pub text: String,
    /// When it is due; `None` for a draft without a time.
    pub scheduled_at: Option<i64>,
    /// The state every target starts in (`draft`, `in_review` or `scheduled`).
    pub state: String,
    /// The channels.
    pub targets: Vec<NewTarget>,
}

/// A target the dispatcher claimed, with what it needs to publish.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The target as claimed (`attempts` is this claim's number).
    pub target: Target,
    /// The text to send.
    pub text: String,
    /// When the post was first due: the same for every attempt.
    pub first_due: i64,
    /// The post's author, to tell when it fails.
    pub author_id: Option<i64>,
    /// The workspace.
    pub workspace_id: i64,
}

/// How a claimed attempt ended, for [`Store::finish_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It is out.
    Published {
        /// The network's id.
        remote_id: String,
        /// Its address.
        url: Option<String>,
    },
    /// Not sent; try again at `due_at`.
    Retry {
        /// When.
        due_at: i64,
        /// Why it did not go now.
        error: String,
    },
    /// The answer was lost, but the network honours the idempotency key:
    /// send again at `due_at` with the same key (`sending_since` stays, so
    /// the first call's time is kept).
    Resend {
        /// When.
        due_at: i64,
        /// What happened.
        error: String,
    },
    /// It will not go out: the reason says why.
    Failed {
        /// A stable code.
        code: String,
        /// The network's words.
        error: String,
    },
    /// It may or may not be out: a person has to look.
    Unconfirmed {
        /// A stable code.
        code: String,
        /// What happened.
        error: String,
    },
}

pub(crate) const POST_COLS: &str =
    "id, workspace_id, author_id, text, scheduled_at, created_at, updated_at, series_id, campaign";
const TARGET_COLS: &str = "id, post_id, channel_id, network, channel_name, text, state, due_at, \
    lease_until, attempts, sending_since, idempotency_key, remote_id, remote_url, error_code, error, \
    published_at, updated_at";

/// States in which a target has not been handed to the dispatcher yet, or
/// waits for it: the post may still change.
pub(crate) const EDITABLE: &str = "('draft', 'in_review', 'approved', 'scheduled')";

impl Store {
    /// Stores a post with its targets, in one transaction.
    pub async fn create_post(&self, new: &NewPost, now: i64) -> Result<(Post, Vec<Target>)> {
        self.create_post_with(new, &crate::PostExtras::default(), now)
            .await
    }

    /// Stores a post with its targets, its campaign and its images (each
    /// of the workspace's media, with alt text), in one transaction.
    pub async fn create_post_with(
        &self,
        new: &NewPost,
        extras: &crate::PostExtras,
        now: i64,
    ) -> Result<(Post, Vec<Target>)> {
        let post_sql = format!(
            "INSERT INTO posts (workspace_id, author_id, text, scheduled_at, created_at, updated_at, campaign) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING {POST_COLS}"
        );
        let media_sql = "INSERT INTO post_media (post_id, position, media_id, alt) \
             SELECT $1, $2, id, $3 FROM media WHERE id = $4 AND workspace_id = $5";
        let target_sql = format!(
            "INSERT INTO post_targets (post_id, channel_id, network, channel_name, text, state, due_at, \
             idempotency_key, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {TARGET_COLS}"
        );
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let post: Post = sqlx::query_as(&post_sql)
                .bind(new.workspace_id).bind(new.author_id).bind(&new.text).bind(new.scheduled_at).bind(now)
                .bind(&extras.campaign)
                .fetch_one(&mut *tx).await?;
            for (position, (media_id, alt)) in (0_i64..).zip(&extras.media) {
                let n = sqlx::query(media_sql)
                    .bind(post.id).bind(position).bind(alt).bind(media_id).bind(new.workspace_id)
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            let mut targets = Vec::with_capacity(new.targets.len());
            for t in &new.targets {
                let target: Target = sqlx::query_as(&target_sql)
                    .bind(post.id).bind(t.channel_id).bind(&t.network).bind(&t.channel_name).bind(&t.text)
                    .bind(&new.state).bind(new.scheduled_at.or(Some(now))).bind(&t.idempotency_key).bind(now)
                    .fetch_one(&mut *tx).await?;
                targets.push(target);
            }
            tx.commit().await?;
            Ok((post, targets))
        })
    }

    /// One post of a workspace with its targets.
    pub async fn post(&self, workspace_id: i64, id: i64) -> Result<(Post, Vec<Target>)> {
        let sql = format!("SELECT {POST_COLS} FROM posts WHERE workspace_id = $1 AND id = $2");
        let post: Post =
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(id).fetch_one(p).await)?;
        let mut targets = self.targets_of(&[post.id]).await?;
        targets.sort_by_key(|t| t.id);
        Ok((post, targets))
    }

    /// A workspace's posts due in `[from, to)` (UTC ms), oldest first, with
    /// their targets; drafts without a time are left out.
    pub async fn posts_between(
        &self,
        workspace_id: i64,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<(Post, Vec<Target>)>> {
        let sql = format!(
            "SELECT {POST_COLS} FROM posts WHERE workspace_id = $1 AND scheduled_at >= $2 AND scheduled_at < $3 \
             ORDER BY scheduled_at, id LIMIT $4"
        );
        let posts: Vec<Post> = on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(from).bind(to).bind(limit).fetch_all(p).await)?;
        self.with_targets(posts).await
    }

    /// A workspace's newest posts (by id), with their targets.
    pub async fn recent_posts(
        &self,
        workspace_id: i64,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(Post, Vec<Target>)>> {
        let sql = format!(
            "SELECT {POST_COLS} FROM posts WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        );
        let posts: Vec<Post> = on!(self, p => sqlx::query_as(&sql).bind(workspace_id)
            .bind(before_id.unwrap_or(i64::MAX)).bind(limit).fetch_all(p).await)?;
        self.with_targets(posts).await
    }

    pub(crate) async fn with_targets(&self, posts: Vec<Post>) -> Result<Vec<(Post, Vec<Target>)>> {
        let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
        let mut targets = self.targets_of(&ids).await?;
        targets.sort_by_key(|t| (t.post_id, t.id));
        Ok(posts
            .into_iter()
            .map(|p| {
                let mine = targets
                    .iter()
                    .filter(|t| t.post_id == p.id)
                    .cloned()
                    .collect();
                (p, mine)
            })
            .collect())
    }

    async fn targets_of(&self, post_ids: &[i64]) -> Result<Vec<Target>> {
        self.rows_by_id(
            &format!("SELECT {TARGET_COLS} FROM post_targets WHERE post_id"),
            post_ids,
        )
        .await
    }

    /// Rows of `select` (ending in the id column) whose id is one of `ids`,
    /// read in bounded lists bound one by one (both backends).
    pub(crate) async fn rows_by_id<T>(&self, select: &str, ids: &[i64]) -> Result<Vec<T>>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("{select} IN ({})", marks.join(", "));
            let rows: Vec<T> = on!(self, p => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Moves a post to a new time. Only targets that have not started move;
    /// a post with a target that started is refused with
    /// [`StoreError::Conflict`].
    pub async fn reschedule_post(
        &self,
        workspace_id: i64,
        id: i64,
        at: i64,
        now: i64,
    ) -> Result<()> {
        self.change_post(workspace_id, id, None, Some(at), now)
            .await
    }

    /// Changes a post's text and time while none of its targets has
    /// started ([`StoreError::Conflict`] otherwise).
    pub async fn change_post(
        &self,
        workspace_id: i64,
        id: i64,
        text: Option<&str>,
        at: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let check = format!(
            "SELECT COUNT(*) FROM post_targets t JOIN posts p ON p.id = t.post_id \
             WHERE p.workspace_id = $1 AND p.id = $2 AND (t.state NOT IN {EDITABLE} OR t.sending_since IS NOT NULL)"
        );
        let targets = format!(
            "UPDATE post_targets SET due_at = COALESCE($1, due_at), updated_at = $2 \
             WHERE post_id = $3 AND state IN {EDITABLE} AND sending_since IS NULL"
        );
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE posts SET text = COALESCE($1, text), scheduled_at = COALESCE($2, scheduled_at), \
                                 updated_at = $3 WHERE workspace_id = $4 AND id = $5")
                .bind(text).bind(at).bind(now).bind(workspace_id).bind(id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let (started,): (i64,) = sqlx::query_as(&check).bind(workspace_id).bind(id).fetch_one(&mut *tx).await?;
            if started > 0 {
                // Give the write lock back now, not when the dropped
                // transaction's rollback gets round to it.
                tx.rollback().await?;
                return Err(StoreError::Conflict);
            }
            sqlx::query(&targets).bind(at).bind(now).bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes a post that is not being published right now
    /// ([`StoreError::Conflict`] while a target is publishing).
    pub async fn delete_post(&self, workspace_id: i64, id: i64) -> Result<()> {
        // The check and the delete are one statement that writes at once.
        // A transaction that reads first and writes afterwards cannot wait
        // for another writer on SQLite: it fails at once with "database is
        // locked" instead of waiting out the busy timeout.
        let n = on!(self, p => sqlx::query(
            "DELETE FROM posts WHERE workspace_id = $1 AND id = $2 AND NOT EXISTS \
             (SELECT 1 FROM post_targets t WHERE t.post_id = posts.id AND t.state = 'publishing')")
            .bind(workspace_id).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        if n > 0 {
            return Ok(());
        }
        let (kept,): (i64,) = on!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM posts WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id).bind(id).fetch_one(p).await)?;
        Err(if kept > 0 {
            StoreError::Conflict
        } else {
            StoreError::NotFound
        })
    }
}

impl Store {
    /// Claims up to `limit` targets for publishing: first those whose
    /// lease ran out (a process died holding them), then scheduled targets
    /// that are due, oldest first. Each becomes `publishing` with a lease
    /// until `lease_until` and its attempt number one higher. On
    /// PostgreSQL, rows another process is claiming are skipped
    /// (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time.
    pub async fn claim_targets(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Claim>> {
        let lock = match self.backend {
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite(_) => "",
        };
        let mut claimed: Vec<Target> = Vec::new();
        for (state, column) in [("publishing", "lease_until"), ("scheduled", "due_at")] {
            let left = limit - i64::try_from(claimed.len()).unwrap_or(limit);
            if left <= 0 {
                break;
            }
            // The choice is made once (a materialised CTE: PostgreSQL may
            // run an `IN (subquery … SKIP LOCKED)` more than once and so
            // claim more than the limit). The condition is repeated in the
            // update, so a row that changed meanwhile is not claimed on its
            // old state.
            let sql = format!(
                "WITH c AS MATERIALIZED (SELECT id FROM post_targets WHERE state = '{state}' AND {column} <= $1 \
                                         ORDER BY {column}, id LIMIT $3{lock}) \
                 UPDATE post_targets SET state = 'publishing', lease_until = $2, attempts = attempts + 1, updated_at = $1 \
                 WHERE id IN (SELECT id FROM c) AND state = '{state}' AND {column} <= $1 RETURNING {TARGET_COLS}"
            );
            let rows: Vec<Target> = on!(self, p => sqlx::query_as(&sql).bind(now).bind(lease_until).bind(left).fetch_all(p).await)?;
            claimed.extend(rows);
        }
        if claimed.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<i64> = claimed.iter().map(|t| t.post_id).collect();
        let posts: Vec<Post> = self
            .rows_by_id(&format!("SELECT {POST_COLS} FROM posts WHERE id"), &ids)
            .await?;
        Ok(claimed
            .into_iter()
            .filter_map(|t| {
                let post = posts.iter().find(|p| p.id == t.post_id)?;
                Some(Claim {
                    text: t.text.clone().unwrap_or_else(|| post.text.clone()),
                    first_due: post.scheduled_at.unwrap_or(post.created_at),
                    author_id: post.author_id,
                    workspace_id: post.workspace_id,
                    target: t,
                })
            })
            .collect())
    }

    /// Records that the network call of attempt `attempt` starts now.
    /// `false`: the claim was lost (its lease ran out and another process
    /// took the target over); the call must not be made.
    pub async fn mark_sending(&self, id: i64, attempt: i64, now: i64) -> Result<bool> {
        Ok(self.mark_sending_many(&[(id, attempt)], now).await?.first() == Some(&true))
    }

    /// [`Store::mark_sending`] for several (target, attempt) pairs in one
    /// transaction (one commit for many publishes about to start). For each
    /// pair, in order, whether its claim still held.
    pub async fn mark_sending_many(&self, marks: &[(i64, i64)], now: i64) -> Result<Vec<bool>> {
        let sql = "UPDATE post_targets SET sending_since = COALESCE(sending_since, $1), updated_at = $1 \
                   WHERE id = $2 AND attempts = $3 AND state = 'publishing'";
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let mut held = Vec::with_capacity(marks.len());
            for &(id, attempt) in marks {
                let n = sqlx::query(sql).bind(now).bind(id).bind(attempt)
                    .execute(&mut *tx).await?.rows_affected();
                held.push(n == 1);
            }
            tx.commit().await?;
            Ok(held)
        })
    }

    /// Records how attempt `attempt` ended. `false`: the claim was lost and
    /// nothing was recorded. A failed or unconfirmed target tells the
    /// post's author (a notification, written with the outcome).
    pub async fn finish_attempt(
        &self,
        id: i64,
        attempt: i64,
        outcome: &Outcome,
        now: i64,
    ) -> Result<bool> {
        Ok(self
            .finish_attempts(&[(id, attempt, outcome.clone())], now)
            .await?
            .first()
            == Some(&true))
    }

    /// [`Store::finish_attempt`] for several attempts in one transaction.
    /// For each, in order, whether it was recorded.
    pub async fn finish_attempts(
        &self,
        done: &[(i64, i64, Outcome)],
        now: i64,
    ) -> Result<Vec<bool>> {
        const FENCE: &str = "WHERE id = $1 AND attempts = $2 AND state = 'publishing'";
        let published = format!(
            "UPDATE post_targets SET state = 'published', remote_id = $3, remote_url = $4, published_at = $5, \
             updated_at = $5, lease_until = NULL, error_code = '', error = '' {FENCE}"
        );
        // Not sent: the network was not reached or refused it for now.
        let retry = format!(
            "UPDATE post_targets SET state = 'scheduled', due_at = $3, error_code = 'retrying', error = $4, \
             sending_since = NULL, lease_until = NULL, updated_at = $5 {FENCE}"
        );
        let resend = format!(
            "UPDATE post_targets SET state = 'scheduled', due_at = $3, error_code = 'resending', error = $4, \
             lease_until = NULL, updated_at = $5 {FENCE}"
        );
        let ended = format!(
            "UPDATE post_targets SET state = $3, error_code = $4, error = $5, lease_until = NULL, \
             updated_at = $6 {FENCE}"
        );
        // The author is told in the same transaction: a process that dies
        // right after recording leaves no one untold.
        let tell = "INSERT INTO notifications (user_id, workspace_id, kind, subject_id, detail, created_at) \
            SELECT p.author_id, p.workspace_id, $1, p.id, t.channel_name, $2 \
            FROM post_targets t JOIN posts p ON p.id = t.post_id WHERE t.id = $3 AND p.author_id IS NOT NULL";
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let mut recorded = Vec::with_capacity(done.len());
            for (id, attempt, outcome) in done {
                let n = match outcome {
                    Outcome::Published { remote_id, url } => sqlx::query(&published)
                        .bind(id).bind(attempt).bind(remote_id).bind(url).bind(now)
                        .execute(&mut *tx).await?.rows_affected(),
                    Outcome::Retry { due_at, error } => sqlx::query(&retry)
                        .bind(id).bind(attempt).bind(due_at).bind(error).bind(now)
                        .execute(&mut *tx).await?.rows_affected(),
                    Outcome::Resend { due_at, error } => sqlx::query(&resend)
                        .bind(id).bind(attempt).bind(due_at).bind(error).bind(now)
                        .execute(&mut *tx).await?.rows_affected(),
                    Outcome::Failed { code, error } | Outcome::Unconfirmed { code, error } => {
                        let (state, kind) = if matches!(outcome, Outcome::Failed { .. }) {
                            ("failed", "post_failed")
                        } else {
                            ("unconfirmed", "post_unconfirmed")
                        };
                        let n = sqlx::query(&ended)
                            .bind(id).bind(attempt).bind(state).bind(code).bind(error).bind(now)
                            .execute(&mut *tx).await?.rows_affected();
                        if n == 1 {
                            sqlx::query(tell).bind(kind).bind(now).bind(id).execute(&mut *tx).await?;
                        }
                        n
                    }
                };
                recorded.push(n == 1);
            }
            tx.commit().await?;
            Ok(recorded)
        })
    }

    /// Settles an unconfirmed target after a person looked on the network:
    /// `Some(url)` it is there (published, with its address if given),
    /// `None` it is not (scheduled again now, with the same idempotency
    /// key). [`StoreError::NotFound`] when the target is not unconfirmed.
    pub async fn settle_unconfirmed(
        &self,
        workspace_id: i64,
        target_id: i64,
        found: Option<Option<&str>>,
        now: i64,
    ) -> Result<()> {
        let owned = "id = $1 AND state = 'unconfirmed' AND post_id IN (SELECT id FROM posts WHERE workspace_id = $2)";
        let n = match found {
            Some(url) => {
                let sql = format!(
                    "UPDATE post_targets SET state = 'published', remote_url = COALESCE($3, remote_url), \
                     published_at = COALESCE(sending_since, $4), error_code = '', error = '', updated_at = $4 WHERE {owned}"
                );
                on!(self, p => sqlx::query(&sql).bind(target_id).bind(workspace_id).bind(url).bind(now)
                    .execute(p).await.map(|r| r.rows_affected()))?
            }
            None => {
                let sql = format!(
                    "UPDATE post_targets SET state = 'scheduled', due_at = $3, sending_since = NULL, error_code = '', \
                     error = '', updated_at = $3 WHERE {owned}"
                );
                on!(self, p => sqlx::query(&sql).bind(target_id).bind(workspace_id).bind(now)
                    .execute(p).await.map(|r| r.rows_affected()))?
            }
        };
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Targets in each state across the whole store, for `/metrics`.
    pub async fn target_states(&self) -> Result<Vec<(String, i64)>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT state, COUNT(*) FROM post_targets GROUP BY state ORDER BY state").fetch_all(p).await)?)
    }
}
