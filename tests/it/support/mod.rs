//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use http::request::Parts;

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the time of every official vector.
pub const VECTOR_TIME: u64 = 1_440_938_160;

pub fn vector_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(VECTOR_TIME)
}

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigv4-test-suite")
}

/// Percent-encodes the bytes a request line may not carry raw (space, non-ASCII), as an HTTP
/// client puts them on the wire. Returns whether anything was encoded.
pub fn wire_encode(target: &str) -> (String, bool) {
    let mut out = String::with_capacity(target.len());
    let mut changed = false;
    for b in target.bytes() {
        if b == b' ' || b >= 0x80 {
            out.push_str(&format!("%{b:02X}"));
            changed = true;
        } else {
            out.push(b as char);
        }
    }
    (out, changed)
}

/// A request as written in the suite's files.
pub struct TextRequest {
    pub parts: Parts,
    pub body: Vec<u8>,
    /// Whether the request line held raw bytes that had to be encoded for the wire.
    pub raw_path: bool,
}

/// Parses `METHOD TARGET HTTP/1.1`, `Name:value` lines (obsolete folding joined with a space)
/// and the body after the blank line.
pub fn parse_request(text: &str) -> TextRequest {
    let text = text.replace("\r\n", "\n");
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h.to_owned(), b.to_owned()),
        None => (text.trim_end_matches('\n').to_owned(), String::new()),
    };
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    let method = request_line.split(' ').next().expect("method");
    let target = request_line
        .strip_prefix(method)
        .map(|r| r.strip_suffix(" HTTP/1.1").unwrap_or(r))
        .expect("target")
        .trim_start();
    let (target, raw_path) = wire_encode(target);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            let last = headers.last_mut().expect("continuation after a header");
            last.1.push(' ');
            last.1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()));
        }
    }
    let mut builder = http::Request::builder().method(method).uri(target);
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let (parts, ()) = builder.body(()).expect("valid request").into_parts();
    TextRequest {
        parts,
        body: body.into_bytes(),
        raw_path,
    }
}

pub fn read(path: impl AsRef<std::path::Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A signature placeholder: requests are built with it, then [`sign`] fills in the real one.
pub const ZERO_SIG: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// Replaces [`ZERO_SIG`] in `req` with the signature for `secret`, computed from the string to
/// sign the verifier derives (the official vectors prove that derivation separately).
pub fn sign<B>(
    v: &tower_sigv4::Verifier,
    mut req: http::Request<B>,
    body: &[u8],
    secret: &str,
    now: SystemTime,
) -> http::Request<B> {
    let (parts, b) = req.into_parts();
    let sig = {
        let checked = v.check(&parts, now).expect("stage one");
        let sts = checked.string_to_sign(tower_sigv4::Payload::Bytes(body));
        let scope = checked.scope();
        let key = derive(secret, scope.date(), scope.region(), scope.service());
        hex::encode(hmac(&key, sts.as_bytes()))
    };
    req = http::Request::from_parts(parts, b);
    if let Some(a) = req.headers().get("authorization").cloned() {
        let a = a.to_str().unwrap().replace(ZERO_SIG, &sig);
        req.headers_mut()
            .insert("authorization", http::HeaderValue::from_str(&a).unwrap());
    } else {
        let uri = req.uri().to_string().replace(ZERO_SIG, &sig);
        *req.uri_mut() = uri.parse().unwrap();
    }
    req
}

/// A GET signed in the header for `akid`, scoped to us-east-1/execute-api at the vector time.
pub fn header_get(host: &str, path: &str, akid: &str) -> http::Request<()> {
    http::Request::get(format!("http://{host}{path}"))
        .header("host", host)
        .header("x-amz-date", "20150830T123600Z")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={akid}/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature={ZERO_SIG}"),
        )
        .body(())
        .unwrap()
}
