//! AWS's documented streaming examples (`s3.md` §6: "Example: PUT Object"), sent through the
#![allow(unreachable_pub)]
//! layer byte for byte: the seed, chunk and trailer signatures AWS published must verify, the
//! inner service gets the decoded 66 560 bytes, and a single changed byte anywhere is refused.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use tower_sigv4::verify::BodyErrorKind;

use super::harness::*;

const SIGNED_1: &str = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class";
const SEED_1: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const CHUNKS_1: [&str; 3] = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
];

const SIGNED_2: &str = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer";
const SEED_2: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
const CHUNKS_2: [&str; 3] = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
];
const TRAILER_SIG_2: &str = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

fn body(signatures: [&str; 3], tail: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(format!("10000;chunk-signature={}\r\n", signatures[0]).as_bytes());
    b.extend(std::iter::repeat_n(b'a', 65536));
    b.extend_from_slice(b"\r\n");
    b.extend_from_slice(format!("400;chunk-signature={}\r\n", signatures[1]).as_bytes());
    b.extend(std::iter::repeat_n(b'a', 1024));
    b.extend_from_slice(b"\r\n");
    b.extend_from_slice(format!("0;chunk-signature={}\r\n", signatures[2]).as_bytes());
    b.extend_from_slice(tail.as_bytes());
    b
}

/// §6.1, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
pub fn example_1(body: Vec<u8>) -> Request<Full> {
    Request::put("http://s3.amazonaws.com/examplebucket/chunkObject.txt")
        .header("host", "s3.amazonaws.com")
        .header("content-encoding", "aws-chunked")
        .header("content-length", body.len().to_string())
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .header("x-amz-date", "20130524T000000Z")
        .header("x-amz-decoded-content-length", "66560")
        .header("x-amz-storage-class", "REDUCED_REDUNDANCY")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders={SIGNED_1},Signature={SEED_1}"),
        )
        .body(full(body))
        .unwrap()
}

/// §6.2, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` with a CRC32C trailer.
pub fn example_2(body: Vec<u8>) -> Request<Full> {
    Request::put("http://s3.amazonaws.com/examplebucket/chunkObject.txt")
        .header("host", "s3.amazonaws.com")
        .header("content-encoding", "aws-chunked")
        .header("content-length", body.len().to_string())
        .header(
            "x-amz-content-sha256",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        )
        .header("x-amz-date", "20130524T000000Z")
        .header("x-amz-decoded-content-length", "66560")
        .header("x-amz-storage-class", "REDUCED_REDUNDANCY")
        .header("x-amz-trailer", "x-amz-checksum-crc32c")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders={SIGNED_2},Signature={SEED_2}"),
        )
        .body(full(body))
        .unwrap()
}

type Full = http_body_util::Full<Bytes>;

pub fn body_1() -> Vec<u8> {
    body(CHUNKS_1, "\r\n")
}

pub fn body_2() -> Vec<u8> {
    body(
        CHUNKS_2,
        &format!(
            "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{TRAILER_SIG_2}\r\n\r\n"
        ),
    )
}

#[tokio::test]
async fn documented_signed_chunks_verify() {
    let body = body_1();
    assert_eq!(body.len(), 66824);
    let seen = Arc::new(Seen::default());
    let a = serve(layer(&verifier()), seen.clone(), example_1(body)).await;
    assert_passed(&a, &seen, &[b'a'; 66560]);
    // The inner service gets the decoded payload's framing.
    assert_eq!(seen.header("content-length").as_deref(), Some("66560"));
    assert_eq!(seen.header("content-encoding"), None);
    assert_eq!(
        seen.header("x-amz-decoded-content-length").as_deref(),
        Some("66560")
    );
}

#[tokio::test]
async fn documented_trailer_verifies() {
    let body = body_2();
    assert_eq!(body.len(), 66946);
    let seen = Arc::new(Seen::default());
    let a = serve(layer(&verifier()), seen.clone(), example_2(body)).await;
    assert_passed(&a, &seen, &[b'a'; 66560]);
    assert_eq!(seen.header("content-length").as_deref(), Some("66560"));
}

#[tokio::test]
async fn documented_example_without_its_final_crlf_verifies() {
    let mut body = body_2();
    body.truncate(body.len() - 2);
    let seen = Arc::new(Seen::default());
    let a = serve(layer(&verifier()), seen.clone(), example_2(body)).await;
    assert_passed(&a, &seen, &[b'a'; 66560]);
}

/// One byte changed in each region of the encoded body: the chunk (or trailer) it belongs to
/// fails, and the inner service never receives the bytes of a chunk that did not verify.
#[tokio::test]
async fn any_changed_byte_is_refused() {
    // Offsets: in chunk 1's data, in chunk 2's data.
    for (offset, chunk_signature) in [(100, CHUNKS_1[0]), (88 + 65536 + 2 + 86 + 10, CHUNKS_1[1])] {
        let mut body = body_1();
        body[offset] = b'b';
        let seen = Arc::new(Seen::default());
        let a = serve(layer(&verifier()), seen.clone(), example_1(body)).await;
        assert_s3_error(
            &a,
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        );
        assert_eq!(a.element("AWSAccessKeyId").as_deref(), Some(AKID));
        assert_eq!(
            a.element("SignatureProvided").as_deref(),
            Some(chunk_signature)
        );
        assert_eq!(
            a.element_names(),
            [
                "Code",
                "Message",
                "AWSAccessKeyId",
                "SignatureProvided",
                "RequestId",
                "HostId"
            ]
        );
        assert_eq!(seen.error(), Some(BodyErrorKind::SignatureMismatch));
        assert!(!seen.ended());
        assert!(
            seen.bytes().iter().all(|&b| b == b'a'),
            "no unverified byte reached the service"
        );
        assert!(seen.bytes().len() <= 65536);
    }
    // The trailer's checksum changed (and its signature no longer matches).
    let body = body_2();
    let text = String::from_utf8(body.clone()).unwrap();
    let tampered = text.replace("sOO8/Q==", "sOO8/A==");
    let seen = Arc::new(Seen::default());
    let a = serve(
        layer(&verifier()),
        seen.clone(),
        example_2(tampered.into_bytes()),
    )
    .await;
    assert_s3_error(
        &a,
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
    assert_eq!(
        a.element("SignatureProvided").as_deref(),
        Some(TRAILER_SIG_2)
    );
    assert!(!seen.ended());
    assert!(
        seen.bytes().len() < 66560,
        "the end of the body was held back"
    );
}

/// With the opt-in mismatch detail, S3's debug elements: the chunk's string to sign and the
/// seed's canonical request.
#[tokio::test]
async fn mismatch_detail_shows_the_chunk_string_to_sign() {
    let v =
        verifier_with(config().with_mismatch_detail(tower_sigv4::MismatchDetail::CanonicalRequest));
    let mut body = body_1();
    body[100] = b'b';
    let seen = Arc::new(Seen::default());
    let a = serve(layer(&v), seen.clone(), example_1(body)).await;
    assert_eq!(a.status, 403);
    let sts = a.element("StringToSign").unwrap();
    assert!(sts.starts_with(&format!("AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{SEED_1}\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")), "{sts}");
    let creq = a.element("CanonicalRequest").unwrap();
    assert!(creq.starts_with("PUT\n/examplebucket/chunkObject.txt\n\ncontent-encoding:aws-chunked\ncontent-length:66824\n"), "{creq}");
    assert!(
        creq.ends_with("\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        "{creq}"
    );
    assert_eq!(
        a.element("StringToSignBytes")
            .unwrap()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>(),
        ["41", "57", "53"]
    );
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
}
