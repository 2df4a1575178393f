//! boto3 against the self-hosted STS and an API behind the IAM hook, both on loopback:
//! GetCallerIdentity, AssumeRole (same account and cross-account), the temporary credentials
//! used on the API with botocore's `SigV4Auth`, and STS errors as boto3 parses them.
//!
//! Needs Python with boto3 in `.venv` (`python3 -m venv .venv && .venv/bin/pip install -r
//! tests/interop/requirements.txt`, which `.ci/run` does), or the interpreter named by
//! `TOWER_SIGV4_PYTHON`. A missing interpreter or boto3 fails the test; nothing is skipped.
#![cfg(feature = "axum")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use axum::Router;
use http::header::CONTENT_TYPE;
use serde_json::{json, Value};
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::store::{IdentityStore, Role, SharedStore, User};
use tower_sigv4::sts::{SessionKeys, StsService, TokenKeyring};
use tower_sigv4::{IamAuthorizer, Principal, Verifier, VerifierConfig, VerifySigV4Layer};

const ALICE: &str = "arn:aws:iam::111111111111:user/alice";
const CAROL: &str = "arn:aws:iam::222222222222:user/carol";
const BOB: &str = "arn:aws:iam::222222222222:user/bob";
const INVOKER: &str = "arn:aws:iam::111111111111:role/Invoker";
const PARTNER: &str = "arn:aws:iam::111111111111:role/Partner";
const MISSING_ROLE: &str = "arn:aws:iam::111111111111:role/Missing";

/// Secrets with `/` and `+`, which clients must not mangle.
const ALICE_KEY: (&str, &str) = (
    "AKIAALICE0000000001",
    "alice/Secret+Key/0123456789abcdefghijkl",
);
const CAROL_KEY: (&str, &str) = (
    "AKIACAROL0000000001",
    "carol/Secret+Key/0123456789abcdefghijkl",
);
const BOB_KEY: (&str, &str) = (
    "AKIABOB00000000001",
    "bob/Secret+Key/0123456789abcdefghijklmn",
);

fn policy(json: &str, kind: PolicyKind) -> Policy {
    Policy::parse(json, kind, None).unwrap()
}

fn allow(action: &str, resource: &str) -> Policy {
    policy(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
        ),
        PolicyKind::Identity,
    )
}

fn trusting(principal: &str) -> Policy {
    policy(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        PolicyKind::Trust,
    )
}

/// Account 111111111111 owns the API and the roles; 222222222222 holds carol and bob.
fn store() -> SharedStore {
    let store = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key(ALICE_KEY.0, ALICE_KEY.1),
        )
        .user(
            User::new(CAROL)
                .unwrap()
                .with_access_key(CAROL_KEY.0, CAROL_KEY.1)
                .with_policy(allow("sts:AssumeRole", PARTNER)),
        )
        .user(
            User::new(BOB)
                .unwrap()
                .with_access_key(BOB_KEY.0, BOB_KEY.1),
        )
        .role(
            Role::new(INVOKER, trusting(ALICE))
                .unwrap()
                .with_policy(allow(
                    "execute-api:Invoke",
                    "arn:aws:execute-api:us-east-1:111111111111:apiid/prod/GET/*",
                )),
        )
        .role(
            Role::new(PARTNER, trusting("arn:aws:iam::222222222222:root"))
                .unwrap()
                .with_policy(allow(
                    "execute-api:Invoke",
                    "arn:aws:execute-api:us-east-1:111111111111:apiid/prod/GET/reports",
                )),
        )
        .build()
        .unwrap();
    SharedStore::new(store)
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The STS endpoint and the API, on two loopback ports, over one store.
async fn servers(store: &SharedStore) -> (SocketAddr, SocketAddr) {
    let keyring = Arc::new(TokenKeyring::generate_random("k1").unwrap());
    let sts = StsService::builder(store.clone(), keyring.clone(), "us-east-1")
        .build()
        .unwrap();
    let sts_addr = serve(Router::new().route_service("/", sts)).await;

    let verifier = Verifier::new(
        VerifierConfig::new("us-east-1", "execute-api"),
        SessionKeys::new(store.clone(), keyring),
    )
    .unwrap();
    let hook = IamAuthorizer::new(
        ApiContext::new("us-east-1", "111111111111", "apiid"),
        "prod",
    )
    .with_identity_source(store.clone());
    let api = Router::new()
        .fallback(|p: Principal| async move {
            let body = json!({
                "arn": p.arn(),
                "principal_arn": p.principal_arn(),
                "user_id": p.user_id(),
                "account": p.account(),
            });
            ([(CONTENT_TYPE, "application/json")], body.to_string())
        })
        .layer(VerifySigV4Layer::new(verifier).with_policy(hook));
    (sts_addr, serve(api).await)
}

/// The interpreter: `TOWER_SIGV4_PYTHON`, else the project's `.venv`. Never a silent skip.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TOWER_SIGV4_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: create it with `python3 -m venv .venv && .venv/bin/pip install -r tests/interop/requirements.txt` (.ci/run does), or set TOWER_SIGV4_PYTHON",
        venv.display()
    );
    venv
}

/// Runs `python` with a clean environment: no AWS profile, endpoint or proxy of the host
/// machine may leak in.
fn run_python(args: &[&str]) -> Output {
    let python = python();
    Command::new(&python)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("LANG", "C.UTF-8")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()))
}

fn require_boto3() {
    let out = run_python(&["-c", "import boto3, botocore; print(boto3.__version__)"]);
    assert!(
        out.status.success(),
        "boto3 is not importable by {} (install it: .venv/bin/pip install -r tests/interop/requirements.txt):\n{}",
        python().display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_assumes_roles_and_calls_the_api() {
    require_boto3();
    let store = store();
    let (sts, api) = servers(&store).await;
    let config = json!({
        "sts": format!("http://{sts}"),
        "api": format!("http://{api}"),
        "invoker": INVOKER,
        "partner": PARTNER,
        "missing_role": MISSING_ROLE,
        "alice": [ALICE_KEY.0, ALICE_KEY.1],
        "carol": [CAROL_KEY.0, CAROL_KEY.1],
        "bob": [BOB_KEY.0, BOB_KEY.1],
    })
    .to_string();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/boto3_sts.py");
    let script = script.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || run_python(&[&script, &config]))
        .await
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "boto3_sts.py failed:\n{}\n--- stdout so far:\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: BTreeMap<String, Value> = stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            (v["step"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    assert_eq!(
        steps.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "alice_identity",
            "api_get_as_alice",
            "api_get_as_partner",
            "api_get_as_session",
            "api_post_as_session",
            "assume_invoker",
            "assume_missing_role",
            "assume_partner_bob",
            "assume_partner_carol",
            "bad_session_name",
            "forged_token",
            "session_identity",
            "wrong_secret",
        ]
    );
    let snapshot = store.snapshot();
    let alice_id = snapshot.user(ALICE).unwrap().user_id().to_owned();
    let invoker_id = snapshot.role(INVOKER).unwrap().role_id().to_owned();
    let partner_id = snapshot.role(PARTNER).unwrap().role_id().to_owned();
    let session_arn = "arn:aws:sts::111111111111:assumed-role/Invoker/boto3-alice";

    assert_eq!(
        steps["alice_identity"],
        json!({"step": "alice_identity", "arn": ALICE, "account": "111111111111", "user_id": alice_id})
    );

    let assumed = &steps["assume_invoker"];
    assert_eq!(assumed["arn"], session_arn);
    assert_eq!(
        assumed["assumed_role_id"],
        format!("{invoker_id}:boto3-alice")
    );
    assert_eq!(assumed["access_key_id_prefix"], "ASIA");
    assert_eq!(assumed["access_key_id_len"], 20);
    assert_eq!(assumed["secret_len"], 40);
    assert!(assumed["token_len"].as_u64().unwrap() >= 100, "{assumed}");
    assert_eq!(assumed["packed_policy_size"], Value::Null);
    // DurationSeconds=900, give or take the round trip and whole-second rounding.
    let expires_in = assumed["expires_in"].as_i64().unwrap();
    assert!((890..=901).contains(&expires_in), "{assumed}");

    assert_eq!(
        steps["session_identity"],
        json!({
            "step": "session_identity",
            "arn": session_arn,
            "account": "111111111111",
            "user_id": format!("{invoker_id}:boto3-alice"),
        })
    );

    assert_eq!(
        steps["api_get_as_session"],
        json!({
            "step": "api_get_as_session",
            "status": 200,
            "body": {
                "arn": session_arn,
                "principal_arn": INVOKER,
                "user_id": format!("{invoker_id}:boto3-alice"),
                "account": "111111111111",
            },
        })
    );
    assert_eq!(
        steps["api_post_as_session"],
        json!({
            "step": "api_post_as_session",
            "status": 403,
            "body": {"Message": "User: arn:aws:sts::111111111111:assumed-role/Invoker/boto3-alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:apiid/prod/POST/items"},
        })
    );
    assert_eq!(
        steps["api_get_as_alice"],
        json!({
            "step": "api_get_as_alice",
            "status": 403,
            "body": {"Message": "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:apiid/prod/GET/items/1"},
        })
    );

    // Cross-account.
    assert_eq!(
        steps["assume_partner_carol"],
        json!({
            "step": "assume_partner_carol",
            "arn": "arn:aws:sts::111111111111:assumed-role/Partner/carol-session",
            "assumed_role_id": format!("{partner_id}:carol-session"),
        })
    );
    assert_eq!(
        steps["api_get_as_partner"],
        json!({
            "step": "api_get_as_partner",
            "status": 200,
            "body": {
                "arn": "arn:aws:sts::111111111111:assumed-role/Partner/carol-session",
                "principal_arn": PARTNER,
                "user_id": format!("{partner_id}:carol-session"),
                "account": "111111111111",
            },
        })
    );
    assert_eq!(
        steps["assume_partner_bob"],
        json!({
            "step": "assume_partner_bob",
            "code": "AccessDenied",
            "message": "User: arn:aws:iam::222222222222:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Partner",
            "type": "Sender",
            "status": 403,
        })
    );
    assert_eq!(
        steps["assume_missing_role"],
        json!({
            "step": "assume_missing_role",
            "code": "AccessDenied",
            "message": "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Missing",
            "type": "Sender",
            "status": 403,
        })
    );
    assert_eq!(
        steps["bad_session_name"],
        json!({
            "step": "bad_session_name",
            "code": "ValidationError",
            "message": r"1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
            "type": "Sender",
            "status": 400,
        })
    );
    assert_eq!(
        steps["forged_token"],
        json!({
            "step": "forged_token",
            "code": "InvalidClientTokenId",
            "message": "The security token included in the request is invalid.",
            "type": "Sender",
            "status": 403,
        })
    );
    assert_eq!(
        steps["wrong_secret"],
        json!({
            "step": "wrong_secret",
            "code": "SignatureDoesNotMatch",
            "message": "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            "type": "Sender",
            "status": 403,
        })
    );
}
