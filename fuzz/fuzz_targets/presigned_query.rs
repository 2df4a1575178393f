//! Like `auth_header`, seeded with presigned URLs and with S3's rules by default
//! (`X-Amz-Expires` required, unsigned presigned payloads, object keys as sent); an options
//! line `@std` switches to the default rules. Properties: see `tower_sigv4_fuzz::run_request`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tower_sigv4_fuzz::run_request(data, true);
});
