//! A rollup row's bytes: the measures of every key of one family, resolution, project
//! and period (a tool's day holds every tool's), so a write of that period is one SQLite
//! row instead of one per key. About a third of an ingest's writer time went into
//! rollup rows; per row, the SQL (a five-column key seek and eighteen bound values)
//! cost more than the merging.
//!
//! Layout, all LEB128 varints (zigzag where signed): a format byte, the number of keys,
//! then per key in ascending order: the gap to the previous key (zigzag of the first),
//! `n`, `ok`, the five token sums, `cost_nusd`, `computed_cost_nusd`, `duration_us`,
//! `last_ts` (signed; the sums up to 128 bits wide, the same bytes as 64-bit varints
//! for every value that fits 64 bits, so rows written before read back unchanged), then the latency sketch and the facets, each as its length and
//! the bytes of [`LatencySketch::encode`] / [`Facets::encode`] (length 0: empty).

use rusqlite::Transaction;

use crate::rollup::Measures;
use crate::rollup::varint::{
    put, put_wide, take, take_wide, unzigzag, unzigzag_wide, zigzag, zigzag_wide,
};
use crate::{Error, Result};

const FORMAT_V1: u8 = 1;

/// Appends the encoding of `keys` (ascending by key, one entry per key) to `out`.
pub(super) fn encode(keys: &[(i64, Measures)], out: &mut Vec<u8>) {
    out.push(FORMAT_V1);
    put(out, keys.len() as u64);
    let mut previous = None;
    for (key, m) in keys {
        match previous {
            None => put(out, zigzag(*key)),
            Some(p) => put(out, (*key as u64).wrapping_sub(p as u64)),
        }
        previous = Some(*key);
        put(out, m.n);
        put(out, m.ok);
        for sum in [
            m.input_tokens,
            m.output_tokens,
            m.cache_read_tokens,
            m.cache_write_tokens,
            m.reasoning_tokens,
        ] {
            put_wide(out, sum);
        }
        for signed in [m.cost_nusd, m.computed_cost_nusd, m.duration_us] {
            put_wide(out, zigzag_wide(signed));
        }
        put(out, zigzag(m.last_ts));
        put_part(out, |out| {
            if !m.latency.is_empty() {
                m.latency.encode_into(out);
            }
        });
        put_part(out, |out| {
            if !m.facets.is_empty() {
                m.facets.encode_into(out);
            }
        });
    }
}

/// Appends what `write` writes, preceded by its length: written in place, then the
/// length's bytes appended and rotated in front of them.
fn put_part(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    write(out);
    let len = out.len() - start;
    put(out, len as u64);
    let prefix = out.len() - start - len;
    out[start..].rotate_right(prefix);
}

/// Calls `each` with every key and its measures, in key order.
///
/// # Errors
/// The bytes are not an encoded rollup row (nothing after the error is reported).
pub(super) fn decode(
    mut bytes: &[u8],
    mut each: impl FnMut(i64, Measures),
) -> Result<(), &'static str> {
    let (&format, rest) = bytes.split_first().ok_or("empty rollup row")?;
    if format != FORMAT_V1 {
        return Err("unknown rollup row format");
    }
    bytes = rest;
    let keys = take(&mut bytes)?;
    let mut previous: Option<i64> = None;
    for _ in 0..keys {
        let raw = take(&mut bytes)?;
        let key = match previous {
            None => unzigzag(raw),
            Some(p) => {
                // Keys ascend: a gap of zero, or one that wraps past the largest key,
                // is corrupt.
                let key = (p as u64).wrapping_add(raw) as i64;
                if key <= p {
                    return Err("rollup keys out of order");
                }
                key
            }
        };
        previous = Some(key);
        let mut m = Measures {
            n: take(&mut bytes)?,
            ok: take(&mut bytes)?,
            ..Measures::default()
        };
        for sum in [
            &mut m.input_tokens,
            &mut m.output_tokens,
            &mut m.cache_read_tokens,
            &mut m.cache_write_tokens,
            &mut m.reasoning_tokens,
        ] {
            *sum = take_wide(&mut bytes)?;
        }
        for signed in [
            &mut m.cost_nusd,
            &mut m.computed_cost_nusd,
            &mut m.duration_us,
        ] {
            *signed = unzigzag_wide(take_wide(&mut bytes)?);
        }
        m.last_ts = unzigzag(take(&mut bytes)?);
        let latency = take_part(&mut bytes)?;
        if !latency.is_empty() {
            m.latency
                .merge_encoded(latency)
                .map_err(|_| "corrupt latency sketch")?;
        }
        let facets = take_part(&mut bytes)?;
        if !facets.is_empty() {
            m.facets.merge_encoded(facets)?;
        }
        each(key, m);
    }
    if !bytes.is_empty() {
        return Err("trailing bytes after rollup row");
    }
    Ok(())
}

fn take_part<'b>(bytes: &mut &'b [u8]) -> Result<&'b [u8], &'static str> {
    let len = usize::try_from(take(bytes)?).map_err(|_| "rollup part too long")?;
    if len > bytes.len() {
        return Err("truncated rollup row");
    }
    let (part, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(part)
}

/// Moves the rows of schema 9's `rollup_by_key` (one row per key, its measures in
/// columns) into the rows of `rollup`, one per period, then drops it.
pub(super) fn convert_rows_by_key(tx: &Transaction<'_>) -> Result<()> {
    type Period = (i64, i64, i64, i64);
    let mut read = tx.prepare(
        "SELECT family, resolution, project, bucket, key, n, ok, input_tokens, output_tokens,
                cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nusd,
                computed_cost_nusd, duration_us, last_ts, latency, facets
         FROM rollup_by_key ORDER BY family, resolution, project, bucket, key",
    )?;
    let mut insert = tx.prepare(
        "INSERT INTO rollup (family, resolution, project, bucket, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut write = |period: Period, keys: &[(i64, Measures)]| -> Result<()> {
        let mut data = Vec::new();
        encode(keys, &mut data);
        let (family, resolution, project, bucket) = period;
        insert.execute(rusqlite::params![family, resolution, project, bucket, data])?;
        Ok(())
    };
    let mut rows = read.query([])?;
    let mut current: Option<Period> = None;
    let mut keys = Vec::new();
    while let Some(row) = rows.next()? {
        let period: Period = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        if current.is_some_and(|c| c != period) {
            write(current.expect("checked just above"), &keys)?;
            keys.clear();
        }
        current = Some(period);
        let unsigned =
            |i: usize| -> Result<u64> { Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0)) };
        let mut m = Measures {
            n: unsigned(5)?,
            ok: unsigned(6)?,
            input_tokens: u128::from(unsigned(7)?),
            output_tokens: u128::from(unsigned(8)?),
            cache_read_tokens: u128::from(unsigned(9)?),
            cache_write_tokens: u128::from(unsigned(10)?),
            reasoning_tokens: u128::from(unsigned(11)?),
            cost_nusd: i128::from(row.get::<_, i64>(12)?),
            computed_cost_nusd: i128::from(row.get::<_, i64>(13)?),
            duration_us: i128::from(row.get::<_, i64>(14)?),
            last_ts: row.get(15)?,
            ..Measures::default()
        };
        let corrupt =
            |e: &dyn std::fmt::Display| Error::Corrupt(format!("rollup row {period:?}: {e}"));
        if let Some(bytes) = row
            .get_ref(16)?
            .as_blob_or_null()
            .map_err(|e| corrupt(&e))?
        {
            m.latency.merge_encoded(bytes).map_err(|e| corrupt(&e))?;
        }
        if let Some(bytes) = row
            .get_ref(17)?
            .as_blob_or_null()
            .map_err(|e| corrupt(&e))?
        {
            m.facets.merge_encoded(bytes).map_err(|e| corrupt(&e))?;
        }
        keys.push((row.get(4)?, m));
    }
    if let Some(period) = current {
        write(period, &keys)?;
    }
    drop(rows);
    drop(read);
    tx.execute_batch("DROP TABLE rollup_by_key")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::rollup::Facet;

    fn measures(seed: u64, latencies: &[f64], facets: &[(i64, bool)]) -> Measures {
        let mut m = Measures {
            n: seed,
            ok: seed / 2,
            input_tokens: u128::from(seed) * 3,
            output_tokens: u128::from(seed) * 5,
            cache_read_tokens: u128::from(seed % 7),
            cache_write_tokens: u128::from(seed % 11),
            reasoning_tokens: u128::from(seed % 13),
            cost_nusd: i128::from(seed) * 1_000 - 7,
            computed_cost_nusd: -i128::from(seed),
            duration_us: i128::from(seed) * 17,
            last_ts: 1_790_000_000_000 - seed as i64,
            ..Measures::default()
        };
        for &latency in latencies {
            m.latency.add(latency);
        }
        for &(value, failed) in facets {
            m.facets.add(Facet::Model, value, failed);
        }
        m
    }

    #[test]
    fn sums_beyond_64_bits_round_trip_and_64_bit_rows_read_the_same() {
        let mut wide = measures(3, &[1.0], &[]);
        wide.input_tokens = u128::from(u64::MAX) * 1_000;
        wide.cost_nusd = -i128::from(i64::MAX) * 1_000;
        wide.duration_us = i128::from(i64::MAX) + 1;
        assert_eq!(roundtrip(&[(1, wide.clone())]), vec![(1, wide)]);
        // A row written with 64-bit varints (before the sums were widened): every wide
        // varint of a value below 2^64 is the same bytes.
        let narrow = measures(1 << 40, &[], &[]);
        let mut bytes = Vec::new();
        encode(&[(2, narrow.clone())], &mut bytes);
        let mut old = vec![FORMAT_V1];
        put(&mut old, 1);
        put(&mut old, zigzag(2));
        for sum in [narrow.n, narrow.ok] {
            put(&mut old, sum);
        }
        for sum in [
            narrow.input_tokens,
            narrow.output_tokens,
            narrow.cache_read_tokens,
            narrow.cache_write_tokens,
            narrow.reasoning_tokens,
        ] {
            put(&mut old, u64::try_from(sum).unwrap());
        }
        for signed in [
            narrow.cost_nusd,
            narrow.computed_cost_nusd,
            narrow.duration_us,
        ] {
            put(&mut old, zigzag(i64::try_from(signed).unwrap()));
        }
        put(&mut old, zigzag(narrow.last_ts));
        old.extend([0, 0]);
        assert_eq!(old, bytes);
    }

    fn roundtrip(keys: &[(i64, Measures)]) -> Vec<(i64, Measures)> {
        let mut bytes = Vec::new();
        encode(keys, &mut bytes);
        let mut back = Vec::new();
        decode(&bytes, |key, m| back.push((key, m))).unwrap();
        back
    }

    proptest! {
        #[test]
        fn rows_decode_to_what_was_encoded(
            keys in prop::collection::btree_map(
                any::<i64>(),
                (
                    0u64..1 << 40,
                    prop::collection::vec(0.0f64..1e6, 0..40),
                    prop::collection::vec((-5i64..50, any::<bool>()), 0..20),
                ),
                0..30,
            )
        ) {
            let keys: Vec<(i64, Measures)> = keys
                .into_iter()
                .map(|(key, (seed, latencies, facets))| (key, measures(seed, &latencies, &facets)))
                .collect();
            prop_assert_eq!(roundtrip(&keys), keys);
        }
    }

    #[test]
    fn broken_rows_are_errors() {
        let keys = vec![
            (3, measures(9, &[1.0, 250.0], &[(1, true)])),
            (40, measures(2, &[], &[])),
        ];
        let mut bytes = Vec::new();
        encode(&keys, &mut bytes);
        // Cut anywhere, the row is an error, not fewer keys.
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len], |_, _| {}).is_err(), "cut at {len}");
        }
        // A part whose length runs past the end.
        let with_sketch = [(3, measures(9, &[1.0], &[]))];
        let mut cut = Vec::new();
        encode(&with_sketch, &mut cut);
        // Without the facets' length and the sketch's last byte.
        cut.truncate(cut.len() - 2);
        assert_eq!(decode(&cut, |_, _| {}), Err("truncated rollup row"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            decode(&longer, |_, _| {}),
            Err("trailing bytes after rollup row")
        );
        let mut other_format = bytes.clone();
        other_format[0] = 2;
        assert_eq!(
            decode(&other_format, |_, _| {}),
            Err("unknown rollup row format")
        );
        assert_eq!(decode(&[], |_, _| {}), Err("empty rollup row"));
        // A repeated key (gap 0) is refused.
        let mut repeated = Vec::new();
        encode(
            &[(5, Measures::default()), (6, Measures::default())],
            &mut repeated,
        );
        let mut single = Vec::new();
        encode(&[(5, Measures::default())], &mut single);
        let gap_at = single.len();
        assert_eq!(repeated[gap_at], 1);
        repeated[gap_at] = 0;
        repeated[1] = 2;
        assert_eq!(
            decode(&repeated, |_, _| {}),
            Err("rollup keys out of order")
        );
    }
}
