//! Bluesky sessions: sign-in with the app password, refresh, a cache per
//! (service, identifier) shared by the process, and XRPC calls that
//! refresh an expired session once.

use super::BlueskyConnector;
use super::xrpc::{Body, XrpcError, read};
use crate::contract::ConnectorError;
use crate::http::transport;
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Signed-in sessions, per (service, identifier), shared by every connector
/// of this process so a sync does not sign in again each time.
static SESSIONS: LazyLock<Mutex<HashMap<(String, String), Session>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Session {
    pub(super) access_jwt: String,
    refresh_jwt: String,
    pub(super) did: String,
    pub(super) handle: String,
}

impl BlueskyConnector {
    /// Signs in with the app password.
    pub(super) async fn create_session(&self) -> Result<Session, ConnectorError> {
        let resp = self
            .client
            .post(self.xrpc("com.atproto.server.createSession")?)
            .json(&json!({"identifier": self.identifier, "password": self.password}))
            .send()
            .await
            .map_err(transport)?;
        let s: Session = read(resp).await.map_err(|e| match e {
            // A wrong password is answered 401; some services say 400.
            XrpcError::Said {
                status,
                error,
                message,
                ..
            } if status == StatusCode::UNAUTHORIZED
                || error == "AuthenticationRequired"
                || error == "AuthFactorTokenRequired" =>
            {
                ConnectorError::Authorization {
                    reason: format!(
                        "Bluesky refused the sign-in: {}",
                        if message.is_empty() { error } else { message }
                    ),
                }
            }
            XrpcError::Said { error, message, .. }
                if error == "AccountTakedown" || error == "AccountDeactivated" =>
            {
                ConnectorError::Authorization {
                    reason: format!("the account cannot be used: {message}"),
                }
            }
            e => e.into(),
        })?;
        Ok(s)
    }

    async fn refresh(&self, s: &Session) -> Result<Session, ConnectorError> {
        let resp = self
            .client
            .post(self.xrpc("com.atproto.server.refreshSession")?)
            .bearer_auth(&s.refresh_jwt)
            .send()
            .await
            .map_err(transport)?;
        match read::<Session>(resp).await {
            Ok(s) => Ok(s),
            // The refresh token is spent or expired: sign in again.
            Err(XrpcError::Said { status, .. }) if status.is_client_error() => {
                self.create_session().await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The current session: cached, or signed in now.
    pub(super) async fn session(&self) -> Result<Session, ConnectorError> {
        let cached = SESSIONS
            .lock()
            .ok()
            .and_then(|m| m.get(&self.key()).cloned());
        if let Some(s) = cached {
            return Ok(s);
        }
        let s = self.create_session().await?;
        self.remember(&s);
        Ok(s)
    }

    pub(super) fn remember(&self, s: &Session) {
        if let Ok(mut m) = SESSIONS.lock() {
            m.insert(self.key(), s.clone());
        }
    }

    /// Calls an XRPC method with the session, refreshing it once when the
    /// access token has expired.
    pub(super) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        name: &str,
        query: &[(&str, &str)],
        body: Option<Body<'_>>,
    ) -> Result<T, XrpcError> {
        let mut session = self.session().await?;
        for attempt in 0..2 {
            let mut req = self
                .client
                .request(method.clone(), self.xrpc(name)?)
                .bearer_auth(&session.access_jwt)
                .query(query);
            req = match &body {
                Some(Body::Json(v)) => req.json(v),
                Some(Body::Bytes(b, mime)) => {
                    req.header(header::CONTENT_TYPE, *mime).body(b.to_vec())
                }
                None => req,
            };
            let resp = req.send().await.map_err(XrpcError::Transport)?;
            match read::<T>(resp).await {
                Err(XrpcError::Said { ref error, .. })
                    if attempt == 0 && (error == "ExpiredToken" || error == "InvalidToken") =>
                {
                    session = self.refresh(&session).await?;
                    self.remember(&session);
                }
                other => return other,
            }
        }
        Err(XrpcError::Connector(ConnectorError::Authorization {
            reason: "Bluesky did not accept a fresh session".into(),
        }))
    }
}
