//! The versioned migrations, embedded in the binary and run with sqlx's migrator (which
//! records them in `_sqlx_migrations` with their checksums, so an edited migration is
//! refused rather than silently skipped).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;

use super::{Backend, DbError, DbErrorKind};

/// `(version, description, SQL)` of each migration, in order.
type Scripts = &'static [(i64, &'static str, &'static str)];

const SQLITE: Scripts = &[(
    1,
    "identities",
    include_str!("../../../migrations/sqlite/0001_identities.sql"),
)];

const POSTGRES: Scripts = &[(
    1,
    "identities",
    include_str!("../../../migrations/postgres/0001_identities.sql"),
)];

/// The embedded scripts of one backend.
#[derive(Debug)]
struct Embedded(Scripts);

type BoxDynError = Box<dyn std::error::Error + Send + Sync>;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        let migrations = self
            .0
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

/// Runs the pending migrations of `backend` on `pool`.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), DbError> {
    let scripts = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let failed = |e: sqlx::migrate::MigrateError| {
        DbError::new(DbErrorKind::Migration, format!("migrating the store: {e}"))
    };
    let migrator = Migrator::new(Embedded(scripts)).await.map_err(failed)?;
    migrator.run(pool).await.map_err(failed)
}
