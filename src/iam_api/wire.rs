//! The IAM query-protocol request: fields, the action, and the model's constraints on every
//! member (checked in model order; every failing constraint listed, pattern before length).

use std::collections::{BTreeMap, HashMap};

use super::error::IamError;

/// The only API version IAM speaks.
pub(crate) const IAM_VERSION: &str = "2010-05-08";

const NAME_PATTERN: &str = r"[\w+=,.@-]+";
const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
const PATH_PREFIX_PATTERN: &str = r"\u002F[\u0021-\u007F]*";
const MARKER_PATTERN: &str = r"[\u0020-\u00FF]+";
const DOCUMENT_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
const DESCRIPTION_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";
const KEY_ID_PATTERN: &str = r"[\w]+";
const TAG_KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
const TAG_VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";

/// The actions this server implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    CreateUser,
    GetUser,
    ListUsers,
    DeleteUser,
    TagUser,
    UntagUser,
    ListUserTags,
    CreateAccessKey,
    ListAccessKeys,
    UpdateAccessKey,
    DeleteAccessKey,
    GetAccessKeyLastUsed,
    PutUserPolicy,
    GetUserPolicy,
    ListUserPolicies,
    DeleteUserPolicy,
    CreateRole,
    GetRole,
    ListRoles,
    DeleteRole,
    UpdateRole,
    UpdateAssumeRolePolicy,
    PutRolePolicy,
    GetRolePolicy,
    ListRolePolicies,
    DeleteRolePolicy,
    TagRole,
    UntagRole,
    ListRoleTags,
}

/// A member of a request, with its constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    NewUserName,
    UserName,
    RoleName,
    PolicyName,
    Path,
    PathPrefix,
    Marker,
    MaxItems,
    PolicyDocument,
    AssumeRolePolicyDocument,
    Description,
    MaxSessionDuration,
    AccessKeyId,
    Status,
    Tags,
    TagKeys,
    PermissionsBoundary,
}

use Member as M;

impl Action {
    fn parse(name: &str) -> Option<Self> {
        use Action as A;
        Some(match name {
            "CreateUser" => A::CreateUser,
            "GetUser" => A::GetUser,
            "ListUsers" => A::ListUsers,
            "DeleteUser" => A::DeleteUser,
            "TagUser" => A::TagUser,
            "UntagUser" => A::UntagUser,
            "ListUserTags" => A::ListUserTags,
            "CreateAccessKey" => A::CreateAccessKey,
            "ListAccessKeys" => A::ListAccessKeys,
            "UpdateAccessKey" => A::UpdateAccessKey,
            "DeleteAccessKey" => A::DeleteAccessKey,
            "GetAccessKeyLastUsed" => A::GetAccessKeyLastUsed,
            "PutUserPolicy" => A::PutUserPolicy,
            "GetUserPolicy" => A::GetUserPolicy,
            "ListUserPolicies" => A::ListUserPolicies,
            "DeleteUserPolicy" => A::DeleteUserPolicy,
            "CreateRole" => A::CreateRole,
            "GetRole" => A::GetRole,
            "ListRoles" => A::ListRoles,
            "DeleteRole" => A::DeleteRole,
            "UpdateRole" => A::UpdateRole,
            "UpdateAssumeRolePolicy" => A::UpdateAssumeRolePolicy,
            "PutRolePolicy" => A::PutRolePolicy,
            "GetRolePolicy" => A::GetRolePolicy,
            "ListRolePolicies" => A::ListRolePolicies,
            "DeleteRolePolicy" => A::DeleteRolePolicy,
            "TagRole" => A::TagRole,
            "UntagRole" => A::UntagRole,
            "ListRoleTags" => A::ListRoleTags,
            _ => return None,
        })
    }

    /// The name on the wire (and in `iam:<Action>`).
    pub(crate) fn name(self) -> &'static str {
        use Action as A;
        match self {
            A::CreateUser => "CreateUser",
            A::GetUser => "GetUser",
            A::ListUsers => "ListUsers",
            A::DeleteUser => "DeleteUser",
            A::TagUser => "TagUser",
            A::UntagUser => "UntagUser",
            A::ListUserTags => "ListUserTags",
            A::CreateAccessKey => "CreateAccessKey",
            A::ListAccessKeys => "ListAccessKeys",
            A::UpdateAccessKey => "UpdateAccessKey",
            A::DeleteAccessKey => "DeleteAccessKey",
            A::GetAccessKeyLastUsed => "GetAccessKeyLastUsed",
            A::PutUserPolicy => "PutUserPolicy",
            A::GetUserPolicy => "GetUserPolicy",
            A::ListUserPolicies => "ListUserPolicies",
            A::DeleteUserPolicy => "DeleteUserPolicy",
            A::CreateRole => "CreateRole",
            A::GetRole => "GetRole",
            A::ListRoles => "ListRoles",
            A::DeleteRole => "DeleteRole",
            A::UpdateRole => "UpdateRole",
            A::UpdateAssumeRolePolicy => "UpdateAssumeRolePolicy",
            A::PutRolePolicy => "PutRolePolicy",
            A::GetRolePolicy => "GetRolePolicy",
            A::ListRolePolicies => "ListRolePolicies",
            A::DeleteRolePolicy => "DeleteRolePolicy",
            A::TagRole => "TagRole",
            A::UntagRole => "UntagRole",
            A::ListRoleTags => "ListRoleTags",
        }
    }

    /// The members in model order, and whether each is required.
    fn members(self) -> &'static [(Member, bool)] {
        use Action as A;
        const PAGE: [(Member, bool); 2] = [(M::Marker, false), (M::MaxItems, false)];
        match self {
            A::CreateUser => &[
                (M::Path, false),
                (M::NewUserName, true),
                (M::PermissionsBoundary, false),
                (M::Tags, false),
            ],
            A::GetUser | A::CreateAccessKey => &[(M::UserName, false)],
            A::ListUsers | A::ListRoles => &[(M::PathPrefix, false), PAGE[0], PAGE[1]],
            A::DeleteUser => &[(M::UserName, true)],
            A::TagUser => &[(M::UserName, true), (M::Tags, true)],
            A::UntagUser => &[(M::UserName, true), (M::TagKeys, true)],
            A::ListUserTags | A::ListUserPolicies => &[(M::UserName, true), PAGE[0], PAGE[1]],
            A::ListAccessKeys => &[(M::UserName, false), PAGE[0], PAGE[1]],
            A::UpdateAccessKey => &[
                (M::UserName, false),
                (M::AccessKeyId, true),
                (M::Status, true),
            ],
            A::DeleteAccessKey => &[(M::UserName, false), (M::AccessKeyId, true)],
            A::GetAccessKeyLastUsed => &[(M::AccessKeyId, true)],
            A::PutUserPolicy => &[
                (M::UserName, true),
                (M::PolicyName, true),
                (M::PolicyDocument, true),
            ],
            A::GetUserPolicy | A::DeleteUserPolicy => &[(M::UserName, true), (M::PolicyName, true)],
            A::CreateRole => &[
                (M::Path, false),
                (M::RoleName, true),
                (M::AssumeRolePolicyDocument, true),
                (M::Description, false),
                (M::MaxSessionDuration, false),
                (M::PermissionsBoundary, false),
                (M::Tags, false),
            ],
            A::GetRole | A::DeleteRole => &[(M::RoleName, true)],
            A::UpdateRole => &[
                (M::RoleName, true),
                (M::Description, false),
                (M::MaxSessionDuration, false),
            ],
            A::UpdateAssumeRolePolicy => &[(M::RoleName, true), (M::PolicyDocument, true)],
            A::PutRolePolicy => &[
                (M::RoleName, true),
                (M::PolicyName, true),
                (M::PolicyDocument, true),
            ],
            A::GetRolePolicy | A::DeleteRolePolicy => &[(M::RoleName, true), (M::PolicyName, true)],
            A::ListRolePolicies | A::ListRoleTags => &[(M::RoleName, true), PAGE[0], PAGE[1]],
            A::TagRole => &[(M::RoleName, true), (M::Tags, true)],
            A::UntagRole => &[(M::RoleName, true), (M::TagKeys, true)],
        }
    }
}

/// A parsed and validated request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pub(crate) user_name: Option<String>,
    pub(crate) role_name: Option<String>,
    pub(crate) policy_name: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) path_prefix: Option<String>,
    pub(crate) marker: Option<String>,
    pub(crate) max_items: Option<usize>,
    pub(crate) document: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) max_session: Option<u32>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) tag_keys: Vec<String>,
}

/// A request: the action and its parameters.
#[derive(Clone, Debug)]
pub(crate) struct IamRequest {
    pub(crate) action: Action,
    pub(crate) params: Params,
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

    fn has_list(&self, prefix: &str) -> bool {
        self.0.contains_key(prefix)
            || self.0.keys().any(|k| {
                k.strip_prefix(prefix)
                    .is_some_and(|r| r.starts_with(".member."))
            })
    }

    /// `PREFIX.member.N[.SUFFIX]` entries by `N` (canonical decimal from 1).
    fn members(&self, prefix: &str) -> BTreeMap<u32, HashMap<&str, &str>> {
        let mut out: BTreeMap<u32, HashMap<&str, &str>> = BTreeMap::new();
        for (name, value) in &self.0 {
            let Some(rest) = name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix(".member."))
            else {
                continue;
            };
            let (index, suffix) = rest.split_once('.').unwrap_or((rest, ""));
            let canonical = !index.is_empty()
                && index.bytes().all(|b| b.is_ascii_digit())
                && !index.starts_with('0');
            if let (true, Ok(n)) = (canonical, index.parse::<u32>()) {
                out.entry(n).or_default().insert(suffix, value.as_str());
            }
        }
        out
    }
}

/// Parses a form body (or a query string) into a validated request.
pub(crate) fn parse(input: &[u8]) -> Result<IamRequest, IamError> {
    let fields = Fields::collect(input);
    let action_name = fields.get("Action").unwrap_or("");
    if fields.get("Version") != Some(IAM_VERSION) {
        return Err(IamError::invalid_action(action_name));
    }
    let action = Action::parse(action_name).ok_or_else(|| IamError::invalid_action(action_name))?;
    // Integers first: a member that is not one cannot be validated.
    let mut params = Params::default();
    for (member, field) in [
        (M::MaxItems, "MaxItems"),
        (M::MaxSessionDuration, "MaxSessionDuration"),
    ] {
        if !action.members().iter().any(|(m, _)| *m == member) {
            continue;
        }
        if let Some(raw) = fields.get(field) {
            let n = raw.parse::<i64>().map_err(|_| {
                IamError::malformed_input(format!(
                    "Invalid value for parameter {field}: '{raw}' is not an integer"
                ))
            })?;
            match member {
                M::MaxItems => params.max_items = Some(usize::try_from(n).unwrap_or(0)),
                _ => params.max_session = Some(u32::try_from(n).unwrap_or(0)),
            }
            // Range checks below read the raw number.
        }
    }
    let mut v = Violations::default();
    for &(member, required) in action.members() {
        check(&mut v, &fields, member, required, &mut params);
    }
    v.into_result()?;
    if fields.get("PermissionsBoundary").is_some() {
        return Err(IamError::invalid_input(
            "PermissionsBoundary is not supported by this server",
        ));
    }
    if action == Action::UpdateAccessKey && params.status.as_deref() == Some("Expired") {
        return Err(IamError::invalid_input(
            "Status Expired cannot be set; use Active or Inactive",
        ));
    }
    Ok(IamRequest { action, params })
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

fn check(v: &mut Violations, fields: &Fields, member: Member, required: bool, p: &mut Params) {
    let wire = match member {
        M::NewUserName | M::UserName => "UserName",
        M::RoleName => "RoleName",
        M::PolicyName => "PolicyName",
        M::Path => "Path",
        M::PathPrefix => "PathPrefix",
        M::Marker => "Marker",
        M::MaxItems => "MaxItems",
        M::PolicyDocument => "PolicyDocument",
        M::AssumeRolePolicyDocument => "AssumeRolePolicyDocument",
        M::Description => "Description",
        M::MaxSessionDuration => "MaxSessionDuration",
        M::AccessKeyId => "AccessKeyId",
        M::Status => "Status",
        M::Tags => "Tags",
        M::TagKeys => "TagKeys",
        M::PermissionsBoundary => "PermissionsBoundary",
    };
    let model = match member {
        M::NewUserName | M::UserName => "userName",
        M::RoleName => "roleName",
        M::PolicyName => "policyName",
        M::Path => "path",
        M::PathPrefix => "pathPrefix",
        M::Marker => "marker",
        M::MaxItems => "maxItems",
        M::PolicyDocument => "policyDocument",
        M::AssumeRolePolicyDocument => "assumeRolePolicyDocument",
        M::Description => "description",
        M::MaxSessionDuration => "maxSessionDuration",
        M::AccessKeyId => "accessKeyId",
        M::Status => "status",
        M::Tags => "tags",
        M::TagKeys => "tagKeys",
        M::PermissionsBoundary => "permissionsBoundary",
    };
    match member {
        M::Tags => return check_tags(v, fields, required, p),
        M::TagKeys => return check_tag_keys(v, fields, required, p),
        M::MaxItems => {
            if let Some(n) = fields.get(wire).and_then(|r| r.parse::<i64>().ok()) {
                v.range(model, n, 1, 1000);
            }
            return;
        }
        M::MaxSessionDuration => {
            if let Some(n) = fields.get(wire).and_then(|r| r.parse::<i64>().ok()) {
                v.range(model, n, 3600, 43200);
            }
            return;
        }
        _ => {}
    }
    let Some(value) = fields.get(wire) else {
        if required {
            v.push(model, "Member must not be null");
        }
        return;
    };
    let value = value.to_owned();
    match member {
        M::NewUserName => v.string(model, &value, 1, 64, NAME_PATTERN, |s| {
            !s.is_empty() && s.chars().all(name_char)
        }),
        M::UserName | M::PolicyName => v.string(model, &value, 1, 128, NAME_PATTERN, |s| {
            !s.is_empty() && s.chars().all(name_char)
        }),
        M::RoleName => v.string(model, &value, 1, 64, NAME_PATTERN, |s| {
            !s.is_empty() && s.chars().all(name_char)
        }),
        M::Path => v.string(model, &value, 1, 512, PATH_PATTERN, |s| {
            s == "/"
                || (s.len() >= 3
                    && s.starts_with('/')
                    && s.ends_with('/')
                    && s.chars().all(|c| ('\u{21}'..='\u{7E}').contains(&c)))
        }),
        M::PathPrefix => v.string(model, &value, 1, 512, PATH_PREFIX_PATTERN, |s| {
            s.starts_with('/') && s.chars().all(|c| ('\u{21}'..='\u{7F}').contains(&c))
        }),
        M::Marker => v.string(model, &value, 1, 320, MARKER_PATTERN, |s| {
            !s.is_empty() && s.chars().all(|c| ('\u{20}'..='\u{FF}').contains(&c))
        }),
        M::PolicyDocument | M::AssumeRolePolicyDocument => {
            v.string(model, &value, 1, 131_072, DOCUMENT_PATTERN, |s| {
                !s.is_empty()
                    && s.chars().all(|c| {
                        matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{FF}').contains(&c)
                    })
            })
        }
        M::Description => v.string(model, &value, 0, 1000, DESCRIPTION_PATTERN, |s| {
            s.chars().all(|c| {
                matches!(c, '\t' | '\n' | '\r')
                    || ('\u{20}'..='\u{7E}').contains(&c)
                    || ('\u{A1}'..='\u{FF}').contains(&c)
            })
        }),
        M::AccessKeyId => v.string(model, &value, 16, 128, KEY_ID_PATTERN, |s| {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }),
        M::Status if !matches!(value.as_str(), "Active" | "Inactive" | "Expired") => {
            v.push(
                model,
                "Member must satisfy enum value set: [Active, Inactive, Expired]",
            );
        }
        _ => {}
    }
    match member {
        M::NewUserName | M::UserName => p.user_name = Some(value),
        M::RoleName => p.role_name = Some(value),
        M::PolicyName => p.policy_name = Some(value),
        M::Path => p.path = Some(value),
        M::PathPrefix => p.path_prefix = Some(value),
        M::Marker => p.marker = Some(value),
        M::PolicyDocument | M::AssumeRolePolicyDocument => p.document = Some(value),
        M::Description => p.description = Some(value),
        M::AccessKeyId => p.access_key_id = Some(value),
        M::Status => p.status = Some(value),
        _ => {}
    }
}

fn check_tags(v: &mut Violations, fields: &Fields, required: bool, p: &mut Params) {
    if !fields.has_list("Tags") {
        if required {
            v.push("tags", "Member must not be null");
        }
        return;
    }
    let members = fields.members("Tags");
    if members.len() > 50 {
        v.push("tags", "Member must have length less than or equal to 50");
    }
    for (i, (_, cells)) in members.iter().enumerate() {
        let n = i + 1;
        let key_member = format!("tags.{n}.member.key");
        let value_member = format!("tags.{n}.member.value");
        match cells.get("Key") {
            None => v.push(&key_member, "Member must not be null"),
            Some(k) => v.string(&key_member, k, 1, 128, TAG_KEY_PATTERN, |s| {
                !s.is_empty() && s.chars().all(tag_char)
            }),
        }
        match cells.get("Value") {
            None => v.push(&value_member, "Member must not be null"),
            Some(val) => v.string(&value_member, val, 0, 256, TAG_VALUE_PATTERN, |s| {
                s.chars().all(tag_char)
            }),
        }
        if let (Some(k), Some(val)) = (cells.get("Key"), cells.get("Value")) {
            p.tags.push(((*k).to_owned(), (*val).to_owned()));
        }
    }
}

fn check_tag_keys(v: &mut Violations, fields: &Fields, required: bool, p: &mut Params) {
    if !fields.has_list("TagKeys") {
        if required {
            v.push("tagKeys", "Member must not be null");
        }
        return;
    }
    let members = fields.members("TagKeys");
    if members.len() > 50 {
        v.push(
            "tagKeys",
            "Member must have length less than or equal to 50",
        );
    }
    let mut bad = false;
    for cells in members.values() {
        match cells.get("") {
            Some(k) if (1..=128).contains(&k.chars().count()) && k.chars().all(tag_char) => {
                p.tag_keys.push((*k).to_owned());
            }
            _ => bad = true,
        }
    }
    if bad {
        v.push(
            "tagKeys",
            &format!("Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: {TAG_KEY_PATTERN}, Member must not be null]"),
        );
    }
}

/// Failed constraints, in order.
#[derive(Default)]
struct Violations(Vec<String>);

impl Violations {
    fn push(&mut self, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn string(
        &mut self,
        member: &str,
        value: &str,
        min: usize,
        max: usize,
        pattern: &str,
        matches: impl Fn(&str) -> bool,
    ) {
        if !(matches(value) || (min == 0 && value.is_empty())) {
            self.push(
                member,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
        let length = value.chars().count();
        if length > max {
            self.push(
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
        if length < min {
            self.push(
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
    }

    fn range(&mut self, member: &str, n: i64, min: i64, max: i64) {
        if n < min {
            self.push(
                member,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if n > max {
            self.push(
                member,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    fn into_result(self) -> Result<(), IamError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(IamError::validation(format!(
                "1 validation error detected: {}",
                self.0.join("; ")
            ))),
            n => Err(IamError::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}
