//! Who signed the request.
//!
//! ```
//! use tower_sigv4::{Principal, PrincipalType};
//!
//! let alice = Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLEALICE00001")
//!     .with_tag("team", "blue");
//! assert_eq!(alice.account(), "123456789012");
//! assert_eq!(alice.principal_type(), PrincipalType::User);
//! assert_eq!(alice.username(), Some("alice"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// The kind of principal, as `aws:PrincipalType` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrincipalType {
    /// An IAM user (`arn:aws:iam::ACCOUNT:user/NAME`).
    User,
    /// A role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole,
    /// The account root (`arn:aws:iam::ACCOUNT:root`).
    Account,
}

impl PrincipalType {
    /// The value of `aws:PrincipalType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::AssumedRole => "AssumedRole",
            Self::Account => "Account",
        }
    }
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a role session carries beyond its ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The full role ARN, path included (`aws:PrincipalArn` of the session).
    pub role_arn: String,
    /// The role's unique id (`AROA…`).
    pub role_id: String,
    /// The session name.
    pub session_name: String,
    /// When the credentials were issued (`aws:TokenIssueTime`).
    pub issued_at: SystemTime,
    /// When they expire.
    pub expires_at: SystemTime,
    /// The session policy passed to AssumeRole, if any (JSON).
    pub session_policy: Option<String>,
    /// Whether the session was assumed by another role session (role chaining).
    pub chained: bool,
}

impl SessionInfo {
    /// A session of `role_arn` named `session_name`.
    pub fn new(
        role_arn: impl Into<String>,
        role_id: impl Into<String>,
        session_name: impl Into<String>,
        issued_at: SystemTime,
        expires_at: SystemTime,
    ) -> Self {
        Self {
            role_arn: role_arn.into(),
            role_id: role_id.into(),
            session_name: session_name.into(),
            issued_at,
            expires_at,
            session_policy: None,
            chained: false,
        }
    }

    /// With a session policy.
    pub fn with_session_policy(mut self, policy: impl Into<String>) -> Self {
        self.session_policy = Some(policy.into());
        self
    }

    /// Marks the session as assumed by a role session.
    pub fn chained(mut self, chained: bool) -> Self {
        self.chained = chained;
        self
    }
}

/// The verified identity of a caller. The layer puts it in the request's extensions.
///
/// Cheap to clone (one `Arc`): a key provider hands out its stored principal without copying.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    inner: Arc<Inner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    arn: String,
    account: String,
    user_id: String,
    principal_type: PrincipalType,
    tags: BTreeMap<String, String>,
    session: Option<SessionInfo>,
    access_key_id: String,
    /// The policy engine's view of this principal, built on first use.
    #[cfg(feature = "iam")]
    caller: CallerCache,
}

/// The [`Caller`](crate::iam::Caller) built from a principal, kept with it. Not part of the
/// principal's value: equal principals are equal whatever their caches hold, and a changed
/// principal starts with an empty one.
#[cfg(feature = "iam")]
#[derive(Default)]
struct CallerCache(std::sync::OnceLock<Result<crate::iam::Caller, crate::iam::CallerError>>);

#[cfg(feature = "iam")]
impl Clone for CallerCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

#[cfg(feature = "iam")]
impl PartialEq for CallerCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[cfg(feature = "iam")]
impl Eq for CallerCache {}

#[cfg(feature = "iam")]
impl fmt::Debug for CallerCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallerCache")
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Principal")
            .field("arn", &i.arn)
            .field("account", &i.account)
            .field("user_id", &i.user_id)
            .field("principal_type", &i.principal_type)
            .field("tags", &i.tags)
            .field("session", &i.session)
            .field("access_key_id", &i.access_key_id)
            .finish()
    }
}

/// The account of an ARN (its fifth `:`-separated field).
pub(crate) fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

impl Principal {
    /// A principal with an explicit type and account.
    pub fn new(
        arn: impl Into<String>,
        account: impl Into<String>,
        principal_type: PrincipalType,
        user_id: impl Into<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                arn: arn.into(),
                account: account.into(),
                user_id: user_id.into(),
                principal_type,
                tags: BTreeMap::new(),
                session: None,
                access_key_id: String::new(),
                #[cfg(feature = "iam")]
                caller: CallerCache::default(),
            }),
        }
    }

    /// An IAM user; the account is read from the ARN.
    pub fn user(arn: impl Into<String>, user_id: impl Into<String>) -> Self {
        let arn = arn.into();
        let account = arn_account(&arn).to_owned();
        Self::new(arn, account, PrincipalType::User, user_id)
    }

    /// A role session. The session ARN `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` drops
    /// the role path; `aws:userid` is `ROLE_ID:SESSION`.
    pub fn assumed_role(session: SessionInfo) -> Self {
        let account = arn_account(&session.role_arn).to_owned();
        let role_name = session
            .role_arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let arn = format!(
            "arn:aws:sts::{account}:assumed-role/{role_name}/{}",
            session.session_name
        );
        let user_id = format!("{}:{}", session.role_id, session.session_name);
        Self {
            inner: Arc::new(Inner {
                arn,
                account,
                user_id,
                principal_type: PrincipalType::AssumedRole,
                tags: BTreeMap::new(),
                session: Some(session),
                access_key_id: String::new(),
                #[cfg(feature = "iam")]
                caller: CallerCache::default(),
            }),
        }
    }

    /// Adds a tag (`aws:PrincipalTag/KEY`).
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let inner = Arc::make_mut(&mut self.inner);
        inner.tags.insert(key.into(), value.into());
        #[cfg(feature = "iam")]
        {
            inner.caller = CallerCache::default();
        }
        self
    }

    /// Sets the access key id the caller signed with (the verifier does this).
    pub fn with_access_key_id(mut self, access_key_id: impl Into<String>) -> Self {
        let inner = Arc::make_mut(&mut self.inner);
        inner.access_key_id = access_key_id.into();
        #[cfg(feature = "iam")]
        {
            inner.caller = CallerCache::default();
        }
        self
    }

    /// The policy engine's caller for this principal: built by `build` the first time, then
    /// shared (a reference-count bump).
    #[cfg(feature = "iam")]
    pub(crate) fn caller(
        &self,
        build: impl FnOnce() -> Result<crate::iam::Caller, crate::iam::CallerError>,
    ) -> Result<crate::iam::Caller, crate::iam::CallerError> {
        self.inner.caller.0.get_or_init(build).clone()
    }

    /// The caller's ARN: the user ARN, or the session ARN for temporary credentials.
    pub fn arn(&self) -> &str {
        &self.inner.arn
    }

    /// The caller's account id.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// `aws:userid`: `AIDA…` for users, `AROA…:SESSION` for sessions.
    pub fn user_id(&self) -> &str {
        &self.inner.user_id
    }

    /// `aws:username` (users only): the last segment of the user ARN.
    pub fn username(&self) -> Option<&str> {
        match self.inner.principal_type {
            PrincipalType::User => self.inner.arn.rsplit('/').next(),
            _ => None,
        }
    }

    /// The principal type.
    pub fn principal_type(&self) -> PrincipalType {
        self.inner.principal_type
    }

    /// `aws:PrincipalArn`: the user ARN, or for a session the full role ARN.
    pub fn principal_arn(&self) -> &str {
        match &self.inner.session {
            Some(s) => &s.role_arn,
            None => &self.inner.arn,
        }
    }

    /// Tags.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.inner.tags
    }

    /// Session details, for temporary credentials.
    pub fn session(&self) -> Option<&SessionInfo> {
        self.inner.session.as_ref()
    }

    /// The access key id the request was signed with.
    pub fn access_key_id(&self) -> &str {
        &self.inner.access_key_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_arn_drops_the_role_path() {
        let t = SystemTime::UNIX_EPOCH;
        let p = Principal::assumed_role(SessionInfo::new(
            "arn:aws:iam::123456789012:role/team/Invoker",
            "AROAEXAMPLEROLEID0001",
            "s1",
            t,
            t,
        ));
        assert_eq!(p.arn(), "arn:aws:sts::123456789012:assumed-role/Invoker/s1");
        assert_eq!(
            p.principal_arn(),
            "arn:aws:iam::123456789012:role/team/Invoker"
        );
        assert_eq!(p.user_id(), "AROAEXAMPLEROLEID0001:s1");
        assert_eq!(p.account(), "123456789012");
        assert_eq!(p.username(), None);
    }

    /// The caller kept with a principal is built once, shared by its clones, not part of its
    /// value, and rebuilt after a change.
    #[cfg(feature = "iam")]
    #[test]
    fn the_kept_caller_follows_the_principal() {
        use crate::iam::Caller;
        let alice = Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAALICE")
            .with_tag("team", "red");
        let first = Caller::try_from(&alice).unwrap();
        assert_eq!(first.tag("team"), Some("red"));
        let shared = alice.clone();
        assert!(Arc::ptr_eq(
            &first.inner_for_tests(),
            &Caller::try_from(&shared).unwrap().inner_for_tests()
        ));
        // Equal to a principal whose caller was never built.
        let fresh = Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAALICE")
            .with_tag("team", "red");
        assert_eq!(alice, fresh);
        // A changed principal gets a new caller, also when nothing else holds it (changed in
        // place, its kept caller dropped).
        drop(shared);
        drop(fresh);
        let retagged = alice.with_tag("team", "blue");
        let again = Caller::try_from(&retagged).unwrap();
        assert_eq!(again.tag("team"), Some("blue"));
        assert_eq!(first.tag("team"), Some("red"));
    }
}
