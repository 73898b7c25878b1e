//! Arbitrary bytes through decoding and feature extraction.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::decode_features(data));
