//! The store: SQLite (default, one file) or PostgreSQL (several replicas), through sqlx.
//!
//! Queries are written once with `$N` placeholders, which both engines accept,
//! and run on whichever pool is configured; `on_tx!` and `on_read!` expand
//! a query for each engine. Writes go through [`Store::write`], a transaction
//! (`BEGIN IMMEDIATE` on SQLite, whose writes go through one connection);
//! consistent multi-statement reads through [`Store::snapshot`].

/// Runs `$body` with `$c` bound to the transaction's connection, once per engine.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the read pool, once per engine.
macro_rules! on_read {
    ($store:expr, |$c:ident| $body:expr) => {
        match &*$store.0 {
            $crate::store::Pools::Sqlite { read, .. } => {
                let $c = read;
                $body
            }
            $crate::store::Pools::Postgres(pool) => {
                let $c = pool;
                $body
            }
        }
    };
}

/// Picks the SQL for the engine of `$tx`: row-locking clauses exist only on PostgreSQL.
macro_rules! sql_for {
    ($tx:expr, $sqlite:expr, $postgres:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(_) => $sqlite,
            $crate::store::Tx::Postgres(_) => $postgres,
        }
    };
}

pub mod audit;
pub mod list;
pub mod switches;
pub mod tokens;
pub mod usage;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("unsupported database URL: use sqlite://FILE or postgres://...")]
    UnsupportedUrl,
    /// A unique constraint refused the write.
    #[error("a record with the same key exists")]
    Duplicate,
}

impl StoreError {
    /// Maps a write error, turning unique-constraint violations into [`StoreError::Duplicate`].
    pub fn from_write(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate,
            _ => StoreError::Database(e),
        }
    }
}

/// Creates the SQLite file readable and writable by its owner only (0600), or narrows an
/// existing one (and its `-wal` and `-shm` files) to that. It holds password hashes and the
/// audit log; SQLite gives the journal files the main file's mode.
fn owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| StoreError::Database(sqlx::Error::Io(e));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for file in files.iter().filter(|f| f.exists()) {
        let mode = std::fs::metadata(file).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(file = %file.display(), "narrowing the database file's permissions to 0600");
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    Ok(())
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) enum Pools {
    Sqlite { write: SqlitePool, read: SqlitePool },
    Postgres(PgPool),
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store(pub(crate) Arc<Pools>);

/// An open transaction on either engine. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Store {
    /// Opens the store at `url` (creating a SQLite file if missing) and applies migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                owner_only(options.get_filename())?;
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&write).await?;
            let read = if in_memory {
                write.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await?
            };
            Store(Arc::new(Pools::Sqlite { write, read }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Store(Arc::new(Pools::Postgres(pool)))
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        Ok(store)
    }

    /// The engine in use.
    pub fn backend(&self) -> Backend {
        match &*self.0 {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction.
    pub async fn write(&self) -> Result<Tx, StoreError> {
        Ok(match &*self.0 {
            Pools::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Starts a read-only transaction that sees one consistent snapshot.
    pub async fn snapshot(&self) -> Result<Tx, StoreError> {
        Ok(match &*self.0 {
            Pools::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            Pools::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_read!(self, |c| sqlx::query("SELECT 1")
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &*self.0 {
            Pools::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// `$first, $first+1, ...` for `n` bind parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bind value for dynamically built SQL.
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// Bind values in placeholder order; each push returns its placeholder number.
#[derive(Default)]
pub(crate) struct Args(pub(crate) Vec<Arg>);

impl Args {
    pub(crate) fn int(&mut self, v: i64) -> usize {
        self.0.push(Arg::Int(v));
        self.0.len()
    }

    pub(crate) fn text(&mut self, v: &str) -> usize {
        self.0.push(Arg::Text(v.to_owned()));
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_up() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }
}
