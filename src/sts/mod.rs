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
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    pub use super::wire::StsRequest;
    pub use super::xml::{error_response, get_caller_identity_response};
}
