//! One test per rejection path of the layer: exact status, `x-amzn-ErrorType` and message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use support::*;
use tower::{service_fn, Layer, ServiceExt};
use tower_sigv4::verify::RequestBody;
use tower_sigv4::{
    provide_key_fn, FixedClock, KeyError, MismatchDetail, PolicyDecision, PolicyRequest, Principal,
    Rejection, StaticKeys, UnsignedPayload, Verifier, VerifierConfig, VerifySigV4Layer,
};

fn keys() -> StaticKeys {
    StaticKeys::new()
        .with_key(
            AKID,
            SECRET,
            Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAALICE"),
        )
        .with_inactive_key(
            "AKIDINACTIVE",
            SECRET,
            Principal::user("arn:aws:iam::123456789012:user/old", "AIDAOLD"),
        )
        .with_session_key(
            "ASIATEMP",
            SECRET,
            "the-token",
            Principal::user("arn:aws:iam::123456789012:user/temp", "AIDATEMP"),
            vector_now() + Duration::from_secs(60),
        )
}

fn config() -> VerifierConfig {
    VerifierConfig::new("us-east-1", "execute-api")
}

/// Fills in a correct signature for `req` (see `support::sign`).
fn sign(v: &Verifier, req: Request<Bytes>) -> Request<Bytes> {
    let body = req.body().clone();
    support::sign(v, req, &body, SECRET, vector_now())
}

fn header_request(akid: &str, extra: &[(&str, &str)], body: &str) -> Request<Bytes> {
    let mut b = Request::post("http://api.example.com/prod/items?b=2&a=1")
        .header("host", "api.example.com")
        .header("x-amz-date", "20150830T123600Z")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={akid}/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature={ZERO_SIG}"
            ),
        );
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    b.body(Bytes::from(body.to_owned())).unwrap()
}

fn presigned_request(expires: &str, extra_query: &str) -> Request<Bytes> {
    Request::get(format!(
        "http://api.example.com/prod/items?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AKID}%2F20150830%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host{extra_query}&X-Amz-Signature={ZERO_SIG}"
    ))
    .header("host", "api.example.com")
    .body(Bytes::new())
    .unwrap()
}

struct Answer {
    status: StatusCode,
    error_type: Option<String>,
    content_type: Option<String>,
    body: String,
    rejection: Option<Rejection>,
}

impl Answer {
    fn message(&self) -> String {
        let v: serde_json::Value = serde_json::from_str(&self.body).expect("json body");
        v.get("message")
            .or_else(|| v.get("Message"))
            .and_then(|m| m.as_str())
            .unwrap()
            .to_owned()
    }
}

async fn call_with(layer: VerifySigV4Layer, req: Request<Bytes>, now_offset: i64) -> Answer {
    let clock = if now_offset >= 0 {
        FixedClock::new(vector_now() + Duration::from_secs(now_offset as u64))
    } else {
        FixedClock::new(vector_now() - Duration::from_secs((-now_offset) as u64))
    };
    let svc = layer.with_clock(clock).layer(service_fn(
        |req: Request<RequestBody<Full<Bytes>>>| async move {
            let who = req
                .extensions()
                .get::<Principal>()
                .unwrap()
                .arn()
                .to_owned();
            // A body that fails the layer's checks ends with an error; like a proxy, answer
            // 502 — the layer replaces it with its rejection.
            let Ok(body) = req.into_body().collect().await else {
                let mut bad_gateway = Response::new(Full::new(Bytes::from("body failed")));
                *bad_gateway.status_mut() = StatusCode::BAD_GATEWAY;
                return Ok::<_, Infallible>(bad_gateway);
            };
            let body = body.to_bytes();
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                "{who} {}",
                String::from_utf8_lossy(&body)
            )))))
        },
    ));
    let req = req.map(Full::new);
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status();
    let error_type = res
        .headers()
        .get("x-amzn-ErrorType")
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let rejection = res.extensions().get::<Rejection>().cloned();
    if status != StatusCode::OK {
        assert!(res.headers().get("x-amzn-RequestId").is_some());
    }
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Answer {
        status,
        error_type,
        content_type,
        body,
        rejection,
    }
}

fn layer_with(config: VerifierConfig) -> (Verifier, VerifySigV4Layer) {
    let v = Verifier::new(config, keys()).unwrap();
    (v.clone(), VerifySigV4Layer::new(v))
}

async fn call(req: Request<Bytes>) -> Answer {
    let (_, layer) = layer_with(config());
    call_with(layer, req, 0).await
}

async fn call_signed(req: Request<Bytes>) -> Answer {
    let (v, layer) = layer_with(config());
    call_with(layer, sign(&v, req), 0).await
}

fn assert_rejected(a: &Answer, status: u16, error_type: &str, message: &str) {
    assert_eq!(a.status.as_u16(), status, "body: {}", a.body);
    assert_eq!(a.error_type.as_deref(), Some(error_type));
    assert_eq!(a.message(), message);
    assert!(
        a.rejection.is_some(),
        "rejection in the response extensions"
    );
}

#[tokio::test]
async fn accepted_header_request_reaches_the_service_with_the_principal_and_body() {
    let a = call_signed(header_request(AKID, &[], "hello")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, "arn:aws:iam::123456789012:user/alice hello");
}

#[tokio::test]
async fn accepted_presigned_request() {
    let a = call_signed(presigned_request("60", "")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn missing_authentication() {
    let req = Request::get("http://api.example.com/")
        .header("host", "api.example.com")
        .body(Bytes::new())
        .unwrap();
    let a = call(req).await;
    assert_rejected(
        &a,
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
    assert_eq!(a.content_type.as_deref(), Some("application/json"));
    assert_eq!(a.body, r#"{"message":"Missing Authentication Token"}"#);
}

#[tokio::test]
async fn both_mechanisms() {
    let mut req = presigned_request("60", "");
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_static("AWS4-HMAC-SHA256 x=y"),
    );
    let a = call(req).await;
    assert_rejected(&a, 403, "IncompleteSignatureException", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified");
}

#[tokio::test]
async fn algorithm_with_equal_sign() {
    let mut req = header_request(AKID, &[], "");
    req.headers_mut()
        .insert("authorization", HeaderValue::from_static("Credential=abc"));
    let a = call(req).await;
    assert_rejected(&a, 403, "IncompleteSignatureException", "Authorization header must begin with the algorithm name, which cannot include an equal-sign");
}

#[tokio::test]
async fn element_without_equal_sign() {
    let mut req = header_request(AKID, &[], "");
    req.headers_mut()
        .insert("authorization", HeaderValue::from_static("Bearer abc"));
    let a = call(req).await;
    // base64(SHA-256("Bearer abc")), as `openssl dgst -sha256 -binary | base64` gives it
    assert_rejected(&a, 403, "IncompleteSignatureException", "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): 'w1Xc6WwWEogNEZQP/dkBTThsJT4MNlKmzQanIm970rY='.");
}

#[tokio::test]
async fn missing_parts_are_all_named() {
    let req = Request::get("http://api.example.com/")
        .header("host", "api.example.com")
        .header("authorization", "AWS4-HMAC-SHA256 SignedHeaders=host")
        .body(Bytes::new())
        .unwrap();
    let a = call(req).await;
    assert_rejected(&a, 403, "IncompleteSignatureException", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=T6TlTF0tP7OEirEb+CC+gAdhBAW19reUS2EXKW3XV6M=");
}

#[tokio::test]
async fn missing_query_parameter() {
    let req = Request::get(format!(
        "http://api.example.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AKID}%2F20150830%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
    ))
    .header("host", "api.example.com")
    .body(Bytes::new())
    .unwrap();
    let a = call(req).await;
    assert_rejected(&a, 403, "IncompleteSignatureException", "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.");
}

#[tokio::test]
async fn unsupported_algorithm() {
    let mut req = header_request(AKID, &[], "");
    let a = req.headers()["authorization"]
        .to_str()
        .unwrap()
        .replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512");
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&a).unwrap());
    let a = call(req).await;
    assert_rejected(
        &a,
        403,
        "IncompleteSignatureException",
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'.",
    );
}

#[tokio::test]
async fn duplicate_parameter() {
    let mut req = header_request(AKID, &[], "");
    let a = format!(
        "{}, SignedHeaders=host",
        req.headers()["authorization"].to_str().unwrap()
    );
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&a).unwrap());
    let a = call(req).await;
    assert_rejected(
        &a,
        403,
        "IncompleteSignatureException",
        "Duplicate parameter 'SignedHeaders' in the request's authentication.",
    );
}

#[tokio::test]
async fn expires_out_of_range() {
    let a = call(presigned_request("604801", "")).await;
    assert_rejected(
        &a,
        403,
        "IncompleteSignatureException",
        "X-Amz-Expires must be less than a week (in seconds) that is 604800",
    );
    let a = call(presigned_request("0", "")).await;
    assert_rejected(
        &a,
        403,
        "IncompleteSignatureException",
        "X-Amz-Expires must be a positive integer",
    );
    let a = call(presigned_request("-5", "")).await;
    assert_rejected(
        &a,
        403,
        "IncompleteSignatureException",
        "X-Amz-Expires must be a positive integer",
    );
}

#[tokio::test]
async fn host_not_signed() {
    let mut req = header_request(AKID, &[], "");
    let a = req.headers()["authorization"]
        .to_str()
        .unwrap()
        .replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&a).unwrap());
    let a = call(req).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
}

#[tokio::test]
async fn malformed_date() {
    let mut req = header_request(AKID, &[], "");
    req.headers_mut().insert(
        "x-amz-date",
        HeaderValue::from_static("2015-08-30T12:36:00Z"),
    );
    let a = call(req).await;
    assert_rejected(&a, 403, "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601");
}

#[tokio::test]
async fn too_old_and_too_new() {
    let (v, layer) = layer_with(config());
    let req = sign(&v, header_request(AKID, &[], ""));
    let a = call_with(layer.clone(), req.clone(), 301).await;
    assert_rejected(&a, 403, "InvalidSignatureException", "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)");
    let a = call_with(layer.clone(), req.clone(), -301).await;
    assert_rejected(&a, 403, "InvalidSignatureException", "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T123059Z + 5 min.)");
    // Exactly at the edge of the window is still accepted.
    assert_eq!(call_with(layer, req, 300).await.status, StatusCode::OK);
}

#[tokio::test]
async fn configured_window_shows_in_the_message() {
    let (v, layer) = layer_with(config().with_clock_skew(Duration::from_secs(90)));
    let req = sign(&v, header_request(AKID, &[], ""));
    let a = call_with(layer, req, 91).await;
    assert_rejected(&a, 403, "InvalidSignatureException", "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T123731Z - 90 sec.)");
}

#[tokio::test]
async fn credential_without_five_parts() {
    let mut req = header_request(AKID, &[], "");
    let a = req.headers()["authorization"]
        .to_str()
        .unwrap()
        .replace("/aws4_request", "");
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&a).unwrap());
    let a = call(req).await;
    assert_rejected(&a, 403, "IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/execute-api'");
}

#[tokio::test]
async fn every_scope_fault_in_order() {
    let mut req = header_request(AKID, &[], "");
    let a = req.headers()["authorization"].to_str().unwrap().replace(
        "20150830/us-east-1/execute-api/aws4_request",
        "20150829/eu-west-1/s3/aws5_request",
    );
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&a).unwrap());
    let a = call(req).await;
    assert_rejected(&a, 403, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'. Credential should be scoped to correct service: 'execute-api'. Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != '20150830', from '20150830T123600Z'.");
}

#[tokio::test]
async fn presigned_url_expired() {
    let (v, layer) = layer_with(config());
    let req = sign(&v, presigned_request("60", ""));
    assert_eq!(
        call_with(layer.clone(), req.clone(), 60).await.status,
        StatusCode::OK
    );
    let a = call_with(layer, req, 61).await;
    assert_rejected(&a, 403, "AccessDeniedException", "Request has expired");
}

#[tokio::test]
async fn presigned_url_from_the_future() {
    let (v, layer) = layer_with(config());
    let req = sign(&v, presigned_request("60", ""));
    let a = call_with(layer, req, -301).await;
    assert_eq!(
        a.rejection.unwrap().kind(),
        tower_sigv4::RejectionKind::RequestTooNew
    );
}

#[tokio::test]
async fn unknown_and_inactive_keys() {
    for akid in ["AKIDUNKNOWN", "AKIDINACTIVE"] {
        let a = call(header_request(akid, &[], "")).await;
        assert_rejected(
            &a,
            403,
            "AccessDeniedException",
            "The security token included in the request is invalid.",
        );
    }
}

#[tokio::test]
async fn session_token_missing_wrong_expired() {
    let (v, layer) = layer_with(config());
    // Missing token.
    let req = sign(&v, header_request("ASIATEMP", &[], ""));
    let a = call_with(layer.clone(), req, 0).await;
    assert_rejected(
        &a,
        403,
        "AccessDeniedException",
        "The security token included in the request is invalid.",
    );
    // Wrong token (the signature is wrong too: token faults outrank it).
    let req = header_request("ASIATEMP", &[("x-amz-security-token", "other")], "");
    let a = call_with(layer.clone(), req, 0).await;
    assert_rejected(
        &a,
        403,
        "AccessDeniedException",
        "The security token included in the request is invalid.",
    );
    // Right token, unsigned (added after signing): accepted.
    let req = sign(
        &v,
        header_request("ASIATEMP", &[("x-amz-security-token", "the-token")], ""),
    );
    assert_eq!(
        call_with(layer.clone(), req.clone(), 0).await.status,
        StatusCode::OK
    );
    // Expired.
    let a = call_with(layer, req, 61).await;
    assert_rejected(
        &a,
        403,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    );
}

#[tokio::test]
async fn signature_mismatch() {
    let a = call(header_request(AKID, &[], "")).await;
    assert_rejected(&a, 403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
}

#[tokio::test]
async fn signature_mismatch_with_debug_detail() {
    let (_, layer) = layer_with(config().with_mismatch_detail(MismatchDetail::CanonicalRequest));
    let a = call_with(layer, header_request(AKID, &[], ""), 0).await;
    let expected = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/prod/items\na=1&b=2\nhost:api.example.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/execute-api/aws4_request\n";
    assert!(a.message().starts_with(expected), "{}", a.message());
}

#[tokio::test]
async fn payload_hash_mismatch_and_unsigned_payload() {
    let wrong = "0000000000000000000000000000000000000000000000000000000000000001";
    let mut req = header_request(AKID, &[("x-amz-content-sha256", wrong)], "hello");
    let a = req.headers()["authorization"]
        .to_str()
        .unwrap()
        .replace("host;x-amz-date", "host;x-amz-content-sha256;x-amz-date");
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&a).unwrap());
    let a = call_signed(req).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );

    let unsigned = || {
        let mut req = header_request(
            AKID,
            &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
            "streamed",
        );
        let a = req.headers()["authorization"]
            .to_str()
            .unwrap()
            .replace("host;x-amz-date", "host;x-amz-content-sha256;x-amz-date");
        req.headers_mut()
            .insert("authorization", HeaderValue::from_str(&a).unwrap());
        req
    };
    let a = call_signed(unsigned()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "arn:aws:iam::123456789012:user/alice streamed");
    let (v, layer) = layer_with(config().with_unsigned_payload(UnsignedPayload::Rejected));
    let a = call_with(layer, sign(&v, unsigned()), 0).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let (v, layer) = layer_with(config().with_max_body_bytes(4));
    let req = sign(&v, header_request(AKID, &[], "1234"));
    assert_eq!(
        call_with(layer.clone(), req, 0).await.status,
        StatusCode::OK
    );
    let req = header_request(AKID, &[], "12345");
    let a = call_with(layer, req, 0).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.content_type.as_deref(), Some("text/plain"));
    assert_eq!(a.body, "HTTP content length exceeded 4 bytes.");
}

#[tokio::test]
async fn provider_failure_is_500_not_403() {
    let provider = provide_key_fn(|_req| async { Err(KeyError::unavailable("database down")) });
    let v = Verifier::new(config(), provider).unwrap();
    let a = call_with(VerifySigV4Layer::new(v), header_request(AKID, &[], ""), 0).await;
    assert_rejected(
        &a,
        500,
        "InternalServerErrorException",
        "Internal server error",
    );
}

#[tokio::test]
async fn policy_hook_denies_with_its_message_and_capital_m() {
    let (v, layer) = layer_with(config());
    let layer = layer.with_policy(|req: &PolicyRequest<'_>| {
        PolicyDecision::deny(format!(
            "User: {} is not authorized to access this resource",
            req.principal().arn()
        ))
    });
    let a = call_with(layer, sign(&v, header_request(AKID, &[], "")), 0).await;
    assert_rejected(
        &a,
        403,
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to access this resource",
    );
    assert!(a.body.starts_with(r#"{"Message":"#));
}

#[tokio::test]
async fn async_policy_hook_allows() {
    let (v, layer) = layer_with(config());
    let layer = layer.with_policy(|req: &PolicyRequest<'_>| {
        let ok = req.principal().account() == "123456789012";
        async move {
            if ok {
                PolicyDecision::Allow
            } else {
                PolicyDecision::deny("no")
            }
        }
    });
    let a = call_with(layer, sign(&v, header_request(AKID, &[], "x")), 0).await;
    assert_eq!(a.status, StatusCode::OK);
}

#[test]
fn config_mistakes_are_errors_not_panics() {
    let mut c = config();
    c.regions.clear();
    assert_eq!(
        Verifier::new(c, keys()).unwrap_err().to_string(),
        "invalid configuration: regions must be a non-empty list of non-empty names"
    );
}

#[test]
fn secrets_never_print() {
    let k = tower_sigv4::SecretKey::from(SECRET);
    assert_eq!(format!("{k:?}"), "SecretKey(***)");
    let dbg = format!("{:?}", keys());
    assert!(!dbg.contains("EXAMPLEKEY"), "{dbg}");
}

#[tokio::test]
async fn forwarded_host_is_trusted_only_when_configured() {
    // Signed for the public host; the proxy forwards to an internal one.
    let signed_for_public = |v: &Verifier| {
        let req = header_request(AKID, &[], "");
        let mut req = sign(v, req);
        req.headers_mut()
            .insert("host", HeaderValue::from_static("internal:8080"));
        req.headers_mut().insert(
            "x-forwarded-host",
            HeaderValue::from_static("api.example.com"),
        );
        req.headers_mut().insert(
            "forwarded",
            HeaderValue::from_static("for=10.0.0.1;host=\"api.example.com\";proto=https"),
        );
        req
    };
    // Default: the Host that arrived is used, so the signature no longer matches.
    let (v, layer) = layer_with(config());
    let a = call_with(layer, signed_for_public(&v), 0).await;
    assert_eq!(
        a.rejection.unwrap().kind(),
        tower_sigv4::RejectionKind::SignatureMismatch
    );
    for trusted in [
        tower_sigv4::ForwardedHost::XForwardedHost,
        tower_sigv4::ForwardedHost::Forwarded,
    ] {
        let (v, layer) = layer_with(config().with_forwarded_host(trusted));
        let a = call_with(layer, signed_for_public(&v), 0).await;
        assert_eq!(a.status, StatusCode::OK, "{trusted:?}: {}", a.body);
    }
}

#[tokio::test]
async fn date_header_in_imf_fixdate_is_accepted() {
    let (v, layer) = layer_with(config());
    let req = Request::get("http://api.example.com/")
        .header("host", "api.example.com")
        .header("date", "Sun, 30 Aug 2015 12:36:00 GMT")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={AKID}/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=date;host, Signature={ZERO_SIG}"),
        )
        .body(Bytes::new())
        .unwrap();
    let checked_sts = {
        let (parts, _) = req.clone().into_parts();
        v.check(&parts, vector_now())
            .unwrap()
            .string_to_sign(tower_sigv4::Payload::Bytes(b""))
    };
    // The string to sign carries the date in basic format.
    assert!(
        checked_sts.starts_with("AWS4-HMAC-SHA256\n20150830T123600Z\n"),
        "{checked_sts}"
    );
    let a = call_with(layer, sign(&v, req), 0).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}
