//! The time zone in which the runtime reads Gandi's zone-less dateTimes.
//!
//! Gandi's XML-RPC dateTimes carry no zone; the project reads them as **Europe/Paris** local
//! time by default (reference `gandi-paas-api.md` §2). [`Zone`] implements that zone's rules
//! without a time-zone database: UTC+1 in winter (CET), UTC+2 in summer (CEST), summer time from
//! the last Sunday of March at 01:00 UTC to the last Sunday of October at 01:00 UTC. These are the
//! EU rules in force since 1996; they are applied to every year.

use std::fmt;

/// A time zone: UTC, a fixed offset, or a zone following the EU summer-time rules.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// Coordinated Universal Time.
    Utc,
    /// A fixed offset from UTC, in minutes east (e.g. `60` for UTC+01:00). At most ±18 hours.
    Fixed(i32),
    /// A zone that follows the EU summer-time rules: `standard_minutes` east of UTC in winter,
    /// one hour more from the last Sunday of March to the last Sunday of October (01:00 UTC).
    /// Europe/Paris is `standard_minutes: 60`; Europe/London `0`; Europe/Helsinki `120`.
    EuSummerTime {
        /// The winter (standard) offset in minutes east of UTC.
        standard_minutes: i32,
        /// The zone's name, for display (`"Europe/Paris"`).
        name: &'static str,
    },
}

/// A zone name that [`Zone::parse`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone {0:?}: expected Europe/Paris, Europe/London, Europe/Berlin, UTC, or an offset such as +01:00"
)]
pub struct ZoneError(pub String);

const EU_ZONES: [(&str, i32); 14] = [
    ("Europe/Paris", 60),
    ("Europe/Berlin", 60),
    ("Europe/Brussels", 60),
    ("Europe/Amsterdam", 60),
    ("Europe/Luxembourg", 60),
    ("Europe/Madrid", 60),
    ("Europe/Rome", 60),
    ("Europe/Zurich", 60),
    ("CET", 60),
    ("Europe/London", 0),
    ("Europe/Dublin", 0),
    ("Europe/Lisbon", 0),
    ("Europe/Helsinki", 120),
    ("Europe/Athens", 120),
];

impl Default for Zone {
    /// Europe/Paris, the zone Gandi's dateTimes are read in.
    fn default() -> Self {
        Zone::EUROPE_PARIS
    }
}

impl Zone {
    /// Europe/Paris (CET/CEST), the default.
    pub const EUROPE_PARIS: Zone = Zone::EuSummerTime { standard_minutes: 60, name: "Europe/Paris" };

    /// Reads a zone name: `UTC` (or `Z`), one of a few EU zone names (`Europe/Paris`,
    /// `Europe/London`, `Europe/Berlin`, `CET`…), or a fixed offset `+hh:mm` / `-hh` / `+hhmm`.
    pub fn parse(text: &str) -> Result<Zone, ZoneError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("etc/utc") {
            return Ok(Zone::Utc);
        }
        if let Some((name, m)) = EU_ZONES.iter().find(|(n, _)| n.eq_ignore_ascii_case(t)) {
            return Ok(Zone::EuSummerTime { standard_minutes: *m, name });
        }
        let err = || ZoneError(text.chars().take(64).collect());
        let (neg, rest) = match t.as_bytes().first() {
            Some(b'+') => (false, &t[1..]),
            Some(b'-') => (true, &t[1..]),
            _ => return Err(err()),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
            return Err(err());
        }
        let hh: i32 = digits[..2].parse().map_err(|_| err())?;
        let mm: i32 = if digits.len() == 4 { digits[2..].parse().map_err(|_| err())? } else { 0 };
        if hh > 18 || mm > 59 || hh * 60 + mm > 18 * 60 {
            return Err(err());
        }
        let m = hh * 60 + mm;
        Ok(Zone::Fixed(if neg { -m } else { m }))
    }

    /// The offset from UTC, in minutes east, in force at the UTC instant `utc` (Unix seconds).
    pub fn offset_at_utc(&self, utc: i64) -> i32 {
        match *self {
            Zone::Utc => 0,
            Zone::Fixed(m) => m,
            Zone::EuSummerTime { standard_minutes, .. } => {
                let year = year_of_utc(utc);
                let start = last_sunday_utc(year, 3) + 3600;
                let end = last_sunday_utc(year, 10) + 3600;
                if (start..end).contains(&utc) { standard_minutes + 60 } else { standard_minutes }
            }
        }
    }

    /// The local wall-clock time (naive seconds since 1970-01-01T00:00:00) at the UTC instant.
    pub fn to_local(&self, utc: i64) -> i64 {
        utc + i64::from(self.offset_at_utc(utc)) * 60
    }

    /// The UTC instant of a local wall-clock time. In the hour skipped in spring, the time is read
    /// with the winter offset (02:30 becomes 03:30 summer time); in the hour repeated in autumn,
    /// the first (summer-time) occurrence is chosen.
    pub fn to_utc(&self, local: i64) -> i64 {
        match *self {
            Zone::Utc => local,
            Zone::Fixed(m) => local - i64::from(m) * 60,
            Zone::EuSummerTime { standard_minutes, .. } => {
                let summer = local - i64::from(standard_minutes + 60) * 60;
                if self.offset_at_utc(summer) == standard_minutes + 60 {
                    summer
                } else {
                    local - i64::from(standard_minutes) * 60
                }
            }
        }
    }

    /// The zone's name (`Europe/Paris`, `UTC`, `+05:30`).
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Zone::Utc => f.write_str("UTC"),
            Zone::Fixed(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
            Zone::EuSummerTime { name, .. } => f.write_str(name),
        }
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({self})")
    }
}

pub(crate) use crate::xmlrpc::datetime::{civil_from_days, days_from_civil};

/// The ISO weekday (1 = Monday … 7 = Sunday) of a day number since 1970-01-01 (a Thursday).
pub(crate) fn iso_weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

fn year_of_utc(utc: i64) -> i64 {
    civil_from_days(utc.div_euclid(86_400)).0
}

/// Midnight UTC of the last Sunday of `month` in `year`, as Unix seconds.
fn last_sunday_utc(year: i64, month: i64) -> i64 {
    let last = days_from_civil(year, month, 31);
    let back = iso_weekday(last) % 7; // Sunday → 0, Monday → 1, …
    (last - back) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60
    }

    #[test]
    fn paris_switches_at_one_utc_on_the_last_sundays() {
        let z = Zone::EUROPE_PARIS;
        // 2024: summer time from Sunday 31 March 01:00 UTC to Sunday 27 October 01:00 UTC.
        assert_eq!(z.offset_at_utc(utc(2024, 3, 31, 0, 59)), 60);
        assert_eq!(z.offset_at_utc(utc(2024, 3, 31, 1, 0)), 120);
        assert_eq!(z.offset_at_utc(utc(2024, 10, 27, 0, 59)), 120);
        assert_eq!(z.offset_at_utc(utc(2024, 10, 27, 1, 0)), 60);
        // 2026: 29 March and 25 October.
        assert_eq!(z.offset_at_utc(utc(2026, 3, 29, 1, 0)), 120);
        assert_eq!(z.offset_at_utc(utc(2026, 3, 28, 12, 0)), 60);
        assert_eq!(z.offset_at_utc(utc(2026, 10, 25, 0, 0)), 120);
        assert_eq!(z.offset_at_utc(utc(2026, 10, 25, 1, 0)), 60);
        assert_eq!(z.offset_at_utc(utc(2026, 1, 10, 12, 0)), 60);
        assert_eq!(z.offset_at_utc(utc(2026, 7, 10, 12, 0)), 120);
    }

    #[test]
    fn local_and_utc_round_trip_with_gap_and_overlap_rules() {
        let z = Zone::EUROPE_PARIS;
        let t = utc(2024, 7, 1, 10, 0);
        assert_eq!(z.to_local(t), utc(2024, 7, 1, 12, 0));
        assert_eq!(z.to_utc(z.to_local(t)), t);
        // 02:30 on 31 March 2024 does not exist in Paris: read with the winter offset.
        assert_eq!(z.to_utc(utc(2024, 3, 31, 2, 30)), utc(2024, 3, 31, 1, 30));
        // 02:30 on 27 October 2024 happens twice: the first (summer) one is chosen.
        assert_eq!(z.to_utc(utc(2024, 10, 27, 2, 30)), utc(2024, 10, 27, 0, 30));
    }

    #[test]
    fn parses_names_and_offsets_and_rejects_the_rest() {
        assert_eq!(Zone::parse("Europe/Paris").unwrap(), Zone::EUROPE_PARIS);
        assert_eq!(Zone::parse("utc").unwrap(), Zone::Utc);
        assert_eq!(Zone::parse("+05:30").unwrap(), Zone::Fixed(330));
        assert_eq!(Zone::parse("-03").unwrap(), Zone::Fixed(-180));
        assert_eq!(Zone::parse("+0100").unwrap().to_string(), "+01:00");
        for bad in ["Mars/Olympus", "+25:00", "+1", "", "+01:99"] {
            let e = Zone::parse(bad).unwrap_err();
            assert!(e.to_string().contains("unknown time zone"), "{bad}: {e}");
        }
    }
}
