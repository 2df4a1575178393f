//! Byte-for-byte agreement with the official `aws-sigv4` crate over a generated corpus of
//! methods, paths, queries and headers: our signatures equal its, and our verifier accepts its
//! requests (header and presigned).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::time::Duration;

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings as AwsSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use proptest::prelude::*;
use support::*;
use tower_sigv4::{
    Credentials, Principal, SignablePayload, Signer, StaticKeys, Verifier, VerifierConfig,
};

const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE/token+with=chars";

fn aws_sign(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
    token: bool,
    presign: bool,
) -> http::Request<()> {
    let identity: Identity =
        AwsCredentials::new(AKID, SECRET, token.then(|| TOKEN.to_owned()), None, "test").into();
    let mut settings = AwsSettings::default();
    if presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("execute-api")
        .time(vector_now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        method,
        uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let mut req = b.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    req
}

fn ours(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
    token: bool,
    presign: bool,
) -> http::request::Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let (mut parts, ()) = b.body(()).unwrap().into_parts();
    let mut creds = Credentials::new(AKID, SECRET);
    if token {
        creds = creds.with_session_token(TOKEN);
    }
    let signer = Signer::new(creds, "us-east-1", "execute-api");
    if presign {
        parts.uri = signer
            .presign(
                &parts,
                SignablePayload::Bytes(body),
                Duration::from_secs(300),
                vector_now(),
            )
            .unwrap();
    } else {
        signer
            .sign(&mut parts, SignablePayload::Bytes(body), vector_now())
            .unwrap();
    }
    parts
}

fn signature_of(headers: &http::HeaderMap, uri: &http::Uri) -> String {
    if let Some(a) = headers.get("authorization") {
        return a
            .to_str()
            .unwrap()
            .rsplit("Signature=")
            .next()
            .unwrap()
            .to_owned();
    }
    uri.query()
        .unwrap()
        .split('&')
        .find_map(|p| p.strip_prefix("X-Amz-Signature="))
        .unwrap()
        .to_owned()
}

fn verifier() -> Verifier {
    let p = Principal::user("arn:aws:iam::123456789012:user/interop", "AIDAINTEROP");
    let keys = StaticKeys::new().with_key(AKID, SECRET, p);
    Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap()
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._~-]{1,8}",
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("%20".to_owned()),
        Just("a%2Fb".to_owned()),
        Just("%25".to_owned()),
        Just("a+b".to_owned()),
        Just("%E1%88%B4".to_owned()),
        Just("%C3%A9t%C3%A9".to_owned()),
        Just("!$&'()*,;=:@".to_owned()),
    ]
}

fn query_part() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[a-zA-Z0-9_.~-]{1,6}", "[a-zA-Z0-9_.~-]{0,6}").prop_map(|(k, v)| format!("{k}={v}")),
        "[a-zA-Z0-9]{1,6}",
        Just("dup=2".to_owned()),
        Just("dup=1".to_owned()),
        Just("plus=a+b".to_owned()),
        Just("pct=%2B%20%2F".to_owned()),
        Just("u=%E1%88%B4".to_owned()),
        Just("empty=".to_owned()),
        Just("sp=a%20b".to_owned()),
        Just("r=%21%27%28%29%2A".to_owned()),
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    (
        prop_oneof![
            Just("x-custom".to_owned()),
            Just("X-Mixed-Case".to_owned()),
            Just("content-type".to_owned()),
            "x-[a-z]{1,5}"
        ],
        prop_oneof![
            "[a-zA-Z0-9]{0,8}",
            Just("  spaced   value  ".to_owned()),
            Just("a,b".to_owned())
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn agrees_with_aws_sigv4(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("PATCH")],
        segments in prop::collection::vec(segment(), 0..6),
        trailing in any::<bool>(),
        query in prop::collection::vec(query_part(), 0..6),
        headers in prop::collection::vec(header(), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..32),
        token in any::<bool>(),
        presign in any::<bool>(),
    ) {
        let mut path = format!("/{}", segments.join("/"));
        if trailing { path.push('/'); }
        let q = query.join("&");
        let uri = if q.is_empty() { format!("https://api.example.com{path}") } else { format!("https://api.example.com{path}?{q}") };

        let theirs = aws_sign(method, &uri, &headers, &body, token, presign);
        let mine = ours(method, &uri, &headers, &body, token, presign);
        prop_assert_eq!(signature_of(theirs.headers(), theirs.uri()), signature_of(&mine.headers, &mine.uri), "uri {}", uri);
        if !presign {
            prop_assert_eq!(theirs.headers().get("authorization"), mine.headers.get("authorization"));
        }

        // Our verifier accepts aws-sigv4's request (the client sends Host from the URI).
        let (mut parts, ()) = theirs.into_parts();
        parts.headers.insert("host", http::HeaderValue::from_static("api.example.com"));
        let keys_token = token;
        let v = if keys_token {
            // Temporary credentials: valid only with their token.
            let p = Principal::user("arn:aws:iam::123456789012:user/interop", "AIDAINTEROP");
            let keys = StaticKeys::new().with_session_key(AKID, SECRET, TOKEN, p, vector_now() + std::time::Duration::from_secs(3600));
            Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap()
        } else {
            verifier()
        };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let verified = rt.block_on(v.verify(&parts, &body, vector_now()));
        prop_assert!(verified.is_ok(), "{:?} for {}", verified.err(), uri);
    }
}
