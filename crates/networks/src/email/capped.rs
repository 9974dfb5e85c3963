//! Bounded reading: the IMAP connection (plain or TLS) wrapped so that it
//! reads at most the bytes allowed for the current command.

use async_imap::Session;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The budget for an ordinary answer (greeting, login, EXAMINE, LIST).
pub(super) const ANSWER_BYTES: usize = 1 << 20;

/// The IMAP session type.
pub(super) type Imap = Session<Capped>;

/// A plain or TLS connection.
pub(super) enum Conn {
    /// Unencrypted TCP (before STARTTLS, or loopback only).
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// A connection that reads at most the bytes allowed for the current
/// command: a server cannot make Dialoog hold more than it asked for.
pub(super) struct Capped {
    pub(super) inner: Conn,
    left: usize,
}

impl Capped {
    /// A connection allowed an ordinary answer to begin with.
    pub(super) fn new(inner: Conn) -> Self {
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
pub(super) struct TooMuch;

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
pub(super) fn allow(s: &mut Imap, bytes: usize) {
    s.get_mut().left = bytes;
}
