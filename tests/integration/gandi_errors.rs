//! Faults, transport failures, replies of the wrong shape, key redaction and the call log,
//! against the real sandbox and small real XML-RPC servers.

use crate::common;
use crate::gandi_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gandi_common::*;
use gandish::gandi::{
    CallOutcome, CallRecord, CreateParams, Gandi, GandiError, Qualification, RenewParams, VhostCreateParams,
};
use gandish::xmlrpc::{ClientConfig, Fault, Handler, Methods, Server, ServerConfig, Struct, Value};

const SECRET: &str = "sup3r-s3cret-api-key-0123";

/// A real XML-RPC server on a free loopback port with these methods.
fn serve(methods: Methods) -> Server {
    let h: Arc<dyn Handler> = Arc::new(methods);
    Server::bind("127.0.0.1:0", h, ServerConfig::default()).unwrap()
}

fn client(url: &str, key: &str) -> Gandi {
    Gandi::new(url, key, ClientConfig::default()).unwrap()
}

fn no_secret(e: &GandiError) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(SECRET), "the key leaked: {shown}");
}

#[test]
fn faults_decode_into_api_faults() {
    let e = env(|_| {});
    let err = e.gandi.paas_info(999).unwrap_err();
    assert!(err.is_fault() && !err.is_transport() && !err.maybe_applied());
    assert_eq!(err.method(), Some("paas.info"));
    let f = err.fault().unwrap();
    assert_eq!(f.code, 537542);
    assert_eq!(f.qualification, Some(Qualification::Data));
    assert_eq!((f.object_code, f.cause_code), (Some(375), Some(42)));
    assert_eq!(f.object.as_deref(), Some("OBJECT_PAAS"));
    assert_eq!(f.cause.as_deref(), Some("CAUSE_NOTFOUND"));
    assert_eq!(f.detail.as_deref(), Some("Paas '999' doesn't exist."));
    assert_eq!(f.message, "Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '999' doesn't exist.]");
    assert_eq!(f.method, "paas.info");
    assert_eq!(err.to_string(), format!("paas.info failed with fault 537542: {}", f.message));

    // Bad parameters: unknown struct key, bad duration.
    let err = e.gandi.paas_renew(1, &RenewParams::new("1m").with("colour", "blue")).unwrap_err();
    let f = err.fault().unwrap();
    assert_eq!(
        (f.code, f.object.as_deref(), f.cause.as_deref()),
        (501533, Some("OBJECT_STRUCT"), Some("CAUSE_UNEXPECTED"))
    );
    let err = e.gandi.paas_renew(1, &RenewParams::new("2y")).unwrap_err();
    assert_eq!(err.fault().unwrap().code, 570530);
    // A vhost that does not exist.
    let f = e.gandi.vhost_delete("nope.example.com").unwrap_err();
    assert_eq!(f.fault().unwrap().code, 537642);
    assert!(f.fault().unwrap().is_not_found());
    // Above 500 per page is refused by the sandbox, and the caller's page is sent as is.
    let err = e.gandi.paas_list(&filter(&[("items_per_page", 501.into())])).unwrap_err();
    assert!(err.is_fault(), "{err}");
}

#[test]
fn an_unknown_method_keeps_the_raw_fault() {
    let e = env(|_| {});
    let err = e.gandi.call("paas.frobnicate", vec![]).unwrap_err();
    let f = err.fault().unwrap();
    assert_eq!(f.code, 1);
    assert_eq!(f.message, "Method \"paas.frobnicate\" is not supported");
    assert_eq!((f.qualification, f.object.as_ref(), f.cause.as_ref()), (None, None, None));
    assert_eq!(f.method, "paas.frobnicate");
}

#[test]
fn a_wrong_key_is_a_fault_that_never_shows_the_key() {
    let e = env(|_| {});
    let g = client(&e.url(), SECRET);
    let err = g.version().unwrap_err();
    let f = err.fault().unwrap();
    assert_eq!(f.code, 510150);
    assert_eq!((f.object.as_deref(), f.cause.as_deref()), (Some("OBJECT_ACCOUNT"), Some("CAUSE_NORIGHT")));
    no_secret(&err);
    assert!(!format!("{g:?}").contains(SECRET));
}

#[test]
fn a_server_echoing_the_key_in_a_fault_is_redacted() {
    let mut m = Methods::new();
    m.add("paas.info", |params: Vec<Value>| {
        let key = params[0].as_str().unwrap_or("").to_owned();
        Err(Fault::new(510150, format!("Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [bad key {key}]")))
    });
    m.add("paas.list", |params: Vec<Value>| {
        // A reply that cannot be decoded as records, whose text includes the key.
        Ok(Value::Array(vec![Value::Struct(Struct::new().with("id", params[0].clone()))]))
    });
    let server = serve(m);
    let g = client(&server.url("/"), SECRET);
    let err = g.paas_info(1).unwrap_err();
    no_secret(&err);
    let f = err.fault().unwrap();
    assert_eq!(f.detail.as_deref(), Some("bad key [REDACTED]"));
    let err = g.paas_list(&Struct::new()).unwrap_err();
    assert!(matches!(err, GandiError::Decode { index: Some(0), .. }), "{err:?}");
    no_secret(&err);
    server.shutdown();
}

#[test]
fn an_http_error_page_echoing_the_request_is_redacted() {
    let raw = common::RawServer::start(|mut conn| {
        while let Some(req) = conn.read_request() {
            // Echo the first string param (the key), as a careless error page might.
            let body = String::from_utf8_lossy(&req.body).into_owned();
            let body = body.split("<string>").nth(1).unwrap_or("").to_owned();
            common::write_response(
                &mut conn.stream,
                "502 Bad Gateway",
                "text/html",
                format!("<p>upstream said no to {body}</p>").as_bytes(),
            );
        }
    });
    let g = client(&raw.url(), SECRET);
    let err = g.version().unwrap_err();
    assert!(err.is_transport() && err.maybe_applied(), "{err:?}");
    assert!(
        matches!(err.transport(), Some(gandish::xmlrpc::client::Error::Http { status: 502, .. })),
        "{err:?}"
    );
    match err.transport() {
        Some(gandish::xmlrpc::client::Error::Http { body_excerpt, .. }) => {
            assert!(body_excerpt.contains("upstream said no to [REDACTED]"), "{body_excerpt}")
        }
        other => panic!("{other:?}"),
    }
    no_secret(&err);
}

#[test]
fn transport_failures_are_not_faults() {
    // Nothing listening: never sent, so certainly not applied.
    let g = client(&format!("http://127.0.0.1:{}/xmlrpc/", common::closed_port()), KEY);
    let err = g.paas_renew(1, &RenewParams::new("1m")).unwrap_err();
    assert!(err.is_transport() && !err.is_fault() && !err.maybe_applied(), "{err:?}");
    assert_eq!(err.method(), Some("paas.renew"));
    assert!(err.to_string().starts_with("paas.renew: "), "{err}");

    // The sandbox applies the renew and drops the reply: maybe applied, and it was.
    let e = env(|c| c.lost_reply_rate = 1.0);
    let err = e.gandi.paas_renew(1, &RenewParams::new("1m")).unwrap_err();
    assert!(err.is_closed_before_reply() && err.maybe_applied(), "{err:?}");
    assert_eq!(e.state().ledger.len(), 1, "the call was applied although no reply came");

    // HTTP 503 before anything happens.
    let e = env(|c| c.fail_rate = 1.0);
    let err = e.gandi.paas_renew(1, &RenewParams::new("1m")).unwrap_err();
    assert!(
        matches!(err.transport(), Some(gandish::xmlrpc::client::Error::Http { status: 503, .. })),
        "{err:?}"
    );
    assert!(e.state().ledger.is_empty());
}

#[test]
fn an_http_timeout_is_a_transport_timeout() {
    let e = env(|c| c.latency_ms = 1500);
    let g =
        Gandi::new(&e.url(), KEY, ClientConfig::default().with_timeout(Duration::from_millis(200))).unwrap();
    let err = g.version().unwrap_err();
    assert!(err.is_timeout() && err.is_transport() && !err.is_wait_timeout(), "{err:?}");
}

#[test]
fn rate_limit_faults_are_server_errors() {
    let e = env(|c| c.rate_limit = Some(1));
    let results: Vec<_> = (0..5).map(|_| e.gandi.version()).collect();
    let err = results.into_iter().find_map(Result::err).expect("5 calls in a row exceed 1 call per second");
    let f = err.fault().unwrap();
    assert_eq!(f.code, 160004);
    assert!(f.is_server());
    assert_eq!((f.object.as_deref(), f.cause.as_deref()), (Some("OBJECT_SERVICE"), Some("CAUSE_TOOMANY")));
}

#[test]
fn replies_of_the_wrong_shape_are_reported() {
    let mut m = Methods::new();
    m.add("paas.info", |_| Ok(Value::from("not a struct")));
    m.add("paas.count", |_| Ok(Value::from("three")));
    m.add("vhost.info", |_| Ok(Value::Struct(Struct::new())));
    m.add("paas.vhost.info", |_| Ok(Value::Struct(Struct::new().with("name", "x"))));
    m.add("operation.info", |_| Ok(Value::Struct(Struct::new().with("id", 1).with("date_created", 12))));
    // A dry run answered with operations: the server did not honour --dry-run.
    m.add("paas.create", |_| Ok(Value::Struct(Struct::new().with("id", 5).with("step", "BILL"))));
    m.add("operation.cancel", |_| Ok(Value::Int(1)));
    // A list that ignores `page`: the same full page forever.
    m.add("paas.list", |_| {
        Ok(Value::Array((0..500).map(|i| Value::Struct(Struct::new().with("id", i))).collect()))
    });
    // A list that ignores `items_per_page`.
    m.add("paas.type.list", |_| Ok(Value::Array((0..501).map(|_| Value::Struct(Struct::new())).collect())));
    m.add("paas.vhost.list", |_| Ok(Value::from(3)));
    let server = serve(m);
    let g = client(&server.url("/"), KEY);

    let err = g.paas_info(1).unwrap_err();
    assert!(matches!(&err, GandiError::Decode { index: None, .. }), "{err:?}");
    assert!(err.to_string().contains("paas.info"), "{err}");
    let err = g.paas_count(&Struct::new()).unwrap_err();
    assert!(
        matches!(&err, GandiError::BadReply { .. }) && err.to_string().contains("expected an int"),
        "{err}"
    );
    let err = g.vhost_info("x").unwrap_err();
    assert!(err.to_string().contains("id"), "a missing id is named: {err}");
    let err = g.operation_info(1).unwrap_err();
    assert!(err.to_string().contains("date_created"), "{err}");
    let err = g.paas_create_dry_run(&CreateParams::new("a", "s", "phpmysql", 1, "1m")).unwrap_err();
    assert!(err.maybe_applied() && err.to_string().contains("may have been applied"), "{err}");
    let err = g.operation_cancel(1).unwrap_err();
    assert!(err.to_string().contains("expected a boolean"), "{err}");
    let err = g.paas_list(&Struct::new()).unwrap_err();
    assert!(err.to_string().contains("ignores `page`"), "{err}");
    let err = g.type_list(&Struct::new()).unwrap_err();
    assert!(err.to_string().contains("501 items"), "{err}");
    let err = g.vhost_list(&Struct::new()).unwrap_err();
    assert!(err.to_string().contains("expected an array"), "{err}");
    server.shutdown();
}

#[test]
fn the_call_log_sees_every_call_with_secrets_redacted() {
    let e = env(|_| {});
    let log: Arc<Mutex<Vec<CallRecord>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let g =
        e.gandi.clone().with_call_log(Arc::new(move |r: &CallRecord| sink.lock().unwrap().push(r.clone())));
    g.paas_create(&CreateParams::new("logged", "s", "phpmysql", 1, "1m").password("hunter2-password"))
        .unwrap();
    g.paas_info(424242).unwrap_err();
    g.vhost_create_dry_run(&VhostCreateParams::new(1, "a.example.com")).unwrap();
    // A param that happens to contain the key is redacted too.
    g.call("paas.vhost.info", vec![Value::from(format!("x{KEY}y"))]).unwrap_err();
    let records = log.lock().unwrap().clone();
    assert_eq!(
        records.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
        ["paas.create", "paas.info", "paas.vhost.create", "paas.vhost.info"]
    );
    for r in &records {
        assert_eq!(r.params[0], Value::from("[REDACTED]"));
        assert!(r.request_bytes > 0 && r.response_bytes > 0, "{r:?}");
        assert_eq!(r.status, Some(200));
        let shown = format!("{r:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    let create = records[0].params[1].as_struct().unwrap();
    assert_eq!(create.get("password"), Some(&Value::from("[REDACTED]")));
    assert_eq!(create.get("name"), Some(&Value::from("logged")));
    assert_eq!(records[0].outcome, CallOutcome::Ok);
    assert!(
        matches!(&records[1].outcome, CallOutcome::Fault { code: 537542, .. }),
        "{:?}",
        records[1].outcome
    );
    assert_eq!(records[1].params[1], Value::Int(424242));
    assert_eq!(records[2].params[1].as_struct().unwrap().get("--dry-run"), Some(&Value::Bool(true)));
    assert_eq!(records[3].params[1], Value::from("x[REDACTED]y"));
    // The client without the hook logged nothing more, and the hook also sees transport errors.
    e.gandi.version().unwrap();
    assert_eq!(log.lock().unwrap().len(), 4);
    let sink = log.clone();
    let dead = client(&format!("http://127.0.0.1:{}/", common::closed_port()), KEY)
        .with_call_log(Arc::new(move |r: &CallRecord| sink.lock().unwrap().push(r.clone())));
    dead.version().unwrap_err();
    let last = log.lock().unwrap().last().cloned().unwrap();
    assert!(matches!(&last.outcome, CallOutcome::Error(m) if m.contains("version.info")), "{last:?}");
    assert_eq!(last.status, None);
}

#[test]
fn a_bad_endpoint_is_a_setup_error() {
    let err = Gandi::new("ftp://example.com/", KEY, ClientConfig::default()).unwrap_err();
    assert!(matches!(err, GandiError::Setup(_)), "{err:?}");
    assert!(err.to_string().starts_with("cannot set up the Gandi client: "), "{err}");
    let err = Gandi::new("http://192.0.2.1/xmlrpc/", KEY, ClientConfig::default()).unwrap_err();
    assert!(err.to_string().contains("192.0.2.1"), "{err}");
    assert!(!err.maybe_applied() && !err.is_fault());
}

/// A server that accepts connections and never answers; counts them.
fn hung_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/xmlrpc/", listener.local_addr().unwrap());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(conn);
        }
    });
    (url, accepted)
}

#[test]
fn the_timeout_bounds_a_read_with_all_its_retries() {
    // A read is retried after a timeout (4 resends by default); against a server that never
    // answers, the first attempt uses up the whole timeout, so no retry starts.
    let (url, accepted) = hung_server();
    let throttle = Arc::new(gandish::gandi::Throttle::new(None, gandish::gandi::RetryPolicy::default()));
    let g = Gandi::new(&url, SECRET, ClientConfig::default().with_timeout(Duration::from_millis(800)))
        .unwrap()
        .with_throttle(throttle);
    let e = g.paas_list(&Struct::new()).unwrap_err();
    assert!(e.transport().is_some_and(|t| t.is_timeout()), "{e}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "one attempt in all");
    no_secret(&e);
}
