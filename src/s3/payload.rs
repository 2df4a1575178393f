//! What the S3 profile checks of the body before and after reading it: the headers that
//! describe it (`s3.md` §2.2 and §3, step 11 of §7) and, at its end, the hashes and checksums
//! (step 13), in S3's order.

use http::request::Parts;
use sha2::{Digest as _, Sha256};

use super::auth::ContentSha256;
use super::checksum::{decode_md5, Checksum, ChecksumAlgorithm, Md5Sum};
use super::errors::{self, invalid_request};
use super::StreamingMode;
use crate::error::{Rejection, RejectionKind};
use crate::sigv4::canonical::{self, split_ascii};
use crate::sigv4::parse::AuthLocation;
use crate::sigv4::settings::ChecksumVerification;
use crate::sigv4::verifier::{Checked, PayloadLine};

/// How the payload is covered, as the S3 profile reads `x-amz-content-sha256`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Coverage {
    /// A hex SHA-256 the body must match (the value as sent, and its bytes).
    Hash(String, [u8; 32]),
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// `aws-chunked`.
    Streaming(StreamingMode),
}

/// What the body must satisfy, decided from the headers once the signature is proven.
#[derive(Clone, Debug)]
pub(crate) struct BodyPlan {
    pub(crate) coverage: Coverage,
    /// The declared decoded length of a streaming body.
    pub(crate) decoded_length: Option<u64>,
    /// The trailing checksum a streaming body declares (`x-amz-trailer`).
    pub(crate) trailer: Option<ChecksumAlgorithm>,
    /// Whether the trailing checksum's value is compared (its syntax and, in the signed
    /// mode, its signature always are).
    pub(crate) verify_trailer: bool,
    /// `Content-MD5`, to verify.
    pub(crate) md5: Option<[u8; 16]>,
    /// A checksum header (or hoisted query parameter), to verify.
    pub(crate) checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
}

impl BodyPlan {
    /// The running checks of the decoded payload.
    pub(crate) fn checks(&self) -> PayloadChecks {
        PayloadChecks {
            sha256: match &self.coverage {
                Coverage::Hash(sent, expected) => Some((Sha256::new(), *expected, sent.clone())),
                _ => None,
            },
            md5: self.md5.map(|m| (Md5Sum::default(), m)),
            checksum: match (&self.checksum, self.trailer) {
                (Some((alg, expected)), _) => Some((alg.hasher(), Some(expected.clone()))),
                (None, Some(alg)) if self.verify_trailer => Some((alg.hasher(), None)),
                (None, _) => None,
            },
        }
    }
}

/// The running hashes of the decoded payload and what they must come to.
pub(crate) struct PayloadChecks {
    sha256: Option<(Sha256, [u8; 32], String)>,
    md5: Option<(Md5Sum, [u8; 16])>,
    /// The checksum; its expected value comes with the trailer when it is a trailing one.
    checksum: Option<(Checksum, Option<Vec<u8>>)>,
}

impl PayloadChecks {
    /// Whether anything is checked at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.md5.is_none() && self.checksum.is_none()
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        if let Some((h, _, _)) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some((h, _)) = &mut self.md5 {
            h.update(bytes);
        }
        if let Some((h, _)) = &mut self.checksum {
            h.update(bytes);
        }
    }

    /// The trailing checksum's value, read from the trailer.
    pub(crate) fn set_trailing(&mut self, value: Vec<u8>) {
        if let Some((_, expected)) = &mut self.checksum {
            *expected = Some(value);
        }
    }

    /// At the end of the payload: `XAmzContentSHA256Mismatch`, then `BadDigest` for MD5, then
    /// for the checksum.
    pub(crate) fn verify(&mut self) -> Result<(), Rejection> {
        if let Some((h, expected, sent)) = self.sha256.take() {
            let digest: [u8; 32] = h.finalize().into();
            if digest != expected {
                let computed = hex::encode(digest);
                return Err(errors::content_sha256_mismatch(&sent, Some(&computed)));
            }
        }
        if let Some((h, expected)) = self.md5.take() {
            let digest = h.finalize();
            if digest != expected {
                return Err(errors::md5_mismatch(&expected, &digest));
            }
        }
        if let Some((h, expected)) = self.checksum.take() {
            let algorithm = h.algorithm();
            let digest = h.finalize();
            if expected.as_deref() != Some(&digest[..]) {
                return Err(errors::checksum_mismatch(algorithm));
            }
        }
        Ok(())
    }
}

/// Headers named `x-amz-checksum-*` that are not checksums.
const NOT_CHECKSUMS: [&str; 3] = [
    "x-amz-checksum-type",
    "x-amz-checksum-algorithm",
    "x-amz-checksum-mode",
];

/// Step 10: every `x-amz-*` header present (but `x-amz-content-sha256`), and `host`, must be
/// signed.
pub(crate) fn check_signed_headers(checked: &Checked<'_>) -> Result<(), Rejection> {
    let signed = &checked.params.signed_headers;
    let is_signed = |name: &str| split_ascii(signed, b';').any(|h| h.eq_ignore_ascii_case(name));
    let mut unsigned: Vec<&str> = checked
        .parts
        .headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|n| n.starts_with("x-amz-") && *n != "x-amz-content-sha256")
        .filter(|n| !is_signed(n))
        .collect();
    if !is_signed("host") {
        unsigned.push("host");
    }
    if unsigned.is_empty() {
        return Ok(());
    }
    unsigned.sort_unstable();
    unsigned.dedup();
    Err(errors::access_denied(
        RejectionKind::HeaderNotSigned,
        "There were headers present in the request which were not signed",
    )
    .with_element("HeadersNotSigned", unsigned.join(", ")))
}

/// The values of a header, or of a query parameter of the same name (any case) in a presigned
/// request, where `x-amz-*` values may be hoisted.
fn values(parts: &Parts, location: AuthLocation, name: &str) -> Vec<String> {
    let mut out: Vec<String> = parts
        .headers
        .get_all(name)
        .iter()
        .map(|v| canonical::text(v.as_bytes()).into_owned())
        .collect();
    if location == AuthLocation::Query {
        for (k, v) in canonical::query_pairs(parts.uri.query().unwrap_or_default()) {
            if canonical::form_decode_str(&k).eq_ignore_ascii_case(name) {
                out.push(canonical::form_decode_str(&v).into_owned());
            }
        }
    }
    out
}

/// Every `x-amz-checksum-*` name present, header or hoisted, lower case.
fn checksum_names(parts: &Parts, location: AuthLocation) -> Vec<String> {
    let mut names: Vec<String> = parts
        .headers
        .keys()
        .map(|n| n.as_str().to_owned())
        .collect();
    if location == AuthLocation::Query {
        for (k, _) in canonical::query_pairs(parts.uri.query().unwrap_or_default()) {
            names.push(canonical::form_decode_str(&k).to_ascii_lowercase());
        }
    }
    names.retain(|n| n.starts_with("x-amz-checksum-") && !NOT_CHECKSUMS.contains(&n.as_str()));
    names
}

fn multiple() -> Rejection {
    invalid_request(
        RejectionKind::InvalidRequest,
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )
}

/// Parses `x-amz-trailer`: one checksum name, trailing commas and spaces tolerated.
fn parse_trailer(value: &str) -> Result<ChecksumAlgorithm, Rejection> {
    let unsupported = || {
        invalid_request(
            RejectionKind::InvalidRequest,
            "The value specified in the x-amz-trailer header is not supported",
        )
    };
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    // Trailing empty items are tolerated; any other empty item is not.
    let last_named = items
        .iter()
        .rposition(|i| !i.is_empty())
        .ok_or_else(unsupported)?;
    let named = items.get(..=last_named).unwrap_or_default();
    if named.iter().any(|i| i.is_empty()) {
        return Err(unsupported());
    }
    let algorithms = named
        .iter()
        .map(|i| ChecksumAlgorithm::from_header_name(i).ok_or_else(unsupported))
        .collect::<Result<Vec<_>, _>>()?;
    match algorithms.as_slice() {
        [one] => Ok(*one),
        _ => Err(multiple()),
    }
}

/// Step 11 (after step 10): the payload mode, the streaming headers, `x-amz-trailer`,
/// `Content-MD5`, the checksum headers and the size limit.
pub(crate) fn plan(checked: &Checked<'_>) -> Result<BodyPlan, Rejection> {
    let parts = checked.parts;
    let config = checked.verifier.config();
    let location = checked.params.location;
    let coverage = match &checked.payload {
        PayloadLine::Declared(v) => match ContentSha256::classify(v) {
            Ok(ContentSha256::Hash) => {
                let mut bytes = [0u8; 32];
                let _ = hex::decode_to_slice(v.as_bytes(), &mut bytes);
                Coverage::Hash(v.to_string(), bytes)
            }
            Ok(ContentSha256::Unsigned) => Coverage::Unsigned,
            Ok(ContentSha256::Streaming(mode)) if location == AuthLocation::Header => {
                Coverage::Streaming(mode)
            }
            // In a presigned URL a streaming value (or anything else) is a claimed hash that
            // does not match.
            _ => return Err(errors::content_sha256_mismatch(v, None)),
        },
        PayloadLine::Unsigned | PayloadLine::BodyHash => Coverage::Unsigned,
    };
    let streaming = match coverage {
        Coverage::Streaming(mode) => Some(mode),
        _ => None,
    };

    // Framing.
    let has_length = parts.headers.contains_key(http::header::CONTENT_LENGTH);
    let chunked = parts
        .headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .any(|v| {
            canonical::text(v.as_bytes())
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("chunked"))
        });
    if has_length && chunked {
        return Err(invalid_request(
            RejectionKind::InvalidRequest,
            "Cannot specify both Content-Length and Transfer-Encoding HTTP headers.",
        ));
    }
    let missing_length = || {
        Rejection::coded(
            RejectionKind::LengthRequired,
            http::StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        )
    };
    let decoded_length = match streaming {
        Some(_) => {
            let mut all = parts.headers.get_all("x-amz-decoded-content-length").iter();
            let value = match (all.next(), all.next()) {
                (Some(v), None) => v.to_str().ok(),
                _ => None,
            };
            let n = value
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(missing_length)?;
            if !has_length && !chunked && parts.version <= http::Version::HTTP_11 {
                return Err(missing_length());
            }
            Some(n)
        }
        None => None,
    };

    // x-amz-trailer.
    let trailers = values(parts, location, "x-amz-trailer");
    let trailer = match (trailers.as_slice(), streaming) {
        ([], Some(StreamingMode::SignedTrailer)) => {
            return Err(errors::malformed_trailer(RejectionKind::InvalidRequest))
        }
        ([], _) => None,
        ([value], Some(StreamingMode::SignedTrailer | StreamingMode::UnsignedTrailer)) => {
            Some(parse_trailer(value)?)
        }
        ([_], _) => return Err(errors::malformed_trailer(RejectionKind::InvalidRequest)),
        (_, _) => return Err(multiple()),
    };

    // Checksum headers.
    let names = checksum_names(parts, location);
    let mut algorithms = Vec::new();
    for name in &names {
        let algorithm = ChecksumAlgorithm::from_header_name(name).ok_or_else(|| {
            invalid_request(
                RejectionKind::InvalidRequest,
                "The algorithm type you specified in x-amz-checksum- header is invalid.",
            )
        })?;
        algorithms.push(algorithm);
    }
    if algorithms.len() > 1 {
        return Err(multiple());
    }
    let checksum = match algorithms.first() {
        Some(&algorithm) => {
            if trailer.is_some() {
                return Err(invalid_request(
                    RejectionKind::InvalidRequest,
                    "Expecting a single x-amz-checksum- header",
                ));
            }
            let value = values(parts, location, algorithm.header_name())
                .into_iter()
                .next()
                .unwrap_or_default();
            let digest = algorithm.decode_value(&value).ok_or_else(|| {
                invalid_request(
                    RejectionKind::InvalidRequest,
                    format!("Value for {} header is invalid.", algorithm.header_name()),
                )
            })?;
            Some((algorithm, digest))
        }
        None => None,
    };
    let sent = checksum.as_ref().map(|(a, _)| *a).or(trailer);
    let sdk = values(parts, location, "x-amz-sdk-checksum-algorithm");
    if let Some(value) = sdk.first() {
        let Some(sent) = sent else {
            return Err(invalid_request(
                RejectionKind::InvalidRequest,
                "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
            ));
        };
        if sdk.len() > 1 || ChecksumAlgorithm::from_name(value.trim()) != Some(sent) {
            return Err(invalid_request(
                RejectionKind::InvalidRequest,
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
            ));
        }
    }

    // Content-MD5.
    let md5_values = values(parts, AuthLocation::Header, "content-md5");
    let md5 = match md5_values.as_slice() {
        [] => None,
        [value] => Some(decode_md5(value).ok_or_else(|| invalid_digest(value))?),
        more => return Err(invalid_digest(&more.join(","))),
    };

    // The size limit.
    let limit = config.max_body_bytes as u64;
    let declared = decoded_length.or_else(|| {
        parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    });
    if declared.is_some_and(|n| n > limit) {
        return Err(errors::entity_too_large());
    }

    let delegate = config.checksums == ChecksumVerification::Delegate;
    Ok(BodyPlan {
        coverage,
        decoded_length,
        trailer,
        // The unsigned-trailer mode's checksum is always verified.
        verify_trailer: !delegate || streaming == Some(StreamingMode::UnsignedTrailer),
        md5: md5.filter(|_| !delegate),
        checksum: checksum.filter(|_| !delegate),
    })
}

fn invalid_digest(value: &str) -> Rejection {
    Rejection::coded(
        RejectionKind::InvalidRequest,
        http::StatusCode::BAD_REQUEST,
        "InvalidDigest",
        "The Content-MD5 you specified was invalid.",
    )
    .with_element("Content-MD5", value)
}
