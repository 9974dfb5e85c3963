//! Service levels: a workspace's opening hours and inbox targets, and the
//! rows the figures per agent and per channel are computed from.

use crate::{Result, Store, on};

/// A workspace's service levels as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InboxSettings {
    /// Opening hours in their stored form (`1=09:00-17:00,…`).
    pub hours: String,
    /// Answer within this many business minutes.
    pub first_response_minutes: i64,
    /// Resolve within this many business minutes.
    pub resolution_minutes: i64,
}

/// One conversation as the figures see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResponseRow {
    /// The conversation.
    pub id: i64,
    /// Its channel.
    pub channel_id: i64,
    /// That channel's name.
    pub channel_name: String,
    /// Its first item's time.
    pub created_at: i64,
    /// When we first answered.
    pub first_response_at: Option<i64>,
    /// When it was resolved.
    pub resolved_at: Option<i64>,
    /// `open`, `pending` or `resolved`.
    pub status: String,
    /// Since when a customer waits.
    pub waiting_since: Option<i64>,
    /// Who sent the first answer.
    pub responder_id: Option<i64>,
    /// Their name.
    pub responder_name: Option<String>,
    /// Who it is assigned to.
    pub assignee_id: Option<i64>,
    /// Their name.
    pub assignee_name: Option<String>,
}

/// The most conversations the figures read.
pub const FIGURE_ROWS: i64 = 100_000;

impl Store {
    /// A workspace's service levels, if set.
    pub async fn inbox_settings(&self, workspace_id: i64) -> Result<Option<InboxSettings>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT hours, first_response_minutes, resolution_minutes FROM inbox_settings WHERE workspace_id = $1")
            .bind(workspace_id).fetch_optional(p).await)?)
    }

    /// Sets a workspace's service levels.
    pub async fn set_inbox_settings(
        &self,
        workspace_id: i64,
        s: &InboxSettings,
        now: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO inbox_settings (workspace_id, hours, first_response_minutes, resolution_minutes, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id) DO UPDATE SET hours = excluded.hours, \
             first_response_minutes = excluded.first_response_minutes, \
             resolution_minutes = excluded.resolution_minutes, updated_at = excluded.updated_at")
            .bind(workspace_id).bind(&s.hours).bind(s.first_response_minutes).bind(s.resolution_minutes).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The conversations that started since `since` (at most
    /// [`FIGURE_ROWS`], the newest), with who answered them first.
    pub async fn response_rows(&self, workspace_id: i64, since: i64) -> Result<Vec<ResponseRow>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT c.id, c.channel_id, ch.name AS channel_name, c.created_at, c.first_response_at, c.resolved_at, \
             c.status, c.waiting_since, r.user_id AS responder_id, ru.name AS responder_name, \
             c.assignee_id, au.name AS assignee_name \
             FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
             LEFT JOIN conversation_entries r ON r.id = (SELECT e.id FROM conversation_entries e \
                 WHERE e.conversation_id = c.id AND e.state = 'sent' ORDER BY e.sent_at, e.id LIMIT 1) \
             LEFT JOIN users ru ON ru.id = r.user_id LEFT JOIN users au ON au.id = c.assignee_id \
             WHERE c.workspace_id = $1 AND c.created_at >= $2 ORDER BY c.created_at DESC LIMIT $3")
            .bind(workspace_id).bind(since).bind(FIGURE_ROWS).fetch_all(p).await)?)
    }
}
