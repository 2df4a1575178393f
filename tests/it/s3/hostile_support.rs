//! Helpers of the hostile S3 tests: requests signed (or half-signed) at the harness's fixed
//! time, signatures computed by hand from the seed for hand-made `aws-chunked` bodies, and an
//! assertion that runs one request in several framings and checks S3's answer and what the
//! inner service saw.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac as _};
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH};
use http::request::Parts;
use http::Request;
use sha2::{Digest as _, Sha256};
use tower_sigv4::verify::BodyErrorKind;
use tower_sigv4::{Credentials, Payload, SignablePayload, Signer, SigningSettings, Verifier};

use super::harness::*;
use super::round_trip::framed;

/// The harness's time, as `x-amz-date`.
pub const DATE: &str = "20130524T000000Z";
/// The credential of the harness's key at that time.
pub const CREDENTIAL: &str = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";
pub const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
pub const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `Hello world` and its hashes and checksums (`s3.md` §6).
pub const HELLO: &[u8] = b"Hello world";
pub const HELLO_SHA256: &str = "64ec88ca00b268e5ba1a35678a1b5316d212f4f366b2477232534a8aeca37f3c";
pub const HELLO_CRC32: &str = "i9aeUg==";
pub const HELLO_CRC32C: &str = "crUfeA==";
pub const HELLO_SHA256_B64: &str = "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=";
pub const HELLO_MD5: &str = "PiWWCnnbxptnTNTsZ6csYg==";

pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
pub const TERMINATED: &str = "The request body terminated unexpectedly";
pub const MALFORMED_TRAILER: &str = "The request contained trailing data that was not well-formed or did not conform to our published schema.";

pub fn at(offset_secs: i64) -> SystemTime {
    let t = example_time();
    if offset_secs >= 0 {
        t + Duration::from_secs(offset_secs as u64)
    } else {
        t - Duration::from_secs(offset_secs.unsigned_abs())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key of `secret` for `day` in us-east-1/s3.
pub fn signing_key(secret: &str, day: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    let k = hmac(&k, b"us-east-1");
    let k = hmac(&k, b"s3");
    hmac(&k, b"aws4_request")
}

/// The harness's signer, but never signing `Content-Length` (so that a hand-made body of any
/// length can follow).
pub fn signer_without_length() -> Signer {
    Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "s3")
        .with_settings(SigningSettings::s3().exclude_header(CONTENT_LENGTH))
}

/// A request head to `http://s3.local/bucket/key` with `headers`.
pub fn head(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "s3.local");
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(()).unwrap().into_parts().0
}

/// `parts` signed in the `Authorization` header by `signer` at `time` with the payload line
/// `line` (also set as `x-amz-content-sha256`).
pub fn sign(signer: &Signer, mut parts: Parts, line: &str, time: SystemTime) -> Parts {
    signer
        .sign(&mut parts, SignablePayload::Precomputed(line), time)
        .unwrap();
    parts
}

/// A `PUT` of `Hello world` with `headers`, signed by the harness's signer (hashed payload,
/// `Content-Length` signed).
pub fn put_hello(headers: &[(&str, &str)]) -> Parts {
    let mut all = vec![("content-length", "11")];
    all.extend_from_slice(headers);
    sign(
        &signer(),
        head("PUT", "http://s3.local/bucket/key", &all),
        HELLO_SHA256,
        example_time(),
    )
}

/// Gives `parts` (whose `Authorization` header names the credential and signed headers wanted)
/// the right signature, computed from the verifier's own string to sign: for requests no
/// signer makes (an unsigned `host`, a `Date` header instead of `x-amz-date`).
pub fn sign_by_hand(parts: &mut Parts, day: &str) {
    let v = verifier();
    let sts = {
        let checked = v
            .check(parts, example_time())
            .expect("the request passes stage one");
        checked.string_to_sign(Payload::Bytes(&[]))
    };
    let signature = hex::encode(hmac(&signing_key(SECRET, day), sts.as_bytes()));
    let value = parts.headers[AUTHORIZATION].to_str().unwrap().to_owned();
    let value = value.replace(ZEROS, &signature);
    parts
        .headers
        .insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
}

pub fn authorization(credential: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

pub fn set(parts: &mut Parts, name: &str, value: &str) {
    parts.headers.insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
}

pub fn append(parts: &mut Parts, name: &str, value: &str) {
    parts.headers.append(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
}

/// The seed of a request signed in its `Authorization` header.
pub fn seed_of(parts: &Parts) -> String {
    let auth = parts.headers[AUTHORIZATION].to_str().unwrap();
    auth.rsplit("Signature=").next().unwrap().to_owned()
}

/// The chunk and trailer signatures of a streaming request, computed by hand (`s3.md` §2.4).
#[derive(Clone)]
pub struct Chain {
    key: [u8; 32],
    previous: String,
}

impl Chain {
    /// The chain of a request signed by the harness's key at the harness's time.
    pub fn of(parts: &Parts) -> Self {
        Self {
            key: signing_key(SECRET, "20130524"),
            previous: seed_of(parts),
        }
    }

    /// The signature the next chunk with `data` needs (the chain is not advanced).
    pub fn peek(&self, data: &[u8]) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{DATE}\n{SCOPE}\n{}\n{EMPTY_SHA256}\n{}",
            self.previous,
            sha256_hex(data)
        );
        hex::encode(hmac(&self.key, sts.as_bytes()))
    }

    /// The signature of the next chunk with `data`; the chain advances.
    pub fn sign(&mut self, data: &[u8]) -> String {
        let s = self.peek(data);
        self.previous = s.clone();
        s
    }

    /// A signed data chunk.
    pub fn chunk(&mut self, data: &[u8]) -> Vec<u8> {
        let sig = self.sign(data);
        let mut out = format!("{:x};chunk-signature={sig}\r\n", data.len()).into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The signed last chunk's line.
    pub fn last(&mut self) -> Vec<u8> {
        format!("0;chunk-signature={}\r\n", self.sign(b"")).into_bytes()
    }

    /// The trailer signature of `name:value` (after the last chunk).
    pub fn trailer(&self, name: &str, value: &str) -> String {
        self.trailer_text(&format!("{name}:{value}\n"))
    }

    /// The trailer signature of the canonical trailer text `text`.
    pub fn trailer_text(&self, text: &str) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{DATE}\n{SCOPE}\n{}\n{}",
            self.previous,
            sha256_hex(text.as_bytes())
        );
        hex::encode(hmac(&self.key, sts.as_bytes()))
    }
}

/// An unsigned data chunk.
pub fn plain_chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The head of a streaming `PUT` in `mode` (the `x-amz-content-sha256` value) declaring
/// `decoded` bytes, with `Content-Encoding: aws-chunked` and `headers`, signed without
/// `Content-Length` (see [`with_length`]).
pub fn streaming(mode: &str, decoded: &str, headers: &[(&str, &str)]) -> Parts {
    let mut all = vec![
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded),
    ];
    all.extend_from_slice(headers);
    sign(
        &signer_without_length(),
        head("PUT", "http://s3.local/bucket/key", &all),
        mode,
        example_time(),
    )
}

pub const SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
pub const SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
pub const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// `parts` with `Content-Length` the length of `body`.
pub fn with_length(mut parts: Parts, body: &[u8]) -> Parts {
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    parts
}

/// What one framing of a request gave.
pub struct Run {
    pub answer: Answer,
    pub seen: Arc<Seen>,
    pub frame: usize,
}

/// Sends `body` after `parts` through the layer of `v`, as it is.
pub async fn send(v: &Verifier, parts: Parts, body: Vec<u8>) -> (Answer, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let a = serve(
        layer(v),
        seen.clone(),
        Request::from_parts(parts, full(body)),
    )
    .await;
    (a, seen)
}

/// Sends `body` after `parts` through the layer of `v` in frames of each size of `FRAMES`.
pub async fn send_framed(v: &Verifier, parts: &Parts, body: &[u8]) -> Vec<Run> {
    let mut runs = Vec::new();
    for frame in FRAMES {
        let p = parts.clone();
        let seen = Arc::new(Seen::default());
        let answer = serve(
            layer(v),
            seen.clone(),
            Request::from_parts(p, framed(body, frame)),
        )
        .await;
        runs.push(Run {
            answer,
            seen,
            frame,
        });
    }
    runs
}

/// Frame sizes every hostile body is sent in: whole, byte by byte, and odd cuts.
pub const FRAMES: [usize; 4] = [usize::MAX, 1, 7, 4099];

/// An S3 rejection with exactly `elements` between the message and the ids.
#[track_caller]
pub fn assert_rejected(
    a: &Answer,
    status: u16,
    code: &str,
    message: &str,
    elements: &[(&str, &str)],
) {
    assert_s3_error(a, status, code, message);
    let mut names = vec!["Code".to_owned(), "Message".to_owned()];
    names.extend(elements.iter().map(|(n, _)| (*n).to_owned()));
    names.extend(["RequestId".to_owned(), "HostId".to_owned()]);
    assert_eq!(a.element_names(), names, "body: {}", a.body);
    for (name, value) in elements {
        assert_eq!(
            a.element(name).as_deref(),
            Some(*value),
            "<{name}> in {}",
            a.body
        );
    }
}

/// Sends `body` in every framing of [`FRAMES`]: each is refused during the body with this
/// answer, the inner service's body ended with `kind`, the end was never reported, and the
/// bytes it got are a prefix of `payload` no longer than `verified` (what was verified before
/// the fault). Gives the runs for more assertions.
#[allow(clippy::too_many_arguments)]
pub async fn assert_body_rejected(
    v: &Verifier,
    parts: &Parts,
    body: &[u8],
    expected: (u16, &str, &str),
    elements: &[(&str, &str)],
    kind: BodyErrorKind,
    payload: &[u8],
    verified: usize,
) -> Vec<Run> {
    let runs = send_framed(v, parts, body).await;
    for run in &runs {
        let (status, code, message) = expected;
        let what = format!("frames of {}", run.frame);
        assert_eq!(run.seen.calls(), 1, "{what}: reached the service");
        assert_eq!(run.seen.error(), Some(kind), "{what}: {}", run.answer.body);
        assert!(!run.seen.ended(), "{what}: the end was reported");
        assert_rejected(&run.answer, status, code, message, elements);
        let got = run.seen.bytes();
        assert!(
            got.len() <= verified,
            "{what}: {} bytes released, {verified} verified",
            got.len()
        );
        assert!(
            payload.starts_with(&got),
            "{what}: the bytes released are not the payload's"
        );
    }
    runs
}

/// Sends `body` in every framing of [`FRAMES`]: each passes and the inner service gets
/// exactly `payload`.
pub async fn assert_body_passes(v: &Verifier, parts: &Parts, body: &[u8], payload: &[u8]) {
    for run in send_framed(v, parts, body).await {
        assert_eq!(
            run.answer.status, 200,
            "frames of {}: {}",
            run.frame, run.answer.body
        );
        assert_passed(&run.answer, &run.seen, payload);
    }
}

/// A refusal before the inner service is called.
#[track_caller]
pub fn assert_refused(
    (a, seen): &(Answer, Arc<Seen>),
    status: u16,
    code: &str,
    message: &str,
    elements: &[(&str, &str)],
) {
    assert_rejected(a, status, code, message, elements);
    assert_eq!(seen.calls(), 0, "the inner service was called");
}

/// The credential's checks, first failure only, in the order shape, region, service,
/// terminal, date format, date (each case also fails every later check).
pub fn credential_cases() -> Vec<(String, String, Option<&'static str>)> {
    let malformed =
        "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
    vec![
        (
            format!("{AKID}/20130524/us-east-1/s3"),
            malformed.into(),
            None,
        ),
        (
            format!("{AKID}/20130524/us-east-1/s3/aws4_request/x"),
            malformed.into(),
            None,
        ),
        (
            "/20130524/us-east-1/s3/aws4_request".into(),
            malformed.into(),
            None,
        ),
        (AKID.into(), malformed.into(), None),
        (
            format!("{AKID}/2013052/eu-west-1/s4/aws4_reques"),
            "the region 'eu-west-1' is wrong; expecting 'us-east-1'".into(),
            Some("us-east-1"),
        ),
        (
            format!("{AKID}/2013052/us-east-1/s4/aws4_reques"),
            "incorrect service \"s4\". This endpoint belongs to \"s3\".".into(),
            None,
        ),
        (
            format!("{AKID}/2013052/us-east-1/s3/aws4_reques"),
            "incorrect terminal \"aws4_reques\". This endpoint uses \"aws4_request\".".into(),
            None,
        ),
        (
            format!("{AKID}/2013052/us-east-1/s3/aws4_request"),
            "incorrect date format \"2013052\". This date in the credential must be in the format \"yyyyMMdd\".".into(),
            None,
        ),
        (
            format!("{AKID}/20131324/us-east-1/s3/aws4_request"),
            "incorrect date format \"20131324\". This date in the credential must be in the format \"yyyyMMdd\".".into(),
            None,
        ),
        (
            format!("{AKID}/2013O524/us-east-1/s3/aws4_request"),
            "incorrect date format \"2013O524\". This date in the credential must be in the format \"yyyyMMdd\".".into(),
            None,
        ),
    ]
}

pub const DATE_DIFFERS: &str =
    "Invalid credential date \"20130523\". This date is not the same as X-Amz-Date: \"20130524\".";
