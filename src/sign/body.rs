//! The body the signing client layer hands on.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a signed request: the bytes whose hash was signed (the very same `Bytes`),
    /// or the caller's body streamed as it is when the payload is `UNSIGNED-PAYLOAD`.
    pub struct SignedBody<B> {
        #[pin]
        inner: Inner<B>,
    }
}

pin_project! {
    #[project = InnerProj]
    enum Inner<B> {
        Bytes { data: Option<Bytes> },
        Body { #[pin] body: B },
    }
}

impl<B> SignedBody<B> {
    pub(crate) fn buffered(data: Bytes) -> Self {
        Self {
            inner: Inner::Bytes { data: Some(data) },
        }
    }

    pub(crate) fn streaming(body: B) -> Self {
        Self {
            inner: Inner::Body { body },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for SignedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().inner.project() {
            InnerProj::Bytes { data } => Poll::Ready(
                data.take()
                    .filter(|d| !d.is_empty())
                    .map(|d| Ok(Frame::data(d))),
            ),
            InnerProj::Body { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Bytes { data } => data.as_ref().is_none_or(Bytes::is_empty),
            Inner::Body { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Bytes { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Inner::Body { body } => body.size_hint(),
        }
    }
}
