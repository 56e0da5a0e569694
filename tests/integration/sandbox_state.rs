//! Persistence round trip (`state_file`) and 64 concurrent clients, at the Handler level.

use crate::support::sandbox as support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use gandish::sandbox::{Dataset, Sandbox, SandboxConfig, SandboxError};
use gandish::xmlrpc::Value;
use support::*;

fn temp_file(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("gandish-sandbox-{tag}-{}-{nanos}.json", std::process::id()))
}

fn snapshot(sb: &Sandbox) -> Vec<Value> {
    ["paas.list", "paas.vhost.list", "operation.list", "sandbox.ledger"]
        .iter()
        .map(|m| ok(sb, m, vec![]))
        .collect()
}

#[test]
fn state_survives_a_restart_and_ids_are_never_reused() {
    let path = temp_file("roundtrip");
    let with_file = |c: &mut SandboxConfig| {
        c.state_file = Some(path.clone());
        c.op_seconds = 10;
    };
    let before = {
        let sb = sandbox(with_file);
        assert!(path.exists(), "the dataset is saved at start");
        ok(&sb, "paas.create", vec![seed_spec(false)]);
        ok(&sb, "paas.renew", vec![1.into(), st(vec![("duration", "2m".into())])]);
        ok(&sb, "sandbox.zone.set_txt", vec!["other.example.com".into(), "x=1".into()]);
        ok(&sb, "sandbox.clock.advance", vec![10.into()]);
        ok(&sb, "paas.delete", vec![2.into()]); // pending at the "crash"
        snapshot(&sb)
    };
    // A different dataset in the config does not matter: the file wins.
    let sb = sandbox(|c| {
        with_file(c);
        c.dataset = Dataset::Demo;
    });
    assert_eq!(snapshot(&sb), before);
    assert!(!path.with_extension("json.tmp").exists(), "no temporary file left behind");
    // The pending delete still lands, the clock offset was kept, and new ids continue upward.
    ok(&sb, "sandbox.clock.advance", vec![10.into()]);
    assert_eq!(err(&sb, "paas.info", vec![2.into()]).code, 537542);
    let ops = ok(&sb, "paas.create", vec![seed_spec(false)]);
    assert_eq!(i(get(&arr(&ops)[0], "params"), "paas_id"), 3);
    assert!(i(&arr(&ops)[0], "id") > 1004);
    assert_eq!(get(&ok(&sb, "paas.info", vec![3.into()]), "date_start"), &dt("20240115T13:00:20"));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_corrupt_state_file_is_a_clear_error() {
    let path = temp_file("corrupt");
    std::fs::write(&path, b"{ not json").unwrap();
    let e = Sandbox::new(SandboxConfig { state_file: Some(path.clone()), ..SandboxConfig::default() })
        .unwrap_err();
    assert!(matches!(e, SandboxError::State { .. }));
    let text = e.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("not a sandbox state file"),
        "{text}"
    );
    std::fs::remove_file(&path).unwrap();
    let bad = Sandbox::new(SandboxConfig { fail_rate: 1.5, ..SandboxConfig::default() }).unwrap_err();
    assert!(bad.to_string().contains("fail_rate"), "{bad}");
}

/// Saves a seed world with a renewal in its ledger to a new state file, then rewrites the file
/// through `edit` (on its JSON) and tries to load it; returns the file and the error.
fn load_edited(tag: &str, edit: impl FnOnce(&mut serde_json::Value) -> String) -> (PathBuf, SandboxError) {
    let path = temp_file(tag);
    {
        let sb = sandbox(|c| c.state_file = Some(path.clone()));
        ok(&sb, "paas.renew", vec![1.into(), st(vec![("duration", "1m".into())])]);
        assert_eq!(arr(&ok(&sb, "sandbox.ledger", vec![])).len(), 1);
    }
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let text = edit(&mut json);
    std::fs::write(&path, text).unwrap();
    let e = Sandbox::new(SandboxConfig { state_file: Some(path.clone()), ..SandboxConfig::default() })
        .expect_err("an inconsistent state file is refused");
    (path, e)
}

#[test]
fn a_state_file_with_a_lowered_counter_is_refused_naming_the_file_and_the_counter() {
    let (path, e) = load_edited("lowered-op", |json| {
        let used = json["ledger"][0]["op_id"].as_i64().unwrap();
        assert!(used >= 1000, "{json}");
        json["next"]["op"] = 1000.into();
        json.to_string()
    });
    assert!(matches!(e, SandboxError::State { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("inconsistent, refused: next.op is 1000, but operation 10"), "{text}");
    assert!(text.contains("it must be above every id in use"), "{text}");
    // The file is left as it was: nothing was saved over it.
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["next"]["op"], 1000);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_state_file_with_an_id_twice_or_a_record_under_another_id_is_refused() {
    // The same instance id twice in the JSON object (serde alone would keep the last silently).
    let (path, e) = load_edited("duplicate-id", |json| {
        let record = json["instances"]["1"].to_string();
        json.to_string().replacen("\"instances\":{", &format!("\"instances\":{{\"1\":{record},"), 1)
    });
    let text = e.to_string();
    assert!(text.contains(&path.display().to_string()) && text.contains("id 1 appears twice"), "{text}");
    std::fs::remove_file(&path).unwrap();

    let (path, e) = load_edited("misfiled", |json| {
        json["vhosts"]["1"]["id"] = 7.into();
        json.to_string()
    });
    let text = e.to_string();
    assert!(text.contains("vhosts 1 holds the record of id 7"), "{text}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn every_dataset_passes_the_load_time_checks() {
    for dataset in [Dataset::Seed, Dataset::Demo, Dataset::Empty] {
        let sb = sandbox(|c| {
            c.dataset = dataset;
            c.instances = 40;
        });
        ok(&sb, "paas.create", vec![seed_spec(false)]);
        assert_eq!(sb.state().problems(), Vec::<String>::new(), "{dataset:?}");
    }
}

#[test]
fn sixty_four_clients_hammering_create_renew_delete_stay_consistent() {
    hammer(5, None);
}

#[test]
fn sixty_four_clients_with_a_state_file_save_what_they_were_answered() {
    // Saves are shared by concurrent calls (group commit), but each still writes the whole world:
    // three rounds keep this quick in debug builds.
    let path = temp_file("hammer");
    hammer(3, Some(path.clone()));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn every_change_is_in_the_file_when_its_reply_returns() {
    // Sixteen clients change the world at once; each, as soon as it has its answer, finds its
    // change in the file (saves shared between concurrent calls must not skip anyone's).
    let path = temp_file("durable");
    let sb = Arc::new(sandbox(|c| c.state_file = Some(path.clone())));
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (sb, path) = (Arc::clone(&sb), path.clone());
            std::thread::spawn(move || {
                for n in 0..8 {
                    let (fqdn, value) = (format!("t{t}-{n}.example.com"), format!("v={t}-{n}"));
                    assert_eq!(
                        ok(&sb, "sandbox.zone.set_txt", vec![fqdn.as_str().into(), value.as_str().into()]),
                        Value::Bool(true)
                    );
                    let saved: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                    assert_eq!(
                        saved["txt"][&fqdn],
                        serde_json::json!([value]),
                        "{fqdn} not saved before its reply"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let reloaded = sandbox(|c| c.state_file = Some(path.clone()));
    assert_eq!(reloaded.state().txt.len(), 16 * 8);
    std::fs::remove_file(&path).unwrap();
}

fn hammer(rounds: usize, path: Option<PathBuf>) {
    let sb = Arc::new(sandbox(|c| c.state_file = path.clone()));
    let threads: Vec<_> = (0..64)
        .map(|t| {
            let sb = Arc::clone(&sb);
            std::thread::spawn(move || {
                let mut mine = vec![];
                for r in 0..rounds {
                    let mut spec = seed_spec(false);
                    if let Value::Struct(s) = &mut spec {
                        s.insert("vhosts", Value::Array(vec![]));
                        s.insert("name", format!("t{t}-r{r}"));
                    }
                    let ops = ok(&sb, "paas.create", vec![spec]);
                    let pid = i(get(&arr(&ops)[0], "params"), "paas_id");
                    let mut op_ids: Vec<i64> = arr(&ops).iter().map(|o| i(o, "id")).collect();
                    let renew = ok(&sb, "paas.renew", vec![pid.into(), st(vec![("duration", "1m".into())])]);
                    op_ids.extend(arr(&renew).iter().map(|o| i(o, "id")));
                    // Everyone also renews the shared instance 1.
                    let shared = ok(&sb, "paas.renew", vec![1.into(), st(vec![("duration", "1m".into())])]);
                    op_ids.extend(arr(&shared).iter().map(|o| i(o, "id")));
                    if r % 2 == 0 {
                        op_ids.push(i(&ok(&sb, "paas.delete", vec![pid.into()]), "id"));
                    }
                    mine.push((pid, op_ids));
                }
                mine
            })
        })
        .collect();
    let results: Vec<(i64, Vec<i64>)> = threads.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let paas_ids: BTreeSet<i64> = results.iter().map(|r| r.0).collect();
    assert_eq!(paas_ids.len(), 64 * rounds, "no instance id handed out twice");
    let op_ids: Vec<i64> = results.iter().flat_map(|r| r.1.iter().copied()).collect();
    let unique: BTreeSet<i64> = op_ids.iter().copied().collect();
    assert_eq!(unique.len(), op_ids.len(), "no op id handed out twice");

    let deleted = 64 * rounds.div_ceil(2);
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int((1 + 64 * rounds - deleted) as i64));
    // Ledger: one create and one renew per round, plus the shared renews; each op once.
    let ledger = ok(&sb, "sandbox.ledger", vec![]);
    let entries = arr(&ledger);
    assert_eq!(entries.len(), 64 * rounds * 3);
    let ledger_ops: BTreeSet<i64> = entries.iter().map(|e| i(e, "op_id")).collect();
    assert_eq!(ledger_ops.len(), entries.len());
    let shared = entries.iter().filter(|e| i(e, "paas_id") == 1).count();
    assert_eq!(shared, 64 * rounds);
    // No lost update: 64 × rounds one-month renews from 14 Oct 2011.
    let months = 64 * rounds as u32;
    let (y, m) = (2011 + (9 + months) / 12, (9 + months) % 12 + 1);
    let want = format!("{y}{m:02}14T14:36:30");
    assert_eq!(get(&ok(&sb, "paas.info", vec![1.into()]), "date_end"), &dt(&want));
    // And what was saved is what was answered.
    if let Some(path) = path {
        let reloaded = sandbox(|c| c.state_file = Some(path.clone()));
        assert_eq!(snapshot(&reloaded), snapshot(&sb));
    }
}
