//! The IAM policy engine as a [`CheckPolicy`] hook: API Gateway's `AWS_IAM` authorization.
//!
//! ```
//! use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
//! use tower_sigv4::IamAuthorizer;
//!
//! let api = ApiContext::new("us-east-1", "123456789012", "apiid");
//! let allow_get = Policy::parse(
//!     r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/*"}]}"#,
//!     PolicyKind::Identity,
//!     Some(&api),
//! ).unwrap();
//! let hook = IamAuthorizer::new(api, "prod")
//!     .with_identity_policies("arn:aws:iam::123456789012:user/alice", vec![allow_get]);
//! # let _ = hook;
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use std::net::IpAddr;

use http::request::Parts;
use ipnet::IpNet;

use crate::iam::{
    evaluate, resource_arn, AccountMasking, ApiContext, Caller, Evaluation, MessageStyle, Policy,
    PolicyKind, RequestContext,
};
use crate::policy::{connection_of, CheckPolicy, CheckPolicyFuture, PolicyDecision, PolicyRequest};
use crate::sigv4::canonical::normalize_resource_path;
use crate::store::ProvideIdentityPolicies;

/// Where [`IamAuthorizer`] finds the identity policies of a caller, looked up by its
/// `aws:PrincipalArn` (the user ARN, or the role ARN for a role session).
///
/// [`SharedStore`](crate::store::SharedStore) is one (its policies follow reloads); closures
/// `Fn(&str) -> Option<Arc<[Policy]>>` are others.
pub trait IdentityPolicies: Send + Sync + 'static {
    /// The identity policies of `principal_arn`, or `None` if it has none.
    fn identity_policies(&self, principal_arn: &str) -> Option<Arc<[Policy]>>;
}

impl<F> IdentityPolicies for F
where
    F: Fn(&str) -> Option<Arc<[Policy]>> + Send + Sync + 'static,
{
    fn identity_policies(&self, principal_arn: &str) -> Option<Arc<[Policy]>> {
        self(principal_arn)
    }
}

/// Session policies parsed once per distinct text, not once per request (bounded).
#[derive(Default)]
struct SessionPolicyCache {
    parsed: std::sync::Mutex<HashMap<Arc<str>, Arc<Policy>>>,
}

impl SessionPolicyCache {
    const CAPACITY: usize = 1024;

    fn get_or_parse(
        &self,
        json: &str,
        api: &ApiContext,
    ) -> Result<Arc<Policy>, crate::iam::PolicyError> {
        if let Some(p) = self.lock().get(json) {
            return Ok(p.clone());
        }
        let policy = Arc::new(Policy::parse(json, PolicyKind::Identity, Some(api))?);
        let mut parsed = self.lock();
        if parsed.len() >= Self::CAPACITY {
            parsed.clear();
        }
        parsed.insert(json.into(), policy.clone());
        Ok(policy)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Arc<Policy>>> {
        self.parsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Extra condition keys an application adds per request.
type ContextFn = dyn Fn(&PolicyRequest<'_>) -> Vec<(String, String)> + Send + Sync;

/// API Gateway's `AWS_IAM` authorization over `execute-api:Invoke` on
/// `arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH`.
///
/// `aws:SourceIp` and `aws:SecureTransport` come from the [`ConnectionInfo`](crate::ConnectionInfo)
/// request extension, which the server inserts (the gateway does; with axum, a small
/// `map_request` middleware over `ConnectInfo` does it). Without it, `aws:SourceIp` is absent.
///
/// Identity policies are looked up by the caller's `aws:PrincipalArn` (the user ARN, or the
/// role ARN for a role session); a session's own session policy (from AssumeRole) narrows them.
#[derive(Clone)]
pub struct IamAuthorizer {
    api: ApiContext,
    stage: String,
    resource_policy: Option<Arc<Policy>>,
    identity: HashMap<String, Arc<[Policy]>>,
    source: Option<Arc<dyn ProvideIdentityPolicies>>,
    session_policies: Arc<SessionPolicyCache>,
    masking: AccountMasking,
    style: MessageStyle,
    trusted_proxies: Vec<IpNet>,
    extra: Option<Arc<ContextFn>>,
}

impl fmt::Debug for IamAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamAuthorizer")
            .field("api", &self.api)
            .field("stage", &self.stage)
            .field("principals", &self.identity.len())
            .finish_non_exhaustive()
    }
}

impl IamAuthorizer {
    /// A hook for the API `api` at `stage`, with no policies yet (everything is denied).
    pub fn new(api: ApiContext, stage: impl Into<String>) -> Self {
        Self {
            api,
            stage: stage.into(),
            resource_policy: None,
            identity: HashMap::new(),
            source: None,
            session_policies: Arc::default(),
            masking: AccountMasking::Masked,
            style: MessageStyle::Classic,
            trusted_proxies: Vec::new(),
            extra: None,
        }
    }

    /// Sets the API's resource policy (parse it as [`PolicyKind::Resource`]).
    pub fn with_resource_policy(mut self, policy: Policy) -> Self {
        self.resource_policy = Some(Arc::new(policy));
        self
    }

    /// Sets the identity policies of a user ARN or role ARN.
    pub fn with_identity_policies(
        mut self,
        principal_arn: impl Into<String>,
        policies: Vec<Policy>,
    ) -> Self {
        self.identity.insert(principal_arn.into(), policies.into());
        self
    }

    /// Looks identity policies up in `source` (e.g. a [`SharedStore`](crate::store::SharedStore),
    /// or a database store, whose look-ups may be asynchronous), after the ones given with
    /// [`IamAuthorizer::with_identity_policies`]. A source that fails makes the request a 500.
    pub fn with_identity_source(mut self, source: impl ProvideIdentityPolicies) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Shows the API owner's account in full in denial messages (default: masked like API
    /// Gateway, `********9012`).
    pub fn with_account_masking(mut self, masking: AccountMasking) -> Self {
        self.masking = masking;
        self
    }

    /// Sets the denial message style (default: the classic 2021 texts).
    pub fn with_message_style(mut self, style: MessageStyle) -> Self {
        self.style = style;
        self
    }

    /// Trusts `X-Forwarded-For` from these proxies for `aws:SourceIp` (default: none; the
    /// peer address is used).
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Adds condition keys per request (e.g. from the application's own headers).
    pub fn with_context(
        mut self,
        f: impl Fn(&PolicyRequest<'_>) -> Vec<(String, String)> + Send + Sync + 'static,
    ) -> Self {
        self.extra = Some(Arc::new(f));
        self
    }

    /// The resource ARN of a request's method and (wire) path.
    pub fn resource_arn(&self, method: &http::Method, path: &str) -> String {
        resource_arn(
            &self.api.region,
            &self.api.account,
            &self.api.api_id,
            &self.stage,
            method.as_str(),
            &normalize_resource_path(path),
        )
    }

    /// Finds the caller's identity policies (at once, or from an asynchronous source), then
    /// decides.
    fn check<'a>(&'a self, request: &'a PolicyRequest<'a>) -> CheckPolicyFuture<'a> {
        let arn = request.principal().principal_arn();
        if let Some(policies) = self.identity.get(arn) {
            return CheckPolicyFuture::ready(self.decide(request, policies));
        }
        let Some(source) = &self.source else {
            return CheckPolicyFuture::ready(self.decide(request, &[]));
        };
        match source.provide_identity_policies(arn).now_or_later() {
            Ok(found) => CheckPolicyFuture::ready(self.decide_with(request, found)),
            Err(later) => {
                CheckPolicyFuture::new(async move { self.decide_with(request, later.await) })
            }
        }
    }

    fn decide_with(
        &self,
        request: &PolicyRequest<'_>,
        found: Result<Option<Arc<[Policy]>>, crate::store::BackendError>,
    ) -> PolicyDecision {
        match found {
            Ok(policies) => self.decide(request, policies.as_deref().unwrap_or(&[])),
            Err(e) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "identity policies unavailable");
                PolicyDecision::fail(e)
            }
        }
    }

    fn decide(&self, request: &PolicyRequest<'_>, identity: &[Policy]) -> PolicyDecision {
        let principal = request.principal();
        let resource = self.resource_arn(&request.parts().method, request.parts().uri.path());
        let caller = match Caller::try_from(principal) {
            Ok(c) => c,
            Err(e) => return PolicyDecision::fail(e.to_string()),
        };
        let Some(now) = crate::clock::offset_date_time(request.now()) else {
            return PolicyDecision::fail("the clock is outside the years 0000 to 9999");
        };
        let (action, action_lower) = invoke_action();
        let mut ctx = RequestContext::with_action(caller, action, action_lower, resource)
            .with_current_time(now)
            .with_secure_transport(request.connection().is_some_and(|c| c.secure));
        if let Some(ip) = source_ip(request.parts(), &self.trusted_proxies) {
            ctx = ctx.with_source_ip(ip);
        }
        if let Some(session) = principal.session() {
            if let Some(issued) = crate::clock::offset_date_time(session.issued_at) {
                ctx = ctx.with_token_issue_time(issued);
            }
            ctx = ctx.with_multi_factor_auth_present(false);
        }
        // Header names as constants: a name given as text is parsed at every look-up.
        for (key, header) in [
            ("aws:referer", http::header::REFERER),
            ("aws:useragent", http::header::USER_AGENT),
        ] {
            if let Some(v) = request
                .parts()
                .headers
                .get(header)
                .and_then(|v| v.to_str().ok())
            {
                ctx = ctx.with_lower_key(key, v);
            }
        }
        if let Some(extra) = &self.extra {
            for (k, v) in extra(request) {
                ctx = ctx.with_key(&k, v);
            }
        }
        let session_policy = match principal
            .session()
            .and_then(|s| s.session_policy.as_deref())
        {
            Some(json) => match self.session_policies.get_or_parse(json, &self.api) {
                Ok(p) => Some(p),
                Err(e) => return PolicyDecision::fail(format!("session policy: {e}")),
            },
            None => None,
        };
        let decision = evaluate(
            &Evaluation::new(&ctx, &self.api.account)
                .identity_policies(identity)
                .session_policy(session_policy.as_deref())
                .resource_policy(self.resource_policy.as_deref()),
        );
        let resource = ctx.resource();
        tracing::debug!(
            principal = principal.arn(),
            resource = %resource,
            explain = %decision.explain(),
            "iam decision"
        );
        if decision.is_allowed() {
            // No message is written for an allowed request.
            return PolicyDecision::Allow;
        }
        match decision.denial_message(principal.arn(), resource, self.masking, self.style) {
            Some(message) => PolicyDecision::deny(message),
            None => PolicyDecision::deny(format!(
                "User: {} is not authorized to perform: execute-api:Invoke on resource: {resource}",
                principal.arn()
            )),
        }
    }
}

impl CheckPolicy for IamAuthorizer {
    fn check_policy<'a>(&'a self, request: &'a PolicyRequest<'a>) -> CheckPolicyFuture<'a> {
        self.check(request)
    }

    fn answers_at_once(&self) -> bool {
        self.source.as_ref().is_none_or(|s| s.answers_at_once())
    }
}

/// The caller's address for `aws:SourceIp`: the peer's (from [`ConnectionInfo`]), or — when
/// the peer is one of the `trusted` proxies — the right-most address of `X-Forwarded-For` that
/// is not a trusted proxy. An entry that is not an address ends the walk (what lies left of it
/// came from whoever sent the garbage) and the last trusted hop reached is the answer.
pub(crate) fn source_ip(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`: compare canonical forms.
    let peer = connection_of(parts)?.peer.ip().to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut hop = peer;
    let entries = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|v| v.as_bytes().rsplit(|&b| b == b','));
    for entry in entries {
        let Some(ip) = std::str::from_utf8(entry)
            .ok()
            .and_then(|e| e.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
        else {
            break;
        };
        hop = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(hop)
}

/// `execute-api:Invoke` as given and lower-cased, shared by every request's context.
fn invoke_action() -> (Arc<str>, Arc<str>) {
    static ACTION: std::sync::OnceLock<(Arc<str>, Arc<str>)> = std::sync::OnceLock::new();
    ACTION
        .get_or_init(|| ("execute-api:Invoke".into(), "execute-api:invoke".into()))
        .clone()
}
