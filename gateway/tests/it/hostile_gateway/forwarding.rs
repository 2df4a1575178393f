//! What reaches the upstream of a caller's headers and query: identity look-alikes, headers
//! with `_`, and the presigned-URL parameters.

use super::*;

const LOOKALIKES: [(&str, &str); 6] = [
    ("x-sigv4-principal-arn", "evil"),
    ("X_SIGV4_PRINCIPAL_ARN", "evil"),
    ("x_sigv4-account", "evil"),
    ("x-sigv4_principal-type", "evil"),
    ("X-SIGV4-ACCOUNT", "evil"),
    ("x-sigv4-", "evil"),
];

/// Sends a GET signed by alice with the look-alikes and `my_header: 1`; the upstream's view.
fn forwarded_headers(underscores: Option<&str>) -> Seen {
    let up = Upstream::start();
    let cfg = match underscores {
        Some(v) => Cfg::new().proxy(&format!("underscore_headers = \"{v}\"")),
        None => Cfg::new(),
    };
    let gw = Gateway::start_with(&cfg.render(), &["--upstream", &up.url()]);
    let mut extra = LOOKALIKES.to_vec();
    extra.push(("my_header", "1"));
    extra.push(("x-plain", "kept"));
    let reply = exchange(
        &gw,
        "GET",
        "/hello",
        Some(Signing::new(&alice())),
        b"",
        &extra,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let seen = up.settled();
    assert_eq!(seen.len(), 1);
    seen.into_iter().next().unwrap()
}

/// The upstream's headers whose name reads as an identity header (`_` as `-`, any case).
fn identity_headers(seen: &Seen) -> Vec<(String, String)> {
    seen.headers
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().replace('_', "-").contains("sigv4"))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

fn the_gateways_three() -> Vec<(String, String)> {
    [
        ("x-sigv4-principal-arn", ALICE),
        ("x-sigv4-account", "123456789012"),
        ("x-sigv4-principal-type", "User"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

#[test]
fn identity_lookalikes_and_underscore_headers_are_dropped_by_default() {
    let seen = forwarded_headers(None);
    let mut identity = identity_headers(&seen);
    identity.sort();
    let mut expected = the_gateways_three();
    expected.sort();
    assert_eq!(identity, expected, "{:?}", seen.headers);
    assert!(
        seen.headers.iter().all(|(k, _)| !k.contains('_')),
        "{:?}",
        seen.headers
    );
    assert_eq!(seen.header("x-plain"), Some("kept"));
}

#[test]
fn underscore_headers_forwarded_on_request_but_never_the_lookalikes() {
    let seen = forwarded_headers(Some("forward"));
    let mut identity = identity_headers(&seen);
    identity.sort();
    let mut expected = the_gateways_three();
    expected.sort();
    assert_eq!(identity, expected, "{:?}", seen.headers);
    let underscored: Vec<&(String, String)> = seen
        .headers
        .iter()
        .filter(|(k, _)| k.contains('_'))
        .collect();
    assert_eq!(
        underscored,
        vec![&("my_header".to_owned(), "1".to_owned())],
        "{:?}",
        seen.headers
    );
}

/// The presigned-URL parameters, in any case.
fn is_presign_key(key: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
    [
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-amz-signature",
        "x-amz-security-token",
    ]
    .contains(&decoded.to_ascii_lowercase().as_str())
}

#[test]
fn presigned_parameters_never_reach_the_upstream() {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().render(), &["--upstream", &up.url()]);
    let (parts, ()) = http::Request::builder()
        .uri("/hello?b=2&a=1&c=%20x&empty=&x-amz-signature=lower")
        .header("host", gw.authority())
        .body(())
        .unwrap()
        .into_parts();
    let url = Signer::new(alice(), "us-east-1", "execute-api")
        .presign(
            &parts,
            SignablePayload::Bytes(b""),
            Duration::from_secs(60),
            now(),
        )
        .unwrap();
    // The signature covers the sorted query: interleave the presign parameters with the
    // caller's, which must arrive in their order.
    let pieces: Vec<&str> = url.query().unwrap().split('&').collect();
    let (presign, caller): (Vec<&str>, Vec<&str>) =
        pieces.iter().partition(|p| p.starts_with("X-Amz-"));
    assert_eq!(presign.len(), 6, "{pieces:?}");
    let mut mixed = Vec::new();
    for (i, p) in caller.iter().enumerate() {
        mixed.push(*p);
        if let Some(q) = presign.get(i) {
            mixed.push(*q);
        }
    }
    mixed.extend(presign.iter().skip(caller.len()));
    let target = format!("/hello?{}", mixed.join("&"));
    let reply = exchange(&gw, "GET", &target, None, b"", &[]);
    assert_eq!(reply.status, 200, "{target}: {reply:?}");
    let seen = up.settled();
    assert_eq!(seen[0].target(), "/hello?b=2&a=1&c=%20x&empty=");

    // A header-signed request whose query holds the names in other cases and encoded forms.
    let target = "/hello?a=1&X%2DAmz%2DCredential=q&x-amz-date=d&X-Amz-Signature=s&x%2damz%2dsecurity%2dtoken=t&b=2&X-AMZ-EXPIRES=5&X-Amz-SignedHeaders=host&z=X-Amz-Date";
    let reply = alice_get(&gw, target);
    assert_eq!(reply.status, 200, "{reply:?}");
    let seen = up.settled();
    let forwarded = seen[1].target();
    assert_eq!(forwarded, "/hello?a=1&b=2&z=X-Amz-Date");
    let query = forwarded.split_once('?').unwrap().1;
    assert!(
        query
            .split('&')
            .all(|p| !is_presign_key(p.split('=').next().unwrap())),
        "{forwarded}"
    );
}

/// A presigned GET URL without `X-Amz-Expires` (as the `aws4` npm signer makes them), dated
/// `time`, with `query` (already canonical, sorted before the `X-Amz-` parameters).
fn presign_without_expires(host: &str, path: &str, query: &str, time: SystemTime) -> String {
    use hmac::Mac;
    type Hmac = hmac::Hmac<sha2::Sha256>;
    let mac = |key: &[u8], data: &str| {
        let mut m = Hmac::new_from_slice(key).unwrap();
        m.update(data.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let amz_date = time::OffsetDateTime::from(time)
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap();
    let date = &amz_date[..8];
    let scope = format!("{date}/us-east-1/execute-api/aws4_request");
    let mut params = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={KEY}%2F{}&X-Amz-Date={amz_date}&X-Amz-SignedHeaders=host",
        scope.replace('/', "%2F")
    );
    if !query.is_empty() {
        params = format!("{params}&{query}");
    }
    let mut sorted: Vec<&str> = params.split('&').collect();
    sorted.sort_unstable();
    let canonical_query = sorted.join("&");
    let canonical = format!(
        "GET\n{path}\n{canonical_query}\nhost:{host}\n\nhost\n{}",
        sha256_hex(b"")
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let mut key = mac(format!("AWS4{SECRET}").as_bytes(), date);
    for part in ["us-east-1", "execute-api", "aws4_request"] {
        key = mac(&key, part);
    }
    let signature = hex::encode(mac(&key, &to_sign));
    format!("{path}?{params}&X-Amz-Signature={signature}")
}

#[test]
fn presigned_url_without_expires_is_accepted_within_the_skew_window() {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().render(), &["--upstream", &up.url()]);
    let host = gw.authority();
    let target = presign_without_expires(&host, "/hello", "a=1", now());
    assert!(!target.contains("X-Amz-Expires"));
    let reply = exchange(&gw, "GET", &target, None, b"", &[]);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(up.settled()[0].target(), "/hello?a=1");

    // Outside the window (5 min), either way: rows 11 and 12.
    let old = now() - Duration::from_secs(600);
    let reply = exchange(
        &gw,
        "GET",
        &presign_without_expires(&host, "/hello", "a=1", old),
        None,
        b"",
        &[],
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(
        reply.header("x-amzn-errortype"),
        Some("InvalidSignatureException")
    );
    let text = reply.text();
    assert!(
        text.starts_with(r#"{"message":"Signature expired: "#) && text.ends_with(" - 5 min.)\"}"),
        "{text}"
    );
    let future = now() + Duration::from_secs(600);
    let reply = exchange(
        &gw,
        "GET",
        &presign_without_expires(&host, "/hello", "a=1", future),
        None,
        b"",
        &[],
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    let text = reply.text();
    assert!(
        text.starts_with(r#"{"message":"Signature not yet current: "#)
            && text.ends_with(" + 5 min.)\"}"),
        "{text}"
    );
    assert_eq!(up.seen().len(), 1);
}
