//! Answers over SMTP: the reply written with `In-Reply-To` and
//! `References`, its stable Message-ID, the SMTP conversation itself, and
//! what an SMTP failure means to a person.

use super::EmailConnector;
use super::mime::{clean_id, ids, one_line};
use super::settings::{Endpoint, Security, tls_error};
use crate::contract::ConnectorError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use mail_parser::MessageParser;
use sha2::{Digest, Sha256};
use std::io;
use std::time::Duration;
use tokio_rustls::rustls;

/// References kept in an answer (the root and the newest ones).
const MAX_REFERENCES: usize = 20;

impl EmailConnector {
    /// Sends one message over SMTP. A failure once the message itself was
    /// sent is `OutcomeUnknown`, unless the server said plainly why not.
    pub(super) async fn send(
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
    pub(super) fn answer(
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

/// What a failed SMTP step means.
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::email::mime::valid_id;

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
}
