use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Request};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::BodyExt;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::body::SignedBody;
use super::signer::{SignError, SignErrorKind, SignablePayload, Signer};
use crate::clock::{Clock, SystemClock};
use crate::sigv4::canonical::UNSIGNED_PAYLOAD;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How the client layer covers bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientPayload {
    /// Buffer the body and sign its hash (the default). The inner service gets a
    /// [`SignedBody`].
    #[default]
    Hashed,
    /// Stream the body unbuffered and sign `UNSIGNED-PAYLOAD` (the server must allow it). The
    /// inner service gets a [`SignedBody`].
    Unsigned,
    /// Like `Unsigned`, but the inner service gets the caller's body itself, of the caller's
    /// type — for a client whose service wants its own body type (a tonic `Channel`, streaming
    /// RPCs). Build it with [`SignSigV4Layer::passthrough`]. The request must name its host
    /// when it reaches the layer: a tonic client built `with_origin(<server URI>)` does (a
    /// `Channel` adds the authority only after the layers in front of it).
    Passthrough,
}

/// Signs every outgoing request of an HTTP client service (a hyper-util client, a tonic
/// `Channel` …), as [`Signer::sign`] does.
///
/// By default the body is buffered and its hash signed, and the inner service receives a
/// [`SignedBody`](crate::sign::SignedBody); with [`ClientPayload::Unsigned`] it streams through
/// unhashed. [`SignSigV4Layer::passthrough`] builds the variant that hands the inner service
/// the caller's own body (always `UNSIGNED-PAYLOAD`).
///
/// ```
/// use tower::ServiceBuilder;
/// use tower_sigv4::{Credentials, Signer, SignSigV4Layer};
///
/// let signer = Signer::new(Credentials::new("AKIDEXAMPLE", "secret"), "us-east-1", "execute-api");
/// let layer = SignSigV4Layer::new(signer);
/// # let client = tower::service_fn(|_: http::Request<tower_sigv4::sign::SignedBody<http_body_util::Empty<bytes::Bytes>>>| async { Ok::<_, std::convert::Infallible>(http::Response::new(())) });
/// let client = ServiceBuilder::new().layer(layer).service(client);
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct SignSigV4Layer {
    shared: Arc<Shared>,
}

struct Shared {
    signer: Signer,
    clock: Arc<dyn Clock>,
    payload: ClientPayload,
}

impl fmt::Debug for SignSigV4Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignSigV4Layer")
            .field("signer", &self.shared.signer)
            .field("payload", &self.shared.payload)
            .finish_non_exhaustive()
    }
}

impl SignSigV4Layer {
    /// A layer signing with `signer`.
    pub fn new(signer: Signer) -> Self {
        Self {
            shared: Arc::new(Shared {
                signer,
                clock: Arc::new(SystemClock),
                payload: ClientPayload::Hashed,
            }),
        }
    }

    /// A layer that signs `UNSIGNED-PAYLOAD` and hands the inner service the caller's own body
    /// (see [`ClientPayload::Passthrough`]); its service is [`SignSigV4Passthrough`].
    pub fn passthrough(signer: Signer) -> SignSigV4PassthroughLayer {
        let mut layer = Self::new(signer);
        layer.map(|s| s.payload = ClientPayload::Passthrough);
        SignSigV4PassthroughLayer { layer }
    }

    fn map(&mut self, f: impl FnOnce(&mut Shared)) {
        let mut shared = Shared {
            signer: self.shared.signer.clone(),
            clock: self.shared.clock.clone(),
            payload: self.shared.payload,
        };
        f(&mut shared);
        self.shared = Arc::new(shared);
    }

    /// Reads the time from `clock`.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        self.map(|s| s.clock = clock);
        self
    }

    /// Sets how bodies are covered ([`ClientPayload::Passthrough`] is for
    /// [`SignSigV4Layer::passthrough`] and reads as `Unsigned` here).
    pub fn with_payload(mut self, payload: ClientPayload) -> Self {
        let payload = match payload {
            ClientPayload::Passthrough => ClientPayload::Unsigned,
            other => other,
        };
        self.map(|s| s.payload = payload);
        self
    }
}

impl<S> Layer<S> for SignSigV4Layer {
    type Service = SignSigV4<S>;

    fn layer(&self, inner: S) -> SignSigV4<S> {
        SignSigV4 {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The signing client service; see [`SignSigV4Layer`].
#[derive(Clone)]
pub struct SignSigV4<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> SignSigV4<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Takes the inner service out.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for SignSigV4<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignSigV4")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

fn sign_unsigned(shared: &Shared, parts: &mut Parts) -> Result<(), SignError> {
    parts.headers.insert(
        http::header::HeaderName::from_static("x-amz-content-sha256"),
        HeaderValue::from_static(UNSIGNED_PAYLOAD),
    );
    shared
        .signer
        .sign(parts, SignablePayload::Unsigned, shared.clock.now())
}

fn service_error(e: impl Into<BoxError>) -> SignError {
    SignError::with_source(SignErrorKind::Service, "the inner service failed", e.into())
}

impl<S, B> Service<Request<B>> for SignSigV4<S>
where
    S: Service<Request<SignedBody<B>>> + Clone,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = SignError;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SignError>> {
        self.inner.poll_ready(cx).map_err(service_error)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // Take the service that was driven to readiness (tower-service: "Be careful when
        // cloning inner services").
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (mut parts, body) = request.into_parts();
        let state = match self.shared.payload {
            ClientPayload::Hashed => State::Buffering {
                collect: body.collect(),
                head: Some((parts, inner, self.shared.clone())),
            },
            ClientPayload::Unsigned | ClientPayload::Passthrough => {
                match sign_unsigned(&self.shared, &mut parts) {
                    Ok(()) => State::Calling {
                        fut: inner.call(Request::from_parts(parts, SignedBody::streaming(body))),
                    },
                    Err(e) => State::Failed { error: Some(e) },
                }
            }
        };
        ResponseFuture { state }
    }
}

pin_project! {
    /// The response future of [`SignSigV4`]: buffering the body (to hash it), then the inner
    /// service's call.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<SignedBody<B>>>,
        B: Body,
    {
        #[pin]
        state: State<S, B>,
    }
}

type Head<S> = (Parts, S, Arc<Shared>);

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<SignedBody<B>>>,
        B: Body,
    {
        Buffering { #[pin] collect: Collect<B>, head: Option<Head<S>> },
        Calling { #[pin] fut: S::Future },
        Failed { error: Option<SignError> },
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<SignedBody<B>>>,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<S::Response, SignError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Buffering { collect, head } => {
                    let collected = ready!(collect.poll(cx)).map_err(|e| {
                        SignError::with_source(
                            SignErrorKind::Body,
                            "the request body could not be read",
                            e.into(),
                        )
                    });
                    let Some((mut parts, mut inner, shared)) = head.take() else {
                        // Polled after completion.
                        return Poll::Pending;
                    };
                    let bytes = match collected {
                        Ok(c) => c.to_bytes(),
                        Err(e) => return Poll::Ready(Err(e)),
                    };
                    if let Err(e) = shared.signer.sign(
                        &mut parts,
                        SignablePayload::Bytes(&bytes),
                        shared.clock.now(),
                    ) {
                        return Poll::Ready(Err(e));
                    }
                    let fut = inner.call(Request::from_parts(parts, SignedBody::buffered(bytes)));
                    this.state.set(State::Calling { fut });
                }
                StateProj::Calling { fut } => {
                    return fut.poll(cx).map_err(service_error);
                }
                StateProj::Failed { error } => {
                    return match error.take() {
                        Some(e) => Poll::Ready(Err(e)),
                        None => Poll::Pending,
                    };
                }
            }
        }
    }
}

/// The layer of [`SignSigV4Layer::passthrough`]: signs `UNSIGNED-PAYLOAD` and hands the inner
/// service the caller's own request body.
#[derive(Clone, Debug)]
pub struct SignSigV4PassthroughLayer {
    layer: SignSigV4Layer,
}

impl SignSigV4PassthroughLayer {
    /// Reads the time from `clock`.
    pub fn with_clock(self, clock: impl Clock) -> Self {
        Self {
            layer: self.layer.with_clock(clock),
        }
    }
}

impl<S> Layer<S> for SignSigV4PassthroughLayer {
    type Service = SignSigV4Passthrough<S>;

    fn layer(&self, inner: S) -> SignSigV4Passthrough<S> {
        SignSigV4Passthrough {
            inner,
            shared: self.layer.shared.clone(),
        }
    }
}

/// The service of [`SignSigV4Layer::passthrough`]: any request body type, passed on as it is.
#[derive(Clone)]
pub struct SignSigV4Passthrough<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> SignSigV4Passthrough<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Takes the inner service out.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for SignSigV4Passthrough<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignSigV4Passthrough")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for SignSigV4Passthrough<S>
where
    S: Service<Request<B>>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = SignError;
    type Future = PassthroughFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SignError>> {
        self.inner.poll_ready(cx).map_err(service_error)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let state = match sign_unsigned(&self.shared, &mut parts) {
            Ok(()) => PassthroughState::Calling {
                fut: self.inner.call(Request::from_parts(parts, body)),
            },
            Err(e) => PassthroughState::Failed { error: Some(e) },
        };
        PassthroughFuture { state }
    }
}

pin_project! {
    /// The response future of [`SignSigV4Passthrough`].
    pub struct PassthroughFuture<F> {
        #[pin]
        state: PassthroughState<F>,
    }
}

pin_project! {
    #[project = PassthroughProj]
    enum PassthroughState<F> {
        Calling { #[pin] fut: F },
        Failed { error: Option<SignError> },
    }
}

impl<F, T, E> Future for PassthroughFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, SignError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            PassthroughProj::Calling { fut } => fut.poll(cx).map_err(service_error),
            PassthroughProj::Failed { error } => match error.take() {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
        }
    }
}
