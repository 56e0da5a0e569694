//! The sandbox over real HTTP, driven by Python's `xmlrpc.client` (`python3`): the seed's session
//! verbatim, lifecycle and lists, each injection flag, 64 concurrent clients, and persistence
//! across a `kill -9` of a `gandish sandbox` child process.

use crate::support::sandbox as support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use gandish::sandbox::{Dataset, RunningSandbox, SandboxConfig};
use gandish::xmlrpc::Value;
use support::KEY;

fn serve(f: impl FnOnce(&mut SandboxConfig)) -> RunningSandbox {
    crate::support::frozen_seed_sandbox(f)
}

/// Runs a Python script with `URL` and `KEY` defined; returns its stdout, failing on error.
fn python(url: &str, script: &str) -> String {
    let prelude = format!(
        "import sys, xmlrpc.client, threading, time\nURL = {url:?}\nKEY = {KEY:?}\n\
         DT = xmlrpc.client.DateTime\n\
         def proxy():\n    return xmlrpc.client.ServerProxy(URL, allow_none=True)\n"
    );
    let mut child = Command::new("python3")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for these tests (apt-get install python3)");
    child.stdin.take().unwrap().write_all(format!("{prelude}{script}").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SEED_SESSION: &str = r#"
api = xmlrpc.client.ServerProxy(URL, allow_none=True)
apikey = 'my 24-character API key'
version = api.version.info(apikey)
assert version == {'api_version': '3.3.42'}, version
item = {'catalog_name': 'phpmysql_m',
        'data_disk_additional_size': 0,
        'datacenter_id': 1,
        'date_end': DT('20111014T14:36:30'),
        'date_end_commitment': None,
        'date_start': DT('20110914T14:36:30'),
        'id': 1,
        'name': 'Mon PaaS',
        'need_upgrade': True,
        'servers': [{'id': 1}],
        'size': 'm',
        'state': 'running',
        'type': 'phpmysql'}
assert api.paas.list(apikey) == [item], api.paas.list(apikey)
assert api.paas.list(apikey, {'size':'s'}) == []
assert api.paas.count(apikey) == 1
assert api.paas.count(apikey, {'size':'s'}) == 0
url = 'http://console.gandi.net/?key=[...]'
info = {'autorenew': None,
        'catalog_name': 'phpmysql_m',
        'data_disk_additional_size': 0,
        'datacenter': {'country': 'France', 'id': 1, 'iso': 'FR', 'name': 'eqx pa2'},
        'date_end': DT('20111014T14:36:30'),
        'date_start': DT('20110914T14:36:30'),
        'ftp_server': '10.0.0.10',
        'id': 1,
        'name': 'Mon PaaS',
        'owner': {'handle': 'XXX-GANDI', 'id': 1},
        'servers': [{'graph_urls': {'vcpu': [url], 'vdi': [url], 'vif': [url]}, 'id': 1, 'uuid': 1}],
        'size': 'm',
        'state': 'running',
        'type': 'phpmysql',
        'user': 2316,
        'vhosts': [{'date_creation': DT('20110914T14:36:30'), 'id': 1, 'name': 'vhost.test.fr', 'state': 'running'}]}
assert api.paas.info(apikey, 1) == info, api.paas.info(apikey, 1)
paas_spec = {
'name': 'My PaaS',
'size': 'm',
'type': 'phpmysql',
'datacenter_id': 1,
'vhosts': ['vhost.test.fr'],
'quantity': 0,
'duration': '3m',
'password': 'xxxxxxxxxx'}
ops = api.paas.create(apikey, paas_spec)
assert len(ops) == 3
assert ops[0]['type'] == 'paas_vm_create'
assert ops[1]['type'] == 'paas_disk_create'
assert ops[2]['type'] == 'rproxy_create'
paas_id = ops[0]['params']['paas_id']
assert paas_id == 2
op = api.paas.update(apikey, paas_id, {'size':'xl'})
assert op[0]['type'] == 'paas_vm_update'
op = api.paas.delete(apikey, paas_id)
assert op['type'] == 'paas_delete'
paas_spec = {
'name': 'My PaaS',
'size': 'm',
'type': 'phpmysql',
'datacenter_id': 1,
'vhosts': ['vhost.test.fr'],
'quantity': 0,
'duration': '3m',
'password': 'xxxxxxxxxx',
'--dry-run': True}
ops = api.paas.create(apikey, paas_spec)
assert ops == [{'attr': ['vhost.test.fr', 'vhost=2e5d8f0899053fffcd3ecf4ac5a6433b'],
'error': 'EC_TXT+EC_MISSINGMANDATORY',
'field': 'vhosts',
'field_type': None,
'reason': 'You must put a TXT value in your zone'}], ops
key = apikey
r = api.paas.vhost.create(key, {'paas_id': 1,
'vhost': 'vhost.test.fr',
'--dry-run': True})
assert r == [{'attr': ['vhost.test.fr', 'vhost=2e5d8f0899053fffcd3ecf4ac5a6433b'],
'error': 'EC_TXT+EC_MISSINGMANDATORY', 'field': 'vhost', 'field_type': None,
'reason': 'You must put a TXT value in your zone'}], r
print('seed session ok')
"#;

#[test]
fn the_seed_python_session_runs_verbatim_against_the_seed_dataset() {
    for op_seconds in [0, 3] {
        let sb = serve(|c| c.op_seconds = op_seconds);
        assert_eq!(python(&sb.url(), SEED_SESSION).trim(), "seed session ok");
        // Also served at / and /RPC2.
        for path in ["/", "/RPC2"] {
            let url = format!("http://{}{path}", sb.local_addr());
            let out = python(&url, "print(proxy().version.info(KEY)['api_version'])");
            assert_eq!(out.trim(), "3.3.42");
        }
        sb.shutdown();
    }
}

#[test]
fn methods_faults_lifecycle_and_lists_over_http() {
    let sb = serve(|c| {
        c.op_seconds = 40;
        c.dataset = Dataset::Demo;
    });
    let out = python(
        &sb.url(),
        r#"
api = proxy()
def fault(f, *a):
    try:
        f(*a)
    except xmlrpc.client.Fault as e:
        return (e.faultCode, e.faultString)
    raise AssertionError('no fault')
assert fault(api.paas.list, 'bad key') == (510150, 'Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]')
assert fault(api.paas.info, KEY, 999) == (537542, "Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '999' doesn't exist.]")
assert fault(api.paas.nothing, KEY)[0] == 1
assert fault(api.paas.list, KEY, {'items_per_page': 501})[0] == 501030
assert fault(api.paas.list, KEY, {'colour': 'red'})[0] == 501533
assert fault(api.paas.info, KEY, 'one')[0] == 501010
assert fault(api.paas.vhost.create, KEY, {'paas_id': 1, 'vhost': 'www.example.org'})[0] == 580142
assert len(api.paas.type.list(KEY)) == 12
assert [d['id'] for d in api.hosting.datacenter.list(KEY, {'paas_opened': True})] == [1, 3, 6]
assert api.paas.snapshotprofile.list(KEY)[0]['name'] == 'paas_normal'
assert api.paas.snapshot.count(KEY) == len(api.paas.snapshot.list(KEY))
assert api.paas.vhost.count(KEY) == len(api.paas.vhost.list(KEY, {'items_per_page': 500}))
# Paging and filters.
ids = [p['id'] for p in api.paas.list(KEY, {'items_per_page': 500})]
pages = []
for n in range(4):
    pages += [p['id'] for p in api.paas.list(KEY, {'items_per_page': 10, 'page': n})]
assert pages == ids == sorted(ids) and len(ids) == 37, pages
small = api.paas.count(KEY, {'size': ['s', 'm']})
assert small == len([p for p in api.paas.list(KEY, {'items_per_page': 500}) if p['size'] in ('s', 'm')])
desc = api.paas.list(KEY, {'sort_by': 'date_end DESC'})
assert [p['date_end'].value for p in desc] == sorted((p['date_end'].value for p in desc), reverse=True)
# Lifecycle with the clock, and cancel.
ops = api.paas.renew(KEY, 1, {'duration': '1m'})
assert [o['type'] for o in ops] == ['paas_vm_renew', 'paas_disk_renew'] and ops[0]['step'] == 'BILL'
steps = []
for _ in range(4):
    api.sandbox.clock.advance(KEY, 10)
    steps.append(api.operation.info(KEY, ops[0]['id'])['step'])
assert steps == ['WAIT', 'RUN', 'RUN', 'DONE'], steps
assert api.paas.info(KEY, 1)['date_end'] == DT('20111114T14:36:30')
c = api.paas.create(KEY, {'name': 'x', 'size': 's', 'type': 'nodejsmongodb', 'datacenter_id': 3,
                          'duration': '1m', 'password': 'p'})
assert api.operation.cancel(KEY, c[0]['id']) is True
assert [api.operation.info(KEY, o['id'])['step'] for o in c] == ['CANCEL'] * 3
assert fault(api.operation.cancel, KEY, ops[0]['id'])[0] == 525090
assert [e['type'] for e in api.sandbox.ledger(KEY)] == ['paas_vm_renew']
print('ok')
"#,
    );
    assert_eq!(out.trim(), "ok");
    sb.shutdown();
}

#[test]
fn fail_rate_answers_503_and_applies_nothing() {
    let sb = serve(|c| c.fail_rate = 1.0);
    let out = python(
        &sb.url(),
        r#"
try:
    proxy().paas.renew(KEY, 1, {'duration': '1m'})
    print('no error')
except xmlrpc.client.ProtocolError as e:
    print(e.errcode)
"#,
    );
    assert_eq!(out.trim(), "503");
    assert!(sb.sandbox().state().ledger.is_empty());
    sb.shutdown();
}

/// The reply is lost after the renew was applied. Python's `xmlrpc.client` silently retries a
/// request once when the server drops a kept-alive connection, so this very client renews twice:
/// exactly the hazard the flag exists to expose.
#[test]
fn a_lost_reply_was_applied_all_the_same() {
    let sb = serve(|c| c.lost_reply_rate = 1.0);
    let out = python(
        &sb.url(),
        r#"
try:
    proxy().paas.renew(KEY, 1, {'duration': '1m'})
    print('got a reply')
except (ConnectionError, xmlrpc.client.ProtocolError, OSError) as e:
    print('lost', type(e).__name__)
"#,
    );
    assert!(out.starts_with("lost"), "{out}");
    let st = sb.sandbox().state();
    assert_eq!(st.ledger.len(), 2, "applied, then applied again by the client's silent retry");
    assert!(st.ledger.iter().all(|e| e.kind == "paas_vm_renew" && e.paas_id == 1));
    assert_ne!(st.ledger[0].op_id, st.ledger[1].op_id);
    sb.shutdown();
}

#[test]
fn over_the_rate_limit_is_fault_160004_and_nothing_is_applied() {
    let sb = serve(|c| c.rate_limit = Some(2));
    let out = python(
        &sb.url(),
        r#"
api = proxy()
ok, faults = 0, set()
for _ in range(12):
    try:
        api.paas.renew(KEY, 1, {'duration': '1m'})
        ok += 1
    except xmlrpc.client.Fault as e:
        faults.add((e.faultCode, e.faultString))
print(ok)
print(sorted(faults))
"#,
    );
    let mut lines = out.lines();
    let accepted: usize = lines.next().unwrap().parse().unwrap();
    assert!(accepted < 12, "some calls were refused: {out}");
    assert_eq!(
        lines.next().unwrap(),
        "[(160004, 'Error on object : OBJECT_SERVICE (CAUSE_TOOMANY) [rate limit of 2 calls per second exceeded]')]"
    );
    assert_eq!(sb.sandbox().state().ledger.len(), accepted, "only accepted calls were applied");
    sb.shutdown();
}

#[test]
fn latency_delays_every_call() {
    let sb = serve(|c| c.latency_ms = 150);
    // A lower bound only: a sleep never ends early, whatever the machine's load.
    let out = python(
        &sb.url(),
        "t = time.monotonic()\nproxy().version.info(KEY)\nprint(time.monotonic() - t >= 0.15)\n",
    );
    assert_eq!(out.trim(), "True");
    sb.shutdown();
}

#[test]
fn sixty_four_python_clients_at_once_get_unique_ids() {
    let sb = serve(|_| {});
    let out = python(
        &sb.url(),
        r#"
results, errors = [], []
def worker(n):
    try:
        api = proxy()
        for r in range(3):
            ops = api.paas.create(KEY, {'name': 'c%d-%d' % (n, r), 'size': 's', 'type': 'phpmysql',
                                        'datacenter_id': 1, 'duration': '1m', 'password': 'p'})
            pid = ops[0]['params']['paas_id']
            ren = api.paas.renew(KEY, 1, {'duration': '1m'})
            results.append((pid, [o['id'] for o in ops + ren]))
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=worker, args=(n,)) for n in range(64)]
for t in threads: t.start()
for t in threads: t.join()
assert not errors, errors[:3]
pids = [p for p, _ in results]
ops = [o for _, os in results for o in os]
assert len(pids) == 192 and len(set(pids)) == 192
assert len(set(ops)) == len(ops) == 192 * 5
api = proxy()
assert api.paas.count(KEY) == 193
assert len(api.sandbox.ledger(KEY)) == 192 * 2
print('ok')
"#,
    );
    assert_eq!(out.trim(), "ok");
    // 192 one-month renews of instance 1 from 14 Oct 2011: 16 years later.
    let info = sb.sandbox().state().instances[&1].date_end;
    assert_eq!(gandish::sandbox::clock::stamp_to_datetime(info).to_string(), "20271014T14:36:30");
    sb.shutdown();
}

/// A child sandbox process, killed (SIGKILL) when dropped, even if the test panics.
struct ChildSandbox(Child);

impl ChildSandbox {
    fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ChildSandbox {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn spawn_sandbox(state: &std::path::Path) -> (ChildSandbox, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args(["sandbox", "--dataset", "seed", "--op-seconds", "0", "--listen", "127.0.0.1:0", "--state"])
        .arg(state)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = ChildSandbox(child);
    let mut line = String::new();
    BufReader::new(child.0.stderr.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "unexpected banner {line:?}");
    (child, url)
}

#[test]
fn acknowledged_changes_survive_kill_9() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let state = std::env::temp_dir().join(format!("gandish-kill9-{}-{nanos}.json", std::process::id()));
    let (mut child, url) = spawn_sandbox(&state);
    let out = python(
        &url,
        r#"
api = proxy()
ops = api.paas.create(KEY, {'name': 'keep me', 'size': 'l', 'type': 'rubymysql', 'datacenter_id': 1,
                            'duration': '2m', 'password': 'p'})
for _ in range(3):
    api.paas.renew(KEY, 1, {'duration': '1m'})
txt = api.paas.vhost.get_dns_entries(KEY, {'vhost': 'www.test.fr'})['txt']
api.sandbox.zone.set_txt(KEY, 'www.test.fr', txt)
print(ops[0]['params']['paas_id'])
"#,
    );
    assert_eq!(out.trim(), "2");
    child.kill9(); // SIGKILL: no chance to flush anything

    let (mut child, url) = spawn_sandbox(&state);
    let out = python(
        &url,
        r#"
api = proxy()
print(api.paas.count(KEY), api.paas.info(KEY, 2)['name'], len(api.sandbox.ledger(KEY)))
print(api.paas.info(KEY, 1)['date_end'])
# The TXT record survived: the dry run is now clean.
print(api.paas.vhost.create(KEY, {'paas_id': 2, 'vhost': 'www.test.fr', '--dry-run': True}))
print(api.paas.create(KEY, {'name': 'n', 'size': 's', 'type': 'phpmysql', 'datacenter_id': 1,
                            'duration': '1m', 'password': 'p'})[0]['params']['paas_id'])
"#,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, ["2 keep me 4", "20120114T14:36:30", "[]", "3"]);
    child.kill9();
    std::fs::remove_file(&state).unwrap();
}

#[test]
fn direct_handler_and_http_agree() {
    let sb = serve(|c| c.dataset = Dataset::Demo);
    let direct =
        support::ok(sb.sandbox(), "paas.list", vec![support::st(vec![("items_per_page", 5.into())])]);
    let out = python(&sb.url(), "print([p['name'] for p in proxy().paas.list(KEY, {'items_per_page': 5})])");
    let names: Vec<String> =
        support::arr(&direct).iter().map(|p| format!("'{}'", support::s(p, "name"))).collect();
    assert_eq!(out.trim(), format!("[{}]", names.join(", ")));
    assert!(matches!(direct, Value::Array(_)));
    sb.shutdown();
}
