//! Condition operator tables, continued: IP, ARN, Null, set operators, AND.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::iam_support;

use std::net::IpAddr;

use iam_support::holds;
use tower_sigv4::iam::RequestContext;

type Ctx = fn(RequestContext) -> RequestContext;

fn none(c: RequestContext) -> RequestContext {
    c
}

/// Runs a table of (condition block, context, expected).
fn table(rows: &[(&str, Ctx, bool)]) {
    for (i, (cond, ctx, want)) in rows.iter().enumerate() {
        assert_eq!(holds(cond, *ctx), *want, "row {i}: {cond}");
    }
}

fn referer(v: &'static str) -> impl Fn(RequestContext) -> RequestContext {
    move |c| c.with_key("aws:Referer", v)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn ip_address() {
    table(&[
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            |c| c.with_source_ip(ip("203.0.113.77")),
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            |c| c.with_source_ip(ip("203.0.114.1")),
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.9"}}"#,
            |c| c.with_source_ip(ip("203.0.113.9")),
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.9"}}"#,
            |c| c.with_source_ip(ip("203.0.113.10")),
            false,
        ),
        (
            r#"{"IpAddress":{"aws:sourceip":["10.0.0.0/8","2001:db8::/32"]}}"#,
            |c| c.with_source_ip(ip("2001:db8:1::5")),
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"2001:db8::1"}}"#,
            |c| c.with_source_ip(ip("2001:db8::1")),
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"2001:db8::1"}}"#,
            |c| c.with_source_ip(ip("2001:db8::2")),
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
            |c| c.with_source_ip(ip("2001:db8::2")),
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            |c| c.with_source_ip(ip("::ffff:203.0.113.5")),
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            |c| c.with_key("aws:SourceIp", "203.0.113.5"),
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            none,
            false,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#,
            |c| c.with_source_ip(ip("192.168.1.1")),
            false,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#,
            |c| c.with_source_ip(ip("8.8.8.8")),
            true,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            none,
            true,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"fe80::/10"}}"#,
            |c| c.with_source_ip(ip("fe80::1")),
            false,
        ),
        (
            r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            none,
            true,
        ),
    ]);
}

#[test]
fn arn_operators() {
    table(&[
        (
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/alice"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#,
            none,
            false,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam:*:123456789012:user/alice"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam:us-*:123456789012:user/alice"}}"#,
            none,
            false,
        ),
        (
            r#"{"ArnLike":{"x:arn":"arn:aws:sns:*:123456789012:topic:sub"}}"#,
            |c| c.with_key("x:arn", "arn:aws:sns:eu-west-1:123456789012:topic:sub"),
            true,
        ),
        (
            r#"{"ArnLike":{"x:arn":"arn:aws:sns:*:123456789012:*"}}"#,
            |c| c.with_key("x:arn", "not-an-arn"),
            false,
        ),
        (
            r#"{"ArnNotEquals":{"aws:PrincipalArn":["arn:aws:iam::123456789012:user/alice","arn:aws:iam::123456789012:user/bob"]}}"#,
            none,
            false,
        ),
        (
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnNotLike":{"x:arn":"arn:aws:iam::*:role/*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"x:arn":"arn:aws:iam::*:role/*"}}"#,
            none,
            false,
        ),
        (
            r#"{"ArnLikeIfExists":{"x:arn":"arn:aws:iam::*:role/*"}}"#,
            none,
            true,
        ),
    ]);
}

#[test]
fn null() {
    table(&[
        (r#"{"Null":{"aws:Referer":"true"}}"#, none, true),
        (
            r#"{"Null":{"aws:Referer":true}}"#,
            |c| c.with_key("aws:Referer", "x"),
            false,
        ),
        (
            r#"{"Null":{"aws:Referer":"false"}}"#,
            |c| c.with_key("aws:Referer", "x"),
            true,
        ),
        (r#"{"Null":{"aws:Referer":"false"}}"#, none, false),
        (
            r#"{"Null":{"aws:TagKeys":"true"}}"#,
            |c| c.with_values("aws:TagKeys", Vec::<String>::new()),
            true,
        ),
        (r#"{"Null":{"aws:username":"false"}}"#, none, true),
        (
            r#"{"Null":{"aws:PrincipalTag/missing":"true"}}"#,
            none,
            true,
        ),
    ]);
}

#[test]
fn set_operators() {
    let tags: Ctx = |c| c.with_values("aws:TagKeys", ["env", "team"]);
    let empty: Ctx = |c| c.with_values("aws:TagKeys", Vec::<String>::new());
    table(&[
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team","cost"]}}"#,
            tags,
            true,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#,
            tags,
            false,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#,
            none,
            true,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#,
            empty,
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","x"]}}"#,
            tags,
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["x"]}}"#,
            tags,
            false,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#,
            none,
            false,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#,
            empty,
            false,
        ),
        (
            r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}"#,
            none,
            true,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","admin"]}}"#,
            tags,
            true,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["team"]}}"#,
            tags,
            false,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["team"]}}"#,
            tags,
            true,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["team"]}}"#,
            none,
            false,
        ),
        (
            r#"{"ForAnyValue:StringLike":{"aws:TagKeys":"te*"}}"#,
            tags,
            true,
        ),
        (
            r#"{"ForAllValues:StringLike":{"aws:TagKeys":"*e*"}}"#,
            tags,
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:username":"alice"}}"#,
            none,
            true,
        ),
        (
            r#"{"ForAnyValue:IpAddress":{"x:ips":"10.0.0.0/8"}}"#,
            |c| c.with_values("x:ips", ["192.0.2.1", "10.1.1.1"]),
            true,
        ),
        (
            r#"{"ForAllValues:IpAddress":{"x:ips":"10.0.0.0/8"}}"#,
            |c| c.with_values("x:ips", ["192.0.2.1", "10.1.1.1"]),
            false,
        ),
        (
            r#"{"StringEquals":{"aws:TagKeys":"env"}}"#,
            |c| c.with_values("aws:TagKeys", ["env"]),
            false,
        ),
        (r#"{"StringNotEquals":{"aws:TagKeys":"x"}}"#, tags, false),
    ]);
}

#[test]
fn and_across_operators_and_keys() {
    let both: Ctx = |c| c.with_key("aws:Referer", "a").with_secure_transport(true);
    let one: Ctx = |c| c.with_key("aws:Referer", "a").with_secure_transport(false);
    table(&[
        (
            r#"{"StringEquals":{"aws:Referer":"a"},"Bool":{"aws:SecureTransport":"true"}}"#,
            both,
            true,
        ),
        (
            r#"{"StringEquals":{"aws:Referer":"a"},"Bool":{"aws:SecureTransport":"true"}}"#,
            one,
            false,
        ),
        (
            r#"{"StringEquals":{"aws:Referer":"a","aws:SecureTransport":"true"}}"#,
            both,
            true,
        ),
        (
            r#"{"StringEquals":{"aws:Referer":"a","aws:SecureTransport":"true"}}"#,
            one,
            false,
        ),
        (r#"{}"#, none, true),
    ]);
    // Keys set twice: the last value wins; names compare case-insensitively.
    assert!(holds(r#"{"StringEquals":{"aws:Referer":"b"}}"#, |c| {
        referer("a")(c).with_key("AWS:REFERER", "b")
    }));
}

fn v(value: &'static str) -> impl Fn(RequestContext) -> RequestContext {
    move |c| c.with_key("x:v", value)
}

/// A context closure (not a plain fn).
type DynCtx = Box<dyn Fn(RequestContext) -> RequestContext>;

/// Runs a table whose contexts are closures.
fn table_dyn(rows: &[(&str, DynCtx, bool)]) {
    for (i, (cond, ctx, want)) in rows.iter().enumerate() {
        assert_eq!(holds(cond, ctx), *want, "row {i}: {cond}");
    }
}

#[test]
fn unreadable_values_match_neither_way() {
    let mut rows: Vec<(&str, DynCtx, bool)> = Vec::new();
    // (operator, its negation or "", a policy value, a readable context value matching it, unreadable values)
    let families: &[(&str, &str, &str, &'static str, &[&'static str])] = &[
        (
            "NumericEquals",
            "NumericNotEquals",
            "5",
            "5.0",
            &["five", "1e3", "0x5", ""],
        ),
        ("NumericLessThan", "", "5", "4", &["four"]),
        ("NumericGreaterThanEquals", "", "5", "5", &["-"]),
        (
            "DateEquals",
            "DateNotEquals",
            "2024-06-01T00:00:00Z",
            "2024-06-01",
            &["soon", "2024-13-01"],
        ),
        (
            "DateGreaterThan",
            "",
            "2024-06-01T00:00:00Z",
            "2025-01-01T00:00:00Z",
            &["later"],
        ),
        ("Bool", "", "true", "true", &["yes", "1"]),
        ("Bool", "", "false", "false", &["no", "0"]),
        (
            "IpAddress",
            "NotIpAddress",
            "10.0.0.0/8",
            "10.1.2.3",
            &["not-an-ip", "10.0.0.0/8", "10.1.2.3:80"],
        ),
        (
            "ArnEquals",
            "ArnNotEquals",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:user/alice",
            &[
                "not-an-arn",
                "arn:aws:iam",
                "xrn:aws:iam::123456789012:user/alice",
                "arn:aws:iam::123456789012",
            ],
        ),
        (
            "ArnLike",
            "ArnNotLike",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::123456789012:role/R",
            &[
                "not-an-arn",
                "arn:aws:iam",
                "xrn:aws:iam::123456789012:user/alice",
            ],
        ),
        (
            "ArnLike",
            "ArnNotLike",
            "*",
            "arn:aws:s3:::b",
            &["not-an-arn"],
        ),
    ];
    for &(op, not_op, policy, readable, unreadable) in families {
        // Sanity: a readable value does match the operator, and not its negation.
        rows.push((leak(op, policy), Box::new(v(readable)), true));
        if !not_op.is_empty() {
            rows.push((leak(not_op, policy), Box::new(v(readable)), false));
        }
        for &bad in unreadable {
            rows.push((leak(op, policy), Box::new(v(bad)), false));
            rows.push((
                leak(&format!("{op}IfExists"), policy),
                Box::new(v(bad)),
                false,
            ));
            if !not_op.is_empty() {
                rows.push((leak(not_op, policy), Box::new(v(bad)), false));
                rows.push((
                    leak(&format!("{not_op}IfExists"), policy),
                    Box::new(v(bad)),
                    false,
                ));
            }
        }
    }
    // aws:SourceIp given as text that is not an address.
    rows.push((
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        Box::new(|c: RequestContext| c.with_key("aws:SourceIp", "unknown")),
        false,
    ));
    rows.push((
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        Box::new(|c: RequestContext| c.with_key("aws:SourceIp", "unknown")),
        false,
    ));
    table_dyn(&rows);
}

/// `{"OP":{"x:v":"POLICY"}}`, leaked so that it can sit in a table of `&str`.
fn leak(op: &str, policy: &str) -> &'static str {
    Box::leak(format!(r#"{{"{op}":{{"x:v":"{policy}"}}}}"#).into_boxed_str())
}

#[test]
fn unreadable_members_of_set_operators_match_neither_way() {
    let many = |values: &'static [&'static str]| {
        Box::new(move |c: RequestContext| c.with_values("x:vs", values.iter().copied())) as DynCtx
    };
    table_dyn(&[
        // One readable member matching the negated operator, one unreadable member.
        (
            r#"{"ForAllValues:ArnNotLike":{"x:vs":"arn:aws:iam::*:role/*"}}"#,
            many(&["arn:aws:iam::123456789012:user/a", "junk"]),
            false,
        ),
        (
            r#"{"ForAnyValue:ArnNotLike":{"x:vs":"arn:aws:iam::*:role/*"}}"#,
            many(&["arn:aws:iam::123456789012:user/a", "junk"]),
            true,
        ),
        (
            r#"{"ForAnyValue:ArnNotLike":{"x:vs":"arn:aws:iam::*:role/*"}}"#,
            many(&["junk"]),
            false,
        ),
        (
            r#"{"ForAnyValue:ArnNotEquals":{"x:vs":"arn:aws:iam::123456789012:user/a"}}"#,
            many(&["junk", "arn:aws:iam"]),
            false,
        ),
        (
            r#"{"ForAllValues:ArnNotLikeIfExists":{"x:vs":"arn:aws:iam::*:role/*"}}"#,
            many(&["junk"]),
            false,
        ),
        (
            r#"{"ForAllValues:ArnLike":{"x:vs":"*"}}"#,
            many(&["arn:aws:s3:::b", "junk"]),
            false,
        ),
        (
            r#"{"ForAnyValue:ArnLike":{"x:vs":"*"}}"#,
            many(&["junk"]),
            false,
        ),
        (
            r#"{"ForAllValues:NumericNotEquals":{"x:vs":"5"}}"#,
            many(&["1", "x"]),
            false,
        ),
        (
            r#"{"ForAnyValue:NumericNotEquals":{"x:vs":"5"}}"#,
            many(&["x"]),
            false,
        ),
        (
            r#"{"ForAnyValue:NotIpAddress":{"x:vs":"10.0.0.0/8"}}"#,
            many(&["junk"]),
            false,
        ),
        (
            r#"{"ForAllValues:NotIpAddress":{"x:vs":"10.0.0.0/8"}}"#,
            many(&["192.0.2.1", "junk"]),
            false,
        ),
        (
            r#"{"ForAllValues:DateNotEquals":{"x:vs":"2024-06-01"}}"#,
            many(&["soon"]),
            false,
        ),
        (
            r#"{"ForAllValues:Bool":{"x:vs":"true"}}"#,
            many(&["true", "maybe"]),
            false,
        ),
    ]);
}

#[test]
fn short_arn_patterns_in_conditions() {
    // aws:PrincipalArn of alice: arn:aws:iam::123456789012:user/alice. A final `*` spans the rest, colons too.
    table(&[
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam:*"}}"#,
            none,
            true,
        ),
        (r#"{"ArnLike":{"aws:PrincipalArn":"arn:*"}}"#, none, true),
        (
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::1234*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::9*"}}"#,
            none,
            false,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:sts:*"}}"#,
            none,
            false,
        ),
        (
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*"}}"#,
            none,
            false,
        ),
        (
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:sts:*"}}"#,
            none,
            true,
        ),
        (
            r#"{"ArnLike":{"x:arn":"arn:aws:sns:us-*"}}"#,
            |c| c.with_key("x:arn", "arn:aws:sns:us-east-1:123456789012:topic:sub"),
            true,
        ),
        (
            r#"{"ArnLike":{"x:arn":"arn:aws:sns:us-*"}}"#,
            |c| c.with_key("x:arn", "arn:aws:sns:eu-west-1:123456789012:topic:sub"),
            false,
        ),
        // Still an ARN pattern: a value that is not an ARN matches neither way.
        (
            r#"{"ArnLike":{"x:arn":"arn:*"}}"#,
            |c| c.with_key("x:arn", "arn:aws"),
            false,
        ),
        (
            r#"{"ArnNotLike":{"x:arn":"arn:*"}}"#,
            |c| c.with_key("x:arn", "arn:aws"),
            false,
        ),
    ]);
    // With a variable (2012-10-17): arn:aws:iam::${aws:PrincipalAccount}* is five parts ending in `*`.
    assert!(holds(
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}*"}}"#,
        none
    ));
    assert!(!holds(
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalTag/none}*"}}"#,
        none
    ));
}
