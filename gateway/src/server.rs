//! Accepting connections and keeping what each client holds in bounds: a cap on open
//! connections (all peers, and each peer address), the request-head and idle deadlines of every
//! connection, a backoff when the process runs out of descriptors, and the drain at shutdown.
//!
//! Every listener serves HTTP/1.1 and HTTP/2 (the first bytes tell: HTTP/2's preface, with
//! prior knowledge or after ALPN `h2`). On HTTP/2 the deadlines look at frames, not bytes:
//! PING, SETTINGS and the like neither start a request head nor keep a connection alive;
//! HEADERS, CONTINUATION, DATA and WINDOW_UPDATE do.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::config::LimitsSection;
use crate::BoxError;

/// The bounds of every connection of one listener.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnLimits {
    /// From a request's first byte (or the connection's start) to the end of its head.
    pub(crate) header_read_timeout: Duration,
    /// Idle between requests; while one is in flight, this plus the upstream's 30 s without a
    /// byte read or written.
    pub(crate) keep_alive_timeout: Duration,
    /// Open connections at most.
    pub(crate) max_connections: usize,
    /// Open connections at most from one peer address.
    pub(crate) max_per_peer: usize,
    /// HTTP/2: streams open at once on one connection.
    pub(crate) max_concurrent_streams: u32,
    /// HTTP/2's `SETTINGS_MAX_HEADER_LIST_SIZE`; on HTTP/1, the largest request head.
    pub(crate) max_header_list_bytes: u32,
    /// HTTP/2: a PING after this long without a frame from the client (`None`: no pings).
    pub(crate) h2_ping_interval: Option<Duration>,
    /// HTTP/2: how long a PING may go unanswered.
    pub(crate) h2_ping_timeout: Duration,
}

/// HTTP/2 streams the client may reset before the server has accepted them (rapid reset,
/// CVE-2023-44487): h2's default, made explicit.
const MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
/// HTTP/2 streams the server may reset for the client's protocol errors before it closes the
/// connection (CVE-2025-8671, "MadeYouReset"): hyper's default, made explicit.
const MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;

impl ConnLimits {
    /// The limits of `[limits]`; without `max_connections`, 80 % of the open-file limit (its
    /// soft value raised to the hard one first, as nginx's `worker_rlimit_nofile` would).
    pub(crate) fn from_config(limits: &LimitsSection) -> Self {
        let max_connections = limits.max_connections.unwrap_or_else(|| {
            let files = rlimit::increase_nofile_limit(u64::MAX)
                .or_else(|_| rlimit::Resource::NOFILE.get().map(|(soft, _)| soft))
                .unwrap_or(1024);
            usize::try_from(files / 10 * 8).unwrap_or(usize::MAX).max(1)
        });
        Self {
            header_read_timeout: Duration::from_secs(limits.header_read_timeout_seconds),
            keep_alive_timeout: Duration::from_secs(limits.keep_alive_timeout_seconds),
            max_connections: max_connections.min(u32::MAX as usize),
            max_per_peer: limits.max_connections_per_peer,
            max_concurrent_streams: limits.http2_max_concurrent_streams,
            max_header_list_bytes: limits.max_header_list_bytes,
            h2_ping_interval: (limits.http2_keep_alive_interval_seconds > 0)
                .then(|| Duration::from_secs(limits.http2_keep_alive_interval_seconds)),
            h2_ping_timeout: Duration::from_secs(limits.http2_keep_alive_timeout_seconds),
        }
    }

    /// The HTTP/1.1 and HTTP/2 server of one connection under these limits.
    fn http_builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // No timer for HTTP/1: its head deadline is the watchdog's (hyper's own would be 30 s
        // whatever the configuration says).
        builder
            .http1()
            .max_buf_size((self.max_header_list_bytes as usize).max(8192));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.max_concurrent_streams)
            .max_header_list_size(self.max_header_list_bytes)
            .max_pending_accept_reset_streams(MAX_PENDING_ACCEPT_RESET_STREAMS)
            .max_local_error_reset_streams(MAX_LOCAL_ERROR_RESET_STREAMS)
            .keep_alive_interval(self.h2_ping_interval)
            .keep_alive_timeout(self.h2_ping_timeout);
        builder
    }

    /// How often a connection's deadlines are looked at.
    fn tick(&self) -> Duration {
        (self.header_read_timeout.min(self.keep_alive_timeout) / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1))
    }
}

/// What one connection did last, in milliseconds since it was accepted.
///
/// `in_flight` counts the requests between their head and the end of their response: one at
/// most on HTTP/1, every open stream on HTTP/2. The head deadline runs while none is in flight
/// and a head has begun (or none has come yet); the idle deadline while none is in flight; the
/// stall deadline while one is.
pub(crate) struct Activity {
    start: Instant,
    last_io: AtomicU64,
    /// When the head of the next request began (ms + 1), 0 when none is being read.
    head_started: AtomicU64,
    idle_since: AtomicU64,
    in_flight: AtomicUsize,
    /// The connection speaks HTTP/2 (its preface was read).
    multiplexed: AtomicBool,
    /// HTTP/2: the last frame that moved a request or a response (HEADERS, CONTINUATION,
    /// DATA, WINDOW_UPDATE, either way), or the last request started.
    last_progress: AtomicU64,
}

/// What the watchdog does with a connection.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Keep,
    /// Closed at once.
    Close(&'static str),
    /// HTTP/2, idle: GOAWAY, so that a request sent meanwhile is either served or refused
    /// (and safe to retry), then closed.
    GoAway(&'static str),
}

/// How long an HTTP/2 connection told GOAWAY for being idle may take to close (the client's
/// PING answer, a request that crossed the GOAWAY): then it is closed.
const GOAWAY_GRACE: Duration = Duration::from_secs(10);

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            last_io: AtomicU64::new(0),
            // A new connection owes its first request head from the start.
            head_started: AtomicU64::new(1),
            idle_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            multiplexed: AtomicBool::new(false),
            last_progress: AtomicU64::new(0),
        })
    }

    fn is_multiplexed(&self) -> bool {
        self.multiplexed.load(Ordering::Acquire)
    }

    /// The HTTP/2 preface was read.
    fn on_preface(&self) {
        self.multiplexed.store(true, Ordering::Release);
    }

    /// HTTP/2 frames read (`from_peer`) or written.
    fn on_frames(&self, seen: Frames, from_peer: bool) {
        let now = self.now_ms();
        self.last_io.store(now, Ordering::Relaxed);
        if seen.progress {
            self.last_progress.store(now, Ordering::Relaxed);
        }
        if from_peer && seen.head && self.in_flight.load(Ordering::Acquire) == 0 {
            // A HEADERS frame with none in flight: a request head is due, as on HTTP/1.
            let _ = self.head_started.compare_exchange(
                0,
                now.saturating_add(1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn on_read(&self) {
        let now = self.now_ms();
        self.last_io.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            // The first byte of a request: its head is due within the header timeout.
            let _ = self.head_started.compare_exchange(
                0,
                now.saturating_add(1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    fn on_write(&self) {
        self.last_io.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A request head was read; the guard lasts until its response has been sent.
    fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.last_progress.store(self.now_ms(), Ordering::Relaxed);
        self.head_started.store(0, Ordering::Release);
        RequestGuard {
            activity: self.clone(),
        }
    }

    fn verdict(&self, limits: &ConnLimits) -> Verdict {
        let now = self.now_ms();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let multiplexed = self.is_multiplexed();
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // The upstream's own time to answer does not count against the client.
            let stall = limits
                .keep_alive_timeout
                .saturating_add(crate::proxy::UPSTREAM_TIMEOUT);
            // HTTP/2: PINGs answered do not count; a stream's frames do.
            let last = if multiplexed {
                self.last_progress.load(Ordering::Relaxed)
            } else {
                self.last_io.load(Ordering::Relaxed)
            };
            if now.saturating_sub(last) > ms(stall) {
                return Verdict::Close(if multiplexed {
                    "no frame of a stream moved while a request is in flight"
                } else {
                    "no byte read or written while a request is in flight"
                });
            }
            return Verdict::Keep;
        }
        match self.head_started.load(Ordering::Acquire) {
            0 if multiplexed => {
                // Only a request ends an HTTP/2 connection's idleness (its PINGs, SETTINGS or
                // WINDOW_UPDATEs do not).
                let idle = self.idle_since.load(Ordering::Relaxed);
                if now.saturating_sub(idle) > ms(limits.keep_alive_timeout) {
                    return Verdict::GoAway("idle keep-alive timeout");
                }
            }
            0 => {
                let idle = self
                    .idle_since
                    .load(Ordering::Relaxed)
                    .max(self.last_io.load(Ordering::Relaxed));
                if now.saturating_sub(idle) > ms(limits.keep_alive_timeout) {
                    return Verdict::Close("idle keep-alive timeout");
                }
            }
            started => {
                if now.saturating_sub(started - 1) > ms(limits.header_read_timeout) {
                    return Verdict::Close("request head not received in time");
                }
            }
        }
        Verdict::Keep
    }
}

/// Held by a request from its head to the end of its response.
pub(crate) struct RequestGuard {
    activity: Arc<Activity>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let a = &self.activity;
        a.idle_since.store(a.now_ms(), Ordering::Relaxed);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The client preface of HTTP/2 (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What a run of HTTP/2 frames held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Frames {
    /// A frame (or a piece of one) that moves a request or response: HEADERS, CONTINUATION,
    /// DATA, WINDOW_UPDATE.
    progress: bool,
    /// A HEADERS frame began.
    head: bool,
}

/// Follows the frames of one direction of an HTTP/2 connection (RFC 9113 §4.1: a 9-byte
/// header, its 24-bit payload length first and its type fourth), to tell the frames that
/// move requests and responses from the rest (PING, SETTINGS, PRIORITY, RST_STREAM, GOAWAY).
#[derive(Debug, Default)]
struct FrameScan {
    header: [u8; 9],
    have: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: usize,
    /// Whether the current frame's payload is progress.
    payload_moves: bool,
}

impl FrameScan {
    const DATA: u8 = 0x0;
    const HEADERS: u8 = 0x1;
    const WINDOW_UPDATE: u8 = 0x8;
    const CONTINUATION: u8 = 0x9;

    fn feed(&mut self, mut bytes: &[u8]) -> Frames {
        let mut seen = Frames::default();
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                self.payload_left -= n;
                seen.progress |= self.payload_moves;
                bytes = bytes.get(n..).unwrap_or_default();
                continue;
            }
            let n = (self.header.len() - self.have).min(bytes.len());
            if let (Some(to), Some(from)) = (
                self.header.get_mut(self.have..self.have + n),
                bytes.get(..n),
            ) {
                to.copy_from_slice(from);
            }
            self.have += n;
            bytes = bytes.get(n..).unwrap_or_default();
            if self.have == self.header.len() {
                self.have = 0;
                let [l0, l1, l2, kind, ..] = self.header;
                self.payload_left = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
                self.payload_moves = matches!(
                    kind,
                    Self::DATA | Self::HEADERS | Self::CONTINUATION | Self::WINDOW_UPDATE
                );
                seen.progress |= self.payload_moves;
                seen.head |= kind == Self::HEADERS;
            }
        }
        seen
    }
}

/// What the bytes read so far say of the protocol.
#[derive(Debug)]
enum Sniff {
    /// This many bytes of the HTTP/2 preface were read, and nothing else.
    Preface(usize),
    Http1,
    /// The preface was read; frames follow, each way.
    Http2 {
        read: FrameScan,
        write: FrameScan,
    },
}

pin_project! {
    /// A connection's I/O, noting in its [`Activity`] each byte read or written (HTTP/1), or
    /// each frame (HTTP/2).
    struct Tracked<S> {
        #[pin]
        io: S,
        activity: Arc<Activity>,
        sniff: Sniff,
    }
}

impl<S> Tracked<S> {
    fn new(io: S, activity: Arc<Activity>) -> Self {
        Self {
            io,
            activity,
            sniff: Sniff::Preface(0),
        }
    }
}

/// Notes `read`, the bytes just read, in `activity`.
fn note_read(sniff: &mut Sniff, activity: &Activity, read: &[u8]) {
    match sniff {
        Sniff::Preface(matched) => {
            let wanted = H2_PREFACE.get(*matched..).unwrap_or_default();
            let n = wanted.len().min(read.len());
            if read.get(..n) != wanted.get(..n) {
                *sniff = Sniff::Http1;
                activity.on_read();
            } else if *matched + n < H2_PREFACE.len() {
                *matched += n;
                activity.on_read();
            } else {
                activity.on_preface();
                let mut scan = FrameScan::default();
                let seen = scan.feed(read.get(n..).unwrap_or_default());
                activity.on_frames(seen, true);
                *sniff = Sniff::Http2 {
                    read: scan,
                    write: FrameScan::default(),
                };
            }
        }
        Sniff::Http1 => activity.on_read(),
        Sniff::Http2 { read: scan, .. } => activity.on_frames(scan.feed(read), true),
    }
}

/// Notes the first `n` bytes of `bufs`, just written, in `activity`.
fn note_write(sniff: &mut Sniff, activity: &Activity, bufs: &[&[u8]], mut n: usize) {
    let Sniff::Http2 { write, .. } = sniff else {
        activity.on_write();
        return;
    };
    let mut seen = Frames::default();
    for buf in bufs {
        if n == 0 {
            break;
        }
        let take = buf.len().min(n);
        let s = write.feed(buf.get(..take).unwrap_or_default());
        seen.progress |= s.progress;
        n -= take;
    }
    activity.on_frames(seen, false);
}

impl<S: AsyncRead> AsyncRead for Tracked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.io.poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let read = buf.filled().get(before..).unwrap_or_default();
            note_read(this.sniff, this.activity, read);
        }
        polled
    }
}

impl<S: AsyncWrite> AsyncWrite for Tracked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                note_write(this.sniff, this.activity, &[buf], n);
            }
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                let slices: Vec<&[u8]> = bufs.iter().map(|b| &**b).collect();
                note_write(this.sniff, this.activity, &slices, n);
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

pin_project! {
    /// A response body that keeps its request counted as in flight until it is sent.
    pub(crate) struct TrackedBody<B> {
        #[pin]
        body: B,
        guard: RequestGuard,
    }
}

impl<B: Body<Data = Bytes>> Body for TrackedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// How many connections each peer address holds.
struct PeerTable {
    cap: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One of a peer's connections; counted until dropped.
struct PeerGuard {
    table: Arc<PeerTable>,
    ip: IpAddr,
}

impl PeerTable {
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<PeerGuard> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(PeerGuard {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        let mut counts = self.table.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// The delay after a failed `accept` (out of descriptors, most often): 5 ms, doubling up to a
/// second, back to nothing after a success — never a busy loop.
#[derive(Default)]
struct Backoff {
    delay: Duration,
}

impl Backoff {
    async fn after(&mut self, error: &std::io::Error, listener: &str) {
        if self.delay.is_zero() {
            tracing::warn!(listener, %error, "accept failed; backing off");
        }
        self.delay = (self.delay * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        tokio::time::sleep(self.delay).await;
    }
}

/// One listener's connections: the caps, the shutdown signal and the drain.
pub(crate) struct Server {
    name: &'static str,
    limits: ConnLimits,
    permits: Arc<Semaphore>,
    peers: Arc<PeerTable>,
    shutdown: watch::Receiver<bool>,
}

impl Server {
    pub(crate) fn new(
        name: &'static str,
        limits: ConnLimits,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            name,
            limits,
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            peers: Arc::new(PeerTable {
                cap: limits.max_per_peer,
                counts: Mutex::default(),
            }),
            shutdown,
        }
    }

    /// Accepts on `listener` until shutdown, serving each connection (over TLS with `tls`) with
    /// the service `make` builds for its peer; then waits up to `drain` for the connections to
    /// finish their requests.
    pub(crate) async fn run<M, S, B>(
        mut self,
        listener: TcpListener,
        tls: Option<TlsAcceptor>,
        make: M,
        drain: Duration,
    ) where
        M: Fn(SocketAddr) -> S,
        S: hyper::service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut backoff = Backoff::default();
        loop {
            let permit = tokio::select! {
                permit = self.permits.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
                _ = self.shutdown.changed() => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => {
                        backoff = Backoff::default();
                        a
                    }
                    Err(e) => {
                        backoff.after(&e, self.name).await;
                        continue;
                    }
                },
                _ = self.shutdown.changed() => break,
            };
            let Some(peer_guard) = self.peers.enter(peer.ip()) else {
                tracing::debug!(listener = self.name, %peer, "too many connections from this peer: closed");
                continue;
            };
            let _ = stream.set_nodelay(true);
            let service = make(peer);
            let limits = self.limits;
            let shutdown = self.shutdown.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let _held = (permit, peer_guard);
                let activity = Activity::new();
                match tls {
                    None => {
                        serve_connection(
                            Tracked::new(stream, activity.clone()),
                            service,
                            activity,
                            limits,
                            shutdown,
                        )
                        .await;
                    }
                    Some(acceptor) => {
                        let handshake = tokio::time::timeout(
                            limits.header_read_timeout,
                            acceptor.accept(stream),
                        );
                        let stream = match handshake.await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, %peer, "TLS handshake failed");
                                return;
                            }
                            Err(_) => return,
                        };
                        serve_connection(
                            Tracked::new(stream, activity.clone()),
                            service,
                            activity,
                            limits,
                            shutdown,
                        )
                        .await;
                    }
                }
            });
        }
        drop(listener);
        let all = u32::try_from(self.limits.max_connections).unwrap_or(u32::MAX);
        match tokio::time::timeout(drain, self.permits.acquire_many(all)).await {
            Ok(_) => tracing::info!(listener = self.name, "all connections closed"),
            Err(_) => tracing::warn!(
                listener = self.name,
                "drain timeout: closing the remaining connections"
            ),
        }
    }
}

/// Serves one connection, HTTP/1.1 or HTTP/2, until it ends, its deadlines pass, or (after
/// shutdown) its in-flight requests are answered.
async fn serve_connection<I, S, B>(
    io: Tracked<I>,
    service: S,
    activity: Arc<Activity>,
    limits: ConnLimits,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let counted = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let guard = activity.request_started();
            let response = service.call(request);
            async move {
                let response = response.await?;
                Ok::<_, Infallible>(response.map(|body| TrackedBody { body, guard }))
            }
        })
    };
    let builder = limits.http_builder();
    let conn = builder.serve_connection(TokioIo::new(io), counted);
    let mut conn = std::pin::pin!(conn);
    let mut tick = tokio::time::interval(limits.tick());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut draining = false;
    let mut going_away: Option<Instant> = None;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = tick.tick() => {
                match activity.verdict(&limits) {
                    Verdict::Keep => {}
                    Verdict::Close(reason) => {
                        tracing::debug!(reason, "connection closed");
                        return;
                    }
                    Verdict::GoAway(reason) => {
                        if going_away.is_none() {
                            tracing::debug!(reason, "GOAWAY sent");
                            if !draining {
                                conn.as_mut().graceful_shutdown();
                            }
                            going_away = Some(Instant::now());
                        }
                    }
                }
                if going_away.is_some_and(|since| since.elapsed() > GOAWAY_GRACE) {
                    tracing::debug!("connection closed after GOAWAY");
                    return;
                }
            }
            _ = shutdown.changed(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnLimits {
        ConnLimits {
            header_read_timeout: Duration::from_millis(100),
            keep_alive_timeout: Duration::from_millis(300),
            max_connections: 10,
            max_per_peer: 2,
            max_concurrent_streams: 100,
            max_header_list_bytes: 65536,
            h2_ping_interval: None,
            h2_ping_timeout: Duration::from_secs(20),
        }
    }

    #[test]
    fn a_peer_gets_its_cap_and_no_more() {
        let table = Arc::new(PeerTable {
            cap: 2,
            counts: Mutex::default(),
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let a = table.enter(ip).unwrap();
        let _b = table.enter(ip).unwrap();
        assert!(table.enter(ip).is_none());
        assert!(table.enter(other).is_some());
        drop(a);
        assert!(table.enter(ip).is_some());
    }

    /// A frame's bytes: its 9-byte header and `len` bytes of payload.
    fn frame(kind: u8, len: usize) -> Vec<u8> {
        let l = u32::try_from(len).unwrap().to_be_bytes();
        let mut f = vec![l[1], l[2], l[3], kind, 0, 0, 0, 0, 1];
        f.resize(9 + len, 0);
        f
    }

    #[test]
    fn frames_that_move_requests_and_those_that_do_not() {
        let nothing = Frames::default();
        let moved = Frames {
            progress: true,
            head: false,
        };
        let head = Frames {
            progress: true,
            head: true,
        };
        let mut scan = FrameScan::default();
        // PING, SETTINGS, PRIORITY, RST_STREAM, GOAWAY: nothing, however they are cut.
        let control: Vec<u8> = [(6, 8), (4, 12), (2, 5), (3, 4), (7, 8)]
            .iter()
            .flat_map(|&(kind, len)| frame(kind, len))
            .collect();
        for piece in control.chunks(5) {
            assert_eq!(scan.feed(piece), nothing);
        }
        // HEADERS cut anywhere: a head, and each later piece of it progress.
        let headers = frame(1, 40);
        assert_eq!(scan.feed(&headers[..3]), nothing);
        assert_eq!(scan.feed(&headers[3..12]), head);
        assert_eq!(scan.feed(&headers[12..]), moved);
        // DATA and WINDOW_UPDATE move; a PING after them in the same read does not hide it.
        let mut run = frame(0, 3);
        run.extend(frame(6, 8));
        assert_eq!(scan.feed(&run), moved);
        assert_eq!(scan.feed(&frame(8, 4)), moved);
        assert_eq!(scan.feed(&frame(9, 2)), moved);
        assert_eq!(scan.feed(&frame(6, 8)), nothing);
    }

    #[test]
    fn the_preface_tells_http2_from_http1() {
        let a = Activity::new();
        let mut sniff = Sniff::Preface(0);
        note_read(&mut sniff, &a, &H2_PREFACE[..10]);
        assert!(matches!(sniff, Sniff::Preface(10)));
        let mut rest = H2_PREFACE[10..].to_vec();
        rest.extend(frame(4, 0));
        note_read(&mut sniff, &a, &rest);
        assert!(matches!(sniff, Sniff::Http2 { .. }));
        assert!(a.is_multiplexed());

        let b = Activity::new();
        let mut sniff = Sniff::Preface(0);
        note_read(&mut sniff, &b, b"PRI * HTTP/1.1\r\n");
        assert!(matches!(sniff, Sniff::Http1));
        assert!(!b.is_multiplexed());
        let mut sniff = Sniff::Preface(0);
        note_read(&mut sniff, &b, b"GET / HTTP/1.1\r\n");
        assert!(matches!(sniff, Sniff::Http1));
    }

    #[test]
    fn deadlines_of_an_http2_connection() {
        let limits = limits();
        let a = Activity::new();
        a.on_preface();
        // Only PINGs: the head deadline from the start, as with silence.
        std::thread::sleep(Duration::from_millis(60));
        a.on_frames(Frames::default(), true);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            a.verdict(&limits),
            Verdict::Close("request head not received in time")
        );
        // Two streams: in flight until both responses are sent.
        let one = a.request_started();
        let two = a.request_started();
        drop(one);
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(a.verdict(&limits), Verdict::Keep);
        drop(two);
        // Idle: PINGs read and written do not count, a request's HEADERS does.
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(100));
            a.on_frames(Frames::default(), true);
            a.on_frames(Frames::default(), false);
        }
        assert_eq!(
            a.verdict(&limits),
            Verdict::GoAway("idle keep-alive timeout")
        );
        a.on_frames(
            Frames {
                progress: true,
                head: true,
            },
            true,
        );
        assert_eq!(a.verdict(&limits), Verdict::Keep);
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(
            a.verdict(&limits),
            Verdict::Close("request head not received in time")
        );
    }

    #[test]
    fn a_stalled_http2_stream_is_not_kept_alive_by_pings() {
        let limits = limits();
        let stall = limits.keep_alive_timeout + crate::proxy::UPSTREAM_TIMEOUT;
        // A connection that started long enough ago for the stall deadline to pass.
        let a = Arc::new(Activity {
            start: Instant::now()
                .checked_sub(stall + Duration::from_secs(1))
                .unwrap(),
            last_io: AtomicU64::new(0),
            head_started: AtomicU64::new(1),
            idle_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            multiplexed: AtomicBool::new(true),
            last_progress: AtomicU64::new(0),
        });
        let guard = a.request_started();
        a.last_progress.store(0, Ordering::Relaxed);
        a.on_frames(Frames::default(), true);
        a.on_frames(Frames::default(), false);
        assert_eq!(
            a.verdict(&limits),
            Verdict::Close("no frame of a stream moved while a request is in flight")
        );
        // A DATA frame either way keeps it.
        a.on_frames(
            Frames {
                progress: true,
                head: false,
            },
            false,
        );
        assert_eq!(a.verdict(&limits), Verdict::Keep);
        drop(guard);
    }

    #[test]
    fn deadlines_of_a_connection() {
        let limits = limits();
        let a = Activity::new();
        assert_eq!(a.verdict(&limits), Verdict::Keep);
        std::thread::sleep(Duration::from_millis(150));
        // Nothing sent since the connection opened: the head is late.
        assert_eq!(
            a.verdict(&limits),
            Verdict::Close("request head not received in time")
        );
        let guard = a.request_started();
        std::thread::sleep(Duration::from_millis(400));
        // In flight: the keep-alive deadline plus the upstream's 30 s.
        assert_eq!(a.verdict(&limits), Verdict::Keep);
        a.on_write();
        drop(guard);
        // Idle after the response: the keep-alive deadline, not the head's.
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(a.verdict(&limits), Verdict::Keep);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            a.verdict(&limits),
            Verdict::Close("idle keep-alive timeout")
        );
    }
}
