//! Workspaces, their members and invitations.

use crate::BeginWrite;
use crate::models::{MemberRow, MembershipRow};
use crate::{Invite, Member, Membership, Result, Store, StoreError, User, Workspace, on};
use dialoog_domain::Role;

/// What accepting an invite creates.
#[derive(Debug, Clone)]
pub struct NewInvitee<'a> {
    /// Display name.
    pub name: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// Interface language to start with.
    pub locale: &'a str,
}

impl Store {
    /// Creates a workspace with `owner` as its owner, atomically.
    pub async fn create_workspace(
        &self,
        name: &str,
        timezone: &str,
        owner: i64,
        now: i64,
    ) -> Result<Workspace> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let ws: Workspace = sqlx::query_as(
                "INSERT INTO workspaces (name, timezone, created_at) VALUES ($1, $2, $3) RETURNING id, name, timezone, created_at")
                .bind(name).bind(timezone).bind(now).fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO members (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)")
                .bind(ws.id).bind(owner).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(ws)
        })
    }

    /// Every workspace the user belongs to, by name.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<Membership>> {
        let rows: Vec<MembershipRow> = on!(self, p => sqlx::query_as(
            "SELECT w.id, w.name, w.timezone, w.created_at, m.role FROM members m \
             JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 ORDER BY w.name, w.id")
            .bind(user_id).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .filter_map(MembershipRow::into_membership)
            .collect())
    }

    /// The user's membership of one workspace; `None` when they are not a
    /// member (callers answer "not found", never revealing that it exists).
    pub async fn membership(&self, workspace_id: i64, user_id: i64) -> Result<Option<Membership>> {
        let row: Option<MembershipRow> = on!(self, p => sqlx::query_as(
            "SELECT w.id, w.name, w.timezone, w.created_at, m.role FROM members m \
             JOIN workspaces w ON w.id = m.workspace_id WHERE m.workspace_id = $1 AND m.user_id = $2")
            .bind(workspace_id).bind(user_id).fetch_optional(p).await)?;
        Ok(row.and_then(MembershipRow::into_membership))
    }

    /// Renames a workspace and sets its timezone.
    pub async fn update_workspace(&self, id: i64, name: &str, timezone: &str) -> Result<Workspace> {
        Ok(on!(self, p => sqlx::query_as(
            "UPDATE workspaces SET name = $1, timezone = $2 WHERE id = $3 RETURNING id, name, timezone, created_at")
            .bind(name).bind(timezone).bind(id).fetch_one(p).await)?)
    }

    /// The workspace's members, owners first.
    pub async fn members(&self, workspace_id: i64) -> Result<Vec<Member>> {
        let rows: Vec<MemberRow> = on!(self, p => sqlx::query_as(
            "SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at FROM members m \
             JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY u.name, u.id")
            .bind(workspace_id).fetch_all(p).await)?;
        let mut out: Vec<Member> = rows
            .into_iter()
            .filter_map(|r| {
                Some(Member {
                    role: Role::parse(&r.role).ok()?,
                    user_id: r.user_id,
                    email: r.email,
                    name: r.name,
                    joined_at: r.created_at,
                })
            })
            .collect();
        out.sort_by_key(|m| m.role);
        Ok(out)
    }

    /// Adds an existing user; [`StoreError::Conflict`] if already a member.
    pub async fn add_member(
        &self,
        workspace_id: i64,
        user_id: i64,
        role: Role,
        now: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query("INSERT INTO members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(workspace_id).bind(user_id).bind(role.as_str()).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Changes a member's role. Refuses ([`StoreError::Conflict`]) to leave the
    /// workspace without an owner; [`StoreError::NotFound`] for a non-member.
    pub async fn set_member_role(&self, workspace_id: i64, user_id: i64, role: Role) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE members SET role = $1 WHERE workspace_id = $2 AND user_id = $3")
                .bind(role.as_str()).bind(workspace_id).bind(user_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 { return Err(StoreError::NotFound); }
            let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE workspace_id = $1 AND role = 'owner'")
                .bind(workspace_id).fetch_one(&mut *tx).await?;
            if owners == 0 { return Err(StoreError::Conflict); }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Removes a member. Refuses ([`StoreError::Conflict`]) to remove the last
    /// owner; [`StoreError::NotFound`] for a non-member.
    pub async fn remove_member(&self, workspace_id: i64, user_id: i64) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("DELETE FROM members WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace_id).bind(user_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 { return Err(StoreError::NotFound); }
            let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE workspace_id = $1 AND role = 'owner'")
                .bind(workspace_id).fetch_one(&mut *tx).await?;
            if owners == 0 { return Err(StoreError::Conflict); }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records an invitation by link.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_invite(
        &self,
        code_hash: &str,
        workspace_id: i64,
        email: &str,
        role: Role,
        invited_by: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query(
            "INSERT INTO invites (code_hash, workspace_id, email, role, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(code_hash).bind(workspace_id).bind(email).bind(role.as_str()).bind(invited_by).bind(now).bind(expires_at)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// An invitation by code hash, whatever its state.
    pub async fn invite(&self, code_hash: &str) -> Result<Option<Invite>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT i.workspace_id, w.name AS workspace_name, i.email, i.role, i.created_at, i.expires_at, i.accepted_at \
             FROM invites i JOIN workspaces w ON w.id = i.workspace_id WHERE i.code_hash = $1")
            .bind(code_hash).fetch_optional(p).await)?)
    }

    /// Open invitations of a workspace, newest first.
    pub async fn pending_invites(&self, workspace_id: i64, now: i64) -> Result<Vec<Invite>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT i.workspace_id, w.name AS workspace_name, i.email, i.role, i.created_at, i.expires_at, i.accepted_at \
             FROM invites i JOIN workspaces w ON w.id = i.workspace_id \
             WHERE i.workspace_id = $1 AND i.accepted_at IS NULL AND i.expires_at > $2 ORDER BY i.created_at DESC")
            .bind(workspace_id).bind(now).fetch_all(p).await)?)
    }

    /// Accepts an invitation once, atomically: marks it used, creates the
    /// account and the membership. [`StoreError::NotFound`] when the code is
    /// unknown, used or expired; [`StoreError::Conflict`] when the address has
    /// meanwhile got an account.
    pub async fn accept_invite(
        &self,
        code_hash: &str,
        who: &NewInvitee<'_>,
        now: i64,
    ) -> Result<(User, i64)> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            #[derive(sqlx::FromRow)]
            struct Claimed { workspace_id: i64, email: String, role: String }
            let inv: Claimed = sqlx::query_as(
                "UPDATE invites SET accepted_at = $1 WHERE code_hash = $2 AND accepted_at IS NULL AND expires_at > $1 \
                 RETURNING workspace_id, email, role")
                .bind(now).bind(code_hash).fetch_one(&mut *tx).await?;
            let user: User = sqlx::query_as(
                "INSERT INTO users (email, name, password_hash, locale, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id, email, name, password_hash, locale, is_admin, totp_secret, totp_enabled, created_at")
                .bind(&inv.email).bind(who.name).bind(who.password_hash).bind(who.locale).bind(now)
                .fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(inv.workspace_id).bind(user.id).bind(&inv.role).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok((user, inv.workspace_id))
        })
    }
}
