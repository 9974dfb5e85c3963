//! The listening sources in the interface: each with its health and
//! throughput, "fetch now", pause and remove; and a notice when listening
//! is held up because the disk is full or the database fails.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dialoog_domain::Action;
use dialoog_networks::listen::SourceInput;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::listening::{Done, notice};
use super::reasons::{self, Class};
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::listening;

/// A source as shown.
struct SourceRow {
    id: i64,
    name: String,
    kind_key: String,
    status: String,
    status_key: String,
    /// What its reason means and what happens next, in the user's
    /// language (empty when all is well).
    lead: String,
    /// The network's own words after it (empty when the sentence says it
    /// all).
    reason: String,
    last_ok: String,
    fetched: i64,
    stored: i64,
    paused: bool,
    streamed: bool,
    /// What a running stream is doing, as a translation key (empty when
    /// polled).
    live_key: String,
    /// Posts heard in the last minute ("–" when polled or not running).
    per_minute: String,
}

#[derive(Template)]
#[template(path = "listening_sources.html")]
struct SourcesView {
    page: Page,
    ws: i64,
    sources: Vec<SourceRow>,
    kinds: Vec<(&'static str, String)>,
    /// The workspace's channels, for a `channel` source.
    channels: Vec<(i64, String)>,
    form: SourceForm,
    errors: FieldErrs,
    notice: Option<String>,
    /// Why listening is on hold, and since when (nothing when it is not).
    on_hold: Option<String>,
    can_manage: bool,
}

/// The source form.
#[derive(Deserialize, Default, Clone)]
pub struct SourceForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    local: String,
    #[serde(default)]
    collections: String,
    #[serde(default)]
    stream: String,
    #[serde(default)]
    channel: String,
}

async fn sources_page(
    s: &AppState,
    w: WsCtx,
    form: SourceForm,
    errors: FieldErrs,
    notice: Option<String>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let found = listening::sources(s, &w.me.user, ws)
        .await
        .map_err(|e| UiError(e, t))?;
    let page = w.page.at(&format!("/w/{ws}/listening"));
    let now = crate::service::now_ms();
    let sources = found
        .into_iter()
        .map(|x| {
            let live = listening::is_live(&x, now);
            let live_key = match (x.streamed, live) {
                (false, _) => String::new(),
                (true, true) => format!("listening.live.{}", x.live_status),
                (true, false) if x.status == "paused" => String::new(),
                (true, false) => "listening.live.stopped".to_owned(),
            };
            let per_minute = if live {
                x.per_minute.to_string()
            } else {
                "–".to_owned()
            };
            let live_status = live.then_some(x.live_status.as_str());
            let (lead, reason) = explain(&x.status, live_status, &x.reason);
            let lead = lead.map(|k| t.s(k).to_owned()).unwrap_or_default();
            let reason = reason.to_owned();
            (x, live_key, per_minute, lead, reason)
        })
        .map(|(x, live_key, per_minute, lead, reason)| SourceRow {
            lead,
            reason,
            streamed: x.streamed,
            live_key,
            per_minute,
            id: x.id,
            name: x.name,
            kind_key: format!("listening.kind.{}", x.kind),
            status_key: format!("listening.status.{}", x.status),
            paused: x.status == "paused",
            status: x.status,
            last_ok: x
                .last_ok_at
                .map(|at| page.when(&at, &tz))
                .unwrap_or_default(),
            fetched: x.fetched_total,
            stored: x.stored_total,
        })
        .collect();
    let mut kinds: Vec<(&'static str, String)> = dialoog_engine::listen_sources::SOURCE_KINDS
        .iter()
        .map(|k| {
            (
                k.as_str(),
                t.s(&format!("listening.kind.{}", k.as_str())).to_owned(),
            )
        })
        .collect();
    let channels: Vec<(i64, String)> = s
        .store
        .channels(ws)
        .await
        .map_err(|e| UiError(e.into(), t))?
        .into_iter()
        .map(|c| (c.id, format!("{} · {}", c.name, c.network)))
        .collect();
    if !channels.is_empty() {
        let k = dialoog_engine::listen_sources::CHANNEL;
        kinds.push((k, t.s("listening.kind.channel").to_owned()));
    }
    let on_hold = s.listening_held().map(|h| {
        let key = if h.full {
            "listening.on_hold.full"
        } else {
            "listening.on_hold.database"
        };
        t.fmt(key, &[("since", &page.when(&h.since, &tz))])
    });
    let view = SourcesView {
        on_hold,
        channels,
        can_manage: w.m.role.can(Action::ManageListening),
        page,
        ws,
        sources,
        kinds,
        form,
        errors,
        notice,
    };
    Ok(html(&view, t))
}

/// What a source's stored reason means for the user, as a translation
/// key, and the network's words to show after it: by what the source is
/// doing (`live`: a running stream's live status) and the reason's class,
/// not by its words. A stream that is not running and not failing shows
/// no reason: the one stored is from when it last ran.
fn explain<'a>(
    status: &str,
    live: Option<&str>,
    reason: &'a str,
) -> (Option<&'static str>, &'a str) {
    let words = reasons::detail(reason);
    if reason.is_empty() {
        return (None, "");
    }
    if words == dialoog_engine::listen_sources::CHANNEL_GONE {
        return (Some("listening.reason.channel_gone"), "");
    }
    match live {
        // The live status says it in full.
        Some("slowed") => (None, ""),
        // The live status says it; the server's words say why.
        Some("polling") => (None, words),
        Some("reconnecting") => (Some("listening.reason.reconnecting"), words),
        Some("connected" | "starting") => (None, ""),
        _ if status != "failing" => (None, ""),
        _ => {
            let key = match reasons::class(reason) {
                Class::Temporary | Class::Unknown => "listening.reason.temporary",
                Class::Access => "listening.reason.access",
                Class::Refused => "listening.reason.refused",
            };
            (Some(key), words)
        }
    }
}

/// `GET /w/{ws}/listening/sources`.
pub async fn sources(
    State(s): State<AppState>,
    w: WsCtx,
    Query(d): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::ViewListening)?;
    let n = notice(&w, &d.done);
    sources_page(&s, w, SourceForm::default(), FieldErrs::default(), n).await
}

async fn after_source(
    s: &AppState,
    w: WsCtx,
    form: SourceForm,
    r: Result<(), AppError>,
    done: &str,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match r {
        Ok(()) => Ok(see_other(&format!("/w/{ws}/listening/sources?done={done}"))),
        Err(e @ AppError::Invalid(_)) => {
            let errors = FieldErrs::from_error(e, t)?;
            sources_page(s, w, form, errors, None).await
        }
        Err(AppError::Network(reason)) => {
            let mut errors = FieldErrs::default();
            let (lead, words) = explain("failing", None, &reason);
            let mut said = vec![t.s("listening.fetch_failed").to_owned()];
            said.extend(lead.map(|k| t.s(k).to_owned()));
            if !words.is_empty() {
                said.push(format!("{}: {words}", t.s("listening.reason.details")));
            }
            errors.form = Some(said.join(" "));
            sources_page(s, w, form, errors, None).await
        }
        Err(e) => Err(UiError(e, t)),
    }
}

/// `POST /w/{ws}/listening/sources`.
pub async fn create_source(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<SourceForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let input = SourceInput {
        url: f.url.clone(),
        tag: f.tag.clone(),
        local: !f.local.is_empty(),
        collections: f.collections.clone(),
    };
    let stream = !f.stream.is_empty();
    let ws = w.m.workspace.id;
    let r = if f.kind.trim() == dialoog_engine::listen_sources::CHANNEL {
        let channel = f.channel.trim().parse::<i64>().ok();
        listening::create_channel_source(&s, &w.me.user, ws, channel).await
    } else {
        listening::create_source(&s, &w.me.user, ws, &f.kind, &input, stream).await
    };
    after_source(&s, w, f, r.map(|_| ()), "source_added").await
}

/// `POST /w/{ws}/listening/sources/{id}/sync`.
pub async fn sync_source(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(_): UiForm<super::approval::Empty>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let r = listening::sync(&s, &w.me.user, w.m.workspace.id, id).await;
    after_source(
        &s,
        w,
        SourceForm::default(),
        r.map(|_| ()),
        "source_fetched",
    )
    .await
}

/// The pause form: `paused=1` pauses, anything else resumes.
#[derive(Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    paused: String,
}

/// `POST /w/{ws}/listening/sources/{id}/pause`.
pub async fn pause_source(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<PauseForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let paused = f.paused == "1";
    let r = listening::pause_source(&s, &w.me.user, w.m.workspace.id, id, paused).await;
    let done = if paused {
        "source_paused"
    } else {
        "source_resumed"
    };
    after_source(&s, w, SourceForm::default(), r, done).await
}

/// `POST /w/{ws}/listening/sources/{id}/delete`.
pub async fn delete_source(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(_): UiForm<super::approval::Empty>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let r = listening::delete_source(&s, &w.me.user, w.m.workspace.id, id).await;
    after_source(&s, w, SourceForm::default(), r, "source_removed").await
}
