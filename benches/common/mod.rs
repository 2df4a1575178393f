//! The four requests the benchmarks and the allocation test share, so every contender sees the
//! same inputs.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use http::request::Parts;
use tower_sigv4::{
    Credentials, Principal, SignablePayload, Signer, StaticKeys, Verifier, VerifierConfig,
};

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const REGION: &str = "us-east-1";
pub const SERVICE: &str = "execute-api";
pub const HOST: &str = "api.example.com";
/// 2015-08-30T12:36:00Z: requests are signed, and verified, at this instant.
pub const SIGNED_AT: u64 = 1_440_938_160;
/// Validity of the presigned URL.
pub const PRESIGN_EXPIRES: Duration = Duration::from_secs(300);

pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(SIGNED_AT)
}

/// One benchmark input: an unsigned request and how it is signed.
pub struct Case {
    /// Group name.
    pub name: &'static str,
    pub method: &'static str,
    pub uri: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: Vec<u8>,
    /// A presigned URL rather than an `Authorization` header.
    pub presign: bool,
}

impl Case {
    /// The request before signing.
    pub fn unsigned(&self) -> Parts {
        let mut b = http::Request::builder().method(self.method).uri(self.uri);
        for (k, v) in self.headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }
}

/// (1) a GET with a query and 5 headers.
pub fn get_query_5_headers() -> Case {
    Case {
        name: "1-get-query-5-headers",
        method: "GET",
        uri: "https://api.example.com/v1/accounts/42/orders?limit=50&marker=2024-01-01T00%3A00%3A00Z&status=open",
        headers: &[
            ("host", HOST),
            ("accept", "application/json"),
            ("content-type", "application/json"),
            ("x-request-id", "5f2b1c9e-8a47-4d3b-9b61-0f7c2d4e6a81"),
            ("x-tenant", "acme"),
        ],
        body: Vec::new(),
        presign: false,
    }
}

fn put(name: &'static str, len: usize) -> Case {
    Case {
        name,
        method: "PUT",
        uri: "https://api.example.com/v1/objects/report.bin",
        headers: &[("host", HOST), ("content-type", "application/octet-stream")],
        // Not all zeros, so no hasher could take a shortcut.
        body: (0..len).map(|i| (i.wrapping_mul(31) % 251) as u8).collect(),
        presign: false,
    }
}

/// (2) a PUT with a 4 KiB body.
pub fn put_4kib() -> Case {
    put("2-put-4kib", 4 * 1024)
}

/// (3) a PUT with a 1 MiB body.
pub fn put_1mib() -> Case {
    put("3-put-1mib", 1024 * 1024)
}

/// (4) a presigned GET URL.
pub fn presigned_get() -> Case {
    Case {
        name: "4-presigned-get",
        method: "GET",
        uri: "https://api.example.com/v1/downloads/report.pdf?version=3",
        headers: &[("host", HOST)],
        body: Vec::new(),
        presign: true,
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        get_query_5_headers(),
        put_4kib(),
        put_1mib(),
        presigned_get(),
    ]
}

pub fn signer() -> Signer {
    Signer::new(Credentials::new(AKID, SECRET), REGION, SERVICE)
}

pub fn verifier() -> Verifier {
    let keys = StaticKeys::new().with_key(
        AKID,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/bench", "AIDABENCH"),
    );
    Verifier::new(VerifierConfig::new(REGION, SERVICE), keys).unwrap()
}

/// Signs `parts` for `case` with our signer (header, or presigned URI).
pub fn sign_ours(signer: &Signer, case: &Case, parts: &mut Parts) {
    if case.presign {
        parts.uri = signer
            .presign(
                parts,
                SignablePayload::Bytes(&case.body),
                PRESIGN_EXPIRES,
                now(),
            )
            .unwrap();
    } else {
        signer
            .sign(parts, SignablePayload::Bytes(&case.body), now())
            .unwrap();
    }
}

/// The request of `case`, signed by us: what the verifiers are given.
pub fn signed(case: &Case) -> Parts {
    let mut parts = case.unsigned();
    sign_ours(&signer(), case, &mut parts);
    parts
}

/// Runs a future that is ready at once (every future here is: key lookups are in memory and
/// nothing waits on I/O or timers), so no runtime's scheduling is measured along with it.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the future was expected to be ready at once"),
    }
}
