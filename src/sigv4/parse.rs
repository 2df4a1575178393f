//! Parsing of the signature parameters: the `Authorization` header or a presigned query.
//! Checks 1–9 of the rejection table happen here, in that order.

use std::borrow::Cow;

use base64::Engine as _;
use http::request::Parts;
use http::HeaderName;
use sha2::{Digest, Sha256};

use crate::error::{Rejection, RejectionKind};
use crate::sigv4::canonical::{form_decode_str, split_ascii, text, QueryPair};
use crate::sigv4::scope::ALGORITHM;
use crate::sigv4::settings::PresignedExpires;

pub(crate) const X_AMZ_ALGORITHM: &str = "X-Amz-Algorithm";
pub(crate) const X_AMZ_CREDENTIAL: &str = "X-Amz-Credential";
pub(crate) const X_AMZ_DATE: &str = "X-Amz-Date";
pub(crate) const X_AMZ_EXPIRES: &str = "X-Amz-Expires";
pub(crate) const X_AMZ_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
pub(crate) const X_AMZ_SIGNATURE: &str = "X-Amz-Signature";
pub(crate) const X_AMZ_SECURITY_TOKEN: &str = "X-Amz-Security-Token";
pub(crate) const X_AMZ_CONTENT_SHA256: &str = "X-Amz-Content-Sha256";

pub(crate) const X_AMZ_DATE_HEADER: HeaderName = HeaderName::from_static("x-amz-date");
pub(crate) const X_AMZ_SECURITY_TOKEN_HEADER: HeaderName =
    HeaderName::from_static("x-amz-security-token");
pub(crate) const X_AMZ_CONTENT_SHA256_HEADER: HeaderName =
    HeaderName::from_static("x-amz-content-sha256");

/// Longest presign validity: one week.
pub(crate) const MAX_EXPIRES: u64 = 604_800;

/// Where the signature came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthLocation {
    /// The `Authorization` header.
    Header,
    /// A presigned URL's query string.
    Query,
}

/// Where the request date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateSource {
    XAmzDate,
    HttpDate,
}

pub(crate) struct AuthParams<'a> {
    pub(crate) location: AuthLocation,
    pub(crate) credential: Cow<'a, str>,
    pub(crate) signed_headers: Cow<'a, str>,
    pub(crate) signature: Cow<'a, str>,
    pub(crate) date: Cow<'a, str>,
    pub(crate) date_source: DateSource,
    pub(crate) expires: Option<u64>,
    pub(crate) security_token: Option<Cow<'a, str>>,
}

/// Checks 3 and 4: an `Authorization` header that is not `ALGORITHM key=value, …`.
fn malformed(message: impl Into<Cow<'static, str>>) -> Rejection {
    Rejection::new(RejectionKind::MalformedAuthorization, message)
}

fn b64_sha256(value: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(value))
}

fn header_str<'a>(parts: &'a Parts, name: &HeaderName) -> Option<Cow<'a, str>> {
    parts.headers.get(name).map(|v| text(v.as_bytes()))
}

fn duplicate(name: &str) -> Rejection {
    Rejection::new(
        RejectionKind::DuplicateParameter,
        format!("Duplicate parameter '{name}' in the request's authentication."),
    )
}

fn unsupported(algorithm: &str) -> Rejection {
    Rejection::new(
        RejectionKind::UnsupportedAlgorithm,
        format!("Unsupported AWS 'algorithm': '{algorithm}'."),
    )
}

/// Finds the signature parameters of a request (checks 1–8).
pub(crate) fn parse<'a>(
    parts: &'a Parts,
    pairs: &[QueryPair<'a>],
    expires: PresignedExpires,
) -> Result<AuthParams<'a>, Rejection> {
    let mut headers = parts.headers.get_all(http::header::AUTHORIZATION).iter();
    let authorization = headers.next();
    let has_second_authorization = headers.next().is_some();
    let presigned = pairs.iter().any(|(k, _)| k == X_AMZ_ALGORITHM);
    match (authorization, presigned) {
        (None, false) => Err(Rejection::new(
            RejectionKind::MissingAuthentication,
            "Missing Authentication Token",
        )),
        (Some(_), true) => Err(Rejection::new(
            RejectionKind::MultipleAuthMechanisms,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified",
        )),
        (Some(value), false) => {
            let params = parse_header(parts, value.as_bytes())?;
            if has_second_authorization {
                return Err(duplicate("Authorization"));
            }
            Ok(params)
        }
        (None, true) => {
            let mut params = parse_query(pairs, expires)?;
            // A token sent as a header with a presigned URL still counts: a long-term key
            // with any token is refused.
            if params.security_token.is_none() {
                params.security_token = header_str(parts, &X_AMZ_SECURITY_TOKEN_HEADER);
            }
            Ok(params)
        }
    }
}

fn parse_header<'a>(parts: &'a Parts, raw: &'a [u8]) -> Result<AuthParams<'a>, Rejection> {
    let value = match std::str::from_utf8(raw) {
        Ok(s) => s,
        // Not UTF-8: it cannot be a SigV4 header. Report it like a malformed element.
        Err(_) => {
            return Err(malformed(format!(
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{}'.",
                b64_sha256(raw)
            )))
        }
    };
    let trimmed = value.trim_matches(|c: char| c == ' ' || c == '\t');
    let (algorithm, rest) = trimmed.split_once([' ', '\t']).unwrap_or((trimmed, ""));
    if algorithm.contains('=') {
        return Err(malformed(
            "Authorization header must begin with the algorithm name, which cannot include an equal-sign",
        ));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut duplicated: Option<&'static str> = None;
    for element in split_ascii(rest, b',') {
        let element = element.trim_matches(|c: char| c == ' ' || c == '\t');
        if element.is_empty() {
            continue;
        }
        let Some((key, val)) = element.split_once('=') else {
            return Err(malformed(format!(
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{}'.",
                b64_sha256(raw)
            )));
        };
        let (slot, name) = match key.trim() {
            "Credential" => (&mut credential, "Credential"),
            "SignedHeaders" => (&mut signed_headers, "SignedHeaders"),
            "Signature" => (&mut signature, "Signature"),
            _ => continue,
        };
        if slot.is_some() {
            duplicated.get_or_insert(name);
        } else {
            *slot = Some(val.trim());
        }
    }
    let (date, date_source) = match header_str(parts, &X_AMZ_DATE_HEADER) {
        Some(d) => (Some(d), DateSource::XAmzDate),
        None => (header_str(parts, &http::header::DATE), DateSource::HttpDate),
    };
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if date.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (credential, signature, signed_headers, date)
    else {
        return Err(Rejection::new(
            RejectionKind::MissingParameter,
            format!("{} Authorization={}", missing.join(" "), b64_sha256(raw)),
        ));
    };
    if algorithm != ALGORITHM {
        return Err(unsupported(algorithm));
    }
    if let Some(name) = duplicated {
        return Err(duplicate(name));
    }
    Ok(AuthParams {
        location: AuthLocation::Header,
        credential: Cow::Borrowed(credential),
        signed_headers: Cow::Borrowed(signed_headers),
        signature: Cow::Borrowed(signature),
        date,
        date_source,
        expires: None,
        security_token: header_str(parts, &X_AMZ_SECURITY_TOKEN_HEADER),
    })
}

fn parse_query<'a>(
    pairs: &[QueryPair<'a>],
    expires_rule: PresignedExpires,
) -> Result<AuthParams<'a>, Rejection> {
    const NAMES: [&str; 7] = [
        X_AMZ_ALGORITHM,
        X_AMZ_CREDENTIAL,
        X_AMZ_DATE,
        X_AMZ_EXPIRES,
        X_AMZ_SIGNED_HEADERS,
        X_AMZ_SIGNATURE,
        X_AMZ_SECURITY_TOKEN,
    ];
    let mut found: [Option<Cow<'a, str>>; 7] = Default::default();
    let mut duplicated = None;
    for (key, value) in pairs {
        if let Some(i) = NAMES.iter().position(|n| key == n) {
            match found.get_mut(i) {
                Some(slot @ None) => *slot = Some(decode(value)),
                Some(Some(_)) => {
                    duplicated.get_or_insert(i);
                }
                None => {}
            }
        }
    }
    let [algorithm, credential, date, expires, signed_headers, signature, token] = found;
    let missing: Vec<String> = [
        (X_AMZ_CREDENTIAL, credential.is_none()),
        (X_AMZ_SIGNATURE, signature.is_none()),
        (X_AMZ_SIGNED_HEADERS, signed_headers.is_none()),
        (X_AMZ_DATE, date.is_none()),
        (
            X_AMZ_EXPIRES,
            expires.is_none() && expires_rule == PresignedExpires::Required,
        ),
    ]
    .iter()
    .filter(|(_, absent)| *absent)
    .map(|(name, _)| {
        format!("AWS query-string parameters must include '{name}'. Re-examine the query-string parameters.")
    })
    .collect();
    let (Some(algorithm), Some(credential), Some(date), Some(signed_headers), Some(signature)) =
        (algorithm, credential, date, signed_headers, signature)
    else {
        return Err(Rejection::new(
            RejectionKind::MissingParameter,
            missing.join(" "),
        ));
    };
    if !missing.is_empty() {
        // Only a required X-Amz-Expires is missing.
        return Err(Rejection::new(
            RejectionKind::MissingParameter,
            missing.join(" "),
        ));
    }
    if algorithm != ALGORITHM {
        return Err(unsupported(&algorithm));
    }
    if let Some(name) = duplicated.and_then(|i| NAMES.get(i)) {
        return Err(duplicate(name));
    }
    let expires = expires.as_deref().map(parse_expires).transpose()?;
    Ok(AuthParams {
        location: AuthLocation::Query,
        credential,
        signed_headers,
        signature,
        date,
        date_source: DateSource::XAmzDate,
        expires,
        security_token: token,
    })
}

/// Decodes a canonical query value back to text.
fn decode<'a>(canonical: &Cow<'a, str>) -> Cow<'a, str> {
    match canonical {
        Cow::Borrowed(s) => form_decode_str(s),
        Cow::Owned(s) => Cow::Owned(form_decode_str(s).into_owned()),
    }
}

fn parse_expires(value: &str) -> Result<u64, Rejection> {
    let positive = || {
        Rejection::new(
            RejectionKind::InvalidExpires,
            "X-Amz-Expires must be a positive integer",
        )
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(positive());
    }
    let too_long = || {
        Rejection::new(
            RejectionKind::InvalidExpires,
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )
    };
    match value.parse::<u64>() {
        Ok(0) => Err(positive()),
        Ok(n) if n <= MAX_EXPIRES => Ok(n),
        _ => Err(too_long()),
    }
}

/// Check 9: `host` (and any configured header) must be signed.
pub(crate) fn check_signed_headers(
    signed_headers: &str,
    required: &[http::HeaderName],
) -> Result<(), Rejection> {
    let signed =
        |name: &str| split_ascii(signed_headers, b';').any(|h| h.eq_ignore_ascii_case(name));
    if !signed("host") {
        return Err(Rejection::new(
            RejectionKind::HeaderNotSigned,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if let Some(name) = required.iter().find(|n| !signed(n.as_str())) {
        return Err(Rejection::new(
            RejectionKind::HeaderNotSigned,
            format!("'{name}' must be a 'SignedHeader' in the AWS Authorization."),
        ));
    }
    Ok(())
}

/// The service named by a request's credential scope — in the `Authorization` header or the
/// `X-Amz-Credential` query parameter — without verifying anything.
///
/// A server that answers several services on one listener routes with it (the gateway sends
/// requests scoped to `sts` to its STS service). It reads the request with the verifier's own
/// parser, so a router and the verifier never disagree about which credential a request
/// carries; a request the parser refuses names no service. The verifier still checks the scope.
/// It reads with the default (API Gateway) rules: the S3 profile's parser is stricter (it
/// refuses `Authorization` components it does not know and requires `X-Amz-Expires`), so a
/// request named here may still be refused by an S3 verifier as malformed.
///
/// ```
/// let request = http::Request::post("/")
///     .header("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
///     .header("x-amz-date", "20261123T000000Z")
///     .body(())
///     .unwrap();
/// assert_eq!(tower_sigv4::credential_service(&request.into_parts().0).as_deref(), Some("sts"));
/// ```
pub fn credential_service(parts: &Parts) -> Option<String> {
    let pairs = crate::sigv4::canonical::query_pairs(parts.uri.query().unwrap_or_default());
    let params = parse(parts, &pairs, PresignedExpires::Optional).ok()?;
    split_ascii(&params.credential, b'/')
        .nth(3)
        .map(str::to_owned)
}
