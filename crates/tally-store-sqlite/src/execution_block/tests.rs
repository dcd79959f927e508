//! Blocks read back exactly what was written; damaged blocks are refused, never a panic.

use std::borrow::Cow;

use proptest::prelude::*;
use rusqlite::{Connection, Transaction};

use super::*;

fn text() -> impl Strategy<Value = Option<Cow<'static, str>>> {
    proptest::option::of(
        prop_oneof!["[a-z]{1,3}[0-9]{0,6}", "\\PC{0,12}", Just(String::new())].prop_map(Cow::Owned),
    )
}

fn code() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(prop_oneof![1i64..100, any::<i64>()])
}

fn row() -> impl Strategy<Value = ExecutionRow<'static>> {
    (
        (1i64..1000, any::<i64>(), 1i64..30, text(), code(), text()),
        (
            code(),
            text(),
            any::<i64>(),
            code(),
            any::<i64>(),
            any::<bool>(),
        ),
        (
            0i64..32,
            code(),
            [code(), code(), code(), code(), code()],
            code(),
            text(),
        ),
    )
        .prop_map(
            |(
                (seq_step, ts, project, id, agent, task),
                (user, session, tool, model, duration_us, success),
                (flags, cost_nusd, tokens, error, attrs),
            )| ExecutionRow {
                seq: seq_step,
                ts,
                project,
                id,
                agent,
                task,
                user,
                session,
                tool,
                model,
                duration_us,
                success,
                flags,
                cost_nusd,
                tokens,
                error,
                attrs,
            },
        )
}

/// Rows with increasing `seq` (each row's `seq` is read as its step from the last).
fn rows(max: usize) -> impl Strategy<Value = Vec<ExecutionRow<'static>>> {
    proptest::collection::vec(row(), 1..max).prop_map(|mut rows| {
        let mut seq = 0;
        for row in &mut rows {
            seq += row.seq;
            row.seq = seq;
        }
        rows
    })
}

fn encode(rows: &[ExecutionRow<'_>]) -> EncodedBlock {
    let mut encoder = BlockEncoder::default();
    for row in rows {
        encoder.push(row);
    }
    encoder.finish()
}

proptest! {
    #[test]
    fn blocks_read_back_what_was_written(rows in rows(60)) {
        let block = encode(&rows);
        prop_assert_eq!(block.events, rows.len());
        prop_assert_eq!(block.first_seq, rows[0].seq);
        prop_assert_eq!(block.last_seq, rows[rows.len() - 1].seq);
        prop_assert_eq!(block.ts_min, rows.iter().map(|r| r.ts).min().unwrap());
        prop_assert_eq!(block.ts_max, rows.iter().map(|r| r.ts).max().unwrap());
        prop_assert_eq!(decode(&block.data).unwrap(), rows);
    }

    #[test]
    fn an_encoder_is_empty_again_after_finishing(first in rows(20), second in rows(20)) {
        let mut encoder = BlockEncoder::default();
        for row in &first {
            encoder.push(row);
        }
        encoder.finish();
        prop_assert!(encoder.is_empty());
        for row in &second {
            encoder.push(row);
        }
        prop_assert_eq!(decode(&encoder.finish().data).unwrap(), second);
    }

    #[test]
    fn damaged_blocks_are_refused_without_panicking(rows in rows(20), cut in any::<usize>(), flip in any::<(usize, u8)>()) {
        let data = encode(&rows).data;
        let cut = cut % data.len();
        prop_assert!(decode(&data[..cut]).is_err());
        let mut flipped = data.clone();
        let at = flip.0 % flipped.len();
        flipped[at] ^= flip.1 | 1;
        // A changed byte may still be a valid block; it must never panic.
        let _ = decode(&flipped);
    }
}

#[test]
fn unknown_versions_and_columns_are_refused() {
    let mut data = encode(&[sample(1, 0)]).data;
    data[0] = 9;
    assert!(decode(&data).unwrap_err().to_string().contains("version 9"));
    assert!(decode(&[1, 1, 0xff, 0xff, 0xff, 0x7f]).is_err());
    assert!(decode(&[]).is_err());
}

fn sample(seq: i64, ts: i64) -> ExecutionRow<'static> {
    ExecutionRow {
        seq,
        ts,
        project: 1,
        id: Some(format!("e{seq}").into()),
        agent: Some(2),
        task: Some(format!("t{}", seq / 5).into()),
        user: None,
        session: None,
        tool: 3,
        model: Some(1),
        duration_us: 1_500,
        success: seq % 7 != 0,
        flags: 0b1001,
        cost_nusd: Some(20_000_000),
        tokens: [Some(4000), Some(900), None, None, None],
        error: None,
        attrs: None,
    }
}

fn database() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    super::super::schema::migrate(&mut conn, ":memory:").unwrap();
    conn
}

fn write(conn: &mut Connection, seqs: std::ops::Range<i64>) {
    let tx = conn.transaction().unwrap();
    let mut writer = BlockWriter::default();
    for seq in seqs {
        writer.push(&sample(seq, seq * 1000));
    }
    writer.store(&tx).unwrap();
    tx.commit().unwrap();
}

fn blocks(conn: &Connection) -> Vec<(i64, i64)> {
    conn.prepare("SELECT first_seq, events FROM execution_block ORDER BY first_seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn stored(conn: &Connection) -> Vec<ExecutionRow<'static>> {
    let mut rows = Vec::new();
    scan(conn, None, None, &mut |row| {
        rows.push(row);
        Ok(())
    })
    .unwrap();
    rows
}

#[test]
fn small_writes_top_up_the_newest_block_until_it_is_small_no_more() {
    let mut conn = database();
    for seq in 1..=SMALL_BLOCK_EVENTS as i64 + 3 {
        write(&mut conn, seq..seq + 1);
    }
    let small = SMALL_BLOCK_EVENTS as i64;
    assert_eq!(blocks(&conn), vec![(1, small), (small + 1, 3)]);
    let rows = stored(&conn);
    assert_eq!(rows.len(), SMALL_BLOCK_EVENTS + 3);
    assert!(
        rows.iter()
            .zip(1..)
            .all(|(row, seq)| row == &sample(seq, seq * 1000))
    );
    assert_eq!(count(&conn).unwrap(), SMALL_BLOCK_EVENTS as u64 + 3);
}

#[test]
fn large_writes_are_cut_into_blocks_of_at_most_the_maximum() {
    let mut conn = database();
    write(&mut conn, 1..3);
    let max = MAX_BLOCK_EVENTS as i64;
    write(&mut conn, 3..3 + max + 10);
    assert_eq!(blocks(&conn), vec![(1, 2), (3, max), (3 + max, 10)]);
    assert_eq!(stored(&conn).len(), MAX_BLOCK_EVENTS + 12);
}

#[test]
fn scans_and_retention_cut_blocks_at_the_exact_time() {
    let mut conn = database();
    write(&mut conn, 1..1001);
    let mut seen = Vec::new();
    scan(&conn, Some(100_000), Some(200_000), &mut |row| {
        seen.push(row.seq);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, (100..200).collect::<Vec<_>>());

    let tx: Transaction<'_> = conn.transaction().unwrap();
    assert_eq!(delete_before(&tx, 500_000).unwrap(), 499);
    tx.commit().unwrap();
    let rows = stored(&conn);
    assert_eq!(rows.first().map(|r| r.seq), Some(500));
    assert_eq!(rows.len(), 501);
    assert_eq!(blocks(&conn), vec![(500, 501)]);

    let tx = conn.transaction().unwrap();
    assert_eq!(delete_before(&tx, i64::MAX).unwrap(), 501);
    tx.commit().unwrap();
    assert!(blocks(&conn).is_empty());
}

#[test]
fn a_database_with_execution_rows_is_moved_into_blocks_by_its_migration() {
    let mut conn = Connection::open_in_memory().unwrap();
    super::super::schema::migrate_to(&mut conn, ":memory:", 7).unwrap();
    let expected: Vec<ExecutionRow<'static>> = (1..=40)
        .map(|seq| ExecutionRow {
            // Every third event had no id of its own (a derived id, a BLOB in the ledger).
            id: (seq % 3 != 0).then(|| format!("e{seq}").into()),
            attrs: (seq % 4 == 0).then(|| r#"{"region":"eu"}"#.into()),
            ..sample(seq * 2, seq * 1000)
        })
        .collect();
    for row in &expected {
        let id: rusqlite::types::Value = match &row.id {
            Some(id) => id.to_string().into(),
            None => row.seq.to_be_bytes().to_vec().into(),
        };
        conn.execute(
            "INSERT INTO event_ids (project, id, seq) VALUES (?1, ?2, ?3)",
            rusqlite::params![row.project, id, row.seq],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO execution (seq, ts, project, agent, task, user, session, tool, model, duration_us,
                 success, flags, cost_nusd, input_tokens, output_tokens, cache_read_tokens,
                 cache_write_tokens, reasoning_tokens, error, attrs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            rusqlite::params![
                row.seq, row.ts, row.project, row.agent, row.task, row.user, row.session, row.tool,
                row.model, row.duration_us, row.success, row.flags, row.cost_nusd, row.tokens[0],
                row.tokens[1], row.tokens[2], row.tokens[3], row.tokens[4], row.error, row.attrs
            ],
        )
        .unwrap();
    }
    super::super::schema::migrate(&mut conn, ":memory:").unwrap();
    assert_eq!(stored(&conn), expected);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'execution'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
}

/// The summaries of every block, by first `seq`.
fn summaries(conn: &Connection) -> Vec<(i64, Vec<u8>)> {
    conn.prepare("SELECT first_seq, summary FROM execution_block_summary ORDER BY first_seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn every_block_written_merged_or_cut_keeps_a_summary_of_its_rows() {
    let mut conn = Connection::open_in_memory().unwrap();
    super::super::schema::migrate(&mut conn, ":memory:").unwrap();
    let write = |conn: &mut Connection, rows: &[ExecutionRow<'static>]| {
        let tx = conn.transaction().unwrap();
        let mut writer = BlockWriter::default();
        for row in rows {
            writer.push(row);
        }
        writer.store(&tx).unwrap();
        tx.commit().unwrap();
    };
    // A small write, one merged into it, and a full block.
    write(
        &mut conn,
        &(1..=3).map(|s| sample(s, s * 10)).collect::<Vec<_>>(),
    );
    write(
        &mut conn,
        &[ExecutionRow {
            tool: 9,
            ..sample(4, 40)
        }],
    );
    write(
        &mut conn,
        &(5..=5 + MAX_BLOCK_EVENTS as i64)
            .map(|s| sample(s, s * 10))
            .collect::<Vec<_>>(),
    );
    let check = |conn: &Connection| {
        let kept = summaries(conn);
        let firsts: Vec<i64> = blocks(conn).iter().map(|(first, _)| *first).collect();
        assert_eq!(kept.iter().map(|(f, _)| *f).collect::<Vec<_>>(), firsts);
        let merged = &kept[0].1;
        let tool = |code| Wanted {
            tool: Some(code),
            ..Wanted::default()
        };
        assert!(may_hold(merged, &tool(9)), "the merged write's tool");
        assert!(!may_hold(merged, &tool(8)));
    };
    check(&conn);
    // Retention cuts the first block: its summary follows it.
    let tx = conn.transaction().unwrap();
    delete_before(&tx, 25).unwrap();
    tx.commit().unwrap();
    check(&conn);
}

#[test]
fn blocks_stored_before_summaries_get_them_by_the_migration() {
    let mut conn = Connection::open_in_memory().unwrap();
    super::super::schema::migrate_to(&mut conn, ":memory:", 14).unwrap();
    let tx = conn.transaction().unwrap();
    let mut writer = BlockWriter::default();
    for seq in 1..=50 {
        writer.push(&ExecutionRow {
            success: seq % 5 != 0,
            ..sample(seq, seq * 10)
        });
    }
    writer.store(&tx).unwrap();
    tx.commit().unwrap();
    // As a database of the previous release: blocks, and no summaries.
    conn.execute_batch("DROP TABLE execution_block_summary")
        .unwrap();
    super::super::schema::migrate(&mut conn, ":memory:").unwrap();
    let kept = summaries(&conn);
    assert_eq!(kept.len(), 1);
    let failed = Wanted {
        success: Some(false),
        ..Wanted::default()
    };
    assert!(may_hold(&kept[0].1, &failed));
}

/// A selection built from drawn numbers: each field asked or not, its value taken from
/// one of the rows (so some rows match) or not.
fn selection_of<'a>(rows: &'a [ExecutionRow<'static>], picks: &[u8; 8]) -> Selection<'a> {
    let row = &rows[picks[7] as usize % rows.len()];
    let ask = |i: usize| picks[i] % 3 != 0;
    let seqs = rows.iter().map(|r| r.seq);
    let (lo, hi) = (seqs.clone().min().unwrap_or(0), seqs.max().unwrap_or(0));
    // A quarter of the span cut off either end, or none.
    let cut = |by: u8| (hi - lo) * i64::from(by % 4) / 4;
    Selection {
        seqs: if ask(0) {
            lo + cut(picks[0])..hi + 1 - cut(picks[1])
        } else {
            i64::MIN..i64::MAX
        },
        ts: if picks[1] % 5 == 0 {
            row.ts..i64::MAX
        } else {
            i64::MIN..i64::MAX
        },
        wanted: Wanted {
            project: ask(2).then_some(row.project),
            tool: (picks[3] % 4 == 0).then_some(row.tool),
            model: if ask(4) { row.model } else { None },
            agent: if ask(5) { row.agent } else { None },
            success: (picks[6] % 3 == 0).then_some(row.success),
            task: if picks[6] % 4 == 0 {
                row.task.as_deref()
            } else {
                None
            },
        },
    }
}

proptest! {
    #[test]
    fn reading_by_columns_keeps_the_rows_a_full_decode_keeps(rows in rows(300), picks in any::<[u8; 8]>()) {
        let block = encode(&rows);
        let selection = selection_of(&rows, &picks);
        let full = decode_matching(&block.data, &mut |row| selection.matches(row)).unwrap();
        prop_assert_eq!(decode_selected(&block.data, &selection).unwrap(), full);
        let all = Selection { seqs: i64::MIN..i64::MAX, ts: i64::MIN..i64::MAX, wanted: Wanted::default() };
        prop_assert_eq!(decode_selected(&block.data, &all).unwrap(), rows);
    }

    #[test]
    fn reading_damaged_blocks_by_columns_never_panics(rows in rows(40), picks in any::<[u8; 8]>(), cut in any::<usize>(), flip in any::<(usize, u8)>()) {
        let data = encode(&rows).data;
        let selection = selection_of(&rows, &picks);
        let _ = decode_selected(&data[..cut % data.len()], &selection);
        let mut flipped = data.clone();
        let at = flip.0 % flipped.len();
        flipped[at] ^= flip.1 | 1;
        let _ = decode_selected(&flipped, &selection);
    }
}
