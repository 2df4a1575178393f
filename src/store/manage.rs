//! Managing identities the way IAM does: the operations of the IAM API over a store. The
//! database stores implement them; the TOML file's [`SharedStore`] answers the reads and
//! refuses every write ([`ManageError::ReadOnly`]).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::model::{IdentityStore, Role, User};
use super::shared::SharedStore;
use super::source::BackendError;
use crate::credentials::SecretKey;

/// The boxed future of a management call.
pub type ManageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ManageError>> + Send + 'a>>;

/// A user as IAM lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserRecord {
    /// `/` or `/a/b/`.
    pub path: String,
    /// The name as created.
    pub name: String,
    /// `AIDA…`.
    pub user_id: String,
    /// `arn:aws:iam::ACCOUNT:user<path><name>`.
    pub arn: String,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// Tags, sorted by key in byte order.
    pub tags: Vec<(String, String)>,
}

/// A role as IAM lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoleRecord {
    /// `/` or `/a/b/`.
    pub path: String,
    /// The name as created.
    pub name: String,
    /// `AROA…`.
    pub role_id: String,
    /// `arn:aws:iam::ACCOUNT:role<path><name>`.
    pub arn: String,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// The trust policy as submitted.
    pub trust_policy: String,
    /// The description, if set.
    pub description: Option<String>,
    /// `MaxSessionDuration` in seconds.
    pub max_session: u32,
    /// Tags, sorted by key in byte order.
    pub tags: Vec<(String, String)>,
    /// When and in which region the role was last assumed.
    pub last_used: Option<(i64, String)>,
}

/// Whether an access key may sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// It signs.
    Active,
    /// It exists but signs nothing.
    Inactive,
}

impl KeyStatus {
    /// `Active` or `Inactive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }
}

/// An access key's metadata (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessKeyRecord {
    /// The owner's name.
    pub user_name: String,
    /// The access key id.
    pub access_key_id: String,
    /// Active or not.
    pub status: KeyStatus,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// When, for which service and in which region the key last authenticated a request.
    pub last_used: Option<(i64, String, String)>,
}

/// What a new user is made of.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewUser {
    /// The path (`/` by default).
    pub path: String,
    /// The name.
    pub name: String,
    /// Tags in request order (keys unique ignoring case).
    pub tags: Vec<(String, String)>,
}

impl NewUser {
    /// A user `name` at `path` with `tags`.
    pub fn from_parts(path: String, name: String, tags: Vec<(String, String)>) -> Self {
        Self { path, name, tags }
    }
}

/// What a new role is made of.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewRole {
    /// The path.
    pub path: String,
    /// The name.
    pub name: String,
    /// The trust policy, already validated, kept verbatim.
    pub trust_policy: String,
    /// The description.
    pub description: Option<String>,
    /// `MaxSessionDuration` in seconds.
    pub max_session: u32,
    /// Tags in request order.
    pub tags: Vec<(String, String)>,
}

impl NewRole {
    /// A role `name` at `path` trusting `trust_policy`, with no description.
    pub fn from_parts(
        path: String,
        name: String,
        trust_policy: String,
        max_session: u32,
        tags: Vec<(String, String)>,
    ) -> Self {
        Self {
            path,
            name,
            trust_policy,
            description: None,
            max_session,
            tags,
        }
    }
}

/// One page of a listing: the items and, when more follow, the sort key of the last one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// More items follow this page.
    pub truncated: bool,
}

/// Where a listing starts and how long a page is.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PageRequest {
    /// Items sorting after this key only (the key of the previous page's last item).
    pub after: Option<String>,
    /// Items per page, 1..=1000.
    pub max_items: usize,
}

impl PageRequest {
    /// A page of `max_items` after `after`.
    pub fn new(after: Option<String>, max_items: usize) -> Self {
        Self { after, max_items }
    }
}

/// Which sum of inline policies a `LimitExceeded` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    /// A user.
    User,
    /// A role.
    Role,
}

/// Why a management call failed, one variant per answer of the IAM API.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ManageError {
    /// The store is read-only (the identities come from the configuration file).
    ReadOnly,
    /// No user with this name.
    NoSuchUser(String),
    /// No role with this name.
    NoSuchRole(String),
    /// No such inline policy of the user or role.
    NoSuchPolicy(Entity, String),
    /// No such access key of this user.
    NoSuchAccessKey(String),
    /// The name is taken (ignoring case); the name as requested.
    AlreadyExists(Entity, String),
    /// The user has two keys already.
    KeyQuota,
    /// The inline policies would exceed the size limit of the entity.
    PolicySize(Entity, String),
    /// The tags would exceed 50.
    TagQuota(Entity),
    /// Deleting needs the policies deleted first.
    HasPolicies,
    /// Deleting needs the access keys deleted first.
    HasAccessKeys,
    /// The store failed.
    Backend(BackendError),
}

impl fmt::Display for ManageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ReadOnly => "the identity store is read-only",
            Self::NoSuchUser(_) | Self::NoSuchRole(_) => "no such entity",
            Self::NoSuchPolicy(..) => "no such policy",
            Self::NoSuchAccessKey(_) => "no such access key",
            Self::AlreadyExists(..) => "entity already exists",
            Self::KeyQuota | Self::PolicySize(..) | Self::TagQuota(_) => "limit exceeded",
            Self::HasPolicies | Self::HasAccessKeys => "delete conflict",
            Self::Backend(_) => "identity store unavailable",
        })
    }
}

impl std::error::Error for ManageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Backend(e) => Some(e),
            _ => None,
        }
    }
}

impl From<BackendError> for ManageError {
    fn from(e: BackendError) -> Self {
        Self::Backend(e)
    }
}

/// The operations of the IAM API over a store. Names are compared ignoring case; every
/// write is one transaction, and the limits (two keys per user, policy sizes, 50 tags, unique
/// names) are checked inside it, so concurrent writers are answered as if serialised.
///
/// The account is the store's: every ARN carries it.
pub trait ManageIdentities: Send + Sync + 'static {
    /// The account the identities belong to.
    fn account(&self) -> &str;

    /// Whether writes are refused ([`ManageError::ReadOnly`]).
    fn read_only(&self) -> bool;

    /// The user named `name`.
    fn get_user<'a>(&'a self, name: &'a str) -> ManageFuture<'a, UserRecord>;
    /// The user whose ARN is `arn`.
    fn get_user_by_arn<'a>(&'a self, arn: &'a str) -> ManageFuture<'a, Option<UserRecord>>;
    /// Users whose path starts with `path_prefix`, by name ignoring case.
    fn list_users<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<UserRecord>>;
    /// Creates a user.
    fn create_user(&self, user: NewUser) -> ManageFuture<'_, UserRecord>;
    /// Deletes a user that has no policy and no key left.
    fn delete_user<'a>(&'a self, name: &'a str) -> ManageFuture<'a, ()>;
    /// Adds or replaces tags (keys compared ignoring case, the new spelling kept) and removes
    /// `remove` (ignoring case); at most 50 remain.
    fn tag_user<'a>(
        &'a self,
        name: &'a str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ManageFuture<'a, ()>;

    /// Stores a new access key with its secret (encrypted at rest).
    fn create_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
        secret: &'a SecretKey,
    ) -> ManageFuture<'a, AccessKeyRecord>;
    /// The user's keys, by id.
    fn list_access_keys<'a>(
        &'a self,
        user: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<AccessKeyRecord>>;
    /// Activates or deactivates a key of `user`.
    fn update_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
        status: KeyStatus,
    ) -> ManageFuture<'a, ()>;
    /// Deletes a key of `user`.
    fn delete_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
    ) -> ManageFuture<'a, ()>;
    /// A key by id, whoever owns it (`None`: no such key).
    fn get_access_key<'a>(
        &'a self,
        access_key_id: &'a str,
    ) -> ManageFuture<'a, Option<AccessKeyRecord>>;

    /// Creates or replaces an inline policy (already validated; `limit` is the size allowed
    /// for the sum of the entity's inline policies, white space not counted).
    fn put_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
        document: &'a str,
        limit: usize,
    ) -> ManageFuture<'a, ()>;
    /// An inline policy: (name as stored, document as submitted).
    fn get_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
    ) -> ManageFuture<'a, (String, String)>;
    /// The names of an entity's inline policies, sorted ignoring case.
    fn list_policies<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<String>>;
    /// Deletes an inline policy.
    fn delete_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
    ) -> ManageFuture<'a, ()>;

    /// The role named `name`.
    fn get_role<'a>(&'a self, name: &'a str) -> ManageFuture<'a, RoleRecord>;
    /// Roles whose path starts with `path_prefix`, by name ignoring case.
    fn list_roles<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<RoleRecord>>;
    /// Creates a role.
    fn create_role(&self, role: NewRole) -> ManageFuture<'_, RoleRecord>;
    /// Deletes a role that has no inline policy left.
    fn delete_role<'a>(&'a self, name: &'a str) -> ManageFuture<'a, ()>;
    /// Changes the description and/or the maximum session duration.
    fn update_role<'a>(
        &'a self,
        name: &'a str,
        description: Option<String>,
        max_session: Option<u32>,
    ) -> ManageFuture<'a, ()>;
    /// Replaces the trust policy (already validated).
    fn update_trust_policy<'a>(&'a self, name: &'a str, document: &'a str) -> ManageFuture<'a, ()>;
    /// As [`ManageIdentities::tag_user`], for a role.
    fn tag_role<'a>(
        &'a self,
        name: &'a str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ManageFuture<'a, ()>;
}

impl<T: ManageIdentities + ?Sized> ManageIdentities for Arc<T> {
    fn account(&self) -> &str {
        (**self).account()
    }
    fn read_only(&self) -> bool {
        (**self).read_only()
    }
    fn get_user<'a>(&'a self, name: &'a str) -> ManageFuture<'a, UserRecord> {
        (**self).get_user(name)
    }
    fn get_user_by_arn<'a>(&'a self, arn: &'a str) -> ManageFuture<'a, Option<UserRecord>> {
        (**self).get_user_by_arn(arn)
    }
    fn list_users<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<UserRecord>> {
        (**self).list_users(path_prefix, page)
    }
    fn create_user(&self, user: NewUser) -> ManageFuture<'_, UserRecord> {
        (**self).create_user(user)
    }
    fn delete_user<'a>(&'a self, name: &'a str) -> ManageFuture<'a, ()> {
        (**self).delete_user(name)
    }
    fn tag_user<'a>(
        &'a self,
        name: &'a str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ManageFuture<'a, ()> {
        (**self).tag_user(name, add, remove)
    }
    fn create_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
        secret: &'a SecretKey,
    ) -> ManageFuture<'a, AccessKeyRecord> {
        (**self).create_access_key(user, access_key_id, secret)
    }
    fn list_access_keys<'a>(
        &'a self,
        user: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<AccessKeyRecord>> {
        (**self).list_access_keys(user, page)
    }
    fn update_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
        status: KeyStatus,
    ) -> ManageFuture<'a, ()> {
        (**self).update_access_key(user, access_key_id, status)
    }
    fn delete_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
    ) -> ManageFuture<'a, ()> {
        (**self).delete_access_key(user, access_key_id)
    }
    fn get_access_key<'a>(
        &'a self,
        access_key_id: &'a str,
    ) -> ManageFuture<'a, Option<AccessKeyRecord>> {
        (**self).get_access_key(access_key_id)
    }
    fn put_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
        document: &'a str,
        limit: usize,
    ) -> ManageFuture<'a, ()> {
        (**self).put_policy(entity, owner, policy_name, document, limit)
    }
    fn get_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
    ) -> ManageFuture<'a, (String, String)> {
        (**self).get_policy(entity, owner, policy_name)
    }
    fn list_policies<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<String>> {
        (**self).list_policies(entity, owner, page)
    }
    fn delete_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
    ) -> ManageFuture<'a, ()> {
        (**self).delete_policy(entity, owner, policy_name)
    }
    fn get_role<'a>(&'a self, name: &'a str) -> ManageFuture<'a, RoleRecord> {
        (**self).get_role(name)
    }
    fn list_roles<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<RoleRecord>> {
        (**self).list_roles(path_prefix, page)
    }
    fn create_role(&self, role: NewRole) -> ManageFuture<'_, RoleRecord> {
        (**self).create_role(role)
    }
    fn delete_role<'a>(&'a self, name: &'a str) -> ManageFuture<'a, ()> {
        (**self).delete_role(name)
    }
    fn update_role<'a>(
        &'a self,
        name: &'a str,
        description: Option<String>,
        max_session: Option<u32>,
    ) -> ManageFuture<'a, ()> {
        (**self).update_role(name, description, max_session)
    }
    fn update_trust_policy<'a>(&'a self, name: &'a str, document: &'a str) -> ManageFuture<'a, ()> {
        (**self).update_trust_policy(name, document)
    }
    fn tag_role<'a>(
        &'a self,
        name: &'a str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ManageFuture<'a, ()> {
        (**self).tag_role(name, add, remove)
    }
}

/// The size IAM counts for a policy document: every character but tab, line feed, carriage
/// return and space.
pub fn policy_size(document: &str) -> usize {
    document
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r' | ' '))
        .count()
}

/// `(path, name)` of an IAM ARN's resource part after `kind/` (`user/a/b/alice` → `/a/b/`,
/// `alice`).
pub(crate) fn path_and_name<'a>(arn: &'a str, kind: &str) -> Option<(String, &'a str)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let rest = resource.strip_prefix(kind)?.strip_prefix('/')?;
    let (path, name) = match rest.rfind('/') {
        Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
        None => ("/".to_owned(), rest),
    };
    Some((path, name))
}

fn sorted_tags(tags: &BTreeMap<String, String>) -> Vec<(String, String)> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn user_record(user: &User, created: i64) -> Option<UserRecord> {
    let (path, name) = path_and_name(user.arn(), "user")?;
    Some(UserRecord {
        path,
        name: name.to_owned(),
        user_id: user.user_id().to_owned(),
        arn: user.arn().to_owned(),
        created,
        tags: sorted_tags(user.tags()),
    })
}

fn role_record(role: &Role, created: i64) -> Option<RoleRecord> {
    let (path, name) = path_and_name(role.arn(), "role")?;
    Some(RoleRecord {
        path,
        name: name.to_owned(),
        role_id: role.role_id().to_owned(),
        arn: role.arn().to_owned(),
        created,
        trust_policy: role.trust_policy().source().unwrap_or_default().to_owned(),
        description: None,
        max_session: u32::try_from(role.max_session().as_secs()).unwrap_or(u32::MAX),
        tags: sorted_tags(role.tags()),
        last_used: None,
    })
}

fn page_of<T>(mut items: Vec<T>, key: impl Fn(&T) -> String, page: &PageRequest) -> Page<T> {
    items.sort_by_key(|i| key(i));
    if let Some(after) = &page.after {
        items.retain(|i| key(i) > *after);
    }
    let truncated = items.len() > page.max_items;
    items.truncate(page.max_items);
    Page { items, truncated }
}

/// The TOML file's identities, read-only: the IAM API answers its reads (in the store's
/// account, `created` being when the file was loaded) and refuses every write.
#[derive(Clone, Debug)]
pub struct ReadOnlyStore {
    store: SharedStore,
    account: String,
    loaded: i64,
}

impl ReadOnlyStore {
    /// The identities of `store` in `account`, loaded at `loaded` (Unix seconds).
    pub fn new(store: SharedStore, account: impl Into<String>, loaded: i64) -> Self {
        Self {
            store,
            account: account.into(),
            loaded,
        }
    }

    fn snapshot(&self) -> Arc<IdentityStore> {
        self.store.snapshot()
    }

    fn user(&self, name: &str) -> Result<UserRecord, ManageError> {
        let snapshot = self.snapshot();
        let found = snapshot
            .users()
            .filter(|u| u.account() == self.account)
            .filter_map(|u| user_record(u, self.loaded))
            .find(|u| u.name.eq_ignore_ascii_case(name));
        found.ok_or_else(|| ManageError::NoSuchUser(name.to_owned()))
    }

    fn role(&self, name: &str) -> Result<RoleRecord, ManageError> {
        let snapshot = self.snapshot();
        let found = snapshot
            .roles()
            .filter(|r| r.account() == self.account)
            .filter_map(|r| role_record(r, self.loaded))
            .find(|r| r.name.eq_ignore_ascii_case(name));
        found.ok_or_else(|| ManageError::NoSuchRole(name.to_owned()))
    }
}

fn ready<'a, T: Send + 'a>(result: Result<T, ManageError>) -> ManageFuture<'a, T> {
    Box::pin(std::future::ready(result))
}

fn refused<'a, T: Send + 'a>() -> ManageFuture<'a, T> {
    ready(Err(ManageError::ReadOnly))
}

impl ManageIdentities for ReadOnlyStore {
    fn account(&self) -> &str {
        &self.account
    }
    fn read_only(&self) -> bool {
        true
    }
    fn get_user<'a>(&'a self, name: &'a str) -> ManageFuture<'a, UserRecord> {
        ready(self.user(name))
    }
    fn get_user_by_arn<'a>(&'a self, arn: &'a str) -> ManageFuture<'a, Option<UserRecord>> {
        let snapshot = self.snapshot();
        ready(Ok(snapshot
            .user(arn)
            .and_then(|u| user_record(u, self.loaded))))
    }
    fn list_users<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<UserRecord>> {
        let snapshot = self.snapshot();
        let users = snapshot
            .users()
            .filter(|u| u.account() == self.account)
            .filter_map(|u| user_record(u, self.loaded))
            .filter(|u| u.path.starts_with(path_prefix))
            .collect();
        ready(Ok(page_of(users, |u| u.name.to_ascii_lowercase(), &page)))
    }
    fn create_user(&self, _user: NewUser) -> ManageFuture<'_, UserRecord> {
        refused()
    }
    fn delete_user<'a>(&'a self, _name: &'a str) -> ManageFuture<'a, ()> {
        refused()
    }
    fn tag_user<'a>(
        &'a self,
        _name: &'a str,
        _add: Vec<(String, String)>,
        _remove: Vec<String>,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
    fn create_access_key<'a>(
        &'a self,
        _user: &'a str,
        _access_key_id: &'a str,
        _secret: &'a SecretKey,
    ) -> ManageFuture<'a, AccessKeyRecord> {
        refused()
    }
    fn list_access_keys<'a>(
        &'a self,
        user: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<AccessKeyRecord>> {
        let record = match self.user(user) {
            Ok(r) => r,
            Err(e) => return ready(Err(e)),
        };
        let snapshot = self.snapshot();
        let keys = snapshot
            .user(&record.arn)
            .map(|u| {
                u.access_keys()
                    .iter()
                    .map(|k| AccessKeyRecord {
                        user_name: record.name.clone(),
                        access_key_id: k.id().to_owned(),
                        status: if k.is_active() {
                            KeyStatus::Active
                        } else {
                            KeyStatus::Inactive
                        },
                        created: self.loaded,
                        last_used: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        ready(Ok(page_of(keys, |k| k.access_key_id.clone(), &page)))
    }
    fn update_access_key<'a>(
        &'a self,
        _user: &'a str,
        _access_key_id: &'a str,
        _status: KeyStatus,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
    fn delete_access_key<'a>(
        &'a self,
        _user: &'a str,
        _access_key_id: &'a str,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
    fn get_access_key<'a>(
        &'a self,
        access_key_id: &'a str,
    ) -> ManageFuture<'a, Option<AccessKeyRecord>> {
        let snapshot = self.snapshot();
        let found = snapshot.users().find_map(|u| {
            let key = u.access_keys().iter().find(|k| k.id() == access_key_id)?;
            let (_, name) = path_and_name(u.arn(), "user")?;
            Some(AccessKeyRecord {
                user_name: name.to_owned(),
                access_key_id: key.id().to_owned(),
                status: if key.is_active() {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                },
                created: self.loaded,
                last_used: None,
            })
        });
        ready(Ok(found))
    }
    fn put_policy<'a>(
        &'a self,
        _entity: Entity,
        _owner: &'a str,
        _policy_name: &'a str,
        _document: &'a str,
        _limit: usize,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
    fn get_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
    ) -> ManageFuture<'a, (String, String)> {
        ready(self.policies(entity, owner).and_then(|names| {
            names
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(policy_name))
                .ok_or_else(|| ManageError::NoSuchPolicy(entity, policy_name.to_owned()))
        }))
    }
    fn list_policies<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<String>> {
        ready(self.policies(entity, owner).map(|p| {
            page_of(
                p.into_iter().map(|(n, _)| n).collect(),
                |n| n.to_ascii_lowercase(),
                &page,
            )
        }))
    }
    fn delete_policy<'a>(
        &'a self,
        _entity: Entity,
        _owner: &'a str,
        _policy_name: &'a str,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
    fn get_role<'a>(&'a self, name: &'a str) -> ManageFuture<'a, RoleRecord> {
        ready(self.role(name))
    }
    fn list_roles<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<RoleRecord>> {
        let snapshot = self.snapshot();
        let roles = snapshot
            .roles()
            .filter(|r| r.account() == self.account)
            .filter_map(|r| role_record(r, self.loaded))
            .filter(|r| r.path.starts_with(path_prefix))
            .collect();
        ready(Ok(page_of(roles, |r| r.name.to_ascii_lowercase(), &page)))
    }
    fn create_role(&self, _role: NewRole) -> ManageFuture<'_, RoleRecord> {
        refused()
    }
    fn delete_role<'a>(&'a self, _name: &'a str) -> ManageFuture<'a, ()> {
        refused()
    }
    fn update_role<'a>(
        &'a self,
        _name: &'a str,
        _description: Option<String>,
        _max_session: Option<u32>,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
    fn update_trust_policy<'a>(
        &'a self,
        _name: &'a str,
        _document: &'a str,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
    fn tag_role<'a>(
        &'a self,
        _name: &'a str,
        _add: Vec<(String, String)>,
        _remove: Vec<String>,
    ) -> ManageFuture<'a, ()> {
        refused()
    }
}

impl ReadOnlyStore {
    /// The inline policies of a user or role of the file: (name, document). The file's
    /// policies have no names: they are `policy-0`, `policy-1`, … in file order.
    fn policies(&self, entity: Entity, owner: &str) -> Result<Vec<(String, String)>, ManageError> {
        let snapshot = self.snapshot();
        let docs: Vec<String> = match entity {
            Entity::User => {
                let arn = self.user(owner)?.arn;
                snapshot
                    .user(&arn)
                    .map(|u| {
                        u.policies()
                            .iter()
                            .map(|p| p.source().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            }
            Entity::Role => {
                let arn = self.role(owner)?.arn;
                snapshot
                    .role(&arn)
                    .map(|r| {
                        r.policies()
                            .iter()
                            .map(|p| p.source().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            }
        };
        Ok(docs
            .into_iter()
            .enumerate()
            .map(|(i, d)| (format!("policy-{i}"), d))
            .collect())
    }
}
