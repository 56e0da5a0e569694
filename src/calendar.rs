//! Calendar rules shared by the sandbox and the script layer: the time-zone model ([`Zone`]) and
//! month arithmetic ([`add_months`]), both on jiff.
//!
//! Gandi's XML-RPC dateTimes carry no zone; the project reads them as **Europe/Paris** wall-clock
//! time (reference `gandi-paas-api.md` §2). Zone rules come from the IANA database that jiff
//! bundles into the binary, never from the machine's `/usr/share/zoneinfo` or `TZDIR`, so a
//! date reads the same on every host: Paris's full history (no summer time before 1976, the
//! September changes of 1981–1995, the EU rules since 1996), and any other IANA zone.
//!
//! Times here are counted in seconds from 1970-01-01T00:00:00: UTC seconds for instants, naive
//! wall-clock seconds ([`crate::xmlrpc::datetime::naive_seconds`]) for local times.

use std::fmt;
use std::sync::LazyLock;

use jiff::civil;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone, TimeZoneDatabase};
use jiff::{Span, Timestamp};

use crate::xmlrpc::datetime::{from_naive_seconds, naive_seconds};

/// The bundled database, opened once. Not `jiff::tz::db()`: that one prefers the system's zoneinfo
/// when another crate in the build enables jiff's `tzdb-zoneinfo` feature.
static DATABASE: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// Europe/Paris, resolved once: the sandbox's clock and the default zone read it on every call.
static PARIS: LazyLock<TimeZone> = LazyLock::new(|| DATABASE.get("Europe/Paris").unwrap_or(TimeZone::UTC));

/// A time zone: UTC, a fixed offset, or an IANA zone with its full history of rules.
#[derive(Clone, PartialEq, Eq)]
pub struct Zone(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    // Europe/Paris gets a variant of its own so that `Zone::EUROPE_PARIS` can be a constant: the
    // database is read on first use, not when the constant is named.
    Paris,
    Tz(TimeZone),
}

/// A zone name that [`Zone::parse`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone {0:?}: expected an IANA name such as Europe/Paris or America/New_York, UTC, or an offset such as +01:00"
)]
pub struct ZoneError(pub String);

impl Default for Zone {
    /// Europe/Paris, the zone Gandi's dateTimes are read in.
    fn default() -> Self {
        Zone::EUROPE_PARIS
    }
}

impl Zone {
    /// Europe/Paris (CET/CEST, with its history), the default.
    pub const EUROPE_PARIS: Zone = Zone(Repr::Paris);

    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone(Repr::Tz(TimeZone::UTC));

    /// Reads a zone: `UTC` (or `Z`, `Etc/UTC`), any IANA name in the bundled database
    /// (`Europe/Paris`, `America/New_York`; case does not matter), or a fixed offset
    /// `+hh:mm` / `-hh` / `+hhmm` of at most 18 hours.
    pub fn parse(text: &str) -> Result<Zone, ZoneError> {
        let t = text.trim();
        let err = || ZoneError(text.chars().take(64).collect());
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("etc/utc") {
            return Ok(Zone::UTC);
        }
        let (neg, rest) = match t.as_bytes().first() {
            Some(b'+') => (false, &t[1..]),
            Some(b'-') => (true, &t[1..]),
            // Anything else is a name; an empty one is refused before the database sees it.
            _ if t.is_empty() => return Err(err()),
            _ => {
                let tz = DATABASE.get(t).map_err(|_| err())?;
                return Ok(Zone::from_time_zone(tz));
            }
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
            return Err(err());
        }
        let hh: i32 = digits[..2].parse().map_err(|_| err())?;
        let mm: i32 = if digits.len() == 4 { digits[2..].parse().map_err(|_| err())? } else { 0 };
        if mm > 59 || hh * 60 + mm > 18 * 60 {
            return Err(err());
        }
        let secs = (hh * 60 + mm) * 60;
        let offset = Offset::from_seconds(if neg { -secs } else { secs }).map_err(|_| err())?;
        Ok(Zone::from_time_zone(TimeZone::fixed(offset)))
    }

    /// The zone of a jiff [`TimeZone`], for a host that already has one.
    pub fn from_time_zone(tz: TimeZone) -> Zone {
        if tz == *PARIS { Zone::EUROPE_PARIS } else { Zone(Repr::Tz(tz)) }
    }

    /// The jiff [`TimeZone`] behind the zone.
    pub fn time_zone(&self) -> &TimeZone {
        match &self.0 {
            Repr::Paris => &PARIS,
            Repr::Tz(tz) => tz,
        }
    }

    /// The offset from UTC, in seconds east, in force at the UTC instant `utc` (Unix seconds).
    pub fn offset_seconds(&self, utc: i64) -> i32 {
        // Beyond jiff's instants (about ±9999 years) the rules at the nearest end apply.
        let clamped = utc.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let at = Timestamp::from_second(clamped).unwrap_or(Timestamp::UNIX_EPOCH);
        self.time_zone().to_offset(at).seconds()
    }

    /// The local wall-clock time (naive seconds since 1970-01-01T00:00:00) at the UTC instant.
    pub fn to_local(&self, utc: i64) -> i64 {
        utc + i64::from(self.offset_seconds(utc))
    }

    /// The UTC instant of a local wall-clock time, disambiguated as jiff's (and RFC 5545's)
    /// "compatible" rule does: a time in the hour skipped in spring is read with the offset before
    /// the change (02:30 becomes 03:30 summer time); a time in the hour repeated in autumn is its
    /// first occurrence (summer time).
    pub fn to_utc(&self, local: i64) -> i64 {
        let lo = naive_seconds(civil::DateTime::MIN);
        let hi = naive_seconds(civil::DateTime::MAX);
        let dt = from_naive_seconds(local.clamp(lo, hi)).unwrap_or(civil::DateTime::MIN);
        // The offsets alone, not a `Timestamp`: jiff's instants stop a day short of the civil
        // range, and a date of 9999-12-31 still has an offset.
        let offset = match self.time_zone().to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset,
            AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => before,
        };
        local - i64::from(offset.seconds())
    }

    /// The zone's name (`Europe/Paris`, `UTC`, `+05:30`).
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tz = self.time_zone();
        if let Some(name) = tz.iana_name() {
            return f.write_str(name);
        }
        // A fixed offset (UTC included) has no IANA name; its one offset is its name.
        let secs = tz.to_offset(Timestamp::UNIX_EPOCH).seconds();
        if secs == 0 {
            return f.write_str("UTC");
        }
        let sign = if secs < 0 { '-' } else { '+' };
        let m = secs.unsigned_abs() / 60;
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({self})")
    }
}

/// `dt` moved by `months` calendar months (back when negative), the day clamped to the end of
/// the target month (31 January + 1 month = 28 or 29 February); the time of day is kept. `None`
/// when the result falls outside years 0–9999.
///
/// The one month arithmetic of the crate: the sandbox's renewals and the scripts' `months(n)`.
pub fn add_months(dt: civil::DateTime, months: i64) -> Option<civil::DateTime> {
    let span = Span::new().try_months(months).ok()?;
    // jiff constrains an impossible day to the month's last (Temporal's `overflow: "constrain"`).
    let out = dt.checked_add(span).ok()?;
    (0..=9999).contains(&out.year()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        naive_seconds(s.parse().unwrap())
    }

    #[test]
    fn paris_follows_its_history_not_one_rule_for_every_year() {
        for (at, offset, why) in [
            // Since 1996, the EU rule: the last Sundays of March and October, 01:00 UTC.
            ("2024-03-31T00:59:59", 3600, "winter until 31 March 2024"),
            ("2024-03-31T01:00:00", 7200, "summer from 31 March 2024"),
            ("2024-10-27T00:59:59", 7200, "summer until 27 October 2024"),
            ("2024-10-27T01:00:00", 3600, "winter from 27 October 2024"),
            ("2026-07-10T12:00:00", 7200, "summer 2026"),
            // 1990: summer time ended on the last Sunday of September (30th), not of October.
            ("1990-09-30T00:59:59", 7200, "summer until 30 September 1990"),
            ("1990-09-30T01:00:00", 3600, "winter from 30 September 1990"),
            ("1990-10-15T12:00:00", 3600, "winter in mid-October 1990"),
            // 1975: no summer time at all (France brought it back in 1976).
            ("1975-07-01T12:00:00", 3600, "no summer time in 1975"),
        ] {
            assert_eq!(Zone::EUROPE_PARIS.offset_seconds(utc(at)), offset, "{why}");
        }
    }

    #[test]
    fn local_and_utc_round_trip_with_gap_and_overlap_rules() {
        let z = Zone::EUROPE_PARIS;
        let t = utc("2024-07-01T10:00:00");
        assert_eq!(z.to_local(t), utc("2024-07-01T12:00:00"));
        assert_eq!(z.to_utc(z.to_local(t)), t);
        // 02:30 on 31 March 2024 does not exist in Paris: read with the winter offset.
        assert_eq!(z.to_utc(utc("2024-03-31T02:30:00")), utc("2024-03-31T01:30:00"));
        // 02:30 on 27 October 2024 happens twice: the first (summer) one is chosen.
        assert_eq!(z.to_utc(utc("2024-10-27T02:30:00")), utc("2024-10-27T00:30:00"));
        // The ends of the civil range convert without failing.
        assert_eq!(z.to_utc(utc("9999-12-31T23:00:00")), utc("9999-12-31T22:00:00"));
    }

    #[test]
    fn parses_names_and_offsets_and_rejects_the_rest() {
        assert_eq!(Zone::parse("Europe/Paris").unwrap(), Zone::EUROPE_PARIS);
        assert_eq!(Zone::parse("europe/paris").unwrap().name(), "Europe/Paris");
        assert_eq!(Zone::parse("utc").unwrap(), Zone::UTC);
        assert_eq!(Zone::UTC.name(), "UTC");
        assert_eq!(Zone::parse("America/New_York").unwrap().name(), "America/New_York");
        assert_eq!(Zone::parse("+05:30").unwrap().offset_seconds(0), 19_800);
        assert_eq!(Zone::parse("-03").unwrap().name(), "-03:00");
        assert_eq!(Zone::parse("+0100").unwrap().to_string(), "+01:00");
        for bad in ["Mars/Olympus", "+25:00", "+1", "", "+01:99", "Europe/"] {
            let e = Zone::parse(bad).unwrap_err();
            assert!(e.to_string().contains("unknown time zone"), "{bad}: {e}");
        }
    }

    #[test]
    fn months_clamp_at_the_month_end() {
        let add = |s: &str, n| add_months(s.parse().unwrap(), n).map(|d| d.to_string());
        assert_eq!(add("2024-01-31T10:00:00", 1).as_deref(), Some("2024-02-29T10:00:00"));
        assert_eq!(add("2023-01-31T10:00:00", 1).as_deref(), Some("2023-02-28T10:00:00"));
        assert_eq!(add("2024-11-30T00:00:00", 14).as_deref(), Some("2026-01-30T00:00:00"));
        assert_eq!(add("2024-03-31T00:00:00", -1).as_deref(), Some("2024-02-29T00:00:00"));
        assert_eq!(add("9999-12-01T00:00:00", 1), None);
        assert_eq!(add("0000-01-01T00:00:00", -1), None);
        assert_eq!(add("2024-01-01T00:00:00", i64::MAX), None);
    }
}
