//! The HTTP habits every connector shares: time-outs, bounded bodies, and
//! turning a network's answer into a classified error.

use crate::ConnectorError;
use reqwest::{Response, StatusCode, header};
use std::time::Duration;

/// The client connectors use: rustls, time-outs, a clear user agent.
pub fn client() -> reqwest::Client {
    client_with_timeout(Duration::from_secs(30))
}

/// The same client with another time-out per request.
pub fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("Dialoog/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap_or_default()
}

/// Reads a body of at most `limit` bytes; a longer one is an error, so a
/// stream that never ends cannot exhaust memory.
pub async fn body_limited(resp: Response, limit: usize) -> Result<Vec<u8>, ConnectorError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ConnectorError::permanent(format!(
            "the answer is larger than {} MB",
            limit >> 20
        )));
    }
    let mut resp = resp;
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if out.len() + chunk.len() > limit {
            return Err(ConnectorError::permanent(format!(
                "the answer is larger than {} MB",
                limit >> 20
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A failure to reach the network or to read its answer: worth retrying.
pub fn transport(e: reqwest::Error) -> ConnectorError {
    let reason = if e.is_timeout() {
        "the network did not answer in time".to_owned()
    } else if e.is_connect() {
        "the network could not be reached".to_owned()
    } else {
        format!("the connection failed ({e})")
    };
    ConnectorError::Transient {
        reason,
        retry_after: None,
    }
}

/// `Retry-After` (seconds) or a rate-limit reset header, if present.
pub fn retry_after(resp: &Response) -> Option<Duration> {
    let h = resp.headers();
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(secs) = text(header::RETRY_AFTER.as_str()).and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    // Mastodon's and others' rate-limit headers: when the budget is spent,
    // wait until it resets (an RFC 3339 time, or seconds from now).
    let remaining = text("x-ratelimit-remaining").or_else(|| text("ratelimit-remaining"));
    if remaining == Some("0") {
        let reset = text("x-ratelimit-reset").or_else(|| text("ratelimit-reset"))?;
        if let Ok(n) = reset.parse::<i64>() {
            // Seconds since 1970 (a time), or seconds from now.
            let now = jiff::Timestamp::now().as_second();
            let wait = if n > 1_000_000_000 { n - now } else { n };
            return Some(Duration::from_secs(wait.clamp(1, 3600) as u64));
        }
        let at = reset.parse::<jiff::Timestamp>().ok()?;
        let wait = at.duration_since(jiff::Timestamp::now());
        return Some(Duration::from_secs(wait.as_secs().clamp(1, 3600) as u64));
    }
    None
}

/// An answer that should have been JSON and is not: a web page (an error
/// page or a login wall in front of the API) or broken data. Temporary,
/// since such answers usually pass; `who` names the network in the
/// reason ("the instance", "Bluesky"), `hint` may add what to check.
pub fn unreadable(body: &[u8], e: &serde_json::Error, who: &str, hint: &str) -> ConnectorError {
    let page = String::from_utf8_lossy(&body[..body.len().min(64)])
        .trim_start()
        .starts_with('<');
    let reason = match (page, hint.is_empty()) {
        (true, true) => format!("{who} answered with a web page instead of data"),
        (true, false) => format!("{who} answered with a web page instead of data ({hint})"),
        (false, _) => format!("{who}'s answer could not be read ({e})"),
    };
    ConnectorError::Transient {
        reason,
        retry_after: None,
    }
}

/// Sends a publish and reads the network's answer as `T`, classified by
/// what it means for the post: a request that never connected was not
/// sent (transient); an answer that was lost or cannot be read, or a
/// gateway error or time-out after the request arrived (500, 502, 504),
/// leaves the post perhaps published (outcome unknown); 429 and 503 say it
/// was not taken (transient); other refusals as [`classify`] says.
pub async fn send_publish<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
    limit: usize,
) -> Result<T, ConnectorError> {
    let unknown = |reason: String| ConnectorError::OutcomeUnknown { reason };
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Err(transport(e)),
        Err(e) => {
            return Err(unknown(format!(
                "the network did not confirm the post ({})",
                transport(e)
            )));
        }
    };
    let status = resp.status();
    if !status.is_success() {
        return Err(match (status.as_u16(), error_from(resp).await) {
            (500 | 502 | 504, ConnectorError::Transient { reason, .. }) => unknown(reason),
            (_, e) => e,
        });
    }
    let body = body_limited(resp, limit)
        .await
        .map_err(|e| unknown(e.to_string()))?;
    serde_json::from_slice(&body).map_err(|e| {
        unknown(format!(
            "the network's answer to the post could not be read ({e})"
        ))
    })
}

/// Reads a non-success answer and classifies it, with the network's own
/// words where it gives them as JSON (`error`, `error_description`,
/// `message`) or short text.
pub async fn error_from(resp: Response) -> ConnectorError {
    let status = resp.status();
    let retry = retry_after(&resp);
    let body = body_limited(resp, 64 * 1024).await.unwrap_or_default();
    let said = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            ["error_description", "message", "error"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|m| m.as_str()).map(str::to_owned))
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    classify(status, retry, &said)
}

/// Classifies a non-success answer. `body` is the start of what the network
/// said, used in the reason when it is short text.
pub fn classify(status: StatusCode, retry: Option<Duration>, body: &str) -> ConnectorError {
    let said = body.trim();
    let said = if !said.is_empty() && said.len() <= 300 && !said.starts_with('<') {
        format!(": {said}")
    } else {
        String::new()
    };
    match status.as_u16() {
        429 => ConnectorError::Transient {
            reason: format!("the network asks us to slow down (429){said}"),
            retry_after: retry,
        },
        500..=599 => ConnectorError::Transient {
            reason: format!("the network has a problem ({status}){said}"),
            retry_after: retry,
        },
        401 | 403 => ConnectorError::Authorization {
            reason: format!("the network refused the credentials ({status}){said}"),
        },
        404 | 410 => {
            ConnectorError::permanent(format!("the address does not exist (any more) ({status})"))
        }
        _ => ConnectorError::permanent(format!("the network refused the request ({status}){said}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert!(
            matches!(classify(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(30)), ""), ConnectorError::Transient { retry_after: Some(d), .. } if d.as_secs() == 30)
        );
        assert!(
            matches!(classify(StatusCode::BAD_GATEWAY, None, "<html>"), ConnectorError::Transient { ref reason, .. } if reason == "the network has a problem (502 Bad Gateway)")
        );
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, None, "token revoked").channel_status(),
            "needs_reconnect"
        );
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, None, ""),
            ConnectorError::Permanent { .. }
        ));
    }
}
