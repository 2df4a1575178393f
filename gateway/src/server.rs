//! Accepting connections and keeping what each client holds in bounds: a cap on open
//! connections (all peers, and each peer address), the request-head and idle deadlines of every
//! connection, a backoff when the process runs out of descriptors, and the drain at shutdown.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
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
}

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
        }
    }

    /// How often a connection's deadlines are looked at.
    fn tick(&self) -> Duration {
        (self.header_read_timeout.min(self.keep_alive_timeout) / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1))
    }
}

/// What one connection did last, in milliseconds since it was accepted.
pub(crate) struct Activity {
    start: Instant,
    last_io: AtomicU64,
    /// When the head of the next request began (ms + 1), 0 when none is being read.
    head_started: AtomicU64,
    idle_since: AtomicU64,
    in_flight: AtomicUsize,
}

/// What the watchdog does with a connection.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Keep,
    Close(&'static str),
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            last_io: AtomicU64::new(0),
            // A new connection owes its first request head from the start.
            head_started: AtomicU64::new(1),
            idle_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
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
        self.head_started.store(0, Ordering::Release);
        RequestGuard {
            activity: self.clone(),
        }
    }

    fn verdict(&self, limits: &ConnLimits) -> Verdict {
        let now = self.now_ms();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // The upstream's own time to answer does not count against the client.
            let stall = limits
                .keep_alive_timeout
                .saturating_add(crate::proxy::UPSTREAM_TIMEOUT);
            let last = self.last_io.load(Ordering::Relaxed);
            if now.saturating_sub(last) > ms(stall) {
                return Verdict::Close("no byte read or written while a request is in flight");
            }
            return Verdict::Keep;
        }
        match self.head_started.load(Ordering::Acquire) {
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

pin_project! {
    /// A connection's I/O, noting each byte read or written in its [`Activity`].
    struct Tracked<S> {
        #[pin]
        io: S,
        activity: Arc<Activity>,
    }
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
            this.activity.on_read();
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
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.on_write();
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
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.on_write();
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
                            Tracked {
                                io: stream,
                                activity: activity.clone(),
                            },
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
                            Tracked {
                                io: stream,
                                activity: activity.clone(),
                            },
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

/// Serves one connection until it ends, its deadlines pass, or (after shutdown) its in-flight
/// requests are answered.
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
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), counted);
    let mut conn = std::pin::pin!(conn);
    let mut tick = tokio::time::interval(limits.tick());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut draining = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = tick.tick() => {
                if let Verdict::Close(reason) = activity.verdict(&limits) {
                    tracing::debug!(reason, "connection closed");
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
