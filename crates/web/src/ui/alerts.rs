//! The alerts page of listening: the alerts with their reason and a link
//! to the mentions behind each, the rules (add, remove) and the webhook
//! (set with a new secret shown once, remove, the last deliveries).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dialoog_domain::Action;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::listening::{Done, notice};
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::alerts::{self as a, KINDS, RuleInput, WINDOWS};
use crate::error::AppError;

/// An alert as shown.
struct AlertRow {
    id: i64,
    headline: String,
    reason: String,
    when: String,
    mentions: String,
}

/// A rule as shown.
struct RuleRow {
    id: i64,
    summary: String,
}

/// A webhook delivery as shown.
struct DeliveryRow {
    when: String,
    status: &'static str,
    error: String,
}

#[derive(Template)]
#[template(path = "listening_alerts.html")]
struct AlertsView {
    page: Page,
    ws: i64,
    alerts: Vec<AlertRow>,
    rules: Vec<RuleRow>,
    queries: Vec<(i64, String)>,
    kinds: [&'static str; 3],
    windows: [i64; 4],
    input: RuleForm,
    errors: FieldErrs,
    hook_url: String,
    hook_errors: FieldErrs,
    deliveries: Vec<DeliveryRow>,
    /// The new secret, shown once after setting the webhook.
    secret: String,
    notice: Option<String>,
    can_manage: bool,
}

/// The rule form, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct RuleForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    factor: String,
    #[serde(default)]
    min_count: String,
    #[serde(default)]
    share_percent: String,
    #[serde(default)]
    words: String,
    #[serde(default)]
    window_minutes: String,
}

/// The webhook form.
#[derive(Deserialize, Default, Clone)]
pub struct HookForm {
    #[serde(default)]
    url: String,
}

/// What the page shows besides the stored state: a form's errors, or the
/// secret just made.
#[derive(Default)]
struct Extra {
    input: RuleForm,
    errors: FieldErrs,
    hook_url: Option<String>,
    hook_errors: FieldErrs,
    secret: String,
    notice: Option<String>,
}

fn rule_summary(
    t: crate::i18n::Tr,
    r: &dialoog_store::AlertRule,
    queries: &[(i64, String)],
) -> String {
    let on = r
        .query_id
        .and_then(|q| queries.iter().find(|x| x.0 == q))
        .map_or_else(|| t.s("alerts.all_mentions").to_owned(), |x| x.1.clone());
    let words: Vec<&str> = r.word_list().collect();
    let share = format!("{:.0}", r.share * 100.0);
    t.fmt(
        &format!("alerts.rule.{}", r.kind),
        &[
            ("subject", &on),
            ("factor", &format!("{}", r.factor)),
            ("min", &r.min_count.to_string()),
            ("share", &share),
            ("words", &words.join(", ")),
            ("minutes", &r.window_minutes.to_string()),
        ],
    )
}

async fn alerts_page(s: &AppState, w: WsCtx, extra: Extra) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let err = |e| UiError(e, t);
    let can_manage = w.m.role.can(Action::ManageListening);
    let queries: Vec<(i64, String)> = crate::listening::queries(s, &w.me.user, ws)
        .await
        .map_err(err)?
        .into_iter()
        .map(|q| (q.id, q.name))
        .collect();
    let page = w.page.at(&format!("/w/{ws}/listening"));
    let alerts = a::alerts(s, &w.me.user, ws)
        .await
        .map_err(err)?
        .iter()
        .map(|x| AlertRow {
            id: x.id,
            headline: a::headline(t, x),
            reason: a::reason(t, x),
            when: page.when(&x.fired_at, &tz),
            mentions: a::mentions_path(x),
        })
        .collect();
    let rules = a::rules(s, &w.me.user, ws)
        .await
        .map_err(err)?
        .iter()
        .map(|r| RuleRow {
            id: r.id,
            summary: rule_summary(t, r, &queries),
        })
        .collect();
    let (hook, deliveries) = if can_manage {
        a::webhook(s, &w.me.user, ws).await.map_err(err)?
    } else {
        (None, vec![])
    };
    let deliveries = deliveries
        .into_iter()
        .map(|d| DeliveryRow {
            when: page.when(&d.created_at, &tz),
            status: match d.status.as_str() {
                "sent" => "alerts.delivery.sent",
                "failed" => "alerts.delivery.failed",
                _ => "alerts.delivery.pending",
            },
            error: d.last_error,
        })
        .collect();
    let view = AlertsView {
        page,
        ws,
        alerts,
        rules,
        queries,
        kinds: KINDS,
        windows: WINDOWS,
        input: extra.input,
        errors: extra.errors,
        hook_url: extra
            .hook_url
            .unwrap_or_else(|| hook.map(|h| h.0).unwrap_or_default()),
        hook_errors: extra.hook_errors,
        deliveries,
        secret: extra.secret,
        notice: extra.notice,
        can_manage,
    };
    Ok(html(&view, t))
}

/// `GET /w/{ws}/listening/alerts`.
pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Query(d): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::ViewListening)?;
    let notice = notice(&w, &d.done);
    alerts_page(
        &s,
        w,
        Extra {
            notice,
            ..Extra::default()
        },
    )
    .await
}

/// A number as typed: empty is "not given", anything else must read.
fn number<T: std::str::FromStr>(field: &'static str, s: &str) -> Result<Option<T>, AppError> {
    let s = s.trim().replace(',', ".");
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| {
        AppError::Invalid(vec![dialoog_domain::FieldError::new(
            field,
            "number_invalid",
        )])
    })
}

fn rule_input(f: &RuleForm) -> Result<RuleInput, AppError> {
    Ok(RuleInput {
        kind: f.kind.clone(),
        query_id: number("query", &f.query)?,
        factor: number("factor", &f.factor)?,
        min_count: number("min_count", &f.min_count)?,
        share_percent: number("share_percent", &f.share_percent)?,
        words: f.words.clone(),
        window_minutes: number("window_minutes", &f.window_minutes)?,
    })
}

/// `POST /w/{ws}/listening/alerts/rules`.
pub async fn create_rule(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<RuleForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let r = match rule_input(&f) {
        Ok(input) => a::create_rule(&s, &w.me.user, ws, &input).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(see_other(&format!(
            "/w/{ws}/listening/alerts?done=alert_rule_saved"
        ))),
        Err(e @ AppError::Invalid(_)) => {
            let errors = FieldErrs::from_error(e, t)?;
            let extra = Extra {
                input: f,
                errors,
                ..Extra::default()
            };
            alerts_page(&s, w, extra).await
        }
        Err(e) => Err(UiError(e, t)),
    }
}

/// `POST /w/{ws}/listening/alerts/rules/{id}/delete`.
pub async fn delete_rule(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(_): UiForm<super::approval::Empty>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let ws = w.m.workspace.id;
    a::delete_rule(&s, &w.me.user, ws, id)
        .await
        .map_err(|e| UiError(e, w.me.ctx.t))?;
    Ok(see_other(&format!(
        "/w/{ws}/listening/alerts?done=alert_rule_removed"
    )))
}

/// `POST /w/{ws}/listening/alerts/webhook`: the page again, with the
/// new secret shown once.
pub async fn set_webhook(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<HookForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let t = w.me.ctx.t;
    let extra = match a::set_webhook(&s, &w.me.user, w.m.workspace.id, &f.url).await {
        Ok(secret) => Extra {
            secret,
            notice: Some(t.s("notice.webhook_saved").to_owned()),
            ..Extra::default()
        },
        Err(e @ AppError::Invalid(_)) => Extra {
            hook_errors: FieldErrs::from_error(e, t)?,
            hook_url: Some(f.url),
            ..Extra::default()
        },
        Err(e) => return Err(UiError(e, t)),
    };
    alerts_page(&s, w, extra).await
}

/// `POST /w/{ws}/listening/alerts/webhook/delete`.
pub async fn delete_webhook(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(_): UiForm<super::approval::Empty>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let ws = w.m.workspace.id;
    a::delete_webhook(&s, &w.me.user, ws)
        .await
        .map_err(|e| UiError(e, w.me.ctx.t))?;
    Ok(see_other(&format!(
        "/w/{ws}/listening/alerts?done=webhook_removed"
    )))
}
