//! validator1, Dave Winer's XML-RPC conformance suite, in both directions:
//! Python's `xmlrpc.client` against our server, and our client against Python's `xmlrpc.server`.
//! The Python peers live in `tests/peers/validator1_{client,server}.py`.

use std::process::Command;
use std::sync::Arc;

use gandish::xmlrpc::{Fault, Methods, Server, ServerConfig, Struct, Value};

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
        Ok(Value::String(text(items.first()) + &text(items.last())))
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
