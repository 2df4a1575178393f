//! Temporary credentials on the verifying side, and the authorization of AssumeRole.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

use super::error::StsError;
use super::token::{NewSession, SessionClaims};
use super::wire::{check_duration, same_tag_key, AssumeRoleParams, Tag};
use crate::clock::{offset_date_time, system_time};
use crate::iam::{evaluate_trust_with_session, Caller, Policy, PolicyKind, RequestContext};
use crate::principal::{Principal, PrincipalType, SessionInfo};
use crate::store::Role;

const ASSUME_ROLE: &str = "sts:AssumeRole";
const TAG_SESSION: &str = "sts:TagSession";
const SET_SOURCE_IDENTITY: &str = "sts:SetSourceIdentity";

/// The principal of the role session a token carries: it acts as
/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, with `aws:PrincipalArn` the role ARN, the
/// session's tags (the role's, overridden by session tags) and its session policy.
///
/// Claims opened by [`TokenKeyring::open`] always hold times within the years -9999 to 9999;
/// for claims built otherwise, a time outside that range reads as the Unix epoch (so such a
/// session counts as long expired), never a panic.
pub(crate) fn session_principal(claims: &SessionClaims) -> Principal {
    let at = |secs: i64| system_time(secs).unwrap_or(UNIX_EPOCH);
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

/// What the server knows of the connection an AssumeRole arrived on (for `aws:SourceIp`
/// and `aws:SecureTransport` in trust policies).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub(crate) struct AssumeRoleConnection {
    /// The caller's address.
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS.
    pub secure: bool,
}

impl AssumeRoleConnection {
    /// A connection from `source_ip`, over TLS or not.
    pub(crate) fn new(source_ip: Option<IpAddr>, secure: bool) -> Self {
        Self { source_ip, secure }
    }
}

/// Authorizes an AssumeRole request of `caller` as STS does and returns the session to mint
/// and its lifetime.
///
/// In order:
/// 1. `now` must lie within the years -9999 to 9999, and so must the issue time of a caller
///    that is itself a role session (else `InternalFailure`: the server's clock or key
///    provider is at fault, not the caller).
/// 2. Managed session policies (`PolicyArns`) are refused (this server cannot apply them).
/// 3. The role must exist and its trust policy must allow the caller for `sts:AssumeRole` —
///    with the caller's own identity policies too when the trust policy names only its
///    account or the caller is from another account — else the same `AccessDenied` for
///    every cause, so the role's existence is not disclosed.
/// 4. Passing `Tags` (or `TransitiveTagKeys`) needs `sts:TagSession`, and passing
///    `SourceIdentity` needs `sts:SetSourceIdentity`, each allowed exactly as
///    `sts:AssumeRole` is (trust policy, and identity policies where 3 needs them); a refusal
///    is `AccessDenied` naming that action, as AWS's is. These are judged only once
///    `sts:AssumeRole` is allowed, so they disclose nothing about the role to a caller that
///    may not assume it.
/// 5. The duration (range, the role's maximum, one hour for role chaining).
/// 6. The session policy must parse.
///
/// Every evaluation sees the whole request: `sts:RoleSessionName`, `sts:ExternalId`,
/// `sts:SourceIdentity`, `aws:RequestTag/<key>` and `aws:TagKeys` (the passed tags),
/// `aws:SourceIp`, `aws:SecureTransport`, `aws:CurrentTime`/`aws:EpochTime`, and for a
/// role-session caller `aws:TokenIssueTime`. So a trust policy can limit which tags are
/// passed (`"StringEquals": {"aws:RequestTag/team": "blue"}`,
/// `"ForAllValues:StringEquals": {"aws:TagKeys": [...]}`) or which source identity is set.
///
/// The session's tags are the role's, overridden by session tags with the same key ignoring
/// case — which can only happen once `sts:TagSession` is allowed. Transitive tag keys are
/// validated by the parser but not carried into the session (see
/// [`AssumeRoleParams::transitive_tag_keys`]).
#[cfg(test)]
pub(crate) fn authorize_assume_role_in(
    store: &crate::store::IdentityStore,
    caller: &Principal,
    params: &AssumeRoleParams,
    connection: AssumeRoleConnection,
    now: SystemTime,
) -> Result<(NewSession, Duration), StsError> {
    authorize_assume_role(
        store.role(&params.role_arn),
        store.identity_policies(caller.principal_arn()),
        caller,
        params,
        connection,
        now,
    )
}

/// See the steps above; `role` is the role named by `RoleArn` (if it exists) and
/// `caller_policies` the caller's identity policies.
pub(crate) fn authorize_assume_role(
    role: Option<&Role>,
    caller_policies: &[Policy],
    caller: &Principal,
    params: &AssumeRoleParams,
    connection: AssumeRoleConnection,
    now: SystemTime,
) -> Result<(NewSession, Duration), StsError> {
    let out_of_range = |what: &str| {
        tracing::error!(
            caller = caller.arn(),
            "sts:AssumeRole refused: {what} is outside the years -9999 to 9999"
        );
        StsError::internal_failure()
    };
    let now = offset_date_time(now).ok_or_else(|| out_of_range("the current time"))?;
    let caller_session = caller.session();
    let token_issue_time = match caller_session {
        Some(session) => Some(
            offset_date_time(session.issued_at)
                .ok_or_else(|| out_of_range("the caller's token issue time"))?,
        ),
        None => None,
    };
    if !params.policy_arns.is_empty() {
        return Err(StsError::validation_error(
            "PolicyArns are not supported by this server: managed session policies cannot be applied",
        ));
    }
    let denied = |action: &str| StsError::access_denied(caller.arn(), action, &params.role_arn);
    let role = role.ok_or_else(|| denied(ASSUME_ROLE))?;
    let engine_caller = Caller::try_from(caller).map_err(|_| denied(ASSUME_ROLE))?;
    // A chained caller's own session policy narrows its identity side.
    let caller_session_policy = match caller_session.and_then(|s| s.session_policy.as_deref()) {
        Some(json) => {
            Some(Policy::parse(json, PolicyKind::Identity, None).map_err(|_| denied(ASSUME_ROLE))?)
        }
        None => None,
    };
    let authorize = |action: &'static str| {
        let mut ctx = request_context(engine_caller.clone(), action, role.arn(), params, now)
            .with_secure_transport(connection.secure);
        if let Some(ip) = connection.source_ip {
            ctx = ctx.with_source_ip(ip);
        }
        if let Some(issued) = token_issue_time {
            ctx = ctx
                .with_token_issue_time(issued)
                .with_multi_factor_auth_present(false);
        }
        let decision = evaluate_trust_with_session(
            role.trust_policy(),
            caller_policies,
            caller_session_policy.as_ref(),
            role.account(),
            &ctx,
        );
        tracing::debug!(
            caller = caller.arn(),
            role = role.arn(),
            action,
            explain = %decision.explain(),
            "sts:AssumeRole decision"
        );
        if decision.is_allowed() {
            Ok(())
        } else {
            Err(denied(action))
        }
    };
    authorize(ASSUME_ROLE)?;
    if !params.tags.is_empty() || !params.transitive_tag_keys.is_empty() {
        authorize(TAG_SESSION)?;
    }
    if params.source_identity.is_some() {
        authorize(SET_SOURCE_IDENTITY)?;
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
    let mut tags: Vec<Tag> = role
        .tags()
        .iter()
        .filter(|(k, _)| !params.tags.iter().any(|t| same_tag_key(&t.key, k)))
        .map(|(k, v)| Tag::new(k.clone(), v.clone()))
        .collect();
    tags.extend(params.tags.iter().cloned());
    session.tags = tags;
    Ok((
        session,
        Duration::from_secs(u64::from(params.duration_seconds)),
    ))
}

/// The request's own context keys, the same for each action AssumeRole is judged on.
fn request_context(
    caller: Caller,
    action: &str,
    role_arn: &str,
    params: &AssumeRoleParams,
    now: OffsetDateTime,
) -> RequestContext {
    let mut ctx = RequestContext::new(caller, action, role_arn)
        .with_current_time(now)
        .with_key("sts:RoleSessionName", params.role_session_name.clone());
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
    ctx
}
