//! `iam::Policy::parse` on arbitrary text as each `PolicyKind`, then `evaluate` (and
//! `evaluate_trust`) against a request context chosen by the input.
//!
//! Input: the policy JSON, then optionally a NUL byte and a context, one item a line:
//!
//! ```text
//! user ARN | role ROLE_ARN SESSION | root ACCOUNT      (the caller; default: user alice)
//! ACTION                                               (default: execute-api:Invoke)
//! RESOURCE                                             (default: GET / of the test API)
//! key=value            a single-valued condition key
//! key=[a|b|c]          a multi-valued one
//! @ip=ADDR  @secure=BOOL  @time=UNIX  @issued=UNIX  @mfa=BOOL  @tag=KEY=VALUE
//! ```
//!
//! Properties: parsing and evaluation never panic; a policy that parses without an API
//! context parses with one; an Allow is decided by Allow statements and an explicit deny by
//! Deny statements; identity-policy evaluation is unchanged by repeating the policy, and
//! turned into an explicit deny by adding a Deny-everything policy when it allowed (Deny wins);
//! a resource-policy Deny is never overturned by an identity Allow-everything; the
//! explanation and denial messages render.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use tower_sigv4::iam::{
    evaluate, evaluate_trust, AccountMasking, ApiContext, Caller, Decision, Effect, Evaluation,
    MessageStyle, Outcome, Policy, PolicyKind, RequestContext,
};

const OWNER: &str = "123456789012";
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

fn context(spec: &str) -> Option<RequestContext> {
    let mut lines = spec.split('\n');
    let caller_line = lines.next().unwrap_or("");
    let mut words = caller_line.split(' ');
    let mut caller = match (words.next(), words.next(), words.next()) {
        (Some("role"), Some(arn), Some(session)) => {
            Caller::assumed_role(arn, session, "AROAEXAMPLEROLEID0001").ok()?
        }
        (Some("root"), Some(account), _) => Caller::root(account).ok()?,
        (Some("user"), Some(arn), _) => Caller::user(arn, "AIDAEXAMPLEUSERID0001").ok()?,
        _ => Caller::user(
            "arn:aws:iam::123456789012:user/alice",
            "AIDAEXAMPLEUSERID0001",
        )
        .ok()?,
    };
    let action = lines
        .next()
        .filter(|a| !a.is_empty())
        .unwrap_or("execute-api:Invoke");
    let resource = lines
        .next()
        .filter(|r| !r.is_empty())
        .unwrap_or("arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/");
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for line in lines {
        if let Some(tag) = line.strip_prefix("@tag=") {
            let (k, v) = tag.split_once('=').unwrap_or((tag, ""));
            caller = caller.with_tag(k, v);
        } else if let Some((k, v)) = line.split_once('=') {
            keys.push((k, v));
        }
    }
    let mut ctx = RequestContext::new(caller, action, resource);
    for (k, v) in keys {
        ctx = match k {
            "@ip" => match v.parse::<IpAddr>() {
                Ok(ip) => ctx.with_source_ip(ip),
                Err(_) => ctx,
            },
            "@secure" => ctx.with_secure_transport(v == "true"),
            "@mfa" => ctx.with_multi_factor_auth_present(v == "true"),
            "@time" | "@issued" => {
                match v
                    .parse::<i64>()
                    .ok()
                    .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                {
                    Some(t) if k == "@time" => ctx.with_current_time(t),
                    Some(t) => ctx.with_token_issue_time(t),
                    None => ctx,
                }
            }
            _ => match v.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                Some(list) => ctx.with_values(k, list.split('|')),
                None => ctx.with_key(k, v),
            },
        };
    }
    Some(ctx)
}

fn render(d: &Decision, ctx: &RequestContext) {
    let _ = d.explain().to_string();
    for masking in [AccountMasking::Masked, AccountMasking::Full] {
        for style in [MessageStyle::Classic, MessageStyle::WithReason] {
            let m = d.denial_message(ctx.caller().arn(), ctx.resource(), masking, style);
            assert_eq!(m.is_some(), !d.is_allowed(), "{d:?}");
        }
    }
}

fn consistent(d: &Decision) {
    match d.outcome() {
        Outcome::Allow => {
            assert!(
                !d.statements().is_empty(),
                "an Allow without a statement: {d:?}"
            );
            assert!(
                d.statements().iter().all(|s| s.effect() == Effect::Allow),
                "{d:?}"
            );
        }
        Outcome::ExplicitDeny => {
            assert!(
                !d.statements().is_empty(),
                "an explicit deny without a statement: {d:?}"
            );
            assert!(
                d.statements().iter().all(|s| s.effect() == Effect::Deny),
                "{d:?}"
            );
        }
        Outcome::ImplicitDeny(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (json, spec) = text.split_once('\0').unwrap_or((text, ""));
    let api = ApiContext::new("us-east-1", OWNER, "apiid");
    let allow_all = Policy::parse(ALLOW_ALL, PolicyKind::Identity, None).expect("allow-all");
    let deny_all = Policy::parse(DENY_ALL, PolicyKind::Identity, None).expect("deny-all");
    let ctx = context(spec);

    for kind in [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::Trust,
    ] {
        let without_api = Policy::parse(json, kind, None);
        let parsed = Policy::parse(json, kind, Some(&api));
        match (&without_api, &parsed) {
            (Ok(_), Err(e)) => {
                panic!("{kind:?} parses without an API context but not with one: {e}")
            }
            (_, Err(e)) => {
                let _ = (e.to_string(), e.kind(), e.location());
                continue;
            }
            _ => {}
        }
        let Ok(policy) = parsed else { continue };
        assert_eq!(policy.kind(), kind);
        let Some(ctx) = &ctx else { continue };
        match kind {
            PolicyKind::Identity => {
                let one = [policy.clone()];
                let d = evaluate(&Evaluation::new(ctx, OWNER).identity_policies(&one));
                consistent(&d);
                render(&d, ctx);
                let twice = [policy.clone(), policy.clone()];
                let d2 = evaluate(&Evaluation::new(ctx, OWNER).identity_policies(&twice));
                assert_eq!(
                    d.outcome(),
                    d2.outcome(),
                    "repeating the policy changed the outcome"
                );
                let with_deny = [policy.clone(), deny_all.clone()];
                let d3 = evaluate(&Evaluation::new(ctx, OWNER).identity_policies(&with_deny));
                consistent(&d3);
                let deny_all_applies = evaluate(
                    &Evaluation::new(ctx, OWNER).identity_policies(std::slice::from_ref(&deny_all)),
                )
                .outcome()
                    == Outcome::ExplicitDeny;
                if deny_all_applies {
                    assert_eq!(d3.outcome(), Outcome::ExplicitDeny, "Deny * did not win");
                }
                // As a session policy.
                let all = [allow_all.clone()];
                let d4 = evaluate(
                    &Evaluation::new(ctx, OWNER)
                        .identity_policies(&all)
                        .session_policy(Some(&policy)),
                );
                consistent(&d4);
                render(&d4, ctx);
                if d4.is_allowed() {
                    // The session policy narrows: with it allowed, the identity side alone allows.
                    let alone = evaluate(&Evaluation::new(ctx, OWNER).identity_policies(&all));
                    assert!(alone.is_allowed(), "a session policy widened the grant");
                }
            }
            PolicyKind::Resource => {
                let d = evaluate(&Evaluation::new(ctx, OWNER).resource_policy(Some(&policy)));
                consistent(&d);
                render(&d, ctx);
                let all = [allow_all.clone()];
                let d2 = evaluate(
                    &Evaluation::new(ctx, OWNER)
                        .identity_policies(&all)
                        .resource_policy(Some(&policy)),
                );
                consistent(&d2);
                render(&d2, ctx);
                if d.outcome() == Outcome::ExplicitDeny {
                    assert_eq!(
                        d2.outcome(),
                        Outcome::ExplicitDeny,
                        "an identity Allow overturned a resource Deny"
                    );
                }
                if d.is_allowed() {
                    assert!(
                        d2.is_allowed(),
                        "adding an identity Allow * denied the request"
                    );
                }
            }
            PolicyKind::Trust => {
                let d = evaluate_trust(&policy, &[], OWNER, ctx);
                consistent(&d);
                render(&d, ctx);
                let all = [allow_all.clone()];
                let d2 = evaluate_trust(&policy, &all, OWNER, ctx);
                consistent(&d2);
                if d.is_allowed() {
                    assert!(
                        d2.is_allowed(),
                        "adding an identity Allow * denied AssumeRole"
                    );
                }
            }
        }
    }
});
