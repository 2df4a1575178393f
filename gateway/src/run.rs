//! Running the gateway: the configuration and identities (from a file that reloads, or the
//! bundled demo), the listeners with their limits, the reload of the settings with the
//! identities, and the drain at shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tower_sigv4::store::SharedStore;
use tower_sigv4::ConnectionInfo;

use crate::config::{restart_only_changes, ConfigFileError, FileStore, GatewayConfig};
use crate::store::GatewayIdentities;
use crate::{app, metrics, server, tls, BoxError};

/// The bundled demo configuration (AWS's documentation keys: never deploy it).
pub const DEMO_CONFIG: &str = include_str!("../demo.toml");
/// How long in-flight requests may take to finish after SIGINT/SIGTERM.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A configuration ready to serve: the settings in force (command-line overrides applied),
/// the file's own settings (what a reload is compared with), the identities, and the file
/// store that reloads them (none for the demo).
pub struct Loaded {
    /// The settings in force.
    pub config: GatewayConfig,
    as_read: GatewayConfig,
    store: SharedStore,
    keyring: Option<Arc<tower_sigv4::sts::TokenKeyring>>,
    file: Option<Arc<FileStore>>,
}

impl Loaded {
    /// Reads the identities from the database store at `url` instead of the file's
    /// `[store] url` (the command line's `--store`).
    pub fn with_store(mut self, url: &str) -> Self {
        self.config.store.url = Some(url.to_owned());
        self
    }

    /// Reads the store key from `path` instead of `[store] key_file` (`--key-file`).
    pub fn with_store_key_file(mut self, path: &Path) -> Self {
        self.config.store.key_file = Some(path.to_owned());
        self
    }
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Reads the configuration (`config`, or the bundled demo) and applies the overrides of the
/// command line. Every check of `--check-config` happens here.
///
/// # Errors
///
/// The first mistake, with its place (file, line, column, key).
pub fn load(
    config: Option<&Path>,
    listen: Option<&str>,
    upstream: Option<&str>,
) -> Result<Loaded, ConfigFileError> {
    let (as_read, store, keyring, file) = match config {
        Some(path) => {
            let (file, config) = FileStore::open(path)?;
            let (store, keyring) = (file.store(), file.keyring());
            (config, store, keyring, Some(Arc::new(file)))
        }
        None => {
            let config = GatewayConfig::from_toml(DEMO_CONFIG)?;
            let identities = config.identities(None)?;
            (
                config,
                SharedStore::new(identities.store),
                identities.keyring,
                None,
            )
        }
    };
    let mut config = as_read.clone();
    if let Some(listen) = listen {
        config.listen = listen.to_owned();
    }
    if let Some(upstream) = upstream {
        config.upstream = Some(upstream.to_owned());
    }
    // The identities were checked while building the store; the overrides may change the rest.
    config.validate_settings()?;
    Ok(Loaded {
        config,
        as_read,
        store,
        keyring,
        file,
    })
}

/// Serves until SIGINT or SIGTERM, then drains. With `demo`, prints the demo credentials and
/// a `curl` line that works.
///
/// # Errors
///
/// A listener that cannot bind, a TLS file that cannot be read.
pub async fn serve(loaded: Loaded, demo: bool) -> Result<(), BoxError> {
    let Loaded {
        config,
        as_read,
        store,
        keyring,
        file,
    } = loaded;

    let tls = match &config.tls {
        Some(t) => Some(tls::acceptor(&t.cert, &t.key)?),
        None => None,
    };
    let metrics = metrics::Metrics::new();
    let identities = match &config.store.url {
        Some(url) => {
            let db =
                crate::store::open(url, config.store.key_file.as_deref(), config.api_context()?)
                    .await
                    .map_err(|e| format!("store {}: {e}", redact(url)))?;
            tracing::info!(store = %redact(url), account = db.account(), "identities from the database");
            GatewayIdentities::database(db)
        }
        None => GatewayIdentities::file(store, &config.api.account),
    };
    let gateway = app::Gateway::new(&config, identities.clone(), keyring, metrics.clone())?;
    let limits = server::ConnLimits::from_config(&config.limits);
    let listener = TcpListener::bind(config.listen_addr()?).await?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        listen = %local,
        upstream = config.upstream.as_deref().unwrap_or("(none: answers itself)"),
        tls = tls.is_some(),
        sts = config.sts.enabled,
        max_connections = limits.max_connections,
        max_connections_per_peer = limits.max_per_peer,
        "sigv4-gateway listening"
    );
    // Tests and scripts read this line to find the port.
    println!("sigv4-gateway listening on {scheme}://{local}");
    if demo {
        print_demo(&config, scheme, local);
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if let Some(m) = &config.metrics {
        let addr: SocketAddr = m.listen.parse()?;
        let metrics_listener = TcpListener::bind(addr).await?;
        println!(
            "metrics on http://{}/metrics",
            metrics_listener.local_addr()?
        );
        let metrics_limits = server::ConnLimits {
            max_connections: 64,
            max_per_peer: 16,
            ..limits
        };
        let metrics_server = server::Server::new("metrics", metrics_limits, stopped.clone());
        tokio::spawn(metrics_server.run(
            metrics_listener,
            None,
            move |_| metrics.service(),
            Duration::ZERO,
        ));
    }
    let _watcher = file.map(|f| {
        let gateway = gateway.clone();
        let identities = identities.clone();
        // Compared with the file as read, not with the command line's overrides.
        let in_force = std::sync::Mutex::new(as_read);
        let source = f.clone();
        f.on_reload(move |new| {
            let mut old = in_force.lock().unwrap_or_else(|e| e.into_inner());
            for key in restart_only_changes(&old, new) {
                tracing::warn!(
                    key,
                    "changed in the configuration file, but takes effect only at restart"
                );
            }
            let reloaded = match &identities.db {
                Some(_) => identities.clone(),
                None => GatewayIdentities::file(
                    SharedStore::from_snapshot(source.store().snapshot()),
                    &new.api.account,
                ),
            };
            match gateway.reload(new, &reloaded, source.keyring()) {
                Ok(()) => tracing::info!("settings reloaded with the identities"),
                Err(e) => {
                    tracing::error!(error = %e, "settings not reloaded; the previous ones stay")
                }
            }
            *old = new.clone();
        });
        f.watch(Duration::from_secs(2))
    });

    let server = server::Server::new("api", limits, stopped);
    let api = server.run(
        listener,
        tls,
        move |peer| gateway.hyper_service(ConnectionInfo::new(peer, scheme == "https")),
        DRAIN_TIMEOUT,
    );
    let mut api = std::pin::pin!(api);
    tokio::select! {
        () = api.as_mut() => {}
        () = shutdown_signal() => {
            tracing::info!("shutting down: draining in-flight requests");
            let _ = stop.send(true);
            api.await;
        }
    }
    Ok(())
}

/// A store URL without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn print_demo(config: &GatewayConfig, scheme: &str, local: SocketAddr) {
    let region = &config.api.region;
    let service = &config.api.service;
    println!("\nDemo configuration (AWS documentation example keys; never use them for real):");
    let first = config
        .user
        .iter()
        .find_map(|u| u.access_keys.iter().find(|k| k.active).map(|k| (u, k)));
    let Some((user, key)) = first else {
        return;
    };
    println!("  {}", user.arn);
    println!("    access key id:     {}", key.id);
    let secret = key.secret.as_str();
    println!("    secret access key: {secret}");
    println!("\nTry it:");
    println!(
        "  curl --aws-sigv4 \"aws:amz:{region}:{service}\" --user '{}:{}' {scheme}://{local}/hello",
        key.id, secret
    );
    println!(
        "  curl --aws-sigv4 \"aws:amz:{region}:{service}\" --user '{}:{}' {scheme}://{local}/admin   # 403: explicit deny",
        key.id, secret
    );
    println!();
}
