//! Hostile clients against the real `sigv4-gateway` binary, started on a free loopback port
//! with a temporary config, talking raw HTTP/1.1 over plain sockets so that every byte is the
//! test's choice: path bypasses (row 0), identity look-alike headers, presigned parameters in
//! the forwarded query, refused upstream URLs, streamed and malformed bodies, the body before
//! the signature, the connection deadlines and caps, the settings reload, STS behind trusted
//! proxies and the metrics listener's idle cost. A raw-TCP upstream records exactly what
//! reached it (request line, headers, body, and whether the body was complete).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tower_sigv4::{ContentSha256Header, Credentials, SignablePayload, Signer, SigningSettings};

#[path = "hostile_gateway/bodies.rs"]
mod bodies;
#[path = "hostile_gateway/config.rs"]
mod config;
#[path = "hostile_gateway/connections.rs"]
mod connections;
#[path = "hostile_gateway/forwarding.rs"]
mod forwarding;
#[path = "hostile_gateway/paths.rs"]
mod paths;
#[path = "hostile_gateway/reload.rs"]
mod reload;
#[path = "hostile_gateway/sts.rs"]
mod sts;
#[path = "hostile_gateway/timeouts.rs"]
mod timeouts;

const BIN: &str = env!("CARGO_BIN_EXE_sigv4-gateway");
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const KEY: &str = "AKIAALICETESTKEY0001";
const SECRET: &str = "alice/secret+key/0123456789abcdefghijklm";
/// How long any single read may block before a test gives up.
const IO_TIMEOUT: Duration = Duration::from_secs(20);

const INVALID_TARGET: &str = r#"{"message":"Invalid request target"}"#;
const INVALID_BODY: &str = r#"{"message":"Invalid request body"}"#;
const REQUEST_TIMEOUT: &str = r#"{"message":"Request Timeout"}"#;
const SIGNATURE_MISMATCH: &str = r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#;
const PAYLOAD_HASH_MISMATCH: &str =
    r#"{"message":"The provided 'x-amz-content-sha256' header does not match what was computed."}"#;

/// The denial of `GET /<what>` for alice by the resource policy's explicit Deny.
fn explicit_deny(what: &str) -> String {
    format!(
        r#"{{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/{what} with an explicit deny"}}"#
    )
}

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sigv4-hostile-gateway-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The pieces of a configuration: alice (every `execute-api:/prod/*`, `sts:AssumeRole` on
/// `Reader` and `Office`), a resource policy allowing the account and denying
/// `/prod/*/admin*` (plus `extra_deny`), role `Reader` and role `Office` (assumable only from
/// `aws:SourceIp` 10.0.0.0/8), with free text for the top level and each section.
#[derive(Default, Clone)]
struct Cfg {
    top: String,
    auth: String,
    limits: String,
    proxy: String,
    extra_deny: Option<String>,
    tail: String,
}

impl Cfg {
    fn new() -> Self {
        Self::default()
    }

    fn top(mut self, text: &str) -> Self {
        self.top = text.to_owned();
        self
    }

    fn auth(mut self, text: &str) -> Self {
        self.auth = text.to_owned();
        self
    }

    fn limits(mut self, text: &str) -> Self {
        self.limits = text.to_owned();
        self
    }

    fn proxy(mut self, text: &str) -> Self {
        self.proxy = text.to_owned();
        self
    }

    /// Also deny `execute-api:/prod/*/<resource>` to everyone.
    fn deny(mut self, resource: &str) -> Self {
        self.extra_deny = Some(resource.to_owned());
        self
    }

    fn tail(mut self, text: &str) -> Self {
        self.tail = text.to_owned();
        self
    }

    fn render(&self) -> String {
        let extra = self.extra_deny.as_deref().map_or(String::new(), |r| {
            format!(
                r#",
  {{"Sid":"Extra","Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*/{r}"}}"#
            )
        });
        let Self {
            top,
            auth,
            limits,
            proxy,
            tail,
            ..
        } = self;
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
  {{"Sid":"NoAdmin","Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*/admin*"}}{extra}]}}'''
[auth]
{auth}
[limits]
{limits}
[proxy]
{proxy}
[sts]
enabled = true
token_keys = [{{ id = "k1", secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" }}]
[[user]]
arn = "{ALICE}"
access_keys = [{{ id = "{KEY}", secret = "{SECRET}" }}]
policies = ['''{{"Version":"2012-10-17","Statement":[
  {{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*"}},
  {{"Effect":"Allow","Action":"sts:AssumeRole","Resource":["arn:aws:iam::123456789012:role/Reader","arn:aws:iam::123456789012:role/Office"]}}]}}''']
[[role]]
arn = "arn:aws:iam::123456789012:role/Reader"
trust_policy = '''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}}]}}'''
policies = ['''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/*"}}]}}''']
[[role]]
arn = "arn:aws:iam::123456789012:role/Office"
trust_policy = '''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole","Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}]}}'''
policies = ['''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/*"}}]}}''']
{tail}
"#
        )
    }
}

/// A running gateway; killed on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    metrics: Option<SocketAddr>,
    log: PathBuf,
    config: PathBuf,
}

impl Gateway {
    fn start(config_text: &str) -> Self {
        Self::start_with(config_text, &[])
    }

    fn start_with(config_text: &str, args: &[&str]) -> Self {
        let dir = temp_dir();
        let config = dir.join("gateway.toml");
        std::fs::write(&config, config_text).unwrap();
        let log = dir.join("gateway.log");
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let wants_metrics = config_text.contains("[metrics]");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after start-up, so the gateway never writes into a closed pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut addr = None;
        let mut metrics = None;
        while addr.is_none() || (wants_metrics && metrics.is_none()) {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the gateway did not start; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            if let Some(url) = line.strip_prefix("sigv4-gateway listening on http://") {
                addr = Some(url.parse().unwrap());
            }
            if let Some(url) = line.strip_prefix("metrics on http://") {
                metrics = Some(url.trim_end_matches("/metrics").parse().unwrap());
            }
        }
        Self {
            child,
            addr: addr.unwrap(),
            metrics,
            log,
            config,
        }
    }

    fn authority(&self) -> String {
        self.addr.to_string()
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

/// Polls `probe` every 50 ms until it gives a value; panics naming `what` after `timeout`.
fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// A connection to `addr` from the local address `source` (another loopback address).
fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let source: SocketAddr = format!("{source}:0").parse().unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(source).unwrap();
        socket.connect(addr).await.unwrap().into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// How long until the peer closes `stream` (EOF or a reset), reading and discarding whatever
/// it sends; `None` if it is still open after `within`.
fn closed_after(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = within.checked_sub(started.elapsed())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match read_some(stream, &mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None
            }
            Err(_) => return Some(started.elapsed()),
        }
    }
}

/// A read that is retried when a signal interrupts it (a socket with a read timeout is not
/// restarted after a signal, and the test process gets `SIGCHLD` from every gateway that ends).
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            read => return read,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One side of an HTTP/1.1 connection, reading with its own buffer.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = read_some(&mut self.stream, &mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn eof() -> std::io::Error {
        std::io::Error::new(ErrorKind::UnexpectedEof, "closed mid-message")
    }

    /// The next head (without its blank line); `None` at a clean end of the connection.
    fn head(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..i + 4).collect();
                return Ok(Some(String::from_utf8_lossy(&head[..i]).into_owned()));
            }
            if self.fill()? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(Self::eof())
                };
            }
        }
    }

    fn line(&mut self) -> std::io::Result<String> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            if self.fill()? == 0 {
                return Err(Self::eof());
            }
        }
    }

    /// Exactly `n` bytes, handed to `sink` as they come.
    fn take(&mut self, mut n: usize, sink: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && self.fill()? == 0 {
                return Err(Self::eof());
            }
            let piece: Vec<u8> = self.buf.drain(..n.min(self.buf.len())).collect();
            n -= piece.len();
            sink(&piece);
        }
        Ok(())
    }

    /// A body framed by `headers`, handed to `sink` as it comes; `to_eof` reads an unframed
    /// body to the end of the connection (a response), otherwise it is empty (a request).
    fn body(
        &mut self,
        headers: &[(String, String)],
        to_eof: bool,
        sink: &mut dyn FnMut(&[u8]),
    ) -> std::io::Result<()> {
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let line = self.line()?;
                let size = line.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| std::io::Error::new(ErrorKind::InvalidData, line.clone()))?;
                if size == 0 {
                    while !self.line()?.is_empty() {}
                    return Ok(());
                }
                self.take(size, sink)?;
                if !self.line()?.is_empty() {
                    return Err(std::io::Error::new(ErrorKind::InvalidData, "chunk end"));
                }
            }
        } else if let Some(length) = get("content-length") {
            self.take(length.trim().parse().unwrap(), sink)
        } else if to_eof {
            sink(&std::mem::take(&mut self.buf));
            self.stream.read_to_end(&mut self.buf)?;
            sink(&std::mem::take(&mut self.buf));
            Ok(())
        } else {
            Ok(())
        }
    }
}

/// The first line and the headers (names as sent) of a head.
fn parse_head(head: &str) -> (String, Vec<(String, String)>) {
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect();
    (first, headers)
}

/// A response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a rejection: status, exact body and `x-amzn-ErrorType`.
    #[track_caller]
    fn assert_rejection(&self, status: u16, error_type: &str, body: &str) {
        assert_eq!(
            (self.status, self.text().as_str()),
            (status, body),
            "{self:?}"
        );
        assert_eq!(
            self.header("x-amzn-errortype"),
            Some(error_type),
            "{self:?}"
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
    }
}

fn read_reply(wire: &mut Wire) -> std::io::Result<Reply> {
    let head = wire.head()?.ok_or_else(Wire::eof)?;
    let (status_line, headers) = parse_head(&head);
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
    let mut body = Vec::new();
    wire.body(&headers, true, &mut |piece| body.extend_from_slice(piece))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn now() -> SystemTime {
    tower_sigv4::Clock::now(&tower_sigv4::SystemClock::new())
}

fn alice() -> Credentials {
    Credentials::new(KEY, SECRET)
}

/// How the signature covers the body.
#[derive(Clone, Copy)]
enum Cover<'a> {
    /// The SHA-256 of the body in the canonical request, no `x-amz-content-sha256` (the body
    /// is buffered before the signature is checked).
    Hash,
    /// A signed `x-amz-content-sha256: UNSIGNED-PAYLOAD` (the body is streamed).
    Unsigned,
    /// A signed `x-amz-content-sha256` with this hex hash (hashed while streaming).
    Declared(&'a str),
}

/// Who signs and how.
#[derive(Clone, Copy)]
struct Signing<'a> {
    creds: &'a Credentials,
    service: &'a str,
    cover: Cover<'a>,
    time: SystemTime,
}

impl<'a> Signing<'a> {
    fn new(creds: &'a Credentials) -> Self {
        Self {
            creds,
            service: "execute-api",
            cover: Cover::Hash,
            time: now(),
        }
    }

    fn service(mut self, service: &'a str) -> Self {
        self.service = service;
        self
    }

    fn cover(mut self, cover: Cover<'a>) -> Self {
        self.cover = cover;
        self
    }

    fn at(mut self, time: SystemTime) -> Self {
        self.time = time;
        self
    }
}

/// A request head for `target` on `gw` (`Host` is its address), signed as `signing` says over
/// `body`, with `extra` headers added after signing (unsigned), in this order.
fn head(
    gw: &Gateway,
    method: &str,
    target: &str,
    signing: Option<Signing<'_>>,
    body: &[u8],
    extra: &[(&str, &str)],
) -> String {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(target)
        .header("host", gw.authority());
    if signing.is_some_and(|s| s.service == "sts") {
        builder = builder.header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
    }
    let (mut parts, ()) = builder.body(()).unwrap().into_parts();
    if let Some(s) = signing {
        let mut settings = SigningSettings::default();
        let payload = match s.cover {
            Cover::Hash => SignablePayload::Bytes(body),
            Cover::Unsigned => {
                settings.content_sha256 = ContentSha256Header::Include;
                SignablePayload::Unsigned
            }
            Cover::Declared(hex) => {
                settings.content_sha256 = ContentSha256Header::Include;
                SignablePayload::Precomputed(hex)
            }
        };
        Signer::new(s.creds.clone(), "us-east-1", s.service)
            .with_settings(settings)
            .sign(&mut parts, payload, s.time)
            .unwrap();
    }
    let mut text = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in &parts.headers {
        text.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    for (name, value) in extra {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text
}

/// Writes `raw` on a new connection to `gw` and reads one response.
fn raw_exchange(gw: &Gateway, raw: &[u8]) -> Reply {
    let mut stream = connect(gw.addr);
    stream.write_all(raw).unwrap();
    read_reply(&mut Wire::new(stream)).unwrap()
}

/// One request on a new connection: the head of [`head`] (with `content-length` for a
/// non-empty body), then the body; one response.
fn exchange(
    gw: &Gateway,
    method: &str,
    target: &str,
    signing: Option<Signing<'_>>,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Reply {
    let length = body.len().to_string();
    let mut extra = extra.to_vec();
    if !body.is_empty() {
        extra.push(("content-length", &length));
    }
    let mut raw = head(gw, method, target, signing, body, &extra).into_bytes();
    raw.extend_from_slice(body);
    raw_exchange(gw, &raw)
}

/// A GET signed by alice.
fn alice_get(gw: &Gateway, target: &str) -> Reply {
    exchange(gw, "GET", target, Some(Signing::new(&alice())), b"", &[])
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// What the upstream received of one request.
#[derive(Clone, Debug, Default)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The body arrived whole, as framed.
    complete: bool,
    /// Answered, or the connection ended first.
    ended: bool,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn target(&self) -> &str {
        self.request_line.split(' ').nth(1).unwrap_or_default()
    }
}

/// A raw-TCP HTTP/1.1 upstream on loopback that records every request and answers 200
/// `upstream saw <target>` once it has the whole body.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl Upstream {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (record, count) = (seen.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let record = record.clone();
                std::thread::spawn(move || Self::serve(stream, &record));
            }
        });
        Self {
            addr,
            seen,
            connections,
        }
    }

    fn serve(stream: TcpStream, record: &Mutex<Vec<Seen>>) {
        let mut wire = Wire::new(stream);
        while let Ok(Some(head)) = wire.head() {
            let (request_line, headers) = parse_head(&head);
            let index = {
                let mut seen = record.lock().unwrap();
                seen.push(Seen {
                    request_line,
                    headers: headers.clone(),
                    ..Seen::default()
                });
                seen.len() - 1
            };
            let read = wire.body(&headers, false, &mut |piece| {
                record.lock().unwrap()[index].body.extend_from_slice(piece);
            });
            if read.is_err() {
                record.lock().unwrap()[index].ended = true;
                return;
            }
            let target = {
                let mut seen = record.lock().unwrap();
                seen[index].complete = true;
                seen[index].target().to_owned()
            };
            let body = format!("upstream saw {target}");
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let written = wire.stream.write_all(response.as_bytes());
            record.lock().unwrap()[index].ended = true;
            if written.is_err() {
                return;
            }
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Every request, once each has been answered or cut off.
    fn settled(&self) -> Vec<Seen> {
        wait_for("the upstream's requests to end", IO_TIMEOUT, || {
            let seen = self.seen();
            seen.iter().all(|s| s.ended).then_some(seen)
        })
    }

    /// Asserts that nothing reached the upstream, not even a connection.
    #[track_caller]
    fn assert_untouched(&self) {
        assert_eq!(self.seen().len(), 0, "{:?}", self.seen());
        assert_eq!(self.connections.load(Ordering::SeqCst), 0);
    }
}
