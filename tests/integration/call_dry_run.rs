//! `gandish --dry-run call`: every change, and every method gandish does not know, is planned
//! and not sent; reads are still sent and answered. The built binary against a real sandbox.

use crate::bulk_common;

use bulk_common::{Env, env, text};
use gandish::gandi::Gandi;
use gandish::sandbox::Dataset;
use gandish::xmlrpc::{ClientConfig, Value};

fn client(env: &Env) -> Gandi {
    Gandi::new(&env.url, env.key.as_str(), ClientConfig::default()).unwrap()
}

/// A demo sandbox whose operations take `op_seconds` (0: a billable change reaches the ledger
/// at once; more: an operation stays pending, to be cancelled), with a restart sent, and what
/// the calls below refer to: an instance id, a vhost name and that restart's operation id.
fn setup(op_seconds: u64) -> (Env, i64, String, i64) {
    let env = env(0, |c| {
        c.dataset = Dataset::Demo;
        c.op_seconds = op_seconds;
    });
    let g = client(&env);
    let vhost = g.call("paas.vhost.list", vec![]).unwrap().into_array().unwrap()[0]
        .get("name")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    let st = env.state();
    let mut running = st.instances.values().filter(|i| i.state == "running").map(|i| i.id);
    let (paas_id, busy) = (running.next().unwrap(), running.next().unwrap());
    // A restart of another instance: its operation stays pending (and locks that instance only).
    let op = g.call("paas.restart", vec![busy.into()]).unwrap();
    let op_id = op.get("id").and_then(Value::as_i64).expect("restart answers an operation");
    (env, paas_id, vhost, op_id)
}

#[test]
fn every_change_and_every_unknown_method_is_planned_and_not_sent() {
    // Instant operations, so a renewal or update sent by mistake would show in the ledger.
    planned_and_not_sent(setup(0));
    // Slow operations, so a cancel sent by mistake would find its operation pending.
    planned_and_not_sent(setup(600));
}

fn planned_and_not_sent((env, id, vhost, op_id): (Env, i64, String, i64)) {
    let id = id.to_string();
    let op = op_id.to_string();
    let fqdn = format!("\"{vhost}\"");
    let create = r#"{"name": "dry", "size": "s", "type": "phpmysql", "datacenter_id": 1, "duration": "1m", "password": "hunter2-secret"}"#;
    let cases: Vec<Vec<&str>> = vec![
        vec!["paas.create", create],
        vec!["paas.update", &id, r#"{"size": "xxl"}"#],
        vec!["paas.delete", &id],
        vec!["paas.renew", &id, r#"{"duration": "12m"}"#],
        vec!["paas.restart", &id],
        vec!["paas.vhost.create", r#"{"paas_id": 1, "vhost": "new.example.org"}"#],
        vec!["paas.vhost.delete", &fqdn],
        vec!["operation.cancel", &op],
        vec!["operation.relaunch", &op],
        // Not in the catalogue: gandish cannot know they only read, so they are not sent.
        vec!["sandbox.reset"],
        vec!["sandbox.clock.advance", "86400"],
        vec!["paas.frobnicate", &id],
        vec!["system.multicall", r#"[{"methodName": "paas.delete", "params": [1]}]"#],
    ];
    let before = env.world();
    let ledger = env.api_ledger().len();
    let count = client(&env).call("paas.count", vec![]).unwrap().as_i64().unwrap().to_string();
    for case in &cases {
        let mut argv = vec!["--dry-run", "call"];
        argv.extend(case.iter().copied());
        let o = env.run(&argv);
        let (out, err) = (text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "{case:?}: {out}{err}");
        assert!(out.starts_with("dry run: 1 change planned, none sent:\n"), "{case:?}: {out}");
        assert!(out.contains(&format!("{}(", case[0])), "{case:?}: the plan names the call: {out}");
        assert!(!out.contains(&env.key) && !err.contains(&env.key), "{case:?}: the key leaked");
        assert_eq!(env.world(), before, "{case:?} changed the sandbox");
    }
    assert_eq!(env.api_ledger().len(), ledger, "sandbox.ledger is unchanged");
    let o = env.run(&["--dry-run", "call", "paas.count"]);
    assert_eq!(text(&o.stdout).trim(), count, "paas.count is unchanged");

    // The plan shows the arguments as given, a password redacted.
    let o = env.run(&["--dry-run", "call", "paas.create", create]);
    let out = text(&o.stdout);
    assert!(out.contains("\"size\": \"s\"") || out.contains("\"size\":\"s\""), "{out}");
    assert!(out.contains("[REDACTED]") && !out.contains("hunter2"), "{out}");
    // An unknown method says why it was not sent.
    let o = env.run(&["--dry-run", "call", "paas.frobnicate", "1"]);
    assert!(text(&o.stdout).contains("a method not known to only read"), "{}", text(&o.stdout));
    assert_eq!(env.world(), before);
}

#[test]
fn reads_are_still_sent_under_dry_run() {
    let (env, id, vhost, op_id) = setup(600);
    let g = client(&env);
    let before = env.world();
    let count = env.run(&["--dry-run", "call", "paas.count"]);
    assert_eq!(count.status.code(), Some(0), "{}", text(&count.stderr));
    assert_eq!(
        text(&count.stdout).trim(),
        g.call("paas.count", vec![]).unwrap().as_i64().unwrap().to_string()
    );
    let info = env.run(&["--dry-run", "call", "paas.info", &id.to_string()]);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("paas.info answers JSON");
    assert_eq!(info["id"], id);
    let fqdn = format!("\"{vhost}\"");
    let reads: [&[&str]; 6] = [
        &["paas.vhost.info", &fqdn],
        &["operation.info", &op_id.to_string()],
        &["paas.list", r#"{"items_per_page": 2}"#],
        &["hosting.datacenter.list"],
        &["version.info"],
        &["sandbox.ledger"],
    ];
    for r in reads {
        let mut argv = vec!["--dry-run", "call"];
        argv.extend(r.iter().copied());
        let o = env.run(&argv);
        assert_eq!(o.status.code(), Some(0), "{r:?}: {}", text(&o.stderr));
        let out = text(&o.stdout);
        assert!(!out.contains("dry run"), "{r:?} was planned instead of sent: {out}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("{r:?}: {e}: {out}"));
    }
    assert_eq!(env.world(), before, "reads change nothing");
}

#[test]
fn json_gives_the_plan_as_json() {
    let (env, id, _, _) = setup(0);
    let before = env.world();
    let o =
        env.run(&["--dry-run", "--json", "call", "paas.renew", &id.to_string(), r#"{"duration": "12m"}"#]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["sent"], false);
    assert_eq!(plan["method"], "paas.renew");
    assert_eq!(plan["args"], serde_json::json!([id, {"duration": "12m"}]));
    assert_eq!(env.world(), before);
    // A read under --json --dry-run is the answer itself.
    let o = env.run(&["--dry-run", "--json", "call", "paas.count"]);
    assert!(text(&o.stdout).trim().parse::<i64>().is_ok(), "{}", text(&o.stdout));
}

#[test]
fn without_dry_run_the_change_is_sent() {
    // The control: the same command line without --dry-run does change the sandbox, so the
    // tests above see a real difference.
    let (env, id, _, _) = setup(0);
    let (before, ledger) = (env.world(), env.api_ledger().len());
    let o = env.run(&["call", "paas.renew", &id.to_string(), r#"{"duration": "12m"}"#]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(env.api_ledger().len(), ledger + 1);
    assert_ne!(env.world(), before);
    let o = env.run(&["call", "paas.delete", &id.to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(!env.state().instances.contains_key(&id), "the delete was sent");
}
