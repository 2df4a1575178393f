//! Hostile input through the tower layer: the request target judged before authentication
//! (row 0), bodies never read before a declared-hash signature is proven, body deadlines, the
//! buffer budget, the size limit while streaming, malformed bodies, security tokens on
//! long-term keys, presigned URLs without `X-Amz-Expires`, routing by credential, and
//! `aws:SourceIp` through `X-Forwarded-For`. Every test asserts the exact status,
//! `x-amzn-ErrorType`, body, and what the inner service saw.
//!
//! The dev-dependency on Tokio has no `test-util` feature, so paused time is not available:
//! the idle deadline runs on Tokio's real timer with short timeouts, and the trickling body
//! runs on a manual [`Timer`] this file drives.
#![cfg(feature = "tokio")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

#[path = "hostile_layer/auth.rs"]
mod auth;
#[path = "hostile_layer/body.rs"]
mod body;
#[path = "hostile_layer/target.rs"]
mod target;

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use support::{vector_now, AKID, SECRET, ZERO_SIG};
use tokio::sync::{mpsc, oneshot};
use tower::{service_fn, Layer, ServiceExt};
use tower_sigv4::verify::{BodyErrorKind, RequestBody};
use tower_sigv4::{
    FixedClock, Principal, Rejection, Sleep, StaticKeys, Timer, Verifier, VerifierConfig,
    VerifySigV4Layer,
};

// ---------------------------------------------------------------------------------------------
// A manual timer: time moves only when a test advances it.

#[derive(Clone)]
struct ManualTimer(Arc<Mutex<ManualState>>);

struct ManualState {
    start: Instant,
    elapsed: Duration,
    wakers: Vec<Waker>,
}

impl ManualTimer {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(ManualState {
            start: Instant::now(),
            elapsed: Duration::ZERO,
            wakers: Vec::new(),
        })))
    }

    fn elapsed(&self) -> Duration {
        self.0.lock().unwrap().elapsed
    }

    fn advance(&self, by: Duration) {
        let wakers = {
            let mut state = self.0.lock().unwrap();
            state.elapsed += by;
            std::mem::take(&mut state.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    fn poll_until(&self, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.lock().unwrap();
        if state.start + state.elapsed >= deadline {
            Poll::Ready(())
        } else {
            state.wakers.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Timer for ManualTimer {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        let timer = self.clone();
        Box::pin(std::future::poll_fn(move |cx| {
            timer.poll_until(deadline, cx)
        }))
    }

    fn now(&self) -> Instant {
        let state = self.0.lock().unwrap();
        state.start + state.elapsed
    }
}

// ---------------------------------------------------------------------------------------------
// A request body that records how it was read.

type Sent = Result<Frame<Bytes>, io::Error>;

enum Source {
    Full(Option<Bytes>),
    Channel(mpsc::UnboundedReceiver<Sent>),
    /// One byte every `every` on a manual timer, forever.
    Trickle {
        timer: ManualTimer,
        every: Duration,
        next: Instant,
    },
}

/// How often a [`TestBody`] was polled and how many bytes were taken from it.
#[derive(Clone, Default)]
struct Probe(Arc<ProbeState>);

#[derive(Default)]
struct ProbeState {
    polls: AtomicUsize,
    bytes: AtomicUsize,
    first_poll: Mutex<Option<oneshot::Sender<()>>>,
}

impl Probe {
    fn polls(&self) -> usize {
        self.0.polls.load(Ordering::SeqCst)
    }

    fn bytes(&self) -> usize {
        self.0.bytes.load(Ordering::SeqCst)
    }

    /// Resolves when the body is first polled.
    fn first_poll(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        *self.0.first_poll.lock().unwrap() = Some(tx);
        rx
    }
}

struct TestBody {
    source: Source,
    probe: Probe,
}

impl TestBody {
    fn new(source: Source) -> Self {
        Self {
            source,
            probe: Probe::default(),
        }
    }

    fn full(data: impl Into<Bytes>) -> Self {
        Self::new(Source::Full(Some(data.into())))
    }

    fn empty() -> Self {
        Self::new(Source::Full(None))
    }

    /// A body fed frame by frame through the returned sender; it ends when the sender drops.
    fn channel() -> (Self, mpsc::UnboundedSender<Sent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self::new(Source::Channel(rx)), tx)
    }

    fn trickle(timer: &ManualTimer, every: Duration) -> Self {
        let next = timer.now() + every;
        Self::new(Source::Trickle {
            timer: timer.clone(),
            every,
            next,
        })
    }

    fn probe(&self) -> Probe {
        self.probe.clone()
    }
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Sent>> {
        let this = self.get_mut();
        let state = &this.probe.0;
        if state.polls.fetch_add(1, Ordering::SeqCst) == 0 {
            if let Some(tx) = state.first_poll.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }
        let polled = match &mut this.source {
            Source::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Source::Channel(rx) => rx.poll_recv(cx),
            Source::Trickle { timer, every, next } => match timer.poll_until(*next, cx) {
                Poll::Ready(()) => {
                    *next += *every;
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"t")))))
                }
                Poll::Pending => Poll::Pending,
            },
        };
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                state.bytes.fetch_add(data.len(), Ordering::SeqCst);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.source, Source::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.source {
            Source::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            _ => SizeHint::default(),
        }
    }
}

fn data(bytes: &'static [u8]) -> Sent {
    Ok(Frame::data(Bytes::from_static(bytes)))
}

// ---------------------------------------------------------------------------------------------
// The inner service, and what it saw.

#[derive(Default)]
struct Seen {
    calls: AtomicUsize,
    target: Mutex<Option<String>>,
    principal: Mutex<Option<String>>,
    frames: Mutex<Vec<Bytes>>,
    trailers: Mutex<Option<HeaderMap>>,
    error: Mutex<Option<BodyErrorKind>>,
    /// On the manual timer, when the body's error arrived.
    error_at: Mutex<Option<Duration>>,
    timer: Mutex<Option<ManualTimer>>,
    /// Told of each data frame as it arrives.
    notify: Mutex<Option<mpsc::UnboundedSender<Bytes>>>,
    started: Mutex<Option<oneshot::Sender<()>>>,
}

impl Seen {
    fn new() -> Arc<Self> {
        Arc::default()
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The path and query the inner service received.
    fn target(&self) -> Option<String> {
        self.target.lock().unwrap().clone()
    }

    fn principal(&self) -> Option<String> {
        self.principal.lock().unwrap().clone()
    }

    fn frames(&self) -> Vec<Bytes> {
        self.frames.lock().unwrap().clone()
    }

    fn bytes(&self) -> Vec<u8> {
        self.frames().concat()
    }

    fn error(&self) -> Option<BodyErrorKind> {
        *self.error.lock().unwrap()
    }

    fn trailers(&self) -> Option<HeaderMap> {
        self.trailers.lock().unwrap().clone()
    }

    fn notify_frames(&self) -> mpsc::UnboundedReceiver<Bytes> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.notify.lock().unwrap() = Some(tx);
        rx
    }

    fn started(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        *self.started.lock().unwrap() = Some(tx);
        rx
    }
}

/// Records the request, reads the body frame by frame and answers `200 inner ok`; when the
/// body fails, answers 502 like a proxy (the layer is to replace that with its rejection).
async fn inner(
    seen: Arc<Seen>,
    req: Request<RequestBody<TestBody>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    seen.calls.fetch_add(1, Ordering::SeqCst);
    *seen.target.lock().unwrap() = req.uri().path_and_query().map(|pq| pq.as_str().to_owned());
    *seen.principal.lock().unwrap() = req
        .extensions()
        .get::<Principal>()
        .map(|p| p.arn().to_owned());
    if let Some(tx) = seen.started.lock().unwrap().take() {
        let _ = tx.send(());
    }
    let notify = seen.notify.lock().unwrap().clone();
    let mut body = req.into_body();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => {
                    seen.frames.lock().unwrap().push(data.clone());
                    if let Some(tx) = &notify {
                        let _ = tx.send(data);
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        *seen.trailers.lock().unwrap() = Some(trailers);
                    }
                }
            },
            Err(e) => {
                *seen.error.lock().unwrap() = Some(e.kind());
                let at = seen
                    .timer
                    .lock()
                    .unwrap()
                    .as_ref()
                    .map(ManualTimer::elapsed);
                *seen.error_at.lock().unwrap() = at;
                let mut bad_gateway = Response::new(Full::new(Bytes::from_static(b"body failed")));
                *bad_gateway.status_mut() = http::StatusCode::BAD_GATEWAY;
                return Ok(bad_gateway);
            }
        }
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"inner ok"))))
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
    rejection: Option<Rejection>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends `req` through `layer` to the recording inner service.
async fn serve(layer: VerifySigV4Layer, seen: Arc<Seen>, req: Request<TestBody>) -> Answer {
    let svc = layer.layer(service_fn(move |req| inner(seen.clone(), req)));
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let rejection = res.extensions().get::<Rejection>().cloned();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
        rejection,
    }
}

/// A JSON rejection in API Gateway's dialect, exactly.
#[track_caller]
fn assert_rejected(a: &Answer, status: u16, error_type: &str, body: &str) {
    assert_eq!(a.status, status, "body: {}", a.body);
    assert_eq!(a.header("x-amzn-ErrorType"), Some(error_type));
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!(a.body, body);
    assert!(a.header("x-amzn-RequestId").is_some());
    assert!(a.rejection.is_some(), "the rejection in the extensions");
}

#[track_caller]
fn assert_passed(a: &Answer, seen: &Seen) {
    assert_eq!(a.status, 200, "body: {}", a.body);
    assert_eq!(a.body, "inner ok");
    assert_eq!(
        seen.principal().as_deref(),
        Some("arn:aws:iam::123456789012:user/alice")
    );
}

// ---------------------------------------------------------------------------------------------
// Verifiers and requests.

fn keys() -> StaticKeys {
    StaticKeys::new()
        .with_key(
            AKID,
            SECRET,
            Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAALICE"),
        )
        .with_session_key(
            "ASIATEMP",
            SECRET,
            "the-token",
            Principal::user("arn:aws:iam::123456789012:user/temp", "AIDATEMP"),
            vector_now() + Duration::from_secs(3600),
        )
}

fn config() -> VerifierConfig {
    VerifierConfig::new("us-east-1", "execute-api")
}

/// S3's URI and presign rules answered in API Gateway's dialect (the S3 profile proper has
/// its own tests, `tests/it/s3`).
fn s3_like_api_gateway() -> VerifierConfig {
    VerifierConfig::new("us-east-1", "s3")
        .with_profile(tower_sigv4::Profile::ApiGateway)
        .with_percent_encoding(tower_sigv4::PercentEncoding::Single)
        .with_path_normalization(tower_sigv4::PathNormalization::Disabled)
        .with_presigned_expires(tower_sigv4::PresignedExpires::Required)
        .with_target_rules(tower_sigv4::TargetRules::ObjectKeys)
}

fn verifier(config: VerifierConfig) -> Verifier {
    Verifier::new(config, keys()).unwrap()
}

/// A layer over `v` whose clock reads the vectors' time.
fn layer(v: &Verifier) -> VerifySigV4Layer {
    VerifySigV4Layer::new(v.clone()).with_clock(FixedClock::new(vector_now()))
}

/// A request to `http://api.example.com{target}` signed in its `Authorization` header (with a
/// placeholder signature until [`Req::sign`]).
struct Req {
    method: Method,
    target: String,
    service: &'static str,
    akid: &'static str,
    signed: Vec<(&'static str, String)>,
    unsigned: Vec<(&'static str, String)>,
}

impl Req {
    fn new(method: Method, target: &str) -> Self {
        Self {
            method,
            target: target.to_owned(),
            service: "execute-api",
            akid: AKID,
            signed: Vec::new(),
            unsigned: Vec::new(),
        }
    }

    fn get(target: &str) -> Self {
        Self::new(Method::GET, target)
    }

    fn post(target: &str) -> Self {
        Self::new(Method::POST, target)
    }

    fn service(mut self, service: &'static str) -> Self {
        self.service = service;
        self
    }

    fn akid(mut self, akid: &'static str) -> Self {
        self.akid = akid;
        self
    }

    /// A header listed in `SignedHeaders`.
    fn signed(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.signed.push((name, value.into()));
        self
    }

    /// A header left out of `SignedHeaders`.
    fn unsigned(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.unsigned.push((name, value.into()));
        self
    }

    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`, signed.
    fn unsigned_payload(self) -> Self {
        self.signed("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
    }

    fn build(&self, body: TestBody) -> Request<TestBody> {
        let mut names: Vec<&str> = vec!["host", "x-amz-date"];
        names.extend(self.signed.iter().map(|(n, _)| *n));
        names.sort_unstable();
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(format!("http://api.example.com{}", self.target))
            .header("host", "api.example.com")
            .header("x-amz-date", "20150830T123600Z")
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/20150830/us-east-1/{}/aws4_request, SignedHeaders={}, Signature={ZERO_SIG}",
                    self.akid,
                    self.service,
                    names.join(";")
                ),
            );
        for (name, value) in self.signed.iter().chain(&self.unsigned) {
            b = b.header(*name, value.as_str());
        }
        b.body(body).unwrap()
    }

    /// The request with its correct signature for `body_bytes` (what the body will hold).
    fn sign(&self, v: &Verifier, body_bytes: &[u8], body: TestBody) -> Request<TestBody> {
        support::sign(v, self.build(body), body_bytes, SECRET, vector_now())
    }
}

/// A presigned GET of `target` with `query` (without the signature), signed for `service`.
fn presigned(v: &Verifier, service: &str, target: &str, query: &str) -> Request<TestBody> {
    let req = Request::get(format!(
        "http://api.example.com{target}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AKID}%2F20150830%2Fus-east-1%2F{service}%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host{query}&X-Amz-Signature={ZERO_SIG}"
    ))
    .header("host", "api.example.com")
    .body(TestBody::empty())
    .unwrap();
    support::sign(v, req, b"", SECRET, vector_now())
}
