//! Wall-clock times in a workspace's timezone and the UTC instants they
//! stand for, with daylight saving taken into account: a time that does not
//! exist (02:30 on the last Sunday of March in Europe/Amsterdam) is refused
//! with a reason; a time that exists twice (02:30 on the last Sunday of
//! October) means the first of the two, in summer time.

use crate::FieldError;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// The timezone named `tz`, or UTC when the name is unknown (names are
/// checked when a workspace is saved).
#[must_use]
pub fn zone(tz: &str) -> TimeZone {
    TimeZone::get(tz).unwrap_or(TimeZone::UTC)
}

/// The instant (UTC ms) of `date` (`YYYY-MM-DD`) at `time` (`HH:MM`) in
/// `tz`. Errors name the field `scheduled_at`.
pub fn local_instant(date: &str, time: &str, tz: &str) -> Result<i64, FieldError> {
    let bad = || FieldError::new("scheduled_at", "datetime_invalid");
    let d: Date = date.trim().parse().map_err(|_| bad())?;
    let t: Time = time.trim().parse().map_err(|_| bad())?;
    instant_of(d.to_datetime(t), tz)
}

/// The instant (UTC ms) of the wall-clock `dt` in `tz`.
pub fn instant_of(dt: DateTime, tz: &str) -> Result<i64, FieldError> {
    let zone = zone(tz);
    let ambiguous = zone.to_ambiguous_zoned(dt);
    let zoned =
        match ambiguous.offset() {
            AmbiguousOffset::Gap { .. } => {
                return Err(FieldError::new("scheduled_at", "time_skipped")
                    .with("time", dt.strftime("%H:%M").to_string()));
            }
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => ambiguous
                .earlier()
                .map_err(|_| FieldError::new("scheduled_at", "datetime_invalid"))?,
        };
    Ok(zoned.timestamp().as_millisecond())
}

/// The wall-clock time of the instant `ms` in `tz`.
#[must_use]
pub fn local(ms: i64, tz: &str) -> jiff::Zoned {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone(tz))
}

/// Parses an RFC 3339 instant (`2026-03-29T09:00:00+02:00`) into UTC ms.
pub fn parse_rfc3339(raw: &str, field: &'static str) -> Result<i64, FieldError> {
    raw.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| FieldError::new(field, "datetime_invalid"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const AMS: &str = "Europe/Amsterdam";

    fn utc(ms: i64) -> String {
        jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
    }

    #[test]
    fn the_march_change_skips_an_hour() {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST.
        assert_eq!(
            utc(local_instant("2026-03-29", "01:59", AMS).unwrap()),
            "2026-03-29T00:59:00Z"
        );
        let e = local_instant("2026-03-29", "02:30", AMS).unwrap_err();
        assert_eq!((e.field, e.code), ("scheduled_at", "time_skipped"));
        assert_eq!(e.args, [("time", "02:30".to_owned())]);
        assert_eq!(
            utc(local_instant("2026-03-29", "03:00", AMS).unwrap()),
            "2026-03-29T01:00:00Z"
        );
    }

    #[test]
    fn the_october_change_means_the_first_of_two() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
        assert_eq!(
            utc(local_instant("2026-10-25", "02:30", AMS).unwrap()),
            "2026-10-25T00:30:00Z"
        );
        assert_eq!(
            utc(local_instant("2026-10-25", "03:30", AMS).unwrap()),
            "2026-10-25T02:30:00Z"
        );
    }

    #[test]
    fn bad_input_is_refused() {
        for (d, t) in [
            ("2026-02-30", "09:00"),
            ("morgen", "09:00"),
            ("2026-01-01", "25:00"),
            ("", ""),
        ] {
            assert_eq!(
                local_instant(d, t, AMS).unwrap_err().code,
                "datetime_invalid",
                "{d} {t}"
            );
        }
        assert!(parse_rfc3339("2026-03-29T09:00:00+02:00", "scheduled_at").is_ok());
        assert!(parse_rfc3339("2026-03-29 09:00", "scheduled_at").is_err());
    }

    #[test]
    fn local_shows_the_wall_clock() {
        let ms = local_instant("2026-07-01", "09:15", AMS).unwrap();
        assert_eq!(
            local(ms, AMS).strftime("%Y-%m-%d %H:%M").to_string(),
            "2026-07-01 09:15"
        );
    }
}
