//! The bulk engine in Rust (`gandish::gandi::bulk`): recovery from a journal left by a crash,
//! at every point a crash can happen, and the errors it refuses to start with.

use crate::bulk_common;

use std::sync::Arc;
use std::time::Duration;

use bulk_common::{T0, env, temp_path};
use gandish::gandi::bulk::{self, BulkError, History, Journal, Options, Outcome, Task};
use gandish::gandi::{ApiRecord, Gandi, RetryPolicy, Throttle};
use gandish::xmlrpc::{ClientConfig, Struct, Value};

fn client(env: &bulk_common::Env) -> Gandi {
    Gandi::new(&env.url, env.key.as_str(), ClientConfig::default())
        .unwrap()
        .with_throttle(Arc::new(Throttle::new(None, RetryPolicy::default())))
}

fn renew_tasks(g: &Gandi, ids: &[i64]) -> Vec<Task> {
    ids.iter()
        .map(|id| {
            let info = g.paas_info(*id).unwrap();
            Task::renew(*id, "12m").with_before(info.to_value().into_struct().unwrap())
        })
        .collect()
}

fn opts(journal: &Journal) -> Options<'_> {
    let mut o = Options::default();
    o.journal = Some(journal);
    o.settle = Duration::ZERO;
    o.poll_interval = Duration::from_millis(20);
    o
}

#[test]
fn recovery_handles_every_point_a_crash_can_leave_behind() {
    // Ops take 100 s on a frozen clock: a renewal sent stays pending, date_end unchanged.
    let env = env(80, |c| c.op_seconds = 100);
    let g = client(&env);
    let (due, _) = env.split_by_window(30);
    assert!(due.len() >= 4, "{}", due.len());
    let tasks = renew_tasks(&g, &due[..4]);
    let path = temp_path("recovery");
    let mark = {
        let newest =
            g.operation_list(&Struct::new().with("sort_by", "id DESC").with("items_per_page", 1)).unwrap();
        newest.first().map_or(0, |o| o.id)
    };
    let key = |t: &Task| format!("{} {}", env.url, t.key());
    {
        let j = Journal::open(&path).unwrap();
        // 0: crashed after the intent, before sending.
        j.intent(&key(&tasks[0]), mark).unwrap();
        // 1: crashed after sending, before the reply was recorded (the op is pending).
        j.intent(&key(&tasks[1]), mark).unwrap();
        g.paas_renew(tasks[1].paas_id, &gandish::gandi::RenewParams::new("12m")).unwrap();
        // 2: the reply was recorded, the crash came while waiting.
        j.intent(&key(&tasks[2]), mark).unwrap();
        let ops = g.paas_renew(tasks[2].paas_id, &gandish::gandi::RenewParams::new("12m")).unwrap();
        j.applied(&key(&tasks[2]), mark, &ops.iter().map(|o| o.id).collect::<Vec<_>>()).unwrap();
        // 3: never reached.
    }
    let j = Journal::open(&path).unwrap();
    assert!(matches!(j.history(&key(&tasks[0])), Some(History::Unresolved { .. })));
    let mut o = opts(&j);
    o.wait = false;
    let results = bulk::run(&g, &tasks, &o).unwrap();
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::AlreadyApplied, Outcome::AlreadyApplied, Outcome::Applied]
    );
    assert_eq!(results.iter().map(|r| r.sends).collect::<Vec<_>>(), [1, 0, 0, 1]);
    assert!(results[1].ops.len() == 2 && results[2].ops.len() == 2, "{results:?}");
    // The ops come due: each instance renewed exactly once.
    g.call("sandbox.clock.advance", vec![Value::Int(200)]).unwrap();
    let counts = env.ledger_counts("paas_vm_renew");
    for t in &tasks {
        assert_eq!(counts.get(&t.paas_id), Some(&1), "instance {}", t.paas_id);
    }
    assert_eq!(counts.len(), 4);
}

#[test]
fn a_second_run_while_the_first_ones_operations_are_pending_sends_nothing() {
    let env = env(40, |c| c.op_seconds = 100);
    let g = client(&env);
    let (due, _) = env.split_by_window(30);
    let tasks = renew_tasks(&g, &due);
    let path = temp_path("pending");
    let j = Journal::open(&path).unwrap();
    let mut o = opts(&j);
    o.wait = false;
    let first = bulk::run(&g, &tasks, &o).unwrap();
    assert!(first.iter().all(|r| r.outcome == Outcome::Applied && r.sends == 1), "{first:?}");
    // date_end has not moved yet, so a planner would pick the same instances again.
    let again = renew_tasks(&g, &due);
    assert_eq!(again, tasks);
    let second = bulk::run(&g, &again, &o).unwrap();
    assert!(second.iter().all(|r| r.outcome == Outcome::AlreadyApplied && r.sends == 0), "{second:?}");
    g.call("sandbox.clock.advance", vec![Value::Int(200)]).unwrap();
    assert_eq!(env.ledger_counts("paas_vm_renew").values().sum::<usize>(), due.len());
}

#[test]
fn waiting_and_verifying_updates_and_a_failed_operation_fails_only_its_item() {
    let env = env(12, |c| c.op_seconds = 2);
    let g = client(&env);
    let st = env.state();
    let ids: Vec<i64> = st.instances.keys().copied().collect();
    g.call("sandbox.op.fail_next", vec!["paas_vm_update".into(), "no capacity".into()]).unwrap();
    let tasks: Vec<Task> = ids
        .iter()
        .map(|id| {
            let info = g.paas_info(*id).unwrap();
            Task::update(*id, Struct::new().with("size", "xxl"))
                .with_before(info.to_value().into_struct().unwrap())
        })
        .collect();
    // The frozen clock moves on from another thread so the ops finish.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (g, stop) = (g.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = g.call("sandbox.clock.advance", vec![Value::Int(1)]);
                std::thread::sleep(Duration::from_millis(30));
            }
        })
    };
    let path = temp_path("verify");
    let j = Journal::open(&path).unwrap();
    let mut o = opts(&j);
    o.verify = true;
    o.workers = 3;
    let results = bulk::run(&g, &tasks, &o).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().unwrap();
    let failed: Vec<_> = results.iter().filter(|r| r.outcome == Outcome::Failed).collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    assert!(failed[0].error.as_deref().unwrap().contains("no capacity"), "{:?}", failed[0].error);
    for r in results.iter().filter(|r| r.outcome == Outcome::Applied) {
        let after = r.after.as_ref().expect("verified results carry the instance");
        assert_eq!(after.get("size").and_then(Value::as_str), Some("xxl"));
    }
    // The failed item's key was closed (nothing to recover), and so were the others: they were
    // seen through to DONE by a run that ended.
    assert_eq!(j.open_entries(), 0);
    let _ = T0;
}

#[test]
fn refuses_duplicates_and_bad_settings_before_sending_anything() {
    let env = env(3, |_| {});
    let g = client(&env);
    let t = Task::renew(1, "12m");
    let e = bulk::run(&g, &[t.clone(), Task::renew(2, "1m"), t], &Options::default()).unwrap_err();
    assert!(matches!(e, BulkError::Duplicate { first: 0, second: 2, paas_id: 1, .. }), "{e}");
    let mut o = Options::default();
    o.workers = 0;
    let e = bulk::run(&g, &[Task::renew(1, "12m")], &o).unwrap_err();
    assert!(e.to_string().contains("workers must be between 1 and 64"), "{e}");
    assert!(env.state().ops.is_empty(), "nothing was sent");
    // A fault is final and names the instance's problem; the others go on.
    let results =
        bulk::run(&g, &[Task::renew(999, "12m"), Task::renew(1, "12m")], &Options::default()).unwrap();
    assert_eq!(results[0].outcome, Outcome::Failed);
    assert!(results[0].error.as_deref().unwrap().contains("999"), "{:?}", results[0].error);
    assert_eq!(results[1].outcome, Outcome::Applied);
}

/// Forwards every call to the sandbox, except that it loses replies: the first `polls`
/// `operation.info` calls, and the first `infos` `paas.info` calls once a `paas.renew` went
/// through, are answered by closing the connection without a reply.
struct LossyRelay {
    upstream: gandish::xmlrpc::Client,
    key: String,
    polls: std::sync::atomic::AtomicUsize,
    infos: std::sync::atomic::AtomicUsize,
    renewed: std::sync::atomic::AtomicBool,
}

impl LossyRelay {
    fn start(
        env: &bulk_common::Env,
        polls: usize,
        infos: usize,
    ) -> (Arc<LossyRelay>, gandish::xmlrpc::Server) {
        let relay = Arc::new(LossyRelay {
            upstream: gandish::xmlrpc::Client::new(&env.url, ClientConfig::default()).unwrap(),
            key: env.key.clone(),
            polls: polls.into(),
            infos: infos.into(),
            renewed: false.into(),
        });
        let server = gandish::xmlrpc::Server::bind(
            "127.0.0.1:0",
            relay.clone(),
            gandish::xmlrpc::ServerConfig::default(),
        )
        .unwrap();
        (relay, server)
    }

    /// A client of the relay whose throttle resends no read, so no retry below the engine
    /// hides a lost reply.
    fn client(server: &gandish::xmlrpc::Server, env: &bulk_common::Env) -> Gandi {
        let mut no_read_retries = RetryPolicy::default();
        no_read_retries.read_retries = 0;
        Gandi::new(&server.url("/xmlrpc/"), env.key.as_str(), ClientConfig::default())
            .unwrap()
            .with_throttle(Arc::new(Throttle::new(None, no_read_retries)))
    }
}

/// Takes one from `n` if it is not 0.
fn take_one(n: &std::sync::atomic::AtomicUsize) -> bool {
    use std::sync::atomic::Ordering::SeqCst;
    n.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok()
}

impl gandish::xmlrpc::Handler for LossyRelay {
    fn call(
        &self,
        ctx: &mut gandish::xmlrpc::CallContext,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Value, gandish::xmlrpc::Fault> {
        use std::sync::atomic::Ordering::SeqCst;
        // The tracker polls with operation.list calls filtered on `step`.
        let polls = params.get(1).and_then(|f| f.get("step")).is_some();
        let lose = match method {
            "operation.info" => take_one(&self.polls),
            "operation.list" if polls => take_one(&self.polls),
            "paas.info" => self.renewed.load(SeqCst) && take_one(&self.infos),
            _ => false,
        };
        if lose {
            if method.starts_with("operation.") {
                // The sandbox's clock moves on meanwhile, so the op is DONE at the next poll.
                self.upstream
                    .call("sandbox.clock.advance", &[self.key.as_str().into(), Value::Int(200)])
                    .unwrap();
            }
            ctx.drop_reply();
            return Ok(Value::Nil);
        }
        let answer = self.upstream.call(method, &params).map_err(|e| match e {
            gandish::xmlrpc::client::Error::Fault(f) => f,
            other => gandish::xmlrpc::Fault::new(-32300, other.to_string()),
        });
        if method == "paas.renew" {
            self.renewed.store(true, SeqCst);
        }
        answer
    }

    fn method_names(&self) -> Vec<String> {
        Vec::new()
    }
}

#[test]
fn polls_lost_while_waiting_are_tried_again_and_the_item_succeeds() {
    // Ops take 100 s on a frozen clock, so the engine must poll; the relay loses 3 polls in a
    // row.
    let env = env(6, |c| c.op_seconds = 100);
    let (relay, server) = LossyRelay::start(&env, 3, 0);
    let g = LossyRelay::client(&server, &env);
    let id = *env.state().instances.keys().next().unwrap();
    let tasks = renew_tasks(&g, &[id]);
    let path = temp_path("lost-polls");
    let j = Journal::open(&path).unwrap();
    let results = bulk::run(&g, &tasks, &opts(&j)).unwrap();
    assert_eq!(results[0].outcome, Outcome::Applied, "{results:?}");
    assert_eq!(relay.polls.load(std::sync::atomic::Ordering::SeqCst), 0, "3 polls were lost");
    assert_eq!(env.ledger_counts("paas_vm_renew").get(&id), Some(&1), "renewed exactly once");
    server.shutdown();
}

#[test]
fn a_lost_reply_when_verifying_is_read_again_and_the_item_succeeds() {
    let env = env(6, |_| {});
    let (relay, server) = LossyRelay::start(&env, 0, 2);
    let g = LossyRelay::client(&server, &env);
    let id = *env.state().instances.keys().next().unwrap();
    let tasks = renew_tasks(&g, &[id]);
    let path = temp_path("lost-verify");
    let j = Journal::open(&path).unwrap();
    let mut o = opts(&j);
    o.verify = true;
    let results = bulk::run(&g, &tasks, &o).unwrap();
    assert_eq!(results[0].outcome, Outcome::Applied, "{results:?}");
    assert!(results[0].after.is_some(), "the verified instance is in the result");
    assert_eq!(relay.infos.load(std::sync::atomic::Ordering::SeqCst), 0, "2 re-reads were lost");
    assert_eq!(env.ledger_counts("paas_vm_renew").get(&id), Some(&1), "renewed exactly once");
    server.shutdown();
}

#[test]
fn a_rerun_through_another_spelling_of_the_url_finds_the_journalled_renewals() {
    // Ops take 100 s on a frozen clock: the first run's renewals stay pending.
    let env = env(40, |c| c.op_seconds = 100);
    let with_slash = client(&env);
    assert!(env.url.ends_with("/xmlrpc/"), "{}", env.url);
    let without = Gandi::new(env.url.trim_end_matches('/'), env.key.as_str(), ClientConfig::default())
        .unwrap()
        .with_throttle(Arc::new(Throttle::new(None, RetryPolicy::default())));
    let (due, _) = env.split_by_window(30);
    let tasks = renew_tasks(&with_slash, &due);
    let path = temp_path("url-spelling");
    let j = Journal::open(&path).unwrap();
    let mut o = opts(&j);
    o.wait = false;
    let first = bulk::run(&with_slash, &tasks, &o).unwrap();
    assert!(first.iter().all(|r| r.outcome == Outcome::Applied), "{first:?}");
    let second = bulk::run(&without, &tasks, &o).unwrap();
    assert!(second.iter().all(|r| r.outcome == Outcome::AlreadyApplied && r.sends == 0), "{second:?}");
    without.call("sandbox.clock.advance", vec![Value::Int(200)]).unwrap();
    assert_eq!(env.ledger_counts("paas_vm_renew").values().sum::<usize>(), due.len());
}

/// "10 GB more disk" for each instance, as std/resize plans it: the target from the current
/// size, the key from the request.
fn add_disk_tasks(g: &Gandi, ids: &[i64]) -> Vec<Task> {
    ids.iter()
        .map(|id| {
            let info = g.paas_info(*id).unwrap();
            let now = info.data_disk_additional_size.unwrap_or(0);
            let mut t = Task::update(*id, Struct::new().with("quantity", now + 10))
                .with_before(info.to_value().into_struct().unwrap());
            t.request = Some("quantity+10".into());
            t
        })
        .collect()
}

#[test]
fn a_new_relative_change_after_a_run_with_a_failure_is_applied_not_taken_as_done() {
    let env = env(6, |_| {});
    let g = client(&env);
    let ids: Vec<i64> = env.state().instances.keys().copied().collect();
    let disk = |id: i64| env.state().instances[&id].quantity;
    let start: Vec<i64> = ids.iter().map(|id| disk(*id)).collect();
    g.call("sandbox.op.fail_next", vec!["paas_disk_update".into(), "no space".into()]).unwrap();
    let path = temp_path("add-disk");
    let j = Journal::open(&path).unwrap();
    let first = bulk::run(&g, &add_disk_tasks(&g, &ids), &opts(&j)).unwrap();
    assert_eq!(first.iter().filter(|r| r.outcome == Outcome::Failed).count(), 1, "{first:?}");
    // A deliberate second +10, after that run ended: every instance grows again.
    let second = bulk::run(&g, &add_disk_tasks(&g, &ids), &opts(&j)).unwrap();
    assert!(second.iter().all(|r| r.outcome == Outcome::Applied && r.sends == 1), "{second:?}");
    for (i, id) in ids.iter().enumerate() {
        let failed_first = first[i].outcome == Outcome::Failed;
        let want = start[i] + if failed_first { 10 } else { 20 };
        assert_eq!(disk(*id), want, "instance {id}");
    }
}
