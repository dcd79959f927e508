//! Where a store lives: the backend a `--db` location names, how it is opened, and how
//! a location is shown (never with a URL's password).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tally_store::Store;
use tally_store_memory::MemoryStore;
use tally_store_postgres::{PostgresOptions, PostgresStore};
use tally_store_sqlite::{SqliteOptions, SqliteStore};

use crate::{Error, Result};

/// The backend a location names, and where its data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A plain path, `sqlite://PATH` or `sqlite:PATH`.
    Sqlite(PathBuf),
    /// `memory:`: nothing on disk, gone when the process ends.
    Memory,
    /// `postgres://...` or `postgresql://...`: a PostgreSQL database, shared by any
    /// number of servers.
    Postgres(String),
}

impl Backend {
    pub(crate) fn of(location: &Path) -> Result<Backend> {
        let text = location.to_string_lossy();
        if let Some(rest) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            return Ok(Backend::Sqlite(PathBuf::from(rest)));
        }
        if text == "memory:" {
            return Ok(Backend::Memory);
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Backend::Postgres(text.into_owned()));
        }
        if text.contains("://") {
            return Err(Error::Location(redacted(&text)));
        }
        Ok(Backend::Sqlite(location.to_path_buf()))
    }

    /// The file the store lives in; an error for a backend without one.
    pub(crate) fn file(self) -> Result<PathBuf> {
        match self {
            Backend::Sqlite(path) => Ok(path),
            Backend::Memory => Err(Error::NoFile("memory:".to_owned())),
            Backend::Postgres(url) => Err(Error::NoFile(redacted(&url))),
        }
    }
}

/// Opens the store of a backend.
pub(crate) fn open_store(backend: &Backend, options: SqliteOptions) -> Result<Arc<dyn Store>> {
    match backend {
        Backend::Sqlite(path) => {
            let store = SqliteStore::open(path, options).map_err(|error| {
                let error = tally_store::Error::from(error);
                if error.is_not_a_database() {
                    Error::NotADatabase {
                        path: path.display().to_string(),
                    }
                } else {
                    Error::Storage(error)
                }
            })?;
            Ok(Arc::new(store))
        }
        Backend::Memory => Ok(Arc::new(MemoryStore::new())),
        Backend::Postgres(url) => {
            let store = PostgresStore::open(url, PostgresOptions::default())
                .map_err(|error| Error::Storage(error.into()))?;
            Ok(Arc::new(store))
        }
    }
}

impl Backend {
    /// The backend's name, as `health` reports it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Memory => "memory",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The database a PostgreSQL URL names (libpq's default: the user's name).
    pub(crate) fn database(&self) -> Option<String> {
        let Backend::Postgres(url) = self else {
            return None;
        };
        let config: postgres::Config = url.parse().ok()?;
        config
            .get_dbname()
            .or_else(|| config.get_user())
            .map(str::to_owned)
    }

    /// Why a PostgreSQL store is not backed up or restored by tally, with the
    /// commands that do it for this URL; `None` for another backend.
    pub(crate) fn database_tools_instead(&self) -> Option<Error> {
        let Backend::Postgres(url) = self else {
            return None;
        };
        let shown = redacted(url);
        Some(Error::DatabaseTools(format!(
            "a PostgreSQL store is backed up and restored with PostgreSQL's own tools, which \
             copy one consistent snapshot while servers keep writing: \
             `pg_dump --format=custom --file=tally.dump '{shown}'` to back up, \
             `pg_restore --clean --if-exists --no-owner --dbname='{shown}' tally.dump` to \
             restore (give the password in PGPASSWORD or ~/.pgpass)"
        )))
    }
}

/// `location` with the password of a URL, if any (in its user part or a `password=`
/// parameter), replaced by `***`.
pub(crate) fn redacted(location: &str) -> String {
    tally_store_postgres::redact(location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_names_its_backend() {
        let sqlite = |path: &str| Ok(Backend::Sqlite(PathBuf::from(path)));
        let cases = [
            ("tally.db", sqlite("tally.db")),
            ("./data/tally.db", sqlite("./data/tally.db")),
            ("sqlite:///var/lib/tally.db", sqlite("/var/lib/tally.db")),
            ("sqlite://tally.db", sqlite("tally.db")),
            ("sqlite:tally.db", sqlite("tally.db")),
            ("memory:", Ok(Backend::Memory)),
            (
                "postgres://localhost/tally",
                Ok(Backend::Postgres("postgres://localhost/tally".to_owned())),
            ),
            (
                "postgresql://u:p@db/tally?sslmode=require",
                Ok(Backend::Postgres(
                    "postgresql://u:p@db/tally?sslmode=require".to_owned(),
                )),
            ),
            (
                "mysql://localhost/tally",
                Err(
                    "unsupported database location \"mysql://localhost/tally\": expected a \
                     file path, sqlite://PATH, memory: or postgres://..."
                        .to_owned(),
                ),
            ),
        ];
        for (location, expected) in cases {
            let backend = Backend::of(Path::new(location)).map_err(|e| e.to_string());
            assert_eq!(backend, expected, "{location}");
        }
    }

    #[test]
    fn a_postgres_location_names_its_database_and_the_tools_that_back_it_up() {
        let postgres = |url: &str| Backend::Postgres(url.to_owned());
        let named = postgres("postgres://tally:s3cret@db.internal:5432/analytics?sslmode=require");
        assert_eq!(named.name(), "postgres");
        assert_eq!(named.database().as_deref(), Some("analytics"));
        // libpq's default database is the user's name.
        assert_eq!(
            postgres("postgresql://tally@db").database().as_deref(),
            Some("tally")
        );
        let message = named.database_tools_instead().unwrap().to_string();
        assert!(message.contains("pg_dump --format=custom --file=tally.dump 'postgres://tally:***@db.internal:5432/analytics?sslmode=require'"), "{message}");
        assert!(
            message.contains("pg_restore --clean --if-exists --no-owner --dbname="),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        for other in [Backend::Memory, Backend::Sqlite(PathBuf::from("t.db"))] {
            assert!(other.database_tools_instead().is_none());
            assert_eq!(other.database(), None);
        }
        assert_eq!(Backend::Memory.name(), "memory");
        assert_eq!(Backend::Sqlite(PathBuf::from("t.db")).name(), "sqlite");
    }

    #[test]
    fn a_password_is_never_shown() {
        let cases = [
            (
                "postgres://tally:s3cret@db.internal:5432/tally",
                "postgres://tally:***@db.internal:5432/tally",
            ),
            (
                "postgresql://tally:p%40ss@db/tally?sslmode=require",
                "postgresql://tally:***@db/tally?sslmode=require",
            ),
            ("postgres://tally@db/tally", "postgres://tally@db/tally"),
            (
                "postgres://db/tally?user=tally&password=s3cret",
                "postgres://db/tally?user=tally&password=***",
            ),
            ("postgres://db/tally", "postgres://db/tally"),
            ("./tally.db", "./tally.db"),
            ("memory:", "memory:"),
        ];
        for (location, shown) in cases {
            assert_eq!(redacted(location), shown, "{location}");
        }
    }
}
