//! `Principal` / `NotPrincipal` values and how they match a caller.

use super::context::{is_account_id, split_arn, Caller};
use super::json::Json;

/// One principal named in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalId {
    /// `"*"` or `{"AWS": "*"}`.
    Any,
    /// An account: `123456789012` or `arn:aws:iam::123456789012:root`.
    Account(Box<str>),
    /// A user ARN (matched exactly, case-sensitive).
    User(Box<str>),
    /// A role ARN with its path: matches the role's sessions.
    Role(Box<str>),
    /// A session ARN `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    Session(Box<str>),
    /// A `Service`, `Federated` or `CanonicalUser` principal: never an IAM caller of this gateway.
    Other,
}

/// How a principal list matched a caller, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalMatch {
    /// No listed principal is the caller.
    None,
    /// Only through the caller's account (delegation to the account's own policies).
    Account,
    /// Through the caller's role (for a session): limited by the session policy.
    Role,
    /// The caller itself: its user or session ARN, or `*`.
    Direct,
}

impl PrincipalId {
    fn matches(&self, caller: &Caller) -> PrincipalMatch {
        let hit = match self {
            PrincipalId::Any => return PrincipalMatch::Direct,
            PrincipalId::Account(a) => {
                return if **a == *caller.account() {
                    PrincipalMatch::Account
                } else {
                    PrincipalMatch::None
                }
            }
            PrincipalId::User(arn) | PrincipalId::Session(arn) => **arn == *caller.arn(),
            PrincipalId::Role(arn) => {
                return if caller.role_arn() == Some(&**arn) {
                    PrincipalMatch::Role
                } else {
                    PrincipalMatch::None
                }
            }
            PrincipalId::Other => false,
        };
        if hit {
            PrincipalMatch::Direct
        } else {
            PrincipalMatch::None
        }
    }
}

/// A statement's `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    /// `NotPrincipal`.
    pub(crate) negated: bool,
    items: Vec<PrincipalId>,
}

impl PrincipalSet {
    /// The strongest way any listed principal matches the caller.
    pub(crate) fn best_match(&self, caller: &Caller) -> PrincipalMatch {
        let mut best = PrincipalMatch::None;
        for p in &self.items {
            best = best.max(p.matches(caller));
            if best == PrincipalMatch::Direct {
                break;
            }
        }
        best
    }

    /// Parses a `Principal`/`NotPrincipal` element; errors are (location suffix, message).
    pub(crate) fn parse(value: &Json, negated: bool) -> Result<PrincipalSet, (String, String)> {
        let members = match value {
            Json::String(s) if s == "*" => return Ok(PrincipalSet { negated, items: vec![PrincipalId::Any] }),
            Json::String(s) => return Err((String::new(), format!("invalid principal \"{s}\" (expected \"*\" or an object such as {{\"AWS\": …}})"))),
            Json::Object(m) if m.is_empty() => return Err((String::new(), "empty principal".to_owned())),
            Json::Object(m) => m,
            other => return Err((String::new(), format!("expected \"*\" or an object, got {}", other.type_name()))),
        };
        let mut items = Vec::new();
        for (kind, v) in members {
            let at = |suffix: String| format!(".{kind}{suffix}");
            let values: Vec<(String, &str)> = match v {
                Json::String(s) => vec![(String::new(), s.as_str())],
                Json::Array(a) if a.is_empty() => {
                    return Err((at(String::new()), "empty list".to_owned()))
                }
                Json::Array(a) => {
                    let mut out = Vec::with_capacity(a.len());
                    for (i, item) in a.iter().enumerate() {
                        match item {
                            Json::String(s) => out.push((format!("[{i}]"), s.as_str())),
                            other => {
                                return Err((
                                    at(format!("[{i}]")),
                                    format!("expected a string, got {}", other.type_name()),
                                ))
                            }
                        }
                    }
                    out
                }
                other => {
                    return Err((
                        at(String::new()),
                        format!(
                            "expected a string or a list of strings, got {}",
                            other.type_name()
                        ),
                    ))
                }
            };
            for (suffix, s) in values {
                let id = match kind.as_str() {
                    "AWS" => parse_aws(s).map_err(|m| (at(suffix.clone()), m))?,
                    "Service" | "Federated" | "CanonicalUser" if !s.is_empty() => {
                        PrincipalId::Other
                    }
                    "Service" | "Federated" | "CanonicalUser" => {
                        return Err((at(suffix), "empty principal".to_owned()))
                    }
                    _ => return Err((String::new(), format!("unknown principal type \"{kind}\""))),
                };
                items.push(id);
            }
        }
        Ok(PrincipalSet { negated, items })
    }
}

fn parse_aws(s: &str) -> Result<PrincipalId, String> {
    if s == "*" {
        return Ok(PrincipalId::Any);
    }
    if is_account_id(s) {
        return Ok(PrincipalId::Account(s.into()));
    }
    if s.contains(['*', '?']) {
        return Err(format!(
            "invalid principal \"{s}\" (no wildcards except \"*\" alone)"
        ));
    }
    let invalid = || {
        format!("invalid principal \"{s}\" (expected \"*\", an account id, or a root, user, role or session ARN)")
    };
    let [prefix, partition, service, region, account, resource] =
        split_arn(s).ok_or_else(invalid)?;
    if prefix != "arn" || partition.is_empty() || !region.is_empty() || !is_account_id(account) {
        return Err(invalid());
    }
    let named = |p: &str| {
        resource
            .strip_prefix(p)
            .is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
    };
    match service {
        "iam" if resource == "root" => Ok(PrincipalId::Account(account.into())),
        "iam" if named("user/") => Ok(PrincipalId::User(s.into())),
        "iam" if named("role/") => Ok(PrincipalId::Role(s.into())),
        "sts"
            if resource
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split_once('/'))
                .is_some_and(|(role, session)| {
                    !role.is_empty() && !session.is_empty() && !session.contains('/')
                }) =>
        {
            Ok(PrincipalId::Session(s.into()))
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: &str) -> PrincipalSet {
        PrincipalSet::parse(&Json::parse(json).unwrap(), false).unwrap()
    }

    #[test]
    fn matching() {
        let user = Caller::user("arn:aws:iam::123456789012:user/u", "AIDA").unwrap();
        let session =
            Caller::assumed_role("arn:aws:iam::123456789012:role/p/R", "s", "AROA").unwrap();
        assert_eq!(set(r#""*""#).best_match(&user), PrincipalMatch::Direct);
        assert_eq!(
            set(r#"{"AWS":"123456789012"}"#).best_match(&user),
            PrincipalMatch::Account
        );
        assert_eq!(
            set(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#).best_match(&session),
            PrincipalMatch::Account
        );
        assert_eq!(
            set(r#"{"AWS":"arn:aws:iam::123456789012:role/p/R"}"#).best_match(&session),
            PrincipalMatch::Role
        );
        assert_eq!(
            set(r#"{"AWS":"arn:aws:iam::123456789012:role/R"}"#).best_match(&session),
            PrincipalMatch::None
        );
        let both = set(r#"{"AWS":["123456789012","arn:aws:sts::123456789012:assumed-role/R/s"]}"#);
        assert_eq!(both.best_match(&session), PrincipalMatch::Direct);
        assert_eq!(
            set(r#"{"Service":"lambda.amazonaws.com"}"#).best_match(&user),
            PrincipalMatch::None
        );
    }

    #[test]
    fn errors() {
        let err = |j: &str| PrincipalSet::parse(&Json::parse(j).unwrap(), false).unwrap_err();
        assert_eq!(err(r#"{"AWS":"arn:aws:iam::*:root"}"#).0, ".AWS");
        assert_eq!(
            err(r#"{"AWS":["123456789012", 5]}"#),
            (
                ".AWS[1]".to_owned(),
                "expected a string, got a number".to_owned()
            )
        );
        assert_eq!(err(r#"{"Foo":"x"}"#).1, "unknown principal type \"Foo\"");
        assert_eq!(
            err(r#"{"AWS":"arn:aws:iam::123456789012:group/g"}"#).0,
            ".AWS"
        );
    }
}
