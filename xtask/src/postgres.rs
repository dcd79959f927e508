//! The PostgreSQL server the tests of the PostgreSQL store run against, named to them
//! in `TALLY_TEST_POSTGRES_URL`: the one that variable already names (checked to
//! answer), or a throwaway cluster of Debian's server binaries under the target
//! directory, started on a free loopback port and stopped when the tests end.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::provision::{apt_install, can_install_debian_packages, running_as_root};
use crate::target_dir;

/// The variable the tests read the server's URL from.
pub const URL_VARIABLE: &str = "TALLY_TEST_POSTGRES_URL";

/// Where Debian puts each major version's server binaries (`15/bin/postgres`).
const DEBIAN_SERVERS: &str = "/usr/lib/postgresql";

/// The system user Debian's package runs the server as (initdb refuses root).
const SERVER_USER: &str = "postgres";

/// How to get a server when this command cannot provision one.
const HOW_TO_GET_ONE: &str = "install Debian's server (`sudo apt-get install postgresql`) and \
     run this again, or start a PostgreSQL server and set TALLY_TEST_POSTGRES_URL to a URL \
     of it whose user may create databases (postgres://USER@HOST:PORT/DATABASE)";

/// A server for the tests: its URL, and the cluster to stop when dropped (none for a
/// server the caller named).
#[derive(Debug)]
pub struct TestServer {
    pub url: String,
    cluster: Option<Cluster>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            cluster.stop();
        }
    }
}

/// The server the tests use: `TALLY_TEST_POSTGRES_URL` when set (it must answer),
/// else a throwaway cluster started now.
pub fn test_server() -> anyhow::Result<TestServer> {
    server(Durability::Throwaway)
}

/// The server the benchmarks use: `TALLY_TEST_POSTGRES_URL` when set, else a cluster
/// started now with PostgreSQL's durable defaults (fsync, synchronous commit), so that
/// its figures are those of a production server on this machine.
#[cfg(feature = "bench")]
pub fn bench_server() -> anyhow::Result<TestServer> {
    server(Durability::Durable)
}

/// Whether a cluster started here keeps its data through a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// No fsync: the tests' data need not survive a crash.
    Throwaway,
    /// PostgreSQL's defaults.
    #[cfg_attr(not(feature = "bench"), allow(dead_code))]
    Durable,
}

fn server(durability: Durability) -> anyhow::Result<TestServer> {
    if let Some(url) = std::env::var(URL_VARIABLE).ok().filter(|u| !u.is_empty()) {
        check_answers(&url)?;
        println!("== postgres: {} (from {URL_VARIABLE})", redacted(&url));
        return Ok(TestServer { url, cluster: None });
    }
    let bin = server_binaries()?;
    let cluster = Cluster::start(&bin, durability)?;
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    println!(
        "== postgres: a throwaway cluster at {} ({url})",
        cluster.dir.display()
    );
    let server = TestServer {
        url,
        cluster: Some(cluster),
    };
    check_answers(&server.url)?;
    Ok(server)
}

/// Connects and runs a query, or says why not.
fn check_answers(url: &str) -> anyhow::Result<()> {
    let answered = postgres::Client::connect(url, postgres::NoTls)
        .and_then(|mut client| client.simple_query("SELECT 1"));
    if let Err(error) = answered {
        bail!(
            "{URL_VARIABLE}={} does not answer ({error}): start that server, or unset the \
             variable to have a throwaway one started here",
            redacted(url)
        );
    }
    Ok(())
}

/// `url` with its password, if any, replaced by `***`.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The newest Debian server's `bin` directory, installing the package when there is
/// none and this may.
fn server_binaries() -> anyhow::Result<PathBuf> {
    if let Some(bin) = newest_server() {
        return Ok(bin);
    }
    if !can_install_debian_packages() {
        bail!(
            "no PostgreSQL server for the tests ({DEBIAN_SERVERS}/*/bin/postgres): {HOW_TO_GET_ONE}"
        );
    }
    println!("== postgres: installing Debian's package");
    apt_install("postgresql")?;
    newest_server().with_context(|| {
        format!("the postgresql package left no {DEBIAN_SERVERS}/*/bin/postgres: {HOW_TO_GET_ONE}")
    })
}

fn newest_server() -> Option<PathBuf> {
    std::fs::read_dir(DEBIAN_SERVERS)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

/// A cluster this command made: its directory (data, socket, log) and port.
#[derive(Debug)]
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    /// `initdb` (trust auth, superuser `postgres`) and a server on a free loopback port,
    /// waited for until it accepts connections.
    fn start(bin: &Path, durability: Durability) -> anyhow::Result<Cluster> {
        let parent = target_dir().join("test-postgres");
        stop_abandoned(bin, &parent);
        let dir = parent.join(format!("run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("socket"))
            .with_context(|| format!("creating {}", dir.display()))?;
        if running_as_root() {
            // initdb and the server refuse root: they run as the package's user, who
            // must own the cluster's directory and reach it.
            run_checked(
                Command::new("chown")
                    .args(["-R", &format!("{SERVER_USER}:")])
                    .arg(&dir),
            )?;
            let reachable = as_server_user(Command::new("test").arg("-w").arg(&dir)).status();
            if !reachable.is_ok_and(|s| s.success()) {
                bail!(
                    "the `{SERVER_USER}` user cannot reach {} (a parent directory without the \
                     x bit for others): set CARGO_TARGET_DIR to a directory it can reach, or {HOW_TO_GET_ONE}",
                    dir.display()
                );
            }
        }
        let cluster = Cluster {
            bin: bin.to_path_buf(),
            dir,
            port: free_port()?,
        };
        run_checked(cluster.command("initdb").args([
            "--pgdata",
            &cluster.data().to_string_lossy(),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]))
        .context("initdb of the tests' cluster")?;
        // Room for the tests' parallel connection pools; a throwaway cluster without
        // fsync (its data need not survive a crash).
        let durability_options = match durability {
            Durability::Throwaway => {
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            }
            Durability::Durable => " -c shared_buffers=1GB -c max_wal_size=4GB",
        };
        let server_options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400{durability_options}",
            cluster.port,
            cluster.dir.join("socket").display()
        );
        let started = cluster
            .command("pg_ctl")
            .arg("--pgdata")
            .arg(cluster.data())
            .arg("--log")
            .arg(cluster.dir.join("server.log"))
            .args([
                "--options",
                &server_options,
                "--wait",
                "--timeout",
                "120",
                "start",
            ])
            .status()
            .context("starting pg_ctl")?;
        if !started.success() {
            let log = std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
            cluster.stop();
            bail!("the tests' PostgreSQL server did not start ({started}); its log:\n{log}");
        }
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// One of the server's programs, run as the user that owns the cluster.
    fn command(&self, program: &str) -> Command {
        let mut command = as_server_user(&Command::new(self.bin.join(program)));
        // The server's programs change to no directory of their own: the caller's may
        // be one the server user cannot read.
        command.current_dir(&self.dir);
        command
    }

    /// Stops the server at once (nothing of it is kept) and removes the cluster.
    fn stop(self) {
        stop_cluster(&self.bin, &self.dir);
    }
}

/// Stops a cluster's server, if running, and removes its directory.
fn stop_cluster(bin: &Path, dir: &Path) {
    let data = dir.join("data");
    if data.join("postmaster.pid").exists() {
        let _ = as_server_user(&Command::new(bin.join("pg_ctl")))
            .current_dir(dir)
            .arg("--pgdata")
            .arg(&data)
            .args(["--mode", "immediate", "--wait", "stop"])
            .status();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The clusters of earlier runs whose process is gone (killed before it could stop
/// them): stopped and removed.
fn stop_abandoned(bin: &Path, parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("run-")) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            stop_cluster(bin, &entry.path());
        }
    }
}

/// `command` as the server's user when this runs as root; as it is otherwise.
fn as_server_user(command: &Command) -> Command {
    let mut wrapped = if running_as_root() {
        let mut runuser = Command::new("runuser");
        runuser
            .args(["-u", SERVER_USER, "--"])
            .arg(command.get_program());
        runuser
    } else {
        Command::new(command.get_program())
    };
    wrapped.args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

/// A loopback port nothing listens on now.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn run_checked(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("starting {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_is_never_shown() {
        assert_eq!(
            redacted("postgres://tally:s3cret@db:5432/tally?sslmode=require"),
            "postgres://tally:***@db:5432/tally?sslmode=require"
        );
        assert_eq!(
            redacted("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
    }
}
