//! The calendar page: the plan by month (a grid of whole weeks, a list of
//! days on a phone), by week (days × hours) or as a list of what is coming;
//! moving a post with a form per post; the secret iCalendar feed link.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dialoog_domain::{Action, time};
use jiff::civil::Date;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::calendar::{self as cal, Day, Entry};
use crate::error::AppError;
use crate::i18n::Tr;

/// Which part of the plan, from the address.
#[derive(Deserialize, Default, Clone)]
pub struct CalQuery {
    view: Option<String>,
    month: Option<String>,
    week: Option<String>,
    from: Option<String>,
    done: Option<String>,
}

/// A view as parsed from [`CalQuery`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Month(i16, i8),
    Week(i16, i8),
    List(Date),
}

impl View {
    /// The view the address asks for; `None` when it names a date that
    /// does not exist.
    fn parse(q: &CalQuery, today: Date) -> Option<View> {
        let kind = q
            .view
            .as_deref()
            .unwrap_or(if q.week.is_some() { "week" } else { "month" });
        match kind {
            "week" => match q.week.as_deref() {
                Some(w) => {
                    let (y, n) = w.trim().split_once("-W")?;
                    let (y, n) = (y.parse().ok()?, n.parse().ok()?);
                    cal::week_days(y, n)?;
                    Some(View::Week(y, n))
                }
                None => {
                    let w = today.iso_week_date();
                    Some(View::Week(w.year(), w.week()))
                }
            },
            "list" => match q.from.as_deref() {
                Some(f) => f.trim().parse().ok().map(View::List),
                None => Some(View::List(today)),
            },
            "month" => match q.month.as_deref() {
                Some(m) => {
                    let (y, n) = m.trim().split_once('-')?;
                    let (y, n) = (y.parse().ok()?, n.parse().ok()?);
                    cal::month_grid(y, n)?;
                    Some(View::Month(y, n))
                }
                None => Some(View::Month(today.year(), today.month())),
            },
            _ => None,
        }
    }

    /// The query string of this view.
    fn query(self) -> String {
        match self {
            View::Month(y, m) => format!("month={y:04}-{m:02}"),
            View::Week(y, w) => format!("week={y:04}-W{w:02}"),
            View::List(d) => format!("view=list&from={d}"),
        }
    }
}

fn month_of(d: Date) -> View {
    View::Month(d.year(), d.month())
}

fn week_of(d: Date) -> View {
    let w = d.iso_week_date();
    View::Week(w.year(), w.week())
}

/// One channel of a post.
#[derive(Clone)]
struct ChanView {
    name: String,
    network: String,
    state: String,
    state_key: String,
}

/// One post on the calendar.
#[derive(Clone)]
struct EntryView {
    id: i64,
    time: String,
    date_value: String,
    words: String,
    state: String,
    chans: Vec<ChanView>,
    movable: bool,
    /// Why moving it was refused, just now.
    error: String,
    /// The move form's date and time (as typed when it was refused).
    form_date: String,
    form_time: String,
}

/// One hour of a day in the week view.
struct HourView {
    label: String,
    /// The hour alone (`09`), where a dragged post lands.
    hour: String,
    entries: Vec<EntryView>,
}

/// One day.
struct DayView {
    iso: String,
    label: String,
    other_month: bool,
    today: bool,
    entries: Vec<EntryView>,
    hours: Vec<HourView>,
    more: i64,
    more_text: String,
    more_href: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarView {
    page: Page,
    ws: i64,
    view: &'static str,
    title: String,
    errors: FieldErrs,
    notice: Option<String>,
    prev: String,
    next: String,
    today_href: String,
    month_href: String,
    week_href: String,
    list_href: String,
    weekdays: Vec<&'static str>,
    days: Vec<DayView>,
    later: String,
    back: String,
    timezone: String,
    zone_text: String,
    can_compose: bool,
    feed_since: Option<String>,
    new_feed_url: Option<String>,
}

/// A refusal to show next to one post.
struct Refusal {
    post: i64,
    message: String,
    typed: (String, String),
}

fn day_label(t: Tr, d: Date) -> String {
    let wd = d.weekday().to_monday_one_offset();
    format!(
        "{} {} {}",
        t.s(&format!("calendar.day.{wd}")),
        d.day(),
        t.s(&format!("calendar.mon.{}", d.month()))
    )
}

fn entry_view(e: Entry, refusal: Option<&Refusal>) -> EntryView {
    let state = overall_state(&e.targets);
    let movable = e.movable();
    let refused = refusal.filter(|r| r.post == e.post.id);
    let time = e.local.strftime("%H:%M").to_string();
    let date_value = e.local.date().to_string();
    EntryView {
        id: e.post.id,
        form_date: refused.map_or_else(|| date_value.clone(), |r| r.typed.0.clone()),
        form_time: refused.map_or_else(|| time.clone(), |r| r.typed.1.clone()),
        time,
        date_value,
        words: cal::first_words(&e.post.text, 8),
        state,
        chans: e
            .targets
            .into_iter()
            .map(|x| ChanView {
                name: x.channel_name,
                network: cal::network_name(&x.network).to_owned(),
                state_key: format!("posts.state.{}", x.state),
                state: x.state,
            })
            .collect(),
        movable,
        error: refused.map(|r| r.message.clone()).unwrap_or_default(),
    }
}

/// The state that colours a post: the most pressing of its channels'.
fn overall_state(targets: &[dialoog_store::Target]) -> String {
    const ORDER: [&str; 8] = [
        "failed",
        "unconfirmed",
        "publishing",
        "in_review",
        "approved",
        "scheduled",
        "draft",
        "published",
    ];
    ORDER
        .iter()
        .find(|s| targets.iter().any(|t| t.state == **s))
        .map_or_else(|| "draft".to_owned(), |s| (*s).to_owned())
}

struct Extra {
    errors: FieldErrs,
    notice: Option<String>,
    refusal: Option<Refusal>,
    new_feed_url: Option<String>,
    status: StatusCode,
}

async fn render(s: &AppState, w: WsCtx, q: &CalQuery, extra: Extra) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let err = |e: AppError| UiError(e, t);
    let today = time::local(crate::service::now_ms(), &tz).date();
    let mut errors = extra.errors;
    let view = View::parse(q, today).unwrap_or_else(|| {
        errors.form = Some(t.s("calendar.bad_date").to_owned());
        month_of(today)
    });
    let step = |d: Date, months: i32, days: i64| -> Date {
        let span = jiff::Span::new().months(months).days(days);
        d.checked_add(span).unwrap_or(d)
    };
    let (dates, anchor, title, prev, next, per_day) = match view {
        View::Month(y, m) => {
            let first = Date::new(y, m, 1).map_err(|e| err(AppError::internal(e)))?;
            (
                cal::month_grid(y, m).unwrap_or_default(),
                first,
                format!("{} {y}", t.s(&format!("calendar.month.{m}"))),
                month_of(step(first, -1, 0)),
                month_of(step(first, 1, 0)),
                cal::MONTH_PER_DAY,
            )
        }
        View::Week(y, n) => {
            let days = cal::week_days(y, n).unwrap_or_default();
            let monday = days.first().copied().unwrap_or(today);
            let sunday = days.last().copied().unwrap_or(today);
            (
                days,
                monday,
                t.fmt(
                    "calendar.week_title",
                    &[
                        ("week", &n.to_string()),
                        ("from", &day_label(t, monday)),
                        ("to", &format!("{} {y}", day_label(t, sunday))),
                    ],
                ),
                week_of(step(monday, 0, -7)),
                week_of(step(monday, 0, 7)),
                cal::WEEK_PER_DAY,
            )
        }
        View::List(from) => {
            let days = cal::dates(from, step(from, 0, 27));
            (
                days,
                from,
                t.fmt("calendar.list_title", &[("from", &day_label(t, from))]),
                View::List(step(from, 0, -28)),
                View::List(step(from, 0, 28)),
                cal::WEEK_PER_DAY,
            )
        }
    };
    let found = cal::days(s, &w.me.user, ws, &tz, &dates, per_day)
        .await
        .map_err(err)?;
    let refusal = extra.refusal.as_ref();
    let is_list = matches!(view, View::List(_));
    let days: Vec<DayView> = found
        .into_iter()
        .filter(|d| !is_list || !d.entries.is_empty())
        .map(|d: Day| {
            let entries: Vec<EntryView> = d
                .entries
                .into_iter()
                .map(|e| entry_view(e, refusal))
                .collect();
            let hours = if matches!(view, View::Week(..)) {
                by_hour(&entries)
            } else {
                vec![]
            };
            DayView {
                iso: d.date.to_string(),
                label: day_label(t, d.date),
                other_month: matches!(view, View::Month(_, m) if d.date.month() != m),
                today: d.date == today,
                more_href: match view {
                    View::Month(..) => format!("/w/{ws}/calendar?{}", week_of(d.date).query()),
                    _ => format!("/w/{ws}/calendar?{}", View::List(d.date).query()),
                },
                more: d.more,
                more_text: t.fmt("calendar.more", &[("count", &d.more.to_string())]),
                hours,
                entries,
            }
        })
        .collect();
    let feed_since = if w.m.role.can(Action::ComposePosts) {
        cal::feed_link(s, &w.me.user, ws)
            .await
            .map_err(err)?
            .map(|at| t.fmt("calendar.feed.since", &[("when", &w.page.when(&at, &tz))]))
    } else {
        None
    };
    let later = if is_list && days.is_empty() {
        String::new()
    } else {
        format!("/w/{ws}/calendar?{}", next.query())
    };
    let v = CalendarView {
        view: match view {
            View::Month(..) => "month",
            View::Week(..) => "week",
            View::List(_) => "list",
        },
        title,
        notice: extra.notice,
        prev: format!("/w/{ws}/calendar?{}", prev.query()),
        next: format!("/w/{ws}/calendar?{}", next.query()),
        today_href: format!(
            "/w/{ws}/calendar?{}",
            match view {
                View::Month(..) => month_of(today),
                View::Week(..) => week_of(today),
                View::List(_) => View::List(today),
            }
            .query()
        ),
        month_href: format!("/w/{ws}/calendar?{}", month_of(anchor).query()),
        week_href: format!("/w/{ws}/calendar?{}", week_of(anchor).query()),
        list_href: format!("/w/{ws}/calendar?{}", View::List(anchor.max(today)).query()),
        weekdays: (1..=7).map(|i| t.s(&format!("calendar.day.{i}"))).collect(),
        days,
        later,
        back: view.query(),
        zone_text: t.fmt("calendar.zone", &[("zone", &tz)]),
        timezone: tz,
        can_compose: w.m.role.can(Action::ComposePosts),
        feed_since,
        new_feed_url: extra.new_feed_url,
        page: w.page.at(&format!("/w/{ws}/posts")),
        errors,
        ws,
    };
    Ok((extra.status, html(&v, t)).into_response())
}

/// A day of the week view by hour (all 24; a phone hides the empty ones).
fn by_hour(entries: &[EntryView]) -> Vec<HourView> {
    (0..24)
        .map(|h| {
            let label = format!("{h:02}:00");
            let mine: Vec<EntryView> = entries
                .iter()
                .filter(|e| e.time.get(..2) == label.get(..2))
                .cloned()
                .collect();
            HourView {
                hour: format!("{h:02}"),
                label,
                entries: mine,
            }
        })
        .collect()
}

/// The calendar page.
pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<CalQuery>,
) -> Result<Response, UiError> {
    w.require(Action::ViewPosts)?;
    let notice = q
        .done
        .as_deref()
        .and_then(|d| w.me.ctx.t.get(&format!("notice.{d}")))
        .map(str::to_owned);
    let extra = Extra {
        errors: FieldErrs::default(),
        notice,
        refusal: None,
        new_feed_url: None,
        status: StatusCode::OK,
    };
    render(&s, w, &q, extra).await
}

/// The move form of one post.
#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    /// The view to return to (`month=2026-12`, …).
    #[serde(default)]
    back: String,
}

/// The view a form came from, when it names one plainly (letters,
/// digits, `=`, `&`, `-`); otherwise "".
fn safe_back(back: &str) -> &str {
    let safe = back.len() < 80
        && back
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=&-".contains(&b));
    if safe { back } else { "" }
}

/// The view a form came from, as a query.
fn back_query(back: &str) -> CalQuery {
    serde_urlencoded::from_str(safe_back(back)).unwrap_or_default()
}

/// Moving a post to another day and time (in the workspace's timezone),
/// through the same checks as the API.
pub async fn move_post(
    State(s): State<AppState>,
    w: WsCtx,
    Path((ws, post)): Path<(i64, i64)>,
    UiForm(f): UiForm<MoveForm>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let q = back_query(&f.back);
    let result = match time::local_instant(&f.date, &f.time, &w.m.workspace.timezone) {
        Ok(at) => crate::posts::reschedule(&s, &w.me.user, ws, post, at).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/w/{ws}/calendar?{}&done=post_moved#post-{post}",
            safe_back(&f.back)
        ))),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(e) => {
            let errs = FieldErrs::from_error(e, t)?;
            let message = errs
                .form
                .clone()
                .unwrap_or_else(|| errs.get("scheduled_at").to_owned());
            let mut errors = FieldErrs::default();
            errors.form = Some(t.s("calendar.not_moved").to_owned());
            let extra = Extra {
                errors,
                notice: None,
                refusal: Some(Refusal {
                    post,
                    message,
                    typed: (f.date, f.time),
                }),
                new_feed_url: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            render(&s, w, &q, extra).await
        }
    }
}

/// The form behind "make a new link" and "stop the link".
#[derive(Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    back: String,
}

/// Making a new feed link (the old one stops working): shown once.
pub async fn feed_create(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<FeedForm>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let url = cal::new_feed_link(&s, &w.me.user, w.m.workspace.id)
        .await
        .map_err(|e| UiError(e, t))?;
    let extra = Extra {
        errors: FieldErrs::default(),
        notice: Some(t.s("notice.calendar_feed_made").to_owned()),
        refusal: None,
        new_feed_url: Some(url),
        status: StatusCode::OK,
    };
    render(&s, w, &back_query(&f.back), extra).await
}

/// Stopping the feed link.
pub async fn feed_remove(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<FeedForm>,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let ws = w.m.workspace.id;
    cal::remove_feed_link(&s, &w.me.user, ws)
        .await
        .map_err(|e| UiError(e, w.me.ctx.t))?;
    Ok(see_other(&format!(
        "/w/{ws}/calendar?{}&done=calendar_feed_removed",
        safe_back(&f.back)
    )))
}

/// `GET /ical/{token}.ics`: the plan as iCalendar, without a session.
pub async fn feed(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let locale = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(
            dialoog_domain::Locale::Nl,
            dialoog_domain::Locale::negotiate,
        );
    match cal::feed(&s, &token, locale).await {
        Ok(body) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/calendar; charset=utf-8",
                ),
                (axum::http::header::CACHE_CONTROL, "private, max-age=300"),
            ],
            body,
        )
            .into_response(),
        Err(AppError::NotFound) => (StatusCode::NOT_FOUND, "not found\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "calendar feed failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}
