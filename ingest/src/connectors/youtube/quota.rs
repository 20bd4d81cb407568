//! The YouTube Data API's daily quota: its day (midnight to midnight Pacific Time, when Google
//! resets the units), computed without a time-zone database from the US daylight-saving rule,
//! and the pacing of the polls over what is left of it.
//!
//! Pacific Time is UTC−8 (PST), and UTC−7 (PDT) from the second Sunday of March at 2:00 PST
//! (10:00 UTC) to the first Sunday of November at 2:00 PDT (09:00 UTC), the rule in force
//! since 2007.

use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d` (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The day number (since 1970-01-01) of the `n`th Sunday of month `m` of year `y`.
fn nth_sunday(y: i64, m: u32, n: i64) -> i64 {
    let first = days_from_civil(y, m, 1);
    // 1970-01-01 was a Thursday: (days + 4) mod 7 is 0 on Sundays.
    let weekday = (first + 4).rem_euclid(7);
    first + (7 - weekday) % 7 + 7 * (n - 1)
}

/// The days (since 1970-01-01) on which daylight-saving time starts and ends in year `y`.
fn dst_days(y: i64) -> (i64, i64) {
    (nth_sunday(y, 3, 2), nth_sunday(y, 11, 1))
}

/// Whether the instant `utc_ms` (Unix milliseconds) is in Pacific daylight time.
pub fn is_pdt(utc_ms: i64) -> bool {
    let (y, _, _) = civil_from_days(utc_ms.div_euclid(DAY_MS));
    let (start, end) = dst_days(y);
    let start_ms = start * DAY_MS + 10 * HOUR_MS;
    let end_ms = end * DAY_MS + 9 * HOUR_MS;
    (start_ms..end_ms).contains(&utc_ms)
}

/// The Pacific date of `utc_ms`, as a day number since 1970-01-01.
pub fn pacific_day(utc_ms: i64) -> i64 {
    let offset = if is_pdt(utc_ms) { 7 } else { 8 };
    (utc_ms - offset * HOUR_MS).div_euclid(DAY_MS)
}

/// The Pacific date of `utc_ms` written `YYYY-MM-DD` (the day the quota units count against).
pub fn pacific_date(utc_ms: i64) -> String {
    let (y, m, d) = civil_from_days(pacific_day(utc_ms));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The instant (Unix milliseconds) of the midnight Pacific Time that starts Pacific day `day`.
/// Midnight is never inside a change (they happen at 2:00): it is PDT from the day after the
/// change to daylight time to the day of the change back, included.
pub fn pacific_midnight(day: i64) -> i64 {
    let (y, _, _) = civil_from_days(day);
    let (start, end) = dst_days(y);
    let offset = if start < day && day <= end { 7 } else { 8 };
    day * DAY_MS + offset * HOUR_MS
}

/// When the quota resets after `utc_ms`: the next midnight Pacific Time.
pub fn next_reset_ms(utc_ms: i64) -> i64 {
    pacific_midnight(pacific_day(utc_ms) + 1)
}

/// What the budget allows before a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Poll after this wait (zero: at once), the units left being spread over the time left.
    After(Duration),
    /// Not even the poll's least calls are left: wait this long, until the reset.
    Exhausted(Duration),
}

/// The budget at `now_ms` for a connector allowed `daily` units, having used `used` today:
/// exhausted when fewer units are left than `least_calls` (one per target, what any poll
/// costs); otherwise the units left are spread over the time left until the reset, polls of
/// `calls_per_poll` units (the last poll's) starting at least `time_left / (units_left /
/// calls_per_poll)` apart, counted from the last poll's start (`last_start_ms`).
pub fn budget(
    now_ms: i64,
    daily: u64,
    used: u64,
    least_calls: u64,
    calls_per_poll: u64,
    last_start_ms: Option<i64>,
) -> Budget {
    let time_left_ms = (next_reset_ms(now_ms) - now_ms).max(0);
    let units_left = daily.saturating_sub(used);
    if units_left < least_calls.max(1) {
        return Budget::Exhausted(Duration::from_millis(time_left_ms as u64));
    }
    let polls_left = (units_left / calls_per_poll.max(least_calls).max(1)).max(1);
    let spacing_ms = (time_left_ms as u64) / polls_left;
    let since_last_ms = last_start_ms.map_or(u64::MAX, |last| (now_ms - last).max(0) as u64);
    Budget::After(Duration::from_millis(spacing_ms.saturating_sub(since_last_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        vigie_core::model::parse_rfc3339_ms(rfc3339).unwrap()
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [-800_000, -1, 0, 59, 365, 11_016, 20_000, 20_788, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn the_changes_fall_on_the_documented_sundays() {
        let date = |d: i64| civil_from_days(d);
        assert_eq!(date(dst_days(2026).0), (2026, 3, 8));
        assert_eq!(date(dst_days(2026).1), (2026, 11, 1));
        assert_eq!(date(dst_days(2024).0), (2024, 3, 10));
        assert_eq!(date(dst_days(2024).1), (2024, 11, 3));
        assert_eq!(date(dst_days(2025).0), (2025, 3, 9));
        assert_eq!(date(dst_days(2025).1), (2025, 11, 2));
        assert_eq!(date(dst_days(2027).0), (2027, 3, 14));
        assert_eq!(date(dst_days(2027).1), (2027, 11, 7));
    }

    #[test]
    fn the_pacific_day_and_its_reset_on_both_sides_of_each_change() {
        // Winter: PST, midnight is 08:00 UTC.
        assert_eq!(pacific_date(ms("2026-01-15T07:59:59Z")), "2026-01-14");
        assert_eq!(pacific_date(ms("2026-01-15T08:00:00Z")), "2026-01-15");
        assert_eq!(
            next_reset_ms(ms("2026-01-15T12:00:00Z")),
            ms("2026-01-16T08:00:00Z")
        );
        // Spring forward, Sunday 2026-03-08 at 02:00 PST = 10:00 UTC.
        assert!(!is_pdt(ms("2026-03-08T09:59:59Z")));
        assert!(is_pdt(ms("2026-03-08T10:00:00Z")));
        assert_eq!(pacific_date(ms("2026-03-08T07:59:00Z")), "2026-03-07");
        assert_eq!(
            next_reset_ms(ms("2026-03-07T12:00:00Z")),
            ms("2026-03-08T08:00:00Z")
        );
        assert_eq!(pacific_date(ms("2026-03-08T08:00:00Z")), "2026-03-08");
        // The day of the change is 23 hours long: its midnight is PST, the next one PDT.
        assert_eq!(
            next_reset_ms(ms("2026-03-08T09:00:00Z")),
            ms("2026-03-09T07:00:00Z")
        );
        assert_eq!(
            next_reset_ms(ms("2026-03-08T11:00:00Z")),
            ms("2026-03-09T07:00:00Z")
        );
        assert_eq!(pacific_date(ms("2026-03-09T06:59:59Z")), "2026-03-08");
        assert_eq!(pacific_date(ms("2026-03-09T07:00:00Z")), "2026-03-09");
        // Summer: PDT, midnight is 07:00 UTC.
        assert_eq!(pacific_date(ms("2026-07-04T06:59:59Z")), "2026-07-03");
        assert_eq!(
            next_reset_ms(ms("2026-07-04T06:59:59Z")),
            ms("2026-07-04T07:00:00Z")
        );
        // Fall back, Sunday 2026-11-01 at 02:00 PDT = 09:00 UTC.
        assert!(is_pdt(ms("2026-11-01T08:59:59Z")));
        assert!(!is_pdt(ms("2026-11-01T09:00:00Z")));
        assert_eq!(pacific_date(ms("2026-11-01T06:59:59Z")), "2026-10-31");
        assert_eq!(pacific_date(ms("2026-11-01T07:00:00Z")), "2026-11-01");
        assert_eq!(
            next_reset_ms(ms("2026-10-31T20:00:00Z")),
            ms("2026-11-01T07:00:00Z")
        );
        // The day of the change is 25 hours long: its midnight is PDT, the next one PST.
        assert_eq!(
            next_reset_ms(ms("2026-11-01T08:30:00Z")),
            ms("2026-11-02T08:00:00Z")
        );
        assert_eq!(
            next_reset_ms(ms("2026-11-01T12:00:00Z")),
            ms("2026-11-02T08:00:00Z")
        );
        assert_eq!(pacific_date(ms("2026-11-02T07:59:59Z")), "2026-11-01");
        assert_eq!(pacific_date(ms("2026-11-02T08:00:00Z")), "2026-11-02");
        // Another year's Sundays (2024: March 10, November 3) and a year's end.
        assert_eq!(
            next_reset_ms(ms("2024-03-10T12:00:00Z")),
            ms("2024-03-11T07:00:00Z")
        );
        assert_eq!(
            next_reset_ms(ms("2024-11-03T12:00:00Z")),
            ms("2024-11-04T08:00:00Z")
        );
        assert_eq!(pacific_date(ms("2027-01-01T03:00:00Z")), "2026-12-31");
        assert_eq!(
            next_reset_ms(ms("2027-01-01T03:00:00Z")),
            ms("2027-01-01T08:00:00Z")
        );
    }

    #[test]
    fn the_budget_spreads_what_is_left_and_waits_for_the_reset_when_exhausted() {
        let s = Duration::from_secs;
        // 2026-12-01 12:00 PST: 12 hours (43,200 s) to the reset.
        let noon = ms("2026-12-01T20:00:00Z");
        let five_min_ago = Some(noon - 300_000);
        // Plenty: 10,000 units, 2 a poll: 8.64 s apart, long passed.
        assert_eq!(budget(noon, 10_000, 0, 2, 2, five_min_ago), Budget::After(s(0)));
        assert_eq!(budget(noon, 10_000, 0, 2, 2, None), Budget::After(s(0)));
        // 100 units left, 4 a poll: 25 polls over 43,200 s, 1,728 s apart; 300 s passed.
        assert_eq!(
            budget(noon, 10_000, 9_900, 2, 4, five_min_ago),
            Budget::After(s(1_428))
        );
        // Never fewer calls a poll than its targets.
        assert_eq!(
            budget(noon, 10_000, 9_900, 4, 1, five_min_ago),
            Budget::After(s(1_428))
        );
        // Enough for one poll: it waits until just before the reset.
        assert_eq!(
            budget(noon, 10_000, 9_997, 2, 4, Some(noon)),
            Budget::After(s(43_200))
        );
        // Fewer units than targets: exhausted until the reset.
        assert_eq!(
            budget(noon, 10_000, 9_999, 2, 2, five_min_ago),
            Budget::Exhausted(s(43_200))
        );
        assert_eq!(
            budget(noon, 10_000, 12_000, 1, 1, None),
            Budget::Exhausted(s(43_200))
        );
    }
}
