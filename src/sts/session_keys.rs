//! Temporary credentials on the verifying side: a key provider that opens this crate's session
//! tokens around any other provider.

use std::fmt;
use std::sync::Arc;

use super::session::session_principal;
use super::token::{TokenError, TokenKeyring};
use crate::clock::unix_seconds;
use crate::credentials::{KeyError, KeyRequest, ProvideKey, ProvideKeyFuture, ResolvedKey};

/// A key provider that accepts the temporary credentials an [`StsService`](super::StsService)
/// with the same keyring issued, and asks `inner` for every other key.
///
/// A request with a session token that opens with the keyring resolves to the role session
/// the token carries (an expired one is refused as expired); temporary credentials (`ASIA…`)
/// without a token are refused; any other request — a long-term key, or a token that is not
/// one of ours — goes to `inner`, which refuses a long-term key sent with a token. Opening a token needs no backend: any replica holding the keyring verifies any
/// other's sessions.
///
/// ```
/// use std::sync::Arc;
/// use tower_sigv4::store::{IdentityStore, SharedStore};
/// use tower_sigv4::sts::{SessionKeys, TokenKeyring};
/// use tower_sigv4::{Verifier, VerifierConfig};
///
/// let store = SharedStore::new(IdentityStore::builder().build()?);
/// let keyring = Arc::new(TokenKeyring::generate_random("k1")?);
/// let keys = SessionKeys::new(store, keyring);
/// let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys)?;
/// # let _ = verifier;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionKeys<P> {
    inner: P,
    keyring: Arc<TokenKeyring>,
}

impl<P> SessionKeys<P> {
    /// Opens session tokens with `keyring`; asks `inner` for every other key.
    pub fn new(inner: P, keyring: Arc<TokenKeyring>) -> Self {
        Self { inner, keyring }
    }

    /// The provider asked for keys that are not sessions of ours.
    pub fn get_ref(&self) -> &P {
        &self.inner
    }

    /// The keyring.
    pub fn keyring(&self) -> &Arc<TokenKeyring> {
        &self.keyring
    }

    /// Opens the request's session token: `None` when it is not one of ours. Temporary
    /// credentials (`ASIA…`) without a token are refused here.
    fn open(&self, request: &KeyRequest<'_>) -> Option<Result<ResolvedKey, KeyError>> {
        let Some(token) = request.session_token() else {
            return request
                .access_key_id()
                .starts_with("ASIA")
                .then(|| Err(KeyError::invalid_token()));
        };
        match self
            .keyring
            .open_at(token, request.access_key_id(), unix_seconds(request.now()))
        {
            Ok(claims) => Some(Ok(ResolvedKey::new(
                claims.secret_access_key.clone(),
                session_principal(&claims),
            ))),
            Err(TokenError::Expired) => Some(Err(KeyError::expired_token())),
            Err(_) => None,
        }
    }
}

impl<P: fmt::Debug> fmt::Debug for SessionKeys<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeys")
            .field("inner", &self.inner)
            .field("keyring", &self.keyring)
            .finish()
    }
}

impl<P: ProvideKey> ProvideKey for SessionKeys<P> {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        match self.open(&request) {
            Some(resolved) => ProvideKeyFuture::ready(resolved),
            None => self.inner.provide_key(request),
        }
    }

    fn answers_at_once(&self) -> bool {
        self.inner.answers_at_once()
    }
}
