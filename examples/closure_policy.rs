//! A policy hook written as a closure: reads for everyone, writes for admins.
//!
//! Any `Fn(&PolicyRequest) -> PolicyDecision` is a policy hook. This one lets every
//! authenticated caller `GET` (and `HEAD`), and lets only principals tagged `team=admin` make
//! other requests; everyone else gets a 403 `AccessDeniedException` with the closure's message.
//! The hook runs after the signature is proven, so `req.principal()` is the verified caller.
//!
//! A hook that must wait on something (a database, a remote policy service) returns a future
//! instead: copy what it needs out of the request (the future may not borrow it), then return
//! `async move { … }` resolving to a `PolicyDecision`; use `PolicyDecision::fail` when the
//! backend cannot answer (500, not 403).
//!
//! ```text
//! cargo run --example closure_policy            # serves 127.0.0.1:3000 until Ctrl-C
//! cargo run --example closure_policy -- --smoke # checks itself on a free port and exits
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tower_sigv4::{
    PolicyDecision, PolicyRequest, Principal, StaticKeys, Verifier, VerifierConfig,
    VerifySigV4Layer,
};

#[path = "support/smoke.rs"]
mod smoke;

use smoke::{check, signing_client, BoxError};

const ADDR: &str = "127.0.0.1:3000";
const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

// Demo credentials, printed on purpose for curl. Never print real ones.
const ADMIN_KEY: &str = "AKIDADMINEXAMPLE";
const ADMIN_SECRET: &str = "admin/Secret+Key/EXAMPLE0123456789abcdef";
const DEV_KEY: &str = "AKIDDEVEXAMPLE";
const DEV_SECRET: &str = "dev/Secret+Key/EXAMPLE0123456789abcdefgh";

/// The notes the app keeps, in memory.
type Notes = Arc<Mutex<Vec<String>>>;

/// The application: `GET /notes` lists, `POST /notes` adds; the closure decides who may.
fn app() -> Result<Router, BoxError> {
    let keys = StaticKeys::new()
        .with_key(
            ADMIN_KEY,
            ADMIN_SECRET,
            Principal::user("arn:aws:iam::123456789012:user/ada", "AIDAADAEXAMPLE")
                .with_tag("team", "admin"),
        )
        .with_key(
            DEV_KEY,
            DEV_SECRET,
            Principal::user("arn:aws:iam::123456789012:user/dev", "AIDADEVEXAMPLE")
                .with_tag("team", "web"),
        );
    let verifier = Verifier::new(VerifierConfig::new(REGION, SERVICE), keys)?;

    let reads_for_all_writes_for_admins = |req: &PolicyRequest<'_>| {
        let method = &req.parts().method;
        let principal = req.principal();
        let admin = principal
            .tags()
            .get("team")
            .is_some_and(|team| team == "admin");
        if *method == Method::GET || *method == Method::HEAD || admin {
            PolicyDecision::Allow
        } else {
            PolicyDecision::deny(format!(
                "User: {} is not authorized to perform: {method} {} (writes need the tag team=admin)",
                principal.arn(),
                req.parts().uri.path(),
            ))
        }
    };

    Ok(Router::new()
        .route("/notes", get(list).post(add))
        .with_state(Notes::default())
        .layer(VerifySigV4Layer::new(verifier).with_policy(reads_for_all_writes_for_admins)))
}

async fn list(State(notes): State<Notes>) -> String {
    let notes = notes.lock().unwrap_or_else(PoisonError::into_inner);
    notes.iter().map(|note| format!("{note}\n")).collect()
}

async fn add(
    State(notes): State<Notes>,
    principal: Principal,
    body: Bytes,
) -> (StatusCode, String) {
    let note = format!(
        "{}: {}",
        principal.username().unwrap_or("?"),
        String::from_utf8_lossy(&body)
    );
    let mut notes = notes.lock().unwrap_or_else(PoisonError::into_inner);
    notes.push(note);
    (StatusCode::CREATED, format!("note {} saved\n", notes.len()))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let smoke = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--smoke") => true,
        Some(other) => {
            return Err(
                format!("unknown argument {other:?}; usage: closure_policy [--smoke]").into(),
            )
        }
    };
    let listener = TcpListener::bind(if smoke { "127.0.0.1:0" } else { ADDR }).await?;
    let addr = listener.local_addr()?;
    let server = axum::serve(listener, app()?);

    if smoke {
        tokio::spawn(async move { server.await });
        return smoke_test(addr).await;
    }

    let sigv4 = format!("curl --aws-sigv4 \"aws:amz:{REGION}:{SERVICE}\"");
    println!("listening on http://{addr} (Ctrl-C to stop); try:");
    println!("  {sigv4} --user {ADMIN_KEY}:{ADMIN_SECRET} -d 'ship it' http://{addr}/notes");
    println!("  {sigv4} --user {DEV_KEY}:{DEV_SECRET} http://{addr}/notes");
    println!("  {sigv4} --user {DEV_KEY}:{DEV_SECRET} -d 'me too' http://{addr}/notes    # 403: not an admin");
    server.await?;
    Ok(())
}

/// Reads and writes as a developer and as an admin, and unsigned.
async fn smoke_test(addr: SocketAddr) -> Result<(), BoxError> {
    let url = format!("http://{addr}/notes");
    let get = || Request::get(&url).body(Full::new(Bytes::new()));
    let post = |body: &'static str| Request::post(&url).body(Full::from(body));
    let admin = signing_client(ADMIN_KEY, ADMIN_SECRET);
    let dev = signing_client(DEV_KEY, DEV_SECRET);
    let unsigned = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    check("dev GET /notes", dev.clone(), get()?, 200, "").await?;
    check(
        "dev POST /notes",
        dev.clone(),
        post("me too")?,
        403,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: POST /notes (writes need the tag team=admin)"}"#,
    )
    .await?;
    check(
        "admin POST /notes",
        admin,
        post("ship it")?,
        201,
        "note 1 saved\n",
    )
    .await?;
    // Only the admin's note: the denied request never reached the handler.
    check("dev GET /notes again", dev, get()?, 200, "ada: ship it\n").await?;
    check(
        "unsigned POST /notes",
        unsigned,
        post("anon")?,
        403,
        r#"{"message":"Missing Authentication Token"}"#,
    )
    .await?;
    println!("smoke: closure_policy passed 5 checks");
    Ok(())
}
