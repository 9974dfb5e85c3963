//! People: accounts, sessions, API tokens and password resets.

use crate::BeginWrite;
use crate::{ApiToken, Result, Session, Store, StoreError, User, Workspace, on};

const USER_COLS: &str =
    "id, email, name, password_hash, locale, is_admin, totp_secret, totp_enabled, created_at";

/// What the first-run setup needs to create the owner.
#[derive(Debug, Clone)]
pub struct NewOwner<'a> {
    /// The organisation's name; also the first workspace's name.
    pub organisation: &'a str,
    /// The owner's display name.
    pub name: &'a str,
    /// Normalised e-mail address.
    pub email: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// Interface language to start with.
    pub locale: &'a str,
    /// Timezone of the first workspace.
    pub timezone: &'a str,
}

impl Store {
    /// Whether first-run setup has happened (an organisation and owner exist).
    pub async fn is_set_up(&self) -> Result<bool> {
        let n: i64 = on!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM organisation").fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// The organisation's name, once set up.
    pub async fn organisation_name(&self) -> Result<Option<String>> {
        Ok(
            on!(self, p => sqlx::query_scalar("SELECT name FROM organisation WHERE id = 1").fetch_optional(p).await)?,
        )
    }

    /// First-run setup, atomically: the organisation, its administrator and a
    /// first workspace they own. [`StoreError::Conflict`] when already set up.
    pub async fn setup(&self, o: &NewOwner<'_>, now: i64) -> Result<(User, Workspace)> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO organisation (id, name, created_at) VALUES (1, $1, $2)")
                .bind(o.organisation).bind(now).execute(&mut *tx).await?;
            let user: User = sqlx::query_as(&format!(
                "INSERT INTO users (email, name, password_hash, locale, is_admin, created_at) \
                 VALUES ($1, $2, $3, $4, TRUE, $5) RETURNING {USER_COLS}"))
                .bind(o.email).bind(o.name).bind(o.password_hash).bind(o.locale).bind(now)
                .fetch_one(&mut *tx).await?;
            let ws: Workspace = sqlx::query_as(
                "INSERT INTO workspaces (name, timezone, created_at) VALUES ($1, $2, $3) \
                 RETURNING id, name, timezone, created_at")
                .bind(o.organisation).bind(o.timezone).bind(now).fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO members (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)")
                .bind(ws.id).bind(user.id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok((user, ws))
        })
    }

    /// A user by normalised e-mail address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE email = $1");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(email).fetch_optional(p).await)?)
    }

    /// A user by id.
    pub async fn user(&self, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        Ok(on!(self, p => sqlx::query_as(&sql).bind(id).fetch_one(p).await)?)
    }

    /// Saves the user's interface language.
    pub async fn set_user_locale(&self, id: i64, locale: &str) -> Result<()> {
        on!(self, p => sqlx::query("UPDATE users SET locale = $1 WHERE id = $2").bind(locale).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Replaces the password hash and ends every session of the user except
    /// `keep_session` (the one making the change).
    pub async fn set_password(
        &self,
        id: i64,
        hash: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(id).bind(keep_session.unwrap_or("")).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Stores a TOTP secret and whether it is in force.
    pub async fn set_totp(&self, id: i64, secret: Option<&str>, enabled: bool) -> Result<()> {
        on!(self, p => sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE id = $3")
            .bind(secret).bind(enabled).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Starts a browser session.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        mfa_pending: bool,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query("INSERT INTO sessions (token_hash, user_id, mfa_pending, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash).bind(user_id).bind(mfa_pending).bind(now).bind(expires_at).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A live session by token hash (expired ones are not returned).
    pub async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>> {
        Ok(
            on!(self, p => sqlx::query_as("SELECT user_id, mfa_pending, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash).bind(now).fetch_optional(p).await)?,
        )
    }

    /// A live session with its user, in one statement (every signed-in
    /// request asks this).
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(Session, User)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            mfa_pending: bool,
            expires_at: i64,
            #[sqlx(flatten)]
            user: User,
        }
        let sql = format!(
            "SELECT s.mfa_pending, s.expires_at, {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
            USER_COLS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<Row> = on!(self, p => sqlx::query_as(&sql).bind(token_hash).bind(now).fetch_optional(p).await)?;
        Ok(row.map(|r| {
            (
                Session {
                    user_id: r.user.id,
                    mfa_pending: r.mfa_pending,
                    expires_at: r.expires_at,
                },
                r.user,
            )
        }))
    }

    /// Marks the second factor as given.
    pub async fn complete_mfa(&self, token_hash: &str) -> Result<()> {
        on!(self, p => sqlx::query("UPDATE sessions SET mfa_pending = FALSE WHERE token_hash = $1").bind(token_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends one session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on!(self, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Creates a personal API token.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<ApiToken> {
        Ok(on!(self, p => sqlx::query_as(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, user_id, name, created_at, last_used_at")
            .bind(user_id).bind(name).bind(token_hash).bind(now).fetch_one(p).await)?)
    }

    /// The user's API tokens, newest first.
    pub async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        Ok(on!(self, p => sqlx::query_as(
            "SELECT id, user_id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC")
            .bind(user_id).fetch_all(p).await)?)
    }

    /// Revokes one of the user's tokens; [`StoreError::NotFound`] if it is not theirs.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64) -> Result<ApiToken> {
        Ok(on!(self, p => sqlx::query_as(
            "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING id, user_id, name, created_at, last_used_at")
            .bind(id).bind(user_id).fetch_one(p).await)?)
    }

    /// The user a token belongs to. Records use to the minute, so a busy
    /// script does not turn every read into a write.
    pub async fn user_by_api_token(&self, token_hash: &str, now: i64) -> Result<Option<User>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            user_id: i64,
            last_used_at: Option<i64>,
        }
        let row: Option<Row> = on!(self, p => sqlx::query_as("SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash).fetch_optional(p).await)?;
        let Some(row) = row else { return Ok(None) };
        if row.last_used_at.is_none_or(|t| now - t > 60_000) {
            on!(self, p => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(row.id).execute(p).await.map(|r| r.rows_affected()))?;
        }
        match self.user(row.user_id).await {
            Ok(u) => Ok(Some(u)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Records a password-reset token.
    pub async fn create_password_reset(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        on!(self, p => sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash).bind(user_id).bind(now).bind(expires_at).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether a reset token can still be used; returns its user.
    pub async fn password_reset_user(&self, token_hash: &str, now: i64) -> Result<Option<i64>> {
        Ok(
            on!(self, p => sqlx::query_scalar("SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(token_hash).bind(now).fetch_optional(p).await)?,
        )
    }

    /// Uses a reset token once: sets the new password and ends all sessions.
    /// [`StoreError::NotFound`] when the token is unknown, used or expired.
    pub async fn use_password_reset(
        &self,
        token_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<i64> {
        on!(self, p => {
            let mut tx = p.begin_write().await?;
            let user_id: i64 = sqlx::query_scalar(
                "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id")
                .bind(now).bind(token_hash).fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(new_hash).bind(user_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(user_id)
        })
    }
}
