//! gRPC with tonic: a tonic server behind `VerifySigV4Layer`, and a tonic client that signs
//! every call with `SignSigV4Layer::passthrough`.
//!
//! The service, as a `.proto` would declare it:
//!
//! ```text
//! package demo;
//! service Demo {
//!   rpc WhoAmI (WhoAmIRequest) returns (WhoAmIReply);       // unary
//!   rpc Upload (stream Chunk)  returns (UploadReply);       // client streaming
//!   rpc Count  (CountRequest)  returns (stream Number);     // server streaming
//! }
//! ```
//!
//! No `protoc` and no build script: the messages derive `prost::Message`, and the server and
//! client are written by hand on `tonic::server::Grpc` and `tonic::client::Grpc` with
//! `tonic_prost::ProstCodec`, as `tonic-build` would generate them. With generated code the
//! wiring is the same.
//!
//! - Server: `Server::builder().layer(VerifySigV4Layer::new(verifier)…)` puts the layer in front
//!   of every service; handlers find the verified `Principal` in the request's extensions.
//!   Rejections are rendered as gRPC statuses by the crate's `GrpcRejections`:
//!   `UNAUTHENTICATED` for signature faults, `PERMISSION_DENIED` for policy denials.
//! - Client: `SignSigV4Layer::passthrough(signer)` over a `Channel` signs `UNSIGNED-PAYLOAD` and
//!   passes tonic's streaming body on untouched (a stream cannot be hashed before it is sent),
//!   so the server must allow unsigned payloads (the default). The client is built with
//!   `with_origin`: the `Channel` adds the server's authority only after the signer has run,
//!   and the signer must sign the host.
//!
//! ```text
//! cargo run --features tokio --example tonic_grpc            # calls itself, then serves 127.0.0.1:50051
//! cargo run --features tokio --example tonic_grpc -- --smoke # checks itself on a free port and exits
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::Uri;
use tokio::net::TcpListener;
use tonic::body::Body as GrpcBody;
use tonic::client::GrpcService;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Status, Streaming};
use tonic_prost::ProstCodec;
use tower::{service_fn, Layer, Service};
use tower_sigv4::{
    Credentials, GrpcRejections, PolicyDecision, PolicyRequest, Principal, SignSigV4Layer,
    SignSigV4Passthrough, Signer, StaticKeys, Verifier, VerifierConfig, VerifySigV4Layer,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const ADDR: &str = "127.0.0.1:50051";
const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

// Demo credentials. Never print or commit real ones.
const ALICE_KEY: &str = "AKIDALICEEXAMPLE";
const ALICE_SECRET: &str = "alice/Secret+Key/EXAMPLE0123456789abcdef";
const BOB_KEY: &str = "AKIDBOBEXAMPLE";
const BOB_SECRET: &str = "bob/Secret+Key/EXAMPLE0123456789abcdefgh";

// ---- The messages: what prost-build would generate from the .proto. ----

/// `WhoAmI`'s request (no fields).
#[derive(Clone, PartialEq, prost::Message)]
struct WhoAmIRequest {}

/// `WhoAmI`'s reply: the caller as the server verified it.
#[derive(Clone, PartialEq, prost::Message)]
struct WhoAmIReply {
    #[prost(string, tag = "1")]
    arn: String,
}

/// One piece of an upload.
#[derive(Clone, PartialEq, prost::Message)]
struct Chunk {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

/// What an upload received.
#[derive(Clone, PartialEq, prost::Message)]
struct UploadReply {
    #[prost(uint32, tag = "1")]
    chunks: u32,
    #[prost(uint64, tag = "2")]
    bytes: u64,
}

/// `Count`'s request: count from 1 to `to`.
#[derive(Clone, PartialEq, prost::Message)]
struct CountRequest {
    #[prost(uint32, tag = "1")]
    to: u32,
}

/// One number of `Count`'s stream.
#[derive(Clone, PartialEq, prost::Message)]
struct Number {
    #[prost(uint32, tag = "1")]
    value: u32,
}

const WHO_AM_I: &str = "/demo.Demo/WhoAmI";
const UPLOAD: &str = "/demo.Demo/Upload";
const COUNT: &str = "/demo.Demo/Count";

// ---- The handlers. ----

/// The verified caller: `VerifySigV4Layer` put it in the request's extensions.
fn caller<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        // Always there behind the layer; a missing one is a wiring bug.
        .ok_or_else(|| Status::internal("no principal"))
}

async fn who_am_i(
    request: tonic::Request<WhoAmIRequest>,
) -> Result<tonic::Response<WhoAmIReply>, Status> {
    let arn = caller(&request)?.arn().to_owned();
    Ok(tonic::Response::new(WhoAmIReply { arn }))
}

async fn upload(
    request: tonic::Request<Streaming<Chunk>>,
) -> Result<tonic::Response<UploadReply>, Status> {
    caller(&request)?;
    let mut stream = request.into_inner();
    let (mut chunks, mut bytes) = (0, 0);
    // The chunks arrive as the client sends them: nothing was buffered to check a hash.
    while let Some(chunk) = stream.message().await? {
        chunks += 1;
        bytes += chunk.data.len() as u64;
    }
    Ok(tonic::Response::new(UploadReply { chunks, bytes }))
}

type NumberStream = tokio_stream::Iter<std::vec::IntoIter<Result<Number, Status>>>;

async fn count(
    request: tonic::Request<CountRequest>,
) -> Result<tonic::Response<NumberStream>, Status> {
    caller(&request)?;
    let to = request.into_inner().to.min(1000);
    let numbers: Vec<_> = (1..=to).map(|value| Ok(Number { value })).collect();
    Ok(tonic::Response::new(tokio_stream::iter(numbers)))
}

// ---- The server: what tonic-build would generate for `demo.Demo`. ----

/// The `demo.Demo` service: routes each method to its handler.
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
                let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
                Ok(grpc.unary(service_fn(who_am_i), request).await)
            }),
            UPLOAD => Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
                Ok(grpc.client_streaming(service_fn(upload), request).await)
            }),
            COUNT => Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
                Ok(grpc.server_streaming(service_fn(count), request).await)
            }),
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

// ---- The server, wired. ----

/// Serves `demo.Demo` behind the verifying layer until the process ends.
async fn serve(listener: TcpListener) -> Result<(), BoxError> {
    let keys = StaticKeys::new()
        .with_key(
            ALICE_KEY,
            ALICE_SECRET,
            Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAALICEEXAMPLE")
                .with_tag("role", "writer"),
        )
        .with_key(
            BOB_KEY,
            BOB_SECRET,
            Principal::user("arn:aws:iam::123456789012:user/bob", "AIDABOBEXAMPLE"),
        );
    // `UnsignedPayload::Allowed` is the default: the signing client sends `UNSIGNED-PAYLOAD`.
    let verifier = Verifier::new(VerifierConfig::new(REGION, SERVICE), keys)?;

    // A policy hook sees the gRPC method as the request path.
    let uploads_for_writers = |request: &PolicyRequest<'_>| {
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
    };
    let layer = VerifySigV4Layer::new(verifier)
        .with_policy(uploads_for_writers)
        .with_renderer(GrpcRejections);

    Server::builder()
        .layer(layer)
        .add_service(DemoServer)
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;
    Ok(())
}

// ---- The client: what tonic-build would generate, over any gRPC service. ----

/// A `demo.Demo` client.
struct DemoClient<T> {
    grpc: tonic::client::Grpc<T>,
}

impl<T> DemoClient<T>
where
    T: GrpcService<GrpcBody>,
    T::Error: Into<BoxError>,
    T::ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<BoxError> + Send,
{
    /// A client of the server at `origin` (generated clients have `with_origin` too). Behind
    /// the signing layer the origin is needed: the signer signs the host, which a `Channel`
    /// adds only after the layers in front of it have run.
    fn with_origin(inner: T, origin: Uri) -> Self {
        Self {
            grpc: tonic::client::Grpc::with_origin(inner, origin),
        }
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.grpc
            .ready()
            .await
            .map_err(|e| Status::unknown(format!("service was not ready: {}", e.into())))
    }

    /// `WhoAmI` (unary).
    async fn who_am_i(&mut self) -> Result<String, Status> {
        self.ready().await?;
        let request = tonic::Request::new(WhoAmIRequest {});
        let path = PathAndQuery::from_static(WHO_AM_I);
        let codec = ProstCodec::<WhoAmIRequest, WhoAmIReply>::default();
        Ok(self
            .grpc
            .unary(request, path, codec)
            .await?
            .into_inner()
            .arn)
    }

    /// `Upload` (client streaming).
    async fn upload(&mut self, chunks: Vec<Chunk>) -> Result<UploadReply, Status> {
        self.ready().await?;
        let request = tonic::Request::new(tokio_stream::iter(chunks));
        let path = PathAndQuery::from_static(UPLOAD);
        let codec = ProstCodec::<Chunk, UploadReply>::default();
        let reply = self.grpc.client_streaming(request, path, codec).await?;
        Ok(reply.into_inner())
    }

    /// `Count` (server streaming), collected.
    async fn count(&mut self, to: u32) -> Result<Vec<u32>, Status> {
        self.ready().await?;
        let request = tonic::Request::new(CountRequest { to });
        let path = PathAndQuery::from_static(COUNT);
        let codec = ProstCodec::<CountRequest, Number>::default();
        let mut stream = self
            .grpc
            .server_streaming(request, path, codec)
            .await?
            .into_inner();
        let mut numbers = Vec::new();
        while let Some(number) = stream.message().await? {
            numbers.push(number.value);
        }
        Ok(numbers)
    }
}

/// A channel to the server on `addr`.
async fn channel(addr: SocketAddr) -> Result<Channel, BoxError> {
    Ok(Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?)
}

/// A client that signs every call as `key`/`secret`.
async fn signing_client(
    addr: SocketAddr,
    key: &str,
    secret: &str,
) -> Result<DemoClient<SignSigV4Passthrough<Channel>>, BoxError> {
    let signer = Signer::new(Credentials::new(key, secret), REGION, SERVICE);
    let signed = SignSigV4Layer::passthrough(signer).layer(channel(addr).await?);
    Ok(DemoClient::with_origin(
        signed,
        format!("http://{addr}").parse()?,
    ))
}

// ---- The demo calls, each checked. ----

/// Fails unless `got` is `expected`; prints the line otherwise.
fn check<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: T,
    expected: T,
    show: &str,
) -> Result<(), BoxError> {
    if got != expected {
        return Err(format!("{what}: expected {expected:?}, got {got:?}").into());
    }
    println!("ok  {what}: {show}");
    Ok(())
}

/// A failed call as `Code (n) "message"`; a call that succeeded as `Ok`.
fn status_line<T>(result: Result<T, Status>) -> String {
    match result {
        Ok(_) => "Ok".to_owned(),
        Err(status) => format!(
            "{:?} ({}) {:?}",
            status.code(),
            status.code() as i32,
            status.message()
        ),
    }
}

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Calls the server on `addr` as Alice, as Bob, with a wrong secret and unsigned.
async fn demo(addr: SocketAddr) -> Result<usize, BoxError> {
    let mut alice = signing_client(addr, ALICE_KEY, ALICE_SECRET).await?;
    let mut bob = signing_client(addr, BOB_KEY, BOB_SECRET).await?;
    let mut checks = 0;

    let arn = alice.who_am_i().await?;
    check(
        "alice WhoAmI (unary)",
        arn.as_str(),
        "arn:aws:iam::123456789012:user/alice",
        &arn,
    )?;
    checks += 1;

    let chunks = ["hello ", "streaming ", "world"]
        .map(|s| Chunk {
            data: s.as_bytes().to_vec(),
        })
        .to_vec();
    let reply = alice.upload(chunks).await?;
    let show = format!("{} chunks, {} bytes", reply.chunks, reply.bytes);
    check(
        "alice Upload (client streaming)",
        (reply.chunks, reply.bytes),
        (3, 21),
        &show,
    )?;
    checks += 1;

    let numbers = bob.count(5).await?;
    let show = format!("{numbers:?}");
    check(
        "bob Count to 5 (server streaming)",
        numbers,
        vec![1, 2, 3, 4, 5],
        &show,
    )?;
    checks += 1;

    let got = status_line(bob.upload(vec![Chunk { data: vec![1] }]).await);
    let expected = format!(
        "PermissionDenied (7) {:?}",
        "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: /demo.Demo/Upload"
    );
    check("bob Upload", got.as_str(), &expected, &got)?;
    checks += 1;

    let mut wrong = signing_client(addr, ALICE_KEY, "not-the-secret").await?;
    let got = status_line(wrong.who_am_i().await);
    let expected = format!("Unauthenticated (16) {SIGNATURE_MISMATCH:?}");
    check("WhoAmI with a wrong secret", got.as_str(), &expected, &got)?;
    checks += 1;

    let mut unsigned =
        DemoClient::with_origin(channel(addr).await?, format!("http://{addr}").parse()?);
    let got = status_line(unsigned.who_am_i().await);
    let expected = format!("Unauthenticated (16) {:?}", "Missing Authentication Token");
    check("unsigned WhoAmI", got.as_str(), &expected, &got)?;
    checks += 1;

    Ok(checks)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let smoke = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--smoke") => true,
        Some(other) => {
            return Err(format!("unknown argument {other:?}; usage: tonic_grpc [--smoke]").into())
        }
    };
    let listener = TcpListener::bind(if smoke { "127.0.0.1:0" } else { ADDR }).await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener));

    let checks = demo(addr).await?;
    if smoke {
        println!("smoke: tonic_grpc passed {checks} checks");
        return Ok(());
    }
    println!("serving demo.Demo on http://{addr} (Ctrl-C to stop)");
    server.await?
}
