//! The composer end to end: images checked by their bytes and each
//! network's limits before anything is stored, alt text carried to the
//! network (the Mastodon test server shows the description), images served
//! back to members only, links tagged per channel and campaign, and the
//! composer page with its own texts per channel, its previews and its
//! counters' script.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_engine::dispatcher::{DispatcherConfig, dispatch_once, now_ms};
use dialoog_engine::{Cipher, Credentials};
use dialoog_networks::testing::MastodonPeer;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A real 1×1 PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
/// A real 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

async fn upload(app: &App, token: &str, ws: i64, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/api/v1/workspaces/{ws}/media", app.url))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let s = r.status();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A Bluesky channel as the API would store it (its rules need no
/// network; nothing is published to it here).
pub async fn bluesky_channel(app: &App, ws: i64) -> i64 {
    let creds = Credentials::Bluesky {
        service_url: "http://127.0.0.1:9".into(),
        identifier: "bakkerij.test".into(),
        app_password: "abcd-efgh-ijkl-mnop".into(),
    };
    let sealed = Cipher::new([7; 32])
        .seal(&serde_json::to_vec(&creds).unwrap())
        .unwrap();
    app.db
        .store
        .create_channel(ws, "bluesky", "@bakkerij.test", &sealed, now_ms())
        .await
        .unwrap()
        .id
}

fn codes(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn story(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let masto = v["id"].as_i64().unwrap();
    let sky = bluesky_channel(&app, 1).await;
    let posts = "/api/v1/workspaces/1/posts";

    // Bad files are refused with a clear message before anything is stored.
    let (s, v) = upload(
        &app,
        &owner,
        1,
        b"Dit is een tekstbestand, geen PNG.".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(codes(&v), ["image_type_unknown"]);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("JPEG, PNG, GIF or WebP")
    );
    let mut huge = PNG.to_vec();
    huge.resize(30_000_000, 0);
    let (s, v) = upload(&app, &owner, 1, huge).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(codes(&v), ["image_too_large"]);
    let msg = v["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("30.0 MB") && msg.contains("16.8 MB"), "{msg}");
    let (s, v) = upload(&app, &owner, 1, vec![]).await;
    assert_eq!(
        (s, codes(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["image_empty".to_owned()]
        )
    );

    // A real PNG is stored once, whatever it is called; served back with its
    // type to members only.
    let (s, v) = upload(&app, &owner, 1, PNG.to_vec()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["mime"], "image/png");
    let png = v["id"].as_i64().unwrap();
    let (_, again) = upload(&app, &owner, 1, PNG.to_vec()).await;
    assert_eq!(again["id"], png, "the same image is stored once");
    let r = app
        .http
        .get(format!("{}{}", app.url, v["url"].as_str().unwrap()))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let r = app
        .http
        .get(format!("{}/api/v1/workspaces/1/media/{png}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, v) = upload(&app, &owner, 1, GIF.to_vec()).await;
    assert_eq!(
        (s, v["mime"].as_str()),
        (StatusCode::CREATED, Some("image/gif"))
    );
    let gif = v["id"].as_i64().unwrap();

    // Each network's limits: Bluesky takes 4 images of at most 1 MB.
    let mut big = PNG.to_vec();
    big.resize(1_500_000, 0);
    let (s, v) = upload(&app, &owner, 1, big).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let big = v["id"].as_i64().unwrap();
    let five: Vec<Value> = (0..5).map(|_| json!({"id": png, "alt": "Brood"})).collect();
    let (s, v) = app
        .call("POST", posts, Some(&owner), Some(json!({"text": "Vers", "targets": [{"channel_id": sky}, {"channel_id": masto}], "media": five})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        codes(&v),
        ["too_many_images_for_channel", "too_many_images_for_channel"]
    );
    let msg = v["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("@bakkerij.test") && msg.contains('4'), "{msg}");
    let (s, v) = app
        .call("POST", posts, Some(&owner), Some(json!({"text": "Vers", "targets": [{"channel_id": sky}], "media": [{"id": big, "alt": "Groot"}]})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(codes(&v), ["image_too_large_for_channel"]);
    let msg = v["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("1.5 MB") && msg.contains("1.0 MB"), "{msg}");
    // Another workspace's image, and a campaign name too long.
    let other = app.workspace(&owner, "Ander").await;
    let (_, theirs) = upload(&app, &owner, other, GIF.to_vec()).await;
    let (s, v) = app
        .call("POST", posts, Some(&owner), Some(json!({"text": "Vers", "targets": [{"channel_id": masto}], "media": [{"id": theirs["id"], "alt": "x"}], "campaign": "c".repeat(101)})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(codes(&v), ["campaign_too_long", "media_unknown"]);
    let (_, list) = app.call("GET", posts, Some(&owner), None).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing stored");

    // A GIF and a PNG to Mastodon with a campaign: one image lacks alt text,
    // which is said but does not stop the post.
    let (s, v) = app
        .call(
            "POST",
            posts,
            Some(&owner),
            Some(json!({
                "text": "Vers brood https://bakkerij.example/brood?soort=rogge #bakkerij",
                "targets": [{"channel_id": masto}, {"channel_id": sky, "text": "Kijk: https://bakkerij.example/ @anna.bsky.social"}],
                "media": [{"id": gif, "alt": "Een mand met vers brood"}, {"id": png, "alt": " "}],
                "campaign": "lente 2026",
                "draft": true,
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["warnings"][0]["code"], "alt_missing");
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Image 2"),
        "{v}"
    );
    assert_eq!(v["campaign"], "lente 2026");
    assert_eq!(v["media"][0]["alt"], "Een mand met vers brood");
    assert_eq!(v["media"][1]["mime"], "image/png");
    assert_eq!(
        v["targets"][0]["text"],
        "Vers brood https://bakkerij.example/brood?soort=rogge&utm_source=mastodon&utm_medium=social&utm_campaign=lente%202026 #bakkerij"
    );
    assert_eq!(
        v["targets"][1]["text"],
        "Kijk: https://bakkerij.example/?utm_source=bluesky&utm_medium=social&utm_campaign=lente%202026 @anna.bsky.social"
    );
    app.call(
        "DELETE",
        &format!("{posts}/{}", v["id"]),
        Some(&owner),
        None,
    )
    .await;

    // Now for real to Mastodon: the status carries the image with its
    // description and the tagged link.
    let (s, v) = app
        .call(
            "POST",
            posts,
            Some(&owner),
            Some(json!({
                "text": "Vers brood https://bakkerij.example/brood",
                "targets": [{"channel_id": masto}],
                "media": [{"id": gif, "alt": "Een mand met vers brood"}],
                "campaign": "lente",
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v.get("warnings").is_none(), "{v}");
    let id = v["id"].as_i64().unwrap();
    dispatch_once(
        &app.db.store,
        &Cipher::new([7; 32]),
        &DispatcherConfig::default(),
        now_ms(),
    )
    .await;
    let (_, v) = app
        .call("GET", &format!("{posts}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(v["targets"][0]["state"], "published", "{v}");
    let status = peer
        .call(
            "ada_token",
            "GET",
            &format!(
                "/api/v1/statuses/{}",
                v["targets"][0]["remote_id"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(
        status["media_attachments"].as_array().unwrap().len(),
        1,
        "{status}"
    );
    assert_eq!(
        status["media_attachments"][0]["description"],
        "Een mand met vers brood"
    );
    assert!(
        status["content"]
            .as_str()
            .unwrap()
            .contains("utm_campaign=lente"),
        "{status}"
    );
}

#[tokio::test]
async fn images_limits_alt_text_and_campaigns_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    story(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn images_limits_alt_text_and_campaigns_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        story(app, peer).await;
    }
}

/// Images are the workspace's: every role of a member may see them, only
/// those who compose may upload, and nobody else learns they exist.
async fn media_access(app: App) {
    let owner = app.setup().await;
    let b = app.workspace(&owner, "B").await;
    let (_, theirs) = upload(&app, &owner, b, GIF.to_vec()).await;
    let theirs = theirs["id"].as_i64().unwrap();
    let (_, ours) = upload(&app, &owner, 1, PNG.to_vec()).await;
    let ours = ours["id"].as_i64().unwrap();
    for role in dialoog_domain::Role::ALL {
        let email = format!("{role}@a.nl");
        let (token, _) = app.member(&owner, 1, &email, role.as_str()).await;
        let (s, _) = upload(&app, &token, 1, PNG.to_vec()).await;
        let may = role.can(dialoog_domain::Action::ComposePosts);
        assert_eq!(
            s,
            if may {
                StatusCode::CREATED
            } else {
                StatusCode::FORBIDDEN
            },
            "{role}"
        );
        let (s, _) = upload(&app, &token, b, PNG.to_vec()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{role} uploads to B");
        let get = |path: String, tok: Option<String>| {
            let mut r = app.http.get(format!("{}{path}", app.url));
            if let Some(t) = tok {
                r = r.bearer_auth(t);
            }
            r.send()
        };
        let r = get(
            format!("/api/v1/workspaces/1/media/{ours}"),
            Some(token.clone()),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{role}");
        let r = get(
            format!("/api/v1/workspaces/{b}/media/{theirs}"),
            Some(token.clone()),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{role} reads B's image");
        let r = get(
            format!("/api/v1/workspaces/1/media/{theirs}"),
            Some(token.clone()),
        )
        .await
        .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NOT_FOUND,
            "{role} reads B's image through A"
        );
        // The same through the pages.
        let browser = Browser::signed_in(&app, &email).await;
        let r = browser.get(&app, &format!("/w/1/media/{ours}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{role}");
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let r = browser.get(&app, &format!("/w/{b}/media/{theirs}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{role}");
        let r = browser.get(&app, &format!("/w/1/media/{theirs}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{role}");
    }
}

#[tokio::test]
async fn media_are_for_members_only_sqlite() {
    media_access(App::sqlite().await).await;
}

#[tokio::test]
async fn media_are_for_members_only_postgres() {
    if let Some(app) = App::postgres().await {
        media_access(app).await;
    }
}

fn form(csrf: &str, fields: &[(&str, &str)]) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new().text("_csrf", csrf.to_owned());
    for (k, v) in fields {
        f = f.text((*k).to_owned(), (*v).to_owned());
    }
    f
}

fn file(bytes: &[u8], name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

/// The composer page: a text file named .png is refused in Dutch; an image
/// with alt text and a channel's own text show in the preview, counted as
/// Mastodon counts; saving keeps the image with the post.
async fn composer_page(app: App, peer: MastodonPeer) {
    let owner = app.setup().await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces/1/channels",
            Some(&owner),
            Some(json!({"network": "mastodon", "instance_url": peer.url, "access_token": "ada_token"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ch = v["id"].as_i64().unwrap().to_string();
    let browser = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = browser.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(
        html.contains(&format!("data-channel=\"{ch}\""))
            && html.contains("data-counting=\"mastodon\"")
            && html.contains("data-max=\"500\"")
    );
    assert!(html.contains("<script type=\"module\" src=\"/static/count.js\"></script>"));
    let script = browser.get(&app, "/static/count.js").await;
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("export function countText")
    );

    let post = |f: reqwest::multipart::Form| {
        browser
            .http
            .post(format!("{}/w/1/posts", app.url))
            .multipart(f)
            .send()
    };
    let f = form(
        &browser.csrf,
        &[("text", "Vers"), ("channel", &ch), ("alt_new_1", "Brood")],
    )
    .part("file_1", file(b"gewoon tekst", "brood.png"));
    let r = post(f).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Dit bestand is geen JPEG-, PNG-, GIF- of WebP-afbeelding"),
        "{html}"
    );
    assert_eq!(
        app.db.store.recent_posts(1, None, 10).await.unwrap().len(),
        0
    );

    // A forged token is refused before the file is looked at.
    let f = form("vervalst", &[("text", "Vers")]).part("file_1", file(PNG, "a.png"));
    assert_eq!(post(f).await.unwrap().status(), StatusCode::FORBIDDEN);

    let own = "Eigen tekst voor Mastodon: https://bakkerij.example/een/heel/lang/pad/naar/de/winkel @anna@social.example #vers";
    let f = form(
        &browser.csrf,
        &[
            ("text", "Gedeeld"),
            ("channel", &ch),
            (&format!("text_{ch}"), own),
            ("alt_new_1", "Een mand brood"),
            ("action", "preview"),
        ],
    )
    .part("file_1", file(PNG, "mand.png"))
    .part("file_2", file(GIF, "zonder.gif"));
    let r = post(f).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Zo toont elk kanaal het"), "{html}");
    assert!(
        html.contains("<span class=\"pv-link\">bakkerij.example/een/heel/lang…</span>"),
        "{html}"
    );
    assert!(html.contains("<span class=\"pv-mention\">@anna</span>"));
    assert!(html.contains("<span class=\"pv-tag\">#vers</span>"));
    // 27 letters + 23 for the link + " @anna #vers" = 62.
    assert!(html.contains("Telling: 62 / 500"), "{html}");
    assert!(html.contains("alt=\"Een mand brood\""));
    assert!(
        html.contains("Afbeelding 2 heeft geen beschrijving"),
        "{html}"
    );
    // The images are kept (stored once) for the next step; nothing is posted.
    let ids: Vec<String> = html
        .match_indices("name=\"media\" value=\"")
        .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{html}");
    assert_eq!(
        app.db.store.recent_posts(1, None, 10).await.unwrap().len(),
        0
    );

    let alt_first = format!("alt_{}", ids[0]);
    let alt_second = format!("alt_{}", ids[1]);
    let f = form(
        &browser.csrf,
        &[
            ("text", "Gedeeld"),
            ("channel", &ch),
            (&format!("text_{ch}"), own),
            ("media", &ids[0]),
            (&alt_first, "Een mand brood"),
            ("media", &ids[1]),
            (&alt_second, "Een broodje"),
            ("when", "draft"),
            ("action", "save"),
        ],
    );
    let r = post(f).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/w/1/posts?done=post_saved");
    let (_, list) = app
        .call("GET", "/api/v1/workspaces/1/posts", Some(&owner), None)
        .await;
    assert_eq!(list[0]["media"][0]["alt"], "Een mand brood");
    assert_eq!(list[0]["media"][1]["alt"], "Een broodje");
    assert_eq!(list[0]["targets"][0]["text"], own);
    // The list shows the post's images with their descriptions.
    let html = browser.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "<img src=\"/w/1/media/{}\" alt=\"Een broodje\" class=\"thumb\" data-media",
            ids[1]
        )),
        "{html}"
    );
}

#[tokio::test]
async fn the_composer_page_sqlite() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    composer_page(App::sqlite().await, peer).await;
}

#[tokio::test]
async fn the_composer_page_postgres() {
    let Some(peer) = MastodonPeer::start().await else {
        return;
    };
    if let Some(app) = App::postgres().await {
        composer_page(app, peer).await;
    }
}
