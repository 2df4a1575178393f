//! The SQLite store through the library's public API: initialisation, migrations, secrets at
//! rest, the key provider, the identity policies and roles, caching with single flight, and
//! propagation of writes to another process's store (polling) within 2 s.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tower_sigv4::store::db::{DbErrorKind, DbSettings, DbStore, InitialAdmin, StoreKey};
use tower_sigv4::store::{
    Entity, KeyStatus, ManageError, ManageIdentities, NewRole, NewUser, PageRequest,
    ProvideIdentityPolicies, ProvideRole,
};
use tower_sigv4::{KeyErrorKind, KeyRequest, ProvideKey, SecretKey};

const ACCOUNT: &str = "123456789012";
const ADMIN_KEY: &str = "AKIAADMINKEY00000001";
const ADMIN_SECRET: &str = "admin/Secret+Key/0123456789abcdefghijklm";
const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn db_path() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tower-sigv4-db-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.db")
}

fn admin() -> InitialAdmin {
    InitialAdmin::new(
        ACCOUNT,
        "admin",
        "administrator",
        POLICY,
        ADMIN_KEY,
        SecretKey::new(ADMIN_SECRET),
    )
}

async fn fresh(key: &StoreKey) -> (String, PathBuf, DbStore) {
    let path = db_path();
    let url = format!("sqlite://{}", path.display());
    DbStore::init(&url, key, &admin()).await.unwrap();
    let store = DbStore::connect(&url, key.clone(), DbSettings::default())
        .await
        .unwrap();
    (url, path, store)
}

fn request(id: &str) -> KeyRequest<'_> {
    KeyRequest::new(
        id,
        None,
        "20260101",
        "us-east-1",
        "execute-api",
        SystemTime::UNIX_EPOCH,
    )
}

#[tokio::test]
async fn init_migrates_once_and_never_twice() {
    let key = StoreKey::generate();
    let (url, _path, store) = fresh(&key).await;
    assert_eq!(store.account(), ACCOUNT);
    let again = DbStore::init(&url, &key, &admin()).await.unwrap_err();
    assert_eq!(again.kind(), DbErrorKind::AlreadyInitialised);
    assert_eq!(
        again.to_string(),
        "the store is already initialised (account 123456789012); nothing was changed"
    );
    // Connecting again re-runs the (already applied) migrations harmlessly.
    DbStore::connect(&url, key.clone(), DbSettings::default())
        .await
        .unwrap();
    let wrong = DbStore::connect(&url, StoreKey::generate(), DbSettings::default())
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), DbErrorKind::Key);
    let empty = format!("sqlite://{}", db_path().display());
    let not_yet = DbStore::connect(&empty, key.clone(), DbSettings::default())
        .await
        .unwrap_err();
    assert_eq!(not_yet.kind(), DbErrorKind::NotInitialised);
    let bad = DbStore::connect("mysql://x", key, DbSettings::default())
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), DbErrorKind::Url);
    assert_eq!(
        bad.to_string(),
        "the store URL must start with sqlite:// or postgres://"
    );
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_keys_resolve() {
    let key = StoreKey::generate();
    let (_url, path, store) = fresh(&key).await;
    store
        .create_user(NewUser::from_parts(
            "/ops/".into(),
            "bob".into(),
            vec![("team".into(), "red".into())],
        ))
        .await
        .unwrap();
    let secret = SecretKey::new("bob/Secret+Key/0123456789abcdefghijklmnop");
    store
        .create_access_key("BOB", "AKIABOBKEY0000000001", &secret)
        .await
        .unwrap();
    let raw = std::fs::read(&path).unwrap();
    for text in [ADMIN_SECRET, secret.expose_secret()] {
        assert!(
            !raw.windows(text.len()).any(|w| w == text.as_bytes()),
            "a secret is stored in clear"
        );
    }
    let resolved = store
        .provide_key(request("AKIABOBKEY0000000001"))
        .await
        .unwrap();
    assert_eq!(resolved.secret().expose_secret(), secret.expose_secret());
    let principal = resolved.principal();
    assert_eq!(principal.arn(), "arn:aws:iam::123456789012:user/ops/bob");
    assert!(principal.user_id().starts_with("AIDA"));
    assert_eq!(principal.access_key_id(), "AKIABOBKEY0000000001");
    assert_eq!(
        principal.tags().get("team").map(String::as_str),
        Some("red")
    );

    store
        .update_access_key("bob", "AKIABOBKEY0000000001", KeyStatus::Inactive)
        .await
        .unwrap();
    let inactive = store
        .provide_key(request("AKIABOBKEY0000000001"))
        .await
        .unwrap_err();
    assert_eq!(inactive.kind(), KeyErrorKind::UnknownKey);
    let unknown = store
        .provide_key(request("AKIANOSUCHKEY0000001"))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), KeyErrorKind::UnknownKey);
    let with_token = KeyRequest::new(
        ADMIN_KEY,
        Some("token"),
        "20260101",
        "us-east-1",
        "iam",
        SystemTime::UNIX_EPOCH,
    );
    assert_eq!(
        store.provide_key(with_token).await.unwrap_err().kind(),
        KeyErrorKind::InvalidToken
    );
    // Hostile ids never reach the database.
    let before = store.database_reads();
    for id in ["", "AKIA'; DROP TABLE users; --", &"A".repeat(129)] {
        assert_eq!(
            store.provide_key(request(id)).await.unwrap_err().kind(),
            KeyErrorKind::UnknownKey
        );
    }
    assert_eq!(store.database_reads(), before);
}

#[tokio::test]
async fn policies_and_roles_are_read_through_the_caches() {
    let key = StoreKey::generate();
    let (_url, _path, store) = fresh(&key).await;
    let admin_arn = "arn:aws:iam::123456789012:user/admin";
    let policies = store
        .provide_identity_policies(admin_arn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].source(), Some(POLICY));
    let reads = store.database_reads();
    store.provide_identity_policies(admin_arn).await.unwrap();
    assert_eq!(
        store.database_reads(),
        reads,
        "a cached answer read the database"
    );

    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole"}]}"#;
    let created = store
        .create_role(NewRole::from_parts(
            "/svc/".into(),
            "Deployer".into(),
            trust.into(),
            7200,
            vec![],
        ))
        .await
        .unwrap();
    assert!(created.role_id.starts_with("AROA"));
    let arn = "arn:aws:iam::123456789012:role/svc/Deployer";
    let role = store.provide_role(arn).await.unwrap().unwrap();
    assert_eq!(role.max_session(), Duration::from_secs(7200));
    assert_eq!(role.role_id(), created.role_id);
    assert!(store
        .provide_role("arn:aws:iam::123456789012:role/svc/Nobody")
        .await
        .unwrap()
        .is_none());

    // A write invalidates the writer's caches before it returns.
    store
        .put_policy(Entity::Role, "deployer", "p", POLICY, 10_240)
        .await
        .unwrap();
    assert_eq!(
        store
            .provide_role(arn)
            .await
            .unwrap()
            .unwrap()
            .policies()
            .len(),
        1
    );
    store
        .delete_policy(Entity::Role, "DEPLOYER", "P")
        .await
        .unwrap();
    assert!(store
        .provide_identity_policies(arn)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        store.delete_policy(Entity::Role, "deployer", "p").await,
        Err(ManageError::NoSuchPolicy(Entity::Role, _))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_key_wanted_by_many_requests_is_read_once() {
    let key = StoreKey::generate();
    let (_url, _path, store) = fresh(&key).await;
    let before = store.database_reads();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.provide_key(request(ADMIN_KEY)).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(store.database_reads() - before, 1);
    assert_eq!(store.cached_keys(), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_sees_a_write_within_two_seconds() {
    let key = StoreKey::generate();
    let (url, _path, writer) = fresh(&key).await;
    let reader = DbStore::connect(&url, key.clone(), DbSettings::default())
        .await
        .unwrap();
    // The reader caches the admin key and the absence of a new one.
    reader.provide_key(request(ADMIN_KEY)).await.unwrap();
    assert_eq!(
        reader
            .provide_key(request("AKIANEWKEY0000000001"))
            .await
            .unwrap_err()
            .kind(),
        KeyErrorKind::UnknownKey
    );
    let secret = SecretKey::new("new/Secret+Key/0123456789abcdefghijklmnop");
    writer
        .create_access_key("admin", "AKIANEWKEY0000000001", &secret)
        .await
        .unwrap();
    writer
        .update_access_key("admin", ADMIN_KEY, KeyStatus::Inactive)
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let new = reader
            .provide_key(request("AKIANEWKEY0000000001"))
            .await
            .is_ok();
        let old = reader.provide_key(request(ADMIN_KEY)).await.is_err();
        if new && old {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not propagated within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Two keys at most, counted in the writing transaction.
    let third = writer
        .create_access_key("admin", "AKIATHIRDKEY00000001", &secret)
        .await
        .unwrap_err();
    assert!(matches!(third, ManageError::KeyQuota));
    let page = writer
        .list_access_keys("admin", PageRequest::new(None, 1))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.truncated), (1, true));
}

#[tokio::test]
async fn the_store_key_rotates() {
    let old = StoreKey::generate();
    let (url, _path, store) = fresh(&old).await;
    store.close().await;
    let new = StoreKey::generate();
    assert_eq!(DbStore::rotate_key(&url, &old, &new).await.unwrap(), 1);
    let refused = DbStore::connect(&url, old.clone(), DbSettings::default())
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), DbErrorKind::Key);
    let store = DbStore::connect(&url, new.clone(), DbSettings::default())
        .await
        .unwrap();
    let resolved = store.provide_key(request(ADMIN_KEY)).await.unwrap();
    assert_eq!(resolved.secret().expose_secret(), ADMIN_SECRET);
    // Rotating with a key that is not the current one changes nothing.
    let wrong = DbStore::rotate_key(&url, &old, &StoreKey::generate())
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), DbErrorKind::Key);
    DbStore::connect(&url, new, DbSettings::default())
        .await
        .unwrap();
}
