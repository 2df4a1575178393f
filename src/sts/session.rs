//! Temporary credentials on the verifying side, and the authorization of AssumeRole.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

use super::error::StsError;
use super::token::{NewSession, SessionClaims, TokenError, TokenKeyring};
use super::wire::{check_duration, AssumeRoleParams};
use crate::credentials::{KeyError, KeyRequest, ResolvedKey};
use crate::iam::{evaluate_trust_with_session, Policy, PolicyKind, RequestContext};
use crate::principal::{Principal, PrincipalType, SessionInfo};
use crate::store::IdentityStore;

/// The principal of the role session a token carries: it acts as
/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, with `aws:PrincipalArn` the role ARN, the
/// session's tags (the role's, overridden by session tags) and its session policy.
pub fn session_principal(claims: &SessionClaims) -> Principal {
    let at = |secs: i64| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or_default())
    };
    let mut info = SessionInfo::new(
        claims.role_arn.clone(),
        claims.role_unique_id.clone(),
        claims.session_name.clone(),
        at(claims.issued_at),
        at(claims.expires_at),
    )
    .chained(claims.chained);
    if let Some(policy) = &claims.session_policy {
        info = info.with_session_policy(policy.clone());
    }
    claims
        .tags
        .iter()
        .fold(Principal::assumed_role(info), |p, t| {
            p.with_tag(t.key.clone(), t.value.clone())
        })
        .with_access_key_id(claims.access_key_id.clone())
}

/// Resolves temporary credentials: opens the request's session token with `keyring` and
/// returns the session's secret and principal. A missing, foreign or tampered token is
/// [`KeyError::invalid_token`], an expired one [`KeyError::expired_token`].
///
/// Any key provider can accept this crate's temporary credentials by calling it for keys it
/// does not know.
pub fn resolve_session_key(
    keyring: &TokenKeyring,
    request: &KeyRequest<'_>,
) -> Result<ResolvedKey, KeyError> {
    let token = request
        .session_token()
        .ok_or_else(KeyError::invalid_token)?;
    let now = OffsetDateTime::from(request.now());
    match keyring.open(token, request.access_key_id(), now) {
        Ok(claims) => Ok(ResolvedKey::new(
            claims.secret_access_key.expose_secret(),
            session_principal(&claims),
        )),
        Err(TokenError::Expired) => Err(KeyError::expired_token()),
        Err(_) => Err(KeyError::invalid_token()),
    }
}

/// What the server knows of the connection an AssumeRole arrived on (for `aws:SourceIp`
/// and `aws:SecureTransport` in trust policies).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct AssumeRoleConnection {
    /// The caller's address.
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS.
    pub secure: bool,
}

impl AssumeRoleConnection {
    /// A connection from `source_ip`, over TLS or not.
    pub fn new(source_ip: Option<IpAddr>, secure: bool) -> Self {
        Self { source_ip, secure }
    }
}

/// Authorizes an AssumeRole request of `caller` as STS does and returns the session to mint
/// and its lifetime.
///
/// In order: managed session policies (`PolicyArns`) are refused (this server cannot apply
/// them); the role must exist and its trust policy must allow the caller for
/// `sts:AssumeRole` — with the caller's own identity policies too when the trust policy
/// names only its account or the caller is from another account — else the same
/// `AccessDenied` for every cause, so the role's existence is not disclosed; then the
/// duration (range, the role's maximum, one hour for role chaining); then the session
/// policy must parse. The session's tags are the role's, overridden by session tags.
pub fn authorize_assume_role(
    store: &IdentityStore,
    caller: &Principal,
    params: &AssumeRoleParams,
    connection: AssumeRoleConnection,
    now: SystemTime,
) -> Result<(NewSession, Duration), StsError> {
    if !params.policy_arns.is_empty() {
        return Err(StsError::validation_error(
            "PolicyArns are not supported by this server: managed session policies cannot be applied",
        ));
    }
    let denied = || StsError::access_denied_assume_role(caller.arn(), &params.role_arn);
    let role = store.role(&params.role_arn).ok_or_else(denied)?;
    let engine_caller = crate::iam_policy::caller(caller).map_err(|_| denied())?;

    let mut ctx = RequestContext::new(engine_caller, "sts:AssumeRole", role.arn())
        .with_current_time(OffsetDateTime::from(now))
        .with_secure_transport(connection.secure)
        .with_key("sts:RoleSessionName", params.role_session_name.clone());
    if let Some(ip) = connection.source_ip {
        ctx = ctx.with_source_ip(ip);
    }
    if let Some(external_id) = &params.external_id {
        ctx = ctx.with_key("sts:ExternalId", external_id.clone());
    }
    if let Some(source_identity) = &params.source_identity {
        ctx = ctx.with_key("sts:SourceIdentity", source_identity.clone());
    }
    if !params.tags.is_empty() {
        for tag in &params.tags {
            ctx = ctx.with_key(&format!("aws:RequestTag/{}", tag.key), tag.value.clone());
        }
        ctx = ctx.with_values("aws:TagKeys", params.tags.iter().map(|t| t.key.clone()));
    }
    let caller_session = caller.session();
    if let Some(session) = caller_session {
        ctx = ctx
            .with_token_issue_time(OffsetDateTime::from(session.issued_at))
            .with_multi_factor_auth_present(false);
    }
    // A chained caller's own session policy narrows its identity side.
    let caller_session_policy = match caller_session.and_then(|s| s.session_policy.as_deref()) {
        Some(json) => Some(Policy::parse(json, PolicyKind::Identity, None).map_err(|_| denied())?),
        None => None,
    };
    let decision = evaluate_trust_with_session(
        role.trust_policy(),
        store.identity_policies(caller.principal_arn()),
        caller_session_policy.as_ref(),
        role.account(),
        &ctx,
    );
    tracing::debug!(
        caller = caller.arn(),
        role = role.arn(),
        explain = %decision.explain(),
        "sts:AssumeRole decision"
    );
    if !decision.is_allowed() {
        return Err(denied());
    }

    let chained = caller.principal_type() == PrincipalType::AssumedRole;
    let role_max = u32::try_from(role.max_session().as_secs()).unwrap_or(u32::MAX);
    check_duration(params.duration_seconds, role_max, chained)?;

    if let Some(json) = &params.policy {
        Policy::parse(json, PolicyKind::Identity, None)
            .map_err(|e| StsError::malformed_policy_document(e.to_string()))?;
    }

    let mut session = NewSession::new(
        role.account(),
        role.arn(),
        role.role_id(),
        params.role_session_name.clone(),
    );
    session.session_policy = params.policy.clone();
    session.source_identity = params.source_identity.clone();
    session.chained = chained;
    let mut tags: Vec<super::Tag> = role
        .tags()
        .iter()
        .filter(|(k, _)| {
            !params
                .tags
                .iter()
                .any(|t| t.key.eq_ignore_ascii_case(k.as_str()))
        })
        .map(|(k, v)| super::Tag::new(k.clone(), v.clone()))
        .collect();
    tags.extend(params.tags.iter().cloned());
    session.tags = tags;
    Ok((
        session,
        Duration::from_secs(u64::from(params.duration_seconds)),
    ))
}
