//! The IAM actions behind the signature layer: the implicit user, the target's look-up, the
//! authorization (identity policies only, the store's account), then the store.

use std::fmt::Write as _;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use time::OffsetDateTime;

use super::error::IamError;
use super::wire::{Action, IamRequest, Params};
use crate::clock::{offset_date_time, Clock};
use crate::credentials::SecretKey;
use crate::iam::{evaluate, Caller, Evaluation, Outcome, Policy, PolicyKind, RequestContext};
use crate::principal::{Principal, PrincipalType};
use crate::store::{
    policy_size, AccessKeyRecord, Entity, KeyStatus, ManageError, ManageIdentities, NewRole,
    NewUser, PageRequest, ProvideIdentityPolicies, RoleRecord, UserRecord,
};
use crate::xml::{escape_into, format_time};

const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// RFC 3986: everything but `A-Za-z0-9-._~` is escaped.
const DOCUMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const USER_POLICY_LIMIT: usize = 2048;
const ROLE_POLICY_LIMIT: usize = 10_240;

/// What the handler needs: the store, the callers' policies, the clock, the trust-policy quota.
pub(crate) struct Handler {
    pub(crate) manage: Arc<dyn ManageIdentities>,
    pub(crate) policies: Arc<dyn ProvideIdentityPolicies>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) trust_policy_limit: usize,
}

/// The target of a call, once looked up.
enum Target {
    None,
    User(UserRecord),
    Role(RoleRecord),
}

fn xml_time(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .map(format_time)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>");
    escape_into(out, text);
    let _ = write!(out, "</{name}>");
}

fn tags_xml(out: &mut String, tags: &[(String, String)]) {
    out.push_str("<Tags>");
    for (k, v) in tags {
        out.push_str("<member>");
        element(out, "Key", k);
        element(out, "Value", v);
        out.push_str("</member>");
    }
    out.push_str("</Tags>");
}

fn user_xml(out: &mut String, user: &UserRecord, with_tags: bool) {
    out.push_str("<Path>");
    escape_into(out, &user.path);
    out.push_str("</Path>");
    element(out, "UserName", &user.name);
    element(out, "UserId", &user.user_id);
    element(out, "Arn", &user.arn);
    element(out, "CreateDate", &xml_time(user.created));
    if with_tags && !user.tags.is_empty() {
        tags_xml(out, &user.tags);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RoleView {
    Created,
    Got,
    Listed,
}

fn role_xml(out: &mut String, role: &RoleRecord, view: RoleView) {
    element(out, "Path", &role.path);
    element(out, "RoleName", &role.name);
    element(out, "RoleId", &role.role_id);
    element(out, "Arn", &role.arn);
    element(out, "CreateDate", &xml_time(role.created));
    element(
        out,
        "AssumeRolePolicyDocument",
        &encode_document(&role.trust_policy),
    );
    if let Some(d) = &role.description {
        element(out, "Description", d);
    }
    if view != RoleView::Created {
        element(out, "MaxSessionDuration", &role.max_session.to_string());
    }
    let show_tags = match view {
        RoleView::Listed => false,
        RoleView::Created | RoleView::Got => !role.tags.is_empty(),
    };
    if show_tags {
        tags_xml(out, &role.tags);
    }
    if view == RoleView::Got {
        match &role.last_used {
            None => out.push_str("<RoleLastUsed/>"),
            Some((at, region)) => {
                out.push_str("<RoleLastUsed>");
                element(out, "LastUsedDate", &xml_time(*at));
                element(out, "Region", region);
                out.push_str("</RoleLastUsed>");
            }
        }
    }
}

fn key_xml(out: &mut String, key: &AccessKeyRecord, secret: Option<&SecretKey>) {
    element(out, "UserName", &key.user_name);
    element(out, "AccessKeyId", &key.access_key_id);
    element(out, "Status", key.status.as_str());
    if let Some(secret) = secret {
        element(out, "SecretAccessKey", secret.expose_secret());
    }
    element(out, "CreateDate", &xml_time(key.created));
}

/// A policy document as IAM returns it: percent-encoded (RFC 3986), never `+`.
pub(crate) fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT).to_string()
}

fn marker_of(sort_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("m1:{sort_key}"))
}

fn marker_key(marker: Option<&str>) -> Result<Option<String>, IamError> {
    let Some(marker) = marker else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("m1:").map(str::to_owned))
        .map(Some)
        .ok_or_else(|| IamError::validation("Invalid Marker"))
}

fn truncation(out: &mut String, truncated: bool, last: Option<&str>) {
    match (truncated, last) {
        (true, Some(last)) => {
            out.push_str("<IsTruncated>true</IsTruncated>");
            element(out, "Marker", &marker_of(last));
        }
        _ => out.push_str("<IsTruncated>false</IsTruncated>"),
    }
}

/// The whole response body of an action, with or without its result.
pub(crate) fn envelope(action: &str, result: Option<&str>, request_id: &str) -> String {
    let mut out = String::with_capacity(256 + result.map_or(0, str::len));
    let _ = write!(out, "<{action}Response xmlns=\"{NAMESPACE}\">");
    if let Some(result) = result {
        if result.is_empty() {
            let _ = write!(out, "<{action}Result/>");
        } else {
            let _ = write!(out, "<{action}Result>{result}</{action}Result>");
        }
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape_into(&mut out, request_id);
    let _ = write!(out, "</RequestId></ResponseMetadata></{action}Response>");
    out
}

/// IAM's `ErrorResponse`.
pub(crate) fn error_body(error: &IamError, request_id: &str) -> String {
    let mut out = String::with_capacity(256 + error.message().len());
    let _ = write!(
        out,
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{}</Type><Code>{}</Code><Message>",
        error.error_type(),
        error.code()
    );
    escape_into(&mut out, error.message());
    out.push_str("</Message></Error><RequestId>");
    escape_into(&mut out, request_id);
    out.push_str("</RequestId></ErrorResponse>");
    out
}

/// Checks a document as IAM does, with IAM's messages (the engine's detail goes to the log).
pub(crate) fn validate_document(document: &str, trust: bool) -> Result<(), IamError> {
    let syntax = || IamError::malformed_policy("Syntax errors in policy.");
    let value: serde_json::Value = serde_json::from_str(document).map_err(|_| {
        if trust {
            IamError::malformed_policy("This policy contains invalid Json")
        } else {
            syntax()
        }
    })?;
    let statements = match value.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(o @ serde_json::Value::Object(_)) => vec![o],
        _ => return Err(syntax()),
    };
    let mut sids = std::collections::HashSet::new();
    for s in &statements {
        let serde_json::Value::Object(s) = s else {
            return Err(syntax());
        };
        if let Some(serde_json::Value::String(sid)) = s.get("Sid") {
            if !sids.insert(sid.clone()) {
                return Err(IamError::malformed_policy(
                    "Statement IDs (SID) in a single policy must be unique.",
                ));
            }
        }
        let list = |name: &str| -> Option<Vec<String>> {
            match s.get(name)? {
                serde_json::Value::String(v) => Some(vec![v.clone()]),
                serde_json::Value::Array(a) => Some(
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                ),
                _ => Some(Vec::new()),
            }
        };
        if !trust && (s.contains_key("Principal") || s.contains_key("NotPrincipal")) {
            return Err(IamError::malformed_policy(
                "Policy document should not specify a principal.",
            ));
        }
        if trust && (s.contains_key("Resource") || s.contains_key("NotResource")) {
            return Err(IamError::malformed_policy("Has prohibited field Resource"));
        }
        let actions = list("Action")
            .or_else(|| list("NotAction"))
            .unwrap_or_default();
        if actions.is_empty() {
            return Err(IamError::malformed_policy(
                "Policy statement must contain actions.",
            ));
        }
        for action in &actions {
            if action == "*" {
                continue;
            }
            let mut parts = action.split(':');
            let vendor = parts.next().unwrap_or_default();
            match parts.clone().count() {
                0 => return Err(IamError::malformed_policy(
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                )),
                1 => {}
                _ => {
                    return Err(IamError::malformed_policy(
                        "Actions/Condition can contain only one colon.",
                    ))
                }
            }
            let vendor_ok = !vendor.is_empty()
                && vendor
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*');
            if !vendor_ok {
                return Err(IamError::malformed_policy(format!(
                    "Vendor {vendor} is not valid"
                )));
            }
            if trust {
                let lower = action.to_ascii_lowercase();
                let allowed = lower.starts_with("sts:assumerole")
                    || lower == "sts:tagsession"
                    || lower == "sts:setsourceidentity";
                if !allowed {
                    return Err(IamError::malformed_policy(
                        "AssumeRole policy may only specify STS AssumeRole actions.",
                    ));
                }
            }
        }
        if !trust {
            let resources = list("Resource")
                .or_else(|| list("NotResource"))
                .unwrap_or_default();
            if resources.is_empty() {
                return Err(IamError::malformed_policy(
                    "Policy statement must contain resources.",
                ));
            }
            for r in &resources {
                if r == "*" {
                    continue;
                }
                let Some(rest) = r.strip_prefix("arn:") else {
                    return Err(IamError::malformed_policy(format!(
                        "Resource {r} must be in ARN format or \"*\"."
                    )));
                };
                let partition = rest.split(':').next().unwrap_or_default();
                if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov" | "*") {
                    return Err(IamError::malformed_policy(format!(
                        "Partition \"{partition}\" is not valid for resource \"{r}\"."
                    )));
                }
            }
        }
    }
    let kind = if trust {
        PolicyKind::Trust
    } else {
        PolicyKind::Identity
    };
    Policy::parse(document, kind, None).map(drop).map_err(|e| {
        tracing::info!(error = %e, "iam: policy document refused");
        if trust && e.kind() == crate::iam::PolicyErrorKind::Syntax {
            IamError::malformed_policy("This policy contains invalid Json")
        } else {
            syntax()
        }
    })
}

fn page(params: &Params) -> Result<PageRequest, IamError> {
    Ok(PageRequest::new(
        marker_key(params.marker.as_deref())?,
        params.max_items.unwrap_or(100),
    ))
}

fn check_duplicate_tags(tags: &[(String, String)]) -> Result<(), IamError> {
    let mut seen = std::collections::HashSet::new();
    for (k, _) in tags {
        if !seen.insert(k.to_lowercase()) {
            return Err(IamError::duplicate_tags());
        }
    }
    Ok(())
}

impl Handler {
    fn account(&self) -> &str {
        self.manage.account()
    }

    fn arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.account())
    }

    /// Answers a validated request of `principal`: the result's XML (without the envelope).
    pub(crate) async fn answer(
        &self,
        principal: &Principal,
        connection: Option<crate::ConnectionInfo>,
        request: IamRequest,
    ) -> Result<Option<String>, IamError> {
        let IamRequest { action, mut params } = request;
        use Action as A;
        // The implicit user: the caller, when it is a user.
        let implicit = matches!(
            action,
            A::GetUser
                | A::CreateAccessKey
                | A::ListAccessKeys
                | A::UpdateAccessKey
                | A::DeleteAccessKey
        );
        if implicit && params.user_name.is_none() {
            if principal.principal_type() != PrincipalType::User {
                return Err(IamError::non_user());
            }
            let name = crate::store::path_and_name(principal.arn(), "user")
                .map(|(_, n)| n.to_owned())
                .ok_or_else(IamError::non_user)?;
            params.user_name = Some(name);
        }

        // The target, for its ARN and tags.
        let (target, resource) = self.target(action, &params, principal).await?;
        self.authorize(principal, connection, action, &resource, &target, &params)
            .await?;
        if let (Target::None, Some(missing)) = (&target, self.missing(action, &params)) {
            return Err(missing);
        }
        self.execute(action, params, target).await
    }

    fn missing(&self, action: Action, params: &Params) -> Option<IamError> {
        use Action as A;
        match action {
            A::CreateUser | A::CreateRole | A::ListUsers | A::ListRoles => None,
            A::GetAccessKeyLastUsed => None,
            A::CreateAccessKey
            | A::GetUser
            | A::DeleteUser
            | A::TagUser
            | A::UntagUser
            | A::ListUserTags
            | A::ListAccessKeys
            | A::UpdateAccessKey
            | A::DeleteAccessKey
            | A::PutUserPolicy
            | A::GetUserPolicy
            | A::ListUserPolicies
            | A::DeleteUserPolicy => Some(IamError::no_such_user(
                params.user_name.as_deref().unwrap_or_default(),
            )),
            _ => Some(IamError::no_such_role(
                params.role_name.as_deref().unwrap_or_default(),
            )),
        }
    }

    async fn target(
        &self,
        action: Action,
        params: &Params,
        principal: &Principal,
    ) -> Result<(Target, String), IamError> {
        use Action as A;
        fn found<T>(r: Result<T, ManageError>) -> Result<Option<T>, IamError> {
            match r {
                Ok(v) => Ok(Some(v)),
                Err(ManageError::NoSuchUser(_) | ManageError::NoSuchRole(_)) => Ok(None),
                Err(e) => Err(IamError::from(e)),
            }
        }
        match action {
            A::CreateUser => Ok((
                Target::None,
                self.arn(
                    "user",
                    params.path.as_deref().unwrap_or("/"),
                    params.user_name.as_deref().unwrap_or_default(),
                ),
            )),
            A::CreateRole => Ok((
                Target::None,
                self.arn(
                    "role",
                    params.path.as_deref().unwrap_or("/"),
                    params.role_name.as_deref().unwrap_or_default(),
                ),
            )),
            A::ListUsers => Ok((
                Target::None,
                format!(
                    "arn:aws:iam::{}:user{}",
                    self.account(),
                    params.path_prefix.as_deref().unwrap_or("/")
                ),
            )),
            A::ListRoles => Ok((
                Target::None,
                format!(
                    "arn:aws:iam::{}:role{}",
                    self.account(),
                    params.path_prefix.as_deref().unwrap_or("/")
                ),
            )),
            A::GetAccessKeyLastUsed => {
                let id = params.access_key_id.as_deref().unwrap_or_default();
                let key = self.manage.get_access_key(id).await?;
                let denied = || {
                    IamError::access_denied(format!(
                        "User: {} is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key {id}",
                        principal.arn()
                    ))
                };
                let key = key.ok_or_else(denied)?;
                let user = found(self.manage.get_user(&key.user_name).await)?.ok_or_else(denied)?;
                let arn = user.arn.clone();
                Ok((Target::User(user), arn))
            }
            A::GetRole
            | A::DeleteRole
            | A::UpdateRole
            | A::UpdateAssumeRolePolicy
            | A::PutRolePolicy
            | A::GetRolePolicy
            | A::ListRolePolicies
            | A::DeleteRolePolicy
            | A::TagRole
            | A::UntagRole
            | A::ListRoleTags => {
                let name = params.role_name.as_deref().unwrap_or_default();
                match found(self.manage.get_role(name).await)? {
                    Some(role) => {
                        let arn = role.arn.clone();
                        Ok((Target::Role(role), arn))
                    }
                    None => Ok((Target::None, self.arn("role", "/", name))),
                }
            }
            _ => {
                let name = params.user_name.as_deref().unwrap_or_default();
                match found(self.manage.get_user(name).await)? {
                    Some(user) => {
                        let arn = user.arn.clone();
                        Ok((Target::User(user), arn))
                    }
                    None => Ok((Target::None, self.arn("user", "/", name))),
                }
            }
        }
    }

    async fn authorize(
        &self,
        principal: &Principal,
        connection: Option<crate::ConnectionInfo>,
        action: Action,
        resource: &str,
        target: &Target,
        params: &Params,
    ) -> Result<(), IamError> {
        let iam_action = format!("iam:{}", action.name());
        let denied = |explicit: bool| {
            let mut message = format!(
                "User: {} is not authorized to perform: {iam_action} on resource: {resource}",
                principal.arn()
            );
            if explicit {
                message.push_str(" with an explicit deny");
            }
            IamError::access_denied(message)
        };
        let caller = Caller::try_from(principal).map_err(|_| denied(false))?;
        let now = offset_date_time(self.clock.now()).ok_or_else(IamError::service_failure)?;
        let mut ctx = RequestContext::new(caller, &iam_action, resource.to_owned())
            .with_current_time(now)
            .with_secure_transport(connection.is_some_and(|c| c.secure));
        if let Some(c) = connection {
            ctx = ctx.with_source_ip(c.peer.ip().to_canonical());
        }
        if let Some(session) = principal.session() {
            if let Some(issued) = offset_date_time(session.issued_at) {
                ctx = ctx.with_token_issue_time(issued);
            }
            ctx = ctx.with_multi_factor_auth_present(false);
        }
        let resource_tags = match target {
            Target::User(u) => u.tags.as_slice(),
            Target::Role(r) => r.tags.as_slice(),
            Target::None => &[],
        };
        for (k, v) in resource_tags {
            ctx = ctx
                .with_key(&format!("iam:ResourceTag/{k}"), v.clone())
                .with_key(&format!("aws:ResourceTag/{k}"), v.clone());
        }
        use Action as A;
        match action {
            A::CreateUser | A::CreateRole | A::TagUser | A::TagRole => {
                for (k, v) in &params.tags {
                    ctx = ctx.with_key(&format!("aws:RequestTag/{k}"), v.clone());
                }
                if !params.tags.is_empty() {
                    ctx =
                        ctx.with_values("aws:TagKeys", params.tags.iter().map(|(k, _)| k.clone()));
                }
            }
            A::UntagUser | A::UntagRole => {
                ctx = ctx.with_values("aws:TagKeys", params.tag_keys.iter().cloned());
            }
            _ => {}
        }
        let identity = self
            .policies
            .provide_identity_policies(principal.principal_arn())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "iam: identity policies unavailable");
                IamError::service_failure()
            })?;
        let session_policy = match principal
            .session()
            .and_then(|s| s.session_policy.as_deref())
        {
            Some(json) => {
                Some(Policy::parse(json, PolicyKind::Identity, None).map_err(|_| denied(false))?)
            }
            None => None,
        };
        let decision = evaluate(
            &Evaluation::new(&ctx, self.account())
                .identity_policies(identity.as_deref().unwrap_or(&[]))
                .session_policy(session_policy.as_ref()),
        );
        tracing::debug!(caller = principal.arn(), action = %iam_action, resource, explain = %decision.explain(), "iam decision");
        match decision.outcome() {
            Outcome::Allow => Ok(()),
            Outcome::ExplicitDeny => Err(denied(true)),
            _ => Err(denied(false)),
        }
    }

    async fn execute(
        &self,
        action: Action,
        params: Params,
        target: Target,
    ) -> Result<Option<String>, IamError> {
        use Action as A;
        let m = &*self.manage;
        let user = params.user_name.clone().unwrap_or_default();
        let role = params.role_name.clone().unwrap_or_default();
        let mut out = String::new();
        match action {
            A::CreateUser => {
                check_duplicate_tags(&params.tags)?;
                let created = m
                    .create_user(NewUser {
                        path: params.path.clone().unwrap_or_else(|| "/".to_owned()),
                        name: user,
                        tags: params.tags.clone(),
                    })
                    .await?;
                out.push_str("<User>");
                user_xml(&mut out, &created, true);
                out.push_str("</User>");
            }
            A::GetUser => {
                let Target::User(u) = target else {
                    return Err(IamError::no_such_user(&user));
                };
                out.push_str("<User>");
                user_xml(&mut out, &u, true);
                out.push_str("</User>");
            }
            A::ListUsers => {
                let prefix = params.path_prefix.clone().unwrap_or_else(|| "/".to_owned());
                let listed = m.list_users(&prefix, page(&params)?).await?;
                out.push_str(if listed.items.is_empty() {
                    "<Users/>"
                } else {
                    "<Users>"
                });
                for u in &listed.items {
                    out.push_str("<member>");
                    user_xml(&mut out, u, false);
                    out.push_str("</member>");
                }
                if !listed.items.is_empty() {
                    out.push_str("</Users>");
                }
                let last = listed.items.last().map(|u| u.name.to_lowercase());
                truncation(&mut out, listed.truncated, last.as_deref());
            }
            A::DeleteUser => {
                m.delete_user(&user).await?;
                return Ok(None);
            }
            A::TagUser | A::TagRole => {
                check_duplicate_tags(&params.tags)?;
                if action == A::TagUser {
                    m.tag_user(&user, params.tags, Vec::new()).await?;
                } else {
                    m.tag_role(&role, params.tags, Vec::new()).await?;
                }
                return Ok(None);
            }
            A::UntagUser => {
                m.tag_user(&user, Vec::new(), params.tag_keys).await?;
                return Ok(None);
            }
            A::UntagRole => {
                m.tag_role(&role, Vec::new(), params.tag_keys).await?;
                return Ok(None);
            }
            A::ListUserTags | A::ListRoleTags => {
                let tags = match target {
                    Target::User(u) => u.tags,
                    Target::Role(r) => r.tags,
                    Target::None => Vec::new(),
                };
                let request = page(&params)?;
                let mut tags: Vec<_> = tags
                    .into_iter()
                    .filter(|(k, _)| request.after.as_ref().is_none_or(|a| k > a))
                    .collect();
                tags.sort();
                let truncated = tags.len() > request.max_items;
                tags.truncate(request.max_items);
                if tags.is_empty() {
                    out.push_str("<Tags/>");
                } else {
                    tags_xml(&mut out, &tags);
                }
                let last = tags.last().map(|(k, _)| k.clone());
                truncation(&mut out, truncated, last.as_deref());
            }
            A::CreateAccessKey => {
                let (id, secret) = crate::ids::new_access_key();
                let key = m.create_access_key(&user, &id, &secret).await?;
                out.push_str("<AccessKey>");
                key_xml(&mut out, &key, Some(&secret));
                out.push_str("</AccessKey>");
            }
            A::ListAccessKeys => {
                let listed = m.list_access_keys(&user, page(&params)?).await?;
                if listed.items.is_empty() {
                    out.push_str("<AccessKeyMetadata/>");
                } else {
                    out.push_str("<AccessKeyMetadata>");
                    for k in &listed.items {
                        out.push_str("<member>");
                        key_xml(&mut out, k, None);
                        out.push_str("</member>");
                    }
                    out.push_str("</AccessKeyMetadata>");
                }
                let last = listed.items.last().map(|k| k.access_key_id.clone());
                truncation(&mut out, listed.truncated, last.as_deref());
            }
            A::UpdateAccessKey => {
                let status = if params.status.as_deref() == Some("Active") {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                };
                let id = params.access_key_id.unwrap_or_default();
                m.update_access_key(&user, &id, status).await?;
                return Ok(None);
            }
            A::DeleteAccessKey => {
                let id = params.access_key_id.unwrap_or_default();
                m.delete_access_key(&user, &id).await?;
                return Ok(None);
            }
            A::GetAccessKeyLastUsed => {
                let id = params.access_key_id.unwrap_or_default();
                let key = m
                    .get_access_key(&id)
                    .await?
                    .ok_or_else(IamError::service_failure)?;
                element(&mut out, "UserName", &key.user_name);
                out.push_str("<AccessKeyLastUsed>");
                match &key.last_used {
                    Some((at, service, region)) => {
                        element(&mut out, "LastUsedDate", &xml_time(*at));
                        element(&mut out, "ServiceName", service);
                        element(&mut out, "Region", region);
                    }
                    None => {
                        element(&mut out, "ServiceName", "N/A");
                        element(&mut out, "Region", "N/A");
                    }
                }
                out.push_str("</AccessKeyLastUsed>");
            }
            A::PutUserPolicy | A::PutRolePolicy => {
                let document = params.document.clone().unwrap_or_default();
                validate_document(&document, false)?;
                let (entity, owner, limit) = if action == A::PutUserPolicy {
                    (Entity::User, &user, USER_POLICY_LIMIT)
                } else {
                    (Entity::Role, &role, ROLE_POLICY_LIMIT)
                };
                let name = params.policy_name.clone().unwrap_or_default();
                m.put_policy(entity, owner, &name, &document, limit).await?;
                return Ok(None);
            }
            A::GetUserPolicy | A::GetRolePolicy => {
                let (entity, owner, tag) = if action == A::GetUserPolicy {
                    (Entity::User, &user, "UserName")
                } else {
                    (Entity::Role, &role, "RoleName")
                };
                let owner_name = match &target {
                    Target::User(u) => u.name.clone(),
                    Target::Role(r) => r.name.clone(),
                    Target::None => owner.clone(),
                };
                let name = params.policy_name.clone().unwrap_or_default();
                let (stored, document) = m.get_policy(entity, owner, &name).await?;
                element(&mut out, tag, &owner_name);
                element(&mut out, "PolicyName", &stored);
                element(&mut out, "PolicyDocument", &encode_document(&document));
            }
            A::ListUserPolicies | A::ListRolePolicies => {
                let (entity, owner) = if action == A::ListUserPolicies {
                    (Entity::User, &user)
                } else {
                    (Entity::Role, &role)
                };
                let listed = m.list_policies(entity, owner, page(&params)?).await?;
                if listed.items.is_empty() {
                    out.push_str("<PolicyNames/>");
                } else {
                    out.push_str("<PolicyNames>");
                    for name in &listed.items {
                        element(&mut out, "member", name);
                    }
                    out.push_str("</PolicyNames>");
                }
                let last = listed.items.last().map(|n| n.to_lowercase());
                truncation(&mut out, listed.truncated, last.as_deref());
            }
            A::DeleteUserPolicy | A::DeleteRolePolicy => {
                let (entity, owner) = if action == A::DeleteUserPolicy {
                    (Entity::User, &user)
                } else {
                    (Entity::Role, &role)
                };
                let name = params.policy_name.clone().unwrap_or_default();
                m.delete_policy(entity, owner, &name).await?;
                return Ok(None);
            }
            A::CreateRole => {
                check_duplicate_tags(&params.tags)?;
                let document = params.document.clone().unwrap_or_default();
                validate_document(&document, true)?;
                self.check_trust_size(&document)?;
                let created = m
                    .create_role(NewRole {
                        path: params.path.clone().unwrap_or_else(|| "/".to_owned()),
                        name: role,
                        trust_policy: document,
                        description: params.description.clone(),
                        max_session: params.max_session.unwrap_or(3600),
                        tags: params.tags.clone(),
                    })
                    .await?;
                out.push_str("<Role>");
                role_xml(&mut out, &created, RoleView::Created);
                out.push_str("</Role>");
            }
            A::GetRole => {
                let Target::Role(r) = target else {
                    return Err(IamError::no_such_role(&role));
                };
                out.push_str("<Role>");
                role_xml(&mut out, &r, RoleView::Got);
                out.push_str("</Role>");
            }
            A::ListRoles => {
                let prefix = params.path_prefix.clone().unwrap_or_else(|| "/".to_owned());
                let listed = m.list_roles(&prefix, page(&params)?).await?;
                if listed.items.is_empty() {
                    out.push_str("<Roles/>");
                } else {
                    out.push_str("<Roles>");
                    for r in &listed.items {
                        out.push_str("<member>");
                        role_xml(&mut out, r, RoleView::Listed);
                        out.push_str("</member>");
                    }
                    out.push_str("</Roles>");
                }
                let last = listed.items.last().map(|r| r.name.to_lowercase());
                truncation(&mut out, listed.truncated, last.as_deref());
            }
            A::DeleteRole => {
                m.delete_role(&role).await?;
                return Ok(None);
            }
            A::UpdateRole => {
                m.update_role(&role, params.description.clone(), params.max_session)
                    .await?;
                return Ok(Some(String::new()));
            }
            A::UpdateAssumeRolePolicy => {
                let document = params.document.clone().unwrap_or_default();
                validate_document(&document, true)?;
                self.check_trust_size(&document)?;
                m.update_trust_policy(&role, &document).await?;
                return Ok(None);
            }
        }
        Ok(Some(out))
    }

    fn check_trust_size(&self, document: &str) -> Result<(), IamError> {
        if policy_size(document) > self.trust_policy_limit {
            return Err(IamError::limit(format!(
                "Cannot exceed quota for ACLSizePerRole: {}",
                self.trust_policy_limit
            )));
        }
        Ok(())
    }
}
