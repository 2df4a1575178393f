//! What a service behind [`VerifySigV4Layer`](crate::VerifySigV4Layer) gets and gives: the
//! [`RequestBody`] it reads (buffered and verified, or streamed with the layer's checks), the
//! [`BodyError`] that body ends with when a check fails, the [`ResponseBody`] and the
//! [`ResponseFuture`] of the layer's service.

mod body;
#[cfg(feature = "s3")]
mod decoded;
mod future;
pub(crate) mod layer;
pub(crate) mod limits;
pub(crate) mod response;
pub(crate) mod service;

pub use body::{BodyError, BodyErrorKind, RequestBody, ResponseBody};
pub use future::ResponseFuture;
