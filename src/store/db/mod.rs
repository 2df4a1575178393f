//! Identities in a database — SQLite (feature `sqlite`) or PostgreSQL (feature `postgres`) —
//! shared by every process that opens it: the key provider, the identity policies, the roles
//! STS reads, and the IAM operations ([`ManageIdentities`](super::ManageIdentities)) that write
//! them.
//!
//! * **Schema**: versioned migrations (`migrations/sqlite`, `migrations/postgres`, embedded)
//!   run by [`DbStore::connect`] and [`DbStore::init`].
//! * **Secrets** are sealed with XChaCha20-Poly1305 under a [`StoreKey`] and bound to their
//!   access key id; the database never holds one in clear. A wrong key is refused at start.
//! * **Caches** are on by default ([`DbCacheSettings`]): a hit costs no database read, a miss
//!   one read however many requests wait for it. A write invalidates the writing process's
//!   caches before it returns. Other processes learn of it within the propagation bound,
//!   2 s: PostgreSQL pushes every change on `LISTEN/NOTIFY` (a lost channel turns the caches
//!   off until it is back, then flushes them), SQLite is polled every 500 ms.
//! * **Outages**: a look-up the caches cannot answer fails with
//!   [`KeyErrorKind::Unavailable`](crate::KeyErrorKind::Unavailable) (a 500, never a 403); a key
//!   found before keeps working for [`DbCacheSettings::stale_if_error`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tower_sigv4::store::db::{DbSettings, DbStore, StoreKey};
//! use tower_sigv4::{Verifier, VerifierConfig};
//!
//! let key = StoreKey::from_base64(&std::env::var("SIGV4_STORE_KEY")?)?;
//! let store = DbStore::connect("sqlite://gateway.db", key, DbSettings::default()).await?;
//! let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), store.clone())?;
//! # let _ = verifier;
//! # Ok(()) }
//! ```

mod cache;
mod crypto;
mod manage;
mod read;
mod schema;
mod sync;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

pub use cache::DbCacheSettings;
pub use crypto::StoreKey;

use self::cache::{Cache, Freshness};
use self::read::KeyEntry;
use super::model::Role;
use super::source::{BackendError, LookupFuture, ProvideIdentityPolicies, ProvideRole};
use crate::clock::{Clock, SystemClock};
use crate::credentials::{KeyError, KeyRequest, ProvideKey, ProvideKeyFuture, ResolvedKey};
use crate::iam::{ApiContext, Policy};

/// How a database store connects and caches.
#[derive(Clone)]
#[non_exhaustive]
pub struct DbSettings {
    /// The caches (on by default).
    pub cache: DbCacheSettings,
    /// Connections in the pool (default 8; SQLite: 4).
    pub max_connections: Option<u32>,
    /// How long to wait for a connection (default 2 s): beyond it, a look-up fails (500).
    pub acquire_timeout: Duration,
    /// How often SQLite's change counter is read (default 500 ms).
    pub poll_interval: Duration,
    /// Expands `execute-api:/…` shorthand in stored identity policies (as the TOML file does).
    pub api: Option<ApiContext>,
    /// The clock of creation dates (default: the system clock).
    pub clock: Arc<dyn Clock>,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            cache: DbCacheSettings::default(),
            max_connections: None,
            acquire_timeout: Duration::from_secs(2),
            poll_interval: Duration::from_millis(500),
            api: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSettings")
            .field("cache", &self.cache)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("poll_interval", &self.poll_interval)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl DbSettings {
    /// Sets [`DbSettings::cache`].
    pub fn with_cache(mut self, cache: DbCacheSettings) -> Self {
        self.cache = cache;
        self
    }

    /// Sets [`DbSettings::api`].
    pub fn with_api(mut self, api: ApiContext) -> Self {
        self.api = Some(api);
        self
    }

    /// Sets [`DbSettings::clock`].
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets [`DbSettings::poll_interval`].
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// Sets [`DbSettings::acquire_timeout`].
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }
}

/// What went wrong opening or initialising a database store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbErrorKind {
    /// The URL is not `sqlite://…` or `postgres://…`, or names a backend not compiled in.
    Url,
    /// The database cannot be reached or a query failed.
    Database,
    /// The migrations failed.
    Migration,
    /// The store has not been initialised (`sigv4-gateway init`).
    NotInitialised,
    /// The store is initialised already.
    AlreadyInitialised,
    /// The store key is missing, malformed, or not the one the store was initialised with.
    Key,
}

/// A failure opening or initialising a database store. `Display` never shows a secret.
#[derive(Clone)]
pub struct DbError {
    kind: DbErrorKind,
    message: String,
}

impl DbError {
    pub(crate) fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn key(message: impl Into<String>) -> Self {
        Self::new(DbErrorKind::Key, message)
    }

    pub(crate) fn database(e: impl fmt::Display) -> Self {
        Self::new(DbErrorKind::Database, e.to_string())
    }

    /// What went wrong.
    pub fn kind(&self) -> DbErrorKind {
        self.kind
    }
}

impl fmt::Debug for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbError {}

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) fn of(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            if cfg!(feature = "sqlite") {
                return Ok(Self::Sqlite);
            }
            return Err(DbError::new(
                DbErrorKind::Url,
                "sqlite:// stores need the `sqlite` feature",
            ));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if cfg!(feature = "postgres") {
                return Ok(Self::Postgres);
            }
            return Err(DbError::new(
                DbErrorKind::Url,
                "postgres:// stores need the `postgres` feature",
            ));
        }
        Err(DbError::new(
            DbErrorKind::Url,
            "the store URL must start with sqlite:// or postgres://",
        ))
    }
}

/// What the first administrator of a new store is made of ([`DbStore::init`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct InitialAdmin {
    /// The account of the store.
    pub account: String,
    /// The administrator's user name.
    pub user_name: String,
    /// The name of its inline policy.
    pub policy_name: String,
    /// Its inline policy, verbatim.
    pub policy: String,
    /// Its access key id.
    pub access_key_id: String,
    /// Its secret access key.
    pub secret: crate::SecretKey,
}

impl InitialAdmin {
    /// An administrator `user_name` in `account` with `policy` and the access key
    /// `access_key_id`/`secret`.
    pub fn new(
        account: impl Into<String>,
        user_name: impl Into<String>,
        policy_name: impl Into<String>,
        policy: impl Into<String>,
        access_key_id: impl Into<String>,
        secret: crate::SecretKey,
    ) -> Self {
        Self {
            account: account.into(),
            user_name: user_name.into(),
            policy_name: policy_name.into(),
            policy: policy.into(),
            access_key_id: access_key_id.into(),
            secret,
        }
    }
}

/// Identities in SQLite or PostgreSQL; cheap to clone (one pool, one set of caches).
#[derive(Clone)]
pub struct DbStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) account: String,
    pub(crate) key: StoreKey,
    pub(crate) settings: DbSettings,
    pub(crate) freshness: Arc<Freshness>,
    pub(crate) keys: Cache<Arc<KeyEntry>>,
    pub(crate) policies: Cache<Arc<[Policy]>>,
    pub(crate) roles: Cache<Arc<Role>>,
    pub(crate) last_used: Mutex<std::collections::HashMap<String, std::time::Instant>>,
    /// Look-ups that went to the database.
    pub(crate) reads: std::sync::atomic::AtomicU64,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self
            .tasks
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

impl fmt::Debug for DbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbStore")
            .field("backend", &self.inner.backend)
            .field("account", &self.inner.account)
            .field("cached_keys", &self.inner.keys.len())
            .finish_non_exhaustive()
    }
}

async fn pool(url: &str, backend: Backend, settings: &DbSettings) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let url = match backend {
        // Create the file when it is missing.
        Backend::Sqlite if !url.contains("mode=") => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        }
        _ => url.to_owned(),
    };
    let max = settings.max_connections.unwrap_or(match backend {
        Backend::Sqlite => 4,
        Backend::Postgres => 8,
    });
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout)
        .connect(&url)
        .await
        .map_err(|e| DbError::new(DbErrorKind::Database, format!("cannot open the store: {e}")))
}

impl DbStore {
    /// Opens an initialised store: runs the pending migrations, checks `key` against the
    /// store, and starts following changes (needs a Tokio runtime).
    pub async fn connect(url: &str, key: StoreKey, settings: DbSettings) -> Result<Self, DbError> {
        let backend = Backend::of(url)?;
        let pool = pool(url, backend, &settings).await?;
        schema::migrate(&pool, backend).await?;
        let row = sqlx::query("SELECT account, key_check FROM store_meta WHERE id = 1")
            .fetch_optional(&pool)
            .await
            .map_err(DbError::database)?;
        let Some(row) = row else {
            return Err(DbError::new(
                DbErrorKind::NotInitialised,
                "the store is not initialised: run `sigv4-gateway init` first",
            ));
        };
        let account: String = row.try_get(0).map_err(DbError::database)?;
        let check: Vec<u8> = row.try_get(1).map_err(DbError::database)?;
        if !key.opens_check(&check) {
            return Err(DbError::key(
                "the store key is not the one this store was initialised with",
            ));
        }
        let store = Self::assemble(pool, backend, account, key, settings);
        sync::start(&store, url).await;
        Ok(store)
    }

    /// Initialises an empty store: the schema, the account, the key check, and the first
    /// administrator with its policy and access key, in one transaction. A store that is
    /// initialised already is left as it is ([`DbErrorKind::AlreadyInitialised`]).
    pub async fn init(url: &str, key: &StoreKey, admin: &InitialAdmin) -> Result<(), DbError> {
        let backend = Backend::of(url)?;
        let settings = DbSettings::default();
        let pool = pool(url, backend, &settings).await?;
        schema::migrate(&pool, backend).await?;
        let result = manage::initialise(&pool, key, admin, unix_now(&settings)).await;
        pool.close().await;
        result
    }

    /// Re-seals every secret of the store under `new` (and records `new` as the store's key),
    /// in one transaction; answers how many secrets were re-sealed. Processes still holding
    /// `old` must be restarted with `new`: until then they cannot open secrets they have not
    /// cached.
    pub async fn rotate_key(url: &str, old: &StoreKey, new: &StoreKey) -> Result<usize, DbError> {
        let backend = Backend::of(url)?;
        let pool = pool(url, backend, &DbSettings::default()).await?;
        schema::migrate(&pool, backend).await?;
        let result = manage::rotate_key(&pool, old, new).await;
        pool.close().await;
        result
    }

    fn assemble(
        pool: AnyPool,
        backend: Backend,
        account: String,
        key: StoreKey,
        settings: DbSettings,
    ) -> Self {
        let freshness = Arc::new(Freshness::default());
        let cache = settings.cache;
        Self {
            inner: Arc::new(Inner {
                pool,
                backend,
                account,
                key,
                keys: Cache::new(cache, freshness.clone()),
                policies: Cache::new(cache, freshness.clone()),
                roles: Cache::new(cache, freshness.clone()),
                freshness,
                settings,
                last_used: Mutex::new(std::collections::HashMap::new()),
                reads: std::sync::atomic::AtomicU64::new(0),
                tasks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The account of the identities.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// Whether the store is PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.inner.backend == Backend::Postgres
    }

    /// Whether the caches are in use: the change channel (PostgreSQL) or the poller (SQLite)
    /// is up.
    pub fn is_following_changes(&self) -> bool {
        self.inner.freshness.live.load(Ordering::Acquire)
    }

    /// Drops every cached entry (they stay only as a fallback for an outage).
    pub fn flush_caches(&self) {
        self.inner.flush();
    }

    /// How many key, policy and role look-ups went to the database (the others were
    /// answered by the caches).
    pub fn database_reads(&self) -> u64 {
        self.inner.reads.load(Ordering::Relaxed)
    }

    /// (found, absent) access keys in the cache.
    pub fn cached_keys(&self) -> (usize, usize) {
        self.inner.keys.len()
    }

    /// Records that `access_key_id` authenticated a request for `service` in `region`, at most
    /// once a minute per key, off the request path (`GetAccessKeyLastUsed`).
    pub fn record_key_use(&self, access_key_id: &str, service: &str, region: &str) {
        let now = std::time::Instant::now();
        {
            let mut seen = self
                .inner
                .last_used
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if seen
                .get(access_key_id)
                .is_some_and(|at| now.duration_since(*at) < Duration::from_secs(60))
            {
                return;
            }
            if seen.len() > 100_000 {
                seen.clear();
            }
            seen.insert(access_key_id.to_owned(), now);
        }
        let inner = self.inner.clone();
        let (id, service, region) = (
            access_key_id.to_owned(),
            service.to_owned(),
            region.to_owned(),
        );
        let at = unix_now(&inner.settings);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let done = sqlx::query(
                    "UPDATE access_keys SET last_used = $1, last_service = $2, last_region = $3 WHERE access_key_id = $4",
                )
                .bind(at)
                .bind(service)
                .bind(region)
                .bind(id)
                .execute(&inner.pool)
                .await;
                if let Err(e) = done {
                    tracing::debug!(error = %e, "access key last use not recorded");
                }
            });
        }
    }

    /// Closes the pool and stops following changes.
    pub async fn close(&self) {
        for task in self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
        self.inner.pool.close().await;
    }

    pub(crate) fn add_task(&self, task: tokio::task::JoinHandle<()>) {
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }
}

impl Inner {
    pub(crate) fn flush(&self) {
        self.freshness.flush();
        self.keys.flush();
        self.policies.flush();
        self.roles.flush();
    }

    /// Applies a change announced by this process or another.
    pub(crate) fn apply(&self, change: &sync::Change) {
        match change {
            sync::Change::Key(id) => self.keys.invalidate(id),
            sync::Change::Principal(arn) => {
                self.policies.invalidate(arn);
                self.roles.invalidate(arn);
                self.keys.invalidate_where(|k| k.owner_arn == *arn);
            }
            sync::Change::All => self.flush(),
        }
    }
}

pub(crate) fn unix_now(settings: &DbSettings) -> i64 {
    match settings.clock.now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

impl ProvideKey for DbStore {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        // Temporary credentials are `SessionKeys`' business; a long-term key with a token is
        // refused as AWS does.
        if request.session_token().is_some() {
            return ProvideKeyFuture::ready(Err(KeyError::invalid_token()));
        }
        let id = request.access_key_id();
        if !(1..=128).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return ProvideKeyFuture::ready(Err(KeyError::unknown_key()));
        }
        let answer = |found: Option<Arc<KeyEntry>>| match found {
            Some(entry) if entry.active => Ok(ResolvedKey::new(
                entry.secret.clone(),
                entry.principal.clone().with_access_key_id(id.to_owned()),
            )),
            _ => Err(KeyError::unknown_key()),
        };
        if let Some(hit) = self.inner.keys.fresh(id) {
            return ProvideKeyFuture::ready(answer(hit));
        }
        ProvideKeyFuture::new(async move {
            match self
                .inner
                .keys
                .load(id, || read::key(&self.inner, id))
                .await
            {
                Ok(found) => answer(found),
                Err(e) => {
                    tracing::error!(error = %e, source = ?std::error::Error::source(&e), "access key look-up failed");
                    Err(KeyError::unavailable(e))
                }
            }
        })
    }
}

impl ProvideIdentityPolicies for DbStore {
    fn provide_identity_policies<'a>(
        &'a self,
        principal_arn: &'a str,
    ) -> LookupFuture<'a, Option<Arc<[Policy]>>> {
        if let Some(hit) = self.inner.policies.fresh(principal_arn) {
            return LookupFuture::ready(Ok(hit));
        }
        LookupFuture::new(async move {
            self.inner
                .policies
                .load(principal_arn, || read::policies(&self.inner, principal_arn))
                .await
        })
    }
}

impl ProvideRole for DbStore {
    fn provide_role<'a>(&'a self, arn: &'a str) -> LookupFuture<'a, Option<Arc<Role>>> {
        if let Some(hit) = self.inner.roles.fresh(arn) {
            return LookupFuture::ready(Ok(hit));
        }
        LookupFuture::new(async move {
            self.inner
                .roles
                .load(arn, || read::role(&self.inner, arn))
                .await
        })
    }
}

pub(crate) fn backend_error(e: sqlx::Error) -> BackendError {
    BackendError::new(e)
}
