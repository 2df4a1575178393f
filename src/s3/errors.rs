//! S3's rejections: codes, statuses, messages and elements as `s3.md` §2.5, §3 and §5 give them.

use std::borrow::Cow;
use std::time::SystemTime;

use http::StatusCode;

use crate::error::{Rejection, RejectionKind};

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;

/// `The request body terminated unexpectedly`.
pub(crate) const TERMINATED: &str = "The request body terminated unexpectedly";

/// 400 `AuthorizationHeaderMalformed`, `The authorization header is malformed; <detail>`.
pub(crate) fn header_malformed(kind: RejectionKind, detail: &str) -> Rejection {
    Rejection::coded(
        kind,
        BAD,
        "AuthorizationHeaderMalformed",
        format!("The authorization header is malformed; {detail}"),
    )
}

/// 400 `AuthorizationQueryParametersError` with `message`.
pub(crate) fn query_error(kind: RejectionKind, message: impl Into<Cow<'static, str>>) -> Rejection {
    Rejection::coded(kind, BAD, "AuthorizationQueryParametersError", message)
}

/// 403 `AccessDenied` with `message`.
pub(crate) fn access_denied(
    kind: RejectionKind,
    message: impl Into<Cow<'static, str>>,
) -> Rejection {
    Rejection::coded(kind, FORBIDDEN, "AccessDenied", message)
}

/// 400 `InvalidRequest` with `message`.
pub(crate) fn invalid_request(
    kind: RejectionKind,
    message: impl Into<Cow<'static, str>>,
) -> Rejection {
    Rejection::coded(kind, BAD, "InvalidRequest", message)
}

/// 400 `InvalidArgument` with `message`, `ArgumentName` and `ArgumentValue`.
pub(crate) fn invalid_argument(
    kind: RejectionKind,
    message: &'static str,
    name: &'static str,
    value: &str,
) -> Rejection {
    Rejection::coded(kind, BAD, "InvalidArgument", message)
        .with_element("ArgumentName", name)
        .with_element("ArgumentValue", value)
}

/// 501 `NotImplemented` naming `header`.
pub(crate) fn not_implemented(header: &str) -> Rejection {
    Rejection::coded(
        RejectionKind::NotImplemented,
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
    )
    .with_element("Header", header)
}

/// 400 `IncompleteBody`, `The request body terminated unexpectedly`.
pub(crate) fn terminated() -> Rejection {
    Rejection::coded(
        RejectionKind::BodyUnreadable,
        BAD,
        "IncompleteBody",
        TERMINATED,
    )
}

/// 400 `IncompleteBody` with the numbers: the decoded length differs from the declared one.
pub(crate) fn length_mismatch(expected: u64, provided: u64) -> Rejection {
    Rejection::coded(
        RejectionKind::BodyUnreadable,
        BAD,
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )
    .with_element("NumberBytesExpected", expected.to_string())
    .with_element("NumberBytesProvided", provided.to_string())
}

/// 400 `InvalidRequest`, a chunk (or its line, or the trailer) over our limits.
pub(crate) fn chunk_too_large() -> Rejection {
    invalid_request(
        RejectionKind::BodyTooLarge,
        "Chunk size exceeds the allowed maximum.",
    )
}

/// 403 `InvalidChunkSizeError`: chunk `chunk` (1-based) follows one of `bad_size` bytes.
pub(crate) fn chunk_too_small(chunk: u64, bad_size: u64) -> Rejection {
    Rejection::coded(
        RejectionKind::BodyUnreadable,
        FORBIDDEN,
        "InvalidChunkSizeError",
        "Only the last chunk is allowed to have a size less than 8192 bytes",
    )
    .with_element("Chunk", chunk.to_string())
    .with_element("BadChunkSize", bad_size.to_string())
}

/// 400 `MalformedTrailerError`.
pub(crate) fn malformed_trailer(kind: RejectionKind) -> Rejection {
    Rejection::coded(
        kind,
        BAD,
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published schema.",
    )
}

/// 400 `EntityTooLarge`.
pub(crate) fn entity_too_large() -> Rejection {
    Rejection::coded(
        RejectionKind::BodyTooLarge,
        BAD,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed object size.",
    )
}

/// 400 `RequestTimeout` (S3's answer to a body that stalls).
pub(crate) fn request_timeout() -> Rejection {
    Rejection::coded(
        RejectionKind::BodyTimeout,
        BAD,
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
    )
}

/// 503 `SlowDown` (the buffer budget is spent).
pub(crate) fn slow_down() -> Rejection {
    Rejection::coded(
        RejectionKind::Overloaded,
        StatusCode::SERVICE_UNAVAILABLE,
        "SlowDown",
        "Please reduce your request rate.",
    )
}

/// 403 `SignatureDoesNotMatch` with the default elements; the debug elements are added by the
/// caller when the mismatch detail is on.
pub(crate) fn signature_mismatch(access_key_id: &str, provided: &str) -> Rejection {
    Rejection::coded(
        RejectionKind::SignatureMismatch,
        FORBIDDEN,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .with_element("AWSAccessKeyId", access_key_id)
    .with_element("SignatureProvided", provided)
}

/// The debug elements of a signature mismatch: `StringToSign`, `StringToSignBytes`,
/// `CanonicalRequest`, `CanonicalRequestBytes` (bytes as space-separated lower-case hex).
pub(crate) fn with_mismatch_detail(
    rejection: Rejection,
    string_to_sign: &str,
    canonical_request: &str,
) -> Rejection {
    rejection
        .with_element("StringToSign", string_to_sign)
        .with_element("StringToSignBytes", spaced_hex(string_to_sign.as_bytes()))
        .with_element("CanonicalRequest", canonical_request)
        .with_element(
            "CanonicalRequestBytes",
            spaced_hex(canonical_request.as_bytes()),
        )
}

fn spaced_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&hex::encode([*b]));
    }
    out
}

/// 400 `XAmzContentSHA256Mismatch`.
pub(crate) fn content_sha256_mismatch(client: &str, computed: Option<&str>) -> Rejection {
    let r = Rejection::coded(
        RejectionKind::PayloadHashMismatch,
        BAD,
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
    .with_element("ClientComputedContentSHA256", client);
    match computed {
        Some(c) => r.with_element("S3ComputedContentSHA256", c),
        None => r,
    }
}

/// 400 `BadDigest` for `Content-MD5`: the expected digest in hex, the calculated in base64.
pub(crate) fn md5_mismatch(expected: &[u8; 16], calculated: &[u8; 16]) -> Rejection {
    Rejection::coded(
        RejectionKind::ChecksumMismatch,
        BAD,
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
    )
    .with_element("ExpectedDigest", hex::encode(expected))
    .with_element("CalculatedDigest", super::checksum::b64(calculated))
}

/// 400 `BadDigest` for a flexible checksum.
pub(crate) fn checksum_mismatch(algorithm: super::ChecksumAlgorithm) -> Rejection {
    Rejection::coded(
        RejectionKind::ChecksumMismatch,
        BAD,
        "BadDigest",
        format!(
            "The {} you specified did not match the calculated checksum.",
            algorithm.name()
        ),
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`, S3's `ServerTime` and `Expires`.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let basic = crate::sigv4::scope::format_amz_date(t);
    let b = basic.as_bytes();
    let s = |r: std::ops::Range<usize>| {
        std::str::from_utf8(b.get(r).unwrap_or_default()).unwrap_or_default()
    };
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        s(0..4),
        s(4..6),
        s(6..8),
        s(9..11),
        s(11..13),
        s(13..15)
    )
}
