//! Fuzz target: see [`gandish_fuzz::decode_call`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gandish_fuzz::decode_call(data));
