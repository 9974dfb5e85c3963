//! The contract every network's connector fulfils.

use std::time::Duration;

/// What an inbound item is, by the network's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A reply or comment under one of our posts.
    Comment,
    /// A post that mentions us.
    Mention,
    /// A private message.
    DirectMessage,
    /// A review.
    Review,
    /// An e-mail.
    Email,
    /// A post or article (feeds, listening).
    Post,
}

impl ItemKind {
    /// The stable name stored and shown in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemKind::Comment => "comment",
            ItemKind::Mention => "mention",
            ItemKind::DirectMessage => "direct_message",
            ItemKind::Review => "review",
            ItemKind::Email => "email",
            ItemKind::Post => "post",
        }
    }
}

/// Who wrote an item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    /// Stable id on the network (a URL, a DID, an address).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Handle (`@anna@social.nl`, `anna.bsky.social`), where there is one.
    pub handle: Option<String>,
}

/// A picture, video or file attached to an inbound item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Media {
    /// Where the network serves it.
    pub url: String,
    /// What it is, in the network's words (`image`, `video`, a media type).
    pub kind: String,
    /// Its alt text, where it has one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alt: String,
}

/// Something that came in from a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundItem {
    /// The network's stable id: the same item always has the same id.
    pub external_id: String,
    /// What it is.
    pub kind: ItemKind,
    /// Who wrote it.
    pub author: Author,
    /// The conversation it belongs to.
    pub thread_ref: Option<String>,
    /// The item it answers.
    pub in_reply_to: Option<String>,
    /// Its text, as plain text (HTML already turned into text).
    pub text: String,
    /// A link to it.
    pub url: Option<String>,
    /// When it was written (UTC milliseconds).
    pub published_at: Option<i64>,
    /// What is attached to it.
    pub media: Vec<Media>,
}

/// The result of a fetch: new items and where to resume next time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// The items (possibly some seen before: storage keeps each once).
    pub items: Vec<InboundItem>,
    /// The cursor to pass to the next fetch.
    pub cursor: String,
    /// Whether the network has more items after this cursor already (the
    /// fetch stopped at its page budget): sync again soon.
    pub more: bool,
}

/// How a network counts text length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Unicode grapheme clusters (Bluesky).
    Graphemes,
    /// Characters, with every URL counted as 23 and remote mentions by their
    /// local part (Mastodon).
    CharactersUrl23,
    /// Unicode scalar values.
    Characters,
}

/// A network's rules, declared by its connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Whether Dialoog can publish there.
    pub can_publish: bool,
    /// The longest post, if there is a limit.
    pub max_length: Option<usize>,
    /// How that length is counted.
    pub counting: Counting,
    /// Images per post.
    pub max_images: usize,
    /// Bytes per image.
    pub max_image_bytes: usize,
    /// What can be replied to from Dialoog.
    pub can_reply_to: &'static [ItemKind],
    /// Whether the network honours the idempotency key of a publish, so a
    /// publish whose outcome is unknown may be sent again with the same key.
    pub idempotent_publish: bool,
    /// How often a channel is polled for new items when all is well: the
    /// share of the network's rate limit one channel may use.
    pub poll_interval: Duration,
}

/// Why a call to a network failed, classified by what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// Try again later (after `retry_after` when the network said so).
    #[error("temporary problem: {reason}")]
    Transient {
        /// What went wrong, in words.
        reason: String,
        /// How long the network asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The credentials are not (or no longer) accepted: reconnect.
    #[error("not authorised: {reason}")]
    Authorization {
        /// The network's words.
        reason: String,
    },
    /// This will not work however often it is tried.
    #[error("{reason}")]
    Permanent {
        /// A reason a person can read.
        reason: String,
    },
    /// A publish may or may not have happened (the answer was lost).
    #[error("outcome unknown: {reason}")]
    OutcomeUnknown {
        /// What happened.
        reason: String,
    },
}

impl ConnectorError {
    /// A permanent error with a reason.
    pub fn permanent(reason: impl Into<String>) -> Self {
        ConnectorError::Permanent {
            reason: reason.into(),
        }
    }

    /// Its reason, without the kind of error.
    pub fn reason(&self) -> &str {
        match self {
            ConnectorError::Transient { reason, .. }
            | ConnectorError::Authorization { reason }
            | ConnectorError::Permanent { reason }
            | ConnectorError::OutcomeUnknown { reason } => reason,
        }
    }

    /// The channel status this error leads to: `needs_reconnect` or `failing`.
    pub fn channel_status(&self) -> &'static str {
        match self {
            ConnectorError::Authorization { .. } => "needs_reconnect",
            _ => "failing",
        }
    }
}

/// An image to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its media type (`image/png`, `image/jpeg`, …).
    pub mime: String,
    /// Alt text for people who cannot see it.
    pub alt: String,
}

/// Who sees a post, where the network distinguishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone, in public timelines.
    #[default]
    Public,
    /// Everyone with the link, kept out of public timelines.
    Unlisted,
    /// Followers only.
    Followers,
    /// Only the people mentioned (a direct message).
    Direct,
}

/// The item a post answers, as the connector needs to know it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyTo {
    /// The network's id of the item answered.
    pub external_id: String,
    /// What it is (a direct message is answered privately).
    pub kind: Option<ItemKind>,
    /// Its author's handle, to address the answer to.
    pub author_handle: Option<String>,
    /// The conversation it belongs to (its root, where the network needs it).
    pub thread_ref: Option<String>,
}

/// A post to publish.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// The text, as the author wrote it for this network.
    pub text: String,
    /// Images, each with alt text.
    pub images: Vec<Image>,
    /// The item it answers, if it is a reply.
    pub reply_to: Option<ReplyTo>,
    /// The language it is written in (ISO 639-1).
    pub language: Option<String>,
    /// Who sees it.
    pub visibility: Visibility,
    /// The same key for every attempt at the same publish.
    pub idempotency_key: String,
    /// When the post was first due (UTC ms), the same for every attempt:
    /// networks that record a creation time get this one, so a retry does
    /// not make a second, later post. `None`: now.
    pub created_at: Option<i64>,
    /// Save it as a draft where the network has drafts (WordPress), for a
    /// person to finish there.
    pub draft: bool,
}

/// Where a published post lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The network's id for it.
    pub remote_id: String,
    /// Its public address.
    pub url: Option<String>,
}

/// Reactions to a published post, as the network counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Likes or favourites.
    pub likes: u64,
    /// Shares, boosts or reposts.
    pub shares: u64,
    /// Replies.
    pub replies: u64,
    /// Quotes, where the network counts them.
    pub quotes: u64,
}

/// One network account, as Dialoog uses it.
///
/// Each network implements what it supports; the defaults answer that the
/// network does not offer it, as a permanent error with a reason.
pub trait Connector: Sync {
    /// The network's rules.
    fn rules(&self) -> Rules;

    /// Fetches inbound items since `cursor` (empty: from the start).
    fn fetch(
        &self,
        cursor: &str,
    ) -> impl std::future::Future<Output = Result<Fetched, ConnectorError>> + Send;

    /// Checks the credentials; returns a name for the channel.
    fn check(&self) -> impl std::future::Future<Output = Result<String, ConnectorError>> + Send;

    /// Publishes a post (a reply when `reply_to` is set).
    fn publish(
        &self,
        post: &Outgoing,
    ) -> impl std::future::Future<Output = Result<Published, ConnectorError>> + Send {
        let _ = post;
        async {
            Err(ConnectorError::permanent(
                "this network cannot publish from Dialoog",
            ))
        }
    }

    /// Answers an inbound item through the network (a public reply, or a
    /// private one to a direct message).
    fn reply(
        &self,
        to: &ReplyTo,
        text: &str,
        idempotency_key: &str,
    ) -> impl std::future::Future<Output = Result<Published, ConnectorError>> + Send {
        let post = Outgoing {
            text: text.to_owned(),
            reply_to: Some(to.clone()),
            idempotency_key: idempotency_key.to_owned(),
            ..Outgoing::default()
        };
        async move { self.publish(&post).await }
    }

    /// Reactions to a post published through this channel.
    fn metrics(
        &self,
        remote_id: &str,
    ) -> impl std::future::Future<Output = Result<Metrics, ConnectorError>> + Send {
        let _ = remote_id;
        async {
            Err(ConnectorError::permanent(
                "this network gives no figures for posts",
            ))
        }
    }
}
