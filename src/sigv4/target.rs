//! The request target, judged before authentication (row 0 of the rejection table).

use std::borrow::Cow;

use http::request::Parts;
use http::Method;

use crate::error::{Rejection, RejectionKind};
use crate::sigv4::canonical::normalize_path;

/// Which request targets are refused before authentication, and whether the path is normalised
/// for the policy and the inner service. See [`judge_path`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TargetRules {
    /// Refuse anything that servers read differently, and normalise the rest (the default;
    /// every service but S3).
    #[default]
    Strict,
    /// S3's object keys: refuse only a raw `\` and control characters; the path is used as sent.
    ObjectKeys,
}

/// How `%2F` (an encoded `/`) in a path is read under [`TargetRules::Strict`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EncodedSlash {
    /// As a separator, decoded before dot segments are removed: `/x%2F..%2Fadmin` is judged
    /// and forwarded as `/admin` (the default; API Gateway routes it so).
    #[default]
    Separator,
    /// As data: never a separator, neither for the policy nor in the forwarded path, which
    /// keeps it encoded. A path that would hold a dot segment if `%2F` were read as `/` is
    /// refused, so an upstream that decodes it anyway cannot be led elsewhere.
    Data,
}

/// Why a target is refused (for the tests and the docs; the caller sees one message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A byte outside RFC 3986, a raw `\`, `;` or a control character.
    Byte,
    /// `%` without two hex digits.
    BrokenEscape,
    /// `%25`, `%5C`, `%3B` or an encoded control character.
    EncodedByte,
    /// Escapes that do not decode to UTF-8.
    NotUtf8,
    /// Under [`EncodedSlash::Data`], `%2F` next to a dot segment.
    SlashDotSegment,
    /// Not an origin-form path.
    NotOrigin,
}

/// The rejection of row 0: `400 BadRequestException`, `Invalid request target`.
pub(crate) fn invalid_target() -> Rejection {
    Rejection::new(RejectionKind::InvalidTarget, "Invalid request target")
}

/// Judges the target of `parts` (row 0 of the rejection table): the path the policy judges
/// and the inner service receives, `None` when it is the wire path unchanged (no allocation),
/// or the `400 Invalid request target` rejection.
pub(crate) fn judge(
    parts: &Parts,
    rules: TargetRules,
    slash: EncodedSlash,
) -> Result<Option<String>, Rejection> {
    if parts.method == Method::CONNECT {
        return Err(invalid_target());
    }
    let mut hosts = parts.headers.get_all(http::header::HOST).iter();
    if hosts.next().is_some() && hosts.next().is_some() {
        return Err(invalid_target());
    }
    // The authority form (`CONNECT host:port`, or any method with it) has no path; the
    // asterisk form's path is `*`.
    let has_path_and_query = parts.uri.path_and_query().is_some();
    if (!has_path_and_query && parts.uri.authority().is_some()) || parts.uri.path() == "*" {
        return Err(invalid_target());
    }
    match judge_path(parts.uri.path(), rules, slash) {
        Ok(Cow::Borrowed(_)) => Ok(None),
        Ok(Cow::Owned(path)) => Ok(Some(path)),
        Err(_) => Err(invalid_target()),
    }
}

/// Judges one wire path under `rules`: the path the policy judges, the inner service routes
/// and a gateway forwards — or a refusal. [`VerifySigV4Layer`](crate::VerifySigV4Layer)
/// applies it to every request before authentication (with the verifier's
/// [`target_rules`](crate::VerifierConfig::target_rules) and
/// [`encoded_slash`](crate::VerifierConfig::encoded_slash)) and hands the inner service the
/// judged path; call it yourself only to judge paths outside the layer.
///
/// A path that upstream servers read in different ways is a way past a Deny: Node's WHATWG URL
/// parser reads `\` as `/`, Python's `http.server` decodes `%2F` before it removes dot
/// segments, Java servlet containers drop `;parameters` from segments, so `/x\..\admin`,
/// `/x%2F..%2Fadmin` or `/admin;x` can reach `/admin` while a policy judged another resource.
/// Under [`TargetRules::Strict`] (every service but S3) a target is refused with
/// `400 Invalid request target` unless it reads the same way everywhere:
///
/// * only the bytes of RFC 3986 (`pchar` and `/`), no raw `;` (a path parameter), every `%`
///   followed by two hex digits;
/// * no encoded `%` (`%25`, a second decoding changes the path), backslash (`%5C`), semicolon
///   (`%3B`, which frameworks that decode before stripping path parameters read as one) or
///   control character (`%00`–`%1F`, `%7F`), and escapes that decode to UTF-8 (no overlong
///   `%C0%AE`);
/// * `%2F` is read as the separator it becomes for most servers ([`EncodedSlash::Separator`],
///   API Gateway's routing), before dot segments are removed; with [`EncodedSlash::Data`] it
///   stays data, and a path that `%2F`-as-`/` would turn into a dot segment is refused.
///
/// What is left is normalised — escapes of unreserved characters decoded, other escapes in
/// upper case, dot segments removed and repeated `/` collapsed — so `/x/../admin`, `/%61dmin`
/// and `/x/..%2fadmin` are all judged, routed and forwarded as `/admin`.
///
/// Under [`TargetRules::ObjectKeys`] (S3: keys may hold `%5C`, `%25` and `..`) only a raw `\`
/// and control characters are refused and the path is used as sent.
///
/// Whatever the rules: `CONNECT`, the asterisk form (`OPTIONS *`), the authority form and two
/// `Host` headers are refused.
///
/// ```
/// use tower_sigv4::{judge_path, EncodedSlash, TargetRules};
///
/// let judged = |p| judge_path(p, TargetRules::Strict, EncodedSlash::Separator).map(|p| p.into_owned());
/// assert_eq!(judged("/x/..%2Fadmin").as_deref(), Ok("/admin"));
/// assert_eq!(judged("/%61dmin//").as_deref(), Ok("/admin/"));
/// assert!(judged("/x%5C..%5Cadmin").is_err());
/// assert!(judged("/%2561dmin").is_err());
/// ```
///
/// # Errors
///
/// An [`InvalidTarget`] when the path is refused.
pub fn judge_path(
    path: &str,
    rules: TargetRules,
    slash: EncodedSlash,
) -> Result<Cow<'_, str>, InvalidTarget> {
    judge_path_inner(path, rules, slash).map_err(|_| InvalidTarget(()))
}

/// A request path that [`judge_path`] refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTarget(());

impl std::fmt::Display for InvalidTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid request target")
    }
}

impl std::error::Error for InvalidTarget {}

pub(crate) fn judge_path_inner(
    path: &str,
    rules: TargetRules,
    slash: EncodedSlash,
) -> Result<Cow<'_, str>, Refused> {
    match rules {
        TargetRules::ObjectKeys => {
            if path.bytes().any(|b| b == b'\\' || b.is_ascii_control()) {
                return Err(Refused::Byte);
            }
            Ok(Cow::Borrowed(if path.is_empty() { "/" } else { path }))
        }
        TargetRules::Strict => strict(path, slash),
    }
}

/// RFC 3986 `pchar` without `%` (checked apart) and without `;` (a path parameter for servlet
/// containers), plus `/`.
fn is_plain_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte an escape at `i` (the `%`) stands for.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let h = bytes.get(i + 1).copied().and_then(hex_val)?;
    let l = bytes.get(i + 2).copied().and_then(hex_val)?;
    Some((h << 4) | l)
}

fn strict(path: &str, slash: EncodedSlash) -> Result<Cow<'_, str>, Refused> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(Refused::NotOrigin);
    }
    // One pass to validate; note whether anything needs rewriting.
    let mut escapes = false;
    let mut high_escapes = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let decoded = escape_at(bytes, i).ok_or(Refused::BrokenEscape)?;
            if matches!(decoded, b'%' | b'\\' | b';') || decoded.is_ascii_control() {
                return Err(Refused::EncodedByte);
            }
            high_escapes |= decoded >= 0x80;
            escapes = true;
            i += 3;
        } else if is_plain_path_byte(b) {
            i += 1;
        } else {
            return Err(Refused::Byte);
        }
    }
    if high_escapes && !decodes_to_utf8(bytes) {
        return Err(Refused::NotUtf8);
    }
    if !escapes {
        return Ok(normalize_path(path));
    }
    if slash == EncodedSlash::Data && slash_makes_dot_segment(bytes) {
        return Err(Refused::SlashDotSegment);
    }
    // Decode the escapes of unreserved characters (and of `/` when it is a separator), upper-
    // case the others; then remove dot segments once: no escape of `.` is left to reveal more.
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, escape_at(bytes, i)) {
            (b'%', Some(d))
                if is_unreserved(d) || (d == b'/' && slash == EncodedSlash::Separator) =>
            {
                out.push(char::from(d));
                i += 3;
            }
            (b'%', Some(d)) => {
                out.push('%');
                out.push(char::from(hex_upper(d >> 4)));
                out.push(char::from(hex_upper(d & 0xf)));
                i += 3;
            }
            _ => {
                out.push(char::from(b));
                i += 1;
            }
        }
    }
    Ok(match normalize_path(&out) {
        Cow::Borrowed(_) => Cow::Owned(out),
        Cow::Owned(normalized) => Cow::Owned(normalized),
    })
}

/// The upper-case hex digit of a nibble.
fn hex_upper(nibble: u8) -> u8 {
    b"0123456789ABCDEF"
        .get(usize::from(nibble))
        .copied()
        .unwrap_or(b'0')
}

/// Whether the fully decoded path is UTF-8 (the bytes were checked to be valid escapes).
fn decodes_to_utf8(bytes: &[u8]) -> bool {
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, escape_at(bytes, i)) {
            (b'%', Some(d)) => {
                decoded.push(d);
                i += 3;
            }
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

/// Whether reading `%2F` as `/` (and unreserved escapes decoded) would turn a piece of a
/// segment into a `.` or `..` segment: `/x%2F..%2Fadmin` is one segment while `%2F` is data,
/// but `/x/../admin` to a server that decodes it first.
fn slash_makes_dot_segment(bytes: &[u8]) -> bool {
    bytes.split(|&b| b == b'/').any(|segment| {
        let mut pieces: Vec<Vec<u8>> = vec![Vec::new()];
        let mut encoded_slash = false;
        let mut i = 0;
        while let Some(&b) = segment.get(i) {
            match (b, escape_at(segment, i)) {
                (b'%', Some(b'/')) => {
                    encoded_slash = true;
                    pieces.push(Vec::new());
                    i += 3;
                }
                (b'%', Some(d)) => {
                    if let Some(piece) = pieces.last_mut() {
                        piece.push(d);
                    }
                    i += 3;
                }
                _ => {
                    if let Some(piece) = pieces.last_mut() {
                        piece.push(b);
                    }
                    i += 1;
                }
            }
        }
        encoded_slash && pieces.iter().any(|p| p == b"." || p == b"..")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict_sep(p: &str) -> Result<String, Refused> {
        judge_path_inner(p, TargetRules::Strict, EncodedSlash::Separator).map(Cow::into_owned)
    }

    fn strict_data(p: &str) -> Result<String, Refused> {
        judge_path_inner(p, TargetRules::Strict, EncodedSlash::Data).map(Cow::into_owned)
    }

    #[test]
    fn the_issue_paths_are_refused_or_judged_as_admin() {
        for (path, want) in [
            ("/x\\..\\admin", Err(Refused::Byte)),
            ("/\\admin", Err(Refused::Byte)),
            ("/x%2F..%2Fadmin", Ok("/admin")),
            ("/%2Fadmin", Ok("/admin")),
            ("/x/..%2fadmin", Ok("/admin")),
            ("/x%5c..%5cadmin", Err(Refused::EncodedByte)),
            ("/%2561dmin", Err(Refused::EncodedByte)),
            ("/x/../admin", Ok("/admin")),
            ("/%61dmin", Ok("/admin")),
            ("/%2e%2e/admin", Ok("/admin")),
            ("/x/%2E%2E%2Fadmin", Ok("/admin")),
        ] {
            assert_eq!(strict_sep(path), want.map(str::to_owned), "{path:?}");
        }
    }

    #[test]
    fn bytes_outside_rfc_3986_and_broken_escapes_are_refused() {
        for path in [
            "/a b",
            "/a\"b",
            "/a<b",
            "/a>b",
            "/a^b",
            "/a`b",
            "/a{b",
            "/a|b",
            "/a}b",
            "/a\u{7f}",
            "/a\tb",
            "/é",
            "/a;b",
            "/..;/admin",
            "/a#b",
            "/a?b",
            "/a[b",
            "/a]b",
        ] {
            assert_eq!(strict_sep(path), Err(Refused::Byte), "{path:?}");
        }
        for path in ["/a%", "/a%2", "/a%zz", "/a%2g"] {
            assert_eq!(strict_sep(path), Err(Refused::BrokenEscape), "{path:?}");
        }
        for path in [
            "/a%00", "/a%0a", "/a%1F", "/a%7f", "/a%25", "/a%5C", "/a%3B", "/a%3b",
        ] {
            assert_eq!(strict_sep(path), Err(Refused::EncodedByte), "{path:?}");
        }
        for path in ["/%C0%AE%C0%AE/admin", "/%FF", "/%E1%88"] {
            assert_eq!(strict_sep(path), Err(Refused::NotUtf8), "{path:?}");
        }
        for path in ["*", "", "admin", "x/../admin"] {
            assert_eq!(strict_sep(path), Err(Refused::NotOrigin), "{path:?}");
        }
    }

    #[test]
    fn other_escapes_are_kept_in_upper_case() {
        for (path, want) in [
            ("/a%2cb", "/a%2Cb"),
            ("/caf%c3%a9", "/caf%C3%A9"),
            ("/a%3fb", "/a%3Fb"),
            ("/", "/"),
            ("//admin//", "/admin/"),
            ("/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="),
        ] {
            assert_eq!(strict_sep(path).as_deref(), Ok(want), "{path:?}");
        }
        // Unchanged paths are borrowed.
        assert!(matches!(
            judge_path_inner("/a/b", TargetRules::Strict, EncodedSlash::Separator),
            Ok(Cow::Borrowed("/a/b"))
        ));
    }

    #[test]
    fn encoded_slash_as_data_stays_encoded_and_never_makes_a_dot_segment() {
        assert_eq!(strict_data("/a%2fb").as_deref(), Ok("/a%2Fb"));
        assert_eq!(strict_data("/a%2F%2Fb").as_deref(), Ok("/a%2F%2Fb"));
        assert_eq!(strict_data("/x/../a%2Fb").as_deref(), Ok("/a%2Fb"));
        for path in [
            "/x%2F..%2Fadmin",
            "/x/..%2Fadmin",
            "/x%2F..",
            "/%2E%2E%2Fadmin",
            "/x%2F.%2Fadmin",
        ] {
            assert_eq!(strict_data(path), Err(Refused::SlashDotSegment), "{path:?}");
        }
    }

    #[test]
    fn object_keys_refuse_only_backslash_and_controls() {
        let keys = |p| judge_path_inner(p, TargetRules::ObjectKeys, EncodedSlash::Separator);
        assert_eq!(
            keys("/b/a%5Cb/../%25"),
            Ok(Cow::Borrowed("/b/a%5Cb/../%25"))
        );
        assert_eq!(keys("/b/a\\b"), Err(Refused::Byte));
        assert_eq!(keys("/b/a\u{1}"), Err(Refused::Byte));
    }
}
