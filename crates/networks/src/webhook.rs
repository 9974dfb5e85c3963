//! Signed webhooks: a JSON body POSTed to the team's address, signed with
//! HMAC-SHA256 over `"{t}.{body}"` (t: Unix seconds), so the receiver can
//! check it came from this Dialoog and is fresh:
//! `Dialoog-Signature: t=1767225600,v1=<hex>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "Dialoog-Signature";

/// The header value signing `body` at `t` (Unix seconds) with `secret`.
pub fn signature(secret: &[u8], t: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` signs `body` with `secret` (what a receiver checks).
pub fn verify(secret: &[u8], header: &str, body: &str) -> bool {
    let t = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .and_then(|t| t.parse::<i64>().ok());
    let Some(t) = t else { return false };
    let Some(given) = header.split(',').find_map(|p| p.strip_prefix("v1=")) else {
        return false;
    };
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// Whether `url` can receive webhooks: a whole http or https address
/// with a host, at most 2,000 characters.
pub fn usable_url(url: &str) -> bool {
    url.len() <= 2000
        && reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Why a delivery did not arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// In a few words, for the team.
    pub reason: String,
    /// Whether trying again can help (a 4xx other than 408/429 cannot).
    pub retry: bool,
}

/// POSTs `body`, signed, to `url`; no redirects are followed, ten seconds
/// at most, any 2xx is a yes.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    secret: &[u8],
    body: &str,
    id: i64,
    now_ms: i64,
) -> Result<(), Refused> {
    let sig = signature(secret, now_ms.div_euclid(1000), body);
    let resp = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, sig)
        .header("Dialoog-Delivery", id.to_string())
        .timeout(Duration::from_secs(10))
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| Refused {
            reason: if e.is_timeout() {
                "no answer within 10 seconds".to_owned()
            } else {
                "cannot be reached".to_owned()
            },
            retry: true,
        })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let retry = status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
    Err(Refused {
        reason: format!("answered HTTP {}", status.as_u16()),
        retry,
    })
}

/// The client deliveries use: no redirects (a signed body goes only where
/// the team said).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("Dialoog/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_or_secret_does_not() {
        let h = signature(b"geheim", 1_767_225_600, r#"{"a":1}"#);
        assert!(h.starts_with("t=1767225600,v1="));
        assert_eq!(h.len(), "t=1767225600,v1=".len() + 64);
        assert!(verify(b"geheim", &h, r#"{"a":1}"#));
        assert!(!verify(b"geheim", &h, r#"{"a":2}"#));
        assert!(!verify(b"anders", &h, r#"{"a":1}"#));
        assert!(!verify(b"geheim", "t=x,v1=zz", r#"{"a":1}"#));
    }

    #[test]
    fn only_whole_web_addresses_receive_webhooks() {
        assert!(usable_url("https://hooks.example.nl/dialoog"));
        assert!(usable_url("http://127.0.0.1:9000/x"));
        assert!(!usable_url("ftp://example.nl/"));
        assert!(!usable_url("example.nl/hook"));
        assert!(!usable_url("javascript:alert(1)"));
    }
}
