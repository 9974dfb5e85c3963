//! The channels page: health, "fetch now", adding a feed, disconnecting.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::reasons::{self, Class};
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::AppError;

/// One channel as the page shows it.
struct ChannelView {
    id: i64,
    name: String,
    network: String,
    status: String,
    status_key: String,
    /// What the failure means and what happens next, in the user's language.
    lead: String,
    /// The network's own words (as the connector reported them).
    reason: String,
    since: String,
    last_sync: String,
    next_sync: String,
    items: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsView {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    ws: i64,
    channels: Vec<ChannelView>,
    can_manage: bool,
    can_sync: bool,
    typed: Typed,
    none: FieldErrs,
}

impl ChannelsView {
    /// The field errors of `form`'s fields (none for the other forms).
    fn errs(&self, form: &str) -> &FieldErrs {
        if self.typed.form == form {
            &self.errors
        } else {
            &self.none
        }
    }

    /// What was typed into `form` (nothing in the other forms).
    fn typed<'a>(&self, form: &str, value: &'a str) -> &'a str {
        if self.typed.form == form { value } else { "" }
    }
}

/// The sentence that says, in the user's language, what a failing
/// channel's reason means for them: by its class, not by its words.
fn reason_lead(status: &str, reason: &str) -> Option<&'static str> {
    match (status, reasons::class(reason)) {
        ("needs_reconnect", _) => Some("channels.reason.reconnect"),
        ("failing", Class::Temporary) => Some("channels.reason.temporary"),
        ("failing", Class::Unknown) => Some("channels.reason.unknown"),
        ("failing", Class::Access | Class::Refused) => Some("channels.reason.refused"),
        _ => None,
    }
}

/// What the forms on the page hold after a refused submit (never a
/// password), and which form it was.
#[derive(Default)]
struct Typed {
    form: &'static str,
    feed_url: String,
    instance_url: String,
    identifier: String,
    service_url: String,
    site_url: String,
    username: String,
    address: String,
    imap_url: String,
    smtp_url: String,
}

async fn render(
    s: &AppState,
    w: WsCtx,
    errors: FieldErrs,
    notice: Option<String>,
    typed: Typed,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let page = w.page.at(&format!("/w/{ws}/channels"));
    let tz = &w.m.workspace.timezone;
    let mut channels = vec![];
    for c in s
        .store
        .channels(ws)
        .await
        .map_err(|e| UiError(e.into(), t))?
    {
        let items = s
            .store
            .items(c.id, 5)
            .await
            .map_err(|e| UiError(e.into(), t))?;
        channels.push(ChannelView {
            status_key: format!("channels.status.{}", c.status),
            since: page.when(&c.status_since, tz),
            last_sync: c
                .last_sync_at
                .map_or_else(|| t.s("channels.never").to_owned(), |l| page.when(&l, tz)),
            next_sync: match (c.status.as_str(), c.next_sync_at) {
                ("needs_reconnect", _) => String::new(),
                (_, Some(n)) => page.when(&n, tz),
                (_, None) => t.s("channels.soon").to_owned(),
            },
            items: items
                .into_iter()
                .map(|i| {
                    let text: String = i.item.text.chars().take(280).collect();
                    // Only web links are offered; anything else is not a link.
                    let url = i
                        .item
                        .url
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                        .unwrap_or_default();
                    (i.item.author_name, text, url)
                })
                .collect(),
            id: c.id,
            name: c.name,
            network: c.network,
            lead: reason_lead(&c.status, &c.status_reason)
                .map(|k| t.s(k).to_owned())
                .unwrap_or_default(),
            status: c.status,
            reason: reasons::detail(&c.status_reason).to_owned(),
        });
    }
    let status = if errors.any() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let v = ChannelsView {
        can_manage: w.m.role.can(Action::ManageChannels),
        can_sync: w.m.role.can(Action::SyncChannels),
        page,
        errors,
        notice,
        ws,
        channels,
        typed,
        none: FieldErrs::default(),
    };
    Ok((status, html(&v, t)).into_response())
}

/// `?done=…`.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

impl Done {
    /// The notice for `?done=…`, if it names one.
    pub fn notice(self, t: crate::i18n::Tr) -> Option<String> {
        self.done
            .and_then(|d| t.get(&format!("notice.{d}")))
            .map(str::to_owned)
    }
}

pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::ViewChannels)?;
    let notice = q
        .done
        .and_then(|d| w.me.ctx.t.get(&format!("notice.{d}")))
        .map(str::to_owned);
    render(&s, w, FieldErrs::default(), notice, Typed::default()).await
}

/// Adding a feed.
#[derive(Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    feed_url: String,
}

pub async fn add(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<FeedForm>,
) -> Result<Response, UiError> {
    let body = serde_json::json!({"network": "rss", "feed_url": f.feed_url});
    let typed = Typed {
        form: "feed",
        feed_url: f.feed_url,
        ..Typed::default()
    };
    connect_from_form(&s, w, body, typed).await
}

/// Connects a channel from a form: the same checks as the API, then back to
/// the page with a notice, or the page again with the errors and what was
/// typed (never a password).
async fn connect_from_form(
    s: &AppState,
    w: WsCtx,
    body: serde_json::Value,
    typed: Typed,
) -> Result<Response, UiError> {
    w.require(Action::ManageChannels)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let result = match crate::channels::credentials(&body) {
        Ok(creds) => crate::channels::connect(s, &w.me.user, ws, &creds)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/w/{ws}/channels?done=channel_added"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            render(s, w, errors, None, typed).await
        }
    }
}

/// The empty form.
#[derive(Deserialize)]
pub struct Empty {}

pub async fn sync(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    match crate::channels::sync(&s, &w.me.user, w.m.workspace.id, id).await {
        Ok(o) => {
            let notice = t.fmt(
                "notice.synced",
                &[
                    ("fetched", &o.fetched.to_string()),
                    ("new", &o.new.to_string()),
                ],
            );
            render(&s, w, FieldErrs::default(), Some(notice), Typed::default()).await
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            render(&s, w, errors, None, Typed::default()).await
        }
    }
}

pub async fn remove(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(_): UiForm<Empty>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    crate::channels::disconnect(&s, &w.me.user, ws, id)
        .await
        .map_err(|e| UiError(e, t))?;
    Ok(see_other(&format!("/w/{ws}/channels?done=channel_removed")))
}

/// Connecting a Mastodon account: the instance's address.
#[derive(Deserialize)]
pub struct MastodonForm {
    #[serde(default)]
    instance_url: String,
}

/// Sends the user to their instance to grant Dialoog access.
pub async fn mastodon_start(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<MastodonForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageChannels)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match crate::channels::mastodon_start(&s, &w.me.user, ws, &f.instance_url).await {
        // A page with a link, not a redirect: the Content Security Policy
        // lets forms lead only to Dialoog itself, and the person sees where
        // they are going before they sign in there.
        Ok(url) => {
            let host = reqwest_host(&url);
            let v = ContinueView {
                continue_label: t.fmt("channels.oauth_continue", &[("host", &host)]),
                page: w.page.at(&format!("/w/{ws}/channels")),
                url,
                ws,
            };
            Ok(html(&v, t).into_response())
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            let typed = Typed {
                form: "mastodon",
                instance_url: f.instance_url,
                ..Typed::default()
            };
            render(&s, w, errors, None, typed).await
        }
    }
}

/// The step between Dialoog and the instance's sign-in page.
#[derive(Template)]
#[template(path = "oauth_continue.html")]
struct ContinueView {
    page: Page,
    url: String,
    continue_label: String,
    ws: i64,
}

/// The host of an address, for saying where a link leads.
fn reqwest_host(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?']).next())
        .unwrap_or(url)
        .to_owned()
}

/// What the instance sends back: a code and our state, or an error.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The instance sends the user back here; the channel is connected.
pub async fn mastodon_callback(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Callback>,
) -> Result<Response, UiError> {
    w.require(Action::ManageChannels)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let (Some(code), Some(state), None) = (q.code, q.state, q.error) else {
        // Refused at the instance, or arrived here without a sign-in.
        return Ok(see_other(&format!(
            "/w/{ws}/channels?done=mastodon_refused"
        )));
    };
    match crate::channels::mastodon_finish(&s, &w.me.user, ws, &code, &state).await {
        Ok(_) => Ok(see_other(&format!("/w/{ws}/channels?done=channel_added"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            render(&s, w, errors, None, Typed::default()).await
        }
    }
}

/// Connecting a Bluesky account with an app password.
#[derive(Deserialize)]
pub struct BlueskyForm {
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    app_password: String,
    #[serde(default)]
    service_url: String,
}

pub async fn bluesky(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<BlueskyForm>,
) -> Result<Response, UiError> {
    let body = serde_json::json!({
        "network": "bluesky",
        "identifier": f.identifier,
        "app_password": f.app_password,
        "service_url": f.service_url,
    });
    let typed = Typed {
        form: "bluesky",
        identifier: f.identifier,
        service_url: f.service_url,
        ..Typed::default()
    };
    connect_from_form(&s, w, body, typed).await
}

/// Connecting a WordPress site with an application password.
#[derive(Deserialize)]
pub struct WordPressForm {
    #[serde(default)]
    site_url: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    app_password: String,
}

pub async fn wordpress(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<WordPressForm>,
) -> Result<Response, UiError> {
    let body = serde_json::json!({
        "network": "wordpress",
        "site_url": f.site_url,
        "username": f.username,
        "app_password": f.app_password,
    });
    let typed = Typed {
        form: "wordpress",
        site_url: f.site_url,
        username: f.username,
        ..Typed::default()
    };
    connect_from_form(&s, w, body, typed).await
}

/// Connecting a mailbox.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    imap_url: String,
    #[serde(default)]
    smtp_url: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn email(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<EmailForm>,
) -> Result<Response, UiError> {
    let body = serde_json::json!({
        "network": "email",
        "address": f.address,
        "imap_url": f.imap_url,
        "smtp_url": f.smtp_url,
        "username": f.username,
        "password": f.password,
    });
    let typed = Typed {
        form: "email",
        address: f.address,
        imap_url: f.imap_url,
        smtp_url: f.smtp_url,
        username: f.username,
        ..Typed::default()
    };
    connect_from_form(&s, w, body, typed).await
}
