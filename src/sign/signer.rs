use std::borrow::Cow;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use http::header::{HeaderName, HeaderValue, AUTHORIZATION, HOST};
use http::request::Parts;
use http::Uri;

use crate::credentials::SecretKey;
use crate::sigv4::canonical::{self, hex32, CanonicalRequest, UNSIGNED_PAYLOAD};
use crate::sigv4::parse;
use crate::sigv4::scope::{self, ALGORITHM};
use crate::sigv4::settings::{PathNormalization, PercentEncoding};
use crate::sigv4::signing_key::SigningKey;

/// Credentials to sign with. `Debug` hides the secret and the token.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret: SecretKey,
    session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials.
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<SecretKey>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            session_token: None,
        }
    }

    /// With a session token (temporary credentials).
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The session token, if any.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// What the payload line of the canonical request is.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum SignablePayload<'a> {
    /// The body; its SHA-256 is signed.
    Bytes(&'a [u8]),
    /// The hex SHA-256 of the body, computed elsewhere.
    Precomputed(&'a str),
    /// `UNSIGNED-PAYLOAD`: the body is not covered.
    Unsigned,
}

/// Whether the signer adds an `x-amz-content-sha256` header (S3 requires it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContentSha256Header {
    /// No header (the default; what SDKs do for non-S3 services).
    #[default]
    Omit,
    /// Add and sign `x-amz-content-sha256` with the payload hash.
    Include,
}

/// Whether the session token is covered by the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionTokenMode {
    /// Signed (the default).
    #[default]
    Signed,
    /// Added after signing (some services want it so).
    Unsigned,
}

/// Signer settings, with the same encoding and normalisation modes as the verifier.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SigningSettings {
    /// Path encoding. Default: double (non-S3).
    pub percent_encoding: PercentEncoding,
    /// Path normalisation. Default: enabled (non-S3).
    pub path_normalization: PathNormalization,
    /// Whether to add `x-amz-content-sha256`. Default: omit.
    pub content_sha256: ContentSha256Header,
    /// Session token mode. Default: signed.
    pub session_token: SessionTokenMode,
    /// Headers never signed. Default: `authorization`, `user-agent`, `x-amzn-trace-id`,
    /// `transfer-encoding` (as aws-sigv4).
    pub excluded_headers: Vec<HeaderName>,
}

impl Default for SigningSettings {
    fn default() -> Self {
        Self {
            percent_encoding: PercentEncoding::Double,
            path_normalization: PathNormalization::Enabled,
            content_sha256: ContentSha256Header::Omit,
            session_token: SessionTokenMode::Signed,
            excluded_headers: vec![
                AUTHORIZATION,
                http::header::USER_AGENT,
                HeaderName::from_static("x-amzn-trace-id"),
                http::header::TRANSFER_ENCODING,
            ],
        }
    }
}

impl SigningSettings {
    /// S3's rules: single encoding, no normalisation, `x-amz-content-sha256` added.
    pub fn s3() -> Self {
        Self {
            percent_encoding: PercentEncoding::Single,
            path_normalization: PathNormalization::Disabled,
            content_sha256: ContentSha256Header::Include,
            ..Self::default()
        }
    }

    /// Never signs `header`.
    pub fn exclude_header(mut self, header: HeaderName) -> Self {
        self.excluded_headers.push(header);
        self
    }
}

/// What kind of mistake kept a request from being signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignErrorKind {
    /// The request names no host (no `Host` header, no authority in its URI).
    NoHost,
    /// A value cannot be a header value (an access key id or session token with control
    /// characters, say).
    InvalidHeaderValue,
    /// A presigned URL's expiry is not between 1 second and 7 days.
    InvalidExpiry,
    /// The presigned URL could not be built from the request's URI.
    InvalidUri,
    /// The body could not be read (the client layer buffers it to hash it).
    Body,
    /// The inner service failed (client layer).
    Service,
}

/// Why a request could not be signed (or, in the client layer, sent): [`SignError::kind`]
/// says which; `Display` says what, never a secret.
#[derive(Debug)]
pub struct SignError {
    kind: SignErrorKind,
    what: &'static str,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SignError {
    #[cfg(feature = "s3")]
    pub(crate) fn new(kind: SignErrorKind, what: &'static str) -> Self {
        err(kind, what)
    }

    /// What kind of mistake.
    pub fn kind(&self) -> SignErrorKind {
        self.kind
    }

    pub(crate) fn with_source(
        kind: SignErrorKind,
        what: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    ) -> Self {
        Self {
            kind,
            what,
            source: Some(source),
        }
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl std::error::Error for SignError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

fn err(kind: SignErrorKind, what: &'static str) -> SignError {
    SignError {
        kind,
        what,
        source: None,
    }
}

/// Signs requests (sans-IO): adds `X-Amz-Date`, the session token and `Authorization`, or
/// builds a presigned URL.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use tower_sigv4::{Credentials, SignablePayload, Signer};
///
/// let signer = Signer::new(
///     Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
///     "us-east-1",
///     "service",
/// );
/// let (mut parts, ()) = http::Request::get("https://example.amazonaws.com/").body(()).unwrap().into_parts();
/// let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
/// signer.sign(&mut parts, SignablePayload::Bytes(b""), t).unwrap();
/// assert_eq!(
///     parts.headers["authorization"],
///     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
/// );
/// ```
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
    settings: SigningSettings,
    /// The last derived key, by scope date.
    key: Mutex<Option<(String, SigningKey)>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("settings", &self.settings)
            .finish()
    }
}

impl Clone for Signer {
    fn clone(&self) -> Self {
        Self::new(
            self.credentials.clone(),
            self.region.clone(),
            self.service.clone(),
        )
        .with_settings(self.settings.clone())
    }
}

fn host_of(parts: &Parts) -> Option<Cow<'_, str>> {
    if let Some(h) = parts.headers.get(HOST) {
        return Some(String::from_utf8_lossy(h.as_bytes()));
    }
    canonical::uri_host(&parts.uri)
}

/// The query parameters a presigned URL adds (decoded names, as the verifier reads them).
const PRESIGN_PARAMETERS: [&str; 7] = [
    parse::X_AMZ_ALGORITHM,
    parse::X_AMZ_CREDENTIAL,
    parse::X_AMZ_DATE,
    parse::X_AMZ_EXPIRES,
    parse::X_AMZ_SIGNED_HEADERS,
    parse::X_AMZ_SIGNATURE,
    parse::X_AMZ_SECURITY_TOKEN,
];

impl Signer {
    /// A signer for `region` and `service` with default settings.
    pub fn new(
        credentials: Credentials,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Self {
            credentials,
            region: region.into(),
            service: service.into(),
            settings: SigningSettings::default(),
            key: Mutex::new(None),
        }
    }

    /// With `settings`.
    pub fn with_settings(mut self, settings: SigningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &SigningSettings {
        &self.settings
    }

    /// The region signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service signed for.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The signing key of the scope date `date` (cached).
    #[cfg(feature = "s3")]
    pub(crate) fn signing_key_for(&self, date: &str) -> SigningKey {
        self.signing_key(date)
    }

    fn signing_key(&self, date: &str) -> SigningKey {
        let mut slot = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((d, k)) = slot.as_ref() {
            if d == date {
                return k.clone();
            }
        }
        let key = SigningKey::derive(
            self.credentials.secret.expose_secret().as_bytes(),
            date,
            &self.region,
            &self.service,
        );
        *slot = Some((date.to_owned(), key.clone()));
        key
    }

    fn signed_header_names(&self, parts: &Parts, presign: bool) -> String {
        let mut names: Vec<&str> = parts
            .headers
            .keys()
            .map(HeaderName::as_str)
            .filter(|n| {
                !self
                    .settings
                    .excluded_headers
                    .iter()
                    .any(|e| e.as_str() == *n)
            })
            .filter(|n| !(presign && matches!(*n, "x-amz-user-agent" | "x-amz-checksum-mode")))
            .filter(|n| {
                !(self.settings.session_token == SessionTokenMode::Unsigned
                    && *n == "x-amz-security-token")
            })
            .collect();
        if !names.contains(&"host") {
            names.push("host");
        }
        names.sort_unstable();
        names.dedup();
        names.join(";")
    }

    fn payload_line<'p>(payload: SignablePayload<'p>) -> Cow<'p, str> {
        match payload {
            SignablePayload::Bytes(b) => Cow::Owned(canonical::sha256_hex(b)),
            SignablePayload::Precomputed(h) => Cow::Borrowed(h),
            SignablePayload::Unsigned => Cow::Borrowed(UNSIGNED_PAYLOAD),
        }
    }

    fn signature(&self, creq: &CanonicalRequest<'_>, amz_date: &str, date: &str) -> String {
        let key = self.signing_key(date);
        let mut mac = key.mac();
        scope::write_string_to_sign(
            &mut mac,
            amz_date,
            (date, &self.region, &self.service),
            &hex32(&creq.digest()),
        );
        hex::encode(hmac::Mac::finalize(mac).into_bytes())
    }

    /// Signs in the `Authorization` header: sets `x-amz-date`, the session token and (if so
    /// configured) `x-amz-content-sha256`, then `Authorization`.
    ///
    /// # Errors
    ///
    /// [`SignErrorKind::InvalidUri`] when the query has `X-Amz-Algorithm` (the request would
    /// carry two authentication mechanisms), [`SignErrorKind::InvalidHeaderValue`] for a key
    /// id or token that cannot be a header value, [`SignErrorKind::NoHost`] without a host.
    pub fn sign(
        &self,
        parts: &mut Parts,
        payload: SignablePayload<'_>,
        time: SystemTime,
    ) -> Result<(), SignError> {
        // The query's pairs, decoded as the verifier reads them: looked at here, then signed.
        let mut pairs = canonical::query_pairs(parts.uri.query().unwrap_or_default());
        // `X-Amz-Algorithm` in the query makes a request presigned to a verifier, and an
        // `Authorization` header beside it two mechanisms at once: refused, as S3 and API
        // Gateway would refuse the result.
        if pairs.iter().any(|(k, _)| k == parse::X_AMZ_ALGORITHM) {
            return Err(err(
                SignErrorKind::InvalidUri,
                "the request's query has X-Amz-Algorithm: it would read as a presigned URL",
            ));
        }
        let amz_date = scope::format_amz_date(time);
        let date = amz_date.get(..8).unwrap_or_default().to_owned();
        let payload_hash = Self::payload_line(payload);
        parts.headers.remove(AUTHORIZATION);
        parts.headers.insert(
            HeaderName::from_static("x-amz-date"),
            HeaderValue::from_str(&amz_date)
                .map_err(|_| err(SignErrorKind::InvalidHeaderValue, "invalid date"))?,
        );
        if let Some(token) = &self.credentials.session_token {
            let mut v = HeaderValue::from_str(token).map_err(|_| {
                err(
                    SignErrorKind::InvalidHeaderValue,
                    "session token is not a valid header value",
                )
            })?;
            v.set_sensitive(true);
            parts
                .headers
                .insert(HeaderName::from_static("x-amz-security-token"), v);
        }
        if self.settings.content_sha256 == ContentSha256Header::Include {
            parts.headers.insert(
                HeaderName::from_static("x-amz-content-sha256"),
                HeaderValue::from_str(&payload_hash)
                    .map_err(|_| err(SignErrorKind::InvalidHeaderValue, "invalid payload hash"))?,
            );
        }
        let signed_headers = self.signed_header_names(parts, false);
        canonical::sort_pairs(&mut pairs);
        let host =
            host_of(parts).ok_or_else(|| err(SignErrorKind::NoHost, "request has no host"))?;
        let creq = CanonicalRequest {
            method: parts.method.as_str(),
            path: canonical::canonical_path(
                parts.uri.path(),
                self.settings.path_normalization,
                self.settings.percent_encoding,
            ),
            query: &pairs,
            skip: &[],
            headers: &parts.headers,
            host: Some(&host),
            signed_headers: &signed_headers,
            payload_hash: &payload_hash,
        };
        let signature = self.signature(&creq, &amz_date, &date);
        let value = format!(
            "{ALGORITHM} Credential={}/{date}/{}/{}/aws4_request, SignedHeaders={signed_headers}, Signature={signature}",
            self.credentials.access_key_id, self.region, self.service
        );
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            err(
                SignErrorKind::InvalidHeaderValue,
                "access key id is not a valid header value",
            )
        })?;
        value.set_sensitive(true);
        drop(pairs);
        parts.headers.insert(AUTHORIZATION, value);
        Ok(())
    }

    /// A presigned URL for the request, valid for `expires` (1 second to 7 days).
    ///
    /// # Errors
    ///
    /// [`SignErrorKind::InvalidExpiry`] for an expiry out of range, [`SignErrorKind::NoHost`]
    /// without a host, [`SignErrorKind::InvalidUri`] when the query already has one of the
    /// presigning parameters (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
    /// `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`, `X-Amz-Security-Token`).
    pub fn presign(
        &self,
        parts: &Parts,
        payload: SignablePayload<'_>,
        expires: Duration,
        time: SystemTime,
    ) -> Result<Uri, SignError> {
        let secs = expires.as_secs();
        if secs == 0 || secs > parse::MAX_EXPIRES {
            return Err(err(
                SignErrorKind::InvalidExpiry,
                "expiry must be between 1 second and 7 days",
            ));
        }
        // A query that already carries presigning parameters would give the URL two of them,
        // read one way here and another by a verifier: refused.
        let original = parts.uri.query().unwrap_or_default();
        if canonical::query_pairs(original)
            .iter()
            .any(|(k, _)| PRESIGN_PARAMETERS.contains(&&**k))
        {
            return Err(err(
                SignErrorKind::InvalidUri,
                "the request's query already has a presigning parameter (X-Amz-Signature, …)",
            ));
        }
        let amz_date = scope::format_amz_date(time);
        let date = amz_date.get(..8).unwrap_or_default().to_owned();
        let payload_hash = Self::payload_line(payload);
        let signed_headers = self.signed_header_names(parts, true);
        let credential = format!(
            "{}/{date}/{}/{}/aws4_request",
            self.credentials.access_key_id, self.region, self.service
        );
        let enc = |s: &str| canonical::encode_component(s.as_bytes());
        let mut added = vec![
            (parse::X_AMZ_ALGORITHM, ALGORITHM.to_owned()),
            (parse::X_AMZ_CREDENTIAL, enc(&credential)),
            (parse::X_AMZ_DATE, amz_date.clone()),
            (parse::X_AMZ_EXPIRES, secs.to_string()),
            (parse::X_AMZ_SIGNED_HEADERS, enc(&signed_headers)),
        ];
        let token = self.credentials.session_token.as_deref().map(enc);
        if let (Some(t), SessionTokenMode::Signed) = (&token, self.settings.session_token) {
            added.push((parse::X_AMZ_SECURITY_TOKEN, t.clone()));
        }
        let mut query = original.to_owned();
        for (k, v) in &added {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(k);
            query.push('=');
            query.push_str(v);
        }
        let mut pairs = canonical::query_pairs(&query);
        canonical::sort_pairs(&mut pairs);
        let host =
            host_of(parts).ok_or_else(|| err(SignErrorKind::NoHost, "request has no host"))?;
        let creq = CanonicalRequest {
            method: parts.method.as_str(),
            path: canonical::canonical_path(
                parts.uri.path(),
                self.settings.path_normalization,
                self.settings.percent_encoding,
            ),
            query: &pairs,
            skip: &[],
            headers: &parts.headers,
            host: Some(&host),
            signed_headers: &signed_headers,
            payload_hash: &payload_hash,
        };
        let signature = self.signature(&creq, &amz_date, &date);
        drop(pairs);
        if let (Some(t), SessionTokenMode::Unsigned) = (&token, self.settings.session_token) {
            query.push_str(&format!("&{}={t}", parse::X_AMZ_SECURITY_TOKEN));
        }
        query.push_str(&format!("&{}={signature}", parse::X_AMZ_SIGNATURE));
        let mut builder = Uri::builder();
        if let Some(s) = parts.uri.scheme() {
            builder = builder.scheme(s.clone());
        }
        if let Some(a) = parts.uri.authority() {
            builder = builder.authority(a.clone());
        }
        builder
            .path_and_query(format!("{}?{query}", parts.uri.path()))
            .build()
            .map_err(|_| {
                err(
                    SignErrorKind::InvalidUri,
                    "could not build the presigned URL",
                )
            })
    }
}
