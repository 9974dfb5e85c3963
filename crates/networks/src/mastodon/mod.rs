//! Mastodon (any instance), through its REST API: the OAuth
//! authorisation-code flow, publishing with media, alt text, language,
//! visibility and the `Idempotency-Key` header, inbound mentions, replies and
//! direct messages from the notifications (paged by the `Link` header's ids),
//! replies, and a post's favourites, boosts and replies.

use crate::contract::{
    Author, Connector, ConnectorError, Counting, Fetched, Image, InboundItem, ItemKind, Media,
    Metrics, Outgoing, Published, ReplyTo, Rules, Visibility,
};
use crate::http::{body_limited, client, error_from, transport};
use reqwest::{Method, RequestBuilder, StatusCode, Url, header};
use serde::{Deserialize, Serialize};
use std::time::Duration;

mod oauth;

pub use oauth::{App, SCOPES, authorize_url, exchange_code, instance, register_app};

/// Notifications asked for per page (Mastodon's default page size).
const PAGE: usize = 40;
/// Pages read per sync going forward; the rest follows at the next sync.
const FORWARD_PAGES: usize = 25;
/// Pages read back from the newest at a channel's first sync.
const FIRST_PAGES: usize = 5;
/// The largest page accepted.
const MAX_PAGE_BYTES: usize = 8 << 20;
/// How long an uploaded image may take to be processed.
const MEDIA_WAIT: Duration = Duration::from_secs(30);

/// One account on one Mastodon instance.
#[derive(Debug, Clone)]
pub struct MastodonConnector {
    base: Url,
    token: String,
    client: reqwest::Client,
}

/// Where the next fetch resumes: the newest notification seen, and our own
/// account's id (to tell replies to our posts from other mentions).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    newest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    me: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Account {
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

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
    #[serde(default)]
    in_reply_to_account_id: Option<String>,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    account: Account,
    #[serde(default)]
    media_attachments: Vec<Attachment>,
    #[serde(default)]
    favourites_count: u64,
    #[serde(default)]
    reblogs_count: u64,
    #[serde(default)]
    replies_count: u64,
    #[serde(default)]
    quotes_count: u64,
}

#[derive(Debug, Deserialize)]
struct Notification {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Debug, Deserialize)]
struct MediaAnswer {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

/// Orders Mastodon's ids, which are decimal numbers of any length.
fn id_key(id: &str) -> (usize, &str) {
    let id = id.trim_start_matches('0');
    (id.len(), id)
}

/// The `max_id` of the `next` link and the `min_id` of the `prev` link.
fn link_ids(headers: &header::HeaderMap) -> (Option<String>, Option<String>) {
    let mut next = None;
    let mut prev = None;
    for value in headers.get_all(header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let Some((url, params)) = part.split_once(';') else {
                continue;
            };
            let url = url.trim().trim_start_matches('<').trim_end_matches('>');
            let Ok(url) = Url::parse(url) else { continue };
            let q = |k: &str| {
                url.query_pairs()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.into_owned())
            };
            if params.contains("rel=\"next\"") || params.contains("rel=next") {
                next = q("max_id");
            } else if params.contains("rel=\"prev\"") || params.contains("rel=prev") {
                prev = q("min_id");
            }
        }
    }
    (next, prev)
}

fn parse_time(t: Option<&str>) -> Option<i64> {
    t?.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

impl MastodonConnector {
    /// A connector for the account behind `access_token` on the instance at
    /// `instance_url`.
    pub fn new(instance_url: &str, access_token: &str) -> Result<Self, ConnectorError> {
        let base = instance(instance_url)?;
        let token = access_token.trim();
        if token.is_empty() || token.len() > 512 || token.chars().any(char::is_whitespace) {
            return Err(ConnectorError::permanent(
                "this is not a Mastodon access token",
            ));
        }
        Ok(Self {
            base,
            token: token.to_owned(),
            client: client(),
        })
    }

    /// The same connector with another time-out per request.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.client = crate::http::client_with_timeout(timeout);
        self
    }

    fn url(&self, path: &str) -> Result<Url, ConnectorError> {
        self.base
            .join(path)
            .map_err(|_| ConnectorError::permanent("the instance's address is not usable"))
    }

    fn req(&self, method: Method, path: &str) -> Result<RequestBuilder, ConnectorError> {
        Ok(self
            .client
            .request(method, self.url(path)?)
            .bearer_auth(&self.token)
            .header(header::ACCEPT, "application/json"))
    }

    /// Sends a request and reads a JSON answer of at most `MAX_PAGE_BYTES`.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        req: RequestBuilder,
    ) -> Result<(T, header::HeaderMap), ConnectorError> {
        read_json(req, MAX_PAGE_BYTES).await
    }

    async fn me(&self) -> Result<Account, ConnectorError> {
        let (me, _) = self
            .json::<Account>(self.req(Method::GET, "api/v1/accounts/verify_credentials")?)
            .await?;
        Ok(me)
    }

    async fn page(
        &self,
        max_id: Option<&str>,
        min_id: Option<&str>,
    ) -> Result<(Vec<Notification>, Option<String>, Option<String>), ConnectorError> {
        let mut url = self.url("api/v1/notifications")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("types[]", "mention");
            q.append_pair("limit", &PAGE.to_string());
            if let Some(m) = max_id {
                q.append_pair("max_id", m);
            }
            if let Some(m) = min_id {
                q.append_pair("min_id", m);
            }
        }
        let req = self
            .client
            .get(url)
            .bearer_auth(&self.token)
            .header(header::ACCEPT, "application/json");
        let (page, head) = self.json::<Vec<Notification>>(req).await?;
        let (next, prev) = link_ids(&head);
        Ok((page, next, prev))
    }

    fn item(&self, status: Status, me: Option<&str>) -> InboundItem {
        let kind = if status.visibility == "direct" {
            ItemKind::DirectMessage
        } else if status.in_reply_to_id.is_some()
            && me.is_some()
            && status.in_reply_to_account_id.as_deref() == me
        {
            ItemKind::Comment
        } else {
            ItemKind::Mention
        };
        let host = self.base.host_str().unwrap_or_default();
        let handle = self.handle(&status.account);
        let acct = handle.trim_start_matches('@').to_owned();
        let author = Author {
            id: status
                .account
                .uri
                .clone()
                .or_else(|| status.account.url.clone())
                .unwrap_or_else(|| format!("{host}/{}", status.account.id)),
            name: if status.account.display_name.trim().is_empty() {
                acct.clone()
            } else {
                crate::html::to_text(&status.account.display_name)
            },
            handle: Some(handle.clone()),
        };
        let body = crate::html::to_text(&status.content);
        let text = if status.spoiler_text.trim().is_empty() {
            body
        } else {
            format!("{}\n{body}", crate::html::to_text(&status.spoiler_text))
        };
        let thread_ref = if kind == ItemKind::DirectMessage {
            Some(format!("dm:{handle}"))
        } else {
            Some(status.in_reply_to_id.clone().unwrap_or(status.id.clone()))
        };
        InboundItem {
            kind,
            author,
            thread_ref,
            in_reply_to: status.in_reply_to_id,
            text,
            url: status.url.or(status.uri),
            published_at: parse_time(status.created_at.as_deref()),
            media: status
                .media_attachments
                .into_iter()
                .filter_map(|a| {
                    Some(Media {
                        url: a.url?,
                        kind: a.kind,
                        alt: a.description.unwrap_or_default(),
                    })
                })
                .collect(),
            external_id: status.id,
        }
    }

    /// `@user@domain`. Local accounts' `acct` has no domain: theirs is the
    /// one in their profile's address (the instance's own domain, which
    /// need not be the host Dialoog talks to).
    fn handle(&self, account: &Account) -> String {
        let acct = if account.acct.is_empty() {
            &account.username
        } else {
            &account.acct
        };
        if acct.contains('@') {
            return format!("@{acct}");
        }
        let domain = account
            .url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| self.base.host_str().unwrap_or_default().to_owned());
        format!("@{acct}@{domain}")
    }

    /// Uploads one image with its alt text and waits until it is processed.
    async fn upload(&self, image: &Image) -> Result<String, ConnectorError> {
        let ext = image.mime.rsplit('/').next().unwrap_or("bin");
        let part = reqwest::multipart::Part::bytes(image.bytes.clone())
            .file_name(format!("image.{ext}"))
            .mime_str(&image.mime)
            .map_err(|_| ConnectorError::permanent("the image's type is not valid"))?;
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("description", image.alt.clone());
        let (media, _) = self
            .json::<MediaAnswer>(self.req(Method::POST, "api/v2/media")?.multipart(form))
            .await?;
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(250);
        let mut url = media.url;
        while url.is_none() {
            if started.elapsed() > MEDIA_WAIT {
                return Err(ConnectorError::Transient {
                    reason: "the instance is still processing the image".into(),
                    retry_after: Some(Duration::from_secs(60)),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(4));
            let resp = self
                .req(Method::GET, &format!("api/v1/media/{}", media.id))?
                .send()
                .await
                .map_err(transport)?;
            match resp.status() {
                StatusCode::PARTIAL_CONTENT => continue,
                s if s.is_success() => {
                    let body = body_limited(resp, 1 << 20).await?;
                    let m: MediaAnswer =
                        serde_json::from_slice(&body).map_err(|e| not_json(&body, &e))?;
                    url = m.url.or(Some(String::new()));
                }
                _ => return Err(error_from(resp).await),
            }
        }
        Ok(media.id)
    }
}

/// Sends a request and reads a JSON answer of at most `limit` bytes, with
/// the answer's headers; a refusal or an unreadable answer is classified.
async fn read_json<T: serde::de::DeserializeOwned>(
    req: RequestBuilder,
    limit: usize,
) -> Result<(T, header::HeaderMap), ConnectorError> {
    let resp = req.send().await.map_err(transport)?;
    if !resp.status().is_success() {
        return Err(error_from(resp).await);
    }
    let head = resp.headers().clone();
    let body = body_limited(resp, limit).await?;
    let value = serde_json::from_slice(&body).map_err(|e| not_json(&body, &e))?;
    Ok((value, head))
}

fn not_json(body: &[u8], e: &serde_json::Error) -> ConnectorError {
    crate::http::unreadable(body, e, "the instance", "")
}

/// Mastodon's status visibility names.
fn visibility(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Unlisted => "unlisted",
        Visibility::Followers => "private",
        Visibility::Direct => "direct",
    }
}

impl Connector for MastodonConnector {
    fn rules(&self) -> Rules {
        Rules {
            can_publish: true,
            max_length: Some(500),
            counting: Counting::CharactersUrl23,
            max_images: 4,
            max_image_bytes: 16 << 20,
            can_reply_to: &[
                ItemKind::Comment,
                ItemKind::Mention,
                ItemKind::DirectMessage,
            ],
            idempotent_publish: true,
            // A sync takes at most 27 requests; Mastodon allows 300 per 5 minutes.
            poll_interval: Duration::from_secs(120),
        }
    }

    async fn fetch(&self, cursor: &str) -> Result<Fetched, ConnectorError> {
        let mut cur: Cursor = serde_json::from_str(cursor).unwrap_or_default();
        if cur.me.is_none() {
            cur.me = Some(self.me().await?.id);
        }
        let me = cur.me.clone();
        let mut statuses = Vec::new();
        let mut newest = cur.newest.clone();
        let mut more = false;
        let bump = |newest: &mut Option<String>, id: &str| {
            if newest.as_deref().is_none_or(|n| id_key(id) > id_key(n)) {
                *newest = Some(id.to_owned());
            }
        };
        match cur.newest.clone() {
            // First sync: the newest pages, going back.
            None => {
                let mut max_id: Option<String> = None;
                for _ in 0..FIRST_PAGES {
                    let (page, next, _) = self.page(max_id.as_deref(), None).await?;
                    let done = page.is_empty() || next.is_none();
                    for n in page {
                        bump(&mut newest, &n.id);
                        if n.kind == "mention" {
                            statuses.extend(n.status);
                        }
                    }
                    if done {
                        break;
                    }
                    max_id = next;
                }
            }
            // Later syncs: forward from the newest seen, page by page.
            Some(from) => {
                let mut min_id = from;
                for i in 0..FORWARD_PAGES {
                    let (page, _, _) = self.page(None, Some(&min_id)).await?;
                    if page.is_empty() {
                        break;
                    }
                    let before = newest.clone();
                    for n in page {
                        bump(&mut newest, &n.id);
                        if n.kind == "mention" {
                            statuses.extend(n.status);
                        }
                    }
                    match &newest {
                        // A server that does not move forward: stop here.
                        Some(n) if before.as_ref() != Some(n) => min_id = n.clone(),
                        _ => break,
                    }
                    if i + 1 == FORWARD_PAGES {
                        more = true;
                    }
                }
            }
        }
        let items = statuses
            .into_iter()
            .map(|s| self.item(s, me.as_deref()))
            .collect();
        let next = Cursor { newest, me };
        Ok(Fetched {
            items,
            cursor: serde_json::to_string(&next).unwrap_or_default(),
            more,
        })
    }

    async fn check(&self) -> Result<String, ConnectorError> {
        Ok(self.handle(&self.me().await?))
    }

    async fn publish(&self, post: &Outgoing) -> Result<Published, ConnectorError> {
        let rules = self.rules();
        if post.images.len() > rules.max_images {
            return Err(ConnectorError::permanent(format!(
                "Mastodon takes at most {} images per post",
                rules.max_images
            )));
        }
        let mut media_ids = Vec::new();
        for image in &post.images {
            media_ids.push(self.upload(image).await?);
        }
        let mut body = serde_json::json!({
            "status": post.text,
            "visibility": visibility(post.visibility),
        });
        if !media_ids.is_empty() {
            body["media_ids"] = serde_json::json!(media_ids);
        }
        if let Some(r) = &post.reply_to {
            body["in_reply_to_id"] = serde_json::json!(r.external_id);
        }
        if let Some(l) = post.language.as_deref().filter(|l| !l.is_empty()) {
            body["language"] = serde_json::json!(l);
        }
        let req = self
            .req(Method::POST, "api/v1/statuses")?
            .header("Idempotency-Key", &post.idempotency_key)
            .json(&body);
        let s: Status = crate::http::send_publish(req, MAX_PAGE_BYTES).await?;
        Ok(Published {
            remote_id: s.id,
            url: s.url.or(s.uri),
        })
    }

    async fn reply(
        &self,
        to: &ReplyTo,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Published, ConnectorError> {
        // On Mastodon an answer reaches its reader only if it mentions
        // them, as their server names them (`@anna` for a local account).
        // Reading the post first also tells when it has been deleted.
        if to.external_id.is_empty() || !to.external_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConnectorError::permanent("this is not a Mastodon post id"));
        }
        let (original, _) = self
            .json::<Status>(self.req(Method::GET, &format!("api/v1/statuses/{}", to.external_id))?)
            .await
            .map_err(|e| match e {
                ConnectorError::Permanent { reason } if reason.contains("(404") => {
                    ConnectorError::permanent(
                        "the post you are answering no longer exists on Mastodon",
                    )
                }
                e => e,
            })?;
        let acct = if original.account.acct.is_empty() {
            original.account.username
        } else {
            original.account.acct
        };
        let mention = format!("@{acct}");
        let addressed = text
            .split_whitespace()
            .any(|w| w.trim_end_matches([',', ':', '.', '!', '?']) == mention);
        let text = if addressed || acct.is_empty() {
            text.to_owned()
        } else {
            format!("{mention} {text}")
        };
        let post = Outgoing {
            text,
            reply_to: Some(to.clone()),
            visibility: if to.kind == Some(ItemKind::DirectMessage) {
                Visibility::Direct
            } else {
                Visibility::Public
            },
            idempotency_key: idempotency_key.to_owned(),
            ..Outgoing::default()
        };
        self.publish(&post).await
    }

    async fn metrics(&self, remote_id: &str) -> Result<Metrics, ConnectorError> {
        if remote_id.is_empty() || !remote_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConnectorError::permanent("this is not a Mastodon post id"));
        }
        let (s, _) = self
            .json::<Status>(self.req(Method::GET, &format!("api/v1/statuses/{remote_id}"))?)
            .await?;
        Ok(Metrics {
            likes: s.favourites_count,
            shares: s.reblogs_count,
            replies: s.replies_count,
            quotes: s.quotes_count,
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_as_numbers() {
        assert!(id_key("109") > id_key("99"));
        assert!(id_key("110") > id_key("109"));
        assert_eq!(id_key("007"), id_key("7"));
    }
}
