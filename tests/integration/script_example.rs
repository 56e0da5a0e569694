//! The embedding example (`examples/embed.rs`), compiled into this test and run.

#[allow(dead_code)]
#[path = "../../examples/embed.rs"]
mod embed;

#[test]
fn the_embed_example_renews_through_the_host_function() {
    let outcome = embed::run().expect("the example runs");
    // The seed instance ended on 2011-10-14, so it is renewed once, for 12 months.
    assert_eq!(outcome.renewed, [1]);
    assert_eq!(outcome.messages, ["renewed Mon PaaS (#1) from 2011-10-14 to 2012-10-14"]);
    assert!(outcome.methods.contains(&"paas.renew".to_string()), "{:?}", outcome.methods);
    // The sandbox applies at once (op_seconds 0): op::wait gets operations DONE in the reply
    // and polls nothing.
    assert!(!outcome.methods.iter().any(|m| m.starts_with("operation.")), "{:?}", outcome.methods);
}

#[allow(dead_code)]
#[path = "../../examples/tokio_host.rs"]
mod tokio_host;

#[test]
fn the_tokio_example_runs_scripts_on_the_blocking_pool_and_cancels_one_on_a_timeout() {
    let o = tokio_host::run().expect("the example runs");
    assert!(o.typed_count > 1, "the demo dataset has instances: {o:?}");
    assert_eq!(o.script_counts, vec![o.typed_count; 4], "every script saw the same fleet");
    assert!(o.slow_cancelled, "the slow run was stopped by its token: {o:?}");
}

#[test]
fn a_fault_in_a_script_reaches_the_host_with_its_typed_cause() {
    use std::error::Error as _;
    let sb = gandish::sandbox::start(gandish::sandbox::SandboxConfig {
        listen: "127.0.0.1:0".into(),
        dataset: gandish::sandbox::Dataset::Seed,
        op_seconds: 0,
        ..Default::default()
    })
    .unwrap();
    let rt = gandish::Runtime::builder().endpoint(sb.url()).key(sb.api_key()).build().unwrap();
    let e = rt.eval("let x = 1;\npaas::info(999)").unwrap_err();
    assert_eq!(e.line(), Some(2), "the position is kept");
    assert!(!e.maybe_applied(), "a fault applied nothing");
    // The chain: the script error, then the Gandi error with the fault's parts.
    let cause =
        e.source().expect("a source").downcast_ref::<gandish::gandi::GandiError>().expect("a GandiError");
    let fault = cause.fault().expect("a fault");
    assert_eq!((fault.code, fault.method.as_str()), (537_542, "paas.info"));
    // The script error's own text is the context; the cause's text is not repeated in it.
    assert!(!e.to_string().contains(&fault.message), "{e}");
    assert!(cause.to_string().contains("537542"), "{cause}");

    // A call cut off in transport may have been applied.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let rt = gandish::Runtime::builder()
        .endpoint(format!("http://{closed}/"))
        .key("k3y-of-a-fair-size")
        .build()
        .unwrap();
    let e = rt.eval("paas::renew(1, \"12m\")").unwrap_err();
    let cause = e.gandi().expect("the typed cause");
    assert!(cause.is_transport(), "{cause}");
    assert_eq!(e.maybe_applied(), cause.maybe_applied());
    sb.shutdown();
}
