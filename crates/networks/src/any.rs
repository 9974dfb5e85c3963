//! One type for whichever connector a channel uses, so the engine can hold
//! any of them.

use crate::bluesky::BlueskyConnector;
use crate::contract::{
    Connector, ConnectorError, Fetched, Metrics, Outgoing, Published, ReplyTo, Rules,
};
use crate::email::EmailConnector;
use crate::feed::FeedConnector;
use crate::mastodon::MastodonConnector;
use crate::wordpress::WordPressConnector;

/// A connector for one of the networks Dialoog speaks.
#[derive(Debug, Clone)]
pub enum AnyConnector {
    /// RSS, Atom or JSON Feed.
    Feed(FeedConnector),
    /// Mastodon.
    Mastodon(MastodonConnector),
    /// Bluesky.
    Bluesky(BlueskyConnector),
    /// A WordPress site.
    WordPress(WordPressConnector),
    /// A mailbox (IMAP in, SMTP out).
    Email(EmailConnector),
}

macro_rules! each {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            AnyConnector::Feed($c) => $e,
            AnyConnector::Mastodon($c) => $e,
            AnyConnector::Bluesky($c) => $e,
            AnyConnector::WordPress($c) => $e,
            AnyConnector::Email($c) => $e,
        }
    };
}

impl AnyConnector {
    /// The same connector with another time-out per request (a feed keeps
    /// its own).
    #[must_use]
    pub fn with_timeout(self, timeout: std::time::Duration) -> Self {
        match self {
            AnyConnector::Feed(c) => AnyConnector::Feed(c),
            AnyConnector::Mastodon(c) => AnyConnector::Mastodon(c.with_timeout(timeout)),
            AnyConnector::Bluesky(c) => AnyConnector::Bluesky(c.with_timeout(timeout)),
            AnyConnector::WordPress(c) => AnyConnector::WordPress(c.with_timeout(timeout)),
            AnyConnector::Email(c) => AnyConnector::Email(c.with_timeout(timeout)),
        }
    }
}

impl Connector for AnyConnector {
    fn rules(&self) -> Rules {
        each!(self, c => c.rules())
    }

    async fn fetch(&self, cursor: &str) -> Result<Fetched, ConnectorError> {
        each!(self, c => c.fetch(cursor).await)
    }

    async fn check(&self) -> Result<String, ConnectorError> {
        each!(self, c => c.check().await)
    }

    async fn publish(&self, post: &Outgoing) -> Result<Published, ConnectorError> {
        each!(self, c => c.publish(post).await)
    }

    async fn reply(
        &self,
        to: &ReplyTo,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Published, ConnectorError> {
        each!(self, c => c.reply(to, text, idempotency_key).await)
    }

    async fn metrics(&self, remote_id: &str) -> Result<Metrics, ConnectorError> {
        each!(self, c => c.metrics(remote_id).await)
    }
}
