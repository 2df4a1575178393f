//! Signing: the sans-IO [`Signer`] (header auth and presigned URLs) and a client-side tower
//! layer, [`SignSigV4Layer`]. The canonical request is the verifier's own implementation.

mod body;
mod layer;
mod signer;

pub use body::SignedBody;
pub use layer::{BoxError, ClientPayload, SignSigV4, SignSigV4Layer};
pub use signer::{
    ContentSha256Header, Credentials, SessionTokenMode, SignError, SignablePayload, Signer,
    SigningSettings,
};
