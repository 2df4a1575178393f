//! Real S3 clients against `examples/s3_server.rs`: boto3 (`put_object` small and 20 MiB,
//! `upload_file` of 40 MiB in parts, `download_file`, ranges, presigned GET and PUT, refusals)
//! and the AWS CLI v1 (`aws s3 cp` both ways, `aws s3 ls`, `aws s3api put-object
//! --checksum-algorithm CRC32C`), over plain HTTP — where they sign the payload — and over
//! HTTPS with a certificate made here — where they send `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
//! The script is `tests/interop/s3_clients.py`; its Python environment (boto3, awscli,
//! awscrt) is what `.ci/run` installs. A missing tool fails the test; nothing is skipped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TOWER_SIGV4_PYTHON") {
        return p.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// The example server, its address, and the lines it logged.
struct Server {
    child: Child,
    endpoint: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(tls: Option<(&PathBuf, &PathBuf)>) -> Server {
    let exe =
        crate::examples::examples_dir().join(format!("s3_server{}", std::env::consts::EXE_SUFFIX));
    assert!(exe.is_file(), "{} missing", exe.display());
    let mut cmd = Command::new(&exe);
    cmd.args(["--listen", "127.0.0.1:0", "--log"]);
    if let Some((cert, key)) = tls {
        cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let endpoint = first
        .trim()
        .strip_prefix("s3_server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    Server {
        child,
        endpoint,
        log,
    }
}

fn run_clients(server: &Server, ca: Option<&PathBuf>) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/s3_clients.py");
    let mut cmd = Command::new(python());
    cmd.arg(&script).arg(&server.endpoint);
    if let Some(ca) = ca {
        cmd.arg(ca);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {}: {e} (create .venv as .ci/run does)",
            python().display()
        )
    });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.lines().any(|l| l == "all ok"),
        "s3_clients.py against {} failed ({}):\n{stdout}\n{}",
        server.endpoint,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "ok put_object small",
        "ok put_object 20 MiB",
        "ok upload_file 40 MiB multipart",
        "ok download_file",
        "ok presigned GET",
        "ok presigned PUT",
        "ok presigned PUT with an unsigned header refused",
        "ok aws s3 cp both ways",
        "ok aws s3 ls",
        "ok aws s3api put-object --checksum-algorithm CRC32C",
    ] {
        assert!(
            stdout.lines().any(|l| l == step),
            "no {step:?} in:\n{stdout}"
        );
    }
    stdout
}

/// The payload modes of the uploads (`PUT` lines) the server logged.
fn upload_modes(server: &Server) -> Vec<String> {
    server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("PUT "))
        .filter_map(|l| l.rsplit(' ').next().map(str::to_owned))
        .collect()
}

#[test]
fn boto3_and_the_aws_cli_over_http() {
    let server = start(None);
    assert!(server.endpoint.starts_with("http://"));
    run_clients(&server, None);
    let modes = upload_modes(&server);
    // Over plain HTTP the clients hash the payload: hex values only (presigned PUTs: none).
    assert!(modes.iter().any(|m| m.len() == 64), "{modes:?}");
    assert!(
        !modes.iter().any(|m| m.starts_with("STREAMING")),
        "{modes:?}"
    );
}

#[test]
fn boto3_and_the_aws_cli_over_https() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("s3_clients_tls");
    std::fs::create_dir_all(&dir).unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let server = start(Some((&cert_path, &key_path)));
    assert!(server.endpoint.starts_with("https://"));
    run_clients(&server, Some(&cert_path));
    let modes = upload_modes(&server);
    // Over HTTPS boto3 and the CLI stream with a trailing checksum.
    let streamed = modes
        .iter()
        .filter(|m| *m == "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .count();
    assert!(streamed >= 10, "{modes:?}");
}
