//! The runtime's confirmation hook: asked before each change, never for reads or in dry-run mode;
//! a declined change is not sent and fails with a catchable `declined` error.

use crate::support::script as support;

use std::sync::{Arc, Mutex};

use gandish::script::{Decision, Error, Mutation};
use gandish::xmlrpc::Value;
use support::*;

/// A runtime whose hook records every question and answers with `answer(mutation)`.
fn recording(
    sb: &gandish::sandbox::RunningSandbox,
    answer: impl Fn(&Mutation) -> bool + Send + Sync + 'static,
) -> (gandish::Runtime, Arc<Mutex<Vec<Mutation>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let (b, _) = builder(sb);
    let rt = b
        .confirm(move |m| {
            log.lock().unwrap().push(m.clone());
            answer(m)
        })
        .build()
        .unwrap();
    (rt, asked)
}

#[test]
fn reads_are_not_asked_about_and_changes_are() {
    let sb = sandbox();
    let (rt, asked) = recording(&sb, |_| true);
    let _ = eval(
        &rt,
        "paas::list(); paas::info(1); paas::count(); vhost::list(); gandi::invoke(\"paas.info\", [1])",
    );
    assert!(asked.lock().unwrap().is_empty(), "{:?}", asked.lock().unwrap());

    let _ = eval(&rt, r#"paas::renew(1, "12m"); paas::restart(1); gandi::invoke("paas.restart", [1])"#);
    let asked = asked.lock().unwrap().clone();
    let seen: Vec<(&str, &str, Option<i64>)> =
        asked.iter().map(|m| (m.function.as_str(), m.method.as_str(), m.instance)).collect();
    assert_eq!(
        seen,
        [
            ("paas::renew", "paas.renew", Some(1)),
            ("paas::restart", "paas.restart", Some(1)),
            ("gandi::invoke", "paas.restart", Some(1)),
        ]
    );
    assert_eq!(asked[0].summary, "renew instance 1 for 12m");
    let kinds: Vec<String> = ledger(&sb)
        .iter()
        .map(|e| e.get("type").and_then(Value::as_str).unwrap_or_default().to_string())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "paas_vm_renew").count(), 1, "the renew was sent: {kinds:?}");
}

#[test]
fn a_declined_change_is_not_sent_and_is_catchable() {
    let sb = sandbox();
    let (rt, asked) = recording(&sb, |m| m.method != "paas.delete");
    let before = ledger(&sb).len();
    let err = rt.eval("paas::delete(1)").unwrap_err();
    assert!(matches!(err, Error::Script(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("paas::delete: not confirmed, nothing sent (delete instance 1)"), "{text}");
    assert_eq!(err.line(), Some(1));
    assert_eq!(ledger(&sb).len(), before, "nothing was applied");
    assert_eq!(int(&eval(&rt, "paas::count()")), 1, "the instance is still there");

    let kind = eval(
        &rt,
        r#"let k = ""; try { paas::delete(#{id: 1, name: "x"}) } catch (e) { k = e.kind + " " + e.method } k"#,
    );
    assert_eq!(string(kind), "declined paas.delete");
    assert_eq!(asked.lock().unwrap().len(), 2);
    assert_eq!(asked.lock().unwrap()[1].summary, "delete instance 1 (x)");
}

#[test]
fn dry_run_does_not_ask_and_the_hook_can_be_replaced() {
    let sb = sandbox();
    let (rt, asked) = recording(&sb, |_| false);
    rt.set_dry_run(true);
    let _ = eval(&rt, "paas::delete(1)");
    assert!(asked.lock().unwrap().is_empty(), "nothing is sent in dry-run, so nothing is asked");
    rt.set_dry_run(false);
    assert!(rt.eval("paas::restart(1)").is_err());
    assert_eq!(asked.lock().unwrap().len(), 1);

    rt.set_confirm(None);
    let _ = eval(&rt, "paas::restart(1)");
    assert_eq!(asked.lock().unwrap().len(), 1, "the removed hook is not asked");
}

#[test]
fn a_skipped_change_is_not_sent_and_the_script_goes_on() {
    let sb = sandbox();
    let (b, _) = builder(&sb);
    let rt = b.confirm_with(|_| Decision::Skip).build().unwrap();
    let before = ledger(&sb).len();
    let v = eval(
        &rt,
        r#"let r = op::wait(paas::delete(1)); `${r.skipped} ${r.method} ${r.summary} ${paas::count()}`"#,
    );
    assert_eq!(string(v), "true paas.delete delete instance 1 1", "op::wait passes it through; still there");
    // A bulk batch answered Skip is declined as a whole: a catchable error, nothing sent.
    let v = eval(
        &rt,
        r#"let k = ""; try { bulk::run([bulk::update_task(paas::info(1), #{size: "xl"})], #{rate: 0}); k = "sent" } catch (e) { k = `${e.kind} ${e.function}` } k"#,
    );
    assert_eq!(string(v), "declined bulk::run");
    assert_eq!(ledger(&sb).len(), before, "nothing was applied");
}
