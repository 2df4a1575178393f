//! The policy-check hook: run after the signature is proven, it allows or denies.
//!
//! Closures are hooks. They may return a [`PolicyDecision`] directly or a future of one:
//!
//! ```
//! use tower_sigv4::{PolicyDecision, PolicyRequest};
//!
//! let only_get = |req: &PolicyRequest<'_>| {
//!     if req.parts().method == http::Method::GET {
//!         PolicyDecision::Allow
//!     } else {
//!         PolicyDecision::deny(format!("User: {} may only read", req.principal().arn()))
//!     }
//! };
//! # fn takes(_: impl tower_sigv4::CheckPolicy) {}
//! # takes(only_get);
//! ```

#[cfg(feature = "iam")]
mod iam_authorizer;

#[cfg(feature = "sts")]
pub(crate) use iam_authorizer::source_ip;
#[cfg(feature = "iam")]
pub use iam_authorizer::{IamAuthorizer, IdentityPolicies};

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use http::request::Parts;

use crate::credentials::future::NowOrLater;
use crate::principal::Principal;
use crate::sigv4::scope::CredentialScope;

/// Facts about the connection a request came in on. A server inserts it into the request's
/// extensions (the gateway does); policy checks read it for `aws:SourceIp` and
/// `aws:SecureTransport`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub secure: bool,
}

impl ConnectionInfo {
    /// Connection facts.
    pub fn new(peer: SocketAddr, secure: bool) -> Self {
        Self { peer, secure }
    }
}

/// What a policy check is given.
#[derive(Debug)]
pub struct PolicyRequest<'a> {
    parts: &'a Parts,
    principal: &'a Principal,
    scope: &'a CredentialScope,
    now: SystemTime,
}

impl<'a> PolicyRequest<'a> {
    /// A policy request (the layer builds these; tests may too).
    pub fn new(
        parts: &'a Parts,
        principal: &'a Principal,
        scope: &'a CredentialScope,
        now: SystemTime,
    ) -> Self {
        Self {
            parts,
            principal,
            scope,
            now,
        }
    }

    /// The request head (method, URI, headers, extensions).
    pub fn parts(&self) -> &'a Parts {
        self.parts
    }

    /// The verified caller.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// The credential scope the request was signed for.
    pub fn scope(&self) -> &'a CredentialScope {
        self.scope
    }

    /// The verifier's current time.
    pub fn now(&self) -> SystemTime {
        self.now
    }

    /// The connection facts, when the server recorded them: a [`ConnectionInfo`] extension
    /// or, with the `axum` feature, axum's `ConnectInfo<SocketAddr>` (read as plain HTTP, since
    /// axum does not say whether the connection was TLS: insert a `ConnectionInfo` for that).
    pub fn connection(&self) -> Option<ConnectionInfo> {
        connection_of(self.parts)
    }
}

/// See [`PolicyRequest::connection`].
pub(crate) fn connection_of(parts: &Parts) -> Option<ConnectionInfo> {
    if let Some(c) = parts.extensions.get::<ConnectionInfo>() {
        return Some(*c);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(peer)) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(ConnectionInfo::new(*peer, false));
    }
    None
}

/// A policy check's answer.
#[derive(Clone)]
#[non_exhaustive]
pub enum PolicyDecision {
    /// Let the request through.
    Allow,
    /// 403 `AccessDeniedException` with this message.
    Deny(String),
    /// The check could not decide (a backend failed): 500.
    Fail(Arc<dyn StdError + Send + Sync>),
}

impl PolicyDecision {
    /// A denial with `message` (API Gateway's shape: `User: … is not authorized to …`).
    pub fn deny(message: impl Into<String>) -> Self {
        Self::Deny(message.into())
    }

    /// A failure to decide.
    pub fn fail(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Fail(Arc::from(source.into()))
    }

    /// Whether this allows the request.
    pub fn is_allow(&self) -> bool {
        matches!(self, Self::Allow)
    }
}

impl fmt::Debug for PolicyDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Allow => f.write_str("Allow"),
            Self::Deny(m) => f.debug_tuple("Deny").field(m).finish(),
            Self::Fail(e) => f.debug_tuple("Fail").field(e).finish(),
        }
    }
}

impl IntoFuture for PolicyDecision {
    type Output = PolicyDecision;
    type IntoFuture = std::future::Ready<PolicyDecision>;

    fn into_future(self) -> Self::IntoFuture {
        std::future::ready(self)
    }
}

/// The future a [`CheckPolicy`] returns: ready at once (no allocation) or boxed.
#[derive(Debug)]
pub struct CheckPolicyFuture<'a>(NowOrLater<'a, PolicyDecision>);

impl<'a> CheckPolicyFuture<'a> {
    /// A decision available now.
    pub fn ready(decision: PolicyDecision) -> Self {
        Self(NowOrLater::Now(Some(decision)))
    }

    /// A decision that needs real async work.
    pub fn new(fut: impl Future<Output = PolicyDecision> + Send + 'a) -> Self {
        Self(NowOrLater::Later(Box::pin(fut)))
    }
}

impl CheckPolicyFuture<'_> {
    /// The decision, if it is there without waiting.
    pub(crate) fn now(self) -> Option<PolicyDecision> {
        self.0.now_or_later().ok()
    }
}

impl Future for CheckPolicyFuture<'_> {
    type Output = PolicyDecision;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<PolicyDecision> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// What a closure policy returns: a [`PolicyDecision`] (checked with no allocation) or a
/// future of one (boxed).
pub trait PolicyOutcome: Send {
    /// Whether it is a decision, not a future.
    const AT_ONCE: bool = false;

    /// The future the layer awaits.
    fn into_check_future(self) -> CheckPolicyFuture<'static>;
}

impl PolicyOutcome for PolicyDecision {
    const AT_ONCE: bool = true;

    fn into_check_future(self) -> CheckPolicyFuture<'static> {
        CheckPolicyFuture::ready(self)
    }
}

impl<F> PolicyOutcome for F
where
    F: Future<Output = PolicyDecision> + Send + 'static,
{
    fn into_check_future(self) -> CheckPolicyFuture<'static> {
        CheckPolicyFuture::new(self)
    }
}

/// Decides whether a verified caller may make a request.
///
/// Implemented for closures `Fn(&PolicyRequest) -> R` where `R` is a [`PolicyDecision`] (no
/// allocation per request) or a future of one ([`PolicyOutcome`]), and by the IAM
/// authorizer.
pub trait CheckPolicy: Send + Sync + 'static {
    /// Checks `request`.
    fn check_policy<'a>(&'a self, request: &'a PolicyRequest<'a>) -> CheckPolicyFuture<'a>;

    /// Whether [`CheckPolicy::check_policy`] always answers at once
    /// ([`CheckPolicyFuture::ready`]). The layer then checks a request without an allocation
    /// of its own. Default: `false`.
    fn answers_at_once(&self) -> bool {
        false
    }
}

impl<F, R> CheckPolicy for F
where
    F: Fn(&PolicyRequest<'_>) -> R + Send + Sync + 'static,
    R: PolicyOutcome,
{
    fn check_policy<'a>(&'a self, request: &'a PolicyRequest<'a>) -> CheckPolicyFuture<'a> {
        self(request).into_check_future()
    }

    fn answers_at_once(&self) -> bool {
        R::AT_ONCE
    }
}

/// The default hook: every authenticated caller is allowed.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAuthenticated;

impl CheckPolicy for AllowAuthenticated {
    fn check_policy<'a>(&'a self, _request: &'a PolicyRequest<'a>) -> CheckPolicyFuture<'a> {
        CheckPolicyFuture::ready(PolicyDecision::Allow)
    }

    fn answers_at_once(&self) -> bool {
        true
    }
}
