//! A raw HTTP request (the SigV4 test suite's `*-signed-request.txt` format, see
//! `tower_sigv4_fuzz::parse_raw`) through `Verifier::check`, the canonical request, the string
//! to sign, the key and `finish`, and `credential_service`, with the default (non-S3) rules.
//! Properties: see `tower_sigv4_fuzz::run_request`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tower_sigv4_fuzz::run_request(data, false);
});
