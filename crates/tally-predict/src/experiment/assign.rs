//! Deterministic assignment, compatible with GrowthBook's SDKs (hash version 2).
//!
//! `n = (fnv1a32(str(fnv1a32(seed + user))) mod 10000) / 10000`, then the user gets the
//! first variant whose bucket range `[start, start + coverage × weight)` holds `n`;
//! ranges start at the cumulative weights, so coverage trims every variant alike and
//! raising it later keeps users where they were. FNV-1a runs over UTF-16 code units, as
//! the JavaScript SDK does (identical to bytes for ASCII ids).

/// FNV-1a, 32 bits, over the UTF-16 code units of `text`.
pub fn fnv1a32(text: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for unit in text.encode_utf16() {
        hash ^= u32::from(unit);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// GrowthBook's hash version 2: a number in `[0, 1)` with four decimals.
pub fn hash_v2(seed: &str, user: &str) -> f64 {
    let inner = fnv1a32(&format!("{seed}{user}"));
    f64::from(fnv1a32(&inner.to_string()) % 10_000) / 10_000.0
}

/// GrowthBook's hash version 1 (`fnv1a32(user + seed) mod 1000 / 1000`), kept to check
/// against the published vectors; tally assigns with version 2.
pub fn hash_v1(seed: &str, user: &str) -> f64 {
    f64::from(fnv1a32(&format!("{user}{seed}")) % 1_000) / 1_000.0
}

/// The bucket range of each variant, GrowthBook's `getBucketRanges`: weights that do not
/// sum to 1 (± 0.01) or do not match the variant count fall back to equal weights;
/// coverage is clamped to `[0, 1]`.
pub fn bucket_ranges(variants: usize, coverage: f64, weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    let coverage = if coverage.is_nan() {
        0.0
    } else {
        coverage.clamp(0.0, 1.0)
    };
    let equal = vec![1.0 / variants as f64; variants];
    let weights = match weights {
        Some(w) if w.len() == variants => {
            let total: f64 = w.iter().sum();
            if (0.99..=1.01).contains(&total) {
                w.to_vec()
            } else {
                equal
            }
        }
        _ => equal,
    };
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

/// The index of the range holding `n`, if any (`chooseVariation`).
pub fn choose_variant(n: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges
        .iter()
        .position(|&(start, end)| n >= start && n < end)
}
