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
