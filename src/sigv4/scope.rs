//! Dates, the credential scope and the string to sign.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use time::macros::format_description;
use time::PrimitiveDateTime;

use crate::sigv4::canonical::Sink;

/// The only algorithm this crate speaks.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The scope terminator.
pub(crate) const TERMINATOR: &str = "aws4_request";

/// Formats `t` as `YYYYMMDDTHHMMSSZ` (saturating at the years 0000 and 9999).
pub(crate) fn format_amz_date(t: SystemTime) -> String {
    let dt = match crate::clock::offset_date_time(t) {
        Some(dt) => dt,
        None if t > SystemTime::UNIX_EPOCH => return "99991231T235959Z".to_owned(),
        None => return "00000101T000000Z".to_owned(),
    };
    if let Ok(year @ 0..=9999) = u32::try_from(dt.year()) {
        // The common case without the formatting machinery (the signer calls this per request).
        let mut out = String::with_capacity(16);
        push_digits(&mut out, year, 4);
        push_digits(&mut out, u32::from(u8::from(dt.month())), 2);
        push_digits(&mut out, u32::from(dt.day()), 2);
        out.push('T');
        push_digits(&mut out, u32::from(dt.hour()), 2);
        push_digits(&mut out, u32::from(dt.minute()), 2);
        push_digits(&mut out, u32::from(dt.second()), 2);
        out.push('Z');
        return out;
    }
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for p in (0..width).rev() {
        let digit = (n / 10u32.pow(p)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// Parses `YYYYMMDDTHHMMSSZ` strictly.
pub(crate) fn parse_amz_date(s: &str) -> Option<SystemTime> {
    if s.len() != 16 {
        return None;
    }
    if let Some(t) = parse_amz_digits(s.as_bytes()) {
        return Some(t);
    }
    // Anything but the plain all-digits form (which the fast path decides) goes through the
    // general parser, so both paths accept exactly what the format description does.
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|dt| SystemTime::from(dt.assume_utc()))
}

/// The fast path of [`parse_amz_date`]: 16 bytes, digits where the format has numbers. A valid
/// date and time gives the instant; `None` sends the caller to the general parser (which then
/// rejects an out-of-range field just as it would have).
fn parse_amz_digits(b: &[u8]) -> Option<SystemTime> {
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    if b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') || b.len() != 16 {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let day = u8::try_from(num(6..8)?).ok()?;
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let time = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(SystemTime::from(
        PrimitiveDateTime::new(date, time).assume_utc(),
    ))
}

/// Parses a `Date` header: ISO-8601 basic, or an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    if let Some(t) = parse_amz_date(s) {
        return Some(t);
    }
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|dt| SystemTime::from(dt.assume_utc()))
}

/// Formats a duration as API Gateway's skew messages do: `5 min.` or `90 sec.`.
pub(crate) fn format_window(window: Duration) -> String {
    let secs = window.as_secs();
    if secs.is_multiple_of(60) {
        format!("{} min.", secs / 60)
    } else {
        format!("{secs} sec.")
    }
}

/// The credential scope of a request: `DATE/REGION/SERVICE/aws4_request`.
///
/// Cheap to clone: the text is shared, so the verifier hands out clones of the scope it cached
/// along with the signing key instead of allocating one per request.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CredentialScope {
    /// `DATE/REGION/SERVICE`.
    text: Arc<str>,
    /// Lengths of the date and the region in `text`.
    date_len: usize,
    region_len: usize,
}

impl CredentialScope {
    /// A scope for `date` (`YYYYMMDD`), `region` and `service`.
    pub fn new(
        date: impl Into<String>,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        let (date, region, service) = (date.into(), region.into(), service.into());
        let mut text = String::with_capacity(date.len() + region.len() + service.len() + 2);
        for (i, part) in [&date, &region, &service].into_iter().enumerate() {
            if i > 0 {
                text.push('/');
            }
            text.push_str(part);
        }
        Self {
            text: Arc::from(text),
            date_len: date.len(),
            region_len: region.len(),
        }
    }

    /// The scope for the day of `time`.
    pub fn for_time(
        time: SystemTime,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        let amz = format_amz_date(time);
        Self::new(amz.get(..8).unwrap_or_default(), region, service)
    }

    /// The date, `YYYYMMDD`.
    pub fn date(&self) -> &str {
        self.text.get(..self.date_len).unwrap_or_default()
    }

    /// The region.
    pub fn region(&self) -> &str {
        let start = self.date_len + 1;
        self.text
            .get(start..start + self.region_len)
            .unwrap_or_default()
    }

    /// The service.
    pub fn service(&self) -> &str {
        self.text
            .get(self.date_len + self.region_len + 2..)
            .unwrap_or_default()
    }
}

impl fmt::Debug for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialScope")
            .field("date", &self.date())
            .field("region", &self.region())
            .field("service", &self.service())
            .finish()
    }
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{TERMINATOR}", self.text)
    }
}

/// Writes the string to sign.
pub(crate) fn write_string_to_sign<S: Sink>(
    sink: &mut S,
    amz_date: &str,
    scope: (&str, &str, &str),
    canonical_request_hash_hex: &[u8; 64],
) {
    sink.put_str(ALGORITHM);
    sink.put(b"\n");
    sink.put_str(amz_date);
    sink.put(b"\n");
    sink.put_str(scope.0);
    sink.put(b"/");
    sink.put_str(scope.1);
    sink.put(b"/");
    sink.put_str(scope.2);
    sink.put(b"/");
    sink.put_str(TERMINATOR);
    sink.put(b"\n");
    sink.put(canonical_request_hash_hex);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(format_amz_date(SystemTime::UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            format_amz_date(SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799)),
            "99991231T235959Z"
        );
        assert_eq!(
            t,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
        );
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(t));
        for bad in [
            "",
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20151330T123600Z",
            "20150830T1236000",
            "2015083OT123600Z",
            "20150230T123600Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        // Both paths agree on every all-digits input the format accepts.
        for ok in [
            "20000229T000000Z",
            "99991231T235959Z",
            "19700101T000000Z",
            "00000830T123600Z",
        ] {
            let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
            let general = PrimitiveDateTime::parse(ok, fmt)
                .ok()
                .map(|dt| SystemTime::from(dt.assume_utc()));
            assert_eq!(parse_amz_digits(ok.as_bytes()), general, "{ok}");
        }
    }

    #[test]
    fn scope_parts_survive_the_shared_text() {
        let scope = CredentialScope::new("20150830", "us-east-1", "execute-api");
        assert_eq!(scope.date(), "20150830");
        assert_eq!(scope.region(), "us-east-1");
        assert_eq!(scope.service(), "execute-api");
        assert_eq!(
            scope.to_string(),
            "20150830/us-east-1/execute-api/aws4_request"
        );
        assert_eq!(
            format!("{scope:?}"),
            r#"CredentialScope { date: "20150830", region: "us-east-1", service: "execute-api" }"#
        );
        let odd = CredentialScope::new("", "a/b", "");
        assert_eq!((odd.date(), odd.region(), odd.service()), ("", "a/b", ""));
        assert_ne!(odd, CredentialScope::new("a", "b", ""));
        assert_eq!(odd, odd.clone());
    }

    #[test]
    fn windows_format_like_api_gateway() {
        assert_eq!(format_window(Duration::from_secs(300)), "5 min.");
        assert_eq!(format_window(Duration::from_secs(90)), "90 sec.");
    }
}
