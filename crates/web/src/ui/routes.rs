//! The interface's routes: the list the access-matrix test walks, and the
//! router that serves them.

use axum::Router;
use axum::routing::{get, post};

use super::*;
use crate::AppState;

/// The routes of the interface, as (method, path) pairs: the access-matrix
/// test walks this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/setup"),
    ("POST", "/setup"),
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/sign-in/two-factor"),
    ("POST", "/sign-in/two-factor"),
    ("POST", "/sign-out"),
    ("POST", "/language"),
    ("GET", "/password/forgot"),
    ("POST", "/password/forgot"),
    ("GET", "/password/reset/{token}"),
    ("POST", "/password/reset/{token}"),
    ("GET", "/invite/{code}"),
    ("POST", "/invite/{code}"),
    ("GET", "/workspaces"),
    ("POST", "/workspaces"),
    ("GET", "/account"),
    ("POST", "/account/password"),
    ("POST", "/account/two-factor/start"),
    ("POST", "/account/two-factor/confirm"),
    ("POST", "/account/two-factor/disable"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{id}/revoke"),
    ("GET", "/notifications"),
    ("POST", "/notifications/read"),
    ("GET", "/w/{ws}"),
    ("GET", "/w/{ws}/area/{area}"),
    ("GET", "/w/{ws}/settings"),
    ("POST", "/w/{ws}/settings"),
    ("GET", "/w/{ws}/members"),
    ("POST", "/w/{ws}/members"),
    ("POST", "/w/{ws}/members/{user_id}/role"),
    ("POST", "/w/{ws}/members/{user_id}/remove"),
    ("GET", "/w/{ws}/audit"),
    ("GET", "/w/{ws}/channels"),
    ("GET", "/w/{ws}/posts"),
    ("POST", "/w/{ws}/posts"),
    ("GET", "/w/{ws}/media/{id}"),
    ("POST", "/w/{ws}/channels"),
    ("POST", "/w/{ws}/channels/{channel}/sync"),
    ("POST", "/w/{ws}/channels/{channel}/remove"),
    ("POST", "/w/{ws}/channels/mastodon"),
    ("POST", "/w/{ws}/channels/bluesky"),
    ("POST", "/w/{ws}/channels/wordpress"),
    ("POST", "/w/{ws}/channels/email"),
    ("GET", "/w/{ws}/channels/mastodon/callback"),
    ("POST", "/w/{ws}/settings/approval"),
    ("GET", "/w/{ws}/posts/{post}/edit"),
    ("POST", "/w/{ws}/posts/{post}/edit"),
    ("POST", "/w/{ws}/posts/{post}/submit"),
    ("POST", "/w/{ws}/posts/{post}/approve"),
    ("POST", "/w/{ws}/posts/{post}/reject"),
    ("POST", "/w/{ws}/posts/{post}/comments"),
    ("POST", "/w/{ws}/posts/{post}/client-link"),
    ("GET", "/review/{token}"),
    ("POST", "/review/{token}/approve"),
    ("POST", "/review/{token}/comment"),
    ("GET", "/w/{ws}/queue"),
    ("POST", "/w/{ws}/queue/{channel}"),
    ("GET", "/w/{ws}/series"),
    ("POST", "/w/{ws}/series/{id}/text"),
    ("POST", "/w/{ws}/series/{id}/stop"),
    ("GET", "/w/{ws}/posts/import"),
    ("POST", "/w/{ws}/posts/import"),
    ("GET", "/w/{ws}/posts/import/example.csv"),
    ("GET", "/w/{ws}/calendar"),
    ("POST", "/w/{ws}/calendar/posts/{post}/move"),
    ("POST", "/w/{ws}/calendar/feed"),
    ("POST", "/w/{ws}/calendar/feed/remove"),
    ("GET", "/w/{ws}/inbox"),
    ("GET", "/w/{ws}/inbox/events"),
    ("GET", "/w/{ws}/inbox/settings"),
    ("POST", "/w/{ws}/inbox/settings"),
    ("GET", "/w/{ws}/inbox/figures"),
    ("GET", "/w/{ws}/inbox/{id}"),
    ("POST", "/w/{ws}/inbox/{id}/reply"),
    ("POST", "/w/{ws}/inbox/{id}/replies/{entry}/retry"),
    ("POST", "/w/{ws}/inbox/{id}/note"),
    ("POST", "/w/{ws}/inbox/{id}/status"),
    ("POST", "/w/{ws}/inbox/{id}/assign"),
    ("POST", "/w/{ws}/inbox/{id}/snooze"),
    ("POST", "/w/{ws}/inbox/{id}/tags"),
    ("POST", "/w/{ws}/inbox/{id}/presence"),
    ("GET", "/w/{ws}/listening"),
    ("GET", "/w/{ws}/listening/queries"),
    ("POST", "/w/{ws}/listening/queries"),
    ("POST", "/w/{ws}/listening/queries/{id}"),
    ("POST", "/w/{ws}/listening/queries/{id}/delete"),
    ("POST", "/w/{ws}/listening/retention"),
    ("GET", "/w/{ws}/listening/sources"),
    ("POST", "/w/{ws}/listening/sources"),
    ("POST", "/w/{ws}/listening/sources/{id}/sync"),
    ("POST", "/w/{ws}/listening/sources/{id}/pause"),
    ("POST", "/w/{ws}/listening/sources/{id}/delete"),
    ("GET", "/w/{ws}/listening/alerts"),
    ("GET", "/w/{ws}/listening/voice"),
    ("POST", "/w/{ws}/listening/alerts/rules"),
    ("POST", "/w/{ws}/listening/alerts/rules/{id}/delete"),
    ("POST", "/w/{ws}/listening/alerts/webhook"),
    ("POST", "/w/{ws}/listening/alerts/webhook/delete"),
    ("GET", "/w/{ws}/inbox/{id}/media/{item}/{n}"),
    ("GET", "/w/{ws}/contacts"),
    ("GET", "/w/{ws}/contacts/{id}"),
    ("POST", "/w/{ws}/contacts/{id}/note"),
    ("POST", "/w/{ws}/contacts/{id}/tags"),
    ("POST", "/w/{ws}/contacts/{id}/merge"),
    ("POST", "/w/{ws}/contacts/{id}/identities/{identity}/split"),
];

/// The UI router.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/setup", get(auth::setup_page).post(auth::setup_submit))
        .route(
            "/sign-in",
            get(auth::sign_in_page).post(auth::sign_in_submit),
        )
        .route(
            "/sign-in/two-factor",
            get(auth::totp_page).post(auth::totp_submit),
        )
        .route("/sign-out", post(auth::sign_out))
        .route("/language", post(auth::language))
        .route(
            "/password/forgot",
            get(auth::forgot_page).post(auth::forgot_submit),
        )
        .route(
            "/password/reset/{token}",
            get(auth::reset_page).post(auth::reset_submit),
        )
        .route(
            "/invite/{code}",
            get(auth::invite_page).post(auth::invite_submit),
        )
        .route("/workspaces", get(workspace::list).post(workspace::create))
        .route("/account", get(account::page))
        .route("/account/password", post(account::password))
        .route("/account/two-factor/start", post(account::totp_start))
        .route("/account/two-factor/confirm", post(account::totp_confirm))
        .route("/account/two-factor/disable", post(account::totp_disable))
        .route("/account/tokens", post(account::token_create))
        .route("/account/tokens/{id}/revoke", post(account::token_revoke))
        .route("/notifications", get(notifications::page))
        .route("/notifications/read", post(notifications::read))
        .route("/w/{ws}", get(workspace::overview))
        .route("/w/{ws}/area/{area}", get(workspace::area))
        .route(
            "/w/{ws}/settings",
            get(workspace::settings).post(workspace::settings_submit),
        )
        .route(
            "/w/{ws}/members",
            get(workspace::members).post(workspace::member_add),
        )
        .route(
            "/w/{ws}/members/{user_id}/role",
            post(workspace::member_role),
        )
        .route(
            "/w/{ws}/members/{user_id}/remove",
            post(workspace::member_remove),
        )
        .route("/w/{ws}/audit", get(workspace::audit))
        .route("/w/{ws}/channels", get(channels::page).post(channels::add))
        .route("/w/{ws}/queue", get(schedule::queue_page))
        .route("/w/{ws}/queue/{channel}", post(schedule::queue_save))
        .route("/w/{ws}/series", get(schedule::series_page))
        .route("/w/{ws}/series/{id}/text", post(schedule::series_text))
        .route("/w/{ws}/series/{id}/stop", post(schedule::series_stop))
        .route(
            "/w/{ws}/posts/import",
            get(import::page)
                .post(import::submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    upload::UPLOAD_FORM_LIMIT,
                )),
        )
        .route("/w/{ws}/posts/import/example.csv", get(import::example))
        .route(
            "/w/{ws}/posts",
            get(posts::page)
                .post(posts::create)
                .layer(axum::extract::DefaultBodyLimit::max(
                    upload::UPLOAD_FORM_LIMIT,
                )),
        )
        .route("/w/{ws}/media/{id}", get(posts::image))
        .route("/w/{ws}/channels/{channel}/sync", post(channels::sync))
        .route("/w/{ws}/channels/{channel}/remove", post(channels::remove))
        .route("/w/{ws}/channels/mastodon", post(channels::mastodon_start))
        .route("/w/{ws}/channels/bluesky", post(channels::bluesky))
        .route("/w/{ws}/channels/wordpress", post(channels::wordpress))
        .route("/w/{ws}/channels/email", post(channels::email))
        .route(
            "/w/{ws}/channels/mastodon/callback",
            get(channels::mastodon_callback),
        )
        .route("/w/{ws}/settings/approval", post(approval::setting))
        .route(
            "/w/{ws}/posts/{post}/edit",
            get(edit::page)
                .post(edit::save)
                .layer(axum::extract::DefaultBodyLimit::max(
                    upload::UPLOAD_FORM_LIMIT,
                )),
        )
        .route("/w/{ws}/posts/{post}/submit", post(approval::submit))
        .route("/w/{ws}/posts/{post}/approve", post(approval::approve))
        .route("/w/{ws}/posts/{post}/reject", post(approval::reject))
        .route("/w/{ws}/posts/{post}/comments", post(approval::comment))
        .route(
            "/w/{ws}/posts/{post}/client-link",
            post(approval::client_link),
        )
        .route("/review/{token}", get(approval::public_page))
        .route("/review/{token}/approve", post(approval::public_approve))
        .route("/review/{token}/comment", post(approval::public_comment))
        .route("/w/{ws}/calendar", get(calendar::page))
        .route(
            "/w/{ws}/calendar/posts/{post}/move",
            post(calendar::move_post),
        )
        .route("/w/{ws}/calendar/feed", post(calendar::feed_create))
        .route("/w/{ws}/calendar/feed/remove", post(calendar::feed_remove))
        .route("/w/{ws}/inbox", get(inbox::list))
        .route("/w/{ws}/inbox/events", get(inbox::events))
        .route(
            "/w/{ws}/inbox/settings",
            get(inbox_levels::settings).post(inbox_levels::save_settings),
        )
        .route("/w/{ws}/inbox/figures", get(inbox_levels::figures))
        .route("/w/{ws}/inbox/{id}", get(inbox::conversation))
        .route("/w/{ws}/inbox/{id}/reply", post(inbox::reply))
        .route(
            "/w/{ws}/inbox/{id}/replies/{entry}/retry",
            post(inbox::retry),
        )
        .route("/w/{ws}/inbox/{id}/note", post(inbox::note))
        .route("/w/{ws}/inbox/{id}/status", post(inbox::set_status))
        .route("/w/{ws}/inbox/{id}/assign", post(inbox::assign))
        .route("/w/{ws}/inbox/{id}/snooze", post(inbox::snooze))
        .route("/w/{ws}/inbox/{id}/tags", post(inbox::tag))
        .route("/w/{ws}/inbox/{id}/presence", post(inbox::presence))
        .route("/w/{ws}/listening", get(listening::mentions))
        .route(
            "/w/{ws}/listening/queries",
            get(listening::queries).post(listening::create_query),
        )
        .route(
            "/w/{ws}/listening/queries/{id}",
            post(listening::update_query),
        )
        .route(
            "/w/{ws}/listening/queries/{id}/delete",
            post(listening::delete_query),
        )
        .route(
            "/w/{ws}/listening/retention",
            post(listening::set_retention),
        )
        .route(
            "/w/{ws}/listening/sources",
            get(listening_sources::sources).post(listening_sources::create_source),
        )
        .route(
            "/w/{ws}/listening/sources/{id}/sync",
            post(listening_sources::sync_source),
        )
        .route(
            "/w/{ws}/listening/sources/{id}/pause",
            post(listening_sources::pause_source),
        )
        .route(
            "/w/{ws}/listening/sources/{id}/delete",
            post(listening_sources::delete_source),
        )
        .route("/w/{ws}/listening/alerts", get(alerts::page))
        .route("/w/{ws}/listening/voice", get(voice::page))
        .route("/w/{ws}/listening/alerts/rules", post(alerts::create_rule))
        .route(
            "/w/{ws}/listening/alerts/rules/{id}/delete",
            post(alerts::delete_rule),
        )
        .route(
            "/w/{ws}/listening/alerts/webhook",
            post(alerts::set_webhook),
        )
        .route(
            "/w/{ws}/listening/alerts/webhook/delete",
            post(alerts::delete_webhook),
        )
        .route(
            "/w/{ws}/inbox/{id}/media/{item}/{n}",
            get(inbox_media::media),
        )
        .route("/w/{ws}/contacts", get(contacts::list))
        .route("/w/{ws}/contacts/{id}", get(contacts::page))
        .route("/w/{ws}/contacts/{id}/note", post(contacts::note))
        .route("/w/{ws}/contacts/{id}/tags", post(contacts::tag))
        .route("/w/{ws}/contacts/{id}/merge", post(contacts::merge))
        .route(
            "/w/{ws}/contacts/{id}/identities/{identity}/split",
            post(contacts::split),
        )
        .route("/static/app.css", get(stylesheet))
        .route("/static/inbox.js", get(inbox_script))
        .route("/static/copy.js", get(copy_script))
        .route("/static/count.js", get(count_script))
        .route("/static/calendar.js", get(calendar_script))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state, context))
}

/// The calendar feed (`/ical/{token}.ics`): no session, no cookies.
pub fn feed_router() -> Router<AppState> {
    Router::new().route("/ical/{token}", get(calendar::feed))
}
