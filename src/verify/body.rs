//! Request and response bodies of the middleware.
//!
//! A body the layer does not buffer is handed on wrapped in checks: the size limit, the read
//! deadlines and, when the signature covers a declared `x-amz-content-sha256`, the hash of
//! what arrives — the last piece of data is held back until the hash checks out, so the inner
//! service never sees the end of a body that does not match its signature. A fault ends the
//! body with a [`BodyError`] and is noted for the layer, which answers with its rejection if
//! the inner service has not answered yet.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use sha2::{Digest, Sha256};

use super::limits::{Deadlines, Reservation};
use crate::error::{Rejection, RejectionKind};
use crate::sigv4::settings::Profile;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Why a request body was cut off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyErrorKind {
    /// More bytes than the verifier's `max_body_bytes`.
    TooLarge,
    /// Not received in time (idle between reads, or the whole body).
    TimedOut,
    /// The bytes do not match the signed `x-amz-content-sha256`.
    PayloadHashMismatch,
    /// The client's body failed: bad chunked framing, or it ended before its length; in the
    /// S3 profile also bad `aws-chunked` framing, a decoded length that differs from the
    /// declared one, a chunk too small or a malformed trailer.
    Malformed,
    /// A chunk or trailer signature of a streaming upload does not verify (S3 profile).
    SignatureMismatch,
    /// The body does not match its `Content-MD5` or `x-amz-checksum-*` (S3 profile).
    ChecksumMismatch,
    /// The process-wide buffer budget cannot hold a chunk until its signature is verified.
    Overloaded,
}

/// The error a [`RequestBody`] ends with when a check fails. The layer answers the client with
/// the matching rejection (413, 408, 403 or 400) when the inner service has not answered yet.
#[derive(Debug)]
pub struct BodyError {
    kind: BodyErrorKind,
    /// The answer, when the check that failed made it itself (the S3 profile's).
    rejection: Option<Box<Rejection>>,
    source: Option<BoxError>,
}

impl BodyError {
    fn new(kind: BodyErrorKind) -> Self {
        Self {
            kind,
            rejection: None,
            source: None,
        }
    }

    /// The error for a check that answered with `rejection`.
    #[cfg(feature = "s3")]
    pub(crate) fn rejected(rejection: Rejection) -> Self {
        let kind = match rejection.kind() {
            RejectionKind::BodyTooLarge => BodyErrorKind::TooLarge,
            RejectionKind::BodyTimeout => BodyErrorKind::TimedOut,
            RejectionKind::PayloadHashMismatch => BodyErrorKind::PayloadHashMismatch,
            RejectionKind::SignatureMismatch => BodyErrorKind::SignatureMismatch,
            RejectionKind::ChecksumMismatch => BodyErrorKind::ChecksumMismatch,
            RejectionKind::Overloaded => BodyErrorKind::Overloaded,
            _ => BodyErrorKind::Malformed,
        };
        Self {
            kind,
            rejection: Some(Box::new(rejection)),
            source: None,
        }
    }

    /// The answer the check made, if it made one.
    pub(crate) fn rejection(&self) -> Option<&Rejection> {
        self.rejection.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> BodyErrorKind {
        self.kind
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            BodyErrorKind::TooLarge => "request body too large",
            BodyErrorKind::TimedOut => "request body timed out",
            BodyErrorKind::PayloadHashMismatch => "request body does not match its signed hash",
            BodyErrorKind::Malformed => "request body malformed",
            BodyErrorKind::SignatureMismatch => "request body chunk signature does not match",
            BodyErrorKind::ChecksumMismatch => "request body does not match its checksum",
            BodyErrorKind::Overloaded => "request body buffers full",
        })
    }
}

impl StdError for BodyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The rejection a body fault is answered with, in the verifier's profile.
pub(crate) fn body_rejection(profile: Profile, kind: BodyErrorKind, limit: u64) -> Rejection {
    #[cfg(feature = "s3")]
    if profile == Profile::S3 {
        use crate::s3::errors;
        return match kind {
            BodyErrorKind::TooLarge => errors::entity_too_large(),
            BodyErrorKind::TimedOut => errors::request_timeout(),
            BodyErrorKind::Overloaded => errors::slow_down(),
            // The checks that fail in these ways answer themselves; these are fallbacks.
            BodyErrorKind::PayloadHashMismatch => errors::content_sha256_mismatch("", None),
            BodyErrorKind::SignatureMismatch => errors::signature_mismatch("", ""),
            BodyErrorKind::ChecksumMismatch | BodyErrorKind::Malformed => errors::terminated(),
        };
    }
    let _ = profile;
    match kind {
        BodyErrorKind::TooLarge => Rejection::new(
            RejectionKind::BodyTooLarge,
            format!("HTTP content length exceeded {limit} bytes."),
        ),
        BodyErrorKind::TimedOut => Rejection::new(RejectionKind::BodyTimeout, "Request Timeout"),
        BodyErrorKind::PayloadHashMismatch => Rejection::new(
            RejectionKind::PayloadHashMismatch,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
        BodyErrorKind::Malformed
        | BodyErrorKind::SignatureMismatch
        | BodyErrorKind::ChecksumMismatch => {
            Rejection::new(RejectionKind::BodyUnreadable, "Invalid request body")
        }
        BodyErrorKind::Overloaded => {
            Rejection::new(RejectionKind::Overloaded, "Service Unavailable")
        }
    }
}

/// Where a streamed body notes its fault for the layer's response future, with what the
/// renderer needs to answer it (the method, the URI and the content type).
pub(crate) struct Fault {
    rejection: OnceLock<Rejection>,
    head: Parts,
    service: String,
    profile: Profile,
}

impl Fault {
    pub(crate) fn new(parts: &Parts, service: &str, profile: Profile) -> Self {
        let (mut head, ()) = http::Request::new(()).into_parts();
        head.method = parts.method.clone();
        head.uri = parts.uri.clone();
        head.version = parts.version;
        // What a renderer may choose its dialect by (gRPC's `application/grpc`).
        if let Some(content_type) = parts.headers.get(http::header::CONTENT_TYPE) {
            head.headers
                .insert(http::header::CONTENT_TYPE, content_type.clone());
        }
        // What a renderer may decide the connection's fate by (S3's closes it when a body
        // came).
        for name in [
            http::header::CONTENT_LENGTH,
            http::header::TRANSFER_ENCODING,
        ] {
            if let Some(value) = parts.headers.get(&name) {
                head.headers.insert(name, value.clone());
            }
        }
        Self {
            rejection: OnceLock::new(),
            head,
            service: service.to_owned(),
            profile,
        }
    }

    fn record(&self, kind: BodyErrorKind, limit: u64) {
        self.record_rejection(body_rejection(self.profile, kind, limit));
    }

    /// Notes a fault whose answer is already made.
    pub(crate) fn record_rejection(&self, rejection: Rejection) {
        let _ = self
            .rejection
            .set(rejection.with_service(Some(&self.service)));
    }

    /// Notes `error`'s answer.
    pub(crate) fn record_error(&self, error: &BodyError, limit: u64) {
        match error.rejection() {
            Some(r) => self.record_rejection(r.clone()),
            None => self.record(error.kind, limit),
        }
    }

    /// The rejection of the fault, if one happened, and the request head to render it for.
    pub(crate) fn rejection(&self) -> Option<(&Rejection, &Parts)> {
        self.rejection.get().map(|r| (r, &self.head))
    }
}

/// What the bytes are checked against.
enum Hashes {
    /// The signed SHA-256.
    Sha256 { hasher: Sha256, expected: [u8; 32] },
    /// The S3 profile's SHA-256, `Content-MD5` and checksum, in S3's order.
    #[cfg(feature = "s3")]
    S3(Box<crate::s3::payload::PayloadChecks>),
}

/// The hash check of a body whose signed `x-amz-content-sha256` (or checksums) is known.
struct HashCheck {
    hashes: Hashes,
    /// The last data frame, held until the next one (or the end) arrives.
    held: Option<Bytes>,
    /// Trailers that arrived while a frame was held.
    trailers: Option<HeaderMap>,
    /// Whether the end was reached and the hash matched.
    verified: bool,
}

pin_project! {
    /// A body streamed on with the layer's checks (see the module docs).
    #[project = GuardedProj]
    pub(crate) struct Guarded<B> {
        #[pin]
        body: B,
        limit: u64,
        seen: u64,
        deadlines: Option<Deadlines>,
        hash: Option<Box<HashCheck>>,
        fault: Option<Arc<Fault>>,
        // The inner body has ended (or sent its trailers while a hash is checked).
        ended: bool,
        done: bool,
    }
}

impl<B> Guarded<B> {
    pub(crate) fn new(body: B, limit: u64, deadlines: Option<Deadlines>) -> Self {
        Self {
            body,
            limit,
            seen: 0,
            deadlines,
            hash: None,
            fault: None,
            ended: false,
            done: false,
        }
    }

    /// Checks the bytes against `expected` (the signed SHA-256), holding the last frame back.
    pub(crate) fn with_hash(mut self, expected: [u8; 32]) -> Self {
        self.hash = Some(Box::new(HashCheck {
            hashes: Hashes::Sha256 {
                hasher: Sha256::new(),
                expected,
            },
            held: None,
            trailers: None,
            verified: false,
        }));
        self
    }

    /// Checks the bytes with the S3 profile's checks, holding the last frame back.
    #[cfg(feature = "s3")]
    pub(crate) fn with_checks(mut self, checks: crate::s3::payload::PayloadChecks) -> Self {
        self.hash = Some(Box::new(HashCheck {
            hashes: Hashes::S3(Box::new(checks)),
            held: None,
            trailers: None,
            verified: false,
        }));
        self
    }

    /// The body, unread.
    pub(crate) fn into_inner(self) -> B {
        self.body
    }

    /// Notes faults in `fault`.
    pub(crate) fn with_fault(mut self, fault: Arc<Fault>) -> Self {
        self.fault = Some(fault);
        self
    }
}

impl<B> Body for Guarded<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let fail = |this: &mut GuardedProj<'_, B>, error: BodyError| {
            *this.done = true;
            if let Some(fault) = this.fault {
                fault.record_error(&error, *this.limit);
            }
            Poll::Ready(Some(Err(error)))
        };
        loop {
            if *this.ended {
                // The inner body is over (or sent its trailers): release what is held.
                let Some(check) = this.hash.as_mut() else {
                    *this.done = true;
                    return Poll::Ready(None);
                };
                return match finish(check) {
                    Ok(Some(frame)) => Poll::Ready(Some(Ok(frame))),
                    Ok(None) => {
                        *this.done = true;
                        Poll::Ready(None)
                    }
                    Err(e) => fail(&mut this, e),
                };
            }
            let polled = this.body.as_mut().poll_frame(cx);
            let frame = match polled {
                Poll::Pending => {
                    if let Some(d) = this.deadlines.as_mut() {
                        ready!(d.poll_expired(cx));
                        return fail(&mut this, BodyError::new(BodyErrorKind::TimedOut));
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Some(Ok(frame))) => frame,
                Poll::Ready(Some(Err(e))) => {
                    let mut error = BodyError::new(BodyErrorKind::Malformed);
                    error.source = Some(e.into());
                    return fail(&mut this, error);
                }
                Poll::Ready(None) => {
                    *this.ended = true;
                    continue;
                }
            };
            if let Some(d) = this.deadlines.as_mut() {
                d.progress();
            }
            let frame = match frame.into_data() {
                Ok(data) => {
                    *this.seen = this.seen.saturating_add(data.len() as u64);
                    if *this.seen > *this.limit {
                        return fail(&mut this, BodyError::new(BodyErrorKind::TooLarge));
                    }
                    match this.hash.as_mut() {
                        None => return Poll::Ready(Some(Ok(Frame::data(data)))),
                        Some(check) => {
                            check.update(&data);
                            match check.held.replace(data) {
                                Some(previous) => {
                                    return Poll::Ready(Some(Ok(Frame::data(previous))))
                                }
                                None => continue,
                            }
                        }
                    }
                }
                Err(frame) => frame,
            };
            match (frame.into_trailers(), this.hash.as_mut()) {
                (Ok(trailers), Some(check)) => {
                    // The end: check before letting the held data or the trailers through.
                    check.trailers = Some(trailers);
                    *this.ended = true;
                }
                (Ok(trailers), None) => return Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                // A frame of a kind this crate does not know: pass it on.
                (Err(frame), _) => return Poll::Ready(Some(Ok(frame))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
            || ((self.ended || self.body.is_end_stream())
                && self
                    .hash
                    .as_ref()
                    .is_none_or(|h| h.held.is_none() && h.trailers.is_none()))
    }

    fn size_hint(&self) -> SizeHint {
        let held = self
            .hash
            .as_ref()
            .and_then(|h| h.held.as_ref())
            .map_or(0, |b| b.len() as u64);
        let inner = self.body.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(held));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(held));
        }
        hint
    }
}

impl HashCheck {
    fn update(&mut self, data: &[u8]) {
        match &mut self.hashes {
            Hashes::Sha256 { hasher, .. } => hasher.update(data),
            #[cfg(feature = "s3")]
            Hashes::S3(checks) => checks.update(data),
        }
    }

    fn verify(&mut self) -> Result<(), BodyError> {
        match &mut self.hashes {
            Hashes::Sha256 { hasher, expected } => {
                let digest: [u8; 32] = std::mem::take(hasher).finalize().into();
                if digest != *expected {
                    return Err(BodyError::new(BodyErrorKind::PayloadHashMismatch));
                }
                Ok(())
            }
            #[cfg(feature = "s3")]
            Hashes::S3(checks) => checks.verify().map_err(BodyError::rejected),
        }
    }
}

/// At the end of the body: the hash is checked once, after which the held frame and the
/// trailers are released one per call.
fn finish(check: &mut HashCheck) -> Result<Option<Frame<Bytes>>, BodyError> {
    if !check.verified {
        check.verify()?;
        check.verified = true;
    }
    if let Some(data) = check.held.take() {
        return Ok(Some(Frame::data(data)));
    }
    Ok(check.trailers.take().map(Frame::trailers))
}

pin_project! {
    /// Either some bytes held in memory or another body.
    #[project = EitherProj]
    enum Either<B> {
        Bytes {
            data: Option<Bytes>,
            trailers: Option<HeaderMap>,
            reservation: Option<Reservation>,
        },
        Body { #[pin] body: B },
    }
}

impl<B: Body<Data = Bytes>> Either<B> {
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            EitherProj::Bytes { data, trailers, .. } => Poll::Ready(
                data.take()
                    .filter(|d| !d.is_empty())
                    .map(|d| Ok(Frame::data(d)))
                    .or_else(|| trailers.take().map(|t| Ok(Frame::trailers(t)))),
            ),
            EitherProj::Body { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Bytes { data, trailers, .. } => {
                data.as_ref().is_none_or(Bytes::is_empty) && trailers.is_none()
            }
            Self::Body { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Bytes { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Self::Body { body } => body.size_hint(),
        }
    }
}

pin_project! {
    /// The request body the inner service receives: the buffered bytes that were hashed
    /// (the very same `Bytes`, not a copy), or the stream with the layer's checks on it (see
    /// the module docs) — hashed as it arrives when a signed `x-amz-content-sha256` declares
    /// it, passed on unhashed for `UNSIGNED-PAYLOAD`; in the S3 profile, a streaming upload's
    /// decoded payload, released chunk by chunk as the signatures verify.
    pub struct RequestBody<B> {
        #[pin]
        inner: RequestInner<B>,
    }
}

/// A streaming upload's decoded body (S3 profile). Without the `s3` feature, a type with no
/// value (`pin_project!` cannot leave a variant out by `cfg`).
#[cfg(feature = "s3")]
type DecodedBody<B> = super::decoded::Decoded<B>;
#[cfg(not(feature = "s3"))]
type DecodedBody<B> = NoDecoded<B>;

/// No value: there are no streaming uploads without the `s3` feature.
#[cfg(not(feature = "s3"))]
#[allow(dead_code)] // Never constructed: that is its point.
pub(crate) enum NoDecoded<B> {
    Never(std::convert::Infallible, std::marker::PhantomData<B>),
}

#[cfg(not(feature = "s3"))]
impl<B> Body for NoDecoded<B> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match &*self {
            Self::Never(never, _) => match *never {},
        }
    }
}

pin_project! {
    #[project = RequestInnerProj]
    enum RequestInner<B> {
        Plain { #[pin] body: Either<Guarded<B>> },
        // Boxed: a streaming upload is rare next to the requests this type carries.
        Decoded { #[pin] body: Pin<Box<DecodedBody<B>>> },
    }
}

impl<B> RequestBody<B> {
    pub(crate) fn buffered(
        data: Bytes,
        trailers: Option<HeaderMap>,
        reservation: Option<Reservation>,
    ) -> Self {
        Self {
            inner: RequestInner::Plain {
                body: Either::Bytes {
                    data: Some(data),
                    trailers,
                    reservation,
                },
            },
        }
    }

    pub(crate) fn empty() -> Self {
        Self::buffered(Bytes::new(), None, None)
    }

    pub(crate) fn streaming(body: Guarded<B>) -> Self {
        Self {
            inner: RequestInner::Plain {
                body: Either::Body { body },
            },
        }
    }

    #[cfg(feature = "s3")]
    pub(crate) fn decoded(body: super::decoded::Decoded<B>) -> Self {
        Self {
            inner: RequestInner::Decoded {
                body: Box::pin(body),
            },
        }
    }

    /// Whether the body was read whole before the signature was checked (and verified
    /// against it).
    pub fn is_buffered(&self) -> bool {
        matches!(
            self.inner,
            RequestInner::Plain {
                body: Either::Bytes { .. }
            }
        )
    }

    /// The decoded length of a streaming upload (S3 profile).
    #[cfg(feature = "s3")]
    pub(crate) fn decoded_length(&self) -> Option<u64> {
        match &self.inner {
            RequestInner::Decoded { body } => Some(body.decoded_length()),
            RequestInner::Plain { .. } => None,
        }
    }
}

impl<B> Body for RequestBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.project().inner.project() {
            RequestInnerProj::Plain { body } => body.poll_frame(cx),
            RequestInnerProj::Decoded { body } => body.get_mut().as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            RequestInner::Plain { body } => body.is_end_stream(),
            RequestInner::Decoded { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            RequestInner::Plain { body } => body.size_hint(),
            RequestInner::Decoded { body } => body.size_hint(),
        }
    }
}

impl<B> fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBody")
            .field("buffered", &self.is_buffered())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The response body of the middleware: the inner service's, or a rendered rejection.
    pub struct ResponseBody<B> {
        #[pin]
        inner: Either<B>,
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            inner: Either::Body { body },
        }
    }

    pub(crate) fn rejection(data: Bytes) -> Self {
        Self {
            inner: Either::Bytes {
                data: Some(data),
                trailers: None,
                reservation: None,
            },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
