//! Evaluation of a typical request against 10 identity policies × 5 statements plus a resource policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion};
use time::macros::datetime;
use tower_sigv4::iam::{
    evaluate, resource_arn, ApiContext, Caller, Evaluation, Policy, PolicyKind, RequestContext,
};

fn identity_policy(i: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
  {{"Sid":"S3","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-{i}/*"}},
  {{"Sid":"Home","Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/*/home/${{aws:username}}/*"}},
  {{"Sid":"Team","Effect":"Allow","Action":"execute-api:*","Resource":"arn:aws:execute-api:*:123456789012:apiid/*/GET/teams/{i}/*",
    "Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"team-{i}"}},"IpAddress":{{"aws:SourceIp":["10.{i}.0.0/16","2001:db8::/32"]}}}}}},
  {{"Sid":"Window","Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/test/*",
    "Condition":{{"DateLessThan":{{"aws:CurrentTime":"2030-01-01T00:00:00Z"}},"Bool":{{"aws:SecureTransport":"true"}}}}}},
  {{"Sid":"NoAdmin","Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/*/*/admin/*",
    "Condition":{{"StringNotLike":{{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/admin-*"}}}}}}
]}}"#
    )
}

const RESOURCE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"execute-api:Invoke","Resource":"execute-api:/*"},
  {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}
]}"#;

fn bench(c: &mut Criterion) {
    let api = ApiContext::new("us-east-1", "123456789012", "apiid");
    let ids: Vec<Policy> = (0..10)
        .map(|i| {
            Policy::parse(&identity_policy(i), PolicyKind::Identity, Some(&api))
                .unwrap()
                .with_name(format!("p{i}"))
        })
        .collect();
    let res = Policy::parse(RESOURCE_POLICY, PolicyKind::Resource, Some(&api)).unwrap();
    let caller = Caller::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE")
        .unwrap()
        .with_tag("team", "team-7");
    let arn = resource_arn(
        "us-east-1",
        "123456789012",
        "apiid",
        "prod",
        "GET",
        "/teams/7/report",
    );
    let ctx = RequestContext::new(caller, "execute-api:Invoke", arn)
        .with_source_ip("10.7.1.2".parse::<IpAddr>().unwrap())
        .with_secure_transport(true)
        .with_current_time(datetime!(2025-01-01 12:00 UTC));
    let eval = Evaluation::new(&ctx, "123456789012")
        .identity_policies(&ids)
        .resource_policy(Some(&res));
    assert!(evaluate(&eval).is_allowed());

    c.bench_function("iam evaluate 10x5 + resource policy", |b| {
        b.iter(|| evaluate(black_box(&eval)))
    });
    let text = identity_policy(3);
    c.bench_function("iam parse 5-statement policy", |b| {
        b.iter(|| Policy::parse(black_box(&text), PolicyKind::Identity, Some(&api)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
