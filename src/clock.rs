//! Time, injected: the verifier never reads the system clock directly.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use tower_sigv4::{Clock, FixedClock};
//!
//! let clock = FixedClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160));
//! assert_eq!(clock.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160));
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A source of the current time.
///
/// The verifier asks its clock once per request. Tests inject a [`FixedClock`]; production code
/// uses [`SystemClock`], the only place in the crate that reads `SystemTime::now`.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct SystemClock;

impl SystemClock {
    /// The system clock.
    pub const fn new() -> Self {
        Self
    }
}

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until told to move; for tests.
#[derive(Clone)]
pub struct FixedClock {
    now: Arc<Mutex<SystemTime>>,
}

impl FixedClock {
    /// A clock fixed at `now`.
    pub fn new(now: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(now)),
        }
    }

    /// A clock fixed at `secs` seconds after the Unix epoch.
    pub fn at_unix(secs: u64) -> Self {
        Self::new(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Sets the time; clones of this clock see the change.
    pub fn set(&self, now: SystemTime) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut guard = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *guard += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for FixedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedClock")
            .field("now", &self.now())
            .finish()
    }
}
