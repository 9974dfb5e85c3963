//! Channels: connect (after checking the credentials with the network),
//! sync now, disconnect. Credentials are sealed before they are stored.

use dialoog_domain::{Action, FieldError};
use dialoog_engine::{Credentials, SyncError, SyncOutcome, connector_check, sync_channel};
use dialoog_store::{Channel, User};
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::service::{Result, access, audit, now_ms};

/// Networks that have a connector in a later step of Dialoog.
const COMING: [&str; 4] = ["mastodon", "bluesky", "email", "wordpress"];

/// Reads a channel request (`{"network": "rss", "feed_url": …}`).
pub fn credentials(body: &serde_json::Value) -> Result<Credentials> {
    let network = body.get("network").and_then(|n| n.as_str()).unwrap_or("");
    if COMING.contains(&network) {
        return Err(FieldError::new("network", "network_not_yet").into());
    }
    if network != "rss" {
        return Err(FieldError::new("network", "network_invalid").into());
    }
    let url = body
        .get("feed_url")
        .and_then(|u| u.as_str())
        .unwrap_or("")
        .trim();
    if url.is_empty() {
        return Err(FieldError::new("feed_url", "required").into());
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
        return Err(FieldError::new("feed_url", "url_invalid").into());
    }
    Ok(Credentials::Rss {
        feed_url: url.to_owned(),
    })
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
    let plain = serde_json::to_vec(creds).map_err(AppError::internal)?;
    let sealed = state.cipher.seal(&plain).map_err(AppError::internal)?;
    let name: String = name.chars().take(200).collect();
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
