//! The posts page: compose one text for several channels (now, at a time
//! in the workspace's timezone, or as a draft) and see how each channel's
//! publish went, with the reason when it did not.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::{Action, time};

use super::channels::Done;
use super::forms::{FieldErrs, UiForm};
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::posts::{Compose, When};

/// One channel's publish as the page shows it.
struct TargetView {
    channel: String,
    state: String,
    state_key: String,
    /// What a failure means, in the user's language.
    lead: String,
    /// The network's words.
    detail: String,
    url: String,
}

/// One post as the page shows it.
struct PostView {
    /// The post's id: the anchor e-mails link to.
    id: i64,
    text: String,
    when: String,
    targets: Vec<TargetView>,
}

/// A channel that can be chosen.
struct ChannelChoice {
    id: i64,
    name: String,
    network: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "posts.html")]
struct PostsView {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    ws: i64,
    can_compose: bool,
    channels: Vec<ChannelChoice>,
    posts: Vec<PostView>,
    text: String,
    date: String,
    time: String,
    when: String,
    timezone: String,
}

/// What was typed into the compose form.
#[derive(Default)]
struct Typed {
    text: String,
    channels: Vec<i64>,
    date: String,
    time: String,
    when: String,
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
    let tz = w.m.workspace.timezone.clone();
    let page = w.page.at(&format!("/w/{ws}/posts"));
    let err = |e: dialoog_store::StoreError| UiError(e.into(), t);
    let channels = s
        .store
        .channels(ws)
        .await
        .map_err(err)?
        .into_iter()
        .filter(|c| dialoog_engine::channel_rules(&s.cipher, c).is_some_and(|r| r.can_publish))
        .map(|c| ChannelChoice {
            checked: typed.channels.contains(&c.id),
            id: c.id,
            name: c.name,
            network: c.network,
        })
        .collect();
    let posts = s
        .store
        .recent_posts(ws, None, 50)
        .await
        .map_err(err)?
        .into_iter()
        .map(|(p, targets)| PostView {
            id: p.id,
            text: p.text.chars().take(500).collect(),
            when: p
                .scheduled_at
                .map_or_else(|| t.s("posts.no_time").to_owned(), |at| page.when(&at, &tz)),
            targets: targets
                .into_iter()
                .map(|x| TargetView {
                    channel: x.channel_name,
                    state_key: format!("posts.state.{}", x.state),
                    lead: t
                        .get(&format!("posts.reason.{}", x.error_code))
                        .unwrap_or_default()
                        .to_owned(),
                    detail: x.error,
                    url: x
                        .remote_url
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                        .unwrap_or_default(),
                    state: x.state,
                })
                .collect(),
        })
        .collect();
    let status = if errors.any() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let v = PostsView {
        can_compose: w.m.role.can(Action::ComposePosts),
        page,
        errors,
        notice,
        ws,
        channels,
        posts,
        text: typed.text,
        date: typed.date,
        time: typed.time,
        when: if typed.when.is_empty() {
            "now".into()
        } else {
            typed.when
        },
        timezone: tz,
    };
    Ok((status, html(&v, t)).into_response())
}

/// The posts page.
pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::ViewPosts)?;
    let notice = q.notice(w.me.ctx.t);
    render(&s, w, FieldErrs::default(), notice, Typed::default()).await
}

/// Composing a post: the same checks as the API, in the user's language.
pub async fn create(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let typed = Typed {
        text: get("text"),
        channels: f
            .iter()
            .filter(|(n, _)| n == "channel")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        date: get("date"),
        time: get("time"),
        when: get("when"),
    };
    let at = || time::local_instant(&typed.date, &typed.time, &w.m.workspace.timezone);
    let when = match typed.when.as_str() {
        "at" => at().map(When::At),
        "draft" if !typed.date.is_empty() => at().map(|a| When::Draft(Some(a))),
        "draft" => Ok(When::Draft(None)),
        _ => Ok(When::Now),
    };
    let result = match when {
        Ok(when) => {
            let c = Compose {
                text: typed.text.clone(),
                targets: typed.channels.iter().map(|id| (*id, None)).collect(),
                when,
            };
            crate::posts::create(&s, &w.me.user, ws, &c)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/w/{ws}/posts?done=post_saved"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errors = FieldErrs::from_error(e, t)?;
            render(&s, w, errors, None, typed).await
        }
    }
}
