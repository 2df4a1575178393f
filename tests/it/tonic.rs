//! tonic behind the layers, on loopback: a tonic `Server` with `VerifySigV4Layer` (rejections
//! rendered as gRPC statuses by a closure) and a tonic client over a `Channel` signing through
//! `SignSigV4Layer::passthrough` (`UNSIGNED-PAYLOAD`: a stream cannot be hashed before it is
//! sent). The messages are derived with prost and the service and client are written by hand —
//! what `tonic-build` would generate — so no `protoc` is needed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tonic::body::Body as GrpcBody;
use ::tonic::client::{Grpc, GrpcService};
use ::tonic::server::NamedService;
use ::tonic::transport::server::TcpIncoming;
use ::tonic::transport::{Channel, Endpoint, Server};
use ::tonic::{Code, Status, Streaming};
use bytes::Bytes;
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{Response, Uri};
use tokio::net::TcpListener;
use tonic_prost::ProstCodec;
use tower::{service_fn, Layer, Service};
use tower_sigv4::{
    AllowAuthenticated, BodyLimits, CheckPolicy, Credentials, GrpcRejections, PayloadCoverage,
    PolicyDecision, PolicyRequest, Principal, Rejection, RejectionKind, SignSigV4Layer,
    SignSigV4Passthrough, Signer, StaticKeys, UnsignedPayload, Verified, Verifier, VerifierConfig,
    VerifySigV4Layer,
};

use crate::support::{AKID, SECRET};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const BOB_KEY: &str = "AKIDBOBEXAMPLE";
const BOB: &str = "arn:aws:iam::123456789012:user/bob";

// ---- The messages (what `prost-build` would generate from a .proto). ----

#[derive(Clone, PartialEq, prost::Message)]
struct WhoAmIRequest {}

#[derive(Clone, PartialEq, prost::Message)]
struct WhoAmIReply {
    #[prost(string, tag = "1")]
    arn: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Chunk {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct UploadReply {
    #[prost(uint32, tag = "1")]
    chunks: u32,
    #[prost(uint64, tag = "2")]
    bytes: u64,
    #[prost(string, tag = "3")]
    arn: String,
    /// Whether the signature left the body out (`UNSIGNED-PAYLOAD`), as the layer verified.
    #[prost(bool, tag = "4")]
    unsigned_payload: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CountRequest {
    #[prost(uint32, tag = "1")]
    to: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Number {
    #[prost(uint32, tag = "1")]
    value: u32,
}

// ---- The server: `demo.Demo` with a unary, a client-streaming and a server-streaming method.

const WHO_AM_I: &str = "/demo.Demo/WhoAmI";
const UPLOAD: &str = "/demo.Demo/Upload";
const COUNT: &str = "/demo.Demo/Count";

fn caller<T>(request: &::tonic::Request<T>) -> Result<String, Status> {
    // The layer put the verified caller in the request's extensions; tonic keeps them.
    request
        .extensions()
        .get::<Principal>()
        .map(|p| p.arn().to_owned())
        .ok_or_else(|| Status::internal("no principal"))
}

async fn who_am_i(
    request: ::tonic::Request<WhoAmIRequest>,
) -> Result<::tonic::Response<WhoAmIReply>, Status> {
    let arn = caller(&request)?;
    Ok(::tonic::Response::new(WhoAmIReply { arn }))
}

async fn upload(
    request: ::tonic::Request<Streaming<Chunk>>,
) -> Result<::tonic::Response<UploadReply>, Status> {
    let arn = caller(&request)?;
    let unsigned_payload = request
        .extensions()
        .get::<Verified>()
        .is_some_and(|v| v.payload() == PayloadCoverage::Unsigned);
    let mut stream = request.into_inner();
    let (mut chunks, mut bytes) = (0, 0);
    while let Some(chunk) = stream.message().await? {
        chunks += 1;
        bytes += chunk.data.len() as u64;
    }
    Ok(::tonic::Response::new(UploadReply {
        chunks,
        bytes,
        arn,
        unsigned_payload,
    }))
}

type NumberStream = tokio_stream::Iter<std::vec::IntoIter<Result<Number, Status>>>;

async fn count(
    request: ::tonic::Request<CountRequest>,
) -> Result<::tonic::Response<NumberStream>, Status> {
    caller(&request)?;
    let to = request.into_inner().to;
    let numbers: Vec<_> = (1..=to).map(|value| Ok(Number { value })).collect();
    Ok(::tonic::Response::new(tokio_stream::iter(numbers)))
}

#[derive(Clone, Copy, Debug, Default)]
struct DemoServer;

impl NamedService for DemoServer {
    const NAME: &'static str = "demo.Demo";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<http::Request<GrpcBody>> for DemoServer {
    type Response = http::Response<GrpcBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<GrpcBody>) -> Self::Future {
        match request.uri().path() {
            WHO_AM_I => Box::pin(async move {
                let mut grpc = ::tonic::server::Grpc::new(ProstCodec::default());
                Ok(grpc.unary(service_fn(who_am_i), request).await)
            }),
            UPLOAD => Box::pin(async move {
                let mut grpc = ::tonic::server::Grpc::new(ProstCodec::default());
                Ok(grpc.client_streaming(service_fn(upload), request).await)
            }),
            COUNT => Box::pin(async move {
                let mut grpc = ::tonic::server::Grpc::new(ProstCodec::default());
                Ok(grpc.server_streaming(service_fn(count), request).await)
            }),
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

// ---- The client (what `tonic-build` would generate), over any gRPC service. ----

struct DemoClient<T> {
    grpc: Grpc<T>,
}

impl<T> DemoClient<T>
where
    T: GrpcService<GrpcBody>,
    T::Error: Into<BoxError>,
    T::ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<BoxError> + Send,
{
    /// `origin` must name the server: the signer signs the host before the `Channel` adds it.
    fn with_origin(inner: T, origin: Uri) -> Self {
        Self {
            grpc: Grpc::with_origin(inner, origin),
        }
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.grpc
            .ready()
            .await
            .map_err(|e| Status::unknown(format!("service was not ready: {}", e.into())))
    }

    async fn who_am_i(&mut self) -> Result<String, Status> {
        self.ready().await?;
        let path = PathAndQuery::from_static(WHO_AM_I);
        let request = ::tonic::Request::new(WhoAmIRequest {});
        let reply = self
            .grpc
            .unary(request, path, ProstCodec::<_, WhoAmIReply>::default())
            .await?;
        Ok(reply.into_inner().arn)
    }

    async fn upload<S>(&mut self, chunks: S) -> Result<UploadReply, Status>
    where
        S: tokio_stream::Stream<Item = Chunk> + Send + 'static,
    {
        self.ready().await?;
        let path = PathAndQuery::from_static(UPLOAD);
        let request = ::tonic::Request::new(chunks);
        let reply = self
            .grpc
            .client_streaming(request, path, ProstCodec::<_, UploadReply>::default())
            .await?;
        Ok(reply.into_inner())
    }

    async fn count(&mut self, to: u32) -> Result<Vec<u32>, Status> {
        self.ready().await?;
        let path = PathAndQuery::from_static(COUNT);
        let request = ::tonic::Request::new(CountRequest { to });
        let mut stream = self
            .grpc
            .server_streaming(request, path, ProstCodec::<_, Number>::default())
            .await?
            .into_inner();
        let mut numbers = Vec::new();
        while let Some(number) = stream.message().await? {
            numbers.push(number.value);
        }
        Ok(numbers)
    }
}

// ---- Rejections as gRPC statuses: the crate's `GrpcRejections`. ----

fn grpc_rejection(rejection: &Rejection, _parts: &Parts) -> Response<Bytes> {
    GrpcRejections::response(rejection)
}

// ---- The harness. ----

fn verifier() -> Verifier {
    let keys = StaticKeys::new()
        .with_key(
            AKID,
            SECRET,
            Principal::user(ALICE, "AIDAALICE").with_tag("role", "writer"),
        )
        .with_key(BOB_KEY, SECRET, Principal::user(BOB, "AIDABOB"));
    // `UnsignedPayload::Allowed` is the default: the signing client sends `UNSIGNED-PAYLOAD`.
    Verifier::new(VerifierConfig::new(REGION, SERVICE), keys).unwrap()
}

/// Uploads are for writers; every other method for every authenticated caller.
fn uploads_for_writers(request: &PolicyRequest<'_>) -> PolicyDecision {
    let path = request.parts().uri.path();
    let principal = request.principal();
    let writer = principal.tags().get("role").is_some_and(|r| r == "writer");
    if path == UPLOAD && !writer {
        PolicyDecision::deny(format!(
            "User: {} is not authorized to perform: {path}",
            principal.arn()
        ))
    } else {
        PolicyDecision::Allow
    }
}

/// Serves `demo.Demo` behind `layer` on a free loopback port.
async fn serve(layer: VerifySigV4Layer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::builder()
        .layer(layer)
        .add_service(DemoServer)
        .serve_with_incoming(TcpIncoming::from(listener));
    tokio::spawn(async move { server.await.unwrap() });
    addr
}

async fn start_with(verifier: Verifier, policy: impl CheckPolicy) -> SocketAddr {
    serve(
        VerifySigV4Layer::new(verifier)
            .with_policy(policy)
            .with_renderer(grpc_rejection),
    )
    .await
}

async fn start() -> SocketAddr {
    start_with(verifier(), uploads_for_writers).await
}

fn origin(addr: SocketAddr) -> Uri {
    format!("http://{addr}").parse().unwrap()
}

async fn channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// A client signing as `key`/`secret` through the passthrough layer over a `Channel`.
async fn signed_client(
    addr: SocketAddr,
    key: &str,
    secret: &str,
) -> DemoClient<SignSigV4Passthrough<Channel>> {
    let signer = Signer::new(Credentials::new(key, secret), REGION, SERVICE);
    let signed = SignSigV4Layer::passthrough(signer).layer(channel(addr).await);
    DemoClient::with_origin(signed, origin(addr))
}

fn chunks(sizes: &[usize]) -> tokio_stream::Iter<std::vec::IntoIter<Chunk>> {
    let chunks: Vec<_> = sizes
        .iter()
        .map(|&n| Chunk {
            data: vec![b'x'; n],
        })
        .collect();
    tokio_stream::iter(chunks)
}

fn assert_status(status: &Status, code: Code, message: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(status.message(), message, "{status:?}");
}

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

#[tokio::test]
async fn signed_unary_call_reaches_the_handler_with_the_principal() {
    let addr = start().await;
    let mut client = signed_client(addr, AKID, SECRET).await;
    assert_eq!(client.who_am_i().await.unwrap(), ALICE);
    // The same connection signs each call anew.
    assert_eq!(client.who_am_i().await.unwrap(), ALICE);
    let mut bob = signed_client(addr, BOB_KEY, SECRET).await;
    assert_eq!(bob.who_am_i().await.unwrap(), BOB);
}

#[tokio::test]
async fn client_streaming_call_streams_unsigned_payload_end_to_end() {
    let addr = start().await;
    let mut client = signed_client(addr, AKID, SECRET).await;
    let reply = client.upload(chunks(&[3, 4096, 0, 70_000])).await.unwrap();
    assert_eq!(
        reply,
        UploadReply {
            chunks: 4,
            bytes: 74_099,
            arn: ALICE.to_owned(),
            unsigned_payload: true,
        }
    );
}

#[tokio::test]
async fn server_streaming_call_works_end_to_end() {
    let addr = start().await;
    let mut client = signed_client(addr, AKID, SECRET).await;
    assert_eq!(client.count(5).await.unwrap(), vec![1, 2, 3, 4, 5]);
    assert_eq!(client.count(0).await.unwrap(), Vec::<u32>::new());
}

#[tokio::test]
async fn wrong_secret_is_unauthenticated() {
    let addr = start().await;
    let mut client = signed_client(addr, AKID, "not-the-secret").await;
    let status = client.who_am_i().await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, SIGNATURE_MISMATCH);
    let status = client.upload(chunks(&[10, 10])).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, SIGNATURE_MISMATCH);
    let status = client.count(3).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, SIGNATURE_MISMATCH);
}

#[tokio::test]
async fn unknown_key_is_unauthenticated() {
    let addr = start().await;
    let mut client = signed_client(addr, "AKIDUNKNOWN", SECRET).await;
    let status = client.who_am_i().await.unwrap_err();
    assert_status(
        &status,
        Code::Unauthenticated,
        "The security token included in the request is invalid.",
    );
}

#[tokio::test]
async fn policy_denial_is_permission_denied() {
    let addr = start().await;
    let mut bob = signed_client(addr, BOB_KEY, SECRET).await;
    let status = bob.upload(chunks(&[1, 2, 3])).await.unwrap_err();
    assert_status(
        &status,
        Code::PermissionDenied,
        "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: /demo.Demo/Upload",
    );
    // Bob's other calls go through; so do Alice's uploads.
    assert_eq!(bob.count(2).await.unwrap(), vec![1, 2]);
    let mut alice = signed_client(addr, AKID, SECRET).await;
    assert_eq!(alice.upload(chunks(&[1, 2, 3])).await.unwrap().chunks, 3);
}

#[tokio::test]
async fn unsigned_call_is_unauthenticated() {
    let addr = start().await;
    let mut plain = DemoClient::with_origin(channel(addr).await, origin(addr));
    let status = plain.who_am_i().await.unwrap_err();
    assert_status(
        &status,
        Code::Unauthenticated,
        "Missing Authentication Token",
    );
    let status = plain.upload(chunks(&[5])).await.unwrap_err();
    assert_status(
        &status,
        Code::Unauthenticated,
        "Missing Authentication Token",
    );
}

#[tokio::test]
async fn a_stream_over_the_body_limit_is_resource_exhausted() {
    // The size limit covers the whole request stream, unsigned or not.
    let keys = StaticKeys::new().with_key(AKID, SECRET, Principal::user(ALICE, "AIDAALICE"));
    let config = VerifierConfig::new(REGION, SERVICE).with_max_body_bytes(1024);
    let addr = start_with(Verifier::new(config, keys).unwrap(), AllowAuthenticated).await;
    let mut client = signed_client(addr, AKID, SECRET).await;
    // 3 × (5-byte gRPC frame header + 3 bytes of field tag and length + 300) = 924 bytes.
    assert_eq!(client.upload(chunks(&[300; 3])).await.unwrap().chunks, 3);
    let status = client.upload(chunks(&[300; 4])).await.unwrap_err();
    assert_status(
        &status,
        Code::ResourceExhausted,
        "HTTP content length exceeded 1024 bytes.",
    );
}

#[test]
fn rejections_map_to_grpc_statuses_and_messages_survive_the_encoding() {
    use RejectionKind as K;
    let cases = [
        (K::MissingAuthentication, Code::Unauthenticated),
        (K::SignatureMismatch, Code::Unauthenticated),
        (K::InvalidToken, Code::Unauthenticated),
        (K::ExpiredToken, Code::Unauthenticated),
        (K::RequestTooOld, Code::Unauthenticated),
        (K::PayloadHashMismatch, Code::Unauthenticated),
        (K::AccessDenied, Code::PermissionDenied),
        (K::InvalidTarget, Code::InvalidArgument),
        (K::BodyTooLarge, Code::ResourceExhausted),
        (K::BodyTimeout, Code::DeadlineExceeded),
        (K::BodyUnreadable, Code::Internal),
        (K::Overloaded, Code::Unavailable),
        (K::ProviderFailure, Code::Unavailable),
        (K::PolicyFailure, Code::Unavailable),
    ];
    let (parts, ()) = http::Request::new(()).into_parts();
    let message = "100% \"denied\": é ✓\nnext line\tand a tab";
    for (kind, code) in cases {
        let response = grpc_rejection(&Rejection::new(kind, message), &parts);
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/grpc");
        assert!(response.body().is_empty());
        let encoded = response.headers()["grpc-message"].to_str().unwrap();
        assert!(
            encoded.bytes().all(|b| (0x20..=0x7e).contains(&b)),
            "{encoded}"
        );
        // tonic reads it back as a trailers-only status.
        let status = Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), code, "{kind:?}");
        assert_eq!(status.message(), message, "{kind:?}");
    }
}

#[tokio::test]
async fn a_verifier_that_rejects_unsigned_payloads_turns_the_streaming_client_away() {
    // The passthrough client always signs `UNSIGNED-PAYLOAD`: the server must allow it.
    let keys = StaticKeys::new().with_key(AKID, SECRET, Principal::user(ALICE, "AIDAALICE"));
    let config =
        VerifierConfig::new(REGION, SERVICE).with_unsigned_payload(UnsignedPayload::Rejected);
    let addr = start_with(Verifier::new(config, keys).unwrap(), AllowAuthenticated).await;
    let mut client = signed_client(addr, AKID, SECRET).await;
    let status = client.upload(chunks(&[1])).await.unwrap_err();
    assert_status(
        &status,
        Code::Unauthenticated,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
}

#[tokio::test]
async fn a_stream_that_stalls_past_the_idle_timeout_is_deadline_exceeded() {
    // The read deadlines cover request streams too: a client stream that pauses longer than
    // the idle timeout is cut.
    let limits = BodyLimits::default().with_idle_timeout(Duration::from_millis(200));
    let addr = serve(
        VerifySigV4Layer::new(verifier())
            .with_body_limits(limits)
            .with_renderer(grpc_rejection),
    )
    .await;
    let mut client = signed_client(addr, AKID, SECRET).await;
    let (send, receive) = tokio::sync::mpsc::channel(1);
    let sender = tokio::spawn(async move {
        send.send(Chunk { data: vec![1; 10] }).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let _ = send.send(Chunk { data: vec![2; 10] }).await;
    });
    let status = client
        .upload(tokio_stream::wrappers::ReceiverStream::new(receive))
        .await
        .unwrap_err();
    assert_status(&status, Code::DeadlineExceeded, "Request Timeout");
    sender.abort();
}
