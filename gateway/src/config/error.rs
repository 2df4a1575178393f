//! [`ConfigFileError`], and the translation of the `toml` crate's errors into it: file, line,
//! column and key path, never the source line, and never a secret.
//!
//! The `toml` crate's `Display` echoes the offending source line, which may hold a secret
//! access key or a session-token key, so it is never used. A syntax error keeps the parser's
//! bare message; a type error keeps serde's message, with the key path found by
//! `serde_path_to_error`. Either is redacted when it concerns a secret (a key whose name
//! holds `secret`, or for a syntax error, a line that does): quoted parts are dropped, since
//! that is where serde and the parser put a value.

use std::fmt;
use std::path::Path;

use serde_path_to_error::Segment;

/// A configuration file that cannot be used: where, and why.
///
/// The [`location`](ConfigFileError::location) is made of the file (when the configuration
/// came from one), the line and column (for a mistake the TOML parser or the types found)
/// and the place (a key path such as `user[0].access_keys[0].secret`, or a name such as
/// `user[0] (ARN) policies[1]`): `gateway.toml:12:10: user[0].access_keys[0].secret`, or
/// without a file, `line 12, column 10: user[0].access_keys[0].secret`. Neither the location
/// nor the [`message`](ConfigFileError::message) ever holds a line of the file or the value
/// of a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFileError {
    file: Option<String>,
    /// Line and column, from 1; the column counts characters.
    position: Option<(usize, usize)>,
    place: String,
    /// `file`, `position` and `place` composed, for [`ConfigFileError::location`].
    location: String,
    message: String,
}

impl ConfigFileError {
    pub(super) fn new(place: impl Into<String>, message: impl fmt::Display) -> Self {
        Self::compose(None, None, place.into(), message.to_string())
    }

    fn compose(
        file: Option<String>,
        position: Option<(usize, usize)>,
        place: String,
        message: String,
    ) -> Self {
        let mut location = match (&file, position) {
            (Some(file), Some((line, column))) => format!("{file}:{line}:{column}"),
            (Some(file), None) => file.clone(),
            (None, Some((line, column))) => format!("line {line}, column {column}"),
            (None, None) => String::new(),
        };
        if !place.is_empty() {
            if !location.is_empty() {
                location.push_str(": ");
            }
            location.push_str(&place);
        }
        Self {
            file,
            position,
            place,
            location,
            message,
        }
    }

    /// The same error, in the file at `path`.
    pub(super) fn in_file(self, path: &Path) -> Self {
        Self::compose(
            Some(path.display().to_string()),
            self.position,
            self.place,
            self.message,
        )
    }

    /// Where the mistake is: the file, line and column as far as they are known, then the
    /// place (`gateway.toml:12:10: user[0].access_keys[0].secret`,
    /// `gateway.toml: user[0] (ARN) policies[1]`, `line 6, column 7`, `api.account`).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line of the mistake (from 1), for a mistake found while parsing the TOML.
    pub fn line(&self) -> Option<usize> {
        self.position.map(|(line, _)| line)
    }

    /// The column of the mistake (from 1, in characters), for a mistake found while parsing
    /// the TOML.
    pub fn column(&self) -> Option<usize> {
        self.position.map(|(_, column)| column)
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl std::error::Error for ConfigFileError {}

/// A TOML syntax error: line, column and the parser's bare message, redacted when the line
/// holds a secret (or when there is no line to look at).
pub(super) fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigFileError {
    let offset = error.span().map(|span| span.start);
    let position = offset.map(|offset| position(text, offset));
    let on_secret_line = offset.is_none_or(|offset| names_a_secret(line_at(text, offset)));
    let message = if on_secret_line {
        redact(error.message())
    } else {
        error.message().to_owned()
    };
    ConfigFileError::compose(None, position, String::new(), message)
}

/// A type error (or an unknown or missing key): line, column, key path and serde's message,
/// redacted when the path goes through a key whose name holds `secret`.
pub(super) fn type_error(
    text: &str,
    error: &serde_path_to_error::Error<toml::de::Error>,
) -> ConfigFileError {
    let inner = error.inner();
    let path = error.path();
    let at_secret = path.iter().any(|segment| match segment {
        Segment::Map { key } => names_a_secret(key),
        Segment::Seq { .. } | Segment::Enum { .. } | Segment::Unknown => false,
    });
    let message = if at_secret && !names_keys_only(inner.message()) {
        redact(inner.message())
    } else {
        inner.message().to_owned()
    };
    // An empty path is shown by serde_path_to_error as `.`: the whole document.
    let place = if path.iter().len() == 0 {
        String::new()
    } else {
        path.to_string()
    };
    let position = inner.span().map(|span| position(text, span.start));
    ConfigFileError::compose(None, position, place, message)
}

fn names_a_secret(text: &str) -> bool {
    text.to_ascii_lowercase().contains("secret")
}

/// serde's messages about keys quote key names, never values.
fn names_keys_only(message: &str) -> bool {
    ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .any(|start| message.starts_with(start))
}

/// Line and column (from 1; the column in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before
        .get(line_start..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| !is_utf8_continuation(b))
        .count()
        + 1;
    (line, column)
}

fn is_utf8_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

/// The line holding a byte offset (an offset on a newline belongs to the line it ends).
fn line_at(text: &str, offset: usize) -> &str {
    let offset = offset.min(text.len());
    let start = text
        .get(..offset)
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |newline| newline + 1);
    let rest = text.get(start..).unwrap_or_default();
    rest.split('\n').next().unwrap_or_default()
}

/// A message without any quoted part: serde and the TOML parser quote values between
/// backticks or double quotes, so every quoted part goes, with the blanks before it; a quote
/// left open takes the rest of the message with it. Commas left with nothing between them
/// close up, and an `expected` left with nothing to expect goes too.
fn redact(message: &str) -> String {
    let mut kept = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in message.chars() {
        match quote {
            None if c == '`' || c == '"' => {
                kept.truncate(kept.trim_end().len());
                quote = Some(c);
            }
            None => kept.push(c),
            Some(_) if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(open) if c == open => quote = None,
            Some(_) => {}
        }
    }
    let parts: Vec<&str> = kept
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty() && !matches!(*part, "expected" | "expected one of"))
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_drops_quoted_values() {
        assert_eq!(
            redact("invalid type: integer `12345`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            redact(r#"invalid type: string "s3cret, expected x", expected u64"#),
            "invalid type: string, expected u64"
        );
        // Escaped quotes stay inside; an open quote takes the rest.
        assert_eq!(
            redact(r#"invalid value: string "a\"b`c", expected d"#),
            "invalid value: string, expected d"
        );
        assert_eq!(redact("bad `s3cret, expected more"), "bad");
        assert_eq!(redact(r#"bad "s3cret\"#), "bad");
        // Nothing left to expect: `expected` goes too.
        assert_eq!(
            redact("unclosed inline table, expected `}`"),
            "unclosed inline table"
        );
        assert_eq!(
            redact("invalid table header, expected `.`, `]]`"),
            "invalid table header"
        );
        assert_eq!(
            redact("string values must be quoted, expected literal string"),
            "string values must be quoted, expected literal string"
        );
        assert_eq!(redact("`all quoted`"), "");
        assert_eq!(redact("duplicate key"), "duplicate key");
    }

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, 4), (1, 5));
        assert_eq!(position(text, 5), (1, 6));
        assert_eq!(position(text, 6), (2, 1));
        // `é` is two bytes and one column: the blank after `bé` is in column 3.
        assert_eq!(position(text, 9), (2, 3));
        assert_eq!(position(text, text.len()), (3, 1));
        assert_eq!(position(text, text.len() + 10), (3, 1));
        assert_eq!(line_at(text, 5), "a = 1");
        assert_eq!(line_at(text, 9), "bé = \"x\"");
        assert_eq!(line_at(text, text.len()), "");
    }

    #[test]
    fn locations_compose() {
        let e = ConfigFileError::compose(
            None,
            Some((12, 10)),
            "user[0].access_keys[0].secret".to_owned(),
            "invalid type: integer, expected a string".to_owned(),
        );
        assert_eq!(
            e.to_string(),
            "line 12, column 10: user[0].access_keys[0].secret: invalid type: integer, expected a string"
        );
        let e = e.in_file(Path::new("gateway.toml"));
        assert_eq!(
            e.location(),
            "gateway.toml:12:10: user[0].access_keys[0].secret"
        );
        assert_eq!((e.line(), e.column()), (Some(12), Some(10)));
        let e = ConfigFileError::new("api.account", "bad").in_file(Path::new("g.toml"));
        assert_eq!(e.to_string(), "g.toml: api.account: bad");
        assert_eq!((e.line(), e.column()), (None, None));
        let e = ConfigFileError::new("", "gone").in_file(Path::new("g.toml"));
        assert_eq!(e.to_string(), "g.toml: gone");
        assert_eq!(ConfigFileError::new("", "bare").to_string(), "bare");
    }
}
