//! One table per condition operator: matches, missing keys, IfExists, set operators, NOR, key-name case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::iam_support;

use iam_support::holds;
use time::macros::datetime;
use tower_sigv4::iam::RequestContext;

type Ctx = fn(RequestContext) -> RequestContext;
type DynCtx = Box<dyn Fn(RequestContext) -> RequestContext>;

fn none(c: RequestContext) -> RequestContext {
    c
}

/// Runs a table of (condition block, context, expected).
fn table(rows: &[(&str, Ctx, bool)]) {
    for (i, (cond, ctx, want)) in rows.iter().enumerate() {
        assert_eq!(holds(cond, *ctx), *want, "row {i}: {cond}");
    }
}

#[test]
fn string_equals() {
    table(&[
        (
            r#"{"StringEquals":{"aws:Referer":"a"}}"#,
            |c| c.with_key("aws:Referer", "a"),
            true,
        ),
        (
            r#"{"StringEquals":{"aws:Referer":"a"}}"#,
            |c| c.with_key("aws:Referer", "A"),
            false,
        ),
        (
            r#"{"StringEquals":{"aws:Referer":["x","a"]}}"#,
            |c| c.with_key("aws:Referer", "a"),
            true,
        ),
        (r#"{"StringEquals":{"aws:Referer":"a"}}"#, none, false),
        (
            r#"{"StringEquals":{"AWS:REFERER":"a"}}"#,
            |c| c.with_key("aws:referer", "a"),
            true,
        ),
        (
            r#"{"StringEquals":{"aws:Referer":"a*"}}"#,
            |c| c.with_key("aws:Referer", "ab"),
            false,
        ),
        (
            r#"{"StringEquals":{"aws:Referer":"a"}}"#,
            |c| c.with_values("aws:Referer", ["a"]),
            false,
        ),
        (
            r#"{"StringEqualsIfExists":{"aws:Referer":"a"}}"#,
            none,
            true,
        ),
        (
            r#"{"StringEqualsIfExists":{"aws:Referer":"a"}}"#,
            |c| c.with_key("aws:Referer", "b"),
            false,
        ),
        (
            r#"{"StringEquals":{"aws:PrincipalType":"User","aws:username":"alice"}}"#,
            none,
            true,
        ),
        (
            r#"{"StringEquals":{"aws:PrincipalType":"User","aws:username":"bob"}}"#,
            none,
            false,
        ),
        (
            r#"{"StringEquals":{"aws:principaltag/TEAM":"blue"}}"#,
            none,
            true,
        ),
        (
            r#"{"StringEquals":{"aws:PrincipalAccount":123456789012}}"#,
            none,
            true,
        ),
        (
            r#"{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/alice"}}"#,
            none,
            true,
        ),
        (
            r#"{"StringEquals":{"aws:userid":"AIDAEXAMPLEUSERID0001"}}"#,
            none,
            true,
        ),
        (
            r#"{"StringEquals":{"aws:SourceVpce":"vpce-1"}}"#,
            none,
            false,
        ),
    ]);
}

#[test]
fn string_not_equals_is_nor() {
    table(&[
        (
            r#"{"StringNotEquals":{"aws:Referer":["a","b"]}}"#,
            |c| c.with_key("aws:Referer", "a"),
            false,
        ),
        (
            r#"{"StringNotEquals":{"aws:Referer":["a","b"]}}"#,
            |c| c.with_key("aws:Referer", "b"),
            false,
        ),
        (
            r#"{"StringNotEquals":{"aws:Referer":["a","b"]}}"#,
            |c| c.with_key("aws:Referer", "c"),
            true,
        ),
        (
            r#"{"StringNotEquals":{"aws:Referer":["a","b"]}}"#,
            none,
            true,
        ),
        (
            r#"{"StringNotEquals":{"aws:Referer":"a"}}"#,
            |c| c.with_values("aws:Referer", ["c"]),
            false,
        ),
        (
            r#"{"StringNotEqualsIfExists":{"aws:Referer":"a"}}"#,
            none,
            true,
        ),
        (
            r#"{"StringNotEqualsIfExists":{"aws:Referer":"a"}}"#,
            |c| c.with_key("aws:Referer", "a"),
            false,
        ),
    ]);
}

#[test]
fn string_ignore_case() {
    table(&[
        (
            r#"{"StringEqualsIgnoreCase":{"aws:Referer":"ABC"}}"#,
            |c| c.with_key("aws:Referer", "abc"),
            true,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"aws:Referer":"ÉTÉ"}}"#,
            |c| c.with_key("aws:Referer", "été"),
            true,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"aws:Referer":"abc"}}"#,
            |c| c.with_key("aws:Referer", "abcd"),
            false,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"aws:Referer":"abc"}}"#,
            none,
            false,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:Referer":["ABC","x"]}}"#,
            |c| c.with_key("aws:Referer", "abc"),
            false,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:Referer":"ABC"}}"#,
            |c| c.with_key("aws:Referer", "abd"),
            true,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:Referer":"ABC"}}"#,
            none,
            true,
        ),
        (
            r#"{"StringEqualsIgnoreCaseIfExists":{"aws:Referer":"ABC"}}"#,
            none,
            true,
        ),
    ]);
}

#[test]
fn string_like() {
    table(&[
        (
            r#"{"StringLike":{"aws:Referer":"https://*.example.com/*"}}"#,
            |c| c.with_key("aws:Referer", "https://a.example.com/x"),
            true,
        ),
        (
            r#"{"StringLike":{"aws:Referer":"https://*.example.com/*"}}"#,
            |c| c.with_key("aws:Referer", "https://example.com/x"),
            false,
        ),
        (
            r#"{"StringLike":{"aws:Referer":"a?c"}}"#,
            |c| c.with_key("aws:Referer", "abc"),
            true,
        ),
        (
            r#"{"StringLike":{"aws:Referer":"a?c"}}"#,
            |c| c.with_key("aws:Referer", "ac"),
            false,
        ),
        (
            r#"{"StringLike":{"aws:Referer":"A*"}}"#,
            |c| c.with_key("aws:Referer", "abc"),
            false,
        ),
        (r#"{"StringLike":{"aws:Referer":"*"}}"#, none, false),
        (
            r#"{"StringNotLike":{"aws:Referer":["a*","b*"]}}"#,
            |c| c.with_key("aws:Referer", "bx"),
            false,
        ),
        (
            r#"{"StringNotLike":{"aws:Referer":["a*","b*"]}}"#,
            |c| c.with_key("aws:Referer", "cx"),
            true,
        ),
        (r#"{"StringNotLike":{"aws:Referer":"a*"}}"#, none, true),
        (r#"{"StringLikeIfExists":{"aws:Referer":"a*"}}"#, none, true),
    ]);
}

#[test]
fn numeric() {
    let n = |v: &'static str| move |c: RequestContext| c.with_key("s3:max-keys", v);
    let rows: Vec<(&str, DynCtx, bool)> = vec![
        (
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            Box::new(n("10")),
            true,
        ),
        (
            r#"{"NumericEquals":{"s3:max-keys":10}}"#,
            Box::new(n("10.0")),
            true,
        ),
        (
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            Box::new(n("11")),
            false,
        ),
        (
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            Box::new(n("ten")),
            false,
        ),
        (
            r#"{"NumericNotEquals":{"s3:max-keys":["10","11"]}}"#,
            Box::new(n("11")),
            false,
        ),
        (
            r#"{"NumericNotEquals":{"s3:max-keys":["10","11"]}}"#,
            Box::new(n("12")),
            true,
        ),
        (
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            Box::new(none),
            true,
        ),
        (
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            Box::new(n("9.99")),
            true,
        ),
        (
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            Box::new(n("10")),
            false,
        ),
        (
            r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
            Box::new(n("10")),
            true,
        ),
        (
            r#"{"NumericLessThanEquals":{"s3:max-keys":"-1.5"}}"#,
            Box::new(n("-2")),
            true,
        ),
        (
            r#"{"NumericGreaterThan":{"s3:max-keys":"1.5"}}"#,
            Box::new(n("1.25")),
            false,
        ),
        (
            r#"{"NumericGreaterThan":{"s3:max-keys":"1.5"}}"#,
            Box::new(n("2")),
            true,
        ),
        (
            r#"{"NumericGreaterThanEquals":{"s3:max-keys":"2"}}"#,
            Box::new(n("2.000")),
            true,
        ),
        (
            r#"{"NumericGreaterThanEquals":{"s3:max-keys":"2"}}"#,
            Box::new(none),
            false,
        ),
        (
            r#"{"NumericGreaterThanEqualsIfExists":{"s3:max-keys":"2"}}"#,
            Box::new(none),
            true,
        ),
        (
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            Box::new(|c: RequestContext| c.with_values("s3:max-keys", ["1"])),
            false,
        ),
    ];
    for (i, (cond, ctx, want)) in rows.into_iter().enumerate() {
        assert_eq!(holds(cond, ctx), want, "row {i}: {cond}");
    }
}

#[test]
fn date() {
    let now: Ctx = |c| c.with_current_time(datetime!(2024-06-01 12:00:00 UTC));
    table(&[
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2024-06-01T12:00:01Z"}}"#,
            now,
            true,
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}}"#,
            now,
            false,
        ),
        (
            r#"{"DateLessThanEquals":{"aws:CurrentTime":"2024-06-01T14:00:00+02:00"}}"#,
            now,
            true,
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-06-01"}}"#,
            now,
            true,
        ),
        (
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"1717243200"}}"#,
            now,
            true,
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":1717243200}}"#,
            now,
            false,
        ),
        (
            r#"{"DateEquals":{"aws:EpochTime":"2024-06-01T12:00:00Z"}}"#,
            now,
            true,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":["2024-06-01T12:00:00Z","2020-01-01T00:00:00Z"]}}"#,
            now,
            false,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            now,
            true,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            none,
            true,
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
            none,
            false,
        ),
        (
            r#"{"DateLessThanIfExists":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}"#,
            none,
            true,
        ),
        (
            r#"{"DateGreaterThan":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}}"#,
            |c| c.with_token_issue_time(datetime!(2024-05-01 0:00 UTC)),
            true,
        ),
        (
            r#"{"DateLessThan":{"x:when":"2024-06-01T12:00:01Z"}}"#,
            |c| c.with_key("x:when", "2024-06-01T12:00:00.5Z"),
            true,
        ),
        (
            r#"{"DateLessThan":{"x:when":"2024-06-01T12:00:01Z"}}"#,
            |c| c.with_key("x:when", "soon"),
            false,
        ),
        (
            r#"{"NumericLessThan":{"aws:EpochTime":"1717243201"}}"#,
            now,
            true,
        ),
    ]);
}

#[test]
fn bool_and_binary() {
    table(&[
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            |c| c.with_secure_transport(true),
            true,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":true}}"#,
            |c| c.with_secure_transport(true),
            true,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
            |c| c.with_secure_transport(true),
            false,
        ),
        (r#"{"Bool":{"aws:SecureTransport":"false"}}"#, none, false),
        (
            r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}"#,
            none,
            true,
        ),
        (
            r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}"#,
            |c| c.with_multi_factor_auth_present(false),
            false,
        ),
        (
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#,
            |c| c.with_key("aws:MultiFactorAuthPresent", "TRUE"),
            true,
        ),
        (
            r#"{"BinaryEquals":{"x:bin":"aGVsbG8="}}"#,
            |c| c.with_key("x:bin", "hello"),
            true,
        ),
        (
            r#"{"BinaryEquals":{"x:bin":"aGVsbG8="}}"#,
            |c| c.with_key("x:bin", "hell"),
            false,
        ),
        (r#"{"BinaryEquals":{"x:bin":"aGVsbG8="}}"#, none, false),
        (
            r#"{"BinaryEqualsIfExists":{"x:bin":"aGVsbG8="}}"#,
            none,
            true,
        ),
    ]);
}
