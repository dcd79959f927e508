//! The stored set does not depend on how the input was split into batches, in which
//! order records came, or how often they were sent.

use proptest::prelude::*;
use tally_api::{ExportFormat, Filter, IngestOptions, Input};

use crate::support::{TestDb, now};

/// A record per id, so that "first write wins" cannot make order matter; some records
/// carry no id and are deduplicated by content.
fn record(n: u32) -> String {
    let id = if n % 5 == 0 {
        String::new()
    } else {
        format!(r#""id":"e{n}","#)
    };
    format!(
        r#"{{"kind":"execution",{id}"ts":{},"project":"p{}","tool":"tool_{}","duration_ms":{}.5,"success":{},"cost_usd":0.00{}}}"#,
        1_790_000_000_000u64 + u64::from(n) * 1000,
        n % 3,
        n % 4,
        n * 7,
        n % 2 == 0,
        n % 9 + 1
    )
}

/// Every stored event as exported (given ids kept, derived ones left out), sorted.
fn stored(db: &TestDb) -> Vec<String> {
    let mut out = Vec::new();
    db.analytics
        .export(ExportFormat::JsonLines, &Filter::default(), &mut out)
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn ingest_in_pieces(db: &TestDb, lines: &[String], batch_size: usize, pieces: usize) {
    let options = IngestOptions {
        batch_size,
        now: Some(now()),
        ..IngestOptions::default()
    };
    for (i, piece) in lines
        .chunks(lines.len().div_ceil(pieces).max(1))
        .enumerate()
    {
        let input = Input::Bytes {
            name: format!("piece-{i}.jsonl"),
            data: piece.join("\n").into_bytes().into(),
        };
        db.analytics.ingest_with(&input, &options, &mut ()).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn stored_set_is_independent_of_batching_order_and_repeats(
        ids in proptest::collection::vec(0u32..60, 1..120),
        batch_size in 1usize..40,
        pieces in 1usize..5,
        seed in any::<u64>(),
    ) {
        let lines: Vec<String> = ids.iter().map(|&n| record(n)).collect();
        let reference = TestDb::new();
        ingest_in_pieces(&reference, &lines, 10_000, 1);

        let mut shuffled = lines.clone();
        // A deterministic shuffle from the seed, plus every line sent a second time.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        shuffled.extend(lines.iter().cloned());
        let other = TestDb::new();
        ingest_in_pieces(&other, &shuffled, batch_size, pieces);

        let expected = stored(&reference);
        let distinct: std::collections::BTreeSet<u32> = ids.iter().copied().collect();
        prop_assert_eq!(expected.len(), distinct.len());
        prop_assert_eq!(stored(&other), expected);
        prop_assert_eq!(
            other.analytics.summary(&Default::default()).unwrap().total_cost,
            reference.analytics.summary(&Default::default()).unwrap().total_cost
        );
    }
}
