//! The S3 profile: S3's rules for the canonical request, streaming (`aws-chunked`) uploads
//! verified chunk by chunk, trailing and header checksums, and S3's XML error answers.
//!
//! Select it with [`VerifierConfig::new`](crate::VerifierConfig::new) for the service `s3`,
//! or with [`Profile::S3`](crate::Profile::S3). Behind [`VerifySigV4Layer`](crate::VerifySigV4Layer)
//! an S3-compatible service then receives:
//!
//! * only requests whose every `x-amz-*` header is signed (S3's `AccessDenied` with
//!   `HeadersNotSigned` otherwise) — an unsigned `x-amz-copy-source` cannot turn a replayed
//!   `PutObject` into a `CopyObject`;
//! * for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` and
//!   `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, the **decoded** payload, each chunk's bytes only
//!   after that chunk's signature (chained from the seed) is verified, the end of the body only
//!   after the trailer's signature, the decoded length and every checksum are; `Content-Length`
//!   set to `x-amz-decoded-content-length` and `aws-chunked` removed from `Content-Encoding`;
//! * for a hashed payload, the body streamed, hashed as it arrives, its last piece held until
//!   the SHA-256, `Content-MD5` and any `x-amz-checksum-*` check out.
//!
//! A body that fails a check ends with a [`BodyError`](crate::verify::BodyError); the client
//! gets S3's answer ([`S3Rejections`]) unless the inner service answered first. Memory per
//! request is bounded by the largest chunk ([`StreamingLimits`](crate::StreamingLimits)),
//! never by the object.
//!
//! ```
//! use tower_sigv4::s3::S3Rejections;
//! use tower_sigv4::{Profile, VerifierConfig};
//!
//! let config = VerifierConfig::new("us-east-1", "s3");
//! assert_eq!(config.profile, Profile::S3);
//! assert_eq!(config.clock_skew.as_secs(), 900);
//! # let _ = S3Rejections;
//! ```

pub(crate) mod auth;
pub(crate) mod checksum;
pub(crate) mod chunk_signature;
pub(crate) mod decode;
pub(crate) mod errors;
pub(crate) mod payload;
mod render;

use bytes::Bytes;

pub use checksum::ChecksumAlgorithm;
pub use render::S3Rejections;

use crate::credentials::ResolvedKey;
use crate::error::Rejection;
use crate::sigv4::settings::MismatchDetail;
use crate::sigv4::verifier::{Checked, Payload, PayloadCoverage, PayloadLine, Verified};
use crate::UnsignedPayload;
use decode::{Decoder, Event, Signing};
use payload::{BodyPlan, Coverage};

/// The `aws-chunked` encodings of a streaming upload, named by `x-amz-content-sha256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamingMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: every chunk signed.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: every chunk and the checksum trailer
    /// signed.
    SignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: no chunk signature; a trailing checksum (what the
    /// AWS CLI v2 and boto3 send over HTTPS by default).
    UnsignedTrailer,
}

impl StreamingMode {
    /// The `x-amz-content-sha256` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            Self::SignedTrailer => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            Self::UnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        }
    }

    /// Whether chunks carry signatures.
    pub fn is_signed(self) -> bool {
        !matches!(self, Self::UnsignedTrailer)
    }
}

/// What admitting an S3 request gives the layer: the verified facts, what the body must
/// satisfy and, for a streaming body, its decoder.
pub(crate) struct Admission {
    pub(crate) verified: Verified,
    pub(crate) plan: BodyPlan,
    pub(crate) decoder: Option<Box<Decoder>>,
}

/// Steps 8–11 with the key: the signature, the signed `x-amz-*` headers, the headers that
/// describe the body; and the decoder a streaming body needs.
pub(crate) fn admit(checked: Checked<'_>, key: ResolvedKey) -> Result<Admission, Rejection> {
    let config = checked.verifier.config();
    let line: &str = match &checked.payload {
        PayloadLine::Declared(v) => v,
        PayloadLine::Unsigned | PayloadLine::BodyHash => crate::sigv4::canonical::UNSIGNED_PAYLOAD,
    };
    let proof = checked.prove(key, line)?;
    payload::check_signed_headers(&checked)?;
    let plan = payload::plan(&checked)?;
    let unsigned = |value: &str| {
        if config.unsigned_payload == UnsignedPayload::Rejected {
            Err(errors::content_sha256_mismatch(value, None))
        } else {
            Ok(PayloadCoverage::Unsigned)
        }
    };
    let coverage = match &plan.coverage {
        Coverage::Hash(..) => PayloadCoverage::Signed,
        Coverage::Unsigned => unsigned(line)?,
        Coverage::Streaming(mode) if mode.is_signed() => PayloadCoverage::Signed,
        Coverage::Streaming(mode) => unsigned(mode.as_str())?,
    };
    let decoder = match plan.coverage {
        Coverage::Streaming(mode) => {
            let signing = mode.is_signed().then(|| Signing {
                chain: chunk_signature::ChunkChain::new(
                    &proof.signing_key,
                    checked.amz_date(),
                    &proof.scope.to_string(),
                    proof.signature,
                ),
                access_key_id: checked.access_key_id().to_owned(),
                canonical_request: (config.mismatch_detail == MismatchDetail::CanonicalRequest)
                    .then(|| checked.canonical_text(line)),
            });
            Some(Box::new(Decoder::new(
                mode,
                config.streaming,
                signing,
                plan.decoded_length.unwrap_or(0),
                plan.trailer,
                plan.checks(),
            )))
        }
        _ => None,
    };
    let verified = checked.verified(proof, coverage);
    Ok(Admission {
        verified,
        plan,
        decoder,
    })
}

/// Whether S3 compares a hashed payload with an empty body: on `PUT` and `POST`; other
/// methods pass any well-formed hash when there is no body.
pub(crate) fn compares_empty(method: &http::Method) -> bool {
    matches!(*method, http::Method::PUT | http::Method::POST)
}

/// The sans-IO stage three of the S3 profile (see [`Checked::finish`]).
pub(crate) fn finish(
    checked: Checked<'_>,
    key: ResolvedKey,
    payload: Payload<'_>,
) -> Result<Verified, Rejection> {
    let method = checked.parts.method.clone();
    let service = checked.service().to_owned();
    let tag = |r: Rejection| r.with_service(Some(&service));
    let Admission {
        verified,
        plan,
        decoder,
    } = admit(checked, key).map_err(tag)?;
    match (payload, decoder) {
        (Payload::Bytes(body), Some(mut decoder)) => {
            let mut input = Bytes::copy_from_slice(body);
            while let Some(event) = decoder.decode(&mut input).map_err(tag)? {
                debug_assert!(matches!(event, Event::Data(_) | Event::ChunkVerified));
            }
            decoder.finish().map_err(tag)?;
        }
        (Payload::Bytes(body), None) => {
            if body.is_empty() && !compares_empty(&method) {
                return Ok(verified);
            }
            let mut checks = plan.checks();
            checks.update(body);
            checks.verify().map_err(tag)?;
        }
        (Payload::Sha256Hex(hash), None) => {
            if let Coverage::Hash(sent, _) = &plan.coverage {
                if !hash.eq_ignore_ascii_case(sent) {
                    return Err(tag(errors::content_sha256_mismatch(sent, Some(hash))));
                }
            }
        }
        (Payload::Sha256Hex(_), Some(_)) => return Err(tag(errors::terminated())),
    }
    Ok(verified)
}
