//! The script's date and duration types.
//!
//! - [`Date`]: a naive local date and time with second precision, years 0–9999, read in the
//!   runtime's [`Zone`] (Europe/Paris by default). API dateTimes become `Date`s and go
//!   back to the API as XML-RPC dateTimes. Scripts see the type as `date`.
//! - [`Span`]: a duration made of calendar months, calendar days and seconds, shifting a date as
//!   jiff shifts a zoned date: `months(1)` means "the same day next month" (clamped at the month's
//!   end: 31 January + 1 month = 28 or 29 February), `days(1)` "the same time tomorrow" (23 or 25
//!   hours across a summer-time change), and `hours(1)` one hour of elapsed time, read in the
//!   runtime's zone. Measured (`.hours`) or compared, a day counts as 24 hours. Scripts see the type
//!   as `duration`.
//!
//! A date prints in ISO 8601 extended form, `2027-01-31T00:00:00`; [`Date::to_api_string`] gives the
//! API's compact form `20270131T00:00:00`.

use std::fmt;

use jiff::civil;

use crate::calendar::{Zone, add_months};
use crate::xmlrpc::DateTime;
use crate::xmlrpc::datetime::{from_naive_seconds, naive_seconds};

/// Why a date could not be built, shifted, parsed or formatted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The text is not a date.
    #[error(
        "invalid date {text:?}: {reason} (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS, or the API's YYYYMMDDTHH:MM:SS)"
    )]
    Parse {
        /// The text (at most 64 characters).
        text: String,
        /// What was wrong.
        reason: String,
    },
    /// The result would fall outside years 0–9999.
    #[error("date out of range (years 0 to 9999): {0}")]
    OutOfRange(String),
    /// A field given to a constructor is out of range.
    #[error("invalid date: {0}")]
    Field(String),
    /// A format string uses an unknown `%` directive.
    #[error(
        "unknown format directive {directive:?} in {format:?} (known: %Y %y %m %d %e %H %M %S %j %a %A %b %B %F %T %s %%)"
    )]
    Format {
        /// The directive (`%q`).
        directive: String,
        /// The whole format string (at most 64 characters).
        format: String,
    },
    /// A duration with months cannot be expressed in days, hours… or compared with one without.
    #[error("{0}")]
    Months(String),
}

/// A naive local date and time (second precision, years 0–9999). Scripts: `date`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// The wall-clock date and time, whole seconds, year 0–9999 (checked by every constructor).
    dt: civil::DateTime,
}

/// A duration: calendar months, calendar days and seconds. Scripts: `duration`.
///
/// Equality and order count a day as 24 hours (`days(1) == hours(24)`), as measuring does; only
/// shifting a date tells them apart, across a summer-time change.
#[derive(Clone, Copy, Default)]
pub struct Span {
    months: i64,
    days: i64,
    secs: i64,
}

/// The `%` directives [`Date::format`] accepts (jiff renders them; `%s` is rendered here, from
/// the zone). jiff knows more, but the documented set is the promise, and `%Q` and the like stay
/// errors that name the directive.
const DIRECTIVES: &str = "YymdeHMSjaAbBFTs%";

impl Date {
    /// The date of a civil date and time; fails outside years 0–9999. A fraction of a second is
    /// dropped.
    pub fn from_civil(dt: civil::DateTime) -> Result<Date, DateError> {
        if !(0..=9999).contains(&dt.year()) {
            return Err(DateError::OutOfRange(dt.to_string()));
        }
        Ok(Date { dt: dt.with().subsec_nanosecond(0).build().unwrap_or(dt) })
    }

    /// The civil date and time, for a host that works with jiff.
    pub fn to_civil(&self) -> civil::DateTime {
        self.dt
    }

    /// The date from local wall-clock seconds since 1970-01-01T00:00:00.
    pub fn from_local_seconds(secs: i64) -> Result<Date, DateError> {
        from_naive_seconds(secs)
            .ok_or_else(|| DateError::OutOfRange(format!("{secs} seconds from 1970-01-01")))
            .and_then(Date::from_civil)
    }

    /// Local wall-clock seconds since 1970-01-01T00:00:00.
    pub fn local_seconds(&self) -> i64 {
        naive_seconds(self.dt)
    }

    /// A date from its fields; fails on an impossible date (30 February, hour 24…).
    pub fn new(
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        minute: i64,
        second: i64,
    ) -> Result<Date, DateError> {
        if !(0..=9999).contains(&year) {
            return Err(DateError::Field(format!("year {year} is not between 0 and 9999")));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::Field(format!("month {month} is not between 1 and 12")));
        }
        let dim = i64::from(civil::date(year as i16, month as i8, 1).days_in_month());
        if !(1..=dim).contains(&day) {
            return Err(DateError::Field(format!(
                "day {day} is not between 1 and {dim} for {year:04}-{month:02}"
            )));
        }
        if !(0..=23).contains(&hour) || !(0..=59).contains(&minute) || !(0..=59).contains(&second) {
            return Err(DateError::Field(format!(
                "time {hour:02}:{minute:02}:{second:02} is not a valid time of day"
            )));
        }
        Date::from_civil(civil::datetime(
            year as i16,
            month as i8,
            day as i8,
            hour as i8,
            minute as i8,
            second as i8,
            0,
        ))
    }

    /// The local date of an XML-RPC dateTime. A dateTime without a zone (as Gandi sends) is taken
    /// as local time in `zone`; one with an offset is converted into `zone`. A leap second (`:60`)
    /// is read as the next second.
    pub fn from_datetime(dt: &DateTime, zone: &Zone) -> Result<Date, DateError> {
        let naive = dt.naive_timestamp();
        let local = match dt.offset_minutes {
            None => naive,
            Some(off) => zone.to_local(naive - i64::from(off) * 60),
        };
        Date::from_local_seconds(local)
    }

    /// The XML-RPC dateTime (no zone) that carries this local date and time to the API.
    pub fn to_datetime(&self) -> DateTime {
        // Years 0–9999 by construction, so the fallback is never taken.
        DateTime::from_civil(self.dt).unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// The local date and time at the UTC instant `unix` (seconds since the Unix epoch).
    pub fn from_unix(unix: i64, zone: &Zone) -> Result<Date, DateError> {
        Date::from_local_seconds(zone.to_local(unix))
    }

    /// The UTC instant (Unix seconds) of this local time in `zone`.
    pub fn to_unix(&self, zone: &Zone) -> i64 {
        zone.to_utc(self.local_seconds())
    }

    /// Parses `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-MM-DDTHH:MM[:SS]`, `YYYY-MM-DD HH:MM:SS`, and every
    /// form XML-RPC peers send (`YYYYMMDDTHH:MM:SS`, `YYYYMMDDTHHMMSS`, with an optional fraction,
    /// which is dropped). A trailing zone (`Z`, `+02:00`) converts the time into `zone`.
    pub fn parse(text: &str, zone: &Zone) -> Result<Date, DateError> {
        let t = text.trim();
        let err = |reason: &str| DateError::Parse {
            text: text.chars().take(64).collect(),
            reason: reason.to_string(),
        };
        if t.is_empty() {
            return Err(err("empty text"));
        }
        let b = t.as_bytes();
        let is_dashed_date = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
        let is_compact_date = b.len() == 8 && b.iter().all(u8::is_ascii_digit);
        let full;
        let t = if is_dashed_date || is_compact_date {
            full = format!("{t}T00:00:00");
            full.as_str()
        } else if b.len() == 16 && b[4] == b'-' && b[13] == b':' {
            // YYYY-MM-DDTHH:MM without seconds.
            full = format!("{t}:00");
            full.as_str()
        } else {
            t
        };
        let dt = DateTime::parse(t).map_err(|e| err(e.reason))?;
        Date::from_datetime(&dt, zone)
    }

    /// The year (0–9999).
    pub fn year(&self) -> i64 {
        i64::from(self.dt.year())
    }
    /// The month (1–12).
    pub fn month(&self) -> i64 {
        i64::from(self.dt.month())
    }
    /// The day of the month (1–31).
    pub fn day(&self) -> i64 {
        i64::from(self.dt.day())
    }
    /// The hour (0–23).
    pub fn hour(&self) -> i64 {
        i64::from(self.dt.hour())
    }
    /// The minute (0–59).
    pub fn minute(&self) -> i64 {
        i64::from(self.dt.minute())
    }
    /// The second (0–59).
    pub fn second(&self) -> i64 {
        i64::from(self.dt.second())
    }
    /// The ISO weekday: 1 = Monday … 7 = Sunday.
    pub fn weekday(&self) -> i64 {
        i64::from(self.dt.weekday().to_monday_one_offset())
    }
    /// The day of the year (1–366).
    pub fn day_of_year(&self) -> i64 {
        i64::from(self.dt.day_of_year())
    }
    /// Days since 1970-01-01 of the date part.
    pub fn day_number(&self) -> i64 {
        self.local_seconds().div_euclid(86_400)
    }
    /// Midnight at the start of the same day.
    pub fn start_of_day(&self) -> Date {
        Date { dt: self.dt.start_of_day() }
    }

    /// The date shifted by a span, in the order jiff (and RFC 5545) use: calendar months first
    /// (the day clamped to the target month's length), then calendar days (the time of day kept),
    /// then hours, minutes and seconds as elapsed time in `zone`, so that `d + hours(1)` is one
    /// real hour later, also across a summer-time change.
    pub fn add(&self, span: Span, zone: &Zone) -> Result<Date, DateError> {
        let range = || DateError::OutOfRange(format!("{self} + {span}"));
        let dt = match span.months {
            0 => self.dt,
            months => add_months(self.dt, months).ok_or_else(range)?,
        };
        let day_secs = span.days.checked_mul(86_400).ok_or_else(range)?;
        let mut local = naive_seconds(dt).checked_add(day_secs).ok_or_else(range)?;
        if span.secs != 0 {
            let utc = zone.to_utc(local).checked_add(span.secs).ok_or_else(range)?;
            local = zone.to_local(utc);
        }
        Date::from_local_seconds(local).map_err(|_| range())
    }

    /// The date shifted back by a span (see [`Date::add`]).
    pub fn sub(&self, span: Span, zone: &Zone) -> Result<Date, DateError> {
        self.add(span.checked_neg().ok_or_else(|| DateError::OutOfRange(format!("-{span}")))?, zone)
    }

    /// The API's compact form, `YYYYMMDDTHH:MM:SS`.
    pub fn to_api_string(&self) -> String {
        self.to_datetime().to_string()
    }

    /// Formats with `strftime`-style directives: `%Y` (2027), `%y` (27), `%m` (01), `%d` (05),
    /// `%e` (` 5`), `%H`, `%M`, `%S`, `%j` (day of year, 001), `%a` (Mon), `%A` (Monday),
    /// `%b` (Jan), `%B` (January), `%F` (`%Y-%m-%d`), `%T` (`%H:%M:%S`), `%s` (Unix seconds, given
    /// the zone), `%%`. Any other directive is an error.
    pub fn format(&self, fmt: &str, zone: &Zone) -> Result<String, DateError> {
        let bad = |directive: String| DateError::Format { directive, format: fmt.chars().take(64).collect() };
        // Check every directive against the documented set, and put the Unix seconds in for
        // `%s` (jiff would need an instant; the zone gives one even at the ends of the range).
        let mut checked = String::with_capacity(fmt.len());
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                checked.push(c);
                continue;
            }
            match chars.next() {
                None => return Err(bad("%".into())),
                Some('s') => checked.push_str(&self.to_unix(zone).to_string()),
                Some(k) if DIRECTIVES.contains(k) => {
                    checked.push('%');
                    checked.push(k);
                }
                Some(other) => return Err(bad(format!("%{other}"))),
            }
        }
        jiff::fmt::strtime::format(checked.as_bytes(), self.dt).map_err(|e| bad(e.to_string()))
    }
}

impl fmt::Display for Date {
    /// ISO 8601 extended form: `2027-01-31T00:00:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // jiff's own form, which omits a zero fraction and pads the year to four digits.
        write!(f, "{}", self.dt)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "date(\"{self}\")")
    }
}

impl Span {
    /// A span of seconds (elapsed time).
    pub const fn seconds(secs: i64) -> Span {
        Span { months: 0, days: 0, secs }
    }

    /// A span of calendar months.
    pub const fn months(months: i64) -> Span {
        Span { months, days: 0, secs: 0 }
    }

    /// A span of calendar days.
    pub const fn days(days: i64) -> Span {
        Span { months: 0, days, secs: 0 }
    }

    /// `n` units of `unit_days` calendar days (`days`, `weeks`), or an error on overflow.
    pub fn of_days(n: i64, unit_days: i64, unit: &str) -> Result<Span, DateError> {
        n.checked_mul(unit_days).map(Span::days).ok_or_else(|| DateError::OutOfRange(format!("{n} {unit}")))
    }

    /// `n` units of `unit_secs` seconds, or an error on overflow.
    pub fn of(n: i64, unit_secs: i64, unit: &str) -> Result<Span, DateError> {
        n.checked_mul(unit_secs)
            .map(Span::seconds)
            .ok_or_else(|| DateError::OutOfRange(format!("{n} {unit}")))
    }

    /// `n` years, i.e. 12·n calendar months.
    pub fn years(n: i64) -> Result<Span, DateError> {
        n.checked_mul(12).map(Span::months).ok_or_else(|| DateError::OutOfRange(format!("{n} years")))
    }

    /// The calendar-month part.
    pub fn month_part(&self) -> i64 {
        self.months
    }

    /// The calendar-day part.
    pub fn day_part(&self) -> i64 {
        self.days
    }

    /// The seconds (elapsed-time) part.
    pub fn second_part(&self) -> i64 {
        self.secs
    }

    /// The days and seconds in seconds, a day counting as 24 hours (i128: no overflow).
    fn fixed_secs(&self) -> i128 {
        i128::from(self.days) * 86_400 + i128::from(self.secs)
    }

    /// The whole number of `unit_secs` units in the span (truncated toward zero), a day counting
    /// as 24 hours; an error if the span has a month part, whose length in days is not fixed.
    pub fn total(&self, unit_secs: i64, unit: &str) -> Result<i64, DateError> {
        if self.months != 0 {
            return Err(DateError::Months(format!(
                "the duration {self} contains calendar months, which have no fixed number of {unit}"
            )));
        }
        i64::try_from(self.fixed_secs() / i128::from(unit_secs))
            .map_err(|_| DateError::OutOfRange(format!("{self} in {unit}")))
    }

    /// The sum of two spans.
    pub fn checked_add(&self, o: Span) -> Option<Span> {
        Some(Span {
            months: self.months.checked_add(o.months)?,
            days: self.days.checked_add(o.days)?,
            secs: self.secs.checked_add(o.secs)?,
        })
    }

    /// The negated span.
    pub fn checked_neg(&self) -> Option<Span> {
        Some(Span {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            secs: self.secs.checked_neg()?,
        })
    }

    /// The span multiplied by `n`.
    pub fn checked_mul(&self, n: i64) -> Option<Span> {
        Some(Span {
            months: self.months.checked_mul(n)?,
            days: self.days.checked_mul(n)?,
            secs: self.secs.checked_mul(n)?,
        })
    }

    /// Orders two spans, a day counting as 24 hours; an error when either has a month part
    /// (months vary in length) unless both are whole months.
    pub fn compare(&self, o: &Span) -> Result<std::cmp::Ordering, DateError> {
        match (self.months, o.months, self.fixed_secs(), o.fixed_secs()) {
            (0, 0, a, b) => Ok(a.cmp(&b)),
            (a, b, 0, 0) => Ok(a.cmp(&b)),
            _ => Err(DateError::Months(format!(
                "cannot compare {self} with {o}: calendar months have no fixed length"
            ))),
        }
    }
}

impl PartialEq for Span {
    fn eq(&self, o: &Span) -> bool {
        (self.months, self.fixed_secs()) == (o.months, o.fixed_secs())
    }
}

impl Eq for Span {}

impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // What `eq` compares, so that equal spans hash alike.
        (self.months, self.fixed_secs()).hash(state);
    }
}

impl fmt::Display for Span {
    /// ISO 8601 duration: `P1M`, `P30D`, `PT2H30M`, `-P1DT1S`, `PT0S` (a day as 24 hours).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fixed = self.fixed_secs();
        let neg = (self.months < 0 || fixed < 0) && self.months <= 0 && fixed <= 0;
        let (months, secs) =
            if neg { (i128::from(self.months).abs(), fixed.abs()) } else { (i128::from(self.months), fixed) };
        if neg {
            f.write_str("-")?;
        }
        f.write_str("P")?;
        let (y, mo) = (months / 12, months % 12);
        if y != 0 {
            write!(f, "{y}Y")?;
        }
        if mo != 0 {
            write!(f, "{mo}M")?;
        }
        let (d, rest) = (secs / 86_400, secs % 86_400);
        if d != 0 {
            write!(f, "{d}D")?;
        }
        let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
        if h != 0 || m != 0 || s != 0 || (months == 0 && d == 0) {
            f.write_str("T")?;
            if h != 0 {
                write!(f, "{h}H")?;
            }
            if m != 0 {
                write!(f, "{m}M")?;
            }
            if s != 0 || (h == 0 && m == 0) {
                write!(f, "{s}S")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "duration({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &Zone = &Zone::EUROPE_PARIS;

    fn d(s: &str) -> Date {
        Date::parse(s, P).unwrap()
    }

    #[test]
    fn months_clamp_at_the_month_end_and_respect_leap_years() {
        assert_eq!(d("2027-01-31").add(Span::months(1), P).unwrap(), d("2027-02-28"));
        assert_eq!(d("2028-01-31").add(Span::months(1), P).unwrap(), d("2028-02-29"));
        assert_eq!(d("2100-01-31").add(Span::months(1), P).unwrap(), d("2100-02-28"));
        assert_eq!(d("2000-01-31").add(Span::months(1), P).unwrap(), d("2000-02-29"));
        assert_eq!(d("2027-03-31").sub(Span::months(1), P).unwrap(), d("2027-02-28"));
        assert_eq!(d("2027-12-15T10:00:00").add(Span::months(1), P).unwrap(), d("2028-01-15T10:00:00"));
        assert_eq!(d("2028-02-29").add(Span::years(1).unwrap(), P).unwrap(), d("2029-02-28"));
        assert_eq!(d("2027-01-31").sub(Span::months(13), P).unwrap(), d("2025-12-31"));
    }

    #[test]
    fn days_cross_month_and_year_ends() {
        let day = Span::days(1);
        assert_eq!(d("2028-02-28").add(day, P).unwrap(), d("2028-02-29"));
        assert_eq!(d("2027-02-28").add(day, P).unwrap(), d("2027-03-01"));
        assert_eq!(d("2027-12-31T23:30:00").add(day, P).unwrap(), d("2028-01-01T23:30:00"));
        assert_eq!(d("2027-01-01").sub(day, P).unwrap(), d("2026-12-31"));
    }

    #[test]
    fn parse_forms_and_errors() {
        assert_eq!(d("20270131T10:00:00"), d("2027-01-31T10:00:00"));
        assert_eq!(d("2027-01-31T10:00"), d("2027-01-31T10:00:00"));
        assert_eq!(d("20270131"), d("2027-01-31T00:00:00"));
        // 08:00 UTC in winter is 09:00 in Paris.
        assert_eq!(d("2027-01-31T08:00:00Z"), d("2027-01-31T09:00:00"));
        let e = Date::parse("2027-02-30", P).unwrap_err().to_string();
        assert!(e.contains("\"2027-02-30\"") && e.contains("day out of range"), "{e}");
        let e = Date::parse("next tuesday", P).unwrap_err().to_string();
        assert!(e.contains("expected YYYY-MM-DD"), "{e}");
        assert!(Date::parse("", P).unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn display_format_and_api_forms() {
        let x = d("2027-01-05T07:08:09");
        assert_eq!(x.to_string(), "2027-01-05T07:08:09");
        assert_eq!(x.to_api_string(), "20270105T07:08:09");
        assert_eq!(x.format("%d/%m/%Y %H:%M", P).unwrap(), "05/01/2027 07:08");
        assert_eq!(
            x.format("%A %e %B %y, day %j, 100%%", P).unwrap(),
            "Tuesday  5 January 27, day 005, 100%"
        );
        assert_eq!(x.format("%F %T", P).unwrap(), "2027-01-05 07:08:09");
        let e = x.format("%Q", P).unwrap_err().to_string();
        assert!(e.contains("%Q"), "{e}");
        assert!(x.format("50%", P).is_err());
    }

    #[test]
    fn spans_print_as_iso_durations() {
        assert_eq!(Span::months(1).to_string(), "P1M");
        assert_eq!(Span::months(14).to_string(), "P1Y2M");
        assert_eq!(Span::seconds(30 * 86_400).to_string(), "P30D");
        assert_eq!(Span::seconds(9000).to_string(), "PT2H30M");
        assert_eq!(Span::seconds(-86_401).to_string(), "-P1DT1S");
        assert_eq!(Span::seconds(0).to_string(), "PT0S");
        assert!(Span::months(1).total(86_400, "days").is_err());
        assert_eq!(Span::seconds(-90_000).total(86_400, "days").unwrap(), -1);
    }

    #[test]
    fn days_are_calendar_days_and_hours_elapsed_time() {
        // 31 March 2024, Paris: 02:00 becomes 03:00.
        let noon = d("2024-03-30T12:00:00");
        assert_eq!(noon.add(Span::days(1), P).unwrap(), d("2024-03-31T12:00:00"));
        assert_eq!(noon.add(Span::seconds(86_400), P).unwrap(), d("2024-03-31T13:00:00"));
        assert_eq!(d("2024-03-31T01:30:00").add(Span::seconds(3600), P).unwrap(), d("2024-03-31T03:30:00"));
        assert_eq!(d("2024-03-31T03:30:00").sub(Span::seconds(3600), P).unwrap(), d("2024-03-31T01:30:00"));
        // In UTC the two agree.
        let utc = &Zone::UTC;
        assert_eq!(noon.add(Span::seconds(86_400), utc).unwrap(), noon.add(Span::days(1), utc).unwrap());
        // Measured and compared, a day is 24 hours.
        assert_eq!(Span::days(1), Span::seconds(86_400));
        assert_eq!(Span::days(2).checked_add(Span::seconds(-3600)).unwrap().to_string(), "P1DT23H");
        assert_eq!(Span::days(1).total(3600, "hours").unwrap(), 24);
        assert!(Span::of_days(i64::MAX, 7, "weeks").is_err());
    }

    #[test]
    fn range_is_enforced() {
        assert!(d("9999-12-31").add(Span::seconds(86_400), P).is_err());
        assert!(d("0000-01-01").sub(Span::seconds(1), P).is_err());
        assert!(d("9999-12-01").add(Span::months(1), P).is_err());
        assert!(Date::new(2027, 2, 29, 0, 0, 0).unwrap_err().to_string().contains("between 1 and 28"));
        let dt = crate::xmlrpc::DateTime::parse("20270131T10:00:00").unwrap();
        assert_eq!(Date::from_datetime(&dt, P).unwrap().to_datetime(), dt);
    }
}
