//! A wiki's recent changes (Wikipedia or any MediaWiki) through
//! `api.php?action=query&list=recentchanges`: each edit or new page is
//! heard as its page title and edit summary, by its author, linked to its
//! diff.
//!
//! The cursor is JSON `{"ts", "rcid", "cont"}`: the newest change
//! delivered (its timestamp and id) and, while a burst is being read,
//! MediaWiki's own `rccontinue` so the next poll resumes exactly there.
//! Later polls ask for changes from `ts` on, oldest first (`rcdir=newer`),
//! and leave out those at or before (`ts`, `rcid`).

use super::{Heard, Polled, SourceSettings};
use crate::contract::{Author, ConnectorError, InboundItem, ItemKind};
use crate::http::{body_limited, client, error_from, transport};
use reqwest::{Url, header};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Changes per request (the most a client without bot rights may ask).
const LIMIT: usize = 500;
/// Requests per poll; a busier wiki continues at the next poll.
const PAGES: usize = 10;
/// The largest answer accepted.
const MAX_BYTES: usize = 16 << 20;
/// How often a wiki is polled.
pub const POLL_INTERVAL: Duration = Duration::from_secs(60);
const PROPS: &str = "title|ids|sizes|flags|user|timestamp|comment";

/// Where the next poll resumes.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ts: Option<String>,
    #[serde(default)]
    rcid: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cont: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default, rename = "continue")]
    cont: Option<Continue>,
    #[serde(default)]
    query: Option<Query>,
    #[serde(default)]
    error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
struct Continue {
    #[serde(default)]
    rccontinue: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    info: String,
}

#[derive(Debug, Deserialize)]
struct Query {
    #[serde(default)]
    recentchanges: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    rcid: u64,
    #[serde(default)]
    revid: u64,
    #[serde(default)]
    old_revid: u64,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    userhidden: bool,
    #[serde(default)]
    anon: bool,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    commenthidden: bool,
}

/// One wiki's recent changes, polled.
#[derive(Debug, Clone)]
pub struct RecentChanges {
    api: Url,
    client: reqwest::Client,
}

impl RecentChanges {
    /// The changes of a `mediawiki` source.
    pub fn new(settings: &SourceSettings) -> Result<Self, ConnectorError> {
        let SourceSettings::MediaWiki { api } = settings else {
            return Err(ConnectorError::permanent("this source is not a wiki"));
        };
        let api = Url::parse(api)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| ConnectorError::permanent("this is not the address of a wiki"))?;
        Ok(Self {
            api,
            client: client(),
        })
    }

    async fn request(&self, params: &[(&str, &str)]) -> Result<Answer, ConnectorError> {
        let mut url = self.api.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("action", "query")
                .append_pair("list", "recentchanges")
                .append_pair("rcprop", PROPS)
                .append_pair("rctype", "edit|new")
                .append_pair("rclimit", &LIMIT.to_string())
                .append_pair("format", "json")
                .append_pair("formatversion", "2");
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        let resp = self
            .client
            .get(url)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        if !resp.status().is_success() {
            return Err(error_from(resp).await);
        }
        let body = body_limited(resp, MAX_BYTES).await?;
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|e| crate::http::unreadable(&body, &e, "the wiki", "is this its api.php?"))?;
        if let Some(e) = answer.error {
            let reason = format!("the wiki refused the request ({}: {})", e.code, e.info);
            return Err(if e.code == "maxlag" || e.code == "ratelimited" {
                ConnectorError::Transient {
                    reason,
                    retry_after: Some(Duration::from_secs(30)),
                }
            } else {
                ConnectorError::permanent(reason)
            });
        }
        Ok(answer)
    }

    /// What changed since `cursor` (empty: only the newest page).
    pub async fn poll(&self, cursor: &str) -> Result<Polled, ConnectorError> {
        let mut cur: Cursor = serde_json::from_str(cursor).unwrap_or_default();
        let Some(from) = cur.ts.clone() else {
            // First poll: the newest changes, newest first.
            let answer = self.request(&[]).await?;
            let mut changes = answer.query.map(|q| q.recentchanges).unwrap_or_default();
            changes.reverse();
            for c in &changes {
                advance(&mut cur, c);
            }
            let heard = changes.into_iter().map(|c| self.heard(c)).collect();
            return Ok(Polled {
                heard,
                cursor: serde_json::to_string(&cur).unwrap_or_default(),
                more: false,
            });
        };
        let mut heard = Vec::new();
        let mut more = false;
        for i in 0..PAGES {
            let mut params = vec![("rcdir", "newer"), ("rcstart", from.as_str())];
            if let Some(c) = &cur.cont {
                params.push(("rccontinue", c.as_str()));
            }
            let answer = self.request(&params).await?;
            for c in answer.query.map(|q| q.recentchanges).unwrap_or_default() {
                if after(&cur, &c) {
                    advance(&mut cur, &c);
                    heard.push(self.heard(c));
                }
            }
            let next = answer.cont.and_then(|c| c.rccontinue);
            if next.is_some() && next == cur.cont {
                // A wiki that does not move on: stop here.
                cur.cont = None;
                break;
            }
            cur.cont = next;
            if cur.cont.is_none() {
                break;
            }
            if i + 1 == PAGES {
                more = true;
            }
        }
        Ok(Polled {
            heard,
            cursor: serde_json::to_string(&cur).unwrap_or_default(),
            more,
        })
    }

    fn heard(&self, c: Change) -> Heard {
        let host = self.api.host_str().unwrap_or_default();
        let index = self.api.join("index.php").ok();
        let url = index.map(|mut u| {
            {
                let mut q = u.query_pairs_mut();
                if c.kind == "new" || c.old_revid == 0 {
                    q.append_pair("oldid", &c.revid.to_string());
                } else {
                    q.append_pair("diff", &c.revid.to_string());
                    q.append_pair("oldid", &c.old_revid.to_string());
                }
            }
            u.to_string()
        });
        let user = match (&c.user, c.userhidden) {
            (Some(u), false) if !u.is_empty() => u.clone(),
            _ => "(hidden)".to_owned(),
        };
        let comment = if c.commenthidden {
            String::new()
        } else {
            c.comment.clone().unwrap_or_default()
        };
        let text = if comment.trim().is_empty() {
            c.title.clone()
        } else {
            format!("{}\n{}", c.title, comment.trim())
        };
        let user_page = self.api.join("index.php").ok().map(|mut u| {
            u.query_pairs_mut()
                .append_pair("title", &format!("User:{user}"));
            u.to_string()
        });
        let item = InboundItem {
            external_id: format!("{host}/rc/{}", c.rcid),
            kind: ItemKind::Post,
            author: Author {
                id: if c.anon {
                    format!("{host}/ip/{user}")
                } else {
                    user_page.unwrap_or_else(|| format!("{host}/user/{user}"))
                },
                name: user,
                handle: None,
            },
            thread_ref: Some(format!("{host}/page/{}", c.title)),
            in_reply_to: None,
            text,
            url,
            published_at: c
                .timestamp
                .parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_millisecond()),
            media: vec![],
        };
        Heard::plain(item)
    }
}

/// Whether a change comes after the cursor's newest (by time, then id).
fn after(cur: &Cursor, c: &Change) -> bool {
    match &cur.ts {
        None => true,
        Some(ts) => (c.timestamp.as_str(), c.rcid) > (ts.as_str(), cur.rcid),
    }
}

fn advance(cur: &mut Cursor, c: &Change) {
    if after(cur, c) {
        cur.ts = Some(c.timestamp.clone());
        cur.rcid = c.rcid;
    }
}
