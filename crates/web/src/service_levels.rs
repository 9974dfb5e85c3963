//! Service levels: opening hours and the inbox's targets per workspace,
//! the timers of each conversation, and the figures per agent and per
//! channel.
//!
//! Decisions taken here:
//! - Without settings a workspace has office hours (Monday to Friday 09:00
//!   to 17:00 in its zone), an answer target of one business hour and a
//!   resolution target of eight business hours (a working day).
//! - The answer target holds for every wait: the first answer and each
//!   later one after the customer writes again; the figures report the
//!   first answer (the usual "first response time").
//! - A conversation counts for the agent who sent its first answer; one
//!   not answered yet counts under nobody.

use dialoog_domain::sla::{BusinessHours, business_ms, deadline};
use dialoog_domain::{Action, FieldError};
use dialoog_store::{Conversation, InboxSettings, User};
use serde_json::json;
use std::collections::BTreeMap;

use crate::AppState;
use crate::service::{Result, access, audit, now_ms};

const MIN: i64 = 60_000;
/// The longest answer target (a week).
pub const MAX_RESPONSE_MINUTES: i64 = 7 * 24 * 60;
/// The longest resolution target (thirty days).
pub const MAX_RESOLUTION_MINUTES: i64 = 30 * 24 * 60;

/// A workspace's service levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levels {
    /// When the business is open.
    pub hours: BusinessHours,
    /// Answer within this many business minutes.
    pub response_minutes: i64,
    /// Resolve within this many business minutes.
    pub resolution_minutes: i64,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            hours: BusinessHours::default(),
            response_minutes: 60,
            resolution_minutes: 8 * 60,
        }
    }
}

/// Reads a workspace's levels (the defaults where none are set).
pub async fn load(state: &AppState, ws: i64) -> Result<Levels> {
    Ok(match state.store.inbox_settings(ws).await? {
        Some(s) => Levels {
            hours: BusinessHours::from_text(&s.hours),
            response_minutes: s.first_response_minutes,
            resolution_minutes: s.resolution_minutes,
        },
        None => Levels::default(),
    })
}

/// The levels, for anyone who reads the inbox.
pub async fn get(state: &AppState, user: &User, ws: i64) -> Result<Levels> {
    access(state, user, ws, Action::ViewInbox).await?;
    load(state, ws).await
}

/// Sets the levels (owners and managers): hours per weekday as `HH:MM`
/// pairs (an empty pair is closed), targets in minutes.
pub async fn set(
    state: &AppState,
    user: &User,
    ws: i64,
    days: &[(&str, &str); 7],
    response_minutes: i64,
    resolution_minutes: i64,
) -> Result<Levels> {
    access(state, user, ws, Action::EditSettings).await?;
    let mut errors = vec![];
    let hours = BusinessHours::parse(days).map_err(|e| errors.push(e)).ok();
    if !(1..=MAX_RESPONSE_MINUTES).contains(&response_minutes) {
        errors.push(
            FieldError::new("first_response_minutes", "target_invalid")
                .with("max", MAX_RESPONSE_MINUTES.to_string()),
        );
    }
    if !(1..=MAX_RESOLUTION_MINUTES).contains(&resolution_minutes) {
        errors.push(
            FieldError::new("resolution_minutes", "target_invalid")
                .with("max", MAX_RESOLUTION_MINUTES.to_string()),
        );
    }
    let hours = match (hours, errors.is_empty()) {
        (Some(h), true) => h,
        _ => return Err(crate::error::AppError::Invalid(errors)),
    };
    state
        .store
        .set_inbox_settings(
            ws,
            &InboxSettings {
                hours: hours.to_text(),
                first_response_minutes: response_minutes,
                resolution_minutes,
            },
            now_ms(),
        )
        .await?;
    audit(
        state,
        Some(ws),
        Some(user.id),
        "inbox.service_levels",
        json!({"hours": hours.to_text(), "first_response_minutes": response_minutes, "resolution_minutes": resolution_minutes}),
    )
    .await;
    Ok(Levels {
        hours,
        response_minutes,
        resolution_minutes,
    })
}

/// When something is due, and whether that has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The instant (UTC ms).
    pub at: i64,
    /// Past it already.
    pub overdue: bool,
}

/// A conversation's timers: when an answer is due (while a customer
/// waits) and when it should be resolved (until it is).
pub fn timers(l: &Levels, tz: &str, c: &Conversation, now: i64) -> (Option<Due>, Option<Due>) {
    if c.status == "resolved" {
        return (None, None);
    }
    let due = |from: i64, minutes: i64| {
        deadline(&l.hours, tz, from, minutes * MIN).map(|at| Due {
            at,
            overdue: at < now,
        })
    };
    (
        c.waiting_since.and_then(|w| due(w, l.response_minutes)),
        due(c.created_at, l.resolution_minutes),
    )
}

/// Figures for one agent, one channel or everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Figure {
    /// The agent's or channel's name (empty for everything; "—" for
    /// conversations nobody answered yet).
    pub name: String,
    /// Conversations that started in the period.
    pub conversations: i64,
    /// Of those, answered.
    pub answered: i64,
    /// The median first response, in business minutes.
    pub median_first_response_minutes: Option<i64>,
    /// Answered within the target, in percent of those answered.
    pub answered_in_time_percent: Option<i64>,
    /// Resolved.
    pub resolved: i64,
    /// Resolved within the target, in percent of those resolved.
    pub resolved_in_time_percent: Option<i64>,
    /// Still waiting for an answer past the target now.
    pub overdue_now: i64,
}

#[derive(Default)]
struct Acc {
    conversations: i64,
    responses: Vec<i64>,
    in_time: i64,
    resolved: i64,
    resolved_in_time: i64,
    overdue_now: i64,
}

impl Acc {
    fn figure(mut self, name: String) -> Figure {
        self.responses.sort_unstable();
        let answered = self.responses.len() as i64;
        let pct = |n: i64, of: i64| (of > 0).then(|| (n * 100 + of / 2) / of);
        Figure {
            name,
            conversations: self.conversations,
            answered,
            median_first_response_minutes: self
                .responses
                .get(self.responses.len() / 2)
                .map(|ms| (ms + MIN / 2) / MIN),
            answered_in_time_percent: pct(self.in_time, answered),
            resolved: self.resolved,
            resolved_in_time_percent: pct(self.resolved_in_time, self.resolved),
            overdue_now: self.overdue_now,
        }
    }
}

/// The figures of the last `days` days: overall, per agent, per channel.
pub struct Figures {
    /// Everything.
    pub all: Figure,
    /// Per agent (who sent the first answer).
    pub agents: Vec<Figure>,
    /// Per channel.
    pub channels: Vec<Figure>,
    /// The levels they were measured against.
    pub levels: Levels,
}

/// Computes the figures.
pub async fn figures(state: &AppState, user: &User, ws: i64, days: i64) -> Result<Figures> {
    let m = access(state, user, ws, Action::ViewInbox).await?;
    let levels = load(state, ws).await?;
    let tz = m.workspace.timezone.clone();
    let now = now_ms();
    let rows = state
        .store
        .response_rows(ws, now - days.clamp(1, 366) * 24 * 60 * MIN)
        .await?;
    let (mut all, mut agents, mut channels) = (
        Acc::default(),
        BTreeMap::<String, Acc>::new(),
        BTreeMap::<String, Acc>::new(),
    );
    let response_target = levels.response_minutes * MIN;
    let resolution_target = levels.resolution_minutes * MIN;
    for r in rows {
        let agent = r.responder_name.clone().unwrap_or_else(|| "—".to_owned());
        for acc in [
            &mut all,
            agents.entry(agent).or_default(),
            channels.entry(r.channel_name.clone()).or_default(),
        ] {
            acc.conversations += 1;
            if let Some(first) = r.first_response_at {
                let took = business_ms(&levels.hours, &tz, r.created_at, first);
                acc.responses.push(took);
                acc.in_time += i64::from(took <= response_target);
            }
            if let Some(done) = r.resolved_at.filter(|_| r.status == "resolved") {
                acc.resolved += 1;
                let took = business_ms(&levels.hours, &tz, r.created_at, done);
                acc.resolved_in_time += i64::from(took <= resolution_target);
            }
            if r.status != "resolved"
                && let Some(w) = r.waiting_since
                && deadline(&levels.hours, &tz, w, response_target).is_some_and(|d| d < now)
            {
                acc.overdue_now += 1;
            }
        }
    }
    Ok(Figures {
        all: all.figure(String::new()),
        agents: agents.into_iter().map(|(n, a)| a.figure(n)).collect(),
        channels: channels.into_iter().map(|(n, a)| a.figure(n)).collect(),
        levels,
    })
}
