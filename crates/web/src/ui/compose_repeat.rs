//! The composer's "repeat" section: weekly on some days or monthly on a
//! day, at a local time, from a date, with an optional end date or count.

use dialoog_domain::schedule::Recurrence;

use super::WsCtx;
use crate::AppState;
use crate::error::AppError;
use crate::schedule::SeriesInput;

/// What was typed into the repeat section.
#[derive(Default, Debug, Clone)]
pub struct RepeatTyped {
    /// `weekly` or `monthly`.
    pub kind: String,
    /// Ticked days, 1 (Monday) to 7.
    pub days: Vec<i64>,
    /// Day of the month.
    pub month_day: String,
    /// Local time.
    pub time: String,
    /// First day.
    pub start: String,
    /// Last day.
    pub until: String,
    /// At most this many.
    pub count: String,
}

impl RepeatTyped {
    /// From the composer's fields (`repeat_*`).
    pub fn from_form(f: &[(String, String)]) -> Self {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        Self {
            kind: get("repeat_kind"),
            days: f
                .iter()
                .filter(|(n, _)| n == "repeat_day")
                .filter_map(|(_, v)| v.parse().ok())
                .collect(),
            month_day: get("repeat_month_day"),
            time: get("repeat_time"),
            start: get("repeat_start"),
            until: get("repeat_until"),
            count: get("repeat_count"),
        }
    }

    /// The seven days as the form offers them: number, word key, ticked.
    pub fn day_choices(&self) -> Vec<(i64, String, bool)> {
        (1..=7)
            .map(|d| (d, format!("weekday.{d}"), self.days.contains(&d)))
            .collect()
    }
}

/// Starts the series the composer describes.
pub async fn start(
    s: &AppState,
    w: &WsCtx,
    text: &str,
    channels: &[i64],
    r: &RepeatTyped,
) -> Result<(), AppError> {
    let number = |raw: &str, field: &'static str, code: &'static str| {
        if raw.is_empty() {
            Ok(None)
        } else {
            raw.parse::<i64>()
                .map(Some)
                .map_err(|_| dialoog_domain::FieldError::new(field, code))
        }
    };
    let month_day = number(&r.month_day, "repeat", "month_day_invalid")?;
    let count = number(&r.count, "repeat", "count_invalid")?;
    let kind = if r.kind.is_empty() {
        "weekly"
    } else {
        r.kind.as_str()
    };
    let rule = Recurrence::parse(
        kind,
        &r.days,
        month_day,
        &r.time,
        &r.start,
        Some(r.until.as_str()),
        count,
    )
    .map_err(AppError::Invalid)?;
    crate::schedule::create_series(
        s,
        &w.me.user,
        w.m.workspace.id,
        &SeriesInput {
            text: text.to_owned(),
            channels: channels.to_vec(),
            rule,
        },
    )
    .await
    .map(|_| ())
}
