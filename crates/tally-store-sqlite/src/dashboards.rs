//! Saved dashboards in SQLite (migration 17): one row each, the layout as JSON text.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, Row, params};
use tally_store::{DashboardStore, StoredDashboard};

use super::SqliteStore;
use crate::Result;

const COLUMNS: &str = "id, project, name, definition, created_at, updated_at";

fn instant(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

fn dashboard_row(r: &Row<'_>) -> rusqlite::Result<StoredDashboard> {
    Ok(StoredDashboard {
        id: r.get(0)?,
        project: r.get(1)?,
        name: r.get(2)?,
        definition: r.get(3)?,
        created_at: instant(r.get(4)?),
        updated_at: instant(r.get(5)?),
    })
}

impl SqliteStore {
    fn all_dashboards(&self) -> Result<Vec<StoredDashboard>> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM dashboard ORDER BY id"))?;
        let rows = statement
            .query_map([], dashboard_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn one_dashboard(&self, id: &str) -> Result<Option<StoredDashboard>> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM dashboard WHERE id = ?1"))?;
        Ok(statement.query_row([id], dashboard_row).optional()?)
    }

    fn insert_dashboard(&self, d: &StoredDashboard) -> Result<bool> {
        let writer = self.writer();
        let inserted = writer.conn.execute(
            "INSERT INTO dashboard (id, project, name, definition, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
            params![
                d.id,
                d.project,
                d.name,
                d.definition,
                d.created_at.timestamp_millis(),
                d.updated_at.timestamp_millis()
            ],
        )?;
        Ok(inserted > 0)
    }

    fn replace_dashboard(&self, d: &StoredDashboard) -> Result<bool> {
        let writer = self.writer();
        let updated = writer.conn.execute(
            "UPDATE dashboard SET project = ?2, name = ?3, definition = ?4, updated_at = ?5
             WHERE id = ?1",
            params![
                d.id,
                d.project,
                d.name,
                d.definition,
                d.updated_at.timestamp_millis()
            ],
        )?;
        Ok(updated > 0)
    }

    fn remove_dashboard(&self, id: &str) -> Result<bool> {
        let writer = self.writer();
        Ok(writer
            .conn
            .execute("DELETE FROM dashboard WHERE id = ?1", [id])?
            > 0)
    }
}

impl DashboardStore for SqliteStore {
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
