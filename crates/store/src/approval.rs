//! Approval: the workspace's setting, each post's review round, the thread
//! of comments and review steps under a post, and the secret links through
//! which a client approves without an account.
//!
//! A post's targets move through review together: `draft` → `in_review`
//! (submitted) → `scheduled` (approved: the dispatcher takes it at its
//! time) or back to `draft` (sent back with a reason). Every decision
//! first updates the post's row, which serialises two people deciding at
//! once: the second finds no target in review any more and gets
//! [`StoreError::Conflict`], and nothing changes.

use crate::BeginWrite;
use crate::posts::POST_COLS;
use crate::{Post, Result, Store, StoreError, Target, on};

/// A post's current review round and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Review {
    /// The post.
    pub post_id: i64,
    /// Counts from 1; every submission (and every change that sends the
    /// post back to review) starts a new round.
    pub round: i64,
    /// `open`, `approved` or `rejected`.
    pub status: String,
    /// Who submitted this round.
    pub submitted_by: Option<i64>,
    /// When.
    pub submitted_at: i64,
    /// Who decided (`None` for a client through a link, or no decision).
    pub decided_by: Option<i64>,
    /// The decider's name as shown (a client's own words through a link).
    pub decided_name: String,
    /// When it was decided.
    pub decided_at: Option<i64>,
}

/// One entry of the thread under a post.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Comment {
    /// Stable, increasing id.
    pub id: i64,
    /// The post.
    pub post_id: i64,
    /// The member who wrote it (`None`: a client through a link, or a
    /// deleted account).
    pub user_id: Option<i64>,
    /// The name shown with it.
    pub author_name: String,
    /// `comment`, `submitted`, `approved`, `rejected` or `reopened`.
    pub kind: String,
    /// The review round it belongs to (0 before the first submission).
    pub round: i64,
    /// The words (a rejection's reason; empty for a bare step).
    pub body: String,
    /// When.
    pub created_at: i64,
}

/// A client's approval link as stored (its secret is never stored).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApprovalLink {
    /// The post.
    pub post_id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// The workspace's name.
    pub workspace_name: String,
    /// The workspace's timezone.
    pub timezone: String,
    /// The review round it was made for.
    pub round: i64,
    /// After this it no longer works.
    pub expires_at: i64,
    /// Set once the client approved through it.
    pub used_at: Option<i64>,
    /// The post's current round (`None`: never submitted).
    pub current_round: Option<i64>,
    /// The current round's status.
    pub status: Option<String>,
}

/// Who takes a step, for the thread and the review record.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The member (`None`: a client through a link).
    pub user_id: Option<i64>,
    /// The name to show.
    pub name: &'a str,
}

const REVIEW_COLS: &str =
    "post_id, round, status, submitted_by, submitted_at, decided_by, decided_name, decided_at";
pub(crate) const COMMENT_COLS: &str =
    "id, post_id, user_id, author_name, kind, round, body, created_at";

/// Starts a new round (or the first) of a post's review, inside `$tx`;
/// evaluates to the round's number.
macro_rules! new_round {
    ($tx:expr, $post:expr, $who:expr, $now:expr) => {{
        let (round,): (i64,) = sqlx::query_as(
            "INSERT INTO post_reviews (post_id, round, status, submitted_by, submitted_at) \
             VALUES ($1, 1, 'open', $2, $3) ON CONFLICT (post_id) DO UPDATE SET \
             round = post_reviews.round + 1, status = 'open', submitted_by = excluded.submitted_by, \
             submitted_at = excluded.submitted_at, decided_by = NULL, decided_name = '', decided_at = NULL \
             RETURNING round",
        )
        .bind($post)
        .bind($who.user_id)
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        round
    }};
}

/// Adds an entry to a post's thread, inside `$tx`.
macro_rules! thread_entry {
    ($tx:expr, $post:expr, $who:expr, $kind:expr, $round:expr, $body:expr, $now:expr) => {{
        let c: Comment = sqlx::query_as(&format!(
            "INSERT INTO post_comments (post_id, user_id, author_name, kind, round, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COMMENT_COLS}"
        ))
        .bind($post)
        .bind($who.user_id)
        .bind($who.name)
        .bind($kind)
        .bind($round)
        .bind($body)
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        c
    }};
}

impl Store {
    /// Whether posts of the workspace need approval (off unless set).
    pub async fn approval_required(&self, workspace_id: i64) -> Result<bool> {
        let row: Option<(bool,)> = on!(self, p => sqlx::query_as(
            "SELECT required FROM approval_settings WHERE workspace_id = $1")
            .bind(workspace_id).fetch_optional(p).await)?;
        Ok(row.is_some_and(|(r,)| r))
    }

    /// Turns the approval requirement on or off.
    pub async fn set_approval_required(
        &self,
        workspace_id: i64,
        required: bool,
        now: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO approval_settings (workspace_id, required, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (workspace_id) DO UPDATE SET required = excluded.required, updated_at = excluded.updated_at")
            .bind(workspace_id).bind(required).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Submits a draft for approval: its targets go from `draft` to
    /// `in_review` and a new round starts. [`StoreError::NotFound`] for a
    /// post not in the workspace; [`StoreError::Conflict`] when it is no
    /// draft. Returns the round.
    pub async fn submit_post(
        &self,
        workspace_id: i64,
        post_id: i64,
        who: Actor<'_>,
        now: i64,
    ) -> Result<i64> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE posts SET updated_at = $1 WHERE workspace_id = $2 AND id = $3")
                .bind(now).bind(workspace_id).bind(post_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let moved = sqlx::query(
                "UPDATE post_targets SET state = 'in_review', updated_at = $1 WHERE post_id = $2 AND state = 'draft'")
                .bind(now).bind(post_id).execute(&mut *tx).await?.rows_affected();
            if moved == 0 {
                return Err(StoreError::Conflict);
            }
            let round = new_round!(tx, post_id, who, now);
            thread_entry!(tx, post_id, who, "submitted", round, "", now);
            tx.commit().await?;
            Ok(round)
        })
    }

    /// Records the first round of a post that was made in review.
    pub async fn start_review(&self, post_id: i64, who: Actor<'_>, now: i64) -> Result<i64> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let round = new_round!(tx, post_id, who, now);
            thread_entry!(tx, post_id, who, "submitted", round, "", now);
            tx.commit().await?;
            Ok(round)
        })
    }

    /// After a change by someone who may not approve: a post in review or
    /// approved (and not started) goes back to review in a new round.
    /// `None` when there was nothing to send back.
    pub async fn reopen_review(
        &self,
        workspace_id: i64,
        post_id: i64,
        who: Actor<'_>,
        now: i64,
    ) -> Result<Option<i64>> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE posts SET updated_at = $1 WHERE workspace_id = $2 AND id = $3")
                .bind(now).bind(workspace_id).bind(post_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let status: Option<(String,)> = sqlx::query_as("SELECT status FROM post_reviews WHERE post_id = $1")
                .bind(post_id).fetch_optional(&mut *tx).await?;
            if !status.is_some_and(|(s,)| s == "open" || s == "approved") {
                return Ok(None);
            }
            let moved = sqlx::query(
                "UPDATE post_targets SET state = 'in_review', updated_at = $1 WHERE post_id = $2 \
                 AND state IN ('in_review', 'scheduled') AND sending_since IS NULL")
                .bind(now).bind(post_id).execute(&mut *tx).await?.rows_affected();
            if moved == 0 {
                return Ok(None);
            }
            let round = new_round!(tx, post_id, who, now);
            thread_entry!(tx, post_id, who, "reopened", round, "", now);
            tx.commit().await?;
            Ok(Some(round))
        })
    }

    /// Approves (`approve`) or sends back a post in review. Approved, its
    /// targets become `scheduled` at the post's time, or now when that
    /// passed or it has none; sent back, they become `draft` and `reason`
    /// is in the thread. `round`, when given, must be the current one (the
    /// decider saw that version). [`StoreError::NotFound`]: no such post
    /// in the workspace; [`StoreError::Conflict`]: not in review (any
    /// more), or another round. Nothing changes on either.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide(
        &self,
        workspace_id: i64,
        post_id: i64,
        round: Option<i64>,
        approve: bool,
        who: Actor<'_>,
        reason: &str,
        now: i64,
    ) -> Result<Review> {
        let (state, status, kind) = if approve {
            ("scheduled", "approved", "approved")
        } else {
            ("draft", "rejected", "rejected")
        };
        let due =
            "CASE WHEN scheduled_at IS NULL OR scheduled_at < $1 THEN $1 ELSE scheduled_at END";
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            // The post's row first: it serialises deciders (and changes).
            let n = sqlx::query("UPDATE posts SET updated_at = $1 WHERE workspace_id = $2 AND id = $3")
                .bind(now).bind(workspace_id).bind(post_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let current: Option<(i64,)> = sqlx::query_as("SELECT round FROM post_reviews WHERE post_id = $1")
                .bind(post_id).fetch_optional(&mut *tx).await?;
            if round.is_some() && round != current.map(|(r,)| r) {
                return Err(StoreError::Conflict);
            }
            if approve {
                sqlx::query(&format!("UPDATE posts SET scheduled_at = {due} WHERE id = $2"))
                    .bind(now).bind(post_id).execute(&mut *tx).await?;
            }
            let moved = sqlx::query(
                "UPDATE post_targets SET state = $1, \
                 due_at = COALESCE((SELECT p.scheduled_at FROM posts p WHERE p.id = $2), due_at), \
                 updated_at = $3 WHERE post_id = $2 AND state = 'in_review'")
                .bind(state).bind(post_id).bind(now).execute(&mut *tx).await?.rows_affected();
            if moved == 0 {
                return Err(StoreError::Conflict);
            }
            if current.is_none() {
                let _ = new_round!(tx, post_id, who, now);
            }
            let review: Review = sqlx::query_as(&format!(
                "UPDATE post_reviews SET status = $1, decided_by = $2, decided_name = $3, decided_at = $4 \
                 WHERE post_id = $5 RETURNING {REVIEW_COLS}"))
                .bind(status).bind(who.user_id).bind(who.name).bind(now).bind(post_id)
                .fetch_one(&mut *tx).await?;
            thread_entry!(tx, post_id, who, kind, review.round, reason, now);
            tx.commit().await?;
            Ok(review)
        })
    }

    /// Adds a comment under a post of the workspace.
    pub async fn add_comment(
        &self,
        workspace_id: i64,
        post_id: i64,
        who: Actor<'_>,
        body: &str,
        now: i64,
    ) -> Result<Comment> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM posts WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id).bind(post_id).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            let round: Option<(i64,)> = sqlx::query_as("SELECT round FROM post_reviews WHERE post_id = $1")
                .bind(post_id).fetch_optional(&mut *tx).await?;
            let round = round.map_or(0, |(r,)| r);
            let c = thread_entry!(tx, post_id, who, "comment", round, body, now);
            tx.commit().await?;
            Ok(c)
        })
    }

    /// The thread under a post of the workspace, oldest first.
    pub async fn comments(&self, workspace_id: i64, post_id: i64) -> Result<Vec<Comment>> {
        let sql = format!(
            "SELECT {COMMENT_COLS} FROM post_comments WHERE post_id IN \
             (SELECT id FROM posts WHERE workspace_id = $1 AND id = $2) ORDER BY id LIMIT 1000"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(post_id).fetch_all(p).await)?,
        )
    }

    /// The threads under several posts, oldest first.
    pub async fn comments_of(&self, post_ids: &[i64]) -> Result<Vec<Comment>> {
        let mut rows: Vec<Comment> = self
            .rows_by_id(
                &format!("SELECT {COMMENT_COLS} FROM post_comments WHERE post_id"),
                post_ids,
            )
            .await?;
        rows.sort_by_key(|c| c.id);
        Ok(rows)
    }

    /// The review records of several posts (posts never submitted have none).
    pub async fn reviews_of(&self, post_ids: &[i64]) -> Result<Vec<Review>> {
        self.rows_by_id(
            &format!("SELECT {REVIEW_COLS} FROM post_reviews WHERE post_id"),
            post_ids,
        )
        .await
    }

    /// A workspace's posts awaiting approval, the soonest due first.
    pub async fn posts_in_review(
        &self,
        workspace_id: i64,
        limit: i64,
    ) -> Result<Vec<(Post, Vec<Target>)>> {
        let sql = format!(
            "SELECT {POST_COLS} FROM posts p \
             WHERE workspace_id = $1 AND EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = p.id AND t.state = 'in_review') \
             ORDER BY COALESCE(scheduled_at, created_at), id LIMIT $2"
        );
        let posts: Vec<Post> =
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(limit).fetch_all(p).await)?;
        self.with_targets(posts).await
    }

    /// Stores a client's approval link for one review round.
    pub async fn create_approval_link(
        &self,
        token_hash: &str,
        post_id: i64,
        round: i64,
        created_by: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO approval_links (token_hash, post_id, round, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(token_hash).bind(post_id).bind(round).bind(created_by).bind(now).bind(expires_at)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A link by its hash, with the post's current round, whatever its state.
    pub async fn approval_link(&self, token_hash: &str) -> Result<Option<ApprovalLink>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT l.post_id, p.workspace_id, w.name AS workspace_name, w.timezone, l.round, l.expires_at, l.used_at, \
             r.round AS current_round, r.status \
             FROM approval_links l JOIN posts p ON p.id = l.post_id JOIN workspaces w ON w.id = p.workspace_id \
             LEFT JOIN post_reviews r ON r.post_id = l.post_id \
             WHERE l.token_hash = $1")
            .bind(token_hash).fetch_optional(p).await)?)
    }

    /// Marks a link used, once: `false` when it was used already.
    pub async fn use_approval_link(&self, token_hash: &str, now: i64) -> Result<bool> {
        let n = on!(self, p => sqlx::query(
            "UPDATE approval_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(now).bind(token_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
