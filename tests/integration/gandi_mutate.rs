//! The typed client's changes against a real sandbox: create, update, renew, restart, delete,
//! vhosts, dry runs, cancel and wait, each checked against the sandbox's own state.

use crate::gandi_common;

use std::cell::RefCell;

use gandi_common::*;
use gandish::gandi::{
    CreateParams, GandiError, OpStep, Operation, RenewParams, UpdateParams, VhostCreateParams, WaitOptions,
};
use gandish::xmlrpc::{DateTime, Struct, Value};
use std::time::Duration;

fn kinds(ops: &[Operation]) -> Vec<&str> {
    ops.iter().map(Operation::kind_str).collect()
}

fn spec(name: &str) -> CreateParams {
    CreateParams::new(name, "s", "phpmysql", 1, "3m").vhosts(Vec::<String>::new()).password("xxxxxxxxxx")
}

fn quick<'a>() -> WaitOptions<'a> {
    WaitOptions::default().with_poll_interval(Duration::from_millis(10)).with_timeout(Duration::from_secs(60))
}

#[test]
fn create_wait_info() {
    let e = env(|_| {});
    let g = &e.gandi;
    let ops = g.paas_create(&spec("web").quantity(5)).unwrap();
    assert_eq!(kinds(&ops), ["paas_vm_create", "paas_disk_create", "rproxy_create"]);
    let id = ops[0].paas_id().unwrap();
    assert_eq!(id, 2);
    assert!(ops.iter().all(|o| o.paas_id() == Some(id)));
    let seen = RefCell::new(Vec::new());
    let progress = |op: &Operation| seen.borrow_mut().push((op.id, op.step.clone()));
    let done = g.wait_ops(&ops, &quick().with_progress(&progress)).unwrap();
    assert_eq!(done.iter().map(|o| o.id).collect::<Vec<_>>(), ops.iter().map(|o| o.id).collect::<Vec<_>>());
    assert!(done.iter().all(|o| o.step == OpStep::Done));
    // op_seconds = 0: everything is DONE in the reply, so there is nothing to poll.
    assert!(seen.borrow().is_empty(), "{:?}", seen.borrow());
    let info = g.paas_info(id).unwrap();
    assert_eq!(info.name.as_deref(), Some("web"));
    assert_eq!(info.state.as_deref(), Some("running"));
    assert_eq!(info.catalog_name.as_deref(), Some("phpmysql_s"));
    assert_eq!(info.data_disk_additional_size, Some(5));
    // 2024-01-15 13:00 Paris + 3 months.
    assert_eq!(info.date_end, Some(dt("20240415T13:00:00")));
    let st = e.state();
    let inst = &st.instances[&id];
    assert_eq!((inst.name.as_str(), inst.size.as_str(), inst.quantity), ("web", "s", 5));
    assert_eq!(st.ledger.len(), 1);
    assert_eq!(st.ledger[0].kind, "paas_vm_create");
    assert_eq!(g.paas_count(&Struct::new()).unwrap(), 2);
}

#[test]
fn wait_follows_ops_through_their_steps_as_the_clock_moves() {
    let e = env(|c| c.op_seconds = 40);
    let g = &e.gandi;
    let ops = g.paas_create(&spec("slow")).unwrap();
    let id = ops[0].paas_id().unwrap();
    assert!(ops.iter().all(|o| o.step == OpStep::Bill), "{ops:?}");
    assert_eq!(g.paas_info(id).unwrap().state.as_deref(), Some("being_created"));
    // Each progress report moves the sandbox clock 5 s, so the wait sees the steps go by.
    let clock = g.clone();
    let seen = RefCell::new(Vec::new());
    let progress = |op: &Operation| {
        if op.id == ops[0].id {
            seen.borrow_mut().push(op.step.clone());
        }
        clock.call("sandbox.clock.advance", vec![Value::Int(5)]).unwrap();
    };
    let done = g.wait_ops(&ops, &quick().with_progress(&progress)).unwrap();
    assert_eq!(done.len(), 3);
    let seen = seen.into_inner();
    for step in [OpStep::Bill, OpStep::Wait, OpStep::Run, OpStep::Done] {
        assert!(seen.contains(&step), "{step} not seen in {seen:?}");
    }
    assert_eq!(seen.last(), Some(&OpStep::Done));
    assert_eq!(g.paas_info(id).unwrap().state.as_deref(), Some("running"));
    assert_eq!(e.state().instances[&id].state, "running");
}

#[test]
fn renew_moves_date_end_by_the_duration() {
    let e = env(|_| {});
    let g = &e.gandi;
    let before = g.paas_info(1).unwrap().date_end.unwrap();
    assert_eq!(before, dt("20111014T14:36:30"));
    let ops = g.paas_renew(1, &RenewParams::new("12m").fixed(false)).unwrap();
    assert_eq!(kinds(&ops), ["paas_vm_renew", "paas_disk_renew"]);
    g.wait_ops(&ops, &quick()).unwrap();
    assert_eq!(g.paas_info(1).unwrap().date_end, Some(dt("20121014T14:36:30")));
    let st = e.state();
    assert_eq!(DateTime::from_naive_timestamp(st.instances[&1].date_end), Some(dt("20121014T14:36:30")));
    assert_eq!(st.ledger.len(), 1);
    assert_eq!(st.ledger[0].kind, "paas_vm_renew");
    // The op carries what was asked.
    let vm = g.operation_info(ops[0].id).unwrap();
    assert_eq!(vm.params.as_ref().unwrap().get("duration").and_then(Value::as_str), Some("12m"));
    assert_eq!(vm.params.as_ref().unwrap().get("fixed"), Some(&Value::Bool(false)));
}

#[test]
fn update_size_and_disk() {
    let e = env(|_| {});
    let g = &e.gandi;
    let ops = g.paas_update(1, &UpdateParams::new().size("xl")).unwrap();
    assert_eq!(kinds(&ops), ["paas_vm_update"]);
    g.wait_ops(&ops, &quick()).unwrap();
    let info = g.paas_info(1).unwrap();
    assert_eq!(info.size.as_deref(), Some("xl"));
    assert_eq!(info.catalog_name.as_deref(), Some("phpmysql_xl"));

    let ops = g.paas_update(1, &UpdateParams::new().quantity(20).name("renamed")).unwrap();
    assert_eq!(kinds(&ops), ["paas_vm_update", "paas_disk_update"]);
    g.wait_ops(&ops, &quick()).unwrap();
    let info = g.paas_info(1).unwrap();
    assert_eq!(info.data_disk_additional_size, Some(20));
    assert_eq!(info.name.as_deref(), Some("renamed"));
    let st = e.state();
    assert_eq!((st.instances[&1].size.as_str(), st.instances[&1].quantity), ("xl", 20));
}

#[test]
fn restart_gives_one_op_and_leaves_the_instance_running() {
    let e = env(|_| {});
    let g = &e.gandi;
    let ops = g.paas_restart(1).unwrap();
    assert_eq!(kinds(&ops), ["paas_vm_restart"]);
    assert_eq!(ops[0].paas_id(), Some(1));
    let done = g.wait_ops(&ops, &quick()).unwrap();
    assert_eq!(done[0].step, OpStep::Done);
    assert_eq!(g.paas_info(1).unwrap().state.as_deref(), Some("running"));
    assert!(e.state().ledger.is_empty(), "restart is not billed");
}

#[test]
fn delete_removes_the_instance_and_its_vhosts() {
    let e = env(|_| {});
    let g = &e.gandi;
    let ops = g.paas_delete(1).unwrap();
    assert_eq!(kinds(&ops), ["paas_delete"], "the API answers a single op; the client gives a list");
    g.wait_ops(&ops, &quick()).unwrap();
    let err = g.paas_info(1).unwrap_err();
    let fault = err.fault().unwrap();
    assert_eq!(fault.code, 537542);
    assert!(fault.is_not_found());
    assert_eq!(g.paas_count(&Struct::new()).unwrap(), 0);
    assert_eq!(g.vhost_count(&Struct::new()).unwrap(), 0);
    let st = e.state();
    assert!(st.instances.is_empty() && st.vhosts.is_empty());
}

#[test]
fn vhost_create_needs_the_txt_proof_then_attaches_and_deletes() {
    let e = env(|_| {});
    let g = &e.gandi;
    let fqdn = "www.example.org";
    let params = VhostCreateParams::new(1, fqdn);

    // No proof yet: a fault at once, and the dry run says why.
    let err = g.vhost_create(&params).unwrap_err();
    let f = err.fault().unwrap();
    assert_eq!(f.code, 580142);
    assert_eq!((f.object.as_deref(), f.cause.as_deref()), (Some("OBJECT_DNS_TXT"), Some("CAUSE_NOTFOUND")));
    assert_eq!(f.method, "paas.vhost.create");
    let problems = g.vhost_create_dry_run(&params).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field.as_deref(), Some("vhost"));
    assert_eq!(problems[0].codes(), ["EC_TXT", "EC_MISSINGMANDATORY"]);

    // Publish the TXT record the API asks for.
    let dns = g.vhost_dns_entries(fqdn, Some(1)).unwrap();
    let txt = dns.txt.unwrap();
    assert!(txt.starts_with("www="), "{txt}");
    g.call("sandbox.zone.set_txt", vec![fqdn.into(), txt.as_str().into()]).unwrap();
    assert!(g.vhost_create_dry_run(&params).unwrap().is_empty());
    assert!(g.vhost_info(fqdn).is_err(), "the dry run created nothing");

    let ops = g.vhost_create(&params).unwrap();
    assert_eq!(kinds(&ops), ["rproxy_update"]);
    g.wait_ops(&ops, &quick()).unwrap();
    let v = g.vhost_info(fqdn).unwrap();
    assert_eq!((v.paas_id, v.state.as_deref()), (Some(1), Some("running")));
    let names: Vec<_> = g.paas_info(1).unwrap().vhosts.into_iter().filter_map(|v| v.name).collect();
    assert_eq!(names, ["vhost.test.fr", fqdn]);
    assert!(e.state().vhosts.values().any(|v| v.name == fqdn && v.paas_id == 1));

    let ops = g.vhost_delete(fqdn).unwrap();
    assert_eq!(kinds(&ops), ["rproxy_update"]);
    g.wait_ops(&ops, &quick()).unwrap();
    let f = g.vhost_info(fqdn).unwrap_err();
    assert_eq!(f.fault().unwrap().code, 537642);
    assert!(!e.state().vhosts.values().any(|v| v.name == fqdn));
}

#[test]
fn dry_run_create_returns_the_seed_txt_error_and_changes_nothing() {
    let e = env(|_| {});
    let g = &e.gandi;
    let seed = CreateParams::new("My PaaS", "m", "phpmysql", 1, "3m")
        .vhosts(["vhost.test.fr"])
        .quantity(0)
        .password("xxxxxxxxxx");
    let before = e.state();
    let problems = g.paas_create_dry_run(&seed).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.attr, ["vhost.test.fr", "vhost=2e5d8f0899053fffcd3ecf4ac5a6433b"]);
    assert_eq!(p.error.as_deref(), Some("EC_TXT+EC_MISSINGMANDATORY"));
    assert_eq!(p.field.as_deref(), Some("vhosts"));
    assert_eq!(p.field_type, None);
    assert_eq!(p.reason.as_deref(), Some("You must put a TXT value in your zone"));
    let after = e.state();
    assert_eq!(after.instances.len(), before.instances.len());
    assert_eq!(after.ops.len(), before.ops.len());
    assert!(e.ledger().is_empty());

    // Without the vhost it would succeed: an empty list, still nothing created.
    assert!(g.paas_create_dry_run(&spec("ok")).unwrap().is_empty());
    // Bad values are reported per field.
    let bad = g.paas_create_dry_run(&CreateParams::new("x", "huge", "phpmysql", 1, "3m")).unwrap();
    assert!(bad.iter().any(|p| p.field.as_deref() == Some("size")), "{bad:?}");
    assert_eq!(e.state().instances.len(), 1);
}

#[test]
fn dry_run_update_and_renew() {
    let e = env(|_| {});
    let g = &e.gandi;
    assert!(g.paas_update_dry_run(1, &UpdateParams::new().size("xl")).unwrap().is_empty());
    let bad = g.paas_update_dry_run(1, &UpdateParams::new().size("tiny")).unwrap();
    assert!(bad.iter().any(|p| p.field.as_deref() == Some("size")), "{bad:?}");
    assert!(g.paas_renew_dry_run(1, &RenewParams::new("12m")).unwrap().is_empty());
    let bad = g.paas_renew_dry_run(1, &RenewParams::new("2y")).unwrap();
    assert!(bad.iter().any(|p| p.field.as_deref() == Some("duration")), "{bad:?}");
    let st = e.state();
    assert_eq!(st.instances[&1].size, "m");
    assert!(st.ops.is_empty() && st.ledger.is_empty());
}

#[test]
fn cancel_before_run_stops_the_renew_and_wait_reports_it() {
    let e = env(|c| c.op_seconds = 40);
    let g = &e.gandi;
    let ops = g.paas_renew(1, &RenewParams::new("1m")).unwrap();
    e.advance(10); // WAIT
    assert_eq!(g.operation_info(ops[0].id).unwrap().step, OpStep::Wait);
    assert!(g.operation_cancel(ops[0].id).unwrap());
    for op in &ops {
        assert_eq!(g.operation_info(op.id).unwrap().step, OpStep::Cancel);
    }
    let err = g.wait_ops(&ops, &quick()).unwrap_err();
    match &err {
        GandiError::OperationFailed { id, kind, step, .. } => {
            assert_eq!((*id, kind.as_str(), step), (ops[0].id, "paas_vm_renew", &OpStep::Cancel));
        }
        other => panic!("expected OperationFailed, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&ops[0].id.to_string()) && msg.contains("paas_vm_renew") && msg.contains("CANCEL"),
        "{msg}"
    );
    e.advance(100);
    assert_eq!(g.paas_info(1).unwrap().date_end, Some(dt("20111014T14:36:30")), "not renewed");
    assert!(e.ledger().is_empty());

    // Once running, an op cannot be cancelled: a decoded fault.
    let ops = g.paas_renew(1, &RenewParams::new("1m")).unwrap();
    e.advance(25); // RUN
    let err = g.operation_cancel(ops[0].id).unwrap_err();
    let f = err.fault().unwrap();
    assert_eq!(f.code, 525090);
    assert_eq!(f.object.as_deref(), Some("OBJECT_OPERATION_STATE"));
    assert_eq!(f.cause.as_deref(), Some("CAUSE_INVALID_STEP"));
    assert_eq!(f.method, "operation.cancel");
}

#[test]
fn wait_fails_clearly_when_an_op_ends_in_error() {
    let e = env(|_| {});
    let g = &e.gandi;
    g.call("sandbox.op.fail_next", vec!["paas_vm_restart".into(), "disk on fire".into()]).unwrap();
    let ops = g.paas_restart(1).unwrap();
    let err = g.wait_ops(&ops, &quick()).unwrap_err();
    assert!(err.is_operation_failed());
    match &err {
        GandiError::OperationFailed { id, kind, step, last_error } => {
            assert_eq!(*id, ops[0].id);
            assert_eq!(kind, "paas_vm_restart");
            assert_eq!(step, &OpStep::Error);
            assert_eq!(last_error.as_deref(), Some("disk on fire"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("operation {} (paas_vm_restart) ended in ERROR: disk on fire", ops[0].id)
    );
}

#[test]
fn seed_create_with_an_unverified_vhost_fails_in_rproxy_create() {
    let e = env(|_| {});
    let g = &e.gandi;
    let seed = CreateParams::new("My PaaS", "m", "phpmysql", 1, "3m")
        .vhosts(["vhost.test.fr"])
        .password("xxxxxxxxxx");
    let ops = g.paas_create(&seed).unwrap();
    let err = g.wait_ops(&ops, &quick()).unwrap_err();
    match &err {
        GandiError::OperationFailed { kind, step, last_error, .. } => {
            assert_eq!((kind.as_str(), step), ("rproxy_create", &OpStep::Error));
            assert!(last_error.as_deref().unwrap().contains("TXT"), "{last_error:?}");
        }
        other => panic!("{other:?}"),
    }
    // The instance exists, without the vhost.
    let info = g.paas_info(ops[0].paas_id().unwrap()).unwrap();
    assert_eq!(info.state.as_deref(), Some("running"));
    assert!(info.vhosts.is_empty());
}

#[test]
fn wait_times_out_with_the_pending_ops() {
    let e = env(|c| c.op_seconds = 3600);
    let g = &e.gandi;
    let ops = g.paas_renew(1, &RenewParams::new("1m")).unwrap();
    for timeout in [Duration::ZERO, Duration::from_millis(120)] {
        let opts = WaitOptions::default().with_timeout(timeout).with_poll_interval(Duration::from_millis(30));
        let err = g.wait_ops(&ops, &opts).unwrap_err();
        assert!(err.is_wait_timeout(), "{err}");
        match &err {
            GandiError::WaitTimeout { pending, .. } => {
                let ids: Vec<i64> = pending.iter().map(|p| p.0).collect();
                assert_eq!(ids, ops.iter().map(|o| o.id).collect::<Vec<_>>());
                assert!(pending.iter().all(|p| p.2 == OpStep::Bill));
                assert_eq!(pending[0].1, "paas_vm_renew");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("paas_vm_renew"), "{err}");
    }
}

#[test]
fn wait_can_be_cancelled_and_handles_empty_and_unknown_ops() {
    let e = env(|c| c.op_seconds = 3600);
    let g = &e.gandi;
    let ops = g.paas_renew(1, &RenewParams::new("1m")).unwrap();
    let polls = RefCell::new(0);
    let progress = |_: &Operation| *polls.borrow_mut() += 1;
    let cancel = || *polls.borrow() >= 2;
    let err = g.wait_ops(&ops, &quick().with_progress(&progress).with_cancel(&cancel)).unwrap_err();
    match &err {
        GandiError::WaitCancelled { pending } => assert_eq!(pending.len(), 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(*polls.borrow(), 2);

    assert!(g.wait(&[], &quick()).unwrap().is_empty());
    let err = g.wait(&[999_999], &quick()).unwrap_err();
    assert_eq!(err.fault().unwrap().code, 510242);
    assert_eq!(err.fault().unwrap().method, "operation.info");
    // Duplicates are waited for once.
    let e2 = env(|_| {});
    let r = e2.gandi.paas_restart(1).unwrap();
    assert_eq!(e2.gandi.wait(&[r[0].id, r[0].id], &quick()).unwrap().len(), 1);
}
