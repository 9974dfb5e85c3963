//! Tests of the slot and recurrence arithmetic, with the daylight-saving
//! changes of Europe/Amsterdam spelled out.

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
    let r = Recurrence::parse("weekly", &[1], None, "09:00", "2026-06-01", None, Some(2)).unwrap();
    let later = r.occurrences(AMS, at("2026-06-05", "00:00"), at("2027-01-01", "00:00"));
    assert_eq!(later.len(), 1, "the count holds from the start: {later:?}");
    assert_eq!(later[0].0, 1);
}

#[test]
fn a_series_goes_out_or_not_from_an_instant() {
    let now = at("2026-12-04", "12:00");
    // Twelve years ahead: beyond any fixed window from now, still a series.
    let far =
        Recurrence::parse("weekly", &[7], None, "09:00", "2038-03-14", None, Some(3)).unwrap();
    assert!(far.goes_out_from(AMS, now));
    // Ended before now, or its count spent before now: never again.
    let over = Recurrence::parse(
        "weekly",
        &[1],
        None,
        "09:00",
        "2026-06-01",
        Some("2026-06-30"),
        None,
    )
    .unwrap();
    assert!(!over.goes_out_from(AMS, now));
    let spent =
        Recurrence::parse("weekly", &[1], None, "09:00", "2026-06-01", None, Some(2)).unwrap();
    assert!(!spent.goes_out_from(AMS, now));
    assert!(spent.goes_out_from(AMS, at("2026-06-05", "00:00")));
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
