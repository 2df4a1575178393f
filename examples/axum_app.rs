//! An axum app behind `VerifySigV4Layer`, authorized like API Gateway's `AWS_IAM`.
//!
//! Shows:
//! * the layer in front of a whole `Router`, with demo keys from `StaticKeys`;
//! * the `Principal` extractor in handlers;
//! * an `IamAuthorizer` hook with two small identity policies — alice may `GET` anything and
//!   `POST /echo`, but only from loopback (`aws:SourceIp`); bob may only `GET`;
//! * `ConnectionInfo` inserted from axum's `ConnectInfo`, which is what gives the policy its
//!   `aws:SourceIp`. Without it, alice's condition could never match and she would be denied.
//!
//! Run it, then paste one of the `curl --aws-sigv4 …` lines it prints:
//!
//! ```text
//! cargo run --example axum_app
//! ```
//!
//! It serves on 127.0.0.1:3000 until Ctrl-C. With `--smoke` it binds a free port instead,
//! sends signed (and unsigned) requests to itself, checks every answer, and exits (non-zero on
//! the first wrong answer):
//!
//! ```text
//! cargo run --example axum_app -- --smoke
//! ```

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::map_request;
use axum::routing::{get, post};
use axum::Router;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::{
    ConnectionInfo, IamAuthorizer, Principal, StaticKeys, Verifier, VerifierConfig,
    VerifySigV4Layer,
};

#[path = "support/smoke.rs"]
mod smoke;

use smoke::{check, signing_client, BoxError};

const ADDR: &str = "127.0.0.1:3000";
const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

// Demo credentials, printed on purpose so that they can be pasted into curl. Never print
// real ones.
const ALICE_KEY: &str = "AKIDALICEEXAMPLE";
const ALICE_SECRET: &str = "alice/Secret+Key/EXAMPLE0123456789abcdef";
const ALICE_ARN: &str = "arn:aws:iam::123456789012:user/alice";
const BOB_KEY: &str = "AKIDBOBEXAMPLE";
const BOB_SECRET: &str = "bob/Secret+Key/EXAMPLE0123456789abcdefgh";
const BOB_ARN: &str = "arn:aws:iam::123456789012:user/bob";

/// alice: any `GET`, and `POST /echo`, from loopback only.
const ALICE_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": "execute-api:Invoke",
    "Resource": ["execute-api:/prod/GET/*", "execute-api:/prod/POST/echo"],
    "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}
  }]
}"#;

/// bob: any `GET`, nothing else.
const BOB_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "execute-api:/prod/GET/*"}]
}"#;

/// The application: routes, the verifying layer with its IAM hook, and the `ConnectionInfo`
/// middleware in front of it.
fn app() -> Result<Router, BoxError> {
    let keys = StaticKeys::new()
        .with_key(
            ALICE_KEY,
            ALICE_SECRET,
            Principal::user(ALICE_ARN, "AIDAALICEEXAMPLE"),
        )
        .with_key(
            BOB_KEY,
            BOB_SECRET,
            Principal::user(BOB_ARN, "AIDABOBEXAMPLE"),
        );
    let verifier = Verifier::new(VerifierConfig::new(REGION, SERVICE), keys)?;

    // Requests are authorized as `execute-api:Invoke` on
    // `arn:aws:execute-api:us-east-1:123456789012:local-api/prod/METHOD/PATH`: the API id and
    // the stage name only exist in ARNs and policies, not in the URL.
    let api = ApiContext::new(REGION, "123456789012", "local-api");
    let identity = |json: &str| Policy::parse(json, PolicyKind::Identity, Some(&api));
    let iam = IamAuthorizer::new(api.clone(), "prod")
        .with_identity_policies(ALICE_ARN, vec![identity(ALICE_POLICY)?])
        .with_identity_policies(BOB_ARN, vec![identity(BOB_POLICY)?]);

    Ok(Router::new()
        .route("/whoami", get(whoami))
        .route("/echo", post(echo))
        // Layers run outside-in, last added first: `ConnectionInfo` is inserted before the
        // verifier (and its policy hook) sees the request.
        .layer(VerifySigV4Layer::new(verifier).with_policy(iam))
        .layer(map_request(connection_info)))
}

/// Records the peer address for the policy hook (`aws:SourceIp`). Plain HTTP here, so
/// `aws:SecureTransport` is false; behind a TLS terminator, say so.
async fn connection_info(ConnectInfo(peer): ConnectInfo<SocketAddr>, mut req: Request) -> Request {
    req.extensions_mut()
        .insert(ConnectionInfo::new(peer, false));
    req
}

async fn whoami(principal: Principal) -> String {
    format!("{}\n", principal.arn())
}

async fn echo(principal: Principal, body: Bytes) -> String {
    format!("{} sent {} bytes\n", principal.arn(), body.len())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let smoke = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--smoke") => true,
        Some(other) => {
            return Err(format!("unknown argument {other:?}; usage: axum_app [--smoke]").into())
        }
    };
    let listener = TcpListener::bind(if smoke { "127.0.0.1:0" } else { ADDR }).await?;
    let addr = listener.local_addr()?;
    // `ConnectInfo` is only there when the router is served this way.
    let server = axum::serve(
        listener,
        app()?.into_make_service_with_connect_info::<SocketAddr>(),
    );

    if smoke {
        tokio::spawn(async move { server.await });
        return smoke_test(addr).await;
    }

    let sigv4 = format!("curl --aws-sigv4 \"aws:amz:{REGION}:{SERVICE}\"");
    println!("listening on http://{addr} (Ctrl-C to stop); try:");
    println!("  {sigv4} --user {ALICE_KEY}:{ALICE_SECRET} http://{addr}/whoami");
    println!("  {sigv4} --user {ALICE_KEY}:{ALICE_SECRET} -d hello http://{addr}/echo");
    println!("  {sigv4} --user {BOB_KEY}:{BOB_SECRET} -d hello http://{addr}/echo    # 403: bob may only GET");
    println!("  curl -i http://{addr}/whoami    # 403: not signed");
    server.await?;
    Ok(())
}

/// Calls the server on `addr` as alice, as bob and unsigned, and checks each answer.
async fn smoke_test(addr: SocketAddr) -> Result<(), BoxError> {
    let url = |path: &str| format!("http://{addr}{path}");
    let get = |path: &str| http::Request::get(url(path)).body(Full::new(Bytes::new()));
    let post =
        |path: &str, body: &'static str| http::Request::post(url(path)).body(Full::from(body));
    let alice = signing_client(ALICE_KEY, ALICE_SECRET);
    let bob = signing_client(BOB_KEY, BOB_SECRET);
    let unsigned = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    // alice's requests pass only because `aws:SourceIp` (from `ConnectionInfo`) is 127.0.0.1.
    check(
        "alice GET /whoami",
        alice.clone(),
        get("/whoami")?,
        200,
        "arn:aws:iam::123456789012:user/alice\n",
    )
    .await?;
    check(
        "alice POST /echo",
        alice,
        post("/echo", "hello")?,
        200,
        "arn:aws:iam::123456789012:user/alice sent 5 bytes\n",
    )
    .await?;
    check(
        "bob GET /whoami",
        bob.clone(),
        get("/whoami")?,
        200,
        "arn:aws:iam::123456789012:user/bob\n",
    )
    .await?;
    check(
        "bob POST /echo",
        bob,
        post("/echo", "hello")?,
        403,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/bob is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:local-api/prod/POST/echo"}"#,
    )
    .await?;
    check(
        "unsigned GET /whoami",
        unsigned,
        get("/whoami")?,
        403,
        r#"{"message":"Missing Authentication Token"}"#,
    )
    .await?;
    println!("smoke: axum_app passed 5 checks");
    Ok(())
}
