//! The STS query-protocol request: form or query-string parsing and input validation.
//!
//! Validation follows the service model: for each member, in model order, every failing
//! constraint is listed (pattern before length), and the messages are joined as
//! `N validation error(s) detected: a; b`. Then come the service's own checks on tags, which
//! answer `InvalidParameterValue`: tag keys must be unique ignoring case, and every
//! transitive tag key must name one of the request's tags.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::error::StsError;

/// The only API version STS speaks.
pub(crate) const STS_VERSION: &str = "2011-06-15";

/// Default `DurationSeconds` of AssumeRole.
pub(crate) const DEFAULT_DURATION_SECONDS: u32 = 3600;
/// Smallest accepted `DurationSeconds`.
pub(crate) const MIN_DURATION_SECONDS: u32 = 900;
/// Largest accepted `DurationSeconds`.
pub(crate) const MAX_DURATION_SECONDS: u32 = 43200;
/// Largest `DurationSeconds` for a session assumed by role chaining.
pub(crate) const ROLE_CHAINING_MAX_DURATION_SECONDS: u32 = 3600;
/// Most session tags one AssumeRole request may pass.
pub(crate) const MAX_SESSION_TAGS: usize = 50;
/// Most transitive tag keys one AssumeRole request may pass.
pub(crate) const MAX_TRANSITIVE_TAG_KEYS: usize = 50;

const ROLE_SESSION_NAME_PATTERN: &str = r"[\w+=,.@-]*";
const EXTERNAL_ID_PATTERN: &str = r"[\w+=,.@:\/-]*";
const POLICY_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
const TAG_KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
const TAG_VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
const MAX_POLICY_ARNS: usize = 10;

/// A parsed and validated STS request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum StsRequest {
    /// `Action=AssumeRole`.
    AssumeRole(AssumeRoleParams),
    /// `Action=GetCallerIdentity` (takes no parameters).
    GetCallerIdentity,
}

impl StsRequest {
    /// Parses an `application/x-www-form-urlencoded` body (`+` is a space).
    ///
    /// A field given twice keeps its first value; unknown fields are ignored.
    pub(crate) fn from_form(body: &[u8]) -> Result<Self, StsError> {
        parse(Fields::collect(body))
    }

    /// Parses a URL query string (without the leading `?`), as sent by `GET` requests.
    pub(crate) fn from_query(query: &str) -> Result<Self, StsError> {
        Self::from_form(query.as_bytes())
    }

    /// The action name as it appears on the wire.
    #[cfg(test)]
    pub(crate) fn action(&self) -> &'static str {
        match self {
            StsRequest::AssumeRole(_) => "AssumeRole",
            StsRequest::GetCallerIdentity => "GetCallerIdentity",
        }
    }
}

/// The validated parameters of an AssumeRole request.
///
/// `DurationSeconds` has passed the 900–43200 range check; the role-dependent checks are
/// [`check_duration`]'s. `Policy` is the raw JSON text, not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) struct AssumeRoleParams {
    /// `RoleArn`, exactly as given.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub role_session_name: String,
    /// `DurationSeconds` (default 3600).
    pub duration_seconds: u32,
    /// `ExternalId`, if given.
    pub external_id: Option<String>,
    /// `Policy`: the inline session policy, raw JSON text.
    pub policy: Option<String>,
    /// `PolicyArns.member.N.arn`: managed session policies.
    ///
    /// A server that cannot apply managed session policies must refuse a request carrying
    /// any: ignoring them would grant the session more than the caller asked for.
    pub policy_arns: Vec<String>,
    /// `Tags.member.N.Key` / `.Value`, in order of `N`; no two keys equal ignoring case.
    ///
    /// Passing tags needs `sts:TagSession` (see
    /// [`authorize_assume_role`](super::authorize_assume_role)).
    pub tags: Vec<Tag>,
    /// `TransitiveTagKeys.member.N`, in order of `N`; each names one of [`tags`](Self::tags)
    /// (ignoring case).
    ///
    /// Validated only: sessions of this server do not carry transitive tags into role
    /// chaining (a chained session gets no tags from its caller's session).
    pub transitive_tag_keys: Vec<String>,
    /// `SourceIdentity`, if given. Passing it needs `sts:SetSourceIdentity`.
    pub source_identity: Option<String>,
}

impl AssumeRoleParams {
    /// Whether the response carries `PackedPolicySize` (a session policy or tags were passed).
    pub(crate) fn has_packed_policy(&self) -> bool {
        self.policy.is_some() || !self.policy_arns.is_empty() || !self.tags.is_empty()
    }

    /// An estimate of `PackedPolicySize`: the percentage of the packed-policy limit used by
    /// the session policy (without insignificant whitespace) and the tags, rounded up;
    /// `None` when the response must not carry the element.
    ///
    /// AWS's packing format is unpublished; this estimate only keeps the value in the
    /// same range (a small policy gives a small single-digit number).
    pub(crate) fn packed_policy_size(&self) -> Option<u32> {
        if !self.has_packed_policy() {
            return None;
        }
        let policy = self.policy.as_deref().map_or(0, |p| {
            p.chars().filter(|c| !c.is_ascii_whitespace()).count() / 4
        });
        let arns: usize = self.policy_arns.iter().map(|a| a.len() / 4).sum();
        let tags: usize = self.tags.iter().map(|t| t.key.len() + t.value.len()).sum();
        let used = policy.saturating_add(arns).saturating_add(tags);
        let percent = used.saturating_mul(100).div_ceil(2048).max(1);
        Some(u32::try_from(percent).unwrap_or(u32::MAX))
    }
}

/// A session tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tag {
    /// The tag key (1–128 characters).
    #[serde(rename = "k")]
    pub key: String,
    /// The tag value (0–256 characters).
    #[serde(rename = "v")]
    pub value: String,
}

impl Tag {
    /// A tag from its key and value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Checks a validated `DurationSeconds` against the role, in the order STS does: the
/// 900–43200 range, the role's `MaxSessionDuration`, then the one-hour limit of role
/// chaining (`caller_is_role_session`).
pub(crate) fn check_duration(
    requested: u32,
    role_max: u32,
    caller_is_role_session: bool,
) -> Result<(), StsError> {
    let mut violations = Violations::default();
    check_duration_range(&mut violations, i64::from(requested));
    violations.into_result()?;
    if requested > role_max {
        return Err(StsError::max_session_duration_exceeded());
    }
    if caller_is_role_session && requested > ROLE_CHAINING_MAX_DURATION_SECONDS {
        return Err(StsError::role_chaining_limit_exceeded());
    }
    Ok(())
}

/// The request's fields, first occurrence wins.
struct Fields(HashMap<String, String>);

impl Fields {
    fn collect(input: &[u8]) -> Self {
        let mut map = HashMap::new();
        for (key, value) in form_urlencoded::parse(input) {
            map.entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Fields(map)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Members of a query-protocol list `PREFIX.member.N.SUFFIX`, ordered by `N` (1-based,
    /// canonical decimal); other spellings are unknown fields.
    fn list<'a>(&'a self, prefix: &str, suffixes: &[&str]) -> BTreeMap<u32, Vec<Option<&'a str>>> {
        let mut out: BTreeMap<u32, Vec<Option<&'a str>>> = BTreeMap::new();
        for (name, value) in &self.0 {
            let Some(rest) = name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix(".member."))
            else {
                continue;
            };
            let Some((index, suffix)) = rest.split_once('.') else {
                continue;
            };
            let Some(index) = parse_list_index(index) else {
                continue;
            };
            let Some(slot) = suffixes.iter().position(|s| *s == suffix) else {
                continue;
            };
            let entry = out
                .entry(index)
                .or_insert_with(|| vec![None; suffixes.len()]);
            if let Some(cell) = entry.get_mut(slot) {
                *cell = Some(value.as_str());
            }
        }
        out
    }

    /// Members of a query-protocol list of strings `PREFIX.member.N`, ordered by `N`.
    fn values<'a>(&'a self, prefix: &str) -> BTreeMap<u32, &'a str> {
        let mut out = BTreeMap::new();
        for (name, value) in &self.0 {
            let index = name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix(".member."))
                .and_then(parse_list_index);
            if let Some(index) = index {
                out.insert(index, value.as_str());
            }
        }
        out
    }
}

fn parse_list_index(text: &str) -> Option<u32> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

fn parse(fields: Fields) -> Result<StsRequest, StsError> {
    let action = fields.get("Action").unwrap_or("");
    match fields.get("Version") {
        None => return Err(StsError::invalid_action(action, None)),
        Some(version) if version != STS_VERSION => {
            return Err(StsError::invalid_action(action, Some(version)))
        }
        Some(_) => {}
    }
    match action {
        "AssumeRole" => parse_assume_role(&fields).map(StsRequest::AssumeRole),
        "GetCallerIdentity" => Ok(StsRequest::GetCallerIdentity),
        other => Err(StsError::invalid_action(other, Some(STS_VERSION))),
    }
}

fn parse_assume_role(fields: &Fields) -> Result<AssumeRoleParams, StsError> {
    // Deserialisation comes before validation: a non-integer duration wins.
    let duration = match fields.get("DurationSeconds") {
        None => i64::from(DEFAULT_DURATION_SECONDS),
        Some(raw) => match raw.parse::<i32>() {
            Ok(n) => i64::from(n),
            Err(_) => return Err(StsError::malformed_duration_seconds(raw)),
        },
    };
    let role_arn = fields.get("RoleArn");
    let session_name = fields.get("RoleSessionName");
    let policy = fields.get("Policy");
    let external_id = fields.get("ExternalId");
    let source_identity = fields.get("SourceIdentity");
    let policy_arns = fields.list("PolicyArns", &["arn"]);
    let tags = fields.list("Tags", &["Key", "Value"]);
    let transitive_tag_keys = fields.values("TransitiveTagKeys");

    // Model member order: roleArn, roleSessionName, policyArns, policy, durationSeconds,
    // tags, transitiveTagKeys, externalId, sourceIdentity.
    let mut v = Violations::default();
    match role_arn {
        None => v.null("roleArn"),
        Some(arn) => v.string("roleArn", arn, 20, 2048, None),
    }
    match session_name {
        None => v.null("roleSessionName"),
        Some(name) => v.string(
            "roleSessionName",
            name,
            2,
            64,
            Some((ROLE_SESSION_NAME_PATTERN, false, is_session_name_char)),
        ),
    }
    check_policy_arns(&mut v, &policy_arns);
    if let Some(policy) = policy {
        v.string(
            "policy",
            policy,
            1,
            2048,
            Some((POLICY_PATTERN, true, is_policy_char)),
        );
    }
    check_duration_range(&mut v, duration);
    let tags = check_tags(&mut v, &tags);
    let transitive_tag_keys = check_transitive_tag_keys(&mut v, &transitive_tag_keys);
    if let Some(id) = external_id {
        v.string(
            "externalId",
            id,
            2,
            1224,
            Some((EXTERNAL_ID_PATTERN, false, is_external_id_char)),
        );
    }
    if let Some(id) = source_identity {
        v.string(
            "sourceIdentity",
            id,
            2,
            64,
            Some((ROLE_SESSION_NAME_PATTERN, false, is_session_name_char)),
        );
    }
    v.into_result()?;

    // Only reached with both required members present and valid.
    let (Some(role_arn), Some(session_name), Ok(duration_seconds)) =
        (role_arn, session_name, u32::try_from(duration))
    else {
        return Err(StsError::internal_failure());
    };
    if !looks_like_arn(role_arn) {
        return Err(StsError::invalid_role_arn(role_arn));
    }
    check_tag_keys(&tags, &transitive_tag_keys)?;
    Ok(AssumeRoleParams {
        role_arn: role_arn.to_owned(),
        role_session_name: session_name.to_owned(),
        duration_seconds,
        external_id: external_id.map(str::to_owned),
        policy: policy.map(str::to_owned),
        policy_arns: policy_arns
            .values()
            .filter_map(|cells| cells.first().copied().flatten())
            .map(str::to_owned)
            .collect(),
        tags,
        transitive_tag_keys,
        source_identity: source_identity.map(str::to_owned),
    })
}

/// Whether two tag keys are the same key: tag keys are case-insensitive (and keep their case).
/// Case is folded with `str::to_lowercase`, the rule of the IAM engine's `aws:PrincipalTag`
/// lookups, so that keys this accepts as distinct never collide there.
pub(super) fn same_tag_key(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The service's checks on valid tags, after the model's: no two keys equal ignoring case,
/// and every transitive key one of the tags' keys (ignoring case), as AWS answers them.
fn check_tag_keys(tags: &[Tag], transitive_tag_keys: &[String]) -> Result<(), StsError> {
    let mut keys = HashSet::with_capacity(tags.len());
    for tag in tags {
        if !keys.insert(tag.key.to_lowercase()) {
            return Err(StsError::duplicate_tag_keys());
        }
    }
    if !transitive_tag_keys
        .iter()
        .all(|key| keys.contains(&key.to_lowercase()))
    {
        return Err(StsError::transitive_tag_key_not_in_tags());
    }
    Ok(())
}

fn check_duration_range(v: &mut Violations, duration: i64) {
    let value = duration.to_string();
    if duration < i64::from(MIN_DURATION_SECONDS) {
        v.push(
            "durationSeconds",
            Some(&value),
            "have value greater than or equal to 900",
        );
    }
    if duration > i64::from(MAX_DURATION_SECONDS) {
        v.push(
            "durationSeconds",
            Some(&value),
            "have value less than or equal to 43200",
        );
    }
}

fn check_policy_arns(v: &mut Violations, arns: &BTreeMap<u32, Vec<Option<&str>>>) {
    if arns.len() > MAX_POLICY_ARNS {
        let listed: Vec<String> = arns
            .values()
            .map(|cells| {
                format!(
                    "{{Arn: {}}}",
                    cells.first().copied().flatten().unwrap_or("")
                )
            })
            .collect();
        v.push(
            "policyArns",
            Some(&format!("[{}]", listed.join(", "))),
            "have length less than or equal to 10",
        );
    }
    for (position, cells) in arns.values().enumerate() {
        let field = format!("policyArns.{}.member.arn", position + 1);
        match cells.first().copied().flatten() {
            None => v.null(&field),
            Some(arn) => v.string(&field, arn, 20, 2048, None),
        }
    }
}

fn cell<'a>(cells: &[Option<&'a str>], i: usize) -> Option<&'a str> {
    cells.get(i).copied().flatten()
}

fn check_tags(v: &mut Violations, tags: &BTreeMap<u32, Vec<Option<&str>>>) -> Vec<Tag> {
    if tags.len() > MAX_SESSION_TAGS {
        let listed: Vec<String> = tags
            .values()
            .map(|c| {
                format!(
                    "{{Key: {},Value: {}}}",
                    cell(c, 0).unwrap_or(""),
                    cell(c, 1).unwrap_or("")
                )
            })
            .collect();
        v.push(
            "tags",
            Some(&format!("[{}]", listed.join(", "))),
            "have length less than or equal to 50",
        );
    }
    let mut out = Vec::with_capacity(tags.len().min(MAX_SESSION_TAGS));
    for (position, cells) in tags.values().enumerate() {
        let n = position + 1;
        let key = cell(cells, 0);
        let value = cell(cells, 1);
        let key_field = format!("tags.{n}.member.key");
        let value_field = format!("tags.{n}.member.value");
        match key {
            None => v.null(&key_field),
            Some(k) => v.string(
                &key_field,
                k,
                1,
                128,
                Some((TAG_KEY_PATTERN, true, is_tag_char)),
            ),
        }
        match value {
            None => v.null(&value_field),
            Some(val) => v.string(
                &value_field,
                val,
                0,
                256,
                Some((TAG_VALUE_PATTERN, false, is_tag_char)),
            ),
        }
        if let (Some(key), Some(value)) = (key, value) {
            out.push(Tag::new(key, value));
        }
    }
    out
}

/// `transitiveTagKeys`: at most 50 members of 1–128 characters of the tag-key pattern. A
/// faulty member is reported on the whole list with the member shape's constraints, as the
/// service's validator words faults in lists of strings.
fn check_transitive_tag_keys(v: &mut Violations, keys: &BTreeMap<u32, &str>) -> Vec<String> {
    let listed = || {
        format!(
            "[{}]",
            keys.values().copied().collect::<Vec<_>>().join(", ")
        )
    };
    if keys.len() > MAX_TRANSITIVE_TAG_KEYS {
        v.push(
            "transitiveTagKeys",
            Some(&listed()),
            "have length less than or equal to 50",
        );
    }
    let member_fault = keys.values().any(|key| {
        let length = key.chars().count();
        !(1..=128).contains(&length) || !key.chars().all(is_tag_char)
    });
    if member_fault {
        v.push(
            "transitiveTagKeys",
            Some(&listed()),
            &format!(
                "satisfy constraint: [Member must have length less than or equal to 128, \
                 Member must have length greater than or equal to 1, \
                 Member must satisfy regular expression pattern: {TAG_KEY_PATTERN}]"
            ),
        );
    }
    keys.values().map(|key| (*key).to_owned()).collect()
}

/// `\w` of the service's patterns: ASCII letters, digits and underscore.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_session_name_char(c: char) -> bool {
    is_word_char(c) || matches!(c, '+' | '=' | ',' | '.' | '@' | '-')
}

fn is_external_id_char(c: char) -> bool {
    is_session_name_char(c) || matches!(c, ':' | '/')
}

fn is_policy_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{FF}')
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, with `\p{L}` approximated by `char::is_alphabetic`.
fn is_tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with the partition, service and resource
/// non-empty. Whether it names an existing role is the authorizer's question.
fn looks_like_arn(text: &str) -> bool {
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(_), Some(_), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    !partition.is_empty() && !service.is_empty() && !resource.is_empty()
}

/// A pattern check: its text for the message, whether it is a `+` (non-empty) pattern, and
/// the allowed characters.
type Pattern = (&'static str, bool, fn(char) -> bool);

/// Collected constraint violations, in order.
#[derive(Default)]
struct Violations(Vec<String>);

impl Violations {
    fn push(&mut self, field: &str, value: Option<&str>, constraint: &str) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_owned(),
        };
        self.0.push(format!(
            "Value {value} at '{field}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    fn null(&mut self, field: &str) {
        self.push(field, None, "not be null");
    }

    fn string(
        &mut self,
        field: &str,
        value: &str,
        min: usize,
        max: usize,
        pattern: Option<Pattern>,
    ) {
        if let Some((text, non_empty, allowed)) = pattern {
            if !value.chars().all(allowed) || (non_empty && value.is_empty()) {
                self.push(
                    field,
                    Some(value),
                    &format!("satisfy regular expression pattern: {text}"),
                );
            }
        }
        let length = value.chars().count();
        if length > max {
            self.push(
                field,
                Some(value),
                &format!("have length less than or equal to {max}"),
            );
        }
        if length < min {
            self.push(
                field,
                Some(value),
                &format!("have length greater than or equal to {min}"),
            );
        }
    }

    fn into_result(self) -> Result<(), StsError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(StsError::validation_error(format!(
                "1 validation error detected: {}",
                self.0.join("; ")
            ))),
            n => Err(StsError::validation_error(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}
