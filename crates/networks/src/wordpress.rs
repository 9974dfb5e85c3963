//! WordPress, through its REST API with an application password: publish
//! posts (live or as a draft, with images and their alt text), pull the
//! comments as inbound items, and answer them.
//!
//! Every call goes through `?rest_route=`, which works on every WordPress
//! site whatever its permalink settings (`/wp-json/` does not when pretty
//! permalinks are off).

use crate::contract::{
    Author, Connector, ConnectorError, Counting, Fetched, Image, InboundItem, ItemKind, Metrics,
    Outgoing, Published, ReplyTo, Rules,
};
use crate::http::{body_limited, classify, client, retry_after, transport};
use reqwest::{Method, RequestBuilder, Url, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// Comments asked for per page (WordPress's maximum).
const PAGE: usize = 100;
/// Pages read per sync.
const PAGES: usize = 10;
/// The largest answer accepted.
const MAX_BODY: usize = 8 << 20;
/// How far back each sync reads again before the newest comment it saw:
/// `after` is compared with the site's local time on some installations,
/// and storage de-duplicates what is read twice.
const OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// One user's access to one WordPress site.
#[derive(Debug, Clone)]
pub struct WordPressConnector {
    site: Url,
    username: String,
    password: String,
    client: reqwest::Client,
}

/// Where the next fetch resumes: the newest comment time seen (UTC ms),
/// and, when the last fetch stopped at its page budget, the `after` it read
/// from and the next page, so a backlog larger than one fetch is read on
/// instead of from its start again.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    newest: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resume: Option<(Option<String>, usize)>,
}

#[derive(Debug, Deserialize)]
struct Rendered {
    #[serde(default)]
    rendered: String,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: u64,
    #[serde(default)]
    post: u64,
    #[serde(default)]
    parent: u64,
    #[serde(default)]
    author: u64,
    #[serde(default)]
    author_name: String,
    #[serde(default)]
    author_url: String,
    #[serde(default)]
    author_email: Option<String>,
    #[serde(default)]
    date_gmt: String,
    #[serde(default)]
    content: Option<Rendered>,
    #[serde(default)]
    link: Option<String>,
}

/// WordPress writes UTC times without a zone: `2026-12-01T10:00:00`.
fn gmt_ms(t: &str) -> Option<i64> {
    let t = t.trim();
    if t.is_empty() {
        return None;
    }
    let with_zone = if t.ends_with('Z') || t.contains('+') {
        t.to_owned()
    } else {
        format!("{t}Z")
    };
    with_zone
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|x| x.as_millisecond())
}

fn gmt(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Plain text as HTML paragraphs, escaped.
fn paragraphs(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
        .collect::<Vec<_>>()
        .join("\n")
}

impl WordPressConnector {
    /// A connector for `username` with an application password on the site
    /// at `site_url`.
    pub fn new(site_url: &str, username: &str, app_password: &str) -> Result<Self, ConnectorError> {
        let raw = site_url.trim();
        let mut site = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                ConnectorError::permanent(
                    "this is not the address of a website (start with https://)",
                )
            })?;
        if !site.path().ends_with('/') {
            let p = format!("{}/", site.path());
            site.set_path(&p);
        }
        site.set_query(None);
        site.set_fragment(None);
        let username = username.trim();
        if username.is_empty() || username.len() > 200 {
            return Err(ConnectorError::permanent("a WordPress user name is needed"));
        }
        // WordPress shows application passwords in groups with spaces; they
        // work with or without them.
        let password: String = app_password.split_whitespace().collect();
        if password.is_empty() || password.len() > 200 {
            return Err(ConnectorError::permanent(
                "an application password is needed",
            ));
        }
        Ok(Self {
            site,
            username: username.to_owned(),
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

    fn req(&self, method: Method, route: &str, query: &[(&str, String)]) -> RequestBuilder {
        let mut url = self.site.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("rest_route", route);
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        self.client
            .request(method, url)
            .basic_auth(&self.username, Some(&self.password))
            .header(header::ACCEPT, "application/json")
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        req: RequestBuilder,
    ) -> Result<(T, header::HeaderMap), ConnectorError> {
        let resp = req.send().await.map_err(transport)?;
        if !resp.status().is_success() {
            return Err(wp_error(resp).await);
        }
        let headers = resp.headers().clone();
        let body = body_limited(resp, MAX_BODY).await?;
        let v = serde_json::from_slice(&body).map_err(|e| not_json(&body, &e))?;
        Ok((v, headers))
    }

    async fn upload(&self, image: &Image, n: usize) -> Result<(u64, String), ConnectorError> {
        #[derive(Deserialize)]
        struct MediaAnswer {
            id: u64,
            #[serde(default)]
            source_url: String,
        }
        let ext = image.mime.rsplit('/').next().unwrap_or("bin");
        let req = self
            .req(Method::POST, "/wp/v2/media", &[])
            .header(header::CONTENT_TYPE, &image.mime)
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"dialoog-{n}.{ext}\""),
            )
            .body(image.bytes.clone());
        let (m, _) = self.json::<MediaAnswer>(req).await?;
        let alt = self
            .req(Method::POST, &format!("/wp/v2/media/{}", m.id), &[])
            .json(&json!({"alt_text": image.alt}));
        self.json::<Value>(alt).await?;
        Ok((m.id, m.source_url))
    }

    fn item(&self, c: Comment) -> InboundItem {
        let text = c
            .content
            .map(|r| crate::html::to_text(&r.rendered))
            .unwrap_or_default();
        let email = c.author_email.filter(|e| !e.trim().is_empty());
        let id = if c.author > 0 {
            format!("{}?author={}", self.site, c.author)
        } else if let Some(e) = &email {
            e.to_lowercase()
        } else if !c.author_url.is_empty() {
            c.author_url.clone()
        } else {
            c.author_name.clone()
        };
        InboundItem {
            external_id: c.id.to_string(),
            kind: ItemKind::Comment,
            author: Author {
                id,
                name: if c.author_name.trim().is_empty() {
                    "Anonymous".into()
                } else {
                    crate::html::to_text(&c.author_name)
                },
                handle: email,
            },
            thread_ref: Some(c.post.to_string()),
            in_reply_to: (c.parent > 0).then(|| c.parent.to_string()),
            text,
            url: c.link,
            published_at: gmt_ms(&c.date_gmt),
            media: vec![],
        }
    }
}

/// WordPress's `403` codes that are about the content, not the credentials:
/// the post is gone, in the trash, a draft, or closed for comments.
const CONTENT_REFUSALS: [&str; 4] = [
    "rest_comment_invalid_post_id",
    "rest_comment_trash_post",
    "rest_comment_draft_post",
    "rest_comment_closed",
];

/// Reads WordPress's `{code, message, data}` error and classifies it.
async fn wp_error(resp: reqwest::Response) -> ConnectorError {
    let status = resp.status();
    let retry = retry_after(&resp);
    let body = body_limited(resp, 64 * 1024).await.unwrap_or_default();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let code = v.get("code").and_then(Value::as_str).unwrap_or_default();
    let message = v
        .get("message")
        .and_then(Value::as_str)
        .map(crate::html::to_text)
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    if CONTENT_REFUSALS.contains(&code) {
        return ConnectorError::permanent(format!("the site refused the comment: {message}"));
    }
    classify(status, retry, &message)
}

fn not_json(body: &[u8], e: &serde_json::Error) -> ConnectorError {
    crate::http::unreadable(body, e, "the site", "is the REST API turned off?")
}

impl Connector for WordPressConnector {
    fn rules(&self) -> Rules {
        Rules {
            can_publish: true,
            max_length: None,
            counting: Counting::Characters,
            max_images: 10,
            max_image_bytes: 8 << 20,
            can_reply_to: &[ItemKind::Comment],
            idempotent_publish: false,
            poll_interval: Duration::from_secs(10 * 60),
        }
    }

    async fn fetch(&self, cursor: &str) -> Result<Fetched, ConnectorError> {
        let cur: Cursor = serde_json::from_str(cursor).unwrap_or_default();
        let (after, first_page) = match &cur.resume {
            Some((after, page)) => (after.clone(), (*page).max(1)),
            None => (cur.newest.map(|n| gmt(n - OVERLAP_MS)), 1),
        };
        let mut items = vec![];
        let mut newest = cur.newest;
        let mut resume = None;
        for page in first_page..first_page + PAGES {
            let mut q = vec![
                ("per_page", PAGE.to_string()),
                ("page", page.to_string()),
                ("orderby", "date_gmt".to_owned()),
                ("order", "asc".to_owned()),
                ("context", "edit".to_owned()),
            ];
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let (comments, headers) = self
                .json::<Vec<Comment>>(self.req(Method::GET, "/wp/v2/comments", &q))
                .await?;
            let total_pages: usize = headers
                .get("x-wp-totalpages")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(page);
            let n = comments.len();
            for c in comments {
                if let Some(t) = gmt_ms(&c.date_gmt) {
                    newest = Some(newest.map_or(t, |x| x.max(t)));
                }
                items.push(self.item(c));
            }
            if n < PAGE || page >= total_pages {
                break;
            }
            if page + 1 == first_page + PAGES {
                resume = Some((after.clone(), page + 1));
            }
        }
        let more = resume.is_some();
        Ok(Fetched {
            items,
            cursor: serde_json::to_string(&Cursor { newest, resume }).unwrap_or_default(),
            more,
        })
    }

    async fn check(&self) -> Result<String, ConnectorError> {
        // Signed in as a real user, or the site refuses.
        self.json::<Value>(self.req(
            Method::GET,
            "/wp/v2/users/me",
            &[("context", "edit".into())],
        ))
        .await?;
        #[derive(Deserialize)]
        struct Site {
            #[serde(default)]
            name: String,
        }
        let name = match self.json::<Site>(self.req(Method::GET, "/", &[])).await {
            Ok((s, _)) if !s.name.trim().is_empty() => crate::html::to_text(&s.name),
            _ => self.site.host_str().unwrap_or_default().to_owned(),
        };
        Ok(name)
    }

    async fn publish(&self, post: &Outgoing) -> Result<Published, ConnectorError> {
        if post.reply_to.is_some() {
            return Err(ConnectorError::permanent(
                "a WordPress post cannot answer another; answer comments from the inbox",
            ));
        }
        let text = post.text.trim();
        let (title, body) = text.split_once('\n').unwrap_or((text, ""));
        if title.trim().is_empty() {
            return Err(ConnectorError::permanent(
                "a blog post needs a title: its first line",
            ));
        }
        let mut content = paragraphs(body);
        let mut featured = None;
        for (n, image) in post.images.iter().enumerate() {
            let (id, url) = self.upload(image, n).await?;
            featured.get_or_insert(id);
            let alt = image.alt.replace('"', "&quot;").replace('<', "&lt;");
            content.push_str(&format!(
                "\n<figure><img src=\"{url}\" alt=\"{alt}\"></figure>"
            ));
        }
        let mut body = json!({
            "title": title.trim(),
            "content": content,
            "status": if post.draft { "draft" } else { "publish" },
        });
        if let Some(id) = featured {
            body["featured_media"] = json!(id);
        }
        #[derive(Deserialize)]
        struct Answer {
            id: u64,
            #[serde(default)]
            link: Option<String>,
        }
        let req = self.req(Method::POST, "/wp/v2/posts", &[]).json(&body);
        let a: Answer = crate::http::send_publish(req, MAX_BODY).await?;
        Ok(Published {
            remote_id: a.id.to_string(),
            url: a.link,
        })
    }

    async fn reply(
        &self,
        to: &ReplyTo,
        text: &str,
        _idempotency_key: &str,
    ) -> Result<Published, ConnectorError> {
        let parent: u64 = to
            .external_id
            .parse()
            .map_err(|_| ConnectorError::permanent("this is not a WordPress comment"))?;
        let post: u64 = to
            .thread_ref
            .as_deref()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| ConnectorError::permanent("the comment's post is not known"))?;
        // WordPress accepts a parent that no longer exists: look first.
        let gone =
            || ConnectorError::permanent("the comment or its post no longer exists on the site");
        let (original, _) = self
            .json::<Value>(self.req(
                Method::GET,
                &format!("/wp/v2/comments/{parent}"),
                &[("context", "edit".into())],
            ))
            .await
            .map_err(|e| match e {
                ConnectorError::Permanent { reason } if reason.contains("(404") => gone(),
                e => e,
            })?;
        if original.get("status").and_then(Value::as_str) == Some("trash") {
            return Err(gone());
        }
        let req = self
            .req(Method::POST, "/wp/v2/comments", &[])
            .json(&json!({"post": post, "parent": parent, "content": paragraphs(text)}));
        #[derive(Deserialize)]
        struct Answer {
            id: u64,
            #[serde(default)]
            link: Option<String>,
        }
        let (a, _) = self.json::<Answer>(req).await.map_err(|e| match e {
            ConnectorError::Permanent { reason } if reason.contains("(404") => gone(),
            e => e,
        })?;
        Ok(Published {
            remote_id: a.id.to_string(),
            url: a.link,
        })
    }

    async fn metrics(&self, remote_id: &str) -> Result<Metrics, ConnectorError> {
        let id: u64 = remote_id
            .parse()
            .map_err(|_| ConnectorError::permanent("this is not a WordPress post id"))?;
        let req = self.req(
            Method::GET,
            "/wp/v2/comments",
            &[("post", id.to_string()), ("per_page", "1".into())],
        );
        let (_, headers) = self.json::<Vec<Value>>(req).await?;
        let replies = headers
            .get("x-wp-total")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        Ok(Metrics {
            replies,
            ..Metrics::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_paragraphs() {
        assert_eq!(gmt_ms("2026-12-01T10:00:00"), Some(1_796_119_200_000));
        assert_eq!(gmt(1_796_119_200_000), "2026-12-01T10:00:00");
        assert_eq!(gmt_ms(""), None);
        assert_eq!(
            paragraphs("Een <b>\n\nTwee\nregels"),
            "<p>Een &lt;b&gt;</p>\n<p>Twee<br>regels</p>"
        );
    }
}
