//! Everything from outside is hostile: names, texts, links and pictures
//! that try to run script, restyle the page or reach inside the network
//! are stored as inbound items and shown in the inbox, the conversation
//! and the contact pages, where they must appear only as text; pictures
//! only through Dialoog, checked.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_networks::testing::{TINY_PNG, image_server};
use reqwest::StatusCode;
use serde_json::json;

/// What a hostile sender writes.
pub const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "<style>body{display:none}</style>",
    "<a href=\"jav&#x09;ascript:alert(1)\">klik</a>",
    "<p style=\"position:fixed;top:0;left:0;width:100%;height:100%\">x</p>",
    "<svg onload=alert(1)>",
];

/// The tags of a page, each as written between `<` and `>` (text from
/// outside is escaped, so every `<` left is ours).
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let t = &rest[i + 1..];
        let end = t.find('>').unwrap_or(t.len());
        out.push(&t[..end]);
        rest = &t[end..];
    }
    out
}

/// A tag's name and its attributes (name, value).
fn attributes(tag: &str) -> (String, Vec<(String, String)>) {
    let mut chars = tag.trim_end_matches('/').chars().peekable();
    let name: String = chars
        .by_ref()
        .take_while(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut n = String::new();
        while let Some(c) = chars.peek().copied() {
            if c.is_whitespace() || c == '=' {
                break;
            }
            n.push(c);
            chars.next();
        }
        if n.is_empty() {
            break;
        }
        let mut v = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            match chars.peek().copied() {
                Some(q @ ('"' | '\'')) => {
                    chars.next();
                    v = chars.by_ref().take_while(|c| *c != q).collect();
                }
                _ => v = chars.by_ref().take_while(|c| !c.is_whitespace()).collect(),
            }
        }
        attrs.push((n.to_ascii_lowercase(), v));
    }
    (name, attrs)
}

/// Asserts that nothing from outside became markup in `html`.
pub fn assert_harmless(html: &str, page: &str) {
    for raw in HOSTILE {
        assert!(!html.contains(raw), "{page}: {raw} appears unescaped");
    }
    assert!(!html.contains("<img src=x"), "{page}");
    for tag in tags(html) {
        if tag.starts_with('!') || tag.starts_with('/') {
            continue;
        }
        let (name, attrs) = attributes(tag);
        assert!(name != "style", "{page}: a style element");
        assert!(
            name != "script"
                || attrs
                    .iter()
                    .any(|(n, v)| n == "src" && v.starts_with("/static/")),
            "{page}: inline script <{tag}>"
        );
        for (n, v) in &attrs {
            assert!(!n.starts_with("on"), "{page}: event handler in <{tag}>");
            assert!(n != "style", "{page}: style attribute in <{tag}>");
            let squeezed: String = v
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            if matches!(
                n.as_str(),
                "href" | "src" | "action" | "formaction" | "data-url"
            ) {
                for bad in ["javascript:", "data:", "vbscript:", "jav&#"] {
                    assert!(!squeezed.starts_with(bad), "{page}: {n}={v} in <{tag}>");
                }
            }
            if n == "src" {
                assert!(v.starts_with('/'), "{page}: <{tag}> loads from outside");
            }
        }
    }
}

/// Asserts the page's Content Security Policy forbids inline script and
/// outside images.
pub fn assert_policy(resp: &reqwest::Response, page: &str) {
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    for part in [
        "script-src 'self'",
        "img-src 'self';",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{page}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("data:"),
        "{page}: {csp}"
    );
}

/// Signs in as the owner and returns the pages' HTML, each checked.
pub async fn pages(app: &App, conv: i64) -> Vec<(String, String)> {
    let browser = Browser::signed_in(app, "anna@bakkerij.nl").await;
    let contact = app.db.store.contact_of(conv).await.unwrap().unwrap();
    let mut out = Vec::new();
    for page in [
        "/w/1/inbox".to_owned(),
        format!("/w/1/inbox/{conv}"),
        "/w/1/contacts".to_owned(),
        format!("/w/1/contacts/{contact}"),
    ] {
        let r = browser.get(app, &page).await;
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        assert_policy(&r, &page);
        let html = r.text().await.unwrap();
        assert_harmless(&html, &page);
        out.push((page, html));
    }
    out
}

async fn story(app: App) {
    let owner = app.setup().await;
    let feed = crate::feeds::FeedServer::start(crate::feeds::rss(&[])).await;
    let channel = crate::access::channel(&app, &owner, 1, &feed.url).await;
    let images = image_server().await;
    let s = &app.db.store;
    let media = json!([
        {"url": "javascript:alert(1)", "kind": "image", "alt": "<script>alert(1)</script>"},
        {"url": "data:image/svg+xml,<svg onload=alert(1)>", "kind": "image", "alt": "\"><img src=x onerror=alert(1)>"},
        {"url": format!("{images}/tiny.png"), "kind": "image", "alt": "Taart"},
        {"url": format!("{images}/page.png"), "kind": "image/png", "alt": ""},
        {"url": format!("{images}/image.svg"), "kind": "image", "alt": "svg"},
        {"url": format!("{images}/image.svg"), "kind": "image/svg+xml", "alt": "tekening"},
        {"url": "javascript:alert(1)", "kind": "video", "alt": "film"},
        {"url": "https://cdn.example/factuur.pdf", "kind": "application/pdf", "alt": "factuur.pdf"},
        {"url": "http://10.0.0.1/x.png", "kind": "image", "alt": "intern"},
    ]);
    let item = dialoog_store::NewItem {
        external_id: "hostile-1".into(),
        kind: "mention".into(),
        author_id: "javascript:alert(1)".into(),
        author_name: "<script>alert(1)</script>".into(),
        author_handle: Some("\"><img src=x onerror=alert(1)>".into()),
        thread_ref: None,
        in_reply_to: None,
        text: HOSTILE.join("\n"),
        url: Some("javascript:alert(1)".into()),
        published_at: Some(1_000),
        media: media.to_string(),
        lang: None,
        sentiment: Some("neutral".into()),
        score: Some(0.0),
    };
    s.insert_items(channel, &[item], 2_000).await.unwrap();
    s.thread_items(channel, 2_000).await.unwrap();
    let all = s
        .conversations(1, &dialoog_store::InboxFilter::default(), 3_000, 10)
        .await
        .unwrap();
    let conv = all[0].id;
    let item = s.conversation_items(conv).await.unwrap()[0].id;

    // The API gives what came with it as data: web addresses only, the
    // descriptions as plain text.
    let (st, v) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/1/conversations/{conv}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let m = &v["messages"][0]["media"];
    assert_eq!(m.as_array().unwrap().len(), 9, "{m}");
    assert!(m[0]["url"].is_null() && m[1]["url"].is_null(), "{m}");
    assert_eq!(m[0]["alt"], "<script>alert(1)</script>");
    assert_eq!(m[2]["url"], format!("{images}/tiny.png"));
    assert_eq!(m[7]["url"], "https://cdn.example/factuur.pdf");
    assert_eq!(m[7]["kind"], "application/pdf");

    let shown = pages(&app, conv).await;
    let (_, thread) = &shown[1];
    // Shown, as text.
    assert!(
        thread.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{thread}"
    );
    assert!(thread.contains("&#60;style&#62;body{display:none}&#60;/style&#62;"));
    // Pictures through Dialoog only; others by name, a link only to the web.
    let src = |n: usize| format!("src=\"/w/1/inbox/{conv}/media/{item}/{n}\"");
    assert!(thread.contains(&src(2)), "{thread}");
    assert!(
        !thread.contains(&src(0)) && !thread.contains(&src(1)),
        "not web addresses"
    );
    assert!(thread.contains("href=\"https://cdn.example/factuur.pdf\""));
    assert!(thread.contains("Bijlage: film"), "{thread}");
    assert!(!thread.contains("View on the network") && !thread.contains("Bekijk op het netwerk"));

    // The pictures themselves.
    let browser = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let media = |n: usize| format!("/w/1/inbox/{conv}/media/{item}/{n}");
    let r = browser.get(&app, &media(2)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-disposition"], "inline");
    assert!(h["cache-control"].to_str().unwrap().contains("max-age"));
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), TINY_PNG);
    for (n, says) in [
        (0, "geen webadres"),
        (1, "geen webadres"),
        (3, "geen JPEG-, PNG-, GIF- of WebP-afbeelding"),
        (4, "geen JPEG-, PNG-, GIF- of WebP-afbeelding"),
        (8, "privénetwerk"),
    ] {
        let r = browser.get(&app, &media(n)).await;
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY, "{n}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'")
        );
        let text = r.text().await.unwrap();
        assert!(
            text.contains("Deze afbeelding kan niet getoond worden") && text.contains(says),
            "{n}: {text}"
        );
    }
    for n in [5, 6, 7, 9, 99] {
        let r = browser.get(&app, &media(n)).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{n}: not a picture");
    }
    // Another conversation's item is not found through this one.
    let other = dialoog_store::NewItem {
        external_id: "other-1".into(),
        author_id: "https://social.example/@ander".into(),
        author_name: "Ander".into(),
        author_handle: None,
        text: "Hallo".into(),
        url: None,
        media: json!([{"url": format!("{images}/tiny.png"), "kind": "image"}]).to_string(),
        ..s.conversation_items(conv).await.unwrap()[0].item.clone()
    };
    s.insert_items(channel, &[other], 4_000).await.unwrap();
    s.thread_items(channel, 4_000).await.unwrap();
    let theirs = s
        .conversations(1, &dialoog_store::InboxFilter::default(), 5_000, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id != conv)
        .unwrap()
        .id;
    let their_item = s.conversation_items(theirs).await.unwrap()[0].id;
    let r = browser
        .get(&app, &format!("/w/1/inbox/{theirs}/media/{their_item}/0"))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "through its own conversation");
    let r = browser
        .get(&app, &format!("/w/1/inbox/{conv}/media/{their_item}/0"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "through another");
}

#[tokio::test]
async fn hostile_items_are_shown_as_text_on_sqlite() {
    story(App::sqlite().await).await;
}

#[tokio::test]
async fn hostile_items_are_shown_as_text_on_postgres() {
    if let Some(app) = App::postgres().await {
        story(app).await;
    }
}
