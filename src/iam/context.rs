//! The caller and the request context: what a policy is evaluated against.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// The kind of principal (the crate's own type; the engine reports it as `aws:PrincipalType`).
pub use crate::principal::PrincipalType;

/// A [`Caller`] could not be built from the given ARN or names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerError {
    what: &'static str,
}

impl fmt::Display for CallerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl std::error::Error for CallerError {}

fn caller_error(what: &'static str) -> CallerError {
    CallerError { what }
}

/// The authenticated principal as the policy engine sees it.
///
/// Built with [`Caller::user`], [`Caller::assumed_role`] or [`Caller::root`]; tags are added with
/// [`Caller::with_tag`] (a later tag with the same key, compared case-insensitively, replaces the earlier one, so
/// session tags added after the role's tags override them).
///
/// Cheap to clone (one `Arc`): a verified principal keeps the caller built from it, so an
/// authorizer asks for it per request without copying its strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    inner: Arc<CallerInner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CallerInner {
    arn: String,
    account: String,
    principal_type: PrincipalType,
    role_arn: Option<String>,
    user_id: String,
    username: Option<String>,
    /// (lower-case key, original key, value)
    tags: Vec<(String, String, String)>,
}

/// Splits `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` into its six parts.
pub(crate) fn split_arn(arn: &str) -> Option<[&str; 6]> {
    let mut it = arn.splitn(6, ':');
    let parts = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    Some(parts)
}

/// Whether `s` is a twelve-digit AWS account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl From<CallerInner> for Caller {
    fn from(inner: CallerInner) -> Self {
        Caller {
            inner: Arc::new(inner),
        }
    }
}

impl Caller {
    /// The shared inner value (to test that callers are shared, not copied).
    #[cfg(test)]
    pub(crate) fn inner_for_tests(&self) -> Arc<impl Sized> {
        self.inner.clone()
    }

    /// An IAM user from its ARN (`arn:aws:iam::123456789012:user/PATH/NAME`) and unique id (`AIDA…`).
    ///
    /// The account and `aws:username` (the last path segment) are taken from the ARN.
    pub fn user(arn: impl Into<String>, user_id: impl Into<String>) -> Result<Caller, CallerError> {
        let arn = arn.into();
        let invalid = || caller_error("invalid user ARN");
        let [prefix, partition, service, region, account, resource] =
            split_arn(&arn).ok_or_else(invalid)?;
        let name = resource
            .strip_prefix("user/")
            .and_then(|p| p.rsplit('/').next())
            .unwrap_or("");
        if prefix != "arn" || partition.is_empty() || service != "iam" || !region.is_empty() {
            return Err(invalid());
        }
        if !is_account_id(account) || name.is_empty() || arn.contains('*') {
            return Err(invalid());
        }
        let (account, username) = (account.to_owned(), name.to_owned());
        Ok(Caller::from(CallerInner {
            arn,
            account,
            principal_type: PrincipalType::User,
            role_arn: None,
            user_id: user_id.into(),
            username: Some(username),
            tags: Vec::new(),
        }))
    }

    /// A session of a role: the role's full ARN (with its path), the session name and the role's unique id
    /// (`AROA…`).
    ///
    /// The caller's ARN is the session ARN `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION` (the role path
    /// is dropped), `aws:userid` is `ROLE_ID:SESSION` and `aws:PrincipalArn` is the role ARN.
    pub fn assumed_role(
        role_arn: impl Into<String>,
        session_name: &str,
        role_unique_id: impl Into<String>,
    ) -> Result<Caller, CallerError> {
        let role_arn = role_arn.into();
        let invalid = || caller_error("invalid role ARN");
        let [prefix, partition, service, region, account, resource] =
            split_arn(&role_arn).ok_or_else(invalid)?;
        let name = resource
            .strip_prefix("role/")
            .and_then(|p| p.rsplit('/').next())
            .unwrap_or("");
        if prefix != "arn" || partition.is_empty() || service != "iam" || !region.is_empty() {
            return Err(invalid());
        }
        if !is_account_id(account) || name.is_empty() || role_arn.contains('*') {
            return Err(invalid());
        }
        if session_name.is_empty() || session_name.contains(['/', ':', '*']) {
            return Err(caller_error("invalid role session name"));
        }
        let arn = format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session_name}");
        let role_unique_id = role_unique_id.into();
        Ok(Caller::from(CallerInner {
            arn,
            account: account.to_owned(),
            principal_type: PrincipalType::AssumedRole,
            user_id: format!("{role_unique_id}:{session_name}"),
            role_arn: Some(role_arn),
            username: None,
            tags: Vec::new(),
        }))
    }

    /// The root user of a twelve-digit account: ARN `arn:aws:iam::ACCOUNT:root`, `aws:userid` the account id.
    pub fn root(account: &str) -> Result<Caller, CallerError> {
        if !is_account_id(account) {
            return Err(caller_error("invalid account id"));
        }
        Ok(Caller::from(CallerInner {
            arn: format!("arn:aws:iam::{account}:root"),
            account: account.to_owned(),
            principal_type: PrincipalType::Account,
            role_arn: None,
            user_id: account.to_owned(),
            username: None,
            tags: Vec::new(),
        }))
    }

    /// Adds a principal tag (`aws:PrincipalTag/KEY`), replacing one with the same key in any case.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Caller {
        let key = key.into();
        let lower = key.to_lowercase();
        let inner = Arc::make_mut(&mut self.inner);
        inner.tags.retain(|(k, _, _)| *k != lower);
        inner.tags.push((lower, key, value.into()));
        self
    }

    /// The caller's ARN: the user ARN, the session ARN, or the root ARN. This is the ARN of denial messages.
    pub fn arn(&self) -> &str {
        &self.inner.arn
    }

    /// The caller's twelve-digit account id.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// The kind of principal.
    pub fn principal_type(&self) -> PrincipalType {
        self.inner.principal_type
    }

    /// For a role session, the role's full ARN (with path); `None` otherwise.
    pub fn role_arn(&self) -> Option<&str> {
        self.inner.role_arn.as_deref()
    }

    /// The value of `aws:userid` (`AIDA…` for a user, `AROA…:SESSION` for a session, the account for root).
    pub fn user_id(&self) -> &str {
        &self.inner.user_id
    }

    /// The value of `aws:username` (users only).
    pub fn username(&self) -> Option<&str> {
        self.inner.username.as_deref()
    }

    /// The principal tags as (key, value), keys as first given.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner
            .tags
            .iter()
            .map(|(_, k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of a principal tag, looked up case-insensitively.
    pub fn tag(&self, key: &str) -> Option<&str> {
        let lower = key.to_lowercase();
        self.tag_lower(&lower)
    }

    fn tag_lower(&self, lower: &str) -> Option<&str> {
        self.inner
            .tags
            .iter()
            .find(|(k, _, _)| k == lower)
            .map(|(_, _, v)| v.as_str())
    }

    /// The value of `aws:PrincipalArn`: the role ARN for a session, the caller's ARN otherwise.
    pub fn principal_arn(&self) -> &str {
        self.inner.role_arn.as_deref().unwrap_or(&self.inner.arn)
    }
}

/// A typed form of a context value, set by the typed helpers so that evaluation need not re-parse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Typed {
    None,
    Ip(IpAddr),
    /// Unix time in nanoseconds.
    Date(i128),
    Bool(bool),
}

/// One value of a context key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Value {
    text: Text,
    typed: Typed,
}

/// A value's text: as given, or written from its typed form the first time a policy reads it
/// as a string (most requests never do: their time and address are compared typed, or not at
/// all).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Text {
    /// Borrowed for the constant texts (`true`, `false`), owned otherwise.
    Given(Cow<'static, str>),
    Derived(std::sync::OnceLock<String>, Derive),
}

/// How a derived text is written from the typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Derive {
    /// ISO 8601 (RFC 3339), UTC: `aws:CurrentTime`, `aws:TokenIssueTime`.
    Iso8601,
    /// Whole seconds since the epoch: `aws:EpochTime`.
    EpochSeconds,
    /// The address as written by `IpAddr`'s `Display`: `aws:SourceIp`.
    Ip,
}

impl Derive {
    fn write(self, typed: Typed) -> String {
        let time = |nanos: i128| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok();
        match (self, typed) {
            (Derive::Iso8601, Typed::Date(nanos)) => time(nanos).map(format_time),
            (Derive::EpochSeconds, Typed::Date(nanos)) => {
                time(nanos).map(|t| t.unix_timestamp().to_string())
            }
            (Derive::Ip, Typed::Ip(ip)) => Some(ip.to_string()),
            _ => None,
        }
        .unwrap_or_default()
    }
}

/// A borrowed context value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValRef<'a> {
    pub(crate) text: &'a str,
    pub(crate) typed: Typed,
}

impl Value {
    fn as_ref(&self) -> ValRef<'_> {
        ValRef {
            text: self.text(),
            typed: self.typed,
        }
    }

    fn text(&self) -> &str {
        match &self.text {
            Text::Given(text) => text,
            Text::Derived(cell, how) => cell.get_or_init(|| how.write(self.typed)),
        }
    }

    /// A value whose text is written from `typed` only when read.
    fn derived(how: Derive, typed: Typed) -> Value {
        Value {
            text: Text::Derived(std::sync::OnceLock::new(), how),
            typed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    One(Value),
    Many(Vec<Value>),
}

/// The values of a key found in the context.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found<'a> {
    One(ValRef<'a>),
    Many(&'a [Value]),
}

impl<'a> Found<'a> {
    /// Whether the key has no value (an empty multi-valued key counts as absent).
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Found::Many(v) if v.is_empty())
    }

    /// Iterates over the values.
    pub(crate) fn iter(self) -> impl Iterator<Item = ValRef<'a>> {
        let (one, many) = match self {
            Found::One(v) => (Some(v), &[][..]),
            Found::Many(v) => (None, v),
        };
        one.into_iter().chain(many.iter().map(Value::as_ref))
    }
}

/// A condition key, classified at load time so that lookups of caller-derived keys cost nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyId {
    PrincipalArn,
    PrincipalAccount,
    PrincipalType,
    UserId,
    Username,
    /// `aws:PrincipalTag/KEY`, with KEY lower-cased.
    PrincipalTag(Box<str>),
    /// Any other key, lower-cased.
    Other(Box<str>),
}

impl KeyId {
    /// Classifies a key name (case-insensitive).
    pub(crate) fn parse(name: &str) -> KeyId {
        let lower = name.to_lowercase();
        match lower.as_str() {
            "aws:principalarn" => KeyId::PrincipalArn,
            "aws:principalaccount" => KeyId::PrincipalAccount,
            "aws:principaltype" => KeyId::PrincipalType,
            "aws:userid" => KeyId::UserId,
            "aws:username" => KeyId::Username,
            _ => match lower.strip_prefix("aws:principaltag/") {
                Some(tag) => KeyId::PrincipalTag(tag.into()),
                None => KeyId::Other(lower.into()),
            },
        }
    }
}

/// Everything a policy is evaluated against: the caller, the action, the resource ARN and the condition keys.
///
/// Keys derived from the caller (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
/// `aws:userid`, `aws:username`, `aws:PrincipalTag/*`) are always taken from the [`Caller`] and cannot be set or
/// overridden with [`with_key`](RequestContext::with_key). Key names are case-insensitive; setting a key again
/// replaces its value.
#[derive(Debug, Clone)]
pub struct RequestContext {
    caller: Caller,
    action: Arc<str>,
    action_lower: Arc<str>,
    resource: String,
    /// The byte offsets of the resource ARN's first five colons, if it has them.
    resource_colons: Option<[usize; 5]>,
    /// Lower-cased names: borrowed for the keys the crate sets itself.
    keys: Vec<(Cow<'static, str>, Entry)>,
}

impl RequestContext {
    /// A context for `caller` performing `action` (e.g. `execute-api:Invoke`) on the `resource` ARN.
    pub fn new(
        caller: Caller,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> RequestContext {
        let action: String = action.into();
        let action_lower: Arc<str> = action.to_ascii_lowercase().into();
        Self::with_action(caller, action.into(), action_lower, resource.into())
    }

    /// A context whose action (as given and lower-cased) is shared with the caller: an
    /// authorizer that always asks the same action builds it once.
    pub(crate) fn with_action(
        caller: Caller,
        action: Arc<str>,
        action_lower: Arc<str>,
        resource: String,
    ) -> RequestContext {
        let mut colons = resource.match_indices(':').map(|(i, _)| i);
        let resource_colons = (|| {
            Some([
                colons.next()?,
                colons.next()?,
                colons.next()?,
                colons.next()?,
                colons.next()?,
            ])
        })();
        RequestContext {
            caller,
            action_lower,
            action,
            resource,
            resource_colons,
            keys: Vec::new(),
        }
    }

    fn set(self, name: &str, entry: Entry) -> RequestContext {
        self.set_lower(Cow::Owned(name.to_lowercase()), entry)
    }

    /// Sets the key whose lower-cased name is `lower`.
    fn set_lower(mut self, lower: Cow<'static, str>, entry: Entry) -> RequestContext {
        match self.keys.iter_mut().find(|(k, _)| *k == lower) {
            Some(slot) => slot.1 = entry,
            None => self.keys.push((lower, entry)),
        }
        self
    }

    /// Sets one of the keys the crate itself sets (`lower`: its lower-cased name).
    fn set_typed(
        self,
        lower: &'static str,
        text: impl Into<Cow<'static, str>>,
        typed: Typed,
    ) -> RequestContext {
        let text = Text::Given(text.into());
        self.set_lower(Cow::Borrowed(lower), Entry::One(Value { text, typed }))
    }

    /// Sets one of the crate's keys to a value whose text is written only when read.
    fn set_derived(self, lower: &'static str, how: Derive, typed: Typed) -> RequestContext {
        self.set_lower(Cow::Borrowed(lower), Entry::One(Value::derived(how, typed)))
    }

    /// Sets a single-valued key whose lower-cased name is `lower` (no case folding per request).
    pub(crate) fn with_lower_key(self, lower: &'static str, value: &str) -> RequestContext {
        self.set_typed(lower, value.to_owned(), Typed::None)
    }

    /// Sets a single-valued key (e.g. `aws:Referer`, `sts:ExternalId`).
    pub fn with_key(self, name: &str, value: impl Into<String>) -> RequestContext {
        let text = Cow::Owned(value.into());
        self.set(
            name,
            Entry::One(Value {
                text: Text::Given(text),
                typed: Typed::None,
            }),
        )
    }

    /// Sets a multi-valued key (e.g. `aws:TagKeys`). Only `ForAllValues:`/`ForAnyValue:` operators match it;
    /// an empty list counts as an absent key.
    pub fn with_values<I, S>(self, name: &str, values: I) -> RequestContext
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values
            .into_iter()
            .map(|v| Value {
                text: Text::Given(Cow::Owned(v.into())),
                typed: Typed::None,
            })
            .collect();
        self.set(name, Entry::Many(values))
    }

    /// Sets `aws:SourceIp`. An IPv4-mapped IPv6 address is recorded as the IPv4 address.
    pub fn with_source_ip(self, ip: IpAddr) -> RequestContext {
        let ip = ip.to_canonical();
        self.set_derived("aws:sourceip", Derive::Ip, Typed::Ip(ip))
    }

    /// Sets `aws:SecureTransport`.
    pub fn with_secure_transport(self, secure: bool) -> RequestContext {
        self.set_typed(
            "aws:securetransport",
            bool_text(secure),
            Typed::Bool(secure),
        )
    }

    /// Sets `aws:CurrentTime` (ISO-8601, UTC) and `aws:EpochTime` (seconds) from one instant.
    pub fn with_current_time(self, now: OffsetDateTime) -> RequestContext {
        let nanos = Typed::Date(now.unix_timestamp_nanos());
        self.set_derived("aws:currenttime", Derive::Iso8601, nanos)
            .set_derived("aws:epochtime", Derive::EpochSeconds, nanos)
    }

    /// Sets `aws:TokenIssueTime` (temporary credentials only).
    pub fn with_token_issue_time(self, issued: OffsetDateTime) -> RequestContext {
        let nanos = Typed::Date(issued.unix_timestamp_nanos());
        self.set_derived("aws:tokenissuetime", Derive::Iso8601, nanos)
    }

    /// Sets `aws:MultiFactorAuthPresent` (temporary credentials only).
    pub fn with_multi_factor_auth_present(self, present: bool) -> RequestContext {
        self.set_typed(
            "aws:multifactorauthpresent",
            bool_text(present),
            Typed::Bool(present),
        )
    }

    /// The caller.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The action as given (e.g. `execute-api:Invoke`).
    pub fn action(&self) -> &str {
        &self.action
    }

    pub(crate) fn action_shared(&self) -> &Arc<str> {
        &self.action
    }

    pub(crate) fn action_lower(&self) -> &str {
        &self.action_lower
    }

    /// The resource ARN.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The resource ARN split into its six parts, or `None` if it is not an ARN.
    pub(crate) fn resource_parts(&self) -> Option<[&str; 6]> {
        let [a, b, c, d, e] = self.resource_colons?;
        let r = &self.resource;
        let part = |from: usize, to: usize| r.get(from..to);
        Some([
            part(0, a)?,
            part(a + 1, b)?,
            part(b + 1, c)?,
            part(c + 1, d)?,
            part(d + 1, e)?,
            r.get(e + 1..)?,
        ])
    }

    /// The values of a key, or `None` when it is absent.
    pub(crate) fn lookup(&self, key: &KeyId) -> Option<Found<'_>> {
        fn one(text: &str) -> Option<Found<'_>> {
            Some(Found::One(ValRef {
                text,
                typed: Typed::None,
            }))
        }
        let c = &*self.caller.inner;
        match key {
            KeyId::PrincipalArn => one(self.caller.principal_arn()),
            KeyId::PrincipalAccount => one(&c.account),
            KeyId::PrincipalType => one(c.principal_type.as_str()),
            KeyId::UserId => one(&c.user_id),
            KeyId::Username => c.username.as_deref().and_then(one),
            KeyId::PrincipalTag(tag) => self.caller.tag_lower(tag).and_then(one),
            KeyId::Other(name) => {
                let entry = self
                    .keys
                    .iter()
                    .find(|(k, _)| **k == **name)
                    .map(|(_, e)| e)?;
                Some(match entry {
                    Entry::One(v) => Found::One(v.as_ref()),
                    Entry::Many(v) => Found::Many(v),
                })
            }
        }
    }

    /// The value of a single-valued key, for policy variables.
    pub(crate) fn single(&self, key: &KeyId) -> Option<&str> {
        match self.lookup(key)? {
            Found::One(v) => Some(v.text),
            Found::Many(_) => None,
        }
    }
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn format_time(t: OffsetDateTime) -> String {
    let utc = t.to_offset(UtcOffset::UTC);
    utc.format(&Rfc3339)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// The engine's view of a verified [`Principal`](crate::Principal): a user, a role session
/// (with its role's full ARN) or an account's root, with its tags.
impl TryFrom<&crate::Principal> for Caller {
    type Error = CallerError;

    fn try_from(principal: &crate::Principal) -> Result<Self, CallerError> {
        principal.caller(|| caller_of(principal))
    }
}

/// Builds the caller of `principal` (kept with the principal by [`Caller::try_from`]).
fn caller_of(principal: &crate::Principal) -> Result<Caller, CallerError> {
    use crate::PrincipalType as P;
    let mut caller = match (principal.principal_type(), principal.session()) {
        (P::AssumedRole, Some(s)) => {
            Caller::assumed_role(s.role_arn.clone(), &s.session_name, s.role_id.clone())?
        }
        (P::Account, _) => Caller::root(principal.account())?,
        _ => Caller::user(principal.arn(), principal.user_id())?,
    };
    for (k, v) in principal.tags() {
        caller = caller.with_tag(k.clone(), v.clone());
    }
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_caller() {
        let c = Caller::assumed_role("arn:aws:iam::123456789012:role/path/R", "s1", "AROAEXAMPLE")
            .unwrap();
        assert_eq!(c.arn(), "arn:aws:sts::123456789012:assumed-role/R/s1");
        assert_eq!(c.principal_arn(), "arn:aws:iam::123456789012:role/path/R");
        assert_eq!(c.user_id(), "AROAEXAMPLE:s1");
        assert_eq!(c.username(), None);
        assert!(Caller::assumed_role("arn:aws:iam::123456789012:user/R", "s", "A").is_err());
        assert!(Caller::user("arn:aws:iam::1234:user/x", "A").is_err());
        assert_eq!(
            Caller::user("arn:aws:iam::123456789012:user/p/bob", "A")
                .unwrap()
                .username(),
            Some("bob")
        );
    }

    #[test]
    fn keys_case_insensitive_and_derived_not_overridable() {
        let c = Caller::user("arn:aws:iam::123456789012:user/bob", "AIDA")
            .unwrap()
            .with_tag("Team", "a");
        let ctx = RequestContext::new(c, "execute-api:Invoke", "x")
            .with_key("AWS:Referer", "r")
            .with_key("aws:PrincipalArn", "evil");
        assert_eq!(ctx.single(&KeyId::parse("aws:referer")), Some("r"));
        assert_eq!(
            ctx.single(&KeyId::parse("aws:principalarn")),
            Some("arn:aws:iam::123456789012:user/bob")
        );
        assert_eq!(
            ctx.single(&KeyId::parse("aws:PrincipalTag/TEAM")),
            Some("a")
        );
    }
}
