//! Key providers: from an access key id to a secret and a [`Principal`].
//!
//! ```
//! # tokio_test_block_on(async {
//! use std::time::SystemTime;
//! use tower_sigv4::{KeyRequest, Principal, ProvideKey, StaticKeys};
//!
//! let keys = StaticKeys::new().with_key(
//!     "AKIDEXAMPLE",
//!     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
//!     Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE"),
//! );
//! let request = KeyRequest::new("AKIDEXAMPLE", None, "20150830", "us-east-1", "execute-api", SystemTime::UNIX_EPOCH);
//! let resolved = keys.provide_key(request).await.unwrap();
//! assert_eq!(resolved.principal().arn(), "arn:aws:iam::123456789012:user/alice");
//! assert_eq!(format!("{:?}", resolved.secret()), "SecretKey(***)");
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     use std::task::{Context, Poll, Waker};
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = Context::from_waker(Waker::noop());
//! #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! ```

mod caching;
pub(crate) mod future;

pub use caching::{CacheSettings, CachingKeys};

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::credentials::future::NowOrLater;
use crate::principal::Principal;

#[derive(Zeroize, ZeroizeOnDrop)]
struct SecretText(Box<str>);

/// A secret access key. Zeroed when the last copy is dropped; `Debug` prints `***`; no
/// `Display`, no `PartialEq` (compare with [`SecretKey::ct_eq`]).
#[derive(Clone)]
pub struct SecretKey {
    text: Arc<SecretText>,
    /// SHA-256 of the secret: lets the signing-key cache notice a changed secret without
    /// keeping or comparing the secret itself.
    fingerprint: [u8; 32],
}

impl SecretKey {
    /// Wraps a secret access key.
    pub fn new(secret: impl Into<String>) -> Self {
        let secret: String = secret.into();
        let fingerprint = Sha256::digest(secret.as_bytes()).into();
        // `into_boxed_str` may reallocate: zero the original buffer either way.
        let mut original = secret;
        let text = Arc::new(SecretText(original.as_str().into()));
        original.zeroize();
        Self { text, fingerprint }
    }

    /// The secret's text. Handle with care: do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.text.0
    }

    /// Constant-time comparison.
    pub fn ct_eq(&self, other: &SecretKey) -> bool {
        self.text.0.as_bytes().ct_eq(other.text.0.as_bytes()).into()
    }

    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }
}

impl From<&str> for SecretKey {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for SecretKey {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// What the verifier asks a key provider.
#[derive(Clone, Copy, Debug)]
pub struct KeyRequest<'a> {
    access_key_id: &'a str,
    session_token: Option<&'a str>,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    now: SystemTime,
}

impl<'a> KeyRequest<'a> {
    /// A request for `access_key_id` (with the session token the caller sent, if any), for a
    /// credential scope of `date`/`region`/`service`, at time `now`.
    pub fn new(
        access_key_id: &'a str,
        session_token: Option<&'a str>,
        date: &'a str,
        region: &'a str,
        service: &'a str,
        now: SystemTime,
    ) -> Self {
        Self {
            access_key_id,
            session_token,
            date,
            region,
            service,
            now,
        }
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &'a str {
        self.access_key_id
    }

    /// The `X-Amz-Security-Token` the caller sent.
    pub fn session_token(&self) -> Option<&'a str> {
        self.session_token
    }

    /// The scope date, `YYYYMMDD`.
    pub fn date(&self) -> &'a str {
        self.date
    }

    /// The scope region.
    pub fn region(&self) -> &'a str {
        self.region
    }

    /// The scope service.
    pub fn service(&self) -> &'a str {
        self.service
    }

    /// The verifier's current time (for expiry checks).
    pub fn now(&self) -> SystemTime {
        self.now
    }
}

/// A resolved key: the secret to check the signature with, and who it belongs to.
#[derive(Clone, Debug)]
pub struct ResolvedKey {
    secret: SecretKey,
    principal: Principal,
}

impl ResolvedKey {
    /// A secret and its principal.
    pub fn new(secret: impl Into<SecretKey>, principal: Principal) -> Self {
        Self {
            secret: secret.into(),
            principal,
        }
    }

    /// The secret.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }

    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub(crate) fn into_parts(self) -> (SecretKey, Principal) {
        (self.secret, self.principal)
    }
}

/// Why a key could not be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// No such access key, or it is inactive. The caller gets 403 "The security token
    /// included in the request is invalid."
    UnknownKey,
    /// The session token is missing, does not belong to the key, or does not verify (403).
    InvalidToken,
    /// The session token has expired (403 "… is expired").
    ExpiredToken,
    /// The provider could not answer (backend down, timeout): 500, never blamed on the caller.
    Unavailable,
}

/// A key provider's failure.
#[derive(Clone)]
pub struct KeyError {
    kind: KeyErrorKind,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl KeyError {
    /// The access key is unknown or inactive.
    pub fn unknown_key() -> Self {
        Self {
            kind: KeyErrorKind::UnknownKey,
            source: None,
        }
    }

    /// The session token is missing or invalid.
    pub fn invalid_token() -> Self {
        Self {
            kind: KeyErrorKind::InvalidToken,
            source: None,
        }
    }

    /// The session token has expired.
    pub fn expired_token() -> Self {
        Self {
            kind: KeyErrorKind::ExpiredToken,
            source: None,
        }
    }

    /// The provider failed; `source` says why (it is logged, never sent to the caller).
    pub fn unavailable(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind: KeyErrorKind::Unavailable,
            source: Some(Arc::from(source.into())),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> KeyErrorKind {
        self.kind
    }

    pub(crate) fn source_arc(&self) -> Option<Arc<dyn StdError + Send + Sync>> {
        self.source.clone()
    }
}

impl fmt::Debug for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyError")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            KeyErrorKind::UnknownKey => "unknown access key",
            KeyErrorKind::InvalidToken => "invalid session token",
            KeyErrorKind::ExpiredToken => "expired session token",
            KeyErrorKind::Unavailable => "key provider unavailable",
        })
    }
}

impl StdError for KeyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The future a [`ProvideKey`] returns: ready at once (no allocation) or boxed.
#[derive(Debug)]
pub struct ProvideKeyFuture<'a>(NowOrLater<'a, Result<ResolvedKey, KeyError>>);

impl<'a> ProvideKeyFuture<'a> {
    /// An answer available now.
    pub fn ready(result: Result<ResolvedKey, KeyError>) -> Self {
        Self(NowOrLater::Now(Some(result)))
    }

    /// An answer that needs real async work.
    pub fn new(fut: impl Future<Output = Result<ResolvedKey, KeyError>> + Send + 'a) -> Self {
        Self(NowOrLater::Later(Box::pin(fut)))
    }
}

impl<'a> ProvideKeyFuture<'a> {
    /// The answer, if it is there without waiting; otherwise the future back.
    pub(crate) fn now_or_later(self) -> Result<Result<ResolvedKey, KeyError>, Self> {
        self.0.now_or_later().map_err(Self)
    }
}

impl Future for ProvideKeyFuture<'_> {
    type Output = Result<ResolvedKey, KeyError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Resolves access key ids to secrets and principals.
///
/// Object-safe; implement it for your store, or wrap an async closure with
/// [`provide_key_fn`]. Return [`KeyError::unavailable`] when the backend fails: the caller then
/// gets a 500, not a 403.
pub trait ProvideKey: Send + Sync + 'static {
    /// Looks up the key of `request`.
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a>;

    /// Whether [`ProvideKey::provide_key`] always answers at once
    /// ([`ProvideKeyFuture::ready`]). The layer then verifies a request without an allocation
    /// of its own. Default: `false` (a provider that does real async work).
    fn answers_at_once(&self) -> bool {
        false
    }
}

impl<T: ProvideKey + ?Sized> ProvideKey for Arc<T> {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        (**self).provide_key(request)
    }

    fn answers_at_once(&self) -> bool {
        (**self).answers_at_once()
    }
}

impl<T: ProvideKey + ?Sized> ProvideKey for Box<T> {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        (**self).provide_key(request)
    }

    fn answers_at_once(&self) -> bool {
        (**self).answers_at_once()
    }
}

/// A key provider made of a closure returning a future.
///
/// (A blanket impl over closures would collide with the impl for `Arc<T>`, so closures go
/// through this wrapper, as tower's `service_fn` does.)
///
/// ```
/// use tower_sigv4::{provide_key_fn, KeyError, KeyRequest, Principal, ResolvedKey};
///
/// let provider = provide_key_fn(|req: KeyRequest<'_>| {
///     let id = req.access_key_id().to_owned();
///     async move {
///         if id == "AKIDEXAMPLE" {
///             Ok(ResolvedKey::new("secret", Principal::user("arn:aws:iam::123456789012:user/a", "AIDA1")))
///         } else {
///             Err(KeyError::unknown_key())
///         }
///     }
/// });
/// # let _ = provider;
/// ```
pub fn provide_key_fn<F, Fut>(f: F) -> ProvideKeyFn<F>
where
    F: Fn(KeyRequest<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResolvedKey, KeyError>> + Send + 'static,
{
    ProvideKeyFn(f)
}

/// See [`provide_key_fn`].
#[derive(Clone, Copy)]
pub struct ProvideKeyFn<F>(F);

impl<F> fmt::Debug for ProvideKeyFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProvideKeyFn")
    }
}

impl<F, Fut> ProvideKey for ProvideKeyFn<F>
where
    F: Fn(KeyRequest<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResolvedKey, KeyError>> + Send + 'static,
{
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        ProvideKeyFuture::new((self.0)(request))
    }
}

#[derive(Clone)]
struct StaticEntry {
    secret: SecretKey,
    principal: Principal,
    session_token: Option<SecretKey>,
    expires_at: Option<SystemTime>,
    active: bool,
}

/// An in-memory key provider, built once.
///
/// Keys with a session token (temporary credentials) are valid only when the request carries
/// that exact token, and only until their expiry.
#[derive(Clone, Default)]
pub struct StaticKeys {
    keys: HashMap<String, StaticEntry>,
}

impl StaticKeys {
    /// An empty provider.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a long-term key.
    pub fn with_key(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<SecretKey>,
        principal: Principal,
    ) -> Self {
        let access_key_id = access_key_id.into();
        let principal = principal.with_access_key_id(access_key_id.clone());
        self.keys.insert(
            access_key_id,
            StaticEntry {
                secret: secret.into(),
                principal,
                session_token: None,
                expires_at: None,
                active: true,
            },
        );
        self
    }

    /// Adds an inactive key: it exists but is refused like an unknown one.
    pub fn with_inactive_key(
        self,
        access_key_id: impl Into<String>,
        secret: impl Into<SecretKey>,
        principal: Principal,
    ) -> Self {
        let access_key_id = access_key_id.into();
        let mut this = self.with_key(access_key_id.clone(), secret, principal);
        if let Some(entry) = this.keys.get_mut(&access_key_id) {
            entry.active = false;
        }
        this
    }

    /// Adds temporary credentials: valid only with `session_token`, until `expires_at`.
    pub fn with_session_key(
        self,
        access_key_id: impl Into<String>,
        secret: impl Into<SecretKey>,
        session_token: impl Into<SecretKey>,
        principal: Principal,
        expires_at: SystemTime,
    ) -> Self {
        let access_key_id = access_key_id.into();
        let mut this = self.with_key(access_key_id.clone(), secret, principal);
        if let Some(entry) = this.keys.get_mut(&access_key_id) {
            entry.session_token = Some(session_token.into());
            entry.expires_at = Some(expires_at);
        }
        this
    }

    pub(crate) fn resolve(&self, request: &KeyRequest<'_>) -> Result<ResolvedKey, KeyError> {
        let entry = self
            .keys
            .get(request.access_key_id)
            .filter(|e| e.active)
            .ok_or_else(KeyError::unknown_key)?;
        match (&entry.session_token, request.session_token) {
            (Some(expected), Some(given)) => {
                if !bool::from(given.as_bytes().ct_eq(expected.expose_secret().as_bytes())) {
                    return Err(KeyError::invalid_token());
                }
                if entry.expires_at.is_some_and(|exp| request.now >= exp) {
                    return Err(KeyError::expired_token());
                }
            }
            // Temporary credentials without their token, or a long-term key sent with any
            // token: AWS answers both "The security token included in the request is invalid."
            (Some(_), None) | (None, Some(_)) => return Err(KeyError::invalid_token()),
            (None, None) => {}
        }
        Ok(ResolvedKey::new(
            entry.secret.clone(),
            entry.principal.clone(),
        ))
    }
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeys")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl ProvideKey for StaticKeys {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        ProvideKeyFuture::ready(self.resolve(&request))
    }

    fn answers_at_once(&self) -> bool {
        true
    }
}
