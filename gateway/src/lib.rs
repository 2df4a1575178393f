//! `sigv4-gateway`: Amazon API Gateway's `AWS_IAM` authorization — SigV4, IAM identity and
//! resource policies, STS — in front of any HTTP service, configured by one TOML file.
//!
//! The binary is a thin shell over this library, so that tests and benchmarks drive the same
//! service in process: [`config`] reads and reloads the file, [`Gateway`] is the service
//! (signature layer, IAM authorizer and STS over an echo or a reverse proxy), [`run`] binds
//! the listeners with their limits, [`cli`] is the command line.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let loaded = sigv4_gateway::run::load(None, Some("127.0.0.1:0"), None)?;
//! sigv4_gateway::run::serve(loaded, true).await?;
//! # Ok(()) }
//! ```

mod app;
pub mod cli;
pub mod config;
mod metrics;
mod proxy;
pub mod run;
mod server;
pub mod store;
mod tls;

pub use app::Gateway;
pub use metrics::Metrics;

/// The boxed error of the gateway's fallible steps.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
