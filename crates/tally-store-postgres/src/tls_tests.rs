//! TLS against a real server: a throwaway PostgreSQL cluster with `ssl=on`, its
//! certificate signed by a CA made for the test with `openssl` (Debian's `postgresql`
//! package brings it, through `ssl-cert`), and a second CA that signed nothing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tally_store_contract::events::{Exec, at, execution};

use crate::{Batch, PostgresOptions, PostgresStore};

/// Where Debian puts each major version's server binaries.
const DEBIAN_SERVERS: &str = "/usr/lib/postgresql";

/// The `openssl` settings of the two CAs and the server's certificate: for
/// `127.0.0.1` only, so that `localhost` is a name it is not for.
const OPENSSL_CONFIG: &str = "
[req]
distinguished_name = dn
prompt = no
[dn]
CN = tally test
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// A cluster serving TLS with a certificate of `ca`; stopped and removed when dropped.
struct TlsCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    ca: PathBuf,
    other_ca: PathBuf,
}

impl TlsCluster {
    fn start() -> TlsCluster {
        let bin = server_binaries();
        let dir = tempfile::tempdir().expect("a directory for the cluster");
        let path = dir.path().to_path_buf();
        run(Command::new("chmod").arg("755").arg(&path));
        let config = path.join("openssl.cnf");
        std::fs::write(&config, OPENSSL_CONFIG).expect("openssl settings written");
        for ca in ["ca", "other-ca"] {
            run(openssl(&path).args([
                "req",
                "-x509",
                "-config",
                "openssl.cnf",
                "-extensions",
                "ca",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=tally test {ca}"),
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
            ]));
        }
        run(openssl(&path).args([
            "req",
            "-new",
            "-config",
            "openssl.cnf",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=tally test server",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ]));
        run(openssl(&path).args([
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "openssl.cnf",
            "-extensions",
            "server",
            "-out",
            "server.pem",
        ]));
        let cluster = TlsCluster {
            ca: path.join("ca.pem"),
            other_ca: path.join("other-ca.pem"),
            dir,
            bin,
            port: free_port(),
        };
        // The server reads its key only when it alone may.
        run(Command::new("chmod")
            .arg("600")
            .arg(path.join("server.key")));
        if running_as_root() {
            run(Command::new("chown").args(["-R", "postgres:"]).arg(&path));
        }
        run(cluster.server_command("initdb").args([
            "--pgdata",
            "data",
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]));
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on \
             -c ssl_cert_file={} -c ssl_key_file={}",
            cluster.port,
            path.display(),
            path.join("server.pem").display(),
            path.join("server.key").display()
        );
        run(cluster.server_command("pg_ctl").args([
            "--pgdata",
            "data",
            "--log",
            "server.log",
            "--options",
            &options,
            "--wait",
            "start",
        ]));
        cluster
    }

    /// The cluster's `postgres` database at `host`, with the TLS keys `tls`.
    fn url(&self, host: &str, tls: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{tls}", self.port)
    }

    /// One of the server's programs, as the server's user, in the cluster's directory.
    fn server_command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            Command::new(program)
        };
        command.current_dir(self.dir.path());
        command
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = self
            .server_command("pg_ctl")
            .args(["--pgdata", "data", "--mode", "immediate", "--wait", "stop"])
            .status();
    }
}

fn openssl(dir: &Path) -> Command {
    let mut command = Command::new("openssl");
    command.current_dir(dir);
    command
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// The newest Debian server's `bin` directory.
fn server_binaries() -> PathBuf {
    std::fs::read_dir(DEBIAN_SERVERS)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| {
            panic!(
                "the TLS test starts a PostgreSQL server of its own and found none in \
                 {DEBIAN_SERVERS}/*/bin: `apt-get install postgresql` (or run `cargo xtask test`, \
                 which installs it)"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn open(url: &str) -> crate::Result<PostgresStore> {
    PostgresStore::open(
        url,
        PostgresOptions {
            connections: 2,
            // A refused certificate is refused again: no need to wait long for it.
            connect_timeout: Duration::from_secs(3),
        },
    )
}

/// Whether the store's connection to the server is encrypted, by the server's account.
fn encrypted(store: &PostgresStore) -> bool {
    store
        .conn()
        .expect("a connection")
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("the connection's TLS state")
        .get(0)
}

#[test]
fn connections_verify_the_server_against_the_ca_of_sslrootcert() {
    let cluster = TlsCluster::start();
    let ca = cluster.ca.display().to_string();
    for tls in [
        format!("sslmode=verify-full&sslrootcert={ca}"),
        format!("sslmode=verify-ca&sslrootcert={ca}"),
        format!("sslmode=require&sslrootcert={ca}"),
    ] {
        let store = open(&cluster.url("127.0.0.1", &tls))
            .unwrap_or_else(|e| panic!("{tls}: not connected: {e}"));
        assert!(encrypted(&store), "{tls}: the connection is not encrypted");
        let outcome = store
            .write_batch(Batch {
                events: &[execution(&tls, "alpha", at(0), &Exec::default())],
                ..Batch::default()
            })
            .expect("written over TLS");
        assert_eq!(outcome.accepted, 1, "{tls}");
    }

    // A certificate of another CA is refused, whatever the mode that verifies.
    let other = cluster.other_ca.display().to_string();
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = cluster.url("127.0.0.1", &format!("sslmode={mode}&sslrootcert={other}"));
        let error = open(&url).expect_err("another CA's server").to_string();
        assert!(
            error.contains("invalid peer certificate") && error.contains("UnknownIssuer"),
            "{mode}: {error}"
        );
    }

    // `localhost` is not a name of the certificate: verify-full refuses it, verify-ca
    // only checks the chain.
    let url = cluster.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let error = open(&url)
        .expect_err("a name the certificate is not for")
        .to_string();
    assert!(
        error.contains("NotValidForName") || error.contains("not valid for name"),
        "{error}"
    );
    let url = cluster.url("localhost", &format!("sslmode=verify-ca&sslrootcert={ca}"));
    let store = open(&url).unwrap_or_else(|e| panic!("verify-ca by another name: {e}"));
    assert!(encrypted(&store));
}
