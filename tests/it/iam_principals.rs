//! Principal matching, NotPrincipal, session policies, cross-account rules and trust policies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::iam_support;

use iam_support::*;
use tower_sigv4::iam::{
    evaluate_trust, evaluate_trust_with_session, AccountMasking, Caller, DenyReason, MessageStyle,
    Outcome, Policy, RequestContext,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/ops/R";
const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/R/s1";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const OTHER: &str = "arn:aws:iam::098765432109:user/carol";

fn allow_for(principal: &str) -> Policy {
    resource(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}}]}}"#
    ))
}

fn deny_not(principal: &str) -> Policy {
    resource(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}},{{"Effect":"Deny","NotPrincipal":{principal},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}}]}}"#
    ))
}

fn invoke_all() -> Policy {
    identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:*","Resource":"*"}]}"#,
    )
}

fn outcome(caller: Caller, ids: &[Policy], session: Option<&Policy>, res: &Policy) -> Outcome {
    decide(&invoke(caller), ids, session, Some(res)).outcome()
}

fn s1() -> Caller {
    session(ROLE, "s1")
}

#[test]
fn account_forms_delegate_to_identity() {
    for p in [
        r#"{"AWS":"123456789012"}"#,
        r#"{"AWS":"arn:aws:iam::123456789012:root"}"#,
        r#"{"AWS":["123456789012"]}"#,
    ] {
        let res = allow_for(p);
        assert_eq!(
            outcome(user(ALICE), &[], None, &res),
            Outcome::ImplicitDeny(DenyReason::NoAllow),
            "{p}"
        );
        assert_eq!(
            outcome(user(ALICE), &[invoke_all()], None, &res),
            Outcome::Allow,
            "{p}"
        );
        assert_eq!(
            outcome(s1(), &[], None, &res),
            Outcome::ImplicitDeny(DenyReason::NoAllow),
            "{p}"
        );
        assert_eq!(
            outcome(s1(), &[invoke_all()], None, &res),
            Outcome::Allow,
            "{p}"
        );
        assert_eq!(
            outcome(user(OTHER), &[invoke_all()], None, &res),
            Outcome::ImplicitDeny(DenyReason::CrossAccountResourcePolicy)
        );
    }
    // Another account named by account id: cross-account callers still need their identity Allow.
    let res = allow_for(r#"{"AWS":"098765432109"}"#);
    assert_eq!(
        outcome(user(OTHER), &[invoke_all()], None, &res),
        Outcome::Allow
    );
    assert_eq!(
        outcome(user(OTHER), &[], None, &res),
        Outcome::ImplicitDeny(DenyReason::CrossAccountIdentityPolicy)
    );
}

#[test]
fn direct_principals_suffice_in_the_same_account() {
    assert_eq!(
        outcome(user(ALICE), &[], None, &allow_for(r#""*""#)),
        Outcome::Allow
    );
    assert_eq!(
        outcome(user(ALICE), &[], None, &allow_for(r#"{"AWS":"*"}"#)),
        Outcome::Allow
    );
    assert_eq!(
        outcome(
            user(ALICE),
            &[],
            None,
            &allow_for(&format!(r#"{{"AWS":"{ALICE}"}}"#))
        ),
        Outcome::Allow
    );
    // User names are case-sensitive.
    let upper = allow_for(r#"{"AWS":"arn:aws:iam::123456789012:user/Alice"}"#);
    assert_eq!(
        outcome(user(ALICE), &[], None, &upper),
        Outcome::ImplicitDeny(DenyReason::NoAllow)
    );
    // A role ARN (with its path) matches its sessions; without the path it is another role.
    assert_eq!(
        outcome(
            s1(),
            &[],
            None,
            &allow_for(&format!(r#"{{"AWS":"{ROLE}"}}"#))
        ),
        Outcome::Allow
    );
    let no_path = allow_for(r#"{"AWS":"arn:aws:iam::123456789012:role/R"}"#);
    assert_eq!(
        outcome(s1(), &[], None, &no_path),
        Outcome::ImplicitDeny(DenyReason::NoAllow)
    );
    // A session ARN matches that session only.
    let sess = allow_for(&format!(r#"{{"AWS":"{SESSION}"}}"#));
    assert_eq!(outcome(s1(), &[], None, &sess), Outcome::Allow);
    assert_eq!(
        outcome(session(ROLE, "s2"), &[], None, &sess),
        Outcome::ImplicitDeny(DenyReason::NoAllow)
    );
    // The role ARN does not match a user, nor the user ARN a session.
    assert_eq!(
        outcome(
            user(ALICE),
            &[],
            None,
            &allow_for(&format!(r#"{{"AWS":"{ROLE}"}}"#))
        ),
        Outcome::ImplicitDeny(DenyReason::NoAllow)
    );
}

#[test]
fn not_principal_choice() {
    // Named by user ARN: that user is spared, everyone else denied.
    let only_alice = deny_not(&format!(r#"{{"AWS":"{ALICE}"}}"#));
    assert_eq!(outcome(user(ALICE), &[], None, &only_alice), Outcome::Allow);
    assert_eq!(
        outcome(
            user("arn:aws:iam::123456789012:user/bob"),
            &[],
            None,
            &only_alice
        ),
        Outcome::ExplicitDeny
    );
    assert_eq!(outcome(s1(), &[], None, &only_alice), Outcome::ExplicitDeny);
    // Named by role ARN: its sessions are spared.
    let only_role = deny_not(&format!(r#"{{"AWS":"{ROLE}"}}"#));
    assert_eq!(outcome(s1(), &[], None, &only_role), Outcome::Allow);
    assert_eq!(
        outcome(user(ALICE), &[], None, &only_role),
        Outcome::ExplicitDeny
    );
    // Named by session ARN.
    let only_session = deny_not(&format!(r#"{{"AWS":"{SESSION}"}}"#));
    assert_eq!(outcome(s1(), &[], None, &only_session), Outcome::Allow);
    assert_eq!(
        outcome(session(ROLE, "s2"), &[], None, &only_session),
        Outcome::ExplicitDeny
    );
    // Named by account: every principal of the account is spared, others denied.
    let only_account = deny_not(r#"{"AWS":"123456789012"}"#);
    assert_eq!(
        outcome(user(ALICE), &[], None, &only_account),
        Outcome::Allow
    );
    assert_eq!(outcome(s1(), &[], None, &only_account), Outcome::Allow);
    assert_eq!(
        outcome(user(OTHER), &[invoke_all()], None, &only_account),
        Outcome::ExplicitDeny
    );
    // NotPrincipal "*" spares everyone.
    assert_eq!(
        outcome(user(OTHER), &[invoke_all()], None, &deny_not(r#""*""#)),
        Outcome::Allow
    );
}

#[test]
fn session_policy_limits_identity_and_role_named_resource_allows() {
    let sp_allow = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/"}]}"#,
    );
    let sp_other = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let ids = [invoke_all()];
    let ctx = invoke(s1());
    assert_eq!(
        decide(&ctx, &ids, Some(&sp_allow), None).outcome(),
        Outcome::Allow
    );
    let d = decide(&ctx, &ids, Some(&sp_other), None);
    assert_eq!(
        d.outcome(),
        Outcome::ImplicitDeny(DenyReason::SessionPolicy)
    );
    assert_eq!(
        d.denial_message(SESSION, GET_ROOT, AccountMasking::Masked, MessageStyle::Classic).unwrap(),
        "User: arn:aws:sts::123456789012:assumed-role/R/s1 is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/"
    );
    assert_eq!(
        d.denial_message(SESSION, GET_ROOT, AccountMasking::Masked, MessageStyle::WithReason).unwrap(),
        "User: arn:aws:sts::123456789012:assumed-role/R/s1 is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ because no session policy allows the execute-api:Invoke action"
    );
    // Resource policy naming the role: limited by the session policy.
    let by_role = allow_for(&format!(r#"{{"AWS":"{ROLE}"}}"#));
    assert_eq!(
        outcome(s1(), &[], Some(&sp_other), &by_role),
        Outcome::ImplicitDeny(DenyReason::SessionPolicy)
    );
    assert_eq!(
        outcome(s1(), &[], Some(&sp_allow), &by_role),
        Outcome::Allow
    );
    // Naming the session ARN or "*": not limited.
    assert_eq!(
        outcome(
            s1(),
            &[],
            Some(&sp_other),
            &allow_for(&format!(r#"{{"AWS":"{SESSION}"}}"#))
        ),
        Outcome::Allow
    );
    assert_eq!(
        outcome(s1(), &[], Some(&sp_other), &allow_for(r#""*""#)),
        Outcome::Allow
    );
    // A Deny in the session policy is an explicit deny, reported as such.
    let sp_deny = identity(r#"{"Version":"2012-10-17","Statement":[{"Sid":"No","Effect":"Deny","Action":"*","Resource":"*"}]}"#).with_name("session");
    let d = decide(&ctx, &ids, Some(&sp_deny), Some(&allow_for(r#""*""#)));
    assert_eq!(d.outcome(), Outcome::ExplicitDeny);
    assert_eq!(
        d.explain().to_string(),
        "explicit deny by session policy \"session\" Statement[0] (Sid \"No\")"
    );
    assert!(d
        .denial_message(
            SESSION,
            GET_ROOT,
            AccountMasking::Full,
            MessageStyle::WithReason
        )
        .unwrap()
        .ends_with(" with an explicit deny in a session policy"));
}

#[test]
fn explicit_deny_in_identity_policy_and_explain_lists_all() {
    let ids = [
        invoke_all().with_name("allow"),
        identity(
            r#"{"Statement":[{"Sid":"A","Effect":"Deny","Action":"execute-api:Invoke","Resource":"*"},{"Sid":"B","Effect":"Deny","NotAction":"s3:*","Resource":"*"}]}"#,
        ),
    ];
    let d = decide(&invoke(user(ALICE)), &ids, None, Some(&allow_for(r#""*""#)));
    assert_eq!(d.outcome(), Outcome::ExplicitDeny);
    assert_eq!(d.explain().to_string(), "explicit deny by identity policy #1 Statement[0] (Sid \"A\"), identity policy #1 Statement[1] (Sid \"B\")");
    assert_eq!(
        d.denial_message(ALICE, GET_ROOT, AccountMasking::Masked, MessageStyle::WithReason).unwrap(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ with an explicit deny in an identity-based policy"
    );
}

#[test]
fn root_caller() {
    let root = Caller::root("123456789012").unwrap();
    assert_eq!(root.arn(), "arn:aws:iam::123456789012:root");
    assert_eq!(
        outcome(
            root.clone(),
            &[],
            None,
            &allow_for(r#"{"AWS":"123456789012"}"#)
        ),
        Outcome::ImplicitDeny(DenyReason::NoAllow)
    );
    assert_eq!(
        outcome(root, &[], None, &allow_for(r#""*""#)),
        Outcome::Allow
    );
}

const TRUST_USER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_ACCOUNTS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::098765432109:root"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}]}"#;
const TARGET: &str = "arn:aws:iam::123456789012:role/target";

fn assume(caller: Caller) -> RequestContext {
    RequestContext::new(caller, "sts:AssumeRole", TARGET).with_key("sts:RoleSessionName", "s")
}

fn may_assume() -> Policy {
    identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/target"}]}"#,
    )
}

#[test]
fn trust_policies() {
    let by_user = trust(TRUST_USER);
    let by_account = trust(TRUST_ACCOUNTS);
    // Same account, trust names the caller: enough.
    assert_eq!(
        evaluate_trust(&by_user, &[], "123456789012", &assume(user(ALICE))).outcome(),
        Outcome::Allow
    );
    // Trust names only the account: identity Allow also needed (and the ExternalId condition).
    let ctx = assume(user(ALICE)).with_key("sts:ExternalId", "xyz");
    let d = evaluate_trust(&by_account, &[], "123456789012", &ctx);
    assert_eq!(
        d.outcome(),
        Outcome::ImplicitDeny(DenyReason::IdentityPolicy)
    );
    assert_eq!(
        d.denial_message(ALICE, TARGET, AccountMasking::Full, MessageStyle::Classic).unwrap(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/target"
    );
    assert_eq!(
        evaluate_trust(&by_account, &[may_assume()], "123456789012", &ctx).outcome(),
        Outcome::Allow
    );
    let wrong_id = assume(user(ALICE)).with_key("sts:ExternalId", "nope");
    let d = evaluate_trust(&by_account, &[may_assume()], "123456789012", &wrong_id);
    assert_eq!(d.outcome(), Outcome::ImplicitDeny(DenyReason::TrustPolicy));
    assert_eq!(
        d.denial_message(ALICE, TARGET, AccountMasking::Full, MessageStyle::Classic).unwrap(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/target"
    );
    // Another account: both.
    let carol = assume(user(OTHER)).with_key("sts:ExternalId", "xyz");
    assert_eq!(
        evaluate_trust(&by_account, &[may_assume()], "123456789012", &carol).outcome(),
        Outcome::Allow
    );
    assert_eq!(
        evaluate_trust(&by_account, &[], "123456789012", &carol).outcome(),
        Outcome::ImplicitDeny(DenyReason::IdentityPolicy)
    );
    assert_eq!(
        evaluate_trust(&by_user, &[may_assume()], "123456789012", &carol).outcome(),
        Outcome::ImplicitDeny(DenyReason::TrustPolicy)
    );
    // A Deny in the caller's identity policies wins.
    let deny = identity(r#"{"Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}"#);
    assert_eq!(
        evaluate_trust(&by_user, &[deny], "123456789012", &assume(user(ALICE))).outcome(),
        Outcome::ExplicitDeny
    );
    // Role chaining: the trust names the caller's role; a session policy limits it.
    let by_role = trust(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"sts:AssumeRole"}}]}}"#
    ));
    assert_eq!(
        evaluate_trust(&by_role, &[], "123456789012", &assume(s1())).outcome(),
        Outcome::Allow
    );
    let sp = identity(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
    let d = evaluate_trust_with_session(&by_role, &[], Some(&sp), "123456789012", &assume(s1()));
    assert_eq!(
        d.outcome(),
        Outcome::ImplicitDeny(DenyReason::SessionPolicy)
    );
}
