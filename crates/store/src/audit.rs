//! The audit log: who did what, when, in which workspace.

use crate::{AuditEntry, Result, Store, on};

const AUDIT_SELECT: &str = "SELECT a.id, a.workspace_id, a.user_id, u.name AS user_name, a.at, a.action, a.detail \
     FROM audit_log a LEFT JOIN users u ON u.id = a.user_id";

impl Store {
    /// Appends one entry. `detail` is a JSON object with the particulars.
    pub async fn audit(
        &self,
        workspace_id: Option<i64>,
        user_id: Option<i64>,
        action: &str,
        detail: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        let detail = detail.to_string();
        on!(self, p => sqlx::query("INSERT INTO audit_log (workspace_id, user_id, at, action, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(workspace_id).bind(user_id).bind(now).bind(action).bind(&detail).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A workspace's entries, newest first, before the id `before` if given.
    pub async fn audit_for_workspace(
        &self,
        workspace_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "{AUDIT_SELECT} WHERE a.workspace_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3"
        );
        Ok(
            on!(self, p => sqlx::query_as(&sql).bind(workspace_id).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(p).await)?,
        )
    }

    /// A user's own account entries (no workspace), newest first.
    pub async fn audit_for_user(&self, user_id: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "{AUDIT_SELECT} WHERE a.user_id = $1 AND a.workspace_id IS NULL ORDER BY a.id DESC LIMIT $2"
        );
        Ok(on!(self, p => sqlx::query_as(&sql).bind(user_id).bind(limit).fetch_all(p).await)?)
    }
}
