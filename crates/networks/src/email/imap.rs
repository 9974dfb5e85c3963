//! The IMAP session: connecting, TLS or STARTTLS, the greeting, the login,
//! EXAMINE of INBOX and UID FETCH, each step within its time-out, and what
//! an IMAP failure means to a person.

use super::EmailConnector;
use super::capped::{ANSWER_BYTES, Capped, Conn, Imap, TooMuch, allow};
use super::settings::{Endpoint, Security, tls_error};
use crate::contract::ConnectorError;
use async_imap::Client;
use async_imap::imap_proto::{Response, Status};
use futures_util::StreamExt;
use std::io;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::ServerName;

impl EmailConnector {
    /// Sets up TLS with the IMAP server over `tcp`.
    async fn tls(&self, tcp: TcpStream) -> Result<Conn, ConnectorError> {
        let name = ServerName::try_from(self.imap.host.clone()).map_err(|_| {
            ConnectorError::permanent(format!("“{}” is not a server name", self.imap.host))
        })?;
        let connector = tokio_rustls::TlsConnector::from(self.tls_config()?);
        let stream = self
            .step("setting up TLS", connector.connect(name, tcp))
            .await?
            .map_err(|e| io_error(&self.imap, &e))?;
        Ok(Conn::Tls(Box::new(stream)))
    }

    /// Connects, protects and logs in.
    pub(super) async fn open(&self) -> Result<Imap, ConnectorError> {
        let ep = &self.imap;
        let tcp = self
            .step(
                "connecting",
                TcpStream::connect((ep.host.as_str(), ep.port)),
            )
            .await?
            .map_err(|e| ConnectorError::Transient {
                reason: format!(
                    "the mail server {}:{} could not be reached ({e})",
                    ep.host, ep.port
                ),
                retry_after: None,
            })?;
        let conn = match ep.security {
            Security::Tls => self.tls(tcp).await?,
            Security::StartTls | Security::None => Conn::Plain(tcp),
        };
        let mut client = Client::new(Capped::new(conn));
        self.greeting(&mut client).await?;
        if ep.security == Security::StartTls {
            self.step(
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?
            .map_err(|e| match e {
                async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_) => {
                    ConnectorError::permanent(format!(
                        "the mail server {}:{} does not offer STARTTLS; use imaps:// instead",
                        ep.host, ep.port
                    ))
                }
                e => imap_error(ep, "STARTTLS", e),
            })?;
            // Anything the server sent after its answer is dropped with
            // the plain connection.
            let Conn::Plain(tcp) = client.into_inner().inner else {
                return Err(ConnectorError::permanent(
                    "the connection is already encrypted",
                ));
            };
            client = Client::new(Capped::new(self.tls(tcp).await?));
        }
        let login =
            tokio::time::timeout(self.timeout, client.login(&self.username, &self.password)).await;
        match login {
            Err(_) => Err(ConnectorError::Transient {
                reason: "the mail server did not answer the login in time".into(),
                retry_after: None,
            }),
            Ok(Ok(session)) => Ok(session),
            Ok(Err((e, _))) => Err(login_error(ep, e)),
        }
    }

    /// Reads the server's greeting: it must be OK or PREAUTH.
    async fn greeting(&self, client: &mut Client<Capped>) -> Result<(), ConnectorError> {
        let ep = &self.imap;
        let greeting = self
            .step("waiting for the greeting", client.read_response())
            .await?
            .map_err(|e| io_error(ep, &e))?;
        let Some(greeting) = greeting else {
            return Err(ConnectorError::Transient {
                reason: format!(
                    "the mail server {}:{} closed the connection at once",
                    ep.host, ep.port
                ),
                retry_after: None,
            });
        };
        match greeting.parsed() {
            Response::Data {
                status: Status::Ok | Status::PreAuth,
                ..
            } => Ok(()),
            Response::Data {
                status: Status::Bye,
                outcome,
            } => Err(ConnectorError::Transient {
                reason: format!(
                    "the mail server turned the connection away: {}",
                    outcome.information.as_deref().unwrap_or("no reason given")
                ),
                retry_after: None,
            }),
            _ => Err(ConnectorError::permanent(format!(
                "{}:{} does not greet like an IMAP server",
                ep.host, ep.port
            ))),
        }
    }

    /// Opens INBOX read-only (EXAMINE): nothing is marked read.
    pub(super) async fn inbox(&self, s: &mut Imap) -> Result<(u32, u32), ConnectorError> {
        allow(s, ANSWER_BYTES);
        let mailbox = self
            .step("opening INBOX", s.examine("INBOX"))
            .await?
            .map_err(|e| imap_error(&self.imap, "opening INBOX", e))?;
        let validity = mailbox.uid_validity.ok_or_else(|| {
            ConnectorError::permanent(
                "the mail server gives its messages no stable numbers (no UIDVALIDITY)",
            )
        })?;
        Ok((validity, mailbox.exists))
    }

    /// Runs a UID FETCH and hands each answer to `each`, each within a time-out.
    pub(super) async fn uid_fetch(
        &self,
        s: &mut Imap,
        uids: &[u32],
        query: &str,
        budget: usize,
        mut each: impl FnMut(async_imap::types::Fetch),
    ) -> Result<(), ConnectorError> {
        if uids.is_empty() {
            return Ok(());
        }
        allow(s, budget);
        let ep = self.imap.clone();
        let stream = self
            .step("fetching", s.uid_fetch(uid_set(uids), query))
            .await?
            .map_err(|e| imap_error(&ep, "fetching", e))?;
        let mut stream = std::pin::pin!(stream);
        while let Some(answer) = self.step("fetching", stream.next()).await? {
            each(answer.map_err(|e| imap_error(&ep, "fetching", e))?);
        }
        Ok(())
    }

    /// Says goodbye, briefly; a server that does not answer is left.
    pub(super) async fn logout(&self, mut s: Imap) {
        allow(&mut s, ANSWER_BYTES);
        let _ = tokio::time::timeout(Duration::from_secs(5), s.logout()).await;
    }
}

/// The text of an IMAP NO or BAD as the server wrote it (async-imap gives
/// `code: …, info: Some("…")`).
fn imap_words(s: &str) -> String {
    if let Some(start) = s.find("info: Some(\"") {
        let rest = &s[start + "info: Some(\"".len()..];
        if let Some(end) = rest.rfind("\")") {
            return rest[..end].replace("\\\"", "\"").replace("\\\\", "\\");
        }
    }
    s.to_owned()
}

/// What a failed read or write on the IMAP connection means.
fn io_error(ep: &Endpoint, e: &io::Error) -> ConnectorError {
    if let Some(inner) = e.get_ref() {
        if inner.downcast_ref::<TooMuch>().is_some() {
            return ConnectorError::Transient {
                reason: TooMuch.to_string(),
                retry_after: None,
            };
        }
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return tls_error(ep, tls);
        }
    }
    ConnectorError::Transient {
        reason: format!(
            "the connection to the mail server {}:{} failed ({e})",
            ep.host, ep.port
        ),
        retry_after: None,
    }
}

/// What a failed IMAP command means.
pub(super) fn imap_error(ep: &Endpoint, what: &str, e: async_imap::error::Error) -> ConnectorError {
    use async_imap::error::Error;
    match e {
        Error::Io(e) => io_error(ep, &e),
        Error::No(s) | Error::Bad(s) => {
            let words = imap_words(&s);
            if s.contains("Unavailable") || s.contains("InUse") {
                ConnectorError::Transient {
                    reason: format!("the mail server is busy ({what}): {words}"),
                    retry_after: None,
                }
            } else {
                ConnectorError::permanent(format!("the mail server refused ({what}): {words}"))
            }
        }
        Error::ConnectionLost => ConnectorError::Transient {
            reason: format!("the mail server closed the connection ({what})"),
            retry_after: None,
        },
        e => ConnectorError::Transient {
            reason: format!("the mail server's answer could not be read ({what}: {e})"),
            retry_after: None,
        },
    }
}

/// What a failed IMAP login means.
fn login_error(ep: &Endpoint, e: async_imap::error::Error) -> ConnectorError {
    use async_imap::error::Error;
    match e {
        Error::No(s) if !s.contains("Unavailable") => ConnectorError::Authorization {
            reason: format!(
                "the mail server refused the user name or password: {}",
                imap_words(&s)
            ),
        },
        e => imap_error(ep, "logging in", e),
    }
}

/// A UID set in IMAP's syntax (`1:4,7,9:12`) from ascending UIDs.
fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.saturating_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::email::mime::clean_id;

    #[test]
    fn uid_sets_and_ids() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
        assert_eq!(uid_set(&[]), "");
        assert_eq!(clean_id(" <a@b> "), Some("a@b".into()));
        assert_eq!(clean_id("<a b@c>"), None);
        assert_eq!(clean_id("<a\"@b>"), None);
        assert_eq!(
            imap_words(r#"code: Some(AuthenticationFailed), info: Some("Authentication failed.")"#),
            "Authentication failed."
        );
    }
}
