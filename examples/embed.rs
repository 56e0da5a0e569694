//! Embedding gandish in a Rust program.
//!
//! The host starts the sandbox in-process (so the example needs no account and no network),
//! builds a [`Runtime`] against it, registers its own function (`notify`, which collects messages
//! the way a real host would send them to a chat or a ticket system), and runs a renewal script.
//!
//! `cargo run --example embed`

use std::sync::{Arc, Mutex};

use gandish::Runtime;
use gandish::sandbox::{Dataset, SandboxConfig, start};

/// The renewal job: renew every running instance that ends within 30 days, and tell the host.
const SCRIPT: &str = r#"
let renewed = [];
for p in paas::list(#{state: "running"}) {
    if p.date_end.days_until() < 30 {
        let before = p.date_end;
        op::wait(paas::renew(p, "12m"));
        let after = paas::info(p).date_end;
        notify(`renewed ${p.name} (#${p.id}) from ${before.format("%Y-%m-%d")} to ${after.format("%Y-%m-%d")}`);
        renewed.push(p.id);
    }
}
renewed
"#;

/// What the run produced: the ids the script returned and the messages the host received.
pub struct Outcome {
    /// The instance ids the script renewed.
    pub renewed: Vec<i64>,
    /// What `notify` received.
    pub messages: Vec<String>,
    /// The methods the runtime called, in order.
    pub methods: Vec<String>,
}

/// Starts the sandbox, runs [`SCRIPT`] against it and stops the sandbox.
pub fn run() -> Result<Outcome, Box<dyn std::error::Error>> {
    let sandbox = start(SandboxConfig {
        listen: "127.0.0.1:0".into(),
        dataset: Dataset::Seed,
        op_seconds: 0,
        ..SandboxConfig::default()
    })?;

    let mut runtime = Runtime::builder().endpoint(sandbox.url()).key(sandbox.api_key()).build()?;

    // The host's own function, callable from scripts.
    let messages = Arc::new(Mutex::new(Vec::new()));
    let inbox = messages.clone();
    runtime.engine_mut().register_fn("notify", move |text: &str| {
        inbox.lock().unwrap().push(text.to_string());
    });

    let result = runtime.eval(SCRIPT)?;
    let renewed = result
        .into_array()
        .map_err(|t| format!("the script returned a {t}, not an array"))?
        .into_iter()
        .map(|id| id.as_int().map_err(|t| format!("an id is a {t}")))
        .collect::<Result<Vec<_>, _>>()?;
    let methods = runtime.calls().into_iter().map(|c| c.method).collect();
    sandbox.shutdown();
    let messages = messages.lock().unwrap().clone();
    Ok(Outcome { renewed, messages, methods })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run()?;
    for m in &outcome.messages {
        println!("{m}");
    }
    println!("renewed {} instance(s) with {} API calls", outcome.renewed.len(), outcome.methods.len());
    Ok(())
}
