//! Upstream URLs the gateway must refuse at start, without ever printing a password.

use super::*;

/// Runs the binary with `args` until it exits (killing it after 20 s: a gateway that started
/// instead of refusing fails the test).
fn run_to_exit(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = temp_dir();
    let out = std::fs::File::create(dir.join("stdout")).unwrap();
    let err = std::fs::File::create(dir.join("stderr")).unwrap();
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let status = wait_for("the gateway to exit", IO_TIMEOUT, || {
        child.try_wait().unwrap()
    });
    let _ = child.kill();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    (status.code(), read("stdout"), read("stderr"))
}

const USERINFO: &str = "must not contain user information (user:password@); the upstream is reached without credentials";

#[test]
fn upstream_with_user_information_is_refused_and_the_password_never_printed() {
    let dir = temp_dir();
    let path = dir.join("gateway.toml");
    std::fs::write(&path, Cfg::new().render()).unwrap();
    let config = path.to_str().unwrap();
    for check in [false, true] {
        for args in [
            vec![
                "--config",
                config,
                "--upstream",
                "http://user:pw@127.0.0.1:1",
            ],
            vec![
                "--config",
                config,
                "--upstream=http://user:pw@127.0.0.1:1/base",
            ],
            vec!["--config", config, "--upstream", "user:pw@127.0.0.1:1"],
        ] {
            let mut args = args;
            if check {
                args.push("--check-config");
            }
            let (code, stdout, stderr) = run_to_exit(&args);
            assert_eq!(code, Some(1), "{args:?}: {stdout}{stderr}");
            assert_eq!(stdout, "", "{args:?}");
            assert_eq!(
                stderr,
                format!("configuration error: upstream: {USERINFO}\n")
            );
            assert!(!stderr.contains("pw") && !stdout.contains("pw"));
        }
    }

    // The same in the file.
    let with_user = dir.join("user.toml");
    std::fs::write(
        &with_user,
        Cfg::new()
            .top(r#"upstream = "http://user:pw@127.0.0.1:1""#)
            .render(),
    )
    .unwrap();
    for check in [false, true] {
        let mut args = vec!["--config", with_user.to_str().unwrap()];
        if check {
            args.push("--check-config");
        }
        let (code, stdout, stderr) = run_to_exit(&args);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            format!(
                "configuration error: {}: upstream: {USERINFO}\n",
                with_user.display()
            )
        );
        assert!(!stderr.contains("pw"));
    }
}

#[test]
fn upstream_with_a_query_is_refused() {
    let dir = temp_dir();
    let path = dir.join("query.toml");
    std::fs::write(
        &path,
        Cfg::new()
            .top(r#"upstream = "http://127.0.0.1:1/?a=b""#)
            .render(),
    )
    .unwrap();
    let expected = format!(
        "configuration error: {}: upstream: \"http://127.0.0.1:1/?a=b\" must not have a query or a fragment: requests bring their own\n",
        path.display()
    );
    for check in [false, true] {
        let mut args = vec!["--config", path.to_str().unwrap()];
        if check {
            args.push("--check-config");
        }
        let (code, stdout, stderr) = run_to_exit(&args);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert_eq!(stdout, "");
        assert_eq!(stderr, expected);
    }
    // On the command line.
    let good = dir.join("good.toml");
    std::fs::write(&good, Cfg::new().render()).unwrap();
    let (code, stdout, stderr) = run_to_exit(&[
        "--config",
        good.to_str().unwrap(),
        "--upstream",
        "http://127.0.0.1:1/?a=b",
        "--check-config",
    ]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        "configuration error: upstream: \"http://127.0.0.1:1/?a=b\" must not have a query or a fragment: requests bring their own\n"
    );
    // The control: a plain upstream passes the check.
    let (code, stdout, _) = run_to_exit(&[
        "--config",
        good.to_str().unwrap(),
        "--upstream",
        "http://127.0.0.1:1/base",
        "--check-config",
    ]);
    assert_eq!((code, stdout.as_str()), (Some(0), "configuration OK\n"));
}
