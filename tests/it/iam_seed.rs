//! The seed scenario table of iam.md, row by row, with exact outcomes and messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::iam_support;

use iam_support::*;
use tower_sigv4::iam::{AccountMasking, DenyReason, MessageStyle, Outcome, Policy};

const P: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"]}]}"#;
const NOT_EXE: &str = "arn:aws:iam::123456789012:user/api-not-exe";
const NONVALID: &str = "arn:aws:iam::123456789012:user/api-exe-nonvalid";
const VALID: &str = "arn:aws:iam::098765432109:user/api-exe-valid";

const ALLOW_VALID: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}"#;
const ALLOW_VALID_DENY_OTHERS: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"},
  {"Sid":"DenyOthers","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}"#;
const ONLY_ROLE_R: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
  {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
   "Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/R"}}}]}"#;

fn p() -> Vec<Policy> {
    vec![identity(P).with_name("P")]
}

#[test]
fn row1_same_account_no_policy() {
    let ctx = invoke(user(NOT_EXE));
    let d = decide(&ctx, &[], None, None);
    assert_eq!(d.outcome(), Outcome::ImplicitDeny(DenyReason::NoAllow));
    assert_eq!(
        message(&d, &ctx).unwrap(),
        "User: arn:aws:iam::123456789012:user/api-not-exe is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/"
    );
    assert_eq!(
        d.denial_message(NOT_EXE, GET_ROOT, AccountMasking::Full, MessageStyle::WithReason).unwrap(),
        "User: arn:aws:iam::123456789012:user/api-not-exe is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/ because no identity-based policy allows the execute-api:Invoke action"
    );
    assert_eq!(
        d.explain().to_string(),
        "implicit deny: no identity-based or resource-based policy allows the request"
    );
}

#[test]
fn row2_same_account_identity_allow() {
    let ctx = invoke(user(NONVALID));
    let d = decide(&ctx, &p(), None, None);
    assert_eq!(d.outcome(), Outcome::Allow);
    assert_eq!(message(&d, &ctx), None);
    assert_eq!(
        d.explain().to_string(),
        "allow by identity policy \"P\" Statement[0]"
    );
}

#[test]
fn row3_cross_account_without_resource_policy() {
    let ctx = invoke(user(VALID));
    let d = decide(&ctx, &p(), None, None);
    assert_eq!(
        d.outcome(),
        Outcome::ImplicitDeny(DenyReason::CrossAccountResourcePolicy)
    );
    assert_eq!(
        message(&d, &ctx).unwrap(),
        "User: arn:aws:iam::098765432109:user/api-exe-valid is not authorized to access this resource"
    );
    assert_eq!(
        d.denial_message(VALID, GET_ROOT, AccountMasking::Masked, MessageStyle::WithReason).unwrap(),
        "User: arn:aws:iam::098765432109:user/api-exe-valid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ because no resource-based policy allows the execute-api:Invoke action"
    );
}

#[test]
fn row4_cross_account_with_resource_allow() {
    let ctx = invoke(user(VALID));
    let res = resource(ALLOW_VALID);
    let d = decide(&ctx, &p(), None, Some(&res));
    assert_eq!(d.outcome(), Outcome::Allow);
    assert_eq!(
        d.explain().to_string(),
        "allow by identity policy \"P\" Statement[0], resource policy Statement[0]"
    );
}

#[test]
fn row4b_cross_account_resource_allow_without_identity_allow() {
    let ctx = invoke(user(VALID));
    let res = resource(ALLOW_VALID);
    let d = decide(&ctx, &[], None, Some(&res));
    assert_eq!(
        d.outcome(),
        Outcome::ImplicitDeny(DenyReason::CrossAccountIdentityPolicy)
    );
    assert_eq!(
        message(&d, &ctx).unwrap(),
        "User: arn:aws:iam::098765432109:user/api-exe-valid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/"
    );
}

#[test]
fn row5_same_account_identity_allow_suffices() {
    let ctx = invoke(user(NONVALID));
    let res = resource(ALLOW_VALID);
    assert_eq!(
        decide(&ctx, &p(), None, Some(&res)).outcome(),
        Outcome::Allow
    );
}

#[test]
fn row6_not_principal_deny_hits_others() {
    let ctx = invoke(user(NONVALID));
    let res = resource(ALLOW_VALID_DENY_OTHERS).with_name("api policy");
    let d = decide(&ctx, &p(), None, Some(&res));
    assert_eq!(d.outcome(), Outcome::ExplicitDeny);
    assert_eq!(
        message(&d, &ctx).unwrap(),
        "User: arn:aws:iam::123456789012:user/api-exe-nonvalid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ with an explicit deny"
    );
    assert_eq!(
        d.denial_message(NONVALID, GET_ROOT, AccountMasking::Full, MessageStyle::WithReason).unwrap(),
        "User: arn:aws:iam::123456789012:user/api-exe-nonvalid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/ with an explicit deny in a resource-based policy"
    );
    assert_eq!(
        d.explain().to_string(),
        "explicit deny by resource policy \"api policy\" Statement[1] (Sid \"DenyOthers\")"
    );
    let s = &d.statements()[0];
    assert_eq!(
        (s.statement_index(), s.sid(), s.policy_name()),
        (1, Some("DenyOthers"), Some("api policy"))
    );
}

#[test]
fn row7_not_principal_deny_spares_the_named_user() {
    let ctx = invoke(user(VALID));
    let res = resource(ALLOW_VALID_DENY_OTHERS);
    assert_eq!(
        decide(&ctx, &p(), None, Some(&res)).outcome(),
        Outcome::Allow
    );
}

#[test]
fn row8_only_sessions_of_role_r() {
    let res = resource(ONLY_ROLE_R);
    for caller in [NOT_EXE, NONVALID, VALID] {
        let ctx = invoke(user(caller));
        for ids in [vec![], p()] {
            let d = decide(&ctx, &ids, None, Some(&res));
            assert_eq!(d.outcome(), Outcome::ExplicitDeny, "{caller}");
            assert_eq!(
                message(&d, &ctx).unwrap(),
                format!("User: {caller} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ with an explicit deny")
            );
        }
    }
    // A session of R: no identity policy needed, the "*" Allow suffices in the API's account.
    let ctx = invoke(session("arn:aws:iam::123456789012:role/R", "s1"));
    let d = decide(&ctx, &[], None, Some(&res));
    assert_eq!(d.outcome(), Outcome::Allow);
    assert_eq!(
        d.explain().to_string(),
        "allow by resource policy Statement[0]"
    );
    // A role with the same name under a path is another role.
    let ctx = invoke(session("arn:aws:iam::123456789012:role/team/R", "s1"));
    assert_eq!(
        decide(&ctx, &[], None, Some(&res)).outcome(),
        Outcome::ExplicitDeny
    );
}
