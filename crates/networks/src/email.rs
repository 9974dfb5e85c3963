//! E-mail as a webcare channel: mail comes in over IMAP (INBOX, read-only,
//! nothing is marked read) and answers go out over SMTP, threaded with
//! `In-Reply-To` and `References` so they land in the writer's conversation.
//!
//! TLS is rustls only: `imaps://` and `smtps://` speak TLS from the start,
//! `imap://` and `smtp://` must upgrade with STARTTLS, and unencrypted
//! connections (`?tls=none`) are allowed only to this machine (tests).
//! Every network step has a time-out, and every answer a size budget: a
//! server that sends more than it announced is cut off.

use crate::contract::{
    Author, Connector, ConnectorError, Counting, Fetched, InboundItem, ItemKind, Media, Published,
    ReplyTo, Rules,
};
use async_imap::imap_proto::{NameAttribute, Response, Status};
use async_imap::{Client, Session};
use futures_util::StreamExt;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

/// Messages read at a channel's first sync: the newest ones.
const FIRST_SYNC: usize = 200;
/// Messages read per sync at most; the rest follows at the next sync.
const PER_SYNC: usize = 500;
/// The largest message downloaded whole (10 MB); a larger one is kept
/// with its headers and a note.
pub const MAX_MESSAGE_BYTES: usize = 10 << 20;
/// How much of a header is read when only the header is fetched.
const HEADER_BYTES: usize = 256 << 10;
/// Message bytes asked for in one FETCH.
const BATCH_BYTES: usize = 16 << 20;
/// Messages asked for in one FETCH.
const BATCH_MESSAGES: usize = 100;
/// Message bytes read per sync; past it the sync stops and says `more`.
const SYNC_BYTES: usize = 64 << 20;
/// The budget for an ordinary answer (greeting, login, EXAMINE, LIST).
const ANSWER_BYTES: usize = 1 << 20;
/// The largest answer to a SEARCH (about five million messages).
const MAX_SEARCH_BYTES: usize = 64 << 20;
/// Room per message for the FETCH framing around its bytes.
const FRAMING_BYTES: usize = 4 << 10;
/// The longest text kept from one e-mail.
const MAX_TEXT_BYTES: usize = 1 << 20;
/// Attachments listed per e-mail.
const MAX_MEDIA: usize = 100;
/// The longest Message-ID taken as the item's id.
const MAX_ID_LEN: usize = 250;
/// References kept in an answer (the root and the newest ones).
const MAX_REFERENCES: usize = 20;
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

/// How a connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// TLS from the first byte (`imaps://`, `smtps://`).
    Tls,
    /// Plain, upgraded with STARTTLS before anything else (`imap://`, `smtp://`).
    StartTls,
    /// No encryption at all: loopback only.
    None,
}

/// One server: where and how.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    host: String,
    port: u16,
    security: Security,
}

/// Where the next fetch resumes: the mailbox's UIDVALIDITY and the highest
/// UID read.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    uidvalidity: u32,
    last_uid: u32,
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

    /// rustls with the platform's trusted certificates plus ours.
    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, ConnectorError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.roots.iter().cloned(),
            provider.clone(),
        )
        .map_err(|e| {
            ConnectorError::permanent(format!(
                "the trusted certificates could not be loaded ({e})"
            ))
        })?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConnectorError::permanent(format!("TLS could not be set up ({e})")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

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
    async fn open(&self) -> Result<Imap, ConnectorError> {
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
    async fn inbox(&self, s: &mut Imap) -> Result<(u32, u32), ConnectorError> {
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
    async fn uid_fetch(
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

    async fn logout(&self, mut s: Imap) {
        allow(&mut s, ANSWER_BYTES);
        let _ = tokio::time::timeout(Duration::from_secs(5), s.logout()).await;
    }

    async fn fetch_inner(&self, s: &mut Imap, cursor: &str) -> Result<Fetched, ConnectorError> {
        let cur = if cursor.trim().is_empty() {
            None
        } else {
            serde_json::from_str::<Cursor>(cursor).ok()
        };
        let (validity, exists) = self.inbox(s).await?;
        let (first, after) = match cur {
            None => (true, 0),
            Some(c) if c.uidvalidity == validity => (false, c.last_uid),
            // The mailbox was recreated: its numbers mean other messages
            // now. Start over; storage keeps each message once by its id.
            Some(_) => (false, 0),
        };
        let mut uids: Vec<u32> = if after == u32::MAX {
            Vec::new()
        } else {
            // About 11 bytes per UID; a server claiming billions of messages
            // still gets no more than `MAX_SEARCH_BYTES`.
            allow(
                s,
                (ANSWER_BYTES + (exists as usize).saturating_mul(12)).min(MAX_SEARCH_BYTES),
            );
            let query = if after == 0 {
                "ALL".to_owned()
            } else {
                format!("UID {}:*", after + 1)
            };
            self.step("searching", s.uid_search(query))
                .await?
                .map_err(|e| imap_error(&self.imap, "searching", e))?
                .into_iter()
                .filter(|u| *u > after)
                .collect()
        };
        uids.sort_unstable();
        let mut more = false;
        if first && uids.len() > FIRST_SYNC {
            uids.drain(..uids.len() - FIRST_SYNC);
        } else if uids.len() > PER_SYNC {
            uids.truncate(PER_SYNC);
            more = true;
        }
        // Sizes first: what is too large is not downloaded whole.
        let mut sizes: HashMap<u32, Option<u32>> = HashMap::new();
        self.uid_fetch(
            s,
            &uids,
            "(UID RFC822.SIZE)",
            ANSWER_BYTES + uids.len() * 128,
            |f| {
                if let Some(uid) = f.uid {
                    sizes.insert(uid, f.size);
                }
            },
        )
        .await?;
        let present: Vec<(u32, Option<u32>)> = uids
            .iter()
            .filter_map(|u| sizes.get(u).map(|size| (*u, *size)))
            .collect();
        let is_big = |size: Option<u32>| size.is_none_or(|n| n as usize > MAX_MESSAGE_BYTES);

        let mut items = Vec::new();
        let mut last = after;
        let mut spent = 0usize;
        let mut i = 0;
        while i < present.len() {
            if spent >= SYNC_BYTES {
                more = true;
                break;
            }
            let big = is_big(present[i].1);
            let mut end = i;
            let mut bytes = 0usize;
            while end < present.len() && end - i < BATCH_MESSAGES && is_big(present[end].1) == big {
                let n = if big {
                    HEADER_BYTES
                } else {
                    present[end].1.map_or(0, |n| n as usize)
                };
                if end > i && bytes + n > BATCH_BYTES {
                    break;
                }
                bytes += n;
                end += 1;
            }
            let batch: Vec<u32> = present[i..end].iter().map(|(u, _)| *u).collect();
            let query = if big {
                format!("(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER]<0.{HEADER_BYTES}>)")
            } else {
                "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])".to_owned()
            };
            let mut got: HashMap<u32, InboundItem> = HashMap::new();
            self.uid_fetch(
                s,
                &batch,
                &query,
                ANSWER_BYTES + bytes + batch.len() * FRAMING_BYTES,
                |f| {
                    let Some(uid) = f.uid else { return };
                    let date = f.internal_date().map(|d| d.timestamp_millis());
                    let raw = if big { f.header() } else { f.body() };
                    if let Some(raw) = raw {
                        got.insert(uid, item(raw, uid, validity, f.size, date, !big));
                    }
                },
            )
            .await?;
            items.extend(batch.iter().filter_map(|u| got.remove(u)));
            spent += bytes;
            last = batch.last().copied().unwrap_or(last);
            i = end;
        }
        if i >= present.len() {
            // Everything picked was read (or was deleted meanwhile).
            last = last.max(uids.last().copied().unwrap_or(after));
        }
        let next = Cursor {
            uidvalidity: validity,
            last_uid: last,
        };
        Ok(Fetched {
            items,
            cursor: serde_json::to_string(&next).unwrap_or_default(),
            more,
        })
    }

    /// Finds the e-mail being answered in INBOX and reads its header.
    async fn original(&self, s: &mut Imap, id: &str) -> Result<Vec<u8>, ConnectorError> {
        let gone = || {
            ConnectorError::permanent(
                "the e-mail you are answering is no longer in the mailbox (deleted or moved)",
            )
        };
        let (validity, _) = self.inbox(s).await?;
        let (uids, by_uid) = if let Some(rest) = id.strip_prefix("uid:") {
            let (v, u) = rest.split_once(':').ok_or_else(gone)?;
            if v.parse::<u32>().ok() != Some(validity) {
                return Err(gone());
            }
            (vec![u.parse::<u32>().map_err(|_| gone())?], true)
        } else {
            if !valid_id(id) {
                return Err(ConnectorError::permanent(
                    "this is not an e-mail's Message-ID",
                ));
            }
            allow(s, ANSWER_BYTES);
            let mut found: Vec<u32> = self
                .step(
                    "searching",
                    s.uid_search(format!("HEADER Message-ID \"<{id}>\"")),
                )
                .await?
                .map_err(|e| imap_error(&self.imap, "searching", e))?
                .into_iter()
                .collect();
            found.sort_unstable();
            found.truncate(10);
            (found, false)
        };
        let mut headers = Vec::new();
        self.uid_fetch(
            s,
            &uids,
            &format!("(UID BODY.PEEK[HEADER]<0.{HEADER_BYTES}>)"),
            ANSWER_BYTES + uids.len() * (HEADER_BYTES + FRAMING_BYTES),
            |f| {
                if let Some(h) = f.header() {
                    headers.push(h.to_vec());
                }
            },
        )
        .await?;
        headers
            .into_iter()
            .find(|h| {
                by_uid
                    || MessageParser::default()
                        .parse_headers(h.as_slice())
                        .and_then(|m| m.message_id().and_then(clean_id))
                        .is_some_and(|m| m == id)
            })
            .ok_or_else(gone)
    }

    /// Puts a copy of a sent answer in the mailbox marked `\Sent`, if there
    /// is one. A failure here loses nothing: the answer went out.
    async fn keep_copy(&self, s: &mut Imap, message: &[u8]) {
        allow(s, ANSWER_BYTES);
        let mut sent = None;
        if let Ok(Ok(list)) = tokio::time::timeout(self.timeout, s.list(Some(""), Some("*"))).await
        {
            let mut list = std::pin::pin!(list);
            while let Ok(Some(Ok(name))) = tokio::time::timeout(self.timeout, list.next()).await {
                if sent.is_none() && name.attributes().contains(&NameAttribute::Sent) {
                    sent = Some(name.name().to_owned());
                }
            }
        }
        let Some(sent) = sent else { return };
        allow(s, ANSWER_BYTES);
        match tokio::time::timeout(
            self.timeout,
            s.append(&sent, Some("(\\Seen)"), None, message),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the answer could not be copied to {sent}"),
            Err(_) => tracing::warn!("copying the answer to {sent} timed out"),
        }
    }

    fn smtp_tls(&self) -> Result<TlsParameters, ConnectorError> {
        let mut b = TlsParameters::builder(self.smtp.host.clone());
        for pem in &self.roots_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| {
                ConnectorError::permanent(format!("the certificate could not be read ({e})"))
            })?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| ConnectorError::permanent(format!("TLS could not be set up ({e})")))
    }

    /// Sends one message over SMTP. A failure once the message itself was
    /// sent is `OutcomeUnknown`, unless the server said plainly why not.
    async fn send(
        &self,
        envelope: &lettre::address::Envelope,
        message: &[u8],
    ) -> Result<(), ConnectorError> {
        let ep = &self.smtp;
        let hello = ClientId::Domain(self.address.domain().to_owned());
        let wrapper = match ep.security {
            Security::Tls => Some(self.smtp_tls()?),
            Security::StartTls | Security::None => None,
        };
        let mut conn = self
            .step(
                "connecting to the SMTP server",
                AsyncSmtpConnection::connect_tokio1(
                    (ep.host.as_str(), ep.port),
                    Some(self.timeout),
                    &hello,
                    wrapper,
                    None,
                ),
            )
            .await?
            .map_err(|e| smtp_error(ep, &e))?;
        if ep.security == Security::StartTls {
            if !conn.can_starttls() {
                return Err(ConnectorError::permanent(format!(
                    "the SMTP server {}:{} does not offer STARTTLS; use smtps:// instead",
                    ep.host, ep.port
                )));
            }
            self.step("STARTTLS", conn.starttls(self.smtp_tls()?, &hello))
                .await?
                .map_err(|e| smtp_error(ep, &e))?;
        }
        let mechanisms = [Mechanism::Plain, Mechanism::Login];
        if conn.server_info().get_auth_mechanism(&mechanisms).is_some() {
            let credentials = Credentials::new(self.username.clone(), self.password.clone());
            self.step("logging in", conn.auth(&mechanisms, &credentials))
                .await?
                .map_err(|e| match e.status().map(|c| c.to_string()) {
                    Some(c) if c.starts_with('5') => ConnectorError::Authorization {
                        reason: format!("the SMTP server refused the login: {}", smtp_words(&e)),
                    },
                    _ => smtp_error(ep, &e),
                })?;
        }
        let mut options = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !a.to_string().is_ascii());
        if non_ascii {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(ConnectorError::permanent(
                    "the SMTP server cannot send to an address with non-ASCII characters",
                ));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !message.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.step(
            "MAIL FROM",
            conn.command(Mail::new(envelope.from().cloned(), options)),
        )
        .await?
        .map_err(|e| smtp_error(ep, &e))?;
        for to in envelope.to() {
            self.step("RCPT TO", conn.command(Rcpt::new(to.clone(), Vec::new())))
                .await?
                .map_err(|e| smtp_error(ep, &e))?;
        }
        self.step("DATA", conn.command(Data))
            .await?
            .map_err(|e| smtp_error(ep, &e))?;
        match tokio::time::timeout(self.timeout, conn.message(message)).await {
            Err(_) => {
                return Err(ConnectorError::OutcomeUnknown {
                    reason: "the SMTP server did not confirm the e-mail in time".into(),
                });
            }
            Ok(Err(e)) if e.is_transient() || e.is_permanent() => return Err(smtp_error(ep, &e)),
            Ok(Err(e)) => {
                return Err(ConnectorError::OutcomeUnknown {
                    reason: format!("the SMTP server did not confirm the e-mail ({e})"),
                });
            }
            Ok(Ok(_)) => {}
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), conn.quit()).await;
        Ok(())
    }

    /// The answer to the e-mail whose header is `original`.
    fn answer(
        &self,
        original: &[u8],
        original_id: &str,
        text: &str,
        key: &str,
    ) -> Result<(String, lettre::Message), ConnectorError> {
        let parsed = MessageParser::default()
            .parse_headers(original)
            .ok_or_else(|| {
                ConnectorError::permanent("the e-mail you are answering is unreadable")
            })?;
        let to = parsed
            .reply_to()
            .and_then(|a| a.first())
            .filter(|a| a.address.is_some())
            .or_else(|| parsed.from().and_then(|a| a.first()))
            .ok_or_else(|| {
                ConnectorError::permanent("the e-mail you are answering has no sender to answer")
            })?;
        let to_address: lettre::Address = to
            .address
            .as_deref()
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|_| {
                ConnectorError::permanent(format!(
                    "the sender's address “{}” cannot be answered",
                    to.address.as_deref().unwrap_or_default()
                ))
            })?;
        let name = to.name.as_deref().map(one_line).filter(|n| !n.is_empty());
        let own_id = parsed.message_id().and_then(clean_id);
        let mut references: Vec<String> = ids(parsed.references());
        if let Some(own) = own_id.clone() {
            references.retain(|r| *r != own);
            references.push(own);
        }
        if references.len() > MAX_REFERENCES {
            // Keep the root and the newest ones (RFC 5322 3.6.4).
            let cut = references.len() - (MAX_REFERENCES - 1);
            references.drain(1..cut);
        }
        let message_id = reply_id(key, original_id, text, self.address.domain());
        let mut builder = lettre::Message::builder()
            .from(lettre::message::Mailbox::new(None, self.address.clone()))
            .to(lettre::message::Mailbox::new(name, to_address))
            .subject(reply_subject(parsed.subject().unwrap_or_default()))
            .message_id(Some(format!("<{message_id}>")))
            .header(lettre::message::header::ContentType::TEXT_PLAIN);
        if let Some(own) = own_id {
            builder = builder.in_reply_to(format!("<{own}>"));
        }
        if !references.is_empty() {
            let refs: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
            builder = builder.references(refs.join(" "));
        }
        let message = builder.body(text.to_owned()).map_err(|e| {
            ConnectorError::permanent(format!("the answer could not be written ({e})"))
        })?;
        Ok((message_id, message))
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

/// The IMAP session type.
type Imap = Session<Capped>;

/// A plain or TLS connection.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// A connection that reads at most the bytes allowed for the current
/// command: a server cannot make Dialoog hold more than it asked for.
struct Capped {
    inner: Conn,
    left: usize,
}

impl Capped {
    fn new(inner: Conn) -> Self {
        Self {
            inner,
            left: ANSWER_BYTES,
        }
    }
}

impl fmt::Debug for Capped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            Conn::Plain(_) => "plain",
            Conn::Tls(_) => "tls",
        };
        f.debug_struct("Capped")
            .field("conn", &kind)
            .field("left", &self.left)
            .finish()
    }
}

/// The error when a server sends more than the budget.
#[derive(Debug)]
struct TooMuch;

impl fmt::Display for TooMuch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mail server sent more than it announced")
    }
}

impl std::error::Error for TooMuch {}

impl AsyncRead for Capped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(Err(io::Error::other(TooMuch)));
        }
        let before = buf.filled().len();
        let polled = match &mut this.inner {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        if let Poll::Ready(Ok(())) = polled {
            let n = buf.filled().len().saturating_sub(before);
            if n > this.left {
                this.left = 0;
                return Poll::Ready(Err(io::Error::other(TooMuch)));
            }
            this.left -= n;
        }
        polled
    }
}

impl AsyncWrite for Capped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Sets how many bytes the next answer may take.
fn allow(s: &mut Imap, bytes: usize) {
    s.get_mut().left = bytes;
}

#[derive(Clone, Copy)]
enum Proto {
    Imap,
    Smtp,
}

/// Checks a server's address.
fn endpoint(raw: &str, proto: Proto) -> Result<Endpoint, ConnectorError> {
    let (what, tls_scheme, plain_scheme, tls_port, plain_port) = match proto {
        Proto::Imap => ("IMAP", "imaps", "imap", 993, 143),
        Proto::Smtp => ("SMTP", "smtps", "smtp", 465, 587),
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ConnectorError::permanent(format!(
            "the {what} server's address is missing"
        )));
    }
    let bad = || {
        ConnectorError::permanent(format!(
            "this is not the address of an {what} server: use {tls_scheme}://host or {plain_scheme}://host (STARTTLS)"
        ))
    };
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("{tls_scheme}://{raw}")
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|_| bad())?;
    let mut security = if url.scheme() == tls_scheme {
        Security::Tls
    } else if url.scheme() == plain_scheme {
        Security::StartTls
    } else {
        return Err(bad());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConnectorError::permanent(
            "put the user name and password in their own fields, not in the address",
        ));
    }
    if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
        return Err(bad());
    }
    for (k, v) in url.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("tls", "none") => security = Security::None,
            _ => {
                return Err(ConnectorError::permanent(format!(
                    "the {what} address has an unknown option “{k}” (only tls=none, for this machine)"
                )));
            }
        }
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .map_or(host.clone(), str::to_owned);
    let ip6 = host.parse::<Ipv6Addr>().ok();
    let ip4 = host.parse::<Ipv4Addr>().ok();
    let name_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ip6.is_none() && ip4.is_none() && !name_ok {
        return Err(bad());
    }
    let loopback = ip4.is_some_and(|a| a.is_loopback())
        || ip6.is_some_and(|a| a.is_loopback())
        || host == "localhost";
    if security == Security::None && !loopback {
        return Err(ConnectorError::permanent(format!(
            "an unencrypted {what} connection is allowed only to this machine; use {tls_scheme}:// or {plain_scheme}:// (STARTTLS)"
        )));
    }
    let port = url.port().unwrap_or(match security {
        Security::Tls => tls_port,
        Security::StartTls | Security::None => plain_port,
    });
    if port == 0 {
        return Err(bad());
    }
    Ok(Endpoint {
        host,
        port,
        security,
    })
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

fn tls_error(ep: &Endpoint, e: &rustls::Error) -> ConnectorError {
    match e {
        rustls::Error::InvalidCertificate(c) => {
            use rustls::CertificateError as C;
            let why = match c {
                C::UnknownIssuer => {
                    "it is not signed by an authority this computer trusts (a self-signed certificate?)"
                        .to_owned()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "it belongs to another server name".to_owned()
                }
                C::Expired | C::ExpiredContext { .. } => "it has expired".to_owned(),
                C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet".to_owned(),
                C::Revoked => "it has been revoked".to_owned(),
                other => format!("{other:?}"),
            };
            ConnectorError::permanent(format!(
                "the mail server {} shows a certificate that cannot be trusted: {why}; check the server's name, or ask the mail provider",
                ep.host
            ))
        }
        e => ConnectorError::permanent(format!(
            "no secure connection could be made with {}:{} ({e}); is this the server's TLS port?",
            ep.host, ep.port
        )),
    }
}

fn imap_error(ep: &Endpoint, what: &str, e: async_imap::error::Error) -> ConnectorError {
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

/// The server's words in an SMTP error.
fn smtp_words(e: &lettre::transport::smtp::Error) -> String {
    let mut words = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !words.contains(&more) {
            words.push_str(": ");
            words.push_str(&more);
        }
        source = s.source();
    }
    words
}

/// A rustls error somewhere in an error's sources.
fn find_tls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        if let Some(t) = s
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(t);
        }
        source = s.source();
    }
    None
}

fn smtp_error(ep: &Endpoint, e: &lettre::transport::smtp::Error) -> ConnectorError {
    if let Some(tls) = find_tls(e) {
        return match tls_error(ep, tls) {
            ConnectorError::Permanent { reason } => {
                ConnectorError::permanent(reason.replace("mail server", "SMTP server"))
            }
            other => other,
        };
    }
    let words = smtp_words(e);
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    if matches!(code.as_str(), "530" | "534" | "535" | "538") {
        ConnectorError::Authorization {
            reason: format!("the SMTP server wants another login: {words}"),
        }
    } else if e.is_permanent() {
        ConnectorError::permanent(format!("the SMTP server refused the e-mail: {words}"))
    } else if e.is_transient() {
        ConnectorError::Transient {
            reason: format!("the SMTP server cannot take the e-mail now: {words}"),
            retry_after: None,
        }
    } else {
        ConnectorError::Transient {
            reason: format!(
                "the SMTP server {}:{} could not be reached or answered oddly ({words})",
                ep.host, ep.port
            ),
            retry_after: None,
        }
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

/// Whether `id` can be a Message-ID we use and search for.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'))
}

/// A Message-ID without its angle brackets, if it is usable.
fn clean_id(raw: &str) -> Option<String> {
    let id = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    valid_id(id).then(|| id.to_owned())
}

/// The Message-IDs in a header (`References`, `In-Reply-To`).
fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match v {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(l) => l.iter().map(AsRef::as_ref).collect(),
        _ => Vec::new(),
    };
    raw.into_iter()
        .flat_map(str::split_whitespace)
        .filter_map(clean_id)
        .take(1000)
        .collect()
}

/// One line, control characters out, spaces folded, at most 200 characters.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect()
}

/// `Re: subject`, without a second `Re:`.
fn reply_subject(subject: &str) -> String {
    let s = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = s.to_lowercase();
    let answered = ["re:", "re :", "antw:", "aw:"]
        .iter()
        .any(|p| lower.starts_with(p));
    if answered {
        s
    } else if s.is_empty() {
        "Re:".to_owned()
    } else {
        format!("Re: {s}")
    }
}

/// The answer's Message-ID (without brackets): the same for every attempt
/// with the same idempotency key.
fn reply_id(key: &str, original: &str, text: &str, domain: &str) -> String {
    let mut h = Sha256::new();
    if key.is_empty() {
        // No key: the same answer to the same e-mail gets the same id.
        h.update(b"dialoog-reply-content\0");
        h.update(original.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
    } else {
        h.update(b"dialoog-reply-key\0");
        h.update(key.as_bytes());
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{hex}.dialoog@{domain}")
}

/// Cuts text at `max` bytes, on a character boundary.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The body as plain text: the text/plain parts, else the HTML ones made
/// harmless.
fn body_text(m: &Message<'_>) -> String {
    let mut parts = Vec::new();
    for list in [&m.text_body, &m.html_body] {
        for id in list {
            match m.parts.get(*id as usize).map(|p| &p.body) {
                Some(PartType::Text(t)) => parts.push(t.to_string()),
                Some(PartType::Html(h)) => parts.push(crate::html::to_text(h)),
                _ => {}
            }
        }
        if !parts.is_empty() {
            break;
        }
    }
    let text = parts.join("\n").replace("\r\n", "\n").replace('\r', "\n");
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    cut(text.trim().to_owned(), MAX_TEXT_BYTES)
}

fn size_text(bytes: u32) -> String {
    let tenths = u64::from(bytes) * 10 / (1 << 20);
    format!("{}.{} MB", tenths / 10, tenths % 10)
}

/// An inbound item from a message (`whole`) or only its header.
fn item(
    raw: &[u8],
    uid: u32,
    validity: u32,
    size: Option<u32>,
    internal_date: Option<i64>,
    whole: bool,
) -> InboundItem {
    let parser = MessageParser::default();
    let parsed = if whole {
        parser.parse(raw)
    } else {
        parser.parse_headers(raw)
    };
    let fallback_id = format!("uid:{validity}:{uid}");
    let Some(m) = parsed else {
        return InboundItem {
            external_id: fallback_id.clone(),
            kind: ItemKind::Email,
            author: Author {
                id: String::new(),
                name: "(unknown sender)".into(),
                handle: None,
            },
            thread_ref: Some(fallback_id),
            in_reply_to: None,
            text: "(this e-mail could not be read)".into(),
            url: None,
            published_at: internal_date,
            media: Vec::new(),
        };
    };
    let own_id = m.message_id().and_then(clean_id);
    let external_id = own_id.clone().unwrap_or(fallback_id);
    let in_reply_to = ids(m.in_reply_to()).into_iter().next();
    let thread_ref = ids(m.references())
        .into_iter()
        .next()
        .or_else(|| in_reply_to.clone())
        .unwrap_or_else(|| external_id.clone());
    let from = m
        .from()
        .and_then(|a| a.first())
        .or_else(|| m.sender().and_then(|a| a.first()));
    let address = from
        .and_then(|a| a.address.as_deref())
        .map(one_line)
        .unwrap_or_default();
    let name = from
        .and_then(|a| a.name.as_deref())
        .map(one_line)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| address.clone());
    let author = Author {
        id: address.to_lowercase(),
        name: if name.is_empty() {
            "(unknown sender)".into()
        } else {
            name
        },
        handle: (!address.is_empty()).then(|| address.clone()),
    };
    let subject = m.subject().map(one_line).unwrap_or_default();
    let body = if whole {
        body_text(&m)
    } else {
        format!(
            "(This e-mail is {}, too large for Dialoog to fetch; read it in your mail program.)",
            size.map_or("over 10 MB".to_owned(), size_text)
        )
    };
    let text = match (subject.is_empty(), body.is_empty()) {
        (true, _) => body,
        (false, true) => subject,
        (false, false) => format!("{subject}\n{body}"),
    };
    let published_at = m
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| d.to_timestamp().checked_mul(1000))
        .or(internal_date);
    let media = if whole {
        m.attachments
            .iter()
            .take(MAX_MEDIA)
            .filter_map(|id| m.parts.get(*id as usize).map(|p| (id, p)))
            .map(|(id, p)| Media {
                url: format!("imap:{validity}/{uid}/{id}"),
                kind: p
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{sub}", c.ctype()),
                        None => c.ctype().to_owned(),
                    })
                    .map(|k| one_line(&k).to_lowercase())
                    .unwrap_or_else(|| "application/octet-stream".into()),
                alt: p.attachment_name().map(one_line).unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    InboundItem {
        external_id,
        kind: ItemKind::Email,
        author,
        thread_ref: Some(thread_ref),
        in_reply_to,
        text,
        url: None,
        published_at,
        media,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(imap: &str, smtp: &str) -> EmailConfig {
        EmailConfig {
            imap_url: imap.into(),
            smtp_url: smtp.into(),
            username: "webcare".into(),
            password: "geheim".into(),
            address: "webcare@bakkerij.nl".into(),
        }
    }

    #[test]
    fn addresses_are_checked() {
        let ep = |s: &str| endpoint(s, Proto::Imap);
        assert_eq!(
            ep("imap.bakkerij.nl"),
            Ok(Endpoint {
                host: "imap.bakkerij.nl".into(),
                port: 993,
                security: Security::Tls
            })
        );
        assert_eq!(
            ep("imap://Mail.Example:1143").map(|e| (e.host, e.port, e.security)),
            Ok(("mail.example".into(), 1143, Security::StartTls))
        );
        assert_eq!(ep("imap://mail.example").map(|e| e.port), Ok(143));
        assert_eq!(
            ep("imap://127.0.0.1:10143?tls=none").map(|e| e.security),
            Ok(Security::None)
        );
        assert_eq!(
            ep("imap://[::1]:10143?tls=none").map(|e| e.host),
            Ok("::1".into())
        );
        assert!(
            ep("imap://mail.example?tls=none").is_err(),
            "plain only to loopback"
        );
        assert!(ep("imap://user:pw@mail.example").is_err());
        assert!(ep("https://mail.example").is_err());
        assert!(ep("imaps://mail.example/INBOX").is_err());
        assert!(ep("imaps://mail.example?x=1").is_err());
        assert!(ep("").is_err());
        assert!(ep("imaps://bad host").is_err());
        let smtp = |s: &str| endpoint(s, Proto::Smtp).map(|e| (e.port, e.security));
        assert_eq!(smtp("smtp.example"), Ok((465, Security::Tls)));
        assert_eq!(smtp("smtp://smtp.example"), Ok((587, Security::StartTls)));
        assert!(smtp("imaps://smtp.example").is_err());

        assert!(EmailConnector::new(config("imap.example", "smtp.example")).is_ok());
        let mut c = config("imap.example", "smtp.example");
        c.address = "geen adres".into();
        assert!(EmailConnector::new(c).is_err());
        let mut c = config("imap.example", "smtp.example");
        c.password = "a\r\nb".into();
        assert!(EmailConnector::new(c).is_err());
        let c = EmailConnector::new(config("imap.example", "smtp.example")).unwrap();
        assert!(
            !format!("{c:?}").contains("geheim"),
            "the password stays out of logs"
        );
        assert!(c.clone().with_root_certificate_pem(b"nothing").is_err());
    }

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

    #[test]
    fn subjects_get_one_re() {
        assert_eq!(reply_subject("Bestelling"), "Re: Bestelling");
        assert_eq!(reply_subject("RE: Bestelling"), "RE: Bestelling");
        assert_eq!(reply_subject("Antw: Bestelling"), "Antw: Bestelling");
        assert_eq!(reply_subject(""), "Re:");
        assert_eq!(
            reply_subject("Re:  dubbel\r\n  gevouwen"),
            "Re: dubbel gevouwen"
        );
    }

    #[test]
    fn reply_ids_follow_the_key() {
        let a = reply_id("k1", "x@y", "hoi", "bakkerij.nl");
        assert_eq!(a, reply_id("k1", "other@y", "anders", "bakkerij.nl"));
        assert_ne!(a, reply_id("k2", "x@y", "hoi", "bakkerij.nl"));
        assert!(a.ends_with(".dialoog@bakkerij.nl"));
        assert!(valid_id(&a));
    }

    #[test]
    fn odd_mail_does_not_panic() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"From: <>\r\nSubject: =?utf-8?B?////?=\r\nMessage-ID: <<<>>>\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--",
            b"Date: Mon, 99 Foo 99999 99:99:99 +9999\r\n\r\nbody",
        ] {
            for whole in [true, false] {
                let it = item(raw, 7, 3, Some(10), None, whole);
                assert!(!it.external_id.is_empty());
                assert!(it.thread_ref.is_some());
            }
        }
        let it = item(b"Subject: hi\r\n\r\n", 7, 3, None, Some(5), true);
        assert_eq!(it.external_id, "uid:3:7");
        assert_eq!(it.published_at, Some(5));
    }
}
