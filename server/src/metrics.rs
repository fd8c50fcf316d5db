//! `GET /metrics`: a few counters of the sync service in the Prometheus text format, written by
//! hand (a dozen lines do not earn a crate).
//!
//! Served without a session, like `/healthz`: it holds counts only, no ids, names or addresses.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the sync service counts; shared by the hub task, the socket tasks and the handler.
#[derive(Debug, Default)]
pub struct SyncMetrics {
    /// Websocket connections open now.
    connections: AtomicU64,
    /// Documents the hub holds in memory now.
    documents: AtomicU64,
    /// Panics caught while handling one document (or one connection's message).
    panics_contained: AtomicU64,
    /// Times the hub task was started again after it stopped unexpectedly.
    hub_restarts: AtomicU64,
    /// Messages and connections refused, by reason label.
    refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl SyncMetrics {
    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        // Never below zero, whatever the order of events.
        let _ = self
            .connections
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }

    pub fn set_documents(&self, documents: usize) {
        self.documents.store(
            u64::try_from(documents).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn panic_contained(&self) {
        self.panics_contained.fetch_add(1, Ordering::Relaxed);
    }

    pub fn hub_restarted(&self) {
        self.hub_restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused(&self, reason: &'static str) {
        let mut refused = self
            .refused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *refused.entry(reason).or_default() += 1;
    }

    /// How many panics were contained so far.
    pub fn panics(&self) -> u64 {
        self.panics_contained.load(Ordering::Relaxed)
    }

    /// The text exposition (format version 0.0.4).
    pub fn render(&self, hub_serving: bool) -> String {
        let mut text = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = write!(
                text,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            );
        };
        metric(
            "tramyte_sync_hub_serving",
            "gauge",
            "1 while the sync hub serves, 0 once it stopped.",
            u64::from(hub_serving),
        );
        metric(
            "tramyte_sync_connections",
            "gauge",
            "Sync websocket connections open.",
            self.connections.load(Ordering::Relaxed),
        );
        metric(
            "tramyte_sync_documents_in_memory",
            "gauge",
            "Documents the sync hub holds in memory.",
            self.documents.load(Ordering::Relaxed),
        );
        metric(
            "tramyte_sync_panics_contained_total",
            "counter",
            "Panics caught while handling one document; that document was dropped from memory and its peers closed.",
            self.panics_contained.load(Ordering::Relaxed),
        );
        metric(
            "tramyte_sync_hub_restarts_total",
            "counter",
            "Times the sync hub task stopped unexpectedly and was started again.",
            self.hub_restarts.load(Ordering::Relaxed),
        );
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let _ = write!(
            text,
            "# HELP tramyte_sync_refused_total Sync messages and connections refused (an error was sent, then the socket closed), by reason.\n# TYPE tramyte_sync_refused_total counter\n"
        );
        for (reason, count) in refused {
            let _ = writeln!(
                text,
                "tramyte_sync_refused_total{{reason=\"{reason}\"}} {count}"
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_lists_every_metric_and_each_reason() {
        let metrics = SyncMetrics::default();
        metrics.connection_opened();
        metrics.connection_opened();
        metrics.connection_closed();
        metrics.set_documents(3);
        metrics.panic_contained();
        metrics.refused("sync_message_bloom_filter");
        metrics.refused("sync_message_bloom_filter");
        metrics.refused("rate_limit");
        let text = metrics.render(true);
        for line in [
            "tramyte_sync_hub_serving 1",
            "tramyte_sync_connections 1",
            "tramyte_sync_documents_in_memory 3",
            "tramyte_sync_panics_contained_total 1",
            "tramyte_sync_hub_restarts_total 0",
            "tramyte_sync_refused_total{reason=\"rate_limit\"} 1",
            "tramyte_sync_refused_total{reason=\"sync_message_bloom_filter\"} 2",
            "# TYPE tramyte_sync_refused_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(metrics.render(false).contains("tramyte_sync_hub_serving 0"));
    }
}
