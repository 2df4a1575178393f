//! Hostile configuration files: every error names the file, line, column and key path, and
//! none prints a secret (a syntax error on a secret's line, a wrong type at a secret, an
//! unknown key beside one, a bad session-token key), through `GatewayConfig`, `FileStore` and
//! `sigv4-gateway --check-config`; and a refused file is logged once per change, not at every
//! poll.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use sigv4_gateway::config::{ConfigFileError, FileStore, GatewayConfig};

const ALICE: &str = "arn:aws:iam::111111111111:user/alice";
/// A distinctive secret: no window of it may appear in any error.
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY";
/// A secret given as a (too large) integer.
const DIGITS: &str = "12345678901234567890";

/// Lines 1 to 5; whatever follows starts on line 6.
const HEAD: &str = r#"
listen = "127.0.0.1:8080"
[api]
account = "111111111111"
api_id = "apiid"
"#;

/// A user on lines 6 to 8 whose access key list (line 8) is `keys`.
fn user_with_keys(keys: &str) -> String {
    format!("{HEAD}[[user]]\narn = \"{ALICE}\"\naccess_keys = [{keys}]\n")
}

/// Token keys on lines 6 and 7 (the list on line 7).
fn token_keys(keys: &str) -> String {
    format!("{HEAD}[sts]\ntoken_keys = [{keys}]\n")
}

/// Fails if the error, shown any way, holds the secret or any 8-character piece of it.
fn assert_secret_free(error: &ConfigFileError, secret: &str) {
    let chars: Vec<char> = secret.chars().collect();
    let shown = [
        error.to_string(),
        error.message().to_owned(),
        error.location().to_owned(),
        format!("{error:?}"),
    ];
    for text in &shown {
        assert!(!text.contains(secret), "the secret is shown: {text}");
        for window in chars.windows(8) {
            let piece: String = window.iter().collect();
            assert!(
                !text.contains(&piece),
                "{piece:?} of the secret is shown: {text}"
            );
        }
    }
}

fn parse_error(text: &str) -> ConfigFileError {
    GatewayConfig::from_toml(text).expect_err("should not parse")
}

/// A directory of its own under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "tower-sigv4-hostile-config-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn config(&self) -> PathBuf {
        self.0.join("gateway.toml")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Replaces `path` atomically.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Parse errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_syntax_error_on_a_secret_line_names_line_and_column_but_not_the_secret() {
    // The string is never closed: the rest of the line is taken into it.
    let text = user_with_keys(&format!(r#"{{ id = "AKIAALICE", secret = "{SECRET} }}"#));
    let error = parse_error(&text);
    assert_secret_free(&error, SECRET);
    assert_eq!(
        error.to_string(),
        "line 8, column 79: unclosed inline table"
    );
    assert_eq!(error.location(), "line 8, column 79");
    assert_eq!(error.message(), "unclosed inline table");
    assert_eq!((error.line(), error.column()), (Some(8), Some(79)));

    // Through a file, the file leads: `FILE:LINE:COLUMN`.
    let dir = TempDir::new("syntax");
    let path = dir.config();
    write(&path, &text);
    let error = GatewayConfig::from_file(&path).unwrap_err();
    assert_secret_free(&error, SECRET);
    assert_eq!(
        error.to_string(),
        format!("{}:8:79: unclosed inline table", path.display())
    );
    let error = FileStore::open(&path).unwrap_err();
    assert_secret_free(&error, SECRET);
    assert_eq!(error.location(), format!("{}:8:79", path.display()));
}

#[test]
fn a_syntax_error_elsewhere_keeps_the_whole_message() {
    // No secret on the line: the parser's message is shown as it is (never the line itself).
    let error = parse_error(&format!("{HEAD}[[user]\n"));
    assert_eq!(
        error.to_string(),
        "line 6, column 8: unclosed array table, expected `]`"
    );
}

#[test]
fn a_wrong_type_at_a_secret_names_the_key_path_but_not_the_value() {
    // An integer too large for any integer type.
    let error = parse_error(&user_with_keys(&format!(
        r#"{{ id = "AKIAALICE", secret = {DIGITS} }}"#
    )));
    assert_secret_free(&error, DIGITS);
    assert_eq!(
        error.to_string(),
        "line 8, column 45: user[0].access_keys[0].secret: invalid type: integer, expected a string"
    );
    assert_eq!(
        error.location(),
        "line 8, column 45: user[0].access_keys[0].secret"
    );
    assert_eq!(error.message(), "invalid type: integer, expected a string");

    // A list.
    let error = parse_error(&user_with_keys(&format!(
        r#"{{ id = "AKIAALICE", secret = ["{SECRET}"] }}"#
    )));
    assert_secret_free(&error, SECRET);
    assert_eq!(
        error.to_string(),
        "line 8, column 45: user[0].access_keys[0].secret: invalid type: sequence, expected a string"
    );

    // A float, a boolean, a session-token key: the value is never quoted.
    let error = parse_error(&user_with_keys(
        r#"{ id = "AKIAALICE", secret = 31415.9265 }"#,
    ));
    assert_secret_free(&error, "31415.9265");
    assert_eq!(
        error.to_string(),
        "line 8, column 45: user[0].access_keys[0].secret: invalid type: floating point, expected a string"
    );
    let error = parse_error(&token_keys(&format!(
        r#"{{ id = "k1", secret = {DIGITS} }}"#
    )));
    assert_secret_free(&error, DIGITS);
    assert_eq!(
        error.to_string(),
        "line 7, column 37: sts.token_keys[0].secret: invalid type: integer, expected a string"
    );

    // Any key holding `secret` is treated alike, wherever it is.
    let error = parse_error(&format!(
        "{HEAD}[[user]]\narn = \"{ALICE}\"\ntags = {{ my_secret = {DIGITS} }}\n"
    ));
    assert_secret_free(&error, DIGITS);
    assert_eq!(
        error.to_string(),
        "line 8, column 22: user[0].tags.my_secret: invalid type: integer, expected a string"
    );

    // Through a file.
    let dir = TempDir::new("type");
    let path = dir.config();
    write(
        &path,
        &user_with_keys(&format!(r#"{{ id = "AKIAALICE", secret = {DIGITS} }}"#)),
    );
    let error = FileStore::open(&path).unwrap_err();
    assert_secret_free(&error, DIGITS);
    assert_eq!(
        error.to_string(),
        format!(
            "{}:8:45: user[0].access_keys[0].secret: invalid type: integer, expected a string",
            path.display()
        )
    );
}

#[test]
fn a_wrong_type_elsewhere_keeps_the_value() {
    // Not a secret: the value helps, and stays.
    let error = parse_error(&format!("{HEAD}[auth]\nclock_skew_seconds = \"300\"\n"));
    assert_eq!(
        error.to_string(),
        "line 7, column 22: auth.clock_skew_seconds: invalid type: string \"300\", expected u64"
    );
}

#[test]
fn an_unknown_key_beside_a_secret_does_not_show_the_line() {
    let error = parse_error(&user_with_keys(&format!(
        r#"{{ id = "AKIAALICE", secret = "{SECRET}", activ = true }}"#
    )));
    assert_secret_free(&error, SECRET);
    assert_eq!(
        error.to_string(),
        "line 8, column 79: user[0].access_keys[0].activ: unknown field `activ`, expected one of `id`, `secret`, `active`"
    );
    // A misspelt `secret` is named, its value is not shown.
    let error = parse_error(&user_with_keys(&format!(
        r#"{{ id = "AKIAALICE", secret_key = "{SECRET}" }}"#
    )));
    assert_secret_free(&error, SECRET);
    assert_eq!(
        error.to_string(),
        "line 8, column 36: user[0].access_keys[0].secret_key: unknown field `secret_key`, expected one of `id`, `secret`, `active`"
    );
    // A missing secret names the key list entry.
    let error = parse_error(&user_with_keys(r#"{ id = "AKIAALICE" }"#));
    assert_eq!(
        error.to_string(),
        "line 8, column 16: user[0].access_keys[0]: missing field `secret`"
    );
}

#[test]
fn a_bad_token_key_names_its_place_but_not_the_key() {
    let bad = format!("{SECRET}!");
    let error = parse_error(&token_keys(&format!(
        r#"{{ id = "k1", secret = "{bad}" }}"#
    )));
    assert_secret_free(&error, &bad);
    assert_eq!(
        error.to_string(),
        "line 7, column 37: sts.token_keys[0].secret: token key is not valid base64"
    );
    // Valid base64 of 24 bytes, the second key.
    let short = format!("{SECRET}zz");
    let error = parse_error(&token_keys(&format!(
        r#"{{ id = "k1", secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" }}, {{ id = "k2", secret = "{short}" }}"#
    )));
    assert_secret_free(&error, &short);
    assert_eq!(
        error.to_string(),
        "line 7, column 109: sts.token_keys[1].secret: token key is not 32 bytes"
    );
}

// ---------------------------------------------------------------------------------------------
// The gateway binary
// ---------------------------------------------------------------------------------------------

#[test]
fn check_config_names_file_line_column_and_key_path_but_not_the_secret() {
    use std::process::Command;
    const BIN: &str = env!("CARGO_BIN_EXE_sigv4-gateway");

    let dir = TempDir::new("check-config");
    let path = dir.config();
    let check = |text: &str| {
        write(&path, text);
        let out = Command::new(BIN)
            .args(["--check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        String::from_utf8(out.stderr).unwrap()
    };

    let stderr = check(&user_with_keys(&format!(
        r#"{{ id = "AKIAALICE", secret = {DIGITS} }}"#
    )));
    assert!(!stderr.contains(DIGITS), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "configuration error: {}:8:45: user[0].access_keys[0].secret: invalid type: integer, expected a string\n",
            path.display()
        )
    );

    let stderr = check(&user_with_keys(&format!(
        r#"{{ id = "AKIAALICE", secret = "{SECRET} }}"#
    )));
    assert!(!stderr.contains(SECRET), "{stderr}");
    assert!(!stderr.contains("K7MDENG"), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "configuration error: {}:8:79: unclosed inline table\n",
            path.display()
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Reload: a refused file is logged once per change
// ---------------------------------------------------------------------------------------------

mod logged_once {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
        fn count(&self, needle: &str) -> usize {
            self.text().matches(needle).count()
        }
    }

    const REFUSED: &str = "configuration refused";
    const RELOADED: &str = "identity store reloaded";

    fn good(secret: &str) -> String {
        user_with_keys(&format!(r#"{{ id = "AKIAALICE", secret = "{secret}" }}"#))
    }

    /// Polls `condition` for up to ten seconds.
    fn wait_for(what: &str, condition: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !condition() {
            assert!(std::time::Instant::now() < deadline, "timed out: {what}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The watcher logs from a blocking-pool thread: it needs the global subscriber. The
    /// only test here that sets it, and the only one whose watcher is on SIGHUP.
    #[cfg(unix)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sighup_logs_a_refused_file_again() {
        let log = Captured::default();
        let writer = log.clone();
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .without_time()
                .finish(),
        )
        .unwrap();

        let dir = TempDir::new("sighup");
        let path = dir.config();
        write(&path, &good("first-secret"));
        let (file_store, _) = FileStore::open(&path).unwrap();
        // Zero interval: on SIGHUP only.
        let watcher = Arc::new(file_store).watch(std::time::Duration::ZERO);
        write(
            &path,
            &user_with_keys(&format!(r#"{{ id = "AKIAALICE", secret = {DIGITS} }}"#)),
        );
        let hup = || {
            let status = std::process::Command::new("kill")
                .args(["-HUP", &std::process::id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        };
        hup();
        tokio::task::spawn_blocking(move || {
            wait_for("the first refusal", || log.count(REFUSED) == 1);
            // The same refused file, asked again: answered again.
            hup();
            wait_for("the second refusal", || log.count(REFUSED) == 2);
            assert_eq!(log.count("SIGHUP: reloading the configuration"), 2);
            assert!(!log.text().contains(DIGITS), "{}", log.text());
        })
        .await
        .unwrap();
        watcher.abort();
    }

    #[test]
    fn a_refused_file_is_logged_once_per_change() {
        let dir = TempDir::new("logged-once");
        let path = dir.config();
        write(&path, &good("first-secret"));
        let (file_store, _) = FileStore::open(&path).unwrap();

        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            // A bad text: one line, however many polls see it.
            let bad_a = user_with_keys(&format!(r#"{{ id = "AKIAALICE", secret = "{SECRET} }}"#));
            write(&path, &bad_a);
            for _ in 0..5 {
                file_store.reload_and_log();
            }
            assert_eq!(log.count(REFUSED), 1, "{}", log.text());
            assert!(
                log.text()
                    .contains(&format!("{}:8:79: unclosed inline table", path.display())),
                "{}",
                log.text()
            );
            // An explicit reload still reports the refusal, every time.
            let error = file_store.reload().unwrap_err();
            assert_eq!(error.location(), format!("{}:8:79", path.display()));
            assert_eq!(file_store.reload().unwrap_err(), error);

            // Another bad text: logged again, once.
            write(
                &path,
                &user_with_keys(&format!(r#"{{ id = "AKIAALICE", secret = {DIGITS} }}"#)),
            );
            for _ in 0..5 {
                file_store.reload_and_log();
            }
            assert_eq!(log.count(REFUSED), 2, "{}", log.text());

            // A file that went away: logged once too.
            std::fs::remove_file(&path).unwrap();
            for _ in 0..3 {
                file_store.reload_and_log();
            }
            assert_eq!(log.count(REFUSED), 3, "{}", log.text());

            // A good text reloads as before.
            write(&path, &good("second-secret"));
            file_store.reload_and_log();
            file_store.reload_and_log();
            assert_eq!(log.count(RELOADED), 1, "{}", log.text());
            assert_eq!(log.count(REFUSED), 3, "{}", log.text());

            // The first bad text again, after a good one: a new change, logged again.
            write(&path, &bad_a);
            file_store.reload_and_log();
            file_store.reload_and_log();
            assert_eq!(log.count(REFUSED), 4, "{}", log.text());
        });
        let text = log.text();
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains(DIGITS), "{text}");
        assert!(!text.contains("second-secret"), "{text}");
        assert!(
            file_store.store().snapshot().user(ALICE).is_some(),
            "the good store stays in force"
        );
    }
}

/// `[limits]` values that could never work are refused at load, naming the key.
#[test]
fn impossible_limits_are_refused() {
    let cases = [
        (
            "[limits]\nbuffer_budget_bytes = 100\n",
            "limits.buffer_budget_bytes: must be at least auth.max_body_bytes (10485760): a body that size could never be read",
        ),
        (
            "[limits]\nheader_read_timeout_seconds = 0\n",
            "limits.header_read_timeout_seconds: must be between 1 and 86400 seconds, got 0",
        ),
        (
            "[limits]\nbody_total_timeout_seconds = 86401\n",
            "limits.body_total_timeout_seconds: must be between 1 and 86400 seconds, got 86401",
        ),
        (
            "[limits]\nmax_connections = 0\n",
            "limits.max_connections: must be at least 1 (leave it out for 80 % of the open-file limit)",
        ),
        (
            "[limits]\nmax_connections_per_peer = 0\n",
            "limits.max_connections_per_peer: must be at least 1",
        ),
    ];
    for (tail, want) in cases {
        let config = GatewayConfig::from_toml(&format!("{HEAD}{tail}")).unwrap();
        let error = config.validate().unwrap_err();
        assert_eq!(error.to_string(), want, "{tail}");
    }
}

/// An upstream with user information or a query is refused without repeating the password.
#[test]
fn upstream_credentials_and_queries_are_refused() {
    let config = |upstream: &str| {
        GatewayConfig::from_toml(&format!("upstream = \"{upstream}\"\n{HEAD}")).unwrap()
    };
    let error = config("http://user:pw-s3cret@127.0.0.1:3000/")
        .validate()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "upstream: must not contain user information (user:password@); the upstream is reached without credentials"
    );
    assert!(!format!("{error:?}").contains("pw-s3cret"));
    let error = config("http://127.0.0.1:3000/?a=b").validate().unwrap_err();
    assert_eq!(
        error.to_string(),
        "upstream: \"http://127.0.0.1:3000/?a=b\" must not have a query or a fragment: requests bring their own"
    );
    config("http://127.0.0.1:3000/base").validate().unwrap();
}

const STORE_ALICE: &str = "arn:aws:iam::111111111111:user/alice";
const ALICE_SECRET: &str = "alice/Secret+Key/0123456789abcdefghijklmn";
const OLD_SECRET: &str = "alice/Old+Secret/0123456789abcdefghijklmn";
const TOKEN_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn assert_no_secret(debug: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!debug.contains(secret), "secret {secret:?} in {debug}");
    }
}

/// `Debug` of the configuration and of what it builds shows key ids, never a secret.
#[test]
fn debug_of_the_configuration_never_shows_a_secret() {
    let config = GatewayConfig::from_toml(&format!(
        r#"
        [api]
        account = "111111111111"
        api_id = "apiid"
        [sts]
        token_keys = [{{ id = "k1", secret = "{TOKEN_KEY}" }}]
        [[user]]
        arn = "{STORE_ALICE}"
        access_keys = [{{ id = "AKIAALICE0000000001", secret = "{ALICE_SECRET}" }}, {{ id = "AKIAALICE0000000002", secret = "{OLD_SECRET}", active = false }}]
        "#
    ))
    .unwrap();
    for debug in [format!("{config:?}"), format!("{config:#?}")] {
        assert_no_secret(&debug, &[ALICE_SECRET, OLD_SECRET, TOKEN_KEY]);
        assert!(debug.contains("***"), "{debug}");
        assert!(debug.contains("AKIAALICE0000000001"), "{debug}");
        assert!(debug.contains(r#"id: "k1""#), "{debug}");
    }
    assert_eq!(
        format!("{:?}", config.user[0].access_keys[1]),
        r#"AccessKeySection { id: "AKIAALICE0000000002", secret: "***", active: false }"#
    );
    assert_eq!(
        format!("{:?}", config.sts.token_keys.as_ref().unwrap()[0]),
        r#"TokenKeySection { id: "k1", secret: "***" }"#
    );
    let store = config.identity_store().unwrap();
    assert_no_secret(
        &format!("{store:?}"),
        &[ALICE_SECRET, OLD_SECRET, TOKEN_KEY],
    );
}
