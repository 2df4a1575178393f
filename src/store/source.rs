//! The store abstraction: what the key provider, the IAM authorizer and STS read, whatever
//! holds the identities (the in-memory [`SharedStore`](super::SharedStore) the TOML file
//! reloads, or a database).

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::model::Role;
use super::shared::SharedStore;
use crate::credentials::future::NowOrLater;
use crate::credentials::ProvideKey;
use crate::iam::Policy;

/// A store that could not answer (database down, a secret that does not decrypt). Requests
/// that need the answer fail with a 500, never a 403.
#[derive(Clone)]
pub struct BackendError {
    source: Arc<dyn StdError + Send + Sync>,
}

impl BackendError {
    /// A failure with its cause (logged, never sent to a caller).
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            source: Arc::from(source.into()),
        }
    }
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendError")
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("identity store unavailable")
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source as &(dyn StdError + 'static))
    }
}

/// The future of a store look-up: ready at once (a cache hit, no allocation) or boxed.
pub struct LookupFuture<'a, T>(NowOrLater<'a, Result<T, BackendError>>);

impl<'a, T> LookupFuture<'a, T> {
    /// An answer available now.
    pub fn ready(result: Result<T, BackendError>) -> Self {
        Self(NowOrLater::Now(Some(result)))
    }

    /// An answer that needs real async work.
    pub fn new(fut: impl Future<Output = Result<T, BackendError>> + Send + 'a) -> Self {
        Self(NowOrLater::Later(Box::pin(fut)))
    }

    /// The answer, if it is there without waiting; otherwise the future back.
    pub(crate) fn now_or_later(self) -> Result<Result<T, BackendError>, Self> {
        self.0.now_or_later().map_err(Self)
    }
}

impl<T> fmt::Debug for LookupFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LookupFuture").field(&self.0).finish()
    }
}

impl<T: Unpin> Future for LookupFuture<'_, T> {
    type Output = Result<T, BackendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Looks up identity policies by `aws:PrincipalArn` (a user ARN, or the role ARN of a
/// session), possibly asynchronously — the IAM authorizer's and STS's view of a store.
///
/// Every [`IdentityPolicies`](crate::IdentityPolicies) (a [`SharedStore`], a closure) is one;
/// the database stores are others.
pub trait ProvideIdentityPolicies: Send + Sync + 'static {
    /// The identity policies of `principal_arn` (`None`: it has none).
    fn provide_identity_policies<'a>(
        &'a self,
        principal_arn: &'a str,
    ) -> LookupFuture<'a, Option<Arc<[Policy]>>>;

    /// Whether every look-up answers at once (default `false`).
    fn answers_at_once(&self) -> bool {
        false
    }
}

impl<T: crate::policy::IdentityPolicies> ProvideIdentityPolicies for T {
    fn provide_identity_policies<'a>(
        &'a self,
        principal_arn: &'a str,
    ) -> LookupFuture<'a, Option<Arc<[Policy]>>> {
        LookupFuture::ready(Ok(self.identity_policies(principal_arn)))
    }

    fn answers_at_once(&self) -> bool {
        true
    }
}

/// Looks up a role by its ARN (STS's AssumeRole).
pub trait ProvideRole: Send + Sync + 'static {
    /// The role whose ARN is exactly `arn`.
    fn provide_role<'a>(&'a self, arn: &'a str) -> LookupFuture<'a, Option<Arc<Role>>>;
}

impl ProvideRole for SharedStore {
    fn provide_role<'a>(&'a self, arn: &'a str) -> LookupFuture<'a, Option<Arc<Role>>> {
        LookupFuture::ready(Ok(self.snapshot().shared_role(arn)))
    }
}

impl<T: ProvideRole + ?Sized> ProvideRole for Arc<T> {
    fn provide_role<'a>(&'a self, arn: &'a str) -> LookupFuture<'a, Option<Arc<Role>>> {
        (**self).provide_role(arn)
    }
}

/// Everything a gateway reads from a store: long-term keys ([`ProvideKey`]), identity
/// policies ([`ProvideIdentityPolicies`]) and roles ([`ProvideRole`]). The TOML file's
/// [`SharedStore`] and the database stores are interchangeable behind it.
pub trait IdentitySource: ProvideKey + ProvideIdentityPolicies + ProvideRole {}

impl<T: ProvideKey + ProvideIdentityPolicies + ProvideRole + ?Sized> IdentitySource for T {}

/// A shared, type-erased [`IdentitySource`].
#[derive(Clone)]
pub struct DynSource(pub(crate) Arc<dyn IdentitySource>);

impl DynSource {
    /// Erases the type of `source`.
    pub fn new(source: impl IdentitySource) -> Self {
        Self(Arc::new(source))
    }

    /// Shares an already erased source.
    pub fn from_arc(source: Arc<dyn IdentitySource>) -> Self {
        Self(source)
    }
}

impl fmt::Debug for DynSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DynSource")
    }
}

impl ProvideKey for DynSource {
    fn provide_key<'a>(&'a self, request: crate::KeyRequest<'a>) -> crate::ProvideKeyFuture<'a> {
        self.0.provide_key(request)
    }

    fn answers_at_once(&self) -> bool {
        ProvideKey::answers_at_once(&*self.0)
    }
}

impl ProvideIdentityPolicies for DynSource {
    fn provide_identity_policies<'a>(
        &'a self,
        principal_arn: &'a str,
    ) -> LookupFuture<'a, Option<Arc<[Policy]>>> {
        self.0.provide_identity_policies(principal_arn)
    }

    fn answers_at_once(&self) -> bool {
        ProvideIdentityPolicies::answers_at_once(&*self.0)
    }
}

impl ProvideRole for DynSource {
    fn provide_role<'a>(&'a self, arn: &'a str) -> LookupFuture<'a, Option<Arc<Role>>> {
        self.0.provide_role(arn)
    }
}

impl<T: IdentitySource> From<Arc<T>> for DynSource {
    fn from(source: Arc<T>) -> Self {
        Self(source)
    }
}

impl From<SharedStore> for DynSource {
    fn from(store: SharedStore) -> Self {
        Self::new(store)
    }
}
