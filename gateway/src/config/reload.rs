//! The file-backed identity store: reloads on change or SIGHUP, keeps the old one on error.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{ConfigFileError, GatewayConfig};
use tower_sigv4::store::SharedStore;
use tower_sigv4::sts::TokenKeyring;

/// Users, roles and session-token keys read from the gateway's TOML file, reloaded when the
/// file changes or the process gets `SIGHUP`.
///
/// A reload builds a complete new [`IdentityStore`](tower_sigv4::store::IdentityStore) and swaps it
/// in through the [`SharedStore`]: requests in flight finish with the store they started with.
/// A file that does not parse or validate is refused with a log line naming the place, and
/// the store in force stays; the line is written once per change of the file (and at each
/// `SIGHUP`), not at every poll. The identities and `[sts] token_keys` reload here; the rest
/// of the file is handed to the [`FileStore::on_reload`] listeners.
pub struct FileStore {
    path: PathBuf,
    store: SharedStore,
    keyring: RwLock<Option<Arc<TokenKeyring>>>,
    random: Arc<TokenKeyring>,
    seen: Mutex<Seen>,
    listeners: Mutex<Vec<Listener>>,
}

/// A function told of each configuration that took effect.
type Listener = Box<dyn Fn(&GatewayConfig) + Send + Sync>;

/// What the last reloads found.
struct Seen {
    /// The SHA-256 of the text in force.
    installed: [u8; 32],
    /// The file as last refused, and why; cleared when a text is taken or the file is back to
    /// the one in force.
    refused: Option<(Input, ConfigFileError)>,
}

/// The file as a reload found it.
#[derive(PartialEq)]
enum Input {
    /// A text, by its SHA-256.
    Text([u8; 32]),
    /// No text: the file could not be read (the error says why).
    Unreadable,
}

/// What a reload answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// A poll (or a call to `reload_and_log`): a refusal is logged once per change.
    Poll,
    /// A `SIGHUP`: a refusal is logged even when it was before.
    Signal,
}

/// The outcome of one reload.
enum Checked {
    /// A new store is in force.
    Reloaded,
    /// The file holds the text in force.
    Unchanged,
    /// Refused; `again` when the file is as it was at the previous refusal.
    Refused { error: ConfigFileError, again: bool },
}

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
        let identities = config
            .identities(Some(&random))
            .map_err(|e| e.in_file(&path))?;
        Ok((
            Self {
                path,
                store: SharedStore::new(identities.store),
                keyring: RwLock::new(identities.keyring),
                random,
                seen: Mutex::new(Seen {
                    installed: fingerprint,
                    refused: None,
                }),
                listeners: Mutex::new(Vec::new()),
            },
            config,
        ))
    }

    /// The handle the key provider, the IAM authorizer and STS read from.
    pub fn store(&self) -> SharedStore {
        self.store.clone()
    }

    /// The session-token keyring in force (`None` while STS is off).
    pub fn keyring(&self) -> Option<Arc<TokenKeyring>> {
        self.keyring
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file. `Ok(true)`: it changed and the new store is in force; `Ok(false)`:
    /// unchanged; `Err`: refused, the old store stays. A file refused before and unchanged
    /// since is not checked again: the same error is returned.
    pub fn reload(&self) -> Result<bool, ConfigFileError> {
        match self.check() {
            Checked::Reloaded => Ok(true),
            Checked::Unchanged => Ok(false),
            Checked::Refused { error, .. } => Err(error),
        }
    }

    /// Reloads and logs the outcome: `info` when a new store is in force, `error` with the
    /// place when the file is refused. A refusal is logged once per change of the file: while
    /// it keeps the refused text (or stays unreadable for the same reason), later calls log
    /// nothing, whether the refusal was first met here or by [`FileStore::reload`]. A
    /// different text is checked and, if refused, logged again.
    pub fn reload_and_log(&self) {
        self.reload_and_log_as(Asked::Poll);
    }

    fn reload_and_log_as(&self, asked: Asked) {
        match self.check() {
            Checked::Reloaded => {
                tracing::info!(path = %self.path.display(), "identity store reloaded");
            }
            Checked::Unchanged => {}
            Checked::Refused { again: true, .. } if asked == Asked::Poll => {}
            Checked::Refused { error, .. } => tracing::error!(
                path = %self.path.display(),
                error = %error,
                "configuration refused; the previous identity store stays in force"
            ),
        }
    }

    fn check(&self) -> Checked {
        // Read under the lock, so concurrent reloads cannot install an older text last.
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (text, fingerprint) = match read(&self.path) {
            Ok(read) => read,
            Err(error) => return seen.refuse(Input::Unreadable, error),
        };
        if seen.installed == fingerprint {
            seen.refused = None;
            return Checked::Unchanged;
        }
        let input = Input::Text(fingerprint);
        if let Some((refused, error)) = &seen.refused {
            if *refused == input {
                return Checked::Refused {
                    error: error.clone(),
                    again: true,
                };
            }
        }
        let loaded = parse(&self.path, &text).and_then(|config| {
            config
                .identities(Some(&self.random))
                .map(|identities| (config, identities))
                .map_err(|e| e.in_file(&self.path))
        });
        match loaded {
            Ok((config, identities)) => {
                self.store.replace(identities.store);
                *self.keyring.write().unwrap_or_else(|e| e.into_inner()) = identities.keyring;
                seen.installed = fingerprint;
                seen.refused = None;
                // Still under the lock: listeners see the configurations in the order they
                // took effect.
                for listener in self
                    .listeners
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                {
                    listener(&config);
                }
                Checked::Reloaded
            }
            Err(error) => seen.refuse(input, error),
        }
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

    /// Watches the file: checks it every `poll` interval (never, for a zero interval) and on
    /// `SIGHUP` (Unix), reloading when its content changed, and logging as
    /// [`FileStore::reload_and_log`] does, except that a `SIGHUP` logs a refusal even when it
    /// was logged before (whoever sent it is waiting for an answer). Runs until the task is
    /// aborted; needs a Tokio runtime.
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
                let asked = {
                    let hangup = async {
                        match hup.as_mut() {
                            Some(s) => s.recv().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        () = next_tick(&mut tick) => Asked::Poll,
                        _ = hangup => {
                            tracing::info!("SIGHUP: reloading the configuration");
                            Asked::Signal
                        }
                    }
                };
                #[cfg(not(unix))]
                let asked = {
                    next_tick(&mut tick).await;
                    Asked::Poll
                };
                let this = self.clone();
                // File I/O and policy compilation off the async workers.
                let _ = tokio::task::spawn_blocking(move || this.reload_and_log_as(asked)).await;
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

impl Seen {
    /// Records a refusal; `again` when the file is as it was at the previous one.
    fn refuse(&mut self, input: Input, error: ConfigFileError) -> Checked {
        let again = self
            .refused
            .as_ref()
            .is_some_and(|(last_input, last_error)| *last_input == input && *last_error == error);
        self.refused = Some((input, error.clone()));
        Checked::Refused { error, again }
    }
}

fn read(path: &Path) -> Result<(Zeroizing<String>, [u8; 32]), ConfigFileError> {
    let text = std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| ConfigFileError::new("", e).in_file(path))?;
    let fingerprint = Sha256::digest(text.as_bytes()).into();
    Ok((text, fingerprint))
}

fn parse(path: &Path, text: &str) -> Result<GatewayConfig, ConfigFileError> {
    let config = GatewayConfig::from_toml(text).map_err(|e| e.in_file(path))?;
    // The identities are checked by the caller, which builds the store right after.
    config.validate_settings().map_err(|e| e.in_file(path))?;
    Ok(config)
}
