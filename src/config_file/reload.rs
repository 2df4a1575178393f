//! The file-backed identity store: reloads on change or SIGHUP, keeps the old one on error.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{ConfigFileError, GatewayConfig};
use crate::store::SharedStore;
use crate::sts::TokenKeyring;

/// Users, roles and session-token keys read from the gateway's TOML file, reloaded when the
/// file changes or the process gets `SIGHUP`.
///
/// A reload builds a complete new [`IdentityStore`](crate::store::IdentityStore) and swaps it
/// in through the [`SharedStore`]: requests in flight finish with the store they started with.
/// A file that does not parse or validate is refused with a log line naming the place, and
/// the store in force stays. The identities and `[sts] token_keys` reload here; the rest of
/// the file is handed to the [`FileStore::on_reload`] listeners.
pub struct FileStore {
    path: PathBuf,
    store: SharedStore,
    random: Arc<TokenKeyring>,
    fingerprint: Mutex<[u8; 32]>,
    listeners: Mutex<Vec<Listener>>,
}

/// A function told of each configuration that took effect.
type Listener = Box<dyn Fn(&GatewayConfig) + Send + Sync>;

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// Loads `path`; returns the store and the configuration it was read from.
    pub fn open(path: impl Into<PathBuf>) -> Result<(Self, GatewayConfig), ConfigFileError> {
        let path = path.into();
        let (text, fingerprint) = read(&path)?;
        let random = TokenKeyring::generate_random("random")
            .map(Arc::new)
            .map_err(|e| ConfigFileError::new("sts", e))?;
        let config = parse(&path, &text)?;
        let store = config
            .identity_store(Some(&random))
            .map_err(|e| at(&path, e))?;
        Ok((
            Self {
                path,
                store: SharedStore::new(store),
                random,
                fingerprint: Mutex::new(fingerprint),
                listeners: Mutex::new(Vec::new()),
            },
            config,
        ))
    }

    /// The handle the key provider, the IAM hook and STS read from.
    pub fn store(&self) -> SharedStore {
        self.store.clone()
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file. `Ok(true)`: it changed and the new store is in force; `Ok(false)`:
    /// unchanged; `Err`: refused, the old store stays.
    pub fn reload(&self) -> Result<bool, ConfigFileError> {
        // Read under the lock, so concurrent reloads cannot install an older text last.
        let mut last = self.fingerprint.lock().unwrap_or_else(|e| e.into_inner());
        let (text, fingerprint) = read(&self.path)?;
        if *last == fingerprint {
            return Ok(false);
        }
        let config = parse(&self.path, &text)?;
        let store = config
            .identity_store(Some(&self.random))
            .map_err(|e| at(&self.path, e))?;
        self.store.replace(store);
        *last = fingerprint;
        // Still under the lock: listeners see the configurations in the order they took effect.
        for listener in self
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            listener(&config);
        }
        Ok(true)
    }

    /// Calls `listener` with every configuration a reload puts in force (after the new
    /// identities are in [`FileStore::store`]), so that the settings read from the same file
    /// follow it — the gateway rebuilds its verifier and policies with it.
    pub fn on_reload(&self, listener: impl Fn(&GatewayConfig) + Send + Sync + 'static) {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(listener));
    }

    /// Reloads and logs the outcome (`info` when a new store is in force, `error` with the
    /// place when the file is refused).
    pub fn reload_and_log(&self) {
        match self.reload() {
            Ok(true) => tracing::info!(path = %self.path.display(), "identity store reloaded"),
            Ok(false) => {}
            Err(e) => tracing::error!(
                path = %self.path.display(),
                error = %e,
                "configuration refused; the previous identity store stays in force"
            ),
        }
    }

    /// Watches the file: checks it every `poll` interval (never, for a zero interval) and on
    /// `SIGHUP` (Unix), reloading when its content changed. Runs until the task is aborted; needs a Tokio runtime.
    pub fn watch(self: Arc<Self>, poll: Duration) -> tokio::task::JoinHandle<()> {
        // Register for SIGHUP before returning, so a signal sent right after is not missed
        // (nor left to its default action, which ends the process).
        #[cfg(unix)]
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP"))
            .ok();
        tokio::spawn(async move {
            // A zero interval means "on SIGHUP only".
            let mut tick = (!poll.is_zero()).then(|| tokio::time::interval(poll));
            if let Some(t) = tick.as_mut() {
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t.tick().await;
            }
            loop {
                #[cfg(unix)]
                {
                    let hangup = async {
                        match hup.as_mut() {
                            Some(s) => s.recv().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        () = next_tick(&mut tick) => {}
                        _ = hangup => tracing::info!("SIGHUP: reloading the configuration"),
                    }
                }
                #[cfg(not(unix))]
                next_tick(&mut tick).await;
                let this = self.clone();
                // File I/O and policy compilation off the async workers.
                let _ = tokio::task::spawn_blocking(move || this.reload_and_log()).await;
            }
        })
    }
}

async fn next_tick(tick: &mut Option<tokio::time::Interval>) {
    match tick {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn read(path: &Path) -> Result<(Zeroizing<String>, [u8; 32]), ConfigFileError> {
    let text = std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| ConfigFileError::new(path.display().to_string(), e))?;
    let fingerprint = Sha256::digest(text.as_bytes()).into();
    Ok((text, fingerprint))
}

fn parse(path: &Path, text: &str) -> Result<GatewayConfig, ConfigFileError> {
    let config = GatewayConfig::from_toml(text).map_err(|e| at(path, e))?;
    // The identities are checked by the caller, which builds the store right after.
    config.validate_settings().map_err(|e| at(path, e))?;
    Ok(config)
}

/// Prefixes an error's location with the file.
fn at(path: &Path, e: ConfigFileError) -> ConfigFileError {
    let location = if e.location.is_empty() {
        path.display().to_string()
    } else {
        format!("{}: {}", path.display(), e.location)
    };
    ConfigFileError::new(location, e.message)
}
