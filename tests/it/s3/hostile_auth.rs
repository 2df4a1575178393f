//! Hostile header-authenticated requests against the S3 profile, steps 1–10 of `s3.md` §7:
//! the mechanism, the algorithm, the components, the date, the credential (each check, in
//! order, with S3's exact texts), `x-amz-content-sha256`, the clock, the key, the signature
//! and the signed `x-amz-*` headers; and the shape of S3's answers (HEAD, `Connection`).

use std::sync::Arc;

use http::header::AUTHORIZATION;
use tower_sigv4::{
    Credentials, MismatchDetail, Principal, Signer, SigningSettings, StaticKeys, Verifier,
};

use super::harness::*;
use super::hostile_support::*;

const URI: &str = "http://s3.local/bucket/key";
const UNSUPPORTED: &str =
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";
const NO_DATE: &str = "AWS authentication requires a valid Date or x-amz-date header";
const THREE: &str = "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.";
const SHA256_VALUES: &str = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.";
const SIGNED_HEADERS: &str = "host;x-amz-content-sha256;x-amz-date";

/// A `PUT` of `Hello world` with the harness's date and hash, `headers`, and no
/// `Authorization` yet.
fn bare(headers: &[(&str, &str)]) -> http::request::Parts {
    let mut all = vec![
        ("content-length", "11"),
        ("x-amz-date", DATE),
        ("x-amz-content-sha256", HELLO_SHA256),
    ];
    all.extend_from_slice(headers);
    head("PUT", URI, &all)
}

/// [`bare`] with `Authorization: value`.
fn with_authorization(value: &str) -> http::request::Parts {
    let mut parts = bare(&[]);
    set(&mut parts, "authorization", value);
    parts
}

async fn hello(parts: http::request::Parts) -> (Answer, Arc<Seen>) {
    send(&verifier(), parts, HELLO.to_vec()).await
}

#[tokio::test]
async fn one_mechanism_or_none() {
    let good = authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS);
    let message = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified";
    for query in [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1369353600&Signature=abc",
    ] {
        let mut parts = head("PUT", &format!("{URI}?{query}"), &[]);
        set(&mut parts, "authorization", &good);
        assert_refused(
            &hello(parts).await,
            400,
            "InvalidArgument",
            message,
            &[("ArgumentName", "Authorization"), ("ArgumentValue", &good)],
        );
    }
    // No authentication at all.
    let r = hello(bare(&[])).await;
    assert_refused(&r, 403, "AccessDenied", "Access Denied", &[]);
    // SigV2 query authentication alone.
    let parts = head(
        "GET",
        &format!("{URI}?AWSAccessKeyId={AKID}&Expires=1369353600&Signature=abc%3D"),
        &[],
    );
    assert_refused(&hello(parts).await, 400, "InvalidRequest", UNSUPPORTED, &[]);
    // Two Authorization headers (no S3 text: the crate's own detail).
    let mut parts = with_authorization(&good);
    append(&mut parts, "authorization", &good);
    assert_refused(
        &hello(parts).await,
        400,
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the Authorization header may be given only once.",
        &[],
    );
}

#[tokio::test]
async fn only_aws4_hmac_sha256() {
    for value in [
        "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=".to_owned(),
        format!("AWS4-ECDSA-P256-SHA256 Credential={AKID}/20130524/s3/aws4_request, SignedHeaders=host, Signature=3045022100"),
        authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS).to_lowercase(),
        format!("AWS4-HMAC-SHA512 Credential={CREDENTIAL}, SignedHeaders=host, Signature={ZEROS}"),
        "Bearer abc".to_owned(),
        format!("AWS4-HMAC-SHA256x Credential={CREDENTIAL}, SignedHeaders=host, Signature={ZEROS}"),
    ] {
        // The algorithm is judged before anything else of the request: no date here.
        let mut parts = head("PUT", URI, &[("content-length", "11")]);
        set(&mut parts, "authorization", &value);
        assert_refused(&hello(parts).await, 400, "InvalidRequest", UNSUPPORTED, &[]);
    }
}

#[tokio::test]
async fn components_missing_malformed_or_duplicated() {
    let malformed = |c: &str| {
        format!("The authorization header is malformed; the authorization component \"{c}\" is malformed.")
    };
    let cases: Vec<(String, String)> = vec![
        ("AWS4-HMAC-SHA256".into(), THREE.into()),
        ("AWS4-HMAC-SHA256 ".into(), THREE.into()),
        (
            format!("AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host"),
            THREE.into(),
        ),
        (
            format!("AWS4-HMAC-SHA256 SignedHeaders=host, Signature={ZEROS}"),
            THREE.into(),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential={CREDENTIAL}, Signature={ZEROS}"),
            THREE.into(),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, Signature={ZEROS}, Credential={CREDENTIAL}"),
            malformed(&format!("Credential={CREDENTIAL}")),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, SignedHeaders=host, Signature={ZEROS}"),
            malformed("SignedHeaders=host"),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, Signature="),
            malformed("Signature="),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, Signature={ZEROS}, Foo=bar"),
            malformed("Foo=bar"),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential {CREDENTIAL}, SignedHeaders=host, Signature={ZEROS}"),
            malformed(&format!("Credential {CREDENTIAL}")),
        ),
    ];
    for (value, message) in cases {
        // Components are judged before the date: none here.
        let mut parts = head(
            "PUT",
            URI,
            &[
                ("content-length", "11"),
                ("x-amz-content-sha256", HELLO_SHA256),
            ],
        );
        set(&mut parts, "authorization", &value);
        assert_refused(
            &hello(parts).await,
            400,
            "AuthorizationHeaderMalformed",
            &message,
            &[],
        );
    }
    // Without spaces after the commas, the three components are fine (the zero signature
    // is what fails).
    let parts = with_authorization(&format!(
        "AWS4-HMAC-SHA256 Credential={CREDENTIAL},SignedHeaders={SIGNED_HEADERS},Signature={ZEROS}"
    ));
    assert_refused(
        &hello(parts).await,
        403,
        "SignatureDoesNotMatch",
        SIGNATURE_MISMATCH,
        &[("AWSAccessKeyId", AKID), ("SignatureProvided", ZEROS)],
    );
}

#[tokio::test]
async fn date_missing_or_garbage() {
    let auth = authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS);
    let mut cases = vec![head(
        "PUT",
        URI,
        &[
            ("content-length", "11"),
            ("x-amz-content-sha256", HELLO_SHA256),
        ],
    )];
    for date in [
        "20130524",
        "2013-05-24T00:00:00Z",
        "20130524T250000Z",
        "20130524T000000",
        "Fri, 24 May 2013 00:00:00 GMT",
        "",
    ] {
        cases.push(head(
            "PUT",
            URI,
            &[
                ("content-length", "11"),
                ("x-amz-content-sha256", HELLO_SHA256),
                ("x-amz-date", date),
            ],
        ));
    }
    cases.push(head(
        "PUT",
        URI,
        &[
            ("content-length", "11"),
            ("x-amz-content-sha256", HELLO_SHA256),
            ("date", "yesterday"),
        ],
    ));
    for mut parts in cases {
        set(&mut parts, "authorization", &auth);
        assert_refused(&hello(parts).await, 403, "AccessDenied", NO_DATE, &[]);
    }
    // The date is judged before the credential: a wrong region does not show.
    let mut parts = head("PUT", URI, &[("content-length", "11")]);
    set(
        &mut parts,
        "authorization",
        &authorization(
            &format!("{AKID}/20130524/eu-west-1/s3/aws4_request"),
            SIGNED_HEADERS,
            ZEROS,
        ),
    );
    assert_refused(&hello(parts).await, 403, "AccessDenied", NO_DATE, &[]);

    // A `Date` header alone dates the request (signed by hand: no signer sends it so).
    let mut parts = head(
        "PUT",
        URI,
        &[
            ("content-length", "11"),
            ("x-amz-content-sha256", HELLO_SHA256),
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
        ],
    );
    set(
        &mut parts,
        "authorization",
        &authorization(CREDENTIAL, "date;host;x-amz-content-sha256", ZEROS),
    );
    sign_by_hand(&mut parts, "20130524");
    let (a, seen) = hello(parts).await;
    assert_passed(&a, &seen, HELLO);
}

#[tokio::test]
async fn credential_checks_in_order_header() {
    for (credential, detail, region) in credential_cases() {
        // The credential is judged before x-amz-content-sha256: none here.
        let mut parts = head(
            "PUT",
            URI,
            &[("content-length", "11"), ("x-amz-date", DATE)],
        );
        set(
            &mut parts,
            "authorization",
            &authorization(&credential, SIGNED_HEADERS, ZEROS),
        );
        let elements: Vec<(&str, &str)> = region.map(|r| ("Region", r)).into_iter().collect();
        assert_refused(
            &hello(parts).await,
            400,
            "AuthorizationHeaderMalformed",
            &format!("The authorization header is malformed; {detail}"),
            &elements,
        );
    }
    let parts = with_authorization(&authorization(
        &format!("{AKID}/20130523/us-east-1/s3/aws4_request"),
        SIGNED_HEADERS,
        ZEROS,
    ));
    assert_refused(
        &hello(parts).await,
        400,
        "AuthorizationHeaderMalformed",
        &format!("The authorization header is malformed; {DATE_DIFFERS}"),
        &[],
    );
}

#[tokio::test]
async fn content_sha256_missing_invalid_or_ecdsa() {
    let auth = authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS);
    let request = |sha: &[&str], date: &str| {
        let mut parts = head(
            "PUT",
            URI,
            &[("content-length", "11"), ("x-amz-date", date)],
        );
        for v in sha {
            append(&mut parts, "x-amz-content-sha256", v);
        }
        set(&mut parts, "authorization", &auth);
        parts
    };
    let missing = "Missing required header for this request: x-amz-content-sha256";
    assert_refused(
        &hello(request(&[], DATE)).await,
        400,
        "InvalidRequest",
        missing,
        &[],
    );
    // Judged before the clock: an hour late (same day) still says the header is missing.
    assert_refused(
        &hello(request(&[], "20130524T010000Z")).await,
        400,
        "InvalidRequest",
        missing,
        &[],
    );
    let hex63 = &HELLO_SHA256[..63];
    let hex65 = format!("{HELLO_SHA256}0");
    let not_hex = "g".repeat(64);
    for value in [
        "unsigned-payload",
        "streaming-aws4-hmac-sha256-payload",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILERS",
        "UNSIGNED_PAYLOAD",
        hex63,
        &hex65,
        &not_hex,
        "",
    ] {
        assert_refused(
            &hello(request(&[value], DATE)).await,
            400,
            "InvalidArgument",
            SHA256_VALUES,
            &[
                ("ArgumentName", "x-amz-content-sha256"),
                ("ArgumentValue", value),
            ],
        );
    }
    // Given twice: both values echoed.
    assert_refused(
        &hello(request(&[HELLO_SHA256, "UNSIGNED-PAYLOAD"], DATE)).await,
        400,
        "InvalidArgument",
        SHA256_VALUES,
        &[
            ("ArgumentName", "x-amz-content-sha256"),
            ("ArgumentValue", &format!("{HELLO_SHA256},UNSIGNED-PAYLOAD")),
        ],
    );
    for value in [
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    ] {
        assert_refused(
            &hello(request(&[value], DATE)).await,
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            &[("Header", "x-amz-content-sha256")],
        );
    }
    // These beat InvalidDigest (a body-describing header, step 11).
    let mut parts = request(&["nope"], DATE);
    set(&mut parts, "content-md5", "not base64");
    assert_refused(
        &hello(parts).await,
        400,
        "InvalidArgument",
        SHA256_VALUES,
        &[
            ("ArgumentName", "x-amz-content-sha256"),
            ("ArgumentValue", "nope"),
        ],
    );
    // An upper-case hash is signed as sent and compared case-insensitively.
    let parts = sign(
        &signer(),
        head("PUT", URI, &[("content-length", "11")]),
        &HELLO_SHA256.to_uppercase(),
        example_time(),
    );
    let (a, seen) = hello(parts).await;
    assert_passed(&a, &seen, HELLO);
}

#[tokio::test]
async fn clock_skew_window_of_fifteen_minutes() {
    for offset in [-900i64, -899, 899, 900] {
        let parts = sign(
            &signer(),
            head("PUT", URI, &[("content-length", "11")]),
            HELLO_SHA256,
            at(offset),
        );
        let (a, seen) = hello(parts).await;
        assert_passed(&a, &seen, HELLO);
    }
    for (offset, request_time) in [(-901i64, "20130523T234459Z"), (901, "20130524T001501Z")] {
        let parts = sign(
            &signer(),
            head("PUT", URI, &[("content-length", "11")]),
            HELLO_SHA256,
            at(offset),
        );
        assert_eq!(parts.headers["x-amz-date"], request_time);
        assert_refused(
            &hello(parts).await,
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            &[
                ("RequestTime", request_time),
                ("ServerTime", "2013-05-24T00:00:00Z"),
                ("MaxAllowedSkewMilliseconds", "900000"),
            ],
        );
    }
    // Judged before the key.
    let stranger = Signer::new(
        Credentials::new("AKIASTRANGER0000000", SECRET),
        "us-east-1",
        "s3",
    )
    .with_settings(SigningSettings::s3());
    let parts = sign(
        &stranger,
        head("PUT", URI, &[("content-length", "11")]),
        HELLO_SHA256,
        at(3600),
    );
    let (a, _) = hello(parts).await;
    assert_eq!(a.element("Code").as_deref(), Some("RequestTimeTooSkewed"));
}

fn keys_with_temporary() -> StaticKeys {
    let principal = || Principal::user(USER, "AIDAS3USER");
    keys()
        .with_inactive_key("AKIAINACTIVE0000000", SECRET, principal())
        .with_session_key(
            "ASIATEMPORARY000000",
            SECRET,
            "token-1",
            principal(),
            at(3600),
        )
        .with_session_key(
            "ASIAEXPIRED00000000",
            SECRET,
            "token-2",
            principal(),
            at(-1),
        )
}

fn signer_of(akid: &str, token: Option<&str>) -> Signer {
    let mut credentials = Credentials::new(akid, SECRET);
    if let Some(t) = token {
        credentials = credentials.with_session_token(t);
    }
    Signer::new(credentials, "us-east-1", "s3").with_settings(SigningSettings::s3())
}

#[tokio::test]
async fn key_refusals() {
    let v = Verifier::new(config(), keys_with_temporary()).unwrap();
    let put = |akid: &str, token: Option<&str>| {
        sign(
            &signer_of(akid, token),
            head("PUT", URI, &[("content-length", "11")]),
            HELLO_SHA256,
            example_time(),
        )
    };
    let no_such_key = "The AWS Access Key Id you provided does not exist in our records.";
    for (akid, token) in [
        ("AKIAUNKNOWN00000000", None),
        ("AKIAINACTIVE0000000", None),
        // A temporary key without its token: S3 says the key does not exist.
        ("ASIATEMPORARY000000", None),
    ] {
        let r = send(&v, put(akid, token), HELLO.to_vec()).await;
        assert_refused(
            &r,
            403,
            "InvalidAccessKeyId",
            no_such_key,
            &[("AWSAccessKeyId", akid)],
        );
    }
    let invalid_token = "The provided token is malformed or otherwise invalid.";
    for (akid, token) in [
        ("ASIATEMPORARY000000", "token-2"),
        // A long-term key sent with a token.
        (AKID, "token-1"),
    ] {
        let r = send(&v, put(akid, Some(token)), HELLO.to_vec()).await;
        // Token-0 (the echo of the token) is omitted.
        assert_refused(&r, 400, "InvalidToken", invalid_token, &[]);
    }
    let r = send(
        &v,
        put("ASIAEXPIRED00000000", Some("token-2")),
        HELLO.to_vec(),
    )
    .await;
    assert_refused(
        &r,
        400,
        "ExpiredToken",
        "The provided token has expired.",
        &[],
    );
    let (a, seen) = send(
        &v,
        put("ASIATEMPORARY000000", Some("token-1")),
        HELLO.to_vec(),
    )
    .await;
    assert_passed(&a, &seen, HELLO);

    // The key is judged before the signature.
    let mut parts = bare(&[]);
    set(
        &mut parts,
        "authorization",
        &authorization(
            "AKIAUNKNOWN00000000/20130524/us-east-1/s3/aws4_request",
            SIGNED_HEADERS,
            "not even hex",
        ),
    );
    assert_refused(
        &send(&v, parts, HELLO.to_vec()).await,
        403,
        "InvalidAccessKeyId",
        no_such_key,
        &[("AWSAccessKeyId", "AKIAUNKNOWN00000000")],
    );
}

#[tokio::test]
async fn signature_mismatch_elements() {
    // The wrong secret.
    let wrong = Signer::new(Credentials::new(AKID, "not the secret"), "us-east-1", "s3")
        .with_settings(SigningSettings::s3());
    let parts = sign(
        &wrong,
        head("PUT", URI, &[("content-length", "11")]),
        HELLO_SHA256,
        example_time(),
    );
    let provided = seed_of(&parts);
    assert_refused(
        &hello(parts).await,
        403,
        "SignatureDoesNotMatch",
        SIGNATURE_MISMATCH,
        &[("AWSAccessKeyId", AKID), ("SignatureProvided", &provided)],
    );
    // A signed header changed on the way.
    let mut parts = put_hello(&[("x-amz-meta-color", "red")]);
    let provided = seed_of(&parts);
    set(&mut parts, "x-amz-meta-color", "blue");
    assert_refused(
        &hello(parts).await,
        403,
        "SignatureDoesNotMatch",
        SIGNATURE_MISMATCH,
        &[("AWSAccessKeyId", AKID), ("SignatureProvided", &provided)],
    );
    // Not hex, upper-case hex: echoed as sent.
    for signature in ["zz".repeat(32), seed_of(&put_hello(&[])).to_uppercase()] {
        let parts = with_authorization(&authorization(CREDENTIAL, SIGNED_HEADERS, &signature));
        assert_refused(
            &hello(parts).await,
            403,
            "SignatureDoesNotMatch",
            SIGNATURE_MISMATCH,
            &[("AWSAccessKeyId", AKID), ("SignatureProvided", &signature)],
        );
    }
    // The debug elements, opt-in.
    let v = verifier_with(config().with_mismatch_detail(MismatchDetail::CanonicalRequest));
    let parts = with_authorization(&authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS));
    let (a, _) = send(&v, parts, HELLO.to_vec()).await;
    assert_eq!(
        a.element_names(),
        [
            "Code",
            "Message",
            "AWSAccessKeyId",
            "SignatureProvided",
            "StringToSign",
            "StringToSignBytes",
            "CanonicalRequest",
            "CanonicalRequestBytes",
            "RequestId",
            "HostId"
        ]
    );
    let sts = a.element("StringToSign").unwrap();
    assert!(
        sts.starts_with(&format!("AWS4-HMAC-SHA256\n{DATE}\n{SCOPE}\n")),
        "{sts}"
    );
    assert_eq!(
        a.element("CanonicalRequest").unwrap(),
        format!("PUT\n/bucket/key\n\nhost:s3.local\nx-amz-content-sha256:{HELLO_SHA256}\nx-amz-date:{DATE}\n\n{SIGNED_HEADERS}\n{HELLO_SHA256}")
    );
}

const NOT_SIGNED: &str = "There were headers present in the request which were not signed";

#[tokio::test]
async fn unsigned_amz_headers_are_refused_after_the_signature() {
    let mut parts = put_hello(&[("x-amz-meta-signed", "1")]);
    append(&mut parts, "x-amz-meta-b", "2");
    append(&mut parts, "X-Amz-Meta-A", "1");
    append(&mut parts, "x-amz-copy-source", "/other/key");
    append(&mut parts, "x-amz-meta-b", "3");
    // Not x-amz-*: never required.
    append(
        &mut parts,
        "x-amzn-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793",
    );
    append(&mut parts, "content-type", "text/plain");
    append(&mut parts, "content-md5", HELLO_MD5);
    assert_refused(
        &hello(parts).await,
        403,
        "AccessDenied",
        NOT_SIGNED,
        &[(
            "HeadersNotSigned",
            "x-amz-copy-source, x-amz-meta-a, x-amz-meta-b",
        )],
    );
    // After the signature: a wrong signature is what an unsigned header's sender learns.
    let mut parts = with_authorization(&authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS));
    append(&mut parts, "x-amz-meta-a", "1");
    assert_refused(
        &hello(parts).await,
        403,
        "SignatureDoesNotMatch",
        SIGNATURE_MISMATCH,
        &[("AWSAccessKeyId", AKID), ("SignatureProvided", ZEROS)],
    );
    // x-amz-content-sha256 may stay unsigned, and x-amzn-trace-id is not x-amz-*.
    let lax = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "s3").with_settings(
        SigningSettings::s3().exclude_header(http::HeaderName::from_static("x-amz-content-sha256")),
    );
    let mut parts = sign(
        &lax,
        head("PUT", URI, &[("content-length", "11")]),
        HELLO_SHA256,
        example_time(),
    );
    assert!(!parts.headers[AUTHORIZATION]
        .to_str()
        .unwrap()
        .contains("x-amz-content-sha256"));
    append(&mut parts, "x-amzn-trace-id", "Root=1");
    let (a, seen) = hello(parts).await;
    assert_passed(&a, &seen, HELLO);

    // An unsigned host, an unsigned x-amz-date (signed by hand).
    for (signed, extra, expected) in [
        ("x-amz-content-sha256;x-amz-date", None, "host"),
        (
            "x-amz-content-sha256;x-amz-date",
            Some(("x-amz-meta-z", "1")),
            "host, x-amz-meta-z",
        ),
        ("host;x-amz-content-sha256", None, "x-amz-date"),
    ] {
        let mut parts = bare(&[]);
        if let Some((n, v)) = extra {
            append(&mut parts, n, v);
        }
        set(
            &mut parts,
            "authorization",
            &authorization(CREDENTIAL, signed, ZEROS),
        );
        sign_by_hand(&mut parts, "20130524");
        assert_refused(
            &hello(parts).await,
            403,
            "AccessDenied",
            NOT_SIGNED,
            &[("HeadersNotSigned", expected)],
        );
    }
}

#[tokio::test]
async fn head_rejections_have_no_body_and_bodies_close_the_connection() {
    // HEAD: status and headers only.
    let mut parts = head(
        "HEAD",
        URI,
        &[("x-amz-date", DATE), ("x-amz-content-sha256", EMPTY_SHA256)],
    );
    set(
        &mut parts,
        "authorization",
        &authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS),
    );
    let (a, seen) = send(&verifier(), parts, Vec::new()).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.body, "");
    assert_eq!(a.header("content-type"), Some("application/xml"));
    assert_eq!(a.header("x-amz-request-id").map(str::len), Some(16));
    assert!(a.header("x-amz-id-2").is_some());
    assert_eq!(a.header("connection"), None);
    assert_eq!(
        a.rejection.as_ref().map(|r| r.code().to_owned()).as_deref(),
        Some("SignatureDoesNotMatch")
    );
    assert_eq!(seen.calls(), 0);

    // A request with a body (Content-Length or Transfer-Encoding) is answered and closed.
    for framing in [("content-length", "11"), ("transfer-encoding", "chunked")] {
        let mut parts = head(
            "PUT",
            URI,
            &[
                framing,
                ("x-amz-date", DATE),
                ("x-amz-content-sha256", HELLO_SHA256),
            ],
        );
        set(
            &mut parts,
            "authorization",
            &authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS),
        );
        let (a, _) = hello(parts).await;
        assert_eq!(a.status, 403);
        assert_eq!(a.header("connection"), Some("close"), "{framing:?}");
    }
    // No body: nothing to drain, the connection stays.
    let mut parts = head(
        "GET",
        URI,
        &[("x-amz-date", DATE), ("x-amz-content-sha256", EMPTY_SHA256)],
    );
    set(
        &mut parts,
        "authorization",
        &authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS),
    );
    let (a, _) = send(&verifier(), parts, Vec::new()).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.header("connection"), None);
    // HTTP/2 forbids the header.
    let mut parts = with_authorization(&authorization(CREDENTIAL, SIGNED_HEADERS, ZEROS));
    parts.version = http::Version::HTTP_2;
    let (a, _) = hello(parts).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.header("connection"), None);
    // A rejection during the body closes too.
    let parts = put_hello(&[("x-amz-checksum-crc32", "AAAAAA==")]);
    let (a, seen) = hello(parts).await;
    assert_eq!(a.element("Code").as_deref(), Some("BadDigest"));
    assert_eq!(a.header("connection"), Some("close"));
    assert!(!seen.ended());
}
