//! The access matrix: for every route and every role, another workspace's
//! data can be neither read nor changed, and inside one's own workspace each
//! role gets exactly what `Role::can` allows.

use crate::harness::{App, PASSWORD};
use dialoog_domain::{Action, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every route in the OpenAPI document: the API, health and metrics.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/setup"),
    ("POST", "/api/v1/auth/tokens"),
    ("GET", "/api/v1/auth/tokens"),
    ("DELETE", "/api/v1/auth/tokens/{id}"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/workspaces"),
    ("POST", "/api/v1/workspaces"),
    ("GET", "/api/v1/workspaces/{ws}"),
    ("PATCH", "/api/v1/workspaces/{ws}"),
    ("GET", "/api/v1/workspaces/{ws}/members"),
    ("POST", "/api/v1/workspaces/{ws}/members"),
    ("PATCH", "/api/v1/workspaces/{ws}/members/{user_id}"),
    ("DELETE", "/api/v1/workspaces/{ws}/members/{user_id}"),
    ("GET", "/api/v1/workspaces/{ws}/audit"),
    ("POST", "/api/v1/invites/{code}"),
    ("GET", "/api/v1/workspaces/{ws}/channels"),
    ("POST", "/api/v1/workspaces/{ws}/channels"),
    ("POST", "/api/v1/workspaces/{ws}/channels/{id}/sync"),
    ("DELETE", "/api/v1/workspaces/{ws}/channels/{id}"),
    ("GET", "/api/v1/workspaces/{ws}/channels/{id}/items"),
    ("GET", "/api/v1/workspaces/{ws}/posts"),
    ("POST", "/api/v1/workspaces/{ws}/posts"),
    ("GET", "/api/v1/workspaces/{ws}/posts/{id}"),
    ("PATCH", "/api/v1/workspaces/{ws}/posts/{id}"),
    ("DELETE", "/api/v1/workspaces/{ws}/posts/{id}"),
    (
        "POST",
        "/api/v1/workspaces/{ws}/posts/{id}/targets/{target}/settle",
    ),
    ("GET", "/api/v1/workspaces/{ws}/approval"),
    ("PUT", "/api/v1/workspaces/{ws}/approval"),
    ("POST", "/api/v1/workspaces/{ws}/posts/{id}/submit"),
    ("POST", "/api/v1/workspaces/{ws}/posts/{id}/approve"),
    ("POST", "/api/v1/workspaces/{ws}/posts/{id}/reject"),
    ("GET", "/api/v1/workspaces/{ws}/posts/{id}/comments"),
    ("POST", "/api/v1/workspaces/{ws}/posts/{id}/comments"),
    ("POST", "/api/v1/workspaces/{ws}/posts/{id}/client-link"),
    ("GET", "/api/v1/workspaces/{ws}/posts/{id}/review"),
    ("GET", "/api/v1/workspaces/{ws}/queues"),
    ("GET", "/api/v1/workspaces/{ws}/queues/next"),
    ("PUT", "/api/v1/workspaces/{ws}/channels/{id}/queue"),
    ("GET", "/api/v1/workspaces/{ws}/series"),
    ("POST", "/api/v1/workspaces/{ws}/series"),
    ("GET", "/api/v1/workspaces/{ws}/series/{id}"),
    ("PATCH", "/api/v1/workspaces/{ws}/series/{id}"),
    ("POST", "/api/v1/workspaces/{ws}/series/{id}/stop"),
    ("POST", "/api/v1/workspaces/{ws}/posts/import"),
    ("POST", "/api/v1/workspaces/{ws}/media"),
    ("GET", "/api/v1/workspaces/{ws}/media/{id}"),
    ("POST", "/api/v1/workspaces/{ws}/calendar/feed"),
    ("DELETE", "/api/v1/workspaces/{ws}/calendar/feed"),
    ("GET", "/api/v1/workspaces/{ws}/conversations"),
    ("GET", "/api/v1/workspaces/{ws}/conversations/{id}"),
    ("PATCH", "/api/v1/workspaces/{ws}/conversations/{id}"),
    ("POST", "/api/v1/workspaces/{ws}/conversations/{id}/replies"),
    (
        "POST",
        "/api/v1/workspaces/{ws}/conversations/{id}/replies/{reply}/retry",
    ),
    ("POST", "/api/v1/workspaces/{ws}/conversations/{id}/notes"),
    ("GET", "/api/v1/workspaces/{ws}/inbox/settings"),
    ("PUT", "/api/v1/workspaces/{ws}/inbox/settings"),
    ("GET", "/api/v1/workspaces/{ws}/inbox/figures"),
    ("GET", "/api/v1/workspaces/{ws}/contacts"),
    ("GET", "/api/v1/workspaces/{ws}/contacts/{id}"),
    ("PATCH", "/api/v1/workspaces/{ws}/contacts/{id}"),
    ("POST", "/api/v1/workspaces/{ws}/contacts/{id}/merge"),
    (
        "POST",
        "/api/v1/workspaces/{ws}/contacts/{id}/identities/{identity}/split",
    ),
    ("GET", "/api/v1/workspaces/{ws}/listening/queries"),
    ("POST", "/api/v1/workspaces/{ws}/listening/queries"),
    ("PUT", "/api/v1/workspaces/{ws}/listening/queries/{id}"),
    ("DELETE", "/api/v1/workspaces/{ws}/listening/queries/{id}"),
    ("GET", "/api/v1/workspaces/{ws}/listening/sources"),
    ("POST", "/api/v1/workspaces/{ws}/listening/sources"),
    ("DELETE", "/api/v1/workspaces/{ws}/listening/sources/{id}"),
    (
        "POST",
        "/api/v1/workspaces/{ws}/listening/sources/{id}/sync",
    ),
    ("GET", "/api/v1/workspaces/{ws}/listening/mentions"),
    ("GET", "/api/v1/workspaces/{ws}/listening/facets"),
    ("GET", "/api/v1/workspaces/{ws}/listening/alerts"),
    ("GET", "/api/v1/workspaces/{ws}/listening/alert-rules"),
    ("POST", "/api/v1/workspaces/{ws}/listening/alert-rules"),
    (
        "DELETE",
        "/api/v1/workspaces/{ws}/listening/alert-rules/{id}",
    ),
    ("PUT", "/api/v1/workspaces/{ws}/listening/webhook"),
    ("DELETE", "/api/v1/workspaces/{ws}/listening/webhook"),
    ("GET", "/api/v1/workspaces/{ws}/listening/share-of-voice"),
    ("GET", "/api/v1/workspaces/{ws}/listening/rising-terms"),
    ("GET", "/api/v1/workspaces/{ws}/listening/settings"),
    ("PUT", "/api/v1/workspaces/{ws}/listening/settings"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/notifications/read"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
];

/// The workspace-scoped API routes with what they need and a valid body.
type Scoped = Vec<(
    &'static str,
    &'static str,
    Action,
    Option<Value>,
    StatusCode,
)>;

fn scoped_api(feed: &str) -> Scoped {
    let mut all = vec![
        (
            "GET",
            "/api/v1/workspaces/{ws}/channels",
            Action::ViewChannels,
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/channels",
            Action::ManageChannels,
            Some(json!({"network": "rss", "feed_url": feed})),
            StatusCode::CREATED,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/channels/{channel}/sync",
            Action::SyncChannels,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/channels/{channel}/items",
            Action::ViewChannels,
            None,
            StatusCode::OK,
        ),
        (
            "DELETE",
            "/api/v1/workspaces/{ws}/channels/{channel}",
            Action::ManageChannels,
            None,
            StatusCode::NO_CONTENT,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/posts",
            Action::ViewPosts,
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/posts",
            Action::ComposePosts,
            Some(json!({"text": "Een idee voor later", "draft": true})),
            StatusCode::CREATED,
        ),
        (
            // The planned draft made in `world` (in A): those who compose
            // may edit.
            "PATCH",
            "/api/v1/workspaces/{ws}/posts/{planned}",
            Action::ComposePosts,
            Some(json!({"text": "Kerstbrood met spijs"})),
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/calendar/feed",
            Action::ComposePosts,
            None,
            StatusCode::CREATED,
        ),
        (
            "DELETE",
            "/api/v1/workspaces/{ws}/calendar/feed",
            Action::ComposePosts,
            None,
            StatusCode::NO_CONTENT,
        ),
        (
            // Reaches the upload's checks (an empty body is no image);
            // reading images is in composer.rs, with images of both
            // workspaces.
            "POST",
            "/api/v1/workspaces/{ws}/media",
            Action::ComposePosts,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}",
            Action::ViewWorkspace,
            None,
            StatusCode::OK,
        ),
        (
            "PATCH",
            "/api/v1/workspaces/{ws}",
            Action::EditSettings,
            Some(json!({"name": "Renamed"})),
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/members",
            Action::ViewMembers,
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/members",
            Action::ManageMembers,
            Some(json!({"email": "someone@new.nl", "role": "client"})),
            StatusCode::CREATED,
        ),
        (
            "PATCH",
            "/api/v1/workspaces/{ws}/members/{user_id}",
            Action::ManageMembers,
            Some(json!({"role": "agent"})),
            StatusCode::NO_CONTENT,
        ),
        (
            "DELETE",
            "/api/v1/workspaces/{ws}/members/{user_id}",
            Action::ManageMembers,
            None,
            StatusCode::NO_CONTENT,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/audit",
            Action::ViewAudit,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/approval",
            Action::ViewWorkspace,
            None,
            StatusCode::OK,
        ),
        (
            "PUT",
            "/api/v1/workspaces/{ws}/approval",
            Action::EditSettings,
            Some(json!({"required": true})),
            StatusCode::OK,
        ),
        // {draft} is a draft with a channel, {post} a post in review.
        (
            "POST",
            "/api/v1/workspaces/{ws}/posts/{draft}/submit",
            Action::ComposePosts,
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/posts/{post}/approve",
            Action::ApprovePosts,
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/posts/{post}/reject",
            Action::ApprovePosts,
            Some(json!({"comment": "Nog niet"})),
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/posts/{post}/comments",
            Action::ViewPosts,
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/posts/{post}/comments",
            Action::CommentPosts,
            Some(json!({"text": "Mooi"})),
            StatusCode::CREATED,
        ),
        (
            "POST",
            "/api/v1/workspaces/{ws}/posts/{post}/client-link",
            Action::ApprovePosts,
            None,
            StatusCode::CREATED,
        ),
        (
            "GET",
            "/api/v1/workspaces/{ws}/posts/{post}/review",
            Action::ViewPosts,
            None,
            StatusCode::OK,
        ),
    ];
    all.extend(crate::access_schedule::api());
    all.extend(crate::access_inbox::api());
    all.extend(crate::access_listening::api());
    all
}

/// The workspace-scoped UI routes with what they need and a form body.
fn scoped_ui(feed: &str) -> Vec<(&'static str, &'static str, Action, String)> {
    let channels = [
        (
            "GET",
            "/w/{ws}/channels",
            Action::ViewChannels,
            String::new(),
        ),
        (
            "POST",
            "/w/{ws}/channels",
            Action::ManageChannels,
            format!("feed_url={}", feed.replace(':', "%3A").replace('/', "%2F")),
        ),
        (
            "POST",
            "/w/{ws}/channels/{channel}/sync",
            Action::SyncChannels,
            String::new(),
        ),
        (
            "POST",
            "/w/{ws}/channels/{channel}/remove",
            Action::ManageChannels,
            String::new(),
        ),
        (
            "POST",
            "/w/{ws}/channels/mastodon",
            Action::ManageChannels,
            format!(
                "instance_url={}",
                feed.replace(':', "%3A").replace('/', "%2F")
            ),
        ),
        (
            "POST",
            "/w/{ws}/channels/bluesky",
            Action::ManageChannels,
            format!(
                "identifier=bakkerij.test&app_password=abcd-efgh&service_url={}",
                feed.replace(':', "%3A")
                    .replace('/', "%2F")
                    .replace("%2Ffeed.xml", "")
            ),
        ),
        (
            "POST",
            "/w/{ws}/channels/wordpress",
            Action::ManageChannels,
            format!(
                "site_url={}&username=editor&app_password=abcd+efgh",
                feed.replace(':', "%3A")
                    .replace('/', "%2F")
                    .replace("%2Ffeed.xml", "%2F")
            ),
        ),
        (
            // Reaches the form's checks (a mailbox needs a real server).
            "POST",
            "/w/{ws}/channels/email",
            Action::ManageChannels,
            "address=geen-adres&imap_url=imaps%3A%2F%2Fx&smtp_url=smtps%3A%2F%2Fx&password=p"
                .to_owned(),
        ),
        (
            "GET",
            "/w/{ws}/channels/mastodon/callback",
            Action::ManageChannels,
            String::new(),
        ),
    ];
    let rest: Vec<(&'static str, &'static str, Action, &'static str)> = vec![
        ("GET", "/w/{ws}", Action::ViewWorkspace, ""),
        ("GET", "/w/{ws}/area/publish", Action::ViewWorkspace, ""),
        ("GET", "/w/{ws}/settings", Action::EditSettings, ""),
        (
            "POST",
            "/w/{ws}/settings",
            Action::EditSettings,
            "name=Renamed&timezone=Europe%2FAmsterdam",
        ),
        ("GET", "/w/{ws}/members", Action::ViewMembers, ""),
        (
            "POST",
            "/w/{ws}/members",
            Action::ManageMembers,
            "email=someone%40new.nl&role=client",
        ),
        (
            "POST",
            "/w/{ws}/members/{user_id}/role",
            Action::ManageMembers,
            "role=agent",
        ),
        (
            "POST",
            "/w/{ws}/members/{user_id}/remove",
            Action::ManageMembers,
            "",
        ),
        ("GET", "/w/{ws}/audit", Action::ViewAudit, ""),
        ("GET", "/w/{ws}/posts", Action::ViewPosts, ""),
        (
            "POST",
            "/w/{ws}/posts",
            Action::ComposePosts,
            "text=Idee&when=draft",
        ),
        (
            "GET",
            "/w/{ws}/posts/{planned}/edit",
            Action::ComposePosts,
            "",
        ),
        (
            "POST",
            "/w/{ws}/posts/{planned}/edit",
            Action::ComposePosts,
            "text=Kerstbrood&date=2030-01-10&time=10%3A00",
        ),
        ("GET", "/w/{ws}/calendar", Action::ViewPosts, ""),
        (
            "GET",
            "/w/{ws}/calendar?week=2030-W05",
            Action::ViewPosts,
            "",
        ),
        ("GET", "/w/{ws}/calendar?view=list", Action::ViewPosts, ""),
        (
            // The planned draft made in `world` (in A).
            "POST",
            "/w/{ws}/calendar/posts/{planned}/move",
            Action::ComposePosts,
            "date=2030-02-01&time=10%3A00&back=month%3D2030-02",
        ),
        ("POST", "/w/{ws}/calendar/feed", Action::ComposePosts, ""),
        (
            "POST",
            "/w/{ws}/calendar/feed/remove",
            Action::ComposePosts,
            "",
        ),
        (
            "POST",
            "/w/{ws}/settings/approval",
            Action::EditSettings,
            "required=on",
        ),
        (
            "POST",
            "/w/{ws}/posts/{draft}/submit",
            Action::ComposePosts,
            "",
        ),
        (
            "POST",
            "/w/{ws}/posts/{post}/approve",
            Action::ApprovePosts,
            "round=1",
        ),
        (
            "POST",
            "/w/{ws}/posts/{post}/reject",
            Action::ApprovePosts,
            "round=1&comment=Nog+niet",
        ),
        (
            "POST",
            "/w/{ws}/posts/{post}/comments",
            Action::CommentPosts,
            "text=Mooi",
        ),
        (
            "POST",
            "/w/{ws}/posts/{post}/client-link",
            Action::ApprovePosts,
            "",
        ),
    ];
    channels
        .into_iter()
        .chain(rest.into_iter().map(|(m, p, a, f)| (m, p, a, f.to_owned())))
        .chain(crate::access_schedule::ui())
        .chain(crate::access_inbox::ui())
        .chain(crate::access_listening::ui())
        .collect()
}

/// A browser: a cookie jar, signed in through the sign-in form.
pub struct Browser {
    pub http: reqwest::Client,
    pub csrf: String,
}

pub fn csrf_in(html: &str) -> String {
    let i = html
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token");
    html[i + 20..].split('"').next().unwrap().to_owned()
}

impl Browser {
    pub async fn new(app: &App) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut r = http
            .get(format!("{}/sign-in", app.url))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::SEE_OTHER {
            let to = r.headers()["location"].to_str().unwrap().to_owned();
            r = http.get(format!("{}{to}", app.url)).send().await.unwrap();
        }
        let html = r.text().await.unwrap();
        Self {
            http,
            csrf: csrf_in(&html),
        }
    }

    pub async fn signed_in(app: &App, email: &str) -> Self {
        let b = Self::new(app).await;
        let r = b
            .post(
                app,
                "/sign-in",
                &format!("email={}&password={PASSWORD}", email.replace('@', "%40")),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
        b
    }

    pub async fn post(&self, app: &App, path: &str, form: &str) -> reqwest::Response {
        let body = if form.is_empty() {
            format!("_csrf={}", self.csrf)
        } else {
            format!("{form}&_csrf={}", self.csrf)
        };
        self.http
            .post(format!("{}{path}", app.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, app: &App, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap()
    }
}

struct World {
    app: App,
    /// Workspace A, where each role has a member; workspace B, where none does.
    a: i64,
    b: i64,
    /// The owner of B (a member there), and of A.
    b_owner: i64,
    owner_token: String,
    /// role → (token, user id, email), members of A only.
    people: Vec<(Role, String, i64, String)>,
    /// A feed to connect channels to, and a channel of B.
    feed: crate::feeds::FeedServer,
    b_channel: i64,
    /// A draft and a post in review in B.
    b_posts: (i64, i64),
    /// A recurring post in each workspace.
    a_series: i64,
    b_series: i64,
    /// A conversation in each workspace, and its author's contact and
    /// identity.
    a_conv: i64,
    b_conv: i64,
    a_contact: (i64, i64),
    b_contact: (i64, i64),
    /// A listening query and source in each workspace.
    a_listen: (i64, i64),
    b_listen: (i64, i64),
    /// The conversations' inbound items.
    a_item: i64,
    b_item: i64,
}

async fn world() -> World {
    let app = App::sqlite().await;
    let owner = app.setup().await;
    let a = app.workspace(&owner, "A").await;
    let b = app.workspace(&owner, "B").await;
    let mut people = vec![];
    for role in Role::ALL {
        let email = format!("{role}@a.nl");
        let (token, id) = app.member(&owner, a, &email, role.as_str()).await;
        people.push((role, token, id, email));
    }
    // B's owner is somebody no one in A is: the matrix users are strangers to B.
    let (_, b_owner) = app.member(&owner, b, "owner@b.nl", "owner").await;
    let feed =
        crate::feeds::FeedServer::start(crate::feeds::rss(&[("1", "Taart", "Lekker")])).await;
    let b_channel = channel(&app, &owner, b, &feed.url).await;
    // A planned draft in A, the calendar's move form's subject (post 1).
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{a}/posts"),
            Some(&owner),
            Some(json!({"text": "Kerstbrood", "draft": true, "scheduled_at": "2030-01-10T09:00:00Z"})),
        )
        .await;
    assert_eq!((s, v["id"].as_i64()), (StatusCode::CREATED, Some(1)), "{v}");
    let b_posts = review_posts(&app, b, b_channel).await;
    let a_series = crate::access_schedule::series(&app, a).await;
    let b_series = crate::access_schedule::series(&app, b).await;
    let a_feed = channel(&app, &owner, a, &feed.url).await;
    let a_conv = crate::access_inbox::conversation(&app, a, a_feed).await;
    let b_conv = crate::access_inbox::conversation(&app, b, b_channel).await;
    let a_contact = crate::access_inbox::contact(&app, a_conv).await;
    let b_contact = crate::access_inbox::contact(&app, b_conv).await;
    let a_listen = crate::access_listening::setup(&app, a, &feed.url).await;
    let b_listen = crate::access_listening::setup(&app, b, &feed.url).await;
    let a_item = crate::access_inbox::item(&app, a_conv).await;
    let b_item = crate::access_inbox::item(&app, b_conv).await;
    World {
        a_listen,
        b_listen,
        a_item,
        b_item,
        a_contact,
        b_contact,
        a_conv,
        b_conv,
        b_posts,
        app,
        a,
        b,
        b_owner,
        owner_token: owner,
        people,
        feed,
        b_channel,
        a_series,
        b_series,
    }
}

pub async fn channel(app: &App, owner: &str, ws: i64, feed: &str) -> i64 {
    let body = json!({"network": "rss", "feed_url": feed});
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{ws}/channels"),
            Some(owner),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

fn fill(path: &str, ws: i64, user: i64, channel: i64, post: (i64, i64)) -> String {
    path.replace("{ws}", &ws.to_string())
        .replace("{user_id}", &user.to_string())
        .replace("{channel}", &channel.to_string())
        .replace("{draft}", &post.0.to_string())
        .replace("{post}", &post.1.to_string())
        .replace("{planned}", "1")
}

/// A draft and a post in review (round 1) going to `channel`, made in the
/// store: the matrix's channels are feeds, which cannot publish.
pub async fn review_posts(app: &App, ws: i64, channel: i64) -> (i64, i64) {
    use dialoog_store::{Actor, NewPost, NewTarget};
    let s = &app.db.store;
    let mut ids = vec![];
    for state in ["draft", "in_review"] {
        let new = NewPost {
            workspace_id: ws,
            author_id: None,
            text: "Ter goedkeuring".into(),
            scheduled_at: Some(4_102_444_800_000),
            state: state.into(),
            targets: vec![NewTarget {
                channel_id: channel,
                network: "mastodon".into(),
                channel_name: "Bakkerij".into(),
                text: None,
                idempotency_key: format!("k{ws}{channel}{state}"),
            }],
        };
        let (post, _) = s.create_post(&new, 1).await.unwrap();
        if state == "in_review" {
            let who = Actor {
                user_id: None,
                name: "Test",
            };
            s.start_review(post.id, who, 1).await.unwrap();
        }
        ids.push(post.id);
    }
    (ids[0], ids[1])
}

/// The series of the workspace the path is filled for.
fn with_series(path: String, w: &World, ws: i64) -> String {
    let (id, conv, contact, listen, item) = if ws == w.a {
        (w.a_series, w.a_conv, w.a_contact, w.a_listen, w.a_item)
    } else {
        (w.b_series, w.b_conv, w.b_contact, w.b_listen, w.b_item)
    };
    path.replace("{series}", &id.to_string())
        .replace("{conv_item}", &item.to_string())
        .replace("{conv}", &conv.to_string())
        .replace("{contact}", &contact.0.to_string())
        .replace("{identity}", &contact.1.to_string())
        .replace("{query}", &listen.0.to_string())
        .replace("{source}", &listen.1.to_string())
}

async fn snapshot(w: &World) -> (String, usize, usize) {
    let s = &w.app.db.store;
    let ws = s
        .membership(w.b, w.b_owner)
        .await
        .unwrap()
        .unwrap()
        .workspace;
    (
        format!("{}|{}", ws.name, ws.timezone),
        s.members(w.b).await.unwrap().len(),
        s.audit_for_workspace(w.b, None, 1000).await.unwrap().len(),
    )
}

#[tokio::test]
async fn no_role_reaches_another_workspace() {
    let w = world().await;
    let before = snapshot(&w).await;
    for (role, token, _, email) in &w.people {
        for (method, path, _, body, _) in scoped_api(&w.feed.url) {
            let p = with_series(fill(path, w.b, w.b_owner, w.b_channel, w.b_posts), &w, w.b);
            let (s, v) = w.app.call(method, &p, Some(token), body).await;
            assert_eq!(
                s,
                StatusCode::NOT_FOUND,
                "API {method} {path} as {role} of A on B: {v}"
            );
        }
        let browser = Browser::signed_in(&w.app, email).await;
        for (method, path, _, form) in scoped_ui(&w.feed.url) {
            let p = with_series(fill(path, w.b, w.b_owner, w.b_channel, w.b_posts), &w, w.b);
            let r = if method == "GET" {
                browser.get(&w.app, &p).await
            } else {
                browser.post(&w.app, &p, &form).await
            };
            assert_eq!(
                r.status(),
                StatusCode::NOT_FOUND,
                "UI {method} {path} as {role} of A on B"
            );
            let html = r.text().await.unwrap();
            assert!(
                !html.contains("owner@b.nl") && !html.contains(">B<"),
                "UI {method} {path} leaked B"
            );
        }
        // A token of another person cannot be revoked either.
        let other = w.people.iter().find(|p| p.0 != *role).unwrap();
        let their = w.app.db.store.api_tokens(other.2).await.unwrap()[0].id;
        let (s, _) = w
            .app
            .call(
                "DELETE",
                &format!("/api/v1/auth/tokens/{their}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(w.app.db.store.api_tokens(other.2).await.unwrap().len(), 1);
    }
    assert_eq!(snapshot(&w).await, before, "workspace B changed");
    // The listing shows only A (and B for nobody in A).
    for (_, token, _, _) in &w.people {
        let (_, list) = w
            .app
            .call("GET", "/api/v1/workspaces", Some(token), None)
            .await;
        let ids: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [w.a]);
    }
}

#[tokio::test]
async fn each_role_gets_what_it_may_in_its_own_workspace() {
    let w = world().await;
    // The target of member changes: a fresh client member of A per attempt.
    let mut n = 0;
    for (role, token, _, email) in &w.people {
        let browser = Browser::signed_in(&w.app, email).await;
        for (method, path, action, body, ok) in scoped_api(&w.feed.url) {
            n += 1;
            let (_, target) = w
                .app
                .member(&w.owner_token, w.a, &format!("target{n}@a.nl"), "client")
                .await;
            let ch = channel(&w.app, &w.owner_token, w.a, &w.feed.url).await;
            let posts = review_posts(&w.app, w.a, ch).await;
            let (s, v) = w
                .app
                .call(
                    method,
                    &with_series(fill(path, w.a, target, ch, posts), &w, w.a),
                    Some(token),
                    body,
                )
                .await;
            let expected = if role.can(action) {
                ok
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(s, expected, "API {method} {path} as {role}: {v}");
            w.app.db.store.remove_member(w.a, target).await.ok();
            // The approval setting may have been turned on: each route is
            // tried without it (approval has its own tests).
            w.app
                .db
                .store
                .set_approval_required(w.a, false, 0)
                .await
                .unwrap();
        }
        for (method, path, action, form) in scoped_ui(&w.feed.url) {
            n += 1;
            let (_, target) = w
                .app
                .member(&w.owner_token, w.a, &format!("target{n}@a.nl"), "client")
                .await;
            let ch = channel(&w.app, &w.owner_token, w.a, &w.feed.url).await;
            let posts = review_posts(&w.app, w.a, ch).await;
            let p = with_series(fill(path, w.a, target, ch, posts), &w, w.a);
            let r = if method == "GET" {
                browser.get(&w.app, &p).await
            } else {
                browser.post(&w.app, &p, &form).await
            };
            let allowed = role.can(action);
            let s = r.status();
            let checks_input = path.ends_with("/channels/email")
                || (method == "POST" && path.ends_with("/posts/import"));
            if allowed && checks_input {
                assert_eq!(
                    s,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "UI {method} {path} as {role}"
                );
            } else if allowed {
                assert!(
                    s == StatusCode::OK || s == StatusCode::SEE_OTHER,
                    "UI {method} {path} as {role}: {s}"
                );
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "UI {method} {path} as {role}");
            }
            w.app.db.store.remove_member(w.a, target).await.ok();
            // The approval setting may have been turned on: each route is
            // tried without it (approval has its own tests).
            w.app
                .db
                .store
                .set_approval_required(w.a, false, 0)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn every_ui_form_refuses_a_missing_or_wrong_csrf_token() {
    let w = world().await;
    let owner_email = "anna@bakkerij.nl";
    let browser = Browser::signed_in(&w.app, owner_email).await;
    for (method, path) in dialoog_web::ui::ROUTES {
        if *method != "POST" {
            continue;
        }
        let p = fill(path, w.a, w.b_owner, 1, (1, 1))
            .replace("{id}", "1")
            .replace("{entry}", "1")
            .replace("{identity}", "1")
            .replace("{token}", "x")
            .replace("{code}", "x");
        for body in ["name=x", "name=x&_csrf=forged-token-value"] {
            let r = browser
                .http
                .post(format!("{}{p}", w.app.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path} with {body}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains("Dit formulier is verlopen")
                    || html.contains("This form has expired"),
                "{path}"
            );
        }
    }
}
