//! Listening's search and retention: the mentions list and its facets use
//! the search index when there are words to find and the index answers,
//! and the store otherwise (the same filters, so the page keeps working
//! while the index is missing or rebuilding); how many days a workspace
//! keeps its mentions (owners and managers set it).

use dialoog_domain::{Action, FieldError};
use dialoog_search::{Found, MentionSearch, SearchFilter};
use dialoog_store::{Facets, Mention, MentionFilter};
use std::sync::Arc;

use crate::AppState;
use crate::error::AppError;
use crate::service::{Result, access, audit, now_ms};

/// The fewest days a workspace can keep its mentions.
pub const MIN_KEEP_DAYS: i64 = 1;
/// The most days (ten years).
pub const MAX_KEEP_DAYS: i64 = 3_650;

impl AppState {
    /// Uses this index for searching mentions (set once, at start).
    pub fn set_mention_index(&self, index: Arc<dyn MentionSearch>) {
        let _ = self.mention_index.set(index);
    }

    /// The search index of mentions, when there is one.
    pub fn mention_index(&self) -> Option<Arc<dyn MentionSearch>> {
        self.mention_index.get().cloned()
    }
}

fn search_filter(f: &MentionFilter) -> Option<SearchFilter> {
    let q = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty())?;
    Some(SearchFilter {
        q: q.to_owned(),
        sentiment: f.sentiment.clone(),
        lang: f.lang.clone(),
        query_id: f.query_id,
        source_kind: f.source_kind.clone(),
        since: f.since,
        until: f.until,
        before: f.before,
    })
}

/// Asks the index, when there is one and the filter has words; `None`
/// means "ask the store" (an index error is logged, never shown).
async fn ask(
    state: &AppState,
    ws: i64,
    f: &MentionFilter,
    limit: usize,
    facets: bool,
) -> Option<Found> {
    let index = state.mention_index()?;
    let sf = search_filter(f)?;
    match tokio::task::spawn_blocking(move || index.search(ws, &sf, limit, facets)).await {
        Ok(Ok(found)) => Some(found),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "search index failed; the store answers");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "search task failed; the store answers");
            None
        }
    }
}

/// A page of mentions found by the index (`None`: ask the store).
pub(crate) async fn indexed_page(
    state: &AppState,
    ws: i64,
    f: &MentionFilter,
    limit: i64,
) -> Result<Option<Vec<Mention>>> {
    let limit = usize::try_from(limit.clamp(1, 500)).unwrap_or(50);
    let Some(found) = ask(state, ws, f, limit, false).await else {
        return Ok(None);
    };
    Ok(Some(state.store.mentions_by_ids(ws, &found.ids).await?))
}

/// The facets of the mentions the index finds (`None`: ask the store).
pub(crate) async fn indexed_facets(state: &AppState, ws: i64, f: &MentionFilter) -> Option<Facets> {
    let fc = ask(state, ws, f, 0, true).await?.facets?;
    // The index keeps the ids of the queries that found a mention; a query
    // removed since is no longer a facet (as in the store's facets).
    let live: Vec<i64> = state
        .store
        .listening_queries(ws)
        .await
        .ok()?
        .iter()
        .map(|q| q.id)
        .collect();
    Some(Facets {
        sentiment: fc.sentiment,
        lang: fc.lang,
        source: fc.source,
        query: fc
            .query
            .into_iter()
            .filter(|(id, _)| live.contains(id))
            .collect(),
        days: fc.days,
    })
}

/// How many days the workspace keeps its mentions.
pub async fn keep_days(state: &AppState, user: &dialoog_store::User, ws: i64) -> Result<i64> {
    access(state, user, ws, Action::ViewListening).await?;
    Ok(state.store.listening_keep_days(ws).await?)
}

/// Checks what was typed for the number of days.
pub fn parse_keep_days(input: &str) -> Result<i64> {
    match input.trim().parse::<i64>() {
        Ok(d) if (MIN_KEEP_DAYS..=MAX_KEEP_DAYS).contains(&d) => Ok(d),
        _ => Err(AppError::Invalid(vec![
            FieldError::new("keep_days", "keep_days_invalid")
                .with("min", MIN_KEEP_DAYS.to_string())
                .with("max", MAX_KEEP_DAYS.to_string()),
        ])),
    }
}

/// Sets how many days the workspace keeps its mentions (owners and
/// managers); older mentions go at the next retention round.
pub async fn set_keep_days(
    state: &AppState,
    user: &dialoog_store::User,
    ws: i64,
    days: i64,
) -> Result<i64> {
    access(state, user, ws, Action::EditSettings).await?;
    let days = parse_keep_days(&days.to_string())?;
    state
        .store
        .set_listening_keep_days(ws, days, now_ms())
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "listening.retention",
        serde_json::json!({"keep_days": days}),
    )
    .await;
    Ok(days)
}
