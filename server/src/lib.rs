//! The tramyte server: one process that serves the PWA, the REST API and the sync websocket.
//!
//! Architecture invariant: this crate never depends on `tramyte-web`; it shares only
//! `tramyte-shared` with the browser. Database row types stay inside this crate.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod store;
pub mod sync;
pub mod telemetry;

pub use app::Application;
pub use config::Config;
/// Re-exported for tests and tools that administer the database directly.
pub use sqlx;
