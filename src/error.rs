//! Rejections (why a request was turned away) and configuration errors.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use http::StatusCode;

/// Why a request was rejected. Each kind maps to one status, one `x-amzn-ErrorType` and one
/// message shape of Amazon API Gateway (see the crate docs for the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// A request target that servers could read differently (a raw `\`, `%2561`, `%5C`,
    /// `CONNECT`, `OPTIONS *`, two `Host` headers …): refused before authentication.
    InvalidTarget,
    /// No `Authorization` header and no `X-Amz-Algorithm` query parameter.
    MissingAuthentication,
    /// Both an `Authorization` header and presigned query parameters.
    MultipleAuthMechanisms,
    /// The `Authorization` header is not `ALGORITHM key=value, …`.
    MalformedAuthorization,
    /// A required part of the signature is missing.
    MissingParameter,
    /// An algorithm other than `AWS4-HMAC-SHA256`.
    UnsupportedAlgorithm,
    /// An authentication parameter given twice.
    DuplicateParameter,
    /// `X-Amz-Expires` is not an integer in `1..=604800`.
    InvalidExpires,
    /// `host` (or another required header) is not signed.
    HeaderNotSigned,
    /// The request date is not in ISO-8601 basic format.
    MalformedDate,
    /// The request date is older than the clock-skew window allows.
    RequestTooOld,
    /// The request date is later than the clock-skew window allows.
    RequestTooNew,
    /// The `Credential` does not have five `/`-separated parts.
    MalformedCredential,
    /// The credential scope names a wrong region, service, terminator or date.
    InvalidScope,
    /// A presigned URL is past `X-Amz-Date + X-Amz-Expires`.
    PresignedExpired,
    /// Unknown or inactive access key, or a session token that is missing or does not verify.
    InvalidToken,
    /// The session token has expired.
    ExpiredToken,
    /// The signature does not match.
    SignatureMismatch,
    /// A signed `x-amz-content-sha256` does not match the body (or `UNSIGNED-PAYLOAD` is not allowed).
    PayloadHashMismatch,
    /// The body exceeds the configured limit.
    BodyTooLarge,
    /// The body could not be read: bad framing, or it ended before its `Content-Length`.
    BodyUnreadable,
    /// The body did not arrive in time (idle between reads, or the whole body).
    BodyTimeout,
    /// The process-wide budget for buffered bodies is spent; try again later.
    Overloaded,
    /// The key provider failed (backend down, timeout).
    ProviderFailure,
    /// The policy check denied the request.
    AccessDenied,
    /// The policy check failed (not a denial: it could not decide).
    PolicyFailure,
    /// A request header the profile refuses or cannot honour (S3: an unsupported
    /// `x-amz-trailer`, a malformed `Content-MD5` or checksum header, both `Content-Length` and
    /// `Transfer-Encoding`, an `x-amz-content-sha256` that is no hash).
    InvalidRequest,
    /// A streaming upload without its decoded length or framing (S3's 411).
    LengthRequired,
    /// A feature the verifier does not implement (S3: SigV4a streaming).
    NotImplemented,
    /// The body does not match its `Content-MD5` or `x-amz-checksum-*` (S3's `BadDigest`).
    ChecksumMismatch,
}

impl RejectionKind {
    /// The HTTP status of this kind.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InvalidTarget
            | Self::BodyUnreadable
            | Self::InvalidRequest
            | Self::ChecksumMismatch => StatusCode::BAD_REQUEST,
            Self::LengthRequired => StatusCode::LENGTH_REQUIRED,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::ProviderFailure | Self::PolicyFailure => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::FORBIDDEN,
        }
    }

    /// The `x-amzn-ErrorType` API Gateway sends for this kind.
    pub fn error_type(self) -> &'static str {
        match self {
            Self::MissingAuthentication => "MissingAuthenticationTokenException",
            Self::MultipleAuthMechanisms
            | Self::MalformedAuthorization
            | Self::MissingParameter
            | Self::UnsupportedAlgorithm
            | Self::DuplicateParameter
            | Self::InvalidExpires
            | Self::MalformedDate
            | Self::MalformedCredential => "IncompleteSignatureException",
            Self::HeaderNotSigned
            | Self::RequestTooOld
            | Self::RequestTooNew
            | Self::InvalidScope
            | Self::SignatureMismatch
            | Self::PayloadHashMismatch => "InvalidSignatureException",
            Self::PresignedExpired | Self::InvalidToken | Self::AccessDenied => {
                "AccessDeniedException"
            }
            Self::ExpiredToken => "ExpiredTokenException",
            Self::BodyTooLarge => "RequestEntityTooLargeException",
            Self::InvalidTarget
            | Self::BodyUnreadable
            | Self::InvalidRequest
            | Self::ChecksumMismatch => "BadRequestException",
            Self::LengthRequired => "LengthRequiredException",
            Self::NotImplemented => "NotImplementedException",
            Self::BodyTimeout => "RequestTimeoutException",
            Self::Overloaded => "ServiceUnavailableException",
            Self::ProviderFailure | Self::PolicyFailure => "InternalServerErrorException",
        }
    }

    /// The kind's name as written in Rust (`"SignatureMismatch"`), the same as its `Debug`
    /// form: a label for metrics and logs that costs no allocation.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidTarget => "InvalidTarget",
            Self::MissingAuthentication => "MissingAuthentication",
            Self::MultipleAuthMechanisms => "MultipleAuthMechanisms",
            Self::MalformedAuthorization => "MalformedAuthorization",
            Self::MissingParameter => "MissingParameter",
            Self::UnsupportedAlgorithm => "UnsupportedAlgorithm",
            Self::DuplicateParameter => "DuplicateParameter",
            Self::InvalidExpires => "InvalidExpires",
            Self::HeaderNotSigned => "HeaderNotSigned",
            Self::MalformedDate => "MalformedDate",
            Self::RequestTooOld => "RequestTooOld",
            Self::RequestTooNew => "RequestTooNew",
            Self::MalformedCredential => "MalformedCredential",
            Self::InvalidScope => "InvalidScope",
            Self::PresignedExpired => "PresignedExpired",
            Self::InvalidToken => "InvalidToken",
            Self::ExpiredToken => "ExpiredToken",
            Self::SignatureMismatch => "SignatureMismatch",
            Self::PayloadHashMismatch => "PayloadHashMismatch",
            Self::BodyTooLarge => "BodyTooLarge",
            Self::BodyUnreadable => "BodyUnreadable",
            Self::BodyTimeout => "BodyTimeout",
            Self::Overloaded => "Overloaded",
            Self::ProviderFailure => "ProviderFailure",
            Self::AccessDenied => "AccessDenied",
            Self::PolicyFailure => "PolicyFailure",
            Self::InvalidRequest => "InvalidRequest",
            Self::LengthRequired => "LengthRequired",
            Self::NotImplemented => "NotImplemented",
            Self::ChecksumMismatch => "ChecksumMismatch",
        }
    }

    /// Whether this is an authorization denial (API Gateway writes `"Message"` for those,
    /// `"message"` for authentication faults).
    pub fn is_authorization(self) -> bool {
        matches!(self, Self::AccessDenied)
    }

    fn phrase(self) -> &'static str {
        match self {
            Self::InvalidTarget => "invalid request target",
            Self::MissingAuthentication => "missing authentication",
            Self::MultipleAuthMechanisms => "more than one auth mechanism",
            Self::MalformedAuthorization => "malformed authorization header",
            Self::MissingParameter => "missing signature parameter",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::DuplicateParameter => "duplicate signature parameter",
            Self::InvalidExpires => "invalid presign expiry",
            Self::HeaderNotSigned => "required header not signed",
            Self::MalformedDate => "malformed request date",
            Self::RequestTooOld => "request date too old",
            Self::RequestTooNew => "request date in the future",
            Self::MalformedCredential => "malformed credential",
            Self::InvalidScope => "invalid credential scope",
            Self::PresignedExpired => "presigned url expired",
            Self::InvalidToken => "invalid access key or token",
            Self::ExpiredToken => "expired token",
            Self::SignatureMismatch => "signature mismatch",
            Self::PayloadHashMismatch => "payload hash mismatch",
            Self::BodyTooLarge => "body too large",
            Self::BodyUnreadable => "body unreadable",
            Self::BodyTimeout => "body timed out",
            Self::Overloaded => "body buffers full",
            Self::ProviderFailure => "key provider failed",
            Self::AccessDenied => "access denied",
            Self::PolicyFailure => "policy check failed",
            Self::InvalidRequest => "invalid request header",
            Self::LengthRequired => "length required",
            Self::NotImplemented => "not implemented",
            Self::ChecksumMismatch => "checksum mismatch",
        }
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

/// A request the verifier turned away: what went wrong and the message the caller gets.
///
/// Rejections are answers, not failures of the service: the layer renders them into a response
/// and puts a copy in that response's extensions, so outer layers can log and count them.
///
/// Besides its [kind](Rejection::kind), a rejection carries the status, the AWS error code and
/// any extra elements of the answer the verifier's profile gives: API Gateway's by default
/// (the code is the `x-amzn-ErrorType`), S3's in the S3 profile (`SignatureDoesNotMatch`,
/// `AuthorizationHeaderMalformed` with a `Region` element, …).
#[derive(Clone)]
pub struct Rejection {
    kind: RejectionKind,
    status: StatusCode,
    code: Option<&'static str>,
    message: Cow<'static, str>,
    elements: Vec<(&'static str, String)>,
    service: Option<String>,
    principal: Option<Box<crate::principal::Principal>>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl Rejection {
    /// A rejection of `kind` with the message the caller will read.
    pub fn new(kind: RejectionKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            status: kind.status(),
            code: None,
            message: message.into(),
            elements: Vec::new(),
            service: None,
            principal: None,
            source: None,
        }
    }

    /// A rejection of `kind` answered with `status` and the AWS error `code` of a profile
    /// other than API Gateway's (S3's `SignatureDoesNotMatch`, say).
    #[cfg(feature = "s3")]
    pub(crate) fn coded(
        kind: RejectionKind,
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        let mut r = Self::new(kind, message);
        r.status = status;
        r.code = Some(code);
        r
    }

    /// Adds an element to the answer (S3's `<Region>`, `<HeadersNotSigned>` …).
    #[cfg(feature = "s3")]
    pub(crate) fn with_element(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.elements.push((name, value.into()));
        self
    }

    /// An authorization denial (403 `AccessDeniedException`) with its message.
    pub fn access_denied(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(RejectionKind::AccessDenied, message)
    }

    pub(crate) fn with_source(mut self, source: Arc<dyn StdError + Send + Sync>) -> Self {
        self.source = Some(source);
        self
    }

    pub(crate) fn with_service(mut self, service: Option<&str>) -> Self {
        if self.service.is_none() {
            self.service = service.map(str::to_owned);
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The message for the caller (never a secret).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The AWS error code: S3's (`SignatureDoesNotMatch`, `InvalidAccessKeyId` …) in the S3
    /// profile, otherwise API Gateway's `x-amzn-ErrorType` for the kind.
    pub fn code(&self) -> &str {
        self.code.unwrap_or_else(|| self.kind.error_type())
    }

    /// Extra elements of the answer beyond code and message, in order (S3's `<Region>`,
    /// `<HeadersNotSigned>`, `<AWSAccessKeyId>` …). Empty in API Gateway's dialect.
    pub fn elements(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.elements.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The underlying failure (provider or policy backend), for logs.
    pub(crate) fn source_display(&self) -> Option<String> {
        self.source.as_ref().map(|e| e.to_string())
    }

    pub(crate) fn with_principal(mut self, principal: &crate::principal::Principal) -> Self {
        self.principal = Some(Box::new(principal.clone()));
        self
    }

    /// The verified caller, for a rejection made after the signature was proven (a policy
    /// denial or failure); for logs and metrics.
    pub fn principal(&self) -> Option<&crate::principal::Principal> {
        self.principal.as_deref()
    }

    /// The service named by the request's credential scope, when it got that far.
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("code", &self.code())
            .field("message", &self.message)
            .field("elements", &self.elements)
            .field("service", &self.service)
            .field("principal", &self.principal.as_ref().map(|p| p.arn()))
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl StdError for Rejection {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// Which setting a [`ConfigError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// `regions` is empty or names an empty region.
    Regions,
    /// `services` is empty or names an empty service.
    Services,
    /// `clock_skew` is over a week.
    ClockSkew,
    /// `signing_key_cache` holds no key.
    SigningKeyCache,
}

/// A configuration mistake, found when the verifier, layer or signer is built (never at request
/// time). `Display` says what is wrong; [`ConfigError::kind`] which setting.
#[derive(Clone, Debug)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    what: &'static str,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, what: &'static str) -> Self {
        Self { kind, what }
    }

    /// Which setting is wrong.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.what)
    }
}

impl StdError for ConfigError {}

#[cfg(test)]
mod tests {
    use super::RejectionKind;

    #[test]
    fn a_kind_name_is_its_debug_form() {
        for kind in [
            RejectionKind::InvalidTarget,
            RejectionKind::MissingAuthentication,
            RejectionKind::MultipleAuthMechanisms,
            RejectionKind::MalformedAuthorization,
            RejectionKind::MissingParameter,
            RejectionKind::UnsupportedAlgorithm,
            RejectionKind::DuplicateParameter,
            RejectionKind::InvalidExpires,
            RejectionKind::HeaderNotSigned,
            RejectionKind::MalformedDate,
            RejectionKind::RequestTooOld,
            RejectionKind::RequestTooNew,
            RejectionKind::MalformedCredential,
            RejectionKind::InvalidScope,
            RejectionKind::PresignedExpired,
            RejectionKind::InvalidToken,
            RejectionKind::ExpiredToken,
            RejectionKind::SignatureMismatch,
            RejectionKind::PayloadHashMismatch,
            RejectionKind::BodyTooLarge,
            RejectionKind::BodyUnreadable,
            RejectionKind::BodyTimeout,
            RejectionKind::Overloaded,
            RejectionKind::ProviderFailure,
            RejectionKind::AccessDenied,
            RejectionKind::PolicyFailure,
            RejectionKind::InvalidRequest,
            RejectionKind::LengthRequired,
            RejectionKind::NotImplemented,
            RejectionKind::ChecksumMismatch,
        ] {
            assert_eq!(kind.name(), format!("{kind:?}"));
        }
    }
}
