//! Where the gateway's identities live: the configuration file (read-only) or a database
//! (`[store] url`), its key, `init` and `import-config`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_sigv4::iam::ApiContext;
use tower_sigv4::store::db::{DbErrorKind, DbSettings, DbStore, InitialAdmin, StoreKey};
use tower_sigv4::store::{
    DynSource, Entity, KeyStatus, ManageIdentities, NewRole, NewUser, ReadOnlyStore, SharedStore,
};
use tower_sigv4::SecretKey;

use crate::config::GatewayConfig;
use crate::BoxError;

/// The environment variable holding the store key (base64 of 32 bytes).
pub const STORE_KEY_ENV: &str = "SIGV4_STORE_KEY";

/// What the gateway reads identities from and the IAM API writes to.
#[derive(Clone)]
pub struct GatewayIdentities {
    /// Keys, identity policies and roles.
    pub source: DynSource,
    /// The IAM operations.
    pub manage: Arc<dyn ManageIdentities>,
    /// The database store, when there is one.
    pub db: Option<DbStore>,
}

impl std::fmt::Debug for GatewayIdentities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayIdentities")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl GatewayIdentities {
    /// The identities of the configuration file, read-only for the IAM API.
    pub fn file(store: SharedStore, account: &str) -> Self {
        let loaded = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        Self {
            source: DynSource::new(store.clone()),
            manage: Arc::new(ReadOnlyStore::new(store, account, loaded)),
            db: None,
        }
    }

    /// The identities of a database store.
    pub fn database(db: DbStore) -> Self {
        Self {
            source: DynSource::new(db.clone()),
            manage: Arc::new(db.clone()),
            db: Some(db),
        }
    }
}

/// The file of a `sqlite://` URL.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// `<database file>.key`, the default key file of a SQLite store.
pub fn default_key_file(url: &str) -> Option<PathBuf> {
    sqlite_file(url).map(|p| {
        let mut name = p.into_os_string();
        name.push(".key");
        PathBuf::from(name)
    })
}

/// The store key: `key_file`, else `SIGV4_STORE_KEY`, else (SQLite) `<database file>.key`.
/// `Ok(None)`: SQLite with no key anywhere yet (only `init` may then create one).
fn find_key(url: &str, key_file: Option<&Path>) -> Result<Option<StoreKey>, BoxError> {
    if let Some(path) = key_file {
        return Ok(Some(StoreKey::from_file(path)?));
    }
    if let Ok(text) = std::env::var(STORE_KEY_ENV) {
        return Ok(Some(
            StoreKey::from_base64(&text).map_err(|e| format!("{STORE_KEY_ENV}: {e}"))?,
        ));
    }
    match default_key_file(url) {
        Some(path) if path.exists() => Ok(Some(StoreKey::from_file(&path)?)),
        Some(_) => Ok(None),
        None if url.starts_with("sqlite:") => Err(format!(
            "an in-memory SQLite store needs [store] key_file or {STORE_KEY_ENV}"
        )
        .into()),
        None => Err(format!(
            "a PostgreSQL store needs its key: [store] key_file or {STORE_KEY_ENV} (base64 of 32 bytes)"
        )
        .into()),
    }
}

/// Opens the database store of `url` for `api`'s account.
pub async fn open(
    url: &str,
    key_file: Option<&Path>,
    api: ApiContext,
) -> Result<DbStore, BoxError> {
    let key = find_key(url, key_file)?.ok_or_else(|| {
        format!(
            "no store key: give [store] key_file or {STORE_KEY_ENV}, or run `sigv4-gateway init` (which writes {})",
            default_key_file(url).map(|p| p.display().to_string()).unwrap_or_default()
        )
    })?;
    let account = api.account.clone();
    let db = DbStore::connect(url, key, DbSettings::default().with_api(api)).await?;
    if db.account() != account {
        return Err(format!(
            "the store holds account {}, but [api] account is {account}",
            db.account()
        )
        .into());
    }
    Ok(db)
}

/// What `init` prints once: the administrator and its key.
#[derive(Debug)]
pub struct Initialised {
    /// `arn:aws:iam::ACCOUNT:user/admin`.
    pub arn: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key, shown once.
    pub secret: SecretKey,
    /// The key file written (SQLite without a configured key).
    pub key_file: Option<PathBuf>,
}

/// The administrator's policy: all of IAM and `execute-api:Invoke` in `account`, and
/// assuming its roles.
pub fn admin_policy(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Iam","Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::{account}:*"}},{{"Sid":"Invoke","Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:{account}:*"}},{{"Sid":"Roles","Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"arn:aws:iam::{account}:role/*"}}]}}"#
    )
}

/// Creates the schema and the first administrator (`admin` at `/`) of a new store.
///
/// # Errors
///
/// A store initialised already (nothing is changed), a bad account, a store that cannot be
/// reached.
pub async fn init(
    url: &str,
    key_file: Option<&Path>,
    account: &str,
) -> Result<Initialised, BoxError> {
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("\"{account}\" is not a twelve-digit account id").into());
    }
    let (key, new_key_file) = match find_key(url, key_file)? {
        Some(key) => (key, None),
        None => (StoreKey::generate(), default_key_file(url)),
    };
    let (access_key_id, secret) = tower_sigv4::store::new_access_key();
    let admin = InitialAdmin::new(
        account,
        "admin",
        "administrator",
        admin_policy(account),
        access_key_id.clone(),
        secret.clone(),
    );
    match DbStore::init(url, &key, &admin).await {
        Ok(()) => {}
        Err(e) if e.kind() == DbErrorKind::AlreadyInitialised => return Err(e.to_string().into()),
        Err(e) => return Err(e.into()),
    }
    if let Some(path) = &new_key_file {
        write_key_file(path, &key)?;
    }
    Ok(Initialised {
        arn: format!("arn:aws:iam::{account}:user/admin"),
        access_key_id,
        secret,
        key_file: new_key_file,
    })
}

fn write_key_file(path: &Path, key: &StoreKey) -> Result<(), BoxError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create the key file {}: {e}", path.display()))?;
    file.write_all(key.to_base64().as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

/// Re-seals the secrets of `url` under the key in `new_key_file`.
pub async fn rotate(
    url: &str,
    key_file: Option<&Path>,
    new_key_file: &Path,
) -> Result<usize, BoxError> {
    let old = find_key(url, key_file)?.ok_or("no current store key found")?;
    let new = StoreKey::from_file(new_key_file)?;
    Ok(DbStore::rotate_key(url, &old, &new).await?)
}

/// What `import-config` did.
#[derive(Debug, Default)]
pub struct Imported {
    /// Users created.
    pub users: usize,
    /// Roles created.
    pub roles: usize,
    /// Access keys stored.
    pub keys: usize,
}

/// Copies the users and roles of `config` (its `[[user]]` and `[[role]]`) into the database
/// store of `url`, once: a user or role that exists already is an error, and what came
/// before it stays.
pub async fn import(
    config: &GatewayConfig,
    url: &str,
    key_file: Option<&Path>,
) -> Result<Imported, BoxError> {
    // The same checks as a gateway start: every policy and ARN must load.
    config.identity_store()?;
    let api = config.api_context()?;
    let db = open(url, key_file, api).await?;
    let account = db.account().to_owned();
    let mut done = Imported::default();
    let split = |arn: &str, kind: &str| -> Result<(String, String), BoxError> {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
        let rest = resource
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| format!("{arn}: not an IAM {kind} ARN"))?;
        Ok(match rest.rfind('/') {
            Some(i) => (format!("/{}", &rest[..=i]), rest[i + 1..].to_owned()),
            None => ("/".to_owned(), rest.to_owned()),
        })
    };
    for user in &config.user {
        if !user.arn.contains(&format!(":{account}:")) {
            return Err(format!("{}: not in the store's account {account}", user.arn).into());
        }
        let (path, name) = split(&user.arn, "user")?;
        db.create_user(NewUser::from_parts(
            path,
            name.clone(),
            user.tags.clone().into_iter().collect(),
        ))
        .await
        .map_err(|e| format!("user {}: {e}", user.arn))?;
        for (i, doc) in user.policies.iter().enumerate() {
            db.put_policy(Entity::User, &name, &format!("policy-{i}"), doc, usize::MAX)
                .await
                .map_err(|e| format!("user {} policy {i}: {e}", user.arn))?;
        }
        for key in &user.access_keys {
            let secret = SecretKey::new(key.secret.as_str());
            db.create_access_key(&name, &key.id, &secret)
                .await
                .map_err(|e| format!("user {} key {}: {e}", user.arn, key.id))?;
            if !key.active {
                db.update_access_key(&name, &key.id, KeyStatus::Inactive)
                    .await
                    .map_err(|e| format!("user {} key {}: {e}", user.arn, key.id))?;
            }
            done.keys += 1;
        }
        done.users += 1;
    }
    for role in &config.role {
        if !role.arn.contains(&format!(":{account}:")) {
            return Err(format!("{}: not in the store's account {account}", role.arn).into());
        }
        let (path, name) = split(&role.arn, "role")?;
        db.create_role(NewRole::from_parts(
            path,
            name.clone(),
            role.trust_policy.clone(),
            u32::try_from(role.max_session_seconds).unwrap_or(3600),
            role.tags.clone().into_iter().collect(),
        ))
        .await
        .map_err(|e| format!("role {}: {e}", role.arn))?;
        for (i, doc) in role.policies.iter().enumerate() {
            db.put_policy(Entity::Role, &name, &format!("policy-{i}"), doc, usize::MAX)
                .await
                .map_err(|e| format!("role {} policy {i}: {e}", role.arn))?;
        }
        done.roles += 1;
    }
    db.close().await;
    Ok(done)
}
