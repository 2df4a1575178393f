//! Identities in a database, managed through the IAM API with unmodified AWS tools: boto3's
//! `iam` and `sts` clients and the AWS CLI against the real binary on SQLite and on
//! PostgreSQL (a throwaway cluster); three replicas on one PostgreSQL database; `init` and
//! `import-config`; the read-only IAM API of the file store.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use tower_sigv4::{Credentials, SignablePayload, Signer};

use super::postgres::{self, Cluster};

const BIN: &str = env!("CARGO_BIN_EXE_sigv4-gateway");
const ACCOUNT: &str = "123456789012";
const STORE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn unique() -> usize {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sigv4-iam-test-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn venv_bin(tool: &str) -> PathBuf {
    let path = workspace().join(".venv/bin").join(tool);
    assert!(
        path.exists(),
        "{} is missing: python3 -m venv .venv && .venv/bin/pip install -r tests/interop/requirements.txt (.ci/run does)",
        path.display()
    );
    path
}

/// A command with a clean AWS environment: no profile, endpoint or proxy of the host leaks in.
fn clean(program: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("LANG", "C.UTF-8")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// The administrator `init --json` created.
#[derive(Clone, Debug)]
struct Admin {
    arn: String,
    key: String,
    secret: String,
}

fn gateway_command(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("SIGV4_STORE_KEY", STORE_KEY)
        .args(args)
        .output()
        .unwrap()
}

fn init(dir: &Path, url: &str) -> Admin {
    let out = gateway_command(
        dir,
        &["init", "--store", url, "--account", ACCOUNT, "--json"],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    Admin {
        arn: value["arn"].as_str().unwrap().to_owned(),
        key: value["access_key_id"].as_str().unwrap().to_owned(),
        secret: value["secret_access_key"].as_str().unwrap().to_owned(),
    }
}

/// A running gateway; killed on drop.
struct Running {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Running {
    fn start(dir: &Path, store_url: Option<&str>) -> Self {
        let store = store_url
            .map(|u| format!("[store]\nurl = \"{u}\"\n"))
            .unwrap_or_default();
        let name = format!("gateway-{}.toml", unique());
        let config = format!(
            r#"listen = "127.0.0.1:0"
[api]
region = "us-east-1"
account = "{ACCOUNT}"
api_id = "apiid"
stage = "prod"
[sts]
token_keys = [{{ id = "k1", secret = "{STORE_KEY}" }}]
{store}
[[user]]
arn = "arn:aws:iam::{ACCOUNT}:user/file-user"
access_keys = [{{ id = "AKIAFILEUSER00000001", secret = "file/secret/0123456789abcdefghijklmnopq" }}]
policies = ['{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:*","Resource":"*"}}]}}']
"#
        );
        let path = dir.join(&name);
        std::fs::write(&path, config).unwrap();
        let log = dir.join(format!("{name}.log"));
        // Killed and waited for on drop.
        #[allow(clippy::zombie_processes)]
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .env("SIGV4_STORE_KEY", STORE_KEY)
            .env("RUST_LOG", "info")
            .arg("--config")
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| {
                    panic!(
                        "the gateway did not start; log:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    )
                });
            if let Some(url) = line.strip_prefix("sigv4-gateway listening on ") {
                return Self {
                    child,
                    base: url.to_owned(),
                    log,
                };
            }
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now() -> SystemTime {
    tower_sigv4::Clock::now(&tower_sigv4::SystemClock::new())
}

/// A signed request over a fresh connection: (status, body).
fn send(
    base: &str,
    key: &str,
    secret: &str,
    service: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let authority = base.trim_start_matches("http://");
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("host", authority);
    if !body.is_empty() {
        builder = builder.header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
    }
    let (mut parts, ()) = builder.body(()).unwrap().into_parts();
    Signer::new(Credentials::new(key, secret), "us-east-1", service)
        .sign(&mut parts, SignablePayload::Bytes(body.as_bytes()), now())
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in &parts.headers {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn iam(base: &str, admin: &Admin, form: &[(&str, &str)]) -> (u16, String) {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.append_pair("Version", "2010-05-08");
    for (k, v) in form {
        serializer.append_pair(k, v);
    }
    send(
        base,
        &admin.key,
        &admin.secret,
        "iam",
        "POST",
        "/",
        &serializer.finish(),
    )
}

/// The `<Code>` and `<Message>` of an IAM error body.
fn code_and_message(body: &str) -> (String, String) {
    let between = |open: &str, close: &str| {
        body.split_once(open)
            .and_then(|(_, rest)| rest.split_once(close))
            .map(|(inside, _)| inside.to_owned())
            .unwrap_or_default()
    };
    let unescape = |t: String| {
        t.replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    (
        between("<Code>", "</Code>"),
        unescape(between("<Message>", "</Message>")),
    )
}

fn run_boto3(config: &Value) -> BTreeMap<String, Value> {
    let script = workspace().join("tests/interop/boto3_iam.py");
    let out = clean(&venv_bin("python"))
        .arg(&script)
        .arg(config.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "boto3_iam.py failed:\n{}\n--- stdout so far:\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            (v["step"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

fn check_boto3_steps(steps: &BTreeMap<String, Value>, replicas: usize) {
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/team/alice");
    assert_eq!(
        steps["create_user"],
        json!({"step": "create_user", "arn": alice, "path": "/team/", "tags": [{"Key": "team", "Value": "blue"}], "user_id_prefix": "AIDA", "user_id_len": 21})
    );
    assert_eq!(
        steps["create_user_again"],
        json!({"step": "create_user_again", "code": "EntityAlreadyExists", "status": 409, "message": "User with name ALICE already exists."})
    );
    assert_eq!(
        steps["get_user_policy"],
        json!({"step": "get_user_policy", "user": "alice", "name": "invoke", "document": true})
    );
    assert_eq!(
        steps["create_access_key"],
        json!({"step": "create_access_key", "id_prefix": "AKIA", "id_len": 20, "secret_len": 40, "status": "Active"})
    );
    assert_eq!(
        steps["api_allowed"],
        json!({"step": "api_allowed", "status": 200, "others": vec![200; replicas]})
    );
    assert_eq!(steps["api_denied"]["status"], 403);
    assert_eq!(steps["alice_get_self"]["arn"], alice);
    assert_eq!(
        steps["alice_list_users"],
        json!({"step": "alice_list_users", "code": "AccessDenied", "status": 403,
               "message": format!("User: {alice} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/")})
    );
    assert_eq!(
        steps["third_key"],
        json!({"step": "third_key", "code": "LimitExceeded", "status": 409, "message": "Cannot exceed quota for AccessKeysPerUser: 2"})
    );
    assert_eq!(
        steps["rotated"],
        json!({"step": "rotated", "refused": [403, {"message": "The security token included in the request is invalid."}], "new_key": 200, "within_bound": true})
    );
    assert_eq!(
        steps["list_access_keys"]["statuses"],
        json!(["Active", "Inactive"])
    );
    assert_eq!(
        steps["create_role"],
        json!({"step": "create_role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/svc/reader"), "has_max": false})
    );
    assert_eq!(
        steps["get_role"],
        json!({"step": "get_role", "max": 7200, "description": "reads", "trust": true})
    );
    assert_eq!(
        steps["assume_role"],
        json!({"step": "assume_role", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"), "reports": 200, "items": 403})
    );
    assert_eq!(
        steps["session_get_user"],
        json!({"step": "session_get_user", "code": "ValidationError", "status": 400, "message": "Must specify userName when calling with non-User credentials"})
    );
    assert_eq!(
        steps["no_such_user"],
        json!({"step": "no_such_user", "code": "NoSuchEntity", "status": 404, "message": "The user with name nobody cannot be found."})
    );
    assert_eq!(
        steps["delete_conflict"],
        json!({"step": "delete_conflict", "code": "DeleteConflict", "status": 409, "message": "Cannot delete entity, must delete policies first."})
    );
    assert_eq!(
        steps["malformed_policy"],
        json!({"step": "malformed_policy", "code": "MalformedPolicyDocument", "status": 400, "message": "Policy statement must contain resources."})
    );
    assert_eq!(
        steps["validation"],
        json!({"step": "validation", "code": "ValidationError", "status": 400, "message": "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"})
    );
    assert_eq!(
        steps["duplicate_tags"],
        json!({"step": "duplicate_tags", "code": "InvalidInput", "status": 400, "message": "Duplicate tag keys found. Please note that Tag keys are case insensitive."})
    );
    assert_eq!(
        steps["no_such_role"],
        json!({"step": "no_such_role", "code": "NoSuchEntity", "status": 404, "message": "The role with name missing cannot be found."})
    );
    assert_eq!(
        steps["pages"],
        json!({"step": "pages", "count": 3, "users": ["admin", "alice", "u1", "u2", "u3"]})
    );
    assert_eq!(
        steps["deleted"],
        json!({"step": "deleted", "code": "NoSuchEntity", "status": 404, "message": "The user with name alice cannot be found."})
    );
}

#[test]
fn boto3_manages_identities_in_sqlite() {
    let dir = temp_dir();
    let url = "sqlite://gateway.db";
    let admin = init(&dir, url);
    let gw = Running::start(&dir, Some(url));
    let steps = run_boto3(&json!({
        "endpoint": gw.base, "account": ACCOUNT, "admin": [admin.key, admin.secret], "others": [],
    }));
    check_boto3_steps(&steps, 0);
    // Secrets are never stored in clear.
    let db = std::fs::read(dir.join("gateway.db")).unwrap();
    assert!(!db
        .windows(admin.secret.len())
        .any(|w| w == admin.secret.as_bytes()));
    assert!(!gw.log().contains(&admin.secret));
}

fn aws(base: &str, admin: &Admin, args: &[&str]) -> (i32, String, String) {
    aws_in("us-east-1", base, admin, args)
}

fn aws_in(region: &str, base: &str, admin: &Admin, args: &[&str]) -> (i32, String, String) {
    let out = clean(&venv_bin("aws"))
        .env("AWS_ACCESS_KEY_ID", &admin.key)
        .env("AWS_SECRET_ACCESS_KEY", &admin.secret)
        .env("AWS_DEFAULT_REGION", region)
        .args(["--endpoint-url", base, "--output", "json"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn aws_cli_scenario(base: &str, admin: &Admin) {
    // Signed for a region that is neither us-east-1 nor the gateway's: errors.md #14.
    let (code, _, err) = aws_in("eu-west-1", base, admin, &["iam", "get-user"]);
    assert_eq!(code, 255);
    assert_eq!(
        err.trim(),
        "An error occurred (SignatureDoesNotMatch) when calling the GetUser operation: Credential should be scoped to a valid region, not 'eu-west-1'."
    );
    let (code, out, err) = aws(
        base,
        admin,
        &[
            "iam",
            "create-user",
            "--user-name",
            "carol",
            "--tags",
            "Key=team,Value=red",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let user: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        user["User"]["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/carol")
    );
    assert_eq!(
        user["User"]["Tags"],
        json!([{"Key": "team", "Value": "red"}])
    );

    let (code, out, _) = aws(base, admin, &["iam", "get-user"]);
    assert_eq!(code, 0);
    let me: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(me["User"]["Arn"], admin.arn);

    let (code, _, err) = aws(base, admin, &["iam", "get-user", "--user-name", "nobody"]);
    assert_eq!(code, 255);
    assert_eq!(
        err.trim(),
        "An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name nobody cannot be found."
    );
    for _ in 0..2 {
        assert_eq!(
            aws(
                base,
                admin,
                &["iam", "create-access-key", "--user-name", "carol"]
            )
            .0,
            0
        );
    }
    let (code, _, err) = aws(
        base,
        admin,
        &["iam", "create-access-key", "--user-name", "carol"],
    );
    assert_eq!(code, 255);
    assert_eq!(
        err.trim(),
        "An error occurred (LimitExceeded) when calling the CreateAccessKey operation: Cannot exceed quota for AccessKeysPerUser: 2"
    );
    let (code, out, _) = aws(
        base,
        admin,
        &["iam", "list-access-keys", "--user-name", "carol"],
    );
    assert_eq!(code, 0);
    let keys: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(keys["AccessKeyMetadata"].as_array().unwrap().len(), 2);
    // Two pages of one user each: the CLI follows the marker.
    let (code, out, _) = aws(base, admin, &["iam", "list-users", "--page-size", "1"]);
    assert_eq!(code, 0);
    let users: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = users["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "carol"]);
    let (code, _, err) = aws(base, admin, &["iam", "delete-user", "--user-name", "carol"]);
    assert_eq!(code, 255);
    assert_eq!(
        err.trim(),
        "An error occurred (DeleteConflict) when calling the DeleteUser operation: Cannot delete entity, must delete access keys first."
    );
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;
    assert_eq!(
        aws(
            base,
            admin,
            &[
                "iam",
                "put-user-policy",
                "--user-name",
                "carol",
                "--policy-name",
                "p",
                "--policy-document",
                doc
            ]
        )
        .0,
        0
    );
    let (code, out, _) = aws(
        base,
        admin,
        &[
            "iam",
            "get-user-policy",
            "--user-name",
            "carol",
            "--policy-name",
            "p",
        ],
    );
    assert_eq!(code, 0);
    let got: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        got["PolicyDocument"],
        serde_json::from_str::<Value>(doc).unwrap()
    );
}

#[test]
fn the_aws_cli_manages_identities_in_sqlite() {
    let dir = temp_dir();
    let url = "sqlite://cli.db";
    let admin = init(&dir, url);
    let gw = Running::start(&dir, Some(url));
    aws_cli_scenario(&gw.base, &admin);
}

#[test]
fn init_prints_one_json_object_and_never_initialises_twice() {
    let dir = temp_dir();
    // No SIGV4_STORE_KEY: SQLite's key goes next to the database, mode 0600.
    let out = Command::new(BIN)
        .current_dir(&dir)
        .env_remove("SIGV4_STORE_KEY")
        .args([
            "init",
            "--store",
            "sqlite://first.db",
            "--account",
            ACCOUNT,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let value: Value = serde_json::from_str(&stdout).unwrap();
    let object = value.as_object().unwrap();
    assert_eq!(
        object.keys().map(String::as_str).collect::<Vec<_>>(),
        ["access_key_id", "arn", "secret_access_key"]
    );
    assert_eq!(value["arn"], format!("arn:aws:iam::{ACCOUNT}:user/admin"));
    let key_file = dir.join("first.db.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_before = std::fs::read(&key_file).unwrap();
    let db_before = std::fs::read(dir.join("first.db")).unwrap();
    let again = Command::new(BIN)
        .current_dir(&dir)
        .env_remove("SIGV4_STORE_KEY")
        .args([
            "init",
            "--store",
            "sqlite://first.db",
            "--account",
            ACCOUNT,
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(again.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&again.stderr).trim(),
        format!("sigv4-gateway init: the store is already initialised (account {ACCOUNT}); nothing was changed")
    );
    assert_eq!(std::fs::read(&key_file).unwrap(), key_before);
    assert_eq!(std::fs::read(dir.join("first.db")).unwrap(), db_before);

    // A bad account changes nothing either.
    let bad = gateway_command(
        &dir,
        &[
            "init",
            "--store",
            "sqlite://second.db",
            "--account",
            "12345",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr).trim(),
        "sigv4-gateway init: \"12345\" is not a twelve-digit account id"
    );
    assert!(!dir.join("second.db").exists());
}

#[test]
fn a_wrong_store_key_is_refused_at_start() {
    let dir = temp_dir();
    init(&dir, "sqlite://keyed.db");
    std::fs::write(
        dir.join("g.toml"),
        format!("listen = \"127.0.0.1:0\"\n[api]\naccount = \"{ACCOUNT}\"\napi_id = \"a\"\n[store]\nurl = \"sqlite://keyed.db\"\n"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .current_dir(&dir)
        .env(
            "SIGV4_STORE_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        )
        .args(["--config", "g.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "sigv4-gateway: store sqlite://keyed.db: the store key is not the one this store was initialised with"
    );
}

#[test]
fn import_config_seeds_a_store_once() {
    let dir = temp_dir();
    init(&dir, "sqlite://seeded.db");
    let config = dir.join("seed.toml");
    std::fs::write(
        &config,
        format!(
            r#"[api]
account = "{ACCOUNT}"
api_id = "apiid"
[[user]]
arn = "arn:aws:iam::{ACCOUNT}:user/ops/dave"
access_keys = [{{ id = "AKIADAVE000000000001", secret = "dave/secret/0123456789abcdefghijklmnopq" }}]
policies = ['{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/*"}}]}}']
tags = {{ team = "ops" }}
[[role]]
arn = "arn:aws:iam::{ACCOUNT}:role/Deployer"
trust_policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/ops/dave"}},"Action":"sts:AssumeRole"}}]}}'
"#
        ),
    )
    .unwrap();
    let args = [
        "import-config",
        "--config",
        "seed.toml",
        "--store",
        "sqlite://seeded.db",
    ];
    let out = gateway_command(&dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "imported 1 users (1 access keys) and 1 roles into sqlite://seeded.db"
    );
    let again = gateway_command(&dir, &args);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&again.stderr).trim(),
        format!("sigv4-gateway import-config: user arn:aws:iam::{ACCOUNT}:user/ops/dave: entity already exists")
    );
    // The imported key signs, with the imported (shorthand) policy.
    let gw = Running::start(&dir, Some("sqlite://seeded.db"));
    let (status, body) = send(
        &gw.base,
        "AKIADAVE000000000001",
        "dave/secret/0123456789abcdefghijklmnopq",
        "execute-api",
        "GET",
        "/x",
        "",
    );
    assert_eq!(status, 200, "{body}");
    let value: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        value["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/ops/dave")
    );
}

#[test]
fn the_file_store_answers_reads_and_refuses_writes() {
    let dir = temp_dir();
    let gw = Running::start(&dir, None);
    let file_user = Admin {
        arn: format!("arn:aws:iam::{ACCOUNT}:user/file-user"),
        key: "AKIAFILEUSER00000001".into(),
        secret: "file/secret/0123456789abcdefghijklmnopq".into(),
    };
    let (status, body) = iam(&gw.base, &file_user, &[("Action", "GetUser")]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("<Arn>{}</Arn>", file_user.arn)),
        "{body}"
    );
    let (status, body) = iam(
        &gw.base,
        &file_user,
        &[("Action", "CreateUser"), ("UserName", "x")],
    );
    assert_eq!(status, 400);
    assert_eq!(
        code_and_message(&body),
        (
            "InvalidInput".into(),
            "identities come from the configuration file".into()
        )
    );
}

#[test]
fn iam_errors_on_the_wire() {
    let dir = temp_dir();
    let url = "sqlite://errors.db";
    let admin = init(&dir, url);
    let gw = Running::start(&dir, Some(url));
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (&[("Action", "Frobnicate")], 400, "InvalidAction", "Could not find operation Frobnicate for version 2010-05-08"),
        (&[("Action", "ListUsers"), ("MaxItems", "ten")], 400, "MalformedInput", "Invalid value for parameter MaxItems: 'ten' is not an integer"),
        (&[("Action", "ListUsers"), ("MaxItems", "0")], 400, "ValidationError", "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        (&[("Action", "ListUsers"), ("Marker", "bogus")], 400, "ValidationError", "Invalid Marker"),
        (&[("Action", "CreateUser")], 400, "ValidationError", "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must not be null"),
        (&[("Action", "CreateUser"), ("UserName", "a b")], 400, "ValidationError", r"1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"),
        (&[("Action", "CreateUser"), ("UserName", "p"), ("Path", "nopath")], 400, "ValidationError", r"1 validation error detected: Value at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"),
        (&[("Action", "CreateUser"), ("UserName", "p"), ("PermissionsBoundary", "arn:aws:iam::123456789012:policy/b")], 400, "InvalidInput", "PermissionsBoundary is not supported by this server"),
        (&[("Action", "UpdateAccessKey"), ("AccessKeyId", "AKIAAAAAAAAAAAAAAAAA"), ("Status", "Expired")], 400, "InvalidInput", "Status Expired cannot be set; use Active or Inactive"),
        (&[("Action", "UpdateAccessKey"), ("AccessKeyId", "AKIAAAAAAAAAAAAAAAAA"), ("Status", "Bogus")], 400, "ValidationError", "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"),
        (&[("Action", "DeleteAccessKey"), ("AccessKeyId", "AKIAAAAAAAAAAAAAAAAA")], 404, "NoSuchEntity", "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found."),
        (&[("Action", "GetAccessKeyLastUsed"), ("AccessKeyId", "AKIAAAAAAAAAAAAAAAAA")], 403, "AccessDenied", "User: arn:aws:iam::123456789012:user/admin is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key AKIAAAAAAAAAAAAAAAAA"),
        (&[("Action", "GetUserPolicy"), ("UserName", "admin"), ("PolicyName", "none")], 404, "NoSuchEntity", "The user policy with name none cannot be found."),
        (&[("Action", "CreateRole"), ("RoleName", "r"), ("AssumeRolePolicyDocument", "{not json")], 400, "MalformedPolicyDocument", "This policy contains invalid Json"),
        (&[("Action", "CreateRole"), ("RoleName", "r"), ("AssumeRolePolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"}]}"#)], 400, "MalformedPolicyDocument", "AssumeRole policy may only specify STS AssumeRole actions."),
        (&[("Action", "CreateRole"), ("RoleName", "r"), ("AssumeRolePolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#), ("MaxSessionDuration", "100")], 400, "ValidationError", "1 validation error detected: Value at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"),
        (&[("Action", "PutUserPolicy"), ("UserName", "admin"), ("PolicyName", "p"), ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3","Resource":"*"}]}"#)], 400, "MalformedPolicyDocument", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (&[("Action", "PutUserPolicy"), ("UserName", "admin"), ("PolicyName", "p"), ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}]}"#)], 400, "MalformedPolicyDocument", "Resource bucket must be in ARN format or \"*\"."),
        (&[("Action", "PutUserPolicy"), ("UserName", "admin"), ("PolicyName", "p"), ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"a","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)], 400, "MalformedPolicyDocument", "Statement IDs (SID) in a single policy must be unique."),
        (&[("Action", "PutUserPolicy"), ("UserName", "admin"), ("PolicyName", "p"), ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#)], 400, "MalformedPolicyDocument", "Policy document should not specify a principal."),
    ];
    for (form, status, code, message) in cases {
        let (got, body) = iam(&gw.base, &admin, form);
        assert_eq!(
            (got, code_and_message(&body)),
            (*status, ((*code).to_owned(), (*message).to_owned())),
            "{form:?}"
        );
    }
    // The inline-policy size limit counts every user policy (white space not counted).
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{ACCOUNT}:{}"}}]}}"#,
        "a".repeat(2000)
    );
    let (status, body) = iam(
        &gw.base,
        &admin,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "admin"),
            ("PolicyName", "big"),
            ("PolicyDocument", &big),
        ],
    );
    assert_eq!(
        (status, code_and_message(&body)),
        (
            409,
            (
                "LimitExceeded".into(),
                "Maximum policy size of 2048 bytes exceeded for user admin".into()
            )
        )
    );
    // An oversized body is refused before it is parsed, in IAM's XML.
    let huge = "a".repeat(300 * 1024);
    let (status, body) = iam(
        &gw.base,
        &admin,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "admin"),
            ("PolicyName", "p"),
            ("PolicyDocument", &huge),
        ],
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(code_and_message(&body).0, "MalformedInput");
    // Unsigned: the IAM answer, not API Gateway's JSON.
    let authority = gw.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(stream, "GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 403"), "{raw}");
    assert_eq!(
        code_and_message(&raw),
        (
            "MissingAuthenticationToken".into(),
            "Request is missing Authentication Token".into()
        )
    );
    // Signature faults are IAM XML too.
    let wrong = Admin {
        secret: "wrong".into(),
        ..admin.clone()
    };
    let (status, body) = iam(&gw.base, &wrong, &[("Action", "GetUser")]);
    assert_eq!(status, 403);
    assert_eq!(code_and_message(&body).0, "SignatureDoesNotMatch");
    let unknown = Admin {
        key: "AKIAUNKNOWNKEY000000".into(),
        ..admin.clone()
    };
    let (status, body) = iam(&gw.base, &unknown, &[("Action", "GetUser")]);
    assert_eq!(
        (status, code_and_message(&body)),
        (
            403,
            (
                "InvalidClientTokenId".into(),
                "The security token included in the request is invalid.".into()
            )
        )
    );
}

/// `count` gateways on one fresh PostgreSQL database.
fn replicas(cluster: &Cluster, count: usize) -> (PathBuf, Admin, Vec<Running>) {
    let dir = temp_dir();
    let url = cluster.database(&format!("iam{}", unique()));
    let admin = init(&dir, &url);
    let gateways = (0..count)
        .map(|_| Running::start(&dir, Some(&url)))
        .collect();
    (dir, admin, gateways)
}

#[test]
fn boto3_and_the_aws_cli_on_three_postgres_replicas() {
    if postgres::skipped() {
        return;
    }
    let cluster = Cluster::start();
    let (_dir, admin, gws) = replicas(&cluster, 3);
    let steps = run_boto3(&json!({
        "endpoint": gws[0].base, "account": ACCOUNT, "admin": [admin.key, admin.secret],
        "others": [gws[1].base, gws[2].base],
    }));
    check_boto3_steps(&steps, 2);
    aws_cli_scenario(&gws[1].base, &admin);
}

/// Polls `condition` every 20 ms; the seconds it took, failing past `limit`.
fn within(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if condition() {
            return started.elapsed();
        }
        assert!(started.elapsed() <= limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn created_key(base: &str, admin: &Admin, user: &str) -> (String, String) {
    let (status, body) = iam(
        base,
        admin,
        &[("Action", "CreateAccessKey"), ("UserName", user)],
    );
    assert_eq!(status, 200, "{body}");
    let between = |open: &str, close: &str| {
        body.split_once(open)
            .unwrap()
            .1
            .split_once(close)
            .unwrap()
            .0
            .to_owned()
    };
    (
        between("<AccessKeyId>", "</AccessKeyId>"),
        between("<SecretAccessKey>", "</SecretAccessKey>"),
    )
}

#[test]
fn replicas_see_keys_created_and_deactivated_elsewhere_within_two_seconds() {
    if postgres::skipped() {
        return;
    }
    let cluster = Cluster::start();
    let (_dir, admin, gws) = replicas(&cluster, 3);
    let (a, b, c) = (&gws[0].base, &gws[1].base, &gws[2].base);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{ACCOUNT}:apiid/*"}}]}}"#
    );
    assert_eq!(
        iam(a, &admin, &[("Action", "CreateUser"), ("UserName", "erin")]).0,
        200
    );
    assert_eq!(
        iam(
            a,
            &admin,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", "erin"),
                ("PolicyName", "p"),
                ("PolicyDocument", &policy)
            ]
        )
        .0,
        200
    );
    // B and C look the key up first (a negative answer they might cache).
    let (id, secret) = ("AKIAERINNOTYETMADE00".to_owned(), "x".to_owned());
    for base in [b, c] {
        assert_eq!(
            send(base, &id, &secret, "execute-api", "GET", "/", "").0,
            403
        );
    }
    let (id, secret) = created_key(a, &admin, "erin");
    let call = |base: &str| send(base, &id, &secret, "execute-api", "GET", "/", "").0;
    assert_eq!(call(a), 200, "the writing replica sees its write at once");
    for base in [b, c] {
        within(
            Duration::from_secs(2),
            "a new key usable on another replica",
            || call(base) == 200,
        );
    }
    // Deactivated through C: refused on A and B within 2 s (they have it cached).
    assert_eq!(
        iam(
            c,
            &admin,
            &[
                ("Action", "UpdateAccessKey"),
                ("UserName", "erin"),
                ("AccessKeyId", &id),
                ("Status", "Inactive")
            ]
        )
        .0,
        200
    );
    assert_eq!(call(c), 403);
    for base in [a, b] {
        within(
            Duration::from_secs(2),
            "a deactivated key refused on another replica",
            || call(base) == 403,
        );
    }
    // A policy change too.
    assert_eq!(
        iam(
            c,
            &admin,
            &[
                ("Action", "UpdateAccessKey"),
                ("UserName", "erin"),
                ("AccessKeyId", &id),
                ("Status", "Active")
            ]
        )
        .0,
        200
    );
    for base in [a, b] {
        within(Duration::from_secs(2), "a reactivated key usable", || {
            call(base) == 200
        });
    }
    assert_eq!(
        iam(
            b,
            &admin,
            &[
                ("Action", "DeleteUserPolicy"),
                ("UserName", "erin"),
                ("PolicyName", "p")
            ]
        )
        .0,
        200
    );
    for base in [a, c] {
        within(
            Duration::from_secs(2),
            "a deleted policy no longer allows",
            || call(base) == 403,
        );
    }
}

#[test]
fn a_database_restart_during_traffic_never_answers_403_for_a_failing_store() {
    if postgres::skipped() {
        return;
    }
    let cluster = Cluster::start();
    let (_dir, admin, gws) = replicas(&cluster, 2);
    let (a, b) = (&gws[0].base, &gws[1].base);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;
    assert_eq!(
        iam(
            a,
            &admin,
            &[("Action", "CreateUser"), ("UserName", "frank")]
        )
        .0,
        200
    );
    assert_eq!(
        iam(
            a,
            &admin,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", "frank"),
                ("PolicyName", "p"),
                ("PolicyDocument", policy)
            ]
        )
        .0,
        200
    );
    let (cached_id, cached_secret) = created_key(a, &admin, "frank");
    let (cold_id, cold_secret) = created_key(a, &admin, "frank");
    // Warm B's caches with one key only.
    within(Duration::from_secs(2), "the key usable on B", || {
        send(b, &cached_id, &cached_secret, "execute-api", "GET", "/", "").0 == 200
    });
    for _ in 0..3 {
        assert_eq!(
            send(b, &cached_id, &cached_secret, "execute-api", "GET", "/", "").0,
            200
        );
    }

    cluster.stop_server();
    let mut cached = Vec::new();
    let mut cold = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        cached.push(send(b, &cached_id, &cached_secret, "execute-api", "GET", "/", "").0);
        cold.push(send(
            b,
            &cold_id,
            &cold_secret,
            "execute-api",
            "GET",
            "/",
            "",
        ));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        cached.iter().all(|s| *s == 200),
        "a cached key failed during the outage: {cached:?}"
    );
    for (status, body) in &cold {
        assert_eq!(
            (*status, body.as_str()),
            (500, r#"{"message":"Internal server error"}"#)
        );
    }
    cluster.start_server();
    cluster.wait_ready();
    within(
        Duration::from_secs(10),
        "the uncached key works once the database is back",
        || send(b, &cold_id, &cold_secret, "execute-api", "GET", "/", "").0 == 200,
    );
    // Writes work again, and reach the other replica.
    assert_eq!(
        iam(
            b,
            &admin,
            &[
                ("Action", "UpdateAccessKey"),
                ("UserName", "frank"),
                ("AccessKeyId", &cached_id),
                ("Status", "Inactive")
            ]
        )
        .0,
        200
    );
    within(
        Duration::from_secs(4),
        "a deactivation after the restart reaches A",
        || send(a, &cached_id, &cached_secret, "execute-api", "GET", "/", "").0 == 403,
    );
}
