//! A throwaway PostgreSQL cluster for the tests: `initdb` from the Debian package
//! (`/usr/lib/postgresql/*/bin`, or `SIGV4_PG_BIN`), in a temporary directory, run as an
//! unprivileged user when the tests run as root, stopped on drop.
//!
//! A missing PostgreSQL fails the tests that need it (`.ci/run` installs it). Setting
//! `SIGV4_SKIP_POSTGRES=1` skips them explicitly, with a line saying so.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Whether the PostgreSQL tests were explicitly switched off.
pub(crate) fn skipped() -> bool {
    if std::env::var_os("SIGV4_SKIP_POSTGRES").is_some_and(|v| v == "1") {
        eprintln!("SIGV4_SKIP_POSTGRES=1: PostgreSQL test skipped on request");
        return true;
    }
    false
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SIGV4_PG_BIN") {
        return dir.into();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's initdb was not found under /usr/lib/postgresql/*/bin (install the Debian package `postgresql`, as .ci/run does; or set SIGV4_PG_BIN, or SIGV4_SKIP_POSTGRES=1 to skip explicitly)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A running cluster; stopped and removed on drop.
pub(crate) struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub(crate) port: u16,
    as_user: Option<&'static str>,
}

impl Cluster {
    pub(crate) fn start() -> Self {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!(
            "sigv4-pg-{}-{}",
            std::process::id(),
            super::iam_store::unique()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let as_user = is_root().then_some("postgres");
        if let Some(user) = as_user {
            let ok = Command::new("chown")
                .args(["-R", &format!("{user}:"), dir.to_str().unwrap()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "cannot hand {} to user {user}", dir.display());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self {
            bin,
            dir,
            port,
            as_user,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        cluster.start_server();
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").to_str().unwrap().to_owned()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let out = match self.as_user {
            Some(user) => Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(&program)
                .args(args)
                .output(),
            None => Command::new(&program).args(args).output(),
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.to_str().unwrap()
        );
        let log = self.dir.join("log").to_str().unwrap().to_owned();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    pub(crate) fn stop_server(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// A URL for a fresh database of this cluster.
    pub(crate) fn database(&self, name: &str) -> String {
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ],
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Waits until the server accepts connections.
    pub(crate) fn wait_ready(&self) {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "PostgreSQL did not come back"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = match self.as_user {
            Some(user) => Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(&program)
                .args(args)
                .output(),
            None => Command::new(&program).args(args).output(),
        };
        let _ = std::fs::remove_dir_all(Path::new(&self.dir));
    }
}
