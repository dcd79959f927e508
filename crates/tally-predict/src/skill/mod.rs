//! The skill success predictor over stored `skill` events: the seven features of an
//! invocation from the invocations before it ([`features`], read from the store by
//! [`history`]), training on a window with a holdout by time and storing the model
//! ([`train`]), and predicting for a context with the latest model. See
//! `docs/predict-lifecycle.md`.

pub mod features;
pub mod history;
pub mod model;
pub mod predict;
pub mod train;

pub use features::{Features, phase_code};
pub use model::{ModelInfo, model_info, models};
pub use predict::{Prediction, SkillQuery, predict};
pub use train::{TrainConfig, TrainReport, train};
