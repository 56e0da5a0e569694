//! Persistence round trip (`state_file`) and 64 concurrent clients, at the Handler level.

#[path = "support/sandbox.rs"]
mod support;

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

#[test]
fn sixty_four_clients_hammering_create_renew_delete_stay_consistent() {
    hammer(5, None);
}

#[test]
fn sixty_four_clients_with_a_state_file_save_what_they_were_answered() {
    // Every change rewrites the whole file, so fewer rounds keep this quick in debug builds.
    let path = temp_file("hammer");
    hammer(1, Some(path.clone()));
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
