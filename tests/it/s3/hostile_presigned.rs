//! Hostile presigned URLs against the S3 profile (`s3.md` §7, presigned): the algorithm, the
//! six parameters (missing, given twice), `X-Amz-Date`, `X-Amz-Expires`, expiry and "not valid
//! yet", the key, the signature, unsigned `x-amz-*` headers, and the payload: a checksum
//! hoisted into the query is verified, a streaming value is a hash that does not match.

use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use tower_sigv4::{Credentials, SignablePayload, Signer, SigningSettings};

use super::harness::*;
use super::hostile_support::*;

const URI: &str = "http://s3.local/bucket/key";
const REQUIRES: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
const QUERY_ERROR: &str = "AuthorizationQueryParametersError";

/// The six parameters, as a presigned URL carries them (the signature is not checked by the
/// cases that use them unchanged: they fail before the key).
fn params() -> Vec<(&'static str, String)> {
    vec![
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".into()),
        ("X-Amz-Credential", CREDENTIAL.replace('/', "%2F")),
        ("X-Amz-Date", DATE.into()),
        ("X-Amz-Expires", "86400".into()),
        ("X-Amz-SignedHeaders", "host".into()),
        ("X-Amz-Signature", ZEROS.into()),
    ]
}

fn get(params: &[(&str, String)]) -> Parts {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    head("GET", &format!("{URI}?{}", query.join("&")), &[])
}

fn replaced(name: &str, value: &str) -> Parts {
    let p: Vec<(&str, String)> = params()
        .into_iter()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    get(&p)
}

async fn go(parts: Parts) -> (Answer, Arc<Seen>) {
    send(&verifier(), parts, Vec::new()).await
}

/// `parts` presigned by `signer` at `time` for `expires` seconds with `payload`.
fn presign(
    signer: &Signer,
    mut parts: Parts,
    payload: SignablePayload<'_>,
    expires: u64,
    time: std::time::SystemTime,
) -> Parts {
    parts.uri = signer
        .presign(&parts, payload, Duration::from_secs(expires), time)
        .unwrap();
    parts
}

fn presigned_get(expires: u64, time: std::time::SystemTime) -> Parts {
    presign(
        &signer(),
        head("GET", URI, &[]),
        SignablePayload::Unsigned,
        expires,
        time,
    )
}

#[tokio::test]
async fn algorithm() {
    let only = "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256\"";
    for value in [
        "AWS4-HMAC-SHA1",
        "",
        "aws4-hmac-sha256",
        "AWS4-HMAC-SHA256%20",
    ] {
        assert_refused(
            &go(replaced("X-Amz-Algorithm", value)).await,
            400,
            QUERY_ERROR,
            only,
            &[],
        );
    }
    // Judged before the other parameters.
    let mut p = params();
    p[0].1 = "AWS4-HMAC-SHA1".into();
    p.remove(1);
    assert_refused(&go(get(&p)).await, 400, QUERY_ERROR, only, &[]);
    // SigV4a: as in the header, "not supported".
    assert_refused(
        &go(replaced("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256")).await,
        400,
        "InvalidRequest",
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        &[],
    );
}

#[tokio::test]
async fn six_parameters_each_exactly_once() {
    // Missing (but the algorithm, which makes the URL presigned at all).
    for i in 1..6 {
        let mut p = params();
        p.remove(i);
        assert_refused(&go(get(&p)).await, 400, QUERY_ERROR, REQUIRES, &[]);
    }
    // Without X-Amz-Algorithm the request is not presigned: anonymous.
    let mut p = params();
    p.remove(0);
    assert_refused(
        &go(get(&p)).await,
        403,
        "AccessDenied",
        "Access Denied",
        &[],
    );
    // Given twice, even with the same value; the token too.
    for i in 0..6 {
        let mut p = params();
        p.push(p[i].clone());
        assert_refused(&go(get(&p)).await, 400, QUERY_ERROR, REQUIRES, &[]);
    }
    let mut p = params();
    p.push(("X-Amz-Security-Token", "a".into()));
    p.push(("X-Amz-Security-Token", "a".into()));
    assert_refused(&go(get(&p)).await, 400, QUERY_ERROR, REQUIRES, &[]);
}

#[tokio::test]
async fn date_then_expires_then_credential() {
    let format = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"";
    for value in ["20130524T000000", "2013-05-24T00:00:00Z", "20130524", ""] {
        assert_refused(
            &go(replaced("X-Amz-Date", value)).await,
            400,
            QUERY_ERROR,
            format,
            &[],
        );
    }
    // The date before the expiry.
    let mut p = params();
    p[2].1 = "yesterday".into();
    p[3].1 = "abc".into();
    assert_refused(&go(get(&p)).await, 400, QUERY_ERROR, format, &[]);

    let number = "X-Amz-Expires should be a number";
    let negative = "X-Amz-Expires must be non-negative";
    let week = "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds";
    for (value, message) in [
        ("abc", number),
        ("", number),
        ("1.5", number),
        ("%2B60", number),
        ("0x10", number),
        ("-", number),
        ("-1", negative),
        ("-abc", number),
        ("604801", week),
        ("99999999999999999999999", week),
    ] {
        assert_refused(
            &go(replaced("X-Amz-Expires", value)).await,
            400,
            QUERY_ERROR,
            message,
            &[],
        );
    }
    // The expiry before the credential.
    let mut p = params();
    p[3].1 = "-5".into();
    p[1].1 = format!("{AKID}%2F20130524%2Feu-west-1%2Fs3%2Faws4_request");
    assert_refused(&go(get(&p)).await, 400, QUERY_ERROR, negative, &[]);
    // The credential before the expiry of the URL.
    let mut p = params();
    p[2].1 = "20130520T000000Z".into();
    p[1].1 = format!("{AKID}%2F20130520%2Feu-west-1%2Fs3%2Faws4_request");
    assert_refused(
        &go(get(&p)).await,
        400,
        QUERY_ERROR,
        "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
        &[("Region", "us-east-1")],
    );
}

#[tokio::test]
async fn expired_or_not_valid_yet() {
    let expired = "Request has expired";
    // 0 seconds: always expired, even at the instant of signing.
    assert_refused(
        &go(replaced("X-Amz-Expires", "0")).await,
        403,
        "AccessDenied",
        expired,
        &[
            ("X-Amz-Expires", "0"),
            ("Expires", "2013-05-24T00:00:00Z"),
            ("ServerTime", "2013-05-24T00:00:00Z"),
        ],
    );
    // One second past the end; strict (no skew grace).
    assert_refused(
        &go(presigned_get(3600, at(-3601))).await,
        403,
        "AccessDenied",
        expired,
        &[
            ("X-Amz-Expires", "3600"),
            ("Expires", "2013-05-23T23:59:59Z"),
            ("ServerTime", "2013-05-24T00:00:00Z"),
        ],
    );
    // Judged before the key.
    let stranger = Signer::new(
        Credentials::new("AKIASTRANGER0000000", SECRET),
        "us-east-1",
        "s3",
    )
    .with_settings(SigningSettings::s3());
    let parts = presign(
        &stranger,
        head("GET", URI, &[]),
        SignablePayload::Unsigned,
        60,
        at(-61),
    );
    let (a, _) = go(parts).await;
    assert_eq!(a.element("Message").as_deref(), Some(expired));
    // At the very end, and a week long: valid.
    for (expires, offset) in [(3600, -3600), (604_800, -604_800), (1, 0)] {
        let (a, seen) = go(presigned_get(expires, at(offset))).await;
        assert_passed(&a, &seen, b"");
    }
    // Dated more than 15 minutes ahead.
    assert_refused(
        &go(presigned_get(3600, at(901))).await,
        403,
        "AccessDenied",
        "Request is not valid yet",
        &[],
    );
    for offset in [899, 900] {
        let (a, seen) = go(presigned_get(3600, at(offset))).await;
        assert_passed(&a, &seen, b"");
    }
}

#[tokio::test]
async fn key_signature_and_unsigned_headers() {
    // An unknown key.
    let stranger = Signer::new(
        Credentials::new("AKIASTRANGER0000000", SECRET),
        "us-east-1",
        "s3",
    )
    .with_settings(SigningSettings::s3());
    let parts = presign(
        &stranger,
        head("GET", URI, &[]),
        SignablePayload::Unsigned,
        60,
        example_time(),
    );
    assert_refused(
        &go(parts).await,
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        &[("AWSAccessKeyId", "AKIASTRANGER0000000")],
    );
    // The query changed after signing.
    let mut parts = presigned_get(60, example_time());
    let signature = parts
        .uri
        .query()
        .unwrap()
        .rsplit("X-Amz-Signature=")
        .next()
        .unwrap()
        .to_owned();
    parts.uri = format!("{}&versionId=2", parts.uri).parse().unwrap();
    assert_refused(
        &go(parts).await,
        403,
        "SignatureDoesNotMatch",
        SIGNATURE_MISMATCH,
        &[("AWSAccessKeyId", AKID), ("SignatureProvided", &signature)],
    );
    // Headers added to a presigned URL's request: x-amz-* ones must have been signed.
    let mut parts = presigned_get(60, example_time());
    append(&mut parts, "x-amz-meta-color", "red");
    append(&mut parts, "content-type", "text/plain");
    assert_refused(
        &go(parts).await,
        403,
        "AccessDenied",
        "There were headers present in the request which were not signed",
        &[("HeadersNotSigned", "x-amz-meta-color")],
    );
    let mut parts = presign(
        &signer(),
        head("PUT", URI, &[("content-length", "11")]),
        SignablePayload::Unsigned,
        60,
        example_time(),
    );
    append(&mut parts, "x-amz-sdk-checksum-algorithm", "SHA256");
    append(&mut parts, "x-amz-checksum-sha256", HELLO_SHA256_B64);
    assert_refused(
        &send(&verifier(), parts, HELLO.to_vec()).await,
        403,
        "AccessDenied",
        "There were headers present in the request which were not signed",
        &[(
            "HeadersNotSigned",
            "x-amz-checksum-sha256, x-amz-sdk-checksum-algorithm",
        )],
    );
}

/// A presigned `PUT` with `query` added before signing and the payload line `line`.
fn presigned_put(query: &str, line: SignablePayload<'_>, headers: &[(&str, &str)]) -> Parts {
    let mut all = vec![("content-length", "11")];
    all.extend_from_slice(headers);
    let uri = if query.is_empty() {
        URI.to_owned()
    } else {
        format!("{URI}?{query}")
    };
    presign(
        &signer(),
        head("PUT", &uri, &all),
        line,
        3600,
        example_time(),
    )
}

#[tokio::test]
async fn hoisted_checksum_is_verified() {
    // The JS v3 presigner's CRC32 of the empty body, hoisted into the query.
    let parts = presigned_put(
        "x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32",
        SignablePayload::Unsigned,
        &[],
    );
    let (a, seen) = send(&verifier(), parts, HELLO.to_vec()).await;
    assert_rejected(
        &a,
        400,
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
        &[],
    );
    assert!(!seen.ended());
    assert_eq!(
        seen.error(),
        Some(tower_sigv4::verify::BodyErrorKind::ChecksumMismatch)
    );
    // The right one passes; so does an empty body against the empty CRC.
    let parts = presigned_put(
        "x-amz-checksum-crc32=i9aeUg%3D%3D&x-amz-sdk-checksum-algorithm=CRC32",
        SignablePayload::Unsigned,
        &[],
    );
    let (a, seen) = send(&verifier(), parts, HELLO.to_vec()).await;
    assert_passed(&a, &seen, HELLO);
    // Hoisted checksum rules are the header's: a bad value, a disagreeing algorithm.
    let parts = presigned_put("x-amz-checksum-crc32=AAAA", SignablePayload::Unsigned, &[]);
    assert_refused(
        &send(&verifier(), parts, HELLO.to_vec()).await,
        400,
        "InvalidRequest",
        "Value for x-amz-checksum-crc32 header is invalid.",
        &[],
    );
    let parts = presigned_put(
        "x-amz-checksum-crc32=i9aeUg%3D%3D&x-amz-sdk-checksum-algorithm=SHA256",
        SignablePayload::Unsigned,
        &[],
    );
    assert_refused(
        &send(&verifier(), parts, HELLO.to_vec()).await,
        400,
        "InvalidRequest",
        "Value for x-amz-sdk-checksum-algorithm header is invalid.",
        &[],
    );
}

#[tokio::test]
async fn payload_line_of_presigned_urls() {
    let mismatch = "The provided 'x-amz-content-sha256' header does not match what was computed.";
    // Streaming values are no framing here: a claimed hash that does not match.
    for value in [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER, "nonsense"] {
        let parts = presigned_put(
            &format!("X-Amz-Content-Sha256={value}"),
            SignablePayload::Precomputed(value),
            &[],
        );
        assert_refused(
            &send(&verifier(), parts, HELLO.to_vec()).await,
            400,
            "XAmzContentSHA256Mismatch",
            mismatch,
            &[("ClientComputedContentSHA256", value)],
        );
    }
    // A hash in the query is compared with the body.
    let other = sha256_hex(b"Hello World");
    let parts = presigned_put(
        &format!("X-Amz-Content-Sha256={other}"),
        SignablePayload::Precomputed(&other),
        &[],
    );
    let (a, seen) = send(&verifier(), parts, HELLO.to_vec()).await;
    assert_rejected(
        &a,
        400,
        "XAmzContentSHA256Mismatch",
        mismatch,
        &[
            ("ClientComputedContentSHA256", &other),
            ("S3ComputedContentSHA256", HELLO_SHA256),
        ],
    );
    assert!(!seen.ended());
    // A signed x-amz-content-sha256 header is the payload line.
    let parts = presigned_put(
        "",
        SignablePayload::Precomputed(&other),
        &[("x-amz-content-sha256", &other)],
    );
    let (a, _) = send(&verifier(), parts, HELLO.to_vec()).await;
    assert_eq!(
        a.element("Code").as_deref(),
        Some("XAmzContentSHA256Mismatch")
    );
    let parts = presigned_put(
        "",
        SignablePayload::Precomputed(HELLO_SHA256),
        &[("x-amz-content-sha256", HELLO_SHA256)],
    );
    let (a, seen) = send(&verifier(), parts, HELLO.to_vec()).await;
    assert_passed(&a, &seen, HELLO);
    // An unsigned one is ignored (UNSIGNED-PAYLOAD), and exempt from the signed-header rule.
    let mut parts = presigned_put("", SignablePayload::Unsigned, &[]);
    append(&mut parts, "x-amz-content-sha256", &other);
    let (a, seen) = send(&verifier(), parts, HELLO.to_vec()).await;
    assert_passed(&a, &seen, HELLO);
}

#[tokio::test]
async fn credential_checks_in_order_presigned() {
    let query = |credential: &str| {
        format!(
            "{URI}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={DATE}&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature={ZEROS}",
            credential.replace('/', "%2F")
        )
    };
    for (credential, detail, region) in credential_cases() {
        let parts = head("GET", &query(&credential), &[]);
        let elements: Vec<(&str, &str)> = region.map(|r| ("Region", r)).into_iter().collect();
        assert_refused(
            &go(parts).await,
            400,
            "AuthorizationQueryParametersError",
            &format!("Error parsing the X-Amz-Credential parameter; {detail}"),
            &elements,
        );
    }
    let parts = head(
        "GET",
        &query(&format!("{AKID}/20130523/us-east-1/s3/aws4_request")),
        &[],
    );
    assert_refused(
        &go(parts).await,
        400,
        "AuthorizationQueryParametersError",
        DATE_DIFFERS,
        &[],
    );
}
