//! Listening alerts as the team sees them: the rules (a spike in volume or
//! in the share of negative mentions, watched words), the alerts with the
//! reason in the reader's language and a link to the mentions behind
//! them, and the workspace's signed webhook.
//!
//! Decisions taken here:
//! - A workspace's first query brings two rules with it (volume three
//!   times the usual, at least 10 mentions an hour; at least 40% negative,
//!   at least 5 negative mentions an hour), so alerts work without set-up;
//!   they can be removed.
//! - The baseline is the same window (by default the last hour) on each of
//!   the last seven days: explainable in one sentence, and blind to the
//!   daily rhythm.
//! - Owners, managers and editors are told in the app and by e-mail;
//!   agents and clients read alerts on the page but are not notified.
//! - The webhook's secret is made by Dialoog and shown once, when it is
//!   set; it is kept sealed with the instance key.

use dialoog_domain::{Action, FieldError, Locale};
use dialoog_engine::alerts::{BodyFn, word_query};
use dialoog_store::{Alert, AlertRule, Delivery, NewAlertRule, User};
use serde_json::json;
use std::sync::Arc;

use crate::AppState;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::service::{Result, access, audit, now_ms};

/// The kinds of rule.
pub const KINDS: [&str; 3] = ["volume", "negative", "words"];
/// The windows a rule can count over, in minutes.
pub const WINDOWS: [i64; 4] = [15, 60, 180, 1440];
/// How many alerts the page and the API show.
pub const SHOWN: i64 = 50;

/// What a rule form or body holds (numbers as typed).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RuleInput {
    /// `volume`, `negative` or `words`.
    #[serde(default)]
    pub kind: String,
    /// The query it watches; empty or absent: every mention.
    #[serde(default)]
    pub query_id: Option<i64>,
    /// `volume`: how many times the usual fires (1.5 to 100; default 3).
    #[serde(default)]
    pub factor: Option<f64>,
    /// The fewest mentions (negative ones for `negative`) that fire.
    #[serde(default)]
    pub min_count: Option<i64>,
    /// `negative`: the share that fires, in percent (5 to 100; default 40).
    #[serde(default)]
    pub share_percent: Option<f64>,
    /// `words`: the watched words, one per line or comma-separated.
    #[serde(default)]
    pub words: String,
    /// The window in minutes: 15, 60, 180 or 1440 (default 60).
    #[serde(default)]
    pub window_minutes: Option<i64>,
}

fn check(input: &RuleInput) -> Result<NewAlertRule> {
    let mut errors = vec![];
    let kind = input.kind.trim();
    if !KINDS.contains(&kind) {
        errors.push(FieldError::new("kind", "alert_kind_invalid"));
    }
    let factor = input.factor.unwrap_or(3.0);
    if !(1.5..=100.0).contains(&factor) {
        errors.push(FieldError::new("factor", "alert_factor_invalid"));
    }
    let default_min = match kind {
        "volume" => 10,
        "negative" => 5,
        _ => 1,
    };
    let min_count = input.min_count.unwrap_or(default_min);
    if !(1..=1_000_000).contains(&min_count) {
        errors.push(FieldError::new("min_count", "alert_min_count_invalid"));
    }
    let share = input.share_percent.unwrap_or(40.0);
    if !(5.0..=100.0).contains(&share) {
        errors.push(FieldError::new("share_percent", "alert_share_invalid"));
    }
    let window = input.window_minutes.unwrap_or(60);
    if !WINDOWS.contains(&window) {
        errors.push(FieldError::new("window_minutes", "alert_window_invalid"));
    }
    let words: Vec<String> = input
        .words
        .split(['\n', ','])
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    if kind == "words" {
        if words.is_empty() {
            errors.push(FieldError::new("words", "alert_words_missing"));
        } else if words.len() > 50 || words.iter().any(|w| w.chars().count() > 100) {
            errors.push(FieldError::new("words", "alert_words_too_many"));
        } else if let Some(w) = words.iter().find(|w| word_query(w).is_none()) {
            errors.push(FieldError::new("words", "alert_word_invalid").with("word", w.clone()));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(NewAlertRule {
        kind: kind.to_owned(),
        query_id: input.query_id,
        factor,
        min_count,
        share: share / 100.0,
        words: if kind == "words" {
            words.join("\n")
        } else {
            String::new()
        },
        window_minutes: window,
    })
}

/// The workspace's rules.
pub async fn rules(state: &AppState, user: &User, ws: i64) -> Result<Vec<AlertRule>> {
    access(state, user, ws, Action::ViewListening).await?;
    Ok(state.store.alert_rules(ws).await?)
}

/// Adds a rule.
pub async fn create_rule(
    state: &AppState,
    user: &User,
    ws: i64,
    input: &RuleInput,
) -> Result<AlertRule> {
    access(state, user, ws, Action::ManageListening).await?;
    let rule = check(input)?;
    let r = state
        .store
        .create_alert_rule(ws, &rule, now_ms())
        .await
        .map_err(|e| match e {
            dialoog_store::StoreError::NotFound => {
                AppError::Invalid(vec![FieldError::new("query_id", "alert_query_unknown")])
            }
            e => e.into(),
        })?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.alert_rule_created",
        json!({"rule": r.id, "kind": r.kind}),
    )
    .await;
    Ok(r)
}

/// The two rules a workspace's first query brings (see the module's
/// decisions); nothing when it has rules already.
pub async fn add_default_rules(state: &AppState, ws: i64) -> Result<()> {
    if !state.store.alert_rules(ws).await?.is_empty() {
        return Ok(());
    }
    for kind in ["volume", "negative"] {
        let rule = check(&RuleInput {
            kind: kind.into(),
            ..RuleInput::default()
        })?;
        state.store.create_alert_rule(ws, &rule, now_ms()).await?;
    }
    Ok(())
}

/// Removes a rule (its alerts stay).
pub async fn delete_rule(state: &AppState, user: &User, ws: i64, id: i64) -> Result<()> {
    access(state, user, ws, Action::ManageListening).await?;
    state.store.delete_alert_rule(ws, id).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.alert_rule_removed",
        json!({"rule": id}),
    )
    .await;
    Ok(())
}

/// The workspace's newest alerts.
pub async fn alerts(state: &AppState, user: &User, ws: i64) -> Result<Vec<Alert>> {
    access(state, user, ws, Action::ViewListening).await?;
    Ok(state.store.alerts(ws, SHOWN).await?)
}

/// The webhook's address and when it was set, and its newest deliveries.
pub async fn webhook(
    state: &AppState,
    user: &User,
    ws: i64,
) -> Result<(Option<(String, i64)>, Vec<Delivery>)> {
    access(state, user, ws, Action::ManageListening).await?;
    let hook = state
        .store
        .alert_webhook(ws)
        .await?
        .map(|(url, _, at)| (url, at));
    Ok((hook, state.store.deliveries(ws, 10).await?))
}

/// Sets the webhook's address with a new secret, which is returned (and
/// shown this once).
pub async fn set_webhook(state: &AppState, user: &User, ws: i64, url: &str) -> Result<String> {
    access(state, user, ws, Action::ManageListening).await?;
    let url = url.trim();
    if !dialoog_networks::webhook::usable_url(url) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "url",
            "webhook_url_invalid",
        )]));
    }
    let secret = format!("whsec_{}", crate::security::random_token());
    let sealed = state
        .cipher
        .seal(secret.as_bytes())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    state
        .store
        .set_alert_webhook(ws, url, &sealed, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.webhook_set",
        json!({"url": url}),
    )
    .await;
    Ok(secret)
}

/// Removes the webhook.
pub async fn delete_webhook(state: &AppState, user: &User, ws: i64) -> Result<()> {
    access(state, user, ws, Action::ManageListening).await?;
    state.store.delete_alert_webhook(ws, now_ms()).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.webhook_removed",
        json!({}),
    )
    .await;
    Ok(())
}

fn decimal(t: Tr, x: f64) -> String {
    let s = format!("{x:.1}");
    if t.0 == Locale::Nl {
        s.replace('.', ",")
    } else {
        s
    }
}

fn window_words(t: Tr, a: &Alert) -> String {
    let minutes = (a.window_end - a.window_start) / 60_000;
    match minutes {
        1440 => t.s("alerts.window.day").to_owned(),
        m if m % 60 == 0 && m > 60 => t.fmt("alerts.window.hours", &[("n", &(m / 60).to_string())]),
        60 => t.s("alerts.window.hour").to_owned(),
        m => t.fmt("alerts.window.minutes", &[("n", &m.to_string())]),
    }
}

/// What the alert is about: the query's name, or "all mentions".
fn subject(t: Tr, a: &Alert) -> String {
    if a.subject.is_empty() {
        t.s("alerts.all_mentions").to_owned()
    } else {
        a.subject.clone()
    }
}

/// The alert in one line: "Spike in mentions of Bakkerij Jansen".
pub fn headline(t: Tr, a: &Alert) -> String {
    let key = format!("alerts.headline.{}", a.kind);
    t.fmt(&key, &[("subject", &subject(t, a)), ("word", &a.word)])
}

/// Why it fired, with the numbers: "42 mentions in the last hour, against
/// 5.1 on average in the same hour over the last 7 days."
pub fn reason(t: Tr, a: &Alert) -> String {
    let n = |x: i64| t.0.format_int(x);
    let window = window_words(t, a);
    match a.kind.as_str() {
        "volume" => t.fmt(
            "alerts.reason.volume",
            &[
                ("count", &n(a.observed)),
                ("window", &window),
                ("baseline", &decimal(t, a.baseline)),
            ],
        ),
        "negative" => {
            let share = if a.total == 0 {
                0
            } else {
                (a.observed * 100 + a.total / 2) / a.total
            };
            t.fmt(
                "alerts.reason.negative",
                &[
                    ("negative", &n(a.observed)),
                    ("count", &n(a.total)),
                    ("share", &share.to_string()),
                    ("window", &window),
                    ("baseline", &format!("{:.0}", a.baseline * 100.0)),
                ],
            )
        }
        _ => t.fmt(
            "alerts.reason.words",
            &[("word", &a.word), ("count", &n(a.observed))],
        ),
    }
}

/// The alert on the alerts page.
pub fn alert_path(a: &Alert) -> String {
    format!("/w/{}/listening/alerts#alert-{}", a.workspace_id, a.id)
}

/// The e-mail for an alert to `name`: subject and body, in `t`'s language.
pub fn mail(t: Tr, a: &Alert, name: &str, public_url: &str) -> (String, String) {
    let subject = headline(t, a);
    let body = t.fmt(
        "mail.alert.body",
        &[
            ("name", name),
            ("what", &subject),
            ("reason", &reason(t, a)),
            ("url", &format!("{public_url}{}", mentions_path(a))),
            ("alerts", &format!("{public_url}{}", alert_path(a))),
        ],
    );
    (subject, body)
}

/// The mentions page showing what lies behind the alert.
pub fn mentions_path(a: &Alert) -> String {
    let mut path = format!(
        "/w/{}/listening?since={}&until={}",
        a.workspace_id, a.window_start, a.window_end
    );
    if let Some(q) = a.query_id {
        path.push_str(&format!("&query={q}"));
    }
    match a.kind.as_str() {
        "negative" => path.push_str("&sentiment=negative"),
        "words" => {
            path.push_str(&format!("&q={}", crate::ui::urlencode(&a.word)));
        }
        _ => {}
    }
    path
}

/// The webhook's JSON for an alert: the numbers, the reason in Dutch and
/// English, and the address of the mentions behind it.
pub fn webhook_body(state: &AppState) -> BodyFn {
    let public = state.config.public_url.clone();
    Arc::new(move |a: &Alert| {
        let (nl, en) = (Tr(Locale::Nl), Tr(Locale::En));
        json!({
            "type": "listening.alert",
            "alert": {
                "id": a.id,
                "workspace_id": a.workspace_id,
                "kind": a.kind,
                "query_id": a.query_id,
                "subject": a.subject,
                "word": a.word,
                "observed": a.observed,
                "total": a.total,
                "baseline": a.baseline,
                "window_start": a.window_start,
                "window_end": a.window_end,
                "fired_at": a.fired_at,
                "headline": {"nl": headline(nl, a), "en": headline(en, a)},
                "reason": {"nl": reason(nl, a), "en": reason(en, a)},
                "mentions_url": format!("{public}{}", mentions_path(a)),
            }
        })
        .to_string()
    })
}
