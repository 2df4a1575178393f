//! STS `AssumeRole` with a trust policy on `aws:SourceIp`, behind a trusted proxy. (The
//! session name has two characters: STS requires 2 to 64.)

use super::*;

const ASSUME_OFFICE: &[u8] = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FOffice&RoleSessionName=s1";
const DENIED: &str = "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Office";

fn xml_tag<'a>(body: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no {name}: {body}"))
        + open.len();
    let end = body[start..].find('<').unwrap() + start;
    &body[start..end]
}

/// AssumeRole of `Office` by alice, with these (unsigned) `X-Forwarded-For` headers.
fn assume_office(gw: &Gateway, forwarded_for: &[&str]) -> Reply {
    let extra: Vec<(&str, &str)> = forwarded_for
        .iter()
        .map(|v| ("x-forwarded-for", *v))
        .collect();
    exchange(
        gw,
        "POST",
        "/",
        Some(Signing::new(&alice()).service("sts")),
        ASSUME_OFFICE,
        &extra,
    )
}

#[track_caller]
fn assert_denied(reply: &Reply) {
    let body = reply.text();
    assert_eq!(reply.status, 403, "{body}");
    assert_eq!(xml_tag(&body, "Code"), "AccessDenied", "{body}");
    assert_eq!(xml_tag(&body, "Message"), DENIED, "{body}");
}

#[test]
fn source_ip_comes_from_the_trusted_proxys_forwarded_for() {
    let gw = Gateway::start(
        &Cfg::new()
            .auth(r#"trusted_proxies = ["127.0.0.1/32"]"#)
            .render(),
    );
    let reply = assume_office(&gw, &["10.1.2.3"]);
    let body = reply.text();
    assert_eq!(reply.status, 200, "{body}");
    assert_eq!(
        xml_tag(&body, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/Office/s1"
    );
    // The client's own entries in front of the proxy's do not count.
    let reply = assume_office(&gw, &["203.0.113.9, 10.1.2.3"]);
    assert_eq!(reply.status, 200, "{}", reply.text());

    assert_denied(&assume_office(&gw, &["203.0.113.9"]));
    assert_denied(&assume_office(&gw, &["10.1.2.3, 203.0.113.9"]));
    assert_denied(&assume_office(&gw, &["10.1.2.3", "203.0.113.9"]));
    // No header: the peer itself (127.0.0.1); a malformed entry: no further than the peer.
    assert_denied(&assume_office(&gw, &[]));
    assert_denied(&assume_office(&gw, &["10.1.2.3, not-an-ip"]));
}

#[test]
fn forwarded_for_is_ignored_from_an_untrusted_peer() {
    let gw = Gateway::start(&Cfg::new().render());
    assert_denied(&assume_office(&gw, &["10.1.2.3"]));
}

#[test]
fn an_sts_request_with_an_ambiguous_target_is_refused_in_xml() {
    let gw = Gateway::start(&Cfg::new().render());
    let reply = exchange(
        &gw,
        "POST",
        "/x%5c..%5c",
        Some(Signing::new(&alice()).service("sts")),
        b"Action=GetCallerIdentity&Version=2011-06-15",
        &[],
    );
    let body = reply.text();
    assert_eq!(reply.status, 400, "{body}");
    assert_eq!(reply.header("content-type"), Some("text/xml"), "{reply:?}");
    assert_eq!(xml_tag(&body, "Code"), "InvalidRequest", "{body}");
    assert_eq!(
        xml_tag(&body, "Message"),
        "Invalid request target",
        "{body}"
    );
}
