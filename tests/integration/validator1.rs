//! validator1, Dave Winer's XML-RPC conformance suite, in both directions:
//! Python's `xmlrpc.client` against our server, and our client against Python's `xmlrpc.server`.
//! The Python peers live in `tests/peers/validator1_{client,server}.py`.

use crate::common;

use std::process::Command;
use std::sync::Arc;

use gandish::xmlrpc::{Client, ClientConfig, DateTime, Fault, Methods, Server, ServerConfig, Struct, Value};

use common::PyServer;

fn int(v: &Value, what: &str) -> Result<i64, Fault> {
    v.as_i64().ok_or_else(|| Fault::new(-32602, format!("{what} must be an int")))
}

fn member<'a>(s: &'a Value, name: &str) -> Result<&'a Value, Fault> {
    s.get(name).ok_or_else(|| Fault::new(-32602, format!("missing member {name:?}")))
}

fn first(params: &[Value]) -> Result<&Value, Fault> {
    params.first().ok_or_else(|| Fault::new(-32602, "missing parameter"))
}

fn stooges(s: &Value) -> Result<i64, Fault> {
    Ok(int(member(s, "moe")?, "moe")?
        + int(member(s, "larry")?, "larry")?
        + int(member(s, "curly")?, "curly")?)
}

/// The eight validator1 methods, as our server serves them.
fn validator1() -> Methods {
    let mut m = Methods::new();
    m.add("validator1.arrayOfStructsTest", |p| {
        let items = first(&p)?.as_array().ok_or_else(|| Fault::new(-32602, "expected an array"))?;
        let mut sum = 0;
        for s in items {
            sum += int(member(s, "curly")?, "curly")?;
        }
        Ok(Value::Int(sum))
    });
    m.add("validator1.countTheEntities", |p| {
        let s = first(&p)?.as_str().ok_or_else(|| Fault::new(-32602, "expected a string"))?;
        let count = |c| s.chars().filter(|x| *x == c).count() as i64;
        Ok(Value::Struct(
            Struct::new()
                .with("ctLeftAngleBrackets", count('<'))
                .with("ctRightAngleBrackets", count('>'))
                .with("ctAmpersands", count('&'))
                .with("ctApostrophes", count('\''))
                .with("ctQuotes", count('"')),
        ))
    });
    m.add("validator1.easyStructTest", |p| Ok(Value::Int(stooges(first(&p)?)?)));
    m.add("validator1.echoStructTest", |p| Ok(first(&p)?.clone()));
    m.add("validator1.manyTypesTest", |p| Ok(Value::Array(p)));
    m.add("validator1.moderateSizeArrayCheck", |p| {
        let items = first(&p)?.as_array().ok_or_else(|| Fault::new(-32602, "expected an array"))?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(Value::String(text(items.first()) + text(items.last()).as_str()))
    });
    m.add("validator1.nestedStructTest", |p| {
        let day = member(member(member(first(&p)?, "2000")?, "04")?, "01")?;
        Ok(Value::Int(stooges(day)?))
    });
    m.add("validator1.simpleStructReturnTest", |p| {
        let n = int(first(&p)?, "n")?;
        Ok(Value::Struct(
            Struct::new().with("times10", n * 10).with("times100", n * 100).with("times1000", n * 1000),
        ))
    });
    m
}

#[test]
fn python_client_passes_validator1_against_our_server() {
    let server = Server::bind("127.0.0.1:0", Arc::new(validator1()), ServerConfig::default()).unwrap();
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/validator1_client.py"))
        .arg(server.url("/RPC2"))
        .output()
        .expect("python3 must be installed (it is on every machine; see README)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "validator1 client failed:\n{stdout}\n{stderr}");
    // 12 direct calls (8 methods, countTheEntities three times, ...) + the multicall checks.
    assert!(stdout.contains("validator1: 21 passed, 0 failed"), "{stdout}");
    server.shutdown();
}

/// A deterministic generator for the random parts of the suite (netrpc style).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

fn stooge_struct(rng: &mut Rng) -> Struct {
    Struct::new()
        .with("moe", rng.int(-99, 99))
        .with("larry", rng.int(-99, 99))
        .with("curly", rng.int(-99, 99))
}

fn sum_of(s: &Struct, names: &[&str]) -> i64 {
    names.iter().map(|n| s.get(n).and_then(Value::as_i64).unwrap()).sum()
}

fn counts(text: &str) -> Value {
    let c = |ch| text.chars().filter(|x| *x == ch).count() as i64;
    Value::Struct(
        Struct::new()
            .with("ctLeftAngleBrackets", c('<'))
            .with("ctRightAngleBrackets", c('>'))
            .with("ctAmpersands", c('&'))
            .with("ctApostrophes", c('\''))
            .with("ctQuotes", c('"')),
    )
}

/// Every validator1 case as (method, params, expected result).
fn cases() -> Vec<(&'static str, Vec<Value>, Value)> {
    let mut rng = Rng(0x2000_0529);
    let mut v: Vec<(&'static str, Vec<Value>, Value)> = Vec::new();

    let structs: Vec<Struct> = (0..7).map(|_| stooge_struct(&mut rng).with("extra", "robustness")).collect();
    let total: i64 = structs.iter().map(|s| sum_of(s, &["curly"])).sum();
    v.push((
        "arrayOfStructsTest",
        vec![Value::Array(structs.into_iter().map(Value::Struct).collect())],
        total.into(),
    ));

    for (text, want) in [
        ("h'fd>onc>>l>>rw&bpu>q>e<v&gxs<ytjzkami<", [3, 7, 2, 1, 0]),
        ("t'&>>zf\"md>yr>xlcev<h<\"k&j<og\"w&&>\">>uai\"np&s>>q'&b<>\"&&&", [4, 10, 9, 2, 6]),
    ] {
        let expected = counts(text);
        let s = expected.as_struct().unwrap();
        let got: Vec<i64> = s.iter().map(|(_, n)| n.as_i64().unwrap()).collect();
        assert_eq!(got, want, "published vector for {text:?}");
        v.push(("countTheEntities", vec![text.into()], expected));
    }
    let alphabet: Vec<char> = "0123456789<>&'\"".chars().collect();
    let noise: String = (0..100).map(|_| alphabet[rng.int(0, alphabet.len() as i64 - 1) as usize]).collect();
    v.push(("countTheEntities", vec![noise.as_str().into()], counts(&noise)));

    let easy = stooge_struct(&mut rng).with("homer", 7);
    let want = sum_of(&easy, &["moe", "larry", "curly"]);
    v.push(("easyStructTest", vec![Value::Struct(easy)], want.into()));

    let nested = Value::Struct(
        Struct::new()
            .with("sub1", Value::Struct(Struct::new().with("bar", 13)))
            .with("sub2", 14)
            .with("sub3", Value::Struct(Struct::new().with("foo", 1).with("baz", 2)))
            .with(
                "sub4",
                Value::Struct(Struct::new().with(
                    "ss",
                    Value::Struct(
                        Struct::new().with("sss", Value::Struct(Struct::new().with("ssss", "sssss"))),
                    ),
                )),
            ),
    );
    v.push(("echoStructTest", vec![nested.clone()], nested));

    let many = vec![
        Value::Int(rng.int(i64::from(i32::MIN), i64::from(i32::MAX))),
        Value::Bool(true),
        Value::from("a string & <tag> 'é' \u{20ac}"),
        Value::Double(3.25),
        Value::DateTime(DateTime::new(1998, 7, 17, 14, 8, 55).unwrap()),
        Value::Base64(b"\x00\x01binary\xff".to_vec()),
    ];
    v.push(("manyTypesTest", many.clone(), Value::Array(many)));

    let n = rng.int(100, 200);
    let items: Vec<Value> = (0..n).map(|_| Value::from(format!("item{}", rng.int(0, 1_000_000)))).collect();
    let want = format!("{}{}", items[0].as_str().unwrap(), items.last().unwrap().as_str().unwrap());
    v.push(("moderateSizeArrayCheck", vec![Value::Array(items)], want.into()));

    let mut years = Struct::new();
    let mut want = 0;
    for y in ["2000", "2001"] {
        let mut months = Struct::new();
        for m in ["03", "04"] {
            let mut days = Struct::new();
            for d in ["01", "02", "03", "04", "05"] {
                let s = stooge_struct(&mut rng);
                if (y, m, d) == ("2000", "04", "01") {
                    want = sum_of(&s, &["moe", "larry", "curly"]);
                }
                days.insert(d, Value::Struct(s));
            }
            months.insert(m, Value::Struct(days));
        }
        years.insert(y, Value::Struct(months));
    }
    v.push(("nestedStructTest", vec![Value::Struct(years)], want.into()));

    let n = rng.int(-2_147_483, 2_147_483);
    v.push((
        "simpleStructReturnTest",
        vec![n.into()],
        Value::Struct(
            Struct::new().with("times10", n * 10).with("times100", n * 100).with("times1000", n * 1000),
        ),
    ));
    v
}

/// Runs every case one by one, then all of them in one `system.multicall`, against `url`.
fn run_suite(url: &str) -> usize {
    let client = Client::new(url, ClientConfig::default()).unwrap();
    let cases = cases();
    let mut passed = 0;
    for (method, params, want) in &cases {
        let got = client.call(&format!("validator1.{method}"), params).unwrap();
        assert_eq!(&got, want, "validator1.{method}");
        passed += 1;
    }
    let batch: Vec<Value> = cases
        .iter()
        .map(|(method, params, _)| {
            Value::Struct(
                Struct::new()
                    .with("methodName", format!("validator1.{method}"))
                    .with("params", params.clone()),
            )
        })
        .collect();
    let results = client.call("system.multicall", &[Value::Array(batch)]).unwrap();
    let results = results.as_array().expect("multicall answers an array");
    assert_eq!(results.len(), cases.len());
    for ((method, _, want), got) in cases.iter().zip(results) {
        assert_eq!(got, &Value::Array(vec![want.clone()]), "system.multicall entry validator1.{method}");
        passed += 1;
    }
    passed
}

#[test]
fn our_client_passes_validator1_against_python() {
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/validator1_server.py"))
            .unwrap();
    let python = PyServer::start(&script);
    assert_eq!(run_suite(&format!("http://127.0.0.1:{}/RPC2", python.port)), 2 * cases().len());
}

#[test]
fn our_client_passes_validator1_against_our_server() {
    let server = Server::bind("127.0.0.1:0", Arc::new(validator1()), ServerConfig::default()).unwrap();
    assert_eq!(run_suite(&server.url("/RPC2")), 2 * cases().len());
    server.shutdown();
}
