//! Signed requests for `benches/gateway-load.sh`, made with the crate's signer.
//!
//! * `load_sign config KEYS UPSTREAM > gateway.toml`: a gateway configuration (the demo's API,
//!   resource policy and alice) with `KEYS` more users, each with one access key and an
//!   identity policy allowing `execute-api:Invoke` on the stage; `UPSTREAM` empty for echo mode.
//! * `load_sign headers KEYS HOST PATH > headers.lua`: a Lua table of `KEYS` header sets (alice's
//!   key when `KEYS` is 1, otherwise the generated users' keys in turn) for a `GET HOST PATH`,
//!   signed now — valid for the clock-skew window — which `wrk` cycles through.

use std::fmt::Write as _;
use std::time::SystemTime;

use tower_sigv4::{Clock, Credentials, SignablePayload, Signer, SystemClock};

const ALICE: (&str, &str) = (
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
);

fn key(i: usize) -> (String, String) {
    (
        format!("AKIALOAD{i:012}"),
        format!("load-secret-{i:08}-0123456789abcdefghijklmn"),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let n: usize = arg(1).parse().unwrap_or(1);
    match arg(0).as_str() {
        "config" => print!("{}", config(n, &arg(2))),
        "headers" => print!("{}", headers(n, &arg(2), &arg(3), SystemClock::new().now())),
        _ => {
            eprintln!("usage: load_sign config KEYS UPSTREAM | load_sign headers KEYS HOST PATH");
            std::process::exit(2);
        }
    }
}

fn config(n: usize, upstream: &str) -> String {
    let demo = include_str!("../demo.toml");
    let mut out = String::new();
    if !upstream.is_empty() {
        let _ = writeln!(out, "upstream = \"http://{upstream}\"");
    }
    // The demo configuration without its listen line (the script passes --listen).
    for line in demo.lines().filter(|l| !l.starts_with("listen")) {
        out.push_str(line);
        out.push('\n');
    }
    for i in 0..n {
        let (id, secret) = key(i);
        let _ = write!(
            out,
            "\n[[user]]\narn = \"arn:aws:iam::123456789012:user/load{i}\"\naccess_keys = [{{ id = \"{id}\", secret = \"{secret}\", active = true }}]\npolicies = ['''{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"execute-api:Invoke\", \"Resource\": \"execute-api:/prod/*\"}}]}}''']\n"
        );
    }
    out
}

fn headers(n: usize, host: &str, path: &str, now: SystemTime) -> String {
    let mut out = String::from("return {\n");
    for i in 0..n {
        let (id, secret) = if n == 1 {
            (ALICE.0.to_owned(), ALICE.1.to_owned())
        } else {
            key(i)
        };
        let signer = Signer::new(Credentials::new(id, secret), "us-east-1", "execute-api");
        let (mut parts, ()) = http::Request::get(format!("http://{host}{path}"))
            .header("host", host)
            .body(())
            .unwrap_or_default()
            .into_parts();
        if signer
            .sign(&mut parts, SignablePayload::Bytes(b""), now)
            .is_err()
        {
            eprintln!("cannot sign for {host}");
            std::process::exit(1);
        }
        let h = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let _ = writeln!(
            out,
            "  {{[\"Authorization\"] = \"{}\", [\"X-Amz-Date\"] = \"{}\"}},",
            h("authorization"),
            h("x-amz-date")
        );
    }
    out.push_str("}\n");
    out
}
