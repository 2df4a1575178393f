//! Request and response bodies of the middleware.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// Either some bytes held in memory or another body.
    #[project = EitherProj]
    enum Either<B> {
        Bytes { data: Option<Bytes> },
        Body { #[pin] body: B },
    }
}

impl<B: Body<Data = Bytes>> Either<B> {
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            EitherProj::Bytes { data } => Poll::Ready(
                data.take()
                    .filter(|d| !d.is_empty())
                    .map(|d| Ok(Frame::data(d))),
            ),
            EitherProj::Body { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Bytes { data } => data.as_ref().is_none_or(Bytes::is_empty),
            Self::Body { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Bytes { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Self::Body { body } => body.size_hint(),
        }
    }
}

pin_project! {
    /// The request body the inner service receives: the buffered bytes that were hashed
    /// (the very same `Bytes`, not a copy), or the untouched stream when the payload was not
    /// signed (`UNSIGNED-PAYLOAD`).
    pub struct RequestBody<B> {
        #[pin]
        inner: Either<B>,
    }
}

impl<B> RequestBody<B> {
    pub(crate) fn buffered(data: Bytes) -> Self {
        Self {
            inner: Either::Bytes { data: Some(data) },
        }
    }

    pub(crate) fn streaming(body: B) -> Self {
        Self {
            inner: Either::Body { body },
        }
    }

    /// Whether the body was buffered (and verified against the signed hash).
    pub fn is_buffered(&self) -> bool {
        matches!(self.inner, Either::Bytes { .. })
    }
}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
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
            inner: Either::Bytes { data: Some(data) },
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
