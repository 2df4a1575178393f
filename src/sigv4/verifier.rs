//! The sans-IO verifier: parse → check → (key) → canonicalise → derive → compare.
//!
//! Usable without tower. [`Verifier::verify`] does everything for a buffered body; the staged
//! API ([`Verifier::check`] then [`Checked::finish`]) lets a framework fetch the key and read the
//! body only once the cheap checks have passed. The request-target rules (row 0 of the
//! rejection table) and the body limits belong to the layer: without it, judge the path with
//! [`judge_path`](crate::judge_path) before authorizing on it.
//!
//! ```
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     use std::task::{Context, Poll, Waker};
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = Context::from_waker(Waker::noop());
//! #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! use std::time::{Duration, SystemTime};
//! use tower_sigv4::{Principal, StaticKeys, Verifier, VerifierConfig};
//!
//! let keys = StaticKeys::new().with_key(
//!     "AKIDEXAMPLE",
//!     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
//!     Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE"),
//! );
//! let verifier = Verifier::new(VerifierConfig::new("us-east-1", "service"), keys).unwrap();
//! let request = http::Request::get("https://example.amazonaws.com/")
//!     .header("host", "example.amazonaws.com")
//!     .header("x-amz-date", "20150830T123600Z")
//!     .header("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
//!     .body(())
//!     .unwrap();
//! let (parts, ()) = request.into_parts();
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
//! let verified = block_on(verifier.verify(&parts, b"", now)).unwrap();
//! assert_eq!(verified.principal().arn(), "arn:aws:iam::123456789012:user/alice");
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::request::Parts;
use subtle::ConstantTimeEq;

use crate::credentials::{KeyError, KeyErrorKind, KeyRequest, ProvideKey, ResolvedKey};
use crate::error::{ConfigError, Rejection, RejectionKind};
use crate::principal::Principal;
use crate::sigv4::canonical::{self, hex32, split_ascii, CanonicalRequest, QueryPair};
use crate::sigv4::parse::{self, AuthLocation, AuthParams, DateSource};
use crate::sigv4::scope::{self, CredentialScope, TERMINATOR};
use crate::sigv4::settings::{
    ForwardedHost, MismatchDetail, PresignedPayload, UnsignedPayload, VerifierConfig,
};
use crate::sigv4::signing_key_cache::KeyCache;

pub(crate) use crate::sigv4::canonical::UNSIGNED_PAYLOAD;

/// Verifies SigV4 signatures. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    keys: Arc<dyn ProvideKey>,
    cache: KeyCache,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// How the body was covered by the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadCoverage {
    /// The body's SHA-256 was signed (and checked).
    Signed,
    /// `UNSIGNED-PAYLOAD`: the body was not covered.
    Unsigned,
}

/// A request whose signature checked out.
#[derive(Clone, Debug)]
pub struct Verified {
    principal: Principal,
    scope: CredentialScope,
    signed_at: SystemTime,
    location: AuthLocation,
    payload: PayloadCoverage,
}

impl Verified {
    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Takes the caller out.
    pub fn into_principal(self) -> Principal {
        self.principal
    }

    /// The credential scope the request was signed for.
    pub fn scope(&self) -> &CredentialScope {
        &self.scope
    }

    /// The request date.
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// Header or presigned query.
    pub fn location(&self) -> AuthLocation {
        self.location
    }

    /// Whether the body was covered.
    pub fn payload(&self) -> PayloadCoverage {
        self.payload
    }
}

/// The body, for the last stage of verification.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Payload<'a> {
    /// The body bytes.
    Bytes(&'a [u8]),
    /// The hex SHA-256 of the body, computed elsewhere.
    Sha256Hex(&'a str),
}

/// What the payload line of the canonical request is.
#[derive(Debug)]
pub(crate) enum PayloadLine<'a> {
    /// A signed `x-amz-content-sha256` (or `X-Amz-Content-Sha256` query parameter) value.
    Declared(Cow<'a, str>),
    /// The SHA-256 of the body.
    BodyHash,
    /// `UNSIGNED-PAYLOAD` by rule (S3 presigned URLs).
    Unsigned,
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Verifier {
    /// A verifier with `config`, resolving keys with `keys`.
    pub fn new(config: VerifierConfig, keys: impl ProvideKey) -> Result<Self, ConfigError> {
        Self::from_arc(config, Arc::new(keys))
    }

    /// Like [`Verifier::new`], with a shared provider.
    pub fn from_arc(
        config: VerifierConfig,
        keys: Arc<dyn ProvideKey>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let cache = KeyCache::new(config.signing_key_cache);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                keys,
                cache,
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &VerifierConfig {
        &self.inner.config
    }

    /// The key provider.
    pub(crate) fn key_provider(&self) -> &Arc<dyn ProvideKey> {
        &self.inner.keys
    }

    /// Verifies a request whose body is at hand.
    pub async fn verify(
        &self,
        parts: &Parts,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, Rejection> {
        let checked = self.check(parts, now)?;
        let key = checked.resolve_key().await?;
        checked.finish(key, Payload::Bytes(body))
    }

    /// Stage one: every check that needs neither the secret nor the body (the rejection table's
    /// checks 1–15, in order).
    pub fn check<'a>(
        &'a self,
        parts: &'a Parts,
        now: SystemTime,
    ) -> Result<Checked<'a>, Rejection> {
        let config = &self.inner.config;
        #[cfg(feature = "s3")]
        if config.profile == crate::sigv4::settings::Profile::S3 {
            return crate::s3::auth::check(self, parts, now);
        }
        let pairs = canonical::query_pairs(parts.uri.query().unwrap_or_default());
        let params = parse::parse(parts, &pairs, config.presigned_expires)?;
        let service_hint = split_ascii(&params.credential, b'/').nth(3);
        let tag = |r: Rejection| r.with_service(service_hint);
        parse::check_signed_headers(&params.signed_headers, &config.required_signed_headers)
            .map_err(tag)?;

        // 10: the date.
        let parsed = match params.date_source {
            DateSource::XAmzDate => scope::parse_amz_date(&params.date),
            DateSource::HttpDate => scope::parse_http_date(&params.date),
        };
        let Some(signed_at) = parsed else {
            return Err(tag(Rejection::new(
                RejectionKind::MalformedDate,
                format!(
                    "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                    params.date
                ),
            )));
        };
        // The string to sign carries the date in basic format, even when it came as a `Date`.
        let amz_basic = match params.date_source {
            DateSource::XAmzDate => None,
            DateSource::HttpDate => Some(scope::format_amz_date(signed_at)),
        };
        let amz_date: &str = amz_basic.as_deref().unwrap_or(&params.date);

        // 11, 12: the clock-skew window (presigned URLs with an expiry only the "not yet"
        // side; their end is check 15).
        let skew = config.clock_skew;
        let too_old = signed_at.checked_add(skew).is_some_and(|end| end < now);
        if params.expires.is_none() && too_old {
            return Err(tag(Rejection::new(
                RejectionKind::RequestTooOld,
                format!(
                    "Signature expired: {} is now earlier than {} ({} - {})",
                    amz_date,
                    scope::format_amz_date(now.checked_sub(skew).unwrap_or(SystemTime::UNIX_EPOCH)),
                    scope::format_amz_date(now),
                    scope::format_window(skew),
                ),
            )));
        }
        if now.checked_add(skew).is_none_or(|end| signed_at > end) {
            return Err(tag(Rejection::new(
                RejectionKind::RequestTooNew,
                format!(
                    "Signature not yet current: {} is still later than {} ({} + {})",
                    amz_date,
                    scope::format_amz_date(now.checked_add(skew).unwrap_or(now)),
                    scope::format_amz_date(now),
                    scope::format_window(skew),
                ),
            )));
        }

        // 13: five parts.
        let mut it = split_ascii(&params.credential, b'/');
        let (Some(key_id), Some(date), Some(region), Some(service), Some(term), None) = (
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
        ) else {
            return Err(tag(Rejection::new(
                RejectionKind::MalformedCredential,
                format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                    params.credential
                ),
            )));
        };

        // 14: the scope, every failing check in order.
        let mut scope_errors = String::new();
        if !config.regions.iter().any(|r| r == region) {
            scope_errors.push_str(&format!(
                "Credential should be scoped to a valid region, not '{region}'. "
            ));
        }
        if !config.services.iter().any(|s| s == service) {
            scope_errors.push_str(&format!(
                "Credential should be scoped to correct service: '{}'. ",
                config
                    .services
                    .first()
                    .map(String::as_str)
                    .unwrap_or_default()
            ));
        }
        if term != TERMINATOR {
            scope_errors.push_str(&format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{term}'. "
            ));
        }
        let request_day = amz_date.get(..8).unwrap_or_default();
        if date != request_day {
            scope_errors.push_str(&format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{request_day}', from '{}'.",
                params.date
            ));
        }
        if !scope_errors.is_empty() {
            return Err(tag(Rejection::new(
                RejectionKind::InvalidScope,
                scope_errors,
            )));
        }

        // 15: presigned expiry, strict.
        if let Some(expires) = params.expires {
            let end = signed_at.checked_add(Duration::from_secs(expires));
            if end.is_none_or(|end| now > end) {
                return Err(tag(Rejection::new(
                    RejectionKind::PresignedExpired,
                    "Request has expired",
                )));
            }
        }

        let payload = match params.location {
            AuthLocation::Header => {
                let signed = || {
                    split_ascii(&params.signed_headers, b';')
                        .any(|h| h.eq_ignore_ascii_case("x-amz-content-sha256"))
                };
                match parts.headers.get(parse::X_AMZ_CONTENT_SHA256_HEADER) {
                    Some(v) if signed() => PayloadLine::Declared(canonical::text(v.as_bytes())),
                    _ => PayloadLine::BodyHash,
                }
            }
            AuthLocation::Query => {
                match pairs.iter().find(|(k, _)| k == parse::X_AMZ_CONTENT_SHA256) {
                    Some((_, v)) => {
                        PayloadLine::Declared(canonical::form_decode_str(v).into_owned().into())
                    }
                    None => match config.presigned_payload {
                        PresignedPayload::Hashed => PayloadLine::BodyHash,
                        PresignedPayload::Unsigned => PayloadLine::Unsigned,
                    },
                }
            }
        };

        let lens = [key_id.len(), date.len(), region.len(), service.len()];
        Ok(Checked::new(
            self, parts, pairs, params, amz_basic, signed_at, now, lens, payload,
        ))
    }

    fn host<'a>(&self, parts: &'a Parts) -> Option<Cow<'a, str>> {
        for trusted in &self.inner.config.forwarded_host {
            let found = match trusted {
                ForwardedHost::XForwardedHost => parts
                    .headers
                    .get("x-forwarded-host")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .map(str::trim)
                    .filter(|v| !v.is_empty()),
                ForwardedHost::Forwarded => parts
                    .headers
                    .get(http::header::FORWARDED)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .and_then(|first| {
                        first.split(';').find_map(|p| {
                            let (k, v) = p.trim().split_once('=')?;
                            k.eq_ignore_ascii_case("host").then(|| v.trim_matches('"'))
                        })
                    })
                    .filter(|v| !v.is_empty()),
            };
            if let Some(host) = found {
                return Some(Cow::Borrowed(host));
            }
        }
        if let Some(h) = parts.headers.get(http::header::HOST) {
            return Some(canonical::text(h.as_bytes()));
        }
        canonical::uri_host(&parts.uri)
    }
}

/// A request that passed the checks that need no secret; see [`Verifier::check`].
pub struct Checked<'a> {
    pub(crate) verifier: &'a Verifier,
    pub(crate) parts: &'a Parts,
    pairs: Vec<QueryPair<'a>>,
    host: Option<Cow<'a, str>>,
    pub(crate) params: AuthParams<'a>,
    /// The date in basic format when it came as an HTTP date.
    amz_basic: Option<String>,
    signed_at: SystemTime,
    now: SystemTime,
    /// Lengths of the access key id, date, region and service in the credential.
    lens: [usize; 4],
    pub(crate) payload: PayloadLine<'a>,
}

/// What proving the signature gives: the signing key (for chunk signatures), the scope, the
/// seed signature and the caller.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub(crate) struct Proof {
    pub(crate) signing_key: crate::sigv4::signing_key::SigningKey,
    pub(crate) scope: CredentialScope,
    pub(crate) signature: [u8; 32],
    pub(crate) principal: Principal,
}

impl fmt::Debug for Checked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checked")
            .field("access_key_id", &self.access_key_id())
            .field("scope", &self.scope_parts())
            .field("location", &self.params.location)
            .finish_non_exhaustive()
    }
}

impl<'a> Checked<'a> {
    /// Assembles the checked request (the query pairs are sorted here).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        verifier: &'a Verifier,
        parts: &'a Parts,
        mut pairs: Vec<QueryPair<'a>>,
        params: AuthParams<'a>,
        amz_basic: Option<String>,
        signed_at: SystemTime,
        now: SystemTime,
        lens: [usize; 4],
        payload: PayloadLine<'a>,
    ) -> Self {
        canonical::sort_pairs(&mut pairs);
        let host = verifier.host(parts);
        Self {
            verifier,
            parts,
            pairs,
            host,
            params,
            amz_basic,
            signed_at,
            now,
            lens,
            payload,
        }
    }

    pub(crate) fn amz_date(&self) -> &str {
        self.amz_basic.as_deref().unwrap_or(&self.params.date)
    }

    pub(crate) fn scope_parts(&self) -> (&str, &str, &str) {
        let c: &str = &self.params.credential;
        let [k, d, r, s] = self.lens;
        let date = c.get(k + 1..k + 1 + d).unwrap_or_default();
        let region = c.get(k + d + 2..k + d + 2 + r).unwrap_or_default();
        let service = c.get(k + d + r + 3..k + d + r + 3 + s).unwrap_or_default();
        (date, region, service)
    }

    /// The access key id the request names.
    pub fn access_key_id(&self) -> &str {
        self.params
            .credential
            .get(..self.lens[0])
            .unwrap_or_default()
    }

    /// The credential scope.
    pub fn scope(&self) -> CredentialScope {
        let (d, r, s) = self.scope_parts();
        CredentialScope::new(d, r, s)
    }

    /// The service of the credential scope.
    pub fn service(&self) -> &str {
        self.scope_parts().2
    }

    /// The request date.
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// Header or presigned query.
    pub fn location(&self) -> AuthLocation {
        self.params.location
    }

    /// Whether [`Checked::finish`] needs the body (false for `UNSIGNED-PAYLOAD`).
    pub fn needs_body(&self) -> bool {
        match &self.payload {
            PayloadLine::BodyHash => true,
            PayloadLine::Declared(v) => is_sha256_hex(v),
            PayloadLine::Unsigned => false,
        }
    }

    /// The signed SHA-256 of the body (a signed hex `x-amz-content-sha256`), which lets the
    /// signature be checked before a byte of the body is read; the body must then be hashed
    /// as it arrives and compared with it.
    pub(crate) fn declared_body_hash(&self) -> Option<&str> {
        match &self.payload {
            PayloadLine::Declared(v) if is_sha256_hex(v) => Some(v),
            _ => None,
        }
    }

    /// What to ask the key provider.
    pub fn key_request(&self) -> KeyRequest<'_> {
        let (date, region, service) = self.scope_parts();
        KeyRequest::new(
            self.access_key_id(),
            self.params.security_token.as_deref(),
            date,
            region,
            service,
            self.now,
        )
    }

    /// Whether the verifier follows the S3 profile.
    #[cfg(feature = "s3")]
    pub(crate) fn is_s3(&self) -> bool {
        self.verifier.inner.config.profile == crate::sigv4::settings::Profile::S3
    }

    pub(crate) fn reject(
        &self,
        kind: RejectionKind,
        message: impl Into<Cow<'static, str>>,
    ) -> Rejection {
        Rejection::new(kind, message).with_service(Some(self.service()))
    }

    /// Stage two: asks the verifier's key provider, mapping its failures to rejections
    /// (checks 16 and 17, or a 500 when the provider is unavailable).
    pub async fn resolve_key(&self) -> Result<ResolvedKey, Rejection> {
        let provider = self.verifier.key_provider();
        provider
            .provide_key(self.key_request())
            .await
            .map_err(|e| self.key_rejection(&e))
    }

    /// Stage two without waiting: the key provider's answer if it gave one at once, `None` if
    /// it answered with a future (nothing was awaited: ask again with
    /// [`Checked::resolve_key`]).
    pub(crate) fn resolve_key_now(&self) -> Option<Result<ResolvedKey, Rejection>> {
        let provider = self.verifier.key_provider();
        match provider.provide_key(self.key_request()).now_or_later() {
            Ok(answer) => Some(answer.map_err(|e| self.key_rejection(&e))),
            Err(_later) => None,
        }
    }

    /// The rejection a key provider failure turns into.
    pub fn key_rejection(&self, error: &KeyError) -> Rejection {
        #[cfg(feature = "s3")]
        if self.is_s3() {
            return crate::s3::auth::key_rejection(self, error);
        }
        match error.kind() {
            KeyErrorKind::UnknownKey | KeyErrorKind::InvalidToken => self.reject(
                RejectionKind::InvalidToken,
                "The security token included in the request is invalid.",
            ),
            KeyErrorKind::ExpiredToken => self.reject(
                RejectionKind::ExpiredToken,
                "The security token included in the request is expired",
            ),
            KeyErrorKind::Unavailable => {
                let r = self.reject(RejectionKind::ProviderFailure, "Internal server error");
                match error.source_arc() {
                    Some(source) => r.with_source(source),
                    None => r,
                }
            }
        }
    }

    fn canonical<'s>(&'s self, payload_hash: &'s str, skip: &'s [&'s str]) -> CanonicalRequest<'s> {
        let config = &self.verifier.inner.config;
        CanonicalRequest {
            method: self.parts.method.as_str(),
            path: canonical::canonical_path(
                self.parts.uri.path(),
                config.path_normalization,
                config.percent_encoding,
            ),
            query: &self.pairs,
            skip,
            headers: &self.parts.headers,
            host: self.host.as_deref(),
            signed_headers: &self.params.signed_headers,
            payload_hash,
        }
    }

    fn signature(
        &self,
        key: &crate::sigv4::signing_key::SigningKey,
        creq: &CanonicalRequest<'_>,
    ) -> [u8; 32] {
        let digest = creq.digest();
        let mut mac = key.mac();
        scope::write_string_to_sign(
            &mut mac,
            self.amz_date(),
            self.scope_parts(),
            &hex32(&digest),
        );
        hmac::Mac::finalize(mac).into_bytes().into()
    }

    fn string_to_sign_text(&self, creq: &CanonicalRequest<'_>) -> String {
        let mut buf = Vec::new();
        scope::write_string_to_sign(
            &mut buf,
            self.amz_date(),
            self.scope_parts(),
            &hex32(&creq.digest()),
        );
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// The payload line of the canonical request for `payload`; a body hash is written into
    /// `body_hash` (on the caller's stack: no allocation).
    pub(crate) fn payload_line<'p>(
        &'p self,
        payload: Payload<'p>,
        body_hash: &'p mut [u8; 64],
    ) -> &'p str {
        match &self.payload {
            PayloadLine::Declared(v) => v,
            PayloadLine::Unsigned => UNSIGNED_PAYLOAD,
            PayloadLine::BodyHash => match payload {
                Payload::Bytes(b) => {
                    *body_hash = canonical::sha256_hex32(b);
                    canonical::hex_str(body_hash)
                }
                Payload::Sha256Hex(h) => h,
            },
        }
    }

    fn signature_skip(&self) -> &'static [&'static str] {
        match self.params.location {
            AuthLocation::Query => &[parse::X_AMZ_SIGNATURE],
            AuthLocation::Header => &[],
        }
    }

    /// The canonical request the server computes for this request and `payload` — what a
    /// client must have signed. For debugging clients; it holds no secret.
    pub fn canonical_request(&self, payload: Payload<'_>) -> String {
        let mut body_hash = [0; 64];
        let line = self.payload_line(payload, &mut body_hash);
        self.canonical(line, self.signature_skip()).to_text()
    }

    /// The string to sign the server computes for this request and `payload`.
    pub fn string_to_sign(&self, payload: Payload<'_>) -> String {
        let mut body_hash = [0; 64];
        let line = self.payload_line(payload, &mut body_hash);
        self.string_to_sign_text(&self.canonical(line, self.signature_skip()))
    }

    /// Stage three: checks the signature (18) and the payload hash (19) with the resolved key.
    ///
    /// In the S3 profile this also checks that every `x-amz-*` header is signed and the
    /// headers that describe the body; a streaming (`aws-chunked`) body given as
    /// [`Payload::Bytes`] is decoded and every chunk signature, the trailer and the checksums
    /// verified (the layer does the same as the body streams); [`Payload::Sha256Hex`] cannot
    /// prove a streaming body and leaves `Content-MD5` and checksums unverified.
    pub fn finish(self, key: ResolvedKey, payload: Payload<'_>) -> Result<Verified, Rejection> {
        #[cfg(feature = "s3")]
        if self.is_s3() {
            return crate::s3::finish(self, key, payload);
        }
        let config = &self.verifier.inner.config;
        let mut body_hash = [0; 64];
        let payload_line = self.payload_line(payload, &mut body_hash);
        let proof = self.prove(key, payload_line)?;

        // 19: the payload.
        let mismatch = || {
            self.reject(
                RejectionKind::PayloadHashMismatch,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        };
        let coverage = match &self.payload {
            PayloadLine::BodyHash => PayloadCoverage::Signed,
            PayloadLine::Unsigned | PayloadLine::Declared(_)
                if payload_line == UNSIGNED_PAYLOAD =>
            {
                if config.unsigned_payload == UnsignedPayload::Rejected {
                    return Err(mismatch());
                }
                PayloadCoverage::Unsigned
            }
            PayloadLine::Declared(v) if is_sha256_hex(v) => {
                let computed: [u8; 64];
                let actual = match payload {
                    Payload::Bytes(b) => {
                        computed = canonical::sha256_hex32(b);
                        canonical::hex_str(&computed)
                    }
                    Payload::Sha256Hex(h) => h,
                };
                if !actual.eq_ignore_ascii_case(v) {
                    return Err(mismatch());
                }
                PayloadCoverage::Signed
            }
            PayloadLine::Declared(_) | PayloadLine::Unsigned => return Err(mismatch()),
        };
        Ok(self.verified(proof, coverage))
    }

    /// The verified facts, once the signature and the payload are proven.
    pub(crate) fn verified(&self, proof: Proof, coverage: PayloadCoverage) -> Verified {
        let principal = if proof.principal.access_key_id().is_empty() {
            proof.principal.with_access_key_id(self.access_key_id())
        } else {
            proof.principal
        };
        Verified {
            principal,
            scope: proof.scope,
            signed_at: self.signed_at,
            location: self.params.location,
            payload: coverage,
        }
    }

    /// Check 18: the signature over the canonical request with `payload_line`.
    pub(crate) fn prove(&self, key: ResolvedKey, payload_line: &str) -> Result<Proof, Rejection> {
        let (secret, principal) = key.into_parts();
        let (date, region, service) = self.scope_parts();
        let (signing_key, scope) = self.verifier.inner.cache.get_or_derive(
            self.access_key_id(),
            &secret,
            date,
            region,
            service,
        );
        let provided = decode_signature(&self.params.signature);
        let presigned = self.params.location == AuthLocation::Query;
        let creq = self.canonical(payload_line, self.signature_skip());
        let computed = self.signature(&signing_key, &creq);
        let mut ok = matches(&computed, provided.as_ref());
        if !ok && presigned && self.params.security_token.is_some() {
            // Some clients add X-Amz-Security-Token after presigning (the token is not signed,
            // exactly as when it arrives as an unsigned header).
            let without_token = [parse::X_AMZ_SIGNATURE, parse::X_AMZ_SECURITY_TOKEN];
            let creq = self.canonical(payload_line, &without_token);
            ok = matches(&self.signature(&signing_key, &creq), provided.as_ref());
        }
        if !ok {
            return Err(self.mismatch(&creq));
        }
        Ok(Proof {
            signing_key,
            scope,
            signature: computed,
            principal,
        })
    }

    fn mismatch(&self, creq: &CanonicalRequest<'_>) -> Rejection {
        let detail = self.verifier.inner.config.mismatch_detail == MismatchDetail::CanonicalRequest;
        #[cfg(feature = "s3")]
        if self.is_s3() {
            let r =
                crate::s3::errors::signature_mismatch(self.access_key_id(), &self.params.signature);
            return if detail {
                crate::s3::errors::with_mismatch_detail(
                    r,
                    &self.string_to_sign_text(creq),
                    &creq.to_text(),
                )
            } else {
                r
            };
        }
        let mut message = String::from("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        if detail {
            message.push_str(&format!(
                "\n\nThe Canonical String for this request should have been\n'{}'\n\nThe String-to-Sign should have been\n'{}'\n",
                creq.to_text(),
                self.string_to_sign_text(creq)
            ));
        }
        self.reject(RejectionKind::SignatureMismatch, message)
    }

    /// The canonical request's text with `payload_line` (for mismatch details).
    #[cfg(feature = "s3")]
    pub(crate) fn canonical_text(&self, payload_line: &str) -> String {
        self.canonical(payload_line, self.signature_skip())
            .to_text()
    }
}

fn decode_signature(sig: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(sig, &mut out).ok().map(|()| out)
}

fn matches(computed: &[u8; 32], provided: Option<&[u8; 32]>) -> bool {
    match provided {
        Some(p) => computed.ct_eq(p).into(),
        None => false,
    }
}
