//! The sandbox clock: UTC seconds from the system or a fixed start, plus an offset that
//! `sandbox.clock.advance` moves, rendered as naive Europe/Paris time like Gandi's dateTimes.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::xmlrpc::DateTime;
use crate::xmlrpc::datetime::days_in_month;

/// Where the sandbox clock starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// The system clock (the default).
    #[default]
    System,
    /// A frozen clock at these UTC seconds since 1970; it moves only with `sandbox.clock.advance`
    /// (deterministic tests).
    Fixed(i64),
}

impl ClockMode {
    /// The base UTC time in seconds since 1970, before any offset.
    pub fn base_now(self) -> i64 {
        match self {
            ClockMode::System => {
                SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
            }
            ClockMode::Fixed(t) => t,
        }
    }
}

/// UTC seconds of 01:00 UTC on the last Sunday of `month` in `year` (EU summer-time switch).
fn last_sunday_1am_utc(year: u16, month: u8) -> i64 {
    let last = days_in_month(year, month);
    let dt = DateTime { year, month, day: last, hour: 1, minute: 0, second: 0, offset_minutes: None };
    let days = dt.days_since_epoch();
    // 1970-01-01 was a Thursday: weekday 0 = Sunday gives (days + 4) mod 7.
    let back = (days + 4).rem_euclid(7);
    dt.naive_timestamp() - back * 86_400
}

/// Europe/Paris offset from UTC in seconds at UTC instant `utc` (CET +1 h, CEST +2 h between the
/// last Sundays of March and October at 01:00 UTC).
pub fn paris_offset(utc: i64) -> i64 {
    let Some(d) = DateTime::from_naive_timestamp(utc) else { return 3600 };
    let start = last_sunday_1am_utc(d.year, 3);
    let end = last_sunday_1am_utc(d.year, 10);
    if utc >= start && utc < end { 7200 } else { 3600 }
}

/// Naive Paris wall-clock seconds (as [`DateTime::naive_timestamp`] counts them) for UTC `utc`.
pub fn paris_stamp(utc: i64) -> i64 {
    utc + paris_offset(utc)
}

/// A naive-seconds stamp as a dateTime (clamped to year 0–9999).
pub fn stamp_to_datetime(stamp: i64) -> DateTime {
    DateTime::from_naive_timestamp(stamp).unwrap_or(DateTime {
        year: if stamp < 0 { 0 } else { 9999 },
        month: if stamp < 0 { 1 } else { 12 },
        day: if stamp < 0 { 1 } else { 31 },
        hour: 0,
        minute: 0,
        second: 0,
        offset_minutes: None,
    })
}

/// Naive Paris time at UTC instant `utc`, as a dateTime.
pub fn paris_datetime(utc: i64) -> DateTime {
    stamp_to_datetime(paris_stamp(utc))
}

/// `stamp` moved forward by `months` calendar months, the day clamped to the end of the target
/// month (31 January + 1 month = 28 or 29 February).
pub fn add_months(stamp: i64, months: u32) -> i64 {
    let d = stamp_to_datetime(stamp);
    let total = i64::from(d.month) - 1 + i64::from(months);
    let year = i64::from(d.year) + total / 12;
    if year > 9999 {
        return stamp_to_datetime(i64::MAX / 4).naive_timestamp();
    }
    let year = year as u16;
    let month = (total % 12) as u8 + 1;
    let day = d.day.min(days_in_month(year, month));
    DateTime { year, month, day, ..d }.naive_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        DateTime::parse(s).unwrap().naive_timestamp()
    }

    #[test]
    fn paris_switches_between_cet_and_cest_on_the_last_sundays() {
        // 2024: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC.
        assert_eq!(paris_offset(utc("20240331T00:59:59")), 3600);
        assert_eq!(paris_offset(utc("20240331T01:00:00")), 7200);
        assert_eq!(paris_offset(utc("20241027T00:59:59")), 7200);
        assert_eq!(paris_offset(utc("20241027T01:00:00")), 3600);
        assert_eq!(paris_datetime(utc("20110914T12:36:30")).to_string(), "20110914T14:36:30");
        assert_eq!(paris_datetime(utc("20240115T12:00:00")).to_string(), "20240115T13:00:00");
    }

    #[test]
    fn months_are_calendar_months_with_the_day_clamped() {
        let s = |t: &str| DateTime::parse(t).unwrap().naive_timestamp();
        let show = |x: i64| stamp_to_datetime(x).to_string();
        assert_eq!(show(add_months(s("20240131T10:00:00"), 1)), "20240229T10:00:00");
        assert_eq!(show(add_months(s("20230131T10:00:00"), 1)), "20230228T10:00:00");
        assert_eq!(show(add_months(s("20111014T14:36:30"), 3)), "20120114T14:36:30");
        assert_eq!(show(add_months(s("20241130T00:00:00"), 14)), "20260130T00:00:00");
        assert_eq!(show(add_months(s("20240531T00:00:00"), 0)), "20240531T00:00:00");
    }
}
