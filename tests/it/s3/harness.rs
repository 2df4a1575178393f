//! The S3 test harness: a verifier in the S3 profile with AWS's example key, a layer on a fixed
//! clock, an inner service that records what it received, and readers for S3's XML answers.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, ServiceExt};
use tower_sigv4::verify::{BodyErrorKind, RequestBody};
use tower_sigv4::{
    Credentials, FixedClock, Principal, Rejection, Signer, SigningSettings, StaticKeys, Verifier,
    VerifierConfig, VerifySigV4Layer,
};

/// AWS's documentation key (S3 examples).
pub const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const USER: &str = "arn:aws:iam::123456789012:user/s3user";

/// 2013-05-24T00:00:00Z, the time of AWS's streaming examples.
pub fn example_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600)
}

pub fn keys() -> StaticKeys {
    StaticKeys::new().with_key(AKID, SECRET, Principal::user(USER, "AIDAS3USER"))
}

pub fn config() -> VerifierConfig {
    VerifierConfig::new("us-east-1", "s3")
}

pub fn verifier_with(config: VerifierConfig) -> Verifier {
    Verifier::new(config, keys()).unwrap()
}

pub fn verifier() -> Verifier {
    verifier_with(config())
}

pub fn layer(v: &Verifier) -> VerifySigV4Layer {
    VerifySigV4Layer::new(v.clone()).with_clock(FixedClock::new(example_time()))
}

pub fn signer() -> Signer {
    Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "s3")
        .with_settings(SigningSettings::s3())
}

/// What the inner service received.
#[derive(Default)]
pub struct Seen {
    pub calls: Mutex<usize>,
    pub headers: Mutex<Option<HeaderMap>>,
    pub target: Mutex<Option<String>>,
    pub bytes: Mutex<Vec<u8>>,
    pub frames: Mutex<usize>,
    pub error: Mutex<Option<BodyErrorKind>>,
    pub ended: Mutex<bool>,
}

impl Seen {
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }
    pub fn error(&self) -> Option<BodyErrorKind> {
        *self.error.lock().unwrap()
    }
    pub fn ended(&self) -> bool {
        *self.ended.lock().unwrap()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// The answer of the layer.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    pub rejection: Option<Rejection>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The text of `<name>` in the XML error.
    pub fn element(&self, name: &str) -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&close)? + start;
        Some(
            self.body[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        )
    }

    /// The names of the elements of the XML error, in order.
    pub fn element_names(&self) -> Vec<String> {
        let inner = self
            .body
            .split_once("<Error>")
            .and_then(|(_, rest)| rest.rsplit_once("</Error>"))
            .map(|(inner, _)| inner.to_owned())
            .unwrap_or_default();
        let mut names = Vec::new();
        let mut rest = inner.as_str();
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>').unwrap();
            let name = &after[..end];
            names.push(name.to_owned());
            let close = format!("</{name}>");
            let skip = after.find(&close).unwrap() + close.len();
            rest = &after[skip..];
        }
        names
    }
}

/// Serves `req` through `layer` to an inner service that reads the body whole, recording it,
/// and answers `200 inner ok` (502 when the body fails, which the layer replaces).
pub async fn serve<B>(layer: VerifySigV4Layer, seen: Arc<Seen>, req: Request<B>) -> Answer
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let svc = layer.layer(service_fn(move |req: Request<RequestBody<B>>| {
        let seen = seen.clone();
        async move {
            *seen.calls.lock().unwrap() += 1;
            *seen.headers.lock().unwrap() = Some(req.headers().clone());
            *seen.target.lock().unwrap() =
                req.uri().path_and_query().map(|p| p.as_str().to_owned());
            let mut body = std::pin::pin!(req.into_body());
            loop {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            *seen.frames.lock().unwrap() += 1;
                            seen.bytes.lock().unwrap().extend_from_slice(&data);
                        }
                    }
                    Some(Err(e)) => {
                        *seen.error.lock().unwrap() = Some(e.kind());
                        return Ok::<_, Infallible>(
                            Response::builder()
                                .status(502)
                                .body(Full::new(Bytes::from_static(b"bad gateway")))
                                .unwrap(),
                        );
                    }
                    None => break,
                }
            }
            *seen.ended.lock().unwrap() = true;
            Ok(Response::new(Full::new(Bytes::from_static(b"inner ok"))))
        }
    }));
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let rejection = res.extensions().get::<Rejection>().cloned();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
        rejection,
    }
}

/// Asserts an S3 rejection: status, code, message, and the XML's shape.
#[track_caller]
pub fn assert_s3_error(a: &Answer, status: u16, code: &str, message: &str) {
    assert_eq!(a.status, status, "body: {}", a.body);
    assert_eq!(
        a.header("content-type"),
        Some("application/xml"),
        "body: {}",
        a.body
    );
    assert_eq!(a.element("Code").as_deref(), Some(code), "body: {}", a.body);
    assert_eq!(
        a.element("Message").as_deref(),
        Some(message),
        "body: {}",
        a.body
    );
    let id = a.header("x-amz-request-id").unwrap();
    assert_eq!(a.element("RequestId").as_deref(), Some(id));
    assert_eq!(a.element("HostId").as_deref(), a.header("x-amz-id-2"));
    assert!(a
        .body
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"));
    let rejection = a
        .rejection
        .as_ref()
        .expect("the rejection in the extensions");
    assert_eq!(rejection.code(), code);
}

#[track_caller]
pub fn assert_passed(a: &Answer, seen: &Seen, body: &[u8]) {
    assert_eq!(a.status, 200, "body: {}", a.body);
    assert_eq!(a.body, "inner ok");
    assert!(seen.ended());
    assert_eq!(seen.bytes().len(), body.len());
    assert!(seen.bytes() == body, "the decoded body differs");
}

pub fn full(bytes: impl Into<Bytes>) -> Full<Bytes> {
    Full::new(bytes.into())
}
