//! Turning a [`Rejection`] into a response.

use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

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
pub struct ApiGatewayRejections;

/// A fresh request id in the form of a version-4 UUID (`x-amzn-RequestId`). Request ids must be
/// unique, not secret: a counter hashed with the per-process random keys of the standard
/// library's `RandomState` (SipHash) gives that without a random-number dependency.
pub(crate) fn request_id() -> String {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let keys = KEYS.get_or_init(RandomState::new);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let high = keys.hash_one((n, 0u8));
    let low = keys.hash_one((n, 1u8));
    // Version 4, variant 10xx.
    let high = (high & !0xf000) | 0x4000;
    let low = (low & !(0xc << 60)) | (0x8 << 60);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

/// `{"<key>":"<message>"}`, the message escaped as a JSON string.
fn json_message(key: &str, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + key.len() + 8);
    out.push_str("{\"");
    out.push_str(key);
    out.push_str("\":\"");
    for c in message.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push_str("\"}");
    out
}

impl ApiGatewayRejections {
    /// The response for `rejection` (also usable outside the layer).
    pub fn response(rejection: &Rejection) -> Response<Bytes> {
        let kind = rejection.kind();
        let mut builder = Response::builder()
            .status(rejection.status())
            .header("x-amzn-RequestId", request_id())
            .header("x-amzn-ErrorType", rejection.code());
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
                json_message(key, rejection.message())
            }
        };
        builder
            .body(Bytes::from(body))
            .unwrap_or_else(|_| Response::new(Bytes::new()))
    }
}

/// gRPC's dialect, for a tonic (or any gRPC) server behind the layer: a trailers-only response
/// — HTTP 200, `content-type: application/grpc`, `grpc-status` and a percent-encoded
/// `grpc-message` — which gRPC clients read as a status. Authentication faults are
/// `UNAUTHENTICATED` (16), policy denials `PERMISSION_DENIED` (7), an ambiguous target
/// `INVALID_ARGUMENT` (3), a body too large `RESOURCE_EXHAUSTED` (8), a body too slow
/// `DEADLINE_EXCEEDED` (4), a malformed body `INTERNAL` (13), and a failing key provider,
/// policy backend or a full buffer budget `UNAVAILABLE` (14: the handler never ran, so a retry
/// is safe).
///
/// ```
/// use tower_sigv4::{GrpcRejections, Rejection, RejectionKind};
///
/// let response = GrpcRejections::response(&Rejection::access_denied("User: bob may not"));
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["grpc-status"], "7");
/// assert_eq!(response.headers()["grpc-message"], "User: bob may not");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcRejections;

impl GrpcRejections {
    /// The gRPC status code of a rejection kind.
    pub fn code(kind: RejectionKind) -> u8 {
        use RejectionKind as K;
        match kind {
            K::AccessDenied => 7,
            K::MissingAuthentication
            | K::MultipleAuthMechanisms
            | K::MalformedAuthorization
            | K::MissingParameter
            | K::UnsupportedAlgorithm
            | K::DuplicateParameter
            | K::InvalidExpires
            | K::HeaderNotSigned
            | K::MalformedDate
            | K::RequestTooOld
            | K::RequestTooNew
            | K::MalformedCredential
            | K::InvalidScope
            | K::PresignedExpired
            | K::InvalidToken
            | K::ExpiredToken
            | K::SignatureMismatch
            | K::PayloadHashMismatch => 16,
            K::InvalidTarget => 3,
            K::BodyTooLarge => 8,
            K::BodyTimeout => 4,
            K::BodyUnreadable => 13,
            K::Overloaded | K::ProviderFailure | K::PolicyFailure => 14,
            K::InvalidRequest | K::LengthRequired | K::ChecksumMismatch => 3,
            K::NotImplemented => 12,
        }
    }

    /// The response for `rejection`.
    pub fn response(rejection: &Rejection) -> Response<Bytes> {
        // gRPC: every byte outside %x20-%x7E is percent-encoded, and `%` itself.
        const MESSAGE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');
        let message =
            percent_encoding::percent_encode(rejection.message().as_bytes(), MESSAGE).to_string();
        Response::builder()
            .header(CONTENT_TYPE, HeaderValue::from_static("application/grpc"))
            .header("grpc-status", u16::from(Self::code(rejection.kind())))
            .header("grpc-message", message)
            .body(Bytes::new())
            .unwrap_or_else(|_| Response::new(Bytes::new()))
    }
}

impl RenderRejection for GrpcRejections {
    fn render(&self, rejection: &Rejection, _parts: &Parts) -> Response<Bytes> {
        Self::response(rejection)
    }
}

impl RenderRejection for ApiGatewayRejections {
    fn render(&self, rejection: &Rejection, _parts: &Parts) -> Response<Bytes> {
        Self::response(rejection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_escaped_as_json_does() {
        for message in [
            "plain",
            "a \"quote\" and \\ back",
            "line\nbreak\ttab\r",
            "\u{1}ctl\u{8}\u{c}\u{1f}",
            "é ✓",
        ] {
            let ours = json_message("message", message);
            let theirs = serde_json::json!({ "message": message }).to_string();
            assert_eq!(ours, theirs, "{message:?}");
        }
    }

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let a = request_id();
        let b = request_id();
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.len(), 36);
            let bytes = id.as_bytes();
            assert_eq!(bytes.get(14), Some(&b'4'), "{id}");
            assert!(
                matches!(bytes.get(19), Some(b'8' | b'9' | b'a' | b'b')),
                "{id}"
            );
            assert!(
                id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
                "{id}"
            );
        }
    }
}
