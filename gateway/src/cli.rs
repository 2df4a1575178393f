//! The command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::run;

/// API Gateway's `AWS_IAM` authorization (SigV4, IAM policies, STS) in front of any HTTP
/// service. Without `--config` it runs the bundled demo configuration and prints a `curl`
/// command that works.
#[derive(Debug, Parser)]
#[command(name = "sigv4-gateway", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    source: Source,
    /// Validate the configuration and exit (non-zero, naming the place of the first mistake).
    #[arg(long)]
    check_config: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Where the configuration comes from, and what the command line overrides in it.
#[derive(Debug, Args)]
struct Source {
    /// The TOML configuration (default: the bundled demo configuration).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Listen here instead of the file's `listen`.
    #[arg(long, value_name = "ADDR", global = true)]
    listen: Option<String>,
    /// Proxy to this http:// or https:// URL instead of the file's `upstream`.
    #[arg(long, value_name = "URL", global = true)]
    upstream: Option<String>,
    /// The identity store, `sqlite://PATH` or `postgres://…`, instead of the file's
    /// `[store] url`.
    #[arg(long, value_name = "URL", global = true)]
    store: Option<String>,
    /// The store key file (base64 of 32 bytes), instead of `[store] key_file`,
    /// `SIGV4_STORE_KEY` or, for SQLite, `<database file>.key`.
    #[arg(long, value_name = "PATH", global = true)]
    key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve (what the gateway does without a command).
    Serve,
    /// Validate the configuration and exit (the same as `--check-config`).
    CheckConfig,
    /// Create the schema of a new store (`--store URL`) and its first administrator, user
    /// `admin` with full IAM and `execute-api:Invoke` rights in the account, and print its
    /// access key once. A store initialised already is left as it is (exit 1).
    Init {
        /// The account of the identities (twelve digits).
        #[arg(long, value_name = "ACCOUNT")]
        account: String,
        /// Print exactly one JSON object: `{"arn", "access_key_id", "secret_access_key"}`.
        #[arg(long)]
        json: bool,
    },
    /// Copy the users and roles of `--config FILE` into the store `--store URL`, once.
    ImportConfig,
    /// Re-seal every secret of `--store URL` under a new store key (the current one from
    /// `--key-file`, `SIGV4_STORE_KEY` or `<database file>.key`), then restart every
    /// gateway with the new key.
    RotateStoreKey {
        /// The new key file (base64 of 32 bytes; `openssl rand -base64 32`).
        #[arg(long, value_name = "PATH")]
        new_key_file: PathBuf,
    },
}

impl Cli {
    /// Runs the command; the process's exit code.
    pub fn run(self) -> ExitCode {
        let source = &self.source;
        match &self.command {
            Some(Command::Init { account, json }) => return self.init(account, *json),
            Some(Command::ImportConfig) => return self.import(),
            Some(Command::RotateStoreKey { new_key_file }) => return self.rotate(new_key_file),
            _ => {}
        }
        let loaded = run::load(
            source.config.as_deref(),
            source.listen.as_deref(),
            source.upstream.as_deref(),
        );
        let check = self.check_config || matches!(self.command, Some(Command::CheckConfig));
        if check {
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
        let loaded = match loaded {
            Ok(mut loaded) => {
                if let Some(url) = &source.store {
                    loaded = loaded.with_store(url);
                }
                if let Some(path) = &source.key_file {
                    loaded = loaded.with_store_key_file(path);
                }
                loaded
            }
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
        let demo = source.config.is_none();
        match runtime.block_on(run::serve(loaded, demo)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("sigv4-gateway: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

impl Cli {
    fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                eprintln!("sigv4-gateway: cannot start the runtime: {e}");
                ExitCode::FAILURE
            })
    }

    fn init(&self, account: &str, json: bool) -> ExitCode {
        let Some(url) = self.source.store.as_deref() else {
            eprintln!("sigv4-gateway init: give the store with --store sqlite://PATH or --store postgres://…");
            return ExitCode::from(2);
        };
        let runtime = match Self::runtime() {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        let key_file = self.source.key_file.as_deref();
        match runtime.block_on(crate::store::init(url, key_file, account)) {
            Ok(done) => {
                let secret = done.secret.expose_secret();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "arn": done.arn,
                            "access_key_id": done.access_key_id,
                            "secret_access_key": secret,
                        })
                    );
                } else {
                    println!(
                        "initialised {} for account {account}",
                        crate::run::redact(url)
                    );
                    println!("  administrator:     {}", done.arn);
                    println!("  access key id:     {}", done.access_key_id);
                    println!("  secret access key: {secret}");
                    if let Some(path) = &done.key_file {
                        println!(
                            "  store key written: {} (keep it: the secrets do not open without it)",
                            path.display()
                        );
                    }
                    println!("The secret is shown this once.");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sigv4-gateway init: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn rotate(&self, new_key_file: &std::path::Path) -> ExitCode {
        let Some(url) = self.source.store.as_deref() else {
            eprintln!("sigv4-gateway rotate-store-key: give --store URL");
            return ExitCode::from(2);
        };
        let runtime = match Self::runtime() {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        let key_file = self.source.key_file.as_deref();
        match runtime.block_on(crate::store::rotate(url, key_file, new_key_file)) {
            Ok(count) => {
                println!(
                    "{count} secrets re-sealed under {}; restart every gateway with the new key",
                    new_key_file.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sigv4-gateway rotate-store-key: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn import(&self) -> ExitCode {
        let (Some(path), Some(url)) = (self.source.config.as_deref(), self.source.store.as_deref())
        else {
            eprintln!("sigv4-gateway import-config: give --config FILE and --store URL");
            return ExitCode::from(2);
        };
        let config = match crate::config::GatewayConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("configuration error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let runtime = match Self::runtime() {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        let key_file = self
            .source
            .key_file
            .as_deref()
            .or(config.store.key_file.as_deref());
        match runtime.block_on(crate::store::import(&config, url, key_file)) {
            Ok(done) => {
                println!(
                    "imported {} users ({} access keys) and {} roles into {}",
                    done.users,
                    done.keys,
                    done.roles,
                    crate::run::redact(url)
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sigv4-gateway import-config: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

/// Parses the process's arguments and runs them (`--help` and `--version` print on stdout and
/// exit 0; a usage mistake prints on stderr and exits 2).
pub fn main() -> ExitCode {
    Cli::parse().run()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn check_config_is_a_flag_and_a_command() {
        let flag = Cli::try_parse_from(["sigv4-gateway", "--config", "g.toml", "--check-config"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(flag.check_config);
        assert_eq!(
            flag.source.config.as_deref(),
            Some(std::path::Path::new("g.toml"))
        );
        let command = Cli::try_parse_from(["sigv4-gateway", "check-config", "--config=g.toml"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(command.command, Some(Command::CheckConfig)));
        assert_eq!(
            command.source.config.as_deref(),
            Some(std::path::Path::new("g.toml"))
        );
        let error = Cli::try_parse_from(["sigv4-gateway", "--bogus"])
            .err()
            .map(|e| e.kind());
        assert_eq!(error, Some(clap::error::ErrorKind::UnknownArgument));
    }
}
