//! The share-of-voice page of listening: the brand against its
//! competitors over 7, 30 or 90 days (a bar of shares, a table, the
//! counts per day) and the terms rising today.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use dialoog_domain::Action;
use serde::Deserialize;

use super::{Page, UiError, WsCtx, html, urlencode};
use crate::AppState;
use crate::voice::{self, PERIODS};

/// The bar's width in px.
const BAR_W: i64 = 600;

/// One query's part of the bar.
struct Part {
    name: String,
    role_key: String,
    total: i64,
    share: String,
    x: i64,
    w: i64,
    /// Its colour's class (`v0`…`v5`).
    class: String,
}

/// One day's row.
struct DayRow {
    label: String,
    counts: Vec<i64>,
}

/// One rising term.
struct Term {
    term: String,
    /// "in 5 mentions today, 0 in the week before".
    counts: String,
    href: String,
}

#[derive(Template)]
#[template(path = "listening_voice.html")]
struct VoiceView {
    page: Page,
    ws: i64,
    days: i64,
    /// Each period with its label.
    periods: Vec<(i64, String)>,
    parts: Vec<Part>,
    rows: Vec<DayRow>,
    terms: Vec<Term>,
    bar_w: i64,
}

/// `?days=…`.
#[derive(Deserialize)]
pub struct Period {
    #[serde(default)]
    days: Option<i64>,
}

/// `GET /w/{ws}/listening/voice`.
pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(p): Query<Period>,
) -> Result<Response, UiError> {
    w.require(Action::ViewListening)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let err = |e| UiError(e, t);
    let days = p.days.filter(|d| PERIODS.contains(d)).unwrap_or(30);
    let v = voice::share_of_voice(&s, &w.me.user, ws, days)
        .await
        .map_err(err)?;
    let all: i64 = v.series.iter().map(|x| x.total).sum();
    let mut x = 0;
    let parts = v
        .series
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let width = if all > 0 { q.total * BAR_W / all } else { 0 };
            let part = Part {
                name: q.name.clone(),
                role_key: format!("listening.role.{}", q.role),
                total: q.total,
                share: q
                    .share_percent
                    .map_or_else(|| "–".to_owned(), |p| format!("{p}%")),
                x,
                w: width,
                class: format!("v{}", i % 6),
            };
            x += width;
            part
        })
        .collect();
    let rows = v
        .days
        .iter()
        .enumerate()
        .rev()
        .map(|(i, day)| DayRow {
            label: jiff::Timestamp::from_millisecond(*day)
                .map(|t| t.strftime("%d-%m").to_string())
                .unwrap_or_default(),
            counts: v
                .series
                .iter()
                .map(|q| q.per_day.get(i).copied().unwrap_or(0))
                .collect(),
        })
        .collect();
    let terms = voice::rising_terms(&s, &w.me.user, ws)
        .await
        .map_err(err)?
        .into_iter()
        .map(|r| Term {
            href: format!("/w/{ws}/listening?q={}", urlencode(&r.term)),
            counts: t.fmt(
                "voice.rising_counts",
                &[
                    ("now", &r.now.to_string()),
                    ("before", &r.before.to_string()),
                ],
            ),
            term: r.term,
        })
        .collect();
    let view = VoiceView {
        page: w.page.at(&format!("/w/{ws}/listening")),
        ws,
        days,
        periods: PERIODS
            .iter()
            .map(|d| (*d, t.fmt("voice.days", &[("n", &d.to_string())])))
            .collect(),
        parts,
        rows,
        terms,
        bar_w: BAR_W,
    };
    Ok(html(&view, t))
}
