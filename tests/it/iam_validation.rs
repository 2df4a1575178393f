//! Validation when loading: every fault is an error naming the place, with an exact message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::iam_support;

use iam_support::api;
use tower_sigv4::iam::{Policy, PolicyErrorKind, PolicyKind};

fn err(json: &str, kind: PolicyKind) -> String {
    match Policy::parse(json, kind, Some(&api())) {
        Ok(_) => panic!("loaded: {json}"),
        Err(e) => e.to_string(),
    }
}

/// A one-statement policy of Version 2012-10-17.
fn st(statement: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#)
}

const A: &str = r#""Effect":"Allow","Action":"execute-api:Invoke","Resource":"*""#;
const P: &str = r#""Principal":"*""#;

#[test]
fn document_level() {
    use PolicyKind::Identity as I;
    assert_eq!(
        err("{", I),
        "not valid JSON: EOF while parsing an object at line 1 column 1"
    );
    assert_eq!(err("[]", I), "expected an object, got a list");
    assert_eq!(err(r#"{"Statement":[]}"#, I), "Statement: empty list");
    assert_eq!(
        err(r#"{"Version":"2012-10-17"}"#, I),
        "missing \"Statement\""
    );
    assert_eq!(
        err(r#"{"Version":"2012-10-18","Statement":[]}"#, I),
        "Version: unknown version \"2012-10-18\""
    );
    assert_eq!(
        err(r#"{"Version":20121017,"Statement":[]}"#, I),
        "Version: expected a string, got a number"
    );
    assert_eq!(
        err(r#"{"Statement":[],"Extra":1}"#, I),
        "unknown element \"Extra\""
    );
    assert_eq!(
        err(r#"{"Statement":"x"}"#, I),
        "Statement: expected an object or a list of objects, got a string"
    );
    assert_eq!(
        err(r#"{"Statement":[1]}"#, I),
        "Statement[0]: expected an object, got a number"
    );
    assert_eq!(
        err(r#"{"Id":["x"],"Statement":[]}"#, I),
        "Id: expected a string, got a list"
    );
    assert_eq!(
        err(&format!(r#"{{"Statement":{{{A},"Effect":"Deny"}}}}"#), I),
        "not valid JSON: duplicate key \"Effect\" at line 1 column 84"
    );
}

#[test]
fn statement_elements() {
    use PolicyKind::{Identity as I, Resource as R, Trust as T};
    let cases: &[(String, PolicyKind, &str)] = &[
        (st(&format!(r#"{{{A},"Foo":1}}"#)), I, "Statement[0]: unknown element \"Foo\""),
        (st(&format!(r#"{{{A},"effect":"Allow"}}"#)), I, "Statement[0]: unknown element \"effect\""),
        (st(r#"{"Action":"*","Resource":"*"}"#), I, "Statement[0]: missing \"Effect\""),
        (st(r#"{"Effect":"allow","Action":"*","Resource":"*"}"#), I, "Statement[0].Effect: invalid effect \"allow\" (expected \"Allow\" or \"Deny\")"),
        (st(r#"{"Effect":true,"Action":"*","Resource":"*"}"#), I, "Statement[0].Effect: expected a string, got a boolean"),
        (st(r#"{"Effect":"Allow","Resource":"*"}"#), I, "Statement[0]: missing \"Action\" or \"NotAction\""),
        (st(r#"{"Effect":"Allow","Action":"*"}"#), I, "Statement[0]: missing \"Resource\" or \"NotResource\""),
        (st(&format!(r#"{{{A},"NotAction":"*"}}"#)), I, "Statement[0]: \"Action\" and \"NotAction\" cannot both be given"),
        (st(&format!(r#"{{{A},"NotResource":"*"}}"#)), I, "Statement[0]: \"Resource\" and \"NotResource\" cannot both be given"),
        (st(&format!(r#"{{{A},{P}}}"#)), I, "Statement[0]: \"Principal\" is not allowed in an identity policy"),
        (st(&format!(r#"{{{A},"NotPrincipal":"*"}}"#)), I, "Statement[0]: \"NotPrincipal\" is not allowed in an identity policy"),
        (st(&format!(r#"{{{A},"Sid":5}}"#)), I, "Statement[0].Sid: expected a string, got a number"),
        (st(r#"{"Effect":"Allow","Action":{"a":1},"Resource":"*"}"#), I, "Statement[0].Action: expected a string or a list of strings, got an object"),
        (st(r#"{"Effect":"Allow","Action":["execute-api:Invoke",1],"Resource":"*"}"#), I, "Statement[0].Action[1]: expected a string, got a number"),
        (st(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#), I, "Statement[0].Action: empty list"),
        (st(r#"{"Effect":"Allow","Action":"Invoke","Resource":"*"}"#), I, "Statement[0].Action: invalid action \"Invoke\""),
        (st(r#"{"Effect":"Allow","NotAction":["*","execute-api:"],"Resource":"*"}"#), I, "Statement[0].NotAction[1]: invalid action \"execute-api:\""),
        (st(r#"{"Effect":"Allow","Action":"*","Resource":["*","arn:aws:s3:::b","arn:aws:s3"]}"#), I, "Statement[0].Resource[2]: invalid ARN \"arn:aws:s3\" (expected arn:partition:service:region:account:resource)"),
        (st(r#"{"Effect":"Allow","Action":"*","NotResource":"s3:::b/x"}"#), I, "Statement[0].NotResource: invalid ARN \"s3:::b/x\" (expected arn:partition:service:region:account:resource)"),
        (st(r#"{"Effect":"Allow","Action":"*","Resource":"execute-api:GET/x"}"#), I, "Statement[0].Resource: invalid ARN \"execute-api:GET/x\" (expected arn:partition:service:region:account:resource)"),
        (st(&format!(r#"{{{A}}}"#)), R, "Statement[0]: missing \"Principal\" or \"NotPrincipal\""),
        (st(&format!(r#"{{{A},"NotPrincipal":{{"AWS":"123456789012"}}}}"#)), R, "Statement[0]: \"NotPrincipal\" is only allowed with \"Effect\": \"Deny\""),
        (st(&format!(r#"{{{A},{P},"NotPrincipal":"*"}}"#)), R, "Statement[0]: \"Principal\" and \"NotPrincipal\" cannot both be given"),
        (st(r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#), T, "Statement[0]: missing \"Principal\""),
        (st(r#"{"Effect":"Allow","Principal":"*"}"#), T, "Statement[0]: missing \"Action\""),
        (st(r#"{"Effect":"Allow","Principal":"*","NotAction":"sts:AssumeRole"}"#), T, "Statement[0]: \"NotAction\" is not allowed in a trust policy"),
        (st(r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}"#), T, "Statement[0]: \"Resource\" is not allowed in a trust policy"),
        (st(r#"{"Effect":"Deny","NotPrincipal":"*","Action":"sts:AssumeRole"}"#), T, "Statement[0]: \"NotPrincipal\" is not allowed in a trust policy"),
    ];
    for (json, kind, want) in cases {
        assert_eq!(err(json, *kind), *want, "{json}");
    }
}

#[test]
fn second_statement_and_object_statement() {
    let json =
        format!(r#"{{"Statement":[{{{A}}},{{{A},"Condition":{{"StringEqualz":{{"a":"b"}}}}}}]}}"#);
    let e = Policy::parse(&json, PolicyKind::Identity, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Statement[1].Condition: unknown operator \"StringEqualz\""
    );
    assert_eq!(e.kind(), PolicyErrorKind::UnknownOperator);
    assert_eq!(e.location(), "Statement[1].Condition");
    let json = format!(r#"{{"Statement":{{{A},"Foo":1}}}}"#);
    assert_eq!(
        err(&json, PolicyKind::Identity),
        "Statement[0]: unknown element \"Foo\""
    );
}

#[test]
fn principals() {
    let r = |principal: &str| {
        err(
            &st(&format!(r#"{{{A},"Principal":{principal}}}"#)),
            PolicyKind::Resource,
        )
    };
    assert_eq!(r(r#""123456789012""#), "Statement[0].Principal: invalid principal \"123456789012\" (expected \"*\" or an object such as {\"AWS\": …})");
    assert_eq!(r("{}"), "Statement[0].Principal: empty principal");
    assert_eq!(
        r("5"),
        "Statement[0].Principal: expected \"*\" or an object, got a number"
    );
    assert_eq!(r(r#"{"AWS":"arn:aws:iam::*:root"}"#), "Statement[0].Principal.AWS: invalid principal \"arn:aws:iam::*:root\" (no wildcards except \"*\" alone)");
    assert_eq!(r(r#"{"AWS":["*","arn:aws:iam::123456789012:user/a*"]}"#), "Statement[0].Principal.AWS[1]: invalid principal \"arn:aws:iam::123456789012:user/a*\" (no wildcards except \"*\" alone)");
    assert_eq!(r(r#"{"AWS":"arn:aws:iam::123456789012:group/g"}"#), "Statement[0].Principal.AWS: invalid principal \"arn:aws:iam::123456789012:group/g\" (expected \"*\", an account id, or a root, user, role or session ARN)");
    assert_eq!(r(r#"{"AWS":"12345"}"#), "Statement[0].Principal.AWS: invalid principal \"12345\" (expected \"*\", an account id, or a root, user, role or session ARN)");
    assert_eq!(r(r#"{"AWS":[]}"#), "Statement[0].Principal.AWS: empty list");
    assert_eq!(
        r(r#"{"AWS":[true]}"#),
        "Statement[0].Principal.AWS[0]: expected a string, got a boolean"
    );
    assert_eq!(
        r(r#"{"aws":"*"}"#),
        "Statement[0].Principal: unknown principal type \"aws\""
    );
    assert!(Policy::parse(
        &st(&format!(
            r#"{{{A},"Principal":{{"Service":"lambda.amazonaws.com"}}}}"#
        )),
        PolicyKind::Resource,
        None
    )
    .is_ok());
}

#[test]
fn conditions() {
    let c = |cond: &str| {
        err(
            &st(&format!(r#"{{{A},"Condition":{cond}}}"#)),
            PolicyKind::Identity,
        )
    };
    assert_eq!(
        c(r#"{"NullIfExists":{"a":"true"}}"#),
        "Statement[0].Condition: unknown operator \"NullIfExists\""
    );
    assert_eq!(
        c(r#"{"ForAllValues:Null":{"a":"true"}}"#),
        "Statement[0].Condition: unknown operator \"ForAllValues:Null\""
    );
    assert_eq!(
        c(r#"{"ForAnyValues:StringEquals":{"a":"b"}}"#),
        "Statement[0].Condition: unknown operator \"ForAnyValues:StringEquals\""
    );
    assert_eq!(
        c(r#"{"StringEqualsIfExistsIfExists":{"a":"b"}}"#),
        "Statement[0].Condition: unknown operator \"StringEqualsIfExistsIfExists\""
    );
    assert_eq!(
        c(r#"{"stringequals":{"a":"b"}}"#),
        "Statement[0].Condition: unknown operator \"stringequals\""
    );
    assert_eq!(
        c(r#"{"BinaryNotEquals":{"a":"b"}}"#),
        "Statement[0].Condition: unknown operator \"BinaryNotEquals\""
    );
    assert_eq!(
        c(r#"[]"#),
        "Statement[0].Condition: expected an object, got a list"
    );
    assert_eq!(
        c(r#"{"StringEquals":"a"}"#),
        "Statement[0].Condition.StringEquals: expected an object, got a string"
    );
    assert_eq!(
        c(r#"{"StringEquals":{}}"#),
        "Statement[0].Condition.StringEquals: no condition keys"
    );
    assert_eq!(c(r#"{"StringEquals":{"a":null}}"#), "Statement[0].Condition.StringEquals.a: expected a string, number, boolean or a list of them, got null");
    assert_eq!(c(r#"{"StringEquals":{"a":["b",{}]}}"#), "Statement[0].Condition.StringEquals.a[1]: expected a string, number or boolean, got an object");
    assert_eq!(
        c(r#"{"StringEquals":{"a":[]}}"#),
        "Statement[0].Condition.StringEquals.a: empty list"
    );
    assert_eq!(
        c(r#"{"NumericLessThan":{"n":"1e3"}}"#),
        "Statement[0].Condition.NumericLessThan.n: invalid number \"1e3\""
    );
    assert_eq!(
        c(r#"{"DateLessThan":{"aws:CurrentTime":["2020-01-01","tomorrow"]}}"#),
        "Statement[0].Condition.DateLessThan.aws:CurrentTime[1]: invalid date \"tomorrow\""
    );
    assert_eq!(
        c(r#"{"Bool":{"aws:SecureTransport":"yes"}}"#),
        "Statement[0].Condition.Bool.aws:SecureTransport: invalid boolean \"yes\""
    );
    assert_eq!(
        c(r#"{"Null":{"a":1}}"#),
        "Statement[0].Condition.Null.a: invalid boolean \"1\""
    );
    assert_eq!(
        c(r#"{"BinaryEquals":{"a":"!!"}}"#),
        "Statement[0].Condition.BinaryEquals.a: invalid base64 value \"!!\""
    );
    assert_eq!(c(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}"#), "Statement[0].Condition.IpAddress.aws:SourceIp: invalid IP address or CIDR block \"10.0.0.0/33\"");
    assert_eq!(c(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::1"}}"#), "Statement[0].Condition.ArnLike.aws:PrincipalArn: invalid ARN \"arn:aws:iam::1\" (expected arn:partition:service:region:account:resource)");
    assert_eq!(
        c(r#"{"StringLike":{"a":"${}"}}"#),
        "Statement[0].Condition.StringLike.a: invalid policy variable \"${}\""
    );
    // Unknown keys load fine.
    assert!(Policy::parse(&st(&format!(r#"{{{A},"Condition":{{"StringEquals":{{"aws:SourceVpce":"v","aws:PrincipalOrgID":"o"}}}}}}"#)), PolicyKind::Identity, None).is_ok());
}

#[test]
fn shorthand_needs_api_context() {
    let json = st(
        r#"{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":["execute-api:/prod/GET/x","execute-api:/*"]}"#,
    );
    let e = Policy::parse(&json, PolicyKind::Resource, None).unwrap_err();
    assert_eq!(e.to_string(), "Statement[0].Resource[0]: API Gateway shorthand \"execute-api:/prod/GET/x\" needs an API context");
    assert!(Policy::parse(&json, PolicyKind::Resource, Some(&api())).is_ok());
}

#[test]
fn short_arn_patterns_ending_in_star_load() {
    for (element, value) in [
        ("Resource", "arn:aws:execute-api:*"),
        ("Resource", "arn:aws:execute-api:us-east-1:*"),
        ("Resource", "arn:aws:execute-api:us-*"),
        ("Resource", "arn:*"),
        ("NotResource", "arn:aws:execute-api:us-east-1:*"),
        ("NotResource", "arn:aws:s3:*"),
    ] {
        for version in ["2012-10-17", "2008-10-17"] {
            let json = format!(
                r#"{{"Version":"{version}","Statement":[{{"Effect":"Allow","Action":"*","{element}":"{value}"}}]}}"#
            );
            assert!(
                Policy::parse(&json, PolicyKind::Identity, None).is_ok(),
                "{json}"
            );
        }
    }
    for value in [
        "arn:aws:iam::*",
        "arn:aws:iam::123456789012*",
        "arn:*",
        "arn:aws:iam::${aws:PrincipalAccount}*",
    ] {
        let json = st(&format!(
            r#"{{{A},"Condition":{{"ArnLike":{{"aws:PrincipalArn":"{value}"}}}}}}"#
        ));
        assert!(
            Policy::parse(&json, PolicyKind::Identity, None).is_ok(),
            "{json}"
        );
    }
}

#[test]
fn short_arn_patterns_not_ending_in_star_stay_invalid() {
    let r = |value: &str| {
        err(
            &st(&format!(
                r#"{{"Effect":"Allow","Action":"*","Resource":"{value}"}}"#
            )),
            PolicyKind::Identity,
        )
    };
    assert_eq!(r("arn:aws:execute-api"), "Statement[0].Resource: invalid ARN \"arn:aws:execute-api\" (expected arn:partition:service:region:account:resource)");
    assert_eq!(r("arn:aws:execute-api:us-east-1:123456789012"), "Statement[0].Resource: invalid ARN \"arn:aws:execute-api:us-east-1:123456789012\" (expected arn:partition:service:region:account:resource)");
    assert_eq!(r("arn:aws:execute-api:*:123"), "Statement[0].Resource: invalid ARN \"arn:aws:execute-api:*:123\" (expected arn:partition:service:region:account:resource)");
    assert_eq!(r("arn:aws:execute-api:*:"), "Statement[0].Resource: invalid ARN \"arn:aws:execute-api:*:\" (expected arn:partition:service:region:account:resource)");
    assert_eq!(
        r("arn*"),
        "Statement[0].Resource: invalid ARN \"arn*\" (expected arn:partition:service:region:account:resource)"
    );
    assert_eq!(
        r("xrn:aws:*"),
        "Statement[0].Resource: invalid ARN \"xrn:aws:*\" (expected arn:partition:service:region:account:resource)"
    );
    assert_eq!(
        r("arn:aws:execute-api:${*}"),
        "Statement[0].Resource: invalid ARN \"arn:aws:execute-api:${*}\" (expected arn:partition:service:region:account:resource)"
    );
    let c = |value: &str| {
        err(
            &st(&format!(
                r#"{{{A},"Condition":{{"ArnLike":{{"aws:PrincipalArn":"{value}"}}}}}}"#
            )),
            PolicyKind::Identity,
        )
    };
    assert_eq!(c("arn:aws:iam::123456789012"), "Statement[0].Condition.ArnLike.aws:PrincipalArn: invalid ARN \"arn:aws:iam::123456789012\" (expected arn:partition:service:region:account:resource)");
    assert_eq!(c("arn:aws:iam::${*}"), "Statement[0].Condition.ArnLike.aws:PrincipalArn: invalid ARN \"arn:aws:iam::${*}\" (expected arn:partition:service:region:account:resource)");
    assert_eq!(c("xrn:*"), "Statement[0].Condition.ArnLike.aws:PrincipalArn: invalid ARN \"xrn:*\" (expected arn:partition:service:region:account:resource)");
    // The shorthand expands to six parts first; `execute-api:*` is not shorthand and not an ARN.
    assert_eq!(r("execute-api:*"), "Statement[0].Resource: invalid ARN \"execute-api:*\" (expected arn:partition:service:region:account:resource)");
}

#[test]
fn short_arn_patterns_match_the_rest_of_the_arn() {
    use iam_support::{decide, identity, user};
    use tower_sigv4::iam::{DenyReason, Outcome, RequestContext};

    let east = "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/a:b";
    let west = "arn:aws:execute-api:eu-west-1:123456789012:apiid/prod/GET/";
    let other_account = "arn:aws:execute-api:us-east-1:098765432109:apiid/prod/GET/";
    let no_allow = Outcome::ImplicitDeny(DenyReason::NoAllow);
    let outcome = |statements: &str, arn: &str| {
        let p = identity(&st(statements));
        let ctx = RequestContext::new(
            user("arn:aws:iam::123456789012:user/alice"),
            "execute-api:Invoke",
            arn,
        );
        decide(&ctx, std::slice::from_ref(&p), None, None).outcome()
    };
    let allow = |pattern: &str| {
        format!(r#"{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"{pattern}"}}"#)
    };
    for (pattern, arn, want) in [
        ("arn:aws:execute-api:*", east, Outcome::Allow),
        ("arn:aws:execute-api:*", west, Outcome::Allow),
        ("arn:*", east, Outcome::Allow),
        ("arn:aws:execute-api:us-east-1:*", east, Outcome::Allow),
        (
            "arn:aws:execute-api:us-east-1:*",
            other_account,
            Outcome::Allow,
        ),
        ("arn:aws:execute-api:us-east-1:*", west, no_allow),
        ("arn:aws:execute-api:us-*", east, Outcome::Allow),
        ("arn:aws:execute-api:us-*", west, no_allow),
        ("arn:aws:execute-api:us-east-1:1234*", east, Outcome::Allow),
        (
            "arn:aws:execute-api:us-east-1:1234*",
            other_account,
            no_allow,
        ),
        ("arn:aws:s3:*", east, no_allow),
        ("arn:aws-cn:*", east, no_allow),
    ] {
        assert_eq!(outcome(&allow(pattern), arn), want, "{pattern} on {arn}");
    }
    // In NotResource, and in a Deny.
    let deny_outside_east = r#"{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","NotResource":"arn:aws:execute-api:us-east-1:*"}"#;
    assert_eq!(outcome(deny_outside_east, east), Outcome::Allow);
    assert_eq!(outcome(deny_outside_east, west), Outcome::ExplicitDeny);
    let allow_outside_east =
        r#"{"Effect":"Allow","Action":"*","NotResource":"arn:aws:execute-api:us-east-1:*"}"#;
    assert_eq!(outcome(allow_outside_east, east), no_allow);
    assert_eq!(outcome(allow_outside_east, west), Outcome::Allow);
}
