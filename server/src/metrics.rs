//! Metrics (số liệu vận hành) in the Prometheus text format, through `prometheus-client`: the
//! sync service (connections, documents in memory, chunks committed, group commit sizes and
//! latency, refusals by reason, contained panics, hub restarts), HTTP requests by route, method,
//! status and latency, sign-in failures, and evidence file uploads by outcome.
//!
//! Counts only, never ids, names or addresses. Where they are served is the operator's choice
//! (`--metrics-addr`, `--metrics-token`, see `config`): off the public port, or behind a token.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A refusal's reason (`reason="…"`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

/// What the sync service counts; shared by the hub task, the socket tasks and the persister.
#[derive(Debug, Clone)]
pub struct SyncMetrics {
    hub_serving: Gauge,
    /// Websocket connections open now.
    connections: Gauge,
    /// Documents the hub holds in memory now.
    documents: Gauge,
    /// Panics caught while handling one document (or one connection's message).
    panics_contained: Counter,
    /// Times the hub task was started again after it stopped unexpectedly.
    hub_restarts: Counter,
    /// Messages and connections refused, by reason.
    refused: Family<Reason, Counter>,
    /// Chunks committed to the database (each holds one or more changes).
    chunks_committed: Counter,
    /// Chunks per group commit.
    commit_chunks: Histogram,
    /// Seconds per group commit.
    commit_seconds: Histogram,
}

impl Default for SyncMetrics {
    fn default() -> Self {
        SyncMetrics {
            hub_serving: Gauge::default(),
            connections: Gauge::default(),
            documents: Gauge::default(),
            panics_contained: Counter::default(),
            hub_restarts: Counter::default(),
            refused: Family::default(),
            chunks_committed: Counter::default(),
            // 1, 2, 4 … 2048 chunks.
            commit_chunks: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            // 0.5 ms … about 16 s.
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
        }
    }
}

impl SyncMetrics {
    pub fn connection_opened(&self) {
        self.connections.inc();
    }

    pub fn connection_closed(&self) {
        // Never below zero, whatever the order of events.
        if self.connections.dec() <= 0 {
            self.connections.set(0);
        }
    }

    pub fn set_documents(&self, documents: usize) {
        self.documents
            .set(i64::try_from(documents).unwrap_or(i64::MAX));
    }

    pub fn panic_contained(&self) {
        self.panics_contained.inc();
    }

    pub fn hub_restarted(&self) {
        self.hub_restarts.inc();
    }

    pub fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&Reason { reason }).inc();
    }

    /// One group commit of `chunks` chunks that took `took`.
    pub fn committed(&self, chunks: usize, took: Duration) {
        let count = u64::try_from(chunks).unwrap_or(u64::MAX);
        self.chunks_committed.inc_by(count);
        self.commit_chunks.observe(count as f64);
        self.commit_seconds.observe(took.as_secs_f64());
    }

    /// How many panics were contained so far.
    pub fn panics(&self) -> u64 {
        self.panics_contained.get()
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "sync_hub_serving",
            "1 while the sync hub serves, 0 once it stopped",
            self.hub_serving.clone(),
        );
        registry.register(
            "sync_connections",
            "Sync websocket connections open",
            self.connections.clone(),
        );
        registry.register(
            "sync_documents_in_memory",
            "Documents the sync hub holds in memory",
            self.documents.clone(),
        );
        registry.register(
            "sync_panics_contained",
            "Panics caught while handling one document; that document was dropped from memory and its peers closed",
            self.panics_contained.clone(),
        );
        registry.register(
            "sync_hub_restarts",
            "Times the sync hub task stopped unexpectedly and was started again",
            self.hub_restarts.clone(),
        );
        registry.register(
            "sync_refused",
            "Sync messages and connections refused (an error was sent, then the socket closed), by reason",
            self.refused.clone(),
        );
        registry.register(
            "sync_chunks_committed",
            "Chunks of changes committed to the database",
            self.chunks_committed.clone(),
        );
        registry.register(
            "sync_commit_chunks",
            "Chunks per group commit",
            self.commit_chunks.clone(),
        );
        registry.register(
            "sync_commit_seconds",
            "Seconds per group commit (one transaction, one fsync)",
            self.commit_seconds.clone(),
        );
    }
}

/// What became of a file upload (`outcome="stored|duplicate|refused"`), and why a refused one
/// was (`reason`, `none` otherwise).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FileUpload {
    outcome: &'static str,
    reason: &'static str,
}

/// An HTTP request's route (the pattern, never the path), method and status class.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    route: String,
    method: String,
    status: u16,
}

/// An HTTP request's route, for its latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

type LatencyFamily = Family<Route, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Every metric of the server and the registry that writes them out.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    sync: Arc<SyncMetrics>,
    requests: Family<Request, Counter>,
    latency: LatencyFamily,
    sign_in_failures: Counter,
    file_uploads: Family<FileUpload, Counter>,
    file_bytes_stored: Counter,
}

impl Metrics {
    /// The registry of every metric, the sync service's included.
    pub fn new(sync: Arc<SyncMetrics>) -> Metrics {
        let mut registry = Registry::with_prefix("tramyte");
        sync.register(&mut registry);
        let requests = Family::<Request, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let sign_in_failures = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_seconds",
            "Seconds to answer an HTTP request, by route pattern",
            latency.clone(),
        );
        registry.register(
            "sign_in_failures",
            "Sign-ins refused for a wrong user name or password",
            sign_in_failures.clone(),
        );
        let file_uploads = Family::<FileUpload, Counter>::default();
        let file_bytes_stored = Counter::default();
        registry.register(
            "file_uploads",
            "Evidence file uploads: stored, already stored (duplicate), or refused by reason",
            file_uploads.clone(),
        );
        registry.register(
            "file_bytes_stored",
            "Bytes of evidence files stored (new files only)",
            file_bytes_stored.clone(),
        );
        Metrics {
            registry,
            sync,
            requests,
            latency,
            sign_in_failures,
            file_uploads,
            file_bytes_stored,
        }
    }

    /// One HTTP request answered.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&Request {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// One sign-in refused.
    pub fn sign_in_failed(&self) {
        self.sign_in_failures.inc();
    }

    /// One file upload answered: `stored` (with its size), `duplicate`, or `refused` for
    /// `reason`.
    pub fn file_upload(&self, outcome: &'static str, reason: &'static str, bytes: u64) {
        self.file_uploads
            .get_or_create(&FileUpload { outcome, reason })
            .inc();
        if outcome == "stored" {
            self.file_bytes_stored.inc_by(bytes);
        }
    }

    /// The text exposition.
    pub fn render(&self, hub_serving: bool) -> String {
        self.sync.hub_serving.set(i64::from(hub_serving));
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(%err, "cannot write the metrics");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_lists_every_metric_and_each_label() {
        let sync = Arc::new(SyncMetrics::default());
        let metrics = Metrics::new(sync.clone());
        sync.connection_opened();
        sync.connection_opened();
        sync.connection_closed();
        sync.connection_closed();
        sync.connection_closed();
        sync.connection_opened();
        sync.set_documents(3);
        sync.panic_contained();
        sync.refused("sync_message_bloom_filter");
        sync.refused("sync_message_bloom_filter");
        sync.refused("rate_limit");
        sync.committed(3, Duration::from_millis(2));
        metrics.request("/api/documents", "GET", 200, Duration::from_millis(3));
        metrics.request("/api/documents", "GET", 200, Duration::from_millis(3));
        metrics.sign_in_failed();
        metrics.file_upload("stored", "none", 1000);
        metrics.file_upload("refused", "hash_mismatch", 0);
        let text = metrics.render(true);
        for line in [
            "tramyte_sync_hub_serving 1",
            "tramyte_sync_connections 1",
            "tramyte_sync_documents_in_memory 3",
            "tramyte_sync_panics_contained_total 1",
            "tramyte_sync_hub_restarts_total 0",
            "tramyte_sync_refused_total{reason=\"rate_limit\"} 1",
            "tramyte_sync_refused_total{reason=\"sync_message_bloom_filter\"} 2",
            "# TYPE tramyte_sync_refused counter",
            "tramyte_sync_chunks_committed_total 3",
            "tramyte_sync_commit_chunks_count 1",
            "tramyte_sync_commit_seconds_count 1",
            "tramyte_http_requests_total{route=\"/api/documents\",method=\"GET\",status=\"200\"} 2",
            "tramyte_http_request_seconds_count{route=\"/api/documents\"} 2",
            "tramyte_sign_in_failures_total 1",
            "tramyte_file_uploads_total{outcome=\"stored\",reason=\"none\"} 1",
            "tramyte_file_uploads_total{outcome=\"refused\",reason=\"hash_mismatch\"} 1",
            "tramyte_file_bytes_stored_total 1000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(metrics.render(false).contains("tramyte_sync_hub_serving 0"));
    }
}
