//! Helpers shared by the fuzz targets: a raw HTTP request reader (the format of the SigV4 test
//! suite's `*-signed-request.txt` files), the request harness of `auth_header` and
//! `presigned_query`, a poll-once executor and a tiny XML well-formedness check.

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use sha2::{Digest, Sha256};
use tower_sigv4::{
    credential_service, provide_key_fn, ForwardedHost, KeyError, KeyRequest, MismatchDetail,
    PathNormalization, Payload, PercentEncoding, Principal, Profile, RejectionKind, ResolvedKey,
    Verifier, VerifierConfig,
};

/// The test suite's key.
pub const AKID: &str = "AKIDEXAMPLE";
/// The test suite's secret.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the test suite's time.
pub const SUITE_NOW: u64 = 1_440_938_160;

/// The lower-case hex SHA-256 of a body: the payload hash of a signed request (what the
/// crate's removed `payload_hash` gave).
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Polls a future that never waits (the key providers here answer at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("a ready future stayed pending");
}

/// Whether `FUZZ_TRACE` is set: then the request harness prints each verdict to stderr
/// (`FUZZ_TRACE=1 fuzz/target/…/auth_header fuzz/corpus/auth_header/*`).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

/// Options of the raw request format's optional first line, `@…`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The verifier's clock, Unix seconds.
    pub now: u64,
    /// S3 rules (`Profile::S3`).
    pub s3: bool,
    /// Path normalisation disabled (the `*-unnormalized` vectors).
    pub no_normalize: bool,
    /// `X-Forwarded-Host` and `Forwarded` trusted.
    pub forwarded: bool,
}

/// A request read from the raw format.
pub struct RawRequest {
    pub parts: Parts,
    pub body: Vec<u8>,
    pub options: Options,
}

/// Reads a request in the test suite's raw format:
///
/// ```text
/// [@NOW_UNIX_SECONDS] [s3|std] [nonorm] [fwd]      (optional options line)
/// METHOD TARGET [HTTP/1.1]
/// Name:value
///  continuation (appended after a space)
///
/// body
/// ```
///
/// `None` when the http crate refuses the method, target, a header name or value.
pub fn parse_raw(data: &[u8], default_s3: bool) -> Option<RawRequest> {
    let (head, body) = match find(data, b"\n\n") {
        Some(i) => (&data[..i], data[i + 2..].to_vec()),
        None => match find(data, b"\r\n\r\n") {
            Some(i) => (&data[..i], data[i + 4..].to_vec()),
            None => (data, Vec::new()),
        },
    };
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .peekable();
    let mut options = Options {
        now: SUITE_NOW,
        s3: default_s3,
        no_normalize: false,
        forwarded: false,
    };
    if lines.peek().is_some_and(|l| l.first() == Some(&b'@')) {
        let line = std::str::from_utf8(lines.next()?).ok()?;
        for word in line[1..].split_ascii_whitespace() {
            match word {
                "s3" => options.s3 = true,
                "std" => options.s3 = false,
                "nonorm" => options.no_normalize = true,
                "fwd" => options.forwarded = true,
                n => {
                    if let Ok(n) = n.parse::<u64>() {
                        // Up to year 9999: the verifier's dates cannot say more.
                        options.now = n.min(253_402_300_799);
                    }
                }
            }
        }
    }
    let request_line = lines.next()?;
    let sp = request_line.iter().position(|&b| b == b' ')?;
    let method = Method::from_bytes(&request_line[..sp]).ok()?;
    let mut target = &request_line[sp + 1..];
    if let Some(v) = rfind(target, b" HTTP/") {
        target = &target[..v];
    }
    let uri = Uri::try_from(target).ok()?;

    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in lines {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let last = headers.last_mut()?;
            last.1.push(b' ');
            last.1.extend_from_slice(line.trim_ascii_start());
            continue;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        headers.push((line[..colon].to_vec(), line[colon + 1..].to_vec()));
    }
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        let name = HeaderName::from_bytes(&name).ok()?;
        let value = HeaderValue::from_bytes(&value).ok()?;
        builder = builder.header(name, value);
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    Some(RawRequest {
        parts,
        body,
        options,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The verifier of the request targets: the test suite's key (any session token is accepted
/// for it), region and service; `AKIDEXPIRED` has an expired token, `AKIDDOWN` a failing
/// backend, anything else is unknown.
pub fn verifier(options: &Options) -> Verifier {
    let mut config = VerifierConfig::new("us-east-1", "service");
    if options.s3 {
        config = config.with_profile(Profile::S3);
    }
    if options.no_normalize {
        config.path_normalization = PathNormalization::Disabled;
        config.percent_encoding = PercentEncoding::Single;
    }
    if options.forwarded {
        config = config
            .with_forwarded_host(ForwardedHost::XForwardedHost)
            .with_forwarded_host(ForwardedHost::Forwarded);
    }
    config = config.with_mismatch_detail(MismatchDetail::CanonicalRequest);
    let keys = provide_key_fn(|req: KeyRequest<'_>| {
        let result = match req.access_key_id() {
            AKID => Ok(ResolvedKey::new(
                SECRET,
                Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE"),
            )),
            "AKIDEXPIRED" => Err(KeyError::expired_token()),
            "AKIDDOWN" => Err(KeyError::unavailable("backend down")),
            _ => Err(KeyError::unknown_key()),
        };
        async move { result }
    });
    match Verifier::new(config, keys) {
        Ok(v) => v,
        Err(e) => panic!("the fuzz verifier's configuration is refused: {e}"),
    }
}

/// Rejections `Verifier::check` makes while parsing the signature parameters (checks 1–8),
/// before it knows the credential.
pub fn is_parse_stage(kind: RejectionKind) -> bool {
    matches!(
        kind,
        RejectionKind::MissingAuthentication
            | RejectionKind::MultipleAuthMechanisms
            | RejectionKind::MalformedAuthorization
            | RejectionKind::MissingParameter
            | RejectionKind::UnsupportedAlgorithm
            | RejectionKind::DuplicateParameter
            | RejectionKind::InvalidExpires
    )
}

/// Rejections `Verifier::check` makes after parsing (checks 9–15).
pub fn is_post_parse_check(kind: RejectionKind) -> bool {
    matches!(
        kind,
        RejectionKind::HeaderNotSigned
            | RejectionKind::MalformedDate
            | RejectionKind::RequestTooOld
            | RejectionKind::RequestTooNew
            | RejectionKind::MalformedCredential
            | RejectionKind::InvalidScope
            | RejectionKind::PresignedExpired
    )
}

/// The harness of `auth_header` and `presigned_query`.
///
/// Properties:
/// * `check` never panics, and it rejects only with a kind of checks 1–15 (or, in the S3
///   profile, one of its header checks);
/// * `credential_service` agrees with `check`: `Some(service)` when `check` passes, the
///   service a post-parse rejection carries (the credential's fourth part, if any), `None` for
///   a parse-stage rejection in the default profile (S3's parser is stricter than the one
///   `credential_service` reads with: it requires `X-Amz-Expires` and refuses unknown
///   `Authorization` components, so there `credential_service` may name a service for a
///   request S3 refuses at parse stage);
/// * a passed check: the access key, scope and service agree; the canonical request for the
///   body equals the one for its hash; the string to sign has the algorithm, date, scope and
///   the SHA-256 of the canonical request; `finish` gives the same verdict with the body or
///   its hash; a mismatch message shows the canonical request; no message shows the secret
///   (unless the request itself holds its text).
pub fn run_request(data: &[u8], default_s3: bool) {
    let Some(RawRequest {
        parts,
        body,
        options,
    }) = parse_raw(data, default_s3)
    else {
        return;
    };
    let verifier = verifier(&options);
    // The opt-in mismatch detail shows the request, which may itself hold the secret's text.
    let secret_in_request = find(data, SECRET.as_bytes()).is_some();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(options.now);
    let routed = credential_service(&parts);

    let checked = match verifier.check(&parts, now) {
        Err(rejection) => {
            let kind = rejection.kind();
            if trace() {
                eprintln!("TRACE check: {kind:?} {}", rejection.message());
            }
            // The S3 profile adds its header checks (s3.md §7): an `x-amz-content-sha256`
            // that is no hash, a streaming upload without its length, SigV4a streaming.
            let s3_check = options.s3
                && matches!(
                    kind,
                    RejectionKind::InvalidRequest
                        | RejectionKind::LengthRequired
                        | RejectionKind::NotImplemented
                );
            assert!(
                is_parse_stage(kind) || is_post_parse_check(kind) || s3_check,
                "check rejected with {kind:?}, not a kind of checks 1-15"
            );
            assert!(secret_in_request || !rejection.message().contains(SECRET));
            if is_parse_stage(kind) {
                assert_eq!(
                    rejection.service(),
                    None,
                    "a parse-stage rejection ({kind:?}) names a service"
                );
                // `credential_service` reads with the default rules; S3's parser is stricter
                // (it refuses components it does not know, and requires X-Amz-Expires), so in
                // the S3 profile a request it names may still be refused at parse stage.
                if !options.s3 {
                    assert_eq!(
                        routed, None,
                        "credential_service names a service for a request whose parameters check refused as {kind:?}: {}",
                        rejection.message()
                    );
                }
            } else if !(options.s3 && rejection.service().is_none()) {
                // (S3's answers to an expired URL or a malformed credential come before it
                // reads the credential scope, and name no service.)
                assert_eq!(
                    routed.as_deref(),
                    rejection.service(),
                    "credential_service and check's {kind:?} rejection name different services"
                );
            }
            return;
        }
        Ok(checked) => checked,
    };
    let service = checked.service().to_owned();
    assert_eq!(
        routed.as_deref(),
        Some(service.as_str()),
        "credential_service disagrees with a passed check"
    );
    let scope = checked.scope();
    assert_eq!(scope.service(), service);
    assert_eq!(scope.region(), "us-east-1");
    assert_eq!(
        checked.key_request().access_key_id(),
        checked.access_key_id()
    );
    assert_eq!(checked.key_request().service(), service);

    let hash = payload_hash(&body);
    let creq = checked.canonical_request(Payload::Bytes(&body));
    assert_eq!(
        creq,
        checked.canonical_request(Payload::Sha256Hex(&hash)),
        "the canonical request differs between the body and its hash"
    );
    let sts = checked.string_to_sign(Payload::Bytes(&body));
    assert_eq!(sts, checked.string_to_sign(Payload::Sha256Hex(&hash)));
    let lines: Vec<&str> = sts.split('\n').collect();
    assert_eq!(lines.len(), 4, "string to sign {sts:?}");
    assert_eq!(lines[0], "AWS4-HMAC-SHA256");
    assert_eq!(lines[1].len(), 16, "amz date {:?}", lines[1]);
    assert!(lines[1].starts_with(scope.date()));
    assert_eq!(
        lines[2],
        format!(
            "{}/{}/{}/aws4_request",
            scope.date(),
            scope.region(),
            scope.service()
        )
    );
    // The text of the canonical request is lossy for header bytes that are not UTF-8; the
    // digest is over the bytes.
    let all_utf8 = parts
        .headers
        .values()
        .all(|v| std::str::from_utf8(v.as_bytes()).is_ok());
    if all_utf8 {
        assert_eq!(
            lines[3],
            hex::encode(Sha256::digest(creq.as_bytes())),
            "the string to sign does not hash the canonical request"
        );
    }
    // A passed check that needs no body has a declared line that is not a hash.
    if !checked.needs_body() {
        assert_ne!(creq.rsplit('\n').next(), Some(hash.as_str()));
    }

    let key = block_on(checked.resolve_key());
    let with_bytes = match key {
        Err(rejection) => {
            assert!(
                matches!(
                    rejection.kind(),
                    RejectionKind::InvalidToken
                        | RejectionKind::ExpiredToken
                        | RejectionKind::ProviderFailure
                ),
                "{rejection:?}"
            );
            assert_eq!(rejection.service(), Some(service.as_str()));
            return;
        }
        Ok(key) => checked.finish(key, Payload::Bytes(&body)),
    };
    let again = verifier
        .check(&parts, now)
        .unwrap_or_else(|r| panic!("a second check of the same request failed: {r:?}"));
    let key = block_on(again.resolve_key()).unwrap_or_else(|r| panic!("{r:?}"));
    let with_hash = again.finish(key, Payload::Sha256Hex(&hash));
    if trace() {
        eprintln!(
            "TRACE finish: {:?}",
            with_bytes
                .as_ref()
                .map(|v| v.payload())
                .map_err(|r| r.kind())
        );
    }
    match (&with_bytes, &with_hash) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.scope(), b.scope());
            assert_eq!(a.payload(), b.payload());
            assert_eq!(a.scope().service(), service);
            assert_eq!(a.principal().access_key_id(), AKID);
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.kind(), b.kind());
            assert!(secret_in_request || !a.message().contains(SECRET));
            if a.kind() == RejectionKind::SignatureMismatch {
                // The S3 profile gives the detail as elements of its XML answer, API
                // Gateway's in the message.
                let shown = |text: &str| {
                    a.message().contains(text) || a.elements().any(|(_, v)| v.contains(text))
                };
                assert!(
                    shown(&creq),
                    "the mismatch detail does not show the canonical request {creq:?}: {}",
                    a.message()
                );
                assert!(shown(&sts));
            }
        }
        _ => panic!(
            "finish with the body and with its hash disagree: {:?} vs {:?}",
            with_bytes.as_ref().map(|v| v.payload()),
            with_hash.as_ref().map(|v| v.payload())
        ),
    }
}

/// Why a document is not well formed, for the assertion message.
#[derive(Debug, PartialEq, Eq)]
pub enum XmlError {
    RawLessThan(usize),
    BadReference(usize),
    BadTag(usize),
    Unbalanced { open: String, close: String },
    UnclosedAtEnd(Vec<String>),
    TextOutsideRoot(usize),
    NotXmlChar(usize),
    NoRoot,
}

/// A tiny XML well-formedness check, for the responses of the `sts` module: elements with
/// optional `name="value"` attributes, balanced; text without a raw `<` or `&` other than the
/// five predefined entities and numeric references; only XML 1.0 characters; one root element
/// (whitespace around it allowed).
pub fn check_xml(doc: &str) -> Result<(), XmlError> {
    let bytes = doc.as_bytes();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    for (at, c) in doc.char_indices() {
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}');
        if !ok {
            return Err(XmlError::NotXmlChar(at));
        }
    }
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let end = doc[i..].find('>').ok_or(XmlError::BadTag(i))? + i;
                let inner = &doc[i + 1..end];
                if let Some(name) = inner.strip_prefix('/') {
                    if !is_name(name) {
                        return Err(XmlError::BadTag(i));
                    }
                    let open = stack.pop().ok_or(XmlError::BadTag(i))?;
                    if open != name {
                        return Err(XmlError::Unbalanced {
                            open,
                            close: name.to_owned(),
                        });
                    }
                } else {
                    let self_closing = inner.ends_with('/');
                    let inner = inner.strip_suffix('/').unwrap_or(inner);
                    let name_end = inner
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(inner.len());
                    let name = &inner[..name_end];
                    if !is_name(name) || !attributes_ok(&inner[name_end..]) {
                        return Err(XmlError::BadTag(i));
                    }
                    if stack.is_empty() {
                        roots += 1;
                        if roots > 1 {
                            return Err(XmlError::TextOutsideRoot(i));
                        }
                    }
                    if !self_closing {
                        stack.push(name.to_owned());
                    }
                }
                i = end + 1;
            }
            b'&' => {
                let end = doc[i..].find(';').ok_or(XmlError::BadReference(i))? + i;
                if !reference_ok(&doc[i + 1..end]) {
                    return Err(XmlError::BadReference(i));
                }
                if stack.is_empty() {
                    return Err(XmlError::TextOutsideRoot(i));
                }
                i = end + 1;
            }
            b => {
                if stack.is_empty() && !b.is_ascii_whitespace() {
                    return Err(XmlError::TextOutsideRoot(i));
                }
                i += 1;
            }
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::UnclosedAtEnd(stack));
    }
    if roots == 0 {
        return Err(XmlError::NoRoot);
    }
    Ok(())
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

fn reference_ok(r: &str) -> bool {
    match r {
        "lt" | "gt" | "amp" | "quot" | "apos" => true,
        _ => {
            let value = if let Some(hex) = r.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()
            } else if let Some(dec) = r.strip_prefix('#') {
                dec.parse::<u32>().ok()
            } else {
                None
            };
            value.and_then(char::from_u32).is_some_and(|c| {
                matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
            })
        }
    }
}

/// ` name="value"` pairs (values without `<`, `&` or the quote).
fn attributes_ok(mut rest: &str) -> bool {
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return true;
        }
        let Some(eq) = rest.find('=') else {
            return false;
        };
        if !is_name(&rest[..eq]) {
            return false;
        }
        rest = &rest[eq + 1..];
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return false;
        };
        let Some(close) = rest[1..].find(quote) else {
            return false;
        };
        let value = &rest[1..1 + close];
        if value.contains(['<', '&']) {
            return false;
        }
        rest = &rest[close + 2..];
    }
}

/// The text content of the first element named `name`, with the predefined entities and
/// numeric references decoded (for round-trip checks of the escaper).
pub fn element_text(doc: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&close)? + start;
    Some(unescape(&doc[start..end]))
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';') else {
            out.push_str(&rest[amp..]);
            return out;
        };
        let r = &after[..semi];
        let c = match r {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => r
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| r.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => {
                out.push('&');
                out.push_str(r);
                out.push(';');
            }
        }
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    out
}

// --- config_toml: the secrets of a TOML text ---------------------------------------------

/// A secret value and its byte span in the text.
pub struct Found {
    pub value: String,
    pub span: (usize, usize),
}

/// A string token: its delimiter, the span of its content and the index past its end.
struct Token {
    delim: &'static str,
    content: (usize, usize),
    end: usize,
}

/// The string token opening at `i`. A single-line string ends at its line's end at the
/// latest, as TOML's does; an unclosed one runs to the end of the text.
fn string_at(text: &str, i: usize) -> Option<Token> {
    let rest = &text[i..];
    let delim: &'static str = ["'''", "\"\"\"", "'", "\""]
        .into_iter()
        .find(|d| rest.starts_with(d))?;
    let start = i + delim.len();
    let bytes = text.as_bytes();
    let mut j = start;
    while j < bytes.len() {
        if delim.len() == 1 && bytes[j] == b'\n' {
            return Some(Token {
                delim,
                content: (start, j),
                end: j,
            });
        }
        if delim.starts_with('"') && bytes[j] == b'\\' {
            j += 2;
            continue;
        }
        if text.is_char_boundary(j) && text[j..].starts_with(delim) {
            return Some(Token {
                delim,
                content: (start, j),
                end: j + delim.len(),
            });
        }
        j += 1;
    }
    Some(Token {
        delim,
        content: (start, bytes.len()),
        end: bytes.len(),
    })
}

/// Whether blanks and then `=` follow `i`.
fn followed_by_equals(text: &str, i: usize) -> bool {
    text.get(i..)
        .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('='))
}

/// Values assigned to keys whose name holds `secret` (ASCII case-insensitive; bare, quoted or
/// the last part of a dotted key), found by a small lexer that skips strings and comments:
/// the key, blanks, `=`, blanks, then a basic, literal or multi-line string. Basic strings
/// with escapes are skipped (their value is not their text).
pub fn toml_secrets(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Whether the last token was a key naming a secret, followed by `=`.
    let mut secret_key = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            secret_key = false;
        } else if b == b'"' || b == b'\'' {
            let Some(tok) = string_at(text, i) else { break };
            let end = tok.end.min(bytes.len());
            let (s, e) = tok.content;
            let content = text.get(s..e.max(s)).unwrap_or("");
            if secret_key {
                let escaped = tok.delim.starts_with('"') && content.contains('\\');
                let mut value = content;
                let mut start = s;
                if tok.delim.len() == 3 {
                    if let Some(v) = value.strip_prefix("\r\n") {
                        value = v;
                        start += 2;
                    } else if let Some(v) = value.strip_prefix('\n') {
                        value = v;
                        start += 1;
                    }
                }
                if !escaped {
                    out.push(Found {
                        value: value.to_owned(),
                        span: (start, start + value.len()),
                    });
                }
                secret_key = false;
            } else {
                // A quoted key naming a secret?
                secret_key = tok.delim.len() == 1
                    && content.to_ascii_lowercase().contains("secret")
                    && followed_by_equals(text, end);
            }
            i = end;
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
            {
                i += 1;
            }
            secret_key = text[start..i].to_ascii_lowercase().contains("secret")
                && followed_by_equals(text, i);
        } else {
            if !matches!(b, b'=' | b' ' | b'\t') {
                secret_key = false;
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_check() {
        assert_eq!(check_xml("<a x=\"1\"><b>t &amp; &#13;</b></a>\n"), Ok(()));
        assert!(check_xml("<a><b>t < u</b></a>").is_err());
        assert!(check_xml("<a><b>t & u</b></a>").is_err());
        assert!(check_xml("<a><b></a></b>").is_err());
        assert!(check_xml("<a></a><b></b>").is_err());
        assert!(check_xml("<a>\u{1}</a>").is_err());
        assert_eq!(
            element_text("<a><b>x &lt;&#13;</b></a>", "b").as_deref(),
            Some("x <\r")
        );
    }

    #[test]
    fn toml_secret_scan() {
        let text = "a = \"secret = 'notakey1'\" # secret = 'comment1'\n\
            [[user.access_keys]]\nsecret = \"value-one\"\nkeys = [{ id = \"x\", secret='value-two' }]\n\
            \"my_secret\" = '''\nvalue-three'''\nx.SECRET_key = \"esc\\\\aped\"\nt = { my_secret = \"\"\"v4\"\"\" }\n";
        let found: Vec<String> = toml_secrets(text).into_iter().map(|f| f.value).collect();
        assert_eq!(found, ["value-one", "value-two", "value-three", "v4"]);
        for f in toml_secrets(text) {
            assert_eq!(&text[f.span.0..f.span.1], f.value);
        }
    }
}
