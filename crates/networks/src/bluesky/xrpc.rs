//! XRPC calls: request bodies, the service's `{"error", "message"}`
//! answers, and how they are classified.

use crate::contract::ConnectorError;
use crate::http::{body_limited, retry_after, transport};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

use super::MAX_BODY;

pub(super) enum Body<'a> {
    Json(Value),
    Bytes(&'a [u8], &'a str),
}

/// What went wrong in an XRPC call, before it is classified.
#[derive(Debug)]
pub(super) enum XrpcError {
    /// The service answered with an error.
    Said {
        status: StatusCode,
        error: String,
        message: String,
        retry: Option<Duration>,
    },
    /// No answer.
    Transport(reqwest::Error),
    /// The service answered, but the answer broke off or cannot be read:
    /// the request arrived and may have been carried out.
    Lost(ConnectorError),
    /// Already classified.
    Connector(ConnectorError),
}

impl From<ConnectorError> for XrpcError {
    fn from(e: ConnectorError) -> Self {
        XrpcError::Connector(e)
    }
}

impl From<XrpcError> for ConnectorError {
    fn from(e: XrpcError) -> Self {
        match e {
            XrpcError::Connector(c) | XrpcError::Lost(c) => c,
            XrpcError::Transport(t) => transport(t),
            XrpcError::Said {
                status,
                error,
                message,
                retry,
            } => {
                // The service's words; an empty answer (as a proxy in front
                // of it gives) says no more than the status.
                let words = if message.is_empty() { &error } else { &message };
                let said = if words.is_empty() {
                    String::new()
                } else {
                    format!(": {words}")
                };
                match (status.as_u16(), error.as_str()) {
                    (429, _) | (_, "RateLimitExceeded") => ConnectorError::Transient {
                        reason: format!("Bluesky asks us to slow down (429){said}"),
                        retry_after: retry,
                    },
                    (500..=599, _) => ConnectorError::Transient {
                        reason: format!("Bluesky has a problem ({status}){said}"),
                        retry_after: retry,
                    },
                    (401 | 403, _)
                    | (
                        _,
                        "ExpiredToken"
                        | "InvalidToken"
                        | "AccountTakedown"
                        | "AuthenticationRequired",
                    ) => ConnectorError::Authorization {
                        reason: format!("Bluesky refused the credentials ({status}){said}"),
                    },
                    _ => ConnectorError::permanent(format!(
                        "Bluesky refused the request ({status}){said}"
                    )),
                }
            }
        }
    }
}

/// Reads an XRPC answer: JSON on success, `{"error", "message"}` otherwise.
pub(super) async fn read<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
) -> Result<T, XrpcError> {
    let status = resp.status();
    let retry = retry_after(&resp);
    let body = body_limited(resp, MAX_BODY)
        .await
        .map_err(XrpcError::Lost)?;
    if !status.is_success() {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect::<String>()
        };
        return Err(XrpcError::Said {
            status,
            error: text("error"),
            message: text("message"),
            retry,
        });
    }
    serde_json::from_slice(&body)
        .map_err(|e| XrpcError::Lost(crate::http::unreadable(&body, &e, "Bluesky", "")))
}
