//! Notifications: what a person should know about, shown in the app and
//! mailed once where SMTP is set up.

use crate::{Backend, Result, Store, on};

/// Something to tell one person.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notification {
    /// Stable id.
    pub id: i64,
    /// Who is told.
    pub user_id: i64,
    /// The workspace it is about.
    pub workspace_id: i64,
    /// `post_failed`, `post_unconfirmed`, `post_approved`,
    /// `post_rejected`, `post_commented`.
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

    /// How many of a person's notifications are unread, in the workspaces
    /// they still belong to.
    pub async fn unread_notifications(&self, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = on!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM notifications n \
             JOIN members m ON m.workspace_id = n.workspace_id AND m.user_id = n.user_id \
             WHERE n.user_id = $1 AND n.read_at IS NULL")
            .bind(user_id).fetch_one(p).await)?;
        Ok(n)
    }

    /// A person's newest notifications as the app shows them: only those
    /// of workspaces they still belong to, each with its workspace, its
    /// post's text and, for a post that did not go out, the target's reason.
    pub async fn shown_notifications(
        &self,
        user_id: i64,
        limit: i64,
    ) -> Result<Vec<ShownNotification>> {
        let reason = |col: &str| {
            format!(
                "COALESCE((SELECT t.{col} FROM post_targets t WHERE t.post_id = n.subject_id \
                 AND t.channel_name = n.detail AND t.state IN ('failed', 'unconfirmed') \
                 AND n.kind IN ('post_failed', 'post_unconfirmed') ORDER BY t.id LIMIT 1), '')"
            )
        };
        let sql = format!(
            "SELECT n.id, n.workspace_id, w.name AS workspace_name, w.timezone, n.kind, \
             n.subject_id, n.detail, n.created_at, n.read_at, COALESCE(p.text, '') AS post_text, \
             {} AS error_code, {} AS error \
             FROM notifications n \
             JOIN members m ON m.workspace_id = n.workspace_id AND m.user_id = n.user_id \
             JOIN workspaces w ON w.id = n.workspace_id \
             LEFT JOIN posts p ON p.id = n.subject_id AND p.workspace_id = n.workspace_id AND n.kind LIKE 'post%' \
             WHERE n.user_id = $1 ORDER BY n.id DESC LIMIT $2",
            reason("error_code"),
            reason("error")
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(user_id).bind(limit).fetch_all(p).await)?)
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

    /// Claims up to `limit` notifications to mail: each is marked mailed
    /// (`mailed_at = now`) in the same statement that selects it, so two
    /// processes never mail the same one. On PostgreSQL rows another
    /// process is claiming are skipped; SQLite has one writer at a time.
    pub async fn claim_mail(&self, now: i64, limit: i64) -> Result<Vec<MailNotice>> {
        let lock = match self.backend {
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite(_) => "",
        };
        let sql = format!(
            "WITH c AS MATERIALIZED (SELECT id FROM notifications WHERE mailed_at IS NULL ORDER BY id LIMIT $2{lock}) \
             UPDATE notifications SET mailed_at = $1 WHERE id IN (SELECT id FROM c) \
             AND mailed_at IS NULL RETURNING {COLS}"
        );
        let mut claimed: Vec<Notification> =
            on!(self, p => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(p).await)?;
        claimed.sort_by_key(|n| n.id);
        // What the message says: the person, and the target's reason
        // (the post's target on the named channel that did not go out).
        let about = "SELECT u.email, u.name, u.locale, p.text, t.error_code, t.error \
            FROM notifications n JOIN users u ON u.id = n.user_id \
            LEFT JOIN posts p ON p.id = n.subject_id AND n.kind LIKE 'post%' \
            LEFT JOIN post_targets t ON t.post_id = n.subject_id AND t.channel_name = n.detail AND n.kind LIKE 'post%' \
                AND t.state IN ('failed', 'unconfirmed') \
            WHERE n.id = $1 ORDER BY t.id LIMIT 1";
        let mut out = Vec::with_capacity(claimed.len());
        for notification in claimed {
            type Row = (
                String,
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
            );
            let row: Option<Row> = on!(self, p => sqlx::query_as(about)
                .bind(notification.id).fetch_optional(p).await)?;
            let Some((email, name, locale, text, code, error)) = row else {
                continue;
            };
            out.push(MailNotice {
                notification,
                email,
                name,
                locale,
                post_text: text.unwrap_or_default(),
                error_code: code.unwrap_or_default(),
                error: error.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Gives a claimed notification back to be mailed later (the server
    /// could not be reached), while it is younger than `keep_after`.
    pub async fn unclaim_mail(&self, id: i64, keep_after: i64) -> Result<()> {
        on!(self, p => sqlx::query(
            "UPDATE notifications SET mailed_at = NULL WHERE id = $1 AND created_at > $2")
            .bind(id).bind(keep_after).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// A notification claimed for mailing, with what its message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailNotice {
    /// The notification (its `mailed_at` is the claim's time).
    pub notification: Notification,
    /// The person's address.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their language (`nl`, `en`).
    pub locale: String,
    /// The post's text (empty once the post is gone).
    pub post_text: String,
    /// Why the target did not go out, as a stable code (empty when unknown).
    pub error_code: String,
    /// The network's words.
    pub error: String,
}

/// A notification as the app shows it (see [`Store::shown_notifications`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ShownNotification {
    /// The notification's id.
    pub id: i64,
    /// The workspace it is about.
    pub workspace_id: i64,
    /// That workspace's name.
    pub workspace_name: String,
    /// That workspace's IANA timezone.
    pub timezone: String,
    /// What happened (see [`Notification::kind`]).
    pub kind: String,
    /// The post's id.
    pub subject_id: i64,
    /// A channel's name, or the name of the person who decided or commented.
    pub detail: String,
    /// When it happened.
    pub created_at: i64,
    /// When it was read.
    pub read_at: Option<i64>,
    /// The post's text (empty once the post is gone).
    pub post_text: String,
    /// Why the target did not go out, as a stable code (empty when unknown
    /// or not about a failure).
    pub error_code: String,
    /// The network's words.
    pub error: String,
}
