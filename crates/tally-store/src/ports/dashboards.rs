//! The saved dashboards port: named layouts of widgets, each belonging to a project or
//! global. What a layout means is the facade's business: the store keeps it as JSON text.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Result;

/// A dashboard as stored: its id, owner project, name and layout (JSON the facade reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDashboard {
    pub id: String,
    /// The project it belongs to; `None`: global.
    pub project: Option<String>,
    pub name: String,
    pub definition: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Stores saved dashboards.
pub trait DashboardStore: Send + Sync {
    /// Every stored dashboard, by id.
    ///
    /// # Errors
    /// Any storage failure.
    fn dashboards(&self) -> Result<Vec<StoredDashboard>>;

    /// The dashboard stored under `id`.
    ///
    /// # Errors
    /// Any storage failure.
    fn dashboard(&self, id: &str) -> Result<Option<StoredDashboard>>;

    /// Stores a new dashboard; `false` (and nothing written) when its id is taken.
    ///
    /// # Errors
    /// Any storage failure.
    fn create_dashboard(&self, dashboard: &StoredDashboard) -> Result<bool>;

    /// Replaces the project, name, definition and `updated_at` of the dashboard with
    /// this id (its `created_at` stays); `false` when there is none.
    ///
    /// # Errors
    /// Any storage failure.
    fn update_dashboard(&self, dashboard: &StoredDashboard) -> Result<bool>;

    /// Deletes the dashboard; whether it existed.
    ///
    /// # Errors
    /// Any storage failure.
    fn delete_dashboard(&self, id: &str) -> Result<bool>;
}
