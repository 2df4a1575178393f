//! The file-backed identity store and the gateway's TOML configuration: requests verified
//! against a file, reloads (changed, unchanged, refused), snapshots that outlive a reload,
//! `watch()` on SIGHUP and on change, session-token key rotation through the file, STS
//! switched off, the per-process random token key surviving reloads, and the exact texts of
//! configuration errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::request::Parts;
use http::Request;
use http_body_util::{BodyExt, Full};
use sigv4_gateway::config::{ConfigFileError, FileStore, GatewayConfig};
use tower::ServiceExt;
use tower_sigv4::sts::{SessionKeys, StsService};
use tower_sigv4::{
    Credentials, FixedClock, Principal, PrincipalType, ProvideKey, Rejection, RejectionKind,
    SignablePayload, Signer, Verifier, VerifierConfig,
};

const ALICE: &str = "arn:aws:iam::111111111111:user/alice";
const BOB: &str = "arn:aws:iam::111111111111:user/bob";
const INVOKER: &str = "arn:aws:iam::111111111111:role/Invoker";
const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

/// 2026-11-23T12:00:00Z
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_435_200)
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/// A directory of its own under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "tower-sigv4-file-store-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn config(&self) -> PathBuf {
        self.0.join("gateway.toml")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Replaces `path` atomically (a watcher never reads half a file).
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

const HEAD: &str = r#"
listen = "127.0.0.1:8080"
[api]
account = "111111111111"
api_id = "apiid"
"#;

fn sts_keys(keys: &[(&str, &str)]) -> String {
    let list: Vec<String> = keys
        .iter()
        .map(|(id, secret)| format!(r#"{{ id = "{id}", secret = "{secret}" }}"#))
        .collect();
    format!("[sts]\ntoken_keys = [{}]\n", list.join(", "))
}

fn user(arn: &str, key: &str, secret: &str) -> String {
    format!(
        r#"
[[user]]
arn = "{arn}"
access_keys = [{{ id = "{key}", secret = "{secret}" }}]
tags = {{ team = "blue" }}
"#
    )
}

fn user_with_policy(arn: &str, key: &str, secret: &str, policy: &str) -> String {
    format!("{}policies = ['''{policy}''']\n", user(arn, key, secret))
}

fn invoker() -> String {
    format!(
        r#"
[[role]]
arn = "{INVOKER}"
trust_policy = '''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}}]}}'''
policies = ['''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}]}}''']
"#
    )
}

fn alice() -> Credentials {
    Credentials::new("AKIAALICE", "alice-secret")
}

fn bob() -> Credentials {
    Credentials::new("AKIABOB", "bob-secret")
}

fn alice_file(sts: &str) -> String {
    format!(
        "{HEAD}{sts}{}{}",
        user(ALICE, "AKIAALICE", "alice-secret"),
        invoker()
    )
}

fn bob_file() -> String {
    format!("{HEAD}{}", user(BOB, "AKIABOB", "bob-secret"))
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

fn signed(creds: &Credentials, at: SystemTime) -> Parts {
    let (mut parts, ()) = Request::get("http://api.local/items")
        .header("host", "api.local")
        .body(())
        .unwrap()
        .into_parts();
    Signer::new(creds.clone(), "us-east-1", "execute-api")
        .sign(&mut parts, SignablePayload::Bytes(b""), at)
        .unwrap();
    parts
}

/// Verifies a GET signed with `creds` at `at`, against `keys`.
async fn verify(
    keys: impl ProvideKey,
    creds: &Credentials,
    at: SystemTime,
) -> Result<Principal, Rejection> {
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap();
    verifier
        .verify(&signed(creds, at), b"", at)
        .await
        .map(tower_sigv4::Verified::into_principal)
}

async fn arn_of(keys: impl ProvideKey, creds: &Credentials) -> String {
    verify(keys, creds, t0())
        .await
        .unwrap_or_else(|r| panic!("{}: {r}", creds.access_key_id()))
        .arn()
        .to_owned()
}

async fn assert_invalid(keys: impl ProvideKey, creds: &Credentials, at: SystemTime) {
    let rejection = verify(keys, creds, at)
        .await
        .expect_err("should be rejected");
    assert_eq!(rejection.kind(), RejectionKind::InvalidToken);
    assert_eq!(rejection.status(), 403);
    assert_eq!(rejection.message(), INVALID_TOKEN);
}

fn tag(body: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {body}"))
        + open.len();
    let end = body[start..].find(&format!("</{name}>")).unwrap() + start;
    body[start..end].to_owned()
}

/// Alice assumes the Invoker role through the STS service over `store`, at `t0`.
async fn assume_invoker(file: &FileStore, session: &str) -> Credentials {
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName={session}",
        form_urlencoded::byte_serialize(INVOKER.as_bytes()).collect::<String>()
    );
    let (mut parts, ()) = Request::post("http://sts.local/")
        .header("host", "sts.local")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(())
        .unwrap()
        .into_parts();
    Signer::new(alice(), "us-east-1", "sts")
        .sign(&mut parts, SignablePayload::Bytes(body.as_bytes()), t0())
        .unwrap();
    let sts = StsService::builder(file.store(), file.keyring().unwrap(), "us-east-1")
        .clock(FixedClock::new(t0()))
        .build()
        .unwrap();
    let res = sts
        .oneshot(Request::from_parts(parts, Full::new(Bytes::from(body))))
        .await
        .unwrap();
    let status = res.status();
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        tag(&body, "Arn"),
        format!("arn:aws:sts::111111111111:assumed-role/Invoker/{session}")
    );
    Credentials::new(tag(&body, "AccessKeyId"), tag(&body, "SecretAccessKey"))
        .with_session_token(tag(&body, "SessionToken"))
}

/// What the gateway verifies with: the file's identities, and its session tokens while STS is
/// on.
fn keys(file: &FileStore) -> Arc<dyn ProvideKey> {
    match file.keyring() {
        Some(keyring) => Arc::new(SessionKeys::new(file.store(), keyring)),
        None => Arc::new(file.store()),
    }
}

async fn assert_session(file: &FileStore, creds: &Credentials, session: &str) {
    let principal = verify(keys(file), creds, t0() + Duration::from_secs(60))
        .await
        .unwrap_or_else(|r| panic!("session {session}: {r}"));
    assert_eq!(principal.principal_type(), PrincipalType::AssumedRole);
    assert_eq!(
        principal.arn(),
        format!("arn:aws:sts::111111111111:assumed-role/Invoker/{session}")
    );
    assert_eq!(principal.principal_arn(), INVOKER);
}

fn key_ids(file: &FileStore) -> Vec<String> {
    file.keyring()
        .map(|k| k.key_ids().map(str::to_owned).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Open and reload
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_signed_request_verifies_against_the_file() {
    let dir = TempDir::new("open");
    let path = dir.config();
    write(&path, &alice_file(""));
    let (file_store, config) = FileStore::open(&path).unwrap();
    assert_eq!(file_store.path(), path);
    assert_eq!(config.api.account, "111111111111");
    assert_eq!(config.user.len(), 1);

    let principal = verify(file_store.store(), &alice(), t0()).await.unwrap();
    assert_eq!(principal.arn(), ALICE);
    assert_eq!(principal.account(), "111111111111");
    assert_eq!(
        principal.tags().get("team").map(String::as_str),
        Some("blue")
    );
    assert!(principal.user_id().starts_with("AIDA"));
    // The wrong secret is a mismatch; an unknown key is invalid.
    let rejection = verify(
        file_store.store(),
        &Credentials::new("AKIAALICE", "wrong"),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::SignatureMismatch);
    assert_invalid(file_store.store(), &bob(), t0()).await;
    // Debug shows the path and counts, never a secret.
    let debug = format!("{file_store:?}");
    assert!(!debug.contains("alice-secret"), "{debug}");
    assert!(debug.contains("gateway.toml"), "{debug}");
}

#[tokio::test]
async fn reload_swaps_users_and_reports_whether_anything_changed() {
    let dir = TempDir::new("reload");
    let path = dir.config();
    write(&path, &alice_file(""));
    let (file_store, _) = FileStore::open(&path).unwrap();
    let store = file_store.store();
    assert_eq!(file_store.reload(), Ok(false));

    write(&path, &bob_file());
    assert_eq!(file_store.reload(), Ok(true));
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);
    assert_invalid(store.clone(), &alice(), t0()).await;
    assert_eq!(file_store.reload(), Ok(false));
    assert_eq!(file_store.reload(), Ok(false));

    // An inactive key through the file.
    write(
        &path,
        &format!(
            "{HEAD}[[user]]\narn = \"{BOB}\"\naccess_keys = [{{ id = \"AKIABOB\", secret = \"bob-secret\", active = false }}]\n"
        ),
    );
    assert_eq!(file_store.reload(), Ok(true));
    assert_invalid(store.clone(), &bob(), t0()).await;
    // Whitespace counts as a change (the content is compared, not the meaning).
    write(&path, &format!("{}\n", bob_file()));
    assert_eq!(file_store.reload(), Ok(true));
    assert_eq!(arn_of(store, &bob()).await, BOB);
}

const BAD_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEqualz":{"aws:username":"bob"}}}]}"#;

#[tokio::test]
async fn a_refused_file_leaves_the_old_store_in_force() {
    let dir = TempDir::new("refused");
    let path = dir.config();
    write(&path, &bob_file());
    let (file_store, _) = FileStore::open(&path).unwrap();
    let store = file_store.store();

    write(
        &path,
        &format!(
            "{HEAD}{}",
            user_with_policy(BOB, "AKIABOBNEW", "bob-secret", BAD_POLICY)
        ),
    );
    let error = file_store.reload().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: user[0] (arn:aws:iam::111111111111:user/bob) policies[0]: Statement[0].Condition: unknown operator \"StringEqualz\"",
            path.display()
        )
    );
    assert_eq!(
        error.location(),
        format!(
            "{}: user[0] (arn:aws:iam::111111111111:user/bob) policies[0]",
            path.display()
        )
    );
    assert_eq!(
        error.message(),
        "Statement[0].Condition: unknown operator \"StringEqualz\""
    );
    // The old store stays, and the file keeps being refused (not taken as "unchanged").
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);
    assert_invalid(
        store.clone(),
        &Credentials::new("AKIABOBNEW", "bob-secret"),
        t0(),
    )
    .await;
    assert_eq!(file_store.reload().unwrap_err(), error);
    file_store.reload_and_log();
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);

    // A TOML syntax error: the location is the file, line and column.
    write(&path, &format!("{HEAD}[[user]\n"));
    let error = file_store.reload().unwrap_err();
    assert_eq!(error.location(), format!("{}:6:8", path.display()));
    assert_eq!(error.message(), "unclosed array table, expected `]`");
    // A model error (the same key twice).
    write(
        &path,
        &format!(
            "{HEAD}{}{}",
            user(ALICE, "AKIASAME", "a"),
            user(BOB, "AKIASAME", "b")
        ),
    );
    assert_eq!(
        file_store.reload().unwrap_err().to_string(),
        format!(
            "{}: access key \"AKIASAME\" is given twice (users \"arn:aws:iam::111111111111:user/alice\" and \"arn:aws:iam::111111111111:user/bob\")",
            path.display()
        )
    );
    // A file that went away.
    std::fs::remove_file(&path).unwrap();
    let error = file_store.reload().unwrap_err();
    assert_eq!(error.location(), path.display().to_string());
    assert_eq!(error.message(), "No such file or directory (os error 2)");
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);

    // Fixed: taken.
    write(
        &path,
        &format!(
            "{HEAD}{}",
            user_with_policy(
                BOB,
                "AKIABOBNEW",
                "bob-secret",
                &BAD_POLICY.replace("StringEqualz", "StringEquals")
            )
        ),
    );
    assert_eq!(file_store.reload(), Ok(true));
    assert_eq!(
        arn_of(store.clone(), &Credentials::new("AKIABOBNEW", "bob-secret")).await,
        BOB
    );
    assert_invalid(store, &bob(), t0()).await;
}

#[test]
fn opening_a_bad_file_fails_with_its_place() {
    let dir = TempDir::new("open-bad");
    let path = dir.config();
    assert_eq!(
        FileStore::open(&path).unwrap_err().to_string(),
        format!("{}: No such file or directory (os error 2)", path.display())
    );
    write(
        &path,
        &format!(
            "{HEAD}{}",
            user_with_policy(ALICE, "AKIAALICE", "s", BAD_POLICY)
        ),
    );
    assert_eq!(
        FileStore::open(&path).unwrap_err().to_string(),
        format!(
            "{}: user[0] (arn:aws:iam::111111111111:user/alice) policies[0]: Statement[0].Condition: unknown operator \"StringEqualz\"",
            path.display()
        )
    );
    write(
        &path,
        &format!("{HEAD}{}max_session_seconds = 60\n", invoker()),
    );
    assert_eq!(
        FileStore::open(&path).unwrap_err().to_string(),
        format!(
            "{}: role[0] (arn:aws:iam::111111111111:role/Invoker): role \"arn:aws:iam::111111111111:role/Invoker\": max_session_seconds must be between 3600 and 43200, got 60",
            path.display()
        )
    );
}

#[tokio::test]
async fn a_snapshot_taken_before_a_reload_keeps_the_old_data() {
    let dir = TempDir::new("snapshot");
    let path = dir.config();
    write(&path, &alice_file(""));
    let (file_store, _) = FileStore::open(&path).unwrap();
    let store = file_store.store();
    // A request in flight holds the store it started with.
    let in_flight = store.snapshot();

    write(&path, &bob_file());
    assert_eq!(file_store.reload(), Ok(true));
    assert_eq!(arn_of(in_flight.clone(), &alice()).await, ALICE);
    assert_invalid(in_flight.clone(), &bob(), t0()).await;
    assert!(in_flight.user(ALICE).is_some());
    assert!(in_flight.role(INVOKER).is_some());
    // New requests see the new store.
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);
    assert_invalid(store.clone(), &alice(), t0()).await;
    assert!(store.snapshot().user(ALICE).is_none());
    assert!(store.snapshot().role(INVOKER).is_none());
}

// ---------------------------------------------------------------------------------------------
// watch()
// ---------------------------------------------------------------------------------------------

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 5 s: {what}");
}

fn sighup() {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill must be installed");
    assert!(status.success());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reloads_on_sighup() {
    let dir = TempDir::new("sighup");
    let path = dir.config();
    write(&path, &alice_file(""));
    let (file_store, _) = FileStore::open(&path).unwrap();
    let store = file_store.store();
    // A poll interval far beyond the test: only the signal can trigger the reload.
    let watcher = Arc::new(file_store).watch(Duration::from_secs(3600));

    write(&path, &bob_file());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        store.snapshot().user(BOB).is_none(),
        "reloaded without a signal"
    );
    sighup();
    eventually("bob after SIGHUP", || store.snapshot().user(BOB).is_some()).await;
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);
    assert_invalid(store.clone(), &alice(), t0()).await;

    // A refused file on SIGHUP leaves the store alone, and the watcher goes on.
    write(
        &path,
        &format!(
            "{HEAD}{}",
            user_with_policy(ALICE, "AKIAALICE", "alice-secret", BAD_POLICY)
        ),
    );
    sighup();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!watcher.is_finished());
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);
    write(&path, &alice_file(""));
    sighup();
    eventually("alice after the second SIGHUP", || {
        store.snapshot().user(ALICE).is_some()
    })
    .await;
    watcher.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reloads_when_the_file_changes() {
    let dir = TempDir::new("poll");
    let path = dir.config();
    write(&path, &alice_file(""));
    let (file_store, _) = FileStore::open(&path).unwrap();
    let store = file_store.store();
    let watcher = Arc::new(file_store).watch(Duration::from_millis(50));

    write(&path, &bob_file());
    eventually("bob after a change", || {
        store.snapshot().user(BOB).is_some()
    })
    .await;
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);

    // Refused: the old store stays through several polls.
    write(&path, &format!("{HEAD}[[user]\n"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.snapshot().user(BOB).is_some());
    assert!(!watcher.is_finished());

    write(&path, &alice_file(""));
    eventually("alice after the fix", || {
        store.snapshot().user(ALICE).is_some()
    })
    .await;
    assert_invalid(store.clone(), &bob(), t0()).await;
    watcher.abort();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_with_a_zero_poll_interval_still_reloads_on_sighup() {
    let dir = TempDir::new("zero");
    let path = dir.config();
    write(&path, &alice_file(""));
    let (file_store, _) = FileStore::open(&path).unwrap();
    let store = file_store.store();
    let watcher = Arc::new(file_store).watch(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!watcher.is_finished(), "the watcher stopped");
    write(&path, &bob_file());
    sighup();
    eventually("bob after SIGHUP", || store.snapshot().user(BOB).is_some()).await;
    watcher.abort();
}

// ---------------------------------------------------------------------------------------------
// Session-token keys through the file
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_keys_rotate_through_the_file() {
    let dir = TempDir::new("rotate");
    let path = dir.config();
    write(&path, &alice_file(&sts_keys(&[("k1", K1)])));
    let (file_store, _) = FileStore::open(&path).unwrap();
    assert_eq!(key_ids(&file_store), ["k1"]);
    let under_k1 = assume_invoker(&file_store, "under-k1").await;
    assert_session(&file_store, &under_k1, "under-k1").await;

    // k2 becomes current; k1 still opens tokens.
    write(&path, &alice_file(&sts_keys(&[("k2", K2), ("k1", K1)])));
    assert_eq!(file_store.reload(), Ok(true));
    assert_eq!(key_ids(&file_store), ["k2", "k1"]);
    assert_session(&file_store, &under_k1, "under-k1").await;
    let under_k2 = assume_invoker(&file_store, "under-k2").await;
    assert_session(&file_store, &under_k2, "under-k2").await;

    // k1 retired: its tokens are refused, k2's still work.
    write(&path, &alice_file(&sts_keys(&[("k2", K2)])));
    assert_eq!(file_store.reload(), Ok(true));
    assert_eq!(key_ids(&file_store), ["k2"]);
    assert_invalid(keys(&file_store), &under_k1, t0() + Duration::from_secs(60)).await;
    assert_session(&file_store, &under_k2, "under-k2").await;

    // Another replica configured with the same key accepts the same token.
    let replica = TempDir::new("rotate-replica");
    write(&replica.config(), &alice_file(&sts_keys(&[("k2", K2)])));
    let (other, _) = FileStore::open(replica.config()).unwrap();
    assert_session(&other, &under_k2, "under-k2").await;
}

#[tokio::test]
async fn sts_disabled_means_no_keyring() {
    let dir = TempDir::new("disabled");
    let path = dir.config();
    write(&path, &alice_file(&sts_keys(&[("k1", K1)])));
    let (file_store, _) = FileStore::open(&path).unwrap();
    let store = file_store.store();
    let session = assume_invoker(&file_store, "before").await;

    write(
        &path,
        &alice_file("[sts]\nenabled = false\ntoken_keys = [{ id = \"k1\", secret = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\" }]\n"),
    );
    assert_eq!(file_store.reload(), Ok(true));
    assert!(file_store.keyring().is_none());
    // Temporary credentials, even ones minted before, are refused; long-term keys work.
    assert_invalid(keys(&file_store), &session, t0() + Duration::from_secs(60)).await;
    assert_eq!(arn_of(store.clone(), &alice()).await, ALICE);

    let config = GatewayConfig::from_toml(&alice_file("[sts]\nenabled = false\n")).unwrap();
    assert!(!config.sts.enabled);
    assert!(config.token_keyring(None).unwrap().is_none());
    assert!(config.identities(None).unwrap().keyring.is_none());
    write(&path, &alice_file("[sts]\nenabled = false\n"));
    let (off, _) = FileStore::open(&path).unwrap();
    assert!(off.keyring().is_none());
}

#[tokio::test]
async fn without_token_keys_the_random_key_survives_reloads() {
    let dir = TempDir::new("random");
    let path = dir.config();
    write(&path, &alice_file(""));
    let (file_store, config) = FileStore::open(&path).unwrap();
    assert!(config.sts.enabled);
    assert!(config.sts.token_keys.is_none());
    let store = file_store.store();
    assert_eq!(key_ids(&file_store), ["random"]);
    let session = assume_invoker(&file_store, "random-1").await;

    // Any change to the file: a new store, the same process key.
    write(
        &path,
        &format!("{}{}", alice_file(""), user(BOB, "AKIABOB", "bob-secret")),
    );
    assert_eq!(file_store.reload(), Ok(true));
    assert_eq!(arn_of(store.clone(), &bob()).await, BOB);
    assert_session(&file_store, &session, "random-1").await;
    write(&path, &alice_file(""));
    assert_eq!(file_store.reload(), Ok(true));
    assert_session(&file_store, &session, "random-1").await;

    // Another process (another FileStore) has its own random key.
    let (other, _) = FileStore::open(&path).unwrap();
    assert_invalid(keys(&other), &session, t0() + Duration::from_secs(60)).await;

    // Switching to configured keys drops the random one.
    write(&path, &alice_file(&sts_keys(&[("k1", K1)])));
    assert_eq!(file_store.reload(), Ok(true));
    assert_invalid(keys(&file_store), &session, t0() + Duration::from_secs(60)).await;
}

// ---------------------------------------------------------------------------------------------
// GatewayConfig errors
// ---------------------------------------------------------------------------------------------

fn validate(text: &str) -> ConfigFileError {
    GatewayConfig::from_toml(text)
        .unwrap_or_else(|e| panic!("should parse: {e}"))
        .validate()
        .expect_err("should not validate")
}

#[test]
fn unknown_keys_name_the_key_and_the_line() {
    let error = GatewayConfig::from_toml(&format!("{HEAD}bogus = 1\n")).unwrap_err();
    assert_eq!(error.location(), "line 6, column 1: api.bogus");
    assert_eq!(
        error.to_string(),
        "line 6, column 1: api.bogus: unknown field `bogus`, expected one of `region`, `service`, `account`, `api_id`, `stage`, `resource_policy`"
    );
    assert_eq!((error.line(), error.column()), (Some(6), Some(1)));
    let error = GatewayConfig::from_toml(&format!(
        "{HEAD}[[user]]\narn = \"{ALICE}\"\naccess_keys = [{{ id = \"AKIAALICE\", secret_key = \"s\" }}]\n"
    ))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 8, column 36: user[0].access_keys[0].secret_key: unknown field `secret_key`, expected one of `id`, `secret`, `active`"
    );
    let error = GatewayConfig::from_toml(&format!("listen_on = \"x\"\n{HEAD}")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 1, column 1: listen_on: unknown field `listen_on`, expected one of `listen`, `upstream`, `healthz`, `api`, `auth`, `sts`, `metrics`, `tls`, `limits`, `proxy`, `store`, `iam_api`, `user`, `role`"
    );
    // Through a file, the file is the location.
    let dir = TempDir::new("unknown");
    let path = dir.config();
    write(&path, &format!("{HEAD}bogus = 1\n"));
    let error = GatewayConfig::from_file(&path).unwrap_err();
    assert_eq!(
        error.location(),
        format!("{}:6:1: api.bogus", path.display())
    );
    assert_eq!(
        error.message(),
        "unknown field `bogus`, expected one of `region`, `service`, `account`, `api_id`, `stage`, `resource_policy`"
    );
}

#[test]
fn a_missing_api_section_is_named() {
    let error = GatewayConfig::from_toml("listen = \"127.0.0.1:8080\"\n").unwrap_err();
    assert_eq!(error.to_string(), "line 1, column 1: missing field `api`");
}

#[test]
fn bad_values_name_their_place() {
    let api = |account: &str| {
        format!("listen = \"127.0.0.1:8080\"\n[api]\naccount = \"{account}\"\napi_id = \"apiid\"\n")
    };
    for account in ["12345", "1111111111111", "11111111111a", ""] {
        assert_eq!(
            validate(&api(account)).to_string(),
            format!("api.account: \"{account}\" is not a twelve-digit account id")
        );
    }
    assert_eq!(
        validate(&HEAD.replace("127.0.0.1:8080", "localhost:8080")).to_string(),
        "listen: \"localhost:8080\": invalid socket address syntax"
    );
    assert_eq!(
        validate(&HEAD.replace("127.0.0.1:8080", "127.0.0.1")).to_string(),
        "listen: \"127.0.0.1\": invalid socket address syntax"
    );
    assert_eq!(
        validate(&format!("upstream = \"ftp://backend:3000\"\n{HEAD}")).to_string(),
        "upstream: \"ftp://backend:3000\" must be an http:// or https:// URL with a host"
    );
    assert_eq!(
        validate(&format!("upstream = \"/just/a/path\"\n{HEAD}")).to_string(),
        "upstream: \"/just/a/path\" must be an http:// or https:// URL with a host"
    );
    assert_eq!(
        validate(&format!(
            "{HEAD}[auth]\ntrusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n"
        ))
        .to_string(),
        "auth.trusted_proxies[1]: \"10.0.0.0/33\" is not an IP address or CIDR"
    );
    assert_eq!(
        validate(&format!(
            "{HEAD}[auth]\ntrusted_proxies = [\"proxy.local\"]\n"
        ))
        .to_string(),
        "auth.trusted_proxies[0]: \"proxy.local\" is not an IP address or CIDR"
    );
    assert_eq!(
        validate(&format!("{HEAD}[auth]\nclock_skew_seconds = 0\n")).to_string(),
        "auth.clock_skew_seconds: must be between 1 and 604800 (a week), got 0"
    );
    assert_eq!(
        validate(&format!("{HEAD}[sts]\ntoken_keys = []\n")).to_string(),
        "sts.token_keys: give at least one key, or leave token_keys out for a random key"
    );
    // A token key is checked while parsing: its line, column and key path are known.
    assert_eq!(
        GatewayConfig::from_toml(&format!(
            "{HEAD}{}",
            sts_keys(&[("k1", K1), ("k2", "not base64!")])
        ))
        .unwrap_err()
        .to_string(),
        "line 7, column 109: sts.token_keys[1].secret: token key is not valid base64"
    );
    assert_eq!(
        GatewayConfig::from_toml(&format!("{HEAD}{}", sts_keys(&[("k1", "AAEC")])))
            .unwrap_err()
            .to_string(),
        "line 7, column 37: sts.token_keys[0].secret: token key is not 32 bytes"
    );
    assert_eq!(
        validate(&format!("{HEAD}{}", sts_keys(&[("k1", K1), ("k1", K2)]))).to_string(),
        "sts.token_keys[1]: duplicate token key id"
    );
    assert_eq!(
        validate(&format!(
            "{HEAD}[[user]]\narn = \"{ALICE}\"\naccess_keys = [{{ id = \"AKIAALICE\", secret = \"\" }}]\n"
        ))
        .to_string(),
        "user[0] (arn:aws:iam::111111111111:user/alice) access_keys[0]: the secret is empty"
    );
    assert_eq!(
        validate(&format!("{HEAD}{}", user(INVOKER, "AKIAX", "s"))).to_string(),
        "user[0] (arn:aws:iam::111111111111:role/Invoker): \"arn:aws:iam::111111111111:role/Invoker\" is not an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME)"
    );

    // The same through a file: the file's path first.
    let dir = TempDir::new("bad-values");
    let path = dir.config();
    write(&path, &api("12345"));
    assert_eq!(
        FileStore::open(&path).unwrap_err().to_string(),
        format!(
            "{}: api.account: \"12345\" is not a twelve-digit account id",
            path.display()
        )
    );
}

#[test]
fn defaults_of_a_minimal_file() {
    let config = GatewayConfig::from_toml(HEAD).unwrap();
    config.validate().unwrap();
    assert_eq!(config.listen_addr().unwrap().to_string(), "127.0.0.1:8080");
    assert_eq!(config.api.region, "us-east-1");
    assert_eq!(config.api.service, "execute-api");
    assert_eq!(config.api.stage, "prod");
    assert!(config.upstream.is_none());
    assert!(!config.healthz);
    assert_eq!(config.auth.clock_skew_seconds, 300);
    assert_eq!(config.auth.max_body_bytes, 10 * 1024 * 1024);
    assert!(config.auth.allow_unsigned_payload);
    assert!(config.trusted_proxies().unwrap().is_empty());
    assert!(config.sts.enabled);
    assert!(config.sts.token_keys.is_none());
    assert!(config.metrics.is_none());
    assert!(config.tls.is_none());
    assert!(config.user.is_empty() && config.role.is_empty());
}

#[test]
fn validate_refuses_what_the_verifier_refuses() {
    for (text, location) in [
        (
            format!("{HEAD}[auth]\nclock_skew_seconds = 604801\n"),
            "auth.clock_skew_seconds",
        ),
        (
            HEAD.replace("[api]\n", "[api]\nregion = \"\"\n"),
            "api.region",
        ),
        (
            HEAD.replace("[api]\n", "[api]\nservice = \"\"\n"),
            "api.service",
        ),
    ] {
        let config = GatewayConfig::from_toml(&text).unwrap();
        // Validation, which promises to check "everything that can be checked without
        // serving", refuses what the verifier would refuse, naming the place.
        let error = config
            .validate()
            .expect_err(&format!("{location} should not validate"));
        assert_eq!(error.location(), location);
    }
}
