//! Middleware overhead: an axum hello-world on loopback, without and with `VerifySigV4Layer`,
//! driven by the same bounded load generator with the same header-signed GET.
//!
//! Both servers and the client run in-process on one multi-thread tokio runtime. The request
//! is signed once (replaying it within the clock-skew window is valid; the server without the
//! layer ignores the headers) and sent over 16 keep-alive HTTP/1.1 connections. Each run warms
//! up for 0.5 s, then counts for 3 s or 1,000,000 responses, whichever comes first; the servers
//! are measured alternately (A, B, A, B, … 5 rounds) so drift and noisy neighbours hit both.
//! Every response must be a 200 with the handler's body, so a rejecting layer cannot pass for a
//! fast one. Prints requests/s of each run, each round's ratio, the median ratio and the ratio
//! of the totals. The whole run takes about 35 s and is bounded by a timeout.
//!
//! ```text
//! cargo bench --bench middleware
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::request::Parts;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tower_sigv4::{
    Clock, Credentials, Principal, SignablePayload, Signer, StaticKeys, SystemClock, Verifier,
    VerifierConfig, VerifySigV4Layer,
};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "api.example.com";
const BODY: &str = "hello, world";
const CONNECTIONS: usize = 16;
const WARM_UP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(3);
const MAX_REQUESTS: u64 = 1_000_000;
const ROUNDS: u32 = 5;

async fn hello() -> &'static str {
    BODY
}

/// Starts `app` on a loopback port.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn request(signed: &Parts) -> http::Request<Empty<Bytes>> {
    let mut req = http::Request::builder()
        .method(signed.method.clone())
        .uri(signed.uri.path_and_query().unwrap().as_str())
        .body(Empty::new())
        .unwrap();
    *req.headers_mut() = signed.headers.clone();
    req
}

/// One keep-alive connection sending `signed` until `deadline` or until `budget` is spent;
/// returns how many 200s it got.
async fn connection(addr: SocketAddr, signed: &Parts, deadline: Instant, budget: u64) -> u64 {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    let driver = tokio::spawn(conn);
    let mut done = 0;
    while done < budget && Instant::now() < deadline {
        sender.ready().await.unwrap();
        let response = sender.send_request(request(signed)).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(
            status == http::StatusCode::OK && body == BODY,
            "expected 200 {BODY:?}, got {status} {body:?}"
        );
        done += 1;
    }
    drop(sender);
    driver.await.unwrap().unwrap();
    done
}

/// Drives `addr` with [`CONNECTIONS`] connections for `duration` (or [`MAX_REQUESTS`] in all);
/// returns (responses, elapsed).
async fn load(addr: SocketAddr, signed: &Parts, duration: Duration) -> (u64, Duration) {
    let start = Instant::now();
    let deadline = start + duration;
    let budget = MAX_REQUESTS / CONNECTIONS as u64;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let signed = clone_parts(signed);
            tokio::spawn(async move { connection(addr, &signed, deadline, budget).await })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    (total, start.elapsed())
}

fn clone_parts(parts: &Parts) -> Parts {
    let mut req = http::Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone())
        .body(())
        .unwrap();
    *req.headers_mut() = parts.headers.clone();
    req.into_parts().0
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Hard bound on the whole run, whatever happens on the loopback.
        let limit = 2 * ROUNDS * (WARM_UP + MEASURE) + Duration::from_secs(30);
        tokio::time::timeout(limit, run())
            .await
            .expect("the middleware benchmark overran its time bound");
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}

async fn run() {
    let keys = StaticKeys::new().with_key(
        AKID,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/bench", "AIDABENCH"),
    );
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap();
    let plain = serve(Router::new().route("/hello", get(hello))).await;
    let layered = serve(
        Router::new()
            .route("/hello", get(hello))
            .layer(VerifySigV4Layer::new(verifier)),
    )
    .await;

    // Signed once, at the system clock's now, for a fixed Host that both servers accept.
    let signer = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "execute-api");
    let (mut signed, ()) = http::Request::get(format!("http://{HOST}/hello?name=bench"))
        .header("host", HOST)
        .header("accept", "text/plain")
        .body(())
        .unwrap()
        .into_parts();
    signer
        .sign(
            &mut signed,
            SignablePayload::Bytes(b""),
            SystemClock::default().now(),
        )
        .unwrap();

    let servers = [("without layer", plain), ("with layer", layered)];
    let rate = |(n, t): (u64, Duration)| n as f64 / t.as_secs_f64();
    let mut totals = [(0u64, Duration::ZERO); 2];
    let mut ratios = Vec::new();
    for round in 1..=ROUNDS {
        let mut rates = [0.0; 2];
        for (i, (name, addr)) in servers.iter().enumerate() {
            load(*addr, &signed, WARM_UP).await;
            let (n, elapsed) = load(*addr, &signed, MEASURE).await;
            rates[i] = rate((n, elapsed));
            println!(
                "round {round} {name:>13}: {n:>8} requests in {:.2} s = {:>7.0} req/s",
                elapsed.as_secs_f64(),
                rates[i]
            );
            totals[i].0 += n;
            totals[i].1 += elapsed;
        }
        ratios.push(rates[1] / rates[0]);
        println!(
            "round {round} ratio with/without: {:.3}",
            rates[1] / rates[0]
        );
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let (without, with) = (rate(totals[0]), rate(totals[1]));
    println!("without layer: {without:.0} req/s (all rounds)");
    println!("with layer:    {with:.0} req/s (all rounds)");
    println!(
        "ratio with/without: {:.3} of the totals, {median:.3} median of {ROUNDS} rounds ({CONNECTIONS} connections, {} s a run)",
        with / without,
        MEASURE.as_secs()
    );
}
