//! `sigv4_gateway::config::GatewayConfig::from_toml` on arbitrary text, then `validate()` when it parses.
//!
//! Property: no error (`to_string()`, `location()`, `message()`), and no `Debug` of a parsed
//! configuration, shows the value of a key whose name holds `secret` (`secret = "…"`,
//! `my_secret = '…'`, multi-line strings too, found by a simple scan of the input) when that
//! value is at least 8 characters long. A value that also appears elsewhere in the input, or
//! that the error still shows when the secret is replaced by other characters (the error's
//! own wording), is not counted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigv4_gateway::config::{ConfigFileError, GatewayConfig};
use tower_sigv4_fuzz::{toml_secrets as secrets, Found};

/// The error of parsing and validating `text`, if any.
fn error_of(text: &str) -> Option<ConfigFileError> {
    match GatewayConfig::from_toml(text) {
        Err(e) => Some(e),
        Ok(config) => config.validate().err(),
    }
}

fn shown(e: &ConfigFileError) -> String {
    format!("{e}\n{}\n{}\n{e:?}", e.location(), e.message())
}

/// Occurrences of `needle` in `text` outside the secret spans.
fn elsewhere(text: &str, needle: &str, spans: &[(usize, usize)]) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        !spans
            .iter()
            .any(|&(s, e)| at >= s && at + needle.len() <= e)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = GatewayConfig::from_toml(text);
    let error = match &parsed {
        Err(e) => Some(e.clone()),
        Ok(config) => config.validate().err(),
    };
    let found = secrets(text);
    let spans: Vec<(usize, usize)> = found.iter().map(|f| f.span).collect();
    let candidates: Vec<&Found> = found
        .iter()
        .filter(|f| f.value.chars().count() >= 8 && !elsewhere(text, &f.value, &spans))
        .collect();

    if let Some(e) = &error {
        let text_shown = shown(e);
        for f in &candidates {
            if !text_shown.contains(&f.value) {
                continue;
            }
            // The error's own wording? Replace this secret by other characters of the same
            // length and see whether the error still shows the value.
            let filler: String = f
                .value
                .chars()
                .map(|c| if c == 'Q' { 'W' } else { 'Q' })
                .collect();
            let mut other = String::with_capacity(text.len());
            other.push_str(&text[..f.span.0]);
            other.push_str(&filler);
            other.push_str(&text[f.span.1..]);
            let still = error_of(&other).is_some_and(|e2| shown(&e2).contains(&f.value));
            assert!(
                still,
                "the error shows the secret {:?}: {text_shown}",
                f.value
            );
        }
    }
    if let Ok(config) = &parsed {
        let debug = format!("{config:?}");
        for u in &config.user {
            for k in &u.access_keys {
                let s: &str = &k.secret;
                if s.chars().count() >= 8 && text.matches(s).count() <= 1 {
                    assert!(
                        !debug.contains(&format!("{s:?}")),
                        "Debug shows a secret access key"
                    );
                }
            }
        }
        if let Some(keys) = &config.sts.token_keys {
            for k in keys {
                let s: &str = &k.secret;
                if s.chars().count() >= 8 && text.matches(s).count() <= 1 {
                    assert!(
                        !debug.contains(&format!("{s:?}")),
                        "Debug shows a token key"
                    );
                }
            }
        }
    }
});
