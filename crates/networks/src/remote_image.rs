//! Images from outside, fetched by Dialoog on a person's behalf so that
//! their browser never contacts another server: only `http` and `https`,
//! never an address on a private network (every address a name resolves
//! to is checked, and the connection goes to the checked addresses, so a
//! name cannot be re-pointed between the check and the connection), each
//! redirect checked again, a time limit, a size limit while reading, and
//! the type decided by the first bytes (JPEG, PNG, GIF or WebP; never what
//! the server says, and never SVG).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How a fetch is bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest image read (bytes); a longer answer is cut off.
    pub max_bytes: usize,
    /// The whole fetch, redirects and body included.
    pub timeout: Duration,
    /// Redirects followed.
    pub max_redirects: usize,
    /// Whether loopback addresses (`127.0.0.0/8`, `::1`) may be fetched:
    /// for tests and development only. Other private ranges stay refused.
    pub allow_loopback: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 5 << 20,
            timeout: Duration::from_secs(10),
            max_redirects: 3,
            allow_loopback: false,
        }
    }
}

/// Why an image was not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not an `http` or `https` address.
    #[error("only http and https addresses are fetched")]
    Scheme,
    /// The address (or one the name resolves to) is on a private,
    /// loopback, link-local or otherwise internal network.
    #[error("the address is on a private network")]
    PrivateAddress,
    /// More redirects than allowed.
    #[error("too many redirects")]
    TooManyRedirects,
    /// The server answered with an error status.
    #[error("the server answered with status {0}")]
    Status(u16),
    /// Larger than [`Limits::max_bytes`].
    #[error("the image is too large")]
    TooLarge,
    /// Not a JPEG, PNG, GIF or WebP image (SVG included).
    #[error("not a JPEG, PNG, GIF or WebP image")]
    NotAnImage,
    /// No complete answer within [`Limits::timeout`].
    #[error("the server did not answer in time")]
    Timeout,
    /// The name did not resolve or the server could not be reached.
    #[error("the server could not be reached")]
    Unreachable,
}

impl Refused {
    /// A stable word for the reason (for translations and logs).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Scheme => "scheme",
            Self::PrivateAddress => "private_address",
            Self::TooManyRedirects => "redirects",
            Self::Status(_) => "status",
            Self::TooLarge => "too_large",
            Self::NotAnImage => "not_an_image",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
        }
    }
}

/// A fetched image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteImage {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its media type, from its first bytes.
    pub content_type: &'static str,
}

/// The media type of an image, from its first bytes; `None` for anything
/// that is not a JPEG, PNG, GIF or WebP image.
#[must_use]
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Whether an address may be fetched: public unicast only (loopback when
/// allowed).
#[must_use]
pub fn public_address(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4, allow_loopback),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4, allow_loopback);
            }
            let s = v6.segments();
            if v6.is_loopback() {
                return allow_loopback;
            }
            // NAT64 (64:ff9b::/96) carries an IPv4 address.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return public_v4(Ipv4Addr::new(a, b, c, d), false);
            }
            !(v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || (s[0] & 0xffc0) == 0xfec0 // site-local
                || s[0] == 0x2001 && s[1] == 0x0db8 // documentation
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
        }
    }
}

fn public_v4(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))) // benchmarking
}

/// Checks an address before a connection or a redirect: the scheme, and
/// the host when it is written as an IP address (names are checked when
/// they are resolved).
fn check_url(url: &Url, allow_loopback: bool) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::Scheme);
    }
    let host = url.host_str().ok_or(Refused::Scheme)?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    match literal.parse::<IpAddr>() {
        Ok(ip) if !public_address(ip, allow_loopback) => Err(Refused::PrivateAddress),
        _ => Ok(()),
    }
}

/// The resolver of the image client: refuses a name when any of its
/// addresses is not public, and hands the checked addresses to the
/// connection.
struct Guard {
    allow_loopback: bool,
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            type BoxError = Box<dyn std::error::Error + Send + Sync>;
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(Refused::Unreachable) as BoxError)?
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(Refused::Unreachable) as BoxError);
            }
            if addrs.iter().any(|a| !public_address(a.ip(), allow)) {
                return Err(Box::new(Refused::PrivateAddress) as BoxError);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Our own refusal inside a client error (from the resolver or the
/// redirect check), or what the error means.
fn refusal(e: &reqwest::Error) -> Refused {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return *r;
        }
        source = s.source();
    }
    if e.is_timeout() {
        Refused::Timeout
    } else if e.is_redirect() {
        Refused::TooManyRedirects
    } else {
        Refused::Unreachable
    }
}

/// Fetches images from outside within [`Limits`].
#[derive(Clone)]
pub struct ImageFetcher {
    client: Option<reqwest::Client>,
    limits: Limits,
}

impl ImageFetcher {
    /// A fetcher with its own client (no proxy from the environment, our
    /// resolver, our redirect checks).
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        let allow = limits.allow_loopback;
        let max = limits.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                attempt.error(Refused::TooManyRedirects)
            } else if let Err(r) = check_url(attempt.url(), allow) {
                attempt.error(r)
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("Dialoog/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .dns_resolver(Arc::new(Guard {
                allow_loopback: allow,
            }))
            .redirect(policy)
            .connect_timeout(Duration::from_secs(5).min(limits.timeout))
            .timeout(limits.timeout)
            .build()
            .ok();
        Self { client, limits }
    }

    /// The limits it keeps to.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Fetches the image at `url`.
    pub async fn fetch(&self, url: &str) -> Result<RemoteImage, Refused> {
        let url = Url::parse(url.trim()).map_err(|_| Refused::Scheme)?;
        check_url(&url, self.limits.allow_loopback)?;
        let client = self.client.as_ref().ok_or(Refused::Unreachable)?;
        let work = async {
            let resp = client
                .get(url)
                .header(
                    reqwest::header::ACCEPT,
                    "image/jpeg, image/png, image/gif, image/webp",
                )
                .send()
                .await
                .map_err(|e| refusal(&e))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(Refused::Status(status.as_u16()));
            }
            self.read(resp).await
        };
        // The client's own time-out covers the body too; this is a second
        // guard around the whole fetch.
        tokio::time::timeout(self.limits.timeout + Duration::from_millis(200), work)
            .await
            .unwrap_or(Err(Refused::Timeout))
    }

    /// Reads the body within the size limit, giving up as soon as its
    /// first bytes show it is not an image.
    async fn read(&self, mut resp: reqwest::Response) -> Result<RemoteImage, Refused> {
        let max = self.limits.max_bytes;
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(Refused::TooLarge);
        }
        let mut out: Vec<u8> = Vec::new();
        let mut checked = false;
        while let Some(chunk) = resp.chunk().await.map_err(|e| refusal(&e))? {
            if out.len() + chunk.len() > max {
                return Err(Refused::TooLarge);
            }
            out.extend_from_slice(&chunk);
            if !checked && out.len() >= 12 {
                sniff(&out).ok_or(Refused::NotAnImage)?;
                checked = true;
            }
        }
        let content_type = sniff(&out).ok_or(Refused::NotAnImage)?;
        Ok(RemoteImage {
            bytes: out,
            content_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn only_public_addresses_are_fetched() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!public_address(ip(a), true), "{a} is internal");
        }
        for a in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert!(!public_address(ip(a), false), "{a}");
            assert!(public_address(ip(a), true), "{a} when loopback is allowed");
        }
        for a in [
            "93.184.216.34",
            "2606:2800:220:1::1",
            "::ffff:93.184.216.34",
        ] {
            assert!(public_address(ip(a), false), "{a} is public");
        }
    }

    #[test]
    fn urls_are_checked_before_anything_is_sent() {
        let check = |u: &str| {
            Url::parse(u)
                .map_err(|_| Refused::Scheme)
                .and_then(|u| check_url(&u, false))
        };
        assert_eq!(check("javascript:alert(1)"), Err(Refused::Scheme));
        assert_eq!(check("data:image/png;base64,AAAA"), Err(Refused::Scheme));
        assert_eq!(check("file:///etc/passwd"), Err(Refused::Scheme));
        assert_eq!(check("ftp://example.com/a.png"), Err(Refused::Scheme));
        assert_eq!(
            check("http://127.0.0.1/a.png"),
            Err(Refused::PrivateAddress)
        );
        assert_eq!(check("http://[::1]/a.png"), Err(Refused::PrivateAddress));
        assert_eq!(
            check("http://0x7f000001/a.png"),
            Err(Refused::PrivateAddress)
        );
        assert_eq!(
            check("http://2130706433/a.png"),
            Err(Refused::PrivateAddress)
        );
        assert_eq!(check("https://cdn.example.com/a.png"), Ok(()));
    }

    #[test]
    fn images_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>"), None);
        assert_eq!(sniff(b"<!DOCTYPE html><script>"), None);
        assert_eq!(sniff(b""), None);
    }
}
