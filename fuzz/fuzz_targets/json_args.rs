//! Fuzz target: see [`gandish_fuzz::json_args`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gandish_fuzz::json_args(data));
