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
    let rt = at(NOON_UTC, Zone::UTC);
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
    let utc = at(t, Zone::UTC);
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
        .zone(Zone::UTC)
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

/// A runtime for `sb` with the clock pinned to `unix` and dates read in `zone`.
fn on_sandbox_at(sb: &gandish::sandbox::RunningSandbox, unix: i64, zone: Zone) -> Runtime {
    builder(sb).0.zone(zone).clock(move || unix).build().unwrap()
}

#[test]
fn paris_in_1990_ended_summer_time_in_september_not_october() {
    // 1990 followed the rules of its day: summer time from Sunday 25 March to Sunday 30 September
    // (01:00 UTC both), not the EU rule of 1996 (last Sunday of October, here the 28th).
    let t = 655_988_400; // 1990-10-15T11:00:00Z
    let rt = at(t, Zone::EUROPE_PARIS);
    assert_eq!(s(&rt, "now()"), "1990-10-15T12:00:00", "winter time (UTC+1) by mid-October");
    assert_eq!(s(&rt, r#"(date("1990-10-01") - date("1990-09-30")).hours"#), "25");
    assert_eq!(s(&rt, r#"(date("1990-10-29") - date("1990-10-28")).hours"#), "24");
    assert_eq!(s(&rt, r#"(date("1990-03-26") - date("1990-03-25")).hours"#), "23");
    // The repeated hour of 30 September: 00:30 and 01:30 UTC are both 02:30 in Paris.
    assert_eq!(s(&rt, r#"date("1990-09-30T00:30:00Z")"#), "1990-09-30T02:30:00");
    assert_eq!(s(&rt, r#"date("1990-09-30T01:30:00Z")"#), "1990-09-30T02:30:00");
    assert_eq!(s(&rt, r#"date("1990-10-15T12:00:00").to_unix()"#), t.to_string());
    assert_eq!(s(&rt, r#"date("1990-10-15T12:00:00").format("%s")"#), t.to_string());

    // The sandbox reads its clock with the same rules: at 11:00 UTC it is 12:00 in Paris.
    let sb = sandbox_with(|c| c.clock = gandish::sandbox::ClockMode::Fixed(t));
    let shown = call(&sb, "sandbox.clock.advance", vec![0.into()]);
    assert_eq!(shown.as_datetime().map(|d| d.to_string()).as_deref(), Some("19901015T12:00:00"));
    sb.shutdown();
}

#[test]
fn paris_in_2030_changes_on_the_last_sundays_of_march_and_october() {
    let t = 1_901_145_600; // 2030-03-31T00:00:00Z: 01:00 in Paris, an hour before the change
    let rt = at(t, Zone::EUROPE_PARIS);
    assert_eq!(s(&rt, "now()"), "2030-03-31T01:00:00");
    // Hours are elapsed time: an hour after 01:00 is 03:00 (02:00 does not exist that night), and
    // the difference is the hour that was added. Days are calendar days: the time of day stays.
    assert_eq!(s(&rt, "now() + hours(1)"), "2030-03-31T03:00:00");
    assert_eq!(s(&rt, "((now() + hours(2)) - now()).hours"), "2");
    assert_eq!(s(&rt, r#"date("2030-03-31T03:30:00") - minutes(90)"#), "2030-03-31T01:00:00");
    assert_eq!(s(&rt, r#"date("2030-03-30T12:00:00") + days(1)"#), "2030-03-31T12:00:00");
    assert_eq!(s(&rt, r#"date("2030-03-30T12:00:00") + hours(24)"#), "2030-03-31T13:00:00");
    assert_eq!(s(&rt, "days(1) == hours(24)"), "true", "measured, a day is 24 hours");
    assert_eq!(s(&rt, r#"(date("2030-04-01") - date("2030-03-31")).hours"#), "23");
    assert_eq!(s(&rt, r#"(date("2030-10-28") - date("2030-10-27")).hours"#), "25");
    // 02:30 on 31 March 2030 does not exist: read with the winter offset (01:30 UTC, i.e. 03:30).
    assert_eq!(s(&rt, r#"date("2030-03-31T02:30:00").to_unix()"#), (t + 5400).to_string());
    // 02:30 on 27 October 2030 happens twice: the first, summer-time one (00:30 UTC).
    assert_eq!(s(&rt, r#"date("2030-10-27T02:30:00").to_unix()"#), "1919291400");
    assert_eq!(s(&rt, r#"date("2030-07-01T12:00:00Z")"#), "2030-07-01T14:00:00");
    assert_eq!(s(&rt, r#"date("2030-12-01T12:00:00Z")"#), "2030-12-01T13:00:00");
}

#[test]
fn any_iana_zone_such_as_america_new_york() {
    let ny = Zone::parse("America/New_York").unwrap();
    assert_eq!(ny.name(), "America/New_York");
    assert_eq!(Zone::parse("america/new_york").unwrap(), ny, "names are read without regard to case");
    let rt = at(NOON_UTC, ny.clone());
    assert_eq!(s(&rt, "now()"), "2024-01-15T07:00:00", "EST, UTC-5");
    assert_eq!(s(&rt, r#"date("2024-07-01T12:00:00Z")"#), "2024-07-01T08:00:00", "EDT, UTC-4");
    // 10 March 2024: 02:00 → 03:00 in New York; 3 November: 02:00 → 01:00.
    assert_eq!(s(&rt, r#"(date("2024-03-11") - date("2024-03-10")).hours"#), "23");
    assert_eq!(s(&rt, r#"(date("2024-11-04") - date("2024-11-03")).hours"#), "25");
    assert_eq!(s(&rt, r#"(date("2024-03-31") - date("2024-03-30")).hours"#), "24", "not Paris's day");
    assert_eq!(s(&rt, r#"date("2024-01-15T07:00:00").to_unix()"#), NOON_UTC.to_string());
    assert_eq!(s(&rt, "today()"), "2024-01-15T00:00:00");

    // An unknown name is refused with the name and what would have been accepted.
    let e = Zone::parse("America/Atlantis").unwrap_err().to_string();
    assert!(e.contains("\"America/Atlantis\"") && e.contains("IANA name"), "{e}");
}

#[test]
fn months_clamp_at_month_end_in_the_sandbox_as_in_scripts() {
    // 2027-01-31T09:00:00Z, 10:00 in Paris: an instance created for one month ends on
    // 28 February, as `date + months(1)` does in a script; renewing it for a month adds a calendar
    // month to that end (28 March), as a second `+ months(1)` does.
    let t = 1_801_386_000;
    let sb = sandbox_with(|c| c.clock = gandish::sandbox::ClockMode::Fixed(t));
    let rt = on_sandbox_at(&sb, t, Zone::EUROPE_PARIS);
    let v = eval(
        &rt,
        r#"
        let ops = paas::create(#{name: "web", size: "s", type: "phpmysql", datacenter_id: 1,
                                 duration: "1m", password: "s3cret!", quantity: 0});
        op::wait(ops);
        let p = paas::info(ops[0].params.paas_id);
        let created = p.date_end;
        op::wait(paas::renew(p, "1m"));
        let renewed = paas::info(p.id).date_end;
        [p.date_start, created, created == p.date_start + months(1),
         renewed, renewed == p.date_start + months(1) + months(1)]
        "#,
    )
    .into_array()
    .unwrap();
    let shown: Vec<String> = v.iter().map(to_display).collect();
    assert_eq!(shown, ["2027-01-31T10:00:00", "2027-02-28T10:00:00", "true", "2027-03-28T10:00:00", "true"]);
    sb.shutdown();
}

#[test]
fn the_wire_format_is_naive_and_compact_out_and_lenient_in() {
    use gandish::script::convert::{to_dynamic, to_value};
    use gandish::xmlrpc::{DateTime, decode_response, encode_call};

    // Out: a script date goes to the API as a naive YYYYMMDDTHH:MM:SS, in the runtime's zone
    // (22:30 UTC on 1 July is 00:30 on 2 July in Paris).
    let rt = at(NOON_UTC, Zone::EUROPE_PARIS);
    let d: Dynamic = rt.eval(r#"#{date_end: date("2024-07-01T22:30:00Z")}"#).unwrap();
    let body =
        String::from_utf8(encode_call("paas.update", &[to_value(&d, "args").unwrap()]).unwrap()).unwrap();
    assert!(body.contains("<dateTime.iso8601>20240702T00:30:00</dateTime.iso8601>"), "{body}");

    // In: the spec's compact form, the dashed form, no colons, a fraction: one date.
    for text in ["20111014T14:36:30", "2011-10-14T14:36:30", "20111014T143630", "20111014T14:36:30.5"] {
        let reply = format!(
            "<methodResponse><params><param><value><dateTime.iso8601>{text}</dateTime.iso8601>\
             </value></param></params></methodResponse>"
        );
        let v = decode_response(reply.as_bytes()).unwrap().unwrap();
        let date: Date = to_dynamic(v, &Zone::EUROPE_PARIS).unwrap().cast();
        assert_eq!(date.to_api_string(), "20111014T14:36:30", "{text}");
        assert_eq!(date.to_string(), "2011-10-14T14:36:30", "{text}");
    }
    // A peer's explicit zone is converted into the runtime's zone, and goes out naive.
    let dt = DateTime::parse("2011-10-14T12:36:30Z").unwrap();
    let date = Date::from_datetime(&dt, &Zone::EUROPE_PARIS).unwrap();
    assert_eq!(date.to_datetime().to_string(), "20111014T14:36:30");
    assert_eq!(date.to_datetime().offset_minutes, None);
    // The wire type and jiff agree on the calendar.
    assert_eq!(dt.to_civil().to_string(), "2011-10-14T12:36:30");
    assert_eq!(DateTime::from_civil(dt.to_civil()).unwrap(), dt.naive());
    assert_eq!(DateTime::parse("19700102T00:00:01").unwrap().naive_timestamp(), 86_401);
    let e = DateTime::parse("20270229T10:00:00").unwrap_err().to_string();
    assert!(e.contains("20270229T10:00:00") && e.contains("day out of range"), "{e}");
}
