//! Where the servers are and how connections to them are protected: the
//! checked `imaps://`, `imap://`, `smtps://` and `smtp://` addresses, the
//! rustls set-up with the extra trusted certificates, and what a TLS
//! failure means to a person.

use super::EmailConnector;
use crate::contract::ConnectorError;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use tokio_rustls::rustls;

/// How a connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Security {
    /// TLS from the first byte (`imaps://`, `smtps://`).
    Tls,
    /// Plain, upgraded with STARTTLS before anything else (`imap://`, `smtp://`).
    StartTls,
    /// No encryption at all: loopback only.
    None,
}

/// One server: where and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) security: Security,
}

/// Which kind of server an address is for.
#[derive(Clone, Copy)]
pub(super) enum Proto {
    Imap,
    Smtp,
}

/// Checks a server's address.
pub(super) fn endpoint(raw: &str, proto: Proto) -> Result<Endpoint, ConnectorError> {
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

impl EmailConnector {
    /// rustls with the platform's trusted certificates plus ours.
    pub(super) fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, ConnectorError> {
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

    /// The TLS parameters for the SMTP server, trusting our certificates too.
    pub(super) fn smtp_tls(&self) -> Result<TlsParameters, ConnectorError> {
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
}

/// What a TLS failure with a server means to a person.
pub(super) fn tls_error(ep: &Endpoint, e: &rustls::Error) -> ConnectorError {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::email::EmailConfig;

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
}
