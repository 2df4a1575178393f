//! HTTP/2 against the real `sigv4-gateway` binary: the same answers as HTTP/1.1 (h2c with
//! prior knowledge, and ALPN `h2` over TLS), the `[limits]` of HTTP/2 (concurrent streams,
//! header list size, the head and idle deadlines that PINGs do not defeat), and the proxy to an
//! HTTP/2 upstream (h2c, or TLS with the trust of `[proxy] upstream_ca_file`) with `te:
//! trailers` and the trailers of both directions. Raw frames where the test must break the
//! rules a client library keeps (more streams than allowed, silence, PINGs only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, Version};
use http_body::Frame;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tower_sigv4::{ContentSha256Header, Credentials, SignablePayload, Signer, SigningSettings};

const BIN: &str = env!("CARGO_BIN_EXE_sigv4-gateway");
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const KEY: &str = "AKIAALICETESTKEY0001";
const SECRET: &str = "alice/secret+key/0123456789abcdefghijklm";
const INVALID_TARGET: &str = r#"{"message":"Invalid request target"}"#;
const UNREACHABLE: &str = r#"{"message":"Bad Gateway: the upstream service is unreachable"}"#;

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sigv4-gateway-http2-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Alice may invoke all of `prod`; the resource policy denies `/admin*`. `top` goes before the
/// tables, `limits` and `proxy` into theirs, `tail` at the end.
fn config(top: &str, limits: &str, proxy: &str, tail: &str) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
{top}
[api]
region = "us-east-1"
account = "123456789012"
api_id = "apiid"
stage = "prod"
resource_policy = '''{{"Version":"2012-10-17","Statement":[
  {{"Effect":"Allow","Principal":{{"AWS":"123456789012"}},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}},
  {{"Sid":"NoAdmin","Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*/admin*"}}]}}'''
[limits]
{limits}
[proxy]
{proxy}
[[user]]
arn = "{ALICE}"
access_keys = [{{ id = "{KEY}", secret = "{SECRET}" }}]
policies = ['''{{"Version":"2012-10-17","Statement":[
  {{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*"}}]}}''']
{tail}
"#
    )
}

/// A running gateway; killed on drop.
struct Gateway {
    child: Child,
    /// `http://127.0.0.1:PORT` (or `https://`).
    base: String,
    addr: SocketAddr,
    log: PathBuf,
}

impl Gateway {
    fn start(config_text: &str) -> Self {
        let dir = temp_dir();
        let path = dir.join("gateway.toml");
        std::fs::write(&path, config_text).unwrap();
        let log = dir.join("gateway.log");
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "info,sigv4_gateway=debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let base = loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the gateway did not start; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            if let Some(url) = line.strip_prefix("sigv4-gateway listening on ") {
                break url.to_owned();
            }
        };
        let addr = base.rsplit('/').next().unwrap().parse().unwrap();
        Self {
            child,
            base,
            addr,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now() -> SystemTime {
    tower_sigv4::Clock::now(&tower_sigv4::SystemClock::new())
}

fn alice() -> Credentials {
    Credentials::new(KEY, SECRET)
}

/// The head of `method url` signed by alice: over the body's hash, or (`streamed`) with a
/// signed `x-amz-content-sha256: UNSIGNED-PAYLOAD`. No `Host` header: the signer takes the
/// URI's authority, as an HTTP/2 client sends it in `:authority` (and hyper's HTTP/1.1 client
/// in `Host`).
fn signed(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    streamed: bool,
) -> http::request::Parts {
    let mut builder = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let (mut parts, ()) = builder.body(()).unwrap().into_parts();
    let mut settings = SigningSettings::default();
    let payload = if streamed {
        settings.content_sha256 = ContentSha256Header::Include;
        SignablePayload::Unsigned
    } else {
        SignablePayload::Bytes(body)
    };
    Signer::new(alice(), "us-east-1", "execute-api")
        .with_settings(settings)
        .sign(&mut parts, payload, now())
        .unwrap();
    parts
}

/// A body of given frames (data and trailers).
struct Frames(VecDeque<Frame<Bytes>>);

impl Frames {
    fn new(data: &[u8], trailers: &[(&str, &str)]) -> Self {
        let mut frames = VecDeque::new();
        frames.push_back(Frame::data(Bytes::copy_from_slice(data)));
        if !trailers.is_empty() {
            let mut map = HeaderMap::new();
            for (k, v) in trailers {
                map.insert(
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            frames.push_back(Frame::trailers(map));
        }
        Self(frames)
    }
}

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
}

/// A client of the gateway: HTTP/2 with prior knowledge (h2c), or HTTP/1.1.
fn client<B>(http2: bool) -> Client<HttpConnector, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = Client::builder(TokioExecutor::new());
    builder.http2_only(http2);
    builder.build_http()
}

/// What came back: status, headers, body, trailers, version.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
    trailers: Option<HeaderMap>,
    version: Version,
}

async fn exchange<B>(client: &Client<HttpConnector, B>, request: Request<B>) -> Answer
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("no answer within 20 s")
        .unwrap();
    let (parts, body) = response.into_parts();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(collected.to_bytes().to_vec()).unwrap(),
        trailers,
        version: parts.version,
    }
}

/// A signed GET of `path` on `base` over HTTP/2 or HTTP/1.1.
async fn get(base: &str, path: &str, http2: bool, extra: &[(&str, &str)]) -> Answer {
    let parts = signed("GET", &format!("{base}{path}"), &[], b"", false);
    let mut request = Request::from_parts(parts, Full::new(Bytes::new()));
    for (k, v) in extra {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    exchange(&client(http2), request).await
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn http2_gets_the_answers_of_http1() {
    let gw = Gateway::start(&config("", "max_header_list_bytes = 16384", "", ""));
    for http2 in [false, true] {
        let version = if http2 {
            Version::HTTP_2
        } else {
            Version::HTTP_11
        };
        let ok = get(&gw.base, "/hello?a=1", http2, &[]).await;
        assert_eq!(ok.status, 200, "{http2}: {}", ok.body);
        assert_eq!(ok.version, version);
        let v = json(&ok.body);
        assert_eq!(v["arn"], ALICE);
        assert_eq!(v["method"], "GET");
        assert_eq!(v["path"], "/hello");
        assert_eq!(v["query"], "a=1");

        let denied = get(&gw.base, "/admin", http2, &[]).await;
        assert_eq!(denied.status, 403);
        assert_eq!(denied.version, version);
        assert_eq!(denied.headers["x-amzn-errortype"], "AccessDeniedException");
        assert_eq!(
            denied.body,
            r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/admin with an explicit deny"}"#
        );

        // Row 0: an encoded backslash is refused before authentication.
        let bad = get(&gw.base, "/x%5C..%5Cadmin", http2, &[]).await;
        assert_eq!(bad.status, 400);
        assert_eq!(bad.headers["x-amzn-errortype"], "BadRequestException");
        assert_eq!(bad.body, INVALID_TARGET);

        // Unsigned: the same 403 either way.
        let request = Request::get(format!("{}/hello", gw.base))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let missing = exchange(&client(http2), request).await;
        assert_eq!(missing.status, 403);
        assert_eq!(
            missing.body,
            r#"{"message":"Missing Authentication Token"}"#
        );

        // A gRPC call is answered in gRPC's dialect: a trailers-only status.
        let request = Request::post(format!("{}/demo.Demo/WhoAmI", gw.base))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let grpc = exchange(&client(http2), request).await;
        assert_eq!(grpc.status, 200, "{http2}");
        assert_eq!(grpc.headers["content-type"], "application/grpc");
        assert_eq!(grpc.headers["grpc-status"], "16");
        assert_eq!(grpc.headers["grpc-message"], "Missing Authentication Token");
        assert_eq!(grpc.body, "");
    }
    // A header list over `max_header_list_bytes` (16 KiB here): 431 on HTTP/2 (the stream only).
    let big = "a".repeat(20_000);
    let too_large = get(&gw.base, "/hello", true, &[("x-big", &big)]).await;
    assert_eq!(too_large.status, 431);
    // One under it passes.
    let fits = "a".repeat(12_000);
    assert_eq!(
        get(&gw.base, "/hello", true, &[("x-big", &fits)])
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http1_request_head_over_the_header_list_limit_is_a_431() {
    let gw = Gateway::start(&config("", "max_header_list_bytes = 16384", "", ""));
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    let head = format!(
        "GET /hello HTTP/1.1\r\nHost: {}\r\nx-big: {}\r\n\r\n",
        gw.addr,
        "a".repeat(16_384)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{reply}"
    );
    // Under the limit: served.
    let fits = "a".repeat(12_000);
    let answer = get(&gw.base, "/hello", false, &[("x-big", &fits)]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[test]
fn tls_listener_offers_h2_by_alpn() {
    let dir = temp_dir();
    let (cert, key) = write_cert(&dir);
    let tls = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"",
        cert.display(),
        key.display()
    );
    let gw = Gateway::start(&config("", "", "", &tls));
    let port = gw.addr.port();
    let user = format!("{KEY}:{SECRET}");
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let output = Command::new("curl")
            .args(["-s", "-S", "-w", "\n%{http_version} %{http_code}", flag])
            .arg("--cacert")
            .arg(&cert)
            .args([
                "--resolve",
                &format!("localhost:{port}:127.0.0.1"),
                "--aws-sigv4",
                "aws:amz:us-east-1:execute-api",
                "--user",
                &user,
                &format!("https://localhost:{port}/hello"),
            ])
            .output()
            .expect("curl must be installed (.ci/run installs it)");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        let (body, last) = text.rsplit_once('\n').unwrap();
        assert_eq!(last, format!("{version} 200"), "{body}");
        assert_eq!(json(body)["arn"], ALICE);
    }
}

fn write_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/2 frames (RFC 9113 §4.1), for what a client library would not do.

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const REFUSED_STREAM: u32 = 0x7;

#[derive(Debug)]
struct RawFrame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

/// An HTTP/2 connection driven frame by frame; its writing half may be shared with a task.
struct Raw {
    reader: OwnedReadHalf,
    writer: Writer,
}

type Writer = Arc<tokio::sync::Mutex<OwnedWriteHalf>>;

async fn send_frame(writer: &Writer, kind: u8, flags: u8, stream: u32, payload: &[u8]) -> bool {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut frame = vec![len[1], len[2], len[3], kind, flags];
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    writer.lock().await.write_all(&frame).await.is_ok()
}

impl Raw {
    /// Connects and sends the preface and an empty SETTINGS.
    async fn connect(addr: SocketAddr) -> Self {
        let (reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
        writer.write_all(PREFACE).await.unwrap();
        let raw = Self {
            reader,
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
        };
        raw.send(SETTINGS, 0, 0, &[]).await;
        raw
    }

    /// Sends a frame (the peer may have closed: the caller looks at what it reads).
    async fn send(&self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        send_frame(&self.writer, kind, flags, stream, payload).await;
    }

    /// The next frame; `None` at the end of the connection.
    async fn read(&mut self) -> Option<RawFrame> {
        let mut header = [0u8; 9];
        let read =
            tokio::time::timeout(Duration::from_secs(20), self.reader.read_exact(&mut header))
                .await;
        match read {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return None,
            Err(_) => panic!("no frame and no close within 20 s"),
        }
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let mut payload = vec![0u8; len];
        self.reader.read_exact(&mut payload).await.ok()?;
        Some(RawFrame {
            kind: header[3],
            flags: header[4],
            stream: u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff,
            payload,
        })
    }

    /// PINGs every `every` from another task until the connection closes.
    fn keep_pinging(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let writer = self.writer.clone();
        tokio::spawn(async move {
            while send_frame(&writer, PING, 0, 0, &[7; 8]).await {
                tokio::time::sleep(every).await;
            }
        })
    }

    /// Reads the server's SETTINGS (acknowledging them): its (identifier, value) pairs.
    async fn server_settings(&mut self) -> Vec<(u16, u32)> {
        loop {
            let frame = self.read().await.expect("closed before SETTINGS");
            if frame.kind == SETTINGS && frame.flags & ACK == 0 {
                self.send(SETTINGS, ACK, 0, &[]).await;
                return frame
                    .payload
                    .chunks(6)
                    .map(|c| {
                        (
                            u16::from_be_bytes([c[0], c[1]]),
                            u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                        )
                    })
                    .collect();
            }
        }
    }

    /// Sends a request head (HEADERS, then CONTINUATIONs past 16 KiB) on `stream`.
    async fn request(&self, stream: u32, parts: &http::request::Parts, end_stream: bool) {
        let mut block = Vec::new();
        let authority = parts.uri.authority().unwrap().as_str();
        let path = parts.uri.path_and_query().unwrap().as_str();
        for (name, value) in [
            (":method", parts.method.as_str()),
            (":scheme", "http"),
            (":path", path),
            (":authority", authority),
        ] {
            hpack_literal(&mut block, name.as_bytes(), value.as_bytes());
        }
        for (name, value) in &parts.headers {
            hpack_literal(&mut block, name.as_str().as_bytes(), value.as_bytes());
        }
        let chunks: Vec<&[u8]> = block.chunks(16_384).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let mut flags = if last { END_HEADERS } else { 0 };
            let kind = if i == 0 {
                if end_stream {
                    flags |= END_STREAM;
                }
                HEADERS
            } else {
                CONTINUATION
            };
            self.send(kind, flags, stream, chunk).await;
        }
    }
}

/// An HPACK integer with a `prefix`-bit prefix (RFC 7541 §5.1).
fn hpack_int(out: &mut Vec<u8>, first: u8, prefix: u8, value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(first | u8::try_from(value).unwrap());
        return;
    }
    out.push(first | u8::try_from(max).unwrap());
    let mut rest = value - max;
    while rest >= 128 {
        out.push(u8::try_from(rest % 128).unwrap() | 0x80);
        rest /= 128;
    }
    out.push(u8::try_from(rest).unwrap());
}

/// A literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2).
fn hpack_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(0x00);
    hpack_int(out, 0, 7, name.len());
    out.extend_from_slice(name);
    hpack_int(out, 0, 7, value.len());
    out.extend_from_slice(value);
}

/// `:status: 200` as h2 encodes it: the static table's entry 8.
const STATUS_200: u8 = 0x88;

/// An HTTP/1.1 upstream that answers after `delay` with the path it got.
async fn slow_upstream(delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper::service::service_fn(move |req: Request<Incoming>| async move {
                tokio::time::sleep(delay).await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
                    req.uri().path().to_owned(),
                ))))
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_concurrent_streams_limit_is_advertised_and_enforced() {
    let upstream = slow_upstream(Duration::from_millis(1500)).await;
    let gw = Gateway::start(&config(
        &format!("upstream = \"{upstream}\""),
        "http2_max_concurrent_streams = 2",
        "",
        "",
    ));
    let mut raw = Raw::connect(gw.addr).await;
    let settings = raw.server_settings().await;
    // SETTINGS_MAX_CONCURRENT_STREAMS (0x3) and SETTINGS_MAX_HEADER_LIST_SIZE (0x6).
    assert!(settings.contains(&(0x3, 2)), "{settings:?}");
    assert!(settings.contains(&(0x6, 65_536)), "{settings:?}");

    let url = format!("{}/slow", gw.base);
    for stream in [1, 3, 5] {
        raw.request(stream, &signed("GET", &url, &[], b"", false), true)
            .await;
    }
    // The third is refused at once; the first two are answered.
    let mut refused = None;
    let mut answered = Vec::new();
    let mut ended = Vec::new();
    let started = Instant::now();
    while ended.len() < 2 {
        let frame = raw.read().await.expect("closed");
        match frame.kind {
            RST_STREAM => {
                let code = u32::from_be_bytes(frame.payload[..4].try_into().unwrap());
                assert_eq!((frame.stream, code), (5, REFUSED_STREAM));
                assert!(started.elapsed() < Duration::from_millis(1000));
                refused = Some(frame.stream);
            }
            HEADERS => {
                assert_eq!(frame.payload[0], STATUS_200, "stream {}", frame.stream);
                answered.push(frame.stream);
                if frame.flags & END_STREAM != 0 {
                    ended.push(frame.stream);
                }
            }
            DATA if frame.flags & END_STREAM != 0 => ended.push(frame.stream),
            _ => {}
        }
    }
    assert_eq!(refused, Some(5));
    answered.sort_unstable();
    assert_eq!(answered, [1, 3]);
    // Room again: a new stream is served.
    raw.request(7, &signed("GET", &url, &[], b"", false), true)
        .await;
    loop {
        let frame = raw.read().await.expect("closed");
        if frame.kind == HEADERS && frame.stream == 7 {
            assert_eq!(frame.payload[0], STATUS_200);
            break;
        }
        assert_ne!(frame.kind, RST_STREAM, "{frame:?}");
    }
}

/// Reads until the connection ends, answering PINGs; the frames read.
async fn read_to_end(raw: &mut Raw) -> Vec<RawFrame> {
    let mut frames = Vec::new();
    while let Some(frame) = raw.read().await {
        if frame.kind == PING && frame.flags & ACK == 0 {
            raw.send(PING, ACK, 0, &frame.payload).await;
        }
        frames.push(frame);
    }
    frames
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_http2_connection_is_closed_at_the_head_deadline() {
    let gw = Gateway::start(&config(
        "",
        "header_read_timeout_seconds = 1\nkeep_alive_timeout_seconds = 30",
        "",
        "",
    ));
    // The preface and SETTINGS, then nothing.
    let started = Instant::now();
    let mut raw = Raw::connect(gw.addr).await;
    read_to_end(&mut raw).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "closed after {took:?}"
    );

    // PINGs every 200 ms do not make it a request head.
    let started = Instant::now();
    let mut raw = Raw::connect(gw.addr).await;
    let pinger = raw.keep_pinging(Duration::from_millis(200));
    read_to_end(&mut raw).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "closed after {took:?} although only PINGs came"
    );
    pinger.abort();
    assert!(
        gw.log().contains("request head not received in time"),
        "{}",
        gw.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_http2_connection_gets_goaway_whatever_its_pings() {
    let gw = Gateway::start(&config(
        "",
        "header_read_timeout_seconds = 1\nkeep_alive_timeout_seconds = 2\nhttp2_keep_alive_interval_seconds = 1",
        "",
        "",
    ));
    let mut raw = Raw::connect(gw.addr).await;
    raw.server_settings().await;
    raw.request(
        1,
        &signed("GET", &format!("{}/hello", gw.base), &[], b"", false),
        true,
    )
    .await;
    loop {
        let frame = raw.read().await.expect("closed");
        if frame.kind == HEADERS {
            assert_eq!(frame.payload[0], STATUS_200);
        }
        if frame.stream == 1 && frame.flags & END_STREAM != 0 {
            break;
        }
    }
    let answered = Instant::now();
    // Idle now; the client PINGs twice a second and answers the server's PINGs: neither keeps
    // the connection open.
    let pinger = raw.keep_pinging(Duration::from_millis(500));
    let mut goaway = None;
    let mut pongs = 0;
    while let Some(frame) = raw.read().await {
        match frame.kind {
            PING if frame.flags & ACK == 0 => raw.send(PING, ACK, 0, &frame.payload).await,
            PING => pongs += 1,
            GOAWAY => {
                let code = u32::from_be_bytes(frame.payload[4..8].try_into().unwrap());
                assert_eq!(code, 0, "NO_ERROR");
                goaway.get_or_insert(answered.elapsed());
            }
            _ => {}
        }
        assert!(answered.elapsed() < Duration::from_secs(15), "never closed");
    }
    pinger.abort();
    let closed = answered.elapsed();
    assert!(pongs >= 3, "{pongs} PINGs answered");
    let goaway = goaway.expect("closed without GOAWAY");
    assert!(
        goaway >= Duration::from_millis(1900) && goaway < Duration::from_millis(3500),
        "GOAWAY after {goaway:?}"
    );
    // Closed soon after: the client answered the PING of the GOAWAY.
    assert!(
        closed < goaway + Duration::from_secs(2),
        "closed after {closed:?}"
    );
    assert!(gw.log().contains("GOAWAY sent"), "{}", gw.log());
}

// ---------------------------------------------------------------------------------------------
// HTTP/2 upstreams.

/// What the upstream saw of a request.
#[derive(Clone, Debug)]
struct Seen {
    version: Version,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

type Record = Arc<Mutex<Vec<Seen>>>;

/// An HTTP/2 service that records each request (with its trailers) and answers `echo` in the
/// body, then the trailers `grpc-status: 0`, `grpc-message: fine`.
fn grpc_like(
    record: Record,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Frames>,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<Response<Frames>, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let record = record.clone();
        async move {
            let (parts, body) = request.into_parts();
            let collected = body.collect().await.unwrap();
            let trailers = collected.trailers().cloned();
            record.lock().unwrap().push(Seen {
                version: parts.version,
                uri: parts.uri.to_string(),
                headers: parts.headers,
                body: collected.to_bytes(),
                trailers,
            });
            let response = Response::builder()
                .header("content-type", "application/grpc")
                .body(Frames::new(
                    b"echo",
                    &[("grpc-status", "0"), ("grpc-message", "fine")],
                ))
                .unwrap();
            Ok::<_, Infallible>(response)
        }
    })
}

/// An h2c upstream (HTTP/2 with prior knowledge, no TLS).
async fn h2c_upstream() -> (String, Record) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Record::default();
    let service = grpc_like(record.clone());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), record)
}

/// A gRPC-shaped call through the gateway over HTTP/2: `te: trailers`, a streamed body (signed
/// `UNSIGNED-PAYLOAD`) ending in a trailer.
async fn grpc_call(gw: &Gateway, te: bool) -> Answer {
    let url = format!("{}/echo.Echo/Say", gw.base);
    let mut headers = vec![("content-type", "application/grpc")];
    if te {
        headers.push(("te", "trailers"));
    }
    let parts = signed("POST", &url, &headers, b"", true);
    let request = Request::from_parts(parts, Frames::new(b"ping", &[("x-client-trailer", "yes")]));
    exchange(&client(true), request).await
}

#[tokio::test(flavor = "multi_thread")]
async fn proxies_to_an_h2c_upstream_with_trailers_both_ways() {
    let (upstream, record) = h2c_upstream().await;
    let gw = Gateway::start(&config(
        &format!("upstream = \"{upstream}/base\""),
        "",
        "upstream_protocol = \"http2\"",
        "",
    ));
    let answer = grpc_call(&gw, true).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.version, Version::HTTP_2);
    assert_eq!(answer.headers["content-type"], "application/grpc");
    assert_eq!(answer.body, "echo");
    let trailers = answer.trailers.expect("the upstream's trailers");
    assert_eq!(trailers["grpc-status"], "0");
    assert_eq!(trailers["grpc-message"], "fine");

    let seen = record.lock().unwrap().pop().unwrap();
    assert_eq!(seen.version, Version::HTTP_2);
    let authority = upstream.trim_start_matches("http://");
    assert_eq!(seen.uri, format!("http://{authority}/base/echo.Echo/Say"));
    assert_eq!(seen.body, "ping");
    assert_eq!(
        seen.trailers.as_ref().map(|t| &t["x-client-trailer"]),
        Some(&http::HeaderValue::from_static("yes"))
    );
    let h = &seen.headers;
    assert_eq!(h["te"], "trailers");
    assert_eq!(h["content-type"], "application/grpc");
    assert_eq!(h["x-sigv4-principal-arn"], ALICE);
    assert_eq!(h["x-sigv4-account"], "123456789012");
    assert_eq!(h["x-sigv4-principal-type"], "User");
    assert_eq!(h["x-forwarded-host"], gw.addr.to_string());
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert!(h.get("authorization").is_none(), "{h:?}");
    assert!(h.get("host").is_none(), "{h:?}");

    // Without `te: trailers` from the client, none reaches the upstream.
    let answer = grpc_call(&gw, false).await;
    assert_eq!(answer.status, 200);
    let seen = record.lock().unwrap().pop().unwrap();
    assert!(seen.headers.get("te").is_none(), "{:?}", seen.headers);

    // Denied requests never reach it.
    let denied = get(&gw.base, "/admin", true, &[]).await;
    assert_eq!(denied.status, 403);
    assert!(record.lock().unwrap().is_empty());
}

/// A TLS upstream (certificate for `localhost`, self-signed) offering `h2` and `http/1.1`.
async fn tls_upstream(dir: &Path) -> (String, PathBuf, Record) {
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::ServerConfig;

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let ca = dir.join("upstream-ca.pem");
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
    let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut tls = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let record = Record::default();
    let service = grpc_like(record.clone());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (acceptor, service) = (acceptor.clone(), service.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("https://localhost:{port}"), ca, record)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_upstream_is_trusted_only_through_its_ca() {
    let dir = temp_dir();
    let (upstream, ca, record) = tls_upstream(&dir).await;
    let top = format!("upstream = \"{upstream}\"");

    // Its self-signed certificate is not among the built-in roots: refused, a 502.
    let gw = Gateway::start(&config(&top, "", "upstream_protocol = \"http2\"", ""));
    let answer = grpc_call(&gw, true).await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert_eq!(answer.body, UNREACHABLE);
    assert!(record.lock().unwrap().is_empty());
    assert!(gw.log().contains("upstream request failed"), "{}", gw.log());
    drop(gw);

    // With it as the upstream's CA: HTTP/2 over TLS, trailers included.
    let proxy = format!(
        "upstream_protocol = \"http2\"\nupstream_ca_file = \"{}\"",
        ca.display()
    );
    let gw = Gateway::start(&config(&top, "", &proxy, ""));
    let answer = grpc_call(&gw, true).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, "echo");
    assert_eq!(answer.trailers.unwrap()["grpc-status"], "0");
    let seen = record.lock().unwrap().pop().unwrap();
    assert_eq!(seen.version, Version::HTTP_2);
    assert_eq!(seen.uri, format!("{upstream}/echo.Echo/Say"));
    assert_eq!(seen.headers["te"], "trailers");
    assert_eq!(seen.headers["x-sigv4-principal-arn"], ALICE);
    drop(gw);

    // The same trust with HTTP/1.1 (no ALPN offered): the upstream gets HTTP/1.1 and `Host`.
    let proxy = format!("upstream_ca_file = \"{}\"", ca.display());
    let gw = Gateway::start(&config(&top, "", &proxy, ""));
    let answer = grpc_call(&gw, true).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, "echo");
    let seen = record.lock().unwrap().pop().unwrap();
    assert_eq!(seen.version, Version::HTTP_11);
    assert_eq!(seen.uri, "/echo.Echo/Say");
    assert_eq!(
        seen.headers["host"],
        upstream.trim_start_matches("https://")
    );
    assert_eq!(seen.headers["te"], "trailers");
    assert_eq!(seen.headers["connection"], "te");
    // The connection to the upstream is kept for the next request.
    assert_eq!(grpc_call(&gw, true).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_an_http2_stream() {
    let upstream = slow_upstream(Duration::from_millis(1500)).await;
    let gw = Gateway::start(&config(&format!("upstream = \"{upstream}\""), "", "", ""));
    let base = gw.base.clone();
    let in_flight = tokio::spawn(async move { get(&base, "/slow", true, &[]).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let status = Command::new("kill")
        .args(["-TERM", &gw.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.version, Version::HTTP_2);
    assert_eq!(answer.body, "/slow");
    let mut gw = gw;
    let (exit, gw) = tokio::task::spawn_blocking(move || (gw.child.wait().unwrap(), gw))
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(gw.log().contains("all connections closed"), "{}", gw.log());
}

#[test]
fn upstream_settings_are_checked_at_start() {
    let dir = temp_dir();
    let check = |text: &str| {
        let path = dir.join("check.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(BIN)
            .args(["--check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stderr)
                .unwrap()
                .replace(&path.display().to_string(), "FILE"),
        )
    };
    assert_eq!(
        check(&config(
            "upstream = \"https://localhost:8443\"",
            "",
            "upstream_protocol = \"http2\"",
            ""
        )),
        (Some(0), String::new())
    );
    assert_eq!(
        check(&config(
            "upstream = \"http://127.0.0.1:3000\"",
            "",
            "upstream_ca_file = \"ca.pem\"",
            ""
        )),
        (
            Some(1),
            "configuration error: FILE: proxy.upstream_ca_file: only for an https:// upstream\n"
                .to_owned()
        )
    );
    let (code, stderr) = check(&config("", "", "upstream_protocol = \"h3\"", ""));
    assert_eq!(code, Some(1));
    assert!(
        stderr
            .contains("proxy.upstream_protocol: unknown variant `h3`, expected `http1` or `http2`"),
        "{stderr}"
    );
    assert_eq!(
        check(&config("", "http2_max_concurrent_streams = 0", "", "")),
        (
            Some(1),
            "configuration error: FILE: limits.http2_max_concurrent_streams: must be at least 1\n"
                .to_owned()
        )
    );
    assert_eq!(
        check(&config("", "max_header_list_bytes = 100", "", "")),
        (
            Some(1),
            "configuration error: FILE: limits.max_header_list_bytes: must be between 8192 and 16777216, got 100\n"
                .to_owned()
        )
    );
}
