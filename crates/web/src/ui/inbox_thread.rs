//! One conversation in the interface: its messages oldest first (from
//! outside, our replies with their state, internal notes), and the forms to
//! answer, note, tag, assign, snooze and set its status.
//!
//! Everything from outside is shown as text (escaped by the templates), and
//! a network's link is only a link when it is `http` or `https`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use serde::Deserialize;

use super::forms::UiForm;
use super::inbox::{TextForm, after, agents, local_time};
use super::{Page, UiError, WsCtx, html};
use crate::AppState;
use crate::error::AppError;
use crate::inbox;
use crate::security::random_token;
use crate::service::now_ms;

/// One message as the page shows it.
struct Msg {
    /// `in`, `out` or `note`.
    direction: String,
    who: String,
    handle: String,
    text: String,
    when: String,
    datetime: String,
    url: String,
    sentiment: String,
    sentiment_key: String,
    state: String,
    state_key: String,
    error: String,
    retry: String,
    media: Vec<super::inbox_media::Attachment>,
}

/// An option of a select.
struct Opt {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationView {
    page: Page,
    notice: Option<String>,
    error: Option<String>,
    id: i64,
    ws: i64,
    author: String,
    handle: String,
    kind_key: String,
    channel: String,
    status: String,
    status_key: String,
    assignee: String,
    snoozed: String,
    post_href: String,
    tags: Vec<String>,
    messages: Vec<Msg>,
    can_answer: bool,
    cannot_reply: String,
    counting: String,
    max: String,
    reply_key: String,
    note_key: String,
    draft: String,
    assignees: Vec<Opt>,
    statuses: Vec<(String, String, bool)>,
    presence: String,
    due: String,
    overdue: bool,
    resolve_due: String,
    contact_href: String,
}

pub use super::inbox_media::safe_url;

/// `?done=…` after a form.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /w/{ws}/inbox/{id}`.
pub async fn conversation(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let notice =
        w.me.ctx
            .t
            .get(&format!("notice.{}", q.done))
            .filter(|_| !q.done.is_empty())
            .map(str::to_owned);
    render(&s, w, id, None, notice).await
}

/// The conversation page, with an error or a notice on top.
pub(crate) async fn render(
    s: &AppState,
    w: WsCtx,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, UiError> {
    render_draft(s, w, id, error, notice, String::new()).await
}

async fn render_draft(
    s: &AppState,
    w: WsCtx,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
    draft: String,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let t = w.me.ctx.t;
    let err = |e: AppError| UiError(e, t);
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let thread = inbox::open(s, &w.me.user, ws, id).await.map_err(err)?;
    let c = &thread.conversation;
    let page = w.page.at(&format!("/w/{ws}/inbox"));
    let mut timed: Vec<(i64, Msg)> = thread
        .items
        .iter()
        .map(|i| {
            let at = i.item.published_at.unwrap_or(i.fetched_at);
            let sentiment = i.item.sentiment.clone().unwrap_or_default();
            (
                at,
                Msg {
                    direction: "in".into(),
                    who: i.item.author_name.clone(),
                    handle: i.item.author_handle.clone().unwrap_or_default(),
                    text: i.item.text.clone(),
                    when: page.when(&at, &tz),
                    datetime: crate::api::rfc3339(at),
                    url: safe_url(i.item.url.as_deref()),
                    sentiment_key: if sentiment.is_empty() {
                        String::new()
                    } else {
                        format!("inbox.sentiment.{sentiment}")
                    },
                    sentiment,
                    state: String::new(),
                    state_key: String::new(),
                    error: String::new(),
                    retry: String::new(),
                    media: super::inbox_media::attachments(t, ws, id, i.id, &i.item.media),
                },
            )
        })
        .collect();
    for e in &thread.entries {
        let at = e.sent_at.unwrap_or(e.created_at);
        let reply = e.kind == "reply";
        timed.push((
            at,
            Msg {
                direction: if reply { "out" } else { "note" }.into(),
                who: e.user_name.clone().unwrap_or_default(),
                handle: String::new(),
                text: e.text.clone(),
                when: page.when(&at, &tz),
                datetime: crate::api::rfc3339(at),
                url: safe_url(e.remote_url.as_deref()),
                sentiment: String::new(),
                sentiment_key: String::new(),
                state_key: if reply {
                    format!("inbox.reply.{}", e.state)
                } else {
                    String::new()
                },
                state: if reply {
                    e.state.clone()
                } else {
                    String::new()
                },
                error: if e.error.is_empty() {
                    String::new()
                } else {
                    t.fmt("inbox.network_said", &[("reason", &e.error)])
                },
                retry: if reply && e.state == "failed" {
                    format!("/w/{ws}/inbox/{id}/replies/{}/retry", e.id)
                } else {
                    String::new()
                },
                media: Vec::new(),
            },
        ));
    }
    timed.sort_by_key(|(at, _)| *at);
    let channel = s
        .store
        .channel(ws, c.channel_id)
        .await
        .map_err(AppError::from)
        .map_err(err)?;
    let rules = dialoog_engine::channel_rules(&s.cipher, &channel);
    let can_reply_kind = rules.as_ref().is_some_and(|r| {
        thread
            .items
            .iter()
            .any(|i| r.can_reply_to.iter().any(|k| k.as_str() == i.item.kind))
    });
    let cannot_reply = if channel.status == "needs_reconnect" || rules.is_none() {
        t.fmt(
            "error.channel_needs_reconnect",
            &[("reason", &channel.status_reason)],
        )
    } else if !can_reply_kind {
        t.s("error.cannot_reply").to_owned()
    } else {
        String::new()
    };
    let (counting, max) = rules.as_ref().map_or((String::new(), String::new()), |r| {
        (
            super::compose::counting_name(r.counting).to_owned(),
            r.max_length.map_or(String::new(), |m| m.to_string()),
        )
    });
    let members = s
        .store
        .members(ws)
        .await
        .map_err(AppError::from)
        .map_err(err)?;
    let mut assignees = vec![Opt {
        value: String::new(),
        label: t.s("inbox.assignee.none").to_owned(),
        selected: c.assignee_id.is_none(),
    }];
    assignees.extend(agents(&members).map(|m| Opt {
        value: m.user_id.to_string(),
        label: m.name.clone(),
        selected: c.assignee_id == Some(m.user_id),
    }));
    let statuses = inbox::STATUSES
        .iter()
        .map(|x| {
            (
                (*x).to_owned(),
                t.s(&format!("inbox.set.{x}")).to_owned(),
                *x == c.status,
            )
        })
        .collect();
    let levels = crate::service_levels::load(s, ws).await.map_err(err)?;
    let now = now_ms();
    let (answer, resolve) = crate::service_levels::timers(&levels, &tz, c, now);
    let (due, overdue) = super::inbox::due_text(t, answer, now);
    let resolve_due = resolve.map_or(String::new(), |r| {
        let key = if r.overdue {
            "inbox.resolve_overdue"
        } else {
            "inbox.resolve_by"
        };
        t.fmt(key, &[("time", &page.when(&r.at, &tz))])
    });
    let others = s.presence.touch(id, w.me.user.id, &w.me.user.name, false);
    let presence = presence_text(t, &others);
    let contact_href = s
        .store
        .contact_of(id)
        .await
        .map_err(|e| err(e.into()))?
        .map_or(String::new(), |c| format!("/w/{ws}/contacts/{c}"));
    let view = ConversationView {
        contact_href,
        due,
        overdue,
        resolve_due,
        presence,
        notice,
        error,
        id,
        ws,
        author: c.author_name.clone(),
        handle: c.author_handle.clone().unwrap_or_default(),
        kind_key: format!("inbox.kind.{}", c.kind),
        channel: c.channel_name.clone(),
        status: c.status.clone(),
        status_key: format!("inbox.status.{}", c.status),
        assignee: c.assignee_name.clone().unwrap_or_default(),
        snoozed: c
            .snoozed_until
            .filter(|u| *u > now_ms())
            .map_or(String::new(), |u| page.when(&u, &tz)),
        post_href: c
            .post_id
            .map_or(String::new(), |p| format!("/w/{ws}/posts/{p}/edit")),
        tags: thread.tags.clone(),
        messages: timed.into_iter().map(|(_, m)| m).collect(),
        can_answer: w.m.role.can(Action::AnswerInbox),
        cannot_reply,
        counting,
        max,
        reply_key: random_token(),
        note_key: random_token(),
        draft,
        assignees,
        statuses,
        page,
    };
    Ok(html(&view, t))
}

/// The warning about colleagues in the same conversation, in words.
fn presence_text(t: crate::i18n::Tr, others: &[crate::presence::Other]) -> String {
    others
        .iter()
        .map(|o| {
            let key = if o.typing {
                "inbox.presence.typing"
            } else {
                "inbox.presence.viewing"
            };
            t.fmt(key, &[("name", &o.name)])
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The open page's sign of life.
#[derive(Deserialize)]
pub struct PresenceForm {
    #[serde(default)]
    typing: String,
}

/// `POST /w/{ws}/inbox/{id}/presence`: the page is still open (and its
/// reader typing, if `typing=1`); answers the warning to show, as text.
pub async fn presence(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<PresenceForm>,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let t = w.me.ctx.t;
    s.store
        .conversation(w.m.workspace.id, id)
        .await
        .map_err(|e| UiError(e.into(), t))?;
    let others = s
        .presence
        .touch(id, w.me.user.id, &w.me.user.name, f.typing == "1");
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        presence_text(t, &others),
    )
        .into_response())
}

/// `POST /w/{ws}/inbox/{id}/reply`.
pub async fn reply(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<TextForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let ws = w.m.workspace.id;
    match inbox::reply(&s, &w.me.user, ws, id, &f.text, Some(&f.key)).await {
        Ok((_, false)) => after(&s, w, id, Ok("reply_repeated")).await,
        Ok((e, true)) if e.state == "sent" => after(&s, w, id, Ok("reply_sent")).await,
        Ok(_) => after(&s, w, id, Ok("reply_not_sent")).await,
        // Keep what was typed when the reply was refused.
        Err(e @ (AppError::Invalid(_) | AppError::Inbox(_))) => {
            let t = w.me.ctx.t;
            let msg = match &e {
                AppError::Invalid(fs) => fs
                    .iter()
                    .map(|x| crate::error::field_message(t, x))
                    .collect::<Vec<_>>()
                    .join(" "),
                e => e.message(t),
            };
            render_draft(&s, w, id, Some(msg), None, f.text).await
        }
        Err(e) => after(&s, w, id, Err(e)).await,
    }
}

/// `POST /w/{ws}/inbox/{id}/replies/{entry}/retry`.
pub async fn retry(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id, entry)): Path<(i64, i64, i64)>,
    UiForm(_): UiForm<super::approval::Empty>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let r = inbox::retry(&s, &w.me.user, w.m.workspace.id, id, entry).await;
    let done = match &r {
        Ok(e) if e.state == "sent" => "reply_sent",
        _ => "reply_not_sent",
    };
    after(&s, w, id, r.map(|_| done)).await
}

/// `POST /w/{ws}/inbox/{id}/note`.
pub async fn note(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<TextForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let r = inbox::note(&s, &w.me.user, w.m.workspace.id, id, &f.text, Some(&f.key)).await;
    after(&s, w, id, r.map(|_| "note_added")).await
}

/// The status form.
#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

/// `POST /w/{ws}/inbox/{id}/status`: someone else being first is said.
pub async fn set_status(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<StatusForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let r = inbox::set_status(&s, &w.me.user, w.m.workspace.id, id, &f.status).await;
    let done = match (&r, f.status.trim()) {
        (Ok(true), "resolved") => "conversation_resolved",
        (Ok(true), _) => "conversation_status",
        (Ok(false), _) => "conversation_status_already",
        (Err(_), _) => "",
    };
    after(&s, w, id, r.map(|_| done)).await
}

/// The assignment form.
#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    assignee: String,
}

/// `POST /w/{ws}/inbox/{id}/assign`.
pub async fn assign(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<AssignForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let who = match f.assignee.trim() {
        "" => Ok(None),
        "me" => Ok(Some(w.me.user.id)),
        x => x.parse::<i64>().map(Some).map_err(|_| {
            AppError::from(dialoog_domain::FieldError::new(
                "assignee_id",
                "not_an_agent",
            ))
        }),
    };
    let r = match who {
        Ok(who) => inbox::assign(&s, &w.me.user, w.m.workspace.id, id, who).await,
        Err(e) => Err(e),
    };
    after(&s, w, id, r.map(|()| "conversation_assigned")).await
}

/// The snooze form: a choice, or a date and time of one's own.
#[derive(Deserialize)]
pub struct SnoozeForm {
    #[serde(default)]
    until: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
}

/// When a snooze choice ends, in the workspace's zone.
fn snooze_until(choice: &str, tz: &str, now: i64) -> Option<i64> {
    let zone = dialoog_domain::time::zone(tz);
    let local = jiff::Timestamp::from_millisecond(now).ok()?.to_zoned(zone);
    let at = |days: i64| -> Option<i64> {
        let d = local
            .date()
            .checked_add(jiff::Span::new().days(days))
            .ok()?;
        let dt = d.to_datetime(jiff::civil::time(9, 0, 0, 0));
        dialoog_domain::time::instant_of(dt, tz).ok()
    };
    match choice {
        "1h" => Some(now + 3_600_000),
        "4h" => Some(now + 4 * 3_600_000),
        "tomorrow" => at(1),
        "monday" => {
            let wd = i64::from(local.weekday().to_monday_one_offset());
            at(8 - wd)
        }
        _ => None,
    }
}

/// `POST /w/{ws}/inbox/{id}/snooze` (`until=wake` wakes it).
pub async fn snooze(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<SnoozeForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let tz = w.m.workspace.timezone.clone();
    let until = match f.until.as_str() {
        "wake" => Ok(None),
        "own" | "" => local_time(&f.date, &f.time, &tz).map(Some),
        choice => snooze_until(choice, &tz, now_ms())
            .map(Some)
            .ok_or_else(|| AppError::from(dialoog_domain::FieldError::new("until", "invalid"))),
    };
    let done = if matches!(until, Ok(None)) {
        "conversation_woken"
    } else {
        "conversation_snoozed"
    };
    let r = match until {
        Ok(u) => inbox::snooze(&s, &w.me.user, w.m.workspace.id, id, u).await,
        Err(e) => Err(e),
    };
    after(&s, w, id, r.map(|()| done)).await
}

/// The tag form.
#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    tag: String,
    #[serde(default)]
    remove: String,
}

/// `POST /w/{ws}/inbox/{id}/tags`: adds `tag`, or removes `remove`.
pub async fn tag(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<TagForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let ws = w.m.workspace.id;
    let r = if f.remove.trim().is_empty() {
        inbox::tag(&s, &w.me.user, ws, id, &f.tag, true).await
    } else {
        inbox::tag(&s, &w.me.user, ws, id, &f.remove, false).await
    };
    after(&s, w, id, r.map(|_| "tags_changed")).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn snoozing_until_tomorrow_is_nine_in_the_morning_there() {
        // Wednesday 2026-12-02 15:00 in Amsterdam (14:00 UTC).
        let now = 1_796_220_000_000;
        let tomorrow = snooze_until("tomorrow", "Europe/Amsterdam", now).unwrap();
        let z = jiff::Timestamp::from_millisecond(tomorrow)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap());
        assert_eq!((z.day(), z.hour()), (3, 9));
        let monday = snooze_until("monday", "Europe/Amsterdam", now).unwrap();
        let z = jiff::Timestamp::from_millisecond(monday)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap());
        assert_eq!(
            (z.weekday(), z.day(), z.hour()),
            (jiff::civil::Weekday::Monday, 7, 9)
        );
        assert_eq!(snooze_until("1h", "UTC", 0), Some(3_600_000));
        assert_eq!(snooze_until("x", "UTC", 0), None);
    }
}
