//! Idempotency by `(project, id)`, atomic batches, and the quarantine.

use tally_models::EventId;
use tally_store::{Batch, Error, Filter, Position, RecordFormat, Rejection, WriteOutcome};

use super::{project, write};
use crate::NewStore;
use crate::events::{Exec, at, execution};

fn outcome(accepted: u64, duplicates: u64, quarantined: u64) -> WriteOutcome {
    WriteOutcome {
        accepted,
        duplicates,
        quarantined,
    }
}

pub fn resent_ids_are_duplicates_in_every_project_and_batch(new: NewStore<'_>) {
    let store = new();
    let x = Exec::default();
    let a = execution("a", "p1", at(3600), &x);
    let b = execution("b", "p1", at(3660), &x);
    assert_eq!(write(&*store, &[a.clone(), b.clone()]), outcome(2, 0, 0));
    // A resent event, one sent twice in a batch, and an id another project already uses.
    let c = execution("c", "p1", at(3720), &x);
    let a_elsewhere = execution("a", "p2", at(3600), &x);
    assert_eq!(
        write(&*store, &[a.clone(), c.clone(), c.clone(), a_elsewhere]),
        outcome(2, 2, 0)
    );
    // Several batches in one write: one outcome each, a later batch's resend counted.
    let d = execution("d", "p1", at(3780), &x);
    let outcomes = store
        .write_batches(&[
            Batch {
                events: std::slice::from_ref(&d),
                ..Batch::default()
            },
            Batch {
                events: &[d.clone(), b],
                ..Batch::default()
            },
        ])
        .unwrap();
    assert_eq!(outcomes, vec![outcome(1, 0, 0), outcome(0, 2, 0)]);
    // Derived ids: the same content hash twice is one event.
    let mut derived = execution("unused", "p1", at(3840), &x);
    derived.id = Some(EventId::Derived(0x5eed));
    assert_eq!(
        write(&*store, &[derived.clone(), derived]),
        outcome(1, 1, 0)
    );
    let all = store.totals(&Filter::default()).unwrap();
    assert_eq!(all.executions.count, 6);
    assert_eq!(all.executions.tokens, 6 * 15);
    assert_eq!(store.totals(&project("p1")).unwrap().executions.count, 5);
    assert_eq!(store.totals(&project("p2")).unwrap().executions.count, 1);
}

pub fn a_batch_with_an_event_without_id_stores_nothing(new: NewStore<'_>) {
    let store = new();
    let good = execution("good", "p1", at(0), &Exec::default());
    let mut without_id = execution("x", "p1", at(1), &Exec::default());
    without_id.id = None;
    let refused = store.write_batch(Batch {
        events: &[good.clone(), without_id],
        ..Batch::default()
    });
    assert!(matches!(refused, Err(Error::MissingId)), "{refused:?}");
    assert_eq!(
        store.totals(&Filter::default()).unwrap().executions.count,
        0
    );
    // Nothing of the refused batch was recorded, not even its good event's id.
    assert_eq!(write(&*store, &[good]), outcome(1, 0, 0));
}

fn rejection(line: u64, raw: &[u8], message: &str) -> Rejection {
    Rejection {
        source: "events.jsonl".to_owned(),
        position: Position::Line(line),
        format: RecordFormat::Json,
        header: None,
        record_id: Some(format!("r{line}")),
        field: "duration_ms".to_owned(),
        rule: "required".to_owned(),
        message: message.to_owned(),
        raw: raw.to_vec(),
    }
}

pub fn quarantine_keeps_rejects_counts_repeats_and_resolves_by_retry(new: NewStore<'_>) {
    let store = new();
    let first = rejection(2, b"{\"kind\":\"execution\"", "missing field");
    // Bytes that are not UTF-8 are kept as they came.
    let second = rejection(5, b"\xff\xfe{}", "not JSON");
    let written = store
        .write_batch(Batch {
            rejects: &[first.clone(), second.clone()],
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(written, outcome(0, 0, 2));
    assert_eq!(store.quarantine_len().unwrap(), 2);
    let listed = store.quarantined(0, 10).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].quarantine_id < listed[1].quarantine_id);
    assert_eq!(listed[0].rejection, first);
    assert_eq!(listed[1].rejection, second);
    assert_eq!((listed[0].rejections, listed[1].rejections), (1, 1));
    // The same reject again is counted on its entry, with the latest message.
    let again = Rejection {
        message: "missing field, again".to_owned(),
        ..first.clone()
    };
    let repeated = store
        .write_batch(Batch {
            rejects: std::slice::from_ref(&again),
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(repeated, outcome(0, 0, 1));
    assert_eq!(store.quarantine_len().unwrap(), 2);
    let entry = &store.quarantined(0, 1).unwrap()[0];
    assert_eq!(entry.rejections, 2);
    assert_eq!(entry.rejection, again);
    assert!(entry.received_at <= entry.last_received_at);
    // Paging by id.
    let (first_id, second_id) = (listed[0].quarantine_id, listed[1].quarantine_id);
    let after_first = store.quarantined(first_id, 10).unwrap();
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].quarantine_id, second_id);
    assert!(store.quarantined(second_id, 10).unwrap().is_empty());
    // A retry stores the fixed record and resolves its entry in one batch.
    let fixed = execution("r2", "p1", at(0), &Exec::default());
    let retried = store
        .write_batch(Batch {
            events: &[fixed],
            resolved_quarantine: &[first_id],
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(retried, outcome(1, 0, 0));
    assert_eq!(store.quarantine_len().unwrap(), 1);
    let left = store.quarantined(0, 10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].rejection, second);
    assert_eq!(
        store.totals(&Filter::default()).unwrap().executions.count,
        1
    );
}
