//! E-mail as a webcare channel: mail comes in over IMAP (INBOX, read-only,
//! nothing is marked read) and answers go out over SMTP, threaded with
//! `In-Reply-To` and `References` so they land in the writer's conversation.
//!
//! TLS is rustls only: `imaps://` and `smtps://` speak TLS from the start,
//! `imap://` and `smtp://` must upgrade with STARTTLS, and unencrypted
//! connections (`?tls=none`) are allowed only to this machine (tests).
//! Every network step has a time-out, and every answer a size budget: a
//! server that sends more than it announced is cut off.

mod capped;
mod imap;
mod mailbox;
mod mime;
mod settings;
mod smtp;

use self::capped::{ANSWER_BYTES, allow};
use self::settings::{Endpoint, Proto, endpoint};
use crate::contract::{
    Connector, ConnectorError, Counting, Fetched, ItemKind, Published, ReplyTo, Rules,
};
use std::fmt;
use std::future::Future;
use std::time::Duration;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

/// The largest message downloaded whole (10 MB); a larger one is kept
/// with its headers and a note.
pub const MAX_MESSAGE_BYTES: usize = 10 << 20;

/// The default time-out per network step.
const STEP: Duration = Duration::from_secs(30);

/// What a person fills in to connect a mailbox.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EmailConfig {
    /// The IMAP server: `imaps://host[:993]` or `imap://host[:143]`
    /// (STARTTLS); a bare host means `imaps://`.
    pub imap_url: String,
    /// The SMTP server: `smtps://host[:465]` or `smtp://host[:587]`
    /// (STARTTLS); a bare host means `smtps://`.
    pub smtp_url: String,
    /// The user name for both servers.
    pub username: String,
    /// The password for both servers.
    pub password: String,
    /// The mailbox's own address: the channel's name and the sender of
    /// answers.
    pub address: String,
}

impl fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailConfig")
            .field("imap_url", &self.imap_url)
            .field("smtp_url", &self.smtp_url)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("address", &self.address)
            .finish()
    }
}

/// One mailbox, read over IMAP and answered over SMTP.
#[derive(Clone)]
pub struct EmailConnector {
    imap: Endpoint,
    smtp: Endpoint,
    username: String,
    password: String,
    address: lettre::Address,
    roots: Vec<CertificateDer<'static>>,
    roots_pem: Vec<Vec<u8>>,
    timeout: Duration,
}

impl fmt::Debug for EmailConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailConnector")
            .field("imap", &self.imap)
            .field("smtp", &self.smtp)
            .field("username", &self.username)
            .field("address", &self.address)
            .field("extra_roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

impl EmailConnector {
    /// A connector for the mailbox in `config`, after checking every field.
    pub fn new(config: EmailConfig) -> Result<Self, ConnectorError> {
        let imap = endpoint(&config.imap_url, Proto::Imap)?;
        let smtp = endpoint(&config.smtp_url, Proto::Smtp)?;
        let username = config.username.trim();
        if username.is_empty() {
            return Err(ConnectorError::permanent("the user name is missing"));
        }
        if username.len() > 256 || username.chars().any(char::is_control) {
            return Err(ConnectorError::permanent(
                "the user name is too long or has characters a mail server cannot take",
            ));
        }
        if config.password.is_empty() {
            return Err(ConnectorError::permanent("the password is missing"));
        }
        if config.password.len() > 1024 || config.password.chars().any(char::is_control) {
            return Err(ConnectorError::permanent(
                "the password is too long or has characters a mail server cannot take",
            ));
        }
        let raw = config.address.trim();
        let address: lettre::Address = raw.parse().map_err(|_| {
            ConnectorError::permanent(format!(
                "“{}” is not an e-mail address",
                raw.chars().take(100).collect::<String>()
            ))
        })?;
        if raw.len() > 254 {
            return Err(ConnectorError::permanent("the e-mail address is too long"));
        }
        Ok(Self {
            imap,
            smtp,
            username: username.to_owned(),
            password: config.password,
            address,
            roots: Vec::new(),
            roots_pem: Vec::new(),
            timeout: STEP,
        })
    }

    /// The same connector, also trusting the certificates in `pem` (for a
    /// server with its own, self-signed certificate).
    pub fn with_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ConnectorError> {
        let mut found = Vec::new();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                ConnectorError::permanent(format!("the certificate could not be read ({e})"))
            })?;
            found.push(cert);
        }
        if found.is_empty() {
            return Err(ConnectorError::permanent(
                "there is no certificate in this text (expected -----BEGIN CERTIFICATE-----)",
            ));
        }
        self.roots.extend(found);
        self.roots_pem.push(pem.to_vec());
        Ok(self)
    }

    /// The same connector with another time-out per network step.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The mailbox's own address.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Waits at most one time-out for `fut`.
    async fn step<T>(&self, what: &str, fut: impl Future<Output = T>) -> Result<T, ConnectorError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| ConnectorError::Transient {
                reason: format!(
                    "the mail server did not answer within {} s ({what})",
                    self.timeout.as_secs()
                ),
                retry_after: None,
            })
    }
}

impl Connector for EmailConnector {
    fn rules(&self) -> Rules {
        Rules {
            can_publish: false,
            max_length: None,
            counting: Counting::Characters,
            max_images: 0,
            max_image_bytes: 0,
            can_reply_to: &[ItemKind::Email],
            idempotent_publish: false,
            poll_interval: Duration::from_secs(120),
        }
    }

    async fn fetch(&self, cursor: &str) -> Result<Fetched, ConnectorError> {
        let mut s = self.open().await?;
        let fetched = self.fetch_inner(&mut s, cursor).await;
        self.logout(s).await;
        fetched
    }

    async fn check(&self) -> Result<String, ConnectorError> {
        let mut s = self.open().await?;
        let inbox = self.inbox(&mut s).await;
        self.logout(s).await;
        inbox.map(|_| self.address.to_string())
    }

    async fn reply(
        &self,
        to: &ReplyTo,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Published, ConnectorError> {
        if text.trim().is_empty() {
            return Err(ConnectorError::permanent("the answer is empty"));
        }
        let id = to.external_id.trim();
        let mut s = self.open().await?;
        let original = match self.original(&mut s, id).await {
            Ok(o) => o,
            Err(e) => {
                self.logout(s).await;
                return Err(e);
            }
        };
        let answered = self.answer(&original, id, text, idempotency_key);
        let (message_id, message) = match answered {
            Ok(a) => a,
            Err(e) => {
                self.logout(s).await;
                return Err(e);
            }
        };
        let bytes = message.formatted();
        // Sending may take longer than the IMAP server keeps a quiet
        // connection; the copy goes over a fresh one if needed.
        let sent = self.send(message.envelope(), &bytes).await;
        if sent.is_ok() {
            allow(&mut s, ANSWER_BYTES);
            let alive = matches!(
                tokio::time::timeout(Duration::from_secs(5), s.noop()).await,
                Ok(Ok(()))
            );
            if alive {
                self.keep_copy(&mut s, &bytes).await;
            } else if let Ok(mut fresh) = self.open().await {
                self.keep_copy(&mut fresh, &bytes).await;
                self.logout(fresh).await;
            }
        }
        self.logout(s).await;
        sent?;
        Ok(Published {
            remote_id: message_id,
            url: None,
        })
    }
}
