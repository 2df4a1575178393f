//! A custom, asynchronous key provider backed by a file, with the IAM policy hook on top.
//!
//! `FileKeys` implements `ProvideKey` over a JSON-lines file, one access key per line:
//!
//! ```text
//! {"access_key_id":"AKIDCAROLEXAMPLE","secret_access_key":"…","arn":"arn:aws:iam::123456789012:user/carol","user_id":"AIDACAROL","tags":{"role":"writer"}}
//! ```
//!
//! It reads the file on every lookup, on tokio's blocking pool, so edits take effect at once
//! (add a key, set `"active":false` to revoke one). Its failures map to the verifier's answers:
//!
//! * a key that is not in the file, or inactive: `KeyError::unknown_key()` → 403 "The security
//!   token included in the request is invalid.";
//! * a file that is missing, unreadable or corrupt: `KeyError::unavailable(…)` → 500. The store
//!   failed, not the caller, so the caller is not told their key is bad.
//!
//! The provider only says who signed. What they may do is still decided by the layer's policy
//! hook — here an `IamAuthorizer` whose resource policy reads the principal's tags from the file
//! (`aws:PrincipalTag/role`): everyone may `GET`, only writers may `POST`.
//!
//! ```text
//! cargo run --example file_key_provider                     # demo key file in the temp dir
//! cargo run --example file_key_provider -- path/to/keys.jsonl
//! cargo run --example file_key_provider -- --smoke          # checks itself and exits
//! ```
//!
//! Why a file and not SQLite: a file shows the same things — real asynchronous I/O, and a
//! backend that can fail (delete the file and watch the 500s) — without a C library to build
//! (`libsqlite3-sys`), a new dependency, or extra minutes of CI build time. A database-backed
//! provider has the same shape: run the query in the future `provide_key` returns and map "no
//! row" to `unknown_key()` and every driver error to `unavailable(…)`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use axum::routing::get;
use axum::Router;
use http::Request;
use http_body_util::Full;
use serde::Deserialize;
use tokio::net::TcpListener;
use tower_sigv4::iam::{ApiContext, Policy, PolicyKind};
use tower_sigv4::{
    IamAuthorizer, KeyError, KeyRequest, Principal, ProvideKey, ProvideKeyFuture, ResolvedKey,
    Verifier, VerifierConfig, VerifySigV4Layer,
};

#[path = "support/smoke.rs"]
mod smoke;

use smoke::{check, signing_client, BoxError};

const ADDR: &str = "127.0.0.1:3000";
const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

/// One line of the key file.
#[derive(Deserialize)]
struct KeyLine {
    access_key_id: String,
    secret_access_key: String,
    arn: String,
    user_id: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default = "active_by_default")]
    active: bool,
}

fn active_by_default() -> bool {
    true
}

/// A key provider reading a JSON-lines file.
#[derive(Clone, Debug)]
struct FileKeys {
    path: PathBuf,
}

impl ProvideKey for FileKeys {
    fn provide_key<'a>(&'a self, request: KeyRequest<'a>) -> ProvideKeyFuture<'a> {
        // Real async work, so the boxed future (`ProvideKeyFuture::ready` is for answers that
        // are already known, like `StaticKeys`'). It may borrow `self` and `request`.
        ProvideKeyFuture::new(async move {
            let path = self.path.clone();
            // `std::fs` on tokio's blocking pool: the runtime's workers never wait on the disk.
            let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
                .await
                .map_err(KeyError::unavailable)?
                .map_err(|e| {
                    // The caller only gets a 500; say why where the operator will see it.
                    eprintln!("key file {}: {e}", self.path.display());
                    KeyError::unavailable(e)
                })?;
            find_key(&text, request.access_key_id())
        })
    }
}

/// Looks `access_key_id` up in the file's `text`. A corrupt line fails every lookup (500): a
/// store that cannot be read entirely is not trusted to say a key does not exist.
fn find_key(text: &str, access_key_id: &str) -> Result<ResolvedKey, KeyError> {
    let mut found = None;
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: KeyLine = serde_json::from_str(line).map_err(|e| {
            eprintln!("key file line {}: {e}", number + 1);
            KeyError::unavailable(e)
        })?;
        if entry.access_key_id == access_key_id {
            found = Some(entry);
        }
    }
    let entry = found
        .filter(|entry| entry.active)
        .ok_or_else(KeyError::unknown_key)?;
    let principal = entry
        .tags
        .into_iter()
        .fold(Principal::user(entry.arn, entry.user_id), |p, (k, v)| {
            p.with_tag(k, v)
        });
    Ok(ResolvedKey::new(entry.secret_access_key, principal))
}

// Demo credentials, printed on purpose for curl. Never print real ones.
const CAROL_KEY: &str = "AKIDCAROLEXAMPLE";
const CAROL_SECRET: &str = "carol/Secret+Key/EXAMPLE0123456789abcdef";
const DAVE_KEY: &str = "AKIDDAVEEXAMPLE";
const DAVE_SECRET: &str = "dave/Secret+Key/EXAMPLE0123456789abcdefg";
const ERIN_KEY: &str = "AKIDERINEXAMPLE";
const ERIN_SECRET: &str = "erin/Secret+Key/EXAMPLE0123456789abcdefg";

/// The demo key file: carol writes, dave reads, erin's key is revoked.
const DEMO_KEYS: &str = r#"{"access_key_id":"AKIDCAROLEXAMPLE","secret_access_key":"carol/Secret+Key/EXAMPLE0123456789abcdef","arn":"arn:aws:iam::123456789012:user/carol","user_id":"AIDACAROLEXAMPLE","tags":{"role":"writer"}}
{"access_key_id":"AKIDDAVEEXAMPLE","secret_access_key":"dave/Secret+Key/EXAMPLE0123456789abcdefg","arn":"arn:aws:iam::123456789012:user/dave","user_id":"AIDADAVEEXAMPLE","tags":{"role":"reader"}}
{"access_key_id":"AKIDERINEXAMPLE","secret_access_key":"erin/Secret+Key/EXAMPLE0123456789abcdefg","arn":"arn:aws:iam::123456789012:user/erin","user_id":"AIDAERINEXAMPLE","tags":{"role":"writer"},"active":false}
"#;

/// The API's resource policy: every caller of the account may `GET`; `POST` needs the tag
/// `role=writer`, which comes from the key file.
const RESOURCE_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/prod/GET/*"},
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/prod/POST/*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/role": "writer"}}}
  ]
}"#;

/// The application: the file-backed verifier, wrapped by the layer with its IAM hook.
fn app(keys: FileKeys) -> Result<Router, BoxError> {
    let verifier = Verifier::new(VerifierConfig::new(REGION, SERVICE), keys)?;
    let api = ApiContext::new(REGION, "123456789012", "local-api");
    let policy = Policy::parse(RESOURCE_POLICY, PolicyKind::Resource, Some(&api))?;
    let iam = IamAuthorizer::new(api, "prod").with_resource_policy(policy);
    Ok(Router::new()
        .route(
            "/notes",
            get(|p: Principal| async move { format!("notes of {}\n", p.arn()) }).post(
                |p: Principal, body: Bytes| async move {
                    format!("{} saved {} bytes\n", p.arn(), body.len())
                },
            ),
        )
        .layer(VerifySigV4Layer::new(verifier).with_policy(iam)))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let arg = std::env::args().nth(1);
    let smoke = arg.as_deref() == Some("--smoke");
    let path = match arg.as_deref() {
        // A file of its own, so that parallel runs do not trip over each other.
        Some("--smoke") => demo_key_file(&format!("keys-{}.jsonl", std::process::id()))?,
        Some(path) => PathBuf::from(path),
        None => demo_key_file("keys.jsonl")?,
    };
    let listener = TcpListener::bind(if smoke { "127.0.0.1:0" } else { ADDR }).await?;
    let addr = listener.local_addr()?;
    let server = axum::serve(listener, app(FileKeys { path: path.clone() })?);

    if smoke {
        tokio::spawn(async move { server.await });
        let result = smoke_test(addr, &path).await;
        // Best effort: the file may be gone already if a check failed half-way.
        let _ = std::fs::remove_file(&path);
        return result;
    }

    let sigv4 = format!("curl --aws-sigv4 \"aws:amz:{REGION}:{SERVICE}\"");
    println!(
        "keys from {} (edit it while the server runs)",
        path.display()
    );
    println!("listening on http://{addr} (Ctrl-C to stop); try:");
    println!("  {sigv4} --user {CAROL_KEY}:{CAROL_SECRET} -d hi http://{addr}/notes");
    println!("  {sigv4} --user {DAVE_KEY}:{DAVE_SECRET} -d hi http://{addr}/notes    # 403: not a writer");
    println!("  {sigv4} --user {ERIN_KEY}:{ERIN_SECRET} http://{addr}/notes    # 403: revoked");
    server.await?;
    Ok(())
}

/// Writes the demo keys to `name` in the temp dir (rewritten at every start).
fn demo_key_file(name: &str) -> std::io::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("tower-sigv4-example-{name}"));
    std::fs::write(&path, DEMO_KEYS)?;
    Ok(path)
}

/// Checks the answers for a writer, a reader, a revoked and an unknown key, then for a writer
/// while the key file is missing (500), and again once it is back.
async fn smoke_test(addr: SocketAddr, path: &Path) -> Result<(), BoxError> {
    let url = format!("http://{addr}/notes");
    let get = || Request::get(&url).body(Full::new(Bytes::new()));
    let post = || Request::post(&url).body(Full::from("hi"));
    let carol = signing_client(CAROL_KEY, CAROL_SECRET);
    let dave = signing_client(DAVE_KEY, DAVE_SECRET);
    let invalid = r#"{"message":"The security token included in the request is invalid."}"#;

    check(
        "carol (writer) POST /notes",
        carol.clone(),
        post()?,
        200,
        "arn:aws:iam::123456789012:user/carol saved 2 bytes\n",
    )
    .await?;
    check(
        "dave (reader) GET /notes",
        dave.clone(),
        get()?,
        200,
        "notes of arn:aws:iam::123456789012:user/dave\n",
    )
    .await?;
    check(
        "dave (reader) POST /notes",
        dave,
        post()?,
        403,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/dave is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:local-api/prod/POST/notes"}"#,
    )
    .await?;
    check(
        "erin (revoked) GET /notes",
        signing_client(ERIN_KEY, ERIN_SECRET),
        get()?,
        403,
        invalid,
    )
    .await?;
    check(
        "unknown key GET /notes",
        signing_client("AKIDNOBODY", CAROL_SECRET),
        get()?,
        403,
        invalid,
    )
    .await?;

    let moved = path.with_extension("moved");
    std::fs::rename(path, &moved)?;
    let outage = check(
        "carol GET /notes, key file missing",
        carol.clone(),
        get()?,
        500,
        r#"{"message":"Internal server error"}"#,
    )
    .await;
    std::fs::rename(&moved, path)?;
    outage?;
    check(
        "carol GET /notes, key file back",
        carol,
        get()?,
        200,
        "notes of arn:aws:iam::123456789012:user/carol\n",
    )
    .await?;
    println!("smoke: file_key_provider passed 7 checks");
    Ok(())
}
