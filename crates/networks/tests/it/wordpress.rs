//! The WordPress connector against a loopback fake of the documented REST
//! API (`?rest_route=`, Basic authentication with an application password,
//! `X-WP-Total` paging, the `{code, message, data}` errors).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use dialoog_networks::wordpress::WordPressConnector;
use dialoog_networks::{Connector, ConnectorError, Image, ItemKind, Outgoing, ReplyTo};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Site {
    comments: Vec<Value>,
    posts: Vec<Value>,
    media: Vec<Value>,
    /// Serve this body instead, once.
    garbage: Option<String>,
}

type Shared = Arc<Mutex<Site>>;

/// `editor:abcd efgh ijkl mnop qrst uvwx`, as WordPress shows it.
const AUTH: &str = "Basic ZWRpdG9yOmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eA==";

fn comment(id: u64, post: u64, parent: u64, name: &str, html: &str, minute: u32) -> Value {
    json!({
        "id": id, "post": post, "parent": parent, "author": 0, "author_name": name,
        "author_email": format!("{}@example.nl", name.to_lowercase()), "author_url": "",
        "date": format!("2026-12-01T11:{minute:02}:00"), "date_gmt": format!("2026-12-01T10:{minute:02}:00"),
        "content": {"rendered": html}, "link": format!("https://bakkerij.example/blog/{post}/#comment-{id}"),
        "status": "approved", "type": "comment",
    })
}

fn wp_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message, "data": {"status": status.as_u16()}})),
    )
        .into_response()
}

async fn api(
    State(s): State<Shared>,
    method: Method,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(g) = s.lock().unwrap().garbage.take() {
        return (StatusCode::OK, [("content-type", "text/html")], g).into_response();
    }
    let route = q.get("rest_route").cloned().unwrap_or_default();
    if route == "/" {
        return axum::Json(
            json!({"name": "Bakkerij De Vries &amp; Zn", "url": "https://bakkerij.example"}),
        )
        .into_response();
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(AUTH) {
        return wp_error(
            StatusCode::UNAUTHORIZED,
            "incorrect_password",
            "The provided password is an invalid application password.",
        );
    }
    let mut site = s.lock().unwrap();
    match (method.as_str(), route.as_str()) {
        ("GET", "/wp/v2/users/me") => {
            axum::Json(json!({"id": 2, "name": "Redactie", "slug": "editor"})).into_response()
        }
        ("GET", "/wp/v2/comments") => {
            let per_page: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(10);
            let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
            let mut list: Vec<&Value> = site
                .comments
                .iter()
                .filter(|c| {
                    q.get("after")
                        .is_none_or(|a| c["date_gmt"].as_str().unwrap() > a.as_str())
                })
                .filter(|c| {
                    q.get("post").is_none_or(|p| {
                        c["post"].as_u64().map(|n| n.to_string()).as_deref() == Some(p.as_str())
                    })
                })
                .collect();
            list.sort_by_key(|c| c["date_gmt"].as_str().unwrap().to_owned());
            let total = list.len();
            let pages = total.div_ceil(per_page).max(1);
            if page > pages {
                return wp_error(
                    StatusCode::BAD_REQUEST,
                    "rest_comment_invalid_page_number",
                    "The page number requested is larger than the number of pages available.",
                );
            }
            let out: Vec<Value> = list
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .cloned()
                .collect();
            let mut r = axum::Json(out).into_response();
            r.headers_mut()
                .insert("x-wp-total", total.to_string().parse().unwrap());
            r.headers_mut()
                .insert("x-wp-totalpages", pages.to_string().parse().unwrap());
            r
        }
        ("GET", r) if r.starts_with("/wp/v2/comments/") => {
            let id: u64 = r.rsplit('/').next().unwrap().parse().unwrap_or(0);
            match site.comments.iter().find(|c| c["id"] == id) {
                Some(c) => axum::Json(c.clone()).into_response(),
                None => wp_error(
                    StatusCode::NOT_FOUND,
                    "rest_comment_invalid_id",
                    "Invalid comment ID.",
                ),
            }
        }
        ("POST", "/wp/v2/comments") => {
            let b: Value = serde_json::from_slice(&body).unwrap();
            let post = b["post"].as_u64().unwrap();
            if !site.comments.iter().any(|c| c["id"] == b["parent"]) {
                return wp_error(
                    StatusCode::NOT_FOUND,
                    "rest_comment_invalid_parent",
                    "Invalid comment parent ID.",
                );
            }
            let id = 1000 + site.comments.len() as u64;
            let c = comment(
                id,
                post,
                b["parent"].as_u64().unwrap(),
                "Redactie",
                b["content"].as_str().unwrap(),
                59,
            );
            site.comments.push(c.clone());
            (StatusCode::CREATED, axum::Json(c)).into_response()
        }
        ("POST", "/wp/v2/media") => {
            let name = headers
                .get("content-disposition")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let id = 500 + site.media.len() as u64;
            let m = json!({"id": id, "source_url": format!("https://bakkerij.example/uploads/{id}.png"), "mime_type": headers["content-type"].to_str().unwrap(), "disposition": name, "bytes": body.len(), "alt_text": ""});
            site.media.push(m.clone());
            (StatusCode::CREATED, axum::Json(m)).into_response()
        }
        ("POST", r) if r.starts_with("/wp/v2/media/") => {
            let id: u64 = r.rsplit('/').next().unwrap().parse().unwrap();
            let b: Value = serde_json::from_slice(&body).unwrap();
            let m = site.media.iter_mut().find(|m| m["id"] == id).unwrap();
            m["alt_text"] = b["alt_text"].clone();
            axum::Json(m.clone()).into_response()
        }
        ("POST", "/wp/v2/posts") => {
            let mut b: Value = serde_json::from_slice(&body).unwrap();
            let id = 40 + site.posts.len() as u64;
            b["id"] = json!(id);
            b["link"] = json!(format!("https://bakkerij.example/?p={id}"));
            site.posts.push(b.clone());
            (StatusCode::CREATED, axum::Json(b)).into_response()
        }
        _ => wp_error(
            StatusCode::NOT_FOUND,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        ),
    }
}

async fn start(site: Site) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(site));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/", axum::routing::any(api))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, shared)
}

fn editor(url: &str) -> WordPressConnector {
    WordPressConnector::new(url, "editor", "abcd efgh ijkl mnop qrst uvwx").unwrap()
}

#[tokio::test]
async fn comments_arrive_once_as_text_and_are_answered() {
    let (url, site) = start(Site::default()).await;
    site.lock().unwrap().comments = vec![
        comment(
            7,
            40,
            0,
            "Sanne",
            "<p>Heerlijk recept! <script>alert(1)</script><a href=\"javascript:x\">klik</a></p>",
            1,
        ),
        comment(8, 40, 7, "Piet", "<p>Mee eens</p>", 2),
    ];
    let c = editor(&url);
    assert_eq!(c.check().await.unwrap(), "Bakkerij De Vries & Zn");
    let f = c.fetch("").await.unwrap();
    assert_eq!(f.items.len(), 2);
    let first = &f.items[0];
    assert_eq!(first.kind, ItemKind::Comment);
    assert_eq!(first.external_id, "7");
    assert_eq!(first.text, "Heerlijk recept! klik");
    assert_eq!(first.author.name, "Sanne");
    assert_eq!(first.author.handle.as_deref(), Some("sanne@example.nl"));
    assert_eq!(first.thread_ref.as_deref(), Some("40"));
    assert_eq!(f.items[1].in_reply_to.as_deref(), Some("7"));
    assert_eq!(first.published_at, Some(1_796_119_260_000));

    // A new comment: the next sync brings it (and what it reads again is stored once).
    site.lock()
        .unwrap()
        .comments
        .push(comment(9, 41, 0, "Anna", "Open op zondag?", 30));
    let g = c.fetch(&f.cursor).await.unwrap();
    assert!(g.items.iter().any(|i| i.external_id == "9"));

    // Answer it under the same post.
    let to = ReplyTo {
        external_id: "9".into(),
        kind: Some(ItemKind::Comment),
        author_handle: None,
        thread_ref: Some("41".into()),
    };
    let sent = c.reply(&to, "Ja, van 10 tot 16 uur.", "k").await.unwrap();
    let stored = site.lock().unwrap().comments.last().unwrap().clone();
    assert_eq!(sent.remote_id, stored["id"].to_string());
    assert_eq!(
        (stored["post"].as_u64(), stored["parent"].as_u64()),
        (Some(41), Some(9))
    );
    assert_eq!(
        stored["content"]["rendered"],
        "<p>Ja, van 10 tot 16 uur.</p>"
    );
    // A comment deleted meanwhile: said plainly.
    let gone = ReplyTo {
        external_id: "77".into(),
        thread_ref: Some("41".into()),
        ..ReplyTo::default()
    };
    assert!(
        c.reply(&gone, "x", "k2")
            .await
            .unwrap_err()
            .to_string()
            .contains("no longer exists")
    );
    assert_eq!(c.metrics("41").await.unwrap().replies, 2);
}

#[tokio::test]
async fn many_comments_are_read_page_by_page() {
    let (url, site) = start(Site::default()).await;
    site.lock().unwrap().comments = (0..250)
        .map(|i| {
            comment(
                i + 1,
                40,
                0,
                "Klant",
                &format!("reactie {i}"),
                (i % 60) as u32,
            )
        })
        .collect();
    let c = editor(&url);
    let f = c.fetch("").await.unwrap();
    let mut ids: Vec<String> = f.items.iter().map(|i| i.external_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 250);
    assert!(!f.more);

    // More than one fetch reads (1,000) within the day it reads again:
    // the next fetch goes on where the last stopped.
    site.lock()
        .unwrap()
        .comments
        .extend((250..1450).map(|i| comment(i + 1, 41, 0, "Klant", &format!("reactie {i}"), 59)));
    let mut all = std::collections::BTreeSet::new();
    let mut cursor = f.cursor;
    for _ in 0..5 {
        let g = c.fetch(&cursor).await.unwrap();
        all.extend(g.items.iter().map(|i| i.external_id.clone()));
        cursor = g.cursor;
        if !g.more {
            break;
        }
    }
    assert_eq!(all.len(), 1450, "every comment read");
}

#[tokio::test]
async fn publishing_live_or_as_a_draft_with_images() {
    let (url, site) = start(Site::default()).await;
    let c = editor(&url);
    let post = Outgoing {
        text: "Onze kersttaarten\nVanaf vandaag te bestellen.\n\nOp = op <snel zijn>!".into(),
        images: vec![Image {
            bytes: vec![0x89, b'P', b'N', b'G'],
            mime: "image/png".into(),
            alt: "Drie kersttaarten".into(),
        }],
        idempotency_key: "p1".into(),
        ..Outgoing::default()
    };
    let p = c.publish(&post).await.unwrap();
    assert_eq!(p.url.as_deref(), Some("https://bakkerij.example/?p=40"));
    let (stored, media) = {
        let s = site.lock().unwrap();
        (s.posts[0].clone(), s.media[0].clone())
    };
    assert_eq!(stored["title"], "Onze kersttaarten");
    assert_eq!(stored["status"], "publish");
    let content = stored["content"].as_str().unwrap();
    assert!(
        content
            .starts_with("<p>Vanaf vandaag te bestellen.</p>\n<p>Op = op &lt;snel zijn&gt;!</p>"),
        "{content}"
    );
    assert!(content.contains("alt=\"Drie kersttaarten\""));
    assert_eq!(stored["featured_media"], media["id"]);
    assert_eq!(media["alt_text"], "Drie kersttaarten");
    let draft = Outgoing {
        draft: true,
        images: vec![],
        ..post.clone()
    };
    c.publish(&draft).await.unwrap();
    assert_eq!(site.lock().unwrap().posts[1]["status"], "draft");
    let untitled = Outgoing {
        text: "  \n ".into(),
        ..Outgoing::default()
    };
    assert!(
        c.publish(&untitled)
            .await
            .unwrap_err()
            .to_string()
            .contains("needs a title")
    );
}

#[tokio::test]
async fn failures_are_classified() {
    let (url, site) = start(Site::default()).await;
    let wrong = WordPressConnector::new(&url, "editor", "wrong").unwrap();
    let e = wrong.check().await.unwrap_err();
    assert_eq!(e.channel_status(), "needs_reconnect");
    assert!(
        e.to_string().contains("invalid application password"),
        "{e}"
    );
    site.lock().unwrap().garbage = Some("<!doctype html><p>Onderhoud</p>".into());
    let e = editor(&url).fetch("").await.unwrap_err();
    assert!(
        matches!(e, ConnectorError::Transient { ref reason, .. } if reason.contains("web page")),
        "{e}"
    );
    assert!(WordPressConnector::new("ftp://x", "a", "b").is_err());
    assert!(WordPressConnector::new(&url, "", "b").is_err());
    assert!(WordPressConnector::new(&url, "a", "   ").is_err());
    let nobody = WordPressConnector::new("http://127.0.0.1:9/", "a", "b").unwrap();
    assert!(matches!(
        nobody.fetch("").await,
        Err(ConnectorError::Transient { .. })
    ));
}
