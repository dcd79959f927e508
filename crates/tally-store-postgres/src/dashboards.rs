//! Saved dashboards (migration 4): one row each, the layout as JSON text.

use postgres::Row;
use tally_store::{DashboardStore, StoredDashboard};

use crate::{PostgresStore, Result, from_ms, ms};

const COLUMNS: &str = "id, project, name, definition, created_at, updated_at";

fn dashboard_row(row: &Row) -> Result<StoredDashboard> {
    Ok(StoredDashboard {
        id: row.try_get(0)?,
        project: row.try_get(1)?,
        name: row.try_get(2)?,
        definition: row.try_get(3)?,
        created_at: from_ms(row.try_get(4)?)?,
        updated_at: from_ms(row.try_get(5)?)?,
    })
}

impl PostgresStore {
    fn all_dashboards(&self) -> Result<Vec<StoredDashboard>> {
        let rows = self.conn()?.query(
            &format!("SELECT {COLUMNS} FROM tally.dashboard ORDER BY id"),
            &[],
        )?;
        rows.iter().map(dashboard_row).collect()
    }

    fn one_dashboard(&self, id: &str) -> Result<Option<StoredDashboard>> {
        let row = self.conn()?.query_opt(
            &format!("SELECT {COLUMNS} FROM tally.dashboard WHERE id = $1"),
            &[&id],
        )?;
        row.as_ref().map(dashboard_row).transpose()
    }

    fn insert_dashboard(&self, d: &StoredDashboard) -> Result<bool> {
        let inserted = self.conn()?.execute(
            "INSERT INTO tally.dashboard (id, project, name, definition, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &d.id,
                &d.project,
                &d.name,
                &d.definition,
                &ms(d.created_at),
                &ms(d.updated_at),
            ],
        )?;
        Ok(inserted > 0)
    }

    fn replace_dashboard(&self, d: &StoredDashboard) -> Result<bool> {
        let updated = self.conn()?.execute(
            "UPDATE tally.dashboard SET project = $2, name = $3, definition = $4, updated_at = $5
             WHERE id = $1",
            &[&d.id, &d.project, &d.name, &d.definition, &ms(d.updated_at)],
        )?;
        Ok(updated > 0)
    }

    fn remove_dashboard(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()?
            .execute("DELETE FROM tally.dashboard WHERE id = $1", &[&id])?
            > 0)
    }
}

impl DashboardStore for PostgresStore {
    fn dashboards(&self) -> tally_store::Result<Vec<StoredDashboard>> {
        Ok(self.all_dashboards()?)
    }

    fn dashboard(&self, id: &str) -> tally_store::Result<Option<StoredDashboard>> {
        Ok(self.one_dashboard(id)?)
    }

    fn create_dashboard(&self, dashboard: &StoredDashboard) -> tally_store::Result<bool> {
        Ok(self.insert_dashboard(dashboard)?)
    }

    fn update_dashboard(&self, dashboard: &StoredDashboard) -> tally_store::Result<bool> {
        Ok(self.replace_dashboard(dashboard)?)
    }

    fn delete_dashboard(&self, id: &str) -> tally_store::Result<bool> {
        Ok(self.remove_dashboard(id)?)
    }
}
