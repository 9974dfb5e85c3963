//! RSS, Atom and JSON Feed: conditional polling (ETag, Last-Modified), items
//! identified by their id or else their link. Usable as an inbound channel
//! (a review site's or a forum's feed) and as a listening source.

use crate::contract::{
    Author, Connector, ConnectorError, Counting, Fetched, InboundItem, ItemKind, Rules,
};
use crate::http::{body_limited, classify, client, retry_after, transport};
use reqwest::{StatusCode, header};
use serde::{Deserialize, Serialize};

/// The largest feed accepted (10 MB).
pub const MAX_FEED_BYTES: usize = 10 << 20;

/// A feed at one URL.
#[derive(Debug, Clone)]
pub struct FeedConnector {
    url: String,
    client: reqwest::Client,
}

/// What the next poll sends back, so an unchanged feed costs a 304.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

impl FeedConnector {
    /// A connector for the feed at `url` (http or https).
    pub fn new(url: &str) -> Result<Self, ConnectorError> {
        let url = url.trim();
        let parsed = reqwest::Url::parse(url).map_err(|_| {
            ConnectorError::permanent("this is not a web address (start with https://)")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ConnectorError::permanent(
                "a feed address starts with https:// or http://",
            ));
        }
        Ok(Self {
            url: parsed.to_string(),
            client: client(),
        })
    }

    /// The feed's address.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn get(
        &self,
        cursor: &Cursor,
    ) -> Result<Option<(feed_rs::model::Feed, Cursor)>, ConnectorError> {
        let mut req = self.client.get(&self.url).header(header::ACCEPT, "application/feed+json, application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5");
        if let Some(e) = &cursor.etag {
            req = req.header(header::IF_NONE_MATCH, e);
        }
        if let Some(m) = &cursor.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, m);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !status.is_success() {
            let retry = retry_after(&resp);
            let body = body_limited(resp, 64 * 1024).await.unwrap_or_default();
            return Err(classify(status, retry, &String::from_utf8_lossy(&body)));
        }
        let header_str = |h| {
            resp.headers()
                .get(h)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = Cursor {
            etag: header_str(header::ETAG),
            last_modified: header_str(header::LAST_MODIFIED),
        };
        let body = body_limited(resp, MAX_FEED_BYTES).await?;
        let feed = feed_rs::parser::parse(body.as_slice()).map_err(|e| {
            ConnectorError::permanent(format!("this is not an RSS, Atom or JSON feed ({e})"))
        })?;
        Ok(Some((feed, next)))
    }
}

impl FeedConnector {
    /// A fetch for listening: the items with the feed's declared language.
    pub async fn fetch_heard(&self, cursor: &str) -> Result<crate::listen::Polled, ConnectorError> {
        let (fetched, language) = self.fetch_with_language(cursor).await?;
        let mut polled = crate::listen::Polled::from(fetched);
        if let Some(l) = language.filter(|l| !l.is_empty() && l.len() <= 16) {
            for h in &mut polled.heard {
                h.langs = vec![l.clone()];
            }
        }
        Ok(polled)
    }

    /// The items since `cursor` and the feed's language (`<language>`,
    /// `xml:lang`), if it says.
    async fn fetch_with_language(
        &self,
        cursor: &str,
    ) -> Result<(Fetched, Option<String>), ConnectorError> {
        let current: Cursor = serde_json::from_str(cursor).unwrap_or_default();
        match self.get(&current).await? {
            None => Ok((
                Fetched {
                    items: vec![],
                    cursor: cursor.to_owned(),
                    more: false,
                },
                None,
            )),
            Some((feed, next)) => {
                let language = feed.language.clone();
                let title = feed
                    .title
                    .map(|t| t.content)
                    .unwrap_or_else(|| self.url.clone());
                let items = feed
                    .entries
                    .into_iter()
                    .filter_map(|e| item(e, &title))
                    .collect();
                let fetched = Fetched {
                    items,
                    cursor: serde_json::to_string(&next).unwrap_or_default(),
                    more: false,
                };
                Ok((fetched, language))
            }
        }
    }
}

/// An author as people know them. RSS 2.0 writes `<author>mail@x.nl (Name)</author>`,
/// which arrives as an address with a placeholder name.
fn person(p: &feed_rs::model::Person) -> Author {
    let email = p.email.as_deref().unwrap_or("").trim();
    let (address, in_parens) = match (email.find('('), email.rfind(')')) {
        (Some(a), Some(b)) if a < b => (email[..a].trim(), Some(email[a + 1..b].trim())),
        _ => (email, None),
    };
    let placeholder = p.name.trim().is_empty() || p.name == "author";
    let name = match (placeholder, in_parens) {
        (false, _) => p.name.trim().to_owned(),
        (true, Some(n)) if !n.is_empty() => n.to_owned(),
        (true, _) if !address.is_empty() => address.to_owned(),
        _ => p.name.clone(),
    };
    let id = p
        .uri
        .clone()
        .filter(|u| !u.is_empty())
        .or_else(|| (!address.is_empty()).then(|| address.to_owned()))
        .unwrap_or_else(|| name.clone());
    Author {
        id,
        name,
        handle: None,
    }
}

fn item(entry: feed_rs::model::Entry, feed_title: &str) -> Option<InboundItem> {
    let link = entry.links.first().map(|l| l.href.clone());
    // feed-rs makes up an id when a feed has none; prefer the link then.
    let external_id = if entry.id.is_empty() {
        link.clone()?
    } else {
        entry.id.clone()
    };
    let title = entry
        .title
        .map(|t| crate::html::to_text(&t.content))
        .unwrap_or_default();
    let body = entry
        .content
        .and_then(|c| c.body)
        .or_else(|| entry.summary.map(|s| s.content))
        .map(|b| crate::html::to_text(&b))
        .unwrap_or_default();
    let text = match (title.is_empty(), body.is_empty()) {
        (false, false) if !body.starts_with(&title) => format!("{title}\n{body}"),
        (false, _) if body.is_empty() => title,
        _ => body,
    };
    let author = entry.authors.first().map(person);
    let when = entry
        .published
        .or(entry.updated)
        .map(|t| t.timestamp_millis());
    Some(InboundItem {
        external_id,
        kind: ItemKind::Post,
        author: author.unwrap_or_else(|| Author {
            id: feed_title.to_owned(),
            name: feed_title.to_owned(),
            handle: None,
        }),
        thread_ref: None,
        in_reply_to: None,
        text,
        url: link,
        published_at: when,
        media: vec![],
    })
}

impl Connector for FeedConnector {
    fn rules(&self) -> Rules {
        Rules {
            can_publish: false,
            max_length: None,
            counting: Counting::Characters,
            max_images: 0,
            max_image_bytes: 0,
            can_reply_to: &[],
            idempotent_publish: false,
            poll_interval: std::time::Duration::from_secs(15 * 60),
        }
    }

    async fn fetch(&self, cursor: &str) -> Result<Fetched, ConnectorError> {
        Ok(self.fetch_with_language(cursor).await?.0)
    }

    async fn check(&self) -> Result<String, ConnectorError> {
        let (feed, _) = self.get(&Cursor::default()).await?.ok_or_else(|| {
            ConnectorError::permanent("the feed answered 304 without being asked")
        })?;
        Ok(feed
            .title
            .map(|t| crate::html::to_text(&t.content))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.url.clone()))
    }
}
