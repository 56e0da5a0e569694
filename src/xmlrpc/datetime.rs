//! The XML-RPC `dateTime.iso8601` type: a naive date and time with second precision.
//!
//! The calendar (month lengths, leap years, day counts) is jiff's: [`DateTime::to_civil`] and
//! [`DateTime::from_civil`] convert to and from [`jiff::civil::DateTime`], and
//! [`naive_seconds`] / [`from_naive_seconds`] count seconds on the clock from 1970. Only the wire
//! forms are read and written here.

use std::fmt;
use std::str::FromStr;

use jiff::civil;

/// A naive date and time, second precision, as XML-RPC carries it (`19980717T14:08:55`).
///
/// XML-RPC dateTimes carry no zone: the server documents which one it means (Gandi uses
/// Europe/Paris local time). When a peer does send a zone (`Z` or `+02:00`), the decoder keeps the
/// clock fields exactly as written and records the offset in [`DateTime::offset_minutes`]; it never
/// converts silently. A fractional second is dropped (truncated).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateTime {
    /// Year, 0–9999.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31 (checked against the month).
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–60 (60 only for a leap second).
    pub second: u8,
    /// The UTC offset in minutes the peer wrote, if it wrote one (`Z` is `Some(0)`).
    pub offset_minutes: Option<i16>,
}

/// Why a dateTime string could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid dateTime {text:?}: {reason}")]
pub struct DateTimeError {
    /// The text as received (truncated to 64 characters).
    pub text: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl DateTime {
    /// 1970-01-01T00:00:00, without an offset.
    pub const UNIX_EPOCH: DateTime =
        DateTime { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, offset_minutes: None };

    /// A naive date and time; fails if a field is out of range (the 30th of February, hour 24…).
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<DateTime, DateTimeError> {
        let dt = DateTime { year, month, day, hour, minute, second, offset_minutes: None };
        dt.validate().map_err(|reason| DateTimeError { text: dt.to_string(), reason })?;
        Ok(dt)
    }

    fn validate(&self) -> Result<(), &'static str> {
        if self.year > 9999 {
            return Err("year out of range");
        }
        if !(1..=12).contains(&self.month) {
            return Err("month out of range");
        }
        // jiff knows the month lengths; the year and month are in its range, checked above.
        let month_days = civil::Date::new(self.year as i16, self.month as i8, 1)
            .map_or(0, |first| first.days_in_month() as u8);
        if self.day == 0 || self.day > month_days {
            return Err("day out of range for the month");
        }
        if self.hour > 23 {
            return Err("hour out of range");
        }
        if self.minute > 59 {
            return Err("minute out of range");
        }
        if self.second > 60 {
            return Err("second out of range");
        }
        Ok(())
    }

    /// Parses the forms peers send: `YYYYMMDDTHH:MM:SS` (the spec), `YYYY-MM-DDTHH:MM:SS`,
    /// `YYYYMMDDTHHMMSS`, each optionally followed by a fraction (`.123`) and a zone
    /// (`Z`, `+hh`, `+hhmm`, `+hh:mm`). Surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<DateTime, DateTimeError> {
        let err = |reason| DateTimeError { text: text.chars().take(64).collect(), reason };
        let s = text.trim().as_bytes();
        let mut p = Cursor { s, i: 0 };
        let year = p.digits(4).ok_or_else(|| err("expected a 4-digit year"))?;
        let dashed = p.eat(b'-');
        let month = p.digits(2).ok_or_else(|| err("expected a 2-digit month"))?;
        if dashed && !p.eat(b'-') {
            return Err(err("expected '-' after the month"));
        }
        let day = p.digits(2).ok_or_else(|| err("expected a 2-digit day"))?;
        if !(p.eat(b'T') || p.eat(b't') || p.eat(b' ')) {
            return Err(err("expected 'T' between date and time"));
        }
        let hour = p.digits(2).ok_or_else(|| err("expected a 2-digit hour"))?;
        let colons = p.eat(b':');
        let minute = p.digits(2).ok_or_else(|| err("expected 2-digit minutes"))?;
        if colons && !p.eat(b':') {
            return Err(err("expected ':' after the minutes"));
        }
        let second = p.digits(2).ok_or_else(|| err("expected 2-digit seconds"))?;
        if p.eat(b'.') || p.eat(b',') {
            let start = p.i;
            while p.i < s.len() && s[p.i].is_ascii_digit() {
                p.i += 1;
            }
            if p.i == start {
                return Err(err("expected digits after the decimal point"));
            }
        }
        let offset_minutes = if p.i == s.len() {
            None
        } else if p.eat(b'Z') || p.eat(b'z') {
            Some(0)
        } else if s[p.i] == b'+' || s[p.i] == b'-' {
            let neg = s[p.i] == b'-';
            p.i += 1;
            let hh = p.digits(2).ok_or_else(|| err("expected a 2-digit zone hour"))?;
            let mm = if p.i == s.len() {
                0
            } else {
                p.eat(b':');
                p.digits(2).ok_or_else(|| err("expected 2-digit zone minutes"))?
            };
            if hh > 23 || mm > 59 {
                return Err(err("zone offset out of range"));
            }
            let m = (hh * 60 + mm) as i16;
            Some(if neg { -m } else { m })
        } else {
            return Err(err("unexpected text after the time"));
        };
        if p.i != s.len() {
            return Err(err("unexpected text after the zone"));
        }
        let dt = DateTime {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            offset_minutes,
        };
        dt.validate().map_err(err)?;
        Ok(dt)
    }

    /// The same clock fields without the recorded zone offset.
    pub fn naive(self) -> DateTime {
        DateTime { offset_minutes: None, ..self }
    }

    /// The civil (zone-less) date and time of the clock fields, as jiff models it. jiff has no leap
    /// seconds, so `:60` becomes `:59` here ([`DateTime::naive_timestamp`] counts it as the next
    /// second instead).
    pub fn to_civil(&self) -> civil::DateTime {
        // `validate` (run by every constructor) keeps the fields in jiff's ranges; a value built
        // field by field out of range falls back to the epoch rather than panicking.
        civil::DateTime::new(
            self.year as i16,
            self.month as i8,
            self.day as i8,
            self.hour as i8,
            self.minute as i8,
            self.second.min(59) as i8,
            0,
        )
        .unwrap_or(EPOCH)
    }

    /// The dateTime of a civil date and time, without an offset; `None` outside years 0–9999. The
    /// fraction of a second is dropped (truncated), as the wire has none.
    pub fn from_civil(dt: civil::DateTime) -> Option<DateTime> {
        if !(0..=9999).contains(&dt.year()) {
            return None;
        }
        Some(DateTime {
            year: dt.year() as u16,
            month: dt.month() as u8,
            day: dt.day() as u8,
            hour: dt.hour() as u8,
            minute: dt.minute() as u8,
            second: dt.second() as u8,
            offset_minutes: None,
        })
    }

    /// Days since 1970-01-01 of the date part (proleptic Gregorian).
    pub fn days_since_epoch(&self) -> i64 {
        // From the civil value, where a leap second stays in its own day.
        naive_seconds(self.to_civil()).div_euclid(86_400)
    }

    /// Seconds since 1970-01-01T00:00:00 of the clock fields, ignoring any offset.
    pub fn naive_timestamp(&self) -> i64 {
        naive_seconds(self.to_civil()) + i64::from(self.second == 60)
    }

    /// The naive date and time `secs` seconds after 1970-01-01T00:00:00; `None` outside years 0–9999.
    pub fn from_naive_timestamp(secs: i64) -> Option<DateTime> {
        from_naive_seconds(secs).and_then(DateTime::from_civil)
    }
}

/// 1970-01-01T00:00:00, the origin of naive seconds.
const EPOCH: civil::DateTime = civil::date(1970, 1, 1).at(0, 0, 0, 0);

/// Seconds from 1970-01-01T00:00:00 to the civil date and time `dt`, counted on the clock (no
/// zone, so every day has 86,400 seconds); the fraction of a second is dropped (floored).
///
/// This and [`from_naive_seconds`] are the crate's one conversion between civil dates and the
/// seconds that the sandbox and the script dates count in.
pub fn naive_seconds(dt: civil::DateTime) -> i64 {
    let d = dt.duration_since(EPOCH);
    // Floor, so that 1969-12-31T23:59:59.5 is second -1, not 0.
    d.as_secs() - i64::from(d.subsec_nanos() < 0)
}

/// The civil date and time `secs` seconds after 1970-01-01T00:00:00 (the inverse of
/// [`naive_seconds`]); `None` outside jiff's range (years −9999 to 9999).
pub fn from_naive_seconds(secs: i64) -> Option<civil::DateTime> {
    EPOCH.checked_add(jiff::SignedDuration::from_secs(secs)).ok()
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.s.get(self.i..self.i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }
}

impl fmt::Display for DateTime {
    /// The compact XML-RPC form, `YYYYMMDDTHH:MM:SS`, as Gandi sends it. The offset is not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset_minutes {
            None => write!(f, "DateTime({self})"),
            Some(o) => write!(f, "DateTime({self}, offset {o:+} min)"),
        }
    }
}

impl FromStr for DateTime {
    type Err = DateTimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateTime::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_peers_send() {
        let want = DateTime::new(2011, 10, 14, 14, 36, 30).unwrap();
        for s in [
            "20111014T14:36:30",
            " 20111014T14:36:30\n",
            "2011-10-14T14:36:30",
            "20111014T143630",
            "20111014T14:36:30.250",
        ] {
            assert_eq!(DateTime::parse(s).unwrap(), want, "{s}");
        }
        let z = DateTime::parse("2011-10-14T14:36:30.000Z").unwrap();
        assert_eq!(z.offset_minutes, Some(0));
        assert_eq!(z.naive(), want);
        assert_eq!(DateTime::parse("20111014T14:36:30+02:00").unwrap().offset_minutes, Some(120));
        assert_eq!(DateTime::parse("20111014T14:36:30-0130").unwrap().offset_minutes, Some(-90));
    }

    #[test]
    fn rejects_impossible_dates_with_a_reason() {
        for (s, why) in [
            ("20110230T00:00:00", "day out of range"),
            ("20110229T00:00:00", "day out of range"),
            ("20111014T24:00:00", "hour out of range"),
            ("2011101T14:36:30", "2-digit day"),
            ("20111014T14:36:30junk", "unexpected text"),
            ("", "4-digit year"),
        ] {
            let e = DateTime::parse(s).unwrap_err();
            assert!(e.to_string().contains(why), "{s}: {e}");
        }
        assert!(DateTime::parse("20120229T00:00:00").is_ok(), "2012 is a leap year");
        assert!(DateTime::parse("20000229T00:00:00").is_ok(), "2000 is a leap year");
        assert!(DateTime::parse("19000229T00:00:00").is_err(), "1900 is not");
    }

    #[test]
    fn timestamps_round_trip_across_eras() {
        for s in ["19700101T00:00:00", "20000229T23:59:59", "19691231T23:59:59", "00010101T00:00:00"] {
            let d = DateTime::parse(s).unwrap();
            assert_eq!(DateTime::from_naive_timestamp(d.naive_timestamp()).unwrap(), d, "{s}");
        }
        assert_eq!(DateTime::parse("19700102T00:00:01").unwrap().naive_timestamp(), 86_401);
        // A leap second is the next second, but stays in its own day.
        let leap = DateTime::parse("19721231T23:59:60").unwrap();
        assert_eq!(leap.naive_timestamp(), DateTime::parse("19730101T00:00:00").unwrap().naive_timestamp());
        assert_eq!(leap.days_since_epoch(), DateTime::parse("19721231T00:00:00").unwrap().days_since_epoch());
        assert_eq!(naive_seconds("1969-12-31T23:59:59.5".parse().unwrap()), -1, "floored");
    }
}
