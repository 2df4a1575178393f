//! The tower middleware: [`VerifySigV4Layer`] and its service.
//!
//! The layer verifies each request with a [`Verifier`](crate::Verifier), runs the policy hook,
//! and either calls the inner service — with the [`Principal`](crate::Principal) and the
//! [`Verified`](crate::Verified) facts in the request's extensions — or answers with the
//! rendered [`Rejection`](crate::Rejection) (a copy of which goes into the response's
//! extensions for outer layers to log and count). Rejections are responses, never service
//! errors: `Error = S::Error`.
//!
//! Before anything else the request target is judged ([`judge_path`](crate::judge_path)): a path servers could
//! read differently is refused with 400, and the inner service gets the normalised path the
//! policy judged.
//!
//! The body is never read before the signature is proven when a signed
//! `x-amz-content-sha256` declares its hash: it streams on, hashed as it arrives, its last
//! piece held back until the hash checks out. When the signature covers the hash of a body it
//! does not declare, the body is read whole first (up to `max_body_bytes`, within the
//! [`BufferBudget`]) and the inner service receives the very bytes that were hashed. With
//! `UNSIGNED-PAYLOAD` it streams through. In every mode the size limit and the read deadlines
//! ([`BodyLimits`]) apply, and a body that fails them ends with a [`BodyError`]; the client
//! gets 413, 408, 403 or 400 unless the inner service has already answered.
//!
//! ```
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, service_fn};
//! use tower_sigv4::{Principal, RequestBody, StaticKeys, Verifier, VerifierConfig, VerifySigV4Layer};
//!
//! let keys = StaticKeys::new().with_key(
//!     "AKIDEXAMPLE",
//!     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
//!     Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE"),
//! );
//! let verifier = Verifier::new(VerifierConfig::default(), keys).unwrap();
//! let service = ServiceBuilder::new()
//!     .layer(VerifySigV4Layer::new(verifier))
//!     .service(service_fn(|req: http::Request<RequestBody<http_body_util::Empty<bytes::Bytes>>>| async move {
//!         let who = req.extensions().get::<Principal>().map(|p| p.arn().to_owned());
//!         Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from(who.unwrap_or_default()))))
//!     }));
//! # let _ = service;
//! ```

mod body;
mod future;
mod layer;
mod limits;
mod response;
mod service;

pub use body::{BodyError, BodyErrorKind, RequestBody, ResponseBody};
pub use future::ResponseFuture;
pub use layer::VerifySigV4Layer;
#[cfg(feature = "tokio")]
pub use limits::TokioTimer;
pub use limits::{BodyLimits, BufferBudget, Sleep, Timer};
pub use response::{ApiGatewayRejections, RenderRejection};
pub use service::VerifySigV4;
