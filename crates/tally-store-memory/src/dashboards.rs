//! Saved dashboards, by id.

use tally_store::{DashboardStore, Result, StoredDashboard};

use crate::MemoryStore;
use crate::records::to_millis;

fn kept(dashboard: &StoredDashboard) -> StoredDashboard {
    StoredDashboard {
        created_at: to_millis(dashboard.created_at),
        updated_at: to_millis(dashboard.updated_at),
        ..dashboard.clone()
    }
}

impl DashboardStore for MemoryStore {
    fn dashboards(&self) -> Result<Vec<StoredDashboard>> {
        Ok(self.read().dashboards.values().cloned().collect())
    }

    fn dashboard(&self, id: &str) -> Result<Option<StoredDashboard>> {
        Ok(self.read().dashboards.get(id).cloned())
    }

    fn create_dashboard(&self, dashboard: &StoredDashboard) -> Result<bool> {
        let mut state = self.write();
        if state.dashboards.contains_key(&dashboard.id) {
            return Ok(false);
        }
        state
            .dashboards
            .insert(dashboard.id.clone(), kept(dashboard));
        Ok(true)
    }

    fn update_dashboard(&self, dashboard: &StoredDashboard) -> Result<bool> {
        let mut state = self.write();
        let Some(stored) = state.dashboards.get_mut(&dashboard.id) else {
            return Ok(false);
        };
        *stored = StoredDashboard {
            created_at: stored.created_at,
            ..kept(dashboard)
        };
        Ok(true)
    }

    fn delete_dashboard(&self, id: &str) -> Result<bool> {
        Ok(self.write().dashboards.remove(id).is_some())
    }
}
