//! S3's error answers: `application/xml`, `<Error><Code>…</Code><Message>…</Message>…`,
//! `x-amz-request-id` and `x-amz-id-2` (`s3.md` §5).

use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::request::Parts;
use http::{Method, Response};

use crate::error::Rejection;
use crate::verify::response::{request_id, RenderRejection};

/// S3's dialect, the S3 profile's default renderer: the status, code, message and elements of
/// the [`Rejection`] as S3's XML `Error` document, `x-amz-request-id` (16 characters
/// `[0-9A-Z]`, also the `RequestId` element) and `x-amz-id-2` (the `HostId`). `HEAD` answers
/// carry no body. A request with a body gets `Connection: close` (HTTP/1), so the rest of the
/// body is never drained.
///
/// ```
/// use tower_sigv4::s3::S3Rejections;
/// use tower_sigv4::{Rejection, RejectionKind};
///
/// let (parts, ()) = http::Request::put("/bucket/key").body(()).unwrap().into_parts();
/// let response = S3Rejections::response(&Rejection::access_denied("Access Denied"), &parts);
/// assert_eq!(response.status(), 403);
/// let body = String::from_utf8(response.body().to_vec()).unwrap();
/// assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDeniedException</Code><Message>Access Denied</Message><RequestId>"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct S3Rejections;

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Whether the request came with a body (so the connection is closed rather than drained).
fn has_body(parts: &Parts) -> bool {
    parts.headers.contains_key(TRANSFER_ENCODING)
        || parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

impl S3Rejections {
    /// The response for `rejection` of the request `parts`.
    pub fn response(rejection: &Rejection, parts: &Parts) -> Response<Bytes> {
        // Request ids are unique, not secret: the crate's own, in S3's alphabet.
        let uuid = request_id();
        let id: String = uuid
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(16)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let host_id = super::checksum::b64(request_id().as_bytes());
        let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        element(&mut body, "Code", rejection.code());
        element(&mut body, "Message", rejection.message());
        for (name, value) in rejection.elements() {
            element(&mut body, name, value);
        }
        element(&mut body, "RequestId", &id);
        element(&mut body, "HostId", &host_id);
        body.push_str("</Error>");
        let mut builder = Response::builder()
            .status(rejection.status())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/xml"))
            .header("x-amz-request-id", id)
            .header("x-amz-id-2", host_id);
        if has_body(parts) && parts.version <= http::Version::HTTP_11 {
            builder = builder.header(CONNECTION, HeaderValue::from_static("close"));
        }
        let body = if parts.method == Method::HEAD {
            Bytes::new()
        } else {
            Bytes::from(body)
        };
        builder
            .body(body)
            .unwrap_or_else(|_| Response::new(Bytes::new()))
    }
}

impl RenderRejection for S3Rejections {
    fn render(&self, rejection: &Rejection, parts: &Parts) -> Response<Bytes> {
        Self::response(rejection, parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RejectionKind;

    #[test]
    fn xml_shape_and_headers() {
        let (parts, ()) = http::Request::put("/b/k")
            .header("content-length", "5")
            .body(())
            .unwrap()
            .into_parts();
        let r = Rejection::coded(
            RejectionKind::HeaderNotSigned,
            http::StatusCode::FORBIDDEN,
            "AccessDenied",
            "There were headers present in the request which were not signed",
        )
        .with_element("HeadersNotSigned", "x-amz-a, x-amz-b<&>");
        let response = S3Rejections::response(&r, &parts);
        assert_eq!(response.status(), 403);
        assert_eq!(response.headers()["content-type"], "application/xml");
        assert_eq!(response.headers()["connection"], "close");
        let id = response.headers()["x-amz-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(id.len(), 16);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        let host_id = response.headers()["x-amz-id-2"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = String::from_utf8(response.body().to_vec()).unwrap();
        assert_eq!(
            body,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message><HeadersNotSigned>x-amz-a, x-amz-b&lt;&amp;&gt;</HeadersNotSigned><RequestId>{id}</RequestId><HostId>{host_id}</HostId></Error>")
        );
        // HEAD: status and headers only; no body, no close without a body.
        let (head, ()) = http::Request::head("/b/k").body(()).unwrap().into_parts();
        let response = S3Rejections::response(&r, &head);
        assert_eq!(response.status(), 403);
        assert!(response.body().is_empty());
        assert!(response.headers().get("connection").is_none());
    }
}
