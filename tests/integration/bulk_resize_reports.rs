//! std/resize, std/expiring and std/inventory against the sandbox.

use crate::bulk_common;

use bulk_common::{env, temp_path};
use rhai::{Dynamic, Map};

fn int(m: &Map, k: &str) -> i64 {
    m.get(k).unwrap_or_else(|| panic!("no {k} in {m:?}")).as_int().unwrap()
}

fn run(rt: &gandish::Runtime, module: &str, call: &str) -> Dynamic {
    rt.eval(&format!(r#"import "std/{module}" as m; m::{call}"#))
        .unwrap_or_else(|e| panic!("{module} failed: {e}"))
}

fn map(d: Dynamic) -> Map {
    d.try_cast::<Map>().expect("a map")
}

#[test]
fn resize_under_faults_changes_each_matching_instance_once_and_verifies_the_result() {
    let env = env(300, |c| {
        c.fail_rate = 0.1;
        c.lost_reply_rate = 0.05;
        c.op_seconds = 2;
    });
    let before = env.state();
    let matching: Vec<i64> =
        before.instances.values().filter(|i| i.state == "running").map(|i| i.id).collect();
    let needs: Vec<i64> = before
        .instances
        .values()
        .filter(|i| i.state == "running" && (i.size != "m" || i.quantity != 20))
        .map(|i| i.id)
        .collect();
    assert!(needs.len() < matching.len(), "some instances should already be there");
    let journal = temp_path("resize");
    let rt = env.runtime();
    // The ops take 2 s on the sandbox clock, which is frozen: a thread moves it on.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (stop, url, key) = (stop.clone(), env.url.clone(), env.key.clone());
        std::thread::spawn(move || {
            let g = gandish::gandi::Gandi::new(&url, key.as_str(), Default::default()).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = g.call("sandbox.clock.advance", vec![1.into()]);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
    };
    let opts = format!(
        r#"#{{size: "m", disk: 20, state: "running", allow_shrink: true, rate: 0, settle_ms: 0, poll: 0.1, journal: "{}"}}"#,
        journal.display()
    );
    let report = map(run(&rt, "resize", &format!("main({opts})")));
    assert_eq!(int(&report, "failed"), 0, "{report:?}");
    assert_eq!(int(&report, "resized") as usize, needs.len());
    assert_eq!(int(&report, "skipped") as usize, matching.len() - needs.len());

    // Each change once in the ledger, final sizes as asked, the others untouched.
    let after = env.state();
    let updates = env.ledger_counts("paas_vm_update");
    for id in &needs {
        assert_eq!(updates.get(id), Some(&1), "instance {id}: {:?} updates", updates.get(id));
    }
    assert_eq!(updates.len(), needs.len(), "only the instances that needed it were updated");
    for id in &matching {
        let i = &after.instances[id];
        assert_eq!((i.size.as_str(), i.quantity), ("m", 20), "instance {id}");
    }
    for (id, i) in after.instances.iter().filter(|(id, _)| !matching.contains(id)) {
        let b = &before.instances[id];
        assert_eq!((&i.size, i.quantity), (&b.size, b.quantity), "instance {id} did not match the filter");
    }
    let rows = report["rows"].clone().into_array().unwrap();
    assert!(rows.iter().all(|r| {
        let r = r.read_lock::<Map>().unwrap();
        r["size_after"].clone().into_string().ok().as_deref() == Some("m")
            && r["disk_after"].as_int() == Ok(20)
    }));

    // Rerun: everything is there.
    let again = map(run(&rt, "resize", &format!("main({opts})")));
    assert_eq!(int(&again, "resized"), 0, "{:?}", again.get("summary"));
    assert_eq!(int(&again, "skipped") as usize, matching.len());
    assert_eq!(env.ledger_counts("paas_vm_update").values().sum::<usize>(), needs.len());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().unwrap();
}

#[test]
fn resize_dry_run_plans_only_and_bad_requests_are_named() {
    let env = env(40, |_| {});
    let rt = env.runtime_with(|b| b.dry_run(true));
    // xxl is the largest size: growing only, so the shrink guard has nothing to refuse.
    let report = map(run(&rt, "resize", r#"main(#{size: "xxl", journal: false})"#));
    let planned = int(&report, "planned");
    assert!(planned > 0);
    assert_eq!(planned as usize, env.state().instances.values().filter(|i| i.size != "xxl").count());
    assert!(env.state().ledger.is_empty());
    assert!(rt.calls().iter().all(|c| c.method != "paas.update"));
    for (call, want) in [
        (r#"main(#{})"#, "nothing to change"),
        (r#"main(#{size: "m", colour: "red"})"#, "unknown option \"colour\""),
        (r#"main(#{disk: -3})"#, "disk must be >= 0"),
        (r#"main(#{disk: 10, add_disk: 5})"#, "not both"),
    ] {
        let e = rt.eval(&format!(r#"import "std/resize" as m; m::{call}"#)).unwrap_err();
        assert!(e.to_string().contains(want), "{call}: {e}");
    }
}

#[test]
fn relative_disk_adds_once_per_run() {
    let env = env(30, |_| {});
    let before = env.state();
    let rt = env.runtime();
    let journal = temp_path("relative");
    let report = map(run(
        &rt,
        "resize",
        &format!(r#"main(#{{add_disk: 5, rate: 0, settle_ms: 0, journal: "{}"}})"#, journal.display()),
    ));
    assert_eq!(int(&report, "failed"), 0, "{report:?}");
    let after = env.state();
    for (id, i) in &after.instances {
        assert_eq!(i.quantity, before.instances[id].quantity + 5, "instance {id}");
    }
}

#[test]
fn expiring_lists_soonest_first_with_days_left() {
    let env = env(80, |_| {});
    let rt = env.runtime();
    let report = map(run(&rt, "expiring", "main(#{within_days: 60})"));
    let rows = report["rows"].clone().into_array().unwrap();
    let (due, _) = env.split_by_window(60);
    assert_eq!(rows.len(), due.len());
    let days: Vec<i64> =
        rows.iter().map(|r| r.read_lock::<Map>().unwrap()["days_left"].as_int().unwrap()).collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "sorted soonest first: {days:?}");
    assert!(days.iter().all(|d| *d <= 60));
    assert!(days.iter().any(|d| *d < 0), "some generated instances have already ended");
    assert_eq!(int(&report, "expired") as usize, days.iter().filter(|d| **d < 0).count());
}

#[test]
fn inventory_gives_rows_with_vhosts_and_csv() {
    let env = env(25, |_| {});
    let st = env.state();
    let rt = env.runtime();
    let rows = run(&rt, "inventory", "main(#{})").into_array().unwrap();
    assert_eq!(rows.len(), st.instances.len());
    for r in &rows {
        let r = r.read_lock::<Map>().unwrap();
        let id = r["id"].as_int().unwrap();
        let inst = &st.instances[&id];
        assert_eq!(r["disk_gb"].as_int().unwrap(), 10 + inst.quantity);
        let mut want: Vec<String> =
            st.vhosts.values().filter(|v| v.paas_id == id).map(|v| v.name.clone()).collect();
        want.sort();
        let got: Vec<String> =
            r["vhosts"].clone().into_array().unwrap().into_iter().map(|v| v.into_string().unwrap()).collect();
        assert_eq!(got, want, "instance {id}");
    }
    let list_calls = rt.calls().iter().filter(|c| c.method.ends_with(".list")).count();
    assert_eq!(list_calls, 2, "one paas.list and one paas.vhost.list page");

    let csv = run(&rt, "inventory", r#"main(#{format: "csv"})"#).into_string().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,name,type,size,state,datacenter_id,disk_gb,extra_disk_gb,date_end,vhosts");
    assert_eq!(lines.len(), st.instances.len() + 1);
    let first = st.instances.values().next().unwrap();
    assert!(
        lines[1].starts_with(&format!("{},{},{},{},", first.id, first.name, first.kind, first.size)),
        "{}",
        lines[1]
    );
    let e = rt.eval(r#"import "std/inventory" as m; m::main(#{format: "xml"})"#).unwrap_err();
    assert!(e.to_string().contains("format must be csv"), "{e}");
}
