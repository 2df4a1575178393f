//! Property: adding a Deny that matches the request always yields an explicit deny, never an allow.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::iam_support;

use std::net::{IpAddr, Ipv4Addr};

use iam_support::*;
use proptest::prelude::*;
use proptest::sample::select;
use tower_sigv4::iam::{Caller, Outcome, Policy, RequestContext};

const ACTIONS: &[&str] = &[
    "execute-api:Invoke",
    "execute-api:*",
    "execute-api:Inv?ke",
    "*",
    "s3:GetObject",
    "execute-api:ManageConnections",
];
const RESOURCES: &[&str] = &[
    "*",
    "execute-api:/*",
    "execute-api:/prod/GET/",
    "execute-api:/prod/*/admin/*",
    "arn:aws:execute-api:*:*:apiid/*",
    "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/home/${aws:username}/*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:execute-api:us-east-1:*",
];
/// Resource entries with a variable that no caller of [`caller`] has a value for.
const UNRESOLVED: &[&str] = &[
    "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/home/${aws:PrincipalTag/none}/*",
    "arn:aws:execute-api:us-east-1:123456789012:apiid/${aws:PrincipalTag/absent}*",
    "execute-api:/${aws:PrincipalTag/none}",
    "arn:aws:execute-api:*:*:*${aws:PrincipalTag/none}*",
];
const CONDITIONS: &[&str] = &[
    "",
    r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#,
    r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
    r#","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#,
    r#","Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/R"}}"#,
    r#","Condition":{"StringLikeIfExists":{"aws:Referer":"https://*"}}"#,
    r#","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
    r#","Condition":{"Null":{"aws:Referer":"true"}}"#,
];
const PRINCIPALS: &[&str] = &[
    r#""*""#,
    r#"{"AWS":"123456789012"}"#,
    r#"{"AWS":"arn:aws:iam::098765432109:root"}"#,
    r#"{"AWS":"arn:aws:iam::123456789012:user/alice"}"#,
    r#"{"AWS":["arn:aws:iam::123456789012:role/R","arn:aws:iam::098765432109:user/carol"]}"#,
    r#"{"AWS":"arn:aws:sts::123456789012:assumed-role/R/s1"}"#,
];
const PATHS: &[&str] = &[
    "prod/GET/",
    "prod/GET/home/alice/x",
    "prod/POST/admin/x",
    "test/GET/y",
];
const CALLERS: usize = 5;

fn caller(i: usize) -> Caller {
    match i {
        0 => user("arn:aws:iam::123456789012:user/alice"),
        1 => user("arn:aws:iam::123456789012:user/bob").with_tag("team", "x"),
        2 => user("arn:aws:iam::098765432109:user/carol"),
        3 => session("arn:aws:iam::123456789012:role/R", "s1"),
        _ => session("arn:aws:iam::098765432109:role/ext/R", "s1"),
    }
}

fn statement(resource_policy: bool) -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(select(ACTIONS), 1..3),
        any::<bool>(),
        proptest::collection::vec(select(RESOURCES), 1..3),
        select(CONDITIONS),
        select(PRINCIPALS),
        any::<bool>(),
    )
        .prop_map(
            move |(
                deny,
                not_action,
                actions,
                not_resource,
                resources,
                cond,
                principal,
                not_principal,
            )| {
                let list = |v: Vec<&str>| {
                    format!(
                        "[{}]",
                        v.iter()
                            .map(|s| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                };
                let effect = if deny { "Deny" } else { "Allow" };
                let action = if not_action { "NotAction" } else { "Action" };
                let res = if not_resource {
                    "NotResource"
                } else {
                    "Resource"
                };
                let who = match (resource_policy, deny && not_principal) {
                    (false, _) => String::new(),
                    (true, true) => format!(r#","NotPrincipal":{principal}"#),
                    (true, false) => format!(r#","Principal":{principal}"#),
                };
                format!(
                    r#"{{"Effect":"{effect}","{action}":{},"{res}":{}{who}{cond}}}"#,
                    list(actions),
                    list(resources)
                )
            },
        )
}

fn policy_text(resource_policy: bool) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(statement(resource_policy), 1..5)
}

fn doc(statements: &[String]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

#[derive(Debug, Clone)]
struct Case {
    identity: Vec<Vec<String>>,
    session: Option<Vec<String>>,
    resource: Option<Vec<String>>,
    caller: usize,
    action: &'static str,
    path: &'static str,
    secure: bool,
    ip: [u8; 4],
    referer: Option<&'static str>,
    /// Where the Deny goes: 0 identity (new policy), 1 identity (appended), 2 session, 3 resource.
    target: u8,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(policy_text(false), 0..4),
        proptest::option::of(policy_text(false)),
        proptest::option::of(policy_text(true)),
        0..CALLERS,
        select(&["execute-api:Invoke", "execute-api:invoke", "s3:GetObject"][..]),
        select(PATHS),
        any::<bool>(),
        prop_oneof![
            Just([10u8, 1, 2, 3]),
            Just([192u8, 168, 0, 1]),
            any::<[u8; 4]>()
        ],
        proptest::option::of(select(&["https://a", "http://b"][..])),
        0u8..4,
    )
        .prop_map(
            |(identity, session, resource, caller, action, path, secure, ip, referer, target)| {
                Case {
                    identity,
                    session,
                    resource,
                    caller,
                    action,
                    path,
                    secure,
                    ip,
                    referer,
                    target,
                }
            },
        )
}

fn parse_all(c: &Case) -> (Vec<Policy>, Option<Policy>, Option<Policy>) {
    let ids = c.identity.iter().map(|s| identity(&doc(s))).collect();
    let session = c.session.as_ref().map(|s| identity(&doc(s)));
    let res = c.resource.as_ref().map(|s| resource(&doc(s)));
    (ids, session, res)
}

fn context(c: &Case) -> RequestContext {
    let arn = format!(
        "arn:aws:execute-api:us-east-1:123456789012:apiid/{}",
        c.path
    );
    let mut ctx = RequestContext::new(caller(c.caller), c.action, arn)
        .with_secure_transport(c.secure)
        .with_source_ip(IpAddr::V4(Ipv4Addr::from(c.ip)));
    if let Some(r) = c.referer {
        ctx = ctx.with_key("aws:Referer", r);
    }
    ctx
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn matching_deny_always_wins(c in case()) {
        let ctx = context(&c);
        let (mut ids, mut session, mut res) = parse_all(&c);
        let before = decide(&ctx, &ids, session.as_ref(), res.as_ref());
        // The messages never fail to render for a denial.
        prop_assert_eq!(message(&before, &ctx).is_none(), before.is_allowed());

        let deny = r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#.to_owned();
        let deny_res = r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#.to_owned();
        match c.target {
            0 => ids.push(identity(&doc(&[deny]))),
            1 => {
                let mut first = c.identity.first().cloned().unwrap_or_default();
                first.push(deny);
                if ids.is_empty() { ids.push(identity(&doc(&first))) } else { ids[0] = identity(&doc(&first)) }
            }
            2 => {
                let mut s = c.session.clone().unwrap_or_default();
                s.push(deny);
                session = Some(identity(&doc(&s)));
            }
            _ => {
                let mut r = c.resource.clone().unwrap_or_default();
                r.push(deny_res);
                res = Some(resource(&doc(&r)));
            }
        }
        let after = decide(&ctx, &ids, session.as_ref(), res.as_ref());
        prop_assert_eq!(after.outcome(), Outcome::ExplicitDeny);
        prop_assert!(!after.statements().is_empty());
        let msg = message(&after, &ctx).unwrap_or_default();
        prop_assert!(msg.ends_with(" with an explicit deny"), "{}", msg);
    }

    #[test]
    fn without_allows_nothing_is_allowed(c in case()) {
        // Dropping every Allow statement can only deny.
        let only_denies = |v: &Vec<String>| v.iter().filter(|s| s.contains("\"Deny\"")).cloned().collect::<Vec<_>>();
        let ctx = context(&c);
        let ids: Vec<Policy> = c.identity.iter().map(only_denies).filter(|v| !v.is_empty()).map(|v| identity(&doc(&v))).collect();
        let res = c.resource.as_ref().map(only_denies).filter(|v| !v.is_empty()).map(|v| resource(&doc(&v)));
        prop_assert!(!decide(&ctx, &ids, None, res.as_ref()).is_allowed());
    }

    #[test]
    fn unresolved_variables_never_widen_a_grant(
        c in case(),
        entries in proptest::collection::vec(select(UNRESOLVED), 1..3),
        others in proptest::collection::vec(select(RESOURCES), 0..3),
        not_resource in any::<bool>(),
        in_resource_policy in any::<bool>(),
    ) {
        // An Allow whose Resource entries all carry a variable without a value, or whose NotResource has at
        // least one such entry (among any others), never applies: adding it changes no decision.
        let ctx = context(&c);
        let (mut ids, session, mut res) = parse_all(&c);
        let before = decide(&ctx, &ids, session.as_ref(), res.as_ref());
        let list = |v: &[&str]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(",");
        let (element, items) = if not_resource {
            ("NotResource", list(&[entries.as_slice(), others.as_slice()].concat()))
        } else {
            ("Resource", list(&entries))
        };
        if in_resource_policy {
            let allow = format!(r#"{{"Effect":"Allow","Principal":"*","Action":"*","{element}":[{items}]}}"#);
            let mut r = c.resource.clone().unwrap_or_default();
            r.push(allow);
            res = Some(resource(&doc(&r)));
        } else {
            let allow = format!(r#"{{"Effect":"Allow","Action":"*","{element}":[{items}]}}"#);
            ids.push(identity(&doc(&[allow])));
        }
        let after = decide(&ctx, &ids, session.as_ref(), res.as_ref());
        prop_assert_eq!(after.outcome(), before.outcome());

        // A Deny whose NotResource entries all carry such a variable excludes nothing: it always applies.
        let deny = format!(r#"{{"Effect":"Deny","Action":"*","NotResource":[{}]}}"#, list(&entries));
        ids.push(identity(&doc(&[deny])));
        let denied = decide(&ctx, &ids, session.as_ref(), res.as_ref());
        prop_assert_eq!(denied.outcome(), Outcome::ExplicitDeny);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = Policy::parse(&s, tower_sigv4::iam::PolicyKind::Resource, None);
    }
}
