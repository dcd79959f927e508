//! Where every delivery attempt is written: the alerts store's delivery log, or any other
//! sink the embedding code hands the dispatcher.

use tally_store::{AlertStore, DeliveryAttempt};

/// Receives every attempt, as it ends. Must not block for long: it runs on a delivery worker.
pub trait DeliveryLog: Send + Sync {
    fn record(&self, attempt: &DeliveryAttempt);
}

/// An alerts store keeps the attempts (`AlertStore::record_delivery`); a store that
/// cannot write one says so in the server's log, and delivery carries on.
impl<T: AlertStore + ?Sized> DeliveryLog for T {
    fn record(&self, attempt: &DeliveryAttempt) {
        if let Err(error) = self.record_delivery(attempt) {
            tracing::error!(
                transition = attempt.transition,
                channel = %attempt.channel,
                attempt = attempt.attempt,
                %error,
                "could not record a delivery attempt"
            );
        }
    }
}
