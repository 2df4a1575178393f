//! A client that signs its requests with `SignSigV4Layer`, calling a protected server.
//!
//! The layer goes over any HTTP client service; here hyper-util's legacy `Client`. It buffers
//! each body, signs its SHA-256, and sends the request on with `X-Amz-Date` and
//! `Authorization` added (`ClientPayload::Unsigned` would stream bodies instead). The same
//! `Signer` also builds presigned URLs, which any plain client can fetch.
//!
//! To be self-contained the example first starts a server protected by `VerifySigV4Layer` on a
//! free port of 127.0.0.1, then sends a signed `GET`, a signed `POST` with a body and a
//! presigned `GET`, printing each response. It exits non-zero if a status is not 200.
//!
//! ```text
//! cargo run --example signing_client
//! ```
//!
//! (`--smoke` is accepted and changes nothing: this example always checks itself.)

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::{get, post};
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt};
use tower_sigv4::{
    Clock, Credentials, Principal, SignSigV4Layer, SignablePayload, Signer, StaticKeys,
    SystemClock, Verifier, VerifierConfig, VerifySigV4Layer,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";
const KEY: &str = "AKIDCLIENTEXAMPLE";
const SECRET: &str = "client/Secret+Key/EXAMPLE0123456789abcde";

/// The protected server, on a free loopback port.
async fn start_server() -> Result<SocketAddr, BoxError> {
    let keys = StaticKeys::new().with_key(
        KEY,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/client", "AIDACLIENTEXAMPLE"),
    );
    let verifier = Verifier::new(VerifierConfig::new(REGION, SERVICE), keys)?;
    let app = Router::new()
        .route(
            "/hello",
            get(|p: Principal| async move { format!("hello {}", p.arn()) }),
        )
        .route(
            "/orders",
            post(|p: Principal, body: Bytes| async move {
                format!("{} ordered {}", p.arn(), String::from_utf8_lossy(&body))
            }),
        )
        .layer(VerifySigV4Layer::new(verifier));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    match std::env::args().nth(1).as_deref() {
        None | Some("--smoke") => {}
        Some(other) => {
            return Err(
                format!("unknown argument {other:?}; usage: signing_client [--smoke]").into(),
            )
        }
    }
    let addr = start_server().await?;

    // The signing client: SignSigV4Layer over hyper-util's client.
    let signer = Signer::new(Credentials::new(KEY, SECRET), REGION, SERVICE);
    let client = ServiceBuilder::new()
        .layer(SignSigV4Layer::new(signer.clone()))
        .service(Client::builder(TokioExecutor::new()).build_http());

    let hello = Request::get(format!("http://{addr}/hello")).body(Full::new(Bytes::new()))?;
    let response = client.clone().oneshot(hello).await?;
    print_response("signed GET /hello", response).await?;

    let order = Request::post(format!("http://{addr}/orders"))
        .header("content-type", "application/json")
        .body(Full::from(r#"{"item":"coffee","qty":2}"#))?;
    let response = client.oneshot(order).await?;
    print_response("signed POST /orders", response).await?;

    // A presigned URL carries the signature in its query: no headers to add, valid for 5 min.
    let (parts, ()) = Request::get(format!("http://{addr}/hello"))
        .body(())?
        .into_parts();
    let url = signer.presign(
        &parts,
        SignablePayload::Bytes(b""),
        Duration::from_secs(300),
        SystemClock::default().now(),
    )?;
    let plain = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = plain
        .request(Request::get(url).body(Full::new(Bytes::new()))?)
        .await?;
    print_response("presigned GET /hello", response).await?;
    Ok(())
}

/// Prints a response; fails unless it is a 200.
async fn print_response<B>(what: &str, response: http::Response<B>) -> Result<(), BoxError>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(Into::into)?
        .to_bytes();
    println!("{what} -> {status}\n  {}", String::from_utf8_lossy(&body));
    if status != StatusCode::OK {
        return Err(format!("{what}: expected 200 OK, got {status}").into());
    }
    Ok(())
}
