use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, CONNECTION, RETRY_AFTER};
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{HeaderMap, Request, Response, Uri};
use http_body::Body;
use http_body_util::BodyExt;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::{body_rejection, Fault, Guarded, RequestBody, ResponseBody};
use super::layer::Shared;
use super::limits::{BufferBudget, Deadlines, Reservation};
use crate::credentials::ResolvedKey;
use crate::error::{Rejection, RejectionKind};
use crate::policy::{PolicyDecision, PolicyRequest};
use crate::sigv4::settings::Profile;
use crate::sigv4::target;
use crate::sigv4::verifier::{Checked, Payload, Verified};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An admitted request, and where its streamed body notes a fault.
pub(crate) type Admitted<B> = (Request<RequestBody<B>>, Option<Arc<Fault>>);

type AuthFuture<B> = Pin<Box<dyn Future<Output = Result<Admitted<B>, Response<Bytes>>> + Send>>;

pin_project! {
    /// The response future of [`VerifySigV4`](super::VerifySigV4).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<RequestBody<B>>>,
    {
        #[pin]
        state: State<S, B>,
        shared: Arc<Shared>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<RequestBody<B>>>,
    {
        Authenticating { auth: AuthFuture<B>, inner: Option<S> },
        Calling { #[pin] fut: S::Future, fault: Option<Arc<Fault>> },
        Rejected { response: Option<Response<Bytes>> },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<RequestBody<B>>>,
{
    /// The slow path: authentication that waits (a key provider or policy hook answering
    /// later, or a body to read first), boxed.
    pub(crate) fn authenticating(auth: AuthFuture<B>, inner: S, shared: Arc<Shared>) -> Self {
        Self {
            state: State::Authenticating {
                auth,
                inner: Some(inner),
            },
            shared,
        }
    }

    /// The fast path: authenticated at once, the inner service called.
    pub(crate) fn calling(fut: S::Future, fault: Option<Arc<Fault>>, shared: Arc<Shared>) -> Self {
        Self {
            state: State::Calling { fut, fault },
            shared,
        }
    }

    /// Refused at once.
    pub(crate) fn rejected(response: Response<Bytes>, shared: Arc<Shared>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
            shared,
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
                        Ok((request, fault)) => match inner.take() {
                            Some(mut svc) => {
                                let fut = svc.call(request);
                                this.state.set(State::Calling { fut, fault });
                            }
                            // Polled after completion: nothing sensible remains to do.
                            None => return Poll::Pending,
                        },
                        Err(response) => {
                            return Poll::Ready(Ok(response.map(ResponseBody::rejection)));
                        }
                    }
                }
                StateProj::Rejected { response } => {
                    return match response.take() {
                        Some(r) => Poll::Ready(Ok(r.map(ResponseBody::rejection))),
                        // Polled after completion.
                        None => Poll::Pending,
                    };
                }
                StateProj::Calling { fut, fault } => {
                    let response = ready!(fut.poll(cx))?;
                    // The body failed a check before the inner service answered (a proxy
                    // answers 502 when its request body fails): the client gets the reason.
                    if let Some((rejection, head)) = fault.as_deref().and_then(Fault::rejection) {
                        let response = respond(this.shared, rejection.clone(), head);
                        return Poll::Ready(Ok(response.map(ResponseBody::rejection)));
                    }
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
            }
        }
    }
}

/// The response for `rejection`: the renderer's, with the rejection in its extensions, the
/// connection closed after a body timeout and `Retry-After` when overloaded.
pub(crate) fn respond(shared: &Shared, rejection: Rejection, parts: &Parts) -> Response<Bytes> {
    let mut response = shared.render.render(&rejection, parts);
    match rejection.kind() {
        // HTTP/1 closes the connection with this header; HTTP/2 and 3 forbid it.
        RejectionKind::BodyTimeout if parts.version <= http::Version::HTTP_11 => {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        RejectionKind::Overloaded => {
            response
                .headers_mut()
                .entry(RETRY_AFTER)
                .or_insert(HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response.extensions_mut().insert(rejection);
    response
}

/// The body's declared length, if any.
fn declared_length(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Reads a body whose hash the signature covers, taking its bytes from `budget` as they come:
/// `503` when the budget cannot give them — at once when it has less left than the declared
/// length. Nothing is reserved ahead of the bytes, so a client that declares a large body and
/// sends nothing holds nothing.
async fn buffer<B>(
    body: Guarded<B>,
    declared: Option<u64>,
    budget: &BufferBudget,
    limit: u64,
    profile: Profile,
) -> Result<(Bytes, Option<HeaderMap>, Reservation), Rejection>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let overloaded = || Rejection::new(RejectionKind::Overloaded, "Service Unavailable");
    let wanted = usize::try_from(declared.unwrap_or(0).max(1)).unwrap_or(usize::MAX);
    if budget.available() < wanted {
        return Err(overloaded());
    }
    let mut reservation = budget.reserve(0).ok_or_else(overloaded)?;
    let mut reserved = 0;
    let mut body = std::pin::pin!(body);
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut trailers: Option<HeaderMap> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| match e.rejection() {
            Some(r) => r.clone(),
            None => body_rejection(profile, e.kind(), limit),
        })?;
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                // Trailers (gRPC's, say) go on after the bytes.
                if let Ok(t) = frame.into_trailers() {
                    trailers.get_or_insert_with(HeaderMap::new).extend(t);
                }
                continue;
            }
        };
        total = total.saturating_add(data.len());
        if total > reserved {
            if !reservation.grow(total - reserved) {
                return Err(overloaded());
            }
            reserved = total;
        }
        if !data.is_empty() {
            chunks.push(data);
        }
    }
    reservation.shrink_to(total);
    let bytes = match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop().unwrap_or_default(),
        _ => {
            let mut joined = BytesMut::with_capacity(total);
            for chunk in &chunks {
                joined.extend_from_slice(chunk);
            }
            joined.freeze()
        }
    };
    Ok((bytes, trailers, reservation))
}

/// What admission gives: the verified facts, the body for the inner service and where it
/// notes a fault; or the rejection.
type Outcome<B> = Result<(Verified, RequestBody<B>, Option<Arc<Fault>>), Rejection>;

/// How the body is handed on, once the signature is known to be right or the body must be
/// read first to know it.
// A value that lives on the stack for one step: boxing the large variant would cost the
// allocation this path exists to avoid.
#[allow(clippy::large_enum_variant)]
enum Plan<'a, B> {
    /// Verified; the body goes on as it is (empty, or streamed with its checks).
    Ready(Verified, RequestBody<B>, Option<Arc<Fault>>),
    /// The signature covers the hash of a body not yet read: read it (within the budget),
    /// then finish.
    Buffer {
        checked: Checked<'a>,
        key: ResolvedKey,
        body: Guarded<B>,
        declared: Option<u64>,
    },
}

/// Decides how the body is handed on (see the module docs of [`crate::verify`]): never read
/// before the signature is proven when a signed `x-amz-content-sha256` declares its hash;
/// read whole (within the budget) when the signature covers the hash of a body not yet seen;
/// streamed on otherwise.
fn plan<'a, B>(
    shared: &Shared,
    parts: &Parts,
    checked: Checked<'a>,
    key: ResolvedKey,
    body: B,
) -> Result<Plan<'a, B>, Rejection>
where
    B: Body<Data = Bytes>,
{
    let config = shared.verifier.config();
    #[cfg(feature = "s3")]
    if checked.is_s3() {
        return plan_s3(shared, parts, checked, key, body);
    }
    let limit = config.max_body_bytes as u64;
    let declared = declared_length(parts);
    if declared.is_some_and(|n| n > limit) || body.size_hint().lower() > limit {
        return Err(
            body_rejection(config.profile, super::BodyErrorKind::TooLarge, limit)
                .with_service(Some(checked.service())),
        );
    }
    if body.is_end_stream() {
        // Nothing to read (a GET): no buffer, no allocation.
        let verified = checked.finish(key, Payload::Bytes(&[]))?;
        return Ok(Plan::Ready(verified, RequestBody::empty(), None));
    }
    let deadlines = shared
        .timer
        .clone()
        .map(|timer| Deadlines::new(timer, &shared.limits));
    let guarded = Guarded::new(body, limit, deadlines);
    let streamed = |guarded: Guarded<B>, service: &str| {
        let fault = Arc::new(Fault::new(parts, service, config.profile));
        let body = RequestBody::streaming(guarded.with_fault(fault.clone()));
        (body, Some(fault))
    };
    let declared_hash = checked.declared_body_hash().map(|h| {
        let mut hex = [0u8; 64];
        // The verifier only declares 64 hex digits.
        hex.copy_from_slice(h.as_bytes().get(..64).unwrap_or(&[0; 64]));
        hex
    });
    if let Some(declared) = declared_hash {
        let mut expected = [0u8; 32];
        let _ = hex::decode_to_slice(declared, &mut expected);
        let service = checked.service().to_owned();
        let declared = Payload::Sha256Hex(crate::sigv4::canonical::hex_str(&declared));
        // The signature covers the declared hash: check it before reading a byte.
        let verified = checked.finish(key, declared)?;
        let (body, fault) = streamed(guarded.with_hash(expected), &service);
        return Ok(Plan::Ready(verified, body, fault));
    }
    if !checked.needs_body() {
        // UNSIGNED-PAYLOAD: streamed on, within the size limit and the deadlines.
        let service = checked.service().to_owned();
        let verified = checked.finish(key, Payload::Bytes(&[]))?;
        let (body, fault) = streamed(guarded, &service);
        return Ok(Plan::Ready(verified, body, fault));
    }
    Ok(Plan::Buffer {
        checked,
        key,
        body: guarded,
        declared,
    })
}

/// The S3 profile's plan: the signature, the signed headers and the body's headers checked
/// (no body is ever read before the signature is proven, nor held whole), then the body
/// streamed — decoded chunk by chunk for `aws-chunked`, hashed and checksummed otherwise.
#[cfg(feature = "s3")]
fn plan_s3<'a, B>(
    shared: &Shared,
    parts: &Parts,
    checked: Checked<'a>,
    key: ResolvedKey,
    body: B,
) -> Result<Plan<'a, B>, Rejection>
where
    B: Body<Data = Bytes>,
{
    let config = shared.verifier.config();
    let service = checked.service().to_owned();
    let admission = crate::s3::admit(checked, key).map_err(|r| r.with_service(Some(&service)))?;
    let limit = config.max_body_bytes as u64;
    let deadlines = shared
        .timer
        .clone()
        .map(|timer| Deadlines::new(timer, &shared.limits));
    let fault = Arc::new(Fault::new(parts, &service, config.profile));
    let crate::s3::Admission {
        verified,
        plan,
        decoder,
    } = admission;
    if let Some(decoder) = decoder {
        // The decoder bounds the decoded length by the declared one and every chunk; the
        // encoded bytes are bounded by those.
        let guarded = Guarded::new(body, u64::MAX, deadlines).with_fault(fault.clone());
        let reservation = shared.limits.buffer_budget.reserve(0);
        let decoded = super::decoded::Decoded::new(
            guarded,
            decoder,
            reservation,
            plan.decoded_length.unwrap_or(0),
            fault.clone(),
        );
        return Ok(Plan::Ready(
            verified,
            RequestBody::decoded(decoded),
            Some(fault),
        ));
    }
    if body.size_hint().lower() > limit {
        return Err(crate::s3::errors::entity_too_large().with_service(Some(&service)));
    }
    let mut checks = plan.checks();
    if body.is_end_stream() {
        if crate::s3::compares_empty(&parts.method) {
            checks
                .verify()
                .map_err(|r| r.with_service(Some(&service)))?;
        }
        return Ok(Plan::Ready(verified, RequestBody::empty(), None));
    }
    let guarded = Guarded::new(body, limit, deadlines);
    let guarded = if checks.is_empty() {
        guarded
    } else {
        guarded.with_checks(checks)
    };
    let body = RequestBody::streaming(guarded.with_fault(fault.clone()));
    Ok(Plan::Ready(verified, body, Some(fault)))
}

/// Checks the signature, waiting for the key provider and reading the body as needed.
async fn verify<B>(shared: &Shared, parts: &Parts, body: B, now: SystemTime) -> Outcome<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let checked = shared.verifier.check(parts, now)?;
    let key = checked.resolve_key().await?;
    match plan(shared, parts, checked, key, body)? {
        Plan::Ready(verified, body, fault) => Ok((verified, body, fault)),
        Plan::Buffer {
            checked,
            key,
            body,
            declared,
        } => {
            let limit = shared.verifier.config().max_body_bytes as u64;
            let (bytes, trailers, reservation) = buffer(
                body,
                declared,
                &shared.limits.buffer_budget,
                limit,
                shared.verifier.config().profile,
            )
            .await
            .map_err(|r| r.with_service(Some(checked.service())))?;
            let verified = checked.finish(key, Payload::Bytes(&bytes))?;
            let body = RequestBody::buffered(bytes, trailers, Some(reservation));
            Ok((verified, body, None))
        }
    }
}

/// Gives the request the path that was judged, so that the policy and the inner service see
/// the same one.
fn rewrite_path(parts: &mut Parts, path: &str) -> Result<(), Rejection> {
    let path_and_query = match parts.uri.query() {
        Some(q) => PathAndQuery::try_from(format!("{path}?{q}")),
        None => PathAndQuery::try_from(path),
    }
    .map_err(|_| target::invalid_target())?;
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    uri.path_and_query = Some(path_and_query);
    parts.uri = Uri::from_parts(uri).map_err(|_| target::invalid_target())?;
    Ok(())
}

/// The S3 profile's header edits for the inner service (see `decoded::pass_on_headers`).
#[cfg(feature = "s3")]
fn pass_on<B>(shared: &Shared, parts: &mut Parts, body: &RequestBody<B>) {
    if shared.verifier.config().profile == Profile::S3 {
        super::decoded::pass_on_headers(parts, body.decoded_length());
    }
}

#[cfg(not(feature = "s3"))]
fn pass_on<B>(_shared: &Shared, _parts: &mut Parts, _body: &RequestBody<B>) {}

/// The policy's decision as the layer's outcome.
fn decided<B>(
    decision: PolicyDecision,
    verified: Verified,
    body: RequestBody<B>,
    fault: Option<Arc<Fault>>,
) -> Outcome<B> {
    let service = Some(verified.scope().service());
    match decision {
        PolicyDecision::Allow => Ok((verified, body, fault)),
        PolicyDecision::Deny(message) => Err(Rejection::access_denied(message)
            .with_service(service)
            .with_principal(verified.principal())),
        PolicyDecision::Fail(source) => Err(Rejection::new(
            RejectionKind::PolicyFailure,
            "Internal server error",
        )
        .with_service(service)
        .with_principal(verified.principal())
        .with_source(source)),
    }
}

/// Every step before the inner service: the target (row 0), the signature, the body's
/// handling, then the policy on the judged path.
async fn admit<B>(shared: &Shared, parts: &mut Parts, body: B, now: SystemTime) -> Outcome<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let config = shared.verifier.config();
    let judged = target::judge(parts, config.target_rules, config.encoded_slash)?;
    let (verified, body, fault) = verify(shared, parts, body, now).await?;
    if let Some(path) = judged {
        rewrite_path(parts, &path)?;
    }
    pass_on(shared, parts, &body);
    let decision = {
        let req = PolicyRequest::new(parts, verified.principal(), verified.scope(), now);
        shared.policy.check_policy(&req).await
    };
    decided(decision, verified, body, fault)
}

/// What [`admit_now`] found.
// On the stack for one step, like `Plan`.
#[allow(clippy::large_enum_variant)]
enum Now<B> {
    /// Admitted or refused, without waiting.
    Done(Outcome<B>),
    /// Something must be awaited (a body to read before the signature can be checked): the
    /// body back, nothing changed in the request.
    Later(B),
}

/// [`admit`] without waiting, for a key provider and a policy hook that answer at once: no
/// allocation of the layer's own. Gives the body back, the request untouched, when the body
/// must be read first (or the key provider answered later after all).
fn admit_now<B>(shared: &Shared, parts: &mut Parts, body: B, now: SystemTime) -> Now<B>
where
    B: Body<Data = Bytes>,
{
    let config = shared.verifier.config();
    let judged = match target::judge(parts, config.target_rules, config.encoded_slash) {
        Ok(judged) => judged,
        Err(r) => return Now::Done(Err(r)),
    };
    let checked = match shared.verifier.check(parts, now) {
        Ok(checked) => checked,
        Err(r) => return Now::Done(Err(r)),
    };
    let key = match checked.resolve_key_now() {
        Some(Ok(key)) => key,
        Some(Err(r)) => return Now::Done(Err(r)),
        None => return Now::Later(body),
    };
    let (verified, body, fault) = match plan(shared, parts, checked, key, body) {
        Ok(Plan::Ready(verified, body, fault)) => (verified, body, fault),
        Ok(Plan::Buffer { body, .. }) => return Now::Later(body.into_inner()),
        Err(r) => return Now::Done(Err(r)),
    };
    if let Some(path) = judged {
        if let Err(r) = rewrite_path(parts, &path) {
            return Now::Done(Err(r));
        }
    }
    pass_on(shared, parts, &body);
    let decision = {
        let req = PolicyRequest::new(parts, verified.principal(), verified.scope(), now);
        shared.policy.check_policy(&req).now()
    };
    let decision = decision.unwrap_or_else(|| {
        PolicyDecision::fail("the policy hook said it answers at once, but did not")
    });
    Now::Done(decided(decision, verified, body, fault))
}

/// The fast path of the layer's `call`: the request admitted (with its fault slot), refused
/// (the response), or handed back for the slow path.
pub(crate) enum Called<B> {
    Admitted(Admitted<B>),
    Refused(Response<Bytes>),
    Later(Request<B>),
}

pub(crate) fn authenticate_now<B>(shared: &Shared, request: Request<B>) -> Called<B>
where
    B: Body<Data = Bytes>,
{
    let now = shared.clock.now();
    let (mut parts, body) = request.into_parts();
    match admit_now(shared, &mut parts, body, now) {
        Now::Done(outcome) => match finish(shared, parts, outcome) {
            Ok(admitted) => Called::Admitted(admitted),
            Err(response) => Called::Refused(response),
        },
        Now::Later(body) => Called::Later(Request::from_parts(parts, body)),
    }
}

/// The request for the inner service, with the principal in its extensions; or the rendered
/// rejection.
// The rejection is a response the caller returns as it is: boxing it would only add an
// allocation to every refusal.
#[allow(clippy::result_large_err)]
fn finish<B>(
    shared: &Shared,
    mut parts: Parts,
    outcome: Outcome<B>,
) -> Result<Admitted<B>, Response<Bytes>> {
    match outcome {
        Ok((verified, body, fault)) => {
            tracing::debug!(
                principal = %verified.principal().arn(),
                access_key_id = %verified.principal().access_key_id(),
                "sigv4 request accepted"
            );
            parts.extensions.insert(verified.principal().clone());
            parts.extensions.insert(verified);
            Ok((Request::from_parts(parts, body), fault))
        }
        Err(rejection) => {
            tracing::debug!(
                kind = %rejection.kind(),
                status = rejection.status().as_u16(),
                source = rejection.source_display().as_deref(),
                "sigv4 request rejected"
            );
            Err(respond(shared, rejection, &parts))
        }
    }
}

pub(crate) async fn authenticate<B>(
    shared: Arc<Shared>,
    request: Request<B>,
) -> Result<Admitted<B>, Response<Bytes>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let now = shared.clock.now();
    let (mut parts, body) = request.into_parts();
    let outcome = admit(&shared, &mut parts, body, now).await;
    finish(&shared, parts, outcome)
}
