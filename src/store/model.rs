//! Users, roles and their access keys: the identity model.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::credentials::{KeyError, KeyRequest, ResolvedKey, SecretKey, StaticKeys};
use crate::iam::{Policy, PolicyKind};

use crate::principal::Principal;

/// The default `MaxSessionDuration` of a role (one hour), as in IAM.
pub const DEFAULT_MAX_SESSION: Duration = Duration::from_secs(3600);

/// A mistake in the identity model, found when it is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    what: String,
}

impl StoreError {
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Self { what: what.into() }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for StoreError {}

/// An access key of a user.
#[derive(Clone)]
pub struct AccessKey {
    id: String,
    secret: SecretKey,
    active: bool,
}

impl AccessKey {
    /// The access key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the key may sign requests.
    pub fn is_active(&self) -> bool {
        self.active
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &self.secret)
            .field("active", &self.active)
            .finish()
    }
}

/// An IAM user: its ARN (which names the account), unique id, access keys, identity
/// policies and tags.
#[derive(Clone, Debug)]
pub struct User {
    arn: String,
    account: String,
    user_id: String,
    access_keys: Vec<AccessKey>,
    policies: Vec<Policy>,
    tags: BTreeMap<String, String>,
}

impl User {
    /// A user from its ARN, `arn:aws:iam::ACCOUNT:user/[PATH/]NAME`. Its unique id (`AIDA…`)
    /// is derived from the ARN, so every replica agrees on it; see [`User::with_user_id`].
    pub fn new(arn: impl Into<String>) -> Result<Self, StoreError> {
        let arn = arn.into();
        let account = iam_arn_account(&arn, "user/")?;
        Ok(Self {
            user_id: unique_id("AIDA", &arn),
            account,
            arn,
            access_keys: Vec::new(),
            policies: Vec::new(),
            tags: BTreeMap::new(),
        })
    }

    /// Sets the unique id (`aws:userid`) instead of the derived one.
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = user_id.into();
        self
    }

    /// Adds an active access key.
    pub fn with_access_key(self, id: impl Into<String>, secret: impl Into<SecretKey>) -> Self {
        self.with_key(id.into(), secret.into(), true)
    }

    /// Adds an inactive access key: it exists but signs nothing.
    pub fn with_inactive_access_key(
        self,
        id: impl Into<String>,
        secret: impl Into<SecretKey>,
    ) -> Self {
        self.with_key(id.into(), secret.into(), false)
    }

    fn with_key(mut self, id: String, secret: SecretKey, active: bool) -> Self {
        self.access_keys.push(AccessKey { id, secret, active });
        self
    }

    /// Adds an identity policy (parse it as [`PolicyKind::Identity`]).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Adds a tag (`aws:PrincipalTag/KEY`).
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// The user's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The account the user belongs to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The unique id (`aws:userid`).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The access keys, active or not.
    pub fn access_keys(&self) -> &[AccessKey] {
        &self.access_keys
    }

    /// The identity policies.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The tags.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }

    fn principal(&self) -> Principal {
        self.tags.iter().fold(
            Principal::user(self.arn.clone(), self.user_id.clone()),
            |p, (k, v)| p.with_tag(k.clone(), v.clone()),
        )
    }
}

/// An IAM role: who may assume it (its trust policy), what its sessions may do (its
/// permission policies), how long a session may last, and its tags.
#[derive(Clone, Debug)]
pub struct Role {
    arn: String,
    account: String,
    role_id: String,
    trust_policy: Policy,
    policies: Vec<Policy>,
    max_session: Duration,
    tags: BTreeMap<String, String>,
}

impl Role {
    /// A role from its ARN, `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`, and its trust policy
    /// (parse it as [`PolicyKind::Trust`]). Its unique id (`AROA…`) is derived from the ARN.
    pub fn new(arn: impl Into<String>, trust_policy: Policy) -> Result<Self, StoreError> {
        let arn = arn.into();
        let account = iam_arn_account(&arn, "role/")?;
        if trust_policy.kind() != PolicyKind::Trust {
            return Err(StoreError::new(format!(
                "role \"{arn}\": the trust policy must be parsed as a trust policy"
            )));
        }
        Ok(Self {
            role_id: unique_id("AROA", &arn),
            account,
            arn,
            trust_policy,
            policies: Vec::new(),
            max_session: DEFAULT_MAX_SESSION,
            tags: BTreeMap::new(),
        })
    }

    /// Sets the unique id instead of the derived one.
    pub fn with_role_id(mut self, role_id: impl Into<String>) -> Self {
        self.role_id = role_id.into();
        self
    }

    /// Adds a permission policy (parse it as [`PolicyKind::Identity`]).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Sets the maximum session duration, 1 to 12 hours (default 1 hour).
    pub fn with_max_session(mut self, max: Duration) -> Result<Self, StoreError> {
        if !(3600..=43200).contains(&max.as_secs()) {
            return Err(StoreError::new(format!(
                "role \"{}\": max_session_seconds must be between 3600 and 43200, got {}",
                self.arn,
                max.as_secs()
            )));
        }
        self.max_session = max;
        Ok(self)
    }

    /// Adds a tag (`aws:PrincipalTag/KEY` of its sessions, unless a session tag overrides it).
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// The role's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The account the role belongs to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The unique id (`AROA…`).
    pub fn role_id(&self) -> &str {
        &self.role_id
    }

    /// The trust policy.
    pub fn trust_policy(&self) -> &Policy {
        &self.trust_policy
    }

    /// The permission policies.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The maximum session duration.
    pub fn max_session(&self) -> Duration {
        self.max_session
    }

    /// The tags.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
}

/// Accounts, users and roles: the model behind [`SharedStore`](super::SharedStore)'s key
/// provider, the IAM authorizer's identity policies and the STS service. Immutable once built;
/// reloading builds a new one. Temporary credentials are not the store's business: the STS
/// module's `SessionKeys` opens their tokens around any key provider.
#[derive(Clone, Default)]
pub struct IdentityStore {
    users: HashMap<String, Arc<User>>,
    roles: HashMap<String, Arc<Role>>,
    policies: HashMap<String, Arc<[Policy]>>,
    keys: StaticKeys,
    key_count: usize,
}

impl fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityStore")
            .field("users", &self.users.len())
            .field("roles", &self.roles.len())
            .field("access_keys", &self.key_count)
            .finish()
    }
}

impl IdentityStore {
    /// A builder.
    pub fn builder() -> IdentityStoreBuilder {
        IdentityStoreBuilder::default()
    }

    /// The user with this ARN.
    pub fn user(&self, arn: &str) -> Option<&User> {
        self.users.get(arn).map(|u| &**u)
    }

    /// The role with this ARN.
    pub fn role(&self, arn: &str) -> Option<&Role> {
        self.roles.get(arn).map(|r| &**r)
    }

    /// The role with this ARN, shared.
    pub fn shared_role(&self, arn: &str) -> Option<Arc<Role>> {
        self.roles.get(arn).cloned()
    }

    /// All users, in no particular order.
    pub fn users(&self) -> impl Iterator<Item = &User> + '_ {
        self.users.values().map(|u| &**u)
    }

    /// All roles, in no particular order.
    pub fn roles(&self) -> impl Iterator<Item = &Role> + '_ {
        self.roles.values().map(|r| &**r)
    }

    /// The accounts that have a user or a role, sorted.
    pub fn accounts(&self) -> BTreeSet<&str> {
        self.users
            .values()
            .map(|u| u.account.as_str())
            .chain(self.roles.values().map(|r| r.account.as_str()))
            .collect()
    }

    /// The identity policies of a user ARN or a role ARN (a session's `aws:PrincipalArn`);
    /// empty for anyone else.
    pub fn identity_policies(&self, principal_arn: &str) -> &[Policy] {
        self.policies.get(principal_arn).map_or(&[], |p| p)
    }

    /// Like [`IdentityStore::identity_policies`], shared.
    pub fn shared_identity_policies(&self, principal_arn: &str) -> Option<Arc<[Policy]>> {
        self.policies.get(principal_arn).cloned()
    }

    /// Resolves an access key: a user's long-term key (refused with any session token).
    pub fn resolve_key(&self, request: &KeyRequest<'_>) -> Result<ResolvedKey, KeyError> {
        self.keys.resolve(request)
    }
}

/// Builds an [`IdentityStore`], checking that ARNs and access key ids are unique.
#[derive(Debug, Default)]
pub struct IdentityStoreBuilder {
    users: Vec<User>,
    roles: Vec<Role>,
}

impl IdentityStoreBuilder {
    /// Adds a user.
    pub fn user(mut self, user: User) -> Self {
        self.users.push(user);
        self
    }

    /// Adds a role.
    pub fn role(mut self, role: Role) -> Self {
        self.roles.push(role);
        self
    }

    /// Checks and builds the store.
    pub fn build(self) -> Result<IdentityStore, StoreError> {
        let mut store = IdentityStore::default();
        let mut keys = StaticKeys::new();
        let mut key_owner: HashMap<String, String> = HashMap::new();
        for user in self.users {
            for key in &user.access_keys {
                check_access_key_id(&key.id, &user.arn)?;
                if let Some(owner) = key_owner.insert(key.id.clone(), user.arn.clone()) {
                    let whose = if owner == user.arn {
                        format!("for user \"{owner}\"")
                    } else {
                        format!("(users \"{owner}\" and \"{}\")", user.arn)
                    };
                    return Err(StoreError::new(format!(
                        "access key \"{}\" is given twice {whose}",
                        key.id
                    )));
                }
                keys = if key.active {
                    keys.with_key(key.id.clone(), key.secret.clone(), user.principal())
                } else {
                    keys.with_inactive_key(key.id.clone(), key.secret.clone(), user.principal())
                };
            }
            if store.users.contains_key(&user.arn) {
                return Err(StoreError::new(format!(
                    "user \"{}\" is given twice",
                    user.arn
                )));
            }
            store
                .policies
                .insert(user.arn.clone(), user.policies.as_slice().into());
            store.users.insert(user.arn.clone(), Arc::new(user));
        }
        for role in self.roles {
            if store.roles.contains_key(&role.arn) {
                return Err(StoreError::new(format!(
                    "role \"{}\" is given twice",
                    role.arn
                )));
            }
            store
                .policies
                .insert(role.arn.clone(), role.policies.as_slice().into());
            store.roles.insert(role.arn.clone(), Arc::new(role));
        }
        store.key_count = key_owner.len();
        store.keys = keys;
        Ok(store)
    }
}

/// The account of `arn:PARTITION:iam::ACCOUNT:KIND/…`, or why the ARN is not one.
fn iam_arn_account(arn: &str, kind: &str) -> Result<String, StoreError> {
    let what = kind.trim_end_matches('/');
    let mut parts = arn.splitn(6, ':');
    let fields: Vec<&str> = parts.by_ref().collect();
    let valid = match fields.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            !partition.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.len() > kind.len()
                && resource.starts_with(kind)
                && !resource.ends_with('/')
                && !resource.contains(['*', '?'])
        }
        _ => false,
    };
    match fields.get(4) {
        Some(account) if valid => Ok((*account).to_owned()),
        _ => Err(StoreError::new(format!(
            "\"{arn}\" is not an IAM {what} ARN (arn:aws:iam::ACCOUNT:{kind}NAME)"
        ))),
    }
}

/// `PREFIX` and 17 characters of `[A-Z2-7]` derived from `arn`: stable across replicas.
fn unique_id(prefix: &str, arn: &str) -> String {
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(arn.as_bytes());
    let mut id = String::with_capacity(21);
    id.push_str(prefix);
    id.extend(
        digest
            .iter()
            .take(17)
            .map(|b| char::from(BASE32.get(usize::from(b & 31)).copied().unwrap_or(b'A'))),
    );
    id
}

fn check_access_key_id(id: &str, user: &str) -> Result<(), StoreError> {
    if !(1..=128).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(StoreError::new(format!(
            "user \"{user}\": access key id \"{id}\" must be 1 to 128 letters and digits"
        )));
    }
    if id.starts_with("ASIA") {
        return Err(StoreError::new(format!(
            "user \"{user}\": access key id \"{id}\" starts with ASIA, which marks temporary credentials"
        )));
    }
    Ok(())
}
