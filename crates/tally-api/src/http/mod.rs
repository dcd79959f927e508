//! The HTTP API and dashboard (axum on tokio): one route table drives the router, the
//! access checks and the OpenAPI document, so they cannot drift apart.
//!
//! Files: `error.rs` (JSON errors), `auth.rs` (keys and scopes), `params.rs` (unknown
//! query parameters refused), `budget.rs` (body and request timeouts), `serve.rs`
//! (connections: header timeout, connection cap, graceful shutdown), `ingest.rs`
//! (`POST` routes), `query.rs` (views, health, exports), `reports.rs` (the reports), `export.rs` (the CSV writer),
//! `openapi.rs`, `dashboard.rs` (the embedded web pages), `metrics.rs` (`/metrics` and
//! the request counts behind it). Store calls block, so every
//! handler runs them through `tokio::task::spawn_blocking`.

mod alerts;
mod auth;
mod budget;
mod dashboard;
mod dashboards;
mod engagement;
mod error;
mod events;
mod experiments;
mod export;
mod ingest;
mod leaderboard;
mod learning;
mod live;
mod metrics;
mod openapi;
mod otlp;
mod params;
mod predict;
mod query;
mod reports;
mod series;
mod serve;
mod traces;
mod wire_errors;
mod write_timeout;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::MethodRouter;

pub use auth::{Access, Principal};
pub use error::ApiError;
pub use export::{CsvExport, inert};

use crate::alerts::{AlertEngine, AlertTrigger, Dispatcher, LogNotify, Notify};
use crate::report::schedule::{Clock, Scheduler, SystemClock};
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
    /// Connections served at once; further clients wait in the listen queue.
    pub max_connections: usize,
    /// Ingest requests read and stored at once; further ones wait before their body
    /// is read.
    pub max_concurrent_ingests: usize,
    /// Time a client has to send a request's headers (idle keep-alive connections
    /// are closed after it too).
    pub header_read_timeout: Duration,
    /// Time a write of an answer may wait for the client to read (then the connection
    /// is closed).
    pub write_timeout: Duration,
    /// Time a client has to send a request's body (then 408).
    pub body_read_timeout: Duration,
    /// Time a request may take until its answer starts (then 503).
    pub request_timeout: Duration,
    /// How long a shutdown waits for requests in flight before cancelling them.
    pub shutdown_grace: Duration,
    /// The clock scheduled reports (`[[reports.schedule]]`) run by.
    pub clock: Arc<dyn Clock>,
    /// How often the alert rules are evaluated on the timer (they are also evaluated
    /// soon after data arrives).
    pub alert_every: Duration,
    /// The channels' dispatcher: alert notifications (transitions and tests) and the
    /// reports of schedules with `channels`. `None`: notifications go to the log.
    pub delivery: Option<Arc<Dispatcher>>,
    /// Live update streams (`/api/analytics/live`) open at once; more get 503.
    pub max_live_streams: usize,
}

impl Default for ServerOptions {
    /// The defaults of `[server]`, on an ephemeral loopback port.
    fn default() -> Self {
        let config = ServerConfig::default();
        ServerOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: config.max_body_bytes,
            max_batch_records: config.max_batch_records,
            retention_every: RETENTION_EVERY,
            max_connections: config.max_connections,
            max_concurrent_ingests: config.max_concurrent_ingests,
            header_read_timeout: Duration::from_secs_f64(config.header_read_timeout_secs),
            write_timeout: Duration::from_secs_f64(config.write_timeout_secs),
            body_read_timeout: Duration::from_secs_f64(config.body_read_timeout_secs),
            request_timeout: Duration::from_secs_f64(config.request_timeout_secs),
            shutdown_grace: Duration::from_secs_f64(config.shutdown_grace_secs),
            clock: Arc::new(SystemClock),
            alert_every: Duration::from_secs_f64(config.alert_every_secs),
            delivery: None,
            max_live_streams: config.max_live_streams,
        }
    }
}

/// The retention job's default period.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

impl ServerOptions {
    /// The options of a `[server]` configuration section.
    ///
    /// # Errors
    /// `addr` is neither `IP:PORT` nor `HOST:PORT` of a host name that resolves, or a
    /// timeout is not above 0.
    pub fn from_config(config: &ServerConfig) -> Result<ServerOptions> {
        let addr = resolve(&config.addr)?;
        Ok(ServerOptions {
            addr,
            max_body_bytes: config.max_body_bytes,
            max_batch_records: config.max_batch_records,
            retention_every: RETENTION_EVERY,
            max_connections: config.max_connections,
            max_concurrent_ingests: config.max_concurrent_ingests,
            header_read_timeout: seconds(
                config.header_read_timeout_secs,
                "header_read_timeout_secs",
            )?,
            write_timeout: seconds(config.write_timeout_secs, "write_timeout_secs")?,
            body_read_timeout: seconds(config.body_read_timeout_secs, "body_read_timeout_secs")?,
            request_timeout: seconds(config.request_timeout_secs, "request_timeout_secs")?,
            shutdown_grace: seconds(config.shutdown_grace_secs, "shutdown_grace_secs")?,
            clock: Arc::new(SystemClock),
            alert_every: seconds(config.alert_every_secs, "alert_every_secs")?,
            delivery: None,
            max_live_streams: config.max_live_streams,
        })
    }
}

/// The socket address of `IP:PORT` or `HOST:PORT` (`localhost:7878`: the loopback
/// address the name resolves to, IPv4 first).
fn resolve(addr: &str) -> Result<SocketAddr> {
    if let Ok(addr) = addr.parse() {
        return Ok(addr);
    }
    let expected = || {
        Error::Server(format!(
            "address {addr:?}: expected IP:PORT or HOST:PORT, like 127.0.0.1:7878 or localhost:7878"
        ))
    };
    if addr
        .rsplit_once(':')
        .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(expected());
    }
    let found: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(addr)
        .map_err(|e| {
            Error::Server(format!(
                "address {addr:?}: the host name does not resolve: {e}"
            ))
        })?
        .collect();
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| found.first())
        .copied()
        .ok_or_else(expected)
}

/// A configured number of seconds as a duration.
fn seconds(value: f64, name: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Error::Server(format!(
                "server.{name} must be above 0 seconds, got {value}"
            ))
        })
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) analytics: Analytics,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_batch_records: usize,
    /// The places of the ingest requests read and stored at once (see `ingest_place`).
    pub(crate) ingest_places: Arc<tokio::sync::Semaphore>,
    /// Listening beyond loopback: a key is required even should every key be revoked.
    pub(crate) keys_always_required: bool,
    pub(crate) started: Instant,
    pub(crate) openapi: Arc<String>,
    /// Poked when data arrives, so the alert rules are evaluated soon.
    pub(crate) alert_trigger: AlertTrigger,
    /// Where alert notifications go.
    pub(crate) notify: Arc<dyn Notify>,
    /// The places of the live update streams open at once.
    pub(crate) live_places: Arc<tokio::sync::Semaphore>,
    pub(crate) max_live_streams: usize,
    /// Set when the server stops: the live update streams end.
    pub(crate) closing: Arc<tokio::sync::watch::Sender<bool>>,
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
    /// The OpenMetrics text format (`/metrics`).
    OpenMetrics,
    /// A file download whose type depends on a `format` parameter.
    Download,
    /// No content: a redirect to the path given.
    Redirect(&'static str),
    /// Server-Sent Events (`text/event-stream`).
    EventStream,
}

/// Every route of the server.
pub fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(query::routes());
    routes.extend(reports::routes());
    routes.extend(series::routes());
    routes.extend(ingest::routes());
    routes.extend(experiments::routes());
    routes.extend(learning::routes());
    routes.extend(leaderboard::routes());
    routes.extend(predict::routes());
    routes.extend(otlp::routes());
    routes.extend(traces::routes());
    routes.extend(engagement::routes());
    routes.extend(events::routes());
    routes.extend(dashboard::routes());
    routes.extend(metrics::routes());
    routes.extend(alerts::routes());
    routes.extend(dashboards::routes());
    routes.extend(live::routes());
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

/// Logs each request at info level once its answer is sent: method, route template
/// (`/api/analytics/{name}`, never the path and query a client sent, which may hold a
/// key), status, time to the last byte and bytes of the body. No header is logged.
async fn log_request(request: Request, next: Next) -> Response {
    let mut line = RequestLine {
        method: request.method().clone(),
        route: request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned()),
        status: 0,
        bytes: 0,
        start: Instant::now(),
    };
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    line.status = parts.status.as_u16();
    Response::from_parts(parts, axum::body::Body::new(LoggedBody { body, line }))
}

/// A response body that counts its bytes into the request's log line, which is written
/// when the body is done (or dropped: the client went away). Its size is the inner
/// body's, so an answer of known length keeps its `Content-Length`.
struct LoggedBody {
    body: axum::body::Body,
    line: RequestLine,
}

impl http_body::Body for LoggedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::result::Result<http_body::Frame<Self::Data>, Self::Error>>>
    {
        let this = self.get_mut();
        let frame = std::pin::Pin::new(&mut this.body).poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(frame))) = &frame
            && let Some(data) = frame.data_ref()
        {
            this.line.bytes += data.len() as u64;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A duration in milliseconds rounded to a tenth, as the request log shows it.
fn tenths_of_ms(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 10_000.0).round() / 10.0
}

/// One request's log line, written when it is dropped.
struct RequestLine {
    method: Method,
    route: String,
    status: u16,
    bytes: u64,
    start: Instant,
}

impl Drop for RequestLine {
    fn drop(&mut self) {
        tracing::info!(
            method = %self.method,
            route = %self.route,
            status = self.status,
            ms = tenths_of_ms(self.start.elapsed()),
            bytes = self.bytes,
            "request"
        );
    }
}

/// The whole application: routes with their access checks, JSON 404s and 405s.
pub fn app(analytics: Analytics, options: &ServerOptions, keys_always_required: bool) -> Router {
    app_with(
        analytics,
        options,
        keys_always_required,
        AlertTrigger::default(),
        Arc::new(tokio::sync::watch::channel(false).0),
    )
}

/// Where alert notifications go: the channels' dispatcher, or the log.
fn notify_of(options: &ServerOptions) -> Arc<dyn Notify> {
    match &options.delivery {
        Some(dispatcher) => dispatcher.clone(),
        None => Arc::new(LogNotify),
    }
}

/// [`app`], its ingest routes poking `alert_trigger` when they store data, its live
/// update streams ending once `closing` is set.
fn app_with(
    analytics: Analytics,
    options: &ServerOptions,
    keys_always_required: bool,
    alert_trigger: AlertTrigger,
    closing: Arc<tokio::sync::watch::Sender<bool>>,
) -> Router {
    let routes = routes();
    let state = AppState {
        analytics,
        max_body_bytes: options.max_body_bytes,
        max_batch_records: options.max_batch_records,
        ingest_places: Arc::new(tokio::sync::Semaphore::new(
            options.max_concurrent_ingests.max(1),
        )),
        keys_always_required,
        started: Instant::now(),
        openapi: Arc::new(openapi::document(&routes).to_string()),
        alert_trigger,
        notify: notify_of(options),
        live_places: Arc::new(tokio::sync::Semaphore::new(options.max_live_streams.max(1))),
        max_live_streams: options.max_live_streams.max(1),
        closing,
    };
    let analytics_enabled = state.analytics.config().analytics.enabled;
    let budget = budget::Budget {
        body: options.body_read_timeout,
        request: options.request_timeout,
    };
    let mut router = Router::new();
    let mut paths = std::collections::HashSet::new();
    for route in routes {
        let gate = auth::Gate {
            state: state.clone(),
            access: route.access,
        };
        let accepted = params::Accepted {
            path: route.path.clone(),
            params: route.params,
        };
        let static_asset = matches!(
            route.produces,
            Produces::Html | Produces::Css | Produces::JavaScript | Produces::Redirect(_)
        );
        let handler = if analytics_enabled || stays_on_when_analytics_off(&route) {
            route.handler
        } else {
            let method = axum::routing::MethodFilter::try_from(route.method.clone())
                .unwrap_or(axum::routing::MethodFilter::GET);
            axum::routing::on(method, error::analytics_disabled)
        };
        // Routes of one path (GET, PUT, DELETE of a rule) share a method router, which
        // takes one fallback.
        let mut handler = if paths.insert(route.path.clone()) {
            handler.fallback(error::method_not_allowed)
        } else {
            handler
        };
        // Pages and their assets are static: their query string is their script's.
        if !static_asset {
            handler = handler.route_layer(middleware::from_fn_with_state(
                accepted,
                params::refuse_unknown,
            ));
        }
        if route.access == Access::Ingest {
            handler = handler
                .route_layer(middleware::from_fn_with_state(
                    state.alert_trigger.clone(),
                    alerts::poke_after_ingest,
                ))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    ingest::ingest_place,
                ));
        }
        // The last layer runs first: the key is checked before the project and the
        // parameters.
        let handler = handler
            .route_layer(middleware::from_fn(error::within_callers_projects))
            .route_layer(middleware::from_fn_with_state(gate, auth::require));
        router = router.route(&route.path, handler);
    }
    router
        .fallback(error::route_not_found)
        .layer(middleware::map_response(error::json_errors))
        .layer(middleware::from_fn_with_state(budget, budget::enforce))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state.analytics.telemetry),
            metrics::count_request,
        ))
        .with_state(state)
}

/// With `[analytics] enabled = false` tally only collects: ingest, health, exports,
/// `/metrics` (without its business gauges) and the OpenAPI document answer, every
/// other route (views, learning, experiments, predictions, the dashboard) answers 503
/// `analytics_disabled`.
fn stays_on_when_analytics_off(route: &Route) -> bool {
    route.access == Access::Ingest
        || route.path == "/api/analytics/health"
        || route.path == "/metrics"
        || route.path == "/api/openapi.json"
        || route.path.starts_with("/api/analytics/export/")
}

/// A server bound to its address, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: std::net::TcpListener,
    router: Router,
    addr: SocketAddr,
    analytics: Analytics,
    retention_every: Duration,
    limits: serve::ConnectionLimits,
    scheduler: Scheduler,
    clock: Arc<dyn Clock>,
    alert_every: Duration,
    alert_trigger: AlertTrigger,
    notify: Arc<dyn Notify>,
    closing: Arc<tokio::sync::watch::Sender<bool>>,
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
        let listener = std::net::TcpListener::bind(options.addr).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                Error::Server(format!(
                    "address {} in use: another tally? pass --addr 127.0.0.1:PORT with a free port",
                    options.addr
                ))
            } else {
                Error::Server(format!("cannot listen on {}: {e}", options.addr))
            }
        })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let scheduler = Scheduler::from_config(analytics.clone(), options.delivery.as_ref())?;
        let alert_trigger = AlertTrigger::default();
        let closing = Arc::new(tokio::sync::watch::channel(false).0);
        Ok(Server {
            scheduler,
            clock: options.clock.clone(),
            router: app_with(
                analytics.clone(),
                options,
                exposed,
                alert_trigger.clone(),
                Arc::clone(&closing),
            ),
            closing,
            alert_every: options.alert_every,
            alert_trigger,
            notify: notify_of(options),
            listener,
            addr,
            analytics,
            retention_every: options.retention_every,
            limits: serve::ConnectionLimits {
                max_connections: options.max_connections,
                header_read_timeout: options.header_read_timeout,
                write_timeout: options.write_timeout,
                shutdown_grace: options.shutdown_grace,
            },
        })
    }

    /// The address bound (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish (an ingest
    /// that started commits) for at most the shutdown grace, cancels what is left and
    /// returns.
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
            let engine = AlertEngine::new(&self.analytics, self.notify);
            tokio::spawn(crate::alerts::evaluate_alerts(
                self.analytics.clone(),
                engine,
                self.alert_every,
                self.alert_trigger,
            ));
            tokio::spawn(retention_job(self.analytics, self.retention_every));
            if !self.scheduler.is_empty() {
                tokio::spawn(self.scheduler.run(self.clock));
            }
            tracing::info!(addr = %self.addr, "serving");
            ready(self.addr);
            // The live update streams end as the server stops accepting, so they never
            // hold the graceful stop up.
            let closing = self.closing;
            let shutdown = async move {
                shutdown.await;
                closing.send_replace(true);
            };
            serve::serve(listener, self.router, self.limits, shutdown).await;
            Ok::<_, Error>(())
        })?;
        // Blocking work still running belongs to requests already answered (timed out)
        // or cancelled: it is not waited for beyond a moment.
        runtime.shutdown_timeout(Duration::from_secs(1));
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
    let retention = analytics.config().retention.clone();
    if retention.is_configured() {
        tracing::info!(
            raw_days = ?retention.raw_days,
            hourly_days = ?retention.hourly_days,
            "retention on: data older than its limits is deleted at start and hourly"
        );
    } else {
        tracing::info!("retention off: nothing is deleted for age ([retention] in tally.toml)");
    }
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        let analytics = analytics.clone();
        match tokio::task::spawn_blocking(move || analytics.run_retention()).await {
            Ok(Ok(outcome)) if outcome.raw_rows_deleted + outcome.rollup_rows_deleted > 0 => {
                tracing::info!(
                    raw_rows_deleted = outcome.raw_rows_deleted,
                    rollup_rows_deleted = outcome.rollup_rows_deleted,
                    raw_days = ?retention.raw_days,
                    hourly_days = ?retention.hourly_days,
                    "retention deleted data older than its limits"
                );
            }
            Ok(Ok(outcome)) => tracing::debug!(
                minute_rows_deleted = outcome.minute_rows_deleted,
                "retention ran; nothing past its limits"
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
