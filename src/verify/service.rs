use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::body::{RequestBody, ResponseBody};
use super::future::{authenticate, authenticate_now, Called, ResponseFuture};
use super::layer::Shared;

/// The middleware service; built by [`VerifySigV4Layer`](crate::VerifySigV4Layer).
pub struct VerifySigV4<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> VerifySigV4<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

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

impl<S: Clone> Clone for VerifySigV4<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for VerifySigV4<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifySigV4")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for VerifySigV4<S>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>> + Clone,
    // The body waits in a boxed future when it must be read before the signature is checked
    // (or a key provider or policy hook answers later).
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Take the service that was driven to readiness and leave a fresh clone behind
        // (tower-service: "Be careful when cloning inner services").
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = &self.shared;
        let request = if shared.answers_at_once() {
            match authenticate_now(shared, request) {
                Called::Admitted((request, fault)) => {
                    return ResponseFuture::calling(inner.call(request), fault, shared.clone())
                }
                Called::Refused(response) => {
                    return ResponseFuture::rejected(response, shared.clone())
                }
                Called::Later(request) => request,
            }
        } else {
            request
        };
        ResponseFuture::authenticating(
            Box::pin(authenticate(shared.clone(), request)),
            inner,
            shared.clone(),
        )
    }
}
