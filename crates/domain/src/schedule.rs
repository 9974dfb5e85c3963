//! Queue slots and recurring posts: pure arithmetic on wall-clock times in
//! a workspace's timezone. Nothing here reads a clock or a store.
//!
//! Both keep their local wall time across daylight saving: "Monday 09:00"
//! is 09:00 in Amsterdam in winter and in summer. Where a local time does
//! not exist or exists twice, the two differ on purpose:
//!
//! - A **queue slot** that falls in the hour skipped in spring (02:30 on
//!   the last Sunday of March) is *skipped* that day: a slot is only a
//!   free place, and the next slot follows. A slot in the hour that
//!   happens twice in autumn is offered *once*, at the first (summer-time)
//!   02:30.
//! - A **recurring post** whose time is skipped is *moved* to the first
//!   minute after the change (03:00), so no occurrence is lost; one whose
//!   time happens twice goes out once, at the first.
//! - A monthly series on a day the month does not have (the 31st in
//!   April) goes out on the month's last day.

use crate::FieldError;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// How many days ahead slots and occurrences are looked for at most.
pub const HORIZON_DAYS: i32 = 400;
/// The most slots one channel's weekly queue may have.
pub const MAX_SLOTS: usize = 7 * 24;

/// One time of a channel's weekly queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    /// Day of the week, 1 (Monday) to 7 (Sunday).
    pub weekday: u8,
    /// Minutes after local midnight, 0 to 1439.
    pub minute: u16,
}

impl Slot {
    /// A slot from a day number (1 = Monday … 7 = Sunday) and `HH:MM`.
    pub fn parse(weekday: i64, time: &str) -> Result<Self, FieldError> {
        let day = u8::try_from(weekday)
            .ok()
            .filter(|d| (1..=7).contains(d))
            .ok_or_else(|| FieldError::new("slots", "weekday_invalid"))?;
        let minute = parse_minute(time).ok_or_else(|| {
            FieldError::new("slots", "slot_time_invalid").with("time", time.trim().to_owned())
        })?;
        Ok(Self {
            weekday: day,
            minute,
        })
    }

    /// The time as `HH:MM`.
    #[must_use]
    pub fn time(&self) -> String {
        format!("{:02}:{:02}", self.minute / 60, self.minute % 60)
    }
}

/// Minutes after midnight of `HH:MM` (seconds are not accepted).
#[must_use]
pub fn parse_minute(raw: &str) -> Option<u16> {
    let (h, m) = raw.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn weekday_number(w: Weekday) -> u8 {
    u8::try_from(w.to_monday_one_offset()).unwrap_or(1)
}

fn time_of(minute: u16) -> Time {
    let m = minute.min(1439);
    Time::constant(
        i8::try_from(m / 60).unwrap_or(0),
        i8::try_from(m % 60).unwrap_or(0),
        0,
        0,
    )
}

fn date_of(ms: i64, zone: &TimeZone) -> Date {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .date()
}

/// How a wall-clock time maps onto the timeline.
enum Local {
    /// Once (or the first of two in autumn).
    At(i64),
    /// In the hour skipped in spring.
    Skipped,
}

fn resolve(dt: DateTime, zone: &TimeZone) -> Local {
    let amb = zone.to_ambiguous_zoned(dt);
    match amb.offset() {
        AmbiguousOffset::Gap { .. } => Local::Skipped,
        _ => amb.earlier().map_or(Local::Skipped, |z| {
            Local::At(z.timestamp().as_millisecond())
        }),
    }
}

/// The first minute at or after `dt` that exists in `zone` (03:00 for
/// 02:30 on the March change in Amsterdam).
fn resolve_forward(dt: DateTime, zone: &TimeZone) -> Option<i64> {
    let mut at = dt;
    // Gaps are at most a few hours; a bound keeps this finite on any zone.
    for _ in 0..(26 * 60) {
        if let Local::At(ms) = resolve(at, zone) {
            return Some(ms);
        }
        at = at.checked_add(jiff::SignedDuration::from_mins(1)).ok()?;
    }
    None
}

/// The instants of a weekly queue strictly after `after` (UTC ms), in
/// order, up to [`HORIZON_DAYS`] ahead. Skipped spring times are left out.
pub fn slot_instants(slots: &[Slot], tz: &str, after: i64) -> impl Iterator<Item = i64> {
    let zone = crate::time::zone(tz);
    let mut sorted: Vec<Slot> = slots.to_vec();
    sorted.sort_unstable_by_key(|s| s.minute);
    sorted.dedup();
    let start = date_of(after, &zone);
    (0..HORIZON_DAYS)
        .filter_map(move |i| start.checked_add(jiff::Span::new().days(i)).ok())
        .flat_map(move |day| {
            let wd = weekday_number(day.weekday());
            let zone = zone.clone();
            sorted
                .iter()
                .filter(move |s| s.weekday == wd)
                .filter_map(
                    move |s| match resolve(day.to_datetime(time_of(s.minute)), &zone) {
                        Local::At(ms) => Some(ms),
                        Local::Skipped => None,
                    },
                )
                .collect::<Vec<_>>()
        })
        .filter(move |ms| *ms > after)
}

/// The first instant after `after` that is a slot of every queue in
/// `queues` and `free` for all of them; `None` when there is none within
/// [`HORIZON_DAYS`] (no slots, or no common free slot).
pub fn next_free(
    queues: &[Vec<Slot>],
    tz: &str,
    after: i64,
    mut free: impl FnMut(i64) -> bool,
) -> Option<i64> {
    let (first, rest) = queues.split_first()?;
    let zone = crate::time::zone(tz);
    slot_instants(first, tz, after)
        .find(|ms| rest.iter().all(|q| is_slot(q, *ms, &zone)) && free(*ms))
}

fn is_slot(queue: &[Slot], ms: i64, zone: &TimeZone) -> bool {
    let z = jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone());
    let wd = weekday_number(z.weekday());
    let minute = u16::try_from(i32::from(z.hour()) * 60 + i32::from(z.minute())).unwrap_or(0);
    queue
        .iter()
        .any(|s| s.weekday == wd && s.minute == minute)
        && z.second() == 0
        // The second 02:30 of an autumn night is not a slot (only the first is).
        && matches!(resolve(z.datetime(), zone), Local::At(first) if first == ms)
}

/// How a series repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    /// On these days of the week (1 = Monday … 7 = Sunday).
    Weekly(Vec<u8>),
    /// On this day of the month (1–31; past a short month's end, its last
    /// day).
    Monthly(u8),
}

/// A recurring post's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    /// Weekly or monthly.
    pub repeat: Repeat,
    /// Local time, minutes after midnight.
    pub minute: u16,
    /// The first day it may happen.
    pub start: Date,
    /// The last day it may happen, if any.
    pub until: Option<Date>,
    /// How many times at most, if limited.
    pub count: Option<u32>,
}

/// The most occurrences one series may have when limited by a count.
pub const MAX_COUNT: u32 = 1000;

impl Recurrence {
    /// Checks a rule as typed: days or day of month, `HH:MM`, start date,
    /// optional end date and count.
    pub fn parse(
        kind: &str,
        weekdays: &[i64],
        month_day: Option<i64>,
        time: &str,
        start: &str,
        until: Option<&str>,
        count: Option<i64>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errs = vec![];
        let repeat = match kind {
            "weekly" => {
                let mut days: Vec<u8> = weekdays
                    .iter()
                    .filter_map(|d| u8::try_from(*d).ok().filter(|d| (1..=7).contains(d)))
                    .collect();
                days.sort_unstable();
                days.dedup();
                if days.is_empty() || days.len() != weekdays.len() {
                    errs.push(FieldError::new("repeat", "weekdays_required"));
                }
                Repeat::Weekly(days)
            }
            "monthly" => match month_day.and_then(|d| u8::try_from(d).ok()) {
                Some(d @ 1..=31) => Repeat::Monthly(d),
                _ => {
                    errs.push(FieldError::new("repeat", "month_day_invalid"));
                    Repeat::Monthly(1)
                }
            },
            _ => {
                errs.push(FieldError::new("repeat", "repeat_invalid"));
                Repeat::Weekly(vec![])
            }
        };
        let minute = parse_minute(time);
        if minute.is_none() {
            errs.push(FieldError::new("repeat", "datetime_invalid"));
        }
        let start_d: Option<Date> = start.trim().parse().ok();
        if start_d.is_none() {
            errs.push(FieldError::new("repeat", "datetime_invalid"));
        }
        let until_d = match until.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => match u.parse::<Date>() {
                Ok(d) if start_d.is_none_or(|s| d >= s) => Some(d),
                Ok(_) => {
                    errs.push(FieldError::new("repeat", "until_before_start"));
                    None
                }
                Err(_) => {
                    errs.push(FieldError::new("repeat", "datetime_invalid"));
                    None
                }
            },
        };
        let count = match count {
            None => None,
            Some(n) => match u32::try_from(n) {
                Ok(n @ 1..=MAX_COUNT) => Some(n),
                _ => {
                    errs.push(
                        FieldError::new("repeat", "count_invalid")
                            .with("max", MAX_COUNT.to_string()),
                    );
                    None
                }
            },
        };
        match (errs.is_empty(), minute, start_d) {
            (true, Some(minute), Some(start)) => Ok(Self {
                repeat,
                minute,
                start,
                until: until_d,
                count,
            }),
            _ => {
                errs.dedup();
                Err(errs)
            }
        }
    }

    fn day_matches(&self, d: Date) -> bool {
        match &self.repeat {
            Repeat::Weekly(days) => days.contains(&weekday_number(d.weekday())),
            Repeat::Monthly(n) => {
                let last = d.last_of_month().day();
                let want = i8::try_from(*n).unwrap_or(1).min(last);
                d.day() == want
            }
        }
    }

    /// Whether the rule goes out at least once at or after `from`: looked
    /// for in the ten times [`HORIZON_DAYS`] that follow the later of
    /// `from` and the rule's start, so a series that starts years ahead
    /// is not taken for one that never goes out.
    #[must_use]
    pub fn goes_out_from(&self, tz: &str, from: i64) -> bool {
        let window = i64::from(HORIZON_DAYS) * 10 * 86_400_000;
        let start = resolve_forward(
            self.start.to_datetime(Time::midnight()),
            &crate::time::zone(tz),
        )
        .unwrap_or(from);
        let to = from.max(start).saturating_add(window);
        !self.occurrences(tz, from, to).is_empty()
    }

    /// The occurrences (number from 0, instant in UTC ms) that fall in
    /// `[from, to)`, counted from the rule's start so a count holds across
    /// calls. Each is at the rule's local time in `tz`.
    #[must_use]
    pub fn occurrences(&self, tz: &str, from: i64, to: i64) -> Vec<(u32, i64)> {
        let zone = crate::time::zone(tz);
        let last_day = date_of(to, &zone);
        let mut out = vec![];
        let mut n: u32 = 0;
        let mut day = self.start;
        // Bounded: a series may not be older than this many days.
        for _ in 0..(HORIZON_DAYS * 30) {
            if day > last_day || self.until.is_some_and(|u| day > u) {
                break;
            }
            if self.count.is_some_and(|c| n >= c) {
                break;
            }
            if self.day_matches(day) {
                if let Some(ms) = resolve_forward(day.to_datetime(time_of(self.minute)), &zone)
                    && ms >= from
                    && ms < to
                {
                    out.push((n, ms));
                }
                n += 1;
            }
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        out
    }
}

/// The name of a weekday number in a locale's word list key
/// (`weekday.1` … `weekday.7`).
#[must_use]
pub fn weekday_key(day: u8) -> String {
    format!("weekday.{day}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "schedule_tests.rs"]
mod tests;
