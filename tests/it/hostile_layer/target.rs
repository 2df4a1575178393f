//! Row 0: the request target, judged before authentication.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use http::{Method, Request};
use proptest::prelude::*;
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::{
    judge_path, EncodedSlash, IamAuthorizer, PolicyDecision, PolicyRequest, RejectionKind,
    TargetRules,
};

use super::*;

/// A closure policy that denies path `/admin` and records every path it judged.
fn deny_admin(judged: &Arc<Mutex<Vec<String>>>) -> impl Fn(&PolicyRequest<'_>) -> PolicyDecision {
    let judged = judged.clone();
    move |req: &PolicyRequest<'_>| {
        let path = req.parts().uri.path().to_owned();
        judged.lock().unwrap().push(path.clone());
        if path == "/admin" {
            PolicyDecision::deny(format!(
                "User: {} is not authorized to access this resource",
                req.principal().arn()
            ))
        } else {
            PolicyDecision::Allow
        }
    }
}

/// Paths that read as `/admin` once judged.
const ADMIN_ALIASES: [&str; 10] = [
    "/x%2F..%2Fadmin",
    "/%2Fadmin",
    "/x/..%2fadmin",
    "/x/../admin",
    "/%61dmin",
    "//admin",
    "/./admin",
    "/%2e%2e/admin",
    "/x/%2E%2E%2Fadmin",
    "/%2F%2F%61%64%6D%69%6E",
];

#[tokio::test]
async fn admin_aliases_reach_the_inner_service_as_admin() {
    let v = verifier(config());
    for path in ADMIN_ALIASES {
        let seen = Seen::new();
        let req = Req::get(path).sign(&v, b"", TestBody::empty());
        let a = serve(layer(&v), seen.clone(), req).await;
        assert_passed(&a, &seen);
        assert_eq!(seen.target().as_deref(), Some("/admin"), "{path}");
    }
}

#[tokio::test]
async fn a_closure_policy_denying_admin_denies_every_alias() {
    let v = verifier(config());
    for path in ADMIN_ALIASES {
        let judged = Arc::new(Mutex::new(Vec::new()));
        let seen = Seen::new();
        let req = Req::get(path).sign(&v, b"", TestBody::empty());
        let a = serve(
            layer(&v).with_policy(deny_admin(&judged)),
            seen.clone(),
            req,
        )
        .await;
        assert_rejected(
            &a,
            403,
            "AccessDeniedException",
            r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to access this resource"}"#,
        );
        assert_eq!(*judged.lock().unwrap(), ["/admin"], "{path}");
        assert_eq!(seen.calls(), 0);
    }
    // The same policy lets another path through.
    let judged = Arc::new(Mutex::new(Vec::new()));
    let seen = Seen::new();
    let req = Req::get("/x/../items").sign(&v, b"", TestBody::empty());
    let a = serve(
        layer(&v).with_policy(deny_admin(&judged)),
        seen.clone(),
        req,
    )
    .await;
    assert_passed(&a, &seen);
    assert_eq!(*judged.lock().unwrap(), ["/items"]);
}

#[tokio::test]
async fn an_iam_deny_on_admin_denies_every_alias() {
    let api = ApiContext::new("us-east-1", "123456789012", "apiid");
    let identity = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*"},
            {"Effect":"Deny","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*/admin*"}]}"#,
        PolicyKind::Identity,
        Some(&api),
    )
    .unwrap();
    let iam = IamAuthorizer::new(api, "prod")
        .with_identity_policies("arn:aws:iam::123456789012:user/alice", vec![identity]);
    let v = verifier(config());
    for path in ADMIN_ALIASES {
        let seen = Seen::new();
        let req = Req::get(path).sign(&v, b"", TestBody::empty());
        let a = serve(layer(&v).with_policy(iam.clone()), seen.clone(), req).await;
        assert_rejected(
            &a,
            403,
            "AccessDeniedException",
            r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/admin with an explicit deny"}"#,
        );
        assert_eq!(seen.calls(), 0, "{path}");
    }
    let seen = Seen::new();
    let req = Req::get("/x%2F..%2Fitems").sign(&v, b"", TestBody::empty());
    let a = serve(layer(&v).with_policy(iam), seen.clone(), req).await;
    assert_passed(&a, &seen);
    assert_eq!(seen.target().as_deref(), Some("/items"));
}

#[tokio::test]
async fn the_signature_is_checked_on_the_path_as_sent() {
    let v = verifier(config());
    // Signed for `/admin`, sent as an alias that is judged `/admin`: the signature covers
    // the wire path, so it no longer matches.
    let mut req = Req::get("/admin").sign(&v, b"", TestBody::empty());
    *req.uri_mut() = "http://api.example.com/x%2F..%2Fadmin".parse().unwrap();
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#,
    );
    assert_eq!(seen.calls(), 0);
}

/// Targets `http::Uri` can carry that the execute-api profile refuses.
const REFUSED: [&str; 14] = [
    "/x%5c..%5cadmin",
    "/%2561dmin",
    "/a%00b",
    "/%C0%AE%C0%AE/admin",
    "/..;/admin",
    "/a;b",
    "/x\\..\\admin",
    "/\\admin",
    "/a\"b",
    "/a{b}",
    "/a|b",
    "/a[b]",
    "/a^b",
    "/caf\u{e9}",
];

#[tokio::test]
async fn ambiguous_targets_are_refused_before_authentication() {
    let v = verifier(config());
    for path in REFUSED {
        // Unsigned: 400, not 403 Missing Authentication Token.
        let unsigned = Request::get(format!("http://api.example.com{path}"))
            .header("host", "api.example.com")
            .body(TestBody::empty())
            .unwrap();
        let judged = Arc::new(Mutex::new(Vec::new()));
        let seen = Seen::new();
        let a = serve(
            layer(&v).with_policy(deny_admin(&judged)),
            seen.clone(),
            unsigned,
        )
        .await;
        assert_rejected(
            &a,
            400,
            "BadRequestException",
            r#"{"message":"Invalid request target"}"#,
        );
        assert_eq!(a.rejection.unwrap().kind(), RejectionKind::InvalidTarget);
        // Signed correctly: the same.
        let signed = Req::get(path).sign(&v, b"", TestBody::empty());
        let a = serve(
            layer(&v).with_policy(deny_admin(&judged)),
            seen.clone(),
            signed,
        )
        .await;
        assert_rejected(
            &a,
            400,
            "BadRequestException",
            r#"{"message":"Invalid request target"}"#,
        );
        assert_eq!(seen.calls(), 0, "{path}");
        assert!(judged.lock().unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn the_body_of_a_refused_target_is_never_read() {
    let v = verifier(config());
    let body = TestBody::full("payload");
    let probe = body.probe();
    let req = Req::post("/a;b").sign(&v, b"payload", body);
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_rejected(
        &a,
        400,
        "BadRequestException",
        r#"{"message":"Invalid request target"}"#,
    );
    assert_eq!(probe.polls(), 0);
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn connect_asterisk_and_two_hosts_are_refused() {
    let v = verifier(config());
    let connect = Request::builder()
        .method(Method::CONNECT)
        .uri("example.com:443")
        .header("host", "example.com:443")
        .body(TestBody::empty())
        .unwrap();
    let options = Request::builder()
        .method(Method::OPTIONS)
        .uri("*")
        .header("host", "api.example.com")
        .body(TestBody::empty())
        .unwrap();
    let get_star = Request::builder()
        .method(Method::GET)
        .uri("*")
        .header("host", "api.example.com")
        .body(TestBody::empty())
        .unwrap();
    // Two Host headers on an otherwise correctly signed request.
    let mut two_hosts = Req::get("/items").sign(&v, b"", TestBody::empty());
    two_hosts
        .headers_mut()
        .append("host", http::HeaderValue::from_static("evil.example.com"));
    // A correctly signed CONNECT to an origin-form path.
    let signed_connect = Req::new(Method::CONNECT, "/items").sign(&v, b"", TestBody::empty());
    for req in [connect, options, get_star, two_hosts, signed_connect] {
        let what = format!("{} {}", req.method(), req.uri());
        let seen = Seen::new();
        let a = serve(layer(&v), seen.clone(), req).await;
        assert_rejected(
            &a,
            400,
            "BadRequestException",
            r#"{"message":"Invalid request target"}"#,
        );
        assert_eq!(seen.calls(), 0, "{what}");
    }
}

#[tokio::test]
async fn the_query_is_kept_unchanged_on_the_rewritten_uri() {
    let v = verifier(config());
    let seen = Seen::new();
    let req =
        Req::get("/x/..%2f%2Fitems?b=2&a=%2F&c=%2e%2e&d=%7e").sign(&v, b"", TestBody::empty());
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_passed(&a, &seen);
    assert_eq!(
        seen.target().as_deref(),
        Some("/items?b=2&a=%2F&c=%2e%2e&d=%7e")
    );
    // Never a scheme-relative `//host` path for the inner service to redirect to.
    let seen = Seen::new();
    let req =
        Req::get("/%2F%2Fevil.example/x?next=//evil.example").sign(&v, b"", TestBody::empty());
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_passed(&a, &seen);
    assert_eq!(
        seen.target().as_deref(),
        Some("/evil.example/x?next=//evil.example")
    );
}

#[tokio::test]
async fn encoded_slash_as_data_stays_encoded_and_a_dot_segment_behind_it_is_refused() {
    let v = verifier(config().with_encoded_slash(EncodedSlash::Data));
    let seen = Seen::new();
    let req = Req::get("/a%2fb").sign(&v, b"", TestBody::empty());
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_passed(&a, &seen);
    assert_eq!(seen.target().as_deref(), Some("/a%2Fb"));

    for path in ["/x%2F..%2Fadmin", "/x/..%2Fadmin", "/%2E%2E%2Fadmin"] {
        let seen = Seen::new();
        let req = Req::get(path).sign(&v, b"", TestBody::empty());
        let a = serve(layer(&v), seen.clone(), req).await;
        assert_rejected(
            &a,
            400,
            "BadRequestException",
            r#"{"message":"Invalid request target"}"#,
        );
        assert_eq!(seen.calls(), 0, "{path}");
    }
}

#[tokio::test]
async fn object_keys_are_passed_as_sent() {
    let v = verifier(s3_like_api_gateway());
    for path in ["/b/a%5Cb/..%25", "/b/../%2561", "/b/a;b"] {
        let seen = Seen::new();
        let req = Req::get(path)
            .service("s3")
            .sign(&v, b"", TestBody::empty());
        let a = serve(layer(&v), seen.clone(), req).await;
        assert_passed(&a, &seen);
        assert_eq!(seen.target().as_deref(), Some(path));
    }
    // A raw backslash is still refused.
    let seen = Seen::new();
    let req = Req::get("/b/a\\b")
        .service("s3")
        .sign(&v, b"", TestBody::empty());
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_rejected(
        &a,
        400,
        "BadRequestException",
        r#"{"message":"Invalid request target"}"#,
    );
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn sts_renders_a_refused_target_in_its_xml() {
    use tower_sigv4::store::{IdentityStore, SharedStore};
    use tower_sigv4::sts::StsService;

    let store = SharedStore::new(IdentityStore::builder().build().unwrap());
    let keyring =
        std::sync::Arc::new(tower_sigv4::sts::TokenKeyring::generate_random("k1").unwrap());
    let sts = StsService::builder(store, keyring, "us-east-1")
        .clock(FixedClock::new(vector_now()))
        .build()
        .unwrap();
    let req = Request::post("http://sts.local/a;b")
        .header("host", "sts.local")
        .body(Full::new(Bytes::from_static(b"Action=GetCallerIdentity")))
        .unwrap();
    let res = sts.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "text/xml");
    let id = res.headers()["x-amzn-RequestId"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        String::from_utf8(body.to_vec()).unwrap(),
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error><Type>Sender</Type><Code>InvalidRequest</Code><Message>Invalid request target</Message></Error>\n  <RequestId>{id}</RequestId>\n</ErrorResponse>\n"
        )
    );
}

fn strict(path: &str) -> Result<Cow<'_, str>, tower_sigv4::InvalidTarget> {
    judge_path(path, TargetRules::Strict, EncodedSlash::Separator)
}

#[test]
fn judge_path_refuses_raw_bytes_http_cannot_carry() {
    for path in [
        "/x\\..\\admin",
        "/a b",
        "/a\tb",
        "/a\u{0}b",
        "/a\u{1f}",
        "/a\u{7f}",
        "/a<b>",
        "/a`b",
        "/a#b",
        "/a?b",
        "/a%",
        "/a%2",
        "/a%zz",
        "*",
        "",
        "admin",
    ] {
        assert!(strict(path).is_err(), "{path:?}");
        assert!(
            judge_path(path, TargetRules::Strict, EncodedSlash::Data).is_err(),
            "{path:?}"
        );
    }
    assert_eq!(
        strict("/x\\..\\admin").unwrap_err().to_string(),
        "invalid request target"
    );
    for path in ["/b/a\\b", "/b/a\u{0}", "/b/\r\n"] {
        assert!(
            judge_path(path, TargetRules::ObjectKeys, EncodedSlash::Separator).is_err(),
            "{path:?}"
        );
    }
    assert_eq!(
        judge_path(
            "/b/a%5Cb/..%25",
            TargetRules::ObjectKeys,
            EncodedSlash::Separator
        ),
        Ok(Cow::Borrowed("/b/a%5Cb/..%25"))
    );
}

// ---------------------------------------------------------------------------------------------
// Properties of `judge_path`.

fn hostile_path() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("/"),
        Just("/"),
        Just("."),
        Just(".."),
        Just("%2F"),
        Just("%2f"),
        Just("%2e"),
        Just("%2E"),
        Just("%5C"),
        Just("%5c"),
        Just("%25"),
        Just(";"),
        Just("\\"),
        Just("a"),
        Just("b"),
        Just("%61"),
        Just("%7e"),
        Just("%C3%A9"),
        Just("%3B"),
        Just("%"),
        Just("%0"),
        Just("%00"),
        Just("~"),
    ];
    let built = (
        prop::bool::weighted(0.9),
        prop::collection::vec(token, 0..24),
    )
        .prop_map(|(rooted, tokens)| {
            let mut path = if rooted {
                String::from("/")
            } else {
                String::new()
            };
            path.extend(tokens);
            path
        });
    prop_oneof![8 => built, 1 => "[/.%a-fA-F0-9;\\\\]{0,24}", 1 => any::<String>()]
}

/// Whether a path has a `.` or `..` segment, escapes of `.` included.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn strict_separator_results_are_clean_and_idempotent(path in hostile_path()) {
        if let Ok(judged) = strict(&path) {
            let judged = judged.into_owned();
            prop_assert!(judged.starts_with('/'), "{path:?} -> {judged:?}");
            prop_assert!(!has_dot_segment(&judged), "{path:?} -> {judged:?}");
            prop_assert!(!judged.contains("//"), "{path:?} -> {judged:?}");
            let upper = judged.to_ascii_uppercase();
            for bad in ["%2F", "%25", "%5C", "\\", ";"] {
                prop_assert!(!upper.contains(bad), "{path:?} -> {judged:?} holds {bad}");
            }
            prop_assert_eq!(strict(&judged).map(Cow::into_owned), Ok(judged.clone()), "{:?}", path);
        }
    }

    #[test]
    fn strict_data_results_have_no_dot_segment_with_slash_as_separator(path in hostile_path()) {
        if let Ok(judged) = judge_path(&path, TargetRules::Strict, EncodedSlash::Data) {
            let judged = judged.into_owned();
            prop_assert!(judged.starts_with('/'), "{path:?} -> {judged:?}");
            let as_separator = judged.replace("%2F", "/").replace("%2f", "/");
            prop_assert!(!has_dot_segment(&as_separator), "{path:?} -> {judged:?}");
            prop_assert!(!has_dot_segment(&judged), "{path:?} -> {judged:?}");
            let again = judge_path(&judged, TargetRules::Strict, EncodedSlash::Data)
                .map(Cow::into_owned);
            prop_assert_eq!(again, Ok(judged.clone()), "{:?}", path);
        }
    }

    #[test]
    fn object_keys_pass_anything_without_backslash_or_control(path in hostile_path()) {
        let judged = judge_path(&path, TargetRules::ObjectKeys, EncodedSlash::Separator);
        let refused = path.bytes().any(|b| b == b'\\' || b.is_ascii_control());
        prop_assert_eq!(judged.is_err(), refused, "{:?}", path);
    }
}
