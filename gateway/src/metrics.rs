//! Prometheus metrics: requests by route, decision and rejection kind; a latency histogram.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::app::{full, GatewayBody};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    decision: &'static str,
    rejection: &'static str,
}

const API_ALLOWED: RequestLabels = RequestLabels {
    route: "api",
    decision: "allow",
    rejection: "",
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

/// The gateway's Prometheus metrics (requests by route, decision and rejection kind; a
/// latency histogram), cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// The allowed API requests' counter and the API's histogram, the labels of nearly every
    /// request, held here so that counting them looks nothing up.
    api_allowed: Counter,
    api_latency: Histogram,
}

impl Metrics {
    /// Empty metrics.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sigv4_gateway");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests by route (api, sts, healthz), decision (allow, deny, reject, error) and rejection kind",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        registry.register(
            "request_duration_seconds",
            "Time from request head to response head",
            latency.clone(),
        );
        let api_allowed = requests.get_or_create(&API_ALLOWED).clone();
        let api_latency = latency.get_or_create(&RouteLabels { route: "api" }).clone();
        Self {
            registry: Arc::new(Mutex::new(registry)),
            requests,
            latency,
            api_allowed,
            api_latency,
        }
    }

    /// Counts one request (the labels are static strings: nothing is allocated per request).
    pub(crate) fn record(
        &self,
        route: &'static str,
        decision: &'static str,
        rejection: &'static str,
        elapsed: Duration,
    ) {
        let labels = RequestLabels {
            route,
            decision,
            rejection,
        };
        if labels == API_ALLOWED {
            self.api_allowed.inc();
            self.api_latency.observe(elapsed.as_secs_f64());
            return;
        }
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    fn render(&self) -> Response<GatewayBody> {
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
            let mut response = Response::new(full("metrics encoding failed"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return response;
        }
        let mut response = Response::new(full(text));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    }

    /// The service of the metrics listener: `GET /metrics`, 404 for anything else.
    pub(crate) fn service(
        &self,
    ) -> impl hyper::service::Service<
        Request<Incoming>,
        Response = Response<GatewayBody>,
        Error = Infallible,
        Future = std::future::Ready<Result<Response<GatewayBody>, Infallible>>,
    > + Clone {
        let metrics = self.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let response = if request.method() == Method::GET && request.uri().path() == "/metrics"
            {
                metrics.render()
            } else {
                let mut r = Response::new(full("not found"));
                *r.status_mut() = StatusCode::NOT_FOUND;
                r
            };
            std::future::ready(Ok(response))
        })
    }
}
