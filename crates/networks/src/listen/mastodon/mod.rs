//! Mastodon's public timelines as listening sources: a hashtag's
//! (`/api/v1/timelines/tag/{tag}`) or the instance's public one
//! (`/api/v1/timelines/public`), polled forward by id, and the same
//! through the streaming API ([`MastodonStream`]) where the instance offers
//! it.
//!
//! The cursor is the id of the newest status delivered (instance ids are
//! decimal numbers that grow with time). The first poll takes only the
//! newest page; later polls go forward from the cursor with `min_id`, page
//! by page, up to a budget (then `more`).

use super::{Heard, Polled, SourceSettings};
use crate::contract::{Author, ConnectorError, InboundItem, ItemKind, Media};
use crate::http::{body_limited, client, error_from, transport};
use reqwest::{Url, header};
use serde::Deserialize;
use std::time::Duration;

mod stream;

pub use stream::MastodonStream;

/// Statuses per page (Mastodon's largest).
const PAGE: usize = 40;
/// Pages read per poll; the rest follows at the next one.
const PAGES: usize = 10;
/// The largest page accepted.
const MAX_PAGE_BYTES: usize = 8 << 20;
/// How often a timeline is polled: ten pages a minute stay well inside
/// Mastodon's 300 requests per five minutes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(60);

/// Which timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Which {
    Tag(String),
    Public { local: bool },
}

/// A hashtag or public timeline on one instance, polled.
#[derive(Debug, Clone)]
pub struct MastodonTimeline {
    base: Url,
    which: Which,
    token: Option<String>,
    client: reqwest::Client,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Account {
    #[serde(default)]
    id: String,
    #[serde(default)]
    acct: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    followers_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Attachment {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, rename = "type")]
    kind: String,
}

/// A status as the timelines and the stream give it.
#[derive(Debug, Deserialize)]
pub(crate) struct Status {
    pub(crate) id: String,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    language: Option<String>,
    account: Account,
    #[serde(default)]
    media_attachments: Vec<Attachment>,
    #[serde(default)]
    reblog: Option<serde_json::Value>,
}

/// Orders Mastodon's ids, which are decimal numbers of any length.
pub(crate) fn id_key(id: &str) -> (usize, &str) {
    let id = id.trim_start_matches('0');
    (id.len(), id)
}

/// Whether `id` can be a Mastodon id (and so be put into a query).
fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl MastodonTimeline {
    /// The timeline of a `mastodon_tag` or `mastodon_public` source;
    /// `token` where the instance wants one for public timelines.
    pub fn new(settings: &SourceSettings, token: Option<&str>) -> Result<Self, ConnectorError> {
        let (instance, which) = match settings {
            SourceSettings::MastodonTag { instance, tag } => (
                instance,
                Which::Tag(
                    super::settings::tag(tag)
                        .map_err(|e| ConnectorError::permanent(e.to_string()))?,
                ),
            ),
            SourceSettings::MastodonPublic { instance, local } => {
                (instance, Which::Public { local: *local })
            }
            _ => {
                return Err(ConnectorError::permanent(
                    "this source is not a Mastodon timeline",
                ));
            }
        };
        let base = crate::mastodon::instance(instance)?;
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        if token.is_some_and(|t| t.len() > 512 || t.chars().any(char::is_whitespace)) {
            return Err(ConnectorError::permanent(
                "this is not a Mastodon access token",
            ));
        }
        Ok(Self {
            base,
            which,
            token: token.map(str::to_owned),
            client: client(),
        })
    }

    fn timeline_url(&self) -> Result<Url, ConnectorError> {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| ConnectorError::permanent("the instance's address is not usable"))?;
            path.pop_if_empty().extend(["api", "v1", "timelines"]);
            match &self.which {
                Which::Tag(tag) => {
                    path.extend(["tag", tag]);
                }
                Which::Public { .. } => {
                    path.push("public");
                }
            }
        }
        if let Which::Public { local: true } = self.which {
            url.query_pairs_mut().append_pair("local", "true");
        }
        Ok(url)
    }

    fn get(&self, url: Url) -> reqwest::RequestBuilder {
        let req = self
            .client
            .get(url)
            .header(header::ACCEPT, "application/json");
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    async fn page(&self, min_id: Option<&str>) -> Result<Vec<Status>, ConnectorError> {
        let mut url = self.timeline_url()?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &PAGE.to_string());
            if let Some(m) = min_id {
                q.append_pair("min_id", m);
            }
        }
        let resp = self.get(url).send().await.map_err(transport)?;
        if !resp.status().is_success() {
            return Err(error_from(resp).await);
        }
        let body = body_limited(resp, MAX_PAGE_BYTES).await?;
        serde_json::from_slice(&body)
            .map_err(|e| crate::http::unreadable(&body, &e, "the instance", ""))
    }

    /// What is new since `cursor` (a status id; empty: only the newest
    /// page), oldest first. Reposts are left out: the original is what was
    /// said.
    pub async fn poll(&self, cursor: &str) -> Result<Polled, ConnectorError> {
        let cursor = cursor.trim();
        let mut newest = plausible_id(cursor).then(|| cursor.to_owned());
        let mut heard = Vec::new();
        let mut more = false;
        let first = newest.is_none();
        for i in 0..PAGES {
            let page = self.page(newest.as_deref()).await?;
            let full = page.len() >= PAGE;
            let before = newest.clone();
            // Each page is newest first; the pages go forward in time.
            for s in page.into_iter().rev() {
                if newest.as_deref().is_none_or(|n| id_key(&s.id) > id_key(n)) {
                    newest = Some(s.id.clone());
                }
                if let Some(h) = self.heard(s) {
                    heard.push(h);
                }
            }
            if first || !full || newest == before {
                break;
            }
            if i + 1 == PAGES {
                more = true;
            }
        }
        Ok(Polled {
            heard,
            cursor: newest.unwrap_or_default(),
            more,
        })
    }

    /// A status as heard; `None` for reposts.
    pub(crate) fn heard(&self, status: Status) -> Option<Heard> {
        if status.reblog.is_some() {
            return None;
        }
        let host = self.base.host_str().unwrap_or_default();
        let a = &status.account;
        let acct = if a.acct.is_empty() {
            &a.username
        } else {
            &a.acct
        };
        let handle = if acct.contains('@') {
            format!("@{acct}")
        } else {
            let domain = a
                .url
                .as_deref()
                .and_then(|u| Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| host.to_owned());
            format!("@{acct}@{domain}")
        };
        let name = crate::html::to_text(&a.display_name);
        let author = Author {
            id: a
                .uri
                .clone()
                .or_else(|| a.url.clone())
                .unwrap_or_else(|| format!("{host}/accounts/{}", a.id)),
            name: if name.trim().is_empty() {
                handle.trim_start_matches('@').to_owned()
            } else {
                name
            },
            handle: Some(handle),
        };
        let body = crate::html::to_text(&status.content);
        let text = if status.spoiler_text.trim().is_empty() {
            body
        } else {
            format!("{}\n{body}", crate::html::to_text(&status.spoiler_text))
        };
        let reach = a.followers_count;
        let langs = status
            .language
            .filter(|l| !l.is_empty() && l.len() <= 16)
            .into_iter()
            .collect();
        let item = InboundItem {
            external_id: status
                .uri
                .clone()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| format!("{host}/statuses/{}", status.id)),
            kind: ItemKind::Post,
            author,
            thread_ref: None,
            in_reply_to: None,
            text,
            url: status.url.or(status.uri),
            published_at: status
                .created_at
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| t.as_millisecond()),
            media: status
                .media_attachments
                .into_iter()
                .filter_map(|m| {
                    Some(Media {
                        url: m.url?,
                        kind: m.kind,
                        alt: m.description.unwrap_or_default(),
                    })
                })
                .collect(),
        };
        Some(Heard { item, reach, langs })
    }

    /// The streaming address for this timeline under `streaming_base`.
    pub(crate) fn stream_url(&self, streaming_base: &Url) -> Result<Url, ConnectorError> {
        let mut url = streaming_base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| ConnectorError::permanent("the streaming address is not usable"))?;
            path.pop_if_empty().extend(["api", "v1", "streaming"]);
            match &self.which {
                Which::Tag(_) => {
                    path.push("hashtag");
                }
                Which::Public { local } => {
                    path.push("public");
                    if *local {
                        path.push("local");
                    }
                }
            }
        }
        if let Which::Tag(tag) = &self.which {
            url.query_pairs_mut().append_pair("tag", tag);
        }
        Ok(url)
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }
}
