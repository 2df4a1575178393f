//! Runs every example with `--smoke` and checks that it passes its own checks.
//!
//! Each server example binds a free loopback port, sends itself signed (and unsigned) requests
//! with the crate's signer, checks every status and body, and exits non-zero on the first
//! mismatch; `signing_client` always does that. Here each must exit 0 and print the lines
//! below.
//!
//! `cargo test` builds the examples only when no target is selected: `cargo test --test
//! examples` would not (and would run stale binaries). So this test builds them itself, once,
//! with `$CARGO build --examples` into its own target directory and profile, before running
//! any. With `cargo test --all-features` that build finds everything fresh and does nothing.
//! A binary still missing afterwards fails the test; nothing is skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long one example may take (they take well under a second).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Prefixes of the environment variables cargo sets for a test binary (and not for itself).
const CARGO_SET_FOR_TESTS: &[&str] = &[
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// `<target>/<profile>`: this test binary is `<target>/<profile>/deps/examples-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in <target>/<profile>/deps", exe.display()))
        .to_owned()
}

/// Builds the examples (once for all tests) and returns the directory they are in.
pub(crate) fn examples_dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let profile_dir = profile_dir();
        let target_dir = profile_dir.parent().expect("target directory");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--examples", "--all-features", "--manifest-path"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        // Drop what cargo set for this test's own run (`CARGO_PKG_VERSION_*` and the like):
        // build scripts that watch those variables (ring's does) would otherwise see a change,
        // rebuild, and make the next `cargo test` rebuild everything back.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if CARGO_SET_FOR_TESTS.iter().any(|p| name.starts_with(p)) {
                cargo.env_remove(&*name);
            }
        }
        // `cargo test` builds examples with the test profile, into `debug`.
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => cargo.args(["--profile", "test"]),
            Some("release") => cargo.arg("--release"),
            Some(custom) => cargo.args(["--profile", custom]),
            None => return Err(format!("no profile in {}", profile_dir.display())),
        };
        let output = cargo
            .output()
            .map_err(|e| format!("cannot run {}: {e}", env!("CARGO")))?;
        if !output.status.success() {
            return Err(format!(
                "`cargo build --examples` failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(profile_dir.join("examples"))
    });
    match built {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

/// Runs example `name` with `--smoke`; returns its standard output if it exits 0.
fn smoke(name: &str) -> String {
    let exe = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        exe.is_file(),
        "example binary {} is missing after `cargo build --examples`",
        exe.display()
    );
    let mut child = Command::new(&exe)
        .arg("--smoke")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} --smoke did not finish in {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        status.success(),
        "{name} --smoke failed ({status}).\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Asserts that `stdout` has each of `lines`, whole.
fn assert_lines(name: &str, stdout: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            stdout.lines().any(|l| l == *line),
            "{name}: no line {line:?} in:\n{stdout}"
        );
    }
}

#[test]
fn axum_app() {
    let out = smoke("axum_app");
    assert_lines(
        "axum_app",
        &out,
        &[
            "ok  alice GET /whoami: 200 arn:aws:iam::123456789012:user/alice",
            "ok  alice POST /echo: 200 arn:aws:iam::123456789012:user/alice sent 5 bytes",
            "ok  bob GET /whoami: 200 arn:aws:iam::123456789012:user/bob",
            r#"ok  bob POST /echo: 403 {"Message":"User: arn:aws:iam::123456789012:user/bob is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:local-api/prod/POST/echo"}"#,
            r#"ok  unsigned GET /whoami: 403 {"message":"Missing Authentication Token"}"#,
            "smoke: axum_app passed 5 checks",
        ],
    );
}

#[test]
fn hyper_server() {
    let out = smoke("hyper_server");
    assert_lines(
        "hyper_server",
        &out,
        &[
            "ok  signed GET /: 200 hello arn:aws:iam::123456789012:user/hyper",
            "ok  signed POST /echo: 200 ping",
            r#"ok  unsigned GET /: 403 {"message":"Missing Authentication Token"}"#,
            r#"ok  GET / with a wrong secret: 403 {"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#,
            r#"ok  GET / with an unknown key: 403 {"message":"The security token included in the request is invalid."}"#,
            "smoke: hyper_server passed 5 checks",
        ],
    );
}

#[test]
fn file_key_provider() {
    let out = smoke("file_key_provider");
    assert_lines(
        "file_key_provider",
        &out,
        &[
            "ok  carol (writer) POST /notes: 200 arn:aws:iam::123456789012:user/carol saved 2 bytes",
            "ok  dave (reader) GET /notes: 200 notes of arn:aws:iam::123456789012:user/dave",
            r#"ok  dave (reader) POST /notes: 403 {"Message":"User: arn:aws:iam::123456789012:user/dave is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:local-api/prod/POST/notes"}"#,
            r#"ok  erin (revoked) GET /notes: 403 {"message":"The security token included in the request is invalid."}"#,
            r#"ok  unknown key GET /notes: 403 {"message":"The security token included in the request is invalid."}"#,
            r#"ok  carol GET /notes, key file missing: 500 {"message":"Internal server error"}"#,
            "ok  carol GET /notes, key file back: 200 notes of arn:aws:iam::123456789012:user/carol",
            "smoke: file_key_provider passed 7 checks",
        ],
    );
}

#[test]
fn closure_policy() {
    let out = smoke("closure_policy");
    assert_lines(
        "closure_policy",
        &out,
        &[
            "ok  dev GET /notes: 200",
            r#"ok  dev POST /notes: 403 {"Message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: POST /notes (writes need the tag team=admin)"}"#,
            "ok  admin POST /notes: 201 note 1 saved",
            "ok  dev GET /notes again: 200 ada: ship it",
            r#"ok  unsigned POST /notes: 403 {"message":"Missing Authentication Token"}"#,
            "smoke: closure_policy passed 5 checks",
        ],
    );
}

#[test]
fn signing_client() {
    let out = smoke("signing_client");
    assert_lines(
        "signing_client",
        &out,
        &[
            "signed GET /hello -> 200 OK",
            "  hello arn:aws:iam::123456789012:user/client",
            "signed POST /orders -> 200 OK",
            r#"  arn:aws:iam::123456789012:user/client ordered {"item":"coffee","qty":2}"#,
            "presigned GET /hello -> 200 OK",
        ],
    );
}

#[test]
fn tonic_grpc() {
    let out = smoke("tonic_grpc");
    assert_lines(
        "tonic_grpc",
        &out,
        &[
            "ok  alice WhoAmI (unary): arn:aws:iam::123456789012:user/alice",
            "ok  alice Upload (client streaming): 3 chunks, 21 bytes",
            "ok  bob Count to 5 (server streaming): [1, 2, 3, 4, 5]",
            r#"ok  bob Upload: PermissionDenied (7) "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: /demo.Demo/Upload""#,
            r#"ok  WhoAmI with a wrong secret: Unauthenticated (16) "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.""#,
            r#"ok  unsigned WhoAmI: Unauthenticated (16) "Missing Authentication Token""#,
            "smoke: tonic_grpc passed 6 checks",
        ],
    );
}
