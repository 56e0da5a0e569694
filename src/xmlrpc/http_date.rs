//! HTTP-dates (RFC 9110 §5.6.7): written in every reply's `Date` header by the server, and read
//! from replies by the client, which learns the server's clock from them.

use std::time::{Duration, SystemTime};

use super::datetime::DateTime;

#[cfg(feature = "server")]
/// An HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`) for `t`.
pub(crate) fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let Some(dt) = DateTime::from_naive_timestamp(secs) else {
        return "Thu, 01 Jan 1970 00:00:00 GMT".into();
    };
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[dt.days_since_epoch().rem_euclid(7) as usize],
        dt.day,
        MONTHS[usize::from(dt.month - 1)],
        dt.year,
        dt.hour,
        dt.minute,
        dt.second
    )
}

/// The time an HTTP-date in the preferred form (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110
/// §5.6.7) states; `None` for anything else (the obsolete forms are not worth a guess).
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let rest = text.trim().split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u8 = parts.next()?.parse().ok()?;
    let name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == name)? as u8 + 1;
    let year: u16 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u8>().ok());
    let (hour, minute, second) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next() != Some("GMT") || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    let dt = DateTime::new(year, month, day, hour, minute, second).ok()?;
    let secs = u64::try_from(dt.naive_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[test]
    fn http_dates_read_back() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_123);
        assert_eq!(parse_http_date(&http_date(t)), Some(t));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_dates_are_rfc_9110() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
