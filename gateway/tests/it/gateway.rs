//! The `sigv4-gateway` binary, started on a free loopback port with a temporary config:
//! curl `--aws-sigv4`, wrong secrets, the reverse proxy (identity headers, spoofing,
//! normalised paths, upstream down), STS on the same listener, `--check-config`, graceful
//! shutdown on SIGTERM, metrics, TLS and the access log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower_sigv4::{Credentials, SignablePayload, Signer};

const BIN: &str = env!("CARGO_BIN_EXE_sigv4-gateway");
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const KEY: &str = "AKIAALICETESTKEY0001";
const SECRET: &str = "alice/secret+key/0123456789abcdefghijklm";

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sigv4-gateway-test-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config with alice (full access to `prod`, `sts:AssumeRole` on `Reader`), a resource
/// policy denying `/admin*`, role `Reader` (GET only), and `extra` TOML appended at top level
/// (before the tables) and at the end.
fn config(top: &str, identity_condition: &str, tail: &str) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
{top}
[api]
region = "us-east-1"
account = "123456789012"
api_id = "apiid"
stage = "prod"
resource_policy = '''{{"Version":"2012-10-17","Statement":[
  {{"Effect":"Allow","Principal":{{"AWS":"123456789012"}},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}},
  {{"Sid":"NoAdmin","Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*/admin*"}}]}}'''
[sts]
enabled = true
token_keys = [{{ id = "k1", secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" }}]
[[user]]
arn = "{ALICE}"
access_keys = [{{ id = "{KEY}", secret = "{SECRET}" }}]
policies = ['''{{"Version":"2012-10-17","Statement":[
  {{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/*"{identity_condition}}},
  {{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/Reader"}}]}}''']
[[role]]
arn = "arn:aws:iam::123456789012:role/Reader"
trust_policy = '''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}}]}}'''
policies = ['''{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/*"}}]}}''']
{tail}
"#
    )
}

/// A running gateway; killed on drop.
struct Gateway {
    child: Child,
    base: String,
    metrics: Option<String>,
    log: PathBuf,
}

impl Gateway {
    fn start(config_text: &str) -> Self {
        Self::start_with(config_text, &[])
    }

    fn start_with(config_text: &str, args: &[&str]) -> Self {
        let dir = temp_dir();
        let path = dir.join("gateway.toml");
        std::fs::write(&path, config_text).unwrap();
        let log = dir.join("gateway.log");
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&path)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let wants_metrics = config_text.contains("[metrics]");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut base = None;
        let mut metrics = None;
        while base.is_none() || (wants_metrics && metrics.is_none()) {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| {
                    panic!(
                        "the gateway did not start; log:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    )
                });
            if let Some(url) = line.strip_prefix("sigv4-gateway listening on ") {
                base = Some(url.to_owned());
            }
            if let Some(url) = line.strip_prefix("metrics on ") {
                metrics = Some(url.to_owned());
            }
        }
        Self {
            child,
            base: base.unwrap(),
            metrics,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now() -> SystemTime {
    tower_sigv4::Clock::now(&tower_sigv4::SystemClock::new())
}

fn alice() -> Credentials {
    Credentials::new(KEY, SECRET)
}

/// Sends a request signed by the crate's signer (`service`), with `headers` added after
/// signing (unsigned) and the raw `path` as given.
async fn send(
    base: &str,
    creds: Option<&Credentials>,
    service: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, http::HeaderMap, String) {
    let authority = base.trim_start_matches("http://").to_owned();
    let (mut parts, ()) = Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("host", authority)
        .body(())
        .unwrap()
        .into_parts();
    if service == "sts" {
        parts.headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
    }
    if let Some(creds) = creds {
        Signer::new(creds.clone(), "us-east-1", service)
            .sign(&mut parts, SignablePayload::Bytes(body), now())
            .unwrap();
    }
    for (k, v) in headers {
        parts.headers.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let request = Request::from_parts(parts, Full::new(Bytes::copy_from_slice(body)));
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("no answer within 20 s")
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn curl(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-s", "-S", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl must be installed (.ci/run installs it)");
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

const SIGNATURE_MISMATCH: &str = r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#;

#[tokio::test(flavor = "multi_thread")]
async fn curl_aws_sigv4_is_accepted_and_a_wrong_secret_is_refused() {
    let gw = Gateway::start(&config("", "", ""));
    let user = format!("{KEY}:{SECRET}");
    // Sorted: curl before 8.x signs the query in the order given, which no SigV4 verifier
    // (AWS's included) accepts.
    let url = format!("{}/hello?a=1&b=2", gw.base);
    let (status, body) = curl(&[
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        &user,
        &url,
    ]);
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["arn"], ALICE);
    assert_eq!(v["account"], "123456789012");
    assert_eq!(v["method"], "GET");
    assert_eq!(v["path"], "/hello");
    assert_eq!(v["query"], "a=1&b=2");

    let (status, body) = curl(&[
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        &user,
        "-d",
        "some body",
        &format!("{}/items", gw.base),
    ]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["method"], "POST");

    let wrong = format!("{KEY}:not-the-secret");
    let (status, body) = curl(&[
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        &wrong,
        &url,
    ]);
    assert_eq!(status, 403);
    assert_eq!(body, SIGNATURE_MISMATCH);

    // The resource policy's Deny.
    let (status, body) = curl(&[
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        &user,
        &format!("{}/admin", gw.base),
    ]);
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/admin with an explicit deny"}"#
    );

    // One access-log line per request, with the principal and never the secret.
    std::thread::sleep(Duration::from_millis(200));
    let log = gw.log();
    assert!(!log.contains(SECRET), "the log leaks the secret");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" request ")).collect();
    assert_eq!(lines.len(), 4, "{log}");
    assert!(lines[0].contains(r#"principal="arn:aws:iam::123456789012:user/alice""#));
    assert!(lines[0].contains(r#"decision="allow""#) && lines[0].contains("status=200"));
    assert!(lines[2].contains(r#"decision="reject""#));
    assert!(lines[2].contains(r#"rejection="SignatureMismatch""#));
    assert!(
        lines[3].contains(r#"decision="deny""#)
            && lines[3].contains("principal=\"arn:aws:iam::123456789012:user/alice\"")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_only_when_configured() {
    let gw = Gateway::start(&config("", "", ""));
    let (status, _, body) = send(&gw.base, None, "execute-api", "GET", "/healthz", &[], b"").await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
    drop(gw);
    let gw = Gateway::start(&config("healthz = true", "", ""));
    let (status, _, body) = send(&gw.base, None, "execute-api", "GET", "/healthz", &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"ok"}"#);
}

/// An upstream on loopback that answers with what it received; `/slow` waits 1.5 s first.
async fn upstream() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let counter = counter.clone();
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    if req.uri().path() == "/slow" {
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                    }
                    let headers: serde_json::Map<String, serde_json::Value> = req
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into()))
                        .collect();
                    let uri = req.uri().to_string();
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    let answer = serde_json::json!({
                        "uri": uri,
                        "headers": headers,
                        "body": String::from_utf8_lossy(&body),
                    });
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from(
                        answer.to_string(),
                    ))))
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_forwards_identity_strips_spoofing_and_normalises_the_path() {
    let (upstream_url, hits) = upstream().await;
    let gw = Gateway::start_with(&config("", "", ""), &["--upstream", &upstream_url]);
    let spoof = [
        (
            "x-sigv4-principal-arn",
            "arn:aws:iam::999999999999:user/mallory",
        ),
        ("x-sigv4-account", "999999999999"),
        ("x-sigv4-anything", "forged"),
    ];
    let (status, _, body) = send(
        &gw.base,
        Some(&alice()),
        "execute-api",
        "POST",
        "/x/../items/%61b?q=1",
        &spoof,
        b"payload",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let seen = json(&body);
    assert_eq!(seen["uri"], "/items/ab?q=1");
    assert_eq!(seen["body"], "payload");
    let h = &seen["headers"];
    assert_eq!(h["x-sigv4-principal-arn"], ALICE);
    assert_eq!(h["x-sigv4-account"], "123456789012");
    assert_eq!(h["x-sigv4-principal-type"], "User");
    assert!(h.get("x-sigv4-anything").is_none(), "{h}");
    assert!(h.get("authorization").is_none(), "{h}");
    assert_eq!(h["host"], upstream_url.trim_start_matches("http://"));
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // `/x/../admin` and `/%61dmin` are `/admin`: the Deny applies, the upstream never sees them.
    for path in ["/x/../admin", "/%61dmin", "//admin"] {
        let (status, _, body) = send(
            &gw.base,
            Some(&alice()),
            "execute-api",
            "GET",
            path,
            &[],
            b"",
        )
        .await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(
            body.ends_with("apiid/prod/GET/admin with an explicit deny\"}"),
            "{body}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_down_is_a_502() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = Gateway::start(&config(
        &format!("upstream = \"http://127.0.0.1:{port}\""),
        "",
        "",
    ));
    let started = std::time::Instant::now();
    let (status, headers, body) = send(
        &gw.base,
        Some(&alice()),
        "execute-api",
        "GET",
        "/hello",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        body,
        r#"{"message":"Bad Gateway: the upstream service is unreachable"}"#
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn check_config_reports_the_place_of_a_bad_policy() {
    let dir = temp_dir();
    let bad = config("", "", "").replace(
        r#""Resource":"execute-api:/prod/*"}"#,
        r#""Resource":"execute-api:/prod/*","Condition":{"StringEqualz":{"aws:username":"alice"}}}"#,
    );
    assert!(bad.contains("StringEqualz"));
    let path = dir.join("bad.toml");
    std::fs::write(&path, &bad).unwrap();
    let out = Command::new(BIN)
        .args(["--check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim_end(),
        format!(
            r#"configuration error: {}: user[0] (arn:aws:iam::123456789012:user/alice) policies[0]: Statement[0].Condition: unknown operator "StringEqualz""#,
            path.display()
        )
    );
    // A bad config never starts a server.
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stdout).unwrap().is_empty());

    let good = dir.join("good.toml");
    std::fs::write(&good, config("", "", "")).unwrap();
    let out = Command::new(BIN)
        .args(["--check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "configuration OK\n");

    // A TOML mistake names its file, line, column and key.
    let typo = dir.join("typo.toml");
    std::fs::write(&typo, config("lisen = \"x\"", "", "")).unwrap();
    let out = Command::new(BIN)
        .args(["--check-config", "--config"])
        .arg(&typo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "configuration error: {}:2:1: lisen: unknown field `lisen`, expected one of `listen`, `upstream`, `healthz`, `api`, `auth`, `sts`, `metrics`, `tls`, `limits`, `proxy`, `store`, `iam_api`, `user`, `role`\n",
            typo.display()
        )
    );

    // The bundled demo config is valid.
    let out = Command::new(BIN).arg("--check-config").output().unwrap();
    assert!(out.status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_an_in_flight_request() {
    let (upstream_url, _) = upstream().await;
    let gw = Gateway::start_with(&config("", "", ""), &["--upstream", &upstream_url]);
    let base = gw.base.clone();
    let in_flight = tokio::spawn(async move {
        send(
            &base,
            Some(&alice()),
            "execute-api",
            "GET",
            "/slow",
            &[],
            b"",
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    gw.terminate();
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["uri"], "/slow");
    let mut gw = gw;
    let exit = tokio::task::spawn_blocking(move || {
        let status = gw.child.wait().unwrap();
        (status, gw)
    })
    .await
    .unwrap();
    assert!(exit.0.success(), "{:?}", exit.0);
    let log = exit.1.log();
    assert!(
        log.contains("shutting down: draining in-flight requests"),
        "{log}"
    );
    assert!(log.contains("all connections closed"), "{log}");
}

fn xml_tag<'a>(body: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no {name}: {body}"))
        + open.len();
    let end = body[start..].find('<').unwrap() + start;
    &body[start..end]
}

#[tokio::test(flavor = "multi_thread")]
async fn sts_on_the_same_listener() {
    let gw = Gateway::start(&config("", "", ""));
    let (status, headers, body) = send(
        &gw.base,
        Some(&alice()),
        "sts",
        "POST",
        "/",
        &[],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/xml");
    assert_eq!(xml_tag(&body, "Arn"), ALICE);

    let (status, _, body) = send(
        &gw.base,
        Some(&alice()),
        "sts",
        "POST",
        "/",
        &[],
        b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FReader&RoleSessionName=reader1",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let session = Credentials::new(
        xml_tag(&body, "AccessKeyId"),
        xml_tag(&body, "SecretAccessKey"),
    )
    .with_session_token(xml_tag(&body, "SessionToken"));
    let (status, _, body) = send(
        &gw.base,
        Some(&session),
        "execute-api",
        "GET",
        "/reports",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body)["arn"],
        "arn:aws:sts::123456789012:assumed-role/Reader/reader1"
    );
    assert_eq!(
        json(&body)["principal_arn"],
        "arn:aws:iam::123456789012:role/Reader"
    );
    // The role allows GET only.
    let (status, _, _) = send(
        &gw.base,
        Some(&session),
        "execute-api",
        "DELETE",
        "/reports",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 403);

    // A bad STS signature answers in STS XML.
    let (status, _, body) = send(
        &gw.base,
        Some(&Credentials::new(KEY, "wrong")),
        "sts",
        "POST",
        "/",
        &[],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(xml_tag(&body, "Code"), "SignatureDoesNotMatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_metrics() {
    let gw = Gateway::start(&config("", "", "[metrics]\nlisten = \"127.0.0.1:0\""));
    let metrics_url = gw.metrics.clone().unwrap();
    send(
        &gw.base,
        Some(&alice()),
        "execute-api",
        "GET",
        "/a",
        &[],
        b"",
    )
    .await;
    send(
        &gw.base,
        Some(&alice()),
        "execute-api",
        "GET",
        "/b",
        &[],
        b"",
    )
    .await;
    send(&gw.base, None, "execute-api", "GET", "/c", &[], b"").await;
    send(
        &gw.base,
        Some(&alice()),
        "execute-api",
        "GET",
        "/admin",
        &[],
        b"",
    )
    .await;
    let (status, text) = curl(&[&metrics_url]);
    assert_eq!(status, 200);
    for line in [
        r#"sigv4_gateway_requests_total{route="api",decision="allow",rejection=""} 2"#,
        r#"sigv4_gateway_requests_total{route="api",decision="reject",rejection="MissingAuthentication"} 1"#,
        r#"sigv4_gateway_requests_total{route="api",decision="deny",rejection="AccessDenied"} 1"#,
        r#"sigv4_gateway_request_duration_seconds_count{route="api"} 4"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

fn write_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_sets_secure_transport() {
    // alice may invoke only over TLS.
    let only_tls = r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#;
    let dir = temp_dir();
    let (cert, key) = write_cert(&dir);
    let tls = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"",
        cert.display(),
        key.display()
    );
    let gw = Gateway::start(&config("", only_tls, &tls));
    assert!(gw.base.starts_with("https://"), "{}", gw.base);
    let user = format!("{KEY}:{SECRET}");
    let url = format!("{}/hello", gw.base.replace("127.0.0.1", "localhost"));
    let port = gw.base.rsplit(':').next().unwrap().to_owned();
    let (status, body) = curl(&[
        "--cacert",
        cert.to_str().unwrap(),
        "--resolve",
        &format!("localhost:{port}:127.0.0.1"),
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        &user,
        &url,
    ]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["arn"], ALICE);
    drop(gw);

    // The same policy over plain HTTP: denied.
    let gw = Gateway::start(&config("", only_tls, ""));
    let (status, body) = curl(&[
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        &user,
        &format!("{}/hello", gw.base),
    ]);
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/hello"}"#
    );
}
