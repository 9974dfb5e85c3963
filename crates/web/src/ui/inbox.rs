//! The inbox in the interface: the list with its filters (live: an open
//! list refreshes itself when a conversation changes), one conversation
//! with its messages and the forms to answer, note, tag, assign, snooze and
//! set its status. Every form works without JavaScript; `static/inbox.js`
//! adds live updates, the reply counter and keyboard shortcuts.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use dialoog_domain::{Action, time::local_instant};
use dialoog_store::{Conversation, InboxFilter, Member};
use serde::Deserialize;
use std::time::Duration;

use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::{AppError, field_message};
use crate::i18n::Tr;
use crate::inbox;
use crate::service_levels::{self, Due, Levels, timers};

/// `GET /w/{ws}/inbox` query: the filters, all optional.
#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    sentiment: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    done: String,
}

/// A conversation as a row of the list.
struct Row {
    href: String,
    author: String,
    handle: String,
    kind_key: String,
    channel: String,
    preview: String,
    when: String,
    datetime: String,
    status_key: String,
    sentiment: String,
    sentiment_key: String,
    assignee: String,
    waiting: String,
    due: String,
    overdue: bool,
    tags: Vec<String>,
}

/// One choice of a filter's select.
struct Opt {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxView {
    page: Page,
    error: Option<String>,
    rows: Vec<Row>,
    views: Vec<Opt>,
    channels: Vec<Opt>,
    kinds: Vec<Opt>,
    assignees: Vec<Opt>,
    sentiments: Vec<Opt>,
    langs: Vec<Opt>,
    tags: Vec<Opt>,
    q: String,
    next: String,
    changed_at: i64,
    ws: i64,
    overdue: String,
    can_settings: bool,
}

const KINDS: [&str; 5] = ["comment", "mention", "direct_message", "email", "review"];
const SENTIMENTS: [&str; 3] = ["negative", "neutral", "positive"];
const LANGS: [&str; 4] = ["nl", "en", "fr", "de"];

fn opts(t: Tr, values: &[&str], prefix: &str, chosen: &str, any_key: &str) -> Vec<Opt> {
    let mut v = vec![Opt {
        value: String::new(),
        label: t.s(any_key).to_owned(),
        selected: chosen.is_empty(),
    }];
    v.extend(values.iter().map(|x| Opt {
        value: (*x).to_owned(),
        label: t.s(&format!("{prefix}{x}")).to_owned(),
        selected: *x == chosen,
    }));
    v
}

/// How long ago, in words: "5 min", "3 h", "2 d".
fn ago(t: Tr, from: i64, now: i64) -> String {
    span(t, now - from)
}

/// A duration in words: "5 min", "3 h", "2 d".
pub(crate) fn span(t: Tr, ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    if mins < 60 {
        t.fmt("inbox.minutes", &[("n", &mins.to_string())])
    } else if mins < 48 * 60 {
        t.fmt("inbox.hours", &[("n", &(mins / 60).to_string())])
    } else {
        t.fmt("inbox.days", &[("n", &(mins / 1440).to_string())])
    }
}

/// The answer timer in words: due in, or overdue by.
pub(crate) fn due_text(t: Tr, due: Option<Due>, now: i64) -> (String, bool) {
    match due {
        Some(d) if d.overdue => (
            t.fmt("inbox.overdue", &[("time", &span(t, now - d.at))]),
            true,
        ),
        Some(d) => (t.fmt("inbox.due", &[("time", &span(t, d.at - now))]), false),
        None => (String::new(), false),
    }
}

fn row(
    page: &Page,
    tz: &str,
    levels: &Levels,
    c: Conversation,
    tags: Vec<String>,
    now: i64,
) -> Row {
    let t = page.t;
    let (answer, _) = timers(levels, tz, &c, now);
    let (due, overdue) = due_text(t, answer, now);
    Row {
        due,
        overdue,
        href: format!("/w/{}/inbox/{}", c.workspace_id, c.id),
        handle: c.author_handle.unwrap_or_default(),
        author: c.author_name,
        kind_key: format!("inbox.kind.{}", c.kind),
        channel: c.channel_name,
        preview: c.preview,
        when: page.when(&c.last_at, tz),
        datetime: crate::api::rfc3339(c.last_at),
        status_key: format!("inbox.status.{}", c.status),
        sentiment_key: c
            .sentiment
            .as_deref()
            .map_or(String::new(), |s| format!("inbox.sentiment.{s}")),
        sentiment: c.sentiment.unwrap_or_default(),
        assignee: c.assignee_name.map_or(String::new(), |n| {
            t.fmt("inbox.assigned_to", &[("name", &n)])
        }),
        waiting: c.waiting_since.map_or(String::new(), |w| {
            t.fmt("inbox.waiting", &[("time", &ago(t, w, now))])
        }),
        tags,
    }
}

fn filter(w: &WsCtx, q: &ListQuery) -> Result<InboxFilter, AppError> {
    let (status, assignee) = crate::api::inbox::filter_from(
        w.me.user.id,
        Some(q.view.as_str()),
        Some(q.assignee.as_str()),
    )?;
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let after = opt(&q.after)
        .map(|a| {
            a.split_once('.')
                .and_then(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?)))
                .ok_or(dialoog_domain::FieldError::new("after", "invalid"))
        })
        .transpose()?;
    Ok(InboxFilter {
        status,
        channel_id: opt(&q.channel).and_then(|c| c.parse().ok()),
        kind: opt(&q.kind).filter(|k| KINDS.contains(&k.as_str())),
        assignee,
        sentiment: opt(&q.sentiment).filter(|s| SENTIMENTS.contains(&s.as_str())),
        lang: opt(&q.lang),
        tag: opt(&q.tag),
        q: opt(&q.q),
        after,
    })
}

/// `GET /w/{ws}/inbox`.
pub async fn list(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let err = |e: AppError| UiError(e, t);
    let mut error = None;
    let f = match filter(&w, &q) {
        Ok(f) => f,
        Err(e) => {
            error = Some(match &e {
                AppError::Invalid(fs) => fs.iter().map(|f| field_message(t, f)).collect(),
                e => e.message(t),
            });
            InboxFilter {
                status: Some("open".into()),
                ..InboxFilter::default()
            }
        }
    };
    let changed_at = s
        .store
        .inbox_changed_at(ws)
        .await
        .map_err(AppError::from)
        .map_err(err)?;
    let now = crate::service::now_ms();
    // Access was checked above (`ViewInbox`).
    let rows = inbox::page(&s, ws, &f, inbox::PAGE).await.map_err(err)?;
    let next = if rows.len() as i64 == inbox::PAGE {
        rows.last().map_or(String::new(), |c| {
            let mut qs = q.clone();
            qs.after = format!("{}.{}", c.last_at, c.id);
            qs.done.clear();
            format!("/w/{ws}/inbox?{}", query_string(&qs))
        })
    } else {
        String::new()
    };
    let page = w.page.at(&format!("/w/{ws}/inbox"));
    let tz = w.m.workspace.timezone.clone();
    let levels = service_levels::load(&s, ws).await.map_err(err)?;
    let tags = inbox::page_tags(&s, &rows).await.map_err(err)?;
    let list: Vec<Row> = rows
        .into_iter()
        .zip(tags)
        .map(|(c, tags)| row(&page, &tz, &levels, c, tags, now))
        .collect();
    let late = list.iter().filter(|r| r.overdue).count();
    let overdue = if late > 0 {
        t.fmt("inbox.overdue_banner", &[("n", &late.to_string())])
    } else {
        String::new()
    };
    let channels = s
        .store
        .channels(ws)
        .await
        .map_err(AppError::from)
        .map_err(err)?;
    let members = s
        .store
        .members(ws)
        .await
        .map_err(AppError::from)
        .map_err(err)?;
    let view = if q.view.is_empty() { "open" } else { &q.view };
    let mut assignees = vec![
        Opt {
            value: String::new(),
            label: t.s("inbox.anyone").to_owned(),
            selected: q.assignee.is_empty(),
        },
        Opt {
            value: "me".into(),
            label: t.s("inbox.assignee.me").to_owned(),
            selected: q.assignee == "me",
        },
        Opt {
            value: "none".into(),
            label: t.s("inbox.assignee.none").to_owned(),
            selected: q.assignee == "none",
        },
    ];
    assignees.extend(agents(&members).map(|m| Opt {
        selected: q.assignee == m.user_id.to_string(),
        value: m.user_id.to_string(),
        label: m.name.clone(),
    }));
    let mut channel_opts = vec![Opt {
        value: String::new(),
        label: t.s("inbox.any_channel").to_owned(),
        selected: q.channel.is_empty(),
    }];
    channel_opts.extend(channels.iter().filter(|c| c.network != "rss").map(|c| Opt {
        selected: q.channel == c.id.to_string(),
        value: c.id.to_string(),
        label: c.name.clone(),
    }));
    let mut tags = vec![Opt {
        value: String::new(),
        label: t.s("inbox.any_tag").to_owned(),
        selected: q.tag.is_empty(),
    }];
    tags.extend(
        s.store
            .workspace_tags(ws)
            .await
            .map_err(|e| err(e.into()))?
            .into_iter()
            .map(|x| Opt {
                selected: q.tag == x,
                value: x.clone(),
                label: x,
            }),
    );
    let langs = LANGS.iter().map(|l| Opt {
        value: (*l).to_owned(),
        label: (*l).to_uppercase(),
        selected: q.lang == *l,
    });
    let mut lang_opts = vec![Opt {
        value: String::new(),
        label: t.s("inbox.any_language").to_owned(),
        selected: q.lang.is_empty(),
    }];
    lang_opts.extend(langs);
    let views = inbox::VIEWS
        .iter()
        .map(|v| Opt {
            value: (*v).to_owned(),
            label: t.s(&format!("inbox.view.{v}")).to_owned(),
            selected: *v == view,
        })
        .collect();
    Ok(html(
        &InboxView {
            error,
            rows: list,
            views,
            channels: channel_opts,
            kinds: opts(t, &KINDS, "inbox.kind.", &q.kind, "inbox.any_kind"),
            assignees,
            sentiments: opts(
                t,
                &SENTIMENTS,
                "inbox.sentiment.",
                &q.sentiment,
                "inbox.any_sentiment",
            ),
            langs: lang_opts,
            tags,
            q: q.q.clone(),
            next,
            changed_at,
            ws,
            overdue,
            can_settings: w.m.role.can(Action::EditSettings),
            page,
        },
        t,
    ))
}

fn query_string(q: &ListQuery) -> String {
    let pairs = [
        ("view", &q.view),
        ("channel", &q.channel),
        ("kind", &q.kind),
        ("assignee", &q.assignee),
        ("sentiment", &q.sentiment),
        ("lang", &q.lang),
        ("tag", &q.tag),
        ("q", &q.q),
        ("after", &q.after),
    ];
    serde_urlencoded::to_string(
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

/// Members who may answer the inbox.
pub(crate) fn agents(members: &[Member]) -> impl Iterator<Item = &Member> {
    members.iter().filter(|m| m.role.can(Action::AnswerInbox))
}

/// `?since=` of the live-update stream: the change the page showed.
#[derive(Deserialize)]
pub struct Since {
    #[serde(default)]
    since: i64,
}

/// How often an open page asks whether anything changed: well within the
/// one second in which a new item must show.
const LIVE_POLL: Duration = Duration::from_millis(400);

/// `GET /w/{ws}/inbox/events`: server-sent events, one `changed` event
/// whenever a conversation of the workspace changes after `since`. It asks
/// the database, so it sees changes made by every process sharing it.
pub async fn events(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Since>,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let ws = w.m.workspace.id;
    let stream = futures_util::stream::unfold((s, q.since), move |(s, mut seen)| async move {
        loop {
            tokio::time::sleep(LIVE_POLL).await;
            match s.store.inbox_changed_at(ws).await {
                Ok(at) if at > seen => {
                    seen = at;
                    let ev = Event::default().event("changed").data(at.to_string());
                    return Some((Ok::<_, std::convert::Infallible>(ev), (s, seen)));
                }
                Ok(_) => {}
                // A busy or briefly unreachable database does not end the
                // stream: the next poll asks again.
                Err(e) => tracing::warn!(error = %e, "inbox live update failed"),
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// Where to go back to after a form on a conversation.
fn back(ws: i64, id: i64, done: &str) -> Response {
    see_other(&format!("/w/{ws}/inbox/{id}?done={done}"))
}

pub use super::inbox_thread::{
    assign, conversation, note, presence, reply, retry, set_status, snooze, tag,
};

/// Reads a date and a time in the workspace's zone.
pub(crate) fn local_time(date: &str, time: &str, tz: &str) -> Result<i64, AppError> {
    Ok(local_instant(date, time, tz)?)
}

/// Continues to the conversation after an action, or shows why not.
pub(crate) async fn after(
    s: &AppState,
    w: WsCtx,
    id: i64,
    result: Result<&str, AppError>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match result {
        Ok(done) => Ok(back(ws, id, done)),
        Err(e @ (AppError::Forbidden | AppError::NotFound | AppError::Internal(_))) => {
            Err(UiError(e, t))
        }
        Err(e) => {
            let msg = match &e {
                AppError::Invalid(fs) => fs
                    .iter()
                    .map(|f| field_message(t, f))
                    .collect::<Vec<_>>()
                    .join(" "),
                e => e.message(t),
            };
            super::inbox_thread::render(s, w, id, Some(msg), None).await
        }
    }
}

/// The forms' own fields.
#[derive(Deserialize)]
pub struct TextForm {
    #[serde(default)]
    pub(crate) text: String,
    #[serde(default)]
    pub(crate) key: String,
}
