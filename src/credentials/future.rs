//! A future that is either ready now (no allocation) or boxed; backs the plug-in traits' named
//! futures (the pattern of aws-credential-types' `future::ProvideCredentials`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub(crate) enum NowOrLater<'a, T> {
    Now(Option<T>),
    Later(BoxFuture<'a, T>),
}

impl<T> fmt::Debug for NowOrLater<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Now(_) => f.write_str("Now"),
            Self::Later(_) => f.write_str("Later"),
        }
    }
}

impl<'a, T> NowOrLater<'a, T> {
    /// The value, if it is there without waiting; otherwise the future back.
    pub(crate) fn now_or_later(self) -> Result<T, Self> {
        match self {
            Self::Now(Some(v)) => Ok(v),
            other => Err(other),
        }
    }
}

impl<T: Unpin> Future for NowOrLater<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.get_mut() {
            Self::Now(value) => match value.take() {
                Some(v) => Poll::Ready(v),
                // Polled again after completion: stay pending rather than panic.
                None => Poll::Pending,
            },
            Self::Later(fut) => fut.as_mut().poll(cx),
        }
    }
}
