use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::BodyExt;
use tower_layer::Layer;
use tower_service::Service;

use super::body::SignedBody;
use super::signer::{SignError, SignablePayload, Signer};
use crate::clock::{Clock, SystemClock};

/// Whether the client layer hashes bodies or sends them as `UNSIGNED-PAYLOAD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientPayload {
    /// Buffer the body and sign its hash (the default).
    #[default]
    Hashed,
    /// Stream the body unbuffered and sign `UNSIGNED-PAYLOAD` (the server must allow it).
    Unsigned,
}

/// Signs every outgoing request of an HTTP client service (e.g. a hyper-util client).
///
/// The body is buffered only when its hash is signed; with [`ClientPayload::Unsigned`] it
/// streams through.
#[derive(Clone)]
pub struct SignSigV4Layer {
    signer: Arc<Signer>,
    clock: Arc<dyn Clock>,
    payload: ClientPayload,
}

impl fmt::Debug for SignSigV4Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignSigV4Layer")
            .field("signer", &self.signer)
            .field("payload", &self.payload)
            .finish_non_exhaustive()
    }
}

impl SignSigV4Layer {
    /// A layer signing with `signer`.
    pub fn new(signer: Signer) -> Self {
        Self {
            signer: Arc::new(signer),
            clock: Arc::new(SystemClock),
            payload: ClientPayload::Hashed,
        }
    }

    /// Reads the time from `clock`.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets how bodies are covered.
    pub fn with_payload(mut self, payload: ClientPayload) -> Self {
        self.payload = payload;
        self
    }
}

impl<S> Layer<S> for SignSigV4Layer {
    type Service = SignSigV4<S>;

    fn layer(&self, inner: S) -> SignSigV4<S> {
        SignSigV4 {
            inner,
            layer: self.clone(),
        }
    }
}

/// The signing client service; see [`SignSigV4Layer`].
#[derive(Clone)]
pub struct SignSigV4<S> {
    inner: S,
    layer: SignSigV4Layer,
}

impl<S: fmt::Debug> fmt::Debug for SignSigV4<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignSigV4")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// The error of [`SignSigV4`]: signing failed, or the body could not be read, or the inner
/// service failed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B, ResBody> Service<Request<B>> for SignSigV4<S>
where
    S: Service<Request<SignedBody<B>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let now = layer.clock.now();
            let body = match layer.payload {
                ClientPayload::Hashed => {
                    let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
                    layer
                        .signer
                        .sign(&mut parts, SignablePayload::Bytes(&bytes), now)
                        .map_err(|e: SignError| -> BoxError { Box::new(e) })?;
                    SignedBody::buffered(bytes)
                }
                ClientPayload::Unsigned => {
                    parts.headers.insert(
                        http::header::HeaderName::from_static("x-amz-content-sha256"),
                        http::HeaderValue::from_static(crate::canonical::UNSIGNED_PAYLOAD),
                    );
                    layer
                        .signer
                        .sign(&mut parts, SignablePayload::Unsigned, now)
                        .map_err(|e: SignError| -> BoxError { Box::new(e) })?;
                    SignedBody::streaming(body)
                }
            };
            inner
                .call(Request::from_parts(parts, body))
                .await
                .map_err(Into::into)
        })
    }
}
