//! Each limit stops a runaway script; cancellation and the wall-clock timeout stop `loop {}`.

use crate::support::script as support;

use std::time::Duration;

use gandish::script::{Error, Limits};
use rhai::EvalAltResult;
use support::*;

#[test]
fn the_operation_limit_stops_an_endless_loop() {
    let rt = offline(Limits::default().with_max_operations(10_000));
    let e = script_error(rt.eval("let i = 0; loop { i += 1 }").unwrap_err());
    assert!(matches!(*e, EvalAltResult::ErrorTooManyOperations(_)), "{e:?}");
    // A script under the limit runs.
    assert_eq!(rt.eval("let s = 0; for i in 0..100 { s += i } s").unwrap().as_int().unwrap(), 4950);
}

#[test]
fn the_call_depth_limit_is_explicit_and_stops_endless_recursion() {
    let rt = offline(Limits::default());
    assert_eq!(
        rt.engine().max_call_levels(),
        Limits::default().max_call_levels,
        "set explicitly, not Rhai's debug default"
    );
    // Deeper than Rhai's debug default of 8: passes in debug and release alike.
    assert_eq!(
        rt.eval("fn depth(n) { if n == 0 { 0 } else { 1 + depth(n - 1) } } depth(30)")
            .unwrap()
            .as_int()
            .unwrap(),
        30
    );
    let e = script_error(rt.eval("fn f(n) { f(n + 1) } f(0)").unwrap_err());
    let mut inner = &*e;
    while let EvalAltResult::ErrorInFunctionCall(_, _, i, _) = inner {
        inner = i;
    }
    assert!(matches!(inner, EvalAltResult::ErrorStackOverflow(_)), "{e:?}");
    let rt = offline(Limits::default().with_max_call_levels(5));
    assert!(rt.eval("fn depth(n) { if n == 0 { 0 } else { 1 + depth(n - 1) } } depth(10)").is_err());
}

#[test]
fn the_expression_depth_limit_refuses_deep_nesting_at_compile_time() {
    let rt = offline(Limits::default().with_max_expr_depths(20, 10));
    let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
    let e = script_error(rt.eval(&deep).unwrap_err());
    assert!(matches!(*e, EvalAltResult::ErrorParsing(..)), "{e:?}");
    assert!(rt.eval(&format!("{}1{}", "(".repeat(5), ")".repeat(5))).is_ok());
}

#[test]
fn size_limits_stop_growing_strings_arrays_and_maps() {
    let rt =
        offline(Limits::default().with_max_string_size(1000).with_max_array_size(100).with_max_map_size(50));
    for script in [
        r#"let s = "x"; loop { s += s }"#,
        "let a = []; loop { a.push(1) }",
        "let m = #{}; let i = 0; loop { let n = #{}; n[`k${i}`] = i; m += n; i += 1 }",
        "let m = #{}; let i = 0; loop { let n = #{}; n[`k${i}`] = i; m.mixin(n); i += 1 }",
    ] {
        let e = script_error(rt.eval(script).unwrap_err());
        assert!(matches!(*e, EvalAltResult::ErrorDataTooLarge(..)), "{script}: {e:?}");
    }
}

#[test]
fn map_growth_by_index_assignment_is_bounded_by_the_operation_limit() {
    // Rhai 1.27 does not check the map size on `m[key] = value`; the operation limit still
    // stops the loop.
    let rt = offline(Limits::default().with_max_map_size(50).with_max_operations(20_000));
    let e = script_error(rt.eval("let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1 }").unwrap_err());
    assert!(matches!(*e, EvalAltResult::ErrorTooManyOperations(..)), "{e:?}");
}

#[test]
fn limits_cannot_be_caught_by_the_script() {
    let rt = offline(Limits::default().with_max_operations(5_000));
    let e = script_error(
        rt.eval("let caught = false; try { loop {} } catch { caught = true } caught").unwrap_err(),
    );
    assert!(matches!(*e, EvalAltResult::ErrorTooManyOperations(_)), "{e:?}");
}

#[test]
fn the_wall_clock_timeout_stops_an_endless_loop() {
    let rt = offline(
        Limits::default().with_max_operations(u64::MAX).with_timeout(Some(Duration::from_millis(200))),
    );
    match rt.eval("loop {}").unwrap_err() {
        Error::Timeout { limit, .. } => assert_eq!(limit, Duration::from_millis(200)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    // Each run has its own deadline: the next run starts afresh.
    assert_eq!(rt.eval("1 + 1").unwrap().as_int().unwrap(), 2);
}

#[test]
fn cancellation_from_another_thread_stops_loop() {
    let rt = std::sync::Arc::new(offline(Limits::default().with_max_operations(u64::MAX)));
    let handle = rt.cancel_handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let runner = {
        let rt = rt.clone();
        std::thread::spawn(move || {
            let _ = tx.send(());
            rt.eval("loop {}")
        })
    };
    rx.recv().unwrap();
    // Cancel until the run reports it stopped (a cancel before the run began would not count).
    let result = loop {
        handle.cancel();
        if runner.is_finished() {
            break runner.join().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(matches!(result, Err(Error::Cancelled { .. })), "{result:?}");
    // Runs started after the cancel are not affected.
    assert_eq!(rt.eval("40 + 2").unwrap().as_int().unwrap(), 42);
}

#[test]
fn cancellation_also_stops_op_wait() {
    // Operations that take an hour: op::wait would poll for its whole timeout.
    let sb = sandbox_with(|c| c.op_seconds = 3600);
    let (b, _) = builder(&sb);
    let rt =
        std::sync::Arc::new(b.wait(Duration::from_secs(3600), Duration::from_millis(20)).build().unwrap());
    let handle = rt.cancel_handle();
    let runner = {
        let rt = rt.clone();
        std::thread::spawn(move || rt.eval("let ops = paas::renew(1, \"1m\");\nop::wait(ops)"))
    };
    // Wait until the script is polling, then cancel.
    while !rt.calls().iter().any(|c| c.method == "operation.list") {
        std::thread::sleep(Duration::from_millis(10));
    }
    handle.cancel();
    let result = runner.join().unwrap();
    match result {
        Err(Error::Cancelled { position }) => assert_eq!(position.line(), Some(2)),
        other => panic!("expected a cancellation, got {other:?}"),
    }
}

#[test]
fn the_timeout_also_bounds_op_wait() {
    let sb = sandbox_with(|c| c.op_seconds = 3600);
    let (b, _) = builder(&sb);
    let rt = b
        .wait(Duration::from_secs(3600), Duration::from_millis(20))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(matches!(rt.eval("op::wait(paas::renew(1, \"1m\"))"), Err(Error::Timeout { .. })));
}

#[test]
fn eval_is_disabled_and_variables_are_strict() {
    let rt = offline(Limits::default());
    assert!(rt.eval(r#"eval("1")"#).is_err());
    let e = script_error(rt.eval("let x = 1; y + x").unwrap_err());
    assert!(matches!(*e, EvalAltResult::ErrorParsing(..)), "undefined variables fail at compile time: {e:?}");
}

#[test]
fn a_run_token_stops_its_own_run_and_no_other() {
    let sb = sandbox_with(|_| {});
    let (b, _) = builder(&sb);
    let rt = std::sync::Arc::new(b.build().unwrap());
    let script = "let n = 0; loop { paas::count(); n += 1; }";
    let spawn = |token: gandish::script::RunToken| {
        let rt = rt.clone();
        std::thread::spawn(move || rt.eval_with_token(&mut rhai::Scope::new(), script, &token))
    };
    let (a, b) = (rt.run_token(), rt.run_token());
    let (run_a, run_b) = (spawn(a.clone()), spawn(b.clone()));
    // Both are calling.
    while rt.calls().len() < 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    a.cancel();
    assert!(matches!(run_a.join().unwrap(), Err(Error::Cancelled { .. })));
    // The other run goes on calling after the first stopped.
    let after = rt.calls().len();
    while rt.calls().len() < after + 10 {
        assert!(!run_b.is_finished(), "the other run stopped too");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!run_b.is_finished());
    b.cancel();
    assert!(matches!(run_b.join().unwrap(), Err(Error::Cancelled { .. })));
}

#[test]
fn a_token_cancelled_before_the_run_stops_it_at_once() {
    let sb = sandbox_with(|_| {});
    let (b, _) = builder(&sb);
    let rt = b.build().unwrap();
    let token = rt.run_token();
    token.cancel();
    let r = rt.eval_with_token(&mut rhai::Scope::new(), "paas::count()", &token);
    assert!(matches!(r, Err(Error::Cancelled { .. })), "{r:?}");
    assert!(rt.calls().is_empty(), "nothing was sent");
    // The runtime itself is not cancelled.
    assert_eq!(rt.eval("paas::count()").unwrap().as_int().unwrap(), 1);
}
