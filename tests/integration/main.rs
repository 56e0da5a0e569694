//! The integration tests, in one binary (as ripgrep and just keep theirs): a module per area,
//! and the helpers they share. Each test starts what it needs (a sandbox, a server, a peer) on
//! 127.0.0.1 with a free port, and stops it. `tests/abuse.rs` and `tests/server_idle.rs` stay
//! binaries of their own: they read this process's memory, threads and a thread's wake-ups,
//! which other tests running alongside would move.

mod bulk_common;
mod common;
mod gandi_common;
mod support;

mod bulk_cli;
mod bulk_engine;
mod bulk_journal_cli;
mod bulk_pipeline;
mod bulk_renew;
mod bulk_resize_reports;
mod call;
mod call_dry_run;
mod cli_config;
mod cli_run;
mod cli_sandbox;
mod cli_watch;
mod client;
mod codec;
mod confirm_pty;
mod crate_budget;
mod frontends_help;
mod frontends_json;
mod frontends_suggest;
mod frontends_tables;
mod fuzz_corpus;
mod gandi_errors;
mod gandi_mutate;
mod gandi_read;
mod interrupt_pty;
mod peers_interop;
mod proptest_roundtrip;
mod repl_piped;
mod repl_pty;
mod resize_guard;
mod run_preflight;
mod run_reports;
mod sandbox_encode_paths;
mod sandbox_http;
mod sandbox_lifecycle;
mod sandbox_methods;
mod sandbox_model;
mod sandbox_seed;
mod sandbox_state;
mod script_confirm;
mod script_dates;
mod script_example;
mod script_imports;
mod script_limits;
mod script_modules;
mod script_sandboxing;
mod scripts_examples;
mod secret_hygiene;
mod serde;
mod server;
mod ship_logs;
mod ship_man;
mod ship_metrics;
mod ship_recipes;
mod ship_version;
mod tls;
mod validator1;
