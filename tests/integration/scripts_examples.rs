//! The example scripts in `scripts/`, run as the README shows them: the built binary, from the
//! repository's top level (`gandish run scripts/NAME.rhai key=value …`), against a sandbox
//! this test starts on 127.0.0.1:0 (the Trac one also against an XML-RPC server it starts), and
//! stops when dropped. Each test checks what the script printed or returned and what the
//! sandbox holds afterwards: sizes, operations, vhost proofs, the ledger of billable changes,
//! and that nothing was sent under `--dry-run`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use gandish::sandbox::state::State;
use gandish::sandbox::{RunningSandbox, SandboxConfig, start};
use gandish::xmlrpc::{Fault, Methods, Server, ServerConfig, Struct, Value};
use serde_json::Value as Json;

/// How the scripts print dates in text (it sorts as the dates do).
const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// What one `gandish` run gave.
#[derive(Debug)]
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts the exit status, showing both streams if it differs.
    fn status(self, want: i32) -> Run {
        assert_eq!(
            self.status,
            Some(want),
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout as JSON (for `--json` runs).
    fn json(&self) -> Json {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }

    fn stdout_has(self, text: &str) -> Run {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn stderr_has(self, text: &str) -> Run {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }
}

/// The demo sandbox (37 instances, 55 vhosts, on the system clock like the binary's `now()`),
/// served on a free loopback port; stopped when dropped.
struct Sandbox {
    running: Option<RunningSandbox>,
    url: String,
    key: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(sb) = self.running.take() {
            sb.shutdown();
        }
    }
}

impl Sandbox {
    /// Operations done at once.
    fn demo() -> Sandbox {
        Sandbox::with_op_seconds(0)
    }

    /// Operations that take `secs` seconds from BILL to DONE.
    fn with_op_seconds(secs: u64) -> Sandbox {
        let cfg =
            SandboxConfig { listen: "127.0.0.1:0".into(), op_seconds: secs, ..SandboxConfig::default() };
        let running = start(cfg).expect("the sandbox starts");
        let (url, key) = (running.url(), running.api_key().to_string());
        Sandbox { running: Some(running), url, key }
    }

    fn state(&self) -> State {
        self.running.as_ref().expect("running").sandbox().state()
    }

    /// `gandish --no-config --url URL ARGS…` from the repository's top level, the key in the
    /// environment and no other setting from it.
    fn gandish(&self, args: &[&str]) -> Run {
        let top = env!("CARGO_MANIFEST_DIR");
        let mut c = Command::new(env!("CARGO_BIN_EXE_gandish"));
        for v in ["GANDI_URL", "GANDISH_ENV", "GANDISH_TIMEOUT", "GANDISH_STATE_DIR", "NO_COLOR"] {
            c.env_remove(v);
        }
        c.args(["--no-config", "--url", &self.url])
            .args(args)
            .env("GANDI_API_KEY", &self.key)
            .env("GANDISH_CONFIG", Path::new(top).join("no-such-config.toml"))
            .current_dir(top)
            .stdin(Stdio::null());
        let o = c.output().expect("run gandish");
        Run {
            status: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// `gandish FLAGS… run scripts/NAME.rhai ARGS…`.
    fn script(&self, flags: &[&str], name: &str, args: &[&str]) -> Run {
        let path = format!("scripts/{name}.rhai");
        let mut all: Vec<&str> = flags.to_vec();
        all.extend(["run", path.as_str()]);
        all.extend(args);
        self.gandish(&all)
    }

    /// An expression's value, evaluated by the binary, as JSON.
    fn eval(&self, expr: &str) -> Json {
        self.gandish(&["--json", "eval", expr]).status(0).json()
    }

    /// One API call (arguments as JSON), its result as JSON.
    fn call(&self, method: &str, args: &[&str]) -> Json {
        let mut all = vec!["call", method];
        all.extend(args);
        self.gandish(&all).status(0).json()
    }

    /// `sandbox.ledger`: every billable change applied, as `(type, paas_id)` pairs in order.
    fn ledger(&self) -> Vec<(String, i64)> {
        let entries = self.call("sandbox.ledger", &[]);
        entries
            .as_array()
            .expect("an array")
            .iter()
            .map(|e| (text(e, "type").to_string(), int(e, "paas_id")))
            .collect()
    }

    /// Each instance's size, by id.
    fn sizes(&self) -> BTreeMap<i64, String> {
        self.state().instances.values().map(|i| (i.id, i.size.clone())).collect()
    }

    /// The ids of the instances `paas::list(FILTER)` gives (`filter` is a Rhai map).
    fn ids_where(&self, filter: &str) -> BTreeSet<i64> {
        let v = self.eval(&format!("paas::list({filter}).map(|p| p.id)"));
        v.as_array().expect("ids").iter().map(|i| i.as_i64().unwrap()).collect()
    }

    /// `now() + days(n)` as the scripts compute it, in [`DATE_FORMAT`].
    fn cutoff(&self, days: i64) -> String {
        let v = self.eval(&format!("(now() + days({days})).format(\"{DATE_FORMAT}\")"));
        v.as_str().expect("a date").to_string()
    }

    /// Every instance's `date_end` in [`DATE_FORMAT`], by id.
    fn ends(&self) -> BTreeMap<i64, String> {
        let v = self.eval(&format!("paas::list().map(|p| [p.id, p.date_end.format(\"{DATE_FORMAT}\")])"));
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_i64().unwrap(), p[1].as_str().unwrap().to_string()))
            .collect()
    }

    /// Runs `f` between two readings of `now() + days(n)`, and returns what it returned with
    /// the instances that must (ending by the first reading) and may (by the second) be due:
    /// the run itself took place somewhere in between.
    fn due_within<T>(&self, days: i64, f: impl FnOnce() -> T) -> (T, BTreeSet<i64>, BTreeSet<i64>) {
        let before = self.cutoff(days);
        let out = f();
        let after = self.cutoff(days);
        let ends = self.ends();
        let upto = |cut: &str| ends.iter().filter(|(_, e)| e.as_str() <= cut).map(|(id, _)| *id).collect();
        (out, upto(&before), upto(&after))
    }

    /// Sets an external TXT record (`sandbox.zone.set_txt`).
    fn set_txt(&self, fqdn: &str, value: &str) {
        assert_eq!(self.call("sandbox.zone.set_txt", &[&quoted(fqdn), &quoted(value)]), Json::Bool(true));
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn int(v: &Json, k: &str) -> i64 {
    v[k].as_i64().unwrap_or_else(|| panic!("no integer {k} in {v}"))
}

fn text<'a>(v: &'a Json, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("no string {k} in {v}"))
}

/// A report's `rows`.
fn rows(report: &Json) -> &Vec<Json> {
    report["rows"].as_array().unwrap_or_else(|| panic!("no rows in {report}"))
}

/// The ids of a report's rows.
fn row_ids(report: &Json) -> Vec<i64> {
    rows(report).iter().map(|r| int(r, "id")).collect()
}

/// TXT records in zone-file syntax (`NAME.  10800 IN TXT "VALUE"`) anywhere in `text`, as
/// `(name, value)`.
fn txt_records(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (head, value) = l.split_once(" 10800 IN TXT ")?;
            let name = head.split_whitespace().last()?.strip_suffix('.')?;
            Some((name.to_string(), value.trim().trim_matches('"').to_string()))
        })
        .collect()
}

/// RFC 4180 lines: fields split on commas, quoted fields unquoted (`""` is a quote).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut lines = Vec::new();
    for line in text.lines() {
        let (mut fields, mut cur, mut quoted, mut chars) =
            (vec![], String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        fields.push(cur);
        lines.push(fields);
    }
    lines
}

#[test]
fn every_script_has_a_usage_header_naming_its_arguments_and_a_readme_line() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(top.join("README.md")).unwrap();
    let mut names = vec![];
    for entry in std::fs::read_dir(top.join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let header: String = src.lines().take_while(|l| l.starts_with("//")).collect::<Vec<_>>().join("\n");
        assert!(header.starts_with(&format!("// scripts/{name} — ")), "{name}: header starts with its name");
        assert!(header.contains(&format!(" run scripts/{name}.rhai")), "{name}: header shows how to run it");
        assert!(header.contains("ARGS"), "{name}: header lists its ARGS");
        // Every `ARGS.key` the script reads is documented as `key=` in the header.
        for (i, _) in src.match_indices("ARGS.") {
            let key: String =
                src[i + 5..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if key != "keys" {
                assert!(header.contains(&format!("{key}=")), "{name}: ARGS.{key} is not in the header");
            }
        }
        assert!(readme.contains(&format!("`scripts/{name}.rhai`")), "README's Examples lack {name}");
        names.push(name);
    }
    assert!(names.len() >= 8, "at least eight examples, found {names:?}");
}

#[test]
fn fleet_report_counts_each_size_in_each_datacenter() {
    let sb = Sandbox::demo();
    let st = sb.state();
    let mut want: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for i in st.instances.values() {
        *want.entry(i.datacenter_id).or_default().entry(i.size.clone()).or_default() += 1;
    }
    let report = sb.script(&["--json"], "fleet-by-datacenter", &[]).status(0).json();
    let rows = rows(&report);
    assert_eq!(rows.len(), want.len() + 1, "a row per datacenter used, and `all`: {report}");
    let mut got: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for r in &rows[..rows.len() - 1] {
        let sizes =
            ["s", "m", "l", "xl", "xxl"].iter().map(|s| (s.to_string(), int(r, s))).filter(|(_, n)| *n > 0);
        got.insert(int(r, "id"), sizes.collect());
        assert_eq!(int(r, "total"), want[&int(r, "id")].values().sum::<i64>(), "{r}");
    }
    assert_eq!(got, want);
    let all = rows.last().unwrap();
    assert_eq!((text(all, "datacenter"), int(all, "total")), ("all", st.instances.len() as i64));
    assert_eq!(int(all, "s"), st.instances.values().filter(|i| i.size == "s").count() as i64);
    assert_eq!(
        text(&report, "summary"),
        format!("{} instances in {} datacenters", st.instances.len(), want.len())
    );

    // As text, filtered: the columns in size order, and the summary line.
    let halted = st.instances.values().filter(|i| i.state == "halted").count();
    let run = sb.script(&[], "fleet-by-datacenter", &["state=halted"]).status(0);
    let header: Vec<&str> = run.stdout.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["datacenter", "code", "s", "m", "l", "xl", "xxl", "total"]);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("eqx pa2 (FR)  ") && l.contains("FR-SD2")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.trim_end().ends_with(" datacenters")
            && run.stdout.contains(&format!("\n{halted} instances in "))
    );

    sb.script(&[], "fleet-by-datacenter", &["colour=blue"])
        .status(2)
        .stderr_has("unknown argument \"colour\"");
}

#[test]
fn resize_previews_under_dry_run_then_resizes_only_the_s_phpmysql_instances() {
    let sb = Sandbox::demo();
    let before = sb.sizes();
    let targets = sb.ids_where("#{type: \"phpmysql\", size: \"s\"}");
    assert!(targets.len() >= 2, "the demo has s phpmysql instances: {targets:?}");

    // 1. The preview: every update planned, shown, none sent.
    let run = sb
        .script(&["--dry-run"], "resize-phpmysql-s-to-m", &[])
        .status(0)
        .stdout_has(&format!("dry run: {} changes planned, none sent", targets.len()))
        .stdout_has(&format!("dry run: {} phpmysql instance(s) would go from s to m", targets.len()));
    for id in &targets {
        assert!(
            run.stdout.contains(&format!("paas.update({id},{{\"size\":\"m\"}})")),
            "{id}:\n{}",
            run.stdout
        );
    }
    assert_eq!(sb.sizes(), before, "a dry run changes no size");
    assert!(sb.state().ops.is_empty() && sb.ledger().is_empty(), "a dry run sends no change");

    // 2. The real run: exactly those, and the instances agree afterwards.
    let report = sb.script(&["--json"], "resize-phpmysql-s-to-m", &[]).status(0).json();
    assert_eq!((int(&report, "resized"), int(&report, "failed")), (targets.len() as i64, 0), "{report}");
    assert_eq!(row_ids(&report).into_iter().collect::<BTreeSet<_>>(), targets);
    assert!(rows(&report).iter().all(|r| text(r, "outcome") == "resized" && text(r, "after") == "m"));
    let mut want = before.clone();
    for id in &targets {
        want.insert(*id, "m".into());
    }
    assert_eq!(sb.sizes(), want, "the s phpmysql instances are m, nothing else changed");
    let updates: BTreeSet<i64> =
        sb.ledger().into_iter().filter(|(t, _)| t == "paas_vm_update").map(|(_, id)| id).collect();
    assert_eq!(updates, targets, "one billed update per resized instance");

    // 3. A rerun finds nothing to do and sends nothing.
    let ops = sb.state().ops.len();
    sb.script(&[], "resize-phpmysql-s-to-m", &[])
        .status(0)
        .stdout_has("nothing to do: no phpmysql instance is s");
    assert_eq!(sb.state().ops.len(), ops);
}

#[test]
fn txt_audit_prints_the_missing_records_and_adding_them_proves_ownership() {
    let sb = Sandbox::demo();
    let st = sb.state();
    let managed = |fqdn: &str| st.zones.iter().any(|z| fqdn == z || fqdn.ends_with(&format!(".{z}")));
    let want: BTreeSet<String> = st
        .vhosts
        .values()
        .map(|v| v.name.clone())
        .filter(|n| !managed(n) && !st.txt.contains_key(n))
        .collect();
    assert!(!want.is_empty() && want.len() < st.vhosts.len(), "the demo has vhosts of both kinds");

    let run = sb.script(&[], "vhost-txt-audit", &[]).status(0).stdout_has(&format!(
        "; {} of {} vhosts lack their TXT ownership record",
        want.len(),
        st.vhosts.len()
    ));
    let records = txt_records(&run.stdout);
    assert_eq!(records.iter().map(|(n, _)| n.clone()).collect::<BTreeSet<_>>(), want, "{}", run.stdout);
    assert!(records.contains(&("vhost.test.fr".into(), "vhost=2e5d8f0899053fffcd3ecf4ac5a6433b".into())));
    for (name, value) in &records {
        let label = value.split_once('=').unwrap().0;
        assert!(label == "@" || name.starts_with(&format!("{label}.")), "{name}: {value}");
    }
    assert!(sb.state().ops.is_empty(), "the audit changes nothing");

    // One instance's vhosts only.
    let one = sb.script(&[], "vhost-txt-audit", &["paas_id=1"]).status(0);
    assert_eq!(
        txt_records(&one.stdout),
        [("vhost.test.fr".into(), "vhost=2e5d8f0899053fffcd3ecf4ac5a6433b".into())]
    );
    assert!(one.stdout.contains("; test.fr (instance 1, Mon PaaS)\n"), "{}", one.stdout);

    // The printed records are the proof Gandi asks for: once in place, the audit is clean.
    for (name, value) in &records {
        sb.set_txt(name, value);
    }
    let clean = sb.script(&[], "vhost-txt-audit", &[]).status(0);
    assert!(txt_records(&clean.stdout).is_empty(), "{}", clean.stdout);
    assert!(clean.stdout.contains(&format!("; all {} vhosts have their ownership proof", st.vhosts.len())));

    // Under --dry-run the check itself would be held back: a usage error, nothing sent.
    sb.script(&["--dry-run"], "vhost-txt-audit", &[]).status(2).stderr_has("run it without --dry-run");
    assert!(sb.state().ops.is_empty());
}

/// The lifecycle order of an operation's steps.
fn step_rank(step: &str) -> usize {
    ["BILL", "WAIT", "RUN", "DONE"].iter().position(|s| *s == step).unwrap_or_else(|| panic!("step {step}"))
}

#[test]
fn create_checks_with_gandi_first_then_creates_and_follows_each_operation() {
    let sb = Sandbox::with_op_seconds(1);
    let count = sb.state().instances.len();
    let args =
        ["name=shop-dupont", "password=Sw0rdf1sh!xx", "vhosts=www.shop-dupont.fr,shop-dupont.fr", "poll=0.2"];

    // Without the ownership proof: Gandi's check says no, and the script prints the records.
    let refused = sb.script(&[], "create-with-vhosts", &args).status(1).stderr_has("nothing created");
    let records = txt_records(&refused.stdout);
    let names: Vec<&str> = records.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["www.shop-dupont.fr", "shop-dupont.fr"], "{}", refused.stdout);
    assert!(records[0].1.starts_with("www=") && records[1].1.starts_with("@="));
    sb.script(&["--dry-run"], "create-with-vhosts", &args)
        .status(0)
        .stdout_has("dry run: Gandi would refuse \"shop-dupont\" (2 problem(s))")
        .stdout_has("EC_TXT");
    assert_eq!(sb.state().instances.len(), count, "nothing was created");
    assert!(sb.ledger().is_empty());

    // With it: created, three operations followed to DONE, the vhosts attached.
    for (name, value) in &records {
        sb.set_txt(name, value);
    }
    let run = sb.script(&[], "create-with-vhosts", &args).status(0);
    let mut steps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in run.stdout.lines().filter(|l| l.starts_with('[')) {
        let words: Vec<&str> = line.split_once(']').unwrap().1.split_whitespace().collect();
        steps.entry(format!("{} {}", words[0], words[1])).or_default().push(words[2].to_string());
    }
    assert_eq!(steps.len(), 3, "three operations:\n{}", run.stdout);
    for (op, seen) in &steps {
        assert_eq!(seen.first().map(String::as_str), Some("BILL"), "{op} starts as created: {seen:?}");
        assert_eq!(seen.last().map(String::as_str), Some("DONE"), "{op} ends DONE: {seen:?}");
        assert!(seen.windows(2).all(|w| step_rank(&w[0]) < step_rank(&w[1])), "{op} moves forward: {seen:?}");
    }
    let kinds: BTreeSet<&str> = steps.keys().map(|k| k.split(' ').next().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["paas_vm_create", "paas_disk_create", "rproxy_create"]));

    let st = sb.state();
    let new = st.instances.values().find(|i| i.name == "shop-dupont").expect("the instance exists");
    assert_eq!(new.state, "running");
    let attached: BTreeSet<&str> =
        st.vhosts.values().filter(|v| v.paas_id == new.id).map(|v| v.name.as_str()).collect();
    assert_eq!(attached, BTreeSet::from(["www.shop-dupont.fr", "shop-dupont.fr"]));
    assert!(run.stdout.contains(&format!(
        "instance {} \"shop-dupont\" is running, vhosts: www.shop-dupont.fr, shop-dupont.fr",
        new.id
    )));
    assert_eq!(sb.ledger(), [("paas_vm_create".to_string(), new.id)]);
    assert!(
        !run.stdout.contains("Sw0rdf1sh") && !refused.stdout.contains("Sw0rdf1sh"),
        "the password is not shown"
    );
}

#[test]
fn renew_listed_catches_a_fault_and_carries_on_with_the_next_id() {
    let sb = Sandbox::demo();
    let ends = sb.ends();
    let run = sb.script(&["--json"], "renew-listed", &["ids=[3,999,5]", "duration=3m"]).status(1);
    let report = run.json();
    let outcomes: Vec<(i64, &str)> =
        rows(&report).iter().map(|r| (int(r, "id"), text(r, "outcome"))).collect();
    assert_eq!(outcomes, [(3, "renewed"), (999, "skipped: no such instance"), (5, "renewed")]);
    assert_eq!(text(&rows(&report)[1], "error"), "fault 537542: Paas '999' doesn't exist.");
    assert_eq!((int(&report, "renewed"), int(&report, "failed")), (2, 1));
    let renewed: Vec<i64> =
        sb.ledger().into_iter().filter(|(t, _)| t == "paas_vm_renew").map(|(_, id)| id).collect();
    assert_eq!(renewed, [3, 5], "the ids after the fault were still renewed, once each");
    let after = sb.ends();
    assert!(after[&3] > ends[&3] && after[&5] > ends[&5], "their date_end moved");

    // A fault on every id (a bad duration): each is caught and reported, nothing renewed.
    let report = sb.script(&["--json"], "renew-listed", &["ids=3,5", "duration=0m"]).status(1).json();
    for r in rows(&report) {
        assert_eq!(text(r, "outcome"), "failed (CAUSE_VALUE)", "{r}");
        assert!(text(r, "error").starts_with("fault 570530: "), "{r}");
    }
    assert_eq!(sb.ledger().len(), 2, "no renewal was added");
    sb.script(&[], "renew-listed", &[]).status(2).stderr_has("ids=... is required");
}

#[test]
fn expiring_csv_lists_what_ends_within_60_days_soonest_first() {
    let sb = Sandbox::demo();
    // One more instance, ending in a month, with a name that needs quoting.
    let name = "shop \"north\", eu";
    let spec = format!(
        r#"{{"name":{},"size":"s","type":"phpmysql","datacenter_id":1,"duration":"1m","password":"xxxxxxxxxx"}}"#,
        quoted(name)
    );
    sb.call("paas.create", &[&spec]);
    let (run, must, may) = sb.due_within(60, || sb.script(&[], "expiring-csv", &[]).status(0));
    let lines = parse_csv(&run.stdout);
    assert_eq!(lines[0], ["id", "name", "type", "size", "state", "date_end", "days_left", "vhosts"]);
    let ids: BTreeSet<i64> = lines[1..].iter().map(|l| l[0].parse().unwrap()).collect();
    assert!(must.is_subset(&ids) && ids.is_subset(&may), "{ids:?} between {must:?} and {may:?}");
    assert!(ids.len() >= 2);
    let dates: Vec<&str> = lines[1..].iter().map(|l| l[5].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "soonest first: {dates:?}");
    assert!(lines[1..].iter().all(|l| l.len() == 8), "{lines:?}");

    let first = &lines[1];
    assert_eq!(
        (first[0].as_str(), first[1].as_str(), first[5].as_str()),
        ("1", "Mon PaaS", "2011-10-14 14:36:30")
    );
    assert!(first[6].parse::<i64>().unwrap() < 0, "already ended: negative days");
    assert_eq!(first[7], "vhost.test.fr");
    let shop = lines.iter().find(|l| l[1] == name).expect("the new instance is listed");
    assert!((28..=31).contains(&shop[6].parse::<i64>().unwrap()), "{shop:?}");
    assert!(
        run.stdout.contains(r#","shop ""north"", eu",phpmysql,s,"#),
        "quoted as RFC 4180 says:\n{}",
        run.stdout
    );

    // A narrower window and a filter.
    let none = sb.script(&[], "expiring-csv", &["within_days=0", "type=nodejsmongodb"]).status(0);
    assert_eq!(parse_csv(&none.stdout).len(), 1, "the header alone:\n{}", none.stdout);
}

#[test]
fn restart_by_state_restarts_exactly_the_instances_in_that_state() {
    let sb = Sandbox::demo();
    let halted = sb.ids_where("#{state: \"halted\"}");
    assert!(!halted.is_empty());

    let run = sb.script(&["--dry-run"], "restart-by-state", &["state=halted"]).status(0);
    assert!(run.stdout.contains(&format!("would restart {} instance(s) in state halted", halted.len())));
    for id in &halted {
        assert!(run.stdout.contains(&format!(": paas.restart({id})\n")), "{id}:\n{}", run.stdout);
    }
    assert!(sb.state().ops.is_empty(), "a dry run sends nothing");

    let report = sb.script(&["--json"], "restart-by-state", &["state=halted"]).status(0).json();
    assert_eq!(row_ids(&report).into_iter().collect::<BTreeSet<_>>(), halted);
    assert!(rows(&report).iter().all(|r| text(r, "step") == "DONE"), "{report}");
    assert_eq!(int(&report, "restarted"), halted.len() as i64);
    let restarted = |st: &State| -> Vec<i64> {
        st.ops.values().filter(|o| o.kind == "paas_vm_restart").map(|o| o.paas_id).collect()
    };
    let st = sb.state();
    assert_eq!(restarted(&st).into_iter().collect::<BTreeSet<_>>(), halted);
    assert_eq!(restarted(&st).len(), halted.len(), "one restart each");
    assert!(st.ops.values().all(|o| o.kind == "paas_vm_restart"), "nothing else was sent");
    assert!(sb.ledger().is_empty(), "a restart is not billed");

    // One by one, with a filter.
    let targets = sb.ids_where("#{state: \"running\", type: \"phpmysql\"}");
    let report = sb
        .script(&["--json"], "restart-by-state", &["state=running", "type=phpmysql", "rolling=true"])
        .status(0)
        .json();
    assert_eq!(row_ids(&report).into_iter().collect::<BTreeSet<_>>(), targets);
    assert!(text(&report, "summary").ends_with(", one at a time"));
    assert_eq!(restarted(&sb.state()).len(), halted.len() + targets.len());

    sb.script(&[], "restart-by-state", &[]).status(2).stderr_has("state=... is required");
}

/// A ticket on [`Trac`].
#[derive(Clone, Debug)]
struct Ticket {
    summary: String,
    description: String,
    attributes: BTreeMap<String, String>,
}

/// A Trac XmlRpcPlugin stand-in on a free loopback port: `ticket.query`, `ticket.get`,
/// `ticket.create`, keeping the tickets and the names of the methods called. Stops when dropped.
struct Trac {
    server: Option<Server>,
    tickets: Tickets,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Drop for Trac {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown();
        }
    }
}

fn bad(msg: &str) -> Fault {
    Fault::new(1, msg)
}

/// The tickets, shared by the server's methods and the test.
type Tickets = Arc<Mutex<Vec<Ticket>>>;

impl Trac {
    /// Registers `name` on `m`: the call is logged in `calls`, then `f` answers it.
    fn method(
        m: &mut Methods,
        (tickets, calls): (&Tickets, &Arc<Mutex<Vec<String>>>),
        name: &'static str,
        f: impl Fn(&mut Vec<Ticket>, Vec<Value>) -> Result<Value, Fault> + Send + Sync + 'static,
    ) {
        let (t, c) = (tickets.clone(), calls.clone());
        m.add(name, move |p| {
            c.lock().unwrap().push(name.into());
            f(&mut t.lock().unwrap(), p)
        });
    }

    fn start() -> Trac {
        let tickets: Tickets = Arc::default();
        let calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut m = Methods::new();
        let shared = (&tickets, &calls);
        Trac::method(&mut m, shared, "ticket.query", |all, p| {
            let q = p.first().and_then(Value::as_str).ok_or_else(|| bad("ticket.query(qstr)"))?;
            let text = q.split_once("summary~=").map_or("", |(_, t)| t);
            let ids = all.iter().enumerate().filter(|(_, k)| k.summary.contains(text));
            Ok(Value::Array(ids.map(|(i, _)| Value::Int(i as i64 + 1)).collect()))
        });
        Trac::method(&mut m, shared, "ticket.get", |all, p| {
            let id = p.first().and_then(Value::as_i64).ok_or_else(|| bad("ticket.get(id)"))?;
            let k = all.get(id as usize - 1).ok_or_else(|| bad("no such ticket"))?;
            let attrs = Struct::new().with("summary", k.summary.as_str()).with("status", "new");
            Ok(Value::Array(vec![Value::Int(id), Value::Int(0), Value::Int(0), Value::Struct(attrs)]))
        });
        Trac::method(&mut m, shared, "ticket.create", |all, p| {
            let (Some(summary), Some(description), Some(attrs)) = (
                p.first().and_then(Value::as_str),
                p.get(1).and_then(Value::as_str),
                p.get(2).and_then(Value::as_struct),
            ) else {
                return Err(bad("ticket.create(summary, description, attributes, notify)"));
            };
            let attributes =
                attrs.iter().map(|(k, v)| (k.to_string(), v.as_str().unwrap_or("?").to_string()));
            all.push(Ticket {
                summary: summary.into(),
                description: description.into(),
                attributes: attributes.collect(),
            });
            Ok(Value::Int(all.len() as i64))
        });
        // Trac serves XML-RPC at /rpc (and /login/rpc behind authentication).
        let config = ServerConfig { paths: vec!["/rpc".into()], ..ServerConfig::default() };
        let server = Server::bind("127.0.0.1:0", Arc::new(m), config).expect("bind 127.0.0.1:0");
        Trac { server: Some(server), tickets, calls }
    }

    fn url(&self) -> String {
        self.server.as_ref().unwrap().url("/rpc")
    }

    fn tickets(&self) -> Vec<Ticket> {
        self.tickets.lock().unwrap().clone()
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

#[test]
fn trac_script_opens_one_ticket_per_instance_that_ends_soon_and_never_a_second() {
    let sb = Sandbox::demo();
    let trac = Trac::start();
    let url = format!("url={}", trac.url());
    let args = [url.as_str(), "within_days=60", "owner=ops"];

    // The dry run sends nothing to Trac (its method names do not look read-only) nor to Gandi.
    let (dry, must, may) = sb
        .due_within(60, || sb.script(&["--dry-run", "--json"], "trac-tickets-for-expiring", &args).status(0));
    let report = dry.json();
    let planned: BTreeSet<i64> = row_ids(&report).into_iter().collect();
    assert!(must.is_subset(&planned) && planned.is_subset(&may), "{planned:?} between {must:?} and {may:?}");
    assert_eq!(int(&report, "planned"), planned.len() as i64);
    assert!(rows(&report).iter().all(|r| text(r, "outcome") == "planned"));
    assert!(
        dry.stderr.contains(&format!("dry run: {} changes planned, none sent", planned.len() + 1)),
        "{}",
        dry.stderr
    );
    assert!(trac.calls().is_empty() && trac.tickets().is_empty(), "{:?}", trac.calls());

    // The real run: a ticket per due instance, naming it and its end date.
    let (run, must, may) =
        sb.due_within(60, || sb.script(&["--json"], "trac-tickets-for-expiring", &args).status(0));
    let report = run.json();
    let due: BTreeSet<i64> = row_ids(&report).into_iter().collect();
    assert!(must.is_subset(&due) && due.is_subset(&may));
    let tickets = trac.tickets();
    assert_eq!(tickets.len(), due.len());
    assert_eq!(int(&report, "opened"), due.len() as i64);
    for (r, t) in rows(&report).iter().zip(&tickets) {
        let id = int(r, "id");
        assert_eq!(
            t.summary,
            format!("[gandish] renew Gandi instance {id} ({}), ends {}", text(r, "name"), text(r, "ends"))
        );
        assert!(t.description.contains(&format!("gandish run scripts/renew-listed.rhai ids={id} ")), "{t:?}");
        assert_eq!(t.attributes.get("owner").map(String::as_str), Some("ops"));
        assert_eq!(t.attributes.get("type").map(String::as_str), Some("task"));
    }
    assert!(
        tickets
            .iter()
            .any(|t| t.summary.starts_with("[gandish] renew Gandi instance 1 (Mon PaaS), ends 2011-10-14"))
    );

    // A rerun reads the open tickets and opens none.
    let report = sb.script(&["--json"], "trac-tickets-for-expiring", &args).status(0).json();
    assert_eq!(int(&report, "opened"), 0, "{report}");
    assert!(rows(&report).iter().all(|r| text(r, "outcome") == "already open"));
    assert_eq!(trac.tickets().len(), tickets.len());
    let creates = trac.calls().iter().filter(|c| *c == "ticket.create").count();
    assert_eq!(creates, tickets.len(), "ticket.create was sent once per ticket");

    sb.script(&[], "trac-tickets-for-expiring", &[])
        .status(2)
        .stderr_has("url=... (the Trac XML-RPC endpoint) is required");
}
