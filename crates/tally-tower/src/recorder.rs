//! The recorder: the bounded queue the layer offers events to, and the background
//! thread that takes them out in batches and delivers each to the sink, retrying with
//! backoff, then dropping what could not be delivered (counted).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::config::Config;
use crate::event::RequestEvent;
use crate::layer::TallyLayer;
use crate::sink::{Sink, SinkError};
use crate::stats::{Counters, Stats};

/// What the layer and the sender thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) fallback_endpoint: Arc<str>,
    pub(crate) counters: Counters,
    queue: Sender<RequestEvent>,
    next_sequence: AtomicU64,
}

impl Shared {
    /// Puts an event in the queue if there is room, never waiting.
    pub(crate) fn offer(&self, mut event: RequestEvent) {
        event.sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        match self.queue.try_send(event) {
            Ok(()) => Counters::add(&self.counters.queued, 1),
            Err(TrySendError::Full(_)) => Counters::add(&self.counters.dropped_queue_full, 1),
            Err(TrySendError::Disconnected(_)) => Counters::add(&self.counters.dropped_closed, 1),
        }
    }
}

/// Records requests through the layers it makes and sends them from a background
/// thread. [`Recorder::shutdown`] delivers what is queued and stops the thread;
/// dropping the recorder stops it without waiting.
#[derive(Debug)]
pub struct Recorder {
    shared: Arc<Shared>,
    stop: Option<Sender<()>>,
    worker: Option<JoinHandle<()>>,
}

/// The longest wait between two attempts at a batch.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Recorder {
    /// Starts the sender thread, delivering to `sink`.
    ///
    /// # Panics
    ///
    /// When the operating system cannot start a thread.
    pub fn start(config: Config, sink: impl Sink) -> Recorder {
        let (queue, events) = crossbeam_channel::bounded(config.queue_capacity.max(1));
        let (stop, stopped) = crossbeam_channel::bounded(0);
        let shared = Arc::new(Shared {
            fallback_endpoint: Arc::from(config.fallback_endpoint.as_str()),
            config,
            counters: Counters::default(),
            queue,
            next_sequence: AtomicU64::new(0),
        });
        let worker = Worker {
            shared: shared.clone(),
            events,
            stopped,
            sink,
            id_prefix: format!("{:016x}", rand::random::<u64>()),
        };
        let worker = std::thread::Builder::new()
            .name("tally-tower".to_owned())
            .spawn(move || worker.run())
            .expect("starting the tally-tower sender thread");
        Recorder {
            shared,
            stop: Some(stop),
            worker: Some(worker),
        }
    }

    /// A layer recording into this recorder; any number may be made.
    pub fn layer(&self) -> TallyLayer {
        TallyLayer {
            shared: self.shared.clone(),
        }
    }

    /// What became of the requests recorded so far.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Delivers the queued events (each batch with its attempts), stops the sender
    /// thread and answers the final counts. Blocks: call it from a blocking context.
    pub fn shutdown(mut self) -> Stats {
        self.stop.take();
        if let Some(worker) = self.worker.take() {
            if worker.join().is_err() {
                tracing::error!("the tally-tower sender thread panicked");
            }
        }
        self.stats()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Dropping the stop sender tells the thread to deliver what is queued and end.
        self.stop.take();
    }
}

/// The sender thread's state.
struct Worker<S> {
    shared: Arc<Shared>,
    events: Receiver<RequestEvent>,
    stopped: Receiver<()>,
    sink: S,
    /// Random per recorder, so that two recorders (or two runs) never share an id.
    id_prefix: String,
}

impl<S: Sink> Worker<S> {
    fn run(mut self) {
        let batch_size = self.shared.config.batch_size.max(1);
        let mut batch = Vec::with_capacity(batch_size);
        let mut stopping = false;
        while !stopping {
            crossbeam_channel::select! {
                recv(self.events) -> event => match event {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                },
                recv(self.stopped) -> _ => break,
            }
            // The batch fills until it is full or its first event has waited long enough.
            let deadline = Instant::now() + self.shared.config.flush_interval;
            while batch.len() < batch_size {
                crossbeam_channel::select! {
                    recv(self.events) -> event => match event {
                        Ok(event) => batch.push(event),
                        Err(_) => { stopping = true; break; }
                    },
                    recv(self.stopped) -> _ => { stopping = true; break; }
                    default(deadline.saturating_duration_since(Instant::now())) => break,
                }
            }
            if !stopping {
                self.deliver(&mut batch);
            }
        }
        // What was queued before the stop is delivered too, in whole batches.
        while let Ok(event) = self.events.try_recv() {
            batch.push(event);
            if batch.len() == batch_size {
                self.deliver(&mut batch);
            }
        }
        self.deliver(&mut batch);
    }

    /// Sends a batch, retrying with backoff; gives it up (counted) after the last
    /// attempt or at an error retrying cannot cure.
    fn deliver(&mut self, batch: &mut Vec<RequestEvent>) {
        if batch.is_empty() {
            return;
        }
        let counters = &self.shared.counters;
        let events = batch.len() as u64;
        let mut records = Vec::with_capacity(batch.len() * 200);
        let project = self.shared.config.project.as_str();
        for event in batch.drain(..) {
            // Strings, finite numbers and options cannot fail to serialize.
            if serde_json::to_writer(&mut records, &event.record(project, &self.id_prefix)).is_ok()
            {
                records.push(b'\n');
            }
        }
        let attempts = self.shared.config.max_attempts.max(1);
        let mut backoff = self.shared.config.retry_backoff;
        for attempt in 1..=attempts {
            match self.sink.send(&records) {
                Ok(delivery) => {
                    Counters::add(&counters.sent, events);
                    Counters::add(&counters.rejected, delivery.rejected);
                    if delivery.rejected > 0 {
                        tracing::warn!(
                            rejected = delivery.rejected,
                            "tally refused request events as invalid; they are in its quarantine"
                        );
                    }
                    return;
                }
                Err(error) => {
                    Counters::add(&counters.failed_attempts, 1);
                    let permanent = matches!(error, SinkError::Refused(_));
                    if permanent || attempt == attempts {
                        tracing::warn!(%error, events, attempt, "dropping request events tally did not take");
                        Counters::add(&counters.dropped_send_failed, events);
                        return;
                    }
                    tracing::debug!(%error, attempt, "sending request events failed; retrying");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}
