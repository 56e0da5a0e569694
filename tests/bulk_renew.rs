//! std/renew and the bulk engine against the sandbox, with fault injection.

mod bulk_common;

use bulk_common::{env, temp_path};
use rhai::{Dynamic, Map};

fn int(m: &Map, k: &str) -> i64 {
    m.get(k).unwrap_or_else(|| panic!("no {k} in {m:?}")).as_int().unwrap()
}

fn renew(rt: &gandish::Runtime, opts: &str) -> Map {
    let v: Dynamic = rt
        .eval(&format!(r#"import "std/renew" as renew; renew::main({opts})"#))
        .unwrap_or_else(|e| panic!("renew failed: {e}"));
    v.try_cast::<Map>().expect("a report map")
}

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
