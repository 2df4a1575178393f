//! The caches of a database store: bounded, with a TTL, invalidated by key or wholesale, with
//! one database read per missing key however many requests wait for it (single flight), and
//! stale answers kept only to ride out a database that does not answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::store::BackendError;

/// How the caches of a database store behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbCacheSettings {
    /// Cache at all (default yes).
    pub enabled: bool,
    /// How long a found entry is reused without news from the change channel (default
    /// 5 minutes; changes announced on the channel invalidate at once).
    pub ttl: Duration,
    /// How long an absent key, user or role is remembered (default 60 s; its creation
    /// invalidates it at once).
    pub negative_ttl: Duration,
    /// Entries per cache (default 200 000).
    pub capacity: usize,
    /// Absent entries per cache (default 10 000).
    pub negative_capacity: usize,
    /// How long a found entry may still be served when the database does not answer (default
    /// 1 hour; zero: never).
    pub stale_if_error: Duration,
}

impl Default for DbCacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(60),
            capacity: 200_000,
            negative_capacity: 10_000,
            stale_if_error: Duration::from_secs(3600),
        }
    }
}

impl DbCacheSettings {
    /// No caching: every look-up reads the database.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets [`DbCacheSettings::ttl`].
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets [`DbCacheSettings::negative_ttl`].
    pub fn with_negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// Sets [`DbCacheSettings::capacity`].
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets [`DbCacheSettings::stale_if_error`].
    pub fn with_stale_if_error(mut self, max_age: Duration) -> Self {
        self.stale_if_error = max_age;
        self
    }
}

/// What every cache of one store shares: whether the change channel is up, and the epoch
/// that a wholesale flush bumps.
#[derive(Debug, Default)]
pub(crate) struct Freshness {
    /// The change channel is up (or, without one, the poller reads the database).
    pub(crate) live: AtomicBool,
    /// Bumped by every wholesale flush: older entries are stale.
    epoch: AtomicU64,
}

impl Freshness {
    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn flush(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

struct Found<V> {
    value: V,
    at: Instant,
    epoch: u64,
}

type Flight<V> = Arc<OnceCell<Result<Option<V>, BackendError>>>;

struct State<V> {
    found: HashMap<String, Found<V>>,
    missing: HashMap<String, (Instant, u64)>,
    flights: HashMap<String, Flight<V>>,
}

/// One cache: name → value, or "absent".
pub(crate) struct Cache<V> {
    settings: DbCacheSettings,
    freshness: Arc<Freshness>,
    state: Mutex<State<V>>,
}

impl<V: Clone + Send + Sync + 'static> Cache<V> {
    pub(crate) fn new(settings: DbCacheSettings, freshness: Arc<Freshness>) -> Self {
        Self {
            settings,
            freshness,
            state: Mutex::new(State {
                found: HashMap::new(),
                missing: HashMap::new(),
                flights: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh answer: `Some(Some(v))` found, `Some(None)` known absent, `None` ask the
    /// database.
    pub(crate) fn fresh(&self, key: &str) -> Option<Option<V>> {
        if !self.settings.enabled || !self.freshness.live.load(Ordering::Acquire) {
            return None;
        }
        let epoch = self.freshness.epoch();
        let now = Instant::now();
        let state = self.lock();
        if let Some(f) = state.found.get(key) {
            if f.epoch == epoch && now.duration_since(f.at) < self.settings.ttl {
                return Some(Some(f.value.clone()));
            }
            return None;
        }
        match state.missing.get(key) {
            Some((at, e))
                if *e == epoch && now.duration_since(*at) < self.settings.negative_ttl =>
            {
                Some(None)
            }
            _ => None,
        }
    }

    /// Reads `key` through `fetch`, one read at a time per key: requests that miss while a read
    /// is in flight wait for its answer. A database failure is answered with a found entry
    /// younger than `stale_if_error`, if there is one.
    pub(crate) async fn load<F, Fut>(&self, key: &str, fetch: F) -> Result<Option<V>, BackendError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, BackendError>>,
    {
        let flight = {
            let mut state = self.lock();
            state
                .flights
                .entry(key.to_owned())
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone()
        };
        let answer = flight.get_or_init(fetch).await.clone();
        // An invalidation of this key while the read was in flight took the flight away: the
        // answer may be old news, so it is returned but not kept.
        let current = {
            let mut state = self.lock();
            let current = state
                .flights
                .get(key)
                .is_some_and(|f| Arc::ptr_eq(f, &flight));
            if current {
                state.flights.remove(key);
            }
            current
        };
        match answer {
            Ok(value) => {
                if self.settings.enabled && current {
                    self.store(key, value.clone());
                }
                Ok(value)
            }
            Err(e) => match self.stale(key) {
                Some(v) => {
                    tracing::warn!(error = %e, "identity store unavailable: serving a cached entry");
                    Ok(Some(v))
                }
                None => Err(e),
            },
        }
    }

    fn stale(&self, key: &str) -> Option<V> {
        let state = self.lock();
        let f = state.found.get(key)?;
        (Instant::now().duration_since(f.at) < self.settings.stale_if_error)
            .then(|| f.value.clone())
    }

    fn store(&self, key: &str, value: Option<V>) {
        let epoch = self.freshness.epoch();
        let now = Instant::now();
        let mut state = self.lock();
        match value {
            Some(value) => {
                if state.found.len() >= self.settings.capacity && !state.found.contains_key(key) {
                    let ttl = self.settings.ttl;
                    state
                        .found
                        .retain(|_, f| f.epoch == epoch && now.duration_since(f.at) < ttl);
                    if state.found.len() >= self.settings.capacity {
                        state.found.clear();
                    }
                }
                state.missing.remove(key);
                state.found.insert(
                    key.to_owned(),
                    Found {
                        value,
                        at: now,
                        epoch,
                    },
                );
            }
            None => {
                if state.missing.len() >= self.settings.negative_capacity {
                    state.missing.clear();
                }
                state.found.remove(key);
                state.missing.insert(key.to_owned(), (now, epoch));
            }
        }
    }

    /// Forgets `key` (found, absent, and any read in flight).
    pub(crate) fn invalidate(&self, key: &str) {
        let mut state = self.lock();
        state.found.remove(key);
        state.missing.remove(key);
        state.flights.remove(key);
    }

    /// Forgets every entry whose value matches (and every read in flight).
    pub(crate) fn invalidate_where(&self, matches: impl Fn(&V) -> bool) {
        let mut state = self.lock();
        state.found.retain(|_, f| !matches(&f.value));
        state.flights.clear();
    }

    /// Marks every entry stale (kept only to ride out an outage) and forgets reads in flight.
    pub(crate) fn flush(&self) {
        let mut state = self.lock();
        state.missing.clear();
        state.flights.clear();
    }

    /// (found, absent) entries held.
    pub(crate) fn len(&self) -> (usize, usize) {
        let state = self.lock();
        (state.found.len(), state.missing.len())
    }
}
