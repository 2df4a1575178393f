//! What a client may hold: body-read deadlines, the process-wide budget of buffered bytes, and
//! the timer the deadlines run on.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A sleep, as a [`Timer`] returns it.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// The timer the body-read deadlines run on. The layer's core stays free of any runtime: with
/// the `tokio` feature, `TokioTimer` is the default; otherwise inject one with
/// [`VerifySigV4Layer::with_timer`](crate::VerifySigV4Layer::with_timer) — without a timer no
/// deadline is enforced.
pub trait Timer: Send + Sync + 'static {
    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Sleep;

    /// The current instant on this timer's clock.
    fn now(&self) -> Instant;
}

impl<T: Timer + ?Sized> Timer for Arc<T> {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        (**self).sleep_until(deadline)
    }

    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// Tokio's timer (paused time in tests included). Outside a Tokio runtime its sleeps never
/// complete, so no deadline is enforced there rather than a panic.
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct TokioTimer;

#[cfg(feature = "tokio")]
impl TokioTimer {
    /// Tokio's timer.
    pub const fn new() -> Self {
        Self
    }
}

#[cfg(feature = "tokio")]
impl Timer for TokioTimer {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        if tokio::runtime::Handle::try_current().is_err() {
            return Box::pin(std::future::pending());
        }
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// The default timer: Tokio's with the `tokio` feature, none otherwise.
pub(crate) fn default_timer() -> Option<Arc<dyn Timer>> {
    #[cfg(feature = "tokio")]
    return Some(Arc::new(TokioTimer));
    #[cfg(not(feature = "tokio"))]
    None
}

/// A budget of bytes held in buffered request bodies, shared by every layer that holds a clone.
///
/// A body whose signature covers its hash and that does not declare it in
/// `x-amz-content-sha256` must be read whole before the signature can be checked. Those bytes
/// are taken from the budget while the body is held; once it is spent, new requests that need
/// buffering are answered `503 Service Unavailable` (`Retry-After: 1`) instead of getting more
/// memory. [`BufferBudget::process`] is the default: 256 MiB for the whole process.
#[derive(Clone)]
pub struct BufferBudget {
    inner: Arc<BudgetInner>,
}

struct BudgetInner {
    limit: usize,
    used: AtomicUsize,
}

impl BufferBudget {
    /// The default budget's size: 256 MiB.
    pub const DEFAULT_BYTES: usize = 256 * 1024 * 1024;

    /// A budget of `limit` bytes of its own.
    pub fn new(limit: usize) -> Self {
        Self {
            inner: Arc::new(BudgetInner {
                limit,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// The budget every layer shares unless given another: [`BufferBudget::DEFAULT_BYTES`].
    pub fn process() -> Self {
        static PROCESS: OnceLock<BufferBudget> = OnceLock::new();
        PROCESS
            .get_or_init(|| Self::new(Self::DEFAULT_BYTES))
            .clone()
    }

    /// Its size in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes held now.
    pub fn in_use(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Bytes left.
    pub(crate) fn available(&self) -> usize {
        self.limit().saturating_sub(self.in_use())
    }

    /// Takes `bytes` from the budget, or `None` if fewer are left.
    pub(crate) fn reserve(&self, bytes: usize) -> Option<Reservation> {
        let mut reservation = Reservation {
            budget: self.clone(),
            bytes: 0,
        };
        reservation.grow(bytes).then_some(reservation)
    }
}

impl fmt::Debug for BufferBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferBudget")
            .field("limit", &self.limit())
            .field("in_use", &self.in_use())
            .finish()
    }
}

/// Bytes taken from a [`BufferBudget`], given back on drop.
pub(crate) struct Reservation {
    budget: BufferBudget,
    bytes: usize,
}

impl Reservation {
    /// Takes `more` bytes; false (and nothing taken) if the budget has fewer left.
    pub(crate) fn grow(&mut self, more: usize) -> bool {
        let inner = &self.budget.inner;
        let taken = inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(more).filter(|&n| n <= inner.limit)
            })
            .is_ok();
        if taken {
            self.bytes += more;
        }
        taken
    }

    /// Gives back what is held beyond `keep` bytes.
    pub(crate) fn shrink_to(&mut self, keep: usize) {
        if keep < self.bytes {
            self.budget
                .inner
                .used
                .fetch_sub(self.bytes - keep, Ordering::AcqRel);
            self.bytes = keep;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.shrink_to(0);
    }
}

/// Limits on reading request bodies, for every mode (buffered, hashed while streaming, or
/// streamed unsigned). The size limit is the verifier's
/// [`max_body_bytes`](crate::VerifierConfig::max_body_bytes).
///
/// ```
/// use std::time::Duration;
/// use tower_sigv4::{BodyLimits, BufferBudget};
///
/// let limits = BodyLimits::default()
///     .with_idle_timeout(Duration::from_secs(10))
///     .with_buffer_budget(BufferBudget::new(64 * 1024 * 1024));
/// assert_eq!(limits.total_timeout, Duration::from_secs(60));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BodyLimits {
    /// Longest wait for the next piece of the body; then `408 Request Timeout` and the
    /// connection closed. Default: 30 s.
    pub idle_timeout: Duration,
    /// Longest time to receive the whole body. Default: 60 s (API Gateway gives an
    /// integration 29 s).
    pub total_timeout: Duration,
    /// Budget for bodies read whole before the signature is checked. Default:
    /// [`BufferBudget::process`].
    pub buffer_budget: BufferBudget,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(60),
            buffer_budget: BufferBudget::process(),
        }
    }
}

impl BodyLimits {
    /// Sets the idle timeout.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the total timeout.
    pub fn with_total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = timeout;
        self
    }

    /// Sets the buffer budget.
    pub fn with_buffer_budget(mut self, budget: BufferBudget) -> Self {
        self.buffer_budget = budget;
        self
    }
}

/// The two deadlines of one body, on one sleep at a time: the sleep is replaced only when it
/// fires before the (moving) idle deadline, not on every frame.
pub(crate) struct Deadlines {
    timer: Arc<dyn Timer>,
    idle: Duration,
    /// `None`: beyond what the clock can represent, i.e. never.
    idle_end: Option<Instant>,
    total_end: Option<Instant>,
    sleep: Option<(Instant, Sleep)>,
}

impl Deadlines {
    pub(crate) fn new(timer: Arc<dyn Timer>, limits: &BodyLimits) -> Self {
        let now = timer.now();
        Self {
            idle: limits.idle_timeout,
            idle_end: now.checked_add(limits.idle_timeout),
            total_end: now.checked_add(limits.total_timeout),
            timer,
            sleep: None,
        }
    }

    /// A piece of the body arrived: the idle deadline moves.
    pub(crate) fn progress(&mut self) {
        self.idle_end = self.timer.now().checked_add(self.idle);
    }

    /// Ready once a deadline has passed.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let deadline = match (self.idle_end, self.total_end) {
                (Some(idle), Some(total)) => idle.min(total),
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => return Poll::Pending,
            };
            match &mut self.sleep {
                Some((until, sleep)) => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    if *until >= deadline || self.timer.now() >= deadline {
                        return Poll::Ready(());
                    }
                    // Fired for an idle deadline that has moved since: sleep again.
                    self.sleep = None;
                }
                None => self.sleep = Some((deadline, self.timer.sleep_until(deadline))),
            }
        }
    }
}
