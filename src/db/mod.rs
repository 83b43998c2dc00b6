//! The database layer: one schema, two backends (ARCHITECTURE.md).
//!
//! Queries are written once against [`Conn`] and run on whichever backend is inside with [`with_conn!`],
//! keeping each backend's full power (RETURNING, ON CONFLICT, `FOR UPDATE SKIP LOCKED`). Diesel is
//! synchronous, so [`Db::read`] and [`Db::write`] run the work on tokio's blocking pool.

pub mod schema;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseTarget;
use crate::error::AppError;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Held while migrating so that several instances starting together migrate once.
const PG_MIGRATION_LOCK: i64 = 0x006e_6f6e_6773_616e;

/// A connection of either backend, lent to one unit of work.
pub enum Conn<'a> {
    Pg(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

/// Runs one diesel expression on whichever backend `$conn` (a `&mut Conn`) holds:
/// `with_conn!(conn, |c| provinces::table.load::<Province>(c))`.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Pg(pg) => {
                let $c: &mut ::diesel::PgConnection = pg;
                $body
            }
            $crate::db::Conn::Sqlite(sqlite) => {
                let $c: &mut ::diesel::SqliteConnection = sqlite;
                $body
            }
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }
}

type PgPool = Pool<ConnectionManager<PgConnection>>;
type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;

enum Pools {
    Postgres(PgPool),
    /// SQLite allows one writer at a time: writes queue on a pool of one connection (so they never fight
    /// over the file lock), reads run in parallel on WAL snapshots.
    Sqlite {
        readers: SqlitePool,
        writer: SqlitePool,
    },
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pools: Arc<Pools>,
    /// Transactions this process committed: what it keeps in memory (the catalogue's index) catches up when
    /// this moved, so a request sees what an earlier one wrote on the same instance.
    commits: Arc<AtomicU64>,
    statements: Statements,
}

/// Counts the statements every connection of a [`Db`] sends, `BEGIN` and `COMMIT` included: what a request
/// costs in round trips (a test's budget for an order, `db_statements_total` in `/metrics`). One relaxed
/// atomic add per statement.
#[derive(Clone, Debug, Default)]
struct Statements(Arc<AtomicU64>);

impl Instrumentation for Statements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Hands each new PostgreSQL connection the pool's statement counter.
#[derive(Debug)]
struct PgCounted(Statements);

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for PgCounted {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.set_instrumentation(self.0.clone());
        Ok(())
    }
}

impl Db {
    /// Opens the pools (creating the SQLite file and its folder if needed). Blocking; call at start-up.
    pub fn connect(target: &DatabaseTarget, pool_size: u32, timeout: Duration) -> anyhow::Result<Db> {
        let statements = Statements::default();
        let pools = match target {
            DatabaseTarget::Postgres(url) => {
                // No test query on every checkout: a connection broken by a server restart fails its next
                // query (503, retried by the client), and diesel marks it broken so the pool replaces it.
                let pool = Pool::builder()
                    .max_size(pool_size)
                    .min_idle(Some(1))
                    .test_on_check_out(false)
                    .connection_timeout(timeout)
                    .connection_customizer(Box::new(PgCounted(statements.clone())))
                    .build(ConnectionManager::<PgConnection>::new(url))
                    .context("cannot connect to PostgreSQL")?;
                Pools::Postgres(pool)
            }
            DatabaseTarget::Sqlite(path) => open_sqlite(path, pool_size, timeout, &statements)?,
        };
        Ok(Db { pools: Arc::new(pools), commits: Arc::new(AtomicU64::new(0)), statements })
    }

    /// Statements sent so far by this handle's connections (and its clones'), since it was opened.
    pub fn statements(&self) -> u64 {
        self.statements.0.load(Ordering::Relaxed)
    }

    pub fn backend(&self) -> Backend {
        match *self.pools {
            Pools::Postgres(_) => Backend::Postgres,
            Pools::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// Applies the embedded migrations that are not applied yet; returns their versions.
    pub async fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.migrate_blocking()).await?
    }

    fn migrate_blocking(&self) -> anyhow::Result<Vec<String>> {
        let to_strings = |versions: Vec<diesel::migration::MigrationVersion<'_>>| {
            versions.iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        match &*self.pools {
            Pools::Postgres(pool) => {
                let mut conn = pool.get()?;
                diesel::sql_query(format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})")).execute(&mut conn)?;
                let applied = conn.run_pending_migrations(PG_MIGRATIONS).map(to_strings);
                diesel::sql_query(format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})")).execute(&mut conn)?;
                applied.map_err(|e| anyhow::anyhow!("PostgreSQL migration failed: {e}"))
            }
            Pools::Sqlite { writer, .. } => {
                let mut conn = writer.get()?;
                let applied = conn.run_pending_migrations(SQLITE_MIGRATIONS).map(to_strings);
                applied.map_err(|e| anyhow::anyhow!("SQLite migration failed: {e}"))
            }
        }
    }

    /// Runs read-only work on a pooled connection, off the async runtime.
    pub async fn read<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, AppError> + Send + 'static,
    {
        let pools = self.pools.clone();
        run_blocking(move || match &*pools {
            Pools::Postgres(pool) => work(&mut Conn::Pg(&mut *checkout(pool)?)),
            Pools::Sqlite { readers, .. } => work(&mut Conn::Sqlite(&mut *checkout(readers)?)),
        })
        .await
    }

    /// Runs work in one transaction (SQLite: `BEGIN IMMEDIATE`, so it never fails half-way on the write
    /// lock), off the async runtime. An `Err` rolls everything back.
    pub async fn write<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, AppError> + Send + 'static,
    {
        let pools = self.pools.clone();
        let done = run_blocking(move || match &*pools {
            Pools::Postgres(pool) => checkout(pool)?.transaction(|c| work(&mut Conn::Pg(c))),
            Pools::Sqlite { writer, .. } => checkout(writer)?.immediate_transaction(|c| work(&mut Conn::Sqlite(c))),
        })
        .await;
        if done.is_ok() {
            self.commits.fetch_add(1, Ordering::Release);
        }
        done
    }

    /// How many write transactions this process has committed so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// A round trip to the database, for `/readyz`.
    pub async fn ping(&self) -> Result<(), AppError> {
        self.read(|conn| {
            with_conn!(conn, |c| diesel::sql_query("SELECT 1").execute(c))?;
            Ok(())
        })
        .await
    }
}

fn checkout<C>(pool: &Pool<ConnectionManager<C>>) -> Result<PooledConnection<ConnectionManager<C>>, AppError>
where
    C: diesel::r2d2::R2D2Connection + 'static,
{
    pool.get().map_err(AppError::database_unavailable)
}

async fn run_blocking<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(AppError::internal)?
}

fn open_sqlite(path: &Path, readers: u32, timeout: Duration, statements: &Statements) -> anyhow::Result<Pools> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let url = path.to_str().context("the SQLite path must be UTF-8")?;
    // WAL lets readers work while one writer writes; it is a property of the file, set once.
    SqliteConnection::establish(url)
        .with_context(|| format!("cannot open SQLite database {url}"))?
        .batch_execute("PRAGMA journal_mode = WAL;")?;
    let busy_timeout_ms = timeout.as_millis();
    let pool = |size: u32, read_only: bool| {
        Pool::builder()
            .max_size(size)
            .test_on_check_out(false)
            .connection_timeout(timeout)
            .connection_customizer(Box::new(SqlitePragmas {
                busy_timeout_ms,
                read_only,
                statements: statements.clone(),
            }))
            .build(ConnectionManager::<SqliteConnection>::new(url))
            .with_context(|| format!("cannot open SQLite database {url}"))
    };
    Ok(Pools::Sqlite { readers: pool(readers.max(1), true)?, writer: pool(1, false)? })
}

#[derive(Debug)]
struct SqlitePragmas {
    busy_timeout_ms: u128,
    read_only: bool,
    statements: Statements,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        let query_only = if self.read_only { "ON" } else { "OFF" };
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
             PRAGMA query_only = {query_only};",
            self.busy_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        conn.set_instrumentation(self.statements.clone());
        Ok(())
    }
}
