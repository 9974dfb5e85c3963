//! Service levels in the interface: the opening hours and targets form
//! (owners and managers) and the figures per agent and per channel.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use dialoog_domain::Action;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::service_levels::{self, Figure, Levels};

/// One weekday's row of the form.
struct Day {
    n: usize,
    name_key: String,
    open: String,
    close: String,
}

#[derive(Template)]
#[template(path = "inbox_settings.html")]
struct SettingsView {
    page: Page,
    ws: i64,
    notice: Option<String>,
    errors: FieldErrs,
    days: Vec<Day>,
    response: String,
    resolution: String,
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn days_of(l: &Levels) -> Vec<Day> {
    l.hours
        .0
        .iter()
        .enumerate()
        .map(|(i, d)| Day {
            n: i + 1,
            name_key: format!("weekday.{}", i + 1),
            open: d.map_or(String::new(), |(o, _)| hhmm(o)),
            close: d.map_or(String::new(), |(_, c)| hhmm(c)),
        })
        .collect()
}

/// `?done=…`.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /w/{ws}/inbox/settings`.
pub async fn settings(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::EditSettings)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let l = service_levels::load(&s, ws)
        .await
        .map_err(|e| UiError(e, t))?;
    let notice = (!q.done.is_empty())
        .then(|| t.get(&format!("notice.{}", q.done)).map(str::to_owned))
        .flatten();
    Ok(html(
        &SettingsView {
            page: w.page.at(&format!("/w/{ws}/inbox")),
            ws,
            notice,
            errors: FieldErrs::default(),
            days: days_of(&l),
            response: l.response_minutes.to_string(),
            resolution: (l.resolution_minutes as f64 / 60.0).to_string(),
        },
        t,
    ))
}

/// The form: `open1`…`open7`, `close1`…`close7`, the answer target in
/// minutes and the resolution target in hours.
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    open1: String,
    #[serde(default)]
    close1: String,
    #[serde(default)]
    open2: String,
    #[serde(default)]
    close2: String,
    #[serde(default)]
    open3: String,
    #[serde(default)]
    close3: String,
    #[serde(default)]
    open4: String,
    #[serde(default)]
    close4: String,
    #[serde(default)]
    open5: String,
    #[serde(default)]
    close5: String,
    #[serde(default)]
    open6: String,
    #[serde(default)]
    close6: String,
    #[serde(default)]
    open7: String,
    #[serde(default)]
    close7: String,
    #[serde(default)]
    response: String,
    #[serde(default)]
    resolution: String,
}

/// `POST /w/{ws}/inbox/settings`: saved, or the form again with reasons.
pub async fn save_settings(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<SettingsForm>,
) -> Result<Response, UiError> {
    w.require(Action::EditSettings)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let days = [
        (f.open1.as_str(), f.close1.as_str()),
        (f.open2.as_str(), f.close2.as_str()),
        (f.open3.as_str(), f.close3.as_str()),
        (f.open4.as_str(), f.close4.as_str()),
        (f.open5.as_str(), f.close5.as_str()),
        (f.open6.as_str(), f.close6.as_str()),
        (f.open7.as_str(), f.close7.as_str()),
    ];
    // Unreadable numbers are out of range (the check names the field).
    let response = f.response.trim().parse::<i64>().unwrap_or(0);
    let resolution = f
        .resolution
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h > 0.0 && *h <= 1.0e6)
        .map_or(0, |h| (h * 60.0).round() as i64);
    match service_levels::set(&s, &w.me.user, ws, &days, response, resolution).await {
        Ok(_) => Ok(see_other(&format!(
            "/w/{ws}/inbox/settings?done=service_levels_saved"
        ))),
        Err(e @ AppError::Invalid(_)) => {
            let errors = FieldErrs::from_error(e, t)?;
            let typed = |o: &str, c: &str| (o.trim().to_owned(), c.trim().to_owned());
            let view = SettingsView {
                page: w.page.at(&format!("/w/{ws}/inbox")),
                ws,
                notice: None,
                errors,
                days: days
                    .iter()
                    .enumerate()
                    .map(|(i, (o, c))| {
                        let (open, close) = typed(o, c);
                        Day {
                            n: i + 1,
                            name_key: format!("weekday.{}", i + 1),
                            open,
                            close,
                        }
                    })
                    .collect(),
                response: f.response.trim().to_owned(),
                resolution: f.resolution.trim().to_owned(),
            };
            let mut r = html(&view, t);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(UiError(e, t)),
    }
}

#[derive(Template)]
#[template(path = "inbox_figures.html")]
struct FiguresView {
    page: Page,
    ws: i64,
    days: i64,
    all: Figure,
    agents: Vec<Figure>,
    channels: Vec<Figure>,
    intro: String,
}

/// `?days=`.
#[derive(Deserialize)]
pub struct Period {
    #[serde(default)]
    days: Option<i64>,
}

/// `GET /w/{ws}/inbox/figures`.
pub async fn figures(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Period>,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let days = q.days.unwrap_or(30).clamp(1, 366);
    let f = service_levels::figures(&s, &w.me.user, ws, days)
        .await
        .map_err(|e| UiError(e, t))?;
    Ok(html(
        &FiguresView {
            page: w.page.at(&format!("/w/{ws}/inbox")),
            ws,
            days,
            intro: t.fmt(
                "figures.intro",
                &[
                    ("days", &days.to_string()),
                    (
                        "response",
                        &super::inbox::span(t, f.levels.response_minutes * 60_000),
                    ),
                    (
                        "resolution",
                        &super::inbox::span(t, f.levels.resolution_minutes * 60_000),
                    ),
                ],
            ),
            all: f.all,
            agents: f.agents,
            channels: f.channels,
        },
        t,
    ))
}
