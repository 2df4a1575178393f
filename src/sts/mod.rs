//! A self-hosted STS: `AssumeRole` and `GetCallerIdentity` on the AWS query protocol, so that
//! unmodified SDKs (boto3, the AWS CLI, aws-sdk-rust) get temporary credentials from your own
//! service with only an endpoint URL set.
//!
//! [`StsService`] is the tower service (SigV4 for service `sts`, then the action, answering in
//! STS XML, errors included). It reads callers and roles from a
//! [`SharedStore`](crate::store::SharedStore) and seals self-contained session tokens with a
//! [`TokenKeyring`]; a verifier whose key provider is a [`SessionKeys`] with the same keyring
//! accepts the temporary credentials it issues — on any replica holding the keyring, with no
//! shared state.
//!
//! ```
//! use std::sync::Arc;
//! use tower_sigv4::store::{IdentityStore, SharedStore};
//! use tower_sigv4::sts::{SessionKeys, StsService, TokenKeyring};
//! use tower_sigv4::{Verifier, VerifierConfig, VerifySigV4Layer};
//!
//! let store = SharedStore::new(IdentityStore::builder().build()?);
//! let keyring = Arc::new(TokenKeyring::generate_random("k1")?);
//! // The STS endpoint…
//! let sts = StsService::builder(store.clone(), keyring.clone(), "us-east-1").build()?;
//! // …and an API that accepts the sessions it issues.
//! let keys = SessionKeys::new(store, keyring);
//! let api = VerifySigV4Layer::new(Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys)?);
//! # let _ = (sts, api);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod service;
mod session;
mod session_keys;
mod token;
mod wire;
mod xml;

pub use service::{StsRejections, StsService, StsServiceBuilder};
pub use session_keys::SessionKeys;
pub use token::{
    MintError, NewSession, SessionClaims, TemporaryCredentials, TokenError, TokenKey,
    TokenKeyError, TokenKeyring,
};
pub use wire::Tag;

#[cfg(test)]
mod tests;

/// Internals exported for the fuzz targets only (`cfg(fuzzing)`, set by cargo-fuzz).
///
/// The items the targets call are crate-private, and `pub use` cannot re-export those (E0364,
/// E0365), nor can another crate use a value of a private type through an alias. So this
/// module gives them to the targets under their own names as public stand-ins that only
/// forward: `StsRequest` and `AssumeRoleParams` as field-for-field copies of the parsed
/// request, `StsError`, `StsErrorCode` and `ErrorType` as wrappers, and the functions as
/// one-line calls. Nothing here exists in a normal build.
#[cfg(fuzzing)]
#[doc(hidden)]
#[allow(missing_docs)]
pub mod fuzzing {
    use super::{error, wire, xml};

    pub use super::{Tag, TemporaryCredentials};
    pub use crate::SecretKey;

    /// A parsed and validated STS request (a copy of the crate's own).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum StsRequest {
        AssumeRole(AssumeRoleParams),
        GetCallerIdentity,
    }

    impl StsRequest {
        pub fn from_form(body: &[u8]) -> Result<Self, StsError> {
            wire::StsRequest::from_form(body)
                .map(Self::from)
                .map_err(StsError)
        }

        pub fn from_query(query: &str) -> Result<Self, StsError> {
            wire::StsRequest::from_query(query)
                .map(Self::from)
                .map_err(StsError)
        }

        /// The action name as it appears on the wire.
        pub fn action(&self) -> &'static str {
            match self {
                StsRequest::AssumeRole(_) => "AssumeRole",
                StsRequest::GetCallerIdentity => "GetCallerIdentity",
            }
        }
    }

    impl From<wire::StsRequest> for StsRequest {
        fn from(request: wire::StsRequest) -> Self {
            match request {
                wire::StsRequest::AssumeRole(p) => StsRequest::AssumeRole(p.into()),
                wire::StsRequest::GetCallerIdentity => StsRequest::GetCallerIdentity,
            }
        }
    }

    /// The validated parameters of an AssumeRole request: every field of the crate's own.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AssumeRoleParams {
        pub role_arn: String,
        pub role_session_name: String,
        pub duration_seconds: u32,
        pub external_id: Option<String>,
        pub policy: Option<String>,
        pub policy_arns: Vec<String>,
        pub tags: Vec<Tag>,
        pub transitive_tag_keys: Vec<String>,
        pub source_identity: Option<String>,
    }

    impl From<wire::AssumeRoleParams> for AssumeRoleParams {
        fn from(p: wire::AssumeRoleParams) -> Self {
            // No `..`: a field added to the crate's struct must be added here.
            let wire::AssumeRoleParams {
                role_arn,
                role_session_name,
                duration_seconds,
                external_id,
                policy,
                policy_arns,
                tags,
                transitive_tag_keys,
                source_identity,
            } = p;
            AssumeRoleParams {
                role_arn,
                role_session_name,
                duration_seconds,
                external_id,
                policy,
                policy_arns,
                tags,
                transitive_tag_keys,
                source_identity,
            }
        }
    }

    impl AssumeRoleParams {
        fn to_wire(&self) -> wire::AssumeRoleParams {
            let AssumeRoleParams {
                role_arn,
                role_session_name,
                duration_seconds,
                external_id,
                policy,
                policy_arns,
                tags,
                transitive_tag_keys,
                source_identity,
            } = self.clone();
            wire::AssumeRoleParams {
                role_arn,
                role_session_name,
                duration_seconds,
                external_id,
                policy,
                policy_arns,
                tags,
                transitive_tag_keys,
                source_identity,
            }
        }

        pub fn has_packed_policy(&self) -> bool {
            self.to_wire().has_packed_policy()
        }

        pub fn packed_policy_size(&self) -> Option<u32> {
            self.to_wire().packed_policy_size()
        }
    }

    pub fn check_duration(
        requested: u32,
        role_max: u32,
        caller_is_role_session: bool,
    ) -> Result<(), StsError> {
        wire::check_duration(requested, role_max, caller_is_role_session).map_err(StsError)
    }

    /// An STS error (wraps the crate's own).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct StsError(error::StsError);

    /// The `<Code>` of an STS error.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct StsErrorCode(error::StsErrorCode);

    /// `Sender` or `Receiver`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ErrorType(error::ErrorType);

    impl StsErrorCode {
        pub fn as_str(self) -> &'static str {
            self.0.as_str()
        }

        pub fn status(self) -> u16 {
            self.0.status()
        }
    }

    impl ErrorType {
        pub fn as_str(self) -> &'static str {
            self.0.as_str()
        }
    }

    impl StsError {
        pub fn code(&self) -> StsErrorCode {
            StsErrorCode(self.0.code())
        }

        pub fn status(&self) -> u16 {
            self.0.status()
        }

        pub fn error_type(&self) -> ErrorType {
            ErrorType(self.0.error_type())
        }

        pub fn message(&self) -> &str {
            self.0.message()
        }

        pub fn validation_error(message: impl Into<String>) -> Self {
            Self(error::StsError::validation_error(message))
        }

        pub fn malformed_input(message: impl Into<String>) -> Self {
            Self(error::StsError::malformed_input(message))
        }

        pub fn access_denied(caller_arn: &str, action: &str, role_arn: &str) -> Self {
            Self(error::StsError::access_denied(caller_arn, action, role_arn))
        }

        /// The crate's is test-only; it is `access_denied` for `sts:AssumeRole`.
        pub fn access_denied_assume_role(caller_arn: &str, role_arn: &str) -> Self {
            Self::access_denied(caller_arn, "sts:AssumeRole", role_arn)
        }

        pub fn invalid_role_arn(role_arn: &str) -> Self {
            Self(error::StsError::invalid_role_arn(role_arn))
        }

        pub fn invalid_action(action: &str, version: Option<&str>) -> Self {
            Self(error::StsError::invalid_action(action, version))
        }

        /// The crate's is test-only; the same error comes from a signature mismatch.
        pub fn signature_does_not_match(message: impl Into<String>) -> Self {
            let rejection =
                crate::Rejection::new(crate::RejectionKind::SignatureMismatch, message.into());
            Self(error::StsError::from_rejection(&rejection))
        }

        /// The crate's is test-only; the same error comes from a malformed `Authorization`.
        pub fn incomplete_signature(message: impl Into<String>) -> Self {
            let rejection =
                crate::Rejection::new(crate::RejectionKind::MalformedAuthorization, message.into());
            Self(error::StsError::from_rejection(&rejection))
        }

        pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
            Self(error::StsError::invalid_parameter_value(message))
        }

        pub fn malformed_duration_seconds(raw: &str) -> Self {
            Self(error::StsError::malformed_duration_seconds(raw))
        }
    }

    pub fn error_response(error: &StsError, request_id: &str) -> String {
        xml::error_response(&error.0, request_id)
    }

    pub fn get_caller_identity_response(
        arn: &str,
        user_id: &str,
        account: &str,
        request_id: &str,
    ) -> String {
        xml::get_caller_identity_response(arn, user_id, account, request_id)
    }

    pub fn assume_role_response(
        assumed_role_id: &str,
        arn: &str,
        credentials: &TemporaryCredentials,
        packed_policy_size: Option<u32>,
        request_id: &str,
    ) -> String {
        xml::assume_role_response(
            assumed_role_id,
            arn,
            credentials,
            packed_policy_size,
            request_id,
        )
    }
}
