//! The [`Dispatcher`]: `notify()` puts a notification on a bounded queue and returns; a
//! scheduler thread turns it into one task per channel and medium, hands tasks to a few
//! worker threads, and keeps failed ones in a delay queue until their retry is due.
//!
//! Why blocking I/O on worker threads: deliveries are few (one per transition and
//! channel), each bounded by its timeouts, and run off the async runtime that serves
//! ingest and the API, so a receiver that hangs holds one worker, never an executor
//! thread. `ureq` and lettre's blocking SMTP client need no runtime of their own.
//!
//! Why a delay queue rather than sleeping workers: a task waiting for its retry holds
//! no worker, so one receiver that keeps failing delays other channels' deliveries by
//! at most the length of one attempt (its timeouts), not by its backoff.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossbeam_channel::{Receiver, Sender, TrySendError, at, bounded, never, select, unbounded};
use lettre::SmtpTransport;
use rand::Rng;
use tally_store::DeliveryAttempt;

use super::delivery_log::DeliveryLog;
use super::describe::event_name;
use super::email::{self, SmtpConfig};
use super::retry::RetryPolicy;
use super::webhook::{self, WebhookRequest};
use super::{Outcome, Report, slack};
use crate::alerts::{ChannelConfig, Notification, Notify, WebhookFormat};
use crate::{Config, Error, Result};

/// Notifications and reports waiting for the scheduler. A transition is rare (one per
/// rule state change, after a cooldown), so 1,000 waiting means the receivers have been
/// failing for a long time; beyond it `notify()` drops the notification, logs it at
/// error level and counts it ([`DeliveryStats::dropped_total`]) rather than wait.
pub const QUEUE_CAPACITY: usize = 1_000;
/// Deliveries in flight at once.
pub const WORKERS: usize = 4;

/// What the dispatcher delivers and how.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub channels: BTreeMap<String, ChannelConfig>,
    pub smtp: Option<SmtpConfig>,
    /// The dashboard's public address, linked from every payload when set.
    pub dashboard_url: Option<String>,
    pub retry: RetryPolicy,
    pub queue_capacity: usize,
    pub workers: usize,
    /// Time to open a connection to a webhook receiver.
    pub connect_timeout: Duration,
    /// Time a whole webhook request may take, connection included.
    pub request_timeout: Duration,
}

impl DeliverySettings {
    /// The channels and `[smtp]` of `config`, with the default queue, workers, retries
    /// and timeouts (5 s to connect, 10 s per request).
    pub fn from_config(config: &Config) -> DeliverySettings {
        DeliverySettings {
            channels: config.channels.clone(),
            smtp: config.smtp.clone(),
            dashboard_url: None,
            retry: RetryPolicy::default(),
            queue_capacity: QUEUE_CAPACITY,
            workers: WORKERS,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Counts since the dispatcher started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Notifications and reports refused because the queue was full (or closed).
    pub dropped_total: u64,
    /// Deliveries (one channel, one medium) that reached their receiver.
    pub delivered_total: u64,
    /// Deliveries given up: a final refusal, or the last attempt failed.
    pub failed_total: u64,
    /// Attempts that failed and were scheduled again.
    pub retries_total: u64,
}

#[derive(Debug, Default)]
struct Counters {
    dropped: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
}

/// Sends notifications and reports to channels without blocking the caller.
pub struct Dispatcher {
    sender: Option<Sender<Job>>,
    channels: Vec<String>,
    queue_capacity: usize,
    counters: Arc<Counters>,
    scheduler: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("channels", &self.channels)
            .field("queue_capacity", &self.queue_capacity)
            .field("stats", &self.stats())
            .finish()
    }
}

/// What the queue holds.
enum Job {
    Notification(Notification),
    Report {
        channel: String,
        report: Report,
        delivery: String,
    },
}

/// One delivery: a rendered body for one channel and medium, and its attempt number.
struct Task {
    /// The transition, for the delivery log (`None`: a report).
    transition: Option<i64>,
    delivery: String,
    channel: String,
    medium: Medium,
    attempt: u32,
}

enum Medium {
    Webhook(WebhookRequest),
    Email(lettre::Message),
}

impl Medium {
    fn as_str(&self) -> &'static str {
        match self {
            Medium::Webhook(_) => "webhook",
            Medium::Email(_) => "email",
        }
    }
}

/// What a job sends, each body made for the channel that needs it.
struct Content<'a> {
    /// The transition, for the delivery log (`None`: a report).
    transition: Option<i64>,
    delivery: String,
    event: &'static str,
    webhook: &'a dyn Fn(WebhookFormat) -> Vec<u8>,
    email: &'a dyn Fn() -> email::EmailContent,
}

/// A worker's word back to the scheduler once an attempt ended.
struct Finished {
    retry: Option<(Instant, Task)>,
}

impl Dispatcher {
    /// Starts the scheduler and the workers. `log` receives every attempt.
    ///
    /// # Errors
    /// `[smtp]` asks for TLS and it cannot be set up, or a thread cannot be started.
    pub fn start<L>(settings: DeliverySettings, log: Arc<L>) -> Result<Dispatcher>
    where
        L: DeliveryLog + ?Sized + 'static,
    {
        let log: Arc<dyn DeliveryLog> = Arc::new(SharedLog(log));
        let transport = settings
            .smtp
            .as_ref()
            .map(SmtpConfig::transport)
            .transpose()
            .map_err(|e| Error::Delivery(format!("smtp: {e}")))?;
        let (sender, incoming) = bounded(settings.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let channels = settings.channels.keys().cloned().collect();
        let queue_capacity = settings.queue_capacity;
        let scheduler =
            Scheduler::start(settings, transport, log, Arc::clone(&counters), incoming)?;
        Ok(Dispatcher {
            sender: Some(sender),
            channels,
            queue_capacity,
            counters,
            scheduler: Some(scheduler),
        })
    }

    /// Queues a report for `channel` (its webhook gets the Markdown, its addresses the
    /// HTML) and returns at once.
    ///
    /// # Errors
    /// No such channel, or the queue is full.
    pub fn send_report(&self, channel: &str, report: Report) -> Result<()> {
        if !self.channels.iter().any(|c| c == channel) {
            return Err(Error::Delivery(format!(
                "no channel {channel:?} (configured: {})",
                if self.channels.is_empty() {
                    "none".to_owned()
                } else {
                    self.channels.join(", ")
                }
            )));
        }
        let delivery = format!("report-{:016x}", rand::rng().random::<u64>());
        let job = Job::Report {
            channel: channel.to_owned(),
            report,
            delivery,
        };
        self.enqueue(job).map_err(|why| {
            Error::Delivery(format!("report for channel {channel:?} not sent: {why}"))
        })
    }

    /// Counts since the start.
    pub fn stats(&self) -> DeliveryStats {
        DeliveryStats {
            dropped_total: self.counters.dropped.load(Ordering::Relaxed),
            delivered_total: self.counters.delivered.load(Ordering::Relaxed),
            failed_total: self.counters.failed.load(Ordering::Relaxed),
            retries_total: self.counters.retries.load(Ordering::Relaxed),
        }
    }

    /// Stops taking work and waits until everything queued has been delivered or given
    /// up, retries included (at most `max_attempts` attempts with their backoff).
    pub fn close(mut self) {
        self.sender = None;
        if let Some(scheduler) = self.scheduler.take()
            && scheduler.join().is_err()
        {
            tracing::error!("the alert delivery scheduler panicked");
        }
    }

    fn enqueue(&self, job: Job) -> std::result::Result<(), &'static str> {
        let Some(sender) = &self.sender else {
            return Err("the dispatcher is closed");
        };
        match sender.try_send(job) {
            Ok(()) => Ok(()),
            Err(error) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                Err(match error {
                    TrySendError::Full(_) => "the delivery queue is full",
                    TrySendError::Disconnected(_) => "the delivery scheduler has stopped",
                })
            }
        }
    }
}

impl Notify for Dispatcher {
    fn notify(&self, notification: Notification) {
        let (id, rule) = (notification.id, notification.rule.clone());
        if let Err(why) = self.enqueue(Job::Notification(notification)) {
            tracing::error!(
                transition = id,
                rule = %rule,
                capacity = self.queue_capacity,
                dropped_total = self.counters.dropped.load(Ordering::Relaxed),
                "alert notification dropped: {why}"
            );
        }
    }
}

/// A log behind any `Arc`, `dyn AlertStore` included.
struct SharedLog<L: ?Sized>(Arc<L>);

impl<L: DeliveryLog + ?Sized> DeliveryLog for SharedLog<L> {
    fn record(&self, attempt: &DeliveryAttempt) {
        self.0.record(attempt);
    }
}

/// The scheduler thread's state.
struct Scheduler {
    settings: DeliverySettings,
    incoming: Receiver<Job>,
    work: Sender<Task>,
    finished: Receiver<Finished>,
    /// Tasks waiting for their retry, soonest first.
    waiting: BinaryHeap<Reverse<Due>>,
    in_flight: usize,
    workers: Vec<JoinHandle<()>>,
    log: Arc<dyn DeliveryLog>,
    counters: Arc<Counters>,
}

/// A task and when it is due; ordered by that time alone.
struct Due(Instant, u64, Task);

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

impl Scheduler {
    fn start(
        settings: DeliverySettings,
        transport: Option<SmtpTransport>,
        log: Arc<dyn DeliveryLog>,
        counters: Arc<Counters>,
        incoming: Receiver<Job>,
    ) -> Result<JoinHandle<()>> {
        // Bounded to the workers: while all are busy the scheduler waits, new jobs wait
        // in the incoming queue, and `notify()` sheds load once that is full.
        let (work, tasks) = bounded::<Task>(settings.workers.max(1));
        let (done, finished) = unbounded::<Finished>();
        let agent = webhook::agent(settings.connect_timeout, settings.request_timeout);
        let mut workers = Vec::new();
        for index in 0..settings.workers.max(1) {
            let worker = Worker {
                tasks: tasks.clone(),
                done: done.clone(),
                agent: agent.clone(),
                transport: transport.clone(),
                retry: settings.retry,
                log: Arc::clone(&log),
                counters: Arc::clone(&counters),
            };
            workers.push(
                std::thread::Builder::new()
                    .name(format!("tally-deliver-{index}"))
                    .spawn(move || worker.run())?,
            );
        }
        let scheduler = Scheduler {
            settings,
            incoming,
            work,
            finished,
            waiting: BinaryHeap::new(),
            in_flight: 0,
            workers,
            log,
            counters,
        };
        Ok(std::thread::Builder::new()
            .name("tally-deliver".to_owned())
            .spawn(move || scheduler.run())?)
    }

    fn run(mut self) {
        let mut open = true;
        let mut sequence = 0u64;
        loop {
            if !open && self.waiting.is_empty() && self.in_flight == 0 {
                break;
            }
            let next_due = self
                .waiting
                .peek()
                .map_or_else(never, |Reverse(Due(due, ..))| at(*due));
            let incoming = if open { self.incoming.clone() } else { never() };
            let finished = self.finished.clone();
            select! {
                recv(incoming) -> job => match job {
                    Ok(job) => {
                        for task in self.tasks(job) {
                            self.dispatch(task);
                        }
                    }
                    Err(_) => open = false,
                },
                recv(finished) -> done => {
                    if let Ok(Finished { retry }) = done {
                        self.in_flight -= 1;
                        if let Some((due, task)) = retry {
                            sequence += 1;
                            self.waiting.push(Reverse(Due(due, sequence, task)));
                        }
                    }
                },
                recv(next_due) -> _ => {},
            }
            let now = Instant::now();
            while self
                .waiting
                .peek()
                .is_some_and(|Reverse(Due(due, ..))| *due <= now)
            {
                if let Some(Reverse(Due(_, _, task))) = self.waiting.pop() {
                    self.dispatch(task);
                }
            }
        }
        drop(self.work);
        for worker in self.workers {
            if worker.join().is_err() {
                tracing::error!("an alert delivery worker panicked");
            }
        }
    }

    /// Hands a task to a worker, waiting for one to be free.
    fn dispatch(&mut self, task: Task) {
        if self.work.send(task).is_ok() {
            self.in_flight += 1;
        }
    }

    /// One task per channel and medium of a job; a channel that cannot be sent to is
    /// logged and counted as failed.
    fn tasks(&self, job: Job) -> Vec<Task> {
        let dashboard = self.settings.dashboard_url.as_deref();
        match job {
            Job::Notification(notification) => {
                let content = Content {
                    transition: Some(notification.id),
                    delivery: notification.id.to_string(),
                    event: event_name(notification.event),
                    webhook: &|format| match format {
                        WebhookFormat::Generic => {
                            webhook::notification_body(&notification, dashboard)
                        }
                        WebhookFormat::Slack => slack::notification_body(&notification, dashboard),
                    },
                    email: &|| email::notification_email(&notification, dashboard),
                };
                notification
                    .channels
                    .iter()
                    .flat_map(|name| self.channel_tasks(name, &content))
                    .collect()
            }
            Job::Report {
                channel,
                report,
                delivery,
            } => {
                let content = Content {
                    transition: None,
                    delivery,
                    event: "report",
                    webhook: &|format| match format {
                        WebhookFormat::Generic => webhook::report_body(&report, dashboard),
                        WebhookFormat::Slack => slack::report_body(&report),
                    },
                    email: &|| email::report_email(&report),
                };
                self.channel_tasks(&channel, &content)
            }
        }
    }

    /// A channel's tasks: its webhook's, its addresses'.
    fn channel_tasks(&self, name: &str, content: &Content<'_>) -> Vec<Task> {
        let Some(channel) = self.settings.channels.get(name) else {
            self.refuse(
                content.transition,
                name,
                "channel",
                "no such channel is configured",
            );
            return Vec::new();
        };
        let task = |medium| Task {
            transition: content.transition,
            delivery: content.delivery.clone(),
            channel: name.to_owned(),
            medium,
            attempt: 1,
        };
        let mut tasks = Vec::new();
        if let Some(url) = &channel.webhook {
            tasks.push(task(Medium::Webhook(WebhookRequest::new(
                url,
                channel.secret.as_deref(),
                (content.webhook)(channel.format),
                content.event,
                content.delivery.clone(),
            ))));
        }
        if !channel.email.is_empty() {
            match self.email(&channel.email, &(content.email)()) {
                Ok(message) => tasks.push(task(Medium::Email(message))),
                Err(why) => self.refuse(content.transition, name, "email", &why),
            }
        }
        tasks
    }

    fn email(
        &self,
        recipients: &[String],
        content: &email::EmailContent,
    ) -> std::result::Result<lettre::Message, String> {
        let smtp = self
            .settings
            .smtp
            .as_ref()
            .ok_or_else(|| "no [smtp] section is configured".to_owned())?;
        email::message(&smtp.from, recipients, content)
    }

    /// A delivery that cannot even be attempted: logged, counted and recorded as failed.
    fn refuse(&self, transition: Option<i64>, channel: &str, medium: &str, why: &str) {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        tracing::error!(?transition, channel, medium, "alert delivery failed: {why}");
        if let Some(transition) = transition {
            self.log.record(&DeliveryAttempt {
                transition,
                channel: channel.to_owned(),
                medium: medium.to_owned(),
                attempt: 1,
                at: Utc::now(),
                outcome: "failed".to_owned(),
                detail: why.to_owned(),
            });
        }
    }
}

/// A worker thread: takes tasks, makes one attempt each, logs it, and says when it
/// should be tried again.
struct Worker {
    tasks: Receiver<Task>,
    done: Sender<Finished>,
    agent: ureq::Agent,
    transport: Option<SmtpTransport>,
    retry: RetryPolicy,
    log: Arc<dyn DeliveryLog>,
    counters: Arc<Counters>,
}

impl Worker {
    fn run(self) {
        for mut task in self.tasks.iter() {
            let outcome = match &task.medium {
                Medium::Webhook(request) => webhook::post(&self.agent, request),
                Medium::Email(message) => match &self.transport {
                    Some(transport) => email::send(transport, message),
                    None => Outcome::Failed("no [smtp] section is configured".to_owned()),
                },
            };
            let (word, detail, wait) = match outcome {
                Outcome::Delivered(detail) => ("delivered", detail, None),
                Outcome::Retry {
                    detail,
                    retry_after,
                } if self.retry.retries_after(task.attempt) => (
                    "retrying",
                    detail,
                    Some(self.retry.delay(task.attempt, retry_after)),
                ),
                Outcome::Retry { detail, .. } | Outcome::Failed(detail) => ("failed", detail, None),
            };
            self.report(&task, word, &detail, wait);
            let retry = wait.map(|wait| {
                task.attempt += 1;
                (Instant::now() + wait, task)
            });
            if self.done.send(Finished { retry }).is_err() {
                break;
            }
        }
    }

    /// Logs the attempt (tracing, and the delivery log for a transition) and counts it.
    fn report(&self, task: &Task, outcome: &str, detail: &str, wait: Option<Duration>) {
        let counter = match outcome {
            "delivered" => &self.counters.delivered,
            "retrying" => &self.counters.retries,
            _ => &self.counters.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let medium = task.medium.as_str();
        match outcome {
            "delivered" => tracing::info!(
                delivery = %task.delivery, channel = %task.channel, medium, attempt = task.attempt,
                detail, "alert delivered"
            ),
            "retrying" => tracing::warn!(
                delivery = %task.delivery, channel = %task.channel, medium, attempt = task.attempt,
                retry_in_ms = wait.map_or(0, |w| w.as_millis() as u64), detail,
                "alert delivery failed; will retry"
            ),
            _ => tracing::error!(
                delivery = %task.delivery, channel = %task.channel, medium, attempt = task.attempt,
                detail, "alert delivery failed; giving up"
            ),
        }
        if let Some(transition) = task.transition {
            self.log.record(&DeliveryAttempt {
                transition,
                channel: task.channel.clone(),
                medium: medium.to_owned(),
                attempt: task.attempt,
                at: Utc::now(),
                outcome: outcome.to_owned(),
                detail: detail.to_owned(),
            });
        }
    }
}
