//! The signer against the official vectors (header and presigned), and signer → verifier round
//! trips over generated requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::time::Duration;

use proptest::prelude::*;
use serde::Deserialize;
use support::*;
use tower_sigv4::{
    ContentSha256Header, Credentials, PathNormalization, PercentEncoding, Principal,
    SessionTokenMode, SignablePayload, Signer, SigningSettings, StaticKeys, Verifier,
    VerifierConfig,
};

#[derive(Deserialize)]
struct Context {
    credentials: Creds,
    normalize: bool,
    region: String,
    service: String,
    #[serde(default)]
    sign_body: bool,
    #[serde(default)]
    omit_session_token: bool,
}

#[derive(Deserialize)]
struct Creds {
    token: Option<String>,
}

fn signer_for(ctx: &Context, raw_path: bool) -> Signer {
    let mut creds = Credentials::new(AKID, SECRET);
    if let Some(t) = &ctx.credentials.token {
        creds = creds.with_session_token(t.clone());
    }
    let mut settings = SigningSettings::default();
    settings.percent_encoding = if raw_path {
        PercentEncoding::Single
    } else {
        PercentEncoding::Double
    };
    settings.path_normalization = if ctx.normalize {
        PathNormalization::Enabled
    } else {
        PathNormalization::Disabled
    };
    if ctx.sign_body {
        settings.content_sha256 = ContentSha256Header::Include;
    }
    if ctx.omit_session_token {
        settings.session_token = SessionTokenMode::Unsigned;
    }
    Signer::new(creds, ctx.region.clone(), ctx.service.clone()).with_settings(settings)
}

fn case(name: &str) {
    let dir = data_dir().join("v4").join(name);
    let ctx: Context = serde_json::from_str(&read(dir.join("context.json"))).unwrap();
    let req = parse_request(&read(dir.join("request.txt")));
    let signer = signer_for(&ctx, req.raw_path);

    // Header.
    let mut parts = req.parts;
    let presign_parts = {
        let (p, ()) = http::Request::builder()
            .method(parts.method.clone())
            .uri(parts.uri.clone())
            .body(())
            .unwrap()
            .into_parts();
        let mut p = p;
        p.headers = parts.headers.clone();
        p
    };
    signer
        .sign(&mut parts, SignablePayload::Bytes(&req.body), vector_now())
        .unwrap();
    let expected = read(dir.join("header-signature.txt"));
    let auth = parts.headers["authorization"].to_str().unwrap().to_owned();
    assert!(
        auth.ends_with(&format!("Signature={}", expected.trim())),
        "{auth}"
    );

    // Presigned.
    let uri = signer
        .presign(
            &presign_parts,
            SignablePayload::Bytes(&req.body),
            Duration::from_secs(3600),
            vector_now(),
        )
        .unwrap();
    let expected = read(dir.join("query-signature.txt"));
    assert!(
        uri.to_string()
            .ends_with(&format!("X-Amz-Signature={}", expected.trim())),
        "{uri}"
    );
}

macro_rules! cases {
    ($($test:ident => $name:literal),* $(,)?) => {
        mod vectors {
            $( #[test] fn $test() { super::case($name); } )*
        }
    };
}

cases! {
    get_header_key_duplicate => "get-header-key-duplicate",
    // The harness unfolds the obsolete line folding with a space (RFC 9112 §5.2).
    get_header_value_multiline => "get-header-value-multiline",
    get_header_value_order => "get-header-value-order",
    get_header_value_trim => "get-header-value-trim",
    get_relative_normalized => "get-relative-normalized",
    get_relative_relative_normalized => "get-relative-relative-normalized",
    get_relative_relative_unnormalized => "get-relative-relative-unnormalized",
    get_relative_unnormalized => "get-relative-unnormalized",
    get_slash_dot_slash_normalized => "get-slash-dot-slash-normalized",
    get_slash_dot_slash_unnormalized => "get-slash-dot-slash-unnormalized",
    get_slash_normalized => "get-slash-normalized",
    get_slash_pointless_dot_normalized => "get-slash-pointless-dot-normalized",
    get_slash_pointless_dot_unnormalized => "get-slash-pointless-dot-unnormalized",
    get_slash_unnormalized => "get-slash-unnormalized",
    get_slashes_normalized => "get-slashes-normalized",
    get_slashes_unnormalized => "get-slashes-unnormalized",
    get_space_normalized => "get-space-normalized",
    get_space_unnormalized => "get-space-unnormalized",
    get_unreserved => "get-unreserved",
    get_utf8 => "get-utf8",
    get_vanilla => "get-vanilla",
    get_vanilla_empty_query_key => "get-vanilla-empty-query-key",
    get_vanilla_query => "get-vanilla-query",
    get_vanilla_query_order_encoded => "get-vanilla-query-order-encoded",
    get_vanilla_query_order_key_case => "get-vanilla-query-order-key-case",
    get_vanilla_query_unreserved => "get-vanilla-query-unreserved",
    get_vanilla_utf8_query => "get-vanilla-utf8-query",
    get_vanilla_with_session_token => "get-vanilla-with-session-token",
    post_header_key_case => "post-header-key-case",
    post_header_key_sort => "post-header-key-sort",
    post_header_value_case => "post-header-value-case",
    post_sts_header_after => "post-sts-header-after",
    post_sts_header_before => "post-sts-header-before",
    post_vanilla => "post-vanilla",
    post_vanilla_empty_query_value => "post-vanilla-empty-query-value",
    post_vanilla_query => "post-vanilla-query",
    post_x_www_form_urlencoded => "post-x-www-form-urlencoded",
    post_x_www_form_urlencoded_parameters => "post-x-www-form-urlencoded-parameters",
}

fn verifier() -> Verifier {
    let keys = StaticKeys::new()
        .with_key(
            AKID,
            SECRET,
            Principal::user("arn:aws:iam::123456789012:user/rt", "AIDART"),
        )
        .with_session_key(
            "ASIART",
            SECRET,
            "tok/en+=",
            Principal::user("arn:aws:iam::123456789012:user/rt", "AIDART"),
            vector_now() + Duration::from_secs(900),
        );
    Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap()
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._~-]{1,8}",
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("%20".to_owned()),
        Just("%2F".to_owned()),
        Just("a+b".to_owned()),
        Just("%E1%88%B4".to_owned()),
        Just("!$&'()*,;=:@".to_owned()),
    ]
}

fn query_part() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[a-zA-Z0-9_.~-]{1,6}", "[a-zA-Z0-9_.~-]{0,6}").prop_map(|(k, v)| format!("{k}={v}")),
        "[a-zA-Z0-9]{1,6}",
        Just("a=%2B".to_owned()),
        Just("a=b+c".to_owned()),
        Just("k=%E1%88%B4".to_owned()),
        Just("e=".to_owned()),
        Just("s=%20%21%2A".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn signed_requests_verify(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE")],
        segments in prop::collection::vec(path_segment(), 0..6),
        trailing in any::<bool>(),
        query in prop::collection::vec(query_part(), 0..5),
        headers in prop::collection::vec(("x-[a-z]{1,5}", "[ a-zA-Z0-9]{0,10}"), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..64),
        token in any::<bool>(),
        presign in any::<bool>(),
    ) {
        let mut path = format!("/{}", segments.join("/"));
        if trailing { path.push('/'); }
        let q = query.join("&");
        let uri = if q.is_empty() { format!("https://api.example.com{path}") } else { format!("https://api.example.com{path}?{q}") };
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in &headers { b = b.header(k.as_str(), v.as_str()); }
        let (mut parts, ()) = b.body(()).unwrap().into_parts();
        let creds = if token { Credentials::new("ASIART", SECRET).with_session_token("tok/en+=") } else { Credentials::new(AKID, SECRET) };
        let signer = Signer::new(creds, "us-east-1", "execute-api");
        if presign {
            let uri = signer.presign(&parts, SignablePayload::Bytes(&body), Duration::from_secs(60), vector_now()).unwrap();
            parts.uri = uri;
        } else {
            signer.sign(&mut parts, SignablePayload::Bytes(&body), vector_now()).unwrap();
        }
        // The client (hyper) sends the Host header from the URI.
        parts.headers.insert("host", http::HeaderValue::from_static("api.example.com"));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let v = verifier();
        let verified = rt.block_on(v.verify(&parts, &body, vector_now()));
        prop_assert!(verified.is_ok(), "{:?}", verified.err());
        // One more byte of body breaks it.
        let mut tampered = body.clone();
        tampered.push(0);
        prop_assert!(rt.block_on(v.verify(&parts, &tampered, vector_now())).is_err());
    }
}

/// A request without a `Host` header (HTTP/2: the authority is in the URI) is signed and verified
/// with the same `host`: the URI's host, its port unless it is the scheme's default, never
/// userinfo. Found by the `canonical` fuzz target (`fuzz/regressions/canonical/`).
#[test]
fn requests_without_a_host_header_round_trip() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let v = verifier();
    let signer = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "execute-api");
    for (uri, host) in [
        ("https://user@example.com/", "example.com"),
        ("https://example.com:443/", "example.com"),
        ("http://example.com:80/", "example.com"),
        ("http://example.com:/", "example.com"),
        ("http://example.com:0080/", "example.com"),
        ("https://example.com:8443/", "example.com:8443"),
        ("https://@:1/", ":1"),
    ] {
        for presign in [false, true] {
            let (mut parts, ()) = http::Request::get(uri).body(()).unwrap().into_parts();
            if presign {
                parts.uri = signer
                    .presign(
                        &parts,
                        SignablePayload::Bytes(b""),
                        Duration::from_secs(60),
                        vector_now(),
                    )
                    .unwrap();
            } else {
                signer
                    .sign(&mut parts, SignablePayload::Bytes(b""), vector_now())
                    .unwrap();
            }
            assert!(parts.headers.get("host").is_none());
            let verified = rt.block_on(v.verify(&parts, b"", vector_now()));
            assert!(
                verified.is_ok(),
                "{uri} presign={presign}: {:?}",
                verified.err()
            );
            let checked = v.check(&parts, vector_now()).unwrap();
            let creq = checked.canonical_request(tower_sigv4::Payload::Bytes(b""));
            assert!(creq.contains(&format!("\nhost:{host}\n")), "{uri}: {creq}");
        }
    }
}

/// `GET https://example.com/?QUERY`, as parts.
fn get_with_query(query: &str) -> http::request::Parts {
    http::Request::get(format!("https://example.com/?{query}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// `refused` is the signer's `InvalidUri` with exactly `message`.
fn assert_invalid_uri(refused: &tower_sigv4::SignError, message: &str, query: &str) {
    assert_eq!(
        refused.kind(),
        tower_sigv4::SignErrorKind::InvalidUri,
        "{query}"
    );
    assert_eq!(refused.to_string(), message, "{query}");
}

/// Found by the `canonical` fuzz target: a query that already had `X-Amz-Signature` (without
/// a value) was presigned into a URL with two signatures, which the verifier then refused as
/// a request with no signature. The signer refuses such a query instead.
#[test]
fn presigning_refuses_a_query_that_already_has_presigning_parameters() {
    let signer = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "execute-api");
    for query in [
        "X-Amz-Signature",
        "a=1&X-Amz-Signature=00",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=x",
        "X-Amz-Date=20150830T123600Z",
        "X-Amz-Expires=60",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Security-Token=t",
        // Decoded before it is compared, as the verifier reads it.
        "X-Amz-%53ignature=00",
    ] {
        let parts = get_with_query(query);
        let refused = signer
            .presign(
                &parts,
                SignablePayload::Bytes(b""),
                Duration::from_secs(60),
                vector_now(),
            )
            .unwrap_err();
        assert_invalid_uri(
            &refused,
            "the request's query already has a presigning parameter (X-Amz-Signature, …)",
            query,
        );
    }
    // Names that only look alike are data, and sign.
    for query in [
        "x-amz-signature=00",
        "X-Amz-Signatures=1",
        "My-X-Amz-Date=1",
    ] {
        let parts = get_with_query(query);
        let url = signer
            .presign(
                &parts,
                SignablePayload::Bytes(b""),
                Duration::from_secs(60),
                vector_now(),
            )
            .unwrap();
        let mut presigned = parts.clone();
        presigned.uri = url;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let verified = rt.block_on(verifier().verify(&presigned, b"", vector_now()));
        assert!(verified.is_ok(), "{query}: {:?}", verified.err());
    }
}

/// Found by the `canonical` fuzz target (a 10-minute run): header-signing a request whose query
/// has `X-Amz-Algorithm` gave a request with two authentication mechanisms, which every
/// verifier refuses. The signer refuses it; other presigning names in the query are data.
#[test]
fn header_signing_refuses_a_query_with_x_amz_algorithm() {
    let signer = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "execute-api");
    for query in [
        "X-Amz-Algorithm",
        "a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-%41lgorithm=x",
    ] {
        let mut parts = get_with_query(query);
        let refused = signer
            .sign(&mut parts, SignablePayload::Bytes(b""), vector_now())
            .unwrap_err();
        assert_invalid_uri(
            &refused,
            "the request's query has X-Amz-Algorithm: it would read as a presigned URL",
            query,
        );
        assert!(parts.headers.get("authorization").is_none());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for query in [
        "X-Amz-Signature=00",
        "x-amz-algorithm=1",
        "X-Amz-Credential=x",
    ] {
        let mut parts = get_with_query(query);
        signer
            .sign(&mut parts, SignablePayload::Bytes(b""), vector_now())
            .unwrap();
        let verified = rt.block_on(verifier().verify(&parts, b"", vector_now()));
        assert!(verified.is_ok(), "{query}: {:?}", verified.err());
    }
}
