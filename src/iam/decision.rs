//! The outcome of an evaluation, its explanation and API Gateway's denial messages.

use std::fmt;
use std::sync::Arc;

use super::context::split_arn;
use super::policy::Effect;

/// Why a request was implicitly denied (no applicable Deny, but not enough Allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenyReason {
    /// Caller in the resource owner's account: neither an identity policy nor the resource policy (naming the
    /// caller directly) allows.
    NoAllow,
    /// The request would be allowed but for the session policy passed to AssumeRole.
    SessionPolicy,
    /// Caller from another account: the resource policy does not allow it.
    CrossAccountResourcePolicy,
    /// Caller from another account: the resource policy allows it, but its identity policies do not.
    CrossAccountIdentityPolicy,
    /// AssumeRole: the role's trust policy does not allow the caller.
    TrustPolicy,
    /// AssumeRole: the trust policy allows the caller's account (or the caller is in another account), but the
    /// caller's identity policies do not allow the action on the role.
    IdentityPolicy,
}

impl DenyReason {
    /// A short lower-case description, for logs.
    pub fn description(self) -> &'static str {
        match self {
            DenyReason::NoAllow => "no identity-based or resource-based policy allows the request",
            DenyReason::SessionPolicy => "the session policy does not allow the request",
            DenyReason::CrossAccountResourcePolicy => {
                "the caller is in another account and the resource policy does not allow it"
            }
            DenyReason::CrossAccountIdentityPolicy => {
                "the caller is in another account and no identity-based policy allows the request"
            }
            DenyReason::TrustPolicy => "the role's trust policy does not allow the caller",
            DenyReason::IdentityPolicy => {
                "no identity-based policy allows the caller to assume the role"
            }
        }
    }

    fn suffix_policy(self) -> &'static str {
        match self {
            DenyReason::CrossAccountResourcePolicy | DenyReason::TrustPolicy => {
                "resource-based policy"
            }
            DenyReason::SessionPolicy => "session policy",
            DenyReason::NoAllow
            | DenyReason::CrossAccountIdentityPolicy
            | DenyReason::IdentityPolicy => "identity-based policy",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The request is allowed.
    Allow,
    /// An applicable Deny statement denies the request.
    ExplicitDeny,
    /// No Deny applies, but the Allows needed are missing.
    ImplicitDeny(DenyReason),
}

/// Where a deciding statement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// One of the caller's identity policies.
    Identity,
    /// The session policy passed to AssumeRole.
    Session,
    /// The API's resource policy.
    Resource,
    /// A role's trust policy.
    Trust,
}

impl PolicySource {
    fn label(self) -> &'static str {
        match self {
            PolicySource::Identity => "identity policy",
            PolicySource::Session => "session policy",
            PolicySource::Resource => "resource policy",
            PolicySource::Trust => "trust policy",
        }
    }
}

/// A statement that decided an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidingStatement {
    pub(crate) source: PolicySource,
    pub(crate) policy_index: usize,
    pub(crate) policy_name: Option<Arc<str>>,
    pub(crate) statement_index: usize,
    pub(crate) sid: Option<Arc<str>>,
    pub(crate) effect: Effect,
}

impl DecidingStatement {
    /// Which policy slot the statement comes from.
    pub fn source(&self) -> PolicySource {
        self.source
    }

    /// The position of the policy in the identity policy list (0 for the session, resource or trust policy).
    pub fn policy_index(&self) -> usize {
        self.policy_index
    }

    /// The policy's name, if it was given one with `Policy::with_name`.
    pub fn policy_name(&self) -> Option<&str> {
        self.policy_name.as_deref()
    }

    /// The statement's 0-based position in the policy's `Statement` list.
    pub fn statement_index(&self) -> usize {
        self.statement_index
    }

    /// The statement's `Sid`.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The statement's effect.
    pub fn effect(&self) -> Effect {
        self.effect
    }
}

impl fmt::Display for DecidingStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.source.label())?;
        match (&self.policy_name, self.source) {
            (Some(name), _) => write!(f, " \"{name}\"")?,
            (None, PolicySource::Identity) => write!(f, " #{}", self.policy_index)?,
            (None, _) => {}
        }
        write!(f, " Statement[{}]", self.statement_index)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid \"{sid}\")")?;
        }
        Ok(())
    }
}

/// Whether denial messages show the resource owner's account in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AccountMasking {
    /// `********` and the last four digits, as API Gateway does (the default).
    #[default]
    Masked,
    /// The account in full.
    Full,
}

/// The wording of denial messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageStyle {
    /// API Gateway's 2021 wording (the default).
    #[default]
    Classic,
    /// The current wording: always `… is not authorized to perform: ACTION on resource: ARN`, followed by
    /// ` because no identity-based policy allows the ACTION action` (or `resource-based`, `session`), or for an
    /// explicit deny ` with an explicit deny in an identity-based policy` (or `a resource-based`, `a session`).
    WithReason,
}

/// The result of [`evaluate`](super::evaluate) or [`evaluate_trust`](super::evaluate_trust).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    outcome: Outcome,
    action: Arc<str>,
    statements: Vec<DecidingStatement>,
}

impl Decision {
    pub(crate) fn new(
        outcome: Outcome,
        action: Arc<str>,
        statements: Vec<DecidingStatement>,
    ) -> Decision {
        Decision {
            outcome,
            action,
            statements,
        }
    }

    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The outcome.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The action that was evaluated.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The deciding statements: the applicable Deny statements for an explicit deny, the Allow statements that
    /// granted access for an allow, none for an implicit deny.
    pub fn statements(&self) -> &[DecidingStatement] {
        &self.statements
    }

    /// A one-line explanation for logs, e.g.
    /// `explicit deny by resource policy Statement[1] (Sid "DenyOthers")`.
    pub fn explain(&self) -> Explanation<'_> {
        Explanation { decision: self }
    }

    /// API Gateway's denial message, or `None` for an allowed request.
    ///
    /// `caller_arn` is the user or session ARN; `resource_arn` the request's resource ARN (its account is masked
    /// unless `masking` is [`AccountMasking::Full`]). The action is the evaluated action.
    pub fn denial_message(
        &self,
        caller_arn: &str,
        resource_arn: &str,
        masking: AccountMasking,
        style: MessageStyle,
    ) -> Option<String> {
        let resource = match masking {
            AccountMasking::Masked => mask_account(resource_arn),
            AccountMasking::Full => resource_arn.to_owned(),
        };
        let action = &*self.action;
        let perform = format!(
            "User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
        );
        match (self.outcome, style) {
            (Outcome::Allow, _) => None,
            (Outcome::ExplicitDeny, MessageStyle::Classic) => {
                Some(format!("{perform} with an explicit deny"))
            }
            (Outcome::ExplicitDeny, MessageStyle::WithReason) => {
                let place = match self.statements.first().map(|s| s.source) {
                    Some(PolicySource::Session) => "a session policy",
                    Some(PolicySource::Resource | PolicySource::Trust) => "a resource-based policy",
                    Some(PolicySource::Identity) | None => "an identity-based policy",
                };
                Some(format!("{perform} with an explicit deny in {place}"))
            }
            (
                Outcome::ImplicitDeny(DenyReason::CrossAccountResourcePolicy),
                MessageStyle::Classic,
            ) => Some(format!(
                "User: {caller_arn} is not authorized to access this resource"
            )),
            (Outcome::ImplicitDeny(_), MessageStyle::Classic) => Some(perform),
            (Outcome::ImplicitDeny(reason), MessageStyle::WithReason) => Some(format!(
                "{perform} because no {} allows the {action} action",
                reason.suffix_policy()
            )),
        }
    }
}

/// Replaces the account of an ARN by `********` and its last four characters.
fn mask_account(arn: &str) -> String {
    match split_arn(arn) {
        Some([p0, p1, p2, p3, account, rest]) if !account.is_empty() => {
            let skip = account.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
            let last4 = account.get(skip..).unwrap_or("");
            format!("{p0}:{p1}:{p2}:{p3}:********{last4}:{rest}")
        }
        _ => arn.to_owned(),
    }
}

/// The explanation of a [`Decision`], for log lines (see [`Decision::explain`]).
#[derive(Debug, Clone, Copy)]
pub struct Explanation<'a> {
    decision: &'a Decision,
}

impl Explanation<'_> {
    /// The deciding statements.
    pub fn statements(&self) -> &[DecidingStatement] {
        &self.decision.statements
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.decision;
        let list = |f: &mut fmt::Formatter<'_>, head: &str| -> fmt::Result {
            f.write_str(head)?;
            for (i, s) in d.statements.iter().enumerate() {
                f.write_str(if i == 0 { " " } else { ", " })?;
                fmt::Display::fmt(s, f)?;
            }
            Ok(())
        };
        match d.outcome {
            Outcome::Allow => list(f, "allow by"),
            Outcome::ExplicitDeny => list(f, "explicit deny by"),
            Outcome::ImplicitDeny(reason) => write!(f, "implicit deny: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        assert_eq!(
            mask_account("arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"),
            "arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/"
        );
        assert_eq!(
            mask_account("arn:aws:iam::12:role/x"),
            "arn:aws:iam::********12:role/x"
        );
        assert_eq!(mask_account("not-an-arn"), "not-an-arn");
    }
}
