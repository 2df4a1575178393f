//! `CachingKeys` over a backend that counts its calls: hits within the TTL, misses after it,
//! the negative cache and its TTL, failures never cached, bounded tables under a flood of
//! unknown keys, session principals never served past their expiry, one entry per session
//! token, `invalidate()` and `clear()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tower_sigv4::store::{IdentityStore, SharedStore, User};
use tower_sigv4::{
    provide_key_fn, CacheSettings, CachingKeys, KeyError, KeyErrorKind, KeyRequest, Principal,
    PrincipalType, ProvideKey, ResolvedKey, SessionInfo,
};

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const INVOKER: &str = "arn:aws:iam::123456789012:role/Invoker";

/// 2026-11-23T12:00:00Z
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_435_200)
}

fn at(secs: u64) -> SystemTime {
    t0() + Duration::from_secs(secs)
}

/// When the backend's session credentials expire: five minutes after `t0`.
fn session_expiry() -> SystemTime {
    at(300)
}

/// A backend that counts its calls and records the keys it was asked for:
/// * `AKIAALICE` and any `AKIAUSER…`: a user;
/// * `ASIASESSION` with token `tok-N`: a session named `sN` of the Invoker role, expiring at
///   [`session_expiry`] (expired after it); without a token: invalid token;
/// * `AKIABADTOKEN`: invalid token; `AKIAEXPIRED`: expired token;
/// * `AKIADOWN`: unavailable;
/// * anything else: unknown.
#[derive(Clone, Default)]
struct Backend {
    calls: Arc<AtomicUsize>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Backend {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn provider(&self) -> impl ProvideKey + Clone {
        let this = self.clone();
        provide_key_fn(move |request: KeyRequest<'_>| {
            this.calls.fetch_add(1, Ordering::SeqCst);
            let id = request.access_key_id().to_owned();
            let token = request.session_token().map(str::to_owned);
            let now = request.now();
            this.asked.lock().unwrap().push(id.clone());
            async move { answer(&id, token.as_deref(), now) }
        })
    }
}

fn answer(id: &str, token: Option<&str>, now: SystemTime) -> Result<ResolvedKey, KeyError> {
    match id {
        "AKIAALICE" => Ok(ResolvedKey::new(
            "alice-secret",
            Principal::user(ALICE, "AIDAALICE").with_tag("team", "blue"),
        )),
        _ if id.starts_with("AKIAUSER") => Ok(ResolvedKey::new(
            "user-secret",
            Principal::user(
                format!("arn:aws:iam::123456789012:user/{id}"),
                format!("AIDA{id}"),
            ),
        )),
        "ASIASESSION" => {
            let Some(name) = token.and_then(|t| t.strip_prefix("tok-")) else {
                return Err(KeyError::invalid_token());
            };
            if now >= session_expiry() {
                return Err(KeyError::expired_token());
            }
            Ok(ResolvedKey::new(
                format!("session-secret-{name}"),
                Principal::assumed_role(SessionInfo::new(
                    INVOKER,
                    "AROAINVOKER",
                    format!("s{name}"),
                    t0(),
                    session_expiry(),
                )),
            ))
        }
        "AKIABADTOKEN" => Err(KeyError::invalid_token()),
        "AKIAEXPIRED" => Err(KeyError::expired_token()),
        "AKIADOWN" => Err(KeyError::unavailable("backend down")),
        _ => Err(KeyError::unknown_key()),
    }
}

fn request<'a>(id: &'a str, token: Option<&'a str>, now: SystemTime) -> KeyRequest<'a> {
    KeyRequest::new(id, token, "20261123", "us-east-1", "execute-api", now)
}

async fn lookup(
    keys: &impl ProvideKey,
    id: &str,
    token: Option<&str>,
    now: SystemTime,
) -> Result<ResolvedKey, KeyError> {
    keys.provide_key(request(id, token, now)).await
}

async fn arn(keys: &impl ProvideKey, id: &str, token: Option<&str>, now: SystemTime) -> String {
    lookup(keys, id, token, now)
        .await
        .unwrap_or_else(|e| panic!("{id} at {now:?}: {e}"))
        .principal()
        .arn()
        .to_owned()
}

async fn fault(
    keys: &impl ProvideKey,
    id: &str,
    token: Option<&str>,
    now: SystemTime,
) -> KeyErrorKind {
    match lookup(keys, id, token, now).await {
        Ok(k) => panic!("{id}: expected an error, got {}", k.principal().arn()),
        Err(e) => e.kind(),
    }
}

fn settings() -> CacheSettings {
    CacheSettings::default()
        .with_ttl(Duration::from_secs(60))
        .with_negative_ttl(Duration::from_secs(10))
}

#[test]
fn default_settings() {
    let d = CacheSettings::default();
    assert_eq!(d.ttl, Duration::from_secs(60));
    assert_eq!(d.capacity, 10_000);
    assert_eq!(d.negative_ttl, Duration::from_secs(10));
    assert_eq!(d.negative_capacity, 10_000);
    let s = d
        .with_ttl(Duration::from_secs(5))
        .with_capacity(7)
        .with_negative_ttl(Duration::from_secs(3))
        .with_negative_capacity(2);
    assert_eq!(
        (s.ttl, s.capacity, s.negative_ttl, s.negative_capacity),
        (Duration::from_secs(5), 7, Duration::from_secs(3), 2)
    );
}

#[tokio::test]
async fn a_resolved_key_is_reused_within_the_ttl_only() {
    let backend = Backend::default();
    let keys = CachingKeys::new(backend.provider(), settings());
    assert!(keys.is_empty());

    let first = lookup(&keys, "AKIAALICE", None, t0()).await.unwrap();
    assert_eq!(first.principal().arn(), ALICE);
    assert_eq!(backend.calls(), 1);
    assert_eq!(keys.len(), (1, 0));

    // Within the TTL: the cached answer, secret and tags included.
    for secs in [0, 1, 30, 59] {
        let hit = lookup(&keys, "AKIAALICE", None, at(secs)).await.unwrap();
        assert_eq!(hit.principal(), first.principal());
        assert!(hit.secret().ct_eq(first.secret()));
        assert_eq!(
            hit.principal().tags().get("team").map(String::as_str),
            Some("blue")
        );
    }
    assert_eq!(backend.calls(), 1);

    // At the TTL: asked again, then cached from that moment.
    assert_eq!(arn(&keys, "AKIAALICE", None, at(60)).await, ALICE);
    assert_eq!(backend.calls(), 2);
    assert_eq!(arn(&keys, "AKIAALICE", None, at(119)).await, ALICE);
    assert_eq!(backend.calls(), 2);
    assert_eq!(arn(&keys, "AKIAALICE", None, at(120)).await, ALICE);
    assert_eq!(backend.calls(), 3);
    assert_eq!(keys.len(), (1, 0));

    // A clock that went backwards is not a hit either.
    assert_eq!(arn(&keys, "AKIAALICE", None, at(100)).await, ALICE);
    assert_eq!(backend.calls(), 4);
}

#[tokio::test]
async fn unknown_keys_are_negatively_cached_for_the_negative_ttl() {
    let backend = Backend::default();
    let keys = CachingKeys::new(backend.provider(), settings());

    assert_eq!(
        fault(&keys, "AKIANOBODY", None, t0()).await,
        KeyErrorKind::UnknownKey
    );
    assert_eq!(backend.calls(), 1);
    assert_eq!(keys.len(), (0, 1));
    for secs in [0, 5, 9] {
        assert_eq!(
            fault(&keys, "AKIANOBODY", None, at(secs)).await,
            KeyErrorKind::UnknownKey
        );
    }
    assert_eq!(backend.calls(), 1);
    assert_eq!(
        fault(&keys, "AKIANOBODY", None, at(10)).await,
        KeyErrorKind::UnknownKey
    );
    assert_eq!(backend.calls(), 2);

    // Invalid and expired tokens are cached with their kind.
    assert_eq!(
        fault(&keys, "AKIABADTOKEN", None, t0()).await,
        KeyErrorKind::InvalidToken
    );
    assert_eq!(
        fault(&keys, "AKIABADTOKEN", None, at(1)).await,
        KeyErrorKind::InvalidToken
    );
    assert_eq!(
        fault(&keys, "AKIAEXPIRED", None, t0()).await,
        KeyErrorKind::ExpiredToken
    );
    assert_eq!(
        fault(&keys, "AKIAEXPIRED", None, at(1)).await,
        KeyErrorKind::ExpiredToken
    );
    assert_eq!(backend.calls(), 4);
    assert_eq!(keys.len(), (0, 3));
}

#[tokio::test]
async fn provider_failures_are_never_cached() {
    let backend = Backend::default();
    let keys = CachingKeys::new(backend.provider(), settings());
    for i in 0..3 {
        let error = lookup(&keys, "AKIADOWN", None, at(i)).await.unwrap_err();
        assert_eq!(error.kind(), KeyErrorKind::Unavailable);
        // The cause travels with it (for the log), not replaced by a cached copy.
        assert_eq!(
            std::error::Error::source(&error).unwrap().to_string(),
            "backend down"
        );
    }
    assert_eq!(backend.calls(), 3);
    assert!(keys.is_empty());
    assert_eq!(keys.len(), (0, 0));
}

#[tokio::test]
async fn a_flood_of_unknown_keys_stays_within_the_capacities() {
    let backend = Backend::default();
    let keys = CachingKeys::new(
        backend.provider(),
        settings().with_capacity(100).with_negative_capacity(250),
    );
    assert_eq!(arn(&keys, "AKIAALICE", None, t0()).await, ALICE);
    for i in 0..10_000 {
        let id = format!("AKIAFLOOD{i:05}");
        assert_eq!(
            fault(&keys, &id, None, t0()).await,
            KeyErrorKind::UnknownKey
        );
        // Asked again at once: from the negative cache.
        assert_eq!(
            fault(&keys, &id, None, t0()).await,
            KeyErrorKind::UnknownKey
        );
        let (positive, negative) = keys.len();
        assert!(positive <= 100 && negative <= 250, "{i}: {:?}", keys.len());
    }
    // Once per distinct key, and the known key was never pushed out by unknown ones.
    assert_eq!(backend.calls(), 10_001);
    assert_eq!(keys.len(), (1, 250));
    assert_eq!(arn(&keys, "AKIAALICE", None, at(1)).await, ALICE);
    assert_eq!(backend.calls(), 10_001);
    // The newest 250 are cached; the oldest went first.
    assert_eq!(
        fault(&keys, "AKIAFLOOD09999", None, at(1)).await,
        KeyErrorKind::UnknownKey
    );
    assert_eq!(
        fault(&keys, "AKIAFLOOD09750", None, at(1)).await,
        KeyErrorKind::UnknownKey
    );
    assert_eq!(backend.calls(), 10_001);
    assert_eq!(
        fault(&keys, "AKIAFLOOD00000", None, at(1)).await,
        KeyErrorKind::UnknownKey
    );
    assert_eq!(backend.calls(), 10_002);
    assert_eq!(keys.len(), (1, 250));

    // A flood of distinct known keys is bounded the same way.
    for i in 0..10_000 {
        let id = format!("AKIAUSER{i:05}");
        assert_eq!(
            arn(&keys, &id, None, at(2)).await,
            format!("arn:aws:iam::123456789012:user/{id}")
        );
        assert!(keys.len().0 <= 100, "{i}: {:?}", keys.len());
    }
    assert_eq!(keys.len(), (100, 250));
    assert_eq!(backend.calls(), 20_002);
}

#[tokio::test]
async fn within_the_negative_ttl_the_backend_sees_each_unknown_key_once() {
    let backend = Backend::default();
    let keys = CachingKeys::new(backend.provider(), settings());
    for round in 0..3 {
        for i in 0..10_000 {
            let id = format!("AKIAFLOOD{i:05}");
            assert_eq!(
                fault(&keys, &id, None, at(round * 4)).await,
                KeyErrorKind::UnknownKey
            );
        }
        // Default capacities hold all 10 000.
        assert_eq!(keys.len(), (0, 10_000));
        assert_eq!(backend.calls(), 10_000, "round {round}");
    }
    // Past the negative TTL, each is asked again, and the table stays at its capacity.
    for i in 0..10_000 {
        fault(&keys, &format!("AKIAFLOOD{i:05}"), None, at(10)).await;
    }
    assert_eq!(backend.calls(), 20_000);
    assert_eq!(keys.len(), (0, 10_000));
    let asked = backend.asked.lock().unwrap();
    assert_eq!(asked.len(), 20_000);
    assert_eq!(asked[0], "AKIAFLOOD00000");
    assert_eq!(asked[10_000], "AKIAFLOOD00000");
}

#[tokio::test]
async fn a_zero_capacity_caches_nothing() {
    let backend = Backend::default();
    let keys = CachingKeys::new(
        backend.provider(),
        settings().with_capacity(0).with_negative_capacity(0),
    );
    for _ in 0..3 {
        assert_eq!(arn(&keys, "AKIAALICE", None, t0()).await, ALICE);
        fault(&keys, "AKIANOBODY", None, t0()).await;
    }
    assert_eq!(backend.calls(), 6);
    assert!(keys.is_empty());
}

#[tokio::test]
async fn a_session_is_not_served_from_the_cache_after_its_expiry() {
    let backend = Backend::default();
    // A TTL far longer than the session's life.
    let keys = CachingKeys::new(
        backend.provider(),
        settings().with_ttl(Duration::from_secs(3600)),
    );
    let resolved = lookup(&keys, "ASIASESSION", Some("tok-1"), t0())
        .await
        .unwrap();
    let principal = resolved.principal();
    assert_eq!(principal.principal_type(), PrincipalType::AssumedRole);
    assert_eq!(
        principal.arn(),
        "arn:aws:sts::123456789012:assumed-role/Invoker/s1"
    );
    assert_eq!(principal.session().unwrap().expires_at, session_expiry());
    assert_eq!(backend.calls(), 1);
    assert_eq!(
        arn(&keys, "ASIASESSION", Some("tok-1"), at(299)).await,
        "arn:aws:sts::123456789012:assumed-role/Invoker/s1"
    );
    assert_eq!(backend.calls(), 1);

    // From the expiry second on, the backend is asked (and says expired).
    assert_eq!(
        fault(&keys, "ASIASESSION", Some("tok-1"), at(300)).await,
        KeyErrorKind::ExpiredToken
    );
    assert_eq!(backend.calls(), 2);
    // That answer is negatively cached like any other.
    assert_eq!(
        fault(&keys, "ASIASESSION", Some("tok-1"), at(301)).await,
        KeyErrorKind::ExpiredToken
    );
    assert_eq!(backend.calls(), 2);
}

#[tokio::test]
async fn an_expired_session_is_not_served_even_by_a_backend_that_forgets_expiry() {
    // A backend that keeps answering with the session principal after its expiry: the cache
    // still never serves the cached copy past `expires_at`.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let backend = provide_key_fn(move |_request: KeyRequest<'_>| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            Ok(ResolvedKey::new(
                "s",
                Principal::assumed_role(SessionInfo::new(
                    INVOKER,
                    "AROAINVOKER",
                    "lax",
                    t0(),
                    session_expiry(),
                )),
            ))
        }
    });
    let keys = CachingKeys::new(backend, settings().with_ttl(Duration::from_secs(3600)));
    lookup(&keys, "ASIALAX", Some("t"), t0()).await.unwrap();
    lookup(&keys, "ASIALAX", Some("t"), at(299)).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    lookup(&keys, "ASIALAX", Some("t"), at(300)).await.unwrap();
    lookup(&keys, "ASIALAX", Some("t"), at(301)).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn session_tokens_of_one_key_are_cached_separately() {
    let backend = Backend::default();
    let keys = CachingKeys::new(backend.provider(), settings());
    let one = lookup(&keys, "ASIASESSION", Some("tok-1"), t0())
        .await
        .unwrap();
    let two = lookup(&keys, "ASIASESSION", Some("tok-2"), t0())
        .await
        .unwrap();
    assert_eq!(
        one.principal().arn(),
        "arn:aws:sts::123456789012:assumed-role/Invoker/s1"
    );
    assert_eq!(
        two.principal().arn(),
        "arn:aws:sts::123456789012:assumed-role/Invoker/s2"
    );
    assert!(!one.secret().ct_eq(two.secret()));
    assert_eq!(backend.calls(), 2);
    for _ in 0..3 {
        assert_eq!(
            arn(&keys, "ASIASESSION", Some("tok-2"), at(1)).await,
            "arn:aws:sts::123456789012:assumed-role/Invoker/s2"
        );
        assert_eq!(
            arn(&keys, "ASIASESSION", Some("tok-1"), at(1)).await,
            "arn:aws:sts::123456789012:assumed-role/Invoker/s1"
        );
    }
    assert_eq!(backend.calls(), 2);
    // Without a token, and with a foreign one: separate (negative) entries, not the cached
    // sessions.
    assert_eq!(
        fault(&keys, "ASIASESSION", None, at(1)).await,
        KeyErrorKind::InvalidToken
    );
    assert_eq!(
        fault(&keys, "ASIASESSION", Some("forged"), at(1)).await,
        KeyErrorKind::InvalidToken
    );
    assert_eq!(backend.calls(), 4);
    assert_eq!(keys.len(), (2, 2));
}

#[tokio::test]
async fn invalidate_forgets_one_key_and_clear_everything() {
    let backend = Backend::default();
    let keys = CachingKeys::new(backend.provider(), settings());
    arn(&keys, "AKIAALICE", None, t0()).await;
    arn(&keys, "AKIAUSER1", None, t0()).await;
    arn(&keys, "ASIASESSION", Some("tok-1"), t0()).await;
    arn(&keys, "ASIASESSION", Some("tok-2"), t0()).await;
    fault(&keys, "AKIANOBODY", None, t0()).await;
    fault(&keys, "ASIASESSION", None, t0()).await;
    assert_eq!(backend.calls(), 6);
    assert_eq!(keys.len(), (4, 2));

    keys.invalidate("AKIAALICE");
    assert_eq!(keys.len(), (3, 2));
    arn(&keys, "AKIAALICE", None, at(1)).await;
    assert_eq!(backend.calls(), 7);
    arn(&keys, "AKIAUSER1", None, at(1)).await;
    assert_eq!(backend.calls(), 7);

    // Every token of a temporary key, positive and negative.
    keys.invalidate("ASIASESSION");
    assert_eq!(keys.len(), (2, 1));
    keys.invalidate("AKIANOBODY");
    assert_eq!(keys.len(), (2, 0));
    fault(&keys, "AKIANOBODY", None, at(1)).await;
    arn(&keys, "ASIASESSION", Some("tok-1"), at(1)).await;
    assert_eq!(backend.calls(), 9);
    // An unknown id is a no-op.
    keys.invalidate("AKIANEVERSEEN");
    assert_eq!(keys.len(), (3, 1));

    keys.clear();
    assert!(keys.is_empty());
    assert_eq!(keys.len(), (0, 0));
    arn(&keys, "AKIAALICE", None, at(2)).await;
    fault(&keys, "AKIANOBODY", None, at(2)).await;
    assert_eq!(backend.calls(), 11);
    // The cache still works after a clear.
    arn(&keys, "AKIAALICE", None, at(3)).await;
    assert_eq!(backend.calls(), 11);
}

#[tokio::test]
async fn clones_share_one_cache() {
    let backend = Backend::default();
    let keys = CachingKeys::new(backend.provider(), settings());
    let other = keys.clone();
    arn(&keys, "AKIAALICE", None, t0()).await;
    arn(&other, "AKIAALICE", None, at(1)).await;
    assert_eq!(backend.calls(), 1);
    other.clear();
    assert!(keys.is_empty());
    assert_eq!(
        format!("{keys:?}"),
        "CachingKeys { settings: CacheSettings { ttl: 60s, capacity: 10000, negative_ttl: 10s, negative_capacity: 10000 }, cached: 0, negative: 0, .. }"
    );
}

#[tokio::test]
async fn over_a_shared_store_revocation_waits_for_the_ttl_or_invalidate() {
    let user = |key: &str| {
        IdentityStore::builder()
            .user(
                User::new(ALICE)
                    .unwrap()
                    .with_access_key(key, "alice-secret"),
            )
            .build()
            .unwrap()
    };
    let store = SharedStore::new(user("AKIAALICE"));
    let keys = CachingKeys::new(store.clone(), settings());
    assert_eq!(arn(&keys, "AKIAALICE", None, t0()).await, ALICE);
    assert_eq!(
        fault(&keys, "AKIAALICENEW", None, t0()).await,
        KeyErrorKind::UnknownKey
    );
    // Rotated in the store: the old key keeps working until the TTL…
    store.replace(user("AKIAALICENEW"));
    assert_eq!(arn(&keys, "AKIAALICE", None, at(59)).await, ALICE);
    assert_eq!(
        fault(&keys, "AKIAALICE", None, at(60)).await,
        KeyErrorKind::UnknownKey
    );
    // …and the new one, unknown a moment ago, is refused until the negative TTL.
    assert_eq!(
        fault(&keys, "AKIAALICENEW", None, at(9)).await,
        KeyErrorKind::UnknownKey
    );
    assert_eq!(arn(&keys, "AKIAALICENEW", None, at(10)).await, ALICE);
    // invalidate() makes a revocation immediate.
    store.replace(user("AKIAALICE"));
    keys.invalidate("AKIAALICE");
    assert_eq!(arn(&keys, "AKIAALICE", None, at(61)).await, ALICE);
    store.replace(user("AKIAOTHER"));
    keys.invalidate("AKIAALICE");
    assert_eq!(
        fault(&keys, "AKIAALICE", None, at(62)).await,
        KeyErrorKind::UnknownKey
    );
}
