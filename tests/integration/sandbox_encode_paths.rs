//! `paas.list` and `paas.info` are answered through `Handler::call_into`, which writes the XML
//! straight from the sandbox's world. These tests hold it to the value path (`Handler::call`,
//! then the encoder): the same bytes, the same faults and the same encoding errors, over the
//! demo dataset plus 500 generated instances, for every list variant (filters, sorting, paging)
//! and every instance's info, directly and over HTTP.

use crate::support::sandbox as support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use gandish::sandbox::{Dataset, Sandbox};
use gandish::xmlrpc::{
    CallContext, EncodeError, Fault, Handler, Server, ServerConfig, Value, ValueWriter, encode_call,
    encode_value,
};
use support::{KEY, dt, st};

type Answer = Result<Result<String, EncodeError>, Fault>;

fn ctx() -> CallContext {
    CallContext::new("127.0.0.1:9".parse().unwrap())
}

/// Answers `method(KEY, args...)` both ways, asserts they agree, and returns the answer.
fn both(sb: &Sandbox, method: &str, args: Vec<Value>) -> Answer {
    let mut params = vec![Value::from(KEY)];
    params.extend(args);
    let by_value: Answer = sb.call(&mut ctx(), method, params.clone()).map(|v| encode_value(&v));
    let mut out = String::new();
    let mut w = ValueWriter::new(&mut out);
    let streamed = sb.call_into(&mut ctx(), method, &params, &mut w).expect("call_into answers it");
    let finished = w.finish();
    let streamed: Answer = streamed.map(|()| finished.map(|()| out));
    assert_eq!(streamed, by_value, "{method} {params:?}");
    by_value
}

/// The number of items of an encoded array (counted at its top level).
fn items(xml: &str) -> usize {
    // Every list item is a struct whose first member is `catalog_name`.
    xml.matches("<value><struct><member><name>catalog_name</name>").count()
}

fn demo(extended: bool) -> Sandbox {
    support::sandbox(|c| {
        c.dataset = Dataset::Demo;
        c.instances = 500;
        c.extended_fields = extended;
    })
}

/// The list options tried: (options, whether the page must be non-empty).
fn list_variants() -> Vec<(Option<Value>, bool)> {
    let int = Value::Int;
    let s = |x: &str| Value::from(x);
    let mut v: Vec<(Option<Value>, bool)> = vec![
        (None, true),
        (Some(st(vec![])), true),
        (Some(st(vec![("items_per_page", int(500))])), true),
        (Some(st(vec![("items_per_page", int(500)), ("page", int(1))])), true),
        (Some(st(vec![("items_per_page", int(7)), ("page", int(3))])), true),
        (Some(st(vec![("items_per_page", int(500)), ("page", int(9))])), false),
        (Some(st(vec![("size", s("s")), ("items_per_page", int(500))])), true),
        (Some(st(vec![("size", Value::Array(vec![s("s"), s("xl")])), ("items_per_page", int(500))])), true),
        (Some(st(vec![("state", s("halted"))])), true),
        (Some(st(vec![("type", s("nodejsmysql")), ("sort_by", s("name DESC"))])), true),
        (Some(st(vec![("datacenter_id", int(3)), ("need_upgrade", Value::Bool(true))])), true),
        (Some(st(vec![("<date_end", dt("2024-06-01T00:00:00")), ("items_per_page", int(500))])), true),
        (Some(st(vec![(">date_end", s("20240601T00:00:00")), ("sort_by", s("date_end ASC"))])), true),
        (
            Some(st(vec![
                ("date_end_commitment", Value::Nil),
                ("items_per_page", int(50)),
                ("page", int(2)),
            ])),
            true,
        ),
        (Some(st(vec![("~name", s("%a%")), ("sort_by", s("id DESC")), ("items_per_page", int(500))])), true),
        (Some(st(vec![("id", Value::Array(vec![int(1), int(2), int(40), int(99_999)]))])), true),
        (Some(st(vec![("name", s("no such instance"))])), false),
    ];
    for field in [
        "id",
        "name",
        "size",
        "type",
        "state",
        "catalog_name",
        "datacenter_id",
        "data_disk_additional_size",
        "need_upgrade",
        "date_start",
        "date_end",
        "date_end_commitment",
        "user",
    ] {
        for dir in ["ASC", "DESC"] {
            let sort = format!("{field} {dir}");
            v.push((Some(st(vec![("sort_by", s(&sort)), ("items_per_page", int(500))])), true));
        }
    }
    v
}

#[test]
fn every_list_variant_and_every_info_give_the_same_bytes_both_ways() {
    for extended in [false, true] {
        let sb = demo(extended);
        let mut listed = 0;
        for (opts, non_empty) in list_variants() {
            let xml = both(&sb, "paas.list", opts.clone().into_iter().collect())
                .unwrap_or_else(|f| panic!("paas.list {opts:?} faulted: {f}"))
                .expect("a list encodes");
            assert_eq!(items(&xml) > 0, non_empty, "{opts:?}");
            listed += items(&xml);
        }
        assert!(listed > 10_000, "the variants list many items in all ({listed})");
        let full = both(&sb, "paas.list", vec![st(vec![("items_per_page", Value::Int(500))])]);
        assert_eq!(items(&full.unwrap().unwrap()), 500);

        let ids: Vec<i64> = sb.state().instances.keys().copied().collect();
        assert!(ids.len() >= 537, "the demo set plus 500 ({})", ids.len());
        let mut with_vhosts = 0;
        for id in ids {
            let xml = both(&sb, "paas.info", vec![Value::Int(id)]).unwrap().unwrap();
            assert!(xml.contains(&format!("<member><name>id</name><value><int>{id}</int>")));
            with_vhosts += usize::from(xml.contains("<name>date_creation</name>"));
        }
        assert!(with_vhosts > 10, "some instances have vhosts ({with_vhosts})");
        assert_eq!(xml_has_extended_fields(&sb), extended);
    }
}

fn xml_has_extended_fields(sb: &Sandbox) -> bool {
    let xml = both(sb, "paas.info", vec![Value::Int(1)]).unwrap().unwrap();
    xml.contains("<name>git_server</name>")
}

#[test]
fn faults_are_the_same_both_ways() {
    let sb = demo(false);
    let bad_lists = [
        vec![st(vec![("items_per_page", Value::Int(501))])],
        vec![st(vec![("items_per_page", Value::Int(0))])],
        vec![st(vec![("page", Value::Int(-1))])],
        vec![st(vec![("sort_by", Value::from("colour ASC"))])],
        vec![st(vec![("sort_by", Value::from("name SIDEWAYS"))])],
        vec![st(vec![("flavour", Value::from("x"))])],
        vec![st(vec![("datacenter_id", Value::from("one"))])],
        vec![st(vec![("<size", Value::Nil)])],
        vec![Value::Int(3)],
        vec![st(vec![]), st(vec![])],
    ];
    for args in bad_lists {
        let f = both(&sb, "paas.list", args.clone()).expect_err("a fault");
        assert!(!f.message.is_empty(), "{args:?}");
    }
    let f = both(&sb, "paas.info", vec![Value::Int(999_999)]).expect_err("a fault");
    assert_eq!((f.code, f.message.contains("Paas '999999' doesn't exist.")), (537542, true), "{f}");
    assert!(both(&sb, "paas.info", vec![]).is_err());
    assert!(both(&sb, "paas.info", vec![Value::from("1")]).is_err());
    // A wrong key is refused before anything else, both ways.
    let mut out = String::new();
    let mut w = ValueWriter::new(&mut out);
    let streamed = sb.call_into(&mut ctx(), "paas.list", &[Value::from("wrong")], &mut w).unwrap();
    let by_value = sb.call(&mut ctx(), "paas.list", vec![Value::from("wrong")]);
    assert_eq!(streamed.unwrap_err(), by_value.unwrap_err());
    // Methods it does not stream are left to `call`.
    let mut w = ValueWriter::new(&mut out);
    assert!(sb.call_into(&mut ctx(), "paas.count", &[Value::from(KEY)], &mut w).is_none());
    assert!(sb.call_into(&mut ctx(), "version.info", &[Value::from(KEY)], &mut w).is_none());
}

#[test]
fn escaped_text_and_unencodable_text_are_treated_alike() {
    let sb = support::sandbox(|c| c.dataset = Dataset::Demo);
    let create = |name: &str| {
        let spec = st(vec![
            ("name", name.into()),
            ("size", "s".into()),
            ("type", "phpmysql".into()),
            ("datacenter_id", 1.into()),
            ("duration", "1m".into()),
            ("password", "xxxxxxxxxx".into()),
        ]);
        support::ok(&sb, "paas.create", vec![spec]);
    };
    create("R&D <lab> \"quoted\" it's\r\nmulti-line\ttabbed \u{e9}t\u{e9} \u{1F600}");
    let id = *sb.state().instances.keys().last().unwrap();
    let xml = both(&sb, "paas.info", vec![Value::Int(id)]).unwrap().unwrap();
    assert!(xml.contains("R&amp;D &lt;lab&gt; \"quoted\" it's&#13;\nmulti-line\ttabbed"), "{xml}");
    let listed = both(&sb, "paas.list", vec![st(vec![("sort_by", "id DESC".into())])]).unwrap().unwrap();
    assert!(listed.contains("R&amp;D &lt;lab&gt;"));

    // A name XML cannot carry (only a direct call can store one): the same encoding error, with
    // the same place, both ways.
    create("bad\u{1}name");
    let id = *sb.state().instances.keys().last().unwrap();
    let e = both(&sb, "paas.info", vec![Value::Int(id)]).unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "value.name: character U+0001 at char 3 cannot be carried by XML; send binary data as base64"
    );
    let opts = st(vec![("sort_by", "id DESC".into())]);
    let e = both(&sb, "paas.list", vec![opts]).unwrap().unwrap_err();
    assert!(e.to_string().starts_with("value[0].name: character U+0001 at char 3"), "{e}");
}

/// The sandbox without its `call_into`: every call goes through `call` and the encoder.
struct ValueOnly(Arc<Sandbox>);

impl Handler for ValueOnly {
    fn call(&self, ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        self.0.call(ctx, method, params)
    }

    fn method_names(&self) -> Vec<String> {
        self.0.method_names()
    }
}

/// Posts `body` on a new connection and returns the whole HTTP response without its `Date`
/// header (the only part that may differ from one second to the next).
fn raw_post(addr: SocketAddr, body: &[u8], gzip: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let accept = if gzip { "Accept-Encoding: gzip\r\n" } else { "" };
    let head = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: t\r\nContent-Type: text/xml\r\n{accept}Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(&[head.as_bytes(), body].concat()).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    let end = reply.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    let head = String::from_utf8(reply[..end].to_vec()).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let kept: String = head.split_inclusive("\r\n").filter(|l| !l.starts_with("Date:")).collect();
    [kept.as_bytes(), &reply[end..]].concat()
}

#[test]
fn over_http_the_responses_are_byte_identical_gzipped_or_not() {
    let sb = Arc::new(demo(false));
    let streaming = Server::bind("127.0.0.1:0", sb.clone(), ServerConfig::default()).unwrap();
    let value_only =
        Server::bind("127.0.0.1:0", Arc::new(ValueOnly(sb.clone())), ServerConfig::default()).unwrap();
    let key = Value::from(KEY);
    let calls = [
        encode_call("paas.list", &[key.clone(), st(vec![("items_per_page", Value::Int(500))])]).unwrap(),
        encode_call("paas.list", &[key.clone(), st(vec![("sort_by", "date_end DESC".into())])]).unwrap(),
        encode_call("paas.list", &[key.clone(), st(vec![("items_per_page", Value::Int(501))])]).unwrap(),
        encode_call("paas.info", &[key.clone(), Value::Int(1)]).unwrap(),
        encode_call("paas.info", &[key.clone(), Value::Int(-4)]).unwrap(),
        encode_call("paas.info", &[Value::from("not the key"), Value::Int(1)]).unwrap(),
    ];
    for body in &calls {
        for gzip in [false, true] {
            let a = raw_post(streaming.local_addr(), body, gzip);
            let b = raw_post(value_only.local_addr(), body, gzip);
            assert!(a == b, "{}: responses differ (gzip {gzip})", String::from_utf8_lossy(body));
        }
    }
    let big = raw_post(streaming.local_addr(), &calls[0], true);
    assert!(String::from_utf8_lossy(&big).contains("Content-Encoding: gzip"));
    streaming.shutdown();
    value_only.shutdown();
}

#[test]
fn fault_injection_applies_to_streamed_calls_too() {
    let info = |sb: &Sandbox, ctx: &mut CallContext| {
        let mut out = String::new();
        let mut w = ValueWriter::new(&mut out);
        let answer = sb.call_into(ctx, "paas.info", &[Value::from(KEY), Value::Int(1)], &mut w).unwrap();
        answer.map(|()| w.finish().expect("a whole value"))
    };
    let sb = support::sandbox(|c| c.lost_reply_rate = 1.0);
    let mut lost = ctx();
    info(&sb, &mut lost).unwrap();
    assert!(lost.reply_dropped());

    let sb = support::sandbox(|c| c.rate_limit = Some(2));
    let answers: Vec<Result<(), Fault>> = (0..12).map(|_| info(&sb, &mut ctx())).collect();
    let refused: Vec<&Fault> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    assert!(!refused.is_empty() && refused.len() < 12, "{answers:?}");
    assert!(refused.iter().all(|f| f.code == 160004), "{refused:?}");
}

/// `paas.list` copies the items of unchanged instances from a cache; every kind of change must
/// show at once, exactly as the value path (which has no cache) shows it.
#[test]
fn listed_items_follow_every_change() {
    let sb = support::sandbox(|c| {
        c.dataset = Dataset::Demo;
        c.instances = 60;
        c.op_seconds = 60;
    });
    let all = || st(vec![("items_per_page", Value::Int(500))]);
    let list = |why: &str| {
        let xml = both(&sb, "paas.list", vec![all()]).unwrap_or_else(|f| panic!("{why}: {f}")).unwrap();
        assert!(items(&xml) > 0, "{why}");
        xml
    };
    let before = list("first listing");
    assert_eq!(list("listed again"), before);
    let ok = |method: &str, args: Vec<Value>| drop(support::ok(&sb, method, args));
    ok(
        "paas.update",
        vec![Value::Int(1), st(vec![("size", "xl".into()), ("name", "renamed & <moved>".into())])],
    );
    let pending = list("an update pending");
    ok("sandbox.clock.advance", vec![Value::Int(61)]);
    let updated = list("the update done");
    assert!(updated.contains("renamed &amp; &lt;moved&gt;") && !pending.contains("renamed"));
    ok("paas.renew", vec![Value::Int(2), st(vec![("duration", "3m".into())])]);
    ok("sandbox.clock.advance", vec![Value::Int(61)]);
    let renewed = list("a renewal done");
    assert_ne!(renewed, updated);
    ok("paas.delete", vec![Value::Int(3)]);
    ok("sandbox.clock.advance", vec![Value::Int(61)]);
    let spec = st(vec![
        ("name", "new one".into()),
        ("size", "s".into()),
        ("type", "phpmysql".into()),
        ("datacenter_id", 1.into()),
        ("duration", "1m".into()),
        ("password", "xxxxxxxxxx".into()),
    ]);
    ok("paas.create", vec![spec]);
    let created = list("a delete done and a create pending");
    assert!(created.contains("new one") && created.contains("being_created"));
    ok("sandbox.clock.advance", vec![Value::Int(61)]);
    list("the create done");
    // A reset rebuilds the world with the same ids: listed as at first.
    ok("sandbox.reset", vec![]);
    assert_eq!(list("after a reset"), before);
}

#[test]
fn more_instances_than_the_cache_holds_still_list_right() {
    // The cache keeps at most 10,000 items and empties itself when full.
    let sb = support::sandbox(|c| {
        c.dataset = Dataset::Demo;
        c.instances = 10_600;
    });
    for round in 0..2 {
        for page in 0..22 {
            let opts = st(vec![("items_per_page", Value::Int(500)), ("page", Value::Int(page))]);
            let xml = both(&sb, "paas.list", vec![opts]).unwrap().unwrap();
            assert!(items(&xml) > 0, "round {round}, page {page}");
        }
    }
}
