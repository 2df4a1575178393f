//! Condition operators: parsing of a `Condition` block and evaluation against a request context.
//!
//! Several operators, or several keys under one operator: AND. Several values for one key: OR, but NOR for the
//! negated operators. Missing key: false, except negated operators, `…IfExists` and `ForAllValues:` (true) and
//! `Null`. A single-valued operator on a multi-valued key is false. An empty multi-valued key counts as absent.
//! A present value the operator cannot read (not a number, date, IP address, boolean or ARN) matches neither the
//! operator nor its negation.

use std::cmp::Ordering;
use std::net::IpAddr;

use base64::Engine as _;
use ipnet::IpNet;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::context::{split_arn, Found, KeyId, RequestContext, Typed, ValRef};
use super::json::Json;
use super::matching::{ArnPattern, Pattern};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetMode {
    Single,
    ForAll,
    ForAny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// Whether `value OP policy_value` holds, given `value.cmp(policy_value)`.
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Family {
    Str { ci: bool, like: bool },
    Num(Cmp),
    Date(Cmp),
    Bool,
    Bin,
    Ip,
    Arn,
    Null,
}

/// The base operators: (name, family, negated).
const OPERATORS: &[(&str, Family, bool)] = &[
    (
        "StringEquals",
        Family::Str {
            ci: false,
            like: false,
        },
        false,
    ),
    (
        "StringNotEquals",
        Family::Str {
            ci: false,
            like: false,
        },
        true,
    ),
    (
        "StringEqualsIgnoreCase",
        Family::Str {
            ci: true,
            like: false,
        },
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Family::Str {
            ci: true,
            like: false,
        },
        true,
    ),
    (
        "StringLike",
        Family::Str {
            ci: false,
            like: true,
        },
        false,
    ),
    (
        "StringNotLike",
        Family::Str {
            ci: false,
            like: true,
        },
        true,
    ),
    ("NumericEquals", Family::Num(Cmp::Eq), false),
    ("NumericNotEquals", Family::Num(Cmp::Eq), true),
    ("NumericLessThan", Family::Num(Cmp::Lt), false),
    ("NumericLessThanEquals", Family::Num(Cmp::Le), false),
    ("NumericGreaterThan", Family::Num(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Family::Num(Cmp::Ge), false),
    ("DateEquals", Family::Date(Cmp::Eq), false),
    ("DateNotEquals", Family::Date(Cmp::Eq), true),
    ("DateLessThan", Family::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Family::Date(Cmp::Le), false),
    ("DateGreaterThan", Family::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Family::Date(Cmp::Ge), false),
    ("Bool", Family::Bool, false),
    ("BinaryEquals", Family::Bin, false),
    ("IpAddress", Family::Ip, false),
    ("NotIpAddress", Family::Ip, true),
    ("ArnEquals", Family::Arn, false),
    ("ArnLike", Family::Arn, false),
    ("ArnNotEquals", Family::Arn, true),
    ("ArnNotLike", Family::Arn, true),
    ("Null", Family::Null, false),
];

/// Parses an operator name: optional `ForAllValues:`/`ForAnyValue:` prefix, base operator, optional `IfExists`
/// suffix (never with `Null`, which also takes no set prefix). Names are case-sensitive.
fn parse_operator(name: &str) -> Option<(SetMode, Family, bool, bool)> {
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
        (SetMode::ForAll, r)
    } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (SetMode::ForAny, r)
    } else {
        (SetMode::Single, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let &(_, family, negated) = OPERATORS.iter().find(|(n, _, _)| *n == base)?;
    if matches!(family, Family::Null) && (if_exists || set != SetMode::Single) {
        return None;
    }
    Some((set, family, negated, if_exists))
}

/// An exact decimal number: sign, integer digits without leading zeros, fraction digits without trailing zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal<'a> {
    neg: bool,
    int: &'a str,
    frac: &'a str,
}

impl<'a> Decimal<'a> {
    fn parse(s: &'a str) -> Option<Decimal<'a>> {
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, s.get(1..)?),
            Some(b'+') => (false, s.get(1..)?),
            _ => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let neg = neg && !(int.is_empty() && frac.is_empty());
        Some(Decimal { neg, int, frac })
    }

    fn cmp_magnitude(&self, other: &Decimal<'_>) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(other.int))
            .then_with(|| self.frac.cmp(other.frac))
    }
}

impl Ord for Decimal<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Parses a date: epoch seconds (digits, optional `-`), RFC 3339, other ISO-8601 forms (no offset = UTC), or a
/// bare `YYYY-MM-DD` (midnight UTC). Returns Unix time in nanoseconds.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .ok()
            .map(|secs| i128::from(secs) * 1_000_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = PrimitiveDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.assume_utc().unix_timestamp_nanos());
    }
    let d = Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp_nanos())
}

fn parse_ip(s: &str) -> Option<IpNet> {
    let net = match s.parse::<IpNet>() {
        Ok(n) => n,
        Err(_) => IpNet::from(s.parse::<IpAddr>().ok()?),
    };
    Some(net.trunc())
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The policy values of one condition, parsed for its operator.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    Str {
        ci: bool,
        values: Vec<Pattern>,
    },
    /// (negative, integer digits, fraction digits)
    Num(Cmp, Vec<(bool, Box<str>, Box<str>)>),
    Date(Cmp, Vec<i128>),
    Bool(Vec<bool>),
    Bin(Vec<Vec<u8>>),
    Ip(Vec<IpNet>),
    Arn(Vec<ArnPattern>),
    Null(Vec<bool>),
}

/// One operator applied to one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    key: KeyId,
    set: SetMode,
    if_exists: bool,
    negated: bool,
    test: Test,
}

/// A parse error: (location suffix after `Condition`, message).
pub(crate) type ConditionError = (String, String);

/// Parses a `Condition` element. `variables`: whether `${…}` is a policy variable (Version 2012-10-17).
pub(crate) fn parse_block(value: &Json, variables: bool) -> Result<Vec<Condition>, ConditionError> {
    let Json::Object(ops) = value else {
        return Err((
            String::new(),
            format!("expected an object, got {}", value.type_name()),
        ));
    };
    let mut out = Vec::new();
    for (op, keys) in ops {
        let (set, family, negated, if_exists) = parse_operator(op)
            .ok_or_else(|| (String::new(), format!("unknown operator \"{op}\"")))?;
        let keys = match keys {
            Json::Object(k) if k.is_empty() => {
                return Err((format!(".{op}"), "no condition keys".to_owned()))
            }
            Json::Object(k) => k,
            other => {
                return Err((
                    format!(".{op}"),
                    format!("expected an object, got {}", other.type_name()),
                ))
            }
        };
        for (key, raw) in keys {
            let at = format!(".{op}.{key}");
            let texts = value_texts(raw).map_err(|(suffix, m)| (format!("{at}{suffix}"), m))?;
            let test = build_test(family, &texts, variables)
                .map_err(|(suffix, m)| (format!("{at}{suffix}"), m))?;
            out.push(Condition {
                key: KeyId::parse(key),
                set,
                if_exists,
                negated,
                test,
            });
        }
    }
    Ok(out)
}

/// The condition values as (location suffix, text): strings, numbers and booleans, alone or in a list.
fn value_texts(raw: &Json) -> Result<Vec<(String, String)>, ConditionError> {
    let scalar = |v: &Json| match v {
        Json::String(s) | Json::Number(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let expected = "expected a string, number, boolean or a list of them";
    match raw {
        Json::Array(a) if a.is_empty() => Err((String::new(), "empty list".to_owned())),
        Json::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("[{i}]");
                match scalar(v) {
                    Some(s) => Ok((at, s)),
                    None => Err((
                        at,
                        format!(
                            "expected a string, number or boolean, got {}",
                            v.type_name()
                        ),
                    )),
                }
            })
            .collect(),
        v => match scalar(v) {
            Some(s) => Ok(vec![(String::new(), s)]),
            None => Err((String::new(), format!("{expected}, got {}", v.type_name()))),
        },
    }
}

fn build_test(
    family: Family,
    texts: &[(String, String)],
    variables: bool,
) -> Result<Test, ConditionError> {
    fn each<T>(
        texts: &[(String, String)],
        what: &str,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ConditionError> {
        texts
            .iter()
            .map(|(at, t)| {
                f(t).map_err(|e| {
                    (
                        at.clone(),
                        if e.is_empty() {
                            format!("invalid {what} \"{t}\"")
                        } else {
                            e
                        },
                    )
                })
            })
            .collect()
    }
    fn none<T>(o: Option<T>) -> Result<T, String> {
        o.ok_or_else(String::new)
    }
    Ok(match family {
        Family::Str { ci, like } => Test::Str {
            ci,
            values: each(texts, "string", |t| Pattern::compile(t, like, variables))?,
        },
        Family::Num(cmp) => Test::Num(
            cmp,
            each(texts, "number", |t| {
                none(Decimal::parse(t)).map(|d| (d.neg, Box::from(d.int), Box::from(d.frac)))
            })?,
        ),
        Family::Date(cmp) => Test::Date(cmp, each(texts, "date", |t| none(parse_date(t)))?),
        Family::Bool => Test::Bool(each(texts, "boolean", |t| none(parse_bool(t)))?),
        Family::Null => Test::Null(each(texts, "boolean", |t| none(parse_bool(t)))?),
        Family::Bin => Test::Bin(each(texts, "base64 value", |t| {
            none(base64::engine::general_purpose::STANDARD.decode(t).ok())
        })?),
        Family::Ip => Test::Ip(each(texts, "IP address or CIDR block", |t| {
            none(parse_ip(t))
        })?),
        Family::Arn => Test::Arn(each(texts, "ARN", |t| {
            ArnPattern::compile_condition(t, variables)
        })?),
    })
}

impl Condition {
    /// Whether the condition holds for `ctx`.
    pub(crate) fn eval(&self, ctx: &RequestContext) -> bool {
        let found = ctx.lookup(&self.key).filter(|f| !f.is_empty());
        if let Test::Null(wanted) = &self.test {
            let absent = found.is_none();
            return wanted.contains(&absent);
        }
        match (self.set, found) {
            (SetMode::Single, None) => self.if_exists || self.negated,
            (SetMode::ForAll, None) => true,
            (SetMode::ForAny, None) => self.if_exists,
            (SetMode::Single, Some(Found::Many(_))) => false,
            (SetMode::Single, Some(Found::One(v))) => self.value_matches(v, ctx),
            (SetMode::ForAll, Some(f)) => f.iter().all(|v| self.value_matches(v, ctx)),
            (SetMode::ForAny, Some(f)) => f.iter().any(|v| self.value_matches(v, ctx)),
        }
    }

    /// One context value against the policy values: OR over them, NOR for a negated operator. A value that
    /// cannot be read as the operator's type (a number, date, address, boolean, ARN) matches neither way: the
    /// early `return false` skips the negation.
    ///
    /// With `…IfExists` the key is present, so such a value makes the condition false. With `ForAllValues:` and
    /// `ForAnyValue:` this is applied to each member (a choice: iam.md only speaks of single values): an
    /// unreadable member matches neither the operator nor its negation, so it fails `ForAllValues:` and does not
    /// count for `ForAnyValue:`. A value no operator can read must never make a negated condition hold.
    fn value_matches(&self, v: ValRef<'_>, ctx: &RequestContext) -> bool {
        let positive = match &self.test {
            Test::Str { ci, values } => values.iter().any(|p| p.matches(v.text, ctx, *ci)),
            Test::Num(cmp, values) => {
                let Some(x) = Decimal::parse(v.text) else {
                    return false;
                };
                values.iter().any(|(neg, int, frac)| {
                    cmp.holds(x.cmp(&Decimal {
                        neg: *neg,
                        int,
                        frac,
                    }))
                })
            }
            Test::Date(cmp, values) => {
                let t = match v.typed {
                    Typed::Date(t) => Some(t),
                    _ => parse_date(v.text),
                };
                let Some(t) = t else { return false };
                values.iter().any(|p| cmp.holds(t.cmp(p)))
            }
            Test::Bool(values) => {
                let b = match v.typed {
                    Typed::Bool(b) => Some(b),
                    _ => parse_bool(v.text),
                };
                let Some(b) = b else { return false };
                values.contains(&b)
            }
            Test::Bin(values) => values.iter().any(|p| p.as_slice() == v.text.as_bytes()),
            Test::Ip(nets) => {
                let ip = match v.typed {
                    Typed::Ip(ip) => Some(ip),
                    _ => v.text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical()),
                };
                let Some(ip) = ip else { return false };
                nets.iter().any(|n| n.contains(&ip))
            }
            Test::Arn(values) => {
                // An ARN has six parts, the first `arn`; anything else is unreadable, even for `*`.
                let Some(parts) = split_arn(v.text).filter(|p| p[0] == "arn") else {
                    return false;
                };
                values
                    .iter()
                    .any(|p| p.matches_split(v.text, Some(parts), ctx))
            }
            Test::Null(_) => false,
        };
        positive != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse() {
        assert!(parse_operator("ForAllValues:StringLikeIfExists").is_some());
        assert!(parse_operator("NullIfExists").is_none());
        assert!(parse_operator("ForAnyValue:Null").is_none());
        assert!(parse_operator("IfExists").is_none());
        assert!(parse_operator("stringequals").is_none());
        assert!(parse_operator("ForAllValues:").is_none());
    }

    #[test]
    fn decimals() {
        let d = |s| Decimal::parse(s).unwrap();
        assert_eq!(d("1.50"), d("001.5"));
        assert_eq!(d("-0"), d("0.0"));
        assert!(d("-1") < d("0"));
        assert!(d("-2") < d("-1.5"));
        assert!(d("0.45") < d("0.5"));
        assert!(d("10") > d("9.99"));
        assert!(d("99999999999999999999999999") > d("99999999999999999999999998"));
        assert!(Decimal::parse("1e3").is_none());
        assert!(Decimal::parse(".").is_none());
        assert!(Decimal::parse("-").is_none());
        assert!(Decimal::parse(".5").is_some());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(parse_date("1970-01-01T00:00:00"), Some(0));
        assert_eq!(parse_date("yesterday"), None);
    }
}
