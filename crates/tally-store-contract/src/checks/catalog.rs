//! The catalog: project names, the months stored, the write order.

use chrono::{TimeZone, Utc};

use super::write;
use crate::NewStore;
use crate::events::{Exec, at, execution};

pub fn the_catalog_knows_projects_span_and_write_order(new: NewStore<'_>) {
    let store = new();
    assert!(store.project_names().unwrap().is_empty());
    assert_eq!(store.stored_span(None).unwrap(), None);
    let first = store.next_seq().unwrap();
    let x = Exec::default();
    // 2026-09-30 and 2026-10-01 in beta; 2026-09-30 in alpha.
    write(
        &*store,
        &[
            execution("a", "beta", at(3600), &x),
            execution("b", "alpha", at(7200), &x),
            execution("c", "beta", at(86_400 + 3600), &x),
        ],
    );
    assert_eq!(
        store.project_names().unwrap(),
        vec!["alpha".to_owned(), "beta".to_owned()]
    );
    let month = |m| Utc.with_ymd_and_hms(2026, m, 1, 0, 0, 0).unwrap();
    assert_eq!(
        store.stored_span(None).unwrap(),
        Some((month(9), month(11)))
    );
    assert_eq!(
        store.stored_span(Some("alpha")).unwrap(),
        Some((month(9), month(10)))
    );
    assert_eq!(store.stored_span(Some("none")).unwrap(), None);
    // Three events stored after the mark; two of them before October.
    let mark = store.next_seq().unwrap();
    assert_eq!(mark, first + 3);
    assert_eq!(store.stored_before(first, at(86_400)).unwrap(), 2);
    assert_eq!(store.stored_before(first + 1, at(86_400)).unwrap(), 1);
    // A resent event takes no number.
    write(&*store, &[execution("a", "beta", at(3600), &x)]);
    assert_eq!(store.next_seq().unwrap(), mark);
    write(&*store, &[execution("d", "beta", at(10), &x)]);
    assert_eq!(store.stored_before(mark, at(86_400)).unwrap(), 1);
}
