//! Service levels: business hours per workspace, and time counted only
//! while the business is open. Pure arithmetic on instants and wall-clock
//! times in the workspace's zone (across daylight saving); nothing here
//! reads a clock or a store.

use crate::FieldError;
use crate::schedule::parse_minute;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

/// How many days a calculation looks ahead or back at most (a year and a
/// bit): bounded work whatever the input.
const MAX_DAYS: i32 = 400;

/// Opening hours per weekday, Monday first: `(open, close)` in minutes
/// after local midnight (`close` up to 1440), or `None` when closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours(pub [Option<(u16, u16)>; 7]);

impl Default for BusinessHours {
    /// Monday to Friday, 09:00 to 17:00.
    fn default() -> Self {
        let day = Some((9 * 60, 17 * 60));
        Self([day, day, day, day, day, None, None])
    }
}

impl BusinessHours {
    /// Open all the time.
    #[must_use]
    pub fn always() -> Self {
        Self([Some((0, 1440)); 7])
    }

    /// From `HH:MM` pairs per weekday (Monday first); an empty pair is a
    /// closed day. Errors name the field `hours`.
    pub fn parse(days: &[(&str, &str); 7]) -> Result<Self, FieldError> {
        let mut out = [None; 7];
        for (i, (open, close)) in days.iter().enumerate() {
            let (open, close) = (open.trim(), close.trim());
            if open.is_empty() && close.is_empty() {
                continue;
            }
            let bad = || FieldError::new("hours", "hours_invalid").with("day", (i + 1).to_string());
            let o = parse_minute(open).ok_or_else(bad)?;
            let c = if close == "24:00" {
                1440
            } else {
                parse_minute(close).ok_or_else(bad)?
            };
            if o >= c {
                return Err(bad());
            }
            out[i] = Some((o, c));
        }
        Ok(Self(out))
    }

    /// The stored form: `1=09:00-17:00,2=…` (closed days left out).
    #[must_use]
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|(o, c)| format!("{}={}-{}", i + 1, hhmm(o), hhmm(c))))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the stored form; anything unreadable is closed.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        let mut days = [("", ""); 7];
        for part in text.split(',') {
            let Some((day, span)) = part.split_once('=') else {
                continue;
            };
            let Some((o, c)) = span.split_once('-') else {
                continue;
            };
            if let Some(i) = day
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|d| (1..=7).contains(d))
            {
                days[i - 1] = (o, c);
            }
        }
        Self::parse(&days).unwrap_or(Self([None; 7]))
    }

    /// Whether the business is ever open.
    #[must_use]
    pub fn ever_open(&self) -> bool {
        self.0.iter().any(Option::is_some)
    }

    /// A day's open interval as instants (UTC ms), if it is open that day.
    fn interval(&self, day: Date, zone: &TimeZone) -> Option<(i64, i64)> {
        let idx = usize::try_from(day.weekday().to_monday_zero_offset()).ok()?;
        let (o, c) = self.0[idx]?;
        let at = |m: u16| -> Option<i64> {
            let (d, m) = if m >= 1440 {
                (day.tomorrow().ok()?, 0)
            } else {
                (day, m)
            };
            let t = Time::new(i8::try_from(m / 60).ok()?, i8::try_from(m % 60).ok()?, 0, 0).ok()?;
            let z = zone
                .to_ambiguous_zoned(d.to_datetime(t))
                .compatible()
                .ok()?;
            Some(z.timestamp().as_millisecond())
        };
        Some((at(o)?, at(c)?))
    }
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn local_date(ms: i64, zone: &TimeZone) -> Option<Date> {
    Some(
        Timestamp::from_millisecond(ms)
            .ok()?
            .to_zoned(zone.clone())
            .date(),
    )
}

/// Business time (ms) between two instants: only the parts that fall in
/// opening hours count. Zero when `end` is not after `start`.
#[must_use]
pub fn business_ms(hours: &BusinessHours, tz: &str, start: i64, end: i64) -> i64 {
    if end <= start {
        return 0;
    }
    let zone = crate::time::zone(tz);
    let (Some(mut day), Some(last)) = (
        local_date(start, &zone).and_then(|d| d.yesterday().ok()),
        local_date(end, &zone),
    ) else {
        return 0;
    };
    let mut total = 0;
    for _ in 0..=MAX_DAYS * 10 {
        if day > last {
            break;
        }
        if let Some((o, c)) = hours.interval(day, &zone) {
            total += (c.min(end) - o.max(start)).max(0);
        }
        match day.tomorrow() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    total
}

/// The instant at which `target` ms of business time have passed since
/// `start`; `None` when the business is never open (or not within
/// [`MAX_DAYS`]).
#[must_use]
pub fn deadline(hours: &BusinessHours, tz: &str, start: i64, target: i64) -> Option<i64> {
    if !hours.ever_open() {
        return None;
    }
    let zone = crate::time::zone(tz);
    let mut day = local_date(start, &zone)?.yesterday().ok()?;
    let mut left = target.max(0);
    for _ in 0..=MAX_DAYS {
        if let Some((o, c)) = hours.interval(day, &zone) {
            let from = o.max(start);
            if c > from {
                if c - from >= left {
                    return Some(from + left);
                }
                left -= c - from;
            }
        }
        day = day.tomorrow().ok()?;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TZ: &str = "Europe/Amsterdam";
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn at(s: &str) -> i64 {
        let dt: jiff::civil::DateTime = s.parse().unwrap();
        crate::time::instant_of(dt, TZ).unwrap()
    }

    #[test]
    fn only_opening_hours_count() {
        let h = BusinessHours::default();
        // Friday 16:30 to Monday 09:30: half an hour on Friday, half on Monday.
        assert_eq!(
            business_ms(&h, TZ, at("2026-12-04T16:30"), at("2026-12-07T09:30")),
            HOUR
        );
        assert_eq!(
            business_ms(&h, TZ, at("2026-12-05T10:00"), at("2026-12-05T12:00")),
            0
        );
        assert_eq!(
            business_ms(&h, TZ, at("2026-12-07T12:00"), at("2026-12-07T11:00")),
            0
        );
        assert_eq!(
            business_ms(&BusinessHours::always(), TZ, 0, 5 * HOUR),
            5 * HOUR
        );
    }

    #[test]
    fn deadlines_skip_closed_time() {
        let h = BusinessHours::default();
        // A message on Friday at 16:30 with an hour's target: Monday 09:30.
        assert_eq!(
            deadline(&h, TZ, at("2026-12-04T16:30"), HOUR),
            Some(at("2026-12-07T09:30"))
        );
        // On Saturday: Monday 10:00.
        assert_eq!(
            deadline(&h, TZ, at("2026-12-05T11:00"), HOUR),
            Some(at("2026-12-07T10:00"))
        );
        // A working day of eight hours from Tuesday 13:00: Wednesday 13:00.
        assert_eq!(
            deadline(&h, TZ, at("2026-12-08T13:00"), 8 * HOUR),
            Some(at("2026-12-09T13:00"))
        );
        assert_eq!(deadline(&BusinessHours([None; 7]), TZ, 0, HOUR), None);
    }

    #[test]
    fn a_night_across_the_spring_change_is_an_hour_shorter() {
        let h = BusinessHours::always();
        // Saturday 28 to Sunday 29 March 2026, midnight to midnight: 23 hours.
        assert_eq!(
            business_ms(&h, TZ, at("2026-03-28T12:00"), at("2026-03-29T12:00")),
            23 * HOUR
        );
        let d = deadline(&h, TZ, at("2026-03-28T12:00"), 24 * HOUR).unwrap();
        assert_eq!(d, at("2026-03-29T13:00"));
    }

    #[test]
    fn hours_are_read_and_written_back() {
        let h = BusinessHours::parse(&[
            ("08:30", "17:00"),
            ("08:30", "17:00"),
            ("", ""),
            ("08:30", "12:00"),
            ("08:30", "24:00"),
            ("10:00", "16:00"),
            ("", ""),
        ])
        .unwrap();
        let text = h.to_text();
        assert_eq!(
            text,
            "1=08:30-17:00,2=08:30-17:00,4=08:30-12:00,5=08:30-24:00,6=10:00-16:00"
        );
        assert_eq!(BusinessHours::from_text(&text), h);
        let bad = BusinessHours::parse(&[
            ("17:00", "09:00"),
            ("", ""),
            ("", ""),
            ("", ""),
            ("", ""),
            ("", ""),
            ("", ""),
        ]);
        assert_eq!(bad.unwrap_err().code, "hours_invalid");
        assert_eq!(BusinessHours::from_text("rommel"), BusinessHours([None; 7]));
    }
}
