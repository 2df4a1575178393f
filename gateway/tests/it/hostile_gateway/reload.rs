//! The settings follow the configuration file (item 13 of the issue): the resource policy and
//! `[auth]` reload; what only a restart can change is logged and left alone.

use super::*;

/// Replaces the file atomically (a temporary file renamed over it), as editors and config
/// management do.
fn rewrite(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A GET /hello signed by alice `age` ago.
fn hello_signed_ago(gw: &Gateway, age: Duration) -> Reply {
    exchange(
        gw,
        "GET",
        "/hello",
        Some(Signing::new(&alice()).at(now() - age)),
        b"",
        &[],
    )
}

/// The log lines that warn about `key`.
fn warnings_about(log: &str, key: &str) -> Vec<String> {
    let field = format!("key=\"{key}\"");
    log.lines()
        .filter(|l| l.contains("WARN") && l.contains(&field))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_resource_policy_and_the_clock_skew_reload() {
    let up = Upstream::start();
    let other = Upstream::start();
    let cfg = Cfg::new().top(&format!("upstream = \"{}\"", up.url()));
    let gw = Gateway::start(&cfg.render());
    // Signed 200 s ago: within the default 300 s window.
    let reply = hello_signed_ago(&gw, Duration::from_secs(200));
    assert_eq!(reply.status, 200, "{reply:?}");

    rewrite(
        &gw.config,
        &cfg.clone()
            .deny("hello*")
            .auth("clock_skew_seconds = 60")
            .render(),
    );
    let reply = wait_for("the new resource policy", Duration::from_secs(10), || {
        let reply = alice_get(&gw, "/hello");
        (reply.status == 403).then_some(reply)
    });
    reply.assert_rejection(403, "AccessDeniedException", &explicit_deny("hello"));
    // The window is a minute now (/items is still allowed).
    let reply = exchange(
        &gw,
        "GET",
        "/items",
        Some(Signing::new(&alice()).at(now() - Duration::from_secs(200))),
        b"",
        &[],
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    let text = reply.text();
    assert!(
        text.starts_with(r#"{"message":"Signature expired: "#) && text.ends_with(" - 1 min.)\"}"),
        "{text}"
    );
    assert!(
        warnings_about(&gw.log(), "upstream").is_empty(),
        "{}",
        gw.log()
    );
    assert!(
        warnings_about(&gw.log(), "listen").is_empty(),
        "{}",
        gw.log()
    );

    // `listen` and `upstream` take effect only at restart: a warning naming each, and the
    // old listener keeps serving the old upstream.
    rewrite(
        &gw.config,
        &cfg.clone()
            .top(&format!("upstream = \"{}\"", other.url()))
            .render()
            .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\""),
    );
    wait_for("the restart-only warnings", Duration::from_secs(10), || {
        let log = gw.log();
        (!warnings_about(&log, "listen").is_empty() && !warnings_about(&log, "upstream").is_empty())
            .then_some(())
    });
    for key in ["listen", "upstream"] {
        let lines = warnings_about(&gw.log(), key);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0]
                .contains("changed in the configuration file, but takes effect only at restart"),
            "{lines:?}"
        );
    }
    // The rest of that file is in force (no more Deny on /hello), on the old listener.
    let reply = wait_for(
        "the policy of the last file",
        Duration::from_secs(10),
        || {
            let reply = alice_get(&gw, "/hello");
            (reply.status == 200).then_some(reply)
        },
    );
    assert_eq!(reply.text(), "upstream saw /hello");
    assert_eq!(other.seen().len(), 0);
}

#[test]
fn a_bad_file_keeps_the_settings_in_force() {
    let gw = Gateway::start(&Cfg::new().render());
    rewrite(
        &gw.config,
        &Cfg::new()
            .deny("hello*")
            .auth("clock_skew_seconds = 0")
            .render(),
    );
    wait_for("the refusal in the log", Duration::from_secs(10), || {
        gw.log().contains("auth.clock_skew_seconds").then_some(())
    });
    let reply = alice_get(&gw, "/hello");
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn command_line_overrides_are_not_reported_as_changes_of_the_file() {
    let up = Upstream::start();
    let cfg = Cfg::new();
    let gw = Gateway::start_with(
        &cfg.render(),
        &["--upstream", &up.url(), "--listen", "127.0.0.2:0"],
    );
    assert_eq!(gw.addr.ip().to_string(), "127.0.0.2");
    // Only the resource policy changes.
    rewrite(&gw.config, &cfg.clone().deny("hello*").render());
    wait_for("the new resource policy", Duration::from_secs(10), || {
        (alice_get(&gw, "/hello").status == 403).then_some(())
    });
    let log = gw.log();
    assert!(warnings_about(&log, "upstream").is_empty(), "{log}");
    assert!(warnings_about(&log, "listen").is_empty(), "{log}");
}
