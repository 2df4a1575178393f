//! `judge_path` on arbitrary strings, under every rule.
//!
//! Properties, `TargetRules::Strict`: never panics; an accepted path starts with `/`, holds no
//! `.` or `..` segment, no `//`, no `\`, no `%25`, no `%5C`, only RFC 3986 path bytes and
//! escapes (upper-case hex, none of an unreserved character); with `EncodedSlash::Separator`
//! no `%2F`; with `EncodedSlash::Data` no `.`/`..` segment even when `%2F` is read as `/`;
//! judging the result again gives it back unchanged.
//! `TargetRules::ObjectKeys`: accepted iff no `\` and no ASCII control character, and then
//! the path is used as sent (`/` for an empty one).
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use tower_sigv4::{judge_path, EncodedSlash, TargetRules};

fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|s| s == "." || s == "..")
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn check_strict(input: &str, slash: EncodedSlash) {
    let Ok(judged) = judge_path(input, TargetRules::Strict, slash) else {
        return;
    };
    let p: &str = &judged;
    assert!(p.starts_with('/'), "{input:?} -> {p:?}: not absolute");
    assert!(!has_dot_segment(p), "{input:?} -> {p:?}: dot segment");
    assert!(!p.contains("//"), "{input:?} -> {p:?}: empty segment");
    assert!(!p.contains('\\'), "{input:?} -> {p:?}: backslash");
    let upper = p.to_ascii_uppercase();
    assert!(!upper.contains("%25"), "{input:?} -> {p:?}: encoded %");
    assert!(
        !upper.contains("%5C"),
        "{input:?} -> {p:?}: encoded backslash"
    );
    match slash {
        EncodedSlash::Separator => {
            assert!(
                !upper.contains("%2F"),
                "{input:?} -> {p:?}: %2F kept as a separator"
            );
        }
        _ => {
            let decoded = p.replace("%2F", "/").replace("%2f", "/");
            assert!(
                !has_dot_segment(&decoded),
                "{input:?} -> {p:?}: a dot segment once %2F is read as /"
            );
        }
    }
    // Only RFC 3986 path bytes; escapes well formed, upper case, never of an unreserved byte
    // (changed input only: an input already normal comes back borrowed as it is).
    let bytes = p.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let (h, l) = (bytes.get(i + 1), bytes.get(i + 2));
            let hex = |c: Option<&u8>| c.is_some_and(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F'));
            assert!(hex(h) && hex(l), "{input:?} -> {p:?}: escape at {i}");
            let d = u8::from_str_radix(&p[i + 1..i + 3], 16).unwrap_or(0);
            assert!(
                !is_unreserved(d),
                "{input:?} -> {p:?}: escape of unreserved at {i}"
            );
            assert!(
                d >= 0x20 && d != 0x7f,
                "{input:?} -> {p:?}: encoded control at {i}"
            );
            i += 3;
        } else {
            assert!(
                b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/".contains(&b),
                "{input:?} -> {p:?}: byte {b:#x} at {i}"
            );
            i += 1;
        }
    }
    // Idempotent.
    match judge_path(p, TargetRules::Strict, slash) {
        Ok(again) => assert_eq!(again, Cow::Borrowed(p), "{input:?} -> {p:?} -> {again:?}"),
        Err(_) => panic!("{input:?} -> {p:?}, which is then refused"),
    }
}

fn check_object_keys(input: &str) {
    let refused = input.bytes().any(|b| b == b'\\' || b.is_ascii_control());
    match judge_path(input, TargetRules::ObjectKeys, EncodedSlash::Separator) {
        Ok(p) => {
            assert!(!refused, "{input:?} accepted as an object key");
            let want = if input.is_empty() { "/" } else { input };
            assert_eq!(p, want, "an object key path was changed");
        }
        Err(_) => assert!(refused, "{input:?} refused as an object key"),
    }
    // The encoded-slash mode does not matter for object keys.
    assert_eq!(
        judge_path(input, TargetRules::ObjectKeys, EncodedSlash::Data).ok(),
        judge_path(input, TargetRules::ObjectKeys, EncodedSlash::Separator).ok()
    );
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    check_strict(&input, EncodedSlash::Separator);
    check_strict(&input, EncodedSlash::Data);
    check_object_keys(&input);
});
