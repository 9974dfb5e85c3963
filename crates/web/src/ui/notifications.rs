//! The signed-in person's notifications: the newest first, unread ones
//! marked in words, each with a link to its post; a form marks all read.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::forms::UiForm;
use super::{Page, SignedIn, UiError, html, see_other};
use crate::AppState;
use crate::notifications as n;

/// One notification as the page shows it.
struct Item {
    headline: String,
    workspace: String,
    when: String,
    datetime: String,
    unread: bool,
    reason: String,
    said: String,
    text: String,
    href: String,
    /// The link's words (a key).
    open: &'static str,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsView {
    page: Page,
    notice: Option<String>,
    items: Vec<Item>,
    any_unread: bool,
}

/// `?done=…` after marking read.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `GET /notifications`.
pub async fn page(
    State(s): State<AppState>,
    me: SignedIn,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let t = me.ctx.t;
    let err = |e| UiError(e, t);
    let page = Page::signed_in(&s, &me, "/notifications")
        .await
        .map_err(err)?;
    let notice = q
        .done
        .and_then(|d| t.get(&format!("notice.{d}")))
        .map(str::to_owned);
    let items: Vec<Item> = n::list(&s, &me.user, n::SHOWN)
        .await
        .map_err(err)?
        .into_iter()
        .map(|(x, alert)| {
            let w = n::words(t, &x, alert.as_ref());
            Item {
                headline: w.headline,
                workspace: t.fmt("notifications.in", &[("workspace", &x.workspace_name)]),
                when: page.when(&x.created_at, &x.timezone),
                datetime: crate::api::rfc3339(x.created_at),
                unread: x.read_at.is_none(),
                reason: w.reason,
                said: w.said,
                text: crate::calendar::first_words(&x.post_text, 20),
                href: w.path,
                open: if alert.is_some() {
                    "notifications.open_alert"
                } else if x.kind == n::OVERDUE {
                    "notifications.open_conversation"
                } else {
                    "notifications.open_post"
                },
            }
        })
        .collect();
    let v = NotificationsView {
        any_unread: items.iter().any(|i| i.unread),
        page,
        notice,
        items,
    };
    Ok(html(&v, t))
}

/// The "mark all read" form: nothing but its CSRF token.
#[derive(Deserialize)]
pub struct ReadForm {}

/// `POST /notifications/read`.
pub async fn read(
    State(s): State<AppState>,
    me: SignedIn,
    UiForm(_): UiForm<ReadForm>,
) -> Result<Response, UiError> {
    n::mark_read(&s, &me.user)
        .await
        .map_err(|e| UiError(e, me.ctx.t))?;
    Ok(see_other("/notifications?done=notifications_read"))
}
