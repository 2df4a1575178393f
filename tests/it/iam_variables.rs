//! Policy variables in Resource and in String/ARN condition values.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::iam_support;

use iam_support::*;
use tower_sigv4::iam::{
    Caller, DenyReason, Outcome, Policy, PolicyKind, PolicyVersion, RequestContext,
};

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

// ---------------------------------------------------------------------------------------------------------
// Unresolved variables never widen a grant and never narrow a denial (iam.md "Matching").

const PREFIX: &str = "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/";

fn sess() -> Caller {
    session("arn:aws:iam::123456789012:role/R", "alice")
}

/// A 2012-10-17 identity policy of one statement `effect` with `element` (Resource or NotResource) listing
/// `paths` under `PREFIX`.
fn one_statement(effect: &str, element: &str, paths: &[&str]) -> String {
    let list = paths
        .iter()
        .map(|p| format!("\"{PREFIX}{p}\""))
        .collect::<Vec<_>>()
        .join(",");
    format!(r#"{{"Effect":"{effect}","Action":"execute-api:Invoke","{element}":[{list}]}}"#)
}

fn doc_of(statements: &[String]) -> Policy {
    identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ))
}

const ALLOW_ALL: &str = r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#;

fn outcome_of(policy: &Policy, caller: Caller, path: &str) -> Outcome {
    let ctx = RequestContext::new(caller, "execute-api:Invoke", format!("{PREFIX}{path}"));
    decide(&ctx, std::slice::from_ref(policy), None, None).outcome()
}

const NO_ALLOW: Outcome = Outcome::ImplicitDeny(DenyReason::NoAllow);

#[test]
fn allow_not_resource_with_unresolved_variable_does_not_apply() {
    let p = doc_of(&[one_statement(
        "Allow",
        "NotResource",
        &["home/${aws:username}/*"],
    )]);
    // A session has no aws:username: the statement does not apply at all (it used to grant everything).
    assert_eq!(outcome_of(&p, sess(), "other/x"), NO_ALLOW);
    assert_eq!(outcome_of(&p, sess(), "home/alice/x"), NO_ALLOW);
    assert_eq!(outcome_of(&p, sess(), ""), NO_ALLOW);
    // A user has one: everything but its own home.
    assert_eq!(outcome_of(&p, alice(), "other/x"), Outcome::Allow);
    assert_eq!(outcome_of(&p, alice(), "home/bob/x"), Outcome::Allow);
    assert_eq!(outcome_of(&p, alice(), "home/alice/x"), NO_ALLOW);
}

#[test]
fn allow_not_resource_with_one_unresolved_entry_among_others_does_not_apply() {
    let p = doc_of(&[one_statement(
        "Allow",
        "NotResource",
        &["admin/*", "teams/${aws:PrincipalTag/team}/*"],
    )]);
    // alice has the tag: the statement applies outside admin/* and teams/blue/*.
    assert_eq!(outcome_of(&p, alice(), "other/x"), Outcome::Allow);
    assert_eq!(outcome_of(&p, alice(), "teams/red/x"), Outcome::Allow);
    assert_eq!(outcome_of(&p, alice(), "teams/blue/x"), NO_ALLOW);
    assert_eq!(outcome_of(&p, alice(), "admin/x"), NO_ALLOW);
    // Without the tag the whole statement is out, even where the resolved entry alone would have allowed.
    assert_eq!(outcome_of(&p, user(ALICE), "other/x"), NO_ALLOW);
    assert_eq!(outcome_of(&p, sess(), "other/x"), NO_ALLOW);
    // A default resolves the variable.
    let d = doc_of(&[one_statement(
        "Allow",
        "NotResource",
        &["teams/${aws:PrincipalTag/team, 'none'}/*"],
    )]);
    assert_eq!(outcome_of(&d, sess(), "teams/blue/x"), Outcome::Allow);
    assert_eq!(outcome_of(&d, sess(), "teams/none/x"), NO_ALLOW);
}

#[test]
fn allow_not_resource_with_multi_valued_variable_does_not_apply() {
    // A variable naming a multi-valued key has no (single) value.
    let p = doc_of(&[one_statement("Allow", "NotResource", &["x/${x:many}/*"])]);
    let ctx = RequestContext::new(alice(), "execute-api:Invoke", format!("{PREFIX}other/y"))
        .with_values("x:many", ["a", "b"]);
    assert_eq!(
        decide(&ctx, std::slice::from_ref(&p), None, None).outcome(),
        NO_ALLOW
    );
    let one = RequestContext::new(alice(), "execute-api:Invoke", format!("{PREFIX}other/y"))
        .with_key("x:many", "a");
    assert_eq!(
        decide(&one, std::slice::from_ref(&p), None, None).outcome(),
        Outcome::Allow
    );
}

#[test]
fn resource_policy_allow_not_resource_with_unresolved_variable_does_not_apply() {
    let p = resource(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","NotResource":"{PREFIX}home/${{aws:username}}/*"}}]}}"#
    ));
    let ctx = RequestContext::new(sess(), "execute-api:Invoke", format!("{PREFIX}other/x"));
    assert_eq!(decide(&ctx, &[], None, Some(&p)).outcome(), NO_ALLOW);
    let ctx = RequestContext::new(alice(), "execute-api:Invoke", format!("{PREFIX}other/x"));
    assert_eq!(decide(&ctx, &[], None, Some(&p)).outcome(), Outcome::Allow);
}

#[test]
fn deny_not_resource_with_unresolved_variable_still_denies() {
    let p = doc_of(&[
        ALLOW_ALL.to_owned(),
        one_statement("Deny", "NotResource", &["home/${aws:username}/*"]),
    ]);
    // The unresolved entry excludes nothing: the Deny applies everywhere.
    assert_eq!(
        outcome_of(&p, sess(), "home/alice/x"),
        Outcome::ExplicitDeny
    );
    assert_eq!(outcome_of(&p, sess(), "other/x"), Outcome::ExplicitDeny);
    // Resolved: only the user's home is spared.
    assert_eq!(outcome_of(&p, alice(), "home/alice/x"), Outcome::Allow);
    assert_eq!(outcome_of(&p, alice(), "other/x"), Outcome::ExplicitDeny);
    // Other entries are judged normally.
    let q = doc_of(&[
        ALLOW_ALL.to_owned(),
        one_statement(
            "Deny",
            "NotResource",
            &["home/${aws:username}/*", "public/*"],
        ),
    ]);
    assert_eq!(outcome_of(&q, sess(), "public/x"), Outcome::Allow);
    assert_eq!(
        outcome_of(&q, sess(), "home/alice/x"),
        Outcome::ExplicitDeny
    );
}

#[test]
fn resource_entry_with_unresolved_variable_matches_nothing() {
    let p = doc_of(&[one_statement(
        "Allow",
        "Resource",
        &["home/${aws:username}/*", "public/*"],
    )]);
    assert_eq!(outcome_of(&p, sess(), "public/x"), Outcome::Allow);
    assert_eq!(outcome_of(&p, sess(), "home/alice/x"), NO_ALLOW);
    assert_eq!(outcome_of(&p, alice(), "home/alice/x"), Outcome::Allow);
    // In a Deny too (the spec's rule for Resource): the entry matches nothing, the others still deny.
    let q = doc_of(&[
        ALLOW_ALL.to_owned(),
        one_statement("Deny", "Resource", &["home/${aws:username}/*", "admin/*"]),
    ]);
    assert_eq!(outcome_of(&q, sess(), "home/alice/x"), Outcome::Allow);
    assert_eq!(outcome_of(&q, sess(), "admin/x"), Outcome::ExplicitDeny);
    assert_eq!(
        outcome_of(&q, alice(), "home/alice/x"),
        Outcome::ExplicitDeny
    );
}

#[test]
fn deny_with_negated_operator_and_missing_variable_still_denies() {
    // "A missing variable: positive string operators do not match, negated ones do": in a Deny, the negated
    // operator holds, so the Deny applies (a missing variable does not narrow it).
    for cond in [
        r#"{"StringNotEquals":{"x:owner":"${aws:username}"}}"#,
        r#"{"StringNotEqualsIgnoreCase":{"x:owner":"${aws:username}"}}"#,
        r#"{"StringNotLike":{"x:owner":"${aws:username}*"}}"#,
        r#"{"StringNotEquals":{"x:owner":["${aws:username}","${aws:PrincipalTag/none}"]}}"#,
        r#"{"ArnNotLike":{"x:arn":"arn:aws:iam::123456789012:user/${aws:username}"}}"#,
        r#"{"ArnNotEquals":{"x:arn":"arn:aws:iam::123456789012:user/${aws:username}"}}"#,
        r#"{"ForAllValues:StringNotEquals":{"x:owners":"${aws:username}"}}"#,
        r#"{"ForAnyValue:StringNotLike":{"x:owners":"${aws:username}"}}"#,
        r#"{"StringNotEqualsIfExists":{"x:owner":"${aws:username}"}}"#,
    ] {
        let p = identity(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{ALLOW_ALL},{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{cond}}}]}}"#
        ));
        let ctx = |c: Caller| {
            invoke(c)
                .with_key("x:owner", "alice")
                .with_key("x:arn", "arn:aws:iam::123456789012:user/alice")
                .with_values("x:owners", ["alice"])
        };
        assert_eq!(
            decide(&ctx(sess()), std::slice::from_ref(&p), None, None).outcome(),
            Outcome::ExplicitDeny,
            "{cond}"
        );
        // Resolved to the value: the negated operator does not hold, the Deny does not apply.
        assert_eq!(
            decide(&ctx(alice()), std::slice::from_ref(&p), None, None).outcome(),
            Outcome::Allow,
            "{cond}"
        );
    }
}

#[test]
fn allow_with_positive_operator_and_missing_variable_does_not_apply() {
    for cond in [
        r#"{"StringEquals":{"x:owner":"${aws:username}"}}"#,
        r#"{"StringEqualsIgnoreCase":{"x:owner":"${aws:username}"}}"#,
        r#"{"StringLike":{"x:owner":"*${aws:username}*"}}"#,
        r#"{"StringEqualsIfExists":{"x:owner":"${aws:username}"}}"#,
        r#"{"ArnLike":{"x:arn":"arn:aws:iam::123456789012:user/${aws:username}"}}"#,
        r#"{"ArnEquals":{"x:arn":"arn:aws:iam::*:user/${aws:username}*"}}"#,
        r#"{"ForAnyValue:StringEquals":{"x:owners":"${aws:username}"}}"#,
        r#"{"ForAllValues:StringLike":{"x:owners":"${aws:username}"}}"#,
    ] {
        let p = identity(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{cond}}}]}}"#
        ));
        let ctx = |c: Caller| {
            invoke(c)
                .with_key("x:owner", "alice")
                .with_key("x:arn", "arn:aws:iam::123456789012:user/alice")
                .with_values("x:owners", ["alice"])
        };
        assert_eq!(
            decide(&ctx(sess()), std::slice::from_ref(&p), None, None).outcome(),
            NO_ALLOW,
            "{cond}"
        );
        assert_eq!(
            decide(&ctx(alice()), std::slice::from_ref(&p), None, None).outcome(),
            Outcome::Allow,
            "{cond}"
        );
    }
}
