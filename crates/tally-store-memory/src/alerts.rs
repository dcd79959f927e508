//! Alert rules, states, transition history and delivery attempts, under the store's
//! one lock (which makes the compare-and-set of a state trivially atomic).

use tally_store::{
    AlertStateRecord, AlertStore, AlertTransitionRecord, DeliveryAttempt, Result, StoredAlertRule,
};

use crate::MemoryStore;
use crate::records::to_millis;

impl AlertStore for MemoryStore {
    fn alert_rules(&self) -> Result<Vec<StoredAlertRule>> {
        Ok(self.read().alerts.rules.values().cloned().collect())
    }

    fn put_alert_rule(&self, rule: &StoredAlertRule) -> Result<()> {
        let mut state = self.write();
        let created_at = state
            .alerts
            .rules
            .get(&rule.name)
            .map_or(to_millis(rule.created_at), |stored| stored.created_at);
        state.alerts.rules.insert(
            rule.name.clone(),
            StoredAlertRule {
                created_at,
                updated_at: to_millis(rule.updated_at),
                ..rule.clone()
            },
        );
        Ok(())
    }

    fn delete_alert_rule(&self, name: &str) -> Result<bool> {
        let mut state = self.write();
        state.alerts.states.remove(name);
        Ok(state.alerts.rules.remove(name).is_some())
    }

    fn alert_states(&self) -> Result<Vec<AlertStateRecord>> {
        Ok(self.read().alerts.states.values().cloned().collect())
    }

    fn advance_alert(
        &self,
        expected: Option<&str>,
        next: &AlertStateRecord,
        transition: Option<&AlertTransitionRecord>,
    ) -> Result<Option<i64>> {
        let mut state = self.write();
        let alerts = &mut state.alerts;
        let stored = alerts.states.get(&next.rule).map(|s| s.status.as_str());
        if stored != expected {
            return Ok(None);
        }
        alerts.states.insert(
            next.rule.clone(),
            AlertStateRecord {
                since: to_millis(next.since),
                last_evaluated_at: to_millis(next.last_evaluated_at),
                last_notified_at: next.last_notified_at.map(to_millis),
                ..next.clone()
            },
        );
        let Some(transition) = transition else {
            return Ok(Some(0));
        };
        alerts.last_transition_id += 1;
        let id = alerts.last_transition_id;
        alerts.history.insert(
            id,
            AlertTransitionRecord {
                id,
                at: to_millis(transition.at),
                ..transition.clone()
            },
        );
        Ok(Some(id))
    }

    fn alert_history(
        &self,
        rule: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AlertTransitionRecord>> {
        let state = self.read();
        Ok(state
            .alerts
            .history
            .range(..before_id.unwrap_or(i64::MAX))
            .rev()
            .map(|(_, t)| t)
            .filter(|t| rule.is_none_or(|r| r == t.rule))
            .take(limit)
            .cloned()
            .collect())
    }

    fn record_delivery(&self, attempt: &DeliveryAttempt) -> Result<()> {
        self.write().alerts.deliveries.push(DeliveryAttempt {
            at: to_millis(attempt.at),
            ..attempt.clone()
        });
        Ok(())
    }

    fn deliveries(&self, transition: i64) -> Result<Vec<DeliveryAttempt>> {
        Ok(self
            .read()
            .alerts
            .deliveries
            .iter()
            .filter(|a| a.transition == transition)
            .cloned()
            .collect())
    }
}
