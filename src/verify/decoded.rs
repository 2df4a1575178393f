//! The S3 profile's streaming request body: `aws-chunked` decoded as it arrives, each chunk's
//! bytes released only once its signature is verified, the last piece held until the trailer,
//! the decoded length and the checksums check out.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::request::Parts;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::body::{BodyError, Fault, Guarded};
use super::limits::Reservation;
use crate::error::Rejection;
use crate::s3::decode::{Decoder, Event};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// A streaming upload's decoded payload.
    pub(crate) struct Decoded<B> {
        #[pin]
        inner: Guarded<B>,
        decoder: Box<Decoder>,
        // Encoded bytes received and not yet decoded.
        input: Bytes,
        // Data of the chunk being read, not yet verified.
        pending: Vec<Bytes>,
        // Verified data, in order; the last piece waits for the end.
        ready: VecDeque<Bytes>,
        // Bytes held in `pending` and `ready`, and their share of the buffer budget.
        held: usize,
        reservation: Option<Reservation>,
        fault: Arc<Fault>,
        decoded_length: u64,
        released: u64,
        // The input ended and everything verified.
        verified: bool,
        done: bool,
    }
}

impl<B> Decoded<B> {
    pub(crate) fn new(
        inner: Guarded<B>,
        decoder: Box<Decoder>,
        reservation: Option<Reservation>,
        decoded_length: u64,
        fault: Arc<Fault>,
    ) -> Self {
        Self {
            inner,
            decoder,
            input: Bytes::new(),
            pending: Vec::new(),
            ready: VecDeque::new(),
            held: 0,
            reservation,
            fault,
            decoded_length,
            released: 0,
            verified: false,
            done: false,
        }
    }

    /// The declared decoded length.
    pub(crate) fn decoded_length(&self) -> u64 {
        self.decoded_length
    }
}

impl<B> Body for Decoded<B>
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
        let fail = |done: &mut bool, fault: &Fault, rejection: Rejection| {
            *done = true;
            fault.record_rejection(rejection.clone());
            Poll::Ready(Some(Err(BodyError::rejected(rejection))))
        };
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            // Release verified data, all but the last piece until the end is verified.
            if this.ready.len() > 1 || (*this.verified && !this.ready.is_empty()) {
                if let Some(data) = this.ready.pop_front() {
                    *this.held -= data.len();
                    if let Some(r) = this.reservation.as_mut() {
                        r.shrink_to(*this.held);
                    }
                    *this.released += data.len() as u64;
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
            }
            if *this.verified {
                *this.done = true;
                return Poll::Ready(None);
            }
            if !this.input.is_empty() {
                match this.decoder.decode(this.input) {
                    Ok(Some(Event::Data(data))) => {
                        let len = data.len();
                        if let Some(r) = this.reservation.as_mut() {
                            if !r.grow(len) {
                                let rejection = crate::s3::errors::slow_down();
                                return fail(this.done, this.fault, rejection);
                            }
                        }
                        *this.held += len;
                        if this.decoder.releases_early() {
                            this.ready.push_back(data);
                        } else {
                            this.pending.push(data);
                        }
                    }
                    Ok(Some(Event::ChunkVerified)) => this.ready.extend(this.pending.drain(..)),
                    Ok(None) => {}
                    Err(rejection) => return fail(this.done, this.fault, rejection),
                }
                continue;
            }
            match this.inner.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    // HTTP trailers of an aws-chunked body mean nothing here: dropped.
                    if let Ok(data) = frame.into_data() {
                        *this.input = data;
                    }
                }
                // The inner body noted its own fault (deadline, broken framing).
                Poll::Ready(Some(Err(e))) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => match this.decoder.finish() {
                    Ok(()) => *this.verified = true,
                    Err(rejection) => return fail(this.done, this.fault, rejection),
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || (self.verified && self.ready.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.decoded_length.saturating_sub(self.released))
    }
}

/// The headers the inner service gets with an S3 request: `aws-chunked` taken out of
/// `Content-Encoding` (the header dropped when nothing is left) and, for a streaming upload,
/// the framing of the decoded payload: `Content-Length` its declared length, no
/// `Transfer-Encoding`.
pub(crate) fn pass_on_headers(parts: &mut Parts, decoded_length: Option<u64>) {
    let encodings: Vec<String> = parts
        .headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .flat_map(|v| {
            crate::sigv4::canonical::text(v.as_bytes())
                .split(',')
                .map(|t| t.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    if encodings
        .iter()
        .any(|t| t.eq_ignore_ascii_case("aws-chunked"))
    {
        let kept: Vec<&str> = encodings
            .iter()
            .map(String::as_str)
            .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
            .collect();
        parts.headers.remove(CONTENT_ENCODING);
        if let Ok(value) = HeaderValue::from_str(&kept.join(", ")) {
            if !kept.is_empty() {
                parts.headers.insert(CONTENT_ENCODING, value);
            }
        }
    }
    if let Some(length) = decoded_length {
        parts.headers.remove(TRANSFER_ENCODING);
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
}
