//! Accepting connections: HTTP/1.1 through hyper with a header read timeout (which also
//! closes idle keep-alive connections), a write timeout (`write_timeout.rs`: a client
//! that stops reading its answer loses the connection), at most `max_connections` served at once
//! (further clients wait in the listen queue), and a graceful shutdown that waits for
//! requests in flight at most the shutdown grace before cancelling them. Each
//! connection answers the HTTP parser's own errors with a JSON body (`wire_errors.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::wire_errors::JsonErrors;
use super::write_timeout::WriteTimeout;

/// What bounds each connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    /// How long a write of the answer may wait for the client to read.
    pub write_timeout: Duration,
    /// How long a shutdown waits for the requests in flight.
    pub shutdown_grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting,
/// lets each connection finish its request in flight (at most the shutdown grace) and
/// returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, closing_seen) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let mut closing_seen = closing_seen.clone();
        connections.spawn(async move {
            {
                let stream = WriteTimeout::new(stream, limits.write_timeout);
                let connection =
                    builder.serve_connection(TokioIo::new(JsonErrors::new(stream)), service);
                tokio::pin!(connection);
                let result = tokio::select! {
                    result = connection.as_mut() => result,
                    _ = closing_seen.changed() => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                };
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended");
                }
            }
            // The socket is closed before the next connection may be taken.
            drop(permit);
        });
    }
    drop(listener);
    let _ = closing.send(true);
    tracing::info!("stopped accepting requests; finishing work in flight");
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "requests still running after the shutdown grace were cancelled"
        );
        connections.abort_all();
    }
}
