//! The IAM API as a tower service: SigV4 for service `iam`, then the action, in IAM's XML.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use tower_layer::Layer;
use tower_service::Service;

use super::error::IamError;
use super::handler::{envelope, error_body, Handler};
use super::wire::parse;
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Rejection};
use crate::policy::connection_of;
use crate::principal::Principal;
use crate::sigv4::verifier::Verifier;
use crate::store::{ManageIdentities, ProvideIdentityPolicies};
use crate::verify::layer::VerifySigV4Layer;
use crate::verify::limits::BodyLimits;
use crate::verify::response::RenderRejection;
use crate::verify::service::VerifySigV4;
use crate::verify::{ResponseBody, ResponseFuture};
use crate::{ProvideKey, VerifierConfig};

const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

fn xml(status: StatusCode, body: String, request_id: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

fn error(e: &IamError) -> Response<Bytes> {
    let request_id = crate::verify::response::request_id();
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    xml(status, error_body(e, &request_id), &request_id)
}

/// Renders every rejection of the signature layer as an IAM `ErrorResponse`.
#[derive(Clone, Copy, Debug, Default)]
pub struct IamRejections;

impl IamRejections {
    /// The response for `rejection`.
    pub fn response(rejection: &Rejection) -> Response<Bytes> {
        error(&IamError::from_rejection(rejection))
    }
}

impl RenderRejection for IamRejections {
    fn render(&self, rejection: &Rejection, _parts: &Parts) -> Response<Bytes> {
        Self::response(rejection)
    }
}

/// The actions behind the signature layer.
#[derive(Clone)]
pub struct IamHandler {
    handler: Arc<Handler>,
    max_body_bytes: usize,
}

impl fmt::Debug for IamHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamHandler").finish_non_exhaustive()
    }
}

impl IamHandler {
    async fn handle<B>(self, request: Request<B>) -> Response<Bytes>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let Some(principal) = parts.extensions.get::<Principal>().cloned() else {
            tracing::error!("iam handler reached without a verified principal");
            return error(&IamError::service_failure());
        };
        let parsed = if parts.method == Method::POST {
            match Limited::new(body, self.max_body_bytes).collect().await {
                Ok(collected) => parse(&collected.to_bytes()),
                Err(_) => Err(IamError::malformed_input(
                    "The request body could not be read.",
                )),
            }
        } else {
            parse(parts.uri.query().unwrap_or_default().as_bytes())
        };
        let request = match parsed {
            Ok(r) => r,
            Err(e) => return error(&e),
        };
        let action = request.action.name();
        match self
            .handler
            .answer(&principal, connection_of(&parts), request)
            .await
        {
            Ok(result) => {
                tracing::info!(caller = principal.arn(), action, "iam call");
                let request_id = crate::verify::response::request_id();
                xml(
                    StatusCode::OK,
                    envelope(action, result.as_deref(), &request_id),
                    &request_id,
                )
            }
            Err(e) => {
                tracing::info!(
                    caller = principal.arn(),
                    action,
                    code = e.code(),
                    "iam call refused"
                );
                error(&e)
            }
        }
    }
}

impl<B> Service<Request<B>> for IamHandler
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

/// The IAM Query API (version 2010-05-08) over a store: users, access keys, inline policies,
/// roles and tags, managed with unmodified AWS tools (`aws iam … --endpoint-url`, boto3's
/// `iam` client). Requests are signed for service `iam` in `us-east-1` or the configured
/// region; every call is authorized by the IAM engine with the caller's identity policies
/// (`iam:<Action>` on the target's ARN), and every answer — rejections of the signature
/// included — is IAM's XML.
///
/// ```
/// use tower_sigv4::iam_api::IamApiService;
/// use tower_sigv4::store::{IdentityStore, ReadOnlyStore, SharedStore};
///
/// let store = SharedStore::new(IdentityStore::builder().build()?);
/// let read_only = ReadOnlyStore::new(store.clone(), "123456789012", 0);
/// let iam = IamApiService::builder(store.clone(), store, read_only, "eu-west-1").build()?;
/// # let _ = iam;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct IamApiService {
    regional: VerifySigV4<IamHandler>,
    global: Option<VerifySigV4<IamHandler>>,
    region: Arc<str>,
}

impl IamApiService {
    /// A builder: `keys` authenticate callers (wrap them in `sts::SessionKeys` to let role
    /// sessions in), `policies` are the callers' identity policies, `manage` is the store
    /// the calls act on, and `region` the configured region (`us-east-1` is accepted too).
    pub fn builder(
        keys: impl ProvideKey,
        policies: impl ProvideIdentityPolicies,
        manage: impl ManageIdentities,
        region: impl Into<String>,
    ) -> IamApiServiceBuilder {
        IamApiServiceBuilder {
            keys: Arc::new(keys),
            policies: Arc::new(policies),
            manage: Arc::new(manage),
            region: region.into(),
            clock: Arc::new(SystemClock),
            trust_policy_limit: 2048,
            max_body_bytes: 256 * 1024,
            body_limits: None,
        }
    }
}

/// Builds an [`IamApiService`].
pub struct IamApiServiceBuilder {
    keys: Arc<dyn ProvideKey>,
    policies: Arc<dyn ProvideIdentityPolicies>,
    manage: Arc<dyn ManageIdentities>,
    region: String,
    clock: Arc<dyn Clock>,
    trust_policy_limit: usize,
    max_body_bytes: usize,
    body_limits: Option<BodyLimits>,
}

impl fmt::Debug for IamApiServiceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamApiServiceBuilder")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl IamApiServiceBuilder {
    /// Reads the time from `clock` (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The largest trust policy, white space not counted (default 2048, IAM's default quota).
    pub fn trust_policy_limit(mut self, limit: usize) -> Self {
        self.trust_policy_limit = limit;
        self
    }

    /// The largest request body (default 256 KiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The body deadlines and buffer budget of the signature layer.
    pub fn body_limits(mut self, limits: BodyLimits) -> Self {
        self.body_limits = Some(limits);
        self
    }

    /// Builds the service.
    pub fn build(self) -> Result<IamApiService, ConfigError> {
        let handler = IamHandler {
            handler: Arc::new(Handler {
                manage: self.manage,
                policies: self.policies,
                clock: self.clock.clone(),
                trust_policy_limit: self.trust_policy_limit,
            }),
            max_body_bytes: self.max_body_bytes,
        };
        let stack = |region: &str| -> Result<VerifySigV4<IamHandler>, ConfigError> {
            let config =
                VerifierConfig::new(region, "iam").with_max_body_bytes(self.max_body_bytes);
            let verifier = Verifier::from_arc(config, self.keys.clone())?;
            let mut layer = VerifySigV4Layer::new(verifier)
                .with_shared_clock(self.clock.clone())
                .with_renderer(IamRejections);
            if let Some(limits) = &self.body_limits {
                layer = layer.with_body_limits(limits.clone());
            }
            Ok(layer.layer(handler.clone()))
        };
        let regional = stack(&self.region)?;
        let global = if self.region == "us-east-1" {
            None
        } else {
            Some(stack("us-east-1")?)
        };
        Ok(IamApiService {
            regional,
            global,
            region: self.region.into(),
        })
    }
}

/// The region of the request's credential scope, if it names one.
fn scope_region<B>(request: &Request<B>) -> Option<String> {
    let credential = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or_default().to_owned())
        .or_else(|| {
            form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "X-Amz-Credential")
                .map(|(_, v)| v.into_owned())
        })?;
    credential.split('/').nth(2).map(str::to_owned)
}

impl<B> Service<Request<B>> for IamApiService
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody<Full<Bytes>>>;
    type Error = Infallible;
    type Future = ResponseFuture<IamHandler, B>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Both stacks are always ready (their handler is).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let global = scope_region(&request)
            .is_some_and(|r| r == "us-east-1" && *self.region != *"us-east-1");
        match (&mut self.global, global) {
            (Some(g), true) => g.call(request),
            _ => self.regional.call(request),
        }
    }
}
