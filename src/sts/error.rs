//! STS errors: code, HTTP status, `Sender`/`Receiver` and message, one constructor per row
//! of the STS error table.

use std::fmt;

/// Which side of the conversation is at fault: the `<Type>` of an STS error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ErrorType {
    /// The client (4xx).
    Sender,
    /// The server (5xx).
    Receiver,
}

impl ErrorType {
    /// `Sender` or `Receiver`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ErrorType::Sender => "Sender",
            ErrorType::Receiver => "Receiver",
        }
    }
}

/// The `<Code>` of an STS error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub(crate) enum StsErrorCode {
    /// `AccessDenied` (403).
    AccessDenied,
    /// `ValidationError` (400).
    ValidationError,
    /// `MalformedInput` (400).
    MalformedInput,
    /// `InvalidAction` (400).
    InvalidAction,
    /// `ExpiredToken` (403).
    ExpiredToken,
    /// `InvalidClientTokenId` (403).
    InvalidClientTokenId,
    /// `SignatureDoesNotMatch` (403).
    SignatureDoesNotMatch,
    /// `IncompleteSignature` (400).
    IncompleteSignature,
    /// `MissingAuthenticationToken` (403).
    MissingAuthenticationToken,
    /// `MalformedPolicyDocument` (400).
    MalformedPolicyDocument,
    /// `InvalidParameterValue` (400): a parameter that passed the model's constraints but
    /// not the service's (duplicate tag keys, a transitive tag key that is not a tag).
    InvalidParameterValue,
    /// `InternalFailure` (500).
    InternalFailure,
    /// `InvalidRequest` (400): a request target the gateway cannot judge unambiguously
    /// (errors.md row 0).
    InvalidRequest,
    /// `RequestTimeout` (408): the body did not arrive in time.
    RequestTimeout,
    /// `ServiceUnavailable` (503): the buffers for request bodies are full; retry.
    ServiceUnavailable,
}

impl StsErrorCode {
    /// The code as it appears in `<Code>`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StsErrorCode::AccessDenied => "AccessDenied",
            StsErrorCode::ValidationError => "ValidationError",
            StsErrorCode::MalformedInput => "MalformedInput",
            StsErrorCode::InvalidAction => "InvalidAction",
            StsErrorCode::ExpiredToken => "ExpiredToken",
            StsErrorCode::InvalidClientTokenId => "InvalidClientTokenId",
            StsErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            StsErrorCode::IncompleteSignature => "IncompleteSignature",
            StsErrorCode::MissingAuthenticationToken => "MissingAuthenticationToken",
            StsErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            StsErrorCode::InvalidParameterValue => "InvalidParameterValue",
            StsErrorCode::InternalFailure => "InternalFailure",
            StsErrorCode::InvalidRequest => "InvalidRequest",
            StsErrorCode::RequestTimeout => "RequestTimeout",
            StsErrorCode::ServiceUnavailable => "ServiceUnavailable",
        }
    }

    /// The HTTP status code.
    pub(crate) fn status(self) -> u16 {
        match self {
            StsErrorCode::AccessDenied
            | StsErrorCode::ExpiredToken
            | StsErrorCode::InvalidClientTokenId
            | StsErrorCode::SignatureDoesNotMatch
            | StsErrorCode::MissingAuthenticationToken => 403,
            StsErrorCode::ValidationError
            | StsErrorCode::MalformedInput
            | StsErrorCode::InvalidAction
            | StsErrorCode::IncompleteSignature
            | StsErrorCode::MalformedPolicyDocument
            | StsErrorCode::InvalidParameterValue
            | StsErrorCode::InvalidRequest => 400,
            StsErrorCode::RequestTimeout => 408,
            StsErrorCode::InternalFailure => 500,
            StsErrorCode::ServiceUnavailable => 503,
        }
    }

    /// `Sender` for 4xx, `Receiver` for 5xx.
    pub(crate) fn error_type(self) -> ErrorType {
        if self.status() >= 500 {
            ErrorType::Receiver
        } else {
            ErrorType::Sender
        }
    }
}

impl fmt::Display for StsErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection of an STS request, rendered as STS's `ErrorResponse` XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsError {
    code: StsErrorCode,
    message: String,
}

impl StsError {
    fn new(code: StsErrorCode, message: impl Into<String>) -> Self {
        StsError {
            code,
            message: message.into(),
        }
    }

    /// The error code.
    pub(crate) fn code(&self) -> StsErrorCode {
        self.code
    }

    /// The HTTP status code.
    pub(crate) fn status(&self) -> u16 {
        self.code.status()
    }

    /// `Sender` or `Receiver`.
    pub(crate) fn error_type(&self) -> ErrorType {
        self.code.error_type()
    }

    /// The `<Message>` text (unescaped).
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    #[cfg(test)]
    /// `AccessDenied` for AssumeRole: `User: <caller ARN> is not authorized to perform:
    /// sts:AssumeRole on resource: <RoleArn as given>`. Used alike for an unknown role, a
    /// trust or identity denial and a wrong `ExternalId`.
    pub(crate) fn access_denied_assume_role(caller_arn: &str, role_arn: &str) -> Self {
        Self::access_denied(caller_arn, "sts:AssumeRole", role_arn)
    }

    /// `AccessDenied` naming the refused action, as STS does: `User: <caller ARN> is not
    /// authorized to perform: <action> on resource: <RoleArn as given>`, with `action`
    /// `sts:AssumeRole`, or — once `sts:AssumeRole` is allowed — `sts:TagSession` (tags
    /// passed) or `sts:SetSourceIdentity` (`SourceIdentity` passed).
    pub(crate) fn access_denied(caller_arn: &str, action: &str, role_arn: &str) -> Self {
        Self::new(
            StsErrorCode::AccessDenied,
            format!(
                "User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}"
            ),
        )
    }

    /// `ValidationError` with a message of the caller's (already aggregated).
    pub(crate) fn validation_error(message: impl Into<String>) -> Self {
        Self::new(StsErrorCode::ValidationError, message)
    }

    /// `ValidationError`: `<RoleArn> is invalid` (long enough, but not an ARN).
    pub(crate) fn invalid_role_arn(role_arn: &str) -> Self {
        Self::validation_error(format!("{role_arn} is invalid"))
    }

    /// `ValidationError`: the requested duration exceeds the role's `MaxSessionDuration`.
    pub(crate) fn max_session_duration_exceeded() -> Self {
        Self::validation_error(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )
    }

    /// `ValidationError`: more than one hour asked by role chaining.
    pub(crate) fn role_chaining_limit_exceeded() -> Self {
        Self::validation_error(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        )
    }

    /// `MalformedInput` with a message of the caller's.
    pub(crate) fn malformed_input(message: impl Into<String>) -> Self {
        Self::new(StsErrorCode::MalformedInput, message)
    }

    /// `MalformedInput` for a `DurationSeconds` that is not a 32-bit integer.
    pub(crate) fn malformed_duration_seconds(raw: &str) -> Self {
        Self::malformed_input(format!(
            "Invalid value for parameter DurationSeconds: '{raw}' is not an integer"
        ))
    }

    /// `InvalidAction`: `Could not find operation <Action> for version <Version>`, with
    /// `NO_VERSION_SPECIFIED` when `Version` is absent.
    pub(crate) fn invalid_action(action: &str, version: Option<&str>) -> Self {
        let version = version.unwrap_or("NO_VERSION_SPECIFIED");
        Self::new(
            StsErrorCode::InvalidAction,
            format!("Could not find operation {action} for version {version}"),
        )
    }

    /// `ExpiredToken`: the session token has expired.
    pub(crate) fn expired_token() -> Self {
        Self::new(
            StsErrorCode::ExpiredToken,
            "The security token included in the request is expired",
        )
    }

    /// `InvalidClientTokenId`: unknown key, or an `ASIA` key with a missing, foreign or
    /// unverifiable session token.
    pub(crate) fn invalid_client_token_id() -> Self {
        Self::new(
            StsErrorCode::InvalidClientTokenId,
            "The security token included in the request is invalid.",
        )
    }

    #[cfg(test)]
    /// `SignatureDoesNotMatch` with the verifier's signature text.
    pub(crate) fn signature_does_not_match(message: impl Into<String>) -> Self {
        Self::new(StsErrorCode::SignatureDoesNotMatch, message)
    }

    #[cfg(test)]
    /// `IncompleteSignature` with the verifier's text.
    pub(crate) fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new(StsErrorCode::IncompleteSignature, message)
    }

    /// `MissingAuthenticationToken`: `Request is missing Authentication Token`.
    pub(crate) fn missing_authentication_token() -> Self {
        Self::new(
            StsErrorCode::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        )
    }

    /// `InvalidParameterValue` with a message of the caller's.
    pub(crate) fn invalid_parameter_value(message: impl Into<String>) -> Self {
        Self::new(StsErrorCode::InvalidParameterValue, message)
    }

    /// `InvalidParameterValue`: two session tags whose keys differ only in case (or not at
    /// all): `Duplicate tag keys found. Please note that Tag keys are case insensitive.`
    pub(crate) fn duplicate_tag_keys() -> Self {
        Self::invalid_parameter_value(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        )
    }

    /// `InvalidParameterValue`: a `TransitiveTagKeys` member that names no tag of the
    /// request: `The specified transitive tag key must be included in the requested tags.`
    pub(crate) fn transitive_tag_key_not_in_tags() -> Self {
        Self::invalid_parameter_value(
            "The specified transitive tag key must be included in the requested tags.",
        )
    }

    /// `MalformedPolicyDocument`: the session policy does not parse.
    pub(crate) fn malformed_policy_document(message: impl Into<String>) -> Self {
        Self::new(StsErrorCode::MalformedPolicyDocument, message)
    }

    /// The STS answer to a rejection of the signature layer: same message, STS's code
    /// (`Request is missing Authentication Token` for a request with no signature at all).
    pub(crate) fn from_rejection(rejection: &crate::Rejection) -> Self {
        use crate::RejectionKind as K;
        let kind = rejection.kind();
        let code = match kind {
            K::MissingAuthentication => return Self::missing_authentication_token(),
            K::InvalidToken => return Self::invalid_client_token_id(),
            K::ExpiredToken => return Self::expired_token(),
            K::ProviderFailure | K::PolicyFailure => return Self::internal_failure(),
            K::HeaderNotSigned
            | K::RequestTooOld
            | K::RequestTooNew
            | K::InvalidScope
            | K::SignatureMismatch
            | K::PayloadHashMismatch => StsErrorCode::SignatureDoesNotMatch,
            K::PresignedExpired | K::AccessDenied => StsErrorCode::AccessDenied,
            K::BodyTooLarge | K::BodyUnreadable => StsErrorCode::MalformedInput,
            K::InvalidTarget => StsErrorCode::InvalidRequest,
            K::BodyTimeout => StsErrorCode::RequestTimeout,
            K::Overloaded => StsErrorCode::ServiceUnavailable,
            _ => StsErrorCode::IncompleteSignature,
        };
        Self::new(code, rejection.message())
    }

    /// `InternalFailure` (500, `Receiver`).
    pub(crate) fn internal_failure() -> Self {
        Self::new(
            StsErrorCode::InternalFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
}

impl fmt::Display for StsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.code {
            StsErrorCode::AccessDenied => "access denied",
            StsErrorCode::ValidationError => "request failed validation",
            StsErrorCode::MalformedInput => "malformed input",
            StsErrorCode::InvalidAction => "unknown action or version",
            StsErrorCode::ExpiredToken => "expired security token",
            StsErrorCode::InvalidClientTokenId => "invalid security token",
            StsErrorCode::SignatureDoesNotMatch => "signature does not match",
            StsErrorCode::IncompleteSignature => "incomplete signature",
            StsErrorCode::MissingAuthenticationToken => "missing authentication token",
            StsErrorCode::MalformedPolicyDocument => "malformed policy document",
            StsErrorCode::InvalidParameterValue => "invalid parameter value",
            StsErrorCode::InternalFailure => "internal failure",
            StsErrorCode::InvalidRequest => "invalid request target",
            StsErrorCode::RequestTimeout => "request timed out",
            StsErrorCode::ServiceUnavailable => "service unavailable",
        })
    }
}

impl std::error::Error for StsError {}
