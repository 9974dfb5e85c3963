//! Contacts in the interface: the list with a search, and one person with
//! their accounts, conversations on every network, note, tags, sentiment
//! per month, merge suggestions, merging and splitting.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dialoog_domain::Action;
use dialoog_store::Contact;
use serde::Deserialize;

use super::forms::UiForm;
use super::inbox_thread::safe_url;
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::contacts;
use crate::error::{AppError, field_message};

#[derive(Template)]
#[template(path = "contacts.html")]
struct ListView {
    page: Page,
    ws: i64,
    q: String,
    contacts: Vec<Contact>,
}

/// `?q=`.
#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
}

/// `GET /w/{ws}/contacts`.
pub async fn list(
    State(s): State<AppState>,
    w: WsCtx,
    Query(q): Query<Search>,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let found = contacts::list(&s, &w.me.user, ws, &q.q)
        .await
        .map_err(|e| UiError(e, t))?;
    Ok(html(
        &ListView {
            page: w.page.at(&format!("/w/{ws}/inbox")),
            ws,
            q: q.q,
            contacts: found,
        },
        t,
    ))
}

struct IdentityRow {
    id: i64,
    network: String,
    name: String,
    handle: String,
    link: String,
}

struct ConvRow {
    href: String,
    kind_key: String,
    channel: String,
    preview: String,
    when: String,
    status_key: String,
}

struct SuggestionRow {
    id: i64,
    name: String,
    reason_key: String,
}

struct Month {
    month: String,
    positive: i64,
    neutral: i64,
    negative: i64,
    /// Negative messages in percent of the month's.
    negative_share: i64,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactView {
    page: Page,
    ws: i64,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
    name: String,
    note: String,
    tags: Vec<String>,
    identities: Vec<IdentityRow>,
    conversations: Vec<ConvRow>,
    suggestions: Vec<SuggestionRow>,
    months: Vec<Month>,
    can_answer: bool,
}

/// `?done=…`.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /w/{ws}/contacts/{id}`.
pub async fn page(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let notice = (!q.done.is_empty())
        .then(|| {
            w.me.ctx
                .t
                .get(&format!("notice.{}", q.done))
                .map(str::to_owned)
        })
        .flatten();
    render(&s, w, id, notice, None).await
}

async fn render(
    s: &AppState,
    w: WsCtx,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, UiError> {
    w.require(Action::ViewInbox)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let p = contacts::open(s, &w.me.user, ws, id)
        .await
        .map_err(|e| UiError(e, t))?;
    let page = w.page.at(&format!("/w/{ws}/inbox"));
    let view = ContactView {
        ws,
        id,
        notice,
        error,
        name: p.contact.name.clone(),
        note: p.contact.note.clone(),
        tags: p.tags,
        identities: p
            .identities
            .into_iter()
            .map(|i| IdentityRow {
                link: safe_url(Some(&i.author_id)),
                id: i.id,
                network: i.network,
                name: i.name,
                handle: i.handle.unwrap_or(i.author_id),
            })
            .collect(),
        conversations: p
            .conversations
            .into_iter()
            .map(|c| ConvRow {
                href: format!("/w/{ws}/inbox/{}", c.id),
                kind_key: format!("inbox.kind.{}", c.kind),
                channel: c.channel_name,
                preview: c.preview,
                when: page.when(&c.last_at, &tz),
                status_key: format!("inbox.status.{}", c.status),
            })
            .collect(),
        suggestions: p
            .suggestions
            .into_iter()
            .map(|x| SuggestionRow {
                id: x.contact_id,
                name: x.name,
                reason_key: format!("contacts.reason.{}", x.reason),
            })
            .collect(),
        months: p
            .sentiment
            .into_iter()
            .map(|(month, [positive, neutral, negative])| Month {
                month,
                positive,
                neutral,
                negative,
                negative_share: negative * 100 / (positive + neutral + negative).max(1),
            })
            .collect(),
        can_answer: w.m.role.can(Action::AnswerInbox),
        page,
    };
    Ok(html(&view, t))
}

async fn after(
    s: &AppState,
    w: WsCtx,
    id: i64,
    r: Result<&str, AppError>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match r {
        Ok(done) => Ok(see_other(&format!("/w/{ws}/contacts/{id}?done={done}"))),
        Err(AppError::Invalid(fs)) => {
            let msg = fs
                .iter()
                .map(|f| field_message(t, f))
                .collect::<Vec<_>>()
                .join(" ");
            render(s, w, id, None, Some(msg)).await
        }
        Err(e) => Err(UiError(e, t)),
    }
}

/// The note form.
#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

/// `POST /w/{ws}/contacts/{id}/note`.
pub async fn note(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<NoteForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let r = contacts::note(&s, &w.me.user, w.m.workspace.id, id, &f.note).await;
    after(&s, w, id, r.map(|()| "contact_saved")).await
}

/// The tag form: `tag` adds, `remove` removes.
#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    tag: String,
    #[serde(default)]
    remove: String,
}

/// `POST /w/{ws}/contacts/{id}/tags`.
pub async fn tag(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<TagForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let ws = w.m.workspace.id;
    let r = if f.remove.trim().is_empty() {
        contacts::tag(&s, &w.me.user, ws, id, &f.tag, true).await
    } else {
        contacts::tag(&s, &w.me.user, ws, id, &f.remove, false).await
    };
    after(&s, w, id, r.map(|()| "contact_saved")).await
}

/// The merge form: the other contact's number.
#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    other: String,
}

/// `POST /w/{ws}/contacts/{id}/merge`.
pub async fn merge(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<MergeForm>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let other = f.other.trim().trim_start_matches('#').parse::<i64>();
    let r = match other {
        Ok(o) => contacts::merge(&s, &w.me.user, w.m.workspace.id, id, o).await,
        Err(_) => Err(dialoog_domain::FieldError::new("other_id", "contact_unknown").into()),
    };
    after(&s, w, id, r.map(|()| "contacts_merged")).await
}

/// `POST /w/{ws}/contacts/{id}/identities/{identity}/split`.
pub async fn split(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id, identity)): Path<(i64, i64, i64)>,
    UiForm(_): UiForm<super::approval::Empty>,
) -> Result<Response, UiError> {
    w.require(Action::AnswerInbox)?;
    let ws = w.m.workspace.id;
    match contacts::split(&s, &w.me.user, ws, id, identity).await {
        Ok(new) => Ok(see_other(&format!(
            "/w/{ws}/contacts/{new}?done=contact_split"
        ))),
        Err(e) => after(&s, w, id, Err(e)).await,
    }
}
