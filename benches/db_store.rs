//! Access-key look-up in a database store holding 100 000 users, cached and uncached:
//! SQLite always; PostgreSQL when `SIGV4_BENCH_POSTGRES_URL` names an empty database (and
//! `SIGV4_STORE_KEY` is not needed: the bench makes its own key).
//!
//! ```sh
//! cargo bench --bench db_store --features sqlite,postgres
//! SIGV4_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/bench cargo bench --bench db_store --features sqlite,postgres
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use tower_sigv4::store::db::{DbCacheSettings, DbSettings, DbStore, InitialAdmin, StoreKey};
use tower_sigv4::store::NewUser;
use tower_sigv4::{KeyRequest, ProvideKey, SecretKey};

const USERS: usize = 100_000;
const ACCOUNT: &str = "123456789012";

fn key_id(i: usize) -> String {
    format!("AKIABENCH{i:011}")
}

async fn populate(url: &str, key: &StoreKey) {
    let admin = InitialAdmin::new(
        ACCOUNT,
        "admin",
        "administrator",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
        "AKIABENCHADMIN000001",
        SecretKey::new("admin-secret"),
    );
    DbStore::init(url, key, &admin).await.unwrap();
    let store = DbStore::connect(url, key.clone(), DbSettings::default())
        .await
        .unwrap();
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(5_000) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|&i| {
                (
                    NewUser::from_parts(
                        "/".into(),
                        format!("user{i}"),
                        vec![("n".into(), i.to_string())],
                    ),
                    key_id(i),
                    SecretKey::new(format!("secret-{i:034}")),
                )
            })
            .collect();
        store.create_users_with_keys(&batch).await.unwrap();
    }
    store.close().await;
}

fn bench_store(c: &mut Criterion, name: &str, url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let key = StoreKey::generate();
    runtime.block_on(populate(url, &key));
    let cached = runtime
        .block_on(DbStore::connect(url, key.clone(), DbSettings::default()))
        .unwrap();
    let uncached = runtime
        .block_on(DbStore::connect(
            url,
            key,
            DbSettings::default().with_cache(DbCacheSettings::disabled()),
        ))
        .unwrap();
    // Warm 1 000 keys.
    let warm: Vec<String> = (0..1000).map(|i| key_id(i * 97)).collect();
    runtime.block_on(async {
        for id in &warm {
            let req = KeyRequest::new(
                id,
                None,
                "20260101",
                "us-east-1",
                "execute-api",
                SystemTime::UNIX_EPOCH,
            );
            cached.provide_key(req).await.unwrap();
        }
    });
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(5));
    let mut n = 0usize;
    group.bench_function("cached (1 000 warm keys)", |b| {
        b.iter(|| {
            n = (n + 1) % warm.len();
            let req = KeyRequest::new(
                &warm[n],
                None,
                "20260101",
                "us-east-1",
                "execute-api",
                SystemTime::UNIX_EPOCH,
            );
            black_box(runtime.block_on(cached.provide_key(req)).unwrap());
        })
    });
    let mut i = 0usize;
    group.bench_function("uncached (100 000 keys)", |b| {
        b.iter(|| {
            i = (i + 7919) % USERS;
            let id = key_id(i);
            let req = KeyRequest::new(
                &id,
                None,
                "20260101",
                "us-east-1",
                "execute-api",
                SystemTime::UNIX_EPOCH,
            );
            black_box(runtime.block_on(uncached.provide_key(req)).unwrap());
        })
    });
    group.finish();
}

fn lookups(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("tower-sigv4-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    bench_store(c, "key lookup/sqlite", &url);
    let _ = std::fs::remove_dir_all(&dir);
    if let Ok(url) = std::env::var("SIGV4_BENCH_POSTGRES_URL") {
        bench_store(c, "key lookup/postgres", &url);
    }
}

criterion_group!(benches, lookups);
criterion_main!(benches);
