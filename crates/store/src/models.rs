//! Rows as the rest of Dialoog sees them. Times are UTC milliseconds.

use dialoog_domain::Role;

/// A person who can sign in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    /// Stable id.
    pub id: i64,
    /// Normalised e-mail address, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Chosen interface language (`nl`, `en`), if the user picked one.
    pub locale: Option<String>,
    /// Organisation administrator: may create workspaces.
    pub is_admin: bool,
    /// Base32 TOTP secret, set while enrolling or enabled.
    pub totp_secret: Option<String>,
    /// Whether sign-in asks for a TOTP code.
    pub totp_enabled: bool,
    /// When the account was made.
    pub created_at: i64,
}

/// A workspace: one brand or one agency client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Workspace {
    /// Stable id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// IANA timezone.
    pub timezone: String,
    /// When it was made.
    pub created_at: i64,
}

/// A workspace together with the caller's role in it.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The workspace.
    pub workspace: Workspace,
    /// The caller's role there.
    pub role: Role,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub created_at: i64,
    pub role: String,
}

impl MembershipRow {
    pub(crate) fn into_membership(self) -> Option<Membership> {
        Some(Membership {
            role: Role::parse(&self.role).ok()?,
            workspace: Workspace {
                id: self.id,
                name: self.name,
                timezone: self.timezone,
                created_at: self.created_at,
            },
        })
    }
}

/// A member as listed on the members page.
#[derive(Debug, Clone)]
pub struct Member {
    /// The user's id.
    pub user_id: i64,
    /// Their e-mail address.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their role in this workspace.
    pub role: Role,
    /// When they joined.
    pub joined_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
}

/// A signed-in browser session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    /// Whose session.
    pub user_id: i64,
    /// True between the password and the TOTP code.
    pub mfa_pending: bool,
    /// When it ends.
    pub expires_at: i64,
}

/// A personal API token (its secret is never stored, only its hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    /// Stable id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// What the user called it.
    pub name: String,
    /// When it was made.
    pub created_at: i64,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<i64>,
}

/// An invitation to a workspace, by link.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invite {
    /// The workspace invited to.
    pub workspace_id: i64,
    /// Its name, to show on the invite page.
    pub workspace_name: String,
    /// The invited address.
    pub email: String,
    /// The role given on acceptance.
    pub role: String,
    /// When it was made.
    pub created_at: i64,
    /// After this it can no longer be used.
    pub expires_at: i64,
    /// Set once used.
    pub accepted_at: Option<i64>,
}

/// One line of the audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    /// Stable, increasing id.
    pub id: i64,
    /// The workspace it happened in, if any.
    pub workspace_id: Option<i64>,
    /// Who did it, if a person did.
    pub user_id: Option<i64>,
    /// Their name at read time.
    pub user_name: Option<String>,
    /// When.
    pub at: i64,
    /// A stable code such as `member.role_changed`.
    pub action: String,
    /// JSON with the particulars.
    pub detail: String,
}
