//! Share of voice and rising terms (L6): the brand against its
//! competitors, per day, and the words said clearly more often today than
//! in the week before.
//!
//! Decisions taken here:
//! - Share of voice sets the queries with the role brand or competitor
//!   against each other (topics are left out), over whole UTC days, the
//!   last 7 to 90 days (30 by default); a mention found by two of them
//!   counts for both.
//! - Rising terms compare the last 24 hours (up to 5,000 newest mentions)
//!   with the 7 days before (up to 20,000), scaled for their sizes; a term
//!   must be in at least 3 mentions now and twice as frequent as before.

use dialoog_domain::Action;
use dialoog_store::User;
use dialoog_text::rising::Rising;

use crate::AppState;
use crate::error::AppError;
use crate::service::{Result, access, now_ms};

const DAY_MS: i64 = 86_400_000;
/// The periods share of voice can look back, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];

/// One query's voice.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Series {
    /// The query.
    pub query_id: i64,
    /// Its name.
    pub name: String,
    /// `brand` or `competitor`.
    pub role: String,
    /// Mentions per day, one per entry of [`Voice::days`].
    pub per_day: Vec<i64>,
    /// Mentions in the period.
    pub total: i64,
    /// Its share of all the brand's and competitors' mentions, in percent
    /// (rounded; null when there were none at all).
    pub share_percent: Option<i64>,
}

/// Share of voice over a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Voice {
    /// The days (start of each UTC day, ms), oldest first.
    pub days: Vec<i64>,
    /// Per brand or competitor query, the brand first.
    pub series: Vec<Series>,
}

/// Share of voice over the last `days` days (7, 30 or 90).
pub async fn share_of_voice(state: &AppState, user: &User, ws: i64, days: i64) -> Result<Voice> {
    access(state, user, ws, Action::ViewListening).await?;
    if !PERIODS.contains(&days) {
        return Err(AppError::Invalid(vec![dialoog_domain::FieldError::new(
            "days",
            "voice_days_invalid",
        )]));
    }
    let today = now_ms().div_euclid(DAY_MS) * DAY_MS;
    let since = today - (days - 1) * DAY_MS;
    let day_list: Vec<i64> = (0..days).map(|i| since + i * DAY_MS).collect();
    let mut queries = state.store.listening_queries(ws).await?;
    queries.retain(|q| q.role == "brand" || q.role == "competitor");
    queries.sort_by_key(|q| (q.role != "brand", q.name.to_lowercase()));
    let rows = state.store.voice_days(ws, since, today + DAY_MS).await?;
    let mut series: Vec<Series> = queries
        .into_iter()
        .map(|q| Series {
            query_id: q.id,
            name: q.name,
            role: q.role,
            per_day: vec![0; day_list.len()],
            total: 0,
            share_percent: None,
        })
        .collect();
    for (query, day, n) in rows {
        let Some(s) = series.iter_mut().find(|s| s.query_id == query) else {
            continue;
        };
        if let Ok(i) = usize::try_from((day - since) / DAY_MS)
            && let Some(slot) = s.per_day.get_mut(i)
        {
            *slot += n;
            s.total += n;
        }
    }
    let all: i64 = series.iter().map(|s| s.total).sum();
    for s in &mut series {
        s.share_percent = (all > 0).then(|| (s.total * 100 + all / 2) / all);
    }
    Ok(Voice {
        days: day_list,
        series,
    })
}

/// The terms rising in the last day against the week before.
pub async fn rising_terms(state: &AppState, user: &User, ws: i64) -> Result<Vec<Rising>> {
    access(state, user, ws, Action::ViewListening).await?;
    let now = now_ms();
    let recent = state
        .store
        .mention_texts(ws, now - DAY_MS, now + 1, 5_000)
        .await?;
    let before = state
        .store
        .mention_texts(ws, now - 8 * DAY_MS, now - DAY_MS, 20_000)
        .await?;
    // Tokenising some thousands of texts: off the request threads.
    tokio::task::spawn_blocking(move || {
        dialoog_text::rising::rising(
            recent.iter().map(String::as_str),
            before.iter().map(String::as_str),
            3,
            15,
        )
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}
