//! Channels: connect (after checking the credentials with the network),
//! sync now, disconnect. Credentials are sealed before they are stored.

use dialoog_domain::{Action, FieldError};
use dialoog_engine::{Credentials, SyncError, SyncOutcome, connector_check, sync_channel};
use dialoog_store::{Channel, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::service::{Result, access, audit, now_ms};

/// A required text field of a channel request, trimmed.
fn field<'a>(body: &'a serde_json::Value, name: &'static str) -> Result<&'a str> {
    let v = body.get(name).and_then(|u| u.as_str()).unwrap_or("").trim();
    if v.is_empty() {
        return Err(FieldError::new(name, "required").into());
    }
    Ok(v)
}

/// A web address field (`https://` or `http://`).
fn url_field<'a>(body: &'a serde_json::Value, name: &'static str) -> Result<&'a str> {
    let url = field(body, name)?;
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
        return Err(FieldError::new(name, "url_invalid").into());
    }
    Ok(url)
}

/// Reads a channel request: `{"network": "rss", "feed_url": …}`,
/// `{"network": "mastodon", "instance_url": …, "access_token": …}` or
/// `{"network": "bluesky", "service_url"?: …, "identifier": …, "app_password": …}` or
/// `{"network": "wordpress", "site_url": …, "username": …, "app_password": …}` or
/// `{"network": "email", "imap_url": …, "smtp_url": …, "username"?: …, "password": …, "address": …}`.
pub fn credentials(body: &serde_json::Value) -> Result<Credentials> {
    let network = body.get("network").and_then(|n| n.as_str()).unwrap_or("");
    match network {
        "rss" => Ok(Credentials::Rss {
            feed_url: url_field(body, "feed_url")?.to_owned(),
        }),
        "mastodon" => {
            let instance = field(body, "instance_url")?;
            let instance = dialoog_networks::mastodon::instance(instance)
                .map_err(|_| FieldError::new("instance_url", "url_invalid"))?;
            let token = field(body, "access_token")?;
            if token.len() > 512 || token.chars().any(char::is_whitespace) {
                return Err(FieldError::new("access_token", "token_invalid").into());
            }
            Ok(Credentials::Mastodon {
                instance_url: instance.to_string(),
                access_token: token.to_owned(),
            })
        }
        "bluesky" => {
            let service = body
                .get("service_url")
                .and_then(|u| u.as_str())
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or("https://bsky.social");
            if !(service.starts_with("https://") || service.starts_with("http://"))
                || service.len() > 2048
            {
                return Err(FieldError::new("service_url", "url_invalid").into());
            }
            let identifier = field(body, "identifier")?.trim_start_matches('@');
            if identifier.len() > 256 || identifier.chars().any(char::is_whitespace) {
                return Err(FieldError::new("identifier", "handle_invalid").into());
            }
            let password = field(body, "app_password")?;
            if password.len() > 256 {
                return Err(FieldError::new("app_password", "too_long").into());
            }
            Ok(Credentials::Bluesky {
                service_url: service.to_owned(),
                identifier: identifier.to_owned(),
                app_password: password.to_owned(),
            })
        }
        "wordpress" => {
            let site = url_field(body, "site_url")?;
            let username = field(body, "username")?;
            if username.len() > 200 {
                return Err(FieldError::new("username", "too_long").into());
            }
            let password = field(body, "app_password")?;
            if password.len() > 200 {
                return Err(FieldError::new("app_password", "too_long").into());
            }
            Ok(Credentials::WordPress {
                site_url: site.to_owned(),
                username: username.to_owned(),
                app_password: password.to_owned(),
            })
        }
        "email" => {
            let text = |name: &'static str, max: usize| -> Result<String> {
                let v = field(body, name)?;
                if v.len() > max {
                    return Err(FieldError::new(name, "too_long").into());
                }
                Ok(v.to_owned())
            };
            let address = text("address", 254)?;
            dialoog_domain::Email::parse(&address)
                .map_err(|_| FieldError::new("address", "email_invalid"))?;
            Ok(Credentials::Email {
                imap_url: text("imap_url", 2048)?,
                smtp_url: text("smtp_url", 2048)?,
                username: body
                    .get("username")
                    .and_then(|u| u.as_str())
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .unwrap_or(&address)
                    .chars()
                    .take(254)
                    .collect(),
                password: text("password", 1024)?,
                address,
            })
        }
        _ => Err(FieldError::new("network", "network_invalid").into()),
    }
}

/// Connects a channel after the network accepted the credentials.
pub async fn connect(
    state: &AppState,
    user: &User,
    ws: i64,
    creds: &Credentials,
) -> Result<Channel> {
    access(state, user, ws, Action::ManageChannels).await?;
    let name = connector_check(creds)
        .await
        .map_err(|e| AppError::Network(e.to_string()))?;
    let name: String = name.chars().take(200).collect();
    // An account connected twice would bring every item in twice.
    let existing = state.store.channels(ws).await?;
    if existing
        .iter()
        .any(|c| c.network == creds.network() && c.name == name && creds.network() != "rss")
    {
        return Err(AppError::ChannelExists);
    }
    let plain = serde_json::to_vec(creds).map_err(AppError::internal)?;
    let sealed = state.cipher.seal(&plain).map_err(AppError::internal)?;
    let ch = state
        .store
        .create_channel(ws, creds.network(), &name, &sealed, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "channel.connected",
        json!({"channel_id": ch.id, "network": ch.network, "name": ch.name}),
    )
    .await;
    Ok(ch)
}

/// Fetches a channel's new items now.
pub async fn sync(state: &AppState, user: &User, ws: i64, id: i64) -> Result<SyncOutcome> {
    access(state, user, ws, Action::SyncChannels).await?;
    let ch = state.store.channel(ws, id).await?;
    sync_channel(&state.store, &state.cipher, &ch, now_ms())
        .await
        .map_err(|e| match e {
            SyncError::Network(n) => AppError::Network(n.to_string()),
            SyncError::Credentials(c) => AppError::Network(c),
            SyncError::Store(s) => s.into(),
        })
}

/// Disconnects a channel.
pub async fn disconnect(state: &AppState, user: &User, ws: i64, id: i64) -> Result<()> {
    access(state, user, ws, Action::ManageChannels).await?;
    let ch = state.store.channel(ws, id).await?;
    state.store.delete_channel(ws, id).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "channel.disconnected",
        json!({"channel_id": id, "network": ch.network, "name": ch.name}),
    )
    .await;
    Ok(())
}

/// How long a Mastodon sign-in may take before its state expires.
const OAUTH_MINUTES: i64 = 30;

/// What Dialoog remembers of a sign-in under way, sealed into the OAuth
/// `state`: nothing is stored, any Dialoog process can finish it, and it
/// cannot be forged or read without the key.
#[derive(serde::Serialize, serde::Deserialize)]
struct OauthState {
    ws: i64,
    user: i64,
    expires: i64,
    app: dialoog_networks::mastodon::App,
}

fn callback_url(state: &AppState, ws: i64) -> String {
    format!(
        "{}/w/{ws}/channels/mastodon/callback",
        state.config.public_url
    )
}

/// Starts connecting a Mastodon account: registers Dialoog on the instance
/// and returns the address where the user grants access.
pub async fn mastodon_start(
    state: &AppState,
    user: &User,
    ws: i64,
    instance_url: &str,
) -> Result<String> {
    use base64::Engine as _;
    access(state, user, ws, Action::ManageChannels).await?;
    let instance_url = instance_url.trim();
    if instance_url.is_empty() {
        return Err(FieldError::new("instance_url", "required").into());
    }
    if instance_url.len() > 2048 {
        return Err(FieldError::new("instance_url", "url_invalid").into());
    }
    let instance = dialoog_networks::mastodon::instance(instance_url)
        .map_err(|_| FieldError::new("instance_url", "url_invalid"))?;
    let redirect = callback_url(state, ws);
    let app = dialoog_networks::mastodon::register_app(
        instance.as_str(),
        &redirect,
        &state.config.public_url,
    )
    .await
    .map_err(|e| AppError::Network(e.to_string()))?;
    let sealed = OauthState {
        ws,
        user: user.id,
        expires: now_ms() + OAUTH_MINUTES * 60_000,
        app,
    };
    let plain = serde_json::to_vec(&sealed).map_err(AppError::internal)?;
    let token = state.cipher.seal(&plain).map_err(AppError::internal)?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token);
    let url = dialoog_networks::mastodon::authorize_url(&sealed.app, &redirect, &token)
        .map_err(|e| AppError::Network(e.to_string()))?;
    Ok(url.to_string())
}

/// Finishes connecting a Mastodon account when the instance sends the user
/// back with a code.
pub async fn mastodon_finish(
    state: &AppState,
    user: &User,
    ws: i64,
    code: &str,
    oauth_state: &str,
) -> Result<Channel> {
    use base64::Engine as _;
    access(state, user, ws, Action::ManageChannels).await?;
    let expired = || AppError::NetworkSignInInvalid;
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(oauth_state.trim())
        .map_err(|_| expired())?;
    let plain = state.cipher.open(&sealed).map_err(|_| expired())?;
    let st: OauthState = serde_json::from_slice(&plain).map_err(|_| expired())?;
    if st.ws != ws || st.user != user.id || st.expires < now_ms() {
        return Err(expired());
    }
    let code = code.trim();
    if code.is_empty() || code.len() > 1024 {
        return Err(expired());
    }
    let token = dialoog_networks::mastodon::exchange_code(&st.app, code, &callback_url(state, ws))
        .await
        .map_err(|e| AppError::Network(e.to_string()))?;
    let creds = Credentials::Mastodon {
        instance_url: st.app.instance_url.clone(),
        access_token: token,
    };
    connect(state, user, ws, &creds).await
}
