//! Turning a [`Rejection`] into a response.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::request::Parts;
use http::Response;

use crate::error::{Rejection, RejectionKind};

/// Builds the response for a rejected request. The default, [`ApiGatewayRejections`], answers
/// exactly as Amazon API Gateway does. Closures `Fn(&Rejection, &Parts) -> Response<Bytes>`
/// are renderers too.
pub trait RenderRejection: Send + Sync + 'static {
    /// The response for `rejection` of the request `parts`.
    fn render(&self, rejection: &Rejection, parts: &Parts) -> Response<Bytes>;
}

impl<F> RenderRejection for F
where
    F: Fn(&Rejection, &Parts) -> Response<Bytes> + Send + Sync + 'static,
{
    fn render(&self, rejection: &Rejection, parts: &Parts) -> Response<Bytes> {
        self(rejection, parts)
    }
}

/// API Gateway's dialect: status, JSON `{"message": …}` (`"Message"` for authorization
/// denials), `x-amzn-ErrorType` and `x-amzn-RequestId`; 413 as plain text.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct ApiGatewayRejections;

/// A fresh request id.
pub(crate) fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl ApiGatewayRejections {
    /// The response for `rejection` (also usable outside the layer).
    pub fn response(rejection: &Rejection) -> Response<Bytes> {
        let kind = rejection.kind();
        let mut builder = Response::builder()
            .status(kind.status())
            .header("x-amzn-RequestId", request_id())
            .header("x-amzn-ErrorType", kind.error_type());
        let body = match kind {
            RejectionKind::BodyTooLarge => {
                builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                rejection.message().to_owned()
            }
            _ => {
                builder =
                    builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                let key = if kind.is_authorization() {
                    "Message"
                } else {
                    "message"
                };
                let mut map = serde_json::Map::new();
                map.insert(key.to_owned(), serde_json::Value::from(rejection.message()));
                serde_json::Value::Object(map).to_string()
            }
        };
        builder
            .body(Bytes::from(body))
            .unwrap_or_else(|_| Response::new(Bytes::new()))
    }
}

impl RenderRejection for ApiGatewayRejections {
    fn render(&self, rejection: &Rejection, _parts: &Parts) -> Response<Bytes> {
        Self::response(rejection)
    }
}
