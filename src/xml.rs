//! XML text shared by the query-protocol services (STS, the IAM API): escaping and dates.

use time::{OffsetDateTime, UtcOffset};

/// Formats a time as AWS's query services do: `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub(crate) fn format_time(time: OffsetDateTime) -> String {
    let utc = time.checked_to_offset(UtcOffset::UTC).unwrap_or(time);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// Escapes character data. Characters XML 1.0 cannot carry at all become U+FFFD; a
/// carriage return is written as a reference so that parsers do not normalise it away.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}
