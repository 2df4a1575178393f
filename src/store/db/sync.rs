//! Following the changes other processes write: PostgreSQL's `LISTEN/NOTIFY`, or for SQLite
//! a poll of the change counter.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::Row;

use super::{Backend, DbStore, Inner};

/// The channel every PostgreSQL store listens on.
pub(crate) const CHANNEL: &str = "sigv4_store";

/// A change to announce: what caches must forget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// An access key (created, activated, deactivated, deleted).
    Key(String),
    /// A user or role by ARN: its policies, the role itself, the keys of the user.
    Principal(String),
    /// Everything.
    All,
}

impl Change {
    pub(crate) fn encode(&self) -> String {
        match self {
            Self::Key(id) => format!("k {id}"),
            Self::Principal(arn) => format!("p {arn}"),
            Self::All => "*".to_owned(),
        }
    }

    #[cfg(any(feature = "postgres", test))]
    pub(crate) fn decode(payload: &str) -> Self {
        match payload.split_once(' ') {
            Some(("k", id)) => Self::Key(id.to_owned()),
            Some(("p", arn)) => Self::Principal(arn.to_owned()),
            // Anything else is read as "forget everything": never keep what may be stale.
            _ => Self::All,
        }
    }
}

/// Starts following changes for `store`; the task stops with the store.
pub(crate) async fn start(store: &DbStore, url: &str) {
    let weak = Arc::downgrade(&store.inner);
    match store.inner.backend {
        Backend::Sqlite => {
            let every = store.inner.settings.poll_interval;
            let first = generation(&store.inner).await;
            store
                .inner
                .freshness
                .live
                .store(first.is_some(), Ordering::Release);
            store.add_task(tokio::spawn(poll(weak, every, first)));
        }
        Backend::Postgres => {
            #[cfg(feature = "postgres")]
            {
                let url = url.to_owned();
                store.add_task(tokio::spawn(listen(weak, url)));
            }
        }
    }
    let _ = url;
}

async fn generation(inner: &Inner) -> Option<i64> {
    sqlx::query("SELECT generation FROM store_meta WHERE id = 1")
        .fetch_one(&inner.pool)
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .ok()
}

/// SQLite: reads the change counter every `every`; a new value flushes the caches, a failed
/// read turns them off until the next good one.
async fn poll(store: Weak<Inner>, every: Duration, mut seen: Option<i64>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = store.upgrade() else { return };
        let now = generation(&inner).await;
        match now {
            Some(g) if seen != Some(g) => {
                inner.flush();
                inner.freshness.live.store(true, Ordering::Release);
                seen = Some(g);
            }
            Some(_) => inner.freshness.live.store(true, Ordering::Release),
            None => {
                if inner.freshness.live.swap(false, Ordering::AcqRel) {
                    tracing::warn!("identity store unreadable: caches off until it is back");
                }
                seen = None;
            }
        }
    }
}

/// PostgreSQL: `LISTEN`s for changes. While the channel is down the caches are off (every
/// look-up reads the database, cached entries only ride out an outage); when it is back they
/// are flushed, since changes may have been missed.
#[cfg(feature = "postgres")]
async fn listen(store: Weak<Inner>, url: String) {
    use sqlx::postgres::PgListener;

    let mut backoff = Duration::from_millis(100);
    loop {
        let listener = async {
            let mut l = PgListener::connect(&url).await?;
            l.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                let Some(inner) = store.upgrade() else { return };
                if inner.freshness.live.swap(false, Ordering::AcqRel) {
                    tracing::warn!(error = %e, "store change channel down: caches off");
                }
                drop(inner);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        {
            let Some(inner) = store.upgrade() else { return };
            inner.flush();
            inner.freshness.live.store(true, Ordering::Release);
            tracing::info!("store change channel up");
        }
        loop {
            // `try_recv` answers `None` when the connection is lost.
            let received = listener.try_recv().await;
            let Some(inner) = store.upgrade() else { return };
            match received {
                Ok(Some(n)) => inner.apply(&Change::decode(n.payload())),
                Ok(None) | Err(_) => {
                    inner.freshness.live.store(false, Ordering::Release);
                    tracing::warn!("store change channel lost: caches off until it is back");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn changes_round_trip_and_garbage_flushes() {
        for change in [
            Change::Key("AKIAABCDEFGHIJKLMNOP".into()),
            Change::Principal("arn:aws:iam::123456789012:user/a/b".into()),
            Change::All,
        ] {
            assert_eq!(Change::decode(&change.encode()), change);
        }
        assert_eq!(Change::decode(""), Change::All);
        assert_eq!(Change::decode("x y"), Change::All);
    }
}
