//! Fuzz target: see [`gandish_fuzz::server_request`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gandish_fuzz::server_request(data));
