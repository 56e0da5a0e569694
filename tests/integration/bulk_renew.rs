//! std/renew and the bulk engine against the sandbox, with fault injection.

use crate::bulk_common;

use bulk_common::{env, int, renew, temp_path};
use rhai::Map;

#[test]
fn renews_every_due_instance_exactly_once_under_faults_and_a_rerun_renews_nothing() {
    let env = env(500, |c| {
        c.fail_rate = 0.1;
        c.lost_reply_rate = 0.05;
    });
    let (due, not_due) = env.split_by_window(30);
    assert!(due.len() > 40, "the dataset should have instances due: {}", due.len());
    let journal = temp_path("faults");
    let rt = env.runtime();
    let opts = format!(
        r#"#{{within_days: 30, duration: "12m", rate: 0, settle_ms: 0, journal: "{}"}}"#,
        journal.display()
    );
    let report = renew(&rt, &opts);
    assert_eq!(int(&report, "failed"), 0, "{report:?}");
    assert_eq!(int(&report, "renewed") as usize, due.len(), "{:?}", report.get("summary"));
    let counts = env.ledger_counts("paas_vm_renew");
    for id in &due {
        assert_eq!(counts.get(id), Some(&1), "instance {id} renewed {:?} times", counts.get(id));
    }
    for id in &not_due {
        assert_eq!(counts.get(id), None, "instance {id} was not due but was renewed");
    }
    // The API's own ledger says the same.
    assert_eq!(env.api_ledger().len(), due.len());
    // Some replies were lost and reconciled, and nothing was resent blindly.
    let rows = report["rows"].clone().into_array().unwrap();
    assert_eq!(rows.len(), due.len());
    let row_sum = |k: &str| rows.iter().map(|r| int(&r.read_lock::<Map>().unwrap(), k)).sum::<i64>();
    assert!(row_sum("reconciled") > 0, "the injected faults should have made some outcomes ambiguous");
    assert!(row_sum("sends") > due.len() as i64, "some renewals were found not applied and sent again");
    let renew_calls = rt.calls().iter().filter(|c| c.method == "paas.renew").count() as i64;
    assert_eq!(renew_calls, row_sum("sends"));

    // Rerun: nothing is due any more.
    let again = renew(&rt, &opts);
    assert_eq!(int(&again, "renewed"), 0, "{:?}", again.get("summary"));
    assert_eq!(int(&again, "failed"), 0);
    assert_eq!(env.ledger_counts("paas_vm_renew").values().sum::<usize>(), due.len());
    assert_eq!(rt.exit_code(), None);
}

#[test]
fn a_dry_run_plans_every_due_instance_and_sends_no_mutation() {
    let env = env(120, |_| {});
    let (due, _) = env.split_by_window(30);
    let rt = env.runtime_with(|b| b.dry_run(true));
    let report = renew(&rt, r#"#{within_days: 30, duration: "12m", journal: false}"#);
    assert_eq!(int(&report, "planned") as usize, due.len());
    assert_eq!(int(&report, "renewed"), 0);
    assert!(env.state().ledger.is_empty(), "a dry run must not renew anything");
    assert!(rt.calls().iter().all(|c| c.method != "paas.renew"), "no paas.renew was sent");
    let plan = rt.plan();
    assert_eq!(plan.len(), due.len());
    assert!(plan.iter().all(|p| p.method == "paas.renew" && p.summary.contains("for 12m")), "{plan:?}");
}

#[test]
fn at_the_servers_rate_limit_nothing_is_refused_and_over_it_the_run_backs_off() {
    // 60 due instances, a sandbox allowing 20 calls a second.
    let env = env(300, |c| c.rate_limit = Some(20));
    let (due, _) = env.split_by_window(30);
    let rt = env.runtime();
    let report = renew(&rt, r#"#{within_days: 30, duration: "12m", rate: 20, journal: false}"#);
    assert_eq!(int(&report, "failed"), 0, "{:?}", report.get("summary"));
    assert_eq!(int(&report, "renewed") as usize, due.len());
    let refused = rt
        .calls()
        .iter()
        .filter(|c| matches!(c.outcome, gandish::gandi::CallOutcome::Fault { code: 160_004, .. }))
        .count();
    assert_eq!(refused, 0, "configured at the server's rate, no call may be refused");
    assert_eq!(rt.throttle().rate_limited(), 0);

    // Misconfigured at twice the server's rate: refusals happen, the run backs off and still
    // renews everything exactly once.
    let env = env_again(300);
    let (due, _) = env.split_by_window(30);
    let rt = env.runtime();
    let report = renew(&rt, r#"#{within_days: 30, duration: "12m", rate: 40, journal: false}"#);
    assert_eq!(int(&report, "failed"), 0, "{:?}", report.get("summary"));
    assert_eq!(int(&report, "renewed") as usize, due.len());
    assert!(rt.throttle().rate_limited() > 0, "at 40/s against 20/s some calls must have been refused");
    let counts = env.ledger_counts("paas_vm_renew");
    assert!(due.iter().all(|id| counts.get(id) == Some(&1)), "{counts:?}");
    assert_eq!(counts.len(), due.len());
}

fn env_again(n: usize) -> bulk_common::Env {
    env(n, |c| c.rate_limit = Some(20))
}
