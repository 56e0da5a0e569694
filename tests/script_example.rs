//! The embedding example (`examples/embed.rs`), compiled into this test and run.

#[allow(dead_code)]
#[path = "../examples/embed.rs"]
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
#[path = "../examples/tokio_host.rs"]
mod tokio_host;

#[test]
fn the_tokio_example_runs_scripts_on_the_blocking_pool_and_cancels_one_on_a_timeout() {
    let o = tokio_host::run().expect("the example runs");
    assert!(o.typed_count > 1, "the demo dataset has instances: {o:?}");
    assert_eq!(o.script_counts, vec![o.typed_count; 4], "every script saw the same fleet");
    assert!(o.slow_cancelled, "the slow run was stopped by its token: {o:?}");
}
