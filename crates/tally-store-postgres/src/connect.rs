//! Connecting: the URL read as libpq's (rust-postgres parses `sslmode` and the rest),
//! TLS through rustls (no system OpenSSL to build against), and the URL as shown in
//! messages, without its password.
//!
//! rust-postgres knows `sslmode=disable|prefer|require` and no root certificate file;
//! the keys it lacks are read here, as libpq reads them, and taken out of the URL it
//! parses:
//! - `sslrootcert=PATH`: the server's certificate must chain to a CA of that PEM file
//!   (instead of the Mozilla roots); `sslrootcert=system` names the Mozilla roots;
//! - `sslmode=verify-full`: TLS, the chain verified and the server's name (the URL's
//!   host) in its certificate; `sslmode=verify-ca`: TLS and the chain verified;
//! - `sslmode=require`: TLS; with `sslrootcert` it verifies the chain, as libpq's does,
//!   and without it the Mozilla roots and the name (rustls connects to no server it
//!   cannot verify).

use std::path::Path;
use std::sync::Arc;

use r2d2_postgres::PostgresConnectionManager;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Error, Manager, Result};

/// The pool's connection manager for `url`.
pub(crate) fn manager(url: &str, shown: &str) -> Result<Manager> {
    let options = TlsOptions::take_from(url);
    let config: postgres::Config = options
        .url
        .parse()
        .map_err(|e| Error::Config(format!("{shown} is not a PostgreSQL URL: {e}")))?;
    let tls = client_config(&options, shown)?;
    Ok(PostgresConnectionManager::new(
        config,
        MakeRustlsConnect::new(tls),
    ))
}

/// Why connecting to `url` failed, with the causes the pool's timeout `error` leaves
/// out (the pool keeps only the last failure's message, and rust-postgres names the
/// cause of a failed TLS handshake, an unknown CA or a wrong name, in its source): one
/// more attempt, its error and every cause.
pub(crate) fn why(url: &str, shown: &str, error: &r2d2::Error) -> String {
    use r2d2::ManageConnection;
    let Ok(manager) = manager(url, shown) else {
        return error.to_string();
    };
    match manager.connect() {
        Ok(_) => error.to_string(),
        Err(failure) => {
            let mut why = failure.to_string();
            let mut cause = std::error::Error::source(&failure);
            while let Some(inner) = cause {
                why.push_str(&format!(": {inner}"));
                cause = inner.source();
            }
            why
        }
    }
}

/// The TLS keys of a URL that rust-postgres does not read, and the URL without them.
#[derive(Debug, PartialEq, Eq)]
struct TlsOptions {
    /// The URL for rust-postgres: `verify-ca` and `verify-full` become `require`, and
    /// `sslrootcert` is gone.
    url: String,
    verify: Verify,
    /// `sslrootcert`, unless `system`.
    root_cert: Option<String>,
}

/// What of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// The chain and the server's name.
    Full,
    /// The chain alone.
    Ca,
}

impl TlsOptions {
    /// Reads the query of a `postgres://` URL (or the `key=value` words of a libpq
    /// connection string).
    fn take_from(url: &str) -> TlsOptions {
        let (base, pairs, separator): (&str, Vec<&str>, &str) = if url.contains("://") {
            match url.split_once('?') {
                Some((base, query)) => (base, query.split('&').collect(), "&"),
                None => (url, Vec::new(), "&"),
            }
        } else {
            ("", url.split_whitespace().collect(), " ")
        };
        let mut mode = None;
        let mut root_cert = None;
        let mut kept = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match pair.split_once('=') {
                Some(("sslmode", value)) => mode = Some(value),
                Some(("sslrootcert", value)) => root_cert = Some(value),
                _ => kept.push(pair.to_owned()),
            }
        }
        let verify = match (mode, root_cert) {
            (Some("verify-ca"), _) => Verify::Ca,
            (Some("verify-full"), _) | (_, Some("system") | None) => Verify::Full,
            (_, Some(_)) => Verify::Ca,
        };
        if let Some(mode) = mode {
            let mode = match mode {
                "verify-ca" | "verify-full" => "require",
                other => other,
            };
            kept.push(format!("sslmode={mode}"));
        }
        let url = match (base, kept.is_empty()) {
            ("", _) => kept.join(separator),
            (base, true) => base.to_owned(),
            (base, false) => format!("{base}?{}", kept.join(separator)),
        };
        TlsOptions {
            url,
            verify,
            root_cert: root_cert
                .filter(|path| *path != "system")
                .map(str::to_owned),
        }
    }
}

/// The rustls client for `options`: ring rather than aws-lc-rs, rustls's default (a far
/// smaller C build; what it lacks, post-quantum key exchange, is not asked of a database
/// connection yet).
fn client_config(options: &TlsOptions, shown: &str) -> Result<rustls::ClientConfig> {
    let roots = match &options.root_cert {
        Some(path) => roots_of(Path::new(path), shown)?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    let config = match options.verify {
        Verify::Full => builder.with_root_certificates(roots),
        Verify::Ca => {
            let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| Error::Config(format!("TLS for {shown}: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(chain)))
        }
    };
    Ok(config.with_no_client_auth())
}

/// The CA certificates of the PEM file at `path`.
fn roots_of(path: &Path, shown: &str) -> Result<RootCertStore> {
    let refuse =
        |what: String| Error::Config(format!("sslrootcert={} of {shown}: {what}", path.display()));
    let pem = std::fs::read(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| refuse(format!("not a PEM certificate file: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| refuse(format!("not a CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(refuse("holds no certificate".to_owned()));
    }
    Ok(roots)
}

/// `sslmode=verify-ca`: the server's certificate must chain to a trusted CA, whatever
/// name it is for.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            verified => verified,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `url` with its password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return redact_query(url);
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_owned(),
    };
    redact_query(&format!("{scheme}://{user}@{host}{tail}"))
}

/// A `password=` query parameter replaced by `***`.
fn redact_query(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("password", _)) => "password=***".to_owned(),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::{TlsOptions, Verify, redact};

    #[test]
    fn tls_keys_rust_postgres_lacks_are_read_and_taken_out() {
        let read = |url: &str| {
            let o = TlsOptions::take_from(url);
            (o.url, o.verify, o.root_cert)
        };
        assert_eq!(
            read("postgres://db/tally?sslmode=verify-full&sslrootcert=/etc/ca.pem&user=t"),
            (
                "postgres://db/tally?user=t&sslmode=require".to_owned(),
                Verify::Full,
                Some("/etc/ca.pem".to_owned())
            )
        );
        assert_eq!(
            read("postgres://db/tally?sslrootcert=ca.pem&sslmode=verify-ca"),
            (
                "postgres://db/tally?sslmode=require".to_owned(),
                Verify::Ca,
                Some("ca.pem".to_owned())
            )
        );
        // With a CA file, `require` checks the chain, as libpq's does.
        assert_eq!(
            read("postgres://db/tally?sslmode=require&sslrootcert=ca.pem").1,
            Verify::Ca
        );
        assert_eq!(
            read("postgres://db/tally?sslmode=require&sslrootcert=system"),
            (
                "postgres://db/tally?sslmode=require".to_owned(),
                Verify::Full,
                None
            )
        );
        assert_eq!(
            read("postgres://db/tally"),
            ("postgres://db/tally".to_owned(), Verify::Full, None)
        );
        assert_eq!(
            read("host=db dbname=tally sslmode=verify-full sslrootcert=ca.pem"),
            (
                "host=db dbname=tally sslmode=require".to_owned(),
                Verify::Full,
                Some("ca.pem".to_owned())
            )
        );
    }

    #[test]
    fn an_unreadable_or_empty_root_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().expect("a directory");
        let missing = dir.path().join("missing.pem");
        let url = format!(
            "postgres://db/tally?sslmode=verify-full&sslrootcert={}",
            missing.display()
        );
        let error = super::manager(&url, "db")
            .err()
            .expect("refused")
            .to_string();
        assert!(
            error.contains("missing.pem") && error.contains("cannot be read"),
            "{error}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").expect("written");
        let url = format!(
            "postgres://db/tally?sslmode=verify-full&sslrootcert={}",
            empty.display()
        );
        let error = super::manager(&url, "db")
            .err()
            .expect("refused")
            .to_string();
        assert!(error.contains("holds no certificate"), "{error}");
    }

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            redact("postgres://tally:s3cret@db.internal:5432/tally?sslmode=require"),
            "postgres://tally:***@db.internal:5432/tally?sslmode=require"
        );
        assert_eq!(
            redact("postgres://tally@db/tally?password=s3cret&sslmode=disable"),
            "postgres://tally@db/tally?password=***&sslmode=disable"
        );
        assert_eq!(redact("postgres://db/tally"), "postgres://db/tally");
    }
}
