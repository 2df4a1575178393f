//! Request and response bodies of the middleware.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The request body the inner service receives: the buffered bytes that were hashed
    /// (the very same `Bytes`, not a copy), or the untouched stream when the payload was not
    /// signed.
    #[project = RequestBodyProj]
    pub enum RequestBody<B> {
        /// Buffered and verified.
        Buffered {
            /// The bytes; taken when polled.
            data: Option<Bytes>,
        },
        /// Passed through unread (`UNSIGNED-PAYLOAD`).
        Streaming {
            /// The original body.
            #[pin]
            body: B,
        },
    }
}

impl<B> RequestBody<B> {
    pub(crate) fn buffered(data: Bytes) -> Self {
        Self::Buffered { data: Some(data) }
    }

    pub(crate) fn streaming(body: B) -> Self {
        Self::Streaming { body }
    }
}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            RequestBodyProj::Buffered { data } => {
                Poll::Ready(data.take().filter(|d| !d.is_empty()).map(|d| Ok(Frame::data(d))))
            }
            RequestBodyProj::Streaming { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Buffered { data } => data.as_ref().is_none_or(Bytes::is_empty),
            Self::Streaming { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Buffered { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Self::Streaming { body } => body.size_hint(),
        }
    }
}

pin_project! {
    /// The response body of the middleware: the inner service's, or a rejection's.
    #[project = ResponseBodyProj]
    pub enum ResponseBody<B> {
        /// The inner service answered.
        Inner {
            /// The inner service's body.
            #[pin]
            body: B,
        },
        /// The middleware rejected the request.
        Rejection {
            /// The rendered rejection; taken when polled.
            data: Option<Bytes>,
        },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self::Inner { body }
    }

    pub(crate) fn rejection(data: Bytes) -> Self {
        Self::Rejection { data: Some(data) }
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            ResponseBodyProj::Inner { body } => body.poll_frame(cx),
            ResponseBodyProj::Rejection { data } => {
                Poll::Ready(data.take().filter(|d| !d.is_empty()).map(|d| Ok(Frame::data(d))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Inner { body } => body.is_end_stream(),
            Self::Rejection { data } => data.as_ref().is_none_or(Bytes::is_empty),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Inner { body } => body.size_hint(),
            Self::Rejection { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}
