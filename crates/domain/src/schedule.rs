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
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AMS: &str = "Europe/Amsterdam";

    fn at(date: &str, time: &str) -> i64 {
        crate::time::local_instant(date, time, AMS).unwrap()
    }
    fn show(ms: i64) -> String {
        crate::time::local(ms, AMS)
            .strftime("%Y-%m-%d %a %H:%M %:z")
            .to_string()
    }
    fn slot(d: u8, t: &str) -> Slot {
        Slot::parse(i64::from(d), t).unwrap()
    }

    #[test]
    fn slots_come_in_order_and_keep_their_wall_time() {
        let q = [slot(1, "09:00"), slot(3, "15:30"), slot(5, "09:00")];
        // 2026-03-26 is a Thursday; the clocks change on Sunday 29 March.
        let got: Vec<String> = slot_instants(&q, AMS, at("2026-03-26", "12:00"))
            .take(4)
            .map(show)
            .collect();
        assert_eq!(
            got,
            [
                "2026-03-27 Fri 09:00 +01:00",
                "2026-03-30 Mon 09:00 +02:00",
                "2026-04-01 Wed 15:30 +02:00",
                "2026-04-03 Fri 09:00 +02:00"
            ]
        );
    }

    #[test]
    fn a_slot_in_the_skipped_spring_hour_is_skipped_that_day() {
        let q = [slot(7, "02:30"), slot(7, "03:00")];
        let got: Vec<String> = slot_instants(&q, AMS, at("2026-03-28", "12:00"))
            .take(3)
            .map(show)
            .collect();
        assert_eq!(
            got,
            [
                "2026-03-29 Sun 03:00 +02:00",
                "2026-04-05 Sun 02:30 +02:00",
                "2026-04-05 Sun 03:00 +02:00"
            ]
        );
    }

    #[test]
    fn a_slot_in_the_doubled_autumn_hour_comes_once() {
        let q = [slot(7, "02:30")];
        let got: Vec<String> = slot_instants(&q, AMS, at("2026-10-24", "12:00"))
            .take(2)
            .map(show)
            .collect();
        assert_eq!(
            got,
            ["2026-10-25 Sun 02:30 +02:00", "2026-11-01 Sun 02:30 +01:00"]
        );
        // Asked between the two 02:30s, the second is not offered.
        let first = at("2026-10-25", "02:30");
        let next = slot_instants(&q, AMS, first).next().unwrap();
        assert_eq!(show(next), "2026-11-01 Sun 02:30 +01:00");
    }

    #[test]
    fn next_free_skips_taken_slots_and_needs_a_common_slot() {
        let a = vec![slot(1, "09:00"), slot(1, "15:30"), slot(2, "09:00")];
        let b = vec![slot(1, "15:30"), slot(2, "09:00")];
        let after = at("2026-06-01", "08:00"); // a Monday
        let taken = [at("2026-06-01", "09:00")];
        let one = next_free(std::slice::from_ref(&a), AMS, after, |ms| {
            !taken.contains(&ms)
        });
        assert_eq!(show(one.unwrap()), "2026-06-01 Mon 15:30 +02:00");
        let both_taken = [at("2026-06-01", "15:30")];
        let two = next_free(&[a.clone(), b], AMS, after, |ms| !both_taken.contains(&ms));
        assert_eq!(show(two.unwrap()), "2026-06-02 Tue 09:00 +02:00");
        let none = next_free(&[a, vec![slot(4, "10:00")]], AMS, after, |_| true);
        assert_eq!(none, None);
        assert_eq!(next_free(&[vec![]], AMS, after, |_| true), None);
        assert_eq!(next_free(&[], AMS, after, |_| true), None);
    }

    #[test]
    fn slot_input_is_checked() {
        assert!(Slot::parse(0, "09:00").is_err());
        assert!(Slot::parse(8, "09:00").is_err());
        assert_eq!(
            Slot::parse(1, "24:00").unwrap_err().code,
            "slot_time_invalid"
        );
        assert!(Slot::parse(1, "9:5").is_err());
        assert!(Slot::parse(1, "").is_err());
        assert_eq!(Slot::parse(1, "9:05").unwrap().time(), "09:05");
    }

    fn weekly(days: &[i64], time: &str, start: &str) -> Recurrence {
        Recurrence::parse("weekly", days, None, time, start, None, None).unwrap()
    }

    #[test]
    fn a_weekly_series_keeps_its_local_time_across_both_changes() {
        let r = weekly(&[7], "09:00", "2026-03-01");
        let got: Vec<String> = r
            .occurrences(AMS, at("2026-03-20", "00:00"), at("2026-04-06", "00:00"))
            .into_iter()
            .map(|(n, ms)| format!("{n} {}", show(ms)))
            .collect();
        assert_eq!(
            got,
            [
                "3 2026-03-22 Sun 09:00 +01:00",
                "4 2026-03-29 Sun 09:00 +02:00",
                "5 2026-04-05 Sun 09:00 +02:00"
            ]
        );
        let got: Vec<String> = r
            .occurrences(AMS, at("2026-10-20", "00:00"), at("2026-11-02", "00:00"))
            .into_iter()
            .map(|(_, ms)| show(ms))
            .collect();
        assert_eq!(
            got,
            ["2026-10-25 Sun 09:00 +01:00", "2026-11-01 Sun 09:00 +01:00"]
        );
    }

    #[test]
    fn a_series_in_the_skipped_hour_moves_to_three_and_in_the_double_hour_goes_once() {
        let r = weekly(&[7], "02:30", "2026-03-22");
        let got: Vec<String> = r
            .occurrences(AMS, at("2026-03-22", "00:00"), at("2026-04-06", "00:00"))
            .into_iter()
            .map(|(_, ms)| show(ms))
            .collect();
        assert_eq!(
            got,
            [
                "2026-03-22 Sun 02:30 +01:00",
                "2026-03-29 Sun 03:00 +02:00",
                "2026-04-05 Sun 02:30 +02:00"
            ]
        );
        let got: Vec<String> = r
            .occurrences(AMS, at("2026-10-24", "00:00"), at("2026-10-26", "00:00"))
            .into_iter()
            .map(|(_, ms)| show(ms))
            .collect();
        assert_eq!(got, ["2026-10-25 Sun 02:30 +02:00"]);
    }

    #[test]
    fn monthly_on_the_31st_falls_on_the_last_day_of_short_months() {
        let r = Recurrence::parse(
            "monthly",
            &[],
            Some(31),
            "10:00",
            "2026-01-01",
            None,
            Some(4),
        )
        .unwrap();
        let got: Vec<String> = r
            .occurrences(AMS, at("2026-01-01", "00:00"), at("2027-01-01", "00:00"))
            .into_iter()
            .map(|(_, ms)| show(ms))
            .collect();
        assert_eq!(
            got,
            [
                "2026-01-31 Sat 10:00 +01:00",
                "2026-02-28 Sat 10:00 +01:00",
                "2026-03-31 Tue 10:00 +02:00",
                "2026-04-30 Thu 10:00 +02:00"
            ]
        );
    }

    #[test]
    fn end_date_and_count_stop_a_series() {
        let r = Recurrence::parse(
            "weekly",
            &[1, 3],
            None,
            "09:00",
            "2026-06-01",
            Some("2026-06-10"),
            None,
        )
        .unwrap();
        let all = r.occurrences(AMS, 0, at("2027-01-01", "00:00"));
        assert_eq!(all.len(), 4); // 1, 3, 8, 10 June
        let r =
            Recurrence::parse("weekly", &[1], None, "09:00", "2026-06-01", None, Some(2)).unwrap();
        let later = r.occurrences(AMS, at("2026-06-05", "00:00"), at("2027-01-01", "00:00"));
        assert_eq!(later.len(), 1, "the count holds from the start: {later:?}");
        assert_eq!(later[0].0, 1);
    }

    #[test]
    fn bad_rules_are_refused() {
        let codes = |r: Result<Recurrence, Vec<FieldError>>| -> Vec<&'static str> {
            r.unwrap_err().iter().map(|e| e.code).collect()
        };
        assert_eq!(
            codes(Recurrence::parse(
                "weekly",
                &[],
                None,
                "09:00",
                "2026-06-01",
                None,
                None
            )),
            ["weekdays_required"]
        );
        assert_eq!(
            codes(Recurrence::parse(
                "weekly",
                &[8],
                None,
                "09:00",
                "2026-06-01",
                None,
                None
            )),
            ["weekdays_required"]
        );
        assert_eq!(
            codes(Recurrence::parse(
                "monthly",
                &[],
                Some(32),
                "09:00",
                "2026-06-01",
                None,
                None
            )),
            ["month_day_invalid"]
        );
        assert_eq!(
            codes(Recurrence::parse(
                "daily",
                &[],
                None,
                "09:00",
                "2026-06-01",
                None,
                None
            )),
            ["repeat_invalid"]
        );
        assert_eq!(
            codes(Recurrence::parse(
                "weekly",
                &[1],
                None,
                "09:00",
                "2026-06-01",
                Some("2026-05-01"),
                None
            )),
            ["until_before_start"]
        );
        assert_eq!(
            codes(Recurrence::parse(
                "weekly",
                &[1],
                None,
                "09:00",
                "2026-06-01",
                None,
                Some(0)
            )),
            ["count_invalid"]
        );
        assert_eq!(
            codes(Recurrence::parse(
                "weekly",
                &[1],
                None,
                "25:00",
                "juni",
                None,
                None
            )),
            ["datetime_invalid"]
        );
    }

    proptest! {
        #[test]
        fn slot_instants_are_increasing_on_their_slots_and_after(
            raw in proptest::collection::vec((1u8..=7, 0u16..1440), 0..12),
            start in 1_700_000_000_000i64..1_900_000_000_000,
            tz in prop::sample::select(vec![AMS, "America/New_York", "Australia/Lord_Howe", "UTC"]),
        ) {
            let q: Vec<Slot> = raw.iter().map(|(d, m)| Slot { weekday: *d, minute: *m }).collect();
            let zone = crate::time::zone(tz);
            let got: Vec<i64> = slot_instants(&q, tz, start).take(30).collect();
            if !q.is_empty() {
                prop_assert!(!got.is_empty());
            }
            for w in got.windows(2) {
                prop_assert!(w[0] < w[1]);
            }
            for ms in &got {
                prop_assert!(*ms > start);
                prop_assert!(is_slot(&q, *ms, &zone));
            }
            // Every slot of the first two weeks is offered, unless skipped.
            let next = next_free(std::slice::from_ref(&q), tz, start, |_| true);
            prop_assert_eq!(next, got.first().copied());
        }

        #[test]
        fn occurrences_are_at_their_wall_time_or_just_after_a_gap(
            days in proptest::collection::vec(1i64..=7, 1..7),
            minute in 0u16..1440,
            from in 1_750_000_000_000i64..1_850_000_000_000,
        ) {
            let time = format!("{:02}:{:02}", minute / 60, minute % 60);
            let mut days = days;
            days.sort_unstable();
            days.dedup();
            let r = Recurrence::parse("weekly", &days, None, &time, "2025-01-01", None, None).unwrap();
            let to = from + 70 * 86_400_000;
            let got = r.occurrences(AMS, from, to);
            prop_assert!(got.len() >= 8 * days.len() && got.len() <= 11 * days.len());
            for w in got.windows(2) {
                prop_assert!(w[0].1 < w[1].1);
                prop_assert_eq!(w[0].0 + 1, w[1].0);
            }
            for (_, ms) in got {
                let z = crate::time::local(ms, AMS);
                let m = u16::try_from(i32::from(z.hour()) * 60 + i32::from(z.minute())).unwrap();
                // Exactly the wall time, or 03:00 when it fell in the gap.
                prop_assert!(m == minute || (m == 180 && (120..180).contains(&minute)));
            }
        }
    }
}
