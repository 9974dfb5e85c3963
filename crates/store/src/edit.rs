//! Editing a post that has not gone out: its texts, images, campaign and
//! time change in one transaction that first takes hold of the post's
//! targets, so the dispatcher never sends a text that is changing under
//! it, and an edit never changes a text the dispatcher took.
//!
//! The first statement updates every target row of the post: on
//! PostgreSQL that locks them (the dispatcher's claim skips locked rows,
//! and an edit waits for a claim in progress and then sees its outcome);
//! on SQLite it makes the transaction the one writer. A target that is
//! publishing, was sent (even in part) or is past publishing refuses the
//! whole edit with [`StoreError::Conflict`] and nothing changes.

use crate::BeginWrite;
use crate::approval::{COMMENT_COLS, Comment};
use crate::posts::EDITABLE;
use crate::{Actor, Result, Store, StoreError, on};

/// What an edit does to the post's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStep {
    /// Nothing (a draft, or no approval involved).
    Keep,
    /// By someone who may not approve: a post in review, approved or
    /// scheduled goes (back) to review in a new round. With `always`
    /// (the workspace requires approval) even a post never reviewed;
    /// otherwise only one whose review is open or approved.
    Reopen {
        /// The workspace requires approval.
        always: bool,
    },
    /// By someone who may approve: the post keeps its state; a review in
    /// progress starts a new round, so what was shown for the old text
    /// (a client's link among them) cannot approve the new one.
    Renew,
}

/// A post's new content, checked by the composer's check.
#[derive(Debug, Clone)]
pub struct PostEdit {
    /// The shared text.
    pub text: String,
    /// The new time (UTC ms); `None` keeps the time (and each target's
    /// due time). A draft's time may be cleared with `clear_time`.
    pub scheduled_at: Option<i64>,
    /// A draft's time is taken away.
    pub clear_time: bool,
    /// The campaign (empty: none).
    pub campaign: String,
    /// The images, in order, each a media id of the workspace with its
    /// alt text (an id not the workspace's: [`StoreError::NotFound`]).
    pub media: Vec<(i64, String)>,
    /// Each channel's text to send (`None`: the shared text).
    pub targets: Vec<(i64, Option<String>)>,
    /// What happens to its review.
    pub review: ReviewStep,
    /// Who edits, for the thread.
    pub by_user: Option<i64>,
    /// Their name, for the thread.
    pub by_name: String,
}

impl Store {
    /// Edits a post of the workspace while none of its targets has
    /// started; returns the review round started, if any.
    /// [`StoreError::NotFound`]: no such post in the workspace;
    /// [`StoreError::Conflict`]: a target is publishing or further along.
    pub async fn edit_post(
        &self,
        workspace_id: i64,
        id: i64,
        edit: &PostEdit,
        now: i64,
    ) -> Result<Option<i64>> {
        let who = Actor {
            user_id: edit.by_user,
            name: &edit.by_name,
        };
        let hold = format!(
            "UPDATE post_targets SET updated_at = $1 \
             WHERE post_id IN (SELECT id FROM posts WHERE workspace_id = $2 AND id = $3) \
             RETURNING CAST(CASE WHEN state IN {EDITABLE} AND sending_since IS NULL THEN 0 ELSE 1 END AS BIGINT)"
        );
        let media_sql = "INSERT INTO post_media (post_id, position, media_id, alt) \
             SELECT $1, $2, id, $3 FROM media WHERE id = $4 AND workspace_id = $5";
        let target_sql = "UPDATE post_targets SET text = $1, \
             due_at = CASE WHEN $5 THEN $3 ELSE COALESCE($2, due_at) END, updated_at = $3 \
             WHERE post_id = $4 AND channel_id = $6";
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let held: Vec<(i64,)> = sqlx::query_as(&hold)
                .bind(now).bind(workspace_id).bind(id).fetch_all(&mut *tx).await?;
            if held.iter().any(|(started,)| *started != 0) {
                return Err(StoreError::Conflict);
            }
            let n = sqlx::query(
                "UPDATE posts SET text = $1, campaign = $2, \
                 scheduled_at = CASE WHEN $3 THEN NULL ELSE COALESCE($4, scheduled_at) END, updated_at = $5 \
                 WHERE workspace_id = $6 AND id = $7")
                .bind(&edit.text).bind(&edit.campaign).bind(edit.clear_time).bind(edit.scheduled_at).bind(now)
                .bind(workspace_id).bind(id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM post_media WHERE post_id = $1").bind(id).execute(&mut *tx).await?;
            for (position, (media_id, alt)) in (0_i64..).zip(&edit.media) {
                let n = sqlx::query(media_sql)
                    .bind(id).bind(position).bind(alt).bind(media_id).bind(workspace_id)
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            for (channel, text) in &edit.targets {
                sqlx::query(target_sql)
                    .bind(text).bind(edit.scheduled_at).bind(now).bind(id).bind(edit.clear_time).bind(channel)
                    .execute(&mut *tx).await?;
            }
            let status: Option<(String,)> = sqlx::query_as("SELECT status FROM post_reviews WHERE post_id = $1")
                .bind(id).fetch_optional(&mut *tx).await?;
            let status = status.map(|(s,)| s);
            let round = match edit.review {
                ReviewStep::Keep => None,
                ReviewStep::Reopen { always } => {
                    let reviewed = matches!(status.as_deref(), Some("open" | "approved"));
                    let moved = if always || reviewed {
                        sqlx::query(
                            "UPDATE post_targets SET state = 'in_review', updated_at = $1 WHERE post_id = $2 \
                             AND state IN ('in_review', 'approved', 'scheduled')")
                            .bind(now).bind(id).execute(&mut *tx).await?.rows_affected()
                    } else {
                        0
                    };
                    if moved > 0 { Some(new_round!(tx, id, who, now)) } else { None }
                }
                ReviewStep::Renew => {
                    let (waiting,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM post_targets WHERE post_id = $1 AND state = 'in_review'")
                        .bind(id).fetch_one(&mut *tx).await?;
                    if waiting > 0 && status.as_deref() == Some("open") {
                        Some(new_round!(tx, id, who, now))
                    } else {
                        None
                    }
                }
            };
            if let Some(round) = round {
                let _ = thread_entry!(tx, id, who, "reopened", round, "", now);
            }
            tx.commit().await?;
            Ok(round)
        })
    }
}
