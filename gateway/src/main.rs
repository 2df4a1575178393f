//! `sigv4-gateway`: API Gateway's `AWS_IAM` authorization in front of any HTTP service.
//!
//! ```text
//! sigv4-gateway [--config FILE] [--listen ADDR] [--upstream URL] [--check-config]
//! ```
//!
//! Without `--config` it runs the bundled demo configuration and prints a `curl` command that
//! succeeds. The configuration reference is in the crate's `config_file` module and README.

mod app;
mod config;
mod metrics;
mod proxy;
mod server;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tower_sigv4::config_file::{ConfigFileError, FileStore, GatewayConfig};
use tower_sigv4::store::SharedStore;
use tower_sigv4::ConnectionInfo;

const DEMO_CONFIG: &str = include_str!("demo.toml");
const USAGE: &str =
    "usage: sigv4-gateway [--config FILE] [--listen ADDR] [--upstream URL] [--check-config]

  --config FILE    the TOML configuration (default: the bundled demo configuration)
  --listen ADDR    listen here instead of the file's `listen`
  --upstream URL   proxy to this http:// URL instead of the file's `upstream`
  --check-config   validate the configuration and exit (non-zero with the error's location)
";
/// How long in-flight requests may take to finish after SIGINT/SIGTERM.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct Args {
    config: Option<PathBuf>,
    listen: Option<String>,
    upstream: Option<String>,
    check_config: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--config" => args.config = Some(PathBuf::from(value()?)),
            "--listen" => args.listen = Some(value()?),
            "--upstream" => args.upstream = Some(value()?),
            "--check-config" => args.check_config = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// What `load` found: the configuration in force (command-line overrides applied), the file's
/// own (what reloads are compared with), the identities, and the reloading file store.
type Loaded = (
    GatewayConfig,
    GatewayConfig,
    SharedStore,
    Option<Arc<FileStore>>,
);

/// The configuration and the identity store (file-backed and reloading with `--config`).
fn load(args: &Args) -> Result<Loaded, ConfigFileError> {
    let (as_read, store, file) = match &args.config {
        Some(path) => {
            let (file, config) = FileStore::open(path)?;
            let store = file.store();
            (config, store, Some(Arc::new(file)))
        }
        None => {
            let config = GatewayConfig::from_toml(DEMO_CONFIG)?;
            let store = SharedStore::new(config.identity_store(None)?);
            (config, store, None)
        }
    };
    let mut config = as_read.clone();
    if let Some(listen) = &args.listen {
        config.listen.clone_from(listen);
    }
    if let Some(upstream) = &args.upstream {
        config.upstream = Some(upstream.clone());
    }
    // The identities were checked while building the store; the overrides may change the rest.
    config.validate_settings()?;
    Ok((config, as_read, store, file))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("sigv4-gateway: {message}\n");
            }
            eprint!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let loaded = load(&args);
    if args.check_config {
        return match loaded {
            Ok(_) => {
                println!("configuration OK");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("configuration error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let (config, as_read, store, file) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sigv4-gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let demo = args.config.is_none();
    match runtime.block_on(serve(config, as_read, store, file, demo)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sigv4-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn serve(
    config: GatewayConfig,
    as_read: GatewayConfig,
    store: SharedStore,
    file: Option<Arc<FileStore>>,
    demo: bool,
) -> Result<(), BoxError> {
    let tls = match &config.tls {
        Some(t) => Some(tls::acceptor(&t.cert, &t.key)?),
        None => None,
    };
    let metrics = metrics::Metrics::new();
    let gateway = app::Gateway::new(&config, store, metrics.clone())?;
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
        // Compared with the file as read, not with the command line's overrides.
        let in_force = std::sync::Mutex::new(as_read);
        let source = f.clone();
        f.on_reload(move |new| {
            let mut old = in_force.lock().unwrap_or_else(|e| e.into_inner());
            for key in config::restart_only_changes(&old, new) {
                tracing::warn!(
                    key,
                    "changed in the configuration file, but takes effect only at restart"
                );
            }
            match gateway.reload(new, SharedStore::from_snapshot(source.store().snapshot())) {
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
