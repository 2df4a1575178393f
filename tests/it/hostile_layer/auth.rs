//! Authentication edges: security tokens on long-term keys, presigned URLs without
//! `X-Amz-Expires`, routing by credential, and `aws:SourceIp` through `X-Forwarded-For`.

use std::net::SocketAddr;

use http::request::Parts;
use http::HeaderValue;
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::{credential_service, ConnectionInfo, IamAuthorizer, RejectionKind};

use super::*;

#[tokio::test]
async fn a_long_term_key_with_any_security_token_is_refused() {
    let v = verifier(config());
    let signed_token = Req::get("/items")
        .signed("x-amz-security-token", "some-token")
        .sign(&v, b"", TestBody::empty());
    let unsigned_token = Req::get("/items")
        .unsigned("x-amz-security-token", "some-token")
        .sign(&v, b"", TestBody::empty());
    let presigned_token = presigned(
        &v,
        "execute-api",
        "/items",
        "&X-Amz-Expires=60&X-Amz-Security-Token=some-token",
    );
    // A presigned URL with the token beside it as a header.
    let mut presigned_header_token = presigned(&v, "execute-api", "/items", "&X-Amz-Expires=60");
    presigned_header_token.headers_mut().insert(
        "x-amz-security-token",
        http::HeaderValue::from_static("some-token"),
    );
    for req in [
        signed_token,
        unsigned_token,
        presigned_token,
        presigned_header_token,
    ] {
        let seen = Seen::new();
        let a = serve(layer(&v), seen.clone(), req).await;
        assert_rejected(
            &a,
            403,
            "AccessDeniedException",
            r#"{"message":"The security token included in the request is invalid."}"#,
        );
        assert_eq!(a.rejection.unwrap().kind(), RejectionKind::InvalidToken);
        assert_eq!(seen.calls(), 0);
    }
    // The same requests without the token pass.
    let seen = Seen::new();
    let req = Req::get("/items").sign(&v, b"", TestBody::empty());
    assert_passed(&serve(layer(&v), seen.clone(), req).await, &seen);
}

#[tokio::test]
async fn temporary_keys_with_their_token_pass() {
    let v = verifier(config());
    let signed = Req::get("/items")
        .akid("ASIATEMP")
        .signed("x-amz-security-token", "the-token")
        .sign(&v, b"", TestBody::empty());
    let req = Request::get(format!(
        "http://api.example.com/items?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIATEMP%2F20150830%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-Security-Token=the-token&X-Amz-SignedHeaders=host&X-Amz-Signature={ZERO_SIG}"
    ))
    .header("host", "api.example.com")
    .body(TestBody::empty())
    .unwrap();
    let presigned = support::sign(&v, req, b"", SECRET, vector_now());
    for req in [signed, presigned] {
        let seen = Seen::new();
        let a = serve(layer(&v), seen.clone(), req).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(
            seen.principal().as_deref(),
            Some("arn:aws:iam::123456789012:user/temp")
        );
    }
    // Another token: invalid.
    let req = Req::get("/items")
        .akid("ASIATEMP")
        .signed("x-amz-security-token", "other-token")
        .sign(&v, b"", TestBody::empty());
    let a = serve(layer(&v), Seen::new(), req).await;
    assert_rejected(
        &a,
        403,
        "AccessDeniedException",
        r#"{"message":"The security token included in the request is invalid."}"#,
    );
}

/// `layer` with its clock `offset` seconds from the vectors' time.
fn at(v: &Verifier, offset: i64) -> VerifySigV4Layer {
    let now = if offset >= 0 {
        vector_now() + Duration::from_secs(offset.unsigned_abs())
    } else {
        vector_now() - Duration::from_secs(offset.unsigned_abs())
    };
    VerifySigV4Layer::new(v.clone()).with_clock(FixedClock::new(now))
}

#[tokio::test]
async fn presigned_without_expires_lives_within_the_clock_skew_window() {
    let v = verifier(config());
    let req = || presigned(&v, "execute-api", "/items", "");
    for offset in [0, 300, -300] {
        let seen = Seen::new();
        let a = serve(at(&v, offset), seen.clone(), req()).await;
        assert_passed(&a, &seen);
    }
    let a = serve(at(&v, 360), Seen::new(), req()).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T124200Z - 5 min.)"}"#,
    );
    let a = serve(at(&v, -360), Seen::new(), req()).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T123000Z + 5 min.)"}"#,
    );
}

#[tokio::test]
async fn a_present_expires_keeps_its_rules() {
    let v = verifier(config());
    for (expires, body) in [
        (
            "0",
            r#"{"message":"X-Amz-Expires must be a positive integer"}"#,
        ),
        (
            "abc",
            r#"{"message":"X-Amz-Expires must be a positive integer"}"#,
        ),
        (
            "604801",
            r#"{"message":"X-Amz-Expires must be less than a week (in seconds) that is 604800"}"#,
        ),
    ] {
        let req = Request::get(format!(
            "http://api.example.com/items?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AKID}%2F20150830%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature={ZERO_SIG}"
        ))
        .header("host", "api.example.com")
        .body(TestBody::empty())
        .unwrap();
        let a = serve(layer(&v), Seen::new(), req).await;
        assert_rejected(&a, 403, "IncompleteSignatureException", body);
    }
    // A week exactly is allowed.
    let req = presigned(&v, "execute-api", "/items", "&X-Amz-Expires=604800");
    let seen = Seen::new();
    assert_passed(&serve(layer(&v), seen.clone(), req).await, &seen);
    // An expiry shorter than the skew window is strict (row 15).
    let req = presigned(&v, "execute-api", "/items", "&X-Amz-Expires=60");
    let a = serve(at(&v, 61), Seen::new(), req).await;
    assert_rejected(
        &a,
        403,
        "AccessDeniedException",
        r#"{"message":"Request has expired"}"#,
    );
}

#[tokio::test]
async fn s3_requires_expires() {
    let v = verifier(s3_like_api_gateway());
    let req = Request::get(format!(
        "http://api.example.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AKID}%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature={ZERO_SIG}"
    ))
    .header("host", "api.example.com")
    .body(TestBody::empty())
    .unwrap();
    let a = serve(layer(&v), Seen::new(), req).await;
    assert_rejected(
        &a,
        403,
        "IncompleteSignatureException",
        r#"{"message":"AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters."}"#,
    );
    let req = presigned(&v, "s3", "/b/k", "&X-Amz-Expires=60");
    let seen = Seen::new();
    assert_passed(&serve(layer(&v), seen.clone(), req).await, &seen);
}

// ---------------------------------------------------------------------------------------------
// Routing by credential agrees with the verifier.

fn parts_with(target: &str, authorizations: &[&str]) -> Parts {
    let mut b = Request::get(format!("http://api.example.com{target}"))
        .header("host", "api.example.com")
        .header("x-amz-date", "20150830T123600Z");
    for value in authorizations {
        b = b.header("authorization", *value);
    }
    b.body(()).unwrap().into_parts().0
}

fn credential(service: &str) -> String {
    format!("Credential={AKID}/20150830/us-east-1/{service}/aws4_request")
}

#[test]
fn credential_service_agrees_with_the_verifier() {
    let mut config = config();
    config.services.push("sts".to_owned());
    let v = verifier(config);
    let sig = format!("SignedHeaders=host;x-amz-date, Signature={ZERO_SIG}");
    let header = |rest: String| format!("AWS4-HMAC-SHA256 {rest}");
    let query = |q: &str| {
        format!("/?X-Amz-Algorithm=AWS4-HMAC-SHA256{q}&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature={ZERO_SIG}")
    };
    let cred_q =
        |s: &str| format!("&X-Amz-Credential={AKID}%2F20150830%2Fus-east-1%2F{s}%2Faws4_request");
    let (sts, api) = (credential("sts"), credential("execute-api"));
    let only = |auth: String| parts_with("/", &[&auth]);
    let cases: Vec<(Parts, Option<&str>, &str)> = vec![
        (only(header(format!("{sts}, {sig}"))), Some("sts"), ""),
        (only(header(format!("{api}, {sig}"))), Some("execute-api"), ""),
        (parts_with(&query(&cred_q("sts")), &[]), Some("sts"), ""),
        // A look-alike inside another value is not the credential.
        (
            only(header(format!("{api}, {sig}, X-Route={sts}"))),
            Some("execute-api"),
            "",
        ),
        (
            only(header(format!("{sts}, {api}, {sig}"))),
            None,
            "Duplicate parameter 'Credential' in the request's authentication.",
        ),
        (
            only(header(format!("{sig}, X-Route={sts}"))),
            None,
            "Authorization header requires 'Credential' parameter.",
        ),
        (
            only(header(format!(
                "SignedHeaders=host;{sts};x-amz-date, Signature={ZERO_SIG}"
            ))),
            None,
            "Authorization header requires 'Credential' parameter.",
        ),
        (
            only(header(format!("{}, {sig}", sts.replace("Credential", "credential")))),
            None,
            "Authorization header requires 'Credential' parameter.",
        ),
        (
            parts_with(
                "/",
                &[
                    &header(format!("{sts}, {sig}")),
                    &header(format!("{api}, {sig}")),
                ],
            ),
            None,
            "Duplicate parameter 'Authorization' in the request's authentication.",
        ),
        (
            parts_with(
                &query(&format!("{}{}", cred_q("sts"), cred_q("execute-api"))),
                &[],
            ),
            None,
            "Duplicate parameter 'X-Amz-Credential' in the request's authentication.",
        ),
        (
            parts_with(&query(&cred_q("sts")), &[&header(format!("{api}, {sig}"))]),
            None,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified",
        ),
    ];
    for (i, (parts, want, refusal)) in cases.iter().enumerate() {
        let routed = credential_service(parts);
        assert_eq!(routed.as_deref(), *want, "case {i}");
        match v.check(parts, vector_now()) {
            Ok(checked) => assert_eq!(Some(checked.service()), *want, "case {i}"),
            Err(rejection) => {
                assert_eq!(*want, None, "case {i}: {}", rejection.message());
                assert!(
                    rejection.message().starts_with(refusal),
                    "case {i}: {}",
                    rejection.message()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// aws:SourceIp through X-Forwarded-For.

fn source_ip_policy() -> IamAuthorizer {
    let api = ApiContext::new("us-east-1", "123456789012", "apiid");
    let resource = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
            {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
             "Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
        PolicyKind::Resource,
        Some(&api),
    )
    .unwrap();
    IamAuthorizer::new(api, "prod")
        .with_resource_policy(resource)
        .with_trusted_proxies(vec!["127.0.0.1/32".parse().unwrap()])
}

async fn from(policy: IamAuthorizer, peer: &str, forwarded_for: &[&str]) -> (Answer, Arc<Seen>) {
    let v = verifier(config());
    let mut req = Req::get("/items").sign(&v, b"", TestBody::empty());
    for value in forwarded_for {
        req.headers_mut()
            .append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
    }
    let peer: SocketAddr = peer.parse().unwrap();
    req.extensions_mut()
        .insert(ConnectionInfo::new(peer, false));
    let seen = Seen::new();
    let a = serve(layer(&v).with_policy(policy), seen.clone(), req).await;
    (a, seen)
}

#[tokio::test]
async fn source_ip_walks_forwarded_for_from_trusted_proxies_only() {
    for (peer, forwarded_for, allowed) in [
        // The client 10.1.2.3 through the trusted proxy.
        ("127.0.0.1:5555", &["10.1.2.3"][..], true),
        // The right-most untrusted entry is the caller: 203.0.113.9.
        ("127.0.0.1:5555", &["10.1.2.3, 203.0.113.9"][..], false),
        ("127.0.0.1:5555", &["10.1.2.3", "203.0.113.9"][..], false),
        // The walk stops at garbage: the trusted peer itself is the answer.
        ("127.0.0.1:5555", &["10.1.2.3, garbage"][..], false),
        ("127.0.0.1:5555", &["10.1.2.3, 127.0.0.1"][..], true),
        // An untrusted peer's header is ignored, both ways.
        ("198.51.100.7:5555", &["10.1.2.3"][..], false),
        ("10.9.9.9:5555", &["203.0.113.9"][..], true),
        // No header at all: the peer.
        ("127.0.0.1:5555", &[][..], false),
    ] {
        let (a, seen) = from(source_ip_policy(), peer, forwarded_for).await;
        if allowed {
            assert_passed(&a, &seen);
        } else {
            assert_rejected(
                &a,
                403,
                "AccessDeniedException",
                r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/items with an explicit deny"}"#,
            );
            assert_eq!(seen.calls(), 0, "{peer} {forwarded_for:?}");
        }
    }
}

#[tokio::test]
async fn a_trusted_proxy_seen_as_an_ipv4_mapped_address_is_still_trusted() {
    // A dual-stack listener ([::]) sees IPv4 peers as ::ffff:a.b.c.d. The proxy 10.0.0.1 sits
    // inside the allowed range and forwards for 203.0.113.9, who must be denied; judged as
    // the proxy, the caller is let in.
    let proxy_in_range =
        || source_ip_policy().with_trusted_proxies(vec!["10.0.0.1/32".parse().unwrap()]);
    let (a, seen) = from(proxy_in_range(), "[::ffff:10.0.0.1]:5555", &["203.0.113.9"]).await;
    assert_rejected(
        &a,
        403,
        "AccessDeniedException",
        r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/items with an explicit deny"}"#,
    );
    assert_eq!(seen.calls(), 0);
    // A trusted hop written as a mapped address in the header is skipped like any trusted hop.
    let (a, seen) = from(
        proxy_in_range(),
        "10.0.0.1:5555",
        &["203.0.113.9, ::ffff:10.0.0.1"],
    )
    .await;
    assert_rejected(
        &a,
        403,
        "AccessDeniedException",
        r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/items with an explicit deny"}"#,
    );
    assert_eq!(seen.calls(), 0);
    // And the other way: the client 10.1.2.3 behind the mapped trusted proxy 127.0.0.1.
    let (a, seen) = from(source_ip_policy(), "[::ffff:127.0.0.1]:5555", &["10.1.2.3"]).await;
    assert_passed(&a, &seen);
}
