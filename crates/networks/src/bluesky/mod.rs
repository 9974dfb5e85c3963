//! Bluesky, through the AT Protocol's XRPC API: sign-in with an app
//! password and session refresh, handle resolution, posts with facets for
//! links, mentions and hashtags (UTF-8 byte offsets), languages, images with
//! alt text (`uploadBlob`), replies with their root and parent, inbound
//! mentions, replies and quotes from the notifications, and a post's likes,
//! reposts, replies and quotes.
//!
//! Publishing is idempotent: the record key is derived from the publish's
//! idempotency key and first due time, and a retry that finds the record
//! already there returns it instead of posting twice.

use crate::contract::{
    Author, Connector, ConnectorError, Counting, Fetched, Image, InboundItem, ItemKind, Media,
    Metrics, Outgoing, Published, ReplyTo, Rules,
};
use crate::http::{client, transport};
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

mod cursor;
mod keys;
mod richtext;
mod session;
mod xrpc;

use cursor::{Cursor, MAX_RECENT, trim_recent, window_start};
use keys::{at_parts, record_key};
pub use richtext::{Facet, facets, length};
use session::Session;
use xrpc::{Body, XrpcError};

/// The longest post, in grapheme clusters.
pub const MAX_GRAPHEMES: usize = 300;
/// The longest post, in bytes of UTF-8 (the lexicon's other limit).
const MAX_BYTES: usize = 3000;
/// The largest image the post lexicon accepts.
pub const MAX_IMAGE_BYTES: usize = 1_000_000;
/// Notifications asked for per page.
const PAGE: usize = 50;
/// Pages read per sync.
const PAGES: usize = 20;
/// Pages read at a channel's first sync.
const FIRST_PAGES: usize = 4;
/// The largest answer accepted.
pub(super) const MAX_BODY: usize = 8 << 20;
/// The collection of posts.
const POST: &str = "app.bsky.feed.post";

/// One Bluesky account on one service (its PDS, or `https://bsky.social`).
#[derive(Debug, Clone)]
pub struct BlueskyConnector {
    base: Url,
    identifier: String,
    password: String,
    client: reqwest::Client,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    did: String,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    uri: String,
    author: Profile,
    reason: String,
    #[serde(default)]
    record: Value,
    #[serde(default)]
    indexed_at: String,
}

#[derive(Debug, Deserialize)]
struct NotificationPage {
    #[serde(default)]
    notifications: Vec<Notification>,
    #[serde(default)]
    cursor: Option<String>,
}

/// A strong reference to a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StrongRef {
    uri: String,
    cid: String,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

impl BlueskyConnector {
    /// A connector for `identifier` (a handle, DID or e-mail address)
    /// signing in with an app password on the service at `service_url`.
    pub fn new(
        service_url: &str,
        identifier: &str,
        app_password: &str,
    ) -> Result<Self, ConnectorError> {
        let raw = service_url.trim();
        let raw = if raw.is_empty() {
            "https://bsky.social"
        } else {
            raw
        };
        let mut base = Url::parse(raw)
            .map_err(|_| ConnectorError::permanent("this is not the address of a Bluesky service (for most people: https://bsky.social)"))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(ConnectorError::permanent(
                "this is not the address of a Bluesky service (for most people: https://bsky.social)",
            ));
        }
        base.set_path("/");
        base.set_query(None);
        let identifier = identifier.trim().trim_start_matches('@').to_owned();
        if identifier.is_empty()
            || identifier.len() > 256
            || identifier.contains(char::is_whitespace)
        {
            return Err(ConnectorError::permanent("this is not a Bluesky handle"));
        }
        let password = app_password.trim().to_owned();
        if password.is_empty() || password.len() > 256 {
            return Err(ConnectorError::permanent("an app password is needed"));
        }
        Ok(Self {
            base,
            identifier,
            password,
            client: client(),
        })
    }

    /// The same connector with another time-out per request.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.client = crate::http::client_with_timeout(timeout);
        self
    }

    fn key(&self) -> (String, String) {
        (self.base.to_string(), self.identifier.to_lowercase())
    }

    fn xrpc(&self, method: &str) -> Result<Url, ConnectorError> {
        self.base
            .join(&format!("xrpc/{method}"))
            .map_err(|_| ConnectorError::permanent("the service's address is not usable"))
    }

    async fn resolve_handle(&self, handle: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct Did {
            did: String,
        }
        self.call::<Did>(
            Method::GET,
            "com.atproto.identity.resolveHandle",
            &[("handle", handle)],
            None,
        )
        .await
        .ok()
        .map(|d| d.did)
    }

    /// Facets in the lexicon's form; mentions whose handle does not resolve
    /// stay plain text.
    async fn rich_text(&self, text: &str) -> Vec<Value> {
        let mut out = vec![];
        for f in facets(text) {
            let (range, feature) = match f {
                Facet::Link { range, uri } => (
                    range,
                    json!({"$type": "app.bsky.richtext.facet#link", "uri": uri}),
                ),
                Facet::Tag { range, tag } => (
                    range,
                    json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
                ),
                Facet::Mention { range, handle } => match self.resolve_handle(&handle).await {
                    Some(did) => (
                        range,
                        json!({"$type": "app.bsky.richtext.facet#mention", "did": did}),
                    ),
                    None => continue,
                },
            };
            out.push(
                json!({"index": {"byteStart": range.0, "byteEnd": range.1}, "features": [feature]}),
            );
        }
        out
    }

    async fn upload(&self, image: &Image) -> Result<Value, ConnectorError> {
        #[derive(Deserialize)]
        struct Blob {
            blob: Value,
        }
        let b: Blob = self
            .call(
                Method::POST,
                "com.atproto.repo.uploadBlob",
                &[],
                Some(Body::Bytes(&image.bytes, &image.mime)),
            )
            .await?;
        Ok(b.blob)
    }

    /// A record of ours or another's, by its address.
    async fn get_record(&self, uri: &str) -> Result<Option<(StrongRef, Value)>, ConnectorError> {
        let (repo, collection, rkey) = at_parts(uri)
            .ok_or_else(|| ConnectorError::permanent("this is not a Bluesky post address"))?;
        #[derive(Deserialize)]
        struct Rec {
            uri: String,
            #[serde(default)]
            cid: String,
            #[serde(default)]
            value: Value,
        }
        match self
            .call::<Rec>(
                Method::GET,
                "com.atproto.repo.getRecord",
                &[("repo", repo), ("collection", collection), ("rkey", rkey)],
                None,
            )
            .await
        {
            Ok(r) => Ok(Some((
                StrongRef {
                    uri: r.uri,
                    cid: r.cid,
                },
                r.value,
            ))),
            Err(XrpcError::Said { error, status, .. })
                if error == "RecordNotFound" || status == StatusCode::NOT_FOUND =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn item(&self, n: Notification, me: &str) -> Option<InboundItem> {
        let r = &n.record;
        // One notification per post: a reply that also mentions us comes
        // as a mention; it is a comment when it answers a post of ours.
        let ours = format!("at://{me}/");
        let answers_us = ["/reply/parent/uri", "/reply/root/uri"].iter().any(|p| {
            r.pointer(p)
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with(&ours))
        });
        let kind = match n.reason.as_str() {
            "reply" => ItemKind::Comment,
            "mention" if answers_us => ItemKind::Comment,
            "mention" | "quote" => ItemKind::Mention,
            _ => return None,
        };
        let text = r
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let reply = r.get("reply");
        let parent = reply
            .and_then(|x| x.pointer("/parent/uri"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let root = reply
            .and_then(|x| x.pointer("/root/uri"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let published_at = r
            .get("createdAt")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond());
        let rkey = at_parts(&n.uri).map(|p| p.2.to_owned()).unwrap_or_default();
        let media = r
            .pointer("/embed/images")
            .and_then(Value::as_array)
            .map(|imgs| {
                imgs.iter()
                    .filter_map(|img| {
                        let cid = img.pointer("/image/ref/$link").and_then(Value::as_str)?;
                        let mut url = self.xrpc("com.atproto.sync.getBlob").ok()?;
                        url.query_pairs_mut()
                            .append_pair("did", &n.author.did)
                            .append_pair("cid", cid);
                        Some(Media {
                            url: url.to_string(),
                            kind: img
                                .pointer("/image/mimeType")
                                .and_then(Value::as_str)
                                .unwrap_or("image")
                                .to_owned(),
                            alt: img
                                .get("alt")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let handle = n.author.handle.clone();
        Some(InboundItem {
            kind,
            author: Author {
                id: n.author.did.clone(),
                name: n
                    .author
                    .display_name
                    .filter(|d| !d.trim().is_empty())
                    .unwrap_or_else(|| handle.clone()),
                handle: (!handle.is_empty()).then(|| format!("@{handle}")),
            },
            thread_ref: Some(root.unwrap_or_else(|| n.uri.clone())),
            in_reply_to: parent,
            text,
            url: (!handle.is_empty() && !rkey.is_empty())
                .then(|| format!("https://bsky.app/profile/{handle}/post/{rkey}")),
            published_at,
            media,
            external_id: n.uri,
        })
    }
}

impl Connector for BlueskyConnector {
    fn rules(&self) -> Rules {
        Rules {
            can_publish: true,
            max_length: Some(MAX_GRAPHEMES),
            counting: Counting::Graphemes,
            max_images: 4,
            max_image_bytes: MAX_IMAGE_BYTES,
            can_reply_to: &[ItemKind::Comment, ItemKind::Mention],
            idempotent_publish: true,
            // Bluesky allows 3,000 requests per 5 minutes; a sync takes at most 20.
            poll_interval: Duration::from_secs(120),
        }
    }

    async fn fetch(&self, cursor: &str) -> Result<Fetched, ConnectorError> {
        let cur: Cursor = serde_json::from_str(cursor).unwrap_or_default();
        let me = self.session().await?.did;
        let first = cur.seen_at.is_none();
        let pages = if first { FIRST_PAGES } else { PAGES };
        let boundary = cur.seen_at.as_deref().map(window_start);
        let mut known: std::collections::HashSet<String> =
            cur.recent.iter().map(|(_, u)| u.clone()).collect();
        // The newest notification of this round of reading, and what was
        // read near it (kept across syncs while a backlog is read).
        let (mut newest, mut fresh) = cur.pending.clone().unwrap_or_default();
        known.extend(fresh.iter().map(|(_, u)| u.clone()));
        let mut items = vec![];
        let mut page_cursor = cur.resume.clone();
        let mut reached = false;
        for _ in 0..pages {
            let limit = PAGE.to_string();
            let mut q = vec![("limit", limit.as_str())];
            if let Some(c) = page_cursor.as_deref() {
                q.push(("cursor", c));
            }
            let page: NotificationPage = self
                .call(
                    Method::GET,
                    "app.bsky.notification.listNotifications",
                    &q,
                    None,
                )
                .await?;
            for n in page.notifications {
                if boundary
                    .as_deref()
                    .is_some_and(|b| n.indexed_at.as_str() < b)
                {
                    reached = true;
                    break;
                }
                if n.indexed_at > newest {
                    newest = n.indexed_at.clone();
                }
                if n.indexed_at.as_str() >= window_start(&newest).as_str()
                    && fresh.len() < MAX_RECENT
                {
                    fresh.push((n.indexed_at.clone(), n.uri.clone()));
                }
                if known.insert(n.uri.clone()) {
                    items.extend(self.item(n, &me));
                }
            }
            page_cursor = page.cursor.filter(|c| !c.is_empty());
            if reached || page_cursor.is_none() {
                reached = true;
                break;
            }
        }
        // A first sync reads a bounded number back and starts from the newest.
        let next = if reached || first {
            let seen_at = if newest.is_empty() {
                cur.seen_at.clone().unwrap_or_default()
            } else {
                newest
            };
            let mut recent = cur.recent.clone();
            recent.extend(fresh);
            Cursor {
                recent: trim_recent(recent, &seen_at),
                seen_at: Some(seen_at),
                resume: None,
                pending: None,
            }
        } else {
            Cursor {
                resume: page_cursor,
                pending: Some((newest, fresh)),
                ..cur
            }
        };
        // Oldest first, as they happened.
        items.reverse();
        Ok(Fetched {
            items,
            more: next.resume.is_some(),
            cursor: serde_json::to_string(&next).unwrap_or_default(),
        })
    }

    async fn check(&self) -> Result<String, ConnectorError> {
        let s = self.create_session().await?;
        self.remember(&s);
        Ok(format!("@{}", s.handle))
    }

    async fn publish(&self, post: &Outgoing) -> Result<Published, ConnectorError> {
        let n = length(&post.text);
        if n > MAX_GRAPHEMES || post.text.len() > MAX_BYTES {
            return Err(ConnectorError::permanent(format!(
                "the post is {n} characters long; Bluesky takes at most {MAX_GRAPHEMES}"
            )));
        }
        if post.images.len() > 4 {
            return Err(ConnectorError::permanent(
                "Bluesky takes at most 4 images per post",
            ));
        }
        if let Some(big) = post.images.iter().find(|i| i.bytes.len() > MAX_IMAGE_BYTES) {
            return Err(ConnectorError::permanent(format!(
                "an image is {} kB; Bluesky takes at most 1,000 kB",
                big.bytes.len() / 1000
            )));
        }
        let session = self.session().await?;
        let created = post.created_at.unwrap_or_else(now_ms);
        let rkey = record_key(&post.idempotency_key, created);
        let uri = format!("at://{}/{POST}/{rkey}", session.did);
        // A retry after an unknown outcome: the post may be there already.
        if let Some((r, _)) = self.get_record(&uri).await? {
            return Ok(self.published(&session, r));
        }
        let mut record = json!({
            "$type": POST,
            "text": post.text,
            "createdAt": rfc3339(created),
        });
        let facets = self.rich_text(&post.text).await;
        if !facets.is_empty() {
            record["facets"] = json!(facets);
        }
        if let Some(lang) = post.language.as_deref().filter(|l| !l.is_empty()) {
            record["langs"] = json!([lang]);
        }
        if !post.images.is_empty() {
            let mut images = vec![];
            for image in &post.images {
                images.push(json!({"alt": image.alt, "image": self.upload(image).await?}));
            }
            record["embed"] = json!({"$type": "app.bsky.embed.images", "images": images});
        }
        if let Some(to) = &post.reply_to {
            let (parent, value) = self.get_record(&to.external_id).await?.ok_or_else(|| {
                ConnectorError::permanent("the post you are answering no longer exists on Bluesky")
            })?;
            let root = value
                .pointer("/reply/root")
                .and_then(|r| serde_json::from_value::<StrongRef>(r.clone()).ok())
                .unwrap_or_else(|| parent.clone());
            record["reply"] = json!({"root": root, "parent": parent});
        }
        let body = json!({"repo": session.did, "collection": POST, "rkey": rkey, "record": record});
        match self
            .call::<StrongRef>(
                Method::POST,
                "com.atproto.repo.createRecord",
                &[],
                Some(Body::Json(body)),
            )
            .await
        {
            Ok(r) => Ok(self.published(&session, r)),
            Err(XrpcError::Transport(e)) if !e.is_connect() => {
                Err(ConnectorError::OutcomeUnknown {
                    reason: format!(
                        "Bluesky did not confirm the post ({})",
                        transport(e).reason()
                    ),
                })
            }
            // The answer broke off or could not be read: the post arrived
            // and may be there.
            Err(XrpcError::Lost(e)) => Err(ConnectorError::OutcomeUnknown {
                reason: format!("Bluesky did not confirm the post ({})", e.reason()),
            }),
            Err(XrpcError::Said {
                status,
                error,
                message,
                retry,
            }) if matches!(status.as_u16(), 500 | 502 | 504) => {
                let e = ConnectorError::from(XrpcError::Said {
                    status,
                    error,
                    message,
                    retry,
                });
                Err(ConnectorError::OutcomeUnknown {
                    reason: e.reason().to_owned(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn reply(
        &self,
        to: &ReplyTo,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Published, ConnectorError> {
        let post = Outgoing {
            text: text.to_owned(),
            reply_to: Some(to.clone()),
            idempotency_key: idempotency_key.to_owned(),
            ..Outgoing::default()
        };
        self.publish(&post).await
    }

    async fn metrics(&self, remote_id: &str) -> Result<Metrics, ConnectorError> {
        at_parts(remote_id)
            .ok_or_else(|| ConnectorError::permanent("this is not a Bluesky post address"))?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct View {
            #[serde(default)]
            like_count: u64,
            #[serde(default)]
            repost_count: u64,
            #[serde(default)]
            reply_count: u64,
            #[serde(default)]
            quote_count: u64,
        }
        #[derive(Deserialize)]
        struct Posts {
            posts: Vec<View>,
        }
        let p: Posts = self
            .call(
                Method::GET,
                "app.bsky.feed.getPosts",
                &[("uris", remote_id)],
                None,
            )
            .await?;
        let v = p
            .posts
            .into_iter()
            .next()
            .ok_or_else(|| ConnectorError::permanent("the post no longer exists on Bluesky"))?;
        Ok(Metrics {
            likes: v.like_count,
            shares: v.repost_count,
            replies: v.reply_count,
            quotes: v.quote_count,
        })
    }
}

impl BlueskyConnector {
    fn published(&self, s: &Session, r: StrongRef) -> Published {
        let url = at_parts(&r.uri)
            .map(|(_, _, rkey)| format!("https://bsky.app/profile/{}/post/{rkey}", s.handle));
        Published {
            remote_id: r.uri,
            url,
        }
    }
}
