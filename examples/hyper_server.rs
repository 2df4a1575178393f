//! A plain hyper 1 server (no axum) with `VerifySigV4Layer`.
//!
//! Shows the tower stack a hyper server needs: `ServiceBuilder` with the layer over a
//! `service_fn` handler, adapted to hyper with hyper-util's `TowerToHyperService`, served one
//! connection at a time with `hyper::server::conn::http1`. The handler reads the verified
//! `Principal` from the request's extensions (the layer puts it there) and receives the body
//! as `RequestBody`: the very bytes whose hash was signed. Every authenticated caller is
//! allowed (the default policy hook); see `axum_app` and `closure_policy` for authorization.
//!
//! ```text
//! cargo run --example hyper_server            # serves 127.0.0.1:3000 until Ctrl-C
//! cargo run --example hyper_server -- --smoke # checks itself on a free port and exits
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_sigv4::verify::RequestBody;
use tower_sigv4::{
    ConnectionInfo, Principal, StaticKeys, Verifier, VerifierConfig, VerifySigV4Layer,
};

#[path = "support/smoke.rs"]
mod smoke;

use smoke::{check, signing_client, BoxError};

const ADDR: &str = "127.0.0.1:3000";
const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

// Demo credentials, printed on purpose for curl. Never print real ones.
const KEY: &str = "AKIDHYPEREXAMPLE";
const SECRET: &str = "hyper/Secret+Key/EXAMPLE0123456789abcdef";

/// The application: `GET /` greets the caller, `POST /echo` returns the body.
async fn handle(
    request: Request<RequestBody<Incoming>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Always there behind the layer; a missing one is a wiring bug, answered like one.
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        return Ok(text(StatusCode::INTERNAL_SERVER_ERROR, "no principal\n"));
    };
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, format!("hello {}\n", principal.arn())),
        (&Method::POST, "/echo") => match request.into_body().collect().await {
            Ok(body) => Response::new(Full::new(body.to_bytes())),
            Err(_) => text(StatusCode::BAD_REQUEST, "unreadable body\n"),
        },
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    })
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// Accepts connections forever, serving each with the verifying service.
async fn serve(listener: TcpListener) -> Result<(), BoxError> {
    let keys = StaticKeys::new().with_key(
        KEY,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/hyper", "AIDAHYPEREXAMPLE"),
    );
    let verifier = Verifier::new(VerifierConfig::new(REGION, SERVICE), keys)?;
    let service = ServiceBuilder::new()
        .layer(VerifySigV4Layer::new(verifier))
        .service_fn(handle);

    loop {
        let (stream, peer) = listener.accept().await?;
        // Per connection: record the peer for policy hooks (`aws:SourceIp`; unused by the
        // default hook, but this is where a hyper server records it).
        let service = ServiceBuilder::new()
            .map_request(move |mut request: Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectionInfo::new(peer, false));
                request
            })
            .service(service.clone());
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(e) = connection.await {
                eprintln!("connection from {peer}: {e}");
            }
        });
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let smoke = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--smoke") => true,
        Some(other) => {
            return Err(format!("unknown argument {other:?}; usage: hyper_server [--smoke]").into())
        }
    };
    let listener = TcpListener::bind(if smoke { "127.0.0.1:0" } else { ADDR }).await?;
    let addr = listener.local_addr()?;

    if smoke {
        tokio::spawn(serve(listener));
        return smoke_test(addr).await;
    }

    let sigv4 = format!("curl --aws-sigv4 \"aws:amz:{REGION}:{SERVICE}\" --user {KEY}:{SECRET}");
    println!("listening on http://{addr} (Ctrl-C to stop); try:");
    println!("  {sigv4} http://{addr}/");
    println!("  {sigv4} -d hello http://{addr}/echo");
    serve(listener).await
}

/// Calls the server on `addr` signed, unsigned, with a wrong secret and with an unknown key.
async fn smoke_test(addr: SocketAddr) -> Result<(), BoxError> {
    let get = || Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new()));
    let signed = signing_client(KEY, SECRET);
    let unsigned = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    check(
        "signed GET /",
        signed.clone(),
        get()?,
        200,
        "hello arn:aws:iam::123456789012:user/hyper\n",
    )
    .await?;
    let echo = Request::post(format!("http://{addr}/echo")).body(Full::from("ping"))?;
    check("signed POST /echo", signed, echo, 200, "ping").await?;
    check(
        "unsigned GET /",
        unsigned,
        get()?,
        403,
        r#"{"message":"Missing Authentication Token"}"#,
    )
    .await?;
    check(
        "GET / with a wrong secret",
        signing_client(KEY, "not-the-secret"),
        get()?,
        403,
        r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#,
    )
    .await?;
    check(
        "GET / with an unknown key",
        signing_client("AKIDUNKNOWN", SECRET),
        get()?,
        403,
        r#"{"message":"The security token included in the request is invalid."}"#,
    )
    .await?;
    println!("smoke: hyper_server passed 5 checks");
    Ok(())
}
