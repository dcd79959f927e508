//! The dictionary-encoded dimensions: low-cardinality strings stored as small codes.

/// The dictionary-encoded dimensions; the discriminant is the stored `dim`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Dim {
    Project = 0,
    Agent = 1,
    Tool = 2,
    Model = 3,
    ErrorClass = 4,
    User = 5,
    Mode = 6,
    Skill = 7,
    Phase = 8,
    Experiment = 9,
    Variant = 10,
    Metric = 11,
    Endpoint = 12,
    Method = 13,
    Action = 14,
    Host = 15,
    Source = 16,
    Topic = 17,
}

/// How many dimensions there are.
pub const DIMS: usize = 18;
