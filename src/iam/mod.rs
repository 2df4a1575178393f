//! IAM policy engine: API Gateway's `AWS_IAM` authorization without AWS.
//!
//! Policies are parsed and validated once ([`Policy::parse`]) and compiled for fast evaluation. A request is
//! described by a [`RequestContext`] (the [`Caller`], the action, the resource ARN built with [`resource_arn`],
//! and condition keys); [`evaluate`] returns a [`Decision`] that can explain itself and produce API Gateway's
//! exact denial messages. [`evaluate_trust`] authorizes `sts:AssumeRole` against a role's trust policy. The
//! engine knows nothing of HTTP.
//!
//! # Rules
//!
//! - Any applicable Deny wins ([`Outcome::ExplicitDeny`]); statement order never matters.
//! - Caller in the API owner's account: an identity Allow suffices, or a resource-policy Allow naming the caller
//!   (user, role or session ARN, or `"*"`). A resource-policy Allow naming only the account delegates to the
//!   account: the caller still needs an identity Allow.
//! - Caller from another account: both its identity policies and the resource policy must allow.
//! - With a session policy, the identity side allows only if the session policy allows too; so does a
//!   resource-policy Allow naming the session's role ARN (one naming the session ARN or `"*"` does not).
//! - `NotPrincipal` (Deny only) applies when no listed principal matches the caller by exact ARN, by its role
//!   (for a session) or by its account.
//! - A policy variable without a value (and without a default) never widens a grant: a `Resource` entry
//!   carrying one matches nothing (the other entries are judged normally); an Allow whose `NotResource` has such
//!   an entry does not apply at all, while in a Deny's `NotResource` the entry excludes nothing, so the Deny
//!   applies. In conditions, positive string and ARN operators do not match it, negated ones do.
//! - A present condition value the operator cannot read (not a number for `Numeric*`, not a date for `Date*`,
//!   not an IP address for `IpAddress`/`NotIpAddress`, not an ARN for `Arn*`, not `true`/`false` for `Bool`)
//!   matches neither the operator nor its negation, with `…IfExists` too; in `ForAllValues:`/`ForAnyValue:`
//!   such a member matches neither way.
//! - ARN patterns (Resource, NotResource, `Arn*` condition values) have six parts matched separately, the
//!   sixth being the remainder; a pattern of fewer parts is valid only if its last part ends in `*`
//!   (`arn:aws:execute-api:us-east-1:*`), and that `*` matches the rest of the ARN, colons included.
//!
//! # Validation
//!
//! Loading is strict: unknown elements, wrong JSON types, duplicate keys, missing or misplaced elements,
//! unknown versions and operators, bad ARNs, actions and principals are errors naming the place, e.g.
//! `Statement[1].Condition: unknown operator "StringEqualz"`. Statement indexes are 0-based; a `Statement`
//! given as a single object is `Statement[0]`. Element and operator names are case-sensitive; condition key
//! names are not.
//!
//! # Example
//!
//! ```
//! use tower_sigv4::iam::{
//!     evaluate, resource_arn, AccountMasking, ApiContext, Caller, Evaluation, MessageStyle, Policy, PolicyKind,
//!     RequestContext,
//! };
//!
//! let api = ApiContext::new("us-east-1", "123456789012", "apiid");
//! let identity = Policy::parse(
//!     r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
//!         "Resource": "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/${aws:username}/*"}]}"#,
//!     PolicyKind::Identity,
//!     None,
//! )?
//! .with_name("user alice policy 0");
//! let resource_policy = Policy::parse(
//!     r#"{"Version": "2012-10-17", "Statement": [{"Sid": "NoHttp", "Effect": "Deny", "Principal": "*",
//!         "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
//!         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"#,
//!     PolicyKind::Resource,
//!     Some(&api),
//! )?;
//!
//! let alice = Caller::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE")?;
//! let arn = resource_arn("us-east-1", "123456789012", "apiid", "prod", "get", "/alice/notes");
//! let ctx = RequestContext::new(alice, "execute-api:Invoke", arn.as_str()).with_secure_transport(true);
//! let identity = [identity];
//! let eval = Evaluation::new(&ctx, "123456789012")
//!     .identity_policies(&identity)
//!     .resource_policy(Some(&resource_policy));
//!
//! let decision = evaluate(&eval);
//! assert!(decision.is_allowed());
//! assert_eq!(decision.explain().to_string(), r#"allow by identity policy "user alice policy 0" Statement[0]"#);
//!
//! let insecure = ctx.clone().with_secure_transport(false);
//! let decision = evaluate(&Evaluation { context: &insecure, ..eval });
//! assert_eq!(
//!     decision.denial_message(insecure.caller().arn(), &arn, AccountMasking::Masked, MessageStyle::Classic),
//!     Some(
//!         "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on \
//!          resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/alice/notes with an explicit deny"
//!             .to_owned()
//!     )
//! );
//! assert_eq!(decision.explain().to_string(), r#"explicit deny by resource policy Statement[0] (Sid "NoHttp")"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod condition;
mod context;
mod decision;
mod evaluate;
mod json;
mod matching;
mod policy;
mod principal;
mod variables;

pub use context::{Caller, CallerError, PrincipalType, RequestContext};
pub use decision::{
    AccountMasking, DecidingStatement, Decision, DenyReason, Explanation, MessageStyle, Outcome,
    PolicySource,
};
pub use evaluate::{
    evaluate, evaluate_trust, evaluate_trust_with_session, resource_arn, Evaluation,
};
pub use policy::{
    ApiContext, Effect, Policy, PolicyError, PolicyErrorKind, PolicyKind, PolicyVersion,
};
