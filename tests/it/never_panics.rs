//! Arbitrary Authorization headers, query strings, paths and dates never panic the verifier:
//! every input gets a rejection (or, for the odd valid one, a verdict).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use proptest::prelude::*;
use support::*;
use tower_sigv4::{Principal, StaticKeys, Verifier, VerifierConfig};

fn verifier() -> Verifier {
    let keys =
        StaticKeys::new().with_key(AKID, SECRET, Principal::user("arn:aws:iam::1:user/a", "A"));
    Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap()
}

fn run(v: &Verifier, path_and_query: &str, headers: &[(&str, &str)], body: &[u8]) {
    let Ok(uri) = format!("http://h{path_and_query}").parse::<http::Uri>() else {
        return;
    };
    let mut b = http::Request::get(uri);
    for (k, val) in headers {
        if let Ok(hv) = http::HeaderValue::from_str(val) {
            b = b.header(*k, hv);
        }
    }
    let Ok(req) = b.body(()) else { return };
    let (parts, ()) = req.into_parts();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _ = rt.block_on(v.verify(&parts, body, vector_now()));
}

fn auth_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("AWS4-HMAC-SHA256".to_owned()),
        Just("Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request".to_owned()),
        Just("SignedHeaders=host;x-amz-date".to_owned()),
        Just("Signature=".to_owned()),
        "[ -~]{0,20}",
        "[,=;/ ]{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_authorization_headers(parts in prop::collection::vec(auth_fragment(), 0..8), date in "[0-9TZ:-]{0,18}") {
        let v = verifier();
        let auth = parts.join(" ");
        run(&v, "/", &[("host", "h"), ("authorization", &auth), ("x-amz-date", &date)], b"");
    }

    #[test]
    fn arbitrary_presigned_queries(params in prop::collection::vec(("X-Amz-[A-Za-z]{0,12}|[a-z%+]{0,6}", "[ -~]{0,40}"), 0..8)) {
        let v = verifier();
        let mut q = String::from("X-Amz-Algorithm=AWS4-HMAC-SHA256");
        for (k, val) in &params {
            q.push('&');
            q.push_str(k);
            q.push('=');
            q.push_str(&val.replace(['#', ' '], "%20"));
        }
        run(&v, &format!("/?{q}"), &[("host", "h")], b"");
    }

    #[test]
    fn arbitrary_paths_and_dates(path in "/[ -~]{0,60}", date in "[ -~]{0,30}", body in prop::collection::vec(any::<u8>(), 0..64)) {
        let v = verifier();
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-amz-content-sha256, Signature=00";
        run(&v, &path.replace(['#', ' ', '?'], "%"), &[("host", "h"), ("authorization", auth), ("x-amz-date", &date), ("date", &date), ("x-amz-content-sha256", &date)], &body);
    }
}
