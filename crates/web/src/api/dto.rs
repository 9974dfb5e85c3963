//! Request and response bodies of the API. Requests refuse unknown fields,
//! so a typo is an error rather than silently ignored.

use dialoog_store::{ApiToken, AuditEntry, Member, Membership, User, Workspace};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A UTC instant in milliseconds as RFC 3339 text.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// `POST /api/v1/setup`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The organisation's name; also the first workspace's.
    pub organisation: String,
    /// The owner's name.
    pub name: String,
    /// The owner's e-mail address.
    pub email: String,
    /// At least 10 characters, not a well-known password.
    pub password: String,
}

/// A user as the API shows them.
#[derive(Serialize, ToSchema)]
pub struct UserDto {
    /// Stable id.
    pub id: i64,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Interface language, if chosen.
    pub locale: Option<String>,
    /// Organisation administrator (may create workspaces).
    pub is_admin: bool,
    /// Two-factor sign-in in force.
    pub two_factor: bool,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            locale: u.locale.clone(),
            is_admin: u.is_admin,
            two_factor: u.totp_enabled,
        }
    }
}

/// A new account with its first API token.
#[derive(Serialize, ToSchema)]
pub struct UserWithToken {
    /// The account.
    pub user: UserDto,
    /// A personal API token: send as `Authorization: Bearer …`. Shown once.
    pub token: String,
}

/// `POST /api/v1/auth/tokens`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The account's e-mail address.
    pub email: String,
    /// Its password.
    pub password: String,
    /// What to call the token.
    pub name: String,
    /// The current two-factor code, when two-factor sign-in is on.
    #[serde(default)]
    pub totp: Option<String>,
}

/// A token just made; its secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    /// Token id (for revoking).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The secret.
    pub token: String,
}

/// A token as listed (without its secret).
#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    /// Token id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was last used, to the minute.
    pub last_used_at: Option<String>,
}

impl From<&ApiToken> for TokenDto {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

/// A workspace with the caller's role.
#[derive(Serialize, ToSchema)]
pub struct WorkspaceDto {
    /// Stable id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// IANA timezone.
    pub timezone: String,
    /// The caller's role.
    pub role: String,
    /// When it was made.
    pub created_at: String,
}

impl WorkspaceDto {
    /// From a workspace and a role.
    pub fn new(w: &Workspace, role: dialoog_domain::Role) -> Self {
        Self {
            id: w.id,
            name: w.name.clone(),
            timezone: w.timezone.clone(),
            role: role.to_string(),
            created_at: rfc3339(w.created_at),
        }
    }
}

impl From<&Membership> for WorkspaceDto {
    fn from(m: &Membership) -> Self {
        Self::new(&m.workspace, m.role)
    }
}

/// `GET /api/v1/me`.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// The caller.
    pub user: UserDto,
    /// Their workspaces.
    pub workspaces: Vec<WorkspaceDto>,
}

/// `POST /api/v1/workspaces`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceCreate {
    /// Name.
    pub name: String,
    /// IANA timezone; Europe/Amsterdam when left out.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// `PATCH /api/v1/workspaces/{ws}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspacePatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New IANA timezone.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// A member of a workspace.
#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    /// The user's id.
    pub user_id: i64,
    /// E-mail address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role in this workspace.
    pub role: String,
    /// When they joined.
    pub joined_at: String,
}

impl From<&Member> for MemberDto {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role.to_string(),
            joined_at: rfc3339(m.joined_at),
        }
    }
}

/// `POST /api/v1/workspaces/{ws}/members`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberAdd {
    /// The person's e-mail address.
    pub email: String,
    /// owner, manager, editor, agent or client.
    pub role: String,
}

/// The result of adding a member: `member` for a known user, `invite_url`
/// for a new one.
#[derive(Serialize, ToSchema)]
pub struct MemberAdded {
    /// The new member, when the address had an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberDto>,
    /// The invitation link to pass on, otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_url: Option<String>,
}

/// `PATCH /api/v1/workspaces/{ws}/members/{user_id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    /// The new role.
    pub role: String,
}

/// `POST /api/v1/invites/{code}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteAccept {
    /// The new member's name.
    pub name: String,
    /// Their password.
    pub password: String,
}

/// One audit-log line.
#[derive(Serialize, ToSchema)]
pub struct AuditDto {
    /// Stable, increasing id (use as `before` to page).
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// What, as a stable code (`member.role_changed`).
    pub action: String,
    /// Who.
    pub user_id: Option<i64>,
    /// Their name.
    pub user_name: Option<String>,
    /// The particulars.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<&AuditEntry> for AuditDto {
    fn from(a: &AuditEntry) -> Self {
        Self {
            id: a.id,
            at: rfc3339(a.at),
            action: a.action.clone(),
            user_id: a.user_id,
            user_name: a.user_name.clone(),
            detail: serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Paging of the audit log.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Only entries older than this id.
    pub before: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// A problem document (RFC 9457).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `urn:dialoog:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short title.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// Stable code.
    pub code: String,
}

/// A channel and its health.
#[derive(Serialize, ToSchema)]
pub struct ChannelDto {
    /// Stable id.
    pub id: i64,
    /// `rss`, `mastodon`, `bluesky`, `wordpress` or `email`.
    pub network: String,
    /// Its name (the feed's title, the account's handle, the address).
    pub name: String,
    /// `new`, `ok`, `needs_reconnect` or `failing`.
    pub status: String,
    /// Why, when not ok.
    pub status_reason: String,
    /// Since when the status holds (RFC 3339).
    pub status_since: String,
    /// When it was last fetched.
    pub last_sync_at: Option<String>,
    /// When it is fetched next by itself (none while it needs reconnecting).
    pub next_sync_at: Option<String>,
}

impl From<&dialoog_store::Channel> for ChannelDto {
    fn from(c: &dialoog_store::Channel) -> Self {
        Self {
            id: c.id,
            network: c.network.clone(),
            name: c.name.clone(),
            status: c.status.clone(),
            status_reason: c.status_reason.clone(),
            status_since: rfc3339(c.status_since),
            last_sync_at: c.last_sync_at.map(rfc3339),
            next_sync_at: (c.status != "needs_reconnect")
                .then_some(c.next_sync_at)
                .flatten()
                .map(rfc3339),
        }
    }
}

/// `POST /api/v1/workspaces/{ws}/channels`: the network and its credentials.
#[derive(Deserialize, ToSchema)]
pub struct ChannelCreate {
    /// `rss`, `mastodon`, `bluesky`, `wordpress` or `email`.
    pub network: String,
    /// For `rss`: the feed's address.
    #[serde(default)]
    pub feed_url: Option<String>,
    /// For `mastodon`: the instance's address (`https://mastodon.nl`).
    #[serde(default)]
    pub instance_url: Option<String>,
    /// For `mastodon`: an access token with the scopes `read write`.
    #[serde(default)]
    pub access_token: Option<String>,
    /// For `bluesky`: the service to sign in at (default `https://bsky.social`).
    #[serde(default)]
    pub service_url: Option<String>,
    /// For `bluesky`: the handle (`bakkerij.bsky.social`), DID or e-mail address.
    #[serde(default)]
    pub identifier: Option<String>,
    /// For `bluesky`: an app password (Settings → App passwords at Bluesky);
    /// for `wordpress`: an application password (Users → Profile).
    #[serde(default)]
    pub app_password: Option<String>,
    /// For `wordpress`: the site's address.
    #[serde(default)]
    pub site_url: Option<String>,
    /// For `wordpress`: the user the application password belongs to; for
    /// `email`: the user name at the mail servers (default: the address).
    #[serde(default)]
    pub username: Option<String>,
    /// For `email`: the IMAP server, `imaps://host[:993]` or `imap://host[:143]` (STARTTLS).
    #[serde(default)]
    pub imap_url: Option<String>,
    /// For `email`: the SMTP server, `smtps://host[:465]` or `smtp://host[:587]` (STARTTLS).
    #[serde(default)]
    pub smtp_url: Option<String>,
    /// For `email`: the password at the mail servers.
    #[serde(default)]
    pub password: Option<String>,
    /// For `email`: the mailbox's address.
    #[serde(default)]
    pub address: Option<String>,
}

/// The result of "sync now".
#[derive(Serialize, ToSchema)]
pub struct SyncResult {
    /// Items the network returned.
    pub fetched: usize,
    /// Of those, items not stored before.
    pub new: u64,
}

/// An inbound item.
#[derive(Serialize, ToSchema)]
pub struct ItemDto {
    /// Stable id.
    pub id: i64,
    /// The network's id for it.
    pub external_id: String,
    /// `comment`, `mention`, `direct_message`, `review`, `email`, `post`.
    pub kind: String,
    /// The author's name.
    pub author_name: String,
    /// Plain text.
    pub text: String,
    /// Link.
    pub url: Option<String>,
    /// Written at (RFC 3339).
    pub published_at: Option<String>,
}

impl From<&dialoog_store::Item> for ItemDto {
    fn from(i: &dialoog_store::Item) -> Self {
        Self {
            id: i.id,
            external_id: i.item.external_id.clone(),
            kind: i.item.kind.clone(),
            author_name: i.item.author_name.clone(),
            text: i.item.text.clone(),
            url: i.item.url.clone(),
            published_at: i.item.published_at.map(rfc3339),
        }
    }
}
