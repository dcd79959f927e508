//! Re-reading quarantined records after a fix (a corrected clock, a raised limit).

use chrono::Utc;
use serde::Serialize;
use tally_models::{Event, ValidationContext};
use tally_store::{Batch, EventStore, QuarantineStore, RecordFormat};

use crate::formats::{self, RawRecord};
use crate::identity::derive_id;
use crate::{IngestOptions, Result};

/// What a retry did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetryReport {
    /// Records that now pass and were stored (or found already stored); removed from quarantine.
    pub resolved: u64,
    /// Of those, records whose id was already stored.
    pub duplicates: u64,
    /// Records that still fail and stay in quarantine.
    pub still_rejected: u64,
}

/// Validates every quarantined record again (or only those in `only`); those that pass
/// are stored and leave the quarantine in the same transaction.
///
/// # Errors
/// Any storage failure; batches committed before it stay committed.
pub fn retry_quarantine<S: EventStore + QuarantineStore + ?Sized>(
    store: &S,
    options: &IngestOptions,
    only: Option<&[i64]>,
) -> Result<RetryReport> {
    let context = ValidationContext {
        now: options.now.unwrap_or_else(Utc::now),
        limits: options.limits,
    };
    let mut report = RetryReport::default();
    let mut after = 0;
    loop {
        let page = store.quarantined(after, 1000)?;
        let Some(last) = page.last() else { break };
        after = last.quarantine_id;
        let mut events = Vec::new();
        let mut resolved = Vec::new();
        for record in page {
            if only.is_some_and(|ids| !ids.contains(&record.quarantine_id)) {
                continue;
            }
            match revalidate(&record.rejection, &context, options) {
                Some(mut event) => {
                    if event.id.is_none() {
                        event.id = Some(derive_id(&event));
                    }
                    event.price_missing_costs(&options.prices);
                    events.push(event);
                    resolved.push(record.quarantine_id);
                }
                None => report.still_rejected += 1,
            }
        }
        if !resolved.is_empty() {
            let outcome = store.write_batch(Batch {
                events: &events,
                rejects: &[],
                resolved_quarantine: &resolved,
                prepared: None,
            })?;
            report.resolved += resolved.len() as u64;
            report.duplicates += outcome.duplicates;
        }
    }
    Ok(report)
}

fn revalidate(
    rejection: &tally_store::Rejection,
    context: &ValidationContext,
    options: &IngestOptions,
) -> Option<Event> {
    let mut decoded = None;
    let mut take = |record: RawRecord<'_>| {
        decoded = formats::decode_record(record.value, context).ok();
        Ok(())
    };
    match rejection.format {
        RecordFormat::Json => {
            if rejection.raw.len() > options.max_record_bytes {
                return None;
            }
            let value = formats::json_text(&rejection.raw).map(formats::RecordValue::Json);
            take(RawRecord {
                position: rejection.position,
                raw: &rejection.raw,
                value,
            })
            .ok()?;
        }
        RecordFormat::Csv => {
            let mut text = rejection.header.clone().unwrap_or_default().into_bytes();
            text.push(b'\n');
            text.extend_from_slice(&rejection.raw);
            let mut reader = std::io::BufReader::new(text.as_slice());
            formats::read_csv(
                &mut reader,
                &rejection.source,
                options.csv_kind,
                options.max_record_bytes,
                &mut |record, _| take(record),
            )
            .ok()?;
        }
    }
    decoded
}
