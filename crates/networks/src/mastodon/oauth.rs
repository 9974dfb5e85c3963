//! Connecting a Mastodon account: the instance's address, registering
//! Dialoog as an application there, and the OAuth authorisation-code flow.

use super::read_json;
use crate::contract::ConnectorError;
use crate::http::client;
use reqwest::Url;
use serde::{Deserialize, Serialize};

/// The scopes Dialoog asks for.
pub const SCOPES: &str = "read write";

/// An application registered on an instance, for the OAuth flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    /// The instance's address.
    pub instance_url: String,
    /// The application's client id.
    pub client_id: String,
    /// The application's client secret.
    pub client_secret: String,
}

/// Checks an instance's address: `https://` (or `http://` for a local
/// test instance) and a host; a bare host name gets `https://`.
pub fn instance(instance_url: &str) -> Result<Url, ConnectorError> {
    let raw = instance_url.trim();
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(&format!("{}/", with_scheme.trim_end_matches('/')))
        .map_err(|_| ConnectorError::permanent("this is not the address of a Mastodon server"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || raw.is_empty() {
        return Err(ConnectorError::permanent(
            "this is not the address of a Mastodon server",
        ));
    }
    // Mastodon lives at the root of its host: a pasted profile or post
    // address (https://mastodon.nl/@anna) means the instance.
    let mut url = url;
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Registers Dialoog as an application on an instance, for the OAuth flow.
pub async fn register_app(
    instance_url: &str,
    redirect_uri: &str,
    website: &str,
) -> Result<App, ConnectorError> {
    let base = instance(instance_url)?;
    let url = base
        .join("api/v1/apps")
        .map_err(|_| ConnectorError::permanent("the instance's address is not usable"))?;
    #[derive(Deserialize)]
    struct Answer {
        client_id: String,
        client_secret: String,
    }
    let (a, _): (Answer, _) = read_json(
        client().post(url).form(&[
            ("client_name", "Dialoog"),
            ("redirect_uris", redirect_uri),
            ("scopes", SCOPES),
            ("website", website),
        ]),
        1 << 20,
    )
    .await?;
    Ok(App {
        instance_url: base.to_string(),
        client_id: a.client_id,
        client_secret: a.client_secret,
    })
}

/// The address on the instance where the user grants Dialoog access.
pub fn authorize_url(app: &App, redirect_uri: &str, state: &str) -> Result<Url, ConnectorError> {
    let mut url = instance(&app.instance_url)?
        .join("oauth/authorize")
        .map_err(|_| ConnectorError::permanent("the instance's address is not usable"))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPES)
        .append_pair("state", state);
    Ok(url)
}

/// Trades the code from the authorisation for an access token.
pub async fn exchange_code(
    app: &App,
    code: &str,
    redirect_uri: &str,
) -> Result<String, ConnectorError> {
    let url = instance(&app.instance_url)?
        .join("oauth/token")
        .map_err(|_| ConnectorError::permanent("the instance's address is not usable"))?;
    #[derive(Deserialize)]
    struct Answer {
        access_token: String,
    }
    let (a, _): (Answer, _) = read_json(
        client().post(url).form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("redirect_uri", redirect_uri),
            ("scope", SCOPES),
        ]),
        1 << 20,
    )
    .await?;
    Ok(a.access_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses() {
        assert_eq!(
            instance("mastodon.nl").map(|u| u.to_string()),
            Ok("https://mastodon.nl/".to_owned())
        );
        assert_eq!(
            instance("https://social.example/").map(|u| u.to_string()),
            Ok("https://social.example/".to_owned())
        );
        assert_eq!(
            instance("https://mastodon.nl/@anna").map(|u| u.to_string()),
            Ok("https://mastodon.nl/".to_owned())
        );
        assert!(instance("").is_err());
        assert!(instance("ftp://x").is_err());
        assert!(instance("https://").is_err());
    }
}
