//! The global date functions and operators: `now()`, `today()`, `date(…)`, `days(n)`,
//! `months(n)`, `d + days(30)`, `d1 - d2`, `d.format(…)`, `d.days_until()`, …

use std::cmp::Ordering;
use std::sync::Arc;

use rhai::{Engine, FuncRegistration, NativeCallContext};

use super::{Res, arg_error, pos};
use crate::script::date::{Date, DateError, Span};
use crate::script::host::Host;

fn global_reg(name: &str, volatile: bool, params: &[&str], doc: &str) -> FuncRegistration {
    FuncRegistration::new(name)
        .in_global_namespace()
        .with_volatility(volatile)
        .with_params_info(params)
        .with_comments([format!("/// {doc}")])
}

/// Registers a global function: `global!(engine, name, volatile, params, doc, closure)`.
macro_rules! global {
    ($e:expr, $name:expr, $vol:expr, $params:expr, $doc:expr, $f:expr $(,)?) => {
        global_reg($name, $vol, $params, $doc).register_into_engine($e, $f)
    };
}

fn date_err(ctx: &NativeCallContext, function: &str, e: DateError) -> Box<rhai::EvalAltResult> {
    let msg = e.to_string();
    arg_error(function, msg, pos(ctx))
}

/// Registers a global operator or getter with parameter info (so that signatures show the
/// script types, not `Result<…>`): `op!(engine, name, params, closure)`.
macro_rules! op {
    ($e:expr, $name:expr, $params:expr, $f:expr $(,)?) => {
        FuncRegistration::new($name)
            .in_global_namespace()
            .with_params_info($params)
            .register_into_engine($e, $f)
    };
}

pub(super) fn register(engine: &mut Engine, host: &Arc<Host>) {
    engine.register_type_with_name::<Date>("date");
    engine.register_type_with_name::<Span>("duration");
    engine.register_fn("to_string", |d: &mut Date| d.to_string());
    engine.register_fn("to_debug", |d: &mut Date| format!("{d:?}"));
    engine.register_fn("to_string", |s: &mut Span| s.to_string());
    engine.register_fn("to_debug", |s: &mut Span| format!("{s:?}"));

    let h = host.clone();
    global!(
        engine,
        "now",
        true,
        &["date"],
        "The current date and time in the runtime's zone (Europe/Paris by default).",
        move |ctx: NativeCallContext| -> Res<Date> {
            Date::from_local_seconds(h.now_local()).map_err(|e| date_err(&ctx, "now", e))
        }
    );
    let h = host.clone();
    global!(
        engine,
        "today",
        true,
        &["date"],
        "Midnight today in the runtime's zone.",
        move |ctx: NativeCallContext| -> Res<Date> {
            Date::from_local_seconds(h.now_local())
                .map(|d| d.start_of_day())
                .map_err(|e| date_err(&ctx, "today", e))
        }
    );
    let h = host.clone();
    global!(
        engine,
        "date",
        false,
        &["text: &str", "date"],
        "Parses `2027-01-31`, `2027-01-31T10:00:00` or the API's `20270131T10:00:00` (a trailing `Z`/`+02:00` converts into the runtime's zone).",
        move |ctx: NativeCallContext, text: &str| -> Res<Date> {
            Date::parse(text, &h.zone).map_err(|e| date_err(&ctx, "date", e))
        },
    );
    global!(
        engine,
        "date",
        false,
        &["year: i64", "month: i64", "day: i64", "date"],
        "The date at midnight.",
        |ctx: NativeCallContext, y: i64, m: i64, d: i64| -> Res<Date> {
            Date::new(y, m, d, 0, 0, 0).map_err(|e| date_err(&ctx, "date", e))
        }
    );
    global!(
        engine,
        "date",
        false,
        &["year: i64", "month: i64", "day: i64", "hour: i64", "minute: i64", "second: i64", "date"],
        "The date and time from its fields.",
        |ctx: NativeCallContext, y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64| -> Res<Date> {
            Date::new(y, mo, d, h, mi, s).map_err(|e| date_err(&ctx, "date", e))
        },
    );

    // Hours and smaller are elapsed time; days and weeks are calendar days (see `Date::add`).
    type Unit = fn(i64, &str) -> Result<Span, DateError>;
    let units: [(&str, &str, Unit); 5] = [
        ("seconds", "seconds of elapsed time", |n, u| Span::of(n, 1, u)),
        ("minutes", "minutes of elapsed time", |n, u| Span::of(n, 60, u)),
        ("hours", "hours of elapsed time", |n, u| Span::of(n, 3600, u)),
        ("days", "calendar days (the time of day is kept across summer-time changes)", |n, u| {
            Span::of_days(n, 1, u)
        }),
        ("weeks", "calendar weeks of 7 days", |n, u| Span::of_days(n, 7, u)),
    ];
    for (name, what, unit) in units {
        global!(
            engine,
            name,
            false,
            &["n: i64", "duration"],
            &format!("A duration of n {what}."),
            move |ctx: NativeCallContext, n: i64| -> Res<Span> {
                unit(n, name).map_err(|e| date_err(&ctx, name, e))
            }
        );
    }
    global!(
        engine,
        "months",
        false,
        &["n: i64", "duration"],
        "A duration of n calendar months (Jan 31 + 1 month = Feb 28/29).",
        |n: i64| Span::months(n)
    );
    global!(
        engine,
        "years",
        false,
        &["n: i64", "duration"],
        "A duration of n years (12·n calendar months).",
        |ctx: NativeCallContext, n: i64| -> Res<Span> {
            Span::years(n).map_err(|e| date_err(&ctx, "years", e))
        }
    );

    // Date arithmetic, in the runtime's zone (hours are elapsed time there).
    let shift = |h: Arc<Host>, op: &'static str| {
        move |ctx: NativeCallContext, d: Date, s: Span| -> Res<Date> {
            let moved = if op == "+" { d.add(s, &h.zone) } else { d.sub(s, &h.zone) };
            moved.map_err(|e| date_err(&ctx, op, e))
        }
    };
    op!(engine, "+", ["date: date", "shift: duration", "date"], shift(host.clone(), "+"));
    op!(engine, "-", ["date: date", "shift: duration", "date"], shift(host.clone(), "-"));
    let plus = shift(host.clone(), "+");
    op!(engine, "+", ["shift: duration", "date: date", "date"], move |ctx: NativeCallContext,
                                                                      s: Span,
                                                                      d: Date|
          -> Res<Date> { plus(ctx, d, s) });
    let h = host.clone();
    engine.register_fn("-", move |a: Date, b: Date| -> Span {
        Span::seconds(a.to_unix(&h.zone) - b.to_unix(&h.zone))
    });
    engine.register_fn("==", |a: Date, b: Date| a == b);
    engine.register_fn("!=", |a: Date, b: Date| a != b);
    engine.register_fn("<", |a: Date, b: Date| a < b);
    engine.register_fn("<=", |a: Date, b: Date| a <= b);
    engine.register_fn(">", |a: Date, b: Date| a > b);
    engine.register_fn(">=", |a: Date, b: Date| a >= b);

    // Duration arithmetic.
    let overflow = |ctx: &NativeCallContext, op: &str| arg_error(op, "duration overflow", pos(ctx));
    op!(engine, "+", ["a: duration", "b: duration", "duration"], move |ctx: NativeCallContext,
                                                                       a: Span,
                                                                       b: Span|
          -> Res<Span> {
        a.checked_add(b).ok_or_else(|| overflow(&ctx, "+"))
    });
    op!(engine, "-", ["a: duration", "b: duration", "duration"], move |ctx: NativeCallContext,
                                                                       a: Span,
                                                                       b: Span|
          -> Res<Span> {
        b.checked_neg().and_then(|nb| a.checked_add(nb)).ok_or_else(|| overflow(&ctx, "-"))
    });
    op!(engine, "-", ["a: duration", "duration"], move |ctx: NativeCallContext, a: Span| -> Res<Span> {
        a.checked_neg().ok_or_else(|| overflow(&ctx, "-"))
    });
    op!(engine, "*", ["a: duration", "n: i64", "duration"], move |ctx: NativeCallContext,
                                                                  a: Span,
                                                                  n: i64|
          -> Res<Span> {
        a.checked_mul(n).ok_or_else(|| overflow(&ctx, "*"))
    });
    op!(engine, "*", ["n: i64", "a: duration", "duration"], move |ctx: NativeCallContext,
                                                                  n: i64,
                                                                  a: Span|
          -> Res<Span> {
        a.checked_mul(n).ok_or_else(|| overflow(&ctx, "*"))
    });
    engine.register_fn("==", |a: Span, b: Span| a == b);
    engine.register_fn("!=", |a: Span, b: Span| a != b);
    type Cmp = fn(Ordering) -> bool;
    let cmps: [(&str, Cmp); 4] =
        [("<", Ordering::is_lt), ("<=", Ordering::is_le), (">", Ordering::is_gt), (">=", Ordering::is_ge)];
    for (op, test) in cmps {
        op!(engine, op, ["a: duration", "b: duration", "bool"], move |ctx: NativeCallContext,
                                                                      a: Span,
                                                                      b: Span|
              -> Res<bool> {
            a.compare(&b).map(test).map_err(|e| date_err(&ctx, op, e))
        });
    }

    // Properties.
    engine.register_get("year", |d: &mut Date| d.year());
    engine.register_get("month", |d: &mut Date| d.month());
    engine.register_get("day", |d: &mut Date| d.day());
    engine.register_get("hour", |d: &mut Date| d.hour());
    engine.register_get("minute", |d: &mut Date| d.minute());
    engine.register_get("second", |d: &mut Date| d.second());
    engine.register_get("weekday", |d: &mut Date| d.weekday());
    engine.register_get("day_of_year", |d: &mut Date| d.day_of_year());
    for (name, unit) in [("days", 86_400), ("hours", 3600), ("minutes", 60), ("seconds", 1)] {
        op!(
            engine,
            &format!("get${name}"),
            ["duration: &mut duration", "i64"],
            move |ctx: NativeCallContext, s: &mut Span| -> Res<i64> {
                s.total(unit, name).map_err(|e| date_err(&ctx, name, e))
            }
        );
    }
    engine.register_get("months", |s: &mut Span| s.month_part());

    // Methods.
    let h = host.clone();
    global!(
        engine,
        "format",
        false,
        &["date: date", "format: &str", "String"],
        "Formats with %Y %y %m %d %e %H %M %S %j %a %A %b %B %F %T %s %%, e.g. `d.format(\"%d/%m/%Y\")`.",
        move |ctx: NativeCallContext, d: &mut Date, f: &str| -> Res<String> {
            d.format(f, &h.zone).map_err(|e| date_err(&ctx, "format", e))
        },
    );
    let h = host.clone();
    global!(
        engine,
        "days_until",
        true,
        &["date: date", "i64"],
        "Calendar days from today to the date (0 today, 1 tomorrow, negative when past), in the runtime's zone.",
        move |d: &mut Date| -> i64 { d.day_number() - h.now_local().div_euclid(86_400) },
    );
    global!(
        engine,
        "start_of_day",
        false,
        &["date: date", "date"],
        "Midnight at the start of the date's day.",
        |d: &mut Date| d.start_of_day()
    );
    let h = host.clone();
    global!(
        engine,
        "to_unix",
        false,
        &["date: date", "i64"],
        "Seconds since the Unix epoch (UTC), reading the date in the runtime's zone.",
        move |d: &mut Date| d.to_unix(&h.zone)
    );
    global!(
        engine,
        "to_api",
        false,
        &["date: date", "String"],
        "The API's compact form, `20270131T00:00:00`.",
        |d: &mut Date| d.to_api_string()
    );
}
