//! The HTTP API and dashboard (axum on tokio): one route table drives the router, the
//! access checks and the OpenAPI document, so they cannot drift apart.
//!
//! Files: `error.rs` (JSON errors), `auth.rs` (keys and scopes), `ingest.rs` (`POST`
//! routes), `query.rs` (views, health, exports), `export.rs` (the CSV writer),
//! `openapi.rs`, `dashboard.rs` (the embedded web pages). Store calls block, so every
//! handler runs them through `tokio::task::spawn_blocking`.

mod auth;
mod dashboard;
mod error;
mod experiments;
mod export;
mod ingest;
mod learning;
mod openapi;
mod otlp;
mod predict;
mod query;
mod series;
mod traces;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::MethodRouter;

pub use auth::{Access, Principal};
pub use error::ApiError;
pub use export::{CsvExport, inert};

use crate::{Analytics, Error, Result, ServerConfig};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub addr: SocketAddr,
    /// Largest request body, in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Most records in one ingest request; more get 413.
    pub max_batch_records: usize,
    /// How often the retention job runs (it also runs once at start).
    pub retention_every: Duration,
}

/// The retention job's default period.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

impl ServerOptions {
    /// The options of a `[server]` configuration section.
    ///
    /// # Errors
    /// `addr` is not an `IP:PORT` socket address.
    pub fn from_config(config: &ServerConfig) -> Result<ServerOptions> {
        let addr = config.addr.parse().map_err(|_| {
            Error::Server(format!(
                "address {:?}: expected IP:PORT, like 127.0.0.1:7878",
                config.addr
            ))
        })?;
        Ok(ServerOptions {
            addr,
            max_body_bytes: config.max_body_bytes,
            max_batch_records: config.max_batch_records,
            retention_every: RETENTION_EVERY,
        })
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) analytics: Analytics,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_batch_records: usize,
    /// Listening beyond loopback: a key is required even should every key be revoked.
    pub(crate) keys_always_required: bool,
    pub(crate) started: Instant,
    pub(crate) openapi: Arc<String>,
}

/// One route: the router, the access check and the OpenAPI document all read this.
#[derive(Debug)]
pub struct Route {
    pub method: Method,
    /// axum/OpenAPI path syntax: `/api/analytics/session/{id}/end`.
    pub path: String,
    pub access: Access,
    pub summary: String,
    pub params: &'static [Param],
    /// What the route answers with.
    pub produces: Produces,
    /// What the request body is, for `POST` routes.
    pub body: Option<&'static str>,
    pub handler: MethodRouter<AppState>,
}

/// A documented parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub in_path: bool,
    pub description: &'static str,
}

/// The content type of a route's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Produces {
    /// JSON; the name is the schema in the OpenAPI document.
    Json(&'static str),
    Html,
    Csv,
    Css,
    JavaScript,
    /// A file download whose type depends on a `format` parameter.
    Download,
    /// No content: a redirect to the path given.
    Redirect(&'static str),
}

/// Every route of the server.
pub fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(query::routes());
    routes.extend(series::routes());
    routes.extend(ingest::routes());
    routes.extend(experiments::routes());
    routes.extend(learning::routes());
    routes.extend(predict::routes());
    routes.extend(otlp::routes());
    routes.extend(traces::routes());
    routes.extend(dashboard::routes());
    routes.push(Route {
        method: Method::GET,
        path: "/api/openapi.json".into(),
        access: Access::Read,
        summary: "This OpenAPI 3 document".into(),
        params: &[],
        produces: Produces::Json("object"),
        body: None,
        handler: axum::routing::get(openapi::serve),
    });
    routes
}

/// Logs each request at debug level: method, path, status and time taken.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        path,
        status = response.status().as_u16(),
        micros = start.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// The whole application: routes with their access checks, JSON 404s and 405s.
pub fn app(analytics: Analytics, options: &ServerOptions, keys_always_required: bool) -> Router {
    let routes = routes();
    let state = AppState {
        analytics,
        max_body_bytes: options.max_body_bytes,
        max_batch_records: options.max_batch_records,
        keys_always_required,
        started: Instant::now(),
        openapi: Arc::new(openapi::document(&routes).to_string()),
    };
    let mut router = Router::new();
    for route in routes {
        let gate = auth::Gate {
            state: state.clone(),
            access: route.access,
        };
        let handler = route
            .handler
            .fallback(error::method_not_allowed)
            .route_layer(middleware::from_fn_with_state(gate, auth::require));
        router = router.route(&route.path, handler);
    }
    router
        .fallback(error::route_not_found)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// A server bound to its address, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: std::net::TcpListener,
    router: Router,
    addr: SocketAddr,
    analytics: Analytics,
    retention_every: Duration,
}

impl Server {
    /// Binds the address. Without any active key, only a loopback address is allowed;
    /// beyond loopback every API route needs a key, even should all be revoked later.
    ///
    /// # Errors
    /// A non-loopback address without keys, the address cannot be bound, or the store
    /// fails.
    pub fn bind(analytics: Analytics, options: &ServerOptions) -> Result<Server> {
        let exposed = !options.addr.ip().is_loopback();
        if exposed && !analytics.any_active_key()? {
            return Err(Error::Server(format!(
                "refusing to listen on {} without API keys: anyone on the network could read \
                 and write the data. Create a key first (`tally keys create --scope admin`) \
                 or listen on loopback (--addr 127.0.0.1:7878)",
                options.addr
            )));
        }
        let listener = std::net::TcpListener::bind(options.addr)
            .map_err(|e| Error::Server(format!("cannot listen on {}: {e}", options.addr)))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        Ok(Server {
            router: app(analytics.clone(), options, exposed),
            listener,
            addr,
            analytics,
            retention_every: options.retention_every,
        })
    }

    /// The address bound (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish (an ingest
    /// that started commits) and returns.
    ///
    /// # Errors
    /// The runtime cannot start or the listener fails.
    pub fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        self.run_inner(|| Ok(Box::pin(shutdown)), |_| {})
    }

    /// Serves until SIGINT or SIGTERM. The handlers are installed before `ready` is
    /// called, so a signal sent once the caller has announced the address is never lost.
    ///
    /// # Errors
    /// The signal handlers cannot be installed, the runtime cannot start or the
    /// listener fails.
    pub fn run_until_signal(self, ready: impl FnOnce(SocketAddr)) -> Result<()> {
        self.run_inner(|| Ok(Box::pin(shutdown_signal()?)), ready)
    }

    fn run_inner(
        self,
        shutdown: impl FnOnce() -> Result<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
        ready: impl FnOnce(SocketAddr),
    ) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("tally-http")
            .build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            let shutdown = shutdown()?;
            tokio::spawn(warm_learning_cache(self.analytics.clone()));
            tokio::spawn(retention_job(self.analytics, self.retention_every));
            tracing::info!(addr = %self.addr, "serving");
            ready(self.addr);
            axum::serve(listener, self.router)
                .with_graceful_shutdown(shutdown)
                .await?;
            tracing::info!("stopped accepting requests; finishing work in flight");
            Ok::<_, Error>(())
        })?;
        // Dropping the runtime waits for blocking store work still running.
        runtime.shutdown_timeout(Duration::from_secs(60));
        Ok(())
    }

    /// Serves on a background thread until the handle is stopped or dropped.
    ///
    /// # Errors
    /// The thread cannot start.
    pub fn spawn(self) -> Result<ServerHandle> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let addr = self.addr;
        let thread = std::thread::Builder::new()
            .name("tally-http".into())
            .spawn(move || {
                let shutdown = async move {
                    let _ = stopped.await;
                };
                self.run(shutdown)
            })?;
        Ok(ServerHandle {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// A server running on a background thread.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting requests, waits for those in flight, and returns how serving
    /// ended.
    ///
    /// # Errors
    /// Serving failed.
    pub fn stop(mut self) -> Result<()> {
        self.stop_now()
    }

    fn stop_now(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Err(error) = self.stop_now() {
            tracing::error!(%error, "server stopped with an error");
        }
    }
}

/// Evaluates every learner's achievements once, off the async threads, so the first
/// learner page or achievements answer does not wait for it.
async fn warm_learning_cache(analytics: Analytics) {
    let started = Instant::now();
    match tokio::task::spawn_blocking(move || analytics.warm_learning_cache()).await {
        Ok(Ok(learners)) => tracing::info!(
            learners,
            ms = started.elapsed().as_millis() as u64,
            "learner achievements evaluated for rarity"
        ),
        Ok(Err(error)) => tracing::error!(%error, "evaluating learner achievements failed"),
        Err(error) => tracing::error!(%error, "evaluating learner achievements failed"),
    }
}

/// Runs retention now and then every `period`, off the async threads; a failure is
/// logged and retried at the next tick.
async fn retention_job(analytics: Analytics, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        let analytics = analytics.clone();
        match tokio::task::spawn_blocking(move || analytics.run_retention()).await {
            Ok(Ok(outcome)) => tracing::info!(
                raw_rows_deleted = outcome.raw_rows_deleted,
                rollup_rows_deleted = outcome.rollup_rows_deleted,
                minute_rows_deleted = outcome.minute_rows_deleted,
                "retention ran"
            ),
            Ok(Err(error)) => tracing::error!(%error, "retention failed"),
            Err(error) => tracing::error!(%error, "retention task failed"),
        }
    }
}

/// Installs SIGINT (Ctrl-C) and SIGTERM handlers and returns a future that completes on
/// either. Must be called inside a tokio runtime.
///
/// # Errors
/// The handlers cannot be installed.
pub fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            tracing::info!("shutdown signal received");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutdown signal received");
        })
    }
}
