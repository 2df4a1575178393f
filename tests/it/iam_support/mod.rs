//! Shared helpers for the IAM integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(dead_code, unreachable_pub)]

use tower_sigv4::iam::{
    evaluate, AccountMasking, ApiContext, Caller, Decision, Evaluation, MessageStyle, Policy,
    PolicyKind, RequestContext,
};

pub const OWNER: &str = "123456789012";
pub const GET_ROOT: &str = "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/";

pub fn api() -> ApiContext {
    ApiContext::new("us-east-1", OWNER, "apiid")
}

pub fn identity(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Identity, Some(&api())).unwrap()
}

pub fn resource(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Resource, Some(&api())).unwrap()
}

pub fn trust(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Trust, None).unwrap()
}

pub fn user(arn: &str) -> Caller {
    Caller::user(arn, "AIDAEXAMPLEUSERID0001").unwrap()
}

pub fn session(role_arn: &str, session: &str) -> Caller {
    Caller::assumed_role(role_arn, session, "AROAEXAMPLEROLEID0001").unwrap()
}

pub fn invoke(caller: Caller) -> RequestContext {
    RequestContext::new(caller, "execute-api:Invoke", GET_ROOT)
}

/// Evaluates with identity policies, an optional session policy and an optional resource policy.
pub fn decide(
    ctx: &RequestContext,
    ids: &[Policy],
    session: Option<&Policy>,
    res: Option<&Policy>,
) -> Decision {
    evaluate(
        &Evaluation::new(ctx, OWNER)
            .identity_policies(ids)
            .session_policy(session)
            .resource_policy(res),
    )
}

/// The classic, masked denial message.
pub fn message(d: &Decision, ctx: &RequestContext) -> Option<String> {
    d.denial_message(
        ctx.caller().arn(),
        ctx.resource(),
        AccountMasking::Masked,
        MessageStyle::Classic,
    )
}

/// An identity policy allowing everything under one condition block (Version 2012-10-17).
pub fn allow_if(condition: &str) -> Policy {
    identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{condition}}}]}}"#
    ))
}

/// Whether a same-account user with `ctx_fn` applied is allowed by `allow_if(condition)`.
pub fn holds(condition: &str, ctx_fn: impl FnOnce(RequestContext) -> RequestContext) -> bool {
    let policy = allow_if(condition);
    let caller = user("arn:aws:iam::123456789012:user/alice").with_tag("team", "blue");
    let ctx = ctx_fn(invoke(caller));
    decide(&ctx, std::slice::from_ref(&policy), None, None).is_allowed()
}
