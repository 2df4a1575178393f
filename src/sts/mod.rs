//! A self-hosted STS: `AssumeRole` and `GetCallerIdentity` on the AWS query protocol.
//!
//! Everything here is sans-IO. [`StsRequest`] parses and validates a form body or query
//! string exactly as STS does (same error codes and texts), [`TokenKeyring`] mints and opens
//! self-contained session tokens, and the builders of the `xml` part render the responses
//! and errors that unmodified SDKs (boto3, the AWS CLI, aws-sdk-rust) parse. Authorization
//! (trust and identity policies) and the role store belong to the caller; the role-dependent
//! duration checks are [`check_duration`].
//!
//! ```
//! use std::time::Duration;
//! use time::macros::datetime;
//! use tower_sigv4::sts::{
//!     assume_role_response, check_duration, new_request_id, NewSession, StsRequest,
//!     TokenKeyring,
//! };
//!
//! let body = b"Action=AssumeRole&Version=2011-06-15\
//!     &RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=TestAR";
//! let StsRequest::AssumeRole(params) = StsRequest::from_form(body)? else {
//!     unreachable!("an AssumeRole body");
//! };
//! assert_eq!(params.duration_seconds, 3600);
//! check_duration(params.duration_seconds, 3600, false)?;
//!
//! // After the caller's trust and identity policy checks:
//! let keyring = TokenKeyring::generate_random("k1")?;
//! let session = NewSession::new(
//!     "123456789012",
//!     params.role_arn.as_str(),
//!     "AROA3XFRBF535PLBIFPI4",
//!     params.role_session_name.as_str(),
//! );
//! let now = datetime!(2026-11-23 12:34:41 UTC);
//! let lifetime = Duration::from_secs(params.duration_seconds.into());
//! let credentials = keyring.mint(session.clone(), lifetime, now)?;
//! let request_id = new_request_id(); // also sent as `x-amzn-RequestId`
//! let xml = assume_role_response(
//!     &session.assumed_role_id(),
//!     &session.session_arn(),
//!     &credentials,
//!     params.packed_policy_size(),
//!     &request_id,
//! );
//! assert!(xml.contains("<Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>"));
//! assert!(xml.contains("<Expiration>2026-11-23T13:34:41Z</Expiration>"));
//!
//! // Any replica holding the key recovers the session from the token alone.
//! let claims = keyring.open(&credentials.session_token, &credentials.access_key_id, now)?;
//! assert_eq!(claims.assumed_role_id(), "AROA3XFRBF535PLBIFPI4:TestAR");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod service;
mod session;
mod token;
mod wire;
mod xml;

pub use error::{ErrorType, StsError, StsErrorCode};
pub use service::{StsHandler, StsRejections, StsService, StsServiceBuilder, STS_CLOCK_SKEW};
pub use session::{
    authorize_assume_role, resolve_session_key, session_principal, AssumeRoleConnection,
};
pub use token::{
    KeyError, MintError, NewSession, SecretAccessKey, SessionClaims, TemporaryCredentials,
    TokenError, TokenKey, TokenKeyring,
};
pub use wire::{
    check_duration, AssumeRoleParams, StsRequest, Tag, DEFAULT_DURATION_SECONDS,
    MAX_DURATION_SECONDS, MAX_SESSION_TAGS, MAX_TRANSITIVE_TAG_KEYS, MIN_DURATION_SECONDS,
    ROLE_CHAINING_MAX_DURATION_SECONDS, STS_VERSION,
};
pub use xml::{
    assume_role_response, error_response, format_time, get_caller_identity_response,
    new_request_id, CONTENT_TYPE, REQUEST_ID_HEADER,
};
