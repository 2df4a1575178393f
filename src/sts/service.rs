//! STS as a tower service: SigV4 for service `sts`, then AssumeRole or GetCallerIdentity.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use ipnet::IpNet;
use tower_layer::Layer;
use tower_service::Service;

use super::error::StsError;
use super::session::{authorize_assume_role, AssumeRoleConnection};
use super::session_keys::SessionKeys;
use super::token::TokenKeyring;
use super::wire::StsRequest;
use super::xml::{
    assume_role_response, error_response, get_caller_identity_response, new_request_id,
    CONTENT_TYPE as XML_CONTENT_TYPE, REQUEST_ID_HEADER,
};
use crate::clock::offset_date_time;
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Rejection};
use crate::policy::{connection_of, source_ip};
use crate::principal::Principal;
use crate::sigv4::verifier::Verifier;
use crate::store::DynSource;
use crate::store::{ProvideIdentityPolicies, ProvideRole};
use crate::verify::layer::VerifySigV4Layer;
use crate::verify::limits::BodyLimits;
use crate::verify::response::RenderRejection;
use crate::verify::service::VerifySigV4;
use crate::verify::{ResponseBody, ResponseFuture};
use crate::VerifierConfig;

/// STS's clock-skew window (15 minutes; API Gateway's is 5).
pub(crate) const STS_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Renders every rejection of the signature layer as an STS `ErrorResponse` (XML), the only
/// shape STS clients parse.
#[derive(Clone, Copy, Debug, Default)]
pub struct StsRejections;

impl StsRejections {
    /// The response for `rejection`.
    pub fn response(rejection: &Rejection) -> Response<Bytes> {
        error(&StsError::from_rejection(rejection))
    }
}

impl RenderRejection for StsRejections {
    fn render(&self, rejection: &Rejection, _parts: &Parts) -> Response<Bytes> {
        Self::response(rejection)
    }
}

fn xml(status: StatusCode, body: String, request_id: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

fn error(error: &StsError) -> Response<Bytes> {
    let request_id = new_request_id();
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    xml(status, error_response(error, &request_id), &request_id)
}

/// The STS actions, behind the signature layer: reads the verified [`Principal`] and the
/// form body, and answers in STS XML. Use [`StsService`], which puts the layer in front.
#[derive(Clone)]
pub struct StsHandler {
    store: DynSource,
    keyring: Arc<TokenKeyring>,
    clock: Arc<dyn Clock>,
    max_body_bytes: usize,
    trusted_proxies: Arc<[IpNet]>,
}

impl fmt::Debug for StsHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsHandler")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl StsHandler {
    async fn handle<B>(self, request: Request<B>) -> Response<Bytes>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let Some(principal) = parts.extensions.get::<Principal>().cloned() else {
            tracing::error!("sts handler reached without a verified principal");
            return error(&StsError::internal_failure());
        };
        let parsed = if parts.method == Method::POST {
            match Limited::new(body, self.max_body_bytes).collect().await {
                Ok(collected) => StsRequest::from_form(&collected.to_bytes()),
                Err(_) => Err(StsError::malformed_input(
                    "The request body could not be read.",
                )),
            }
        } else {
            StsRequest::from_query(parts.uri.query().unwrap_or_default())
        };
        let answer = match parsed {
            Ok(request) => self.answer(&parts, &principal, request).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(response) => response,
            Err(e) => {
                tracing::info!(caller = principal.arn(), code = %e.code(), "sts request refused");
                error(&e)
            }
        }
    }

    async fn answer(
        &self,
        parts: &Parts,
        principal: &Principal,
        request: StsRequest,
    ) -> Result<Response<Bytes>, StsError> {
        let request_id = new_request_id();
        match request {
            StsRequest::GetCallerIdentity => Ok(xml(
                StatusCode::OK,
                get_caller_identity_response(
                    principal.arn(),
                    principal.user_id(),
                    principal.account(),
                    &request_id,
                ),
                &request_id,
            )),
            StsRequest::AssumeRole(params) => {
                let lookups = async {
                    let role = self.store.provide_role(&params.role_arn).await?;
                    let policies = self
                        .store
                        .provide_identity_policies(principal.principal_arn())
                        .await?;
                    Ok::<_, crate::store::BackendError>((role, policies))
                };
                let (role, caller_policies) = lookups.await.map_err(|e| {
                    tracing::error!(caller = principal.arn(), error = %e, source = ?std::error::Error::source(&e), "sts:AssumeRole: the store failed");
                    StsError::internal_failure()
                })?;
                let connection = connection_of(parts)
                    .map(|c| {
                        let ip = source_ip(parts, &self.trusted_proxies);
                        AssumeRoleConnection::new(ip, c.secure)
                    })
                    .unwrap_or_default();
                let now = self.clock.now();
                let (session, lifetime) = authorize_assume_role(
                    role.as_deref(),
                    caller_policies.as_deref().unwrap_or(&[]),
                    principal,
                    &params,
                    connection,
                    now,
                )?;
                let keyring = &self.keyring;
                // `authorize_assume_role` has refused a clock outside the years -9999 to 9999;
                // an expiry past year 9999 is `mint`'s `MintError`. Both: InternalFailure.
                let now = offset_date_time(now).ok_or_else(StsError::internal_failure)?;
                let credentials = keyring.mint(session.clone(), lifetime, now).map_err(|e| {
                    tracing::error!(caller = principal.arn(), "sts:AssumeRole: {e}");
                    StsError::from(e)
                })?;
                tracing::info!(
                    caller = principal.arn(),
                    session = %session.session_arn(),
                    "sts:AssumeRole granted"
                );
                Ok(xml(
                    StatusCode::OK,
                    assume_role_response(
                        &session.assumed_role_id(),
                        &session.session_arn(),
                        &credentials,
                        params.packed_policy_size(),
                        &request_id,
                    ),
                    &request_id,
                ))
            }
        }
    }
}

impl<B> Service<Request<B>> for StsHandler
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(request).await.map(Full::new)) })
    }
}

/// A self-hosted STS endpoint: `AssumeRole` and `GetCallerIdentity` on the AWS query
/// protocol, signed with SigV4 for service `sts`, answering in STS XML (errors included), so
/// unmodified SDKs work with only an endpoint URL set.
///
/// Callers and roles come from a store ([`SharedStore`](crate::store::SharedStore), a database
/// store, any [`IdentitySource`](crate::store::IdentitySource)), and the session tokens are sealed with a
/// [`TokenKeyring`]; the temporary credentials it issues are accepted by any verifier whose
/// key provider is a [`SessionKeys`](super::SessionKeys) with that keyring (the service's own
/// verifier is one).
///
/// ```
/// use std::sync::Arc;
/// use tower_sigv4::store::{IdentityStore, SharedStore};
/// use tower_sigv4::sts::{StsService, TokenKeyring};
///
/// let store = SharedStore::new(IdentityStore::builder().build()?);
/// let keyring = Arc::new(TokenKeyring::generate_random("k1")?);
/// let sts = StsService::builder(store, keyring, "us-east-1").build()?;
/// // Mount it: axum::Router::new().route_service("/", sts)
/// # let _ = sts;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct StsService {
    inner: VerifySigV4<StsHandler>,
}

impl StsService {
    /// A builder for the STS of `region` over `store`, sealing session tokens with `keyring`.
    pub fn builder(
        store: impl Into<DynSource>,
        keyring: Arc<TokenKeyring>,
        region: impl Into<String>,
    ) -> StsServiceBuilder {
        StsServiceBuilder {
            store: store.into(),
            keyring,
            region: region.into(),
            clock: Arc::new(SystemClock),
            clock_skew: STS_CLOCK_SKEW,
            max_body_bytes: 64 * 1024,
            trusted_proxies: Vec::new(),
            body_limits: None,
        }
    }
}

/// Builds an [`StsService`].
#[derive(Clone)]
pub struct StsServiceBuilder {
    store: DynSource,
    keyring: Arc<TokenKeyring>,
    region: String,
    clock: Arc<dyn Clock>,
    clock_skew: Duration,
    max_body_bytes: usize,
    trusted_proxies: Vec<IpNet>,
    body_limits: Option<BodyLimits>,
}

impl fmt::Debug for StsServiceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsServiceBuilder")
            .field("region", &self.region)
            .field("clock_skew", &self.clock_skew)
            .finish_non_exhaustive()
    }
}

impl StsServiceBuilder {
    /// Reads the time from `clock` (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock-skew window (default 15 minutes, as STS).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// The largest request body (default 64 KiB; STS requests are small).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Trusts `X-Forwarded-For` from these proxies for `aws:SourceIp` in trust policies
    /// (default: none; the peer address is used), as
    /// [`IamAuthorizer::with_trusted_proxies`](crate::IamAuthorizer::with_trusted_proxies) does.
    pub fn trusted_proxies(mut self, proxies: Vec<IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// The body deadlines and buffer budget of its signature layer (default:
    /// [`BodyLimits::default`]).
    pub fn body_limits(mut self, limits: BodyLimits) -> Self {
        self.body_limits = Some(limits);
        self
    }

    /// Builds the service.
    pub fn build(self) -> Result<StsService, ConfigError> {
        let config = VerifierConfig::new(self.region, "sts")
            .with_clock_skew(self.clock_skew)
            .with_max_body_bytes(self.max_body_bytes);
        let keys = SessionKeys::new(self.store.clone(), self.keyring.clone());
        let verifier = Verifier::new(config, keys)?;
        let handler = StsHandler {
            store: self.store,
            keyring: self.keyring,
            clock: self.clock.clone(),
            max_body_bytes: self.max_body_bytes,
            trusted_proxies: self.trusted_proxies.into(),
        };
        let mut layer = VerifySigV4Layer::new(verifier)
            .with_shared_clock(self.clock)
            .with_renderer(StsRejections);
        if let Some(limits) = self.body_limits {
            layer = layer.with_body_limits(limits);
        }
        Ok(StsService {
            inner: layer.layer(handler),
        })
    }
}

impl<B> Service<Request<B>> for StsService
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody<Full<Bytes>>>;
    type Error = Infallible;
    type Future = ResponseFuture<StsHandler, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        <VerifySigV4<StsHandler> as Service<Request<B>>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        self.inner.call(request)
    }
}
