//! What learners set: their time zone (`tally.learner_setting`) and goals
//! (`tally.learning_goal`). Each change raises the learner's revision in its own
//! transaction, so every server's caches of what is derived from the learner refresh.

use postgres::Transaction;

use crate::{GoalRecord, MERGE_LOCK, PostgresStore, Result, ms};

/// Raises `user`'s learner revision (when they have sessions: a learner without any
/// has no `tally.learner` row, as in the other stores) to the next of the shared
/// sequence. Under [`MERGE_LOCK`], as the write path raises it for new sessions, so
/// revisions grow in commit order whichever server commits.
fn touch_learner(tx: &mut Transaction<'_>, user: &str) -> Result<()> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MERGE_LOCK])?;
    tx.execute(
        "UPDATE tally.learner SET revision = nextval('tally.learner_revision_seq')
         WHERE user_id = $1",
        &[&user],
    )?;
    Ok(())
}

impl PostgresStore {
    pub fn set_learner_opt_out(&self, user: &str, opted_out: bool) -> Result<()> {
        let sql = if opted_out {
            "INSERT INTO tally.learner_opt_out (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING"
        } else {
            "DELETE FROM tally.learner_opt_out WHERE user_id = $1"
        };
        self.conn()?.execute(sql, &[&user])?;
        Ok(())
    }

    pub fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        tx.execute(
            "INSERT INTO tally.learner_setting (user_id, time_zone) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET time_zone = excluded.time_zone",
            &[&user, &time_zone],
        )?;
        touch_learner(&mut tx, user)?;
        tx.commit()?;
        Ok(())
    }

    pub fn create_goal(&self, goal: &GoalRecord) -> Result<i64> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        let row = tx.query_one(
            "INSERT INTO tally.learning_goal
                 (user_id, kind, target, title, created_at, deadline, state, project)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING id",
            &[
                &goal.user,
                &goal.kind,
                &goal.target,
                &goal.title,
                &ms(goal.created_at),
                &goal.deadline.map(ms),
                &goal.state,
                &goal.project,
            ],
        )?;
        let id: i64 = row.try_get(0)?;
        touch_learner(&mut tx, &goal.user)?;
        tx.commit()?;
        Ok(id)
    }

    /// Changes what a goal asks for; its owner, creation time and project stay as
    /// created. `false` when there is no goal `goal.id`.
    pub fn update_goal(&self, goal: &GoalRecord) -> Result<bool> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        let changed = tx.execute(
            "UPDATE tally.learning_goal
             SET kind = $2, target = $3, title = $4, deadline = $5, state = $6
             WHERE id = $1",
            &[
                &goal.id,
                &goal.kind,
                &goal.target,
                &goal.title,
                &goal.deadline.map(ms),
                &goal.state,
            ],
        )?;
        touch_learner(&mut tx, &goal.user)?;
        tx.commit()?;
        Ok(changed == 1)
    }
}
