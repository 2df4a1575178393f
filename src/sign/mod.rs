//! What the signing client layer, [`SignSigV4Layer`](crate::SignSigV4Layer), hands on and
//! returns: the [`SignedBody`] of a signed request and the layer's [`ResponseFuture`].

mod body;
pub(crate) mod layer;
pub(crate) mod signer;

pub use body::SignedBody;
pub use layer::{PassthroughFuture, ResponseFuture};
