//! Hostile headers that describe the body (`s3.md` §2.2, §3; step 11 of §7) and the checks at
//! the end of the body (step 13): the streaming headers and their framing, `x-amz-trailer`,
//! the checksum headers, `Content-MD5`, the size limit, the precedence of the end-of-body
//! answers, delegated checksums; and what the inner service gets (`Content-Encoding` without
//! `aws-chunked`, the decoded framing, HTTP/2 without a length).

use tower_sigv4::s3::ChecksumAlgorithm;
use tower_sigv4::verify::BodyErrorKind;
use tower_sigv4::ChecksumVerification;

use super::harness::*;
use super::hostile_support::*;

const URI: &str = "http://s3.local/bucket/key";
const MISSING_LENGTH: &str = "You must provide the Content-Length HTTP header.";
const NOT_SUPPORTED: &str = "The value specified in the x-amz-trailer header is not supported";
const MULTIPLE: &str =
    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";

/// A streaming head in `mode` with exactly `headers` (nothing added), signed without
/// `Content-Length`.
fn stream_head(mode: &str, headers: &[(&str, &str)]) -> http::request::Parts {
    sign(
        &signer_without_length(),
        head("PUT", URI, headers),
        mode,
        example_time(),
    )
}

/// `Hello world` in the signed mode, for the head `parts`.
fn signed_hello(parts: &http::request::Parts) -> Vec<u8> {
    let mut chain = Chain::of(parts);
    let mut body = chain.chunk(HELLO);
    body.extend(chain.last());
    body.extend_from_slice(b"\r\n");
    body
}

/// `Hello world` in the unsigned-trailer mode with a CRC32 trailer.
fn unsigned_hello() -> Vec<u8> {
    b"b\r\nHello world\r\n0\r\nx-amz-checksum-crc32:i9aeUg==\r\n\r\n".to_vec()
}

#[tokio::test]
async fn decoded_length_required() {
    let v = verifier();
    for value in [
        "abc",
        "-1",
        "1.0",
        "",
        "+11",
        "0x0b",
        "99999999999999999999999",
    ] {
        let parts = streaming(SIGNED, value, &[]);
        let body = signed_hello(&parts);
        let r = send(&v, with_length(parts, &body), body).await;
        assert_refused(&r, 411, "MissingContentLength", MISSING_LENGTH, &[]);
    }
    let parts = stream_head(SIGNED, &[("content-encoding", "aws-chunked")]);
    let body = signed_hello(&parts);
    let r = send(&v, with_length(parts, &body), body).await;
    assert_refused(&r, 411, "MissingContentLength", MISSING_LENGTH, &[]);
    // Given twice.
    let parts = stream_head(
        SIGNED,
        &[
            ("x-amz-decoded-content-length", "11"),
            ("x-amz-decoded-content-length", "11"),
        ],
    );
    let body = signed_hello(&parts);
    let r = send(&v, with_length(parts, &body), body).await;
    assert_refused(&r, 411, "MissingContentLength", MISSING_LENGTH, &[]);
    // The streaming headers are x-amz-* headers: signed, or refused before anything else of
    // the body is judged.
    let lax = tower_sigv4::Signer::new(
        tower_sigv4::Credentials::new(AKID, SECRET),
        "us-east-1",
        "s3",
    )
    .with_settings(
        tower_sigv4::SigningSettings::s3()
            .exclude_header(http::header::CONTENT_LENGTH)
            .exclude_header(http::HeaderName::from_static(
                "x-amz-decoded-content-length",
            ))
            .exclude_header(http::HeaderName::from_static("x-amz-trailer")),
    );
    let parts = sign(
        &lax,
        head(
            "PUT",
            URI,
            &[
                ("x-amz-decoded-content-length", "nonsense"),
                ("x-amz-trailer", "x-amz-foo"),
            ],
        ),
        UNSIGNED_TRAILER,
        example_time(),
    );
    let body = unsigned_hello();
    let r = send(&v, with_length(parts, &body), body).await;
    assert_refused(
        &r,
        403,
        "AccessDenied",
        "There were headers present in the request which were not signed",
        &[(
            "HeadersNotSigned",
            "x-amz-decoded-content-length, x-amz-trailer",
        )],
    );
}

#[tokio::test]
async fn framing_of_the_encoded_body() {
    let v = verifier();
    // Neither Content-Length nor Transfer-Encoding on HTTP/1.x.
    for version in [http::Version::HTTP_11, http::Version::HTTP_10] {
        let mut parts = streaming(SIGNED, "11", &[]);
        parts.version = version;
        let body = signed_hello(&parts);
        let r = send(&v, parts, body).await;
        assert_refused(&r, 411, "MissingContentLength", MISSING_LENGTH, &[]);
    }
    // HTTP/2 needs neither.
    let mut parts = streaming(SIGNED, "11", &[]);
    parts.version = http::Version::HTTP_2;
    let body = signed_hello(&parts);
    assert_body_passes(&v, &parts, &body, HELLO).await;
    let (a, seen) = send(&v, parts, body).await;
    assert_passed(&a, &seen, HELLO);
    assert_eq!(seen.header("content-length").as_deref(), Some("11"));
    // Transfer-Encoding: chunked (the aws-chunked bytes after HTTP de-chunking).
    let parts = streaming(SIGNED, "11", &[("transfer-encoding", "chunked")]);
    let body = signed_hello(&parts);
    assert_body_passes(&v, &parts, &body, HELLO).await;
    let (a, seen) = send(&v, parts, body).await;
    assert_passed(&a, &seen, HELLO);
    assert_eq!(seen.header("transfer-encoding"), None);
    assert_eq!(seen.header("content-length").as_deref(), Some("11"));
    assert_eq!(
        seen.header("x-amz-decoded-content-length").as_deref(),
        Some("11")
    );
    // Both.
    let both = "Cannot specify both Content-Length and Transfer-Encoding HTTP headers.";
    let parts = streaming(SIGNED, "11", &[("transfer-encoding", "chunked")]);
    let body = signed_hello(&parts);
    let r = send(&v, with_length(parts, &body), body).await;
    assert_refused(&r, 400, "InvalidRequest", both, &[]);
    let mut parts = put_hello(&[]);
    append(&mut parts, "transfer-encoding", "chunked");
    let r = send(&v, parts, HELLO.to_vec()).await;
    assert_refused(&r, 400, "InvalidRequest", both, &[]);
    // A plain HTTP-chunked body with a hash: accepted and hashed.
    let parts = sign(
        &signer(),
        head("PUT", URI, &[("transfer-encoding", "chunked")]),
        HELLO_SHA256,
        example_time(),
    );
    assert_body_passes(&v, &parts, HELLO, HELLO).await;
}

#[tokio::test]
async fn x_amz_trailer_values() {
    let v = verifier();
    let unsigned = |trailer: &[&str]| {
        let mut headers = vec![
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "11"),
        ];
        headers.extend(trailer.iter().map(|t| ("x-amz-trailer", *t)));
        let parts = stream_head(UNSIGNED_TRAILER, &headers);
        let body = unsigned_hello();
        with_length(parts, &body)
    };
    for tolerated in [
        "x-amz-checksum-crc32,",
        "x-amz-checksum-crc32, ",
        "x-amz-checksum-crc32,,",
        "X-Amz-Checksum-CRC32",
        " x-amz-checksum-crc32",
    ] {
        assert_body_passes(&v, &unsigned(&[tolerated]), &unsigned_hello(), HELLO).await;
    }
    for value in [
        ",x-amz-checksum-crc32",
        "x-amz-checksum-crc32,,x-amz-checksum-sha1",
        "x-amz-checksum-crc32, ,x-amz-checksum-sha1",
        "content-md5",
        "x-amz-content-sha256",
        "x-amz-foo",
        "x-amz-checksum-md5",
        "x-amz-checksum-crc32;x-amz-checksum-sha1",
        "x-amz-foo,x-amz-checksum-crc32",
        "",
        ",",
    ] {
        let r = send(&v, unsigned(&[value]), unsigned_hello()).await;
        assert_refused(&r, 400, "InvalidRequest", NOT_SUPPORTED, &[]);
    }
    for value in [
        &["x-amz-checksum-crc32,x-amz-checksum-sha256"][..],
        &["x-amz-checksum-crc32, x-amz-checksum-crc32"],
        &["x-amz-checksum-crc32", "x-amz-checksum-crc32"],
    ] {
        let r = send(&v, unsigned(value), unsigned_hello()).await;
        assert_refused(&r, 400, "InvalidRequest", MULTIPLE, &[]);
    }
    // On a request that has no trailer: a hashed PUT, UNSIGNED-PAYLOAD, the signed mode
    // without trailer.
    let trailer = [("x-amz-trailer", "x-amz-checksum-crc32")];
    let hashed = put_hello(&trailer);
    let mut unsigned_payload = head("PUT", URI, &[("content-length", "11")]);
    append(
        &mut unsigned_payload,
        "x-amz-trailer",
        "x-amz-checksum-crc32",
    );
    let unsigned_payload = sign(
        &signer(),
        unsigned_payload,
        "UNSIGNED-PAYLOAD",
        example_time(),
    );
    let signed = streaming(SIGNED, "11", &trailer);
    let signed_body = signed_hello(&signed);
    let signed = with_length(signed, &signed_body);
    for (parts, body) in [
        (hashed, HELLO.to_vec()),
        (unsigned_payload, HELLO.to_vec()),
        (signed, signed_body),
    ] {
        let r = send(&v, parts, body).await;
        assert_refused(&r, 400, "MalformedTrailerError", MALFORMED_TRAILER, &[]);
    }
    // The signed-trailer mode without x-amz-trailer.
    let parts = streaming(SIGNED_TRAILER, "11", &[]);
    let r = send(&v, with_length(parts, b"x"), b"x".to_vec()).await;
    assert_refused(&r, 400, "MalformedTrailerError", MALFORMED_TRAILER, &[]);
    // The unsigned mode without x-amz-trailer is legal: no trailer lines.
    let parts = streaming(UNSIGNED_TRAILER, "11", &[]);
    let body = b"b\r\nHello world\r\n0\r\n\r\n".to_vec();
    assert_body_passes(&v, &with_length(parts, &body), &body, HELLO).await;
}

/// `Hello world`'s checksum by `algorithm`, and another payload's.
fn right_and_wrong(algorithm: ChecksumAlgorithm) -> (String, String) {
    (
        algorithm.checksum_of(HELLO),
        algorithm.checksum_of(b"Hello World"),
    )
}

#[tokio::test]
async fn checksum_headers() {
    let v = verifier();
    for algorithm in ChecksumAlgorithm::ALL {
        let name = algorithm.header_name();
        let (right, wrong) = right_and_wrong(algorithm);
        // The right value passes (with x-amz-sdk-checksum-algorithm in any case).
        let lower = algorithm.name().to_lowercase();
        let parts = put_hello(&[(name, &right), ("x-amz-sdk-checksum-algorithm", &lower)]);
        assert_body_passes(&v, &parts, HELLO, HELLO).await;
        // The wrong one is BadDigest at the end of the body.
        let parts = put_hello(&[(name, &wrong)]);
        assert_body_rejected(
            &v,
            &parts,
            HELLO,
            (
                400,
                "BadDigest",
                &format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.name()
                ),
            ),
            &[],
            BodyErrorKind::ChecksumMismatch,
            HELLO,
            HELLO.len() - 1,
        )
        .await;
        // Not base64 of the digest's length.
        let short = &right[..right.len() - 4];
        for bad in [
            "not base64!",
            "",
            "AAAAAAAA",
            short,
            "i9aeUg",
            "AAAAAAAAAAAAAAAA",
        ] {
            let r = send(&v, put_hello(&[(name, bad)]), HELLO.to_vec()).await;
            assert_refused(
                &r,
                400,
                "InvalidRequest",
                &format!("Value for {name} header is invalid."),
                &[],
            );
        }
    }
    for unknown in [
        "x-amz-checksum-md5",
        "x-amz-checksum-crc64",
        "x-amz-checksum-",
        "x-amz-checksum-crc32x",
    ] {
        let r = send(&v, put_hello(&[(unknown, HELLO_CRC32)]), HELLO.to_vec()).await;
        assert_refused(
            &r,
            400,
            "InvalidRequest",
            "The algorithm type you specified in x-amz-checksum- header is invalid.",
            &[],
        );
    }
    // Not checksums: tolerated.
    let parts = put_hello(&[
        ("x-amz-checksum-type", "FULL_OBJECT"),
        ("x-amz-checksum-algorithm", "CRC32"),
    ]);
    assert_body_passes(&v, &parts, HELLO, HELLO).await;
    // Two checksums.
    let parts = put_hello(&[
        ("x-amz-checksum-crc32", HELLO_CRC32),
        ("x-amz-checksum-sha256", HELLO_SHA256_B64),
    ]);
    let r = send(&v, parts, HELLO.to_vec()).await;
    assert_refused(&r, 400, "InvalidRequest", MULTIPLE, &[]);
    // x-amz-sdk-checksum-algorithm alone, or naming another algorithm.
    let r = send(
        &v,
        put_hello(&[("x-amz-sdk-checksum-algorithm", "CRC32")]),
        HELLO.to_vec(),
    )
    .await;
    assert_refused(
        &r,
        400,
        "InvalidRequest",
        "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
        &[],
    );
    let sdk_invalid = "Value for x-amz-sdk-checksum-algorithm header is invalid.";
    for sdk in ["SHA256", "MD5", "CRC32 CRC32C"] {
        let parts = put_hello(&[
            ("x-amz-checksum-crc32", HELLO_CRC32),
            ("x-amz-sdk-checksum-algorithm", sdk),
        ]);
        let r = send(&v, parts, HELLO.to_vec()).await;
        assert_refused(&r, 400, "InvalidRequest", sdk_invalid, &[]);
    }
    // With a trailer.
    let trailer_head = |headers: &[(&str, &str)]| {
        let mut all = vec![("x-amz-trailer", "x-amz-checksum-crc32")];
        all.extend_from_slice(headers);
        let parts = streaming(UNSIGNED_TRAILER, "11", &all);
        with_length(parts, &unsigned_hello())
    };
    let parts = trailer_head(&[("x-amz-sdk-checksum-algorithm", "CRC32")]);
    assert_body_passes(&v, &parts, &unsigned_hello(), HELLO).await;
    let parts = trailer_head(&[("x-amz-sdk-checksum-algorithm", "CRC32C")]);
    let r = send(&v, parts, unsigned_hello()).await;
    assert_refused(&r, 400, "InvalidRequest", sdk_invalid, &[]);
    // A checksum header on a streaming body without trailer: verified on the decoded payload.
    let parts = streaming(SIGNED, "11", &[("x-amz-checksum-crc32", HELLO_CRC32)]);
    let body = signed_hello(&parts);
    assert_body_passes(&v, &with_length(parts, &body), &body, HELLO).await;
    let parts = streaming(SIGNED, "11", &[("x-amz-checksum-crc32", "AAAAAA==")]);
    let body = signed_hello(&parts);
    assert_body_rejected(
        &v,
        &with_length(parts, &body),
        &body,
        (
            400,
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
        ),
        &[],
        BodyErrorKind::ChecksumMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
    // A checksum header and a trailer, of the same or another algorithm.
    for (name, value) in [
        ("x-amz-checksum-crc32", HELLO_CRC32),
        ("x-amz-checksum-crc32c", HELLO_CRC32C),
    ] {
        let r = send(&v, trailer_head(&[(name, value)]), unsigned_hello()).await;
        assert_refused(
            &r,
            400,
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header",
            &[],
        );
    }
}

#[tokio::test]
async fn content_md5() {
    let v = verifier();
    let invalid = "The Content-MD5 you specified was invalid.";
    for bad in [
        "abc",
        "AAAA",
        "3e25960a79dbc69b674cd4ec67a72c62",
        "PiWWCnnbxptnTNTsZ6csYg",
        "",
    ] {
        let r = send(&v, put_hello(&[("content-md5", bad)]), HELLO.to_vec()).await;
        assert_refused(&r, 400, "InvalidDigest", invalid, &[("Content-MD5", bad)]);
    }
    let mut parts = put_hello(&[]);
    append(&mut parts, "content-md5", HELLO_MD5);
    append(&mut parts, "content-md5", HELLO_MD5);
    let r = send(&v, parts, HELLO.to_vec()).await;
    assert_refused(
        &r,
        400,
        "InvalidDigest",
        invalid,
        &[("Content-MD5", &format!("{HELLO_MD5},{HELLO_MD5}"))],
    );
    // The MD5 of the empty body: the expected digest in hex, the calculated in base64.
    let parts = put_hello(&[("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")]);
    assert_body_rejected(
        &v,
        &parts,
        HELLO,
        (
            400,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ),
        &[
            ("ExpectedDigest", "d41d8cd98f00b204e9800998ecf8427e"),
            ("CalculatedDigest", HELLO_MD5),
        ],
        BodyErrorKind::ChecksumMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
    // The right one passes, signed or not.
    assert_body_passes(&v, &put_hello(&[("content-md5", HELLO_MD5)]), HELLO, HELLO).await;
    let mut parts = put_hello(&[]);
    append(&mut parts, "content-md5", HELLO_MD5);
    assert_body_passes(&v, &parts, HELLO, HELLO).await;
}

#[tokio::test]
async fn end_of_body_precedence() {
    let v = verifier();
    let other = sha256_hex(b"Hello World");
    let md5_wrong = ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==");
    let crc_wrong = ("x-amz-checksum-crc32", "AAAAAA==");
    let put = |hash: &str, headers: &[(&str, &str)]| {
        let mut all = vec![("content-length", "11")];
        all.extend_from_slice(headers);
        sign(&signer(), head("PUT", URI, &all), hash, example_time())
    };
    // XAmzContentSHA256Mismatch beats both BadDigests.
    assert_body_rejected(
        &v,
        &put(&other, &[md5_wrong, crc_wrong]),
        HELLO,
        (
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
        &[
            ("ClientComputedContentSHA256", &other),
            ("S3ComputedContentSHA256", HELLO_SHA256),
        ],
        BodyErrorKind::PayloadHashMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
    // Then MD5, then the checksum.
    let md5 = (
        400,
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
    );
    let md5_elements = [
        ("ExpectedDigest", "d41d8cd98f00b204e9800998ecf8427e"),
        ("CalculatedDigest", HELLO_MD5),
    ];
    assert_body_rejected(
        &v,
        &put(HELLO_SHA256, &[md5_wrong, crc_wrong]),
        HELLO,
        md5,
        &md5_elements,
        BodyErrorKind::ChecksumMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
    let crc = (
        400,
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
    );
    assert_body_rejected(
        &v,
        &put(HELLO_SHA256, &[("content-md5", HELLO_MD5), crc_wrong]),
        HELLO,
        crc,
        &[],
        BodyErrorKind::ChecksumMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
    // The same order on a streaming body: MD5 before the trailing checksum.
    let parts = streaming(
        UNSIGNED_TRAILER,
        "11",
        &[("x-amz-trailer", "x-amz-checksum-crc32"), md5_wrong],
    );
    let body = b"b\r\nHello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n".to_vec();
    assert_body_rejected(
        &v,
        &with_length(parts, &body),
        &body,
        md5,
        &md5_elements,
        BodyErrorKind::ChecksumMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
    // An empty PUT is compared; an empty GET is not.
    let x = sha256_hex(b"x");
    let parts = sign(
        &signer(),
        head("PUT", URI, &[("content-length", "0")]),
        &x,
        example_time(),
    );
    let r = send(&v, parts, Vec::new()).await;
    assert_refused(
        &r,
        400,
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        &[
            ("ClientComputedContentSHA256", &x),
            ("S3ComputedContentSHA256", EMPTY_SHA256),
        ],
    );
    let parts = sign(&signer(), head("GET", URI, &[]), &x, example_time());
    let (a, seen) = send(&v, parts, Vec::new()).await;
    assert_passed(&a, &seen, b"");
    // A GET with a body is compared.
    let parts = sign(
        &signer(),
        head("GET", URI, &[("content-length", "11")]),
        &x,
        example_time(),
    );
    assert_body_rejected(
        &v,
        &parts,
        HELLO,
        (
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
        &[
            ("ClientComputedContentSHA256", &x),
            ("S3ComputedContentSHA256", HELLO_SHA256),
        ],
        BodyErrorKind::PayloadHashMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
}

#[tokio::test]
async fn delegated_checksums() {
    let v = verifier_with(config().with_checksums(ChecksumVerification::Delegate));
    // Header checksum and MD5 left to the backend.
    let parts = put_hello(&[
        ("x-amz-checksum-crc32", "AAAAAA=="),
        ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
    ]);
    assert_body_passes(&v, &parts, HELLO, HELLO).await;
    // Their syntax is still S3's.
    let r = send(&v, put_hello(&[("content-md5", "abc")]), HELLO.to_vec()).await;
    assert_refused(
        &r,
        400,
        "InvalidDigest",
        "The Content-MD5 you specified was invalid.",
        &[("Content-MD5", "abc")],
    );
    // The signed hash is no checksum: still compared.
    let other = sha256_hex(b"Hello World");
    let parts = sign(
        &signer(),
        head("PUT", URI, &[("content-length", "11")]),
        &other,
        example_time(),
    );
    let (a, _) = send(&v, parts, HELLO.to_vec()).await;
    assert_eq!(
        a.element("Code").as_deref(),
        Some("XAmzContentSHA256Mismatch")
    );
    // A signed trailer with the wrong checksum (signed as it is): left to the backend.
    let parts = streaming(
        SIGNED_TRAILER,
        "11",
        &[("x-amz-trailer", "x-amz-checksum-crc32")],
    );
    let mut chain = Chain::of(&parts);
    let mut body = chain.chunk(HELLO);
    body.extend(chain.last());
    let signature = chain.trailer("x-amz-checksum-crc32", "AAAAAA==");
    body.extend_from_slice(
        format!("x-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:{signature}\r\n\r\n")
            .as_bytes(),
    );
    let parts = with_length(parts, &body);
    assert_body_passes(&v, &parts, &body, HELLO).await;
    // … but verified by default.
    assert_body_rejected(
        &verifier(),
        &parts,
        &body,
        (
            400,
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
        ),
        &[],
        BodyErrorKind::ChecksumMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
    // The unsigned trailer's checksum is always verified.
    let parts = streaming(
        UNSIGNED_TRAILER,
        "11",
        &[("x-amz-trailer", "x-amz-checksum-crc32")],
    );
    let body = b"b\r\nHello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n".to_vec();
    assert_body_rejected(
        &v,
        &with_length(parts, &body),
        &body,
        (
            400,
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
        ),
        &[],
        BodyErrorKind::ChecksumMismatch,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
}

#[tokio::test]
async fn entity_too_large() {
    let message = "Your proposed upload exceeds the maximum allowed object size.";
    let v = verifier_with(config().with_max_body_bytes(10));
    // A declared length over the limit: refused before the body.
    let r = send(&v, put_hello(&[]), HELLO.to_vec()).await;
    assert_refused(&r, 400, "EntityTooLarge", message, &[]);
    let parts = streaming(SIGNED, "11", &[]);
    let body = signed_hello(&parts);
    let r = send(&v, with_length(parts, &body), body).await;
    assert_refused(&r, 400, "EntityTooLarge", message, &[]);
    // Undeclared (HTTP-chunked): refused when the bytes pass the limit.
    let parts = sign(
        &signer(),
        head("PUT", URI, &[("transfer-encoding", "chunked")]),
        HELLO_SHA256,
        example_time(),
    );
    assert_body_rejected(
        &v,
        &parts,
        HELLO,
        (400, "EntityTooLarge", message),
        &[],
        BodyErrorKind::TooLarge,
        HELLO,
        10,
    )
    .await;
    // At the limit: fine.
    let v = verifier_with(config().with_max_body_bytes(11));
    assert_body_passes(&v, &put_hello(&[]), HELLO, HELLO).await;
    let parts = streaming(SIGNED, "11", &[]);
    let body = signed_hello(&parts);
    assert_body_passes(&v, &with_length(parts, &body), &body, HELLO).await;
}

#[tokio::test]
async fn aws_chunked_is_taken_out_of_content_encoding() {
    let v = verifier();
    for (sent, passed) in [
        ("aws-chunked", None),
        ("gzip,aws-chunked", Some("gzip")),
        ("aws-chunked,gzip", Some("gzip")),
        ("gzip, AWS-Chunked, br", Some("gzip, br")),
        ("aws-chunked, aws-chunked", None),
    ] {
        let parts = stream_head(
            SIGNED,
            &[
                ("content-encoding", sent),
                ("x-amz-decoded-content-length", "11"),
            ],
        );
        let body = signed_hello(&parts);
        let (a, seen) = send(&v, with_length(parts, &body), body).await;
        assert_passed(&a, &seen, HELLO);
        assert_eq!(seen.header("content-encoding").as_deref(), passed, "{sent}");
    }
    // Given as two header lines.
    let parts = stream_head(
        SIGNED,
        &[
            ("content-encoding", "gzip"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "11"),
        ],
    );
    let body = signed_hello(&parts);
    let (a, seen) = send(&v, with_length(parts, &body), body).await;
    assert_passed(&a, &seen, HELLO);
    assert_eq!(seen.header("content-encoding").as_deref(), Some("gzip"));
    // Optional for a streaming body.
    let parts = stream_head(SIGNED, &[("x-amz-decoded-content-length", "11")]);
    let body = signed_hello(&parts);
    let (a, seen) = send(&v, with_length(parts, &body), body).await;
    assert_passed(&a, &seen, HELLO);
    assert_eq!(seen.header("content-encoding"), None);
    // Harmless on a hashed body, and taken out too; other encodings stay.
    for (sent, passed) in [("aws-chunked", None), ("gzip", Some("gzip"))] {
        let (a, seen) = send(&v, put_hello(&[("content-encoding", sent)]), HELLO.to_vec()).await;
        assert_passed(&a, &seen, HELLO);
        assert_eq!(seen.header("content-encoding").as_deref(), passed);
        assert_eq!(seen.header("content-length").as_deref(), Some("11"));
    }
}
