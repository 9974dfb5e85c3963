//! Notifications: what a person should know about, shown in the app and
//! mailed once where SMTP is set up.

use crate::{Result, Store, on};

/// Something to tell one person.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notification {
    /// Stable id.
    pub id: i64,
    /// Who is told.
    pub user_id: i64,
    /// The workspace it is about.
    pub workspace_id: i64,
    /// `post_failed`, `post_unconfirmed`.
    pub kind: String,
    /// What it is about (a post's id).
    pub subject_id: i64,
    /// A word on it (a channel's name).
    pub detail: String,
    /// When it happened.
    pub created_at: i64,
    /// When it was read.
    pub read_at: Option<i64>,
    /// When it was mailed.
    pub mailed_at: Option<i64>,
}

const COLS: &str =
    "id, user_id, workspace_id, kind, subject_id, detail, created_at, read_at, mailed_at";

impl Store {
    /// Tells `user_id` about something.
    pub async fn notify(
        &self,
        user_id: i64,
        workspace_id: i64,
        kind: &str,
        subject_id: i64,
        detail: &str,
        now: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO notifications (user_id, workspace_id, kind, subject_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(user_id).bind(workspace_id).bind(kind).bind(subject_id).bind(detail).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A person's newest notifications.
    pub async fn notifications(&self, user_id: i64, limit: i64) -> Result<Vec<Notification>> {
        let sql = format!(
            "SELECT {COLS} FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(user_id).bind(limit).fetch_all(p).await)?)
    }

    /// How many of a person's notifications are unread.
    pub async fn unread_notifications(&self, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = on!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id).fetch_one(p).await)?;
        Ok(n)
    }

    /// Marks all of a person's notifications read.
    pub async fn read_notifications(&self, user_id: i64, now: i64) -> Result<()> {
        on!(self, p => sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now).bind(user_id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Notifications not mailed yet, oldest first.
    pub async fn notifications_to_mail(&self, limit: i64) -> Result<Vec<Notification>> {
        let sql = format!(
            "SELECT {COLS} FROM notifications WHERE mailed_at IS NULL ORDER BY id LIMIT $1"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(limit).fetch_all(p).await)?)
    }

    /// Records that a notification was mailed (or will not be).
    pub async fn mark_mailed(&self, id: i64, now: i64) -> Result<()> {
        on!(self, p => sqlx::query("UPDATE notifications SET mailed_at = $1 WHERE id = $2")
            .bind(now).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
