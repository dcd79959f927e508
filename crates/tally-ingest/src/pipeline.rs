//! The ingest pipeline: a producer thread parses and validates into batches while the
//! calling thread commits them, one transaction per batch.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use tally_models::{Event, Kind, Limits, PriceTable, ValidationContext};
use tally_store::{
    Batch, EventStore, Position, PreparedRollups, RecordFormat, Rejection, WriteOutcome,
};

use crate::formats::{self, RawRecord, Refused};
use crate::identity::derive_id;
use crate::report::{IngestReport, RecordError};
use crate::source::{self, Input, InputFormat};
use crate::{Error, Result};

/// Settings of an ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The framing; detected from the name or content when `None`.
    pub format: Option<InputFormat>,
    /// The kind of a CSV file's records when it has no `kind` column.
    pub csv_kind: Option<Kind>,
    /// Records per batch (a batch is acknowledged as a whole; a long ingest commits up
    /// to four batches in one transaction).
    pub batch_size: usize,
    /// Inputs of at most this many bytes (an HTTP body, say) are parsed and written on
    /// the calling thread; larger ones, and inputs of unknown size, get a producer
    /// thread that parses, validates and folds rollups beside the writer.
    pub single_thread_max_bytes: u64,
    /// Largest accepted record, in bytes.
    pub max_record_bytes: usize,
    /// The clock validation judges `ts` by; `None` is the current time.
    pub now: Option<DateTime<Utc>>,
    pub limits: Limits,
    /// Prices for the costs records leave out (built-in list prices by default).
    pub prices: Arc<PriceTable>,
    /// When set, records whose `project` is not in the list are rejected (field
    /// `project`) and quarantined: what a key limited to some projects may write.
    pub allowed_projects: Option<Vec<String>>,
    /// Most rejections of one input kept verbatim in quarantine; the rest are counted
    /// (`quarantine_omitted` in the report), so a hostile input cannot fill the disk.
    pub max_quarantined: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            csv_kind: None,
            batch_size: 8192,
            single_thread_max_bytes: 256 * 1024,
            max_record_bytes: 1024 * 1024,
            now: None,
            limits: Limits::default(),
            prices: Arc::new(PriceTable::built_in()),
            allowed_projects: None,
            max_quarantined: 10_000,
        }
    }
}

/// A batch is durable: what the progress hook hears after each commit.
#[derive(Debug)]
pub struct BatchCommitted<'a> {
    pub source: &'a str,
    /// Bytes of the input consumed so far (compressed bytes for gzip).
    pub bytes_read: u64,
    pub total_bytes: Option<u64>,
    /// What this batch did.
    pub outcome: WriteOutcome,
    /// The position of the batch's last record.
    pub last_position: Option<Position>,
    /// The running totals of this input.
    pub report: &'a IngestReport,
    /// The batch's valid events (new and duplicates alike), in input order.
    pub events: &'a [Event],
}

/// Hears about an ingest as it goes (a progress bar, a log of acknowledged batches).
pub trait Progress {
    fn started(&mut self, _source: &str, _total_bytes: Option<u64>) {}
    fn committed(&mut self, _batch: &BatchCommitted<'_>) {}
    fn finished(&mut self, _source: &str) {}
}

impl Progress for () {}

/// Ingests inputs into a store.
pub struct Ingestor<'s> {
    store: &'s dyn EventStore,
    options: IngestOptions,
}

impl std::fmt::Debug for Ingestor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingestor")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// One batch on its way from the producer to the writer.
#[derive(Default)]
struct Chunk {
    events: Vec<Event>,
    rejects: Vec<Rejection>,
    errors: Vec<RecordError>,
    last_position: Option<Position>,
    bytes_read: u64,
    /// Bytes of the rejected records' copies in `rejects`.
    reject_bytes: usize,
    /// Rejections past the input's quarantine limit: counted, not stored.
    omitted: u64,
    /// The rollup deltas of `events`, folded on the producer thread.
    prepared: Option<PreparedRollups>,
}

impl Chunk {
    /// Empties the chunk, keeping its buffers.
    fn clear(&mut self) {
        self.events.clear();
        self.rejects.clear();
        self.errors.clear();
        self.last_position = None;
        self.bytes_read = 0;
        self.reject_bytes = 0;
        self.omitted = 0;
        if let Some(prepared) = &mut self.prepared {
            prepared.clear();
        }
    }
}

impl<'s> Ingestor<'s> {
    pub fn new(store: &'s dyn EventStore, options: IngestOptions) -> Self {
        Ingestor { store, options }
    }

    /// Reads `input` to its end, storing the good records and quarantining the bad.
    ///
    /// # Errors
    /// The input cannot be opened or read, or the store fails. Batches committed before
    /// the failure stay committed.
    pub fn ingest(&self, input: &Input, progress: &mut dyn Progress) -> Result<IngestReport> {
        let opened = source::open(input, self.options.format)?;
        let name = opened.name.clone();
        let total_bytes = opened.total_bytes;
        // A compressed input's size says nothing of what it holds.
        let small = !opened.compressed
            && total_bytes.is_some_and(|bytes| bytes <= self.options.single_thread_max_bytes);
        let bytes_read = Arc::clone(&opened.bytes_read);
        let options = &self.options;
        let context = ValidationContext {
            now: options.now.unwrap_or_else(Utc::now),
            limits: options.limits,
        };
        progress.started(&name, total_bytes);
        let report = self.run(&name, total_bytes, small, progress, move |batcher| {
            let source::Opened {
                name,
                format,
                mut reader,
                ..
            } = opened;
            let read_so_far = || bytes_read.load(Ordering::Relaxed);
            let read = match format {
                InputFormat::JsonLines => formats::read_json_lines(
                    &mut *reader,
                    &name,
                    options.max_record_bytes,
                    &mut |record| {
                        batcher.record(record, &context, RecordFormat::Json, None, read_so_far())
                    },
                ),
                InputFormat::JsonArray => formats::read_json_array(
                    &mut *reader,
                    &name,
                    options.max_record_bytes,
                    &mut |record| {
                        batcher.record(record, &context, RecordFormat::Json, None, read_so_far())
                    },
                ),
                InputFormat::Csv => formats::read_csv(
                    &mut *reader,
                    &name,
                    options.csv_kind,
                    options.max_record_bytes,
                    &mut |record, header| {
                        batcher.record(
                            record,
                            &context,
                            RecordFormat::Csv,
                            Some(header),
                            read_so_far(),
                        )
                    },
                ),
            };
            read?;
            source::check_end(&mut *reader).map_err(|error| Error::Io {
                source_name: name.clone(),
                error,
            })
        })?;
        progress.finished(&name);
        Ok(report)
    }

    /// Stores events built in code (the demo generator, an embedding application);
    /// events without an id get a derived one.
    ///
    /// # Errors
    /// The store fails; batches committed before stay committed.
    pub fn ingest_events(
        &self,
        source: &str,
        events: impl IntoIterator<Item = Event> + Send,
        progress: &mut dyn Progress,
    ) -> Result<IngestReport> {
        progress.started(source, None);
        let report = self.run(source, None, false, progress, |batcher| {
            for event in events {
                batcher.event(event)?;
            }
            Ok(())
        })?;
        progress.finished(source);
        Ok(report)
    }

    /// Runs `produce` and commits what it hands over. When it stops with an error
    /// after some batches were committed, the error carries the report of those.
    fn run(
        &self,
        name: &str,
        total_bytes: Option<u64>,
        small: bool,
        progress: &mut dyn Progress,
        produce: impl FnOnce(&mut Batcher<'_>) -> Result<()> + Send,
    ) -> Result<IngestReport> {
        let mut report = IngestReport::default();
        match self.run_into(name, total_bytes, small, progress, produce, &mut report) {
            Ok(()) => Ok(report),
            Err(error) if report == IngestReport::default() => Err(error),
            Err(error) => Err(Error::Interrupted {
                report: Box::new(report),
                error: Box::new(error),
            }),
        }
    }

    fn run_into(
        &self,
        name: &str,
        total_bytes: Option<u64>,
        small: bool,
        progress: &mut dyn Progress,
        produce: impl FnOnce(&mut Batcher<'_>) -> Result<()> + Send,
        report: &mut IngestReport,
    ) -> Result<()> {
        let batch_size = self.options.batch_size.max(1);
        let batcher = |sender| Batcher {
            sender,
            chunk: Chunk::default(),
            batch_size,
            source: name.to_owned(),
            allowed_projects: self.options.allowed_projects.as_deref(),
            prices: &self.options.prices,
            recycled: None,
            prepare_rollups: false,
            quarantine_room: self.options.max_quarantined,
        };
        // A small input (one HTTP request, say) is parsed and written on the calling
        // thread: two thread spawns would cost more than the work. Small means small
        // uncompressed: everything it holds is queued before the first write.
        if small {
            let (sender, receiver) = unbounded::<Chunk>();
            let produced = {
                let mut batcher = batcher(sender);
                finish(produce(&mut batcher), &mut batcher)
            };
            for mut chunk in receiver.try_iter() {
                self.write_chunk(&mut chunk, name, total_bytes, progress, report)
                    .map_err(Error::Storage)?;
            }
            return produced;
        }
        std::thread::scope(|scope| {
            let (sender, receiver) = bounded::<Chunk>(MAX_CHUNKS_PER_COMMIT);
            // Written chunks are emptied on another thread, off the writer's critical
            // path, and handed back to the producer: their buffers are reused instead of
            // being freed and allocated again for every batch.
            let (used, used_receiver) = bounded::<Chunk>(MAX_CHUNKS_PER_COMMIT);
            let (recycled, recycled_receiver) = bounded::<Chunk>(MAX_CHUNKS_PER_COMMIT + 2);
            scope.spawn(move || {
                for mut chunk in used_receiver.iter() {
                    chunk.clear();
                    // A full pool just frees the chunk.
                    let _ = recycled.try_send(chunk);
                }
            });
            let producer = scope.spawn(move || {
                let mut batcher = batcher(sender);
                batcher.recycled = Some(recycled_receiver);
                batcher.prepare_rollups = true;
                let produced = produce(&mut batcher);
                finish(produced, &mut batcher)
            });
            let mut write_error = None;
            let mut group = Vec::with_capacity(MAX_CHUNKS_PER_COMMIT);
            while let Ok(first) = receiver.recv() {
                // Batches commit in groups: the rollup rows a group touches are written
                // once, so a group of four costs far less per event than four commits.
                // A full batch of a slow input waits at most `GROUP_COMMIT_WAIT` more.
                group.push(first);
                let deadline = Instant::now() + GROUP_COMMIT_WAIT;
                while group.len() < MAX_CHUNKS_PER_COMMIT {
                    match receiver.recv_deadline(deadline) {
                        Ok(chunk) => group.push(chunk),
                        Err(_) => break,
                    }
                }
                if let Err(error) =
                    self.write_chunks(&mut group, name, total_bytes, progress, report)
                {
                    write_error = Some(error);
                    break;
                }
                for chunk in group.drain(..) {
                    // The recycler only stops when `used` is dropped, so this cannot fail.
                    let _ = used.send(chunk);
                }
            }
            drop(receiver);
            drop(used);
            let produced = match producer.join() {
                Ok(produced) => produced,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            if let Some(error) = write_error {
                return Err(Error::Storage(error));
            }
            produced
        })
    }

    /// Commits one chunk.
    fn write_chunk(
        &self,
        chunk: &mut Chunk,
        name: &str,
        total_bytes: Option<u64>,
        progress: &mut dyn Progress,
        report: &mut IngestReport,
    ) -> Result<(), tally_store::Error> {
        self.write_chunks(
            std::slice::from_mut(chunk),
            name,
            total_bytes,
            progress,
            report,
        )
    }

    /// Commits chunks in one atomic write and tells the progress hook about each.
    fn write_chunks(
        &self,
        chunks: &mut [Chunk],
        name: &str,
        total_bytes: Option<u64>,
        progress: &mut dyn Progress,
        report: &mut IngestReport,
    ) -> Result<(), tally_store::Error> {
        let batches: Vec<Batch<'_>> = chunks
            .iter()
            .map(|chunk| Batch {
                events: &chunk.events,
                rejects: &chunk.rejects,
                resolved_quarantine: &[],
                prepared: chunk.prepared.as_ref(),
            })
            .collect();
        let outcomes = self.store.write_batches(&batches)?;
        for (chunk, outcome) in chunks.iter_mut().zip(outcomes) {
            report.add(outcome, std::mem::take(&mut chunk.errors), chunk.omitted);
            progress.committed(&BatchCommitted {
                source: name,
                bytes_read: chunk.bytes_read,
                total_bytes,
                outcome,
                last_position: chunk.last_position,
                report,
                events: &chunk.events,
            });
        }
        Ok(())
    }
}

/// Hands on the last records read, also when reading stopped with an error (a
/// truncated gzip input, say): each record a reader handed over was read whole, so it is
/// stored, and the error is reported after it.
fn finish(produced: Result<()>, batcher: &mut Batcher<'_>) -> Result<()> {
    let flushed = batcher.flush();
    produced.and(flushed)
}

/// At most this many chunks (batches of `batch_size` records) go into one transaction.
/// Rollup rows touched by several of them are then written once, and the commit is paid
/// once.
const MAX_CHUNKS_PER_COMMIT: usize = 4;

/// How long the writer waits for a group of batches to fill before it commits what it
/// has: the longest a full batch of a slow input waits for others before its commit.
const GROUP_COMMIT_WAIT: Duration = Duration::from_millis(200);

/// A batch whose rejected records' copies reach this many bytes is handed on before it
/// is full: rejects of up to 1 MiB each would otherwise make a batch of gigabytes.
const MAX_REJECT_BYTES_PER_CHUNK: usize = 8 * 1024 * 1024;

/// Collects validated records into chunks and hands full ones to the writer.
struct Batcher<'o> {
    sender: Sender<Chunk>,
    chunk: Chunk,
    batch_size: usize,
    source: String,
    allowed_projects: Option<&'o [String]>,
    prices: &'o PriceTable,
    /// Emptied chunks to fill again, when the writer hands them back.
    recycled: Option<Receiver<Chunk>>,
    /// Whether batches are folded into rollup deltas here, off the writer's thread:
    /// when a producer thread of its own runs beside the writer.
    prepare_rollups: bool,
    /// How many more rejections of this input may be kept in quarantine.
    quarantine_room: u64,
}

/// A rejection: the record's id if known, the field, the rule's name and the message.
type Refusal = (Option<String>, String, String, String);

/// Why a valid record may not be written: its project is not one the caller may write.
fn project_refusal(event: &Event, allowed: Option<&[String]>) -> Option<Refusal> {
    match allowed {
        Some(allowed) if !allowed.iter().any(|p| *p == event.project) => Some((
            event.id.as_ref().map(|id| id.to_string()),
            "project".to_owned(),
            "not_allowed".to_owned(),
            format!(
                "this key may not write to project {:?}; allowed: {}",
                event.project,
                allowed.join(", ")
            ),
        )),
        _ => None,
    }
}

impl Batcher<'_> {
    fn record(
        &mut self,
        record: RawRecord<'_>,
        context: &ValidationContext,
        format: RecordFormat,
        header: Option<&str>,
        bytes_read: u64,
    ) -> Result<()> {
        let RawRecord {
            position,
            raw,
            value,
        } = record;
        self.chunk.last_position = Some(position);
        self.chunk.bytes_read = bytes_read;
        // An accepted event goes from the decoder to the chunk without passing through
        // a `Result` of its own: each of those moves is a copy of a few hundred bytes.
        let (record_id, field, rule, message) = match formats::decode_record(value, context) {
            Ok(event) => match project_refusal(&event, self.allowed_projects) {
                None => return self.event(event),
                Some(refusal) => refusal,
            },
            Err(Refused::Unreadable(failure)) => (
                None,
                failure.field,
                "unreadable".to_owned(),
                failure.message,
            ),
            Err(Refused::Invalid { record_id, error }) => (
                record_id,
                error.field,
                error.rule.as_str().to_owned(),
                error.message,
            ),
        };
        if self.quarantine_room == 0 {
            self.chunk.omitted += 1;
            self.chunk
                .errors
                .push(RecordError::at(position, record_id, field, message));
            return self.flush_if_full();
        }
        self.quarantine_room -= 1;
        self.chunk.errors.push(RecordError::at(
            position,
            record_id.clone(),
            field.clone(),
            message.clone(),
        ));
        self.chunk.reject_bytes += raw.len();
        self.chunk.rejects.push(Rejection {
            source: self.source.clone(),
            position,
            format,
            header: header.map(str::to_owned),
            record_id,
            field,
            rule,
            message,
            raw: raw.to_vec(),
        });
        self.flush_if_full()
    }

    fn event(&mut self, mut event: Event) -> Result<()> {
        // The id is derived from what the client sent, before tally adds computed costs.
        if event.id.is_none() {
            event.id = Some(derive_id(&event));
        }
        event.price_missing_costs(self.prices);
        self.chunk.events.push(event);
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> Result<()> {
        let records =
            self.chunk.events.len() + self.chunk.rejects.len() + self.chunk.omitted as usize;
        if records >= self.batch_size || self.chunk.reject_bytes >= MAX_REJECT_BYTES_PER_CHUNK {
            self.flush()
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) -> Result<()> {
        if self.chunk.events.is_empty() && self.chunk.rejects.is_empty() && self.chunk.omitted == 0
        {
            return Ok(());
        }
        let next = self
            .recycled
            .as_ref()
            .and_then(|pool| pool.try_recv().ok())
            .unwrap_or_else(|| Chunk {
                events: Vec::with_capacity(self.batch_size),
                ..Chunk::default()
            });
        let mut chunk = std::mem::replace(&mut self.chunk, next);
        if self.prepare_rollups {
            match &mut chunk.prepared {
                Some(prepared) => prepared.refold(&chunk.events, Utc::now()),
                None => chunk.prepared = Some(PreparedRollups::fold(&chunk.events, Utc::now())),
            }
        } else {
            chunk.prepared = None;
        }
        self.sender.send(chunk).map_err(|_| Error::Input {
            source_name: self.source.clone(),
            message: "the writer stopped; see its error".to_owned(),
        })
    }
}
