//! Accepting connections and keeping what each client holds in bounds: a cap on open
//! connections (all peers, and each peer address), the request-head and idle deadlines of every
//! connection, a backoff when the process runs out of descriptors, and the drain at shutdown.
//!
//! Every listener serves HTTP/1.1 and HTTP/2 (the first bytes tell: HTTP/2's preface, with
//! prior knowledge or after ALPN `h2`). On HTTP/2 the deadlines look at frames, not bytes:
//! PING, SETTINGS and the like neither start a request head nor keep a connection alive;
//! HEADERS, CONTINUATION, DATA and WINDOW_UPDATE do.

mod activity;
mod io;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::config::LimitsSection;
use crate::BoxError;

use activity::{Activity, TrackedBody, Verdict, GOAWAY_GRACE};
use io::Tracked;

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
                Ok::<_, Infallible>(response.map(|body| TrackedBody::new(body, guard)))
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
}
