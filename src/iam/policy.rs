//! The policy document model: strict parsing and validation, compiled for fast evaluation.

use std::fmt;
use std::sync::Arc;

use super::condition::{parse_block, Condition};
use super::context::RequestContext;
use super::json::Json;
use super::matching::{ActionPattern, ArnPattern};
use super::principal::{PrincipalMatch, PrincipalSet};

/// The type of a policy document, which decides the elements it must and may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An identity-based policy (a user's or role's permissions, or a session policy): no `Principal`.
    Identity,
    /// A resource-based policy (the API's resource policy): `Principal` or `NotPrincipal` required.
    Resource,
    /// A role trust policy: `Action` and `Principal` required, no `Resource`, no `NotPrincipal`.
    Trust,
}

impl PolicyKind {
    fn label(self) -> &'static str {
        match self {
            PolicyKind::Identity => "an identity policy",
            PolicyKind::Resource => "a resource policy",
            PolicyKind::Trust => "a trust policy",
        }
    }
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyVersion {
    /// `2008-10-17`, also the version of a policy without `Version`: `${…}` is literal text.
    V2008_10_17,
    /// `2012-10-17`: policy variables are recognised.
    V2012_10_17,
}

/// The API a resource policy belongs to, used to expand API Gateway's shorthand resources
/// (`execute-api:/prod/GET/x` → `arn:aws:execute-api:REGION:ACCOUNT:API_ID/prod/GET/x`) when a policy is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiContext {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The twelve-digit account id of the API's owner.
    pub account: String,
    /// The API id.
    pub api_id: String,
}

impl ApiContext {
    /// An API context from its region, owner account and API id.
    pub fn new(
        region: impl Into<String>,
        account: impl Into<String>,
        api_id: impl Into<String>,
    ) -> ApiContext {
        ApiContext {
            region: region.into(),
            account: account.into(),
            api_id: api_id.into(),
        }
    }
}

/// What kind of fault made a policy fail to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The text is not JSON (or has a duplicate key).
    Syntax,
    /// An element the policy language does not have.
    UnknownElement,
    /// A required element is absent.
    MissingElement,
    /// An element not allowed in this kind of policy or in this combination.
    NotAllowed,
    /// A value of the wrong JSON type.
    WrongType,
    /// A value that is not valid for its element (ARN, action, principal, condition value, variable…).
    InvalidValue,
    /// A `Version` other than `2012-10-17` or `2008-10-17`.
    UnknownVersion,
    /// A condition operator that does not exist.
    UnknownOperator,
}

/// A policy that failed to load. `Display` names the place: `Statement[1].Condition: unknown operator "X"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    kind: PolicyErrorKind,
    location: String,
    message: String,
}

impl PolicyError {
    fn new(
        kind: PolicyErrorKind,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> PolicyError {
        PolicyError {
            kind,
            location: location.into(),
            message: message.into(),
        }
    }

    /// The kind of fault.
    pub fn kind(&self) -> PolicyErrorKind {
        self.kind
    }

    /// Where in the document: e.g. `Statement[2].Condition`, `Version`; empty for the document as a whole.
    pub fn location(&self) -> &str {
        &self.location
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl std::error::Error for PolicyError {}

/// A statement's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
}

/// A list of patterns, or its negation (`NotAction`, `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Patterns<T> {
    negated: bool,
    items: Vec<T>,
}

/// A compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<Arc<str>>,
    pub(crate) effect: Effect,
    actions: Patterns<ActionPattern>,
    resources: Option<Patterns<ArnPattern>>,
    principal: Option<PrincipalSet>,
    conditions: Vec<Condition>,
}

/// How a statement applies to a request, when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applies {
    /// It does not apply.
    No,
    /// It applies; for a statement with `Principal`, how the principal matched (`Direct` without one).
    Yes(PrincipalMatch),
}

impl Statement {
    /// Whether the statement applies. A statement without `Principal` applies to any caller when
    /// `principal_required` is false (identity policies); when it is true (resource and trust policies) such a
    /// statement can only deny.
    pub(crate) fn applies(&self, ctx: &RequestContext, principal_required: bool) -> Applies {
        let action = ctx.action_lower();
        if self.actions.items.iter().any(|p| p.matches(action, ctx)) == self.actions.negated {
            return Applies::No;
        }
        if let Some(res) = &self.resources {
            let (arn, parts) = (ctx.resource(), ctx.resource_parts());
            if res.items.iter().any(|p| p.matches_split(arn, parts, ctx)) == res.negated {
                return Applies::No;
            }
            // An unresolved variable never widens a grant (iam.md "Matching"). Its entry matches nothing, which
            // is right for `Resource` and for a Deny's `NotResource` (the Deny still applies); but in an Allow's
            // `NotResource` it would exclude nothing and grant more, so there the whole statement does not apply.
            if res.negated
                && self.effect == Effect::Allow
                && res.items.iter().any(|p| p.has_unresolved(ctx))
            {
                return Applies::No;
            }
        }
        let how = match &self.principal {
            None if principal_required && self.effect == Effect::Allow => return Applies::No,
            None => PrincipalMatch::Direct,
            Some(set) => {
                let best = set.best_match(ctx.caller());
                match (set.negated, best) {
                    (false, PrincipalMatch::None) => return Applies::No,
                    (false, m) => m,
                    (true, PrincipalMatch::None) => PrincipalMatch::Direct,
                    (true, _) => return Applies::No,
                }
            }
        };
        if self.conditions.iter().all(|c| c.eval(ctx)) {
            Applies::Yes(how)
        } else {
            Applies::No
        }
    }
}

/// A loaded, validated policy, compiled for evaluation. Cheap to evaluate many times; parse it once.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    name: Option<Arc<str>>,
    source: Arc<str>,
    kind: PolicyKind,
    version: PolicyVersion,
    id: Option<String>,
    statements: Vec<Statement>,
}

impl Policy {
    /// Parses and validates a policy document of the given kind.
    ///
    /// `api` expands API Gateway shorthand resources (`execute-api:/…`); without it such a resource is an error.
    /// A `Statement` given as a single object is reported as `Statement[0]`.
    pub fn parse(
        json: &str,
        kind: PolicyKind,
        api: Option<&ApiContext>,
    ) -> Result<Policy, PolicyError> {
        let doc = Json::parse(json).map_err(|e| {
            PolicyError::new(PolicyErrorKind::Syntax, "", format!("not valid JSON: {e}"))
        })?;
        let Json::Object(members) = doc else {
            return Err(PolicyError::new(
                PolicyErrorKind::WrongType,
                "",
                format!("expected an object, got {}", doc.type_name()),
            ));
        };
        let (mut version, mut id, mut statements) = (None, None, None);
        for (name, value) in &members {
            match name.as_str() {
                "Version" => version = Some(value),
                "Id" => id = Some(string(value, "Id")?),
                "Statement" => statements = Some(value),
                other => {
                    return Err(PolicyError::new(
                        PolicyErrorKind::UnknownElement,
                        "",
                        format!("unknown element \"{other}\""),
                    ))
                }
            }
        }
        let version = match version {
            None => PolicyVersion::V2008_10_17,
            Some(v) => match string(v, "Version")?.as_str() {
                "2012-10-17" => PolicyVersion::V2012_10_17,
                "2008-10-17" => PolicyVersion::V2008_10_17,
                other => {
                    return Err(PolicyError::new(
                        PolicyErrorKind::UnknownVersion,
                        "Version",
                        format!("unknown version \"{other}\""),
                    ))
                }
            },
        };
        let list: Vec<&Json> = match statements {
            None => {
                return Err(PolicyError::new(
                    PolicyErrorKind::MissingElement,
                    "",
                    "missing \"Statement\"",
                ))
            }
            Some(Json::Array(a)) if a.is_empty() => {
                return Err(PolicyError::new(
                    PolicyErrorKind::MissingElement,
                    "Statement",
                    "empty list",
                ))
            }
            Some(Json::Array(a)) => a.iter().collect(),
            Some(o @ Json::Object(_)) => vec![o],
            Some(other) => {
                return Err(PolicyError::new(
                    PolicyErrorKind::WrongType,
                    "Statement",
                    format!(
                        "expected an object or a list of objects, got {}",
                        other.type_name()
                    ),
                ))
            }
        };
        let parser = StatementParser {
            kind,
            variables: version == PolicyVersion::V2012_10_17,
            api,
        };
        let statements = list
            .iter()
            .enumerate()
            .map(|(i, s)| parser.parse(s, &format!("Statement[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            name: None,
            source: Arc::from(json),
            kind,
            version,
            id,
            statements,
        })
    }

    /// Gives the policy a name for explanations (e.g. `user alice policy 0`).
    pub fn with_name(mut self, name: impl Into<String>) -> Policy {
        self.name = Some(Arc::from(name.into()));
        self
    }

    /// The name given with [`with_name`](Policy::with_name).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub(crate) fn shared_name(&self) -> Option<&Arc<str>> {
        self.name.as_ref()
    }

    /// The document as it was parsed, verbatim (white space and key order kept).
    pub fn source(&self) -> Option<&str> {
        Some(&self.source)
    }

    /// The kind the policy was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The policy language version.
    pub fn version(&self) -> PolicyVersion {
        self.version
    }

    /// The document's `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    pub(crate) fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

fn string(v: &Json, at: &str) -> Result<String, PolicyError> {
    match v {
        Json::String(s) => Ok(s.clone()),
        other => Err(PolicyError::new(
            PolicyErrorKind::WrongType,
            at,
            format!("expected a string, got {}", other.type_name()),
        )),
    }
}

/// A string or a non-empty list of strings, with each item's location.
fn strings<'a>(v: &'a Json, at: &str) -> Result<Vec<(String, &'a str)>, PolicyError> {
    let wrong = |loc: String, got: &Json, what: &str| {
        PolicyError::new(
            PolicyErrorKind::WrongType,
            loc,
            format!("expected {what}, got {}", got.type_name()),
        )
    };
    match v {
        Json::String(s) => Ok(vec![(at.to_owned(), s.as_str())]),
        Json::Array(a) if a.is_empty() => Err(PolicyError::new(
            PolicyErrorKind::InvalidValue,
            at,
            "empty list",
        )),
        Json::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Json::String(s) => Ok((format!("{at}[{i}]"), s.as_str())),
                other => Err(wrong(format!("{at}[{i}]"), other, "a string")),
            })
            .collect(),
        other => Err(wrong(at.to_owned(), other, "a string or a list of strings")),
    }
}

struct StatementParser<'a> {
    kind: PolicyKind,
    variables: bool,
    api: Option<&'a ApiContext>,
}

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

impl StatementParser<'_> {
    fn parse(&self, value: &Json, at: &str) -> Result<Statement, PolicyError> {
        use PolicyErrorKind as K;
        let Json::Object(members) = value else {
            return Err(PolicyError::new(
                K::WrongType,
                at,
                format!("expected an object, got {}", value.type_name()),
            ));
        };
        if let Some((name, _)) = members
            .iter()
            .find(|(n, _)| !STATEMENT_ELEMENTS.contains(&n.as_str()))
        {
            return Err(PolicyError::new(
                K::UnknownElement,
                at,
                format!("unknown element \"{name}\""),
            ));
        }
        let get = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let loc = |name: &str| format!("{at}.{name}");
        let not_allowed = |name: &str| {
            PolicyError::new(
                K::NotAllowed,
                at,
                format!("\"{name}\" is not allowed in {}", self.kind.label()),
            )
        };
        let one_of = |a: &'static str,
                      b: &'static str|
         -> Result<Option<(&Json, bool, &'static str)>, PolicyError> {
            match (get(a), get(b)) {
                (Some(_), Some(_)) => Err(PolicyError::new(
                    K::NotAllowed,
                    at,
                    format!("\"{a}\" and \"{b}\" cannot both be given"),
                )),
                (Some(v), None) => Ok(Some((v, false, a))),
                (None, Some(v)) => Ok(Some((v, true, b))),
                (None, None) => Ok(None),
            }
        };
        let missing =
            |what: &str| PolicyError::new(K::MissingElement, at, format!("missing {what}"));

        let sid = get("Sid")
            .map(|v| string(v, &loc("Sid")))
            .transpose()?
            .map(Arc::from);
        let effect = match get("Effect") {
            None => return Err(missing("\"Effect\"")),
            Some(v) => match string(v, &loc("Effect"))?.as_str() {
                "Allow" => Effect::Allow,
                "Deny" => Effect::Deny,
                other => {
                    return Err(PolicyError::new(
                        K::InvalidValue,
                        loc("Effect"),
                        format!("invalid effect \"{other}\" (expected \"Allow\" or \"Deny\")"),
                    ))
                }
            },
        };

        let principal = match (self.kind, one_of("Principal", "NotPrincipal")?) {
            (PolicyKind::Identity, Some((_, _, name))) => return Err(not_allowed(name)),
            (PolicyKind::Trust, Some((_, true, name))) => return Err(not_allowed(name)),
            (PolicyKind::Resource, None) => {
                return Err(missing("\"Principal\" or \"NotPrincipal\""))
            }
            (PolicyKind::Trust, None) => return Err(missing("\"Principal\"")),
            (_, Some((_, true, _))) if effect == Effect::Allow => {
                return Err(PolicyError::new(
                    K::NotAllowed,
                    at,
                    "\"NotPrincipal\" is only allowed with \"Effect\": \"Deny\"",
                ))
            }
            (_, Some((v, negated, name))) => {
                Some(PrincipalSet::parse(v, negated).map_err(|(suffix, m)| {
                    let kind = if m.starts_with("expected") {
                        K::WrongType
                    } else {
                        K::InvalidValue
                    };
                    PolicyError::new(kind, format!("{}{suffix}", loc(name)), m)
                })?)
            }
            (PolicyKind::Identity, None) => None,
        };

        let actions = match (self.kind, one_of("Action", "NotAction")?) {
            (PolicyKind::Trust, Some((_, true, name))) => return Err(not_allowed(name)),
            (PolicyKind::Trust, None) => return Err(missing("\"Action\"")),
            (_, None) => return Err(missing("\"Action\" or \"NotAction\"")),
            (_, Some((v, negated, name))) => {
                let items = strings(v, &loc(name))?
                    .into_iter()
                    .map(|(l, s)| {
                        ActionPattern::compile(s)
                            .map_err(|m| PolicyError::new(K::InvalidValue, l, m))
                    })
                    .collect::<Result<_, _>>()?;
                Patterns { negated, items }
            }
        };

        let resources = match (self.kind, one_of("Resource", "NotResource")?) {
            (PolicyKind::Trust, Some((_, _, name))) => return Err(not_allowed(name)),
            (PolicyKind::Trust, None) => None,
            (_, None) => return Err(missing("\"Resource\" or \"NotResource\"")),
            (_, Some((v, negated, name))) => {
                let items = strings(v, &loc(name))?
                    .into_iter()
                    .map(|(l, s)| {
                        self.resource(s)
                            .map_err(|m| PolicyError::new(K::InvalidValue, l, m))
                    })
                    .collect::<Result<_, _>>()?;
                Some(Patterns { negated, items })
            }
        };

        let conditions = match get("Condition") {
            None => Vec::new(),
            Some(v) => parse_block(v, self.variables).map_err(|(suffix, m)| {
                let kind = if m.starts_with("unknown operator") {
                    K::UnknownOperator
                } else if m.starts_with("expected") {
                    K::WrongType
                } else {
                    K::InvalidValue
                };
                PolicyError::new(kind, format!("{}{suffix}", loc("Condition")), m)
            })?,
        };

        Ok(Statement {
            sid,
            effect,
            actions,
            resources,
            principal,
            conditions,
        })
    }

    /// Expands API Gateway shorthand and compiles a Resource/NotResource value.
    fn resource(&self, text: &str) -> Result<ArnPattern, String> {
        match text.strip_prefix("execute-api:") {
            Some(rest) if rest.starts_with('/') => {
                let api = self.api.ok_or_else(|| {
                    format!("API Gateway shorthand \"{text}\" needs an API context")
                })?;
                let full = format!(
                    "arn:aws:execute-api:{}:{}:{}{rest}",
                    api.region, api.account, api.api_id
                );
                ArnPattern::compile_resource(&full, self.variables)
            }
            _ => ArnPattern::compile_resource(text, self.variables),
        }
    }
}
