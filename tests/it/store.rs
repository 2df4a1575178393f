//! The identity store: what building it refuses (with the exact message), the unique ids it
//! derives, its accounts and identity policies, keys resolved through a verifier, and `Debug`
//! output that never shows a secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use http::request::Parts;
use http::Request;
use std::sync::Arc;
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::store::{IdentityStore, Role, SharedStore, User, DEFAULT_MAX_SESSION};
use tower_sigv4::sts::{SessionKeys, TokenKeyring};
use tower_sigv4::{
    Credentials, KeyErrorKind, KeyRequest, Principal, PrincipalType, ProvideKey, Rejection,
    RejectionKind, SignablePayload, Signer, Verifier, VerifierConfig,
};

const ALICE: &str = "arn:aws:iam::111111111111:user/alice";
const BOB: &str = "arn:aws:iam::111111111111:user/bob";
const CAROL: &str = "arn:aws:iam::222222222222:user/carol";
const INVOKER: &str = "arn:aws:iam::111111111111:role/Invoker";
const AUDITOR: &str = "arn:aws:iam::333333333333:role/ops/Auditor";
const ALICE_SECRET: &str = "alice/Secret+Key/0123456789abcdefghijklmn";
const OLD_SECRET: &str = "alice/Old+Secret/0123456789abcdefghijklmn";
const TOKEN_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

/// 2026-11-23T12:00:00Z
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_435_200)
}

fn api() -> ApiContext {
    ApiContext::new("us-east-1", "111111111111", "apiid")
}

fn identity(id: &str) -> Policy {
    Policy::parse(
        &format!(
            r#"{{"Version":"2012-10-17","Id":"{id}","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}]}}"#
        ),
        PolicyKind::Identity,
        Some(&api()),
    )
    .unwrap()
}

fn trust(principal: &str) -> Policy {
    Policy::parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        PolicyKind::Trust,
        None,
    )
    .unwrap()
}

fn store() -> IdentityStore {
    IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("AKIAALICE0000000001", ALICE_SECRET)
                .with_inactive_access_key("AKIAALICE0000000002", OLD_SECRET)
                .with_policy(identity("alice-1"))
                .with_policy(identity("alice-2"))
                .with_tag("team", "blue")
                .with_tag("cost-center", "42"),
        )
        .user(
            User::new(CAROL)
                .unwrap()
                .with_access_key("AKIACAROL", "carol-secret"),
        )
        .role(
            Role::new(INVOKER, trust(ALICE))
                .unwrap()
                .with_policy(identity("invoker-1")),
        )
        .role(Role::new(AUDITOR, trust("333333333333")).unwrap())
        .build()
        .unwrap()
}

fn error_of<T: std::fmt::Debug>(result: Result<T, impl std::fmt::Display>) -> String {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Building errors
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_user_arns_are_refused() {
    for (arn, what) in [
        ("arn:aws:iam::12345:user/alice", "user"),
        ("arn:aws:iam::1111111111111:user/alice", "user"),
        ("arn:aws:iam::11111111111a:user/alice", "user"),
        ("arn:aws:iam:us-east-1:111111111111:user/alice", "user"),
        ("arn:aws:s3::111111111111:user/alice", "user"),
        ("arn::iam::111111111111:user/alice", "user"),
        ("arn:aws:iam::111111111111:user/", "user"),
        ("arn:aws:iam::111111111111:user/team/", "user"),
        ("arn:aws:iam::111111111111:user/ali*", "user"),
        ("arn:aws:iam::111111111111:user/ali?e", "user"),
        ("arn:aws:iam::111111111111:alice", "user"),
        ("alice", "user"),
        ("", "user"),
    ] {
        assert_eq!(
            error_of(User::new(arn)),
            format!("\"{arn}\" is not an IAM {what} ARN (arn:aws:iam::ACCOUNT:{what}/NAME)"),
            "{arn}"
        );
    }
    // A path is fine, and so is another partition.
    assert_eq!(
        User::new("arn:aws:iam::111111111111:user/team/alice")
            .unwrap()
            .account(),
        "111111111111"
    );
    assert_eq!(
        User::new("arn:aws-cn:iam::111111111111:user/alice")
            .unwrap()
            .arn(),
        "arn:aws-cn:iam::111111111111:user/alice"
    );
}

#[test]
fn malformed_role_arns_are_refused() {
    for arn in [
        "arn:aws:iam::111111111111:role/",
        "arn:aws:iam::111111111111:role",
        "arn:aws:iam::11111111111:role/Invoker",
        "arn:aws:sts::111111111111:assumed-role/Invoker/s1",
        "arn:aws:iam::111111111111:role/Inv*",
    ] {
        assert_eq!(
            error_of(Role::new(arn, trust(ALICE))),
            format!("\"{arn}\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
            "{arn}"
        );
    }
    assert_eq!(
        Role::new(AUDITOR, trust(ALICE)).unwrap().account(),
        "333333333333"
    );
}

#[test]
fn a_role_arn_is_not_a_user_arn_nor_the_reverse() {
    assert_eq!(
        error_of(User::new(INVOKER)),
        "\"arn:aws:iam::111111111111:role/Invoker\" is not an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME)"
    );
    assert_eq!(
        error_of(Role::new(ALICE, trust(BOB))),
        "\"arn:aws:iam::111111111111:user/alice\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
    );
    // The account root is neither.
    assert_eq!(
        error_of(User::new("arn:aws:iam::111111111111:root")),
        "\"arn:aws:iam::111111111111:root\" is not an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME)"
    );
}

#[test]
fn a_trust_policy_must_be_parsed_as_one() {
    assert_eq!(
        error_of(Role::new(INVOKER, identity("not-trust"))),
        "role \"arn:aws:iam::111111111111:role/Invoker\": the trust policy must be parsed as a trust policy"
    );
}

#[test]
fn duplicate_access_key_across_users() {
    let result = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("AKIASHARED", "one"),
        )
        .user(
            User::new(BOB)
                .unwrap()
                .with_inactive_access_key("AKIASHARED", "two"),
        )
        .build();
    assert_eq!(
        error_of(result),
        "access key \"AKIASHARED\" is given twice (users \"arn:aws:iam::111111111111:user/alice\" and \"arn:aws:iam::111111111111:user/bob\")"
    );
    // Twice on the same user too.
    let result = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("AKIASHARED", "one")
                .with_access_key("AKIASHARED", "two"),
        )
        .build();
    assert_eq!(
        error_of(result),
        "access key \"AKIASHARED\" is given twice for user \"arn:aws:iam::111111111111:user/alice\""
    );
}

#[test]
fn duplicate_user_and_duplicate_role() {
    let result = IdentityStore::builder()
        .user(User::new(ALICE).unwrap().with_access_key("AKIAONE", "one"))
        .user(User::new(ALICE).unwrap().with_access_key("AKIATWO", "two"))
        .build();
    assert_eq!(
        error_of(result),
        "user \"arn:aws:iam::111111111111:user/alice\" is given twice"
    );
    let result = IdentityStore::builder()
        .role(Role::new(INVOKER, trust(ALICE)).unwrap())
        .role(Role::new(INVOKER, trust(BOB)).unwrap())
        .build();
    assert_eq!(
        error_of(result),
        "role \"arn:aws:iam::111111111111:role/Invoker\" is given twice"
    );
}

#[test]
fn max_session_must_be_one_to_twelve_hours() {
    let role = || Role::new(INVOKER, trust(ALICE)).unwrap();
    assert_eq!(role().max_session(), DEFAULT_MAX_SESSION);
    assert_eq!(DEFAULT_MAX_SESSION, Duration::from_secs(3600));
    for secs in [0, 900, 3599, 43201, 86400] {
        assert_eq!(
            error_of(role().with_max_session(Duration::from_secs(secs))),
            format!(
                "role \"arn:aws:iam::111111111111:role/Invoker\": max_session_seconds must be between 3600 and 43200, got {secs}"
            )
        );
    }
    for secs in [3600, 7200, 43200] {
        assert_eq!(
            role()
                .with_max_session(Duration::from_secs(secs))
                .unwrap()
                .max_session(),
            Duration::from_secs(secs)
        );
    }
}

#[test]
fn long_term_keys_cannot_look_temporary_or_malformed() {
    let result = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("ASIAALICE0000000001", "secret"),
        )
        .build();
    assert_eq!(
        error_of(result),
        "user \"arn:aws:iam::111111111111:user/alice\": access key id \"ASIAALICE0000000001\" starts with ASIA, which marks temporary credentials"
    );
    // Inactive ones too.
    let result = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_inactive_access_key("ASIAOLD", "secret"),
        )
        .build();
    assert_eq!(
        error_of(result),
        "user \"arn:aws:iam::111111111111:user/alice\": access key id \"ASIAOLD\" starts with ASIA, which marks temporary credentials"
    );
    let long = "A".repeat(129);
    for id in ["AKIA-1", "AKIA 1", "", long.as_str()] {
        let result = IdentityStore::builder()
            .user(User::new(ALICE).unwrap().with_access_key(id, "secret"))
            .build();
        assert_eq!(
            error_of(result),
            format!("user \"arn:aws:iam::111111111111:user/alice\": access key id \"{id}\" must be 1 to 128 letters and digits"),
        );
    }
    // 128 is the limit.
    let max = "A".repeat(128);
    assert!(IdentityStore::builder()
        .user(User::new(ALICE).unwrap().with_access_key(max, "secret"))
        .build()
        .is_ok());
}

// ---------------------------------------------------------------------------------------------
// Unique ids, accounts, policies
// ---------------------------------------------------------------------------------------------

fn assert_unique_id(id: &str, prefix: &str) {
    assert_eq!(id.len(), 21, "{id}");
    assert!(id.starts_with(prefix), "{id}");
    assert!(
        id[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
        "{id}"
    );
}

#[test]
fn derived_unique_ids_are_stable_and_distinct() {
    let alice = User::new(ALICE).unwrap();
    assert_unique_id(alice.user_id(), "AIDA");
    assert_eq!(User::new(ALICE).unwrap().user_id(), alice.user_id());
    // Pinned: every replica (and every version of the crate) must derive the same id.
    assert_eq!(alice.user_id(), "AIDA524WNXFZRLB4YWBKR");
    let bob = User::new(BOB).unwrap();
    assert_unique_id(bob.user_id(), "AIDA");
    assert_ne!(bob.user_id(), alice.user_id());

    let invoker = Role::new(INVOKER, trust(ALICE)).unwrap();
    assert_unique_id(invoker.role_id(), "AROA");
    assert_eq!(
        Role::new(INVOKER, trust(BOB)).unwrap().role_id(),
        invoker.role_id(),
        "the id depends on the ARN only"
    );
    assert_eq!(invoker.role_id(), "AROA6WVR4EDQ4SRP5AGBF");
    let auditor = Role::new(AUDITOR, trust(ALICE)).unwrap();
    assert_unique_id(auditor.role_id(), "AROA");
    assert_ne!(auditor.role_id(), invoker.role_id());

    // A store keeps them, and an explicit id wins.
    let store = store();
    assert_eq!(store.user(ALICE).unwrap().user_id(), alice.user_id());
    assert_eq!(store.role(INVOKER).unwrap().role_id(), invoker.role_id());
    assert_eq!(
        User::new(ALICE)
            .unwrap()
            .with_user_id("AIDAEXPLICIT000000001")
            .user_id(),
        "AIDAEXPLICIT000000001"
    );
    assert_eq!(
        Role::new(INVOKER, trust(ALICE))
            .unwrap()
            .with_role_id("AROAEXPLICIT000000001")
            .role_id(),
        "AROAEXPLICIT000000001"
    );
}

#[test]
fn accounts_are_those_of_users_and_roles_sorted() {
    let store = store();
    assert_eq!(
        store.accounts().into_iter().collect::<Vec<_>>(),
        ["111111111111", "222222222222", "333333333333"]
    );
    assert!(IdentityStore::builder()
        .build()
        .unwrap()
        .accounts()
        .is_empty());
    assert_eq!(store.users().count(), 2);
    assert_eq!(store.roles().count(), 2);
    assert!(store.user(BOB).is_none());
    assert!(store.role(ALICE).is_none());
    assert!(store.user(INVOKER).is_none());
}

fn ids(policies: &[Policy]) -> Vec<&str> {
    policies.iter().map(|p| p.id().unwrap_or("-")).collect()
}

#[test]
fn identity_policies_of_users_and_roles() {
    let store = store();
    assert_eq!(ids(store.identity_policies(ALICE)), ["alice-1", "alice-2"]);
    assert_eq!(ids(store.identity_policies(INVOKER)), ["invoker-1"]);
    assert!(store.identity_policies(CAROL).is_empty());
    assert!(store.identity_policies(AUDITOR).is_empty());
    // A session ARN is not a principal ARN: sessions are looked up by their role ARN.
    assert!(store
        .identity_policies("arn:aws:sts::111111111111:assumed-role/Invoker/s1")
        .is_empty());
    assert!(store
        .identity_policies("arn:aws:iam::111111111111:user/nobody")
        .is_empty());
    assert_eq!(
        ids(&store.shared_identity_policies(ALICE).unwrap()),
        ["alice-1", "alice-2"]
    );
    assert!(store.shared_identity_policies(BOB).is_none());

    // Through the shared handle, as the IAM hook sees them.
    let shared = SharedStore::new(store);
    let policies = tower_sigv4::IdentityPolicies::identity_policies(&shared, INVOKER).unwrap();
    assert_eq!(ids(&policies), ["invoker-1"]);
}

// ---------------------------------------------------------------------------------------------
// Keys through a verifier
// ---------------------------------------------------------------------------------------------

fn signed(creds: &Credentials, at: SystemTime) -> Parts {
    let (mut parts, ()) = Request::get("http://api.local/items?x=1")
        .header("host", "api.local")
        .body(())
        .unwrap()
        .into_parts();
    Signer::new(creds.clone(), "us-east-1", "execute-api")
        .sign(&mut parts, SignablePayload::Bytes(b""), at)
        .unwrap();
    parts
}

async fn verify(keys: impl ProvideKey, creds: &Credentials) -> Result<Principal, Rejection> {
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap();
    verifier
        .verify(&signed(creds, t0()), b"", t0())
        .await
        .map(tower_sigv4::Verified::into_principal)
}

fn assert_invalid_token(result: Result<Principal, Rejection>) {
    let rejection = result.expect_err("should be rejected");
    assert_eq!(rejection.kind(), RejectionKind::InvalidToken);
    assert_eq!(rejection.status(), 403);
    assert_eq!(rejection.message(), INVALID_TOKEN);
}

#[tokio::test]
async fn an_active_key_resolves_to_its_user_with_tags() {
    let store = SharedStore::new(store());
    let alice_id = store.snapshot().user(ALICE).unwrap().user_id().to_owned();
    let principal = verify(
        store.clone(),
        &Credentials::new("AKIAALICE0000000001", ALICE_SECRET),
    )
    .await
    .unwrap();
    assert_eq!(principal.arn(), ALICE);
    assert_eq!(principal.principal_arn(), ALICE);
    assert_eq!(principal.account(), "111111111111");
    assert_eq!(principal.user_id(), alice_id);
    assert_eq!(principal.principal_type(), PrincipalType::User);
    assert_eq!(principal.username(), Some("alice"));
    assert_eq!(principal.access_key_id(), "AKIAALICE0000000001");
    assert!(principal.session().is_none());
    let tags: BTreeMap<String, String> = [("cost-center", "42"), ("team", "blue")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(principal.tags(), &tags);

    // Carol, in another account, has no tags.
    let carol = verify(
        store.clone(),
        &Credentials::new("AKIACAROL", "carol-secret"),
    )
    .await
    .unwrap();
    assert_eq!(carol.arn(), CAROL);
    assert_eq!(carol.account(), "222222222222");
    assert!(carol.tags().is_empty());

    // The immutable store is a key provider too.
    let principal = verify(
        store.snapshot(),
        &Credentials::new("AKIAALICE0000000001", ALICE_SECRET),
    )
    .await
    .unwrap();
    assert_eq!(principal.arn(), ALICE);
}

#[tokio::test]
async fn inactive_unknown_and_bare_temporary_keys_are_invalid() {
    let store = SharedStore::new(store());
    // Inactive, with its right secret.
    assert_invalid_token(
        verify(
            store.clone(),
            &Credentials::new("AKIAALICE0000000002", OLD_SECRET),
        )
        .await,
    );
    // Unknown.
    assert_invalid_token(verify(store.clone(), &Credentials::new("AKIANOBODY", "x")).await);
    // An ASIA key without a token, and with a token that does not open.
    assert_invalid_token(
        verify(
            store.clone(),
            &Credentials::new("ASIAAAAAAAAAAAAAAAAA", "x"),
        )
        .await,
    );
    assert_invalid_token(
        verify(
            store.clone(),
            &Credentials::new("ASIAAAAAAAAAAAAAAAAA", "x").with_session_token("bm90IGEgdG9rZW4="),
        )
        .await,
    );
    // A long-term key signing with the wrong secret is a mismatch, not a token fault.
    let rejection = verify(
        store.clone(),
        &Credentials::new("AKIAALICE0000000001", OLD_SECRET),
    )
    .await
    .unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::SignatureMismatch);

    // The key providers' own answers: the store knows long-term keys; the session keys around
    // it refuse an ASIA key without a token, and leave a token that is not theirs to the
    // store (an unknown key: the client reads the same "invalid token" text).
    let snapshot = store.snapshot();
    let sessions = SessionKeys::new(
        store.clone(),
        Arc::new(TokenKeyring::from_base64("k1", TOKEN_KEY).unwrap()),
    );
    let session_kind = |r: KeyRequest<'static>| {
        futures_lite_block_on(sessions.provide_key(r))
            .unwrap_err()
            .kind()
    };
    let request = |id: &'static str, token: Option<&'static str>| {
        KeyRequest::new(id, token, "20261123", "us-east-1", "execute-api", t0())
    };
    let kind = |r: Result<_, tower_sigv4::KeyError>| r.unwrap_err().kind();
    assert_eq!(
        kind(snapshot.resolve_key(&request("AKIAALICE0000000002", None))),
        KeyErrorKind::UnknownKey
    );
    assert_eq!(
        kind(snapshot.resolve_key(&request("AKIANOBODY", None))),
        KeyErrorKind::UnknownKey
    );
    assert_eq!(
        session_kind(request("ASIAAAAAAAAAAAAAAAAA", None)),
        KeyErrorKind::InvalidToken
    );
    assert_eq!(
        session_kind(request("ASIAAAAAAAAAAAAAAAAA", Some("bm90"))),
        KeyErrorKind::UnknownKey
    );
    assert_eq!(
        kind(snapshot.resolve_key(&request("ASIAAAAAAAAAAAAAAAAA", None))),
        KeyErrorKind::UnknownKey
    );
}

/// Polls a future that is ready at once (the providers here answer synchronously).
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[tokio::test]
async fn without_a_keyring_temporary_keys_are_unknown() {
    let store = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("AKIAALICE", ALICE_SECRET),
        )
        .build()
        .unwrap();
    let request = KeyRequest::new(
        "ASIAAAAAAAAAAAAAAAAA",
        Some("bm90IGEgdG9rZW4="),
        "20261123",
        "us-east-1",
        "execute-api",
        t0(),
    );
    assert_eq!(
        store.resolve_key(&request).unwrap_err().kind(),
        KeyErrorKind::UnknownKey
    );
    assert_invalid_token(
        verify(
            store,
            &Credentials::new("ASIAAAAAAAAAAAAAAAAA", "x").with_session_token("bm90IGEgdG9rZW4="),
        )
        .await,
    );
}

#[tokio::test]
async fn replace_swaps_the_store_for_new_requests_only() {
    let shared = SharedStore::new(store());
    let before = shared.snapshot();
    shared.replace(
        IdentityStore::builder()
            .user(
                User::new(BOB)
                    .unwrap()
                    .with_access_key("AKIABOB", "bob-secret"),
            )
            .build()
            .unwrap(),
    );
    let alice = Credentials::new("AKIAALICE0000000001", ALICE_SECRET);
    assert_invalid_token(verify(shared.clone(), &alice).await);
    assert_eq!(
        verify(shared.clone(), &Credentials::new("AKIABOB", "bob-secret"))
            .await
            .unwrap()
            .arn(),
        BOB
    );
    // A request that took its snapshot before keeps the old store.
    assert_eq!(verify(before, &alice).await.unwrap().arn(), ALICE);
    // Clones share the handle.
    let clone = shared.clone();
    clone.replace(store());
    assert_eq!(verify(shared, &alice).await.unwrap().arn(), ALICE);
}

// ---------------------------------------------------------------------------------------------
// Debug output
// ---------------------------------------------------------------------------------------------

fn assert_no_secret(debug: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!debug.contains(secret), "secret {secret:?} in {debug}");
    }
}

#[test]
fn debug_never_shows_a_secret() {
    let secrets = [ALICE_SECRET, OLD_SECRET, "carol-secret", TOKEN_KEY];
    let store = store();

    let alice = store.user(ALICE).unwrap();
    let debug = format!("{alice:?}");
    assert_no_secret(&debug, &secrets);
    assert!(debug.contains("SecretKey(***)"), "{debug}");
    assert!(debug.contains("AKIAALICE0000000001"), "{debug}");
    let debug = format!("{alice:#?}");
    assert_no_secret(&debug, &secrets);
    assert!(debug.contains("***"), "{debug}");

    let key = &alice.access_keys()[0];
    assert_eq!(key.id(), "AKIAALICE0000000001");
    assert!(key.is_active());
    assert!(!alice.access_keys()[1].is_active());
    assert_eq!(
        format!("{key:?}"),
        r#"AccessKey { id: "AKIAALICE0000000001", secret: SecretKey(***), active: true }"#
    );

    // The store and the shared handle show counts and the keyring's ids, nothing secret.
    let expected = r#"IdentityStore { users: 2, roles: 2, access_keys: 3 }"#;
    assert_eq!(format!("{store:?}"), expected);
    let debug = format!("{store:#?}");
    assert_no_secret(&debug, &secrets);
    let shared = SharedStore::new(store);
    assert_eq!(format!("{shared:?}"), format!("SharedStore({expected})"));
}
