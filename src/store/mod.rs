//! Identities: accounts, users with access keys, roles and tags — the model behind the key
//! provider, the IAM authorizer's identity policies and the STS service.
//!
//! An [`IdentityStore`] is immutable; a [`SharedStore`] is a cheap handle on the current one
//! that can be [replaced](SharedStore::replace) while requests are in flight (that is how the
//! file-backed store reloads). Accounts are those named by the users' and roles' ARNs.
//!
//! ```
//! use tower_sigv4::iam::{Policy, PolicyKind};
//! use tower_sigv4::store::{IdentityStore, Role, SharedStore, User};
//! use tower_sigv4::{IamAuthorizer, Verifier, VerifierConfig};
//!
//! let invoke = Policy::parse(
//!     r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#,
//!     PolicyKind::Identity,
//!     None,
//! )?;
//! let trust = Policy::parse(
//!     r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}"#,
//!     PolicyKind::Trust,
//!     None,
//! )?;
//! let store = IdentityStore::builder()
//!     .user(
//!         User::new("arn:aws:iam::123456789012:user/alice")?
//!             .with_access_key("AKIAALICE0000000001", "alice-secret")
//!             .with_inactive_access_key("AKIAALICE0000000002", "old-secret")
//!             .with_policy(invoke.clone())
//!             .with_tag("team", "blue"),
//!     )
//!     .role(Role::new("arn:aws:iam::123456789012:role/Invoker", trust)?.with_policy(invoke))
//!     .build()?;
//! assert_eq!(store.accounts().into_iter().collect::<Vec<_>>(), ["123456789012"]);
//! assert!(store.user("arn:aws:iam::123456789012:user/alice").unwrap().user_id().starts_with("AIDA"));
//!
//! let store = SharedStore::new(store);
//! // The same handle resolves long-term keys and identity policies (temporary credentials:
//! // `sts::SessionKeys` around it).
//! let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), store.clone())?;
//! let api = tower_sigv4::iam::ApiContext::new("us-east-1", "123456789012", "apiid");
//! let hook = IamAuthorizer::new(api, "prod").with_identity_source(store);
//! # let _ = (verifier, hook);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub mod db;
mod manage;
mod model;
mod shared;
mod source;

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "iam-api"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "sqlite", feature = "postgres", feature = "iam-api")))
)]
pub use crate::ids::new_access_key;
#[cfg(feature = "iam-api")]
pub(crate) use manage::path_and_name;
pub use manage::{
    policy_size, AccessKeyRecord, Entity, KeyStatus, ManageError, ManageFuture, ManageIdentities,
    NewRole, NewUser, Page, PageRequest, ReadOnlyStore, RoleRecord, UserRecord,
};
pub use model::{
    AccessKey, IdentityStore, IdentityStoreBuilder, Role, StoreError, User, DEFAULT_MAX_SESSION,
};
pub use shared::SharedStore;
pub use source::{
    BackendError, DynSource, IdentitySource, LookupFuture, ProvideIdentityPolicies, ProvideRole,
};
