//! Hostile trailer parts (`s3.md` §2.3, §2.5): data after the end, a blank line before the
//! trailer, undeclared, repeated and misnamed trailers, values that are no checksum, a
//! missing, wrong or misplaced `x-amz-trailer-signature`, in both trailer modes. Each is sent
//! whole, byte by byte and in odd frames; the inner service never sees the end.

use tower_sigv4::verify::BodyErrorKind;
use tower_sigv4::MismatchDetail;

use super::harness::*;
use super::hostile_support::*;

const TERM: (u16, &str, &str) = (400, "IncompleteBody", TERMINATED);
const TRAILER: (u16, &str, &str) = (400, "MalformedTrailerError", MALFORMED_TRAILER);
const MISMATCH: (u16, &str, &str) = (403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH);
const CRC: &str = "x-amz-checksum-crc32";

/// A signed-trailer upload of `Hello world` declaring a CRC32 trailer: its head, the chain
/// after the last chunk, and the bytes up to the trailer part.
fn signed_upload() -> (http::request::Parts, Chain, Vec<u8>) {
    let parts = streaming(SIGNED_TRAILER, "11", &[("x-amz-trailer", CRC)]);
    let mut chain = Chain::of(&parts);
    let mut body = chain.chunk(HELLO);
    body.extend(chain.last());
    (parts, chain, body)
}

/// The signed upload with the trailer part `tail`.
fn signed_with(tail: &str) -> (http::request::Parts, Vec<u8>) {
    let (parts, _, mut body) = signed_upload();
    body.extend_from_slice(tail.as_bytes());
    (with_length(parts, &body), body)
}

/// The trailer signature of `value` for the signed upload.
fn trailer_signature(value: &str) -> String {
    signed_upload().1.trailer(CRC, value)
}

/// The unsigned upload (`x-amz-trailer` as given) with the trailer part `tail`.
fn unsigned_with(trailer: Option<&str>, tail: &str) -> (http::request::Parts, Vec<u8>) {
    let headers: Vec<(&str, &str)> = trailer.map(|t| ("x-amz-trailer", t)).into_iter().collect();
    let parts = streaming(UNSIGNED_TRAILER, "11", &headers);
    let body = format!("b\r\nHello world\r\n0\r\n{tail}").into_bytes();
    (with_length(parts, &body), body)
}

async fn refused(
    (parts, body): (http::request::Parts, Vec<u8>),
    expected: (u16, &str, &str),
    elements: &[(&str, &str)],
    kind: BodyErrorKind,
) {
    assert_body_rejected(
        &verifier(),
        &parts,
        &body,
        expected,
        elements,
        kind,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
}

async fn passes((parts, body): (http::request::Parts, Vec<u8>)) {
    assert_body_passes(&verifier(), &parts, &body, HELLO).await;
}

#[tokio::test]
async fn well_formed_trailers_pass() {
    let sig = trailer_signature(HELLO_CRC32);
    passes(signed_with(&format!(
        "{CRC}:{HELLO_CRC32}\r\nx-amz-trailer-signature:{sig}\r\n\r\n"
    )))
    .await;
    // Whitespace around the colon and the value, and the name's case, do not matter.
    passes(signed_with(&format!(
        "X-Amz-Checksum-CRC32 :\t{HELLO_CRC32} \r\nx-amz-trailer-signature: {sig}\r\n\r\n"
    )))
    .await;
    passes(unsigned_with(
        Some(CRC),
        &format!("{CRC}:{HELLO_CRC32}\r\n\r\n"),
    ))
    .await;
    passes(unsigned_with(
        Some(CRC),
        &format!("X-AMZ-CHECKSUM-CRC32 : {HELLO_CRC32}\r\n\r\n"),
    ))
    .await;
}

#[tokio::test]
async fn nothing_may_follow_the_end() {
    let sig = trailer_signature(HELLO_CRC32);
    let tail = format!("{CRC}:{HELLO_CRC32}\r\nx-amz-trailer-signature:{sig}\r\n\r\n");
    for junk in ["x", "\r\n", "0\r\n\r\n"] {
        refused(
            signed_with(&format!("{tail}{junk}")),
            TRAILER,
            &[],
            BodyErrorKind::Malformed,
        )
        .await;
        refused(
            unsigned_with(Some(CRC), &format!("{CRC}:{HELLO_CRC32}\r\n\r\n{junk}")),
            TRAILER,
            &[],
            BodyErrorKind::Malformed,
        )
        .await;
    }
    // The signed mode without trailer: its end is the blank line after the last chunk.
    let parts = streaming(SIGNED, "11", &[]);
    let mut chain = Chain::of(&parts);
    let mut body = chain.chunk(HELLO);
    body.extend(chain.last());
    for junk in [
        &b"\r\nx"[..],
        b"\r\n\r\n",
        b"x-amz-checksum-crc32:i9aeUg==\r\n\r\n",
    ] {
        let body = [body.as_slice(), junk].concat();
        refused(
            (with_length(parts.clone(), &body), body),
            TRAILER,
            &[],
            BodyErrorKind::Malformed,
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_trailer_parts() {
    let sig = trailer_signature(HELLO_CRC32);
    let sig_line = format!("x-amz-trailer-signature:{sig}\r\n");
    let tails = [
        // A blank line before the trailer.
        format!("\r\n{CRC}:{HELLO_CRC32}\r\n{sig_line}\r\n"),
        // The declared trailer missing.
        format!("{sig_line}\r\n"),
        "\r\n".to_owned(),
        // Another name than the declared one.
        format!("x-amz-checksum-crc32c:{HELLO_CRC32C}\r\n{sig_line}\r\n"),
        // An undeclared extra line, before or after the checksum.
        format!("x-amz-meta-a:1\r\n{CRC}:{HELLO_CRC32}\r\n{sig_line}\r\n"),
        format!("{CRC}:{HELLO_CRC32}\r\nx-amz-meta-a:1\r\n{sig_line}\r\n"),
        // Repeated: the same value, bad then good, good then bad.
        format!("{CRC}:{HELLO_CRC32}\r\n{CRC}:{HELLO_CRC32}\r\n{sig_line}\r\n"),
        format!("{CRC}:AAAAAA==\r\n{CRC}:{HELLO_CRC32}\r\n{sig_line}\r\n"),
        format!("{CRC}:{HELLO_CRC32}\r\n{CRC}:AAAAAA==\r\n{sig_line}\r\n"),
        // No colon.
        format!("{CRC} {HELLO_CRC32}\r\n{sig_line}\r\n"),
        // The signature first, or twice.
        format!("{sig_line}{CRC}:{HELLO_CRC32}\r\n\r\n"),
        format!("{CRC}:{HELLO_CRC32}\r\n{sig_line}{sig_line}\r\n"),
        // A line that ends in LF alone.
        format!("{CRC}:{HELLO_CRC32}\n{sig_line}\r\n"),
    ];
    for tail in tails {
        refused(signed_with(&tail), TRAILER, &[], BodyErrorKind::Malformed).await;
    }
    // The unsigned mode: the same faults, a signature line, a trailer not declared.
    for (declared, tail) in [
        (Some(CRC), format!("\r\n{CRC}:{HELLO_CRC32}\r\n\r\n")),
        (Some(CRC), "\r\n".to_owned()),
        (
            Some(CRC),
            format!("x-amz-checksum-sha1:{HELLO_CRC32}\r\n\r\n"),
        ),
        (
            Some(CRC),
            format!("{CRC}:{HELLO_CRC32}\r\n{CRC}:{HELLO_CRC32}\r\n\r\n"),
        ),
        (Some(CRC), format!("{CRC}:{HELLO_CRC32}\r\n{sig_line}\r\n")),
        (None, format!("{CRC}:{HELLO_CRC32}\r\n\r\n")),
    ] {
        refused(
            unsigned_with(declared, &tail),
            TRAILER,
            &[],
            BodyErrorKind::Malformed,
        )
        .await;
    }
}

#[tokio::test]
async fn trailer_values_that_are_no_checksum() {
    let invalid = (
        400,
        "InvalidRequest",
        "Value for x-amz-checksum-crc32 trailing header is invalid.",
    );
    for value in ["AAAA", "", "not base64", "i9aeUg", "AAAAAAAAAAAA"] {
        let sig = trailer_signature(value);
        refused(
            signed_with(&format!(
                "{CRC}:{value}\r\nx-amz-trailer-signature:{sig}\r\n\r\n"
            )),
            invalid,
            &[],
            BodyErrorKind::Malformed,
        )
        .await;
        refused(
            unsigned_with(Some(CRC), &format!("{CRC}:{value}\r\n\r\n")),
            invalid,
            &[],
            BodyErrorKind::Malformed,
        )
        .await;
    }
    // The message names the declared header.
    refused(
        unsigned_with(
            Some("x-amz-checksum-sha256"),
            &format!("x-amz-checksum-sha256:{HELLO_CRC32}\r\n\r\n"),
        ),
        (
            400,
            "InvalidRequest",
            "Value for x-amz-checksum-sha256 trailing header is invalid.",
        ),
        &[],
        BodyErrorKind::Malformed,
    )
    .await;
}

#[tokio::test]
async fn trailer_signature_missing_or_wrong() {
    // Missing: the body ended early.
    refused(
        signed_with(&format!("{CRC}:{HELLO_CRC32}\r\n\r\n")),
        TERM,
        &[],
        BodyErrorKind::Malformed,
    )
    .await;
    // Cut in the trailer part: in the checksum line, after it, in the signature line.
    let right = trailer_signature(HELLO_CRC32);
    for tail in [
        "x-amz-checksum-crc32:i9ae".to_owned(),
        format!("{CRC}:{HELLO_CRC32}\r"),
        format!("{CRC}:{HELLO_CRC32}\r\n"),
        format!("{CRC}:{HELLO_CRC32}\r\nx-amz-trailer-sig"),
        format!(
            "{CRC}:{HELLO_CRC32}\r\nx-amz-trailer-signature:{}",
            &right[..30]
        ),
        format!("{CRC}:{HELLO_CRC32}\r\nx-amz-trailer-signature:{right}\r\n\r"),
    ] {
        refused(signed_with(&tail), TERM, &[], BodyErrorKind::Malformed).await;
    }
    for tail in [
        "x-amz-checksum-crc32:i9ae",
        "x-amz-checksum-crc32:i9aeUg==\r",
    ] {
        refused(
            unsigned_with(Some(CRC), tail),
            TERM,
            &[],
            BodyErrorKind::Malformed,
        )
        .await;
    }
    // Only the final CRLF may be missing.
    passes(signed_with(&format!(
        "{CRC}:{HELLO_CRC32}\r\nx-amz-trailer-signature:{right}\r\n"
    )))
    .await;
    passes(unsigned_with(
        Some(CRC),
        &format!("{CRC}:{HELLO_CRC32}\r\n"),
    ))
    .await;
    // The canonical trailer text without its `\n`, or with `\r\n` (s3.md §6.2).
    let (_, chain, _) = signed_upload();
    for provided in [
        trailer_signature("AAAAAA=="),
        right.to_uppercase(),
        right[..63].to_owned(),
        "z".repeat(64),
        String::new(),
        chain.trailer_text(&format!("{CRC}:{HELLO_CRC32}")),
        chain.trailer_text(&format!("{CRC}:{HELLO_CRC32}\r\n")),
    ] {
        let tail = format!("{CRC}:{HELLO_CRC32}\r\nx-amz-trailer-signature:{provided}\r\n\r\n");
        refused(
            signed_with(&tail),
            MISMATCH,
            &[("AWSAccessKeyId", AKID), ("SignatureProvided", &provided)],
            BodyErrorKind::SignatureMismatch,
        )
        .await;
    }
    // The trailer's string to sign, with the opt-in detail.
    let v = verifier_with(config().with_mismatch_detail(MismatchDetail::CanonicalRequest));
    let (parts, body) = signed_with(&format!(
        "{CRC}:AAAAAA==\r\nx-amz-trailer-signature:{right}\r\n\r\n"
    ));
    let (a, seen) = send(&v, parts, body).await;
    assert_eq!(a.status, 403);
    assert!(!seen.ended());
    let sts = a.element("StringToSign").unwrap();
    assert!(
        sts.starts_with(&format!("AWS4-HMAC-SHA256-TRAILER\n{DATE}\n{SCOPE}\n")),
        "{sts}"
    );
    assert!(
        sts.ends_with(&sha256_hex(format!("{CRC}:AAAAAA==\n").as_bytes())),
        "{sts}"
    );
}
