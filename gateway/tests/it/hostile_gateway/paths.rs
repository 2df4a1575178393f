//! Row 0: request targets that upstreams could read as another path than the policy judged.

use super::*;

#[test]
fn encoded_slashes_are_separators_and_meet_the_deny() {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().render(), &["--upstream", &up.url()]);
    for target in [
        "/x%2F..%2Fadmin",
        "/%2Fadmin",
        "/x/..%2fadmin",
        // Encoded dots are dot segments too, whatever the case and the mix.
        "/x/%2e%2e/admin",
        "/x/%2E%2E%2Fadmin",
        "/x/.%2e/admin",
        "/%2e%2e/admin",
    ] {
        let reply = alice_get(&gw, target);
        reply.assert_rejection(403, "AccessDeniedException", &explicit_deny("admin"));
    }
    up.assert_untouched();
    // The control: the same caller reaches the upstream elsewhere.
    let reply = alice_get(&gw, "/hello");
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "upstream saw /hello")
    );
}

#[test]
fn ambiguous_escapes_and_path_parameters_are_refused_before_authentication() {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().render(), &["--upstream", &up.url()]);
    let creds = alice();
    for target in [
        "/x%5c..%5cadmin",
        "/%2561dmin",
        "/a%00b",
        "/..;/admin",
        "/admin;x",
        "/admin%3Bx",
        "/x/%C0%AE%C0%AE/admin",
        "/%zzadmin",
    ] {
        for signing in [None, Some(Signing::new(&creds))] {
            let reply = exchange(&gw, "GET", target, signing, b"", &[]);
            reply.assert_rejection(400, "BadRequestException", INVALID_TARGET);
        }
    }
    up.assert_untouched();
}

#[test]
fn raw_request_lines_a_client_library_would_not_send() {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().render(), &["--upstream", &up.url()]);
    let host = gw.authority();

    // A raw backslash passes hyper's parser (and `http::Uri`): the gateway's row 0 refuses
    // it, as it does the other forms no client library sends.
    let requests = [
        format!("GET /x\\..\\admin HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        format!("GET /\\admin HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".to_owned(),
        format!("OPTIONS * HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        format!("GET * HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        format!("GET /hello HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n\r\n"),
    ];
    for raw in &requests {
        let reply = raw_exchange(&gw, raw.as_bytes());
        assert_eq!(reply.status, 400, "{raw:?}: {reply:?}");
        reply.assert_rejection(400, "BadRequestException", INVALID_TARGET);
    }
    // A signed request with a second, unsigned Host.
    let raw = head(
        &gw,
        "GET",
        "/hello",
        Some(Signing::new(&alice())),
        b"",
        &[("host", "evil.example")],
    );
    raw_exchange(&gw, raw.as_bytes()).assert_rejection(400, "BadRequestException", INVALID_TARGET);
    up.assert_untouched();
}

#[test]
fn an_allowed_path_is_forwarded_as_judged() {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().render(), &["--upstream", &up.url()]);
    for (sent, forwarded) in [
        ("/x/../hello%2Fworld", "/hello/world"),
        ("/a/./b//c/%7euser", "/a/b/c/~user"),
        ("/x/../hello?b=2&a=1", "/hello?b=2&a=1"),
    ] {
        let reply = alice_get(&gw, sent);
        assert_eq!(
            (reply.status, reply.text()),
            (200, format!("upstream saw {forwarded}")),
            "{sent}"
        );
        let seen = up.settled();
        assert_eq!(
            seen.last().unwrap().request_line,
            format!("GET {forwarded} HTTP/1.1")
        );
    }
    assert_eq!(up.seen().len(), 3);
}

#[test]
fn an_absolute_form_target_is_judged_by_its_path() {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().render(), &["--upstream", &up.url()]);
    let creds = alice();
    for (path, status) in [("/x/../admin", 403), ("/x/../hello", 200)] {
        let signed = head(&gw, "GET", path, Some(Signing::new(&creds)), b"", &[]);
        let absolute = signed.replacen(
            &format!("GET {path} "),
            &format!("GET http://{}{path} ", gw.authority()),
            1,
        );
        assert!(absolute.starts_with("GET http://"), "{absolute}");
        let reply = raw_exchange(&gw, absolute.as_bytes());
        assert_eq!(reply.status, status, "{path}: {reply:?}");
        if status == 403 {
            reply.assert_rejection(403, "AccessDeniedException", &explicit_deny("admin"));
        }
    }
    // Only the allowed one arrived, in origin form.
    let seen = up.settled();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].request_line, "GET /hello HTTP/1.1");
}
