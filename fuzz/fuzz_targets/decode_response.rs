//! Fuzz target: see [`gandish_fuzz::decode_response`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gandish_fuzz::decode_response(data));
