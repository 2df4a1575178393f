//! Dates, the credential scope and the string to sign.

use std::fmt;
use std::time::{Duration, SystemTime};

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::canonical::Sink;

/// The only algorithm this crate speaks.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The scope terminator.
pub(crate) const TERMINATOR: &str = "aws4_request";

/// Formats `t` as `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format_amz_date(t: SystemTime) -> String {
    let dt = OffsetDateTime::from(t);
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

/// Parses `YYYYMMDDTHHMMSSZ` strictly.
pub(crate) fn parse_amz_date(s: &str) -> Option<SystemTime> {
    if s.len() != 16 {
        return None;
    }
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|dt| SystemTime::from(dt.assume_utc()))
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
    if secs % 60 == 0 {
        format!("{} min.", secs / 60)
    } else {
        format!("{secs} sec.")
    }
}

/// The credential scope of a request: `DATE/REGION/SERVICE/aws4_request`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CredentialScope {
    date: String,
    region: String,
    service: String,
}

impl CredentialScope {
    /// A scope for `date` (`YYYYMMDD`), `region` and `service`.
    pub fn new(
        date: impl Into<String>,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Self {
            date: date.into(),
            region: region.into(),
            service: service.into(),
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
        &self.date
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service.
    pub fn service(&self) -> &str {
        &self.service
    }
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
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
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn windows_format_like_api_gateway() {
        assert_eq!(format_window(Duration::from_secs(300)), "5 min.");
        assert_eq!(format_window(Duration::from_secs(90)), "90 sec.");
    }
}
