//! Heap allocations per request, counted by a global allocator over the whole process: the
//! gateway's service driven in process (its hyper server, SigV4, IAM, the proxy's client) on
//! one thread, between a keep-alive client and a keep-alive upstream on loopback.
//!
//! The gateway's share is the difference between the same signed requests sent through the
//! gateway and sent straight to the upstream (the client's and the upstream's allocations
//! cancel). `cargo test -p sigv4-gateway --test allocations -- --nocapture` prints the
//! figures; the bounds catch a regression (one more allocation per request fails them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::System;
use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sigv4_gateway::config::GatewayConfig;
use sigv4_gateway::store::GatewayIdentities;
use sigv4_gateway::{Gateway, Metrics};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::net::{TcpListener, TcpStream};
use tower_sigv4::store::SharedStore;
use tower_sigv4::{Clock, ConnectionInfo, Credentials, SignablePayload, Signer};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const REQUESTS: u64 = 2_000;
const ALICE: (&str, &str) = (
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
);

/// The upstream: `200 ok` to everything, keep-alive.
async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The gateway on the demo configuration, proxying to `upstream` (or answering itself).
async fn gateway(upstream: Option<SocketAddr>) -> SocketAddr {
    let mut text = String::new();
    if let Some(u) = upstream {
        text.push_str(&format!("upstream = \"http://{u}\"\n"));
    }
    text.push_str(sigv4_gateway::run::DEMO_CONFIG);
    let config = GatewayConfig::from_toml(&text).unwrap();
    let identities = config.identities(None).unwrap();
    let gateway = Gateway::new(
        &config,
        GatewayIdentities::file(SharedStore::new(identities.store), &config.api.account),
        identities.keyring,
        Metrics::new(),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            let service = gateway.hyper_service(ConnectionInfo::new(peer, false));
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(TokioIo::new(stream), service)
                .await;
            });
        }
    });
    addr
}

/// Sends `REQUESTS` signed `GET /prod/items` on one keep-alive connection to `addr`; the
/// allocations of the whole process meanwhile, per request.
async fn allocations_per_request(addr: SocketAddr) -> f64 {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let signer = Signer::new(
        Credentials::new(ALICE.0, ALICE.1),
        "us-east-1",
        "execute-api",
    );
    let host = addr.to_string();
    let now = tower_sigv4::SystemClock::new().now();
    // The request is signed once and cloned: signing is the client's work, not the gateway's.
    let (mut parts, ()) = Request::get(format!("http://{host}/prod/items?color=blue"))
        .header("host", &host)
        .body(())
        .unwrap()
        .into_parts();
    signer
        .sign(&mut parts, SignablePayload::Bytes(b""), now)
        .unwrap();
    let request = || {
        let mut r = Request::new(Empty::<Bytes>::new());
        *r.method_mut() = parts.method.clone();
        *r.uri_mut() = parts.uri.clone();
        *r.headers_mut() = parts.headers.clone();
        r
    };
    // Warm-up: connections, pools, caches (the signing key, the parsed policies).
    for _ in 0..100 {
        let response = sender.send_request(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap();
    }
    let region = Region::new(GLOBAL);
    for _ in 0..REQUESTS {
        let response = sender.send_request(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap();
    }
    let stats = region.change();
    stats.allocations as f64 / REQUESTS as f64
}

#[test]
fn a_proxied_request_costs_the_gateway_a_bounded_number_of_allocations() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let upstream = upstream().await;
        let direct = allocations_per_request(upstream).await;
        let proxy = gateway(Some(upstream)).await;
        let proxied = allocations_per_request(proxy).await;
        let echo = gateway(None).await;
        let echoed = allocations_per_request(echo).await;
        let gateway_share = proxied - direct;
        println!(
            "allocations per request: straight to the upstream {direct:.1}, through the gateway \
             {proxied:.1} (the gateway's share {gateway_share:.1}); echo mode {echoed:.1}"
        );
        assert!(
            gateway_share <= PROXY_BOUND,
            "the gateway allocates {gateway_share:.1} times per proxied request (bound {PROXY_BOUND})"
        );
        assert!(
            echoed <= ECHO_BOUND,
            "echo mode allocates {echoed:.1} times per request, client included (bound {ECHO_BOUND})"
        );
    });
}

/// The gateway's allocations per proxied request, measured then rounded up (see the README's
/// benchmark section for the figure and what the allocations are).
const PROXY_BOUND: f64 = 35.0;
/// Allocations per request in echo mode, the client's included.
const ECHO_BOUND: f64 = 32.0;
