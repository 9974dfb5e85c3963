//! The access matrix's routes: every API route and every page form, with
//! the action each needs and the body it is sent with.

use dialoog_domain::Action;
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
pub type Scoped = Vec<(
    &'static str,
    &'static str,
    Action,
    Option<Value>,
    StatusCode,
)>;

pub fn scoped_api(feed: &str) -> Scoped {
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
pub fn scoped_ui(feed: &str) -> Vec<(&'static str, &'static str, Action, String)> {
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
