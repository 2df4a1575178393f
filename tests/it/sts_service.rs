//! The STS service end to end (sans network): requests signed by the crate's signer for
//! service `sts`, every AssumeRole outcome with its exact code and message, temporary
//! credentials used against an API behind the IAM hook, and STS-shaped signature errors.
//! Session tags and source identity are in `sts_service/session_tags.rs`, times out of range
//! in `sts_service/time_limits.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use tower::{service_fn, Layer, ServiceExt};
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::store::{IdentityStore, Role, SharedStore, User};
use tower_sigv4::sts::{SessionKeys, StsService, TokenKeyring};
use tower_sigv4::verify::RequestBody;
use tower_sigv4::{
    Credentials, FixedClock, IamAuthorizer, Principal, SignablePayload, Signer, Verifier,
    VerifierConfig, VerifySigV4Layer,
};

// Areas with their own files, sharing this file's helpers (one test binary).
#[path = "sts_service/session_tags.rs"]
mod session_tags;
#[path = "sts_service/time_limits.rs"]
mod time_limits;

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const DAVE: &str = "arn:aws:iam::123456789012:user/dave";
const BOB: &str = "arn:aws:iam::098765432109:user/bob";
const CAROL: &str = "arn:aws:iam::098765432109:user/carol";
const INVOKER: &str = "arn:aws:iam::123456789012:role/Invoker";
const PARTNER: &str = "arn:aws:iam::123456789012:role/Partner";
const ACCOUNT_ONLY: &str = "arn:aws:iam::123456789012:role/AccountOnly";
const CHAINED: &str = "arn:aws:iam::123456789012:role/Chained";
const KEY_1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// 2026-11-23T12:00:00Z
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_435_200)
}

fn api() -> ApiContext {
    ApiContext::new("us-east-1", "123456789012", "apiid")
}

fn identity(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Identity, Some(&api())).unwrap()
}

fn trust(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Trust, None).unwrap()
}

fn allow(action: &str, resource: &str) -> Policy {
    identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
    ))
}

fn trusting(principal: &str, condition: &str) -> Policy {
    trust(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"{condition}}}]}}"#
    ))
}

fn store() -> SharedStore {
    let store = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("AKIAALICE", "alice-secret")
                .with_policy(allow("sts:AssumeRole", ACCOUNT_ONLY)),
        )
        .user(
            User::new(DAVE)
                .unwrap()
                .with_access_key("AKIADAVE", "dave-secret"),
        )
        .user(
            User::new(BOB)
                .unwrap()
                .with_access_key("AKIABOB", "bob-secret"),
        )
        .user(
            User::new(CAROL)
                .unwrap()
                .with_access_key("AKIACAROL", "carol-secret")
                .with_policy(allow("sts:AssumeRole", PARTNER)),
        )
        .role(
            Role::new(INVOKER, trusting(ALICE, ""))
                .unwrap()
                .with_policy(allow(
                    "execute-api:Invoke",
                    "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/*",
                ))
                .with_max_session(Duration::from_secs(7200))
                .unwrap()
                .with_tag("team", "red"),
        )
        .role(
            Role::new(
                PARTNER,
                trusting(
                    "arn:aws:iam::098765432109:root",
                    r#","Condition":{"StringEquals":{"sts:ExternalId":"ext-123"}}"#,
                ),
            )
            .unwrap()
            .with_policy(allow("execute-api:Invoke", "*")),
        )
        .role(Role::new(ACCOUNT_ONLY, trusting("123456789012", "")).unwrap())
        .role(
            Role::new(CHAINED, trusting(INVOKER, ""))
                .unwrap()
                .with_policy(allow("execute-api:Invoke", "*"))
                .with_max_session(Duration::from_secs(43200))
                .unwrap(),
        )
        .build()
        .unwrap();
    SharedStore::new(store)
}

/// The session-token keyring of every test here (the same key each time: a token minted by
/// one keyring opens with another built from it, as on another replica).
fn keyring() -> Arc<TokenKeyring> {
    Arc::new(TokenKeyring::from_base64("k1", KEY_1).unwrap())
}

/// Status, code and message of an STS error.
#[derive(Debug)]
struct StsFault(u16, String, String);

impl PartialEq<(u16, &str, &str)> for StsFault {
    fn eq(&self, other: &(u16, &str, &str)) -> bool {
        self.0 == other.0 && self.1 == other.1 && self.2 == other.2
    }
}

/// An STS reply: status, and the body.
struct Reply {
    status: StatusCode,
    body: String,
}

impl Reply {
    fn tag(&self, name: &str) -> String {
        self.raw_tag(name)
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    fn raw_tag(&self, name: &str) -> &str {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = self
            .body
            .find(&open)
            .unwrap_or_else(|| panic!("no <{name}> in {}", self.body))
            + open.len();
        let end = self.body[start..].find(&close).unwrap() + start;
        &self.body[start..end]
    }

    fn error(&self) -> StsFault {
        StsFault(self.status.as_u16(), self.tag("Code"), self.tag("Message"))
    }

    fn credentials(&self) -> Credentials {
        assert_eq!(self.status, 200, "{}", self.body);
        Credentials::new(self.tag("AccessKeyId"), self.tag("SecretAccessKey"))
            .with_session_token(self.raw_tag("SessionToken"))
    }
}

fn signed(creds: &Credentials, service: &str, body: &[u8], at: SystemTime) -> Request<Full<Bytes>> {
    let (mut parts, ()) = Request::post("http://sts.local/")
        .header("host", "sts.local")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(())
        .unwrap()
        .into_parts();
    Signer::new(creds.clone(), "us-east-1", service)
        .sign(&mut parts, SignablePayload::Bytes(body), at)
        .unwrap();
    Request::from_parts(parts, Full::new(Bytes::copy_from_slice(body)))
}

async fn call_sts(store: &SharedStore, request: Request<Full<Bytes>>, now: SystemTime) -> Reply {
    let sts = StsService::builder(store.clone(), keyring(), "us-east-1")
        .clock(FixedClock::new(now))
        .build()
        .unwrap();
    let res = sts.oneshot(request).await.unwrap();
    let status = res.status();
    assert_eq!(res.headers()["content-type"], "text/xml");
    let request_id = res.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_owned();
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        body.contains(&format!("<RequestId>{request_id}</RequestId>")),
        "{body}"
    );
    Reply { status, body }
}

async fn sts(creds: &Credentials, fields: &[(&str, &str)], now: SystemTime) -> Reply {
    sts_with(&store(), creds, fields, now).await
}

async fn sts_with(
    store: &SharedStore,
    creds: &Credentials,
    fields: &[(&str, &str)],
    now: SystemTime,
) -> Reply {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    let body = form.finish();
    call_sts(store, signed(creds, "sts", body.as_bytes(), now), now).await
}

fn assume(role: &str, session: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Action", "AssumeRole".to_owned()),
        ("Version", "2011-06-15".to_owned()),
        ("RoleArn", role.to_owned()),
        ("RoleSessionName", session.to_owned()),
    ]
}

async fn assume_role(creds: &Credentials, fields: &[(&'static str, String)]) -> Reply {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sts(creds, &fields, t0()).await
}

fn user(key: &str, secret: &str) -> Credentials {
    Credentials::new(key, secret)
}

fn alice() -> Credentials {
    user("AKIAALICE", "alice-secret")
}

/// GET `path` on the API (IAM hook over the store) with `creds`, at `now`.
async fn call_api(
    store: &SharedStore,
    creds: &Credentials,
    path: &str,
    now: SystemTime,
) -> (StatusCode, String) {
    call_api_as(store, creds, "GET", path, now).await
}

async fn call_api_as(
    store: &SharedStore,
    creds: &Credentials,
    method: &str,
    path: &str,
    now: SystemTime,
) -> (StatusCode, String) {
    let (mut parts, ()) = Request::builder()
        .method(method)
        .uri(format!("http://api.local{path}"))
        .header("host", "api.local")
        .body(())
        .unwrap()
        .into_parts();
    Signer::new(creds.clone(), "us-east-1", "execute-api")
        .sign(&mut parts, SignablePayload::Bytes(b""), now)
        .unwrap();
    let request = Request::from_parts(parts, Full::new(Bytes::new()));
    let verifier = Verifier::new(
        VerifierConfig::new("us-east-1", "execute-api"),
        SessionKeys::new(store.clone(), keyring()),
    )
    .unwrap();
    let hook = IamAuthorizer::new(api(), "prod").with_identity_source(store.clone());
    let service = VerifySigV4Layer::new(verifier)
        .with_clock(FixedClock::new(now))
        .with_policy(hook)
        .layer(service_fn(
            |req: Request<RequestBody<Full<Bytes>>>| async move {
                let p = req.extensions().get::<Principal>().unwrap();
                let body = format!("{} {} {}", p.arn(), p.principal_arn(), p.user_id());
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
            },
        ));
    let res = service.oneshot(request).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn get_caller_identity_of_a_user() {
    let reply = sts(
        &alice(),
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        t0(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.tag("Arn"), ALICE);
    assert_eq!(reply.tag("Account"), "123456789012");
    let store = store().snapshot();
    assert_eq!(reply.tag("UserId"), store.user(ALICE).unwrap().user_id());
    assert!(reply.body.starts_with(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
}

#[tokio::test]
async fn assume_role_then_call_the_api_as_the_session() {
    let reply = assume_role(&alice(), &assume(INVOKER, "alice-session")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.tag("Arn"),
        "arn:aws:sts::123456789012:assumed-role/Invoker/alice-session"
    );
    let role_id = store()
        .snapshot()
        .role(INVOKER)
        .unwrap()
        .role_id()
        .to_owned();
    assert_eq!(
        reply.tag("AssumedRoleId"),
        format!("{role_id}:alice-session")
    );
    assert_eq!(reply.tag("Expiration"), "2026-11-23T13:00:00Z");
    assert!(!reply.body.contains("PackedPolicySize"));
    let creds = reply.credentials();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(creds.access_key_id().len(), 20);
    assert_eq!(reply.tag("SecretAccessKey").len(), 40);

    // The session acts as the assumed-role ARN with the role's policies.
    let store = store();
    let (status, body) = call_api(&store, &creds, "/items/1", t0()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!("arn:aws:sts::123456789012:assumed-role/Invoker/alice-session {INVOKER} {role_id}:alice-session")
    );
    // The role allows GET only.
    let (status, body) = call_api_as(&store, &creds, "POST", "/items", t0()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:sts::123456789012:assumed-role/Invoker/alice-session is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/POST/items"}"#
    );

    // GetCallerIdentity with the temporary credentials.
    let who = sts(
        &creds,
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        t0() + Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        who.tag("Arn"),
        "arn:aws:sts::123456789012:assumed-role/Invoker/alice-session"
    );
    assert_eq!(who.tag("UserId"), format!("{role_id}:alice-session"));
}

#[tokio::test]
async fn session_policy_can_only_narrow() {
    let mut fields = assume(INVOKER, "narrow");
    fields.push((
        "Policy",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/public/*"}]}"#.to_owned(),
    ));
    let reply = assume_role(&alice(), &fields).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<PackedPolicySize>"));
    let creds = reply.credentials();
    let store = store();
    assert_eq!(call_api(&store, &creds, "/public/a", t0()).await.0, 200);
    let (status, body) = call_api(&store, &creds, "/private/a", t0()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:sts::123456789012:assumed-role/Invoker/narrow is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/private/a"}"#
    );
}

#[tokio::test]
async fn expired_and_tampered_tokens() {
    let creds = assume_role(&alice(), &assume(INVOKER, "s1"))
        .await
        .credentials();
    let store = store();
    // Expired: one hour later (the default duration), on the API and on STS.
    let later = t0() + Duration::from_secs(3600);
    let (status, body) = call_api(&store, &creds, "/x", later).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"message":"The security token included in the request is expired"}"#
    );
    let reply = sts(
        &creds,
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        later,
    )
    .await;
    assert_eq!(
        reply.error(),
        (
            403,
            "ExpiredToken",
            "The security token included in the request is expired"
        )
    );
    assert!(reply.body.contains("<Type>Sender</Type>"));

    // Tampered: one character of the token changed.
    let token = {
        let reply = assume_role(&alice(), &assume(INVOKER, "s1")).await;
        reply.tag("SessionToken").to_owned()
    };
    let mut chars: Vec<char> = token.chars().collect();
    chars[40] = if chars[40] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let forged = Credentials::new(creds.access_key_id(), "whatever").with_session_token(tampered);
    let reply = sts(
        &forged,
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        t0(),
    )
    .await;
    assert_eq!(
        reply.error(),
        (
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid."
        )
    );
    // An ASIA key without its token.
    let bare = Credentials::new(creds.access_key_id(), "whatever");
    let reply = sts(
        &bare,
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        t0(),
    )
    .await;
    assert_eq!(reply.error().1, "InvalidClientTokenId");
}

const DENIED_INVOKER_DAVE: &str = "User: arn:aws:iam::123456789012:user/dave is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Invoker";

#[tokio::test]
async fn trust_policy_denial_and_unknown_role_answer_alike() {
    let dave = user("AKIADAVE", "dave-secret");
    let reply = assume_role(&dave, &assume(INVOKER, "s1")).await;
    assert_eq!(reply.error(), (403, "AccessDenied", DENIED_INVOKER_DAVE));
    let reply = assume_role(&dave, &assume("arn:aws:iam::123456789012:role/Nope", "s1")).await;
    assert_eq!(
        reply.error(),
        (
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/dave is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Nope"
        )
    );
}

#[tokio::test]
async fn account_trust_needs_an_identity_allow() {
    // alice has an identity Allow for AccountOnly; dave has none.
    let reply = assume_role(&alice(), &assume(ACCOUNT_ONLY, "s1")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = assume_role(
        &user("AKIADAVE", "dave-secret"),
        &assume(ACCOUNT_ONLY, "s1"),
    )
    .await;
    assert_eq!(
        reply.error(),
        (
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/dave is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/AccountOnly"
        )
    );
}

#[tokio::test]
async fn cross_account_needs_both_policies_and_the_external_id() {
    let mut with_id = assume(PARTNER, "partner");
    with_id.push(("ExternalId", "ext-123".to_owned()));
    // carol: trust (account root) + identity Allow + ExternalId → allowed.
    let reply = assume_role(&user("AKIACAROL", "carol-secret"), &with_id).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.tag("Arn"),
        "arn:aws:sts::123456789012:assumed-role/Partner/partner"
    );
    let creds = reply.credentials();
    let (status, body) = call_api(&store(), &creds, "/anything", t0()).await;
    assert_eq!(status, 200, "{body}");

    // bob: trusted account, but no identity Allow → denied.
    let reply = assume_role(&user("AKIABOB", "bob-secret"), &with_id).await;
    assert_eq!(
        reply.error(),
        (
            403,
            "AccessDenied",
            "User: arn:aws:iam::098765432109:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Partner"
        )
    );
    // carol without or with a wrong ExternalId → denied.
    for external in [None, Some("ext-999")] {
        let mut fields = assume(PARTNER, "partner");
        if let Some(e) = external {
            fields.push(("ExternalId", e.to_owned()));
        }
        let reply = assume_role(&user("AKIACAROL", "carol-secret"), &fields).await;
        assert_eq!(
            reply.error(),
            (
                403,
                "AccessDenied",
                "User: arn:aws:iam::098765432109:user/carol is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Partner"
            ),
            "{external:?}"
        );
    }
}

#[tokio::test]
async fn duration_checks_in_order() {
    let with = |d: &str| {
        let mut f = assume(INVOKER, "s1");
        f.push(("DurationSeconds", d.to_owned()));
        f
    };
    let reply = assume_role(&alice(), &with("899")).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )
    );
    let reply = assume_role(&alice(), &with("43201")).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"
        )
    );
    // The Invoker role allows two hours.
    let reply = assume_role(&alice(), &with("7201")).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    );
    let reply = assume_role(&alice(), &with("7200")).await;
    assert_eq!(reply.tag("Expiration"), "2026-11-23T14:00:00Z");
    let reply = assume_role(&alice(), &with("1h")).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "MalformedInput",
            "Invalid value for parameter DurationSeconds: '1h' is not an integer"
        )
    );
}

#[tokio::test]
async fn role_chaining_is_capped_at_one_hour() {
    let session = assume_role(&alice(), &assume(INVOKER, "first"))
        .await
        .credentials();
    let mut fields = assume(CHAINED, "second");
    fields.push(("DurationSeconds", "3601".to_owned()));
    let reply = assume_role(&session, &fields).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    );
    let reply = assume_role(&session, &assume(CHAINED, "second")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.tag("Arn"),
        "arn:aws:sts::123456789012:assumed-role/Chained/second"
    );
}

#[tokio::test]
async fn session_name_and_role_arn_validation() {
    let reply = assume_role(&alice(), &assume(INVOKER, "bad name!")).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            r"1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        )
    );
    let reply = assume_role(&alice(), &assume(INVOKER, "x")).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"
        )
    );
    let reply = assume_role(&alice(), &assume("not-an-arn-but-long-enough", "s1")).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            "not-an-arn-but-long-enough is invalid"
        )
    );
    let reply = sts(
        &alice(),
        &[("Action", "AssumeRole"), ("Version", "2011-06-15")],
        t0(),
    )
    .await;
    assert_eq!(reply.error().1, "ValidationError");
    assert!(
        reply.error().2.contains(
            "Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
        ),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn malformed_session_policy_and_managed_policies() {
    let mut fields = assume(INVOKER, "s1");
    fields.push(("Policy", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#.to_owned()));
    let reply = assume_role(&alice(), &fields).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "MalformedPolicyDocument",
            r#"Statement[0].Condition: unknown operator "StringEqualz""#
        )
    );
    let mut fields = assume(INVOKER, "s1");
    fields.push((
        "PolicyArns.member.1.arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned(),
    ));
    let reply = assume_role(&alice(), &fields).await;
    assert_eq!(
        reply.error(),
        (
            400,
            "ValidationError",
            "PolicyArns are not supported by this server: managed session policies cannot be applied"
        )
    );
}

#[tokio::test]
async fn unknown_action_and_version() {
    let reply = sts(
        &alice(),
        &[("Action", "GetSessionToken"), ("Version", "2011-06-15")],
        t0(),
    )
    .await;
    assert_eq!(
        reply.error(),
        (
            400,
            "InvalidAction",
            "Could not find operation GetSessionToken for version 2011-06-15"
        )
    );
    let reply = sts(&alice(), &[("Action", "GetCallerIdentity")], t0()).await;
    assert_eq!(
        reply.error().2,
        "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED"
    );
}

#[tokio::test]
async fn signature_faults_are_sts_xml() {
    let fields = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];
    // Wrong secret.
    let reply = sts(&user("AKIAALICE", "wrong"), &fields, t0()).await;
    assert_eq!(
        reply.error(),
        (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        )
    );
    // Unknown key.
    let reply = sts(&user("AKIANOBODY", "x"), &fields, t0()).await;
    assert_eq!(
        reply.error(),
        (
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid."
        )
    );
    // Signed for execute-api instead of sts.
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let reply = call_sts(&store(), signed(&alice(), "execute-api", body, t0()), t0()).await;
    assert_eq!(
        reply.error(),
        (
            403,
            "SignatureDoesNotMatch",
            "Credential should be scoped to correct service: 'sts'. "
        )
    );
    // STS's window is 15 minutes: 14 minutes of skew pass, 16 do not.
    let request = signed(&alice(), "sts", body, t0() - Duration::from_secs(14 * 60));
    assert_eq!(call_sts(&store(), request, t0()).await.status, 200);
    let request = signed(&alice(), "sts", body, t0() - Duration::from_secs(16 * 60));
    let reply = call_sts(&store(), request, t0()).await;
    assert_eq!(
        reply.error(),
        (
            403,
            "SignatureDoesNotMatch",
            "Signature expired: 20261123T114400Z is now earlier than 20261123T114500Z (20261123T120000Z - 15 min.)"
        )
    );
    // No signature at all.
    let request = Request::post("http://sts.local/")
        .header("host", "sts.local")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    let reply = call_sts(&store(), request, t0()).await;
    assert_eq!(
        reply.error(),
        (
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token"
        )
    );
}

#[tokio::test]
async fn without_session_keys_temporary_credentials_are_invalid() {
    // STS off on the API side: a verifier over the store alone (no keyring) refuses the
    // temporary credentials an STS elsewhere issued, as an invalid token.
    let store = store();
    let creds = assume_role(&alice(), &assume(INVOKER, "s1"))
        .await
        .credentials();
    let verifier = Verifier::new(
        VerifierConfig::new("us-east-1", "execute-api"),
        store.clone(),
    )
    .unwrap();
    let (mut parts, ()) = Request::get("http://api.local/items")
        .header("host", "api.local")
        .body(())
        .unwrap()
        .into_parts();
    Signer::new(creds.clone(), "us-east-1", "execute-api")
        .sign(&mut parts, SignablePayload::Bytes(b""), t0())
        .unwrap();
    let rejection = verifier.verify(&parts, b"", t0()).await.unwrap_err();
    assert_eq!(
        rejection.message(),
        "The security token included in the request is invalid."
    );
    // With the keyring, the same credentials work.
    let (status, _) = call_api(&store, &creds, "/items", t0()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn session_tags_override_role_tags() {
    // Passing tags needs sts:TagSession: Tagged's trust policy allows it (Invoker's does not,
    // see session_tags.rs). Tagged carries the role tag team=red.
    let store = session_tags::tag_store();
    let reply = session_tags::assume_in(
        &store,
        &alice(),
        session_tags::TAGGED,
        &[
            ("Tags.member.1.Key", "project"),
            ("Tags.member.1.Value", "apollo"),
        ],
    )
    .await;
    let principal = session_tags::principal_of(&store, &reply);
    assert_eq!(
        principal.tags().get("team").map(String::as_str),
        Some("red")
    );
    assert_eq!(
        principal.tags().get("project").map(String::as_str),
        Some("apollo")
    );
}

#[tokio::test]
async fn form_body_with_get_query_works_too() {
    let (mut parts, ()) =
        Request::get("http://sts.local/?Action=GetCallerIdentity&Version=2011-06-15")
            .header("host", "sts.local")
            .body(())
            .unwrap()
            .into_parts();
    Signer::new(alice(), "us-east-1", "sts")
        .sign(&mut parts, SignablePayload::Bytes(b""), t0())
        .unwrap();
    let reply = call_sts(
        &store(),
        Request::from_parts(parts, Full::new(Bytes::new())),
        t0(),
    )
    .await;
    assert_eq!(reply.tag("Arn"), ALICE);
}
