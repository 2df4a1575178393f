//! What the signing client layer, [`SignSigV4Layer`](crate::SignSigV4Layer), hands on and
//! returns: the [`SignedBody`] of a signed request and the layer's [`ResponseFuture`].

mod body;
#[cfg(feature = "s3")]
mod chunked;
pub(crate) mod layer;
pub(crate) mod signer;

pub use body::SignedBody;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub use chunked::{AwsChunkedBody, ChunkedEncoder, StreamingUpload};
pub use layer::{PassthroughFuture, ResponseFuture};
