//! Signing and verification, ours against the peers, on four requests in one run: (1) a GET with
//! a query and 5 headers, (2) a PUT with a 4 KiB body, (3) a PUT with a 1 MiB body, (4) a
//! presigned GET URL.
//!
//! Per case (one criterion group each): `sign/ours` vs `sign/aws-sigv4`; `verify/ours` vs
//! `verify/scratchstack` (`scratchstack-aws-signature`) and `verify/floor`, the work no verifier
//! can skip (the payload hash, one SHA-256 of the canonical request, one HMAC with a cached
//! signing key, a constant-time compare); and for the bodies, `sha256/body`, a plain SHA-256 of
//! the body. Every contender gets the same request, checked before timing (the signatures agree
//! and every verifier accepts).
//!
//! scratchstack cannot verify presigned URLs (see `bench_case`), so case (4) has no
//! `verify/scratchstack`.
//!
//! Steady state throughout: our signer and verifier have their signing key cached (they derive
//! it once per scope and day); the scratchstack key service returns a precomputed signing key, as
//! a caching one would. `aws-sigv4` has no cache: it derives the key (4 more HMACs) on each call,
//! which is what a caller of it pays.
//!
//! ```text
//! cargo bench --bench sigv4 -- --warm-up-time 1 --measurement-time 3
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::hint::black_box;
use std::str::FromStr;
use std::task::{Context, Poll};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningParams as AwsParams,
    SigningSettings as AwsSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use common::{block_on, Case, AKID, REGION, SECRET, SERVICE};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hmac::{Hmac, Mac};
use http::request::Parts;
use scratchstack_aws_signature::principal::User;
use scratchstack_aws_signature::{
    sigv4_validate_request, GetSigningKeyRequest, GetSigningKeyResponse, KSecretKey,
    SignatureOptions, NO_ADDITIONAL_SIGNED_HEADERS,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower::{BoxError, Service};
use tower_sigv4::Payload;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().into()
}

// ---- aws-sigv4 -------------------------------------------------------------------------------

fn aws_settings(case: &Case) -> AwsSettings {
    let mut settings = AwsSettings::default();
    if case.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(common::PRESIGN_EXPIRES);
    }
    settings
}

fn aws_params<'a>(identity: &'a Identity, case: &Case) -> AwsParams<'a> {
    v4::SigningParams::builder()
        .identity(identity)
        .region(REGION)
        .name(SERVICE)
        .time(common::now())
        .settings(aws_settings(case))
        .build()
        .unwrap()
        .into()
}

/// Signs an unsigned request of `case` with aws-sigv4 and applies the result to it.
fn aws_sign(params: &AwsParams<'_>, case: &Case, mut req: http::Request<()>) -> http::Request<()> {
    let signable = SignableRequest::new(
        req.method().as_str(),
        case.uri,
        req.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        SignableBody::Bytes(&case.body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    req
}

// ---- scratchstack-aws-signature --------------------------------------------------------------

/// A key service with the signing key precomputed, as a caching one would answer.
#[derive(Clone)]
struct ScratchKeys(HashMap<String, GetSigningKeyResponse>);

impl ScratchKeys {
    fn new() -> Self {
        let user = User::new("aws", "123456789012", "/", "bench").unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2015, 8, 30).unwrap();
        let key = KSecretKey::from_str(SECRET)
            .unwrap()
            .to_ksigning(date, REGION, SERVICE);
        let response = GetSigningKeyResponse::builder()
            .principal(user)
            .signing_key(key)
            .build()
            .unwrap();
        Self(HashMap::from([(AKID.to_owned(), response)]))
    }
}

impl Service<GetSigningKeyRequest> for ScratchKeys {
    type Response = GetSigningKeyResponse;
    type Error = BoxError;
    type Future = Ready<Result<GetSigningKeyResponse, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: GetSigningKeyRequest) -> Self::Future {
        ready(
            self.0
                .get(req.access_key())
                .cloned()
                .ok_or_else(|| "unknown access key".into()),
        )
    }
}

/// scratchstack takes the request by value: a fresh copy per iteration, made outside the timing.
fn scratch_request(parts: &Parts, body: &Bytes) -> http::Request<Bytes> {
    let mut req = http::Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone())
        .body(body.clone())
        .unwrap();
    *req.headers_mut() = parts.headers.clone();
    req
}

/// scratchstack's API is async, but with this key service nothing in it waits: `block_on`
/// polls it once (no runtime needed, none measured), as for our own `verify`.
fn scratch_verify(
    keys: &mut ScratchKeys,
    req: http::Request<Bytes>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), BoxError> {
    block_on(sigv4_validate_request(
        req,
        REGION,
        SERVICE,
        keys,
        at,
        &NO_ADDITIONAL_SIGNED_HEADERS,
        SignatureOptions::default(),
    ))
    .map(|_| ())
}

// ---- the floor -------------------------------------------------------------------------------

/// The work no verifier can skip, on inputs prepared ahead: hash the body, hash the canonical
/// request (its text before the payload line, then the payload hash), one HMAC of the string to
/// sign with the cached signing key, compare in constant time.
struct Floor {
    /// The canonical request up to and including the newline before the payload line.
    creq_head: Vec<u8>,
    /// The string to sign up to the canonical request hash.
    sts_head: Vec<u8>,
    signing_key: [u8; 32],
    provided: [u8; 32],
}

impl Floor {
    fn new(parts: &Parts, body: &[u8]) -> Self {
        let verifier = common::verifier();
        let checked = verifier.check(parts, common::now()).unwrap();
        let creq = checked.canonical_request(Payload::Bytes(body));
        let sts = checked.string_to_sign(Payload::Bytes(body));
        let scope = checked.scope();
        let head_len = creq.rfind('\n').unwrap() + 1;
        let k = hmac(format!("AWS4{SECRET}").as_bytes(), scope.date().as_bytes());
        let k = hmac(&k, scope.region().as_bytes());
        let k = hmac(&k, scope.service().as_bytes());
        let signing_key = hmac(&k, b"aws4_request");
        let mut provided = [0; 32];
        hex::decode_to_slice(signature_of(parts), &mut provided).unwrap();
        Self {
            creq_head: creq.as_bytes()[..head_len].to_vec(),
            sts_head: sts.as_bytes()[..sts.len() - 64].to_vec(),
            signing_key,
            provided,
        }
    }

    fn verify(&self, body: &[u8]) -> bool {
        let mut payload_hex = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(body), &mut payload_hex).unwrap();
        let mut creq = Sha256::new();
        creq.update(&self.creq_head);
        creq.update(payload_hex);
        let mut creq_hex = [0u8; 64];
        hex::encode_to_slice(creq.finalize(), &mut creq_hex).unwrap();
        let mut mac = HmacSha256::new_from_slice(&self.signing_key).unwrap();
        mac.update(&self.sts_head);
        mac.update(&creq_hex);
        let computed: [u8; 32] = mac.finalize().into_bytes().into();
        computed.ct_eq(&self.provided).into()
    }
}

fn signature_of(parts: &Parts) -> String {
    if let Some(a) = parts.headers.get("authorization") {
        return a
            .to_str()
            .unwrap()
            .rsplit("Signature=")
            .next()
            .unwrap()
            .to_owned();
    }
    parts
        .uri
        .query()
        .unwrap()
        .split('&')
        .find_map(|p| p.strip_prefix("X-Amz-Signature="))
        .unwrap()
        .to_owned()
}

// ---- the run ---------------------------------------------------------------------------------

fn bench_case(c: &mut Criterion, case: &Case) {
    let signer = common::signer();
    let verifier = common::verifier();
    let now = common::now();
    let identity: Identity = AwsCredentials::new(AKID, SECRET, None, None, "bench").into();
    let params = aws_params(&identity, case);
    let mut scratch_keys = ScratchKeys::new();
    let scratch_time = chrono::DateTime::from_timestamp(common::SIGNED_AT as i64, 0).unwrap();
    let body = Bytes::from(case.body.clone());

    // Same inputs, checked once before timing.
    let signed = common::signed(case);
    let theirs = aws_sign(
        &params,
        case,
        http::Request::from_parts(case.unsigned(), ()),
    );
    let theirs = theirs.into_parts().0;
    assert_eq!(
        signature_of(&signed),
        signature_of(&theirs),
        "{}: ours and aws-sigv4 sign differently",
        case.name
    );
    block_on(verifier.verify(&signed, &case.body, now)).unwrap();
    block_on(verifier.verify(&theirs, &case.body, now)).unwrap();
    // scratchstack-aws-signature 0.11.4 cannot verify a presigned URL: it reads
    // `X-Amz-Credential` from its canonical (percent-encoded) query map without decoding it, so
    // the `/` separators every client encodes (`%2F`, as aws-sigv4, botocore and we do; a raw `/`
    // is normalised to `%2F` too) make it answer "Credential must have exactly 5 slash-delimited
    // elements". So case (4) has no `verify/scratchstack`; should a later version accept the URL,
    // the bench includes it again by itself.
    let scratch = match scratch_verify(
        &mut scratch_keys,
        scratch_request(&signed, &body),
        scratch_time,
    ) {
        Ok(()) => true,
        Err(e) if case.presign => {
            eprintln!(
                "{}: verify/scratchstack skipped, it rejects the presigned URL: {e}",
                case.name
            );
            false
        }
        Err(e) => panic!("{}: scratchstack rejects the request: {e}", case.name),
    };
    let floor = Floor::new(&signed, &case.body);
    assert!(
        floor.verify(&case.body),
        "{}: the floor disagrees",
        case.name
    );

    let mut group = c.benchmark_group(case.name);
    if !case.body.is_empty() {
        group.throughput(Throughput::Bytes(case.body.len() as u64));
    }
    group.bench_function("sign/ours", |b| {
        b.iter_batched(
            || case.unsigned(),
            |mut parts| {
                common::sign_ours(black_box(&signer), case, &mut parts);
                parts
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("sign/aws-sigv4", |b| {
        b.iter_batched(
            || http::Request::from_parts(case.unsigned(), ()),
            |req| aws_sign(black_box(&params), case, req),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("verify/ours", |b| {
        b.iter(|| {
            block_on(verifier.verify(black_box(&signed), black_box(&case.body), now)).unwrap()
        })
    });
    if scratch {
        group.bench_function("verify/scratchstack", |b| {
            b.iter_batched(
                || scratch_request(&signed, &body),
                |req| scratch_verify(&mut scratch_keys, black_box(req), scratch_time).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.bench_function("verify/floor", |b| {
        b.iter(|| assert!(black_box(&floor).verify(black_box(&case.body))))
    });
    if !case.body.is_empty() {
        group.bench_function("sha256/body", |b| {
            b.iter(|| Sha256::digest(black_box(&case.body)))
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    for case in common::cases() {
        bench_case(c, &case);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
