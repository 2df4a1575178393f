//! The request path: `/healthz`, STS or the API (signature, IAM, then echo or proxy), with one
//! access-log line and the metrics per request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tower_layer::Layer;
use tower_service::Service;
use tower_sigv4::iam_api::IamApiService;
use tower_sigv4::sts::{SessionKeys, StsService, TokenKeyring};
use tower_sigv4::verify::RequestBody;
use tower_sigv4::{
    credential_service, ApiGatewayRejections, BufferBudget, ConnectionInfo, GrpcRejections,
    IamAuthorizer, Principal, ProvideKey, Rejection, Verifier, VerifySigV4, VerifySigV4Layer,
};

use crate::config::GatewayConfig;
use crate::metrics::Metrics;
use crate::proxy::Upstream;
use crate::store::GatewayIdentities;
use crate::BoxError;

/// Every response body of the gateway.
pub(crate) type GatewayBody = BoxBody<Bytes, BoxError>;

pub(crate) fn full(bytes: impl Into<Bytes>) -> GatewayBody {
    Full::new(bytes.into()).map_err(|e| match e {}).boxed()
}

pub(crate) fn json_response(
    status: StatusCode,
    value: &serde_json::Value,
) -> Response<GatewayBody> {
    let mut response = Response::new(full(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// What a configuration builds and a reload replaces as a whole: the signature layer over the
/// upstream (verifier settings, resource policy, identities) and STS, on one fixed snapshot of
/// the identities, so that a request sees the old or the new configuration, never a mix.
struct Stack {
    api: VerifySigV4<Upstream>,
    sts: Option<StsService>,
    iam: Option<IamApiService>,
    healthz: bool,
    region: String,
}

impl Stack {
    fn build(
        config: &GatewayConfig,
        identities: &GatewayIdentities,
        keyring: Option<Arc<TokenKeyring>>,
        upstream: &Upstream,
        budget: &BufferBudget,
    ) -> Result<Self, BoxError> {
        let store = identities.source.clone();
        // Temporary credentials are accepted wherever STS is on: their tokens open with the
        // keyring; every other key is the store's.
        let keys: Arc<dyn ProvideKey> = match &keyring {
            Some(keyring) => Arc::new(SessionKeys::new(store.clone(), keyring.clone())),
            None => Arc::new(store.clone()),
        };
        let verifier = Verifier::from_arc(config.verifier_config()?, keys)?;
        let mut hook = IamAuthorizer::new(config.api_context()?, config.api.stage.clone())
            .with_identity_source(store.clone())
            .with_trusted_proxies(config.trusted_proxies()?);
        if let Some(policy) = config.resource_policy()? {
            hook = hook.with_resource_policy(policy);
        }
        let api = VerifySigV4Layer::new(verifier)
            .with_policy(hook)
            .with_renderer(render_rejection)
            .with_body_limits(config.body_limits(budget))
            .layer(upstream.clone());
        let iam = if config.iam_api.enabled {
            let keys: Arc<dyn ProvideKey> = match &keyring {
                Some(keyring) => Arc::new(SessionKeys::new(store.clone(), keyring.clone())),
                None => Arc::new(store.clone()),
            };
            Some(
                IamApiService::builder(
                    keys,
                    store.clone(),
                    identities.manage.clone(),
                    config.api.region.clone(),
                )
                .trust_policy_limit(config.iam_api.trust_policy_limit)
                .body_limits(config.body_limits(budget))
                .build()?,
            )
        } else {
            None
        };
        let sts = match keyring {
            Some(keyring) => Some(
                StsService::builder(store, keyring, config.api.region.clone())
                    .trusted_proxies(config.trusted_proxies()?)
                    .body_limits(config.body_limits(budget))
                    .build()?,
            ),
            None => None,
        };
        Ok(Self {
            api,
            sts,
            iam,
            healthz: config.healthz,
            region: config.api.region.clone(),
        })
    }
}

/// Rejections in the caller's dialect: a gRPC status for a gRPC request (`content-type:
/// application/grpc…`, which gRPC clients read as the call's status), API Gateway's JSON for
/// everything else.
fn render_rejection(rejection: &Rejection, parts: &http::request::Parts) -> Response<Bytes> {
    let grpc = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if grpc {
        GrpcRejections::response(rejection)
    } else {
        ApiGatewayRejections::response(rejection)
    }
}

/// The gateway's service, cheap to clone: `/healthz`, STS for requests scoped to `sts`, and
/// the API (signature, IAM authorizer, then the echo or the reverse proxy) for the rest, with
/// one access-log line and the metrics per request. A reload replaces its settings and
/// identities as a whole.
#[derive(Clone)]
pub struct Gateway {
    stack: Arc<RwLock<Arc<Stack>>>,
    /// The upstream and the buffer budget stay for the life of the process.
    upstream: Upstream,
    budget: BufferBudget,
    metrics: Metrics,
    /// The database store (its key uses are recorded).
    db: Option<tower_sigv4::store::db::DbStore>,
}

impl Gateway {
    /// The service `config` describes, over `identities` and (when STS is on) the
    /// session-token `keyring`.
    ///
    /// # Errors
    ///
    /// A setting that does not build (the configuration's own checks come first).
    pub fn new(
        config: &GatewayConfig,
        identities: GatewayIdentities,
        keyring: Option<Arc<TokenKeyring>>,
        metrics: Metrics,
    ) -> Result<Self, BoxError> {
        let upstream = match &config.upstream {
            Some(url) => Upstream::proxy(url, &config.proxy)?,
            None => Upstream::Echo,
        };
        let budget = BufferBudget::new(config.limits.buffer_budget_bytes);
        let stack = Stack::build(config, &identities, keyring, &upstream, &budget)?;
        Ok(Self {
            stack: Arc::new(RwLock::new(Arc::new(stack))),
            upstream,
            budget,
            metrics,
            db: identities.db,
        })
    }

    /// Installs what `config`, `identities` and `keyring` build, for every request that starts
    /// from now on (the upstream and the buffer budget stay).
    ///
    /// # Errors
    ///
    /// A setting that does not build; the settings in force stay.
    pub fn reload(
        &self,
        config: &GatewayConfig,
        identities: &GatewayIdentities,
        keyring: Option<Arc<TokenKeyring>>,
    ) -> Result<(), BoxError> {
        let stack = Stack::build(config, identities, keyring, &self.upstream, &self.budget)?;
        *self.stack.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(stack);
        Ok(())
    }

    fn current(&self) -> Arc<Stack> {
        self.stack.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The hyper service of one connection.
    pub fn hyper_service(
        &self,
        connection: ConnectionInfo,
    ) -> impl hyper::service::Service<
        Request<Incoming>,
        Response = Response<GatewayBody>,
        Error = Infallible,
        Future = impl Future<Output = Result<Response<GatewayBody>, Infallible>> + Send,
    > + Clone {
        let gateway = self.clone();
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let gateway = gateway.clone();
            request.extensions_mut().insert(connection);
            gateway.handle(request, connection)
        })
    }

    /// Routes and starts `request` at once (the API's signature and policy are checked here
    /// when the key provider and the policy answer at once); the future returned waits for the
    /// answer and accounts for it. It is moved into hyper's dispatcher whole, so it holds only
    /// what the answer needs.
    fn handle(
        self,
        request: Request<Incoming>,
        connection: ConnectionInfo,
    ) -> impl Future<Output = Result<Response<GatewayBody>, Infallible>> + Send {
        let started = Instant::now();
        let stack = self.current();
        let (to, routing, request) = self.route(&stack, request);
        let pending = match to {
            To::Healthz => Pending::Ready {
                response: Some(healthz_response()),
            },
            To::Sts(sts) => Pending::Boxed {
                future: Box::pin(async move {
                    call(sts, request)
                        .await
                        .map(|b| b.map_err(|e| match e {}).boxed())
                }),
            },
            To::Iam(iam) => Pending::Boxed {
                future: Box::pin(async move {
                    call(iam, request)
                        .await
                        .map(|b| b.map_err(|e| match e {}).boxed())
                }),
            },
            To::Api => {
                let mut api = stack.api.clone();
                // The upstream is always ready, and so the layer over it.
                let mut cx = Context::from_waker(std::task::Waker::noop());
                match api.poll_ready(&mut cx) {
                    Poll::Ready(Ok(())) => Pending::Api {
                        future: api.call(request),
                    },
                    _ => Pending::Boxed {
                        future: Box::pin(
                            async move { call(api, request).await.map(BodyExt::boxed) },
                        ),
                    },
                }
            }
        };
        async move {
            let response = pending.await;
            self.account(&stack, routing, &response, started, connection);
            Ok(response)
        }
    }

    /// Where a request goes, and what its access-log line and key-use record need of it.
    fn route(&self, stack: &Stack, request: Request<Incoming>) -> (To, Routing, Request<Incoming>) {
        // What the access log needs of the request, kept only when the log is on (the URI's
        // clone shares its bytes).
        let logged = tracing::enabled!(tracing::Level::INFO)
            .then(|| (request.method().clone(), request.uri().clone()));
        let healthz = stack.healthz && request.uri().path() == "/healthz";
        let (parts, body) = request.into_parts();
        // The credential scope's service routes to STS and IAM, and names the key use a
        // database store records; nothing else needs it, and most requests are seen not to
        // name STS or IAM without parsing them.
        let routes = stack.sts.is_some() || stack.iam.is_some();
        let service = if !healthz && (self.db.is_some() || (routes && may_name_sts_or_iam(&parts)))
        {
            credential_service(&parts)
        } else {
            None
        };
        let to_sts = service.as_deref() == Some("sts");
        // Unsigned IAM requests carry IAM's version in their query.
        let to_iam = service.as_deref() == Some("iam")
            || (service.is_none()
                && stack.iam.is_some()
                && parts
                    .uri
                    .query()
                    .is_some_and(|q| q.split('&').any(|p| p == "Version=2010-05-08")));
        let to = match (&stack.sts, &stack.iam) {
            _ if healthz => To::Healthz,
            (Some(sts), _) if to_sts => To::Sts(sts.clone()),
            (_, Some(iam)) if to_iam => To::Iam(iam.clone()),
            _ => To::Api,
        };
        let routing = Routing {
            route: to.name(),
            logged,
            service,
        };
        (to, routing, Request::from_parts(parts, body))
    }

    /// The request's metrics, key-use record and access-log line.
    fn account(
        &self,
        stack: &Stack,
        routing: Routing,
        response: &Response<GatewayBody>,
        started: Instant,
        connection: ConnectionInfo,
    ) {
        let route = routing.route;
        let elapsed = started.elapsed();
        let status = response.status();
        let principal = response.extensions().get::<Principal>();
        if let (Some(db), Some(service), Some(p)) = (&self.db, &routing.service, principal) {
            if p.session().is_none() && !p.access_key_id().is_empty() {
                db.record_key_use(p.access_key_id(), service, &stack.region);
            }
        }
        let rejection = response.extensions().get::<Rejection>();
        let (decision, kind) = match (route, rejection) {
            ("healthz", _) => ("health", ""),
            (_, Some(r)) if r.kind().is_authorization() => ("deny", r.kind().name()),
            (_, Some(r)) => ("reject", r.kind().name()),
            (_, None) if status.is_server_error() => ("error", ""),
            (_, None) => ("allow", ""),
        };
        self.metrics.record(route, decision, kind, elapsed);
        if let Some((method, uri)) = routing.logged {
            let principal = principal.or_else(|| rejection.and_then(Rejection::principal));
            tracing::info!(
                route,
                %method,
                path = uri.path(),
                peer = %connection.peer,
                principal = principal.map_or("-", Principal::arn),
                decision,
                rejection = kind,
                status = status.as_u16(),
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "request"
            );
        }
    }
}

pin_project_lite::pin_project! {
    /// A started request's answer.
    #[project = PendingProj]
    enum Pending {
        Ready { response: Option<Response<GatewayBody>> },
        Api { #[pin] future: <VerifySigV4<Upstream> as Service<Request<Incoming>>>::Future },
        Boxed { future: BoxFuture<Response<GatewayBody>> },
    }
}

impl Future for Pending {
    type Output = Response<GatewayBody>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response<GatewayBody>> {
        match self.project() {
            PendingProj::Ready { response } => match response.take() {
                Some(r) => Poll::Ready(r),
                None => Poll::Pending,
            },
            PendingProj::Api { future } => match future.poll(cx) {
                Poll::Ready(Ok(response)) => Poll::Ready(response.map(BodyExt::boxed)),
                Poll::Ready(Err(e)) => match e {},
                Poll::Pending => Poll::Pending,
            },
            PendingProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

/// Where [`Gateway::route`] sends a request.
enum To {
    Healthz,
    Sts(StsService),
    Iam(IamApiService),
    Api,
}

impl To {
    /// The `route` label of metrics and access log.
    fn name(&self) -> &'static str {
        match self {
            Self::Healthz => "healthz",
            Self::Sts(_) => "sts",
            Self::Iam(_) => "iam",
            Self::Api => "api",
        }
    }
}

/// A request's route, and what is kept of it for the access log and the key-use record.
struct Routing {
    /// The `route` label.
    route: &'static str,
    /// Method and URI, when the access log is on.
    logged: Option<(http::Method, http::Uri)>,
    /// The credential scope's service, when it was read.
    service: Option<String>,
}

/// Whether the request's credential could name the service `sts` or `iam`: when it is
/// header-signed, only if its `Authorization` holds `/sts` or `/iam` (the scope's service is
/// written there as it is compared, between `/`s, unencoded); a query may carry a presigned
/// credential, possibly percent-encoded, so any query counts. `false` means
/// [`credential_service`] would not answer `sts` or `iam` either.
fn may_name_sts_or_iam(parts: &http::request::Parts) -> bool {
    match parts.headers.get(http::header::AUTHORIZATION) {
        Some(value) => {
            // Every piece after a `/`, looked at once (not every window of the value).
            value
                .as_bytes()
                .split(|&b| b == b'/')
                .skip(1)
                .any(|piece| piece.starts_with(b"sts") || piece.starts_with(b"iam"))
        }
        None => parts.uri.query().is_some(),
    }
}

/// `/healthz`'s answer (a static body).
fn healthz_response() -> Response<GatewayBody> {
    let mut response = Response::new(full(Bytes::from_static(br#"{"status":"ok"}"#)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Drives `service` to readiness, then calls it.
async fn call<S, B>(mut service: S, request: Request<B>) -> S::Response
where
    S: Service<Request<B>, Error = Infallible>,
{
    match std::future::poll_fn(|cx| service.poll_ready(cx)).await {
        Ok(()) => {}
        Err(e) => match e {},
    }
    match service.call(request).await {
        Ok(response) => response,
        Err(e) => match e {},
    }
}

/// The inner service of the API stack's requests bodies.
pub(crate) type ApiRequest = Request<RequestBody<Incoming>>;

/// A boxed future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What every inner service of the API stack answers: always ready.
pub(crate) fn always_ready(_cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
    Poll::Ready(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::may_name_sts_or_iam;
    use tower_sigv4::credential_service;

    fn parts(uri: &str, authorizations: &[&str]) -> http::request::Parts {
        let mut request = http::Request::get(uri).header("x-amz-date", "20261201T000000Z");
        for a in authorizations {
            request = request.header("authorization", *a);
        }
        request.body(()).unwrap_or_default().into_parts().0
    }

    fn header(service: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00"
        )
    }

    /// The cheap look never says "no" to a request that `credential_service` routes to STS or
    /// IAM, and says "no" to the common API request.
    #[test]
    fn the_cheap_look_agrees_with_the_parser() {
        let presigned = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261201%2Fus-east-1%2F%73ts%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let sts = header("sts");
        let iam = header("iam");
        let api = header("execute-api");
        let last = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/sts, SignedHeaders=host, Signature=00";
        let cases: Vec<(http::request::Parts, bool)> = vec![
            (parts("/", &[&sts]), true),
            (parts("/", &[&iam]), true),
            (parts("/", &[last]), true),
            (parts(presigned, &[]), true),
            (parts("/", &[&api]), false),
            (parts("/prod/items?a=1", &[&api]), false),
            (parts("/", &[&api, &sts]), false),
            (parts("/", &[]), false),
        ];
        for (p, may) in cases {
            let parsed = credential_service(&p);
            let routed = matches!(parsed.as_deref(), Some("sts" | "iam"));
            assert_eq!(may_name_sts_or_iam(&p), may, "{:?} {:?}", p.uri, p.headers);
            assert!(may || !routed, "{:?}: parsed {parsed:?}", p.uri);
        }
        // The presigned credential with its service percent-encoded is read as `sts`.
        assert_eq!(
            credential_service(&parts(presigned, &[])).as_deref(),
            Some("sts")
        );
    }
}
