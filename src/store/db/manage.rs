//! The IAM operations on a database store. Every write is one transaction whose first
//! statement bumps the change counter: that takes the write lock (SQLite) or the row lock
//! (PostgreSQL) at once, so writers run one after the other and the limits checked inside
//! a transaction hold when it commits.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use super::sync::{Change, CHANNEL};
use super::{backend_error, unix_now, Backend, DbError, DbErrorKind, DbStore, InitialAdmin};
use crate::credentials::SecretKey;
use crate::ids::random_id;
use crate::store::manage::{
    policy_size, AccessKeyRecord, Entity, KeyStatus, ManageError, ManageFuture, ManageIdentities,
    NewRole, NewUser, Page, PageRequest, RoleRecord, UserRecord,
};
use crate::store::BackendError;

type Tx = Transaction<'static, Any>;

const MAX_TAGS: usize = 50;

fn fold(name: &str) -> String {
    name.to_lowercase()
}

fn db(e: sqlx::Error) -> ManageError {
    ManageError::Backend(backend_error(e))
}

fn get<T>(row: &AnyRow, i: usize) -> Result<T, ManageError>
where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(i).map_err(db)
}

/// The IAM ARN of a user or role of `account`.
pub(crate) fn arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

async fn begin(pool: &AnyPool) -> Result<Tx, ManageError> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("UPDATE store_meta SET generation = generation + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    Ok(tx)
}

/// Announces `changes` (PostgreSQL: in the transaction, delivered at commit), commits, and
/// applies them to this process's caches before returning.
async fn commit(store: &DbStore, mut tx: Tx, changes: &[Change]) -> Result<(), ManageError> {
    if store.inner.backend == Backend::Postgres {
        for change in changes {
            // NOTIFY takes no bind parameter; the payload is an id or an ARN, quotes doubled.
            let payload = change.encode().replace('\'', "''");
            sqlx::query(&format!("NOTIFY {CHANNEL}, '{payload}'"))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
    }
    tx.commit().await.map_err(db)?;
    for change in changes {
        store.inner.apply(change);
    }
    Ok(())
}

/// Creates the meta row and the first administrator, unless the store has a meta row.
pub(crate) async fn initialise(
    pool: &AnyPool,
    key: &super::StoreKey,
    admin: &InitialAdmin,
    now: i64,
) -> Result<(), DbError> {
    let mut tx = pool.begin().await.map_err(DbError::database)?;
    let existing = sqlx::query("SELECT account FROM store_meta WHERE id = 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(DbError::database)?;
    if let Some(row) = existing {
        let account: String = row.try_get(0).map_err(DbError::database)?;
        return Err(DbError::new(
            DbErrorKind::AlreadyInitialised,
            format!("the store is already initialised (account {account}); nothing was changed"),
        ));
    }
    let inserted = sqlx::query(
        "INSERT INTO store_meta (id, account, key_check, generation, created) VALUES (1, $1, $2, 1, $3)",
    )
    .bind(admin.account.clone())
    .bind(key.check_value()?)
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        // A concurrent `init` won the race.
        return Err(DbError::new(
            DbErrorKind::AlreadyInitialised,
            format!("the store is already initialised; nothing was changed ({e})"),
        ));
    }
    let user_id = random_id("AIDA", 17);
    let user_arn = arn(&admin.account, "user", "/", &admin.user_name);
    let statements: Vec<(&str, Vec<Value>)> = vec![
        (
            "INSERT INTO users (user_id, name, name_key, path, arn, created) VALUES ($1, $2, $3, '/', $4, $5)",
            vec![
                user_id.clone().into(),
                admin.user_name.clone().into(),
                fold(&admin.user_name).into(),
                user_arn.into(),
                now.into(),
            ],
        ),
        (
            "INSERT INTO user_policies (user_id, name_key, name, document) VALUES ($1, $2, $3, $4)",
            vec![
                user_id.clone().into(),
                fold(&admin.policy_name).into(),
                admin.policy_name.clone().into(),
                admin.policy.clone().into(),
            ],
        ),
        (
            "INSERT INTO access_keys (access_key_id, user_id, secret, status, created) VALUES ($1, $2, $3, 'Active', $4)",
            vec![
                admin.access_key_id.clone().into(),
                user_id.into(),
                key.seal_secret(&admin.access_key_id, &admin.secret)?.into(),
                now.into(),
            ],
        ),
    ];
    for (sql, values) in statements {
        bind_all(sqlx::query(sql), values)
            .execute(&mut *tx)
            .await
            .map_err(DbError::database)?;
    }
    tx.commit().await.map_err(DbError::database)
}

/// Re-seals every secret and the key check under `new`, in one transaction.
pub(crate) async fn rotate_key(
    pool: &AnyPool,
    old: &super::StoreKey,
    new: &super::StoreKey,
) -> Result<usize, DbError> {
    let mut tx = pool.begin().await.map_err(DbError::database)?;
    let check = sqlx::query("SELECT key_check FROM store_meta WHERE id = 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(DbError::database)?
        .ok_or_else(|| DbError::new(DbErrorKind::NotInitialised, "the store is not initialised"))?;
    let check: Vec<u8> = check.try_get(0).map_err(DbError::database)?;
    if !old.opens_check(&check) {
        return Err(DbError::key(
            "the current store key is not the one this store was initialised with",
        ));
    }
    sqlx::query("UPDATE store_meta SET key_check = $1, generation = generation + 1 WHERE id = 1")
        .bind(new.check_value()?)
        .execute(&mut *tx)
        .await
        .map_err(DbError::database)?;
    let rows = sqlx::query("SELECT access_key_id, secret FROM access_keys")
        .fetch_all(&mut *tx)
        .await
        .map_err(DbError::database)?;
    for row in &rows {
        let id: String = row.try_get(0).map_err(DbError::database)?;
        let sealed: Vec<u8> = row.try_get(1).map_err(DbError::database)?;
        let secret = old.open_secret(&id, &sealed).ok_or_else(|| {
            DbError::key(format!(
                "the secret of {id} does not open with the current key"
            ))
        })?;
        sqlx::query("UPDATE access_keys SET secret = $1 WHERE access_key_id = $2")
            .bind(new.seal_secret(&id, &secret)?)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::database)?;
    }
    tx.commit().await.map_err(DbError::database)?;
    Ok(rows.len())
}

/// A value to bind, for statements built as data.
pub(crate) enum Value {
    Text(String),
    Int(i64),
    Bytes(Vec<u8>),
    Null,
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Self::Null, Self::Text)
    }
}

pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    values: Vec<Value>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for v in values {
        query = match v {
            Value::Text(s) => query.bind(s),
            Value::Int(i) => query.bind(i),
            Value::Bytes(b) => query.bind(b),
            Value::Null => query.bind(Option::<String>::None),
        };
    }
    query
}

const USER_COLUMNS: &str = "user_id, name, path, arn, created";
const ROLE_COLUMNS: &str =
    "role_id, name, path, arn, created, trust_policy, description, max_session, last_used, last_region";

struct Tables {
    entity: &'static str,
    id: &'static str,
    tags: &'static str,
    policies: &'static str,
}

const USERS: Tables = Tables {
    entity: "users",
    id: "user_id",
    tags: "user_tags",
    policies: "user_policies",
};
const ROLES: Tables = Tables {
    entity: "roles",
    id: "role_id",
    tags: "role_tags",
    policies: "role_policies",
};

fn tables(entity: Entity) -> &'static Tables {
    match entity {
        Entity::User => &USERS,
        Entity::Role => &ROLES,
    }
}

fn missing(entity: Entity, name: &str) -> ManageError {
    match entity {
        Entity::User => ManageError::NoSuchUser(name.to_owned()),
        Entity::Role => ManageError::NoSuchRole(name.to_owned()),
    }
}

impl DbStore {
    /// Creates many users, each with one active access key, in one transaction (seeding a
    /// store, benchmarks). Every name must be free; the caches are flushed afterwards.
    pub async fn create_users_with_keys(
        &self,
        users: &[(NewUser, String, SecretKey)],
    ) -> Result<(), ManageError> {
        let mut tx = begin(self.pool()).await?;
        let now = self.now();
        for (user, key_id, secret) in users {
            let taken = sqlx::query("SELECT 1 FROM users WHERE name_key = $1")
                .bind(fold(&user.name))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if taken.is_some() {
                return Err(ManageError::AlreadyExists(Entity::User, user.name.clone()));
            }
            let id = random_id("AIDA", 17);
            let arn = arn(&self.inner.account, "user", &user.path, &user.name);
            sqlx::query("INSERT INTO users (user_id, name, name_key, path, arn, created) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.clone())
                .bind(user.name.clone())
                .bind(fold(&user.name))
                .bind(user.path.clone())
                .bind(arn)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            self.insert_tags(&mut tx, Entity::User, &id, &user.tags)
                .await?;
            let sealed = self
                .inner
                .key
                .seal_secret(key_id, secret)
                .map_err(|e| ManageError::Backend(BackendError::new(e)))?;
            sqlx::query("INSERT INTO access_keys (access_key_id, user_id, secret, status, created) VALUES ($1, $2, $3, 'Active', $4)")
                .bind(key_id.clone())
                .bind(id)
                .bind(sealed)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        commit(self, tx, &[Change::All]).await
    }

    fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    async fn tags_of(
        &self,
        executor: impl sqlx::Executor<'_, Database = Any>,
        entity: Entity,
        id: &str,
    ) -> Result<Vec<(String, String)>, ManageError> {
        let t = tables(entity);
        let rows = sqlx::query(&format!(
            "SELECT tag_key, value FROM {} WHERE {} = $1",
            t.tags, t.id
        ))
        .bind(id.to_owned())
        .fetch_all(executor)
        .await
        .map_err(db)?;
        let mut tags = rows
            .iter()
            .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
            .collect::<Result<Vec<(String, String)>, ManageError>>()?;
        tags.sort();
        Ok(tags)
    }

    fn user_from(
        &self,
        row: &AnyRow,
        tags: Vec<(String, String)>,
    ) -> Result<UserRecord, ManageError> {
        Ok(UserRecord {
            user_id: get(row, 0)?,
            name: get(row, 1)?,
            path: get(row, 2)?,
            arn: get(row, 3)?,
            created: get(row, 4)?,
            tags,
        })
    }

    fn role_from(
        &self,
        row: &AnyRow,
        tags: Vec<(String, String)>,
    ) -> Result<RoleRecord, ManageError> {
        let max: i64 = get(row, 7)?;
        let last_used: Option<i64> = get(row, 8)?;
        let region: Option<String> = get(row, 9)?;
        Ok(RoleRecord {
            role_id: get(row, 0)?,
            name: get(row, 1)?,
            path: get(row, 2)?,
            arn: get(row, 3)?,
            created: get(row, 4)?,
            trust_policy: get(row, 5)?,
            description: get(row, 6)?,
            max_session: u32::try_from(max).unwrap_or(3600),
            tags,
            last_used: last_used.map(|at| (at, region.unwrap_or_default())),
        })
    }

    /// `(id, arn)` of the entity named `name` (ignoring case), in `tx`.
    async fn find(
        &self,
        tx: &mut Tx,
        entity: Entity,
        name: &str,
    ) -> Result<(String, String), ManageError> {
        let t = tables(entity);
        let row = sqlx::query(&format!(
            "SELECT {}, arn FROM {} WHERE name_key = $1",
            t.id, t.entity
        ))
        .bind(fold(name))
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| missing(entity, name))?;
        Ok((get(&row, 0)?, get(&row, 1)?))
    }

    async fn user_record(&self, name: &str) -> Result<UserRecord, ManageError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE name_key = $1"
        ))
        .bind(fold(name))
        .fetch_optional(self.pool())
        .await
        .map_err(db)?
        .ok_or_else(|| ManageError::NoSuchUser(name.to_owned()))?;
        let id: String = get(&row, 0)?;
        let tags = self.tags_of(self.pool(), Entity::User, &id).await?;
        self.user_from(&row, tags)
    }

    async fn role_record(&self, name: &str) -> Result<RoleRecord, ManageError> {
        let row = sqlx::query(&format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE name_key = $1"
        ))
        .bind(fold(name))
        .fetch_optional(self.pool())
        .await
        .map_err(db)?
        .ok_or_else(|| ManageError::NoSuchRole(name.to_owned()))?;
        let id: String = get(&row, 0)?;
        let tags = self.tags_of(self.pool(), Entity::Role, &id).await?;
        self.role_from(&row, tags)
    }

    async fn insert_tags(
        &self,
        tx: &mut Tx,
        entity: Entity,
        id: &str,
        tags: &[(String, String)],
    ) -> Result<(), ManageError> {
        let t = tables(entity);
        let sql = format!(
            "INSERT INTO {} ({}, key_fold, tag_key, value) VALUES ($1, $2, $3, $4)",
            t.tags, t.id
        );
        for (k, v) in tags {
            sqlx::query(&sql)
                .bind(id.to_owned())
                .bind(fold(k))
                .bind(k.clone())
                .bind(v.clone())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    async fn tag(
        &self,
        entity: Entity,
        name: &str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> Result<(), ManageError> {
        let mut tx = begin(self.pool()).await?;
        let (id, arn) = self.find(&mut tx, entity, name).await?;
        let mut tags = self.tags_of(&mut *tx, entity, &id).await?;
        for key in &remove {
            tags.retain(|(k, _)| fold(k) != fold(key));
        }
        for (key, value) in add {
            tags.retain(|(k, _)| fold(k) != fold(&key));
            tags.push((key, value));
        }
        if tags.len() > MAX_TAGS {
            return Err(ManageError::TagQuota(entity));
        }
        let t = tables(entity);
        sqlx::query(&format!("DELETE FROM {} WHERE {} = $1", t.tags, t.id))
            .bind(id.clone())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        self.insert_tags(&mut tx, entity, &id, &tags).await?;
        commit(self, tx, &[Change::Principal(arn)]).await
    }

    async fn page_of_names(
        &self,
        sql: &str,
        owner_id: &str,
        page: &PageRequest,
    ) -> Result<Page<String>, ManageError> {
        let rows = sqlx::query(sql)
            .bind(owner_id.to_owned())
            .bind(page.after.clone().unwrap_or_default())
            .bind(i64::try_from(page.max_items).unwrap_or(1000) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        let mut items = rows
            .iter()
            .map(|r| get::<String>(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        let truncated = items.len() > page.max_items;
        items.truncate(page.max_items);
        Ok(Page { items, truncated })
    }

    async fn owner_id(&self, entity: Entity, name: &str) -> Result<String, ManageError> {
        let t = tables(entity);
        let row = sqlx::query(&format!(
            "SELECT {} FROM {} WHERE name_key = $1",
            t.id, t.entity
        ))
        .bind(fold(name))
        .fetch_optional(self.pool())
        .await
        .map_err(db)?
        .ok_or_else(|| missing(entity, name))?;
        get(&row, 0)
    }

    fn now(&self) -> i64 {
        unix_now(&self.inner.settings)
    }
}

fn key_record(row: &AnyRow) -> Result<AccessKeyRecord, ManageError> {
    let status: String = get(row, 2)?;
    let last: Option<i64> = get(row, 4)?;
    let service: Option<String> = get(row, 5)?;
    let region: Option<String> = get(row, 6)?;
    Ok(AccessKeyRecord {
        user_name: get(row, 0)?,
        access_key_id: get(row, 1)?,
        status: if status == "Active" {
            KeyStatus::Active
        } else {
            KeyStatus::Inactive
        },
        created: get(row, 3)?,
        last_used: last.map(|at| (at, service.unwrap_or_default(), region.unwrap_or_default())),
    })
}

const KEY_COLUMNS: &str =
    "u.name, k.access_key_id, k.status, k.created, k.last_used, k.last_service, k.last_region";

impl ManageIdentities for DbStore {
    fn account(&self) -> &str {
        &self.inner.account
    }

    fn read_only(&self) -> bool {
        false
    }

    fn get_user<'a>(&'a self, name: &'a str) -> ManageFuture<'a, UserRecord> {
        Box::pin(self.user_record(name))
    }

    fn get_user_by_arn<'a>(&'a self, arn: &'a str) -> ManageFuture<'a, Option<UserRecord>> {
        Box::pin(async move {
            let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE arn = $1"))
                .bind(arn.to_owned())
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
            let Some(row) = row else { return Ok(None) };
            let id: String = get(&row, 0)?;
            let tags = self.tags_of(self.pool(), Entity::User, &id).await?;
            self.user_from(&row, tags).map(Some)
        })
    }

    fn list_users<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<UserRecord>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!(
                "SELECT {USER_COLUMNS}, name_key FROM users WHERE substr(path, 1, length($1)) = $1 AND name_key > $2 ORDER BY name_key LIMIT $3"
            ))
            .bind(path_prefix.to_owned())
            .bind(page.after.clone().unwrap_or_default())
            .bind(i64::try_from(page.max_items).unwrap_or(1000) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
            let truncated = rows.len() > page.max_items;
            let mut items = Vec::with_capacity(rows.len().min(page.max_items));
            for row in rows.iter().take(page.max_items) {
                items.push(self.user_from(row, Vec::new())?);
            }
            Ok(Page { items, truncated })
        })
    }

    fn create_user(&self, user: NewUser) -> ManageFuture<'_, UserRecord> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let taken = sqlx::query("SELECT 1 FROM users WHERE name_key = $1")
                .bind(fold(&user.name))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if taken.is_some() {
                return Err(ManageError::AlreadyExists(Entity::User, user.name));
            }
            let id = random_id("AIDA", 17);
            let arn = arn(&self.inner.account, "user", &user.path, &user.name);
            let now = self.now();
            sqlx::query("INSERT INTO users (user_id, name, name_key, path, arn, created) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.clone())
                .bind(user.name.clone())
                .bind(fold(&user.name))
                .bind(user.path.clone())
                .bind(arn.clone())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            self.insert_tags(&mut tx, Entity::User, &id, &user.tags)
                .await?;
            commit(self, tx, &[Change::Principal(arn.clone())]).await?;
            let mut tags = user.tags;
            tags.sort();
            Ok(UserRecord {
                path: user.path,
                name: user.name,
                user_id: id,
                arn,
                created: now,
                tags,
            })
        })
    }

    fn delete_user<'a>(&'a self, name: &'a str) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let (id, arn) = self.find(&mut tx, Entity::User, name).await?;
            for (sql, conflict) in [
                (
                    "SELECT 1 FROM user_policies WHERE user_id = $1",
                    ManageError::HasPolicies,
                ),
                (
                    "SELECT 1 FROM access_keys WHERE user_id = $1",
                    ManageError::HasAccessKeys,
                ),
            ] {
                let found = sqlx::query(sql)
                    .bind(id.clone())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                if found.is_some() {
                    return Err(conflict);
                }
            }
            sqlx::query("DELETE FROM user_tags WHERE user_id = $1")
                .bind(id.clone())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query("DELETE FROM users WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            commit(self, tx, &[Change::Principal(arn)]).await
        })
    }

    fn tag_user<'a>(
        &'a self,
        name: &'a str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ManageFuture<'a, ()> {
        Box::pin(self.tag(Entity::User, name, add, remove))
    }

    fn create_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
        secret: &'a SecretKey,
    ) -> ManageFuture<'a, AccessKeyRecord> {
        Box::pin(async move {
            let sealed = self
                .inner
                .key
                .seal_secret(access_key_id, secret)
                .map_err(|e| ManageError::Backend(BackendError::new(e)))?;
            let mut tx = begin(self.pool()).await?;
            let (id, _) = self.find(&mut tx, Entity::User, user).await?;
            let row = sqlx::query("SELECT name, (SELECT COUNT(*) FROM access_keys WHERE user_id = $1) FROM users WHERE user_id = $1")
                .bind(id.clone())
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
            let name: String = get(&row, 0)?;
            let count: i64 = get(&row, 1)?;
            if count >= 2 {
                return Err(ManageError::KeyQuota);
            }
            let now = self.now();
            sqlx::query("INSERT INTO access_keys (access_key_id, user_id, secret, status, created) VALUES ($1, $2, $3, 'Active', $4)")
                .bind(access_key_id.to_owned())
                .bind(id)
                .bind(sealed)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            commit(self, tx, &[Change::Key(access_key_id.to_owned())]).await?;
            Ok(AccessKeyRecord {
                user_name: name,
                access_key_id: access_key_id.to_owned(),
                status: KeyStatus::Active,
                created: now,
                last_used: None,
            })
        })
    }

    fn list_access_keys<'a>(
        &'a self,
        user: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<AccessKeyRecord>> {
        Box::pin(async move {
            let id = self.owner_id(Entity::User, user).await?;
            let rows = sqlx::query(&format!(
                "SELECT {KEY_COLUMNS} FROM access_keys k JOIN users u ON u.user_id = k.user_id WHERE k.user_id = $1 AND k.access_key_id > $2 ORDER BY k.access_key_id LIMIT $3"
            ))
            .bind(id)
            .bind(page.after.clone().unwrap_or_default())
            .bind(i64::try_from(page.max_items).unwrap_or(1000) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
            let truncated = rows.len() > page.max_items;
            let items = rows
                .iter()
                .take(page.max_items)
                .map(key_record)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page { items, truncated })
        })
    }

    fn update_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
        status: KeyStatus,
    ) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let (id, _) = self.find(&mut tx, Entity::User, user).await?;
            let done = sqlx::query(
                "UPDATE access_keys SET status = $1 WHERE access_key_id = $2 AND user_id = $3",
            )
            .bind(status.as_str().to_owned())
            .bind(access_key_id.to_owned())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if done.rows_affected() == 0 {
                return Err(ManageError::NoSuchAccessKey(access_key_id.to_owned()));
            }
            commit(self, tx, &[Change::Key(access_key_id.to_owned())]).await
        })
    }

    fn delete_access_key<'a>(
        &'a self,
        user: &'a str,
        access_key_id: &'a str,
    ) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let (id, _) = self.find(&mut tx, Entity::User, user).await?;
            let done =
                sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1 AND user_id = $2")
                    .bind(access_key_id.to_owned())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            if done.rows_affected() == 0 {
                return Err(ManageError::NoSuchAccessKey(access_key_id.to_owned()));
            }
            commit(self, tx, &[Change::Key(access_key_id.to_owned())]).await
        })
    }

    fn get_access_key<'a>(
        &'a self,
        access_key_id: &'a str,
    ) -> ManageFuture<'a, Option<AccessKeyRecord>> {
        Box::pin(async move {
            let row = sqlx::query(&format!(
                "SELECT {KEY_COLUMNS} FROM access_keys k JOIN users u ON u.user_id = k.user_id WHERE k.access_key_id = $1"
            ))
            .bind(access_key_id.to_owned())
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
            row.as_ref().map(key_record).transpose()
        })
    }

    fn put_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
        document: &'a str,
        limit: usize,
    ) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let t = tables(entity);
            let mut tx = begin(self.pool()).await?;
            let (id, arn) = self.find(&mut tx, entity, owner).await?;
            let rows = sqlx::query(&format!(
                "SELECT name_key, document FROM {} WHERE {} = $1",
                t.policies, t.id
            ))
            .bind(id.clone())
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            let mut total = policy_size(document);
            for row in &rows {
                let name_key: String = get(row, 0)?;
                if name_key != fold(policy_name) {
                    total += policy_size(&get::<String>(row, 1)?);
                }
            }
            if total > limit {
                return Err(ManageError::PolicySize(entity, owner.to_owned()));
            }
            sqlx::query(&format!(
                "DELETE FROM {} WHERE {} = $1 AND name_key = $2",
                t.policies, t.id
            ))
            .bind(id.clone())
            .bind(fold(policy_name))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            sqlx::query(&format!(
                "INSERT INTO {} ({}, name_key, name, document) VALUES ($1, $2, $3, $4)",
                t.policies, t.id
            ))
            .bind(id)
            .bind(fold(policy_name))
            .bind(policy_name.to_owned())
            .bind(document.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            commit(self, tx, &[Change::Principal(arn)]).await
        })
    }

    fn get_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
    ) -> ManageFuture<'a, (String, String)> {
        Box::pin(async move {
            let t = tables(entity);
            let id = self.owner_id(entity, owner).await?;
            let row = sqlx::query(&format!(
                "SELECT name, document FROM {} WHERE {} = $1 AND name_key = $2",
                t.policies, t.id
            ))
            .bind(id)
            .bind(fold(policy_name))
            .fetch_optional(self.pool())
            .await
            .map_err(db)?
            .ok_or_else(|| ManageError::NoSuchPolicy(entity, policy_name.to_owned()))?;
            Ok((get(&row, 0)?, get(&row, 1)?))
        })
    }

    fn list_policies<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<String>> {
        Box::pin(async move {
            let t = tables(entity);
            let id = self.owner_id(entity, owner).await?;
            let sql = format!(
                "SELECT name FROM {} WHERE {} = $1 AND name_key > $2 ORDER BY name_key LIMIT $3",
                t.policies, t.id
            );
            self.page_of_names(&sql, &id, &page).await
        })
    }

    fn delete_policy<'a>(
        &'a self,
        entity: Entity,
        owner: &'a str,
        policy_name: &'a str,
    ) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let t = tables(entity);
            let mut tx = begin(self.pool()).await?;
            let (id, arn) = self.find(&mut tx, entity, owner).await?;
            let done = sqlx::query(&format!(
                "DELETE FROM {} WHERE {} = $1 AND name_key = $2",
                t.policies, t.id
            ))
            .bind(id)
            .bind(fold(policy_name))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if done.rows_affected() == 0 {
                return Err(ManageError::NoSuchPolicy(entity, policy_name.to_owned()));
            }
            commit(self, tx, &[Change::Principal(arn)]).await
        })
    }

    fn get_role<'a>(&'a self, name: &'a str) -> ManageFuture<'a, RoleRecord> {
        Box::pin(self.role_record(name))
    }

    fn list_roles<'a>(
        &'a self,
        path_prefix: &'a str,
        page: PageRequest,
    ) -> ManageFuture<'a, Page<RoleRecord>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!(
                "SELECT {ROLE_COLUMNS}, name_key FROM roles WHERE substr(path, 1, length($1)) = $1 AND name_key > $2 ORDER BY name_key LIMIT $3"
            ))
            .bind(path_prefix.to_owned())
            .bind(page.after.clone().unwrap_or_default())
            .bind(i64::try_from(page.max_items).unwrap_or(1000) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
            let truncated = rows.len() > page.max_items;
            let mut items = Vec::with_capacity(rows.len().min(page.max_items));
            for row in rows.iter().take(page.max_items) {
                items.push(self.role_from(row, Vec::new())?);
            }
            Ok(Page { items, truncated })
        })
    }

    fn create_role(&self, role: NewRole) -> ManageFuture<'_, RoleRecord> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let taken = sqlx::query("SELECT 1 FROM roles WHERE name_key = $1")
                .bind(fold(&role.name))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if taken.is_some() {
                return Err(ManageError::AlreadyExists(Entity::Role, role.name));
            }
            let id = random_id("AROA", 17);
            let arn = arn(&self.inner.account, "role", &role.path, &role.name);
            let now = self.now();
            sqlx::query("INSERT INTO roles (role_id, name, name_key, path, arn, trust_policy, description, max_session, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(id.clone())
                .bind(role.name.clone())
                .bind(fold(&role.name))
                .bind(role.path.clone())
                .bind(arn.clone())
                .bind(role.trust_policy.clone())
                .bind(role.description.clone())
                .bind(i64::from(role.max_session))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            self.insert_tags(&mut tx, Entity::Role, &id, &role.tags)
                .await?;
            commit(self, tx, &[Change::Principal(arn.clone())]).await?;
            let mut tags = role.tags;
            tags.sort();
            Ok(RoleRecord {
                path: role.path,
                name: role.name,
                role_id: id,
                arn,
                created: now,
                trust_policy: role.trust_policy,
                description: role.description,
                max_session: role.max_session,
                tags,
                last_used: None,
            })
        })
    }

    fn delete_role<'a>(&'a self, name: &'a str) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let (id, arn) = self.find(&mut tx, Entity::Role, name).await?;
            let found = sqlx::query("SELECT 1 FROM role_policies WHERE role_id = $1")
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if found.is_some() {
                return Err(ManageError::HasPolicies);
            }
            sqlx::query("DELETE FROM role_tags WHERE role_id = $1")
                .bind(id.clone())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query("DELETE FROM roles WHERE role_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            commit(self, tx, &[Change::Principal(arn)]).await
        })
    }

    fn update_role<'a>(
        &'a self,
        name: &'a str,
        description: Option<String>,
        max_session: Option<u32>,
    ) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let (id, arn) = self.find(&mut tx, Entity::Role, name).await?;
            if let Some(description) = description {
                sqlx::query("UPDATE roles SET description = $1 WHERE role_id = $2")
                    .bind(description)
                    .bind(id.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            if let Some(max) = max_session {
                sqlx::query("UPDATE roles SET max_session = $1 WHERE role_id = $2")
                    .bind(i64::from(max))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            commit(self, tx, &[Change::Principal(arn)]).await
        })
    }

    fn update_trust_policy<'a>(&'a self, name: &'a str, document: &'a str) -> ManageFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = begin(self.pool()).await?;
            let (id, arn) = self.find(&mut tx, Entity::Role, name).await?;
            sqlx::query("UPDATE roles SET trust_policy = $1 WHERE role_id = $2")
                .bind(document.to_owned())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            commit(self, tx, &[Change::Principal(arn)]).await
        })
    }

    fn tag_role<'a>(
        &'a self,
        name: &'a str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ManageFuture<'a, ()> {
        Box::pin(self.tag(Entity::Role, name, add, remove))
    }
}
