//! One classification tree: grown on the binned matrix from a bootstrap sample, stored
//! as a flat node array that predicts on raw feature values.
//!
//! Growth follows scikit-learn's `DecisionTreeClassifier` as a random forest uses it:
//! Gini impurity on bootstrap counts as sample weights, a fresh random subset of features
//! at every split (drawn without replacement; a feature constant in the node does not end
//! the draw until one non-constant feature has been seen), the best threshold of each
//! drawn feature, `min_samples_leaf` counted in distinct rows, optional depth limit, and
//! leaves holding the weighted class-1 frequency. The split search differs: it scans a
//! histogram of the node's bin codes (see `bins.rs`) instead of sorting the node's values.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::bins::{Binned, MAX_BINS};

/// `Node::feature` of a leaf.
const LEAF: u32 = u32::MAX;

/// One node: a split (`feature`, `value` = threshold, children at `left` and `left + 1`)
/// or a leaf (`feature == LEAF`, `value` = class-1 frequency). Serialized as the triple
/// `[feature, left, value]` to keep stored models small.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "(u32, u32, f64)", into = "(u32, u32, f64)")]
pub(crate) struct Node {
    feature: u32,
    left: u32,
    value: f64,
}

impl From<(u32, u32, f64)> for Node {
    fn from((feature, left, value): (u32, u32, f64)) -> Node {
        Node {
            feature,
            left,
            value,
        }
    }
}

impl From<Node> for (u32, u32, f64) {
    fn from(node: Node) -> (u32, u32, f64) {
        (node.feature, node.left, node.value)
    }
}

/// A grown tree; node 0 is the root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// P(class 1) for one row of raw feature values: `x <= threshold` goes left.
    #[inline]
    pub(crate) fn predict(&self, row: &[f64]) -> f64 {
        let mut index = 0usize;
        loop {
            let node = self.nodes[index];
            if node.feature == LEAF {
                return node.value;
            }
            let right = row[node.feature as usize] > node.value;
            index = node.left as usize + usize::from(right);
        }
    }

    /// How many nodes the tree has.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The largest feature index a split uses, if any split exists.
    pub(crate) fn max_feature(&self) -> Option<usize> {
        self.nodes
            .iter()
            .filter(|node| node.feature != LEAF)
            .map(|node| node.feature as usize)
            .max()
    }

    /// Whether every child index points inside the array and after its parent (so
    /// prediction terminates), checked on models read from storage.
    pub(crate) fn is_well_formed(&self) -> bool {
        !self.nodes.is_empty()
            && self.nodes.iter().enumerate().all(|(i, node)| {
                node.feature == LEAF
                    || (node.left as usize > i && (node.left as usize) + 1 < self.nodes.len())
            })
    }
}

/// What growing a tree needs besides the data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowParams {
    /// Features drawn per split.
    pub max_features: usize,
    pub min_samples_leaf: usize,
    pub max_depth: Option<usize>,
    pub bootstrap: bool,
}

/// One row of the node's sample: its index, bootstrap count and count if positive.
#[derive(Clone, Copy, Debug)]
struct Sample {
    row: u32,
    weight: u32,
    positive: u32,
}

/// Distinct rows, weight and positive weight of a set of samples (a node or a bin).
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    rows: u32,
    weight: u64,
    positive: u64,
}

impl Totals {
    fn add(&mut self, sample: Sample) {
        self.rows += 1;
        self.weight += u64::from(sample.weight);
        self.positive += u64::from(sample.positive);
    }

    fn minus(self, other: Totals) -> Totals {
        Totals {
            rows: self.rows - other.rows,
            weight: self.weight - other.weight,
            positive: self.positive - other.positive,
        }
    }

    /// Gini impurity of the weighted class frequencies.
    fn gini(self) -> f64 {
        if self.weight == 0 {
            return 0.0;
        }
        let p = self.positive as f64 / self.weight as f64;
        2.0 * p * (1.0 - p)
    }

    /// Σ_k w_k² / w: the part of `-w · gini` a split maximises (w · (1 - gini)).
    fn purity(self) -> f64 {
        let w = self.weight as f64;
        let positive = self.positive as f64;
        let negative = w - positive;
        (positive * positive + negative * negative) / w
    }
}

/// The best split of a node found so far.
#[derive(Clone, Copy, Debug)]
struct Split {
    feature: usize,
    bin: usize,
    left: Totals,
    purity: f64,
}

/// A node waiting to be split or made a leaf.
#[derive(Clone, Copy, Debug)]
struct Pending {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    totals: Totals,
}

/// Grows one tree; returns it and its unnormalised impurity decrease per feature.
pub(crate) fn grow(
    binned: &Binned,
    labels: &[bool],
    params: GrowParams,
    rng: &mut ChaCha8Rng,
) -> (Tree, Vec<f64>) {
    let rows = labels.len();
    let mut counts = vec![0u32; rows];
    if params.bootstrap {
        for _ in 0..rows {
            counts[rng.random_range(0..rows)] += 1;
        }
    } else {
        counts.fill(1);
    }
    let mut samples: Vec<Sample> = counts
        .iter()
        .enumerate()
        .filter(|&(_, &count)| count > 0)
        .map(|(row, &weight)| Sample {
            // Rows fit u32: checked by `RandomForest::fit`.
            row: row as u32,
            weight,
            positive: if labels[row] { weight } else { 0 },
        })
        .collect();
    let features = binned.features();
    let mut grower = Grower {
        binned,
        params,
        rng,
        order: (0..features).collect(),
        histogram: vec![Totals::default(); MAX_BINS],
        importances: vec![0.0; features],
        nodes: vec![Node {
            feature: LEAF,
            left: 0,
            value: 0.0,
        }],
    };
    let mut root = Totals::default();
    for &sample in &samples {
        root.add(sample);
    }
    let mut stack = vec![Pending {
        node: 0,
        start: 0,
        end: samples.len(),
        depth: 0,
        totals: root,
    }];
    while let Some(pending) = stack.pop() {
        grower.process(&mut samples, pending, &mut stack);
    }
    let Grower {
        nodes, importances, ..
    } = grower;
    (Tree { nodes }, importances)
}

struct Grower<'a> {
    binned: &'a Binned,
    params: GrowParams,
    rng: &'a mut ChaCha8Rng,
    /// Feature indices, shuffled in place by each node's draw.
    order: Vec<usize>,
    histogram: Vec<Totals>,
    importances: Vec<f64>,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    /// Splits `pending` (pushing its children) or makes it a leaf.
    fn process(&mut self, samples: &mut [Sample], pending: Pending, stack: &mut Vec<Pending>) {
        let Pending {
            node,
            start,
            end,
            depth,
            totals,
        } = pending;
        let min_leaf = self.params.min_samples_leaf;
        let rows = end - start;
        let pure = totals.positive == 0 || totals.positive == totals.weight;
        let too_deep = self.params.max_depth.is_some_and(|limit| depth >= limit);
        let split = if pure || too_deep || rows < 2 || rows < 2 * min_leaf {
            None
        } else {
            self.best_split(&samples[start..end], totals)
        };
        let Some(split) = split else {
            self.nodes[node] = Node {
                feature: LEAF,
                left: 0,
                value: totals.positive as f64 / totals.weight as f64,
            };
            return;
        };
        let column = self.binned.column(split.feature);
        let node_samples = &mut samples[start..end];
        let mut boundary = 0;
        for i in 0..node_samples.len() {
            if usize::from(column[node_samples[i].row as usize]) <= split.bin {
                node_samples.swap(i, boundary);
                boundary += 1;
            }
        }
        let left = split.left;
        let right = totals.minus(left);
        self.importances[split.feature] += totals.weight as f64 * totals.gini()
            - left.weight as f64 * left.gini()
            - right.weight as f64 * right.gini();
        let left_index = self.nodes.len();
        let placeholder = Node {
            feature: LEAF,
            left: 0,
            value: 0.0,
        };
        self.nodes.push(placeholder);
        self.nodes.push(placeholder);
        self.nodes[node] = Node {
            feature: split.feature as u32,
            // Node counts stay below the row count, which fits u32.
            left: left_index as u32,
            value: self.binned.threshold(split.feature, split.bin),
        };
        let middle = start + boundary;
        stack.push(Pending {
            node: left_index + 1,
            start: middle,
            end,
            depth: depth + 1,
            totals: right,
        });
        stack.push(Pending {
            node: left_index,
            start,
            end: middle,
            depth: depth + 1,
            totals: left,
        });
    }

    /// The best split over a random draw of features, if any feature can split the node
    /// with at least `min_samples_leaf` rows on each side.
    fn best_split(&mut self, samples: &[Sample], totals: Totals) -> Option<Split> {
        let min_leaf = self.params.min_samples_leaf as u32;
        let mut best: Option<Split> = None;
        let mut remaining = self.order.len();
        let mut visited = 0;
        let mut found_non_constant = false;
        while remaining > 0 && (visited < self.params.max_features || !found_non_constant) {
            let pick = self.rng.random_range(0..remaining);
            remaining -= 1;
            self.order.swap(pick, remaining);
            let feature = self.order[remaining];
            visited += 1;
            let bins = self.binned.bins(feature);
            if bins < 2 {
                continue;
            }
            let histogram = &mut self.histogram[..bins];
            histogram.fill(Totals::default());
            let column = self.binned.column(feature);
            for &sample in samples {
                histogram[usize::from(column[sample.row as usize])].add(sample);
            }
            let mut left = Totals::default();
            let mut last_filled = None;
            let mut constant = true;
            for (bin, &counts) in histogram.iter().enumerate() {
                if counts.rows == 0 {
                    continue;
                }
                if let Some(previous) = last_filled {
                    // A threshold between `previous` (left) and `bin` (right).
                    constant = false;
                    let right = totals.minus(left);
                    if left.rows >= min_leaf && right.rows >= min_leaf {
                        let purity = left.purity() + right.purity();
                        if best.is_none_or(|b| purity > b.purity) {
                            best = Some(Split {
                                feature,
                                bin: previous,
                                left,
                                purity,
                            });
                        }
                    }
                }
                left.rows += counts.rows;
                left.weight += counts.weight;
                left.positive += counts.positive;
                last_filled = Some(bin);
            }
            if !constant {
                found_non_constant = true;
            }
        }
        best
    }
}
