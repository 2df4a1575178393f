//! A store that can be swapped while requests are in flight.

use std::fmt;
use std::sync::{Arc, RwLock};

use super::model::IdentityStore;
use crate::credentials::{KeyRequest, ProvideKey, ProvideKeyFuture};
use crate::iam::Policy;
use crate::policy::IdentityPolicies;

/// A handle on the current [`IdentityStore`], cheap to clone, shared by the key provider,
/// the IAM hook and the STS service.
///
/// [`SharedStore::replace`] installs a new store atomically: a request that already took a
/// [`snapshot`](SharedStore::snapshot) finishes with the old one, the next sees the new one.
/// This is how the file-backed store reloads.
#[derive(Clone, Default)]
pub struct SharedStore {
    current: Arc<RwLock<Arc<IdentityStore>>>,
}

impl SharedStore {
    /// A handle on `store`.
    pub fn new(store: IdentityStore) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(store))),
        }
    }

    /// A handle on a store that is already shared (e.g. a snapshot of another handle).
    pub fn from_snapshot(store: Arc<IdentityStore>) -> Self {
        Self {
            current: Arc::new(RwLock::new(store)),
        }
    }

    /// The store in force now.
    pub fn snapshot(&self) -> Arc<IdentityStore> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Installs `store` for every request that starts from now on.
    pub fn replace(&self, store: IdentityStore) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(store);
    }
}

impl From<IdentityStore> for SharedStore {
    fn from(store: IdentityStore) -> Self {
        Self::new(store)
    }
}

impl fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedStore")
            .field(&self.snapshot())
            .finish()
    }
}

impl ProvideKey for SharedStore {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        ProvideKeyFuture::ready(self.snapshot().resolve_key(&request))
    }

    fn answers_at_once(&self) -> bool {
        true
    }
}

impl ProvideKey for IdentityStore {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        ProvideKeyFuture::ready(self.resolve_key(&request))
    }

    fn answers_at_once(&self) -> bool {
        true
    }
}

impl IdentityPolicies for SharedStore {
    fn identity_policies(&self, principal_arn: &str) -> Option<Arc<[Policy]>> {
        self.snapshot().shared_identity_policies(principal_arn)
    }
}
