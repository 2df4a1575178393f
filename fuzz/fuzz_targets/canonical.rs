//! Round trip: requests signed by the public `Signer` (header or presigned, default or S3
//! rules, with or without a session token, body hashed, precomputed or unsigned) verify with a
//! `Verifier` holding the same key (`StaticKeys`) at the same instant, for arbitrary methods,
//! paths, query strings, header names and values, hosts and bodies.
//!
//! Inputs the http crate cannot represent, or that the signer refuses (`SignError`), are
//! skipped, and so are the parts of an input that would make a *different* request than the
//! one signed: an `Authorization`, `x-amz-content-sha256` or `x-amz-security-token` header of
//! the input's own, and `X-Amz-*` query parameters of its own (the verifier rightly reads
//! those as the client's declarations).
#![no_main]

use std::time::{Duration, SystemTime};

use arbitrary::Arbitrary;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use libfuzzer_sys::fuzz_target;
use tower_sigv4::{
    ContentSha256Header, Credentials, MismatchDetail, Principal, Profile, RejectionKind,
    SessionTokenMode, SignablePayload, Signer, SigningSettings, StaticKeys, Verifier,
    VerifierConfig,
};
use tower_sigv4_fuzz::{block_on, payload_hash};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[derive(Arbitrary, Debug)]
struct Absolute {
    https: bool,
    userinfo: Option<String>,
    host: String,
    port: Option<u16>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    custom_method: String,
    absolute: Option<Absolute>,
    host_header: Option<Vec<u8>>,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    presign: bool,
    s3: bool,
    include_content_sha256: bool,
    payload: u8,
    token: Option<String>,
    token_unsigned: bool,
    time: u64,
    expires: u32,
    access_key_id: Option<String>,
    region: Option<String>,
    service: Option<String>,
}

const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

/// A non-empty name of `allowed` characters, or the default.
fn name(given: &Option<String>, allowed: fn(char) -> bool, default: &str) -> Option<String> {
    match given {
        None => Some(default.to_owned()),
        Some(s) if !s.is_empty() && s.chars().all(allowed) => Some(s.clone()),
        Some(_) => None,
    }
}

/// The query without pieces whose decoded key is an `X-Amz-` parameter.
fn own_query(query: &str) -> String {
    query
        .split('&')
        .filter(|piece| {
            let key = form_urlencoded::parse(piece.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            !key.starts_with("X-Amz-")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fuzz_target!(|input: Input| {
    let Some(akid) = name(
        &input.access_key_id,
        |c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c),
        "AKIDEXAMPLE",
    ) else {
        return;
    };
    let scope_char = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let (Some(region), Some(service)) = (
        name(&input.region, scope_char, "us-east-1"),
        name(&input.service, scope_char, "service"),
    ) else {
        return;
    };
    let method = match METHODS.get(usize::from(input.method)) {
        Some(m) => Method::from_bytes(m.as_bytes()),
        None => Method::from_bytes(input.custom_method.as_bytes()),
    };
    let Ok(method) = method else { return };

    let mut target = String::new();
    if let Some(abs) = &input.absolute {
        target.push_str(if abs.https { "https://" } else { "http://" });
        if let Some(u) = &abs.userinfo {
            target.push_str(u);
            target.push('@');
        }
        target.push_str(&abs.host);
        if let Some(p) = abs.port {
            target.push_str(&format!(":{p}"));
        }
    }
    if !input.path.starts_with('/') {
        target.push('/');
    }
    target.push_str(&input.path);
    if let Some(q) = &input.query {
        target.push('?');
        target.push_str(&own_query(q));
    }
    let Ok(uri) = Uri::try_from(target.as_str()) else {
        return;
    };

    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(h) = &input.host_header {
        let Ok(v) = HeaderValue::from_bytes(h) else {
            return;
        };
        builder = builder.header(http::header::HOST, v);
    }
    for (n, v) in &input.headers {
        let Ok(n) = HeaderName::from_bytes(n.as_bytes()) else {
            return;
        };
        if matches!(
            n.as_str(),
            "authorization" | "x-amz-content-sha256" | "x-amz-security-token"
        ) {
            continue;
        }
        let Ok(v) = HeaderValue::from_bytes(v) else {
            return;
        };
        builder = builder.header(n, v);
    }
    let Ok(request) = builder.body(()) else {
        return;
    };
    let (mut parts, ()) = request.into_parts();

    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(input.time % 253_402_300_800);
    let mut credentials = Credentials::new(akid.clone(), SECRET);
    if let Some(t) = &input.token {
        credentials = credentials.with_session_token(t.clone());
    }
    let mut settings = if input.s3 {
        SigningSettings::s3()
    } else {
        SigningSettings::default()
    };
    // The S3 profile requires `x-amz-content-sha256` on header-signed requests.
    settings.content_sha256 = if input.include_content_sha256 || input.s3 {
        ContentSha256Header::Include
    } else {
        ContentSha256Header::Omit
    };
    // The S3 profile refuses an unsigned `x-amz-security-token` (HeadersNotSigned).
    if input.token_unsigned && !input.s3 {
        settings.session_token = SessionTokenMode::Unsigned;
    }
    let signer = Signer::new(credentials, region.clone(), service.clone()).with_settings(settings);

    let mut config = VerifierConfig::new(region.clone(), service.clone())
        .with_mismatch_detail(MismatchDetail::CanonicalRequest);
    if input.s3 {
        config = config.with_profile(Profile::S3);
    }
    let principal = Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE");
    let keys = match &input.token {
        None => StaticKeys::new().with_key(akid.clone(), SECRET, principal),
        Some(t) => StaticKeys::new().with_session_key(
            akid.clone(),
            SECRET,
            t.clone(),
            principal,
            time + Duration::from_secs(86_400),
        ),
    };
    let verifier = Verifier::new(config, keys).expect("verifier");

    let hash = payload_hash(&input.body);
    let body = input.body.as_slice();
    let (verify_parts, how) = if input.presign {
        // A presigned URL's payload line is what the verifier's rules say it is.
        let payload = match (input.s3, input.payload % 2) {
            (true, _) => SignablePayload::Unsigned,
            (false, 0) => SignablePayload::Bytes(body),
            (false, _) => SignablePayload::Precomputed(&hash),
        };
        let expires = Duration::from_secs(u64::from(input.expires % 604_800) + 1);
        let Ok(url) = signer.presign(&parts, payload, expires, time) else {
            return;
        };
        let mut presigned = parts.clone();
        presigned.uri = url;
        (presigned, "presign")
    } else {
        let payload = match (input.include_content_sha256, input.payload % 3) {
            (_, 0) => SignablePayload::Bytes(body),
            (_, 1) => SignablePayload::Precomputed(&hash),
            (true, _) => SignablePayload::Unsigned,
            (false, _) => SignablePayload::Bytes(body),
        };
        if signer.sign(&mut parts, payload, time).is_err() {
            return;
        }
        (parts, "sign")
    };
    if let Err(rejection) = block_on(verifier.verify(&verify_parts, body, time)) {
        // The S3 profile gives meaning to some signed headers (`x-amz-checksum-*`,
        // `content-md5` …) and refuses those it cannot honour: not a signature fault.
        let s3_semantics = matches!(
            rejection.kind(),
            RejectionKind::InvalidRequest
                | RejectionKind::ChecksumMismatch
                | RejectionKind::NotImplemented
                | RejectionKind::LengthRequired
        );
        if input.s3 && s3_semantics {
            return;
        }
        // S3 reads a `Signature` query parameter as SigV2's presigned signature: beside an
        // `Authorization` header that is two mechanisms (S3's rule, not a signing fault).
        let sigv2 = form_urlencoded::parse(verify_parts.uri.query().unwrap_or_default().as_bytes())
            .any(|(k, _)| k == "Signature");
        if input.s3 && sigv2 && rejection.kind() == RejectionKind::MultipleAuthMechanisms {
            return;
        }
        panic!(
            "a request the signer signed ({how}) does not verify: {:?}\n{}\nrequest: {} {}\n{:?}",
            rejection.kind(),
            rejection.message(),
            verify_parts.method,
            verify_parts.uri,
            verify_parts.headers
        );
    }
});
