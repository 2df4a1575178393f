//! # tower-sigv4
//!
//! AWS Signature Version 4 for any [tower] service — axum, hyper, tonic — verified the way
//! Amazon API Gateway's `AWS_IAM` authorization does, self-hosted, with no AWS account behind it.
//!
//! **For** teams that want their internal HTTP services to accept the credentials their
//! clients already have (AWS SDKs, botocore, `curl --aws-sigv4`), with API Gateway's exact
//! answers — or, with the `s3` feature, the way Amazon S3 verifies them, streaming uploads and
//! checksums included, for S3-compatible servers. **Not for** calling AWS itself (use the AWS
//! SDK), nor SigV4a (ECDSA).
//!
//! ## Quick start
//!
//! ```no_run
//! use axum::{routing::get, Extension, Router};
//! use tower_sigv4::{Principal, StaticKeys, Verifier, VerifierConfig, VerifySigV4Layer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = StaticKeys::new().with_key(
//!     "AKIDEXAMPLE",
//!     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
//!     Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLEALICE"),
//! );
//! let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys)?;
//! let app = Router::new()
//!     .route("/", get(|p: Extension<Principal>| async move { format!("hello {}", p.arn()) }))
//!     .layer(VerifySigV4Layer::new(verifier));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! The layer puts the verified [`Principal`] in the request's extensions; with the `axum`
//! feature it is an extractor of its own (`|p: Principal| …`), which answers 500 when the layer
//! is missing.
//!
//! ## What is checked, in order
//!
//! First, before authentication, the request target: a path that servers could read in
//! different ways (`\`, `%5C`, `%25`, `;`, control characters, `CONNECT`, `OPTIONS *`, two
//! `Host` headers …) is a 400; the rest is normalised once, and that path is what the policy
//! judges and the inner service receives (see [`judge_path`]).
//!
//! Then each rejection is a 403 with API Gateway's JSON body and `x-amzn-ErrorType` unless
//! noted: missing authentication; both header and query auth; malformed header; missing parts;
//! unsupported algorithm; duplicate parameters; `X-Amz-Expires` out of `1..=604800`; `host` not
//! signed; malformed date; clock skew (±5 minutes by default); malformed credential; wrong
//! region, service, terminator or date in the scope; expired presigned URL; unknown key or bad
//! session token; expired token; signature mismatch (constant-time); payload hash mismatch.
//! A body over the limit is a 413; a body that stalls a 408; a malformed one a 400; when the
//! process-wide budget for buffered bodies is spent, a 503; a failing key provider a 500,
//! never a 403.
//!
//! In the S3 profile (the `s3` feature, `Profile::S3`) the checks, their order and the answers
//! are S3's instead — `AuthorizationHeaderMalformed`, `SignatureDoesNotMatch`,
//! `AccessDenied` with `HeadersNotSigned` for any unsigned `x-amz-*` header, S3's XML — and
//! streaming uploads are verified chunk by chunk (see the `s3` module).
//!
//! ## Feature flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `axum` | yes | `Principal` as an axum extractor (`FromRequestParts`, `OptionalFromRequestParts`); turns on `tokio` |
//! | `tokio` | via `axum` | `TokioTimer`, the layer's default timer for the body-read deadlines |
//! | `iam` | no | the IAM policy engine, `IamAuthorizer`, the identity store |
//! | `sts` | no | the STS service and its session tokens (turns on `iam`) |
//! | `s3` | no | the S3 profile: `aws-chunked` streaming verified chunk by chunk, checksums, S3's XML errors, the streaming signer |
//! | `test-util` | no | `FixedClock` |
//! | `sqlite` | no | `store::db::DbStore` on SQLite: keys, policies and roles in a database, secrets sealed at rest |
//! | `postgres` | no | `store::db::DbStore` on PostgreSQL, shared by replicas (`LISTEN/NOTIFY`) |
//! | `iam-api` | no | `iam_api::IamApiService`: the IAM Query API over any `store::ManageIdentities` |
//!
//! ## Security considerations
//!
//! * **Replay.** A signed request can be replayed unchanged within the clock-skew window
//!   (presigned URLs until they expire). Keep the window small; make non-idempotent operations
//!   idempotent or keep a nonce store if replay matters.
//! * **Proxies.** The signature covers `Host`, the path and the query as the client sent them.
//!   A proxy that rewrites them breaks signatures; one that rewrites `Host` can be accommodated
//!   by trusting `X-Forwarded-Host`/`Forwarded` — only when the proxy overwrites those headers,
//!   never by default.
//! * **TLS.** SigV4 authenticates; it does not encrypt. Serve over TLS, or behind a proxy that
//!   terminates it.
//! * **Paths.** The path the policy judged is the path the inner service routes: the layer
//!   refuses targets servers read differently and hands on the normalised one ([`judge_path`]).
//! * **Memory.** A body is never read before the signature is proven when a signed
//!   `x-amz-content-sha256` declares its hash; bodies that must be read whole first are bounded
//!   by `max_body_bytes` and a process-wide [`BufferBudget`]; every body by the deadlines of
//!   [`BodyLimits`], which need a [`Timer`] (the `tokio` feature's, by default).
//! * **S3 uploads.** In the S3 profile a streaming upload's bytes reach the inner service only
//!   after their chunk's signature verified, and its end only after the trailer, the decoded
//!   length and every checksum did; memory per upload is one chunk. With
//!   `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (and `UNSIGNED-PAYLOAD`) only the checksum protects
//!   the bytes: use TLS.
//! * **Secrets** are zeroed on drop and never printed (`Debug` shows `***`); the expected
//!   signature is never logged or returned (unless the opt-in mismatch detail is on, which shows
//!   the canonical request, never a key).
//!
//! [tower]: https://docs.rs/tower

mod clock;
mod credentials;
mod error;
#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "iam")]
#[cfg_attr(docsrs, doc(cfg(feature = "iam")))]
pub mod iam;
#[cfg(feature = "iam-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "iam-api")))]
pub mod iam_api;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "iam-api"))]
mod ids;
mod policy;
mod principal;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub mod s3;
pub mod sign;
mod sigv4;
#[cfg(feature = "iam")]
#[cfg_attr(docsrs, doc(cfg(feature = "iam")))]
pub mod store;
#[cfg(feature = "sts")]
#[cfg_attr(docsrs, doc(cfg(feature = "sts")))]
pub mod sts;
pub mod verify;
#[cfg(any(feature = "sts", feature = "iam-api"))]
mod xml;

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use clock::FixedClock;
pub use clock::{Clock, SystemClock};
pub use credentials::{
    provide_key_fn, CacheSettings, CachingKeys, KeyError, KeyErrorKind, KeyRequest, ProvideKey,
    ProvideKeyFn, ProvideKeyFuture, ResolvedKey, SecretKey, StaticKeys,
};
pub use error::{ConfigError, ConfigErrorKind, Rejection, RejectionKind};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::MissingPrincipal;
pub use policy::{
    AllowAuthenticated, CheckPolicy, CheckPolicyFuture, ConnectionInfo, PolicyDecision,
    PolicyOutcome, PolicyRequest,
};
#[cfg(feature = "iam")]
#[cfg_attr(docsrs, doc(cfg(feature = "iam")))]
pub use policy::{IamAuthorizer, IdentityPolicies};
pub use principal::{Principal, PrincipalType, SessionInfo};
pub use sign::layer::{
    ClientPayload, SignSigV4, SignSigV4Layer, SignSigV4Passthrough, SignSigV4PassthroughLayer,
};
pub use sign::signer::{
    ContentSha256Header, Credentials, SessionTokenMode, SignError, SignErrorKind, SignablePayload,
    Signer, SigningSettings,
};
pub use sigv4::parse::{credential_service, AuthLocation};
pub use sigv4::scope::CredentialScope;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub use sigv4::settings::{ChecksumVerification, StreamingLimits};
pub use sigv4::settings::{
    ForwardedHost, MismatchDetail, PathNormalization, PercentEncoding, PresignedExpires,
    PresignedPayload, Profile, UnsignedPayload, VerifierConfig,
};
pub use sigv4::target::{judge_path, EncodedSlash, InvalidTarget, TargetRules};
pub use sigv4::verifier::{Checked, Payload, PayloadCoverage, Verified, Verifier};
pub use verify::layer::VerifySigV4Layer;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use verify::limits::TokioTimer;
pub use verify::limits::{BodyLimits, BufferBudget, Sleep, Timer};
pub use verify::response::{ApiGatewayRejections, GrpcRejections, RenderRejection};
pub use verify::service::VerifySigV4;
