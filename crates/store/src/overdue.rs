//! Conversations waiting past their answer target: the oldest waits not
//! told yet, and telling the team once per wait (the assignee, or the
//! owners and managers while nobody is assigned).

use crate::BeginWrite;
use crate::{Conversation, Result, Store, inbox::CONV_SELECT, on};

impl Store {
    /// Workspaces (id and timezone) with conversations waiting for an
    /// answer since before `before`, not told yet.
    pub async fn workspaces_waiting(&self, before: i64) -> Result<Vec<(i64, String)>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT w.id, w.timezone FROM workspaces w WHERE EXISTS (SELECT 1 FROM conversations c \
             WHERE c.workspace_id = w.id AND c.waiting_since IS NOT NULL AND c.waiting_since <= $1 \
             AND c.status <> 'resolved' AND (c.overdue_told_at IS NULL OR c.overdue_told_at < c.waiting_since)) \
             ORDER BY w.id")
            .bind(before).fetch_all(p).await)?)
    }

    /// A workspace's conversations waiting since before `before` whose
    /// wait was not told yet and that are not snoozed at `now`, the
    /// longest wait first.
    pub async fn waiting_untold(
        &self,
        workspace_id: i64,
        before: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        let sql = format!(
            "{CONV_SELECT} WHERE c.workspace_id = $1 AND c.waiting_since IS NOT NULL \
             AND c.waiting_since <= $2 AND c.status <> 'resolved' \
             AND (c.overdue_told_at IS NULL OR c.overdue_told_at < c.waiting_since) \
             AND (c.snoozed_until IS NULL OR c.snoozed_until <= $3) \
             ORDER BY c.waiting_since, c.id LIMIT $4"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(before).bind(now)
            .bind(limit).fetch_all(p).await)?,
        )
    }

    /// Tells the team that conversation `id` waits past its target, once
    /// for the wait that began at `waiting_since`: its assignee when it
    /// has one (and they are still a member), else every member for whom
    /// `lead(role)` holds. Returns whether anyone was told now (false when
    /// the wait ended or was told already).
    pub async fn tell_overdue(
        &self,
        id: i64,
        waiting_since: i64,
        now: i64,
        lead: impl Fn(&str) -> bool,
    ) -> Result<bool> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let row: Option<(i64, Option<i64>, String)> = sqlx::query_as(
                "UPDATE conversations SET overdue_told_at = $1 WHERE id = $2 AND waiting_since = $3 \
                 AND status <> 'resolved' AND (overdue_told_at IS NULL OR overdue_told_at < waiting_since) \
                 RETURNING workspace_id, assignee_id, author_name")
                .bind(now).bind(id).bind(waiting_since).fetch_optional(&mut *tx).await?;
            let Some((ws, assignee, author)) = row else {
                return Ok(false);
            };
            let members: Vec<(i64, String)> = sqlx::query_as(
                "SELECT user_id, role FROM members WHERE workspace_id = $1 ORDER BY user_id")
                .bind(ws).fetch_all(&mut *tx).await?;
            let assigned = assignee.filter(|a| members.iter().any(|(u, _)| u == a));
            let told: Vec<i64> = match assigned {
                Some(a) => vec![a],
                None => members.iter().filter(|(_, r)| lead(r)).map(|(u, _)| *u).collect(),
            };
            for user in told {
                sqlx::query(
                    "INSERT INTO notifications (user_id, workspace_id, kind, subject_id, detail, created_at) \
                     VALUES ($1, $2, 'inbox_overdue', $3, $4, $5)")
                    .bind(user).bind(ws).bind(id).bind(&author).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(true)
    }
}
