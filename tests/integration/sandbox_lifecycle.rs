//! Operations lifecycle, cancel, ledger, control methods, dry-run and the vhost TXT flow,
//! at the Handler level on a frozen clock.

use crate::support::sandbox as support;

use gandish::xmlrpc::Value;
use support::*;

fn renew(months: &str) -> Value {
    st(vec![("duration", months.into())])
}

fn ids(ops: &Value) -> Vec<Value> {
    arr(ops).iter().map(|o| get(o, "id").clone()).collect()
}

fn step(sb: &gandish::sandbox::Sandbox, id: &Value) -> String {
    s(&ok(sb, "operation.info", vec![id.clone()]), "step").to_string()
}

#[test]
fn ops_move_bill_wait_run_done_with_the_clock_and_eta_counts_down() {
    let sb = sandbox(|c| c.op_seconds = 40);
    let ops = ok(&sb, "paas.renew", vec![1.into(), renew("1m")]);
    let types: Vec<&str> = arr(&ops).iter().map(|o| s(o, "type")).collect();
    assert_eq!(types, ["paas_vm_renew", "paas_disk_renew"]);
    let vm = &ids(&ops)[0];
    let first = ok(&sb, "operation.info", vec![vm.clone()]);
    assert_eq!(s(&first, "step"), "BILL");
    assert_eq!(i(&first, "eta"), 40);
    assert_eq!(get(&first, "date_start"), &Value::Nil);
    assert_eq!(get(&first, "date_created"), &dt("20240115T13:00:00"));
    assert_eq!(s(&first, "source"), "XXX-GANDI");
    assert_eq!(s(get(&first, "infos"), "product_type"), "paas");
    let mut seen = vec![];
    for _ in 0..4 {
        ok(&sb, "sandbox.clock.advance", vec![10.into()]);
        seen.push(step(&sb, vm));
    }
    assert_eq!(seen, ["WAIT", "RUN", "RUN", "DONE"]);
    // date_end moved by one calendar month at DONE, not before.
    assert_eq!(get(&ok(&sb, "paas.info", vec![1.into()]), "date_end"), &dt("20111114T14:36:30"));
    let done = ok(&sb, "operation.info", vec![vm.clone()]);
    assert_eq!(i(&done, "eta"), 0);
    assert_eq!(get(&done, "date_updated"), &dt("20240115T13:00:40"));
}

#[test]
fn effects_apply_exactly_once_however_often_they_are_observed() {
    let sb = sandbox(|c| c.op_seconds = 10);
    ok(&sb, "paas.renew", vec![1.into(), renew("3m")]);
    ok(&sb, "sandbox.clock.advance", vec![100.into()]);
    for _ in 0..5 {
        ok(&sb, "operation.list", vec![]);
        ok(&sb, "paas.info", vec![1.into()]);
    }
    assert_eq!(get(&ok(&sb, "paas.info", vec![1.into()]), "date_end"), &dt("20120114T14:36:30"));
    let ledger = ok(&sb, "sandbox.ledger", vec![]);
    assert_eq!(arr(&ledger).len(), 1, "{ledger:?}");
}

#[test]
fn cancel_works_in_bill_and_wait_only_and_takes_the_whole_call_with_it() {
    let sb = sandbox(|c| c.op_seconds = 40);
    let ops = ok(&sb, "paas.create", vec![seed_spec(false)]);
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(2));
    ok(&sb, "sandbox.clock.advance", vec![10.into()]); // WAIT
    assert_eq!(ok(&sb, "operation.cancel", vec![ids(&ops)[1].clone()]), Value::Bool(true));
    for id in ids(&ops) {
        assert_eq!(step(&sb, &id), "CANCEL");
    }
    // The instance made by the cancelled create is gone, and nothing was billed.
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(1));
    ok(&sb, "sandbox.clock.advance", vec![100.into()]);
    assert_eq!(arr(&ok(&sb, "sandbox.ledger", vec![])).len(), 0);

    // A renew in RUN cannot be cancelled; a done op neither.
    let r = ok(&sb, "paas.renew", vec![1.into(), renew("1m")]);
    ok(&sb, "sandbox.clock.advance", vec![20.into()]);
    let f = err(&sb, "operation.cancel", vec![ids(&r)[0].clone()]);
    assert_eq!(f.code, 525090);
    assert!(f.message.contains("OBJECT_OPERATION_STATE (CAUSE_INVALID_STEP)"), "{}", f.message);
    ok(&sb, "sandbox.clock.advance", vec![20.into()]);
    assert_eq!(err(&sb, "operation.cancel", vec![ids(&r)[0].clone()]).code, 525090);
    assert_eq!(err(&sb, "operation.cancel", vec![999_999.into()]).code, 510242);
}

#[test]
fn the_ledger_has_one_entry_per_applied_billable_call() {
    let sb = sandbox(|_| {});
    let c = ok(&sb, "paas.create", vec![seed_spec(false)]);
    ok(&sb, "paas.update", vec![2.into(), st(vec![("size", "xl".into()), ("quantity", 5.into())])]);
    let r =
        ok(&sb, "paas.renew", vec![2.into(), st(vec![("duration", "12m".into()), ("fixed", false.into())])]);
    ok(&sb, "paas.restart", vec![2.into()]);
    ok(&sb, "paas.delete", vec![2.into()]);
    let ledger = ok(&sb, "sandbox.ledger", vec![]);
    let entries = arr(&ledger);
    let types: Vec<&str> = entries.iter().map(|e| s(e, "type")).collect();
    assert_eq!(types, ["paas_vm_create", "paas_vm_update", "paas_vm_renew"]);
    assert_eq!(get(&entries[0], "op_id"), &ids(&c)[0]);
    assert_eq!(get(&entries[2], "op_id"), &ids(&r)[0]);
    for e in entries {
        assert_eq!(i(e, "paas_id"), 2);
        assert_eq!(get(e, "date"), &dt("20240115T13:00:00"));
        assert!(get(e, "params").get("password").is_none(), "no password in the ledger");
    }
    assert_eq!(s(get(&entries[2], "params"), "duration"), "12m");
    assert_eq!(get(get(&entries[2], "params"), "fixed"), &Value::Bool(false));
}

#[test]
fn delete_cancels_the_instances_other_pending_ops() {
    let sb = sandbox(|c| c.op_seconds = 10);
    ok(&sb, "sandbox.clock.advance", vec![0.into()]);
    let d = ok(&sb, "paas.delete", vec![1.into()]);
    ok(&sb, "sandbox.clock.advance", vec![5.into()]);
    let r = ok(&sb, "paas.renew", vec![1.into(), renew("1m")]);
    ok(&sb, "sandbox.clock.advance", vec![5.into()]);
    assert_eq!(step(&sb, get(&d, "id")), "DONE");
    assert_eq!(step(&sb, &ids(&r)[0]), "CANCEL");
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(0));
    assert_eq!(ok(&sb, "paas.vhost.count", vec![]), Value::Int(0));
    assert_eq!(arr(&ok(&sb, "sandbox.ledger", vec![])).len(), 0);
}

#[test]
fn renew_uses_calendar_months_with_the_day_clamped() {
    let sb = sandbox(|_| {});
    // Seed date_end is 14 Oct 2011; 4 months lands on 14 Feb 2012.
    ok(&sb, "paas.renew", vec![1.into(), renew("4m")]);
    assert_eq!(get(&ok(&sb, "paas.info", vec![1.into()]), "date_end"), &dt("20120214T14:36:30"));
    // A created instance ends `duration` after its start (Paris time of the clock).
    let mut spec = seed_spec(false);
    if let Value::Struct(s) = &mut spec {
        s.insert("vhosts", Value::Array(vec![]));
        s.insert("duration", "1m");
    }
    ok(&sb, "paas.create", vec![spec]);
    let info = ok(&sb, "paas.info", vec![2.into()]);
    assert_eq!(get(&info, "date_start"), &dt("20240115T13:00:00"));
    assert_eq!(get(&info, "date_end"), &dt("20240215T13:00:00"));
}

#[test]
fn strict_mode_refuses_a_change_while_one_is_pending() {
    let sb = sandbox(|c| {
        c.op_seconds = 10;
        c.strict = true;
    });
    ok(&sb, "paas.renew", vec![1.into(), renew("1m")]);
    assert_eq!(err(&sb, "paas.update", vec![1.into(), st(vec![("size", "l".into())])]).code, 537567);
    ok(&sb, "sandbox.clock.advance", vec![10.into()]);
    ok(&sb, "paas.update", vec![1.into(), st(vec![("size", "l".into())])]);
    // Not strict: the seed's update right after create is accepted.
    let lax = sandbox(|c| c.op_seconds = 10);
    ok(&lax, "paas.renew", vec![1.into(), renew("1m")]);
    ok(&lax, "paas.update", vec![1.into(), st(vec![("size", "l".into())])]);
}

#[test]
fn injected_op_failures_end_in_error_without_effect() {
    let sb = sandbox(|_| {});
    ok(&sb, "sandbox.op.fail_next", vec!["paas_vm_renew".into(), "billing backend down".into()]);
    let r = ok(&sb, "paas.renew", vec![1.into(), renew("1m")]);
    assert_eq!(s(&arr(&r)[0], "step"), "ERROR");
    assert_eq!(s(&arr(&r)[0], "last_error"), "billing backend down");
    assert_eq!(get(&ok(&sb, "paas.info", vec![1.into()]), "date_end"), &dt("20111014T14:36:30"));
    // Only the next one fails.
    let r = ok(&sb, "paas.renew", vec![1.into(), renew("1m")]);
    assert_eq!(s(&arr(&r)[0], "step"), "DONE");
}

#[test]
fn vhost_txt_flow_get_dns_entries_then_set_txt_then_create() {
    let sb = sandbox(|_| {});
    let entries = ok(&sb, "paas.vhost.get_dns_entries", vec![st(vec![("vhost", "vhost.test.fr".into())])]);
    assert_eq!(s(&entries, "txt"), "vhost=2e5d8f0899053fffcd3ecf4ac5a6433b");
    assert_eq!(s(&entries, "key"), "2e5d8f0899053fffcd3ecf4ac5a6433b");
    assert_eq!(s(&entries, "domain"), "test.fr");

    // Another name: a stable token, `<label>=<32 lowercase hex>`, at the apex label `@`.
    let other = ok(&sb, "paas.vhost.get_dns_entries", vec![st(vec![("vhost", "example.org".into())])]);
    let txt = s(&other, "txt").to_string();
    let (label, hex) = txt.split_once('=').unwrap();
    assert_eq!(label, "@");
    assert_eq!(hex.len(), 32);
    assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{hex}");
    let again = ok(&sb, "paas.vhost.get_dns_entries", vec![st(vec![("vhost", "example.org".into())])]);
    assert_eq!(s(&again, "txt"), txt);

    // Without the record: fault 580142; the dry run lists the TXT item with field 'vhost'.
    let spec = |dry: bool| {
        let mut v = vec![("paas_id", Value::from(1)), ("vhost", "www.example.org".into())];
        if dry {
            v.push(("--dry-run", true.into()));
        }
        st(v)
    };
    let f = err(&sb, "paas.vhost.create", vec![spec(false)]);
    assert_eq!(f.code, 580142);
    assert!(f.message.starts_with("Error on object : OBJECT_DNS_TXT (CAUSE_NOTFOUND) ["), "{}", f.message);
    let dry = ok(&sb, "paas.vhost.create", vec![spec(true)]);
    assert_eq!(s(&arr(&dry)[0], "error"), "EC_TXT+EC_MISSINGMANDATORY");
    assert_eq!(s(&arr(&dry)[0], "field"), "vhost");

    // With the record at the apex: the dry run is clean and the real call attaches it.
    let want = ok(&sb, "paas.vhost.get_dns_entries", vec![st(vec![("vhost", "www.example.org".into())])]);
    ok(&sb, "sandbox.zone.set_txt", vec!["example.org".into(), get(&want, "txt").clone()]);
    assert_eq!(ok(&sb, "paas.vhost.create", vec![spec(true)]), Value::Array(vec![]));
    let op = ok(&sb, "paas.vhost.create", vec![spec(false)]);
    assert_eq!(s(&op, "type"), "rproxy_update");
    let vh = ok(&sb, "paas.vhost.info", vec!["www.example.org".into()]);
    assert_eq!(i(&vh, "paas_id"), 1);
    assert_eq!(s(&vh, "state"), "running");
    // Twice is refused; delete detaches.
    assert_eq!(err(&sb, "paas.vhost.create", vec![spec(false)]).code, 537641);
    ok(&sb, "paas.vhost.delete", vec!["www.example.org".into()]);
    assert_eq!(err(&sb, "paas.vhost.info", vec!["www.example.org".into()]).code, 537642);
}

#[test]
fn a_managed_zone_needs_no_proof_and_a_verified_create_attaches_its_vhosts() {
    let sb = sandbox(|_| {});
    ok(&sb, "sandbox.zone.add", vec!["mine.fr".into()]);
    ok(
        &sb,
        "sandbox.zone.set_txt",
        vec!["vhost.test.fr".into(), "vhost=2e5d8f0899053fffcd3ecf4ac5a6433b".into()],
    );
    let mut spec = seed_spec(false);
    if let Value::Struct(s) = &mut spec {
        s.insert("vhosts", vec![Value::from("www.mine.fr"), Value::from("new.test.fr")]);
    }
    // new.test.fr needs `new=<token>`; only vhost.test.fr's record exists.
    let mut dry = spec.clone();
    if let Value::Struct(s) = &mut dry {
        s.insert("--dry-run", true);
    }
    let problems = ok(&sb, "paas.create", vec![dry]);
    assert_eq!(arr(&problems).len(), 1, "{problems:?}");
    assert_eq!(arr(get(&arr(&problems)[0], "attr"))[0].as_str(), Some("new.test.fr"));
    let ops = ok(&sb, "paas.create", vec![spec]);
    assert_eq!(s(&arr(&ops)[2], "step"), "ERROR");
    let names: Vec<String> = arr(get(&ok(&sb, "paas.info", vec![2.into()]), "vhosts"))
        .iter()
        .map(|v| s(v, "name").to_string())
        .collect();
    assert_eq!(names, ["www.mine.fr"]);
}

#[test]
fn dry_run_reports_every_bad_field_and_changes_nothing() {
    let sb = sandbox(|_| {});
    let spec = st(vec![
        ("name", "x".into()),
        ("size", "huge".into()),
        ("type", "cobol".into()),
        ("datacenter_id", 2.into()),
        ("quantity", (-1).into()),
        ("duration", "1y".into()),
        ("colour", "red".into()),
        ("--dry-run", true.into()),
    ]);
    let problems = ok(&sb, "paas.create", vec![spec]);
    let mut got: Vec<(String, String)> =
        arr(&problems).iter().map(|p| (s(p, "field").to_string(), s(p, "error").to_string())).collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("colour", "EC_UNKNOWNFIELD"),
        ("datacenter_id", "EC_ENUMIN"),
        ("duration", "EC_STRMATCH"),
        ("password", "EC_MISSINGFIELD"),
        ("quantity", "EC_INTLOWER"),
        ("size", "EC_ENUMIN"),
        ("type", "EC_ENUMIN"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(1));
    assert!(arr(&ok(&sb, "operation.list", vec![])).is_empty());
    // Update and renew dry runs too.
    let up =
        ok(&sb, "paas.update", vec![1.into(), st(vec![("size", "s+".into()), ("--dry-run", true.into())])]);
    assert_eq!(s(&arr(&up)[0], "field"), "size");
    assert_eq!(
        ok(
            &sb,
            "paas.renew",
            vec![1.into(), st(vec![("duration", "2m".into()), ("--dry-run", true.into())])]
        ),
        Value::Array(vec![])
    );
    assert_eq!(get(&ok(&sb, "paas.info", vec![1.into()]), "date_end"), &dt("20111014T14:36:30"));
}

#[test]
fn reset_restores_the_dataset_and_the_clock() {
    let sb = sandbox(|_| {});
    ok(&sb, "paas.delete", vec![1.into()]);
    ok(&sb, "sandbox.clock.advance", vec![3600.into()]);
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(0));
    assert_eq!(ok(&sb, "sandbox.reset", vec![]), Value::Bool(true));
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(1));
    assert_eq!(ok(&sb, "sandbox.clock.advance", vec![0.into()]), dt("20240115T13:00:00"));
    assert!(arr(&ok(&sb, "operation.list", vec![])).is_empty());
    assert_eq!(err(&sb, "sandbox.clock.advance", vec![(-1).into()]).code, 501030);
}
