//! Listening: a workspace's queries and sources, fetching a source now, and
//! the mentions they found, with facets.
//!
//! Decisions taken here:
//! - Every member may read mentions (what the public web says is no
//!   secret, and clients want to see it); owners, managers and editors set
//!   up queries and sources.
//! - A query is checked when it is saved: a parse error names the position
//!   and what to do, in the member's language, and nothing is saved.
//! - A source's settings are checked when it is added; the first fetch
//!   happens at once in the background (or now, through "fetch now").
//! - The Bluesky firehose is always streamed; a Mastodon timeline is
//!   streamed when the team asks (`stream`), and then polled by its stream
//!   while the instance refuses streaming. A streamed source has no "fetch
//!   now": it hears as things are said.

use dialoog_domain::{Action, FieldError};
use dialoog_engine::listen_sources::{
    SourceError, settle_channel_source, settle_source_with, sync_source,
};
use dialoog_engine::listening::Pipeline;
use dialoog_networks::listen::{SettingsError, SourceInput};
use dialoog_store::{Facets, ListeningQuery, Mention, MentionFilter, Source, StoreError, User};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Mutex;

use crate::AppState;
use crate::error::AppError;
use crate::service::{Result, access, audit, now_ms, on_conflict};

/// The longest query name.
pub const MAX_NAME: usize = 100;
/// The longest query (characters).
pub const MAX_QUERY: usize = 20_000;
/// The roles a query can have.
pub const ROLES: [&str; 3] = ["brand", "competitor", "topic"];

/// What a query form or body holds.
#[derive(Debug, Clone, Default)]
pub struct QueryInput {
    /// The name.
    pub name: String,
    /// The query.
    pub query: String,
    /// `brand`, `competitor` or `topic` (default brand).
    pub role: Option<String>,
}

fn locale(user: &User) -> &str {
    user.locale.as_deref().unwrap_or("nl")
}

/// Checks a query form; the errors name their fields.
fn check(user: &User, input: &QueryInput) -> Result<(String, String, String)> {
    let mut errors = vec![];
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        errors.push(FieldError::new("name", "name_missing"));
    } else if name.chars().count() > MAX_NAME {
        errors.push(FieldError::new("name", "name_too_long").with("max", MAX_NAME.to_string()));
    }
    let query = input.query.trim().to_owned();
    if query.chars().count() > MAX_QUERY {
        errors.push(FieldError::new("query", "query_too_long").with("max", MAX_QUERY.to_string()));
    } else if let Err(e) = dialoog_text::query::parse(&query) {
        errors.push(
            FieldError::new("query", "query_invalid")
                .with("position", (e.position + 1).to_string())
                .with("message", e.message(locale(user))),
        );
    }
    let role = input.role.as_deref().map_or("brand", str::trim);
    if !ROLES.contains(&role) {
        errors.push(FieldError::new("role", "listening_role_invalid"));
    }
    if errors.is_empty() {
        Ok((name, query, role.to_owned()))
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn name_taken() -> AppError {
    AppError::Invalid(vec![FieldError::new("name", "query_name_taken")])
}

/// The workspace's queries.
pub async fn queries(state: &AppState, user: &User, ws: i64) -> Result<Vec<ListeningQuery>> {
    access(state, user, ws, Action::ViewListening).await?;
    Ok(state.store.listening_queries(ws).await?)
}

/// Adds a query.
pub async fn create_query(
    state: &AppState,
    user: &User,
    ws: i64,
    input: &QueryInput,
) -> Result<ListeningQuery> {
    access(state, user, ws, Action::ManageListening).await?;
    let (name, query, role) = check(user, input)?;
    let q = state
        .store
        .create_listening_query(ws, &name, &query, &role, now_ms())
        .await
        .map_err(on_conflict(name_taken()))?;
    crate::alerts::add_default_rules(state, ws).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.query_created",
        json!({"query": q.id, "name": q.name}),
    )
    .await;
    Ok(q)
}

/// Changes a query.
pub async fn update_query(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    input: &QueryInput,
) -> Result<ListeningQuery> {
    access(state, user, ws, Action::ManageListening).await?;
    let (name, query, role) = check(user, input)?;
    let q = state
        .store
        .update_listening_query(ws, id, &name, &query, &role, now_ms())
        .await
        .map_err(on_conflict(name_taken()))?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.query_changed",
        json!({"query": q.id}),
    )
    .await;
    Ok(q)
}

/// Removes a query (its mentions stay).
pub async fn delete_query(state: &AppState, user: &User, ws: i64, id: i64) -> Result<()> {
    access(state, user, ws, Action::ManageListening).await?;
    state.store.delete_listening_query(ws, id).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.query_removed",
        json!({"query": id}),
    )
    .await;
    Ok(())
}

/// A stream's report older than this is not shown as live (it reports
/// at least every 30 seconds while it runs).
pub const LIVE_FOR_MS: i64 = 120_000;

/// Whether a source is a stream that is running now (it reported lately
/// and is not paused): only then are its live status and posts per minute
/// shown.
pub fn is_live(s: &Source, now: i64) -> bool {
    s.streamed && s.status != "paused" && s.live_at.is_some_and(|at| now - at <= LIVE_FOR_MS)
}

/// The workspace's sources, with their health.
pub async fn sources(state: &AppState, user: &User, ws: i64) -> Result<Vec<Source>> {
    access(state, user, ws, Action::ViewListening).await?;
    Ok(state.store.sources(ws).await?)
}

fn source_error(e: SourceError) -> AppError {
    match e {
        SourceError::UnknownKind => {
            AppError::Invalid(vec![FieldError::new("kind", "source_kind_invalid")])
        }
        SourceError::Settings(s) => {
            // The scheme to start with, in words of no language.
            let expected = match &s {
                SettingsError::NotAnAddress { expected }
                | SettingsError::WrongScheme { expected }
                    if expected.starts_with("wss") =>
                {
                    "wss://"
                }
                _ => "https://",
            };
            AppError::Invalid(vec![
                FieldError::new(s.field(), s.code()).with("expected", expected.to_owned()),
            ])
        }
        SourceError::Network(n) => AppError::Network(n.to_string()),
        SourceError::Store(s) => s.into(),
    }
}

/// Adds a source, due at once (streamed when `stream` is asked and the
/// kind can stream; the firehose always).
pub async fn create_source(
    state: &AppState,
    user: &User,
    ws: i64,
    kind: &str,
    input: &SourceInput,
    stream: bool,
) -> Result<Source> {
    access(state, user, ws, Action::ManageListening).await?;
    let settled = settle_source_with(kind, input, stream).map_err(source_error)?;
    let s = state
        .store
        .create_source_with(
            ws,
            &settled.kind,
            &settled.target,
            &settled.name,
            settled.streamed,
            now_ms(),
        )
        .await
        .map_err(on_conflict(AppError::Invalid(vec![FieldError::new(
            "url",
            "source_exists",
        )])))?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.source_added",
        json!({"source": s.id, "kind": s.kind}),
    )
    .await;
    Ok(s)
}

/// Hears a connected channel's own mentions and comments through the
/// listening pipeline (a `channel` source; one per channel).
pub async fn create_channel_source(
    state: &AppState,
    user: &User,
    ws: i64,
    channel_id: Option<i64>,
) -> Result<Source> {
    access(state, user, ws, Action::ManageListening).await?;
    let invalid = || AppError::Invalid(vec![FieldError::new("channel", "source_channel_invalid")]);
    let channel = match channel_id {
        Some(id) => state.store.channel(ws, id).await.map_err(|e| match e {
            StoreError::NotFound => invalid(),
            e => e.into(),
        })?,
        None => return Err(invalid()),
    };
    let settled = settle_channel_source(&channel);
    let s = state
        .store
        .create_source_with(
            ws,
            &settled.kind,
            &settled.target,
            &settled.name,
            false,
            now_ms(),
        )
        .await
        .map_err(on_conflict(AppError::Invalid(vec![FieldError::new(
            "channel",
            "source_exists",
        )])))?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.source_added",
        json!({"source": s.id, "kind": s.kind, "channel": channel.id}),
    )
    .await;
    Ok(s)
}

/// Removes a source (its mentions stay).
pub async fn delete_source(state: &AppState, user: &User, ws: i64, id: i64) -> Result<()> {
    access(state, user, ws, Action::ManageListening).await?;
    state.store.delete_source(ws, id).await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.source_removed",
        json!({"source": id}),
    )
    .await;
    Ok(())
}

/// Pauses or resumes a source.
pub async fn pause_source(
    state: &AppState,
    user: &User,
    ws: i64,
    id: i64,
    paused: bool,
) -> Result<()> {
    access(state, user, ws, Action::ManageListening).await?;
    Ok(state.store.pause_source(ws, id, paused, now_ms()).await?)
}

/// Fetches a source now; returns how many posts it brought.
pub async fn sync(state: &AppState, user: &User, ws: i64, id: i64) -> Result<usize> {
    access(state, user, ws, Action::ManageListening).await?;
    let source = state.store.source(ws, id).await?;
    if source.streamed {
        return Err(AppError::Invalid(vec![FieldError::new(
            "source",
            "source_streamed",
        )]));
    }
    let pipeline = state.pipeline().await?;
    let got = sync_source(&state.store, &pipeline, &source, now_ms())
        .await
        .map_err(source_error)?;
    Ok(got.fetched)
}

/// A page of mentions, with the queries that found each.
pub async fn mentions(
    state: &AppState,
    user: &User,
    ws: i64,
    filter: &MentionFilter,
    limit: i64,
) -> Result<Vec<(Mention, Vec<i64>)>> {
    access(state, user, ws, Action::ViewListening).await?;
    let found = match crate::listening_search::indexed_page(state, ws, filter, limit).await? {
        Some(found) => found,
        None => state.store.mentions(ws, filter, limit).await?,
    };
    let ids: Vec<i64> = found.iter().map(|m| m.id).collect();
    let pairs = state.store.mention_query_ids(&ids).await?;
    Ok(found
        .into_iter()
        .map(|m| {
            let qs = pairs.iter().filter(|p| p.0 == m.id).map(|p| p.1).collect();
            (m, qs)
        })
        .collect())
}

/// The facets of the mentions a filter selects.
pub async fn facets(
    state: &AppState,
    user: &User,
    ws: i64,
    filter: &MentionFilter,
) -> Result<Facets> {
    access(state, user, ws, Action::ViewListening).await?;
    if let Some(fc) = crate::listening_search::indexed_facets(state, ws, filter).await {
        return Ok(fc);
    }
    Ok(state.store.mention_facets(ws, filter).await?)
}

impl AppState {
    /// The listening pipeline, made on first use (it reads the queries and
    /// the last day's mentions).
    pub async fn pipeline(&self) -> std::result::Result<Arc<Mutex<Pipeline>>, StoreError> {
        self.listening
            .get_or_try_init(|| async {
                Pipeline::new(self.store.clone(), now_ms())
                    .await
                    .map(|p| (p.held(), Arc::new(Mutex::new(p))))
            })
            .await
            .map(|(_, p)| Arc::clone(p))
    }

    /// Whether the listening pipeline is held up (nothing when it was not
    /// made yet), without waiting for it.
    pub fn listening_held(&self) -> Option<dialoog_engine::listening::Held> {
        self.listening.get().and_then(|(h, _)| h.get())
    }
}
