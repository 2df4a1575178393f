//! Verifier settings: plain data with documented defaults.
//!
//! ```
//! use std::time::Duration;
//! use tower_sigv4::{UnsignedPayload, VerifierConfig};
//!
//! let config = VerifierConfig::new("eu-west-1", "execute-api")
//!     .with_clock_skew(Duration::from_secs(60))
//!     .with_unsigned_payload(UnsignedPayload::Rejected);
//! assert_eq!(config.regions, vec!["eu-west-1".to_string()]);
//! assert_eq!(config.max_body_bytes, 10 * 1024 * 1024);
//! ```

use std::time::Duration;

use http::HeaderName;

use crate::sigv4::target::{EncodedSlash, TargetRules};

/// How the canonical URI encodes the request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PercentEncoding {
    /// Every byte of the wire path except unreserved characters and `/` is encoded again, so `%`
    /// becomes `%25`. What AWS SDKs do for every service but S3 (the default).
    #[default]
    Double,
    /// The wire path is used as it is (already encoded once). S3's rule.
    Single,
}

/// Whether dot segments and repeated slashes are removed from the path before signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PathNormalization {
    /// `/a/./b/../c//d` signs as `/a/c/d` (the default; every service but S3).
    #[default]
    Enabled,
    /// The path is signed as sent (S3).
    Disabled,
}

/// Whether a signed `x-amz-content-sha256: UNSIGNED-PAYLOAD` is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnsignedPayload {
    /// Accepted: the body is passed on without being hashed (the default).
    #[default]
    Allowed,
    /// Rejected with `InvalidSignatureException`.
    Rejected,
}

/// What the payload line of a presigned request's canonical request is, when the query has no
/// `X-Amz-Content-Sha256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PresignedPayload {
    /// The SHA-256 of the body, as botocore and aws4 sign presigned URLs for non-S3 services
    /// (the default).
    #[default]
    Hashed,
    /// `UNSIGNED-PAYLOAD`, S3's rule.
    Unsigned,
}

/// Whether a presigned URL must carry `X-Amz-Expires`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PresignedExpires {
    /// Optional (the default): without it, `X-Amz-Date` must lie within the clock-skew window,
    /// as for a signed header (the `aws4` npm signer behind Postman and Amplify's WebSocket
    /// signer leave it out for every service but S3).
    #[default]
    Optional,
    /// Required (S3): a presigned URL without it is missing a parameter.
    Required,
}

/// Forwarded headers that may replace the `Host` header when rebuilding the canonical request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHost {
    /// `X-Forwarded-Host` (its first value).
    XForwardedHost,
    /// The `host=` parameter of the first element of `Forwarded` (RFC 7239).
    Forwarded,
}

/// Whether a signature mismatch tells the caller what the server computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MismatchDetail {
    /// The standard message only (the default).
    #[default]
    Hidden,
    /// Append the canonical request and string to sign the server computed, as older API
    /// Gateway deployments did. Useful while debugging a client; it reveals no secret, but it
    /// does show every signed header value to whoever sent the request.
    CanonicalRequest,
}

/// Which service's rules and answers the verifier follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Profile {
    /// Amazon API Gateway's `AWS_IAM` authorization (execute-api): its checks, in its order,
    /// answered in its JSON dialect (the default).
    #[default]
    ApiGateway,
    /// Amazon S3's: single URI encoding without normalisation, `x-amz-content-sha256`
    /// required, every `x-amz-*` header signed, streaming (`aws-chunked`) uploads verified
    /// chunk by chunk, checksums verified, S3's error codes and XML answers. Selected by
    /// [`VerifierConfig::new`] for the service `s3`.
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    S3,
}

/// Whether the S3 profile verifies `Content-MD5` and `x-amz-checksum-*` itself.
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChecksumVerification {
    /// Every checksum present is verified before the body reports its end (the default).
    #[default]
    Verify,
    /// Left to the inner service — except the trailing checksum of
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, always verified, being that mode's only
    /// integrity check.
    Delegate,
}

/// Bounds of the S3 profile's `aws-chunked` decoding.
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamingLimits {
    /// Largest chunk (in signed modes a chunk is held until its signature is verified).
    /// Default: 16 MiB (botocore's chunks are 1 MiB at most).
    pub max_chunk_bytes: u64,
    /// Longest chunk-size line, extensions included. Default: 1 KiB.
    pub max_line_bytes: usize,
    /// Largest trailer part. Default: 8 KiB.
    pub max_trailer_bytes: usize,
}

#[cfg(feature = "s3")]
impl Default for StreamingLimits {
    fn default() -> Self {
        Self {
            max_chunk_bytes: 16 * 1024 * 1024,
            max_line_bytes: 1024,
            max_trailer_bytes: 8 * 1024,
        }
    }
}

/// Settings of a [`Verifier`](crate::Verifier).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifierConfig {
    /// Regions a credential scope may name. Default: `["us-east-1"]`.
    pub regions: Vec<String>,
    /// Services a credential scope may name; the first is the one error messages ask for.
    /// Default: `["execute-api"]`.
    pub services: Vec<String>,
    /// How far the request date may be from the server's clock, either way. Default: 5 minutes
    /// (API Gateway's window).
    pub clock_skew: Duration,
    /// Whether `UNSIGNED-PAYLOAD` is accepted. Default: [`UnsignedPayload::Allowed`].
    pub unsigned_payload: UnsignedPayload,
    /// Largest body; a larger one is answered with 413 (S3: 400 `EntityTooLarge`), as soon as
    /// its declared length or its bytes tell. Bodies the verifier must read whole before the
    /// signature can be checked never exceed it. Default: 10 MiB (API Gateway's limit); 5 GiB
    /// in the S3 profile (streamed).
    pub max_body_bytes: usize,
    /// Path encoding. Default: [`PercentEncoding::Double`].
    pub percent_encoding: PercentEncoding,
    /// Path normalisation. Default: [`PathNormalization::Enabled`].
    pub path_normalization: PathNormalization,
    /// Payload line of presigned requests. Default: [`PresignedPayload::Hashed`].
    pub presigned_payload: PresignedPayload,
    /// Headers trusted to carry the original host, in order of preference. Default: none —
    /// only set this behind a proxy that overwrites them.
    pub forwarded_host: Vec<ForwardedHost>,
    /// Headers that must be among the signed headers besides `host`. Default: none.
    pub required_signed_headers: Vec<HeaderName>,
    /// Whether a mismatch message carries the canonical request. Default: hidden.
    pub mismatch_detail: MismatchDetail,
    /// How many derived signing keys to keep. Default: 1024.
    pub signing_key_cache: usize,
    /// Which request targets are refused before authentication, and whether the path is
    /// normalised for the policy and the inner service. Default: [`TargetRules::Strict`].
    pub target_rules: TargetRules,
    /// How `%2F` in a path is read under [`TargetRules::Strict`]. Default:
    /// [`EncodedSlash::Separator`].
    pub encoded_slash: EncodedSlash,
    /// Whether presigned URLs must carry `X-Amz-Expires`. Default: [`PresignedExpires::Optional`].
    pub presigned_expires: PresignedExpires,
    /// Whose rules and answers. Default: [`Profile::ApiGateway`] (S3's for the service `s3`
    /// with [`VerifierConfig::new`]).
    pub profile: Profile,
    /// S3 profile: whether checksums are verified here. Default: [`ChecksumVerification::Verify`].
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub checksums: ChecksumVerification,
    /// S3 profile: bounds of streaming uploads. Default: [`StreamingLimits::default`].
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub streaming: StreamingLimits,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            regions: vec!["us-east-1".to_owned()],
            services: vec!["execute-api".to_owned()],
            clock_skew: Duration::from_secs(300),
            unsigned_payload: UnsignedPayload::Allowed,
            max_body_bytes: 10 * 1024 * 1024,
            percent_encoding: PercentEncoding::Double,
            path_normalization: PathNormalization::Enabled,
            presigned_payload: PresignedPayload::Hashed,
            forwarded_host: Vec::new(),
            required_signed_headers: Vec::new(),
            mismatch_detail: MismatchDetail::Hidden,
            signing_key_cache: 1024,
            target_rules: TargetRules::Strict,
            encoded_slash: EncodedSlash::Separator,
            presigned_expires: PresignedExpires::Optional,
            profile: Profile::ApiGateway,
            #[cfg(feature = "s3")]
            checksums: ChecksumVerification::Verify,
            #[cfg(feature = "s3")]
            streaming: StreamingLimits::default(),
        }
    }
}

impl VerifierConfig {
    /// Defaults, accepting one region and one service; for the service `s3` (with the `s3`
    /// feature), the S3 profile (`Profile::S3`).
    pub fn new(region: impl Into<String>, service: impl Into<String>) -> Self {
        let service = service.into();
        #[cfg(feature = "s3")]
        let profile = if service == "s3" {
            Profile::S3
        } else {
            Profile::ApiGateway
        };
        #[cfg(not(feature = "s3"))]
        let profile = Profile::ApiGateway;
        Self {
            regions: vec![region.into()],
            services: vec![service],
            ..Self::default()
        }
        .with_profile(profile)
    }

    /// Follows `profile`'s rules, with its defaults for the settings it decides.
    ///
    /// `Profile::S3`: single encoding, no path normalisation, object keys taken as sent
    /// ([`TargetRules::ObjectKeys`]), unsigned presigned payloads, `X-Amz-Expires` required,
    /// a 15-minute clock-skew window and a 5 GiB body limit (S3's single-`PUT` limit;
    /// streamed, never buffered). [`Profile::ApiGateway`] puts those settings back to their
    /// defaults.
    pub fn with_profile(mut self, profile: Profile) -> Self {
        let defaults = Self::default();
        self.profile = profile;
        self.percent_encoding = defaults.percent_encoding;
        self.path_normalization = defaults.path_normalization;
        self.presigned_payload = defaults.presigned_payload;
        self.presigned_expires = defaults.presigned_expires;
        self.target_rules = defaults.target_rules;
        self.clock_skew = defaults.clock_skew;
        self.max_body_bytes = defaults.max_body_bytes;
        #[cfg(feature = "s3")]
        if profile == Profile::S3 {
            self.percent_encoding = PercentEncoding::Single;
            self.path_normalization = PathNormalization::Disabled;
            self.presigned_payload = PresignedPayload::Unsigned;
            self.presigned_expires = PresignedExpires::Required;
            self.target_rules = TargetRules::ObjectKeys;
            self.clock_skew = Duration::from_secs(15 * 60);
            self.max_body_bytes = usize::try_from(5u64 << 30).unwrap_or(usize::MAX);
        }
        self
    }

    /// Sets whether the S3 profile verifies checksums itself.
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub fn with_checksums(mut self, checksums: ChecksumVerification) -> Self {
        self.checksums = checksums;
        self
    }

    /// Sets the bounds of streaming uploads.
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub fn with_streaming_limits(mut self, limits: StreamingLimits) -> Self {
        self.streaming = limits;
        self
    }

    /// Sets which request targets are refused and whether paths are normalised.
    pub fn with_target_rules(mut self, rules: TargetRules) -> Self {
        self.target_rules = rules;
        self
    }

    /// Sets how `%2F` in a path is read.
    pub fn with_encoded_slash(mut self, slash: EncodedSlash) -> Self {
        self.encoded_slash = slash;
        self
    }

    /// Sets whether presigned URLs must carry `X-Amz-Expires`.
    pub fn with_presigned_expires(mut self, expires: PresignedExpires) -> Self {
        self.presigned_expires = expires;
        self
    }

    /// Also accepts `region`.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.regions.push(region.into());
        self
    }

    /// Also accepts `service` (after the ones already set).
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.services.push(service.into());
        self
    }

    /// Sets the clock-skew window.
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Sets whether `UNSIGNED-PAYLOAD` is accepted.
    pub fn with_unsigned_payload(mut self, unsigned: UnsignedPayload) -> Self {
        self.unsigned_payload = unsigned;
        self
    }

    /// Sets the body limit.
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets the path encoding.
    pub fn with_percent_encoding(mut self, encoding: PercentEncoding) -> Self {
        self.percent_encoding = encoding;
        self
    }

    /// Sets path normalisation.
    pub fn with_path_normalization(mut self, normalization: PathNormalization) -> Self {
        self.path_normalization = normalization;
        self
    }

    /// Trusts a forwarded-host header (appended to the preference list).
    pub fn with_forwarded_host(mut self, header: ForwardedHost) -> Self {
        self.forwarded_host.push(header);
        self
    }

    /// Requires `header` to be signed.
    pub fn with_required_signed_header(mut self, header: HeaderName) -> Self {
        self.required_signed_headers.push(header);
        self
    }

    /// Sets what a signature mismatch reveals.
    pub fn with_mismatch_detail(mut self, detail: MismatchDetail) -> Self {
        self.mismatch_detail = detail;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), crate::ConfigError> {
        use crate::error::{ConfigError, ConfigErrorKind};
        if self.regions.is_empty() || self.regions.iter().any(String::is_empty) {
            return Err(ConfigError::new(
                ConfigErrorKind::Regions,
                "regions must be a non-empty list of non-empty names",
            ));
        }
        if self.services.is_empty() || self.services.iter().any(String::is_empty) {
            return Err(ConfigError::new(
                ConfigErrorKind::Services,
                "services must be a non-empty list of non-empty names",
            ));
        }
        if self.clock_skew > Duration::from_secs(7 * 24 * 3600) {
            return Err(ConfigError::new(
                ConfigErrorKind::ClockSkew,
                "clock_skew must be at most a week",
            ));
        }
        if self.signing_key_cache == 0 {
            return Err(ConfigError::new(
                ConfigErrorKind::SigningKeyCache,
                "signing_key_cache must hold at least one key",
            ));
        }
        Ok(())
    }
}
