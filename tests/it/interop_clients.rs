//! Real clients against a server on loopback: requests signed by botocore (SigV4Auth and
//! SigV4QueryAuth) and by `curl --aws-sigv4`. Each is accepted with the right principal; the
//! same requests tampered are rejected with the right message.
//!
//! These tests need Python with botocore (`python3 -m venv .venv && .venv/bin/pip install -r
//! tests/interop/requirements.txt`, which `.ci/run` does) and curl. A missing tool fails the
//! test; nothing is skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use support::SECRET;
use tower_sigv4::{Principal, StaticKeys, SystemClock, Verifier, VerifierConfig, VerifySigV4Layer};

const SIGNATURE_MISMATCH: &str = r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TOWER_SIGV4_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

async fn server() -> SocketAddr {
    let keys = StaticKeys::new()
        .with_key(
            "AKIDBOTOCORE",
            "botocore/secret+key/0123456789abcdefghij",
            Principal::user("arn:aws:iam::123456789012:user/boto", "AIDABOTO"),
        )
        .with_session_key(
            "ASIABOTOCORE",
            "botocore/temp+secret/0123456789abcdefghi",
            "botocore-session-token/+=",
            Principal::user("arn:aws:iam::123456789012:user/boto-temp", "AIDABOTOTEMP"),
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(4_000_000_000),
        )
        .with_key(
            "AKIDCURL",
            SECRET,
            Principal::user("arn:aws:iam::123456789012:user/curl", "AIDACURL"),
        );
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "execute-api"), keys).unwrap();
    let app = Router::new()
        .fallback(|p: Principal, body: Bytes| async move { format!("{} {}", p.arn(), body.len()) })
        .layer(VerifySigV4Layer::new(verifier).with_clock(SystemClock::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[derive(Deserialize)]
struct Signed {
    name: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
    access_key_id: String,
}

async fn send(s: &Signed, url: &str, body: Vec<u8>) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut b = http::Request::builder().method(s.method.as_str()).uri(url);
    for (k, v) in &s.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let res = client
        .request(b.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_signed_requests() {
    let addr = server().await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/botocore_battery.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(format!("http://{addr}"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python().display()));
    assert!(
        out.status.success(),
        "botocore battery failed (install it: python3 -m venv .venv && .venv/bin/pip install -r tests/interop/requirements.txt):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let battery: Vec<Signed> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(battery.len(), 13);
    for s in &battery {
        let body = base64::engine::general_purpose::STANDARD
            .decode(&s.body)
            .unwrap();
        let who = if s.access_key_id.starts_with("ASIA") {
            "boto-temp"
        } else {
            "boto"
        };
        let (status, text) = send(s, &s.url, body.clone()).await;
        assert_eq!(status, 200, "{}: {text}", s.name);
        assert_eq!(
            text,
            format!("arn:aws:iam::123456789012:user/{who} {}", body.len()),
            "{}",
            s.name
        );

        // Tampered: one more query parameter…
        let sep = if s.url.contains('?') { '&' } else { '?' };
        let (status, text) = send(s, &format!("{}{sep}tampered=1", s.url), body.clone()).await;
        assert_eq!(
            (status, text.as_str()),
            (403, SIGNATURE_MISMATCH),
            "{} (query)",
            s.name
        );
        // …or one more byte of body.
        let mut longer = body.clone();
        longer.push(b'!');
        let mut s2 = Signed {
            name: s.name.clone(),
            method: s.method.clone(),
            url: s.url.clone(),
            headers: s.headers.clone(),
            body: String::new(),
            access_key_id: s.access_key_id.clone(),
        };
        for h in &mut s2.headers {
            if h.0.eq_ignore_ascii_case("content-length") {
                h.1 = longer.len().to_string();
            }
        }
        let (status, text) = send(&s2, &s.url, longer).await;
        assert_eq!(
            (status, text.as_str()),
            (403, SIGNATURE_MISMATCH),
            "{} (body)",
            s.name
        );
    }
}

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl must be installed (apt-get install curl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_aws_sigv4() {
    let addr = server().await;
    let user = format!("AKIDCURL:{SECRET}");
    // Already in canonical (sorted) order: curl before 8.1 signs the query string as written,
    // unsorted, which AWS (and this crate, byte-for-byte with it) rejects.
    let url = format!("http://{addr}/prod/items?b=a%20b&x=1");
    let (code, body) = tokio::task::spawn_blocking({
        let (url, user) = (url.clone(), user.clone());
        move || {
            curl(&[
                "--aws-sigv4",
                "aws:amz:us-east-1:execute-api",
                "--user",
                &user,
                &url,
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(
        (code.as_str(), body.as_str()),
        ("200", "arn:aws:iam::123456789012:user/curl 0")
    );

    let (code, body) = tokio::task::spawn_blocking({
        let (url, user) = (url.clone(), user.clone());
        move || {
            curl(&[
                "--aws-sigv4",
                "aws:amz:us-east-1:execute-api",
                "--user",
                &user,
                "-H",
                "content-type: application/json",
                "-d",
                r#"{"a":1}"#,
                &url,
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(
        (code.as_str(), body.as_str()),
        ("200", "arn:aws:iam::123456789012:user/curl 7")
    );

    let (code, body) = tokio::task::spawn_blocking(move || {
        curl(&[
            "--aws-sigv4",
            "aws:amz:us-east-1:execute-api",
            "--user",
            "AKIDCURL:wrong-secret",
            &url,
        ])
    })
    .await
    .unwrap();
    assert_eq!((code.as_str(), body.as_str()), ("403", SIGNATURE_MISMATCH));
}
