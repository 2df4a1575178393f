//! Policy evaluation: identity, session and resource policies for a request; trust policies for AssumeRole.

use super::context::RequestContext;
use super::decision::{DecidingStatement, Decision, DenyReason, Outcome, PolicySource};
use super::policy::{Applies, Effect, Policy};
use super::principal::PrincipalMatch;

/// Builds the resource ARN of an API Gateway request:
/// `arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH`.
///
/// METHOD is upper-cased; one leading `/` of `path` is dropped, so the root path gives a trailing slash
/// (`…/prod/GET/`). `path` must already be normalised (dot segments removed, repeated `/` collapsed,
/// percent-encoding normalised) — the same path that is forwarded upstream.
pub fn resource_arn(
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    let path = path.strip_prefix('/').unwrap_or(path);
    // One buffer of the right size (this runs for every request).
    let head = [region, ":", account, ":", api_id, "/", stage, "/"];
    let len = "arn:aws:execute-api:".len()
        + head.iter().map(|p| p.len()).sum::<usize>()
        + method.len()
        + 1
        + path.len();
    let mut arn = String::with_capacity(len);
    arn.push_str("arn:aws:execute-api:");
    head.into_iter().for_each(|p| arn.push_str(p));
    arn.extend(method.chars().map(|c| c.to_ascii_uppercase()));
    arn.push('/');
    arn.push_str(path);
    arn
}

/// The inputs of one evaluation. Build it with a struct literal or [`Evaluation::new`] and the setters.
///
/// Identity and session policies should be [`PolicyKind::Identity`](super::PolicyKind::Identity) and the
/// resource policy [`PolicyKind::Resource`](super::PolicyKind::Resource). In the resource slot a statement
/// without `Principal` can only deny, never allow.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'a> {
    /// The caller's identity policies (a user's policies, or the role's permission policies for a session).
    pub identity_policies: &'a [Policy],
    /// The session policy passed to AssumeRole, if any.
    pub session_policy: Option<&'a Policy>,
    /// The API's resource policy, if any.
    pub resource_policy: Option<&'a Policy>,
    /// The account that owns the API.
    pub resource_owner_account: &'a str,
    /// The request.
    pub context: &'a RequestContext,
}

impl<'a> Evaluation<'a> {
    /// An evaluation of `context` against no policies, for an API owned by `resource_owner_account`.
    pub fn new(context: &'a RequestContext, resource_owner_account: &'a str) -> Evaluation<'a> {
        Evaluation {
            identity_policies: &[],
            session_policy: None,
            resource_policy: None,
            resource_owner_account,
            context,
        }
    }

    /// Sets the identity policies.
    pub fn identity_policies(mut self, policies: &'a [Policy]) -> Evaluation<'a> {
        self.identity_policies = policies;
        self
    }

    /// Sets the session policy.
    pub fn session_policy(mut self, policy: Option<&'a Policy>) -> Evaluation<'a> {
        self.session_policy = policy;
        self
    }

    /// Sets the resource policy.
    pub fn resource_policy(mut self, policy: Option<&'a Policy>) -> Evaluation<'a> {
        self.resource_policy = policy;
        self
    }
}

/// Applicable statements collected in one pass over the policies.
#[derive(Default)]
struct Scan {
    denies: Vec<DecidingStatement>,
    identity: Vec<DecidingStatement>,
    session: Vec<DecidingStatement>,
    /// Allow statements of the resource or trust policy, with how their principal matched.
    other: Vec<(DecidingStatement, PrincipalMatch)>,
}

impl Scan {
    fn policy(
        &mut self,
        policy: &Policy,
        source: PolicySource,
        policy_index: usize,
        ctx: &RequestContext,
    ) {
        let principal_required = matches!(source, PolicySource::Resource | PolicySource::Trust);
        for (statement_index, st) in policy.statements().iter().enumerate() {
            let Applies::Yes(how) = st.applies(ctx, principal_required) else {
                continue;
            };
            let deciding = DecidingStatement {
                source,
                policy_index,
                policy_name: policy.shared_name().cloned(),
                statement_index,
                sid: st.sid.clone(),
                effect: st.effect,
            };
            match (st.effect, source) {
                (Effect::Deny, _) => self.denies.push(deciding),
                (Effect::Allow, PolicySource::Identity) => self.identity.push(deciding),
                (Effect::Allow, PolicySource::Session) => self.session.push(deciding),
                (Effect::Allow, PolicySource::Resource | PolicySource::Trust) => {
                    self.other.push((deciding, how))
                }
            }
        }
    }

    fn run(
        identity: &[Policy],
        session: Option<&Policy>,
        other: Option<(&Policy, PolicySource)>,
        ctx: &RequestContext,
    ) -> Scan {
        let mut scan = Scan::default();
        for (i, p) in identity.iter().enumerate() {
            scan.policy(p, PolicySource::Identity, i, ctx);
        }
        if let Some(p) = session {
            scan.policy(p, PolicySource::Session, 0, ctx);
        }
        if let Some((p, source)) = other {
            scan.policy(p, source, 0, ctx);
        }
        scan
    }

    fn best_other(&self) -> PrincipalMatch {
        self.other
            .iter()
            .map(|(_, m)| *m)
            .max()
            .unwrap_or(PrincipalMatch::None)
    }

    /// The Allow statements that granted: identity (and session) ones if `identity`, and the resource/trust
    /// ones whose principal match is accepted by `counts`.
    fn granted(
        self,
        identity: bool,
        counts: impl Fn(PrincipalMatch) -> bool,
    ) -> Vec<DecidingStatement> {
        let mut out = Vec::new();
        if identity {
            out.extend(self.identity);
            out.extend(self.session);
        }
        out.extend(
            self.other
                .into_iter()
                .filter(|(_, m)| counts(*m))
                .map(|(d, _)| d),
        );
        out
    }
}

/// The rules of iam.md "Evaluation" once no Deny applies. `session_ok`: no session policy, or it allows.
fn combine(
    same_account: bool,
    identity: bool,
    session_ok: bool,
    resource: PrincipalMatch,
) -> Result<(bool, bool), DenyReason> {
    let identity_side = identity && session_ok;
    let direct =
        resource == PrincipalMatch::Direct || (resource == PrincipalMatch::Role && session_ok);
    if same_account {
        if identity_side || direct {
            Ok((identity_side, direct))
        } else {
            Err(DenyReason::NoAllow)
        }
    } else if resource == PrincipalMatch::None {
        Err(DenyReason::CrossAccountResourcePolicy)
    } else if !identity_side {
        Err(DenyReason::CrossAccountIdentityPolicy)
    } else {
        Ok((true, true))
    }
}

/// Evaluates a request against the caller's identity policies, the session policy and the resource policy.
///
/// 1. Any applicable Deny → [`Outcome::ExplicitDeny`].
/// 2. Caller in the owner's account: allowed if its identity policies allow (and the session policy, if any),
///    or if the resource policy allows the caller directly (its user or session ARN, or `*`; its role ARN too,
///    but then limited by the session policy). A resource-policy Allow naming only the account delegates to
///    the account's identity policies.
/// 3. Caller from another account: allowed only if both its identity policies and the resource policy allow.
pub fn evaluate(e: &Evaluation<'_>) -> Decision {
    let ctx = e.context;
    let scan = Scan::run(
        e.identity_policies,
        e.session_policy,
        e.resource_policy.map(|p| (p, PolicySource::Resource)),
        ctx,
    );
    let action = ctx.action_shared().clone();
    if !scan.denies.is_empty() {
        return Decision::new(Outcome::ExplicitDeny, action, scan.denies);
    }
    let same_account = ctx.caller().account() == e.resource_owner_account;
    let identity = !scan.identity.is_empty();
    let session_ok = e.session_policy.is_none() || !scan.session.is_empty();
    let resource = scan.best_other();
    match combine(same_account, identity, session_ok, resource) {
        Ok((identity_used, resource_used)) => {
            let counts = |m: PrincipalMatch| {
                resource_used
                    && if same_account {
                        m == PrincipalMatch::Direct || (m == PrincipalMatch::Role && session_ok)
                    } else {
                        m != PrincipalMatch::None
                    }
            };
            Decision::new(Outcome::Allow, action, scan.granted(identity_used, counts))
        }
        Err(reason) => {
            let but_for_session =
                !session_ok && combine(same_account, identity, true, resource).is_ok();
            let reason = if but_for_session {
                DenyReason::SessionPolicy
            } else {
                reason
            };
            Decision::new(Outcome::ImplicitDeny(reason), action, Vec::new())
        }
    }
}

/// Evaluates an AssumeRole request against the role's trust policy and the caller's identity policies.
///
/// The context's action is normally `sts:AssumeRole` and its resource the role ARN; `sts:ExternalId` and
/// `sts:RoleSessionName` are set as context keys. Any applicable Deny → explicit deny. The trust policy must
/// allow the caller. In the role's account, a trust policy naming the caller (its ARN, its role for a session,
/// or `*`) suffices; one naming only the account also needs an identity Allow. From another account both must
/// allow.
pub fn evaluate_trust(
    trust: &Policy,
    identity_policies: &[Policy],
    role_account: &str,
    context: &RequestContext,
) -> Decision {
    evaluate_trust_with_session(trust, identity_policies, None, role_account, context)
}

/// [`evaluate_trust`] for a caller that is itself a role session with a session policy (role chaining): the
/// identity side allows only if both the role's policies and the session policy allow.
pub fn evaluate_trust_with_session(
    trust: &Policy,
    identity_policies: &[Policy],
    session_policy: Option<&Policy>,
    role_account: &str,
    context: &RequestContext,
) -> Decision {
    let ctx = context;
    let scan = Scan::run(
        identity_policies,
        session_policy,
        Some((trust, PolicySource::Trust)),
        ctx,
    );
    let action = ctx.action_shared().clone();
    if !scan.denies.is_empty() {
        return Decision::new(Outcome::ExplicitDeny, action, scan.denies);
    }
    let same_account = ctx.caller().account() == role_account;
    let identity = !scan.identity.is_empty();
    let session_ok = session_policy.is_none() || !scan.session.is_empty();
    let trusted = scan.best_other();
    let decide = |session_ok: bool| {
        let direct =
            trusted == PrincipalMatch::Direct || (trusted == PrincipalMatch::Role && session_ok);
        if trusted == PrincipalMatch::None {
            Err(DenyReason::TrustPolicy)
        } else if same_account && direct {
            Ok(false)
        } else if identity && session_ok {
            Ok(true)
        } else {
            Err(DenyReason::IdentityPolicy)
        }
    };
    match decide(session_ok) {
        Ok(identity_used) => Decision::new(
            Outcome::Allow,
            action,
            scan.granted(identity_used, |m| m != PrincipalMatch::None),
        ),
        Err(reason) => {
            let reason = if !session_ok && decide(true).is_ok() {
                DenyReason::SessionPolicy
            } else {
                reason
            };
            Decision::new(Outcome::ImplicitDeny(reason), action, Vec::new())
        }
    }
}
