//! Every script module function against the in-process sandbox, with assertions on the state the
//! sandbox ends up in.

use crate::support::script as support;

use crate::common;

use gandish::script::Error;
use gandish::xmlrpc::Value;
use support::*;

#[test]
fn paas_reads_list_count_info_types() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let v = eval(
        &rt,
        r#"
        let all = paas::list();
        let running = paas::list(#{state: "running"});
        let small = paas::list(#{size: "s"});
        let p = all[0];
        let by_id = paas::info(1);
        let by_map = paas::info(p);
        [all.len(), running.len(), small.len(), paas::count(), paas::count(#{size: "s"}),
         p.id, p.name, by_id.name, by_map.user, by_id.datacenter.name, by_id.vhosts[0].name,
         type_of(p.date_end), p.need_upgrade, p.date_end_commitment,
         paas::types().map(|t| t.name).contains("phpmysql"), paas::types().len()]
        "#,
    );
    let a = v.into_array().unwrap();
    assert_eq!(int(&a[0]), 1, "the seed account owns one instance");
    assert_eq!(int(&a[1]), 1);
    assert_eq!(int(&a[2]), 0);
    assert_eq!(int(&a[3]), 1);
    assert_eq!(int(&a[4]), 0);
    assert_eq!(int(&a[5]), 1);
    assert_eq!(string(a[6].clone()), "Mon PaaS");
    assert_eq!(string(a[7].clone()), "Mon PaaS");
    assert_eq!(int(&a[8]), 2316, "info(map) reads the same instance as info(id)");
    assert_eq!(string(a[9].clone()), "eqx pa2");
    assert_eq!(string(a[10].clone()), "vhost.test.fr");
    assert_eq!(string(a[11].clone()), "date");
    assert!(a[12].as_bool().unwrap());
    assert!(a[13].is_unit(), "nil becomes ()");
    assert!(a[14].as_bool().unwrap());
    let n_types = client(&sb).type_list(&Default::default()).unwrap().len() as i64;
    assert_eq!(int(&a[15]), n_types);
    assert!(n_types >= 12);
}

#[test]
fn paas_lifecycle_create_update_renew_restart_delete() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let g = client(&sb);
    let id = int(&eval(
        &rt,
        r#"
        let ops = paas::create(#{name: "web", size: "s", type: "phpmysql", datacenter_id: 1,
                                 duration: "1m", password: "s3cret!", quantity: 0});
        if ops.len() != 3 { throw "expected 3 ops" }
        let done = op::wait(ops);
        if done.len() != 3 || done.some(|o| o.step != "DONE") { throw `not done: ${done}` }
        ops[0].params.paas_id
        "#,
    ));
    let info = g.paas_info(id).unwrap();
    assert_eq!(info.name.as_deref(), Some("web"));
    assert_eq!(info.state.as_deref(), Some("running"));

    let v = eval(
        &rt,
        &format!(
            r#"
        let p = paas::info({id});
        op::wait(paas::update(p, #{{size: "xl"}}));
        let before = paas::info(p).date_end;
        op::wait(paas::renew(p, "12m"));
        let after = paas::info(p).date_end;
        let restart = paas::restart(p);
        op::wait(restart);
        [after == before + months(12), restart.type, paas::info(p).size]
        "#
        ),
    );
    let a = v.into_array().unwrap();
    assert!(a[0].as_bool().unwrap(), "renew moved date_end forward by 12 months");
    assert_eq!(string(a[1].clone()), "paas_vm_restart");
    assert_eq!(string(a[2].clone()), "xl");
    assert_eq!(g.paas_info(id).unwrap().size.as_deref(), Some("xl"));

    let renew_params = eval(
        &rt,
        &format!(
            r#"let p = paas::info({id}); let d = p.date_end; op::wait(paas::renew({id}, #{{duration: "2m", fixed: false}})); paas::info(p).date_end == d + months(2)"#
        ),
    );
    assert!(renew_params.as_bool().unwrap());

    let kinds: Vec<String> = ledger(&sb)
        .iter()
        .map(|e| e.get("type").and_then(Value::as_str).unwrap_or_default().to_string())
        .collect();
    for want in ["paas_vm_create", "paas_vm_update", "paas_vm_renew"] {
        assert!(kinds.iter().any(|k| k == want), "{want} missing from the ledger {kinds:?}");
    }

    let _ = eval(&rt, &format!("op::wait(paas::delete({id}))"));
    assert_eq!(g.paas_count(&Default::default()).unwrap(), 1);
    assert!(g.paas_info(id).unwrap_err().fault().unwrap().is_not_found());
}

#[test]
fn vhost_functions_change_the_sandbox() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let g = client(&sb);
    let v = eval(
        &rt,
        r#"
        let fqdn = "www.test.fr";
        let entries = vhost::dns_entries(fqdn, 1);
        gandi::invoke("sandbox.zone.set_txt", [fqdn, entries.txt]);
        let before = vhost::count();
        let op = vhost::create(paas::info(1), fqdn);
        op::wait(op);
        let v = vhost::info(fqdn);
        [before, vhost::count(), vhost::count(#{paas_id: 1}), v.name, v.paas_id,
         vhost::list(#{paas_id: 1}).map(|v| v.name).contains(fqdn), vhost::list().len(),
         vhost::dns_entries(fqdn).domain, entries.txt]
        "#,
    );
    let a = v.into_array().unwrap();
    assert_eq!(int(&a[1]), int(&a[0]) + 1);
    assert_eq!(int(&a[2]), 2);
    assert_eq!(string(a[3].clone()), "www.test.fr");
    assert_eq!(int(&a[4]), 1);
    assert!(a[5].as_bool().unwrap());
    assert_eq!(int(&a[6]), int(&a[1]));
    assert_eq!(string(a[7].clone()), "test.fr");
    assert!(string(a[8].clone()).starts_with("www="));
    assert_eq!(g.vhost_info("www.test.fr").unwrap().paas_id, Some(1));

    let _ = eval(&rt, r#"op::wait(vhost::delete(vhost::info("www.test.fr")))"#);
    assert!(g.vhost_info("www.test.fr").is_err());
    assert_eq!(g.vhost_count(&Default::default()).unwrap(), 1);
}

#[test]
fn op_info_list_cancel_and_failed_wait() {
    // Slow operations, so they can still be cancelled.
    let sb = sandbox_with(|c| c.op_seconds = 3600);
    let (rt, _) = runtime(&sb);
    let v = eval(
        &rt,
        r#"
        let ops = paas::renew(1, "1m");
        let first = ops[0];
        let cancelled = op::cancel(first);
        let info = op::info(first.id);
        let listed = op::list(#{step: ["CANCEL"]}).map(|o| o.id);
        let err = ();
        try { op::wait(first, 5) } catch (e) { err = e }
        [cancelled, info.step, listed.contains(first.id), err.kind, err.id, err.step, op::list().len() >= 2]
        "#,
    );
    let a = v.into_array().unwrap();
    assert!(a[0].as_bool().unwrap());
    assert_eq!(string(a[1].clone()), "CANCEL");
    assert!(a[2].as_bool().unwrap());
    assert_eq!(string(a[3].clone()), "operation");
    assert_eq!(string(a[5].clone()), "CANCEL");
    let id = int(&a[4]);
    assert_eq!(client(&sb).operation_info(id).unwrap().step.as_str(), "CANCEL");
}

#[test]
fn datacenters_profiles_version_and_raw_calls() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let v = eval(
        &rt,
        r#"
        [datacenter::list()[0].name, datacenter::list(#{id: 1}).len(),
         snapshot_profile::list().map(|p| p.name), snapshot_profile::list(#{id: 7}).len(),
         gandi::version(), gandi::invoke("paas.info", [1]).name, gandi::invoke("paas.count")]
        "#,
    );
    let a = v.into_array().unwrap();
    assert_eq!(string(a[0].clone()), "eqx pa2");
    assert_eq!(int(&a[1]), 1);
    let profiles: Vec<String> = a[2].clone().into_array().unwrap().into_iter().map(string).collect();
    assert!(profiles.contains(&"paas_normal".to_string()), "{profiles:?}");
    assert_eq!(int(&a[3]), 1);
    assert_eq!(string(a[4].clone()), "3.3.42");
    assert_eq!(string(a[5].clone()), "Mon PaaS");
    assert_eq!(int(&a[6]), 1);
}

#[test]
fn xmlrpc_call_reaches_any_server_without_the_key() {
    let py = common::PyServer::xmlrpc(
        "server.register_function(lambda *a: [type(x).__name__ for x in a], 'types')\n\
         server.register_function(lambda *a: list(a), 'echo')",
    );
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let script = format!(
        r#"
        let url = "{}";
        let types = xmlrpc::invoke(url, "types", [date("2027-01-31T10:00:00"), 1, 2.5, "s", true, (), [1], #{{a: 1}}]);
        let echo = xmlrpc::invoke(url, "echo", [date("2027-01-31T10:00:00")]);
        let fault = ();
        try {{ xmlrpc::invoke("{}", "paas.count", []) }} catch (e) {{ fault = e }}
        [types, type_of(echo[0]), echo[0] == date("2027-01-31T10:00:00"), fault.kind, fault.code]
        "#,
        py.url(),
        sb.url()
    );
    let a = eval(&rt, &script).into_array().unwrap();
    let types: Vec<String> = a[0].clone().into_array().unwrap().into_iter().map(string).collect();
    assert_eq!(
        types,
        ["datetime", "int", "float", "str", "bool", "NoneType", "list", "dict"],
        "dates go out as dateTime"
    );
    assert_eq!(string(a[1].clone()), "date");
    assert!(a[2].as_bool().unwrap());
    assert_eq!(string(a[3].clone()), "fault");
    assert_eq!(int(&a[4]), 510150, "without the key the sandbox refuses the call");
}

#[test]
fn a_fault_is_caught_in_script_with_its_code_and_fields() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let a = eval(
        &rt,
        r#"
        let e = ();
        try { paas::info(999) } catch (err) { e = err }
        [e.kind, e.code, e.object, e.cause, e.method, e.message]
        "#,
    )
    .into_array()
    .unwrap();
    assert_eq!(string(a[0].clone()), "fault");
    assert_eq!(int(&a[1]), 537542);
    assert_eq!(string(a[2].clone()), "OBJECT_PAAS");
    assert_eq!(string(a[3].clone()), "CAUSE_NOTFOUND");
    assert_eq!(string(a[4].clone()), "paas.info");
    assert!(string(a[5].clone()).contains("999"));
}

#[test]
fn transport_errors_are_catchable_and_distinct() {
    let port = common::closed_port();
    let (b, _) = builder(&sandbox());
    let rt = b.endpoint(format!("http://127.0.0.1:{port}/xmlrpc/")).build().unwrap();
    let a = eval(
        &rt,
        r#"let e = (); try { paas::count() } catch (err) { e = err } [e.kind, e.method, e.timeout]"#,
    )
    .into_array()
    .unwrap();
    assert_eq!(string(a[0].clone()), "transport");
    assert_eq!(string(a[1].clone()), "paas.count");
    assert!(!a[2].as_bool().unwrap());
    match rt.eval("\n\npaas::list()").unwrap_err() {
        Error::Transport { method, position, .. } => {
            assert_eq!(method, "paas.list");
            assert_eq!(position.line(), Some(3));
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn errors_in_module_calls_carry_the_script_line() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let err = rt.eval("let a = 1;\nlet b = 2;\nlet p = paas::info(999);\np").unwrap_err();
    match &err {
        Error::Fault { code, method, position, .. } => {
            assert_eq!(*code, 537542);
            assert_eq!(method, "paas.info");
            assert_eq!(position.line(), Some(3));
        }
        other => panic!("expected a fault, got {other:?}"),
    }
    assert!(err.to_string().contains("(line 3, position"), "{err}");

    // Inside a function: the line of the call in the function body.
    let err =
        rt.eval("fn check(id) {\n  let x = 1;\n  paas::info(id)\n}\ncheck(1);\ncheck(999)").unwrap_err();
    assert_eq!(err.line(), Some(3), "{err}");

    // A bad argument, too.
    let err = rt.eval("let x = 1;\npaas::renew(\"one\", \"12m\")").unwrap_err();
    assert_eq!(err.line(), Some(2), "{err}");
    assert!(
        err.to_string().contains("expected a instance id") || err.to_string().contains("instance id"),
        "{err}"
    );
    let err = rt.eval("let x = 1;\n\npaas::update(#{name: \"x\"}, #{size: \"l\"})").unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().contains("has no `id`"), "{err}");
}

#[test]
fn dry_run_sends_no_mutation_and_records_the_plan() {
    let sb = sandbox();
    let (b, _) = builder(&sb);
    let rt = b.dry_run(true).build().unwrap();
    let ledger_before = ledger(&sb);
    let ops_before = client(&sb).operation_count(&Default::default()).unwrap();
    let a = eval(
        &rt,
        r#"
        let p = paas::info(1);
        let plans = [];
        plans += paas::create(#{name: "My PaaS", size: "s", type: "phpmysql", datacenter_id: 1,
                               vhosts: ["vhost.test.fr"], quantity: 0, duration: "3m", password: "xxxxxxxxxx"});
        plans += op::wait(paas::renew(p, "12m"));
        plans += paas::update(p, #{size: "xl", password: "hunter22"});
        plans += paas::restart(p);
        plans += vhost::create(p, "other.test.fr");
        plans += vhost::delete("vhost.test.fr");
        plans += op::cancel(1000);
        plans += paas::delete(p);
        plans += gandi::invoke("paas.delete", [1]);
        [plans, paas::count(), paas::info(1).size]
        "#,
    )
    .into_array()
    .unwrap();
    // Nothing changed on the server.
    assert_eq!(ledger(&sb), ledger_before);
    assert_eq!(client(&sb).operation_count(&Default::default()).unwrap(), ops_before);
    assert_eq!(client(&sb).paas_info(1).unwrap().size.as_deref(), Some("m"));
    assert_eq!(client(&sb).vhost_count(&Default::default()).unwrap(), 1);
    // Reads still happened.
    assert_eq!(int(&a[1]), 1);
    assert_eq!(string(a[2].clone()), "m");

    let plan = rt.plan();
    let methods: Vec<&str> = plan.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "paas.create",
            "paas.renew",
            "paas.update",
            "paas.restart",
            "paas.vhost.create",
            "paas.vhost.delete",
            "operation.cancel",
            "paas.delete",
            "paas.delete"
        ]
    );
    // Gandi's own validation was asked for create: the TXT proof is missing for vhost.test.fr.
    let errors = plan[0].errors.as_ref().expect("create was validated");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].get("error").and_then(Value::as_str), Some("EC_TXT+EC_MISSINGMANDATORY"));
    assert!(plan[4].errors.as_ref().is_some_and(|e| !e.is_empty()), "vhost create validated: {:?}", plan[4]);
    assert!(plan[1].summary.contains("renew instance 1 (Mon PaaS) for 12m"), "{}", plan[1].summary);
    // Neither the key nor the password is in the args.
    let shown = format!("{plan:?}");
    assert!(!shown.contains(sb.api_key()), "{shown}");
    assert!(!shown.contains("hunter22") && !shown.contains("xxxxxxxxxx"), "{shown}");
    // The script saw the same entries.
    let script_plans = a[0].clone().into_array().unwrap();
    assert_eq!(script_plans.len(), 9);
    let first = script_plans[0].read_lock::<rhai::Map>().unwrap().clone();
    assert_eq!(first["method"].clone().into_string().unwrap(), "paas.create");
    assert!(first.contains_key("summary") && first.contains_key("args"));
    assert_eq!(rt.take_plan().len(), 9);
    assert!(rt.plan().is_empty());
}

#[test]
fn the_call_log_records_calls_with_the_key_redacted() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let _ = eval(&rt, "paas::info(1); try { paas::info(999) } catch {}");
    let calls = rt.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.method == "paas.info"));
    let shown = format!("{calls:?}");
    assert!(!shown.contains(sb.api_key()), "{shown}");
    assert!(matches!(calls[1].outcome, gandish::gandi::CallOutcome::Fault { code: 537542, .. }));
    rt.clear_calls();
    assert!(rt.calls().is_empty());
}

#[test]
fn print_and_debug_go_to_the_hooks() {
    let sb = sandbox();
    let debug = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = debug.clone();
    let (b, out) = builder(&sb);
    let rt = b
        .on_debug(move |s, _src, pos| sink.lock().unwrap().push((s.to_string(), pos.line())))
        .build()
        .unwrap();
    let _ = eval(&rt, "print(`hello ${paas::info(1).name}`);\ndebug(42);");
    assert_eq!(out.lines(), ["hello Mon PaaS"]);
    assert_eq!(*debug.lock().unwrap(), [("42".to_string(), Some(2))]);
}

#[test]
fn one_runtime_serves_several_threads() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let rt = std::sync::Arc::new(rt);
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let rt = rt.clone();
            std::thread::spawn(move || {
                let mut scope = rhai::Scope::new();
                scope.push("n", i as i64);
                rt.eval_with_scope(
                    &mut scope,
                    "let total = 0; for i in 0..5 { total += paas::info(1).id } total + n",
                )
                .unwrap()
                .as_int()
                .unwrap()
            })
        })
        .collect();
    let mut got: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    got.sort();
    assert_eq!(got, [5, 6, 7, 8]);
    assert_eq!(rt.calls().len(), 20);
}

#[test]
fn under_dry_run_a_multicall_is_planned_not_sent_even_wrapping_reads() {
    // system.multicall can carry any call, a delete included, so it is never taken for a read.
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    rt.set_dry_run(true);
    let script = format!(
        r#"
        let key = "{}";
        let r = xmlrpc::invoke("{}", "system.multicall", [[#{{methodName: "paas.delete", params: [key, 1]}}]]);
        [r.dry_run, xmlrpc::invoke("{}", "system.listMethods", []).len() > 0]
        "#,
        sb.api_key(),
        sb.url(),
        sb.url()
    );
    let a = eval(&rt, &script).into_array().unwrap();
    assert!(a[0].as_bool().unwrap(), "the multicall is a plan entry");
    assert!(a[1].as_bool().unwrap(), "introspection is still sent");
    assert!(sb.sandbox().state().instances.contains_key(&1), "instance 1 was not deleted");
}
