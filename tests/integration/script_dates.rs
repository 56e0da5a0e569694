//! The script date type: arithmetic across month ends and leap years, durations, comparison,
//! formatting, parsing errors, zones and the clock.

use crate::support::script as support;

use gandish::Runtime;
use gandish::script::display::to_display;
use gandish::script::{Date, Error, Zone};
use rhai::Dynamic;
use support::*;

/// A runtime with no server behind it and the clock pinned to `unix` (UTC seconds).
fn at(unix: i64, zone: Zone) -> Runtime {
    Runtime::builder()
        .endpoint("http://127.0.0.1:9/xmlrpc/")
        .key("k")
        .zone(zone)
        .clock(move || unix)
        .build()
        .unwrap()
}

fn s(rt: &Runtime, script: &str) -> String {
    let v: Dynamic = rt.eval(script).unwrap_or_else(|e| panic!("{script}: {e}"));
    to_display(&v)
}

/// 2024-01-15T12:00:00 UTC.
const NOON_UTC: i64 = 1_705_320_000;

#[test]
fn months_clamp_at_month_end_across_leap_years() {
    let rt = at(NOON_UTC, Zone::EUROPE_PARIS);
    for (script, want) in [
        (r#"date("2027-01-31") + months(1)"#, "2027-02-28T00:00:00"),
        (r#"date("2028-01-31") + months(1)"#, "2028-02-29T00:00:00"),
        (r#"date("2100-01-31") + months(1)"#, "2100-02-28T00:00:00"),
        (r#"date("2000-01-31") + months(1)"#, "2000-02-29T00:00:00"),
        (r#"date("2027-03-31") - months(1)"#, "2027-02-28T00:00:00"),
        (r#"date("2027-05-31T10:30:00") + months(1)"#, "2027-06-30T10:30:00"),
        (r#"date("2028-02-29") + years(1)"#, "2029-02-28T00:00:00"),
        (r#"date("2028-02-29") + years(4)"#, "2032-02-29T00:00:00"),
        (r#"date("2027-11-30") + months(3)"#, "2028-02-29T00:00:00"),
        (r#"date("2027-01-31") + months(1) + months(1)"#, "2027-03-28T00:00:00"),
        (r#"date("2027-01-31") + months(2)"#, "2027-03-31T00:00:00"),
    ] {
        assert_eq!(s(&rt, script), want, "{script}");
    }
}

#[test]
fn days_and_hours_cross_month_and_year_ends() {
    let rt = at(NOON_UTC, Zone::EUROPE_PARIS);
    for (script, want) in [
        (r#"date("2028-02-28") + days(1)"#, "2028-02-29T00:00:00"),
        (r#"date("2027-02-28") + days(1)"#, "2027-03-01T00:00:00"),
        (r#"date("2027-12-31T23:00:00") + hours(2)"#, "2028-01-01T01:00:00"),
        (r#"date("2028-03-01") - days(1)"#, "2028-02-29T00:00:00"),
        (r#"date("2027-01-01") - seconds(1)"#, "2026-12-31T23:59:59"),
        (r#"date("2027-01-01") + weeks(2) + minutes(90)"#, "2027-01-15T01:30:00"),
        (r#"days(30) + date("2027-01-15")"#, "2027-02-14T00:00:00"),
    ] {
        assert_eq!(s(&rt, script), want, "{script}");
    }
}

#[test]
fn subtraction_gives_a_duration_with_days_hours_minutes_seconds() {
    let rt = at(NOON_UTC, Zone::Utc);
    let v = rt
        .eval(r#"let d = date("2028-03-01T06:30:15") - date("2028-02-28T00:00:00"); [d.days, d.hours, d.minutes, d.seconds, d.to_string()]"#)
        .unwrap()
        .into_array()
        .unwrap();
    assert_eq!(v[0].as_int().unwrap(), 2, "29 February 2028 exists");
    assert_eq!(v[1].as_int().unwrap(), 54);
    assert_eq!(v[2].as_int().unwrap(), 54 * 60 + 30);
    assert_eq!(v[3].as_int().unwrap(), (54 * 60 + 30) * 60 + 15);
    assert_eq!(v[4].clone().into_string().unwrap(), "P2DT6H30M15S");
    assert_eq!(s(&rt, r#"(date("2027-03-01") - date("2027-02-28")).days"#), "1");
    assert_eq!(s(&rt, r#"(date("2027-01-01") - date("2027-01-02")).hours"#), "-24");
    assert_eq!(s(&rt, r#"days(1) * 3 - hours(1)"#), "P2DT23H");
    assert_eq!(s(&rt, r#"-days(1)"#), "-P1D");
    assert_eq!(s(&rt, r#"months(14)"#), "P1Y2M");
    assert_eq!(s(&rt, r#"days(1) > hours(23)"#), "true");
    // A month has no fixed number of days: a clear, catchable error.
    let e = rt.eval("months(1).days").unwrap_err().to_string();
    assert!(e.contains("calendar months"), "{e}");
    assert_eq!(s(&rt, r#"let m = (); try { months(1) < days(30) } catch (e) { m = e.kind } m"#), "argument");
}

#[test]
fn durations_across_the_paris_summer_time_switch_count_real_hours() {
    let rt = at(NOON_UTC, Zone::EUROPE_PARIS);
    // 31 March 2024: 02:00 → 03:00 in Paris, so midnight to midnight is 23 hours.
    assert_eq!(s(&rt, r#"(date("2024-04-01") - date("2024-03-31")).hours"#), "23");
    assert_eq!(s(&rt, r#"(date("2024-10-28") - date("2024-10-27")).hours"#), "25");
    // Shifting by days keeps the wall-clock time.
    assert_eq!(s(&rt, r#"date("2024-03-30T12:00:00") + days(1)"#), "2024-03-31T12:00:00");
}

#[test]
fn comparison_and_properties() {
    let rt = at(NOON_UTC, Zone::EUROPE_PARIS);
    let v = rt
        .eval(
            r#"let a = date("2027-01-31"); let b = date(2027, 2, 1);
               [a < b, a <= a, a == date("20270131T00:00:00"), a != b, b > a, b >= a,
                a.year, a.month, a.day, a.weekday, b.day_of_year, date(2027, 1, 31, 10, 5, 7).minute]"#,
        )
        .unwrap()
        .into_array()
        .unwrap();
    let bools: Vec<bool> = v[..6].iter().map(|b| b.as_bool().unwrap()).collect();
    assert_eq!(bools, [true, true, true, true, true, true]);
    let ints: Vec<i64> = v[6..].iter().map(|i| i.as_int().unwrap()).collect();
    assert_eq!(ints, [2027, 1, 31, 7, 32, 5], "31 January 2027 is a Sunday (ISO 7)");
}

#[test]
fn format_print_and_the_api_form() {
    let sb = sandbox();
    let (rt, out) = runtime(&sb);
    let _ = eval(
        &rt,
        r#"let d = date("2027-01-05T07:08:09");
           print(d);
           print(`ends ${d}`);
           print(d.format("%d/%m/%Y %H:%M (%a %e %b)"));
           print(d.to_api());
           debug(d);"#,
    );
    assert_eq!(
        out.lines(),
        [
            "2027-01-05T07:08:09",
            "ends 2027-01-05T07:08:09",
            "05/01/2027 07:08 (Tue  5 Jan)",
            "20270105T07:08:09"
        ]
    );
    let e = rt.eval(r#"date("2027-01-05").format("%Q")"#).unwrap_err().to_string();
    assert!(e.contains("%Q") && e.contains("format"), "{e}");
}

#[test]
fn parse_errors_are_clear_and_carry_the_line() {
    let rt = at(NOON_UTC, Zone::EUROPE_PARIS);
    let e = rt.eval("let ok = date(\"2027-01-31\");\nlet bad = date(\"2027-02-30\");").unwrap_err();
    assert_eq!(e.line(), Some(2), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("\"2027-02-30\"") && msg.contains("day out of range"), "{msg}");
    let msg = rt.eval(r#"date("tomorrow")"#).unwrap_err().to_string();
    assert!(msg.contains("expected YYYY-MM-DD"), "{msg}");
    let msg = rt.eval("date(2027, 2, 29)").unwrap_err().to_string();
    assert!(msg.contains("between 1 and 28"), "{msg}");
    assert!(matches!(rt.eval(r#"date("9999-12-31") + days(1)"#), Err(Error::Script(_))));
}

#[test]
fn now_today_and_days_until_follow_the_zone_and_the_clock() {
    // 2024-07-01T22:30:00 UTC: already 2 July (00:30) in Paris (summer time, UTC+2).
    let t = 1_719_873_000;
    let paris = at(t, Zone::EUROPE_PARIS);
    let utc = at(t, Zone::Utc);
    assert_eq!(s(&paris, "now()"), "2024-07-02T00:30:00");
    assert_eq!(s(&utc, "now()"), "2024-07-01T22:30:00");
    assert_eq!(s(&paris, "today()"), "2024-07-02T00:00:00");
    assert_eq!(s(&paris, r#"date("2024-07-03T23:59:00").days_until()"#), "1");
    assert_eq!(s(&utc, r#"date("2024-07-03T23:59:00").days_until()"#), "2");
    assert_eq!(s(&paris, r#"date("2024-06-30").days_until()"#), "-2");
    assert_eq!(s(&paris, "(now() + days(30)).days_until()"), "30");
    // A trailing zone converts into the runtime's zone.
    assert_eq!(s(&paris, r#"date("2024-07-01T22:30:00Z")"#), "2024-07-02T00:30:00");
    assert_eq!(s(&paris, r#"date("2024-01-01T12:00:00").to_unix()"#), "1704106800");
}

#[test]
fn clock_functions_are_volatile_and_not_folded_at_compile_time() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    let t = Arc::new(AtomicI64::new(NOON_UTC));
    let clock = t.clone();
    let mut rt = Runtime::builder()
        .endpoint("http://127.0.0.1:9/xmlrpc/")
        .key("k")
        .zone(Zone::Utc)
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .unwrap();
    rt.engine_mut().set_optimization_level(rhai::OptimizationLevel::Full);
    let ast = rt.compile("now()").unwrap();
    t.store(NOON_UTC + 3600, Ordering::SeqCst);
    assert_eq!(
        to_display(&rt.run_ast(&ast).unwrap()),
        "2024-01-15T13:00:00",
        "now() ran at run time, not at compile time"
    );
}

#[test]
fn api_dates_become_dates_and_go_back_as_datetimes() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let v = eval(&rt, "let p = paas::info(1); [type_of(p.date_end), p.date_end, p.date_end - p.date_start]");
    let a = v.into_array().unwrap();
    assert_eq!(a[0].clone().into_string().unwrap(), "date");
    let d: Date = a[1].clone().cast();
    assert_eq!(d.to_api_string(), "20111014T14:36:30");
    assert_eq!(to_display(&a[2]), "P30D", "14 September to 14 October");
}

#[test]
fn printing_a_record_shows_its_dates() {
    let sb = sandbox();
    let (rt, out) = runtime(&sb);
    let _ = eval(&rt, r#"let p = paas::list()[0]; print(p); print(`${[p.date_end, days(2)]}`);"#);
    let lines = out.lines();
    assert!(lines[0].contains(r#""date_end": date("2011-10-14T14:36:30")"#), "{lines:?}");
    assert_eq!(lines[1], r#"[date("2011-10-14T14:36:30"), duration(P2D)]"#);
}
