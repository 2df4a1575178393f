//! Policy variables in Resource and in String/ARN condition values.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod iam_support;

use iam_support::*;
use tower_sigv4::iam::{Caller, Policy, PolicyKind, PolicyVersion, RequestContext};

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

fn res_policy(version: Option<&str>, resource: &str) -> Policy {
    let version = version
        .map(|v| format!(r#""Version":"{v}","#))
        .unwrap_or_default();
    identity(&format!(
        r#"{{{version}"Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/{resource}"}}]}}"#
    ))
}

fn allowed(policy: &Policy, caller: Caller, path: &str) -> bool {
    let arn = format!("arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/{path}");
    let ctx = RequestContext::new(caller, "execute-api:Invoke", arn);
    decide(&ctx, std::slice::from_ref(policy), None, None).is_allowed()
}

fn alice() -> Caller {
    user(ALICE).with_tag("team", "blue")
}

#[test]
fn username_in_resource() {
    let p = res_policy(Some("2012-10-17"), "home/${aws:username}/*");
    assert!(allowed(&p, alice(), "home/alice/notes"));
    assert!(!allowed(&p, alice(), "home/bob/notes"));
    // A session has no aws:username: the resource matches nothing.
    let s = session("arn:aws:iam::123456789012:role/R", "alice");
    assert!(!allowed(&p, s, "home/alice/notes"));
    assert!(!allowed(
        &p,
        session("arn:aws:iam::123456789012:role/R", "alice"),
        "home//notes"
    ));
}

#[test]
fn principal_tag_and_default() {
    let p = res_policy(Some("2012-10-17"), "teams/${aws:PrincipalTag/Team}/*");
    assert!(allowed(&p, alice(), "teams/blue/x"));
    assert!(!allowed(&p, alice(), "teams/red/x"));
    assert!(!allowed(&p, user(ALICE), "teams//x"));
    let d = res_policy(
        Some("2012-10-17"),
        "teams/${aws:PrincipalTag/team, 'company-wide'}/*",
    );
    assert!(allowed(&d, user(ALICE), "teams/company-wide/x"));
    assert!(allowed(&d, alice(), "teams/blue/x"));
    assert!(!allowed(&d, alice(), "teams/company-wide/x"));
}

#[test]
fn missing_variable_matches_nothing_even_with_wildcard() {
    let p = res_policy(Some("2012-10-17"), "${aws:PrincipalTag/none}*");
    assert!(!allowed(&p, alice(), "anything"));
    assert!(!allowed(&p, alice(), ""));
}

#[test]
fn literal_escapes() {
    let p = res_policy(Some("2012-10-17"), "a${*}b${?}c${$}d");
    assert!(allowed(&p, alice(), "a*b?c$d"));
    assert!(!allowed(&p, alice(), "axbyc$d"));
    // A tag value with wildcard characters is literal too.
    let t = res_policy(Some("2012-10-17"), "${aws:PrincipalTag/team}");
    let star = user(ALICE).with_tag("team", "*");
    assert!(allowed(&t, star.clone(), "*"));
    assert!(!allowed(&t, star, "anything"));
}

#[test]
fn old_versions_are_literal() {
    for version in [Some("2008-10-17"), None] {
        let p = res_policy(version, "home/${aws:username}/*");
        assert_eq!(p.version(), PolicyVersion::V2008_10_17);
        assert!(!allowed(&p, alice(), "home/alice/x"));
        assert!(allowed(&p, alice(), "home/${aws:username}/x"));
    }
    // Malformed variables are errors only where variables are recognised.
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username"}]}"#;
    assert_eq!(
        Policy::parse(bad, PolicyKind::Identity, None)
            .unwrap_err()
            .to_string(),
        "Statement[0].Resource: unterminated policy variable in \"b/${aws:username\""
    );
    assert!(Policy::parse(
        &bad.replace("2012-10-17", "2008-10-17"),
        PolicyKind::Identity,
        None
    )
    .is_ok());
}

#[test]
fn variables_only_after_the_fifth_colon_in_resource() {
    let p = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:execute-api:us-east-1:${aws:PrincipalAccount}:apiid/*"}]}"#,
    );
    assert!(!allowed(&p, alice(), "x"));
}

fn cond_allowed(cond: &str, caller: Caller) -> bool {
    let p = identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{cond}}}]}}"#
    ));
    let ctx = invoke(caller)
        .with_key("x:owner", "alice")
        .with_key("x:star", "*");
    decide(&ctx, std::slice::from_ref(&p), None, None).is_allowed()
}

#[test]
fn variables_in_conditions() {
    assert!(cond_allowed(
        r#"{"StringEquals":{"x:owner":"${aws:username}"}}"#,
        alice()
    ));
    assert!(!cond_allowed(
        r#"{"StringEquals":{"x:owner":"${aws:PrincipalTag/team}"}}"#,
        alice()
    ));
    assert!(cond_allowed(
        r#"{"StringLike":{"x:owner":"${aws:PrincipalTag/x, 'al'}*"}}"#,
        alice()
    ));
    assert!(cond_allowed(
        r#"{"StringEqualsIgnoreCase":{"x:owner":"${aws:PrincipalTag/x, 'ALICE'}"}}"#,
        alice()
    ));
    assert!(cond_allowed(
        r#"{"StringEquals":{"x:star":"${*}"}}"#,
        alice()
    ));
    assert!(!cond_allowed(
        r#"{"StringLike":{"x:owner":"${*}"}}"#,
        alice()
    ));
    // Missing variable: positive operators do not match, negated ones do.
    let sess = || session("arn:aws:iam::123456789012:role/R", "alice");
    assert!(!cond_allowed(
        r#"{"StringEquals":{"x:owner":"${aws:username}"}}"#,
        sess()
    ));
    assert!(!cond_allowed(
        r#"{"StringLike":{"x:owner":"${aws:username}*"}}"#,
        sess()
    ));
    assert!(cond_allowed(
        r#"{"StringNotEquals":{"x:owner":"${aws:username}"}}"#,
        sess()
    ));
    assert!(cond_allowed(
        r#"{"StringNotLike":{"x:owner":"${aws:username}"}}"#,
        sess()
    ));
    assert!(!cond_allowed(
        r#"{"StringNotEquals":{"x:owner":"${aws:username}"}}"#,
        alice()
    ));
    // ARN values, variables anywhere.
    assert!(cond_allowed(
        r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"}}"#,
        alice()
    ));
    assert!(!cond_allowed(
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:none}:user/*"}}"#,
        alice()
    ));
    assert!(cond_allowed(
        r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:none}:user/*"}}"#,
        alice()
    ));
    // Not a variable in a numeric value: loads as the literal text and fails to parse.
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"x:n":"${x:m}"}}}]}"#;
    assert_eq!(
        Policy::parse(bad, PolicyKind::Identity, None)
            .unwrap_err()
            .to_string(),
        "Statement[0].Condition.NumericEquals.x:n: invalid number \"${x:m}\""
    );
}
