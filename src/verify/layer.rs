use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use super::limits::{default_timer, BodyLimits, Timer};
use super::response::{ApiGatewayRejections, RenderRejection};
use super::service::VerifySigV4;
use crate::clock::{Clock, SystemClock};
use crate::policy::{AllowAuthenticated, CheckPolicy};
use crate::sigv4::verifier::Verifier;

/// Verifies SigV4 signatures in front of a service, then runs the policy hook.
///
/// The layer verifies each request with a [`Verifier`](crate::Verifier), runs the policy hook,
/// and either calls the inner service — with the [`Principal`](crate::Principal) and the
/// [`Verified`](crate::Verified) facts in the request's extensions — or answers with the
/// rendered [`Rejection`](crate::Rejection) (a copy of which goes into the response's
/// extensions for outer layers to log and count). Rejections are responses, never service
/// errors: `Error = S::Error`.
///
/// Before anything else the request target is judged ([`judge_path`](crate::judge_path)): a path servers could
/// read differently is refused with 400, and the inner service gets the normalised path the
/// policy judged.
///
/// The body is never read before the signature is proven when a signed
/// `x-amz-content-sha256` declares its hash: it streams on, hashed as it arrives, its last
/// piece held back until the hash checks out. When the signature covers the hash of a body it
/// does not declare, the body is read whole first (up to `max_body_bytes`, within the
/// [`BufferBudget`](crate::BufferBudget)) and the inner service receives the very bytes that were hashed. With
/// `UNSIGNED-PAYLOAD` it streams through. In every mode the size limit and the read deadlines
/// ([`BodyLimits`](crate::BodyLimits)) apply, and a body that fails them ends with a [`BodyError`](crate::verify::BodyError); the client
/// gets 413, 408, 403 or 400 unless the inner service has already answered.
///
/// ```
/// use std::convert::Infallible;
/// use tower::{ServiceBuilder, service_fn};
/// use tower_sigv4::verify::RequestBody;
/// use tower_sigv4::{Principal, StaticKeys, Verifier, VerifierConfig, VerifySigV4Layer};
///
/// let keys = StaticKeys::new().with_key(
///     "AKIDEXAMPLE",
///     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
///     Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE"),
/// );
/// let verifier = Verifier::new(VerifierConfig::default(), keys).unwrap();
/// let service = ServiceBuilder::new()
///     .layer(VerifySigV4Layer::new(verifier))
///     .service(service_fn(|req: http::Request<RequestBody<http_body_util::Empty<bytes::Bytes>>>| async move {
///         let who = req.extensions().get::<Principal>().map(|p| p.arn().to_owned());
///         Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from(who.unwrap_or_default()))))
///     }));
/// # let _ = service;
/// ```
#[derive(Clone)]
pub struct VerifySigV4Layer {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) verifier: Verifier,
    pub(crate) policy: Arc<dyn CheckPolicy>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) render: Arc<dyn RenderRejection>,
    pub(crate) limits: BodyLimits,
    pub(crate) timer: Option<Arc<dyn Timer>>,
}

impl Shared {
    /// Whether every step can answer at once (key provider and policy hook): then a request
    /// whose body need not be read first is authenticated inside `call`, with no allocation
    /// of the layer's own.
    pub(crate) fn answers_at_once(&self) -> bool {
        self.verifier.key_provider().answers_at_once() && self.policy.answers_at_once()
    }
}

impl VerifySigV4Layer {
    /// A layer that lets every caller with a valid signature through. Rejections are
    /// answered in the verifier's profile: [`ApiGatewayRejections`], or in the S3 profile
    /// `S3Rejections` with a one-hour total body deadline (uploads go up to 5 GiB).
    pub fn new(verifier: Verifier) -> Self {
        let (render, limits): (Arc<dyn RenderRejection>, _) = match verifier.config().profile {
            #[cfg(feature = "s3")]
            crate::sigv4::settings::Profile::S3 => (
                Arc::new(crate::s3::S3Rejections),
                BodyLimits::default().with_total_timeout(std::time::Duration::from_secs(3600)),
            ),
            _ => (Arc::new(ApiGatewayRejections), BodyLimits::default()),
        };
        Self {
            shared: Arc::new(Shared {
                verifier,
                policy: Arc::new(AllowAuthenticated),
                clock: Arc::new(SystemClock),
                render,
                limits,
                timer: default_timer(),
            }),
        }
    }

    fn map(self, f: impl FnOnce(&mut Shared)) -> Self {
        let mut shared = Shared {
            verifier: self.shared.verifier.clone(),
            policy: self.shared.policy.clone(),
            clock: self.shared.clock.clone(),
            render: self.shared.render.clone(),
            limits: self.shared.limits.clone(),
            timer: self.shared.timer.clone(),
        };
        f(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Runs `policy` after the signature is proven (default: allow every authenticated caller).
    pub fn with_policy(self, policy: impl CheckPolicy) -> Self {
        self.with_shared_policy(Arc::new(policy))
    }

    /// Like [`VerifySigV4Layer::with_policy`], with a shared hook.
    pub fn with_shared_policy(self, policy: Arc<dyn CheckPolicy>) -> Self {
        self.map(|s| s.policy = policy)
    }

    /// Reads the time from `clock` (default: the system clock).
    pub fn with_clock(self, clock: impl Clock) -> Self {
        self.with_shared_clock(Arc::new(clock))
    }

    /// Like [`VerifySigV4Layer::with_clock`], with a shared clock.
    pub fn with_shared_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.map(|s| s.clock = clock)
    }

    /// Renders rejections with `render` (default: [`ApiGatewayRejections`]).
    pub fn with_renderer(self, render: impl RenderRejection) -> Self {
        let render: Arc<dyn RenderRejection> = Arc::new(render);
        self.map(|s| s.render = render)
    }

    /// Sets the body-read deadlines and the buffer budget (default: [`BodyLimits::default`]).
    pub fn with_body_limits(self, limits: BodyLimits) -> Self {
        self.map(|s| s.limits = limits)
    }

    /// Runs the body-read deadlines on `timer` (default: Tokio's with the `tokio` feature,
    /// otherwise none, and then no deadline is enforced).
    pub fn with_timer(self, timer: impl Timer) -> Self {
        let timer: Arc<dyn Timer> = Arc::new(timer);
        self.map(|s| s.timer = Some(timer))
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }
}

impl fmt::Debug for VerifySigV4Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifySigV4Layer")
            .field("verifier", &self.shared.verifier)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for VerifySigV4Layer {
    type Service = VerifySigV4<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifySigV4::new(inner, self.shared.clone())
    }
}
