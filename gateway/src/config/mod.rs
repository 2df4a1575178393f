//! The gateway's TOML configuration file, and the identity store that reloads it.
//!
//! One file configures the gateway: the API, the signature settings, the limits, STS, and the
//! users and roles of any number of accounts (each account comes from the ARNs).
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! # upstream = "http://127.0.0.1:3000"
//! healthz = true                       # unauthenticated GET /healthz (default: off)
//! [api]
//! region = "us-east-1"
//! service = "execute-api"
//! account = "123456789012"             # the account that owns the API
//! api_id = "apiid"
//! stage = "prod"
//! resource_policy = '''{ "Version": "2012-10-17", "Statement": [] }'''   # optional
//! [auth]
//! clock_skew_seconds = 300
//! max_body_bytes = 10485760
//! allow_unsigned_payload = true
//! trusted_proxies = []                 # CIDRs whose X-Forwarded-For is trusted for aws:SourceIp
//! [sts]
//! enabled = true
//! token_keys = [{ id = "k1", secret = "base64 of 32 bytes" }]   # absent: a random key per process
//! [metrics]
//! listen = "127.0.0.1:9090"            # Prometheus text on GET /metrics (default: off)
//! [tls]
//! cert = "cert.pem"                    # PEM chain and key; absent: plain HTTP
//! key = "key.pem"
//! [[user]]
//! arn = "arn:aws:iam::123456789012:user/alice"
//! access_keys = [{ id = "AKIA…", secret = "…", active = true }]
//! policies = ['''{ … }''']
//! tags = { team = "blue" }
//! [[role]]
//! arn = "arn:aws:iam::123456789012:role/Invoker"
//! trust_policy = '''{ … }'''
//! policies = ['''{ … }''']
//! max_session_seconds = 3600
//! ```
//!
//! Loading is strict: an unknown key, a wrong type, a malformed ARN or a policy that does not
//! validate is an error naming its place: the file, and for what the TOML parser finds, the
//! line, column and key path, e.g.
//! `gateway.toml:12:45: user[0].access_keys[0].secret: invalid type: integer, expected a string`
//! or
//! `gateway.toml: user[0] (arn:aws:iam::123456789012:user/alice) policies[0]: Statement[1].Condition: unknown operator "StringEqualz"`.
//! An error never shows a line of the file, nor the value of a key whose name holds `secret`.
//!
//! ```
//! use sigv4_gateway::config::GatewayConfig;
//!
//! let config = GatewayConfig::from_toml(r#"
//!     [api]
//!     account = "123456789012"
//!     api_id = "apiid"
//!     [[user]]
//!     arn = "arn:aws:iam::123456789012:user/alice"
//!     access_keys = [{ id = "AKIAALICE", secret = "s3cret" }]
//!     policies = ['{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}']
//! "#)?;
//! assert_eq!(config.listen, "127.0.0.1:8080");
//! assert_eq!(config.api.stage, "prod");
//! let store = config.identity_store()?;
//! assert!(store.user("arn:aws:iam::123456789012:user/alice").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod reload;
mod restart;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use zeroize::Zeroizing;

use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::store::{IdentityStore, Role, User};
use tower_sigv4::sts::{TokenKey, TokenKeyring};
use tower_sigv4::{BodyLimits, BufferBudget, UnsignedPayload, VerifierConfig};

pub use error::ConfigFileError;
pub use reload::FileStore;
pub(crate) use restart::restart_only_changes;

fn default_listen() -> String {
    "127.0.0.1:8080".to_owned()
}
fn default_region() -> String {
    "us-east-1".to_owned()
}
fn default_service() -> String {
    "execute-api".to_owned()
}
fn default_stage() -> String {
    "prod".to_owned()
}
fn default_skew() -> u64 {
    300
}
fn default_body() -> usize {
    10 * 1024 * 1024
}
fn yes() -> bool {
    true
}
fn default_session() -> u64 {
    3600
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// Where the gateway listens (default `127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The service it fronts; absent: the gateway answers authorized requests itself.
    pub upstream: Option<String>,
    /// Serve an unauthenticated `GET /healthz` (default: no).
    #[serde(default)]
    pub healthz: bool,
    /// The API the gateway stands for.
    pub api: ApiSection,
    /// Signature settings.
    #[serde(default)]
    pub auth: AuthSection,
    /// The STS endpoint and its session tokens.
    #[serde(default)]
    pub sts: StsSection,
    /// Prometheus metrics.
    pub metrics: Option<MetricsSection>,
    /// TLS.
    pub tls: Option<TlsSection>,
    /// Timeouts and caps on what clients may hold.
    #[serde(default)]
    pub limits: LimitsSection,
    /// What reaches the upstream.
    #[serde(default)]
    pub proxy: ProxySection,
    /// Where the identities live: this file (default) or a database.
    #[serde(default)]
    pub store: StoreSection,
    /// The IAM Query API on the same listener.
    #[serde(default)]
    pub iam_api: IamApiSection,
    /// Users.
    #[serde(default)]
    pub user: Vec<UserSection>,
    /// Roles.
    #[serde(default)]
    pub role: Vec<RoleSection>,
}

/// `[api]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ApiSection {
    /// The region requests are signed for (default `us-east-1`).
    #[serde(default = "default_region")]
    pub region: String,
    /// The service requests are signed for (default `execute-api`).
    #[serde(default = "default_service")]
    pub service: String,
    /// The account that owns the API (twelve digits).
    pub account: String,
    /// The API id in resource ARNs.
    pub api_id: String,
    /// The stage in resource ARNs (default `prod`).
    #[serde(default = "default_stage")]
    pub stage: String,
    /// The API's resource policy (JSON).
    pub resource_policy: Option<String>,
}

/// `[auth]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthSection {
    /// The clock-skew window in seconds (default 300).
    #[serde(default = "default_skew")]
    pub clock_skew_seconds: u64,
    /// The largest body hashed (default 10 MiB); beyond it, 413.
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
    /// Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD` (default yes).
    #[serde(default = "yes")]
    pub allow_unsigned_payload: bool,
    /// Proxies (CIDRs) whose `X-Forwarded-For` is trusted for `aws:SourceIp` (default none).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

impl Default for AuthSection {
    fn default() -> Self {
        Self {
            clock_skew_seconds: default_skew(),
            max_body_bytes: default_body(),
            allow_unsigned_payload: true,
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[sts]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StsSection {
    /// Serve STS and accept its temporary credentials (default yes).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Session-token keys, current first; older ones still open tokens (rotation).
    /// Absent: a random key per process (tokens die with it and are not shared by replicas).
    pub token_keys: Option<Vec<TokenKeySection>>,
}

impl Default for StsSection {
    fn default() -> Self {
        Self {
            enabled: true,
            token_keys: None,
        }
    }
}

/// One session-token key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TokenKeySection {
    /// The key id written into tokens.
    pub id: String,
    /// Base64 of 32 random bytes (zeroed on drop); checked while parsing, so that a bad key
    /// is reported with its line and column.
    #[serde(deserialize_with = "token_key_secret")]
    pub secret: Zeroizing<String>,
}

/// A token key's secret that decodes to a key. The error names what is wrong, never the value.
fn token_key_secret<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Zeroizing<String>, D::Error> {
    let secret = Zeroizing::<String>::deserialize(deserializer)?;
    // The id plays no part in decoding; `token_keyring` builds the real key.
    TokenKey::from_base64("check", &secret).map_err(serde::de::Error::custom)?;
    Ok(secret)
}

impl fmt::Debug for TokenKeySection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeySection")
            .field("id", &self.id)
            .field("secret", &"***")
            .finish()
    }
}

/// `[store]`: identities in a database instead of this file's `[[user]]` and `[[role]]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StoreSection {
    /// `sqlite://PATH` (relative to the working directory; created if missing) or
    /// `postgres://…`; absent: the identities of this file.
    pub url: Option<String>,
    /// A file holding the store key (base64 of 32 bytes). Else `SIGV4_STORE_KEY`; else, for
    /// SQLite only, `<database file>.key`.
    pub key_file: Option<PathBuf>,
}

/// `[iam_api]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IamApiSection {
    /// Serve the IAM API to requests signed for service `iam` (default yes; with the file
    /// store it answers reads and refuses writes).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The largest trust policy, white space not counted (default 2048).
    #[serde(default = "default_trust_limit")]
    pub trust_policy_limit: usize,
}

fn default_trust_limit() -> usize {
    2048
}

impl Default for IamApiSection {
    fn default() -> Self {
        Self {
            enabled: true,
            trust_policy_limit: default_trust_limit(),
        }
    }
}

/// `[metrics]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MetricsSection {
    /// Where `GET /metrics` is served.
    pub listen: String,
}

/// `[tls]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsSection {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// What a configuration says of identities: the users and roles, and — when STS is on — the
/// keyring that seals and opens session tokens.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Identities {
    /// The users and roles.
    pub store: IdentityStore,
    /// The session-token keyring; `None` when `[sts] enabled = false`.
    pub keyring: Option<Arc<TokenKeyring>>,
}

/// `[limits]`: what a client may hold. Every value has a default; see the README's
/// configuration reference.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LimitsSection {
    /// Longest time from a request's first byte to the end of its head (default 30 s).
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_seconds: u64,
    /// Longest time a connection may sit idle between requests, or without any byte read or
    /// written while a request is in flight (default 60 s).
    #[serde(default = "default_keep_alive_timeout")]
    pub keep_alive_timeout_seconds: u64,
    /// Longest wait for the next piece of a request body (default 30 s); then 408.
    #[serde(default = "default_body_idle_timeout")]
    pub body_idle_timeout_seconds: u64,
    /// Longest time to receive a whole request body (default 60 s); then 408.
    #[serde(default = "default_body_total_timeout")]
    pub body_total_timeout_seconds: u64,
    /// Bytes the whole process may hold in bodies read before their signature is checked
    /// (default 256 MiB); beyond it, 503.
    #[serde(default = "default_buffer_budget")]
    pub buffer_budget_bytes: usize,
    /// Open connections at most, over every peer (default: 80 % of the process's limit on
    /// open files, raised to its hard limit at start).
    pub max_connections: Option<usize>,
    /// Open connections at most from one peer address (default 256).
    #[serde(default = "default_max_connections_per_peer")]
    pub max_connections_per_peer: usize,
    /// HTTP/2: streams one connection may have open at once (default 100), advertised in
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`; a stream beyond it is refused (`REFUSED_STREAM`).
    #[serde(default = "default_http2_max_concurrent_streams")]
    pub http2_max_concurrent_streams: u32,
    /// The largest request header section (default 64 KiB): HTTP/2's
    /// `SETTINGS_MAX_HEADER_LIST_SIZE` (names and values plus 32 bytes a field), and on HTTP/1
    /// the largest request head (request line and headers as sent); beyond it, 431.
    #[serde(default = "default_max_header_list_bytes")]
    pub max_header_list_bytes: u32,
    /// HTTP/2: a PING after this many seconds without a frame from the client (default 20;
    /// 0: none).
    #[serde(default = "default_http2_keep_alive_interval")]
    pub http2_keep_alive_interval_seconds: u64,
    /// HTTP/2: how long a PING may go unanswered before the connection is closed (default 20).
    #[serde(default = "default_http2_keep_alive_timeout")]
    pub http2_keep_alive_timeout_seconds: u64,
}

fn default_header_read_timeout() -> u64 {
    30
}
fn default_keep_alive_timeout() -> u64 {
    60
}
fn default_body_idle_timeout() -> u64 {
    30
}
fn default_body_total_timeout() -> u64 {
    60
}
fn default_buffer_budget() -> usize {
    256 * 1024 * 1024
}
fn default_max_connections_per_peer() -> usize {
    256
}
fn default_http2_max_concurrent_streams() -> u32 {
    100
}
fn default_max_header_list_bytes() -> u32 {
    64 * 1024
}
fn default_http2_keep_alive_interval() -> u64 {
    20
}
fn default_http2_keep_alive_timeout() -> u64 {
    20
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            header_read_timeout_seconds: default_header_read_timeout(),
            keep_alive_timeout_seconds: default_keep_alive_timeout(),
            body_idle_timeout_seconds: default_body_idle_timeout(),
            body_total_timeout_seconds: default_body_total_timeout(),
            buffer_budget_bytes: default_buffer_budget(),
            max_connections: None,
            max_connections_per_peer: default_max_connections_per_peer(),
            http2_max_concurrent_streams: default_http2_max_concurrent_streams(),
            max_header_list_bytes: default_max_header_list_bytes(),
            http2_keep_alive_interval_seconds: default_http2_keep_alive_interval(),
            http2_keep_alive_timeout_seconds: default_http2_keep_alive_timeout(),
        }
    }
}

impl LimitsSection {
    /// The body limits of the signature layer.
    pub fn body_limits(&self) -> BodyLimits {
        BodyLimits::default()
            .with_idle_timeout(Duration::from_secs(self.body_idle_timeout_seconds))
            .with_total_timeout(Duration::from_secs(self.body_total_timeout_seconds))
    }

    fn validate(&self) -> Result<(), ConfigFileError> {
        for (name, value) in [
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            (
                "keep_alive_timeout_seconds",
                self.keep_alive_timeout_seconds,
            ),
            ("body_idle_timeout_seconds", self.body_idle_timeout_seconds),
            (
                "body_total_timeout_seconds",
                self.body_total_timeout_seconds,
            ),
            (
                "http2_keep_alive_timeout_seconds",
                self.http2_keep_alive_timeout_seconds,
            ),
        ] {
            if !(1..=86_400).contains(&value) {
                return Err(ConfigFileError::new(
                    format!("limits.{name}"),
                    format!("must be between 1 and 86400 seconds, got {value}"),
                ));
            }
        }
        if self.max_connections == Some(0) {
            return Err(ConfigFileError::new(
                "limits.max_connections",
                "must be at least 1 (leave it out for 80 % of the open-file limit)",
            ));
        }
        if self.max_connections_per_peer == 0 {
            return Err(ConfigFileError::new(
                "limits.max_connections_per_peer",
                "must be at least 1",
            ));
        }
        if self.http2_keep_alive_interval_seconds > 86_400 {
            return Err(ConfigFileError::new(
                "limits.http2_keep_alive_interval_seconds",
                format!(
                    "must be between 0 (no pings) and 86400 seconds, got {}",
                    self.http2_keep_alive_interval_seconds
                ),
            ));
        }
        if self.http2_max_concurrent_streams == 0 {
            return Err(ConfigFileError::new(
                "limits.http2_max_concurrent_streams",
                "must be at least 1",
            ));
        }
        if !(8192..=16 * 1024 * 1024).contains(&self.max_header_list_bytes) {
            return Err(ConfigFileError::new(
                "limits.max_header_list_bytes",
                format!(
                    "must be between 8192 and 16777216, got {}",
                    self.max_header_list_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// What the upstream receives of a request's headers with a name holding `_`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UnderscoreHeaders {
    /// Removed, as nginx does (the default): CGI and WSGI servers read `x_sigv4_principal_arn`
    /// as the same variable as `x-sigv4-principal-arn`.
    #[default]
    Drop,
    /// Forwarded (those whose name reads as an `x-sigv4-` header are removed all the same).
    Forward,
}

/// The protocol the gateway speaks to the upstream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UpstreamProtocol {
    /// HTTP/1.1 (the default).
    #[default]
    Http1,
    /// HTTP/2 only: with prior knowledge (h2c) to an `http://` upstream, negotiated by ALPN
    /// (`h2`, nothing else offered) with an `https://` one. gRPC needs it.
    Http2,
}

/// `[proxy]`: what reaches the upstream, and how.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProxySection {
    /// Headers whose name holds `_` (default `"drop"`).
    #[serde(default)]
    pub underscore_headers: UnderscoreHeaders,
    /// `"http1"` (default) or `"http2"`.
    #[serde(default)]
    pub upstream_protocol: UpstreamProtocol,
    /// The CA certificates (PEM) an `https://` upstream's certificate must chain to, instead
    /// of the Mozilla roots built in (webpki-roots). Only with an `https://` upstream.
    pub upstream_ca_file: Option<PathBuf>,
}

/// `[[user]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserSection {
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    pub arn: String,
    /// The unique id (`AIDA…`); absent: derived from the ARN.
    pub user_id: Option<String>,
    /// Access keys.
    #[serde(default)]
    pub access_keys: Vec<AccessKeySection>,
    /// Identity policies (JSON).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An access key of a `[[user]]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AccessKeySection {
    /// The access key id.
    pub id: String,
    /// The secret access key (zeroed on drop).
    pub secret: Zeroizing<String>,
    /// Whether it may sign (default yes).
    #[serde(default = "yes")]
    pub active: bool,
}

impl fmt::Debug for AccessKeySection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeySection")
            .field("id", &self.id)
            .field("secret", &"***")
            .field("active", &self.active)
            .finish()
    }
}

/// `[[role]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RoleSection {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub arn: String,
    /// The unique id (`AROA…`); absent: derived from the ARN.
    pub role_id: Option<String>,
    /// Who may assume the role (JSON).
    pub trust_policy: String,
    /// What its sessions may do (JSON).
    #[serde(default)]
    pub policies: Vec<String>,
    /// The longest session, 3600..=43200 (default 3600).
    #[serde(default = "default_session")]
    pub max_session_seconds: u64,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl GatewayConfig {
    /// Parses the TOML text (syntax, types and unknown keys; see
    /// [`GatewayConfig::validate`] for the rest).
    ///
    /// An error gives the line, the column and, past the syntax, the key path; never the
    /// text of the line, nor the value of a key whose name holds `secret`.
    pub fn from_toml(text: &str) -> Result<Self, ConfigFileError> {
        let document =
            toml::de::Deserializer::parse(text).map_err(|e| error::syntax_error(text, &e))?;
        serde_path_to_error::deserialize(document).map_err(|e| error::type_error(text, &e))
    }

    /// Reads and parses a file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|e| ConfigFileError::new("", e).in_file(path))?;
        Self::from_toml(&text).map_err(|e| e.in_file(path))
    }

    /// Checks everything that can be checked without serving: ARNs, keys, every policy, the
    /// addresses, the token keys. [`GatewayConfig::validate_settings`] and then
    /// [`GatewayConfig::identity_store`], for a caller that does not need the store.
    pub fn validate(&self) -> Result<(), ConfigFileError> {
        self.validate_settings()?;
        self.identities(None).map(drop)
    }

    /// Checks everything but the users and roles (which [`GatewayConfig::identity_store`]
    /// checks while building them): the addresses, the API, the signature settings, the
    /// trusted proxies and the resource policy.
    pub fn validate_settings(&self) -> Result<(), ConfigFileError> {
        self.listen_addr()?;
        if let Some(m) = &self.metrics {
            m.listen
                .parse::<std::net::SocketAddr>()
                .map_err(|e| ConfigFileError::new("metrics.listen", e))?;
        }
        if let Some(upstream) = &self.upstream {
            check_upstream(upstream)?;
        }
        let https = self
            .upstream
            .as_deref()
            .and_then(|u| u.parse::<http::Uri>().ok())
            .is_some_and(|u| u.scheme_str() == Some("https"));
        if self.proxy.upstream_ca_file.is_some() && !https {
            return Err(ConfigFileError::new(
                "proxy.upstream_ca_file",
                "only for an https:// upstream",
            ));
        }
        self.limits.validate()?;
        if self.limits.buffer_budget_bytes < self.auth.max_body_bytes {
            return Err(ConfigFileError::new(
                "limits.buffer_budget_bytes",
                format!(
                    "must be at least auth.max_body_bytes ({}): a body that size could never be read",
                    self.auth.max_body_bytes
                ),
            ));
        }
        self.verifier_config()?;
        self.trusted_proxies()?;
        self.resource_policy()?;
        Ok(())
    }

    /// The body limits of `[limits]`, with the buffer budget shared by every layer built from
    /// this configuration.
    pub fn body_limits(&self, budget: &BufferBudget) -> BodyLimits {
        self.limits.body_limits().with_buffer_budget(budget.clone())
    }

    /// `listen` as a socket address.
    pub fn listen_addr(&self) -> Result<std::net::SocketAddr, ConfigFileError> {
        self.listen
            .parse()
            .map_err(|e| ConfigFileError::new("listen", format!("\"{}\": {e}", self.listen)))
    }

    /// The API, for resource ARNs and policy shorthand.
    pub fn api_context(&self) -> Result<ApiContext, ConfigFileError> {
        let a = &self.api;
        if a.account.len() != 12 || !a.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigFileError::new(
                "api.account",
                format!("\"{}\" is not a twelve-digit account id", a.account),
            ));
        }
        if a.api_id.is_empty() || a.api_id.contains(['/', ':', '*']) {
            return Err(ConfigFileError::new(
                "api.api_id",
                format!("\"{}\" is not a valid API id", a.api_id),
            ));
        }
        if a.stage.is_empty() || a.stage.contains(['/', ':', '*']) {
            return Err(ConfigFileError::new(
                "api.stage",
                format!("\"{}\" is not a valid stage", a.stage),
            ));
        }
        Ok(ApiContext::new(
            a.region.clone(),
            a.account.clone(),
            a.api_id.clone(),
        ))
    }

    /// The verifier settings of `[api]` and `[auth]`.
    pub fn verifier_config(&self) -> Result<VerifierConfig, ConfigFileError> {
        let auth = &self.auth;
        if !(1..=604_800).contains(&auth.clock_skew_seconds) {
            return Err(ConfigFileError::new(
                "auth.clock_skew_seconds",
                format!(
                    "must be between 1 and 604800 (a week), got {}",
                    auth.clock_skew_seconds
                ),
            ));
        }
        for (name, value) in [
            ("api.region", &self.api.region),
            ("api.service", &self.api.service),
        ] {
            if value.is_empty() || value.contains(['/', ' ']) {
                return Err(ConfigFileError::new(
                    name,
                    format!("\"{value}\" is not a valid name"),
                ));
            }
        }
        Ok(
            VerifierConfig::new(self.api.region.clone(), self.api.service.clone())
                .with_clock_skew(Duration::from_secs(auth.clock_skew_seconds))
                .with_max_body_bytes(auth.max_body_bytes)
                .with_unsigned_payload(if auth.allow_unsigned_payload {
                    UnsignedPayload::Allowed
                } else {
                    UnsignedPayload::Rejected
                }),
        )
    }

    /// `[auth] trusted_proxies` as networks.
    pub fn trusted_proxies(&self) -> Result<Vec<IpNet>, ConfigFileError> {
        self.auth
            .trusted_proxies
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        ConfigFileError::new(
                            format!("auth.trusted_proxies[{i}]"),
                            format!("\"{s}\" is not an IP address or CIDR"),
                        )
                    })
            })
            .collect()
    }

    /// The parsed `[api] resource_policy`.
    pub fn resource_policy(&self) -> Result<Option<Policy>, ConfigFileError> {
        let api = self.api_context()?;
        self.api
            .resource_policy
            .as_deref()
            .map(|json| {
                Policy::parse(json, PolicyKind::Resource, Some(&api))
                    .map(|p| p.with_name("resource policy"))
                    .map_err(|e| ConfigFileError::new("api.resource_policy", e))
            })
            .transpose()
    }

    /// The token keyring of `[sts]`: `None` when STS is disabled; the configured keys
    /// (current first); or, when none are configured, `random` if given (to keep a
    /// process's random key across reloads) or a fresh random key.
    pub fn token_keyring(
        &self,
        random: Option<&Arc<TokenKeyring>>,
    ) -> Result<Option<Arc<TokenKeyring>>, ConfigFileError> {
        if !self.sts.enabled {
            return Ok(None);
        }
        let Some(keys) = &self.sts.token_keys else {
            return match random {
                Some(k) => Ok(Some(k.clone())),
                None => TokenKeyring::generate_random("random")
                    .map(|k| Some(Arc::new(k)))
                    .map_err(|e| ConfigFileError::new("sts", e)),
            };
        };
        let mut parsed = keys.iter().enumerate().map(|(i, k)| {
            TokenKey::from_base64(k.id.clone(), &k.secret)
                .map_err(|e| ConfigFileError::new(format!("sts.token_keys[{i}]"), e))
        });
        let Some(current) = parsed.next().transpose()? else {
            return Err(ConfigFileError::new(
                "sts.token_keys",
                "give at least one key, or leave token_keys out for a random key",
            ));
        };
        let mut keyring = TokenKeyring::new(current);
        for (i, key) in parsed.enumerate() {
            keyring
                .add_verification_key(key?)
                .map_err(|e| ConfigFileError::new(format!("sts.token_keys[{}]", i + 1), e))?;
        }
        Ok(Some(Arc::new(keyring)))
    }

    /// The users, roles and session-token keyring (see [`GatewayConfig::token_keyring`]).
    pub fn identities(
        &self,
        random: Option<&Arc<TokenKeyring>>,
    ) -> Result<Identities, ConfigFileError> {
        Ok(Identities {
            store: self.identity_store()?,
            keyring: self.token_keyring(random)?,
        })
    }

    /// The users and roles as an [`IdentityStore`].
    pub fn identity_store(&self) -> Result<IdentityStore, ConfigFileError> {
        let api = self.api_context()?;
        let mut builder = IdentityStore::builder();
        for (i, u) in self.user.iter().enumerate() {
            let at = format!("user[{i}] ({})", u.arn);
            let mut user = User::new(u.arn.clone()).map_err(|e| ConfigFileError::new(&at, e))?;
            if let Some(id) = &u.user_id {
                user = user.with_user_id(id.clone());
            }
            for (j, key) in u.access_keys.iter().enumerate() {
                if key.secret.is_empty() {
                    return Err(ConfigFileError::new(
                        format!("{at} access_keys[{j}]"),
                        "the secret is empty",
                    ));
                }
                user = if key.active {
                    user.with_access_key(key.id.clone(), key.secret.as_str())
                } else {
                    user.with_inactive_access_key(key.id.clone(), key.secret.as_str())
                };
            }
            for (j, json) in u.policies.iter().enumerate() {
                let policy = Policy::parse(json, PolicyKind::Identity, Some(&api))
                    .map_err(|e| ConfigFileError::new(format!("{at} policies[{j}]"), e))?
                    .with_name(format!("{} policy {j}", u.arn));
                user = user.with_policy(policy);
            }
            for (k, v) in &u.tags {
                user = user.with_tag(k.clone(), v.clone());
            }
            builder = builder.user(user);
        }
        for (i, r) in self.role.iter().enumerate() {
            let at = format!("role[{i}] ({})", r.arn);
            let trust = Policy::parse(&r.trust_policy, PolicyKind::Trust, None)
                .map_err(|e| ConfigFileError::new(format!("{at} trust_policy"), e))?
                .with_name(format!("{} trust policy", r.arn));
            let mut role = Role::new(r.arn.clone(), trust)
                .and_then(|role| role.with_max_session(Duration::from_secs(r.max_session_seconds)))
                .map_err(|e| ConfigFileError::new(&at, e))?;
            if let Some(id) = &r.role_id {
                role = role.with_role_id(id.clone());
            }
            for (j, json) in r.policies.iter().enumerate() {
                let policy = Policy::parse(json, PolicyKind::Identity, Some(&api))
                    .map_err(|e| ConfigFileError::new(format!("{at} policies[{j}]"), e))?
                    .with_name(format!("{} policy {j}", r.arn));
                role = role.with_policy(policy);
            }
            for (k, v) in &r.tags {
                role = role.with_tag(k.clone(), v.clone());
            }
            builder = builder.role(role);
        }
        builder.build().map_err(|e| ConfigFileError::new("", e))
    }
}

/// An upstream URL: `http://` or `https://host[:port][/base]`, with neither user information (a password
/// would reach logs and the `Host` header) nor a query. The message never repeats the URL's
/// user information.
fn check_upstream(upstream: &str) -> Result<(), ConfigFileError> {
    let refused = |why: &str| ConfigFileError::new("upstream", why.to_owned());
    // Before parsing: `http::Uri` takes `user:pw@host` as an authority, and its errors would
    // not be the place to mention it.
    let after_scheme = upstream
        .split_once("://")
        .map_or(upstream, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return Err(refused(
            "must not contain user information (user:password@); the upstream is reached without credentials",
        ));
    }
    let uri: http::Uri = upstream
        .parse()
        .map_err(|e| ConfigFileError::new("upstream", e))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
        return Err(ConfigFileError::new(
            "upstream",
            format!("\"{upstream}\" must be an http:// or https:// URL with a host"),
        ));
    }
    if uri.query().is_some() || upstream.contains('#') {
        return Err(ConfigFileError::new(
            "upstream",
            format!("\"{upstream}\" must not have a query or a fragment: requests bring their own"),
        ));
    }
    Ok(())
}
