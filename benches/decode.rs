//! Decode benchmarks (xml-rpc.md §6.2 and §6.3): `paas.list`-shaped responses of N records.
//!
//! `cargo bench --bench decode [-- OPTIONS]`. On the same bytes and in the same run it times:
//! - `raw scan`: a bare quick-xml `read_event()` loop over the UTF-8-checked text (the practical
//!   limit of any decoder built on quick-xml), the baseline of the "vs raw" ratios;
//! - `raw, blanks trimmed`: the same loop with quick-xml's `trim_text(true)`, which drops
//!   whitespace-only text between elements without an event (for reference: gandish does this
//!   wherever it collects no text, which no decoder can do inside strings);
//! - `gandish`: [`gandish::xmlrpc::decode_response`] into the generic `Value` tree;
//! - `typed`: the same, then [`gandish::xmlrpc::from_value`] into `Vec<Paas>` (typed structs,
//!   `Option<DateTime>` for the nil-able date);
//! - `dxr`: the `dxr` crate's `MethodResponse::from_xml` (quick-xml's serde deserializer);
//! - `xmlrpc`: the `xmlrpc` crate's response parser (xml-rs), reached through `Request::call`
//!   with a transport that replays the bytes.
//!
//! Every decoder must first reproduce the figures that `benches/fixtures.py` computed from the
//! records themselves (record count, sum of ids, name lengths, ...); one that does not gets no
//! timing and the run fails. Decoding is timed; dropping the result is not (nor is it on the
//! Python side of `benches/side_by_side.py`).
//!
//! Options:
//! - `--sizes 10,1000,10000`: which payloads (generated with `python3 benches/fixtures.py` if
//!   missing);
//! - `--decoders raw,raw-trim,gandish,typed,dxr,xmlrpc`: which rows;
//! - `--budget SECS` (default 2): timed seconds per decoder and size, at least 5 and at most 2000
//!   iterations; `--iters K` fixes the count instead;
//! - `--data DIR`: where the payloads live (default `target/bench-data`);
//! - `--json`: print one machine-readable JSON document instead of the table;
//! - `--canonical OUT --input FILE [--typed]`: decode FILE with gandish, write its canonical JSON
//!   (sorted keys, compact separators, dates as `YYYYMMDDTHH:MM:SS`, base64 as a base64 string)
//!   to OUT (`-` for stdout) and exit; with `--typed`, decode into `Vec<Paas>` and write that.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use base64::Engine as _;
use gandish::xmlrpc::{DateTime, Value, decode_response, from_value};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde::{Deserialize, Serialize};

const DEFAULT_SIZES: [usize; 3] = [10, 1000, 10000];

/// The figures every decoder must reproduce; computed by `fixtures.py` from the records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Expect {
    records: u64,
    id_sum: i64,
    name_len_sum: u64,
    server_id_sum: i64,
    commitment_nils: u64,
    upgrades: u64,
    members: u64,
    datetimes: u64,
}

impl Expect {
    fn from_json(v: &serde_json::Value) -> Result<Expect, String> {
        let u = |k: &str| {
            v.get(k).and_then(serde_json::Value::as_u64).ok_or(format!("manifest lacks expect.{k}"))
        };
        let i = |k: &str| {
            v.get(k).and_then(serde_json::Value::as_i64).ok_or(format!("manifest lacks expect.{k}"))
        };
        Ok(Expect {
            records: u("records")?,
            id_sum: i("id_sum")?,
            name_len_sum: u("name_len_sum")?,
            server_id_sum: i("server_id_sum")?,
            commitment_nils: u("commitment_nils")?,
            upgrades: u("upgrades")?,
            members: u("members")?,
            datetimes: u("datetimes")?,
        })
    }
}

/// The typed target: one `paas.list` record. Fields are in alphabetical order of their wire names,
/// so that serialising to JSON gives the canonical form.
#[derive(Debug, Deserialize, Serialize)]
struct Paas {
    catalog_name: String,
    console: String,
    data_disk_additional_size: i64,
    datacenter_id: i64,
    date_end: DateTime,
    date_end_commitment: Option<DateTime>,
    date_start: DateTime,
    id: i64,
    name: String,
    need_upgrade: bool,
    servers: Vec<PaasServer>,
    size: String,
    snapshot_profile: Option<SnapshotProfile>,
    state: String,
    #[serde(rename = "type")]
    kind: String,
}

impl Paas {
    /// How many fields a record has.
    const FIELDS: u64 = 15;
}

/// An item of `Paas::servers`.
#[derive(Debug, Deserialize, Serialize)]
struct PaasServer {
    id: i64,
    uuid: i64,
}

/// `Paas::snapshot_profile` when it is not nil.
#[derive(Debug, Deserialize, Serialize)]
struct SnapshotProfile {
    id: i64,
    name: String,
}

/// One payload and what decoding it must give.
struct Fixture {
    n: usize,
    bytes: Vec<u8>,
    expect: Expect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decoder {
    Raw,
    RawTrim,
    Gandish,
    Typed,
    Dxr,
    XmlRpc,
}

impl Decoder {
    const ALL: [Decoder; 6] =
        [Decoder::Raw, Decoder::RawTrim, Decoder::Gandish, Decoder::Typed, Decoder::Dxr, Decoder::XmlRpc];

    fn key(self) -> &'static str {
        match self {
            Decoder::Raw => "raw",
            Decoder::RawTrim => "raw-trim",
            Decoder::Gandish => "gandish",
            Decoder::Typed => "typed",
            Decoder::Dxr => "dxr",
            Decoder::XmlRpc => "xmlrpc",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Decoder::Raw => "raw quick-xml scan",
            Decoder::RawTrim => "raw, blanks trimmed",
            Decoder::Gandish => "gandish -> Value",
            Decoder::Typed => "gandish -> Vec<Paas>",
            Decoder::Dxr => "dxr 0.9 -> Value",
            Decoder::XmlRpc => "xmlrpc 0.15 -> Value",
        }
    }

    fn is_crate(self) -> bool {
        matches!(self, Decoder::Dxr | Decoder::XmlRpc)
    }

    /// Decodes once and checks the result against `expect`; the raw scan only checks that the
    /// document scans to its end with balanced tags.
    fn verify(self, fx: &Fixture) -> Result<String, String> {
        let got = match self {
            Decoder::Raw | Decoder::RawTrim => {
                let (events, starts, ends) = raw_scan(&fx.bytes, self == Decoder::RawTrim)?;
                if starts != ends || starts == 0 {
                    return Err(format!("{starts} start tags but {ends} end tags"));
                }
                return Ok(format!("{events} events"));
            }
            Decoder::Gandish => summarise_gandish(&decode_gandish(&fx.bytes)?)?,
            Decoder::Typed => summarise_typed(&decode_typed(&fx.bytes)?),
            Decoder::Dxr => summarise_dxr(&decode_dxr(&fx.bytes)?)?,
            Decoder::XmlRpc => summarise_xmlrpc(&decode_xmlrpc(&fx.bytes)?)?,
        };
        if got == fx.expect {
            Ok(format!("{} records match", got.records))
        } else {
            Err(format!("decoded {got:?}, expected {:?}", fx.expect))
        }
    }

    /// Decodes once and returns the time taken; the result is dropped after the clock stops.
    fn time(self, bytes: &[u8]) -> Duration {
        fn timed<T>(f: impl FnOnce() -> T) -> Duration {
            let t0 = Instant::now();
            let out = black_box(f());
            let d = t0.elapsed();
            drop(out);
            d
        }
        let bytes = black_box(bytes);
        match self {
            Decoder::Raw => timed(|| raw_scan(bytes, false).expect("verified")),
            Decoder::RawTrim => timed(|| raw_scan(bytes, true).expect("verified")),
            Decoder::Gandish => timed(|| decode_gandish(bytes).expect("verified")),
            Decoder::Typed => timed(|| decode_typed(bytes).expect("verified")),
            Decoder::Dxr => timed(|| decode_dxr(bytes).expect("verified")),
            Decoder::XmlRpc => timed(|| decode_xmlrpc(bytes).expect("verified")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The decoders under test.

/// The bare `read_event()` loop: counts events, start tags and end tags.
fn raw_scan(bytes: &[u8], trim: bool) -> Result<(u64, u64, u64), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(trim);
    let (mut events, mut starts, mut ends) = (0u64, 0u64, 0u64);
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Eof => break,
            Event::Start(_) => starts += 1,
            Event::End(_) => ends += 1,
            _ => {}
        }
        events += 1;
    }
    Ok((events, starts, ends))
}

fn decode_gandish(bytes: &[u8]) -> Result<Value, String> {
    match decode_response(bytes) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(fault)) => Err(format!("fault: {fault}")),
        Err(e) => Err(e.to_string()),
    }
}

fn decode_typed(bytes: &[u8]) -> Result<Vec<Paas>, String> {
    from_value(decode_gandish(bytes)?).map_err(|e| e.to_string())
}

fn decode_dxr(bytes: &[u8]) -> Result<dxr::Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    // dxr's error echoes the whole input; keep only its start.
    dxr::MethodResponse::from_xml(text)
        .map(|r| r.value)
        .map_err(|e| e.to_string().chars().take(200).collect())
}

/// Hands canned response bytes to the `xmlrpc` crate, whose parser is reachable only through
/// `Request::call`.
struct Replay<'a>(&'a [u8]);

impl<'a> xmlrpc::Transport for Replay<'a> {
    type Stream = &'a [u8];

    fn transmit(
        self,
        _request: &xmlrpc::Request<'_>,
    ) -> Result<&'a [u8], Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0)
    }
}

fn decode_xmlrpc(bytes: &[u8]) -> Result<xmlrpc::Value, String> {
    xmlrpc::Request::new("paas.list").call(Replay(bytes)).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Summaries, one per value model.

/// What a summary needs to know about one record, whatever the value model.
struct Rec<'a> {
    members: usize,
    id: Option<i64>,
    name: Option<&'a str>,
    server_ids: Option<Vec<Option<i64>>>,
    commitment_nil: bool,
    upgrade: Option<bool>,
    datetimes: usize,
}

fn summarise<'a>(records: impl Iterator<Item = Result<Rec<'a>, String>>) -> Result<Expect, String> {
    let mut e = Expect::default();
    for (i, r) in records.enumerate() {
        let r = r.map_err(|m| format!("record {i}: {m}"))?;
        e.records += 1;
        e.members += r.members as u64;
        e.id_sum += r.id.ok_or(format!("record {i}: no int id"))?;
        e.name_len_sum += r.name.ok_or(format!("record {i}: no string name"))?.chars().count() as u64;
        for id in r.server_ids.ok_or(format!("record {i}: no servers array"))? {
            e.server_id_sum += id.ok_or(format!("record {i}: a server without an int id"))?;
        }
        e.commitment_nils += u64::from(r.commitment_nil);
        e.upgrades += u64::from(r.upgrade.ok_or(format!("record {i}: no boolean need_upgrade"))?);
        e.datetimes += r.datetimes as u64;
    }
    Ok(e)
}

fn summarise_gandish(v: &Value) -> Result<Expect, String> {
    let records = v.as_array().ok_or("the result is not an array")?;
    summarise(records.iter().map(|r| {
        let s = r.as_struct().ok_or("not a struct")?;
        Ok(Rec {
            members: s.len(),
            id: s.get("id").and_then(Value::as_i64),
            name: s.get("name").and_then(Value::as_str),
            server_ids: s
                .get("servers")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|x| x.get("id").and_then(Value::as_i64)).collect()),
            commitment_nil: s.get("date_end_commitment").is_some_and(Value::is_nil),
            upgrade: s.get("need_upgrade").and_then(Value::as_bool),
            datetimes: s.iter().filter(|(_, v)| v.as_datetime().is_some()).count(),
        })
    }))
}

fn summarise_typed(records: &[Paas]) -> Expect {
    let mut e = Expect::default();
    for r in records {
        e.records += 1;
        // A record missing a required field fails to deserialise, so each has all 15.
        e.members += Paas::FIELDS;
        e.id_sum += r.id;
        e.name_len_sum += r.name.chars().count() as u64;
        e.server_id_sum += r.servers.iter().map(|s| s.id).sum::<i64>();
        e.commitment_nils += u64::from(r.date_end_commitment.is_none());
        e.upgrades += u64::from(r.need_upgrade);
        e.datetimes += 2 + u64::from(r.date_end_commitment.is_some());
    }
    e
}

fn summarise_dxr(v: &dxr::Value) -> Result<Expect, String> {
    let dxr::Value::Array(records) = v else { return Err("the result is not an array".into()) };
    let int = |v: Option<&dxr::Value>| match v {
        Some(dxr::Value::Integer(n)) => Some(i64::from(*n)),
        _ => None,
    };
    summarise(records.iter().map(|r| {
        let dxr::Value::Struct(s) = r else { return Err("not a struct".to_owned()) };
        Ok(Rec {
            members: s.len(),
            id: int(s.get("id")),
            name: match s.get("name") {
                Some(dxr::Value::String(n)) => Some(n.as_str()),
                _ => None,
            },
            server_ids: match s.get("servers") {
                Some(dxr::Value::Array(a)) => Some(
                    a.iter()
                        .map(|x| match x {
                            dxr::Value::Struct(m) => int(m.get("id")),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            },
            commitment_nil: matches!(s.get("date_end_commitment"), Some(dxr::Value::Nil)),
            upgrade: match s.get("need_upgrade") {
                Some(dxr::Value::Boolean(b)) => Some(*b),
                _ => None,
            },
            datetimes: s.values().filter(|v| matches!(v, dxr::Value::DateTime(_))).count(),
        })
    }))
}

fn summarise_xmlrpc(v: &xmlrpc::Value) -> Result<Expect, String> {
    let records = v.as_array().ok_or("the result is not an array")?;
    summarise(records.iter().map(|r| {
        let s = r.as_struct().ok_or("not a struct")?;
        Ok(Rec {
            members: s.len(),
            id: s.get("id").and_then(xmlrpc::Value::as_i64),
            name: s.get("name").and_then(xmlrpc::Value::as_str),
            server_ids: s
                .get("servers")
                .and_then(xmlrpc::Value::as_array)
                .map(|a| a.iter().map(|x| x.get("id").and_then(xmlrpc::Value::as_i64)).collect()),
            commitment_nil: matches!(s.get("date_end_commitment"), Some(xmlrpc::Value::Nil)),
            upgrade: s.get("need_upgrade").and_then(xmlrpc::Value::as_bool),
            datetimes: s.values().filter(|v| v.as_datetime().is_some()).count(),
        })
    }))
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON (xml-rpc.md §6.3 step 3), matching Python's
// `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.

fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Double(d) => out.push_str(&serde_json::to_string(d).unwrap_or_else(|_| "null".into())),
        Value::String(s) => json_string(s, out),
        Value::DateTime(d) => json_string(&d.to_string(), out),
        Value::Base64(b) => json_string(&base64::engine::general_purpose::STANDARD.encode(b), out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        Value::Struct(s) => {
            let mut members: Vec<(&str, &Value)> = s.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(s).expect("a str always serialises"));
}

fn run_canonical(input: &Path, output: &str, typed: bool) -> Result<(), String> {
    let bytes = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let mut json = if typed {
        let records = decode_typed(&bytes).map_err(|e| format!("{}: {e}", input.display()))?;
        serde_json::to_string(&records).map_err(|e| e.to_string())?
    } else {
        let value = decode_gandish(&bytes).map_err(|e| format!("{}: {e}", input.display()))?;
        let mut json = String::with_capacity(bytes.len());
        canonical_json(&value, &mut json);
        json
    };
    json.push('\n');
    if output == "-" {
        print!("{json}");
        Ok(())
    } else {
        std::fs::write(output, json).map_err(|e| format!("cannot write {output}: {e}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn default_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-data")
}

fn load_fixtures(dir: &Path, sizes: &[usize]) -> Result<Vec<Fixture>, String> {
    let manifest_path = dir.join("manifest.json");
    let have = |m: &serde_json::Value| sizes.iter().all(|n| m.get(n.to_string()).is_some());
    let read_manifest =
        || -> Option<serde_json::Value> { serde_json::from_slice(&std::fs::read(&manifest_path).ok()?).ok() };
    let files_exist = || sizes.iter().all(|n| dir.join(format!("paas_list_{n}.xml")).is_file());
    let manifest = match read_manifest() {
        Some(m) if have(&m) && files_exist() => m,
        _ => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join("fixtures.py");
            eprintln!("generating fixtures with {}", script.display());
            let status = Command::new("python3")
                .arg(&script)
                .arg("--out")
                .arg(dir)
                .args(sizes.iter().map(usize::to_string))
                .status()
                .map_err(|e| format!("cannot run python3 {}: {e}", script.display()))?;
            if !status.success() {
                return Err(format!("{} failed: {status}", script.display()));
            }
            read_manifest().ok_or(format!("{} is missing or unreadable", manifest_path.display()))?
        }
    };
    sizes
        .iter()
        .map(|&n| {
            let entry = manifest.get(n.to_string()).ok_or(format!("manifest has no N={n}"))?;
            let file =
                entry.get("file").and_then(serde_json::Value::as_str).ok_or("manifest entry lacks file")?;
            let bytes = std::fs::read(dir.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
            let want = entry.get("bytes").and_then(serde_json::Value::as_u64);
            if want != Some(bytes.len() as u64) {
                return Err(format!(
                    "{file} has {} bytes, the manifest says {want:?}: regenerate it",
                    bytes.len()
                ));
            }
            let expect = Expect::from_json(entry.get("expect").ok_or("manifest entry lacks expect")?)?;
            Ok(Fixture { n, bytes, expect })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Measurement.

struct Stats {
    decoder: Decoder,
    iters: usize,
    min: f64,
    median: f64,
    p90: f64,
    /// Every timing, in ms, sorted.
    samples: Vec<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx]
}

/// Times the decoders on one fixture, interleaving them round by round so that they share the
/// machine's noise.
fn measure(fx: &Fixture, decoders: &[Decoder], budget: Duration, fixed: Option<usize>) -> Vec<Stats> {
    // Warm-up: at least one run and about a tenth of the budget each.
    let mut targets = Vec::new();
    for &d in decoders {
        let warm = Instant::now();
        let mut one = d.time(&fx.bytes);
        while warm.elapsed() < budget / 10 {
            one = one.min(d.time(&fx.bytes));
        }
        let iters = fixed.unwrap_or_else(|| {
            let per = one.as_secs_f64().max(1e-7);
            ((budget.as_secs_f64() / per) as usize).clamp(5, 2000)
        });
        targets.push(iters);
    }
    let mut samples: Vec<Vec<f64>> = decoders.iter().map(|_| Vec::new()).collect();
    let mut round = 0;
    while samples.iter().zip(&targets).any(|(s, &t)| s.len() < t) {
        for k in 0..decoders.len() {
            let i = (k + round) % decoders.len();
            if samples[i].len() < targets[i] {
                samples[i].push(decoders[i].time(&fx.bytes).as_secs_f64() * 1e3);
            }
        }
        round += 1;
    }
    decoders
        .iter()
        .zip(samples)
        .map(|(&decoder, mut s)| {
            s.sort_by(f64::total_cmp);
            Stats {
                decoder,
                iters: s.len(),
                min: s[0],
                median: percentile(&s, 0.5),
                p90: percentile(&s, 0.9),
                samples: s,
            }
        })
        .collect()
}

fn mb_per_s(bytes: usize, ms: f64) -> f64 {
    bytes as f64 / 1e6 / (ms / 1e3)
}

fn crate_versions() -> BTreeMap<&'static str, String> {
    let lock = include_str!("../Cargo.lock");
    let mut out = BTreeMap::new();
    for name in ["quick-xml", "dxr", "xmlrpc", "xml-rs"] {
        let needle = format!("name = \"{name}\"\nversion = \"");
        if let Some(at) = lock.find(&needle) {
            let rest = &lock[at + needle.len()..];
            if let Some(end) = rest.find('"') {
                out.insert(name, rest[..end].to_owned());
            }
        }
    }
    out
}

struct Args {
    sizes: Vec<usize>,
    decoders: Vec<Decoder>,
    budget: Duration,
    iters: Option<usize>,
    data: PathBuf,
    json: bool,
    canonical: Option<String>,
    input: Option<PathBuf>,
    typed: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        sizes: DEFAULT_SIZES.to_vec(),
        decoders: Decoder::ALL.to_vec(),
        budget: Duration::from_secs(2),
        iters: None,
        data: default_data_dir(),
        json: false,
        canonical: None,
        input: None,
        typed: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // Passed by `cargo bench`.
            "--bench" => {}
            "--json" => a.json = true,
            "--sizes" => {
                a.sizes = val("--sizes")?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>().map_err(|_| format!("--sizes: bad size {s:?}")))
                    .collect::<Result<_, _>>()?;
            }
            "--decoders" => {
                a.decoders = val("--decoders")?
                    .split(',')
                    .map(|s| {
                        Decoder::ALL.into_iter().find(|d| d.key() == s.trim()).ok_or(format!(
                            "--decoders: unknown decoder {s:?} (raw, raw-trim, gandish, typed, dxr, xmlrpc)"
                        ))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--budget" => {
                let s: f64 = val("--budget")?.parse().map_err(|_| "--budget: not a number of seconds")?;
                if !(s > 0.0 && s < 3600.0) {
                    return Err("--budget must be between 0 and 3600 seconds".into());
                }
                a.budget = Duration::from_secs_f64(s);
            }
            "--iters" => {
                let k: usize = val("--iters")?.parse().map_err(|_| "--iters: not a count")?;
                if k == 0 {
                    return Err("--iters must be at least 1".into());
                }
                a.iters = Some(k);
            }
            "--data" => a.data = PathBuf::from(val("--data")?),
            "--canonical" => a.canonical = Some(val("--canonical")?),
            "--input" => a.input = Some(PathBuf::from(val("--input")?)),
            "--typed" => a.typed = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            // A filter argument from `cargo bench NAME`: ignored.
            _ => {}
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decode bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    if let Some(out) = &args.canonical {
        let input = args.input.as_deref().ok_or("--canonical needs --input FILE")?;
        return run_canonical(input, out, args.typed);
    }
    let fixtures = load_fixtures(&args.data, &args.sizes)?;
    let mut all = Vec::new();
    for fx in &fixtures {
        for &d in &args.decoders {
            let note = d.verify(fx).map_err(|e| format!("N={}: {} disagrees: {e}", fx.n, d.label()))?;
            if !args.json {
                eprintln!("N={}: {}: {note}", fx.n, d.label());
            }
        }
        let stats = measure(fx, &args.decoders, args.budget, args.iters);
        if !args.json {
            print_table(fx, &stats);
        }
        all.push((fx, stats));
    }
    if args.json {
        print_json(&all);
    }
    Ok(())
}

fn find(stats: &[Stats], d: Decoder) -> Option<&Stats> {
    stats.iter().find(|s| s.decoder == d)
}

fn faster_crate(stats: &[Stats]) -> Option<&Stats> {
    stats.iter().filter(|s| s.decoder.is_crate()).min_by(|a, b| a.median.total_cmp(&b.median))
}

fn print_table(fx: &Fixture, stats: &[Stats]) {
    let mb = fx.bytes.len() as f64 / 1e6;
    println!("\nN={} ({:.2} MB, {} records)", fx.n, mb, fx.expect.records);
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>9} {:>11} {:>9} {:>6}",
        "decoder", "min ms", "median ms", "p90 ms", "MB/s", "structs/s", "vs raw", "iters"
    );
    let raw = find(stats, Decoder::Raw);
    for s in stats {
        let vs_raw = raw.map_or("-".to_owned(), |r| format!("{:.0}%", 100.0 * r.median / s.median));
        println!(
            "{:<22} {:>10.3} {:>10.3} {:>10.3} {:>9.1} {:>11.0} {:>9} {:>6}",
            s.decoder.label(),
            s.min,
            s.median,
            s.p90,
            mb_per_s(fx.bytes.len(), s.median),
            fx.expect.records as f64 / (s.median / 1e3),
            vs_raw,
            s.iters
        );
    }
    for ours in [Decoder::Gandish, Decoder::Typed] {
        let Some(g) = find(stats, ours) else { continue };
        if let Some(c) = faster_crate(stats) {
            println!(
                "{} vs faster crate ({}): {:.2}x (target >= 1.5x)",
                ours.label(),
                c.decoder.key(),
                c.median / g.median
            );
        }
        if let Some(r) = raw {
            println!(
                "{} vs raw scan: {:.0}% of its speed (target >= 60%)",
                ours.label(),
                100.0 * r.median / g.median
            );
        }
    }
}

fn print_json(all: &[(&Fixture, Vec<Stats>)]) {
    let results: Vec<serde_json::Value> = all
        .iter()
        .flat_map(|(fx, stats)| {
            stats.iter().map(move |s| {
                serde_json::json!({
                    "n": fx.n,
                    "bytes": fx.bytes.len(),
                    "records": fx.expect.records,
                    "decoder": s.decoder.key(),
                    "label": s.decoder.label(),
                    "iters": s.iters,
                    "min_ms": s.min,
                    "median_ms": s.median,
                    "p90_ms": s.p90,
                    "samples_ms": s.samples,
                    "mb_per_s": mb_per_s(fx.bytes.len(), s.median),
                })
            })
        })
        .collect();
    let doc = serde_json::json!({
        "bench": "decode",
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "crates": crate_versions(),
        "results": results,
    });
    println!("{doc}");
}
