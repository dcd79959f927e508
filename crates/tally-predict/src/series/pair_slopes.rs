//! The median of the slopes between every pair of points (Sen's slope) without storing
//! the n (n − 1) / 2 slopes: a radix selection over the slopes' bit patterns in
//! `f64::total_cmp` order. Each pass recomputes the slopes and counts, among those
//! sharing the 16-bit digits chosen so far, how many fall on each next digit; four
//! passes find a slope of a given rank exactly, a fifth its successor. Memory stays at
//! one 65,536-entry histogram whatever n; time is five times n² / 2 divisions.

/// The slopes' order as unsigned keys: `a.total_cmp(b) == key(a).cmp(key(b))`.
fn order_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn from_order_key(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// Calls `visit` with the key of the slope of every pair `i < j` whose `x` differ.
fn for_each_slope_key(xs: &[f64], ys: &[f64], mut visit: impl FnMut(u64)) {
    for i in 0..xs.len() {
        for j in i + 1..xs.len() {
            if xs[j] != xs[i] {
                visit(order_key((ys[j] - ys[i]) / (xs[j] - xs[i])));
            }
        }
    }
}

const DIGIT_BITS: u32 = 16;

/// The key of rank `rank` (0-based, `total_cmp` order) among the slopes, and how many
/// slopes there are; `None` without any. `rank` is taken from `count` by `choose`
/// once the first pass has counted them.
fn select(xs: &[f64], ys: &[f64], choose: impl Fn(u64) -> u64) -> Option<(u64, u64)> {
    let mut prefix = 0_u64;
    let mut rank = None;
    let mut total = 0;
    let mut counts = vec![0_u64; 1 << DIGIT_BITS];
    for shift in (0..64).step_by(DIGIT_BITS as usize).rev() {
        counts.fill(0);
        // The bits above this digit, which must equal those chosen so far.
        let chosen = u64::MAX.checked_shl(shift + DIGIT_BITS).unwrap_or(0);
        for_each_slope_key(xs, ys, |key| {
            if key & chosen == prefix {
                counts[((key >> shift) & 0xFFFF) as usize] += 1;
            }
        });
        let mut left = match rank {
            Some(left) => left,
            None => {
                total = counts.iter().sum::<u64>();
                if total == 0 {
                    return None;
                }
                choose(total)
            }
        };
        let mut digit = 0;
        for (index, &count) in counts.iter().enumerate() {
            if left < count {
                digit = index as u64;
                break;
            }
            left -= count;
        }
        rank = Some(left);
        prefix |= digit << shift;
    }
    Some((prefix, total))
}

/// The median of the slopes `(y_j − y_i) / (x_j − x_i)` over pairs with distinct `x`,
/// interpolated between the two middle slopes when their number is even (the same
/// value as sorting them all and taking [`super::describe::median`]); `None` without
/// any pair.
pub(crate) fn median_pair_slope(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let (lower_key, total) = select(xs, ys, |total| (total - 1) / 2)?;
    let lower = from_order_key(lower_key);
    let upper = if total % 2 == 1 {
        lower
    } else {
        // The next slope in order: the same value if another slope shares its key and
        // rank, else the smallest key above it.
        let mut at_most = 0_u64;
        let mut above = u64::MAX;
        let mut any_above = false;
        for_each_slope_key(xs, ys, |key| {
            if key <= lower_key {
                at_most += 1;
            } else if key <= above {
                above = key;
                any_above = true;
            }
        });
        if at_most > total / 2 || !any_above {
            lower
        } else {
            from_order_key(above)
        }
    };
    // Interpolated as `quantile_sorted` does, which also turns a middle of -0 into 0.
    Some(lower + (upper - lower) * 0.5)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::series::describe::median;

    fn every_slope(xs: &[f64], ys: &[f64]) -> Vec<f64> {
        let mut slopes = Vec::new();
        for i in 0..xs.len() {
            for j in i + 1..xs.len() {
                if xs[j] != xs[i] {
                    slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
                }
            }
        }
        slopes
    }

    #[test]
    fn keys_keep_the_total_order() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            0.5,
            1.0,
            1e300,
            f64::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(order_key(pair[0]) < order_key(pair[1]), "{pair:?}");
        }
        for value in values {
            assert_eq!(from_order_key(order_key(value)).to_bits(), value.to_bits());
        }
    }

    #[test]
    fn hand_checked_medians() {
        // Slopes 1, 2, 3.
        assert_eq!(
            median_pair_slope(&[0.0, 1.0, 2.0], &[0.0, 1.0, 4.0]),
            Some(2.0)
        );
        // Slopes 1, 3 (x = 1 twice makes no slope): 2.
        assert_eq!(
            median_pair_slope(&[0.0, 1.0, 1.0], &[0.0, 1.0, 3.0]),
            Some(2.0)
        );
        assert_eq!(median_pair_slope(&[1.0, 1.0], &[0.0, 5.0]), None);
        assert_eq!(median_pair_slope(&[], &[]), None);
        // Ties: slopes 0, 0, 0, 0, 0, 0.
        assert_eq!(
            median_pair_slope(&[0.0, 1.0, 2.0, 3.0], &[2.0; 4]),
            Some(0.0)
        );
    }

    proptest! {
        #[test]
        fn equals_the_median_of_every_slope(
            points in proptest::collection::vec((-50_i32..50, -1e6_f64..1e6), 0..40),
            few_values in any::<bool>(),
        ) {
            let xs: Vec<f64> = points.iter().map(|(x, _)| f64::from(*x)).collect();
            // Few distinct values make many equal slopes around the median.
            let ys: Vec<f64> = points
                .iter()
                .map(|(_, y)| if few_values { (y / 3e5).round() } else { *y })
                .collect();
            let expected = median(&every_slope(&xs, &ys));
            let got = median_pair_slope(&xs, &ys);
            prop_assert_eq!(got.map(f64::to_bits), expected.map(f64::to_bits));
        }
    }
}
