//! The words several ports share: which events a question is about, rejected records,
//! and learners' activity.

mod activity;
mod filter;
mod rejection;

pub use activity::{Activity, LearningSession, TopicActivity};
pub use filter::Filter;
pub use rejection::{Position, QuarantinedRecord, RecordFormat, Rejection};
