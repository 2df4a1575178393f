//! A real axum app on a loopback port: a signed request is accepted and the extractor returns
//! the principal; an unsigned one gets API Gateway's 403.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::time::SystemTime;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::*;
use tower_sigv4::{
    Payload, Principal, StaticKeys, SystemClock, Verifier, VerifierConfig, VerifySigV4Layer,
};

#[tokio::test]
async fn signed_request_reaches_the_handler_with_its_principal() {
    let keys = StaticKeys::new().with_key(
        AKID,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAALICE")
            .with_tag("team", "blue"),
    );
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap();
    let app = Router::new()
        .route(
            "/whoami",
            get(|p: Principal| async move { format!("{} {}", p.arn(), p.tags()["team"]) }),
        )
        .route(
            "/maybe",
            get(|p: Option<Principal>| async move { format!("{}", p.is_some()) }),
        )
        .layer(VerifySigV4Layer::new(verifier.clone()).with_clock(SystemClock::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Sign "now" with the verifier's own canonical request (the vectors prove it separately).
    let date = time::OffsetDateTime::from(
        SystemTime::UNIX_EPOCH + SystemTime::UNIX_EPOCH.elapsed().unwrap(),
    );
    let amz = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        date.hour(),
        date.minute(),
        date.second()
    );
    let host = addr.to_string();
    let zero = "0".repeat(64);
    let build = |sig: &str| {
        http::Request::get(format!("http://{host}/whoami?x=1"))
            .header("host", &host)
            .header("x-amz-date", &amz)
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential={AKID}/{}/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}", &amz[..8]),
            )
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let (parts, _) = build(&zero).into_parts();
    let checked = verifier
        .check(
            &parts,
            SystemTime::UNIX_EPOCH + SystemTime::UNIX_EPOCH.elapsed().unwrap(),
        )
        .unwrap();
    let sts = checked.string_to_sign(Payload::Bytes(b""));
    let mut k = hmac(format!("AWS4{SECRET}").as_bytes(), &amz.as_bytes()[..8]);
    for part in ["us-east-1", "execute-api", "aws4_request"] {
        k = hmac(&k, part.as_bytes());
    }
    let sig = hex::encode(hmac(&k, sts.as_bytes()));

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let res = client.request(build(&sig)).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "arn:aws:iam::123456789012:user/alice blue");

    let unsigned = http::Request::get(format!("http://{host}/whoami"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = client.request(unsigned).await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["x-amzn-ErrorType"],
        "MissingAuthenticationTokenException"
    );
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
    server.abort();
}
