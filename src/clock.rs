//! Time, injected: the verifier never reads the system clock directly.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use tower_sigv4::Clock;
//!
//! /// A clock that always reads the time of the official SigV4 test vectors.
//! struct VectorTime;
//!
//! impl Clock for VectorTime {
//!     fn now(&self) -> SystemTime {
//!         SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
//!     }
//! }
//! assert_eq!(VectorTime.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160));
//! ```
//!
//! With the `test-util` feature, `FixedClock` is such a clock that tests can move.

#[cfg(feature = "test-util")]
use std::fmt;
use std::sync::Arc;
#[cfg(feature = "test-util")]
use std::sync::Mutex;
#[cfg(any(feature = "test-util", feature = "sts"))]
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// A source of the current time.
///
/// The verifier asks its clock once per request. Tests inject a `FixedClock` (`test-util` feature); production code
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
#[cfg(feature = "test-util")]
#[derive(Clone)]
pub struct FixedClock {
    now: Arc<Mutex<SystemTime>>,
}

#[cfg(feature = "test-util")]
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

    /// Moves the time forward by `by` (to the end of time, at most).
    pub fn advance(&self, by: Duration) {
        let mut guard = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(later) = guard.checked_add(by) {
            *guard = later;
        }
    }
}

#[cfg(feature = "test-util")]
impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(feature = "test-util")]
impl fmt::Debug for FixedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedClock")
            .field("now", &self.now())
            .finish()
    }
}

// Checked conversions between `SystemTime`, `OffsetDateTime` and Unix seconds.
//
// `OffsetDateTime` covers the years -9999 to 9999; `SystemTime` and the `i64` seconds of a
// token's claims reach much further. `OffsetDateTime::from(SystemTime)` panics outside that
// range, and `SystemTime + Duration` panics where the platform's `SystemTime` ends; these
// helpers answer `None` instead (or saturate, where a comparison is all that is needed), so
// that a clock after year 9999 or a token claiming `i64::MAX` becomes a clean error.

/// `t` as an `OffsetDateTime` (UTC), or `None` outside the years -9999 to 9999.
pub(crate) fn offset_date_time(t: SystemTime) -> Option<OffsetDateTime> {
    let nanos = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).ok()?,
        Err(before) => i128::try_from(before.duration().as_nanos())
            .ok()?
            .checked_neg()?,
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

#[cfg(feature = "sts")]
/// Whether `secs` after the Unix epoch is within the years -9999 to 9999.
pub(crate) fn is_representable(secs: i64) -> bool {
    OffsetDateTime::from_unix_timestamp(secs).is_ok()
}

#[cfg(feature = "sts")]
/// The `SystemTime` `secs` after the Unix epoch, or `None` when that time is outside the years
/// -9999 to 9999 (or outside what the platform's `SystemTime` holds).
pub(crate) fn system_time(secs: i64) -> Option<SystemTime> {
    if !is_representable(secs) {
        return None;
    }
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

#[cfg(feature = "sts")]
/// Whole seconds from the Unix epoch to `t`, rounded down, saturating at the ends of `i64`:
/// enough for comparing `t` with an expiry, however far out `t` is.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            let floor = if before.subsec_nanos() > 0 {
                whole.saturating_add(1)
            } else {
                whole
            };
            floor.saturating_neg()
        }
    }
}

#[cfg(all(test, feature = "sts"))]
mod tests {
    use super::*;

    #[test]
    fn conversions_at_the_edges() {
        let last = 253_402_300_799; // 9999-12-31T23:59:59Z
        assert!(is_representable(last));
        assert!(!is_representable(last + 1));
        assert!(!is_representable(i64::MAX));
        assert!(!is_representable(i64::MIN));
        assert_eq!(system_time(i64::MAX), None);
        assert_eq!(system_time(i64::MIN), None);
        assert_eq!(
            system_time(-1),
            UNIX_EPOCH.checked_sub(Duration::from_secs(1))
        );
        let end = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(offset_date_time(end), None);
        assert_eq!(
            offset_date_time(end - Duration::from_secs(1)).map(|t| t.year()),
            Some(9999)
        );
        assert_eq!(unix_seconds(end), 253_402_300_800);
        let half_before = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(unix_seconds(half_before), -1);
        assert_eq!(
            offset_date_time(half_before).map(|t| t.unix_timestamp()),
            Some(-1)
        );
    }
}
