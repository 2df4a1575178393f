//! What one connection did last, and the deadlines that follow from it.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::io::Frames;
use super::ConnLimits;

/// What one connection did last, in milliseconds since it was accepted.
///
/// `in_flight` counts the requests between their head and the end of their response: one at
/// most on HTTP/1, every open stream on HTTP/2. The head deadline runs while none is in flight
/// and a head has begun (or none has come yet); the idle deadline while none is in flight; the
/// stall deadline while one is.
pub(super) struct Activity {
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
pub(super) enum Verdict {
    Keep,
    /// Closed at once.
    Close(&'static str),
    /// HTTP/2, idle: GOAWAY, so that a request sent meanwhile is either served or refused
    /// (and safe to retry), then closed.
    GoAway(&'static str),
}

/// How long an HTTP/2 connection told GOAWAY for being idle may take to close (the client's
/// PING answer, a request that crossed the GOAWAY): then it is closed.
pub(super) const GOAWAY_GRACE: Duration = Duration::from_secs(10);

impl Activity {
    pub(super) fn new() -> Arc<Self> {
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

    pub(super) fn is_multiplexed(&self) -> bool {
        self.multiplexed.load(Ordering::Acquire)
    }

    /// The HTTP/2 preface was read.
    pub(super) fn on_preface(&self) {
        self.multiplexed.store(true, Ordering::Release);
    }

    /// HTTP/2 frames read (`from_peer`) or written.
    pub(super) fn on_frames(&self, seen: Frames, from_peer: bool) {
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

    pub(super) fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn on_read(&self) {
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

    pub(super) fn on_write(&self) {
        self.last_io.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A request head was read; the guard lasts until its response has been sent.
    pub(super) fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.last_progress.store(self.now_ms(), Ordering::Relaxed);
        self.head_started.store(0, Ordering::Release);
        RequestGuard {
            activity: self.clone(),
        }
    }

    pub(super) fn verdict(&self, limits: &ConnLimits) -> Verdict {
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
pub(super) struct RequestGuard {
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
    /// A response body that keeps its request counted as in flight until it is sent.
    pub(crate) struct TrackedBody<B> {
        #[pin]
        body: B,
        guard: RequestGuard,
    }
}

impl<B> TrackedBody<B> {
    /// `body`, its request counted as in flight until it is dropped.
    pub(super) fn new(body: B, guard: RequestGuard) -> Self {
        Self { body, guard }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ConnLimits;

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
