//! The IAM engine through the tower layer: the seed scenario of API Gateway's `AWS_IAM`
//! authorization, row by row, with the exact status and message; then a real axum app on
//! loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use support::*;
use tower::{service_fn, Layer, ServiceExt};
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::verify::RequestBody;
use tower_sigv4::{
    FixedClock, IamAuthorizer, Principal, SessionInfo, StaticKeys, Verifier, VerifierConfig,
    VerifySigV4Layer,
};

const P: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"]}]}"#;
const NOT_EXE: &str = "arn:aws:iam::123456789012:user/api-not-exe";
const NONVALID: &str = "arn:aws:iam::123456789012:user/api-exe-nonvalid";
const VALID: &str = "arn:aws:iam::098765432109:user/api-exe-valid";
const ROLE_R: &str = "arn:aws:iam::123456789012:role/R";
const ROLE_OTHER: &str = "arn:aws:iam::123456789012:role/Other";

fn api() -> ApiContext {
    ApiContext::new("us-east-1", "123456789012", "apiid")
}

fn keys() -> StaticKeys {
    let t = vector_now();
    let session = |role: &str, id: &str| {
        Principal::assumed_role(SessionInfo::new(
            role,
            id,
            "s1",
            t,
            t + Duration::from_secs(3600),
        ))
    };
    StaticKeys::new()
        .with_key("AKIANOTEXE", SECRET, Principal::user(NOT_EXE, "AIDANOTEXE"))
        .with_key(
            "AKIANONVALID",
            SECRET,
            Principal::user(NONVALID, "AIDANONVALID"),
        )
        .with_key("AKIAVALID", SECRET, Principal::user(VALID, "AIDAVALID"))
        .with_session_key(
            "ASIAROLER",
            SECRET,
            "tok-r",
            session(ROLE_R, "AROAROLER"),
            t + Duration::from_secs(3600),
        )
        .with_session_key(
            "ASIAOTHER",
            SECRET,
            "tok-o",
            session(ROLE_OTHER, "AROAOTHER"),
            t + Duration::from_secs(3600),
        )
}

fn identity(p: &str) -> Vec<Policy> {
    vec![Policy::parse(p, PolicyKind::Identity, Some(&api())).unwrap()]
}

fn resource(p: &str) -> Policy {
    Policy::parse(p, PolicyKind::Resource, Some(&api())).unwrap()
}

async fn get_root(hook: IamAuthorizer, akid: &str, token: Option<&str>) -> (StatusCode, String) {
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys()).unwrap();
    let mut req = header_get("api.example.com", "/", akid);
    if let Some(t) = token {
        req.headers_mut()
            .insert("x-amz-security-token", t.parse().unwrap());
    }
    let req = sign(&verifier, req, b"", SECRET, vector_now()).map(|()| Empty::<Bytes>::new());
    let svc = VerifySigV4Layer::new(verifier)
        .with_clock(FixedClock::new(vector_now()))
        .with_policy(hook)
        .layer(service_fn(
            |req: Request<RequestBody<Empty<Bytes>>>| async move {
                let p = req
                    .extensions()
                    .get::<Principal>()
                    .unwrap()
                    .arn()
                    .to_owned();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(p))))
            },
        ));
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status();
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    if status == StatusCode::FORBIDDEN {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        return (status, v["Message"].as_str().unwrap().to_owned());
    }
    (status, body)
}

fn base() -> IamAuthorizer {
    IamAuthorizer::new(api(), "prod")
}

const ALLOW_VALID: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}"#;
const ALLOW_VALID_DENY_OTHERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}"#;

#[tokio::test]
async fn seed_no_policy_same_account_is_denied() {
    let (s, m) = get_root(base(), "AKIANOTEXE", None).await;
    assert_eq!(s, 403);
    assert_eq!(m, "User: arn:aws:iam::123456789012:user/api-not-exe is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/");
}

#[tokio::test]
async fn seed_identity_allow_same_account() {
    let hook = base().with_identity_policies(NONVALID, identity(P));
    assert_eq!(
        get_root(hook, "AKIANONVALID", None).await,
        (StatusCode::OK, NONVALID.to_owned())
    );
}

#[tokio::test]
async fn seed_cross_account_without_resource_policy() {
    let hook = base().with_identity_policies(VALID, identity(P));
    let (s, m) = get_root(hook, "AKIAVALID", None).await;
    assert_eq!(s, 403);
    assert_eq!(m, "User: arn:aws:iam::098765432109:user/api-exe-valid is not authorized to access this resource");
}

#[tokio::test]
async fn seed_cross_account_with_resource_allow() {
    let hook = base()
        .with_identity_policies(VALID, identity(P))
        .with_resource_policy(resource(ALLOW_VALID));
    assert_eq!(get_root(hook, "AKIAVALID", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn seed_same_account_identity_allow_suffices() {
    let hook = base()
        .with_identity_policies(NONVALID, identity(P))
        .with_resource_policy(resource(ALLOW_VALID));
    assert_eq!(get_root(hook, "AKIANONVALID", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn seed_not_principal_deny() {
    let hook = || {
        base()
            .with_identity_policies(NONVALID, identity(P))
            .with_identity_policies(VALID, identity(P))
            .with_resource_policy(resource(ALLOW_VALID_DENY_OTHERS))
    };
    let (s, m) = get_root(hook(), "AKIANONVALID", None).await;
    assert_eq!(s, 403);
    assert_eq!(m, "User: arn:aws:iam::123456789012:user/api-exe-nonvalid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ with an explicit deny");
    assert_eq!(get_root(hook(), "AKIAVALID", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn seed_deny_unless_principal_arn_is_role_r() {
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
        {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
         "Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/R"}}}]}"#;
    let hook = || {
        base()
            .with_identity_policies(NONVALID, identity(P))
            .with_resource_policy(resource(policy))
    };
    let (s, m) = get_root(hook(), "AKIANONVALID", None).await;
    assert_eq!(s, 403);
    assert!(m.ends_with(" with an explicit deny"), "{m}");
    let (s, m) = get_root(hook(), "ASIAOTHER", Some("tok-o")).await;
    assert_eq!(s, 403);
    assert_eq!(m, "User: arn:aws:sts::123456789012:assumed-role/Other/s1 is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ with an explicit deny");
    assert_eq!(
        get_root(hook(), "ASIAROLER", Some("tok-r")).await,
        (
            StatusCode::OK,
            "arn:aws:sts::123456789012:assumed-role/R/s1".to_owned()
        )
    );
}

#[tokio::test]
async fn dot_segments_and_escapes_cannot_dodge_a_deny() {
    let deny_admin = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
        {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/admin"}]}"#;
    let hook = base().with_resource_policy(resource(deny_admin));
    assert_eq!(
        hook.resource_arn(&http::Method::GET, "/x/../%61dmin"),
        "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/admin"
    );
    assert_eq!(
        hook.resource_arn(&http::Method::GET, "/"),
        "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"
    );
}

#[tokio::test]
async fn real_axum_app_on_loopback() {
    use axum::routing::get;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys()).unwrap();
    let hook = base().with_identity_policies(NONVALID, identity(P));
    let app = axum::Router::new()
        .route("/", get(|p: Principal| async move { p.arn().to_owned() }))
        .layer(
            VerifySigV4Layer::new(verifier.clone())
                .with_clock(FixedClock::new(vector_now()))
                .with_policy(hook),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();

    for (akid, status, body) in [
        ("AKIANONVALID", 200, NONVALID.to_owned()),
        ("AKIANOTEXE", 403, r#"{"Message":"User: arn:aws:iam::123456789012:user/api-not-exe is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/"}"#.to_owned()),
    ] {
        let req = sign(&verifier, header_get(&host, "/", akid), b"", SECRET, vector_now());
        let res = client.request(req.map(|()| Empty::new())).await.unwrap();
        assert_eq!(res.status(), status);
        if status == 403 {
            assert_eq!(res.headers()["x-amzn-ErrorType"], "AccessDeniedException");
        }
        let got = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(got, body);
    }
    server.abort();
}
