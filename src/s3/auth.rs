//! The S3 profile's checks before the key is known (`s3.md` §7): which mechanism, the
//! algorithm, the components, the date, the credential, `x-amz-content-sha256`, the clock;
//! and the answers of a key provider's refusals.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use http::request::Parts;

use super::errors::{
    self, access_denied, header_malformed, invalid_argument, invalid_request, query_error,
};
use crate::credentials::{KeyError, KeyErrorKind};
use crate::error::{Rejection, RejectionKind};
use crate::sigv4::canonical::{self, split_ascii, text, QueryPair};
use crate::sigv4::parse::{self, AuthLocation, AuthParams, DateSource};
use crate::sigv4::scope::{self, ALGORITHM, TERMINATOR};
use crate::sigv4::verifier::{is_sha256_hex, Checked, PayloadLine, Verifier};

/// The SigV4a algorithm, answered as "not supported".
const ECDSA: &str = "AWS4-ECDSA-P256-SHA256";

/// What an `x-amz-content-sha256` value may be in a header-signed S3 request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentSha256 {
    /// 64 hex digits, either case.
    Hash,
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// One of the three `aws-chunked` modes.
    Streaming(super::StreamingMode),
}

impl ContentSha256 {
    /// Classifies a value; `Err(true)` for SigV4a's streaming values (501), `Err(false)` for
    /// anything else that is not allowed.
    pub(crate) fn classify(value: &str) -> Result<Self, bool> {
        use super::StreamingMode as M;
        match value {
            crate::sigv4::canonical::UNSIGNED_PAYLOAD => Ok(Self::Unsigned),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => Ok(Self::Streaming(M::Signed)),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => Ok(Self::Streaming(M::SignedTrailer)),
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Ok(Self::Streaming(M::UnsignedTrailer)),
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
            | "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER" => Err(true),
            v if is_sha256_hex(v) => Ok(Self::Hash),
            _ => Err(false),
        }
    }
}

/// Stage one of the S3 profile.
pub(crate) fn check<'a>(
    verifier: &'a Verifier,
    parts: &'a Parts,
    now: SystemTime,
) -> Result<Checked<'a>, Rejection> {
    let pairs = canonical::query_pairs(parts.uri.query().unwrap_or_default());
    let presigned = pairs.iter().any(|(k, _)| k == parse::X_AMZ_ALGORITHM);
    let sigv2 = pairs.iter().any(|(k, _)| k == "Signature");
    let mut authorizations = parts.headers.get_all(http::header::AUTHORIZATION).iter();
    let authorization = authorizations.next();
    match authorization {
        Some(value) if presigned || sigv2 => Err(invalid_argument(
            RejectionKind::MultipleAuthMechanisms,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
            "Authorization",
            &text(value.as_bytes()),
        )),
        Some(value) => {
            if authorizations.next().is_some() {
                return Err(header_malformed(
                    RejectionKind::DuplicateParameter,
                    "the Authorization header may be given only once.",
                ));
            }
            check_header(verifier, parts, pairs, value.as_bytes(), now)
        }
        None if presigned => check_query(verifier, parts, pairs, now),
        None if sigv2 => Err(invalid_request(
            RejectionKind::UnsupportedAlgorithm,
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        )),
        None => Err(access_denied(
            RejectionKind::MissingAuthentication,
            "Access Denied",
        )),
    }
}

fn unsupported_mechanism() -> Rejection {
    invalid_request(
        RejectionKind::UnsupportedAlgorithm,
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    )
}

/// Header authentication, steps 2–7.
fn check_header<'a>(
    verifier: &'a Verifier,
    parts: &'a Parts,
    pairs: Vec<QueryPair<'a>>,
    raw: &'a [u8],
    now: SystemTime,
) -> Result<Checked<'a>, Rejection> {
    let config = verifier.config();
    // 2: the algorithm.
    let value = std::str::from_utf8(raw).map_err(|_| unsupported_mechanism())?;
    let trimmed = value.trim_matches(|c: char| c == ' ' || c == '\t');
    let (algorithm, rest) = trimmed.split_once([' ', '\t']).unwrap_or((trimmed, ""));
    if algorithm != ALGORITHM {
        return Err(unsupported_mechanism());
    }
    // 3: the three components.
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for element in split_ascii(rest, b',') {
        let element = element.trim_matches(|c: char| c == ' ' || c == '\t');
        if element.is_empty() {
            continue;
        }
        let malformed = || {
            header_malformed(
                RejectionKind::MalformedAuthorization,
                &format!("the authorization component \"{element}\" is malformed."),
            )
        };
        let Some((key, val)) = element.split_once('=') else {
            return Err(malformed());
        };
        let val = val.trim();
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(malformed()),
        };
        if slot.is_some() || val.is_empty() {
            return Err(malformed());
        }
        *slot = Some(val);
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(header_malformed(
            RejectionKind::MissingParameter,
            "the authorization header requires three components: Credential, SignedHeaders, and Signature.",
        ));
    };
    // 4: the date.
    let (date, date_source) = match parts.headers.get(parse::X_AMZ_DATE_HEADER) {
        Some(v) => (text(v.as_bytes()), DateSource::XAmzDate),
        None => match parts.headers.get(http::header::DATE) {
            Some(v) => (text(v.as_bytes()), DateSource::HttpDate),
            None => return Err(no_date()),
        },
    };
    let signed_at = match date_source {
        DateSource::XAmzDate => scope::parse_amz_date(&date),
        DateSource::HttpDate => scope::parse_http_date(&date),
    }
    .ok_or_else(no_date)?;
    let amz_basic = match date_source {
        DateSource::XAmzDate => None,
        DateSource::HttpDate => Some(scope::format_amz_date(signed_at)),
    };
    let amz_date = amz_basic.as_deref().unwrap_or(&date).to_owned();
    // 5: the credential.
    let lens = check_credential(verifier, credential, &amz_date, None)?;
    // 6: x-amz-content-sha256.
    let mut values = parts
        .headers
        .get_all(parse::X_AMZ_CONTENT_SHA256_HEADER)
        .iter();
    let content_sha256 = match (values.next(), values.next()) {
        (None, _) => {
            return Err(invalid_request(
                RejectionKind::MissingParameter,
                "Missing required header for this request: x-amz-content-sha256",
            ))
        }
        (Some(v), None) => text(v.as_bytes()),
        (Some(_), Some(_)) => {
            let all: Vec<Cow<'_, str>> = parts
                .headers
                .get_all(parse::X_AMZ_CONTENT_SHA256_HEADER)
                .iter()
                .map(|v| text(v.as_bytes()))
                .collect();
            return Err(invalid_content_sha256(&all.join(",")));
        }
    };
    match ContentSha256::classify(&content_sha256) {
        Ok(_) => {}
        Err(true) => return Err(errors::not_implemented("x-amz-content-sha256")),
        Err(false) => return Err(invalid_content_sha256(&content_sha256)),
    }
    // 7: the clock.
    let skew = config.clock_skew;
    let too_old = signed_at.checked_add(skew).is_some_and(|end| end < now);
    let too_new = now.checked_add(skew).is_none_or(|end| signed_at > end);
    if too_old || too_new {
        let kind = if too_old {
            RejectionKind::RequestTooOld
        } else {
            RejectionKind::RequestTooNew
        };
        return Err(Rejection::coded(
            kind,
            http::StatusCode::FORBIDDEN,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )
        .with_element("RequestTime", date.as_ref())
        .with_element("ServerTime", errors::iso8601(now))
        .with_element("MaxAllowedSkewMilliseconds", skew.as_millis().to_string()));
    }
    let params = AuthParams {
        location: AuthLocation::Header,
        credential: Cow::Borrowed(credential),
        signed_headers: Cow::Borrowed(signed_headers),
        signature: Cow::Borrowed(signature),
        date,
        date_source,
        expires: None,
        security_token: parts
            .headers
            .get(parse::X_AMZ_SECURITY_TOKEN_HEADER)
            .map(|v| text(v.as_bytes())),
    };
    Ok(Checked::new(
        verifier,
        parts,
        pairs,
        params,
        amz_basic,
        signed_at,
        now,
        lens,
        PayloadLine::Declared(content_sha256),
    ))
}

fn no_date() -> Rejection {
    access_denied(
        RejectionKind::MalformedDate,
        "AWS authentication requires a valid Date or x-amz-date header",
    )
}

fn invalid_content_sha256(value: &str) -> Rejection {
    invalid_argument(
        RejectionKind::InvalidRequest,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        "x-amz-content-sha256",
        value,
    )
}

/// Step 5 (and its presigned twin): the first failing check of the credential, in the order
/// shape, region, service, terminal, date format, date. `query` is `Some(prefix)` for a
/// presigned URL. Gives the lengths of the key id, date, region and service.
fn check_credential(
    verifier: &Verifier,
    credential: &str,
    amz_date: &str,
    query: Option<&str>,
) -> Result<[usize; 4], Rejection> {
    let config = verifier.config();
    let fail = |kind: RejectionKind, detail: String, prefixed: bool| match query {
        None => header_malformed(kind, &detail),
        Some(prefix) if prefixed => query_error(kind, format!("{prefix}{detail}")),
        Some(_) => query_error(kind, detail),
    };
    let mut it = split_ascii(credential, b'/');
    let (Some(key_id), Some(date), Some(region), Some(service), Some(term), None) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return Err(fail(
            RejectionKind::MalformedCredential,
            "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".".to_owned(),
            true,
        ));
    };
    if key_id.is_empty() {
        return Err(fail(
            RejectionKind::MalformedCredential,
            "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".".to_owned(),
            true,
        ));
    }
    let first = |list: &[String]| list.first().cloned().unwrap_or_default();
    if !config.regions.iter().any(|r| r == region) {
        let expected = first(&config.regions);
        return Err(fail(
            RejectionKind::InvalidScope,
            format!("the region '{region}' is wrong; expecting '{expected}'"),
            true,
        )
        .with_element("Region", expected));
    }
    if !config.services.iter().any(|s| s == service) {
        return Err(fail(
            RejectionKind::InvalidScope,
            format!(
                "incorrect service \"{service}\". This endpoint belongs to \"{}\".",
                first(&config.services)
            ),
            true,
        ));
    }
    if term != TERMINATOR {
        return Err(fail(
            RejectionKind::InvalidScope,
            format!("incorrect terminal \"{term}\". This endpoint uses \"aws4_request\"."),
            true,
        ));
    }
    let valid_day = date.len() == 8
        && date.bytes().all(|b| b.is_ascii_digit())
        && scope::parse_amz_date(&format!("{date}T000000Z")).is_some();
    if !valid_day {
        return Err(fail(
            RejectionKind::InvalidScope,
            format!("incorrect date format \"{date}\". This date in the credential must be in the format \"yyyyMMdd\"."),
            true,
        ));
    }
    let day = amz_date.get(..8).unwrap_or_default();
    if date != day {
        return Err(fail(
            RejectionKind::InvalidScope,
            format!("Invalid credential date \"{date}\". This date is not the same as X-Amz-Date: \"{day}\"."),
            false,
        ));
    }
    Ok([key_id.len(), date.len(), region.len(), service.len()])
}

/// Presigned (query) authentication.
fn check_query<'a>(
    verifier: &'a Verifier,
    parts: &'a Parts,
    pairs: Vec<QueryPair<'a>>,
    now: SystemTime,
) -> Result<Checked<'a>, Rejection> {
    const NAMES: [&str; 7] = [
        parse::X_AMZ_ALGORITHM,
        parse::X_AMZ_CREDENTIAL,
        parse::X_AMZ_DATE,
        parse::X_AMZ_EXPIRES,
        parse::X_AMZ_SIGNED_HEADERS,
        parse::X_AMZ_SIGNATURE,
        parse::X_AMZ_SECURITY_TOKEN,
    ];
    let mut found: [Option<Cow<'a, str>>; 7] = Default::default();
    let mut counts = [0usize; 7];
    for (key, value) in &pairs {
        if let Some(i) = NAMES.iter().position(|n| key == n) {
            if let (Some(slot), Some(count)) = (found.get_mut(i), counts.get_mut(i)) {
                *count += 1;
                if slot.is_none() {
                    *slot = Some(decode(value));
                }
            }
        }
    }
    let [algorithm, credential, date, expires, signed_headers, signature, token] = found;
    // The algorithm first.
    match algorithm.as_deref() {
        Some(ALGORITHM) => {}
        Some(ECDSA) => return Err(unsupported_mechanism()),
        _ => {
            return Err(query_error(
                RejectionKind::UnsupportedAlgorithm,
                "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256\"",
            ))
        }
    }
    // The six parameters, each exactly once (the token at most once).
    let requires = || {
        query_error(
            RejectionKind::MissingParameter,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        )
    };
    if counts.iter().any(|&c| c > 1) {
        return Err(requires());
    }
    let (Some(credential), Some(date), Some(expires), Some(signed_headers), Some(signature)) =
        (credential, date, expires, signed_headers, signature)
    else {
        return Err(requires());
    };
    let Some(signed_at) = scope::parse_amz_date(&date) else {
        return Err(query_error(
            RejectionKind::MalformedDate,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        ));
    };
    let expires_secs = parse_expires(&expires)?;
    let lens = check_credential(
        verifier,
        &credential,
        &date,
        Some("Error parsing the X-Amz-Credential parameter; "),
    )?;
    // Expired: strict, no grace; a URL valid for 0 seconds is expired already.
    let end = signed_at.checked_add(Duration::from_secs(expires_secs));
    if expires_secs == 0 || end.is_none_or(|end| now > end) {
        let mut r = access_denied(RejectionKind::PresignedExpired, "Request has expired")
            .with_element("X-Amz-Expires", expires.as_ref());
        if let Some(end) = end {
            r = r.with_element("Expires", errors::iso8601(end));
        }
        return Err(r.with_element("ServerTime", errors::iso8601(now)));
    }
    let skew = verifier.config().clock_skew;
    if now.checked_add(skew).is_none_or(|limit| signed_at > limit) {
        return Err(access_denied(
            RejectionKind::RequestTooNew,
            "Request is not valid yet",
        ));
    }
    // The payload line: the query parameter, else a signed header, else UNSIGNED-PAYLOAD.
    let payload = match pairs.iter().find(|(k, _)| k == parse::X_AMZ_CONTENT_SHA256) {
        Some((_, v)) => PayloadLine::Declared(canonical::form_decode_str(v).into_owned().into()),
        None => {
            let signed = split_ascii(&signed_headers, b';')
                .any(|h| h.eq_ignore_ascii_case("x-amz-content-sha256"));
            match parts.headers.get(parse::X_AMZ_CONTENT_SHA256_HEADER) {
                Some(v) if signed => PayloadLine::Declared(text(v.as_bytes())),
                _ => PayloadLine::Unsigned,
            }
        }
    };
    let security_token = token.or_else(|| {
        parts
            .headers
            .get(parse::X_AMZ_SECURITY_TOKEN_HEADER)
            .map(|v| text(v.as_bytes()))
    });
    let params = AuthParams {
        location: AuthLocation::Query,
        credential,
        signed_headers,
        signature,
        date,
        date_source: DateSource::XAmzDate,
        expires: Some(expires_secs),
        security_token,
    };
    Ok(Checked::new(
        verifier, parts, pairs, params, None, signed_at, now, lens, payload,
    ))
}

fn decode<'a>(canonical: &Cow<'a, str>) -> Cow<'a, str> {
    match canonical {
        Cow::Borrowed(s) => canonical::form_decode_str(s),
        Cow::Owned(s) => Cow::Owned(canonical::form_decode_str(s).into_owned()),
    }
}

fn parse_expires(value: &str) -> Result<u64, Rejection> {
    let fail = |message: &'static str| query_error(RejectionKind::InvalidExpires, message);
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail("X-Amz-Expires should be a number"));
    }
    if value.starts_with('-') {
        return Err(fail("X-Amz-Expires must be non-negative"));
    }
    match value.parse::<u64>() {
        Ok(n) if n <= parse::MAX_EXPIRES => Ok(n),
        _ => Err(fail("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")),
    }
}

/// Step 8: a key provider's refusal, in S3's words.
pub(crate) fn key_rejection(checked: &Checked<'_>, error: &KeyError) -> Rejection {
    let invalid_key = || {
        Rejection::coded(
            RejectionKind::InvalidToken,
            http::StatusCode::FORBIDDEN,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        )
        .with_element("AWSAccessKeyId", checked.access_key_id())
    };
    let r = match error.kind() {
        KeyErrorKind::UnknownKey => invalid_key(),
        // A temporary key without its token: S3 says the key does not exist.
        KeyErrorKind::InvalidToken if checked.params.security_token.is_none() => invalid_key(),
        KeyErrorKind::InvalidToken => Rejection::coded(
            RejectionKind::InvalidToken,
            http::StatusCode::BAD_REQUEST,
            "InvalidToken",
            "The provided token is malformed or otherwise invalid.",
        ),
        KeyErrorKind::ExpiredToken => Rejection::coded(
            RejectionKind::ExpiredToken,
            http::StatusCode::BAD_REQUEST,
            "ExpiredToken",
            "The provided token has expired.",
        ),
        KeyErrorKind::Unavailable => {
            let r = Rejection::coded(
                RejectionKind::ProviderFailure,
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            );
            match error.source_arc() {
                Some(source) => r.with_source(source),
                None => r,
            }
        }
    };
    r.with_service(Some(checked.service()))
}
