//! Connecting: the URL read as libpq's (rust-postgres parses `sslmode` and the rest),
//! TLS through rustls with the Mozilla roots (no system OpenSSL to build against), and
//! the URL as shown in messages, without its password.

use std::sync::Arc;

use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Error, Manager, Result};

/// The pool's connection manager for `url`.
pub(crate) fn manager(url: &str, shown: &str) -> Result<Manager> {
    let config: postgres::Config = url
        .parse()
        .map_err(|e| Error::Config(format!("{shown} is not a PostgreSQL URL: {e}")))?;
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // ring rather than aws-lc-rs, rustls's default: a far smaller C build. What it
    // lacks (post-quantum key exchange) is not asked of a database connection yet.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(PostgresConnectionManager::new(
        config,
        MakeRustlsConnect::new(tls),
    ))
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
    use super::redact;

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
