//! The queue page (each channel's weekly slots, one line of times per
//! day) and the recurring posts page (each series, its next
//! occurrences, a new text for the future ones, stopping it).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use dialoog_domain::schedule::Slot;

use super::channels::Done;
use super::forms::{FieldErrs, UiForm};
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::AppError;

/// One day of a channel's queue, as a line of times.
struct DayLine {
    day: u8,
    key: String,
    times: String,
}

/// One channel's queue as the page shows it.
struct QueueView {
    id: i64,
    name: String,
    days: Vec<DayLine>,
    error: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    ws: i64,
    can_edit: bool,
    timezone: String,
    queues: Vec<QueueView>,
}

fn day_lines(slots: &[Slot]) -> Vec<DayLine> {
    (1..=7u8)
        .map(|day| DayLine {
            day,
            key: format!("weekday.{day}"),
            times: slots
                .iter()
                .filter(|s| s.weekday == day)
                .map(Slot::time)
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

async fn render_queue(
    s: &AppState,
    w: WsCtx,
    notice: Option<String>,
    failed: Option<(i64, Vec<DayLine>, String)>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let queues = crate::schedule::queues(s, &w.me.user, ws)
        .await
        .map_err(|e| UiError(e, t))?;
    let mut status = axum::http::StatusCode::OK;
    let mut failed = failed;
    let queues = queues
        .into_iter()
        .map(|q| match failed.take_if(|f| f.0 == q.channel_id) {
            Some((_, days, error)) => {
                status = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                QueueView {
                    id: q.channel_id,
                    name: q.channel_name,
                    days,
                    error,
                }
            }
            None => QueueView {
                id: q.channel_id,
                name: q.channel_name,
                days: day_lines(&q.slots),
                error: String::new(),
            },
        })
        .collect();
    let v = QueuePage {
        can_edit: w.m.role.can(Action::ComposePosts),
        page: w.page.at(&format!("/w/{ws}/queue")),
        errors: FieldErrs::default(),
        notice,
        ws,
        timezone: w.m.workspace.timezone.clone(),
        queues,
    };
    Ok((status, html(&v, t)).into_response())
}

/// The queue page.
pub async fn queue_page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::ViewPosts)?;
    let notice = q.notice(w.me.ctx.t);
    render_queue(&s, w, notice, None).await
}

/// Saving one channel's queue: `day1` … `day7`, each a line of times
/// (`09:00 15:30`, separated by spaces, commas or semicolons).
pub async fn queue_save(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, channel)): Path<(i64, i64)>,
    UiForm(f): UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let mut slots = vec![];
    let mut bad = vec![];
    let mut lines = vec![];
    for day in 1..=7u8 {
        let raw = f
            .iter()
            .find(|(k, _)| *k == format!("day{day}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        for time in raw
            .split([' ', ',', ';', '\t'])
            .filter(|x| !x.trim().is_empty())
        {
            match Slot::parse(i64::from(day), time) {
                Ok(s) => slots.push(s),
                Err(e) => bad.push(e),
            }
        }
        lines.push(DayLine {
            day,
            key: format!("weekday.{day}"),
            times: raw,
        });
    }
    let result = if bad.is_empty() {
        crate::schedule::set_queue(&s, &w.me.user, ws, channel, &slots).await
    } else {
        bad.dedup();
        Err(AppError::Invalid(bad))
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/w/{ws}/queue?done=queue_saved"))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(AppError::Invalid(fields)) => {
            let msg = fields
                .iter()
                .map(|f| crate::error::field_message(t, f))
                .collect::<Vec<_>>()
                .join(" ");
            render_queue(&s, w, None, Some((channel, lines, msg))).await
        }
        Err(e) => Err(UiError(e, t)),
    }
}

/// One series as the page shows it.
struct SeriesView {
    id: i64,
    text: String,
    rule: String,
    stopped: bool,
    next: Vec<String>,
    error: String,
}

#[derive(Template)]
#[template(path = "series.html")]
struct SeriesPage {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    ws: i64,
    can_edit: bool,
    series: Vec<SeriesView>,
}

/// A series' rule in words ("Every Monday, Wednesday at 09:00").
fn describe(t: crate::i18n::Tr, x: &dialoog_store::Series) -> String {
    let time = format!("{:02}:{:02}", x.minute / 60, x.minute % 60);
    let mut out = if x.kind == "monthly" {
        t.fmt(
            "series.rule.monthly",
            &[
                ("day", &x.month_day.unwrap_or(1).to_string()),
                ("time", &time),
            ],
        )
    } else {
        let days: Vec<&str> = x
            .weekdays
            .split(',')
            .filter(|d| !d.is_empty())
            .map(|d| t.s(&format!("weekday.{d}")))
            .collect();
        t.fmt(
            "series.rule.weekly",
            &[("days", &days.join(", ")), ("time", &time)],
        )
    };
    if let Some(u) = &x.until_date {
        out.push_str(&t.fmt("series.rule.until", &[("date", u)]));
    }
    if let Some(n) = x.max_count {
        out.push_str(&t.fmt("series.rule.count", &[("count", &n.to_string())]));
    }
    out
}

async fn render_series(
    s: &AppState,
    w: WsCtx,
    notice: Option<String>,
    failed: Option<(i64, String, String)>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let err = |e: dialoog_store::StoreError| UiError(e.into(), t);
    let now = crate::service::now_ms();
    let mut views = vec![];
    let mut status = axum::http::StatusCode::OK;
    for x in s.store.series_list(ws).await.map_err(err)? {
        let next = s
            .store
            .series_posts(ws, x.id)
            .await
            .map_err(err)?
            .into_iter()
            .filter_map(|p| p.scheduled_at)
            .filter(|at| *at > now)
            .take(5)
            .map(|at| w.page.when(&at, &tz))
            .collect();
        let (text, error) = match &failed {
            Some((id, text, error)) if *id == x.id => {
                status = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                (text.clone(), error.clone())
            }
            _ => (x.text.clone(), String::new()),
        };
        views.push(SeriesView {
            id: x.id,
            rule: describe(t, &x),
            stopped: x.stopped_at.is_some(),
            text,
            next,
            error,
        });
    }
    let v = SeriesPage {
        can_edit: w.m.role.can(Action::ComposePosts),
        page: w.page.at(&format!("/w/{ws}/series")),
        errors: FieldErrs::default(),
        notice,
        ws,
        series: views,
    };
    Ok((status, html(&v, t)).into_response())
}

/// The recurring posts page.
pub async fn series_page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::ViewPosts)?;
    let notice = q.notice(w.me.ctx.t);
    render_series(&s, w, notice, None).await
}

/// A new text for a series and its future occurrences.
pub async fn series_text(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let text = f
        .iter()
        .find(|(k, _)| k == "text")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match crate::schedule::change_series_text(&s, &w.me.user, ws, id, &text).await {
        Ok(_) => Ok(see_other(&format!("/w/{ws}/series?done=series_changed"))),
        Err(AppError::Invalid(fields)) => {
            let msg = fields
                .iter()
                .map(|f| crate::error::field_message(t, f))
                .collect::<Vec<_>>()
                .join(" ");
            render_series(&s, w, None, Some((id, text, msg))).await
        }
        Err(e) => Err(UiError(e, t)),
    }
}

/// Stopping a series.
pub async fn series_stop(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(_f): UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let ws = w.m.workspace.id;
    crate::schedule::stop_series(&s, &w.me.user, ws, id)
        .await
        .map_err(|e| UiError(e, w.me.ctx.t))?;
    Ok(see_other(&format!("/w/{ws}/series?done=series_stopped")))
}
