//! A caching wrapper around any key provider: bounded, with a TTL, and with a bounded
//! negative cache so floods of unknown keys reach neither memory nor the backend unchecked.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::credentials::{
    KeyError, KeyErrorKind, KeyRequest, ProvideKey, ProvideKeyFuture, ResolvedKey,
};

/// How [`CachingKeys`] caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheSettings {
    /// How long a resolved key is reused (default 60 s). A key revoked in the backend keeps
    /// working this long.
    pub ttl: Duration,
    /// How many resolved keys are kept (default 10 000); the oldest goes first.
    pub capacity: usize,
    /// How long "unknown key", "invalid token" and "expired token" answers are reused
    /// (default 10 s). A key created in the backend is refused this long after a miss.
    pub negative_ttl: Duration,
    /// How many negative answers are kept (default 10 000); the oldest goes first.
    pub negative_capacity: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(60),
            capacity: 10_000,
            negative_ttl: Duration::from_secs(10),
            negative_capacity: 10_000,
        }
    }
}

impl CacheSettings {
    /// Sets [`CacheSettings::ttl`].
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets [`CacheSettings::capacity`].
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets [`CacheSettings::negative_ttl`].
    pub fn with_negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// Sets [`CacheSettings::negative_capacity`].
    pub fn with_negative_capacity(mut self, capacity: usize) -> Self {
        self.negative_capacity = capacity;
        self
    }
}

/// Cache entries are keyed by access key id and a hash of the session token (never the
/// token itself), so temporary credentials are cached per token.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    access_key_id: Box<str>,
    token: Option<[u8; 32]>,
}

impl CacheKey {
    fn of(request: &KeyRequest<'_>) -> Self {
        Self {
            access_key_id: request.access_key_id().into(),
            token: request
                .session_token()
                .map(|t| Sha256::digest(t.as_bytes()).into()),
        }
    }
}

/// A map of bounded size that forgets its oldest insertions first.
struct Bounded<V> {
    capacity: usize,
    map: HashMap<CacheKey, (V, SystemTime, u64)>,
    order: VecDeque<(CacheKey, u64)>,
    generation: u64,
}

impl<V: Clone> Bounded<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::new(),
            order: VecDeque::new(),
            generation: 0,
        }
    }

    /// The value stored less than `ttl` before `now`.
    fn get(&self, key: &CacheKey, now: SystemTime, ttl: Duration) -> Option<V> {
        let (value, at, _) = self.map.get(key)?;
        match now.duration_since(*at) {
            Ok(age) if age < ttl => Some(value.clone()),
            _ => None,
        }
    }

    fn insert(&mut self, key: CacheKey, value: V, now: SystemTime) {
        if self.capacity == 0 {
            return;
        }
        while self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            let Some((old, generation)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&old).is_some_and(|e| e.2 == generation) {
                self.map.remove(&old);
            }
        }
        self.generation = self.generation.wrapping_add(1);
        self.order.push_back((key.clone(), self.generation));
        self.map.insert(key, (value, now, self.generation));
        // Superseded entries leave stale positions behind; compact before they pile up.
        if self.order.len() > self.capacity.saturating_mul(2) {
            let map = &self.map;
            self.order
                .retain(|(k, g)| map.get(k).is_some_and(|e| e.2 == *g));
        }
    }

    fn remove_access_key(&mut self, access_key_id: &str) {
        self.map.retain(|k, _| &*k.access_key_id != access_key_id);
    }

    fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

struct State {
    positive: Bounded<ResolvedKey>,
    negative: Bounded<KeyErrorKind>,
}

/// Caches the answers of a key provider (a database, a remote service): resolved keys for
/// [`CacheSettings::ttl`], and "unknown key", "invalid token" and "expired token" answers for
/// [`CacheSettings::negative_ttl`], each in a bounded table so an attacker cycling through
/// random access key ids cannot grow memory without bound. A provider failure
/// ([`KeyErrorKind::Unavailable`]) is never cached, and temporary credentials are never
/// served past their expiry.
///
/// ```
/// use std::time::Duration;
/// use tower_sigv4::{CacheSettings, CachingKeys, Principal, StaticKeys};
///
/// let backend = StaticKeys::new().with_key(
///     "AKIDEXAMPLE",
///     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
///     Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE"),
/// );
/// let keys = CachingKeys::new(backend, CacheSettings::default().with_ttl(Duration::from_secs(30)));
/// # let _ = keys;
/// ```
pub struct CachingKeys<P> {
    inner: P,
    settings: CacheSettings,
    state: Arc<Mutex<State>>,
}

impl<P> CachingKeys<P> {
    /// Wraps `inner`.
    pub fn new(inner: P, settings: CacheSettings) -> Self {
        Self {
            inner,
            state: Arc::new(Mutex::new(State {
                positive: Bounded::new(settings.capacity),
                negative: Bounded::new(settings.negative_capacity),
            })),
            settings,
        }
    }

    /// Forgets everything cached for `access_key_id` (after revoking or rotating it).
    pub fn invalidate(&self, access_key_id: &str) {
        let mut state = self.lock();
        state.positive.remove_access_key(access_key_id);
        state.negative.remove_access_key(access_key_id);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.positive.clear();
        state.negative.clear();
    }

    /// How many (positive, negative) answers are cached.
    pub fn len(&self) -> (usize, usize) {
        let state = self.lock();
        (state.positive.len(), state.negative.len())
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    /// The wrapped provider.
    pub fn get_ref(&self) -> &P {
        &self.inner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cached(&self, key: &CacheKey, now: SystemTime) -> Option<Result<ResolvedKey, KeyError>> {
        let state = self.lock();
        if let Some(resolved) = state.positive.get(key, now, self.settings.ttl) {
            let live = resolved
                .principal()
                .session()
                .is_none_or(|s| now < s.expires_at);
            if live {
                return Some(Ok(resolved));
            }
        }
        state
            .negative
            .get(key, now, self.settings.negative_ttl)
            .map(|kind| Err(error_of(kind)))
    }
}

fn error_of(kind: KeyErrorKind) -> KeyError {
    match kind {
        KeyErrorKind::InvalidToken => KeyError::invalid_token(),
        KeyErrorKind::ExpiredToken => KeyError::expired_token(),
        _ => KeyError::unknown_key(),
    }
}

impl<P: Clone> Clone for CachingKeys<P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            settings: self.settings,
            state: self.state.clone(),
        }
    }
}

impl<P> fmt::Debug for CachingKeys<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (positive, negative) = self.len();
        f.debug_struct("CachingKeys")
            .field("settings", &self.settings)
            .field("cached", &positive)
            .field("negative", &negative)
            .finish_non_exhaustive()
    }
}

impl<P: ProvideKey> ProvideKey for CachingKeys<P> {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        let key = CacheKey::of(&request);
        let now = request.now();
        if let Some(answer) = self.cached(&key, now) {
            return ProvideKeyFuture::ready(answer);
        }
        let lookup = self.inner.provide_key(request);
        ProvideKeyFuture::new(async move {
            let answer = lookup.await;
            let mut state = self.lock();
            match &answer {
                Ok(resolved) => state.positive.insert(key, resolved.clone(), now),
                Err(e) if e.kind() != KeyErrorKind::Unavailable => {
                    state.negative.insert(key, e.kind(), now);
                }
                Err(_) => {}
            }
            answer
        })
    }
}
