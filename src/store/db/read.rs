//! What the request path reads: an access key with its owner, identity policies, a role.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{AnyPool, Row};

use super::{backend_error, Inner};
use crate::credentials::SecretKey;
use crate::iam::{Policy, PolicyKind};
use crate::principal::Principal;
use crate::store::model::Role;
use crate::store::BackendError;

/// A stored access key, decrypted, with the principal it signs as.
pub(crate) struct KeyEntry {
    pub(crate) secret: SecretKey,
    pub(crate) principal: Principal,
    pub(crate) active: bool,
    /// The owner's ARN (a change of the user drops its keys from the caches).
    pub(crate) owner_arn: String,
}

async fn tags(
    pool: &AnyPool,
    table: &str,
    column: &str,
    id: &str,
) -> Result<Vec<(String, String)>, BackendError> {
    let sql = format!("SELECT tag_key, value FROM {table} WHERE {column} = $1 ORDER BY tag_key");
    let rows = sqlx::query(&sql)
        .bind(id.to_owned())
        .fetch_all(pool)
        .await
        .map_err(backend_error)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(backend_error)?,
                r.try_get(1).map_err(backend_error)?,
            ))
        })
        .collect()
}

pub(crate) async fn key(inner: &Inner, id: &str) -> Result<Option<Arc<KeyEntry>>, BackendError> {
    inner
        .reads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let row = sqlx::query(
        "SELECT k.secret, k.status, u.user_id, u.arn FROM access_keys k JOIN users u ON u.user_id = k.user_id WHERE k.access_key_id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(&inner.pool)
    .await
    .map_err(backend_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let sealed: Vec<u8> = row.try_get(0).map_err(backend_error)?;
    let status: String = row.try_get(1).map_err(backend_error)?;
    let user_id: String = row.try_get(2).map_err(backend_error)?;
    let arn: String = row.try_get(3).map_err(backend_error)?;
    let secret = inner.key.open_secret(id, &sealed).ok_or_else(|| {
        BackendError::new(format!(
            "the secret of access key {id} does not open with the store key"
        ))
    })?;
    let principal = tags(&inner.pool, "user_tags", "user_id", &user_id)
        .await?
        .into_iter()
        .fold(Principal::user(arn.clone(), user_id), |p, (k, v)| {
            p.with_tag(k, v)
        });
    Ok(Some(Arc::new(KeyEntry {
        secret,
        principal,
        active: status == "Active",
        owner_arn: arn,
    })))
}

fn parse_all(
    inner: &Inner,
    arn: &str,
    docs: Vec<(String, String)>,
) -> Result<Arc<[Policy]>, BackendError> {
    docs.into_iter()
        .map(|(name, doc)| {
            Policy::parse(&doc, PolicyKind::Identity, inner.settings.api.as_ref())
                .map(|p| p.with_name(format!("{arn} policy {name}")))
                .map_err(|e| BackendError::new(format!("stored policy {name} of {arn}: {e}")))
        })
        .collect()
}

async fn documents(
    inner: &Inner,
    sql: &str,
    arn: &str,
) -> Result<Vec<(String, String)>, BackendError> {
    let rows = sqlx::query(sql)
        .bind(arn.to_owned())
        .fetch_all(&inner.pool)
        .await
        .map_err(backend_error)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(backend_error)?,
                r.try_get(1).map_err(backend_error)?,
            ))
        })
        .collect()
}

pub(crate) async fn policies(
    inner: &Inner,
    arn: &str,
) -> Result<Option<Arc<[Policy]>>, BackendError> {
    inner
        .reads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let sql = if is_kind(arn, "user/") {
        "SELECT p.name, p.document FROM user_policies p JOIN users u ON u.user_id = p.user_id WHERE u.arn = $1 ORDER BY p.name_key"
    } else if is_kind(arn, "role/") {
        "SELECT p.name, p.document FROM role_policies p JOIN roles r ON r.role_id = p.role_id WHERE r.arn = $1 ORDER BY p.name_key"
    } else {
        return Ok(None);
    };
    let docs = documents(inner, sql, arn).await?;
    if docs.is_empty() {
        return Ok(None);
    }
    parse_all(inner, arn, docs).map(Some)
}

fn is_kind(arn: &str, kind: &str) -> bool {
    arn.splitn(6, ':')
        .nth(5)
        .is_some_and(|r| r.starts_with(kind))
}

pub(crate) async fn role(inner: &Inner, arn: &str) -> Result<Option<Arc<Role>>, BackendError> {
    inner
        .reads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let row = sqlx::query("SELECT role_id, trust_policy, max_session FROM roles WHERE arn = $1")
        .bind(arn.to_owned())
        .fetch_optional(&inner.pool)
        .await
        .map_err(backend_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let role_id: String = row.try_get(0).map_err(backend_error)?;
    let trust: String = row.try_get(1).map_err(backend_error)?;
    let max_session: i64 = row.try_get(2).map_err(backend_error)?;
    let trust = Policy::parse(&trust, PolicyKind::Trust, None)
        .map_err(|e| BackendError::new(format!("stored trust policy of {arn}: {e}")))?
        .with_name(format!("{arn} trust policy"));
    let mut role = Role::new(arn.to_owned(), trust)
        .map_err(BackendError::new)?
        .with_role_id(role_id.clone())
        .with_max_session(Duration::from_secs(
            u64::try_from(max_session).unwrap_or(3600),
        ))
        .map_err(BackendError::new)?;
    let docs = documents(
        inner,
        "SELECT p.name, p.document FROM role_policies p WHERE p.role_id = (SELECT role_id FROM roles WHERE arn = $1) ORDER BY p.name_key",
        arn,
    )
    .await?;
    for policy in parse_all(inner, arn, docs)?.iter() {
        role = role.with_policy(policy.clone());
    }
    for (k, v) in tags(&inner.pool, "role_tags", "role_id", &role_id).await? {
        role = role.with_tag(k, v);
    }
    Ok(Some(Arc::new(role)))
}
