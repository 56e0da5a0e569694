//! The sandbox clock: UTC seconds from the system or a fixed start, plus an offset that
//! `sandbox.clock.advance` moves, rendered as naive Europe/Paris time like Gandi's dateTimes. The
//! zone rules and month arithmetic are the crate's shared ones ([`crate::calendar`]).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::calendar::{self, Zone};
use crate::xmlrpc::DateTime;
use crate::xmlrpc::datetime::{from_naive_seconds, naive_seconds};

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

/// Naive Paris wall-clock seconds (as [`DateTime::naive_timestamp`] counts them) for UTC `utc`.
pub fn paris_stamp(utc: i64) -> i64 {
    Zone::EUROPE_PARIS.to_local(utc)
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
/// month (31 January + 1 month = 28 or 29 February), by the crate's one month arithmetic
/// ([`calendar::add_months`]). Past year 9999 it stays at the last day the API can carry.
pub fn add_months(stamp: i64, months: u32) -> i64 {
    from_naive_seconds(stamp)
        .and_then(|d| calendar::add_months(d, i64::from(months)))
        .map_or_else(|| stamp_to_datetime(i64::MAX).naive_timestamp(), naive_seconds)
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
        let offset = |t: &str| paris_stamp(utc(t)) - utc(t);
        assert_eq!(offset("20240331T00:59:59"), 3600);
        assert_eq!(offset("20240331T01:00:00"), 7200);
        assert_eq!(offset("20241027T00:59:59"), 7200);
        assert_eq!(offset("20241027T01:00:00"), 3600);
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
        assert_eq!(show(add_months(s("99991215T00:00:00"), 1)), "99991231T00:00:00", "saturates");
    }
}
