use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::{RequestBody, ResponseBody};
use super::layer::Shared;
use crate::error::{Rejection, RejectionKind};
use crate::policy::{PolicyDecision, PolicyRequest};
use crate::verifier::{Payload, Verified};

type AuthFuture<B> =
    Pin<Box<dyn Future<Output = Result<Request<RequestBody<B>>, Response<Bytes>>> + Send>>;

pin_project! {
    /// The response future of [`VerifySigV4`](super::VerifySigV4).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<RequestBody<B>>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<RequestBody<B>>>,
    {
        Authenticating { auth: AuthFuture<B>, inner: Option<S> },
        Calling { #[pin] fut: S::Future },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<RequestBody<B>>>,
{
    pub(crate) fn new(auth: AuthFuture<B>, inner: S) -> Self {
        Self {
            state: State::Authenticating {
                auth,
                inner: Some(inner),
            },
        }
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<RequestBody<B>>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Authenticating { auth, inner } => {
                    match ready!(auth.as_mut().poll(cx)) {
                        Ok(request) => match inner.take() {
                            Some(mut svc) => {
                                let fut = svc.call(request);
                                this.state.set(State::Calling { fut });
                            }
                            // Polled after completion: nothing sensible remains to do.
                            None => return Poll::Pending,
                        },
                        Err(response) => {
                            return Poll::Ready(Ok(response.map(ResponseBody::rejection)));
                        }
                    }
                }
                StateProj::Calling { fut } => {
                    let response = ready!(fut.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
            }
        }
    }
}

/// Reads the body up to `limit` bytes.
async fn buffer<B>(parts: &Parts, body: B, limit: usize) -> Result<Bytes, Rejection>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large = || {
        Rejection::new(
            RejectionKind::BodyTooLarge,
            format!("HTTP content length exceeded {limit} bytes."),
        )
    };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) || body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    if body.is_end_stream() {
        // Nothing to read (a GET): no collect, no allocation.
        return Ok(Bytes::new());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        Err(e) => Err(Rejection::new(
            RejectionKind::BodyUnreadable,
            "Could not read the request body",
        )
        .with_source(Arc::from(e))),
    }
}

async fn verify<B>(
    shared: &Shared,
    parts: &Parts,
    body: B,
    now: std::time::SystemTime,
) -> Result<(Verified, RequestBody<B>), Rejection>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let checked = shared.verifier.check(parts, now)?;
    let key = checked.resolve_key().await?;
    if checked.needs_body() {
        let limit = shared.verifier.config().max_body_bytes;
        let bytes = buffer(parts, body, limit)
            .await
            .map_err(|r| r.with_service(Some(checked.service())))?;
        let verified = checked.finish(key, Payload::Bytes(&bytes))?;
        Ok((verified, RequestBody::buffered(bytes)))
    } else {
        let verified = checked.finish(key, Payload::Bytes(&[]))?;
        Ok((verified, RequestBody::streaming(body)))
    }
}

pub(crate) async fn authenticate<B>(
    shared: Arc<Shared>,
    request: Request<B>,
) -> Result<Request<RequestBody<B>>, Response<Bytes>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let now = shared.clock.now();
    let (mut parts, body) = request.into_parts();
    let outcome = match verify(&shared, &parts, body, now).await {
        Ok((verified, body)) => {
            let decision = {
                let req = PolicyRequest::new(&parts, verified.principal(), verified.scope(), now);
                shared.policy.check_policy(&req).await
            };
            match decision {
                PolicyDecision::Allow => Ok((verified, body)),
                PolicyDecision::Deny(message) => Err(Rejection::access_denied(message)
                    .with_service(Some(verified.scope().service()))
                    .with_principal(verified.principal())),
                PolicyDecision::Fail(source) => Err(Rejection::new(
                    RejectionKind::PolicyFailure,
                    "Internal server error",
                )
                .with_service(Some(verified.scope().service()))
                .with_principal(verified.principal())
                .with_source(source)),
            }
        }
        Err(rejection) => Err(rejection),
    };
    match outcome {
        Ok((verified, body)) => {
            tracing::debug!(
                principal = %verified.principal().arn(),
                access_key_id = %verified.principal().access_key_id(),
                "sigv4 request accepted"
            );
            parts.extensions.insert(verified.principal().clone());
            parts.extensions.insert(verified);
            Ok(Request::from_parts(parts, body))
        }
        Err(rejection) => {
            tracing::debug!(
                kind = %rejection.kind(),
                status = rejection.status().as_u16(),
                source = rejection.source_display().as_deref(),
                "sigv4 request rejected"
            );
            let mut response = shared.render.render(&rejection, &parts);
            response.extensions_mut().insert(rejection);
            Err(response)
        }
    }
}
