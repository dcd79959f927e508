//! The stores a benchmark runs against: `--backend sqlite` (the default) measures the
//! SQLite file alone; `--backend postgres` measures SQLite and PostgreSQL in the same run,
//! each row naming its backend, so the two are compared on the same machine state.

use std::path::Path;

use anyhow::Context;

use crate::flag;
use crate::postgres::{TestServer, bench_server};

/// A store a benchmark writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The backends a run measures and the PostgreSQL server it holds, if any.
pub struct Backends {
    pub list: Vec<Backend>,
    server: Option<TestServer>,
}

impl Backends {
    /// The backends `--backend` asks for, starting a PostgreSQL server if needed.
    pub fn from_args(args: &[&str]) -> anyhow::Result<Backends> {
        match flag(args, "--backend").unwrap_or("sqlite") {
            "sqlite" => Ok(Backends {
                list: vec![Backend::Sqlite],
                server: None,
            }),
            "postgres" => Ok(Backends {
                list: vec![Backend::Sqlite, Backend::Postgres],
                server: Some(bench_server()?),
            }),
            other => anyhow::bail!("--backend {other}: expected sqlite or postgres"),
        }
    }

    /// A fresh, empty store named `name` for `backend`: a file under `dir` with none of
    /// its parts left, or a database dropped and created again.
    pub fn fresh(&self, backend: Backend, dir: &Path, name: &str) -> anyhow::Result<String> {
        match backend {
            Backend::Sqlite => {
                let db = dir.join(format!("{name}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                }
                Ok(db.to_string_lossy().into_owned())
            }
            Backend::Postgres => {
                let (mut admin, url) = self.database(name)?;
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
                admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
                Ok(url)
            }
        }
    }

    /// The store named `name` for `backend`, kept from run to run (created empty when
    /// there is none).
    pub fn kept(&self, backend: Backend, dir: &Path, name: &str) -> anyhow::Result<String> {
        match backend {
            Backend::Sqlite => Ok(dir
                .join(format!("{name}.db"))
                .to_string_lossy()
                .into_owned()),
            Backend::Postgres => {
                let (mut admin, url) = self.database(name)?;
                let exists = admin
                    .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
                    .is_some();
                if !exists {
                    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
                }
                Ok(url)
            }
        }
    }

    /// A connection to the server's administrative database and the URL of database
    /// `name` on the same server.
    fn database(&self, name: &str) -> anyhow::Result<(postgres::Client, String)> {
        let server = self
            .server
            .as_ref()
            .context("no PostgreSQL server was started for this run")?;
        let admin = postgres::Client::connect(&server.url, postgres::NoTls)
            .context("connecting to the benchmark's PostgreSQL server")?;
        let base = server
            .url
            .rsplit_once('/')
            .map_or(server.url.as_str(), |(base, _)| base);
        Ok((admin, format!("{base}/{name}")))
    }
}
