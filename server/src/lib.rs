//! The tramyte server: one process that serves the PWA, the REST API and the sync websocket.
//!
//! Architecture invariant: this crate never depends on `tramyte-web`; it shares only
//! `tramyte-shared` with the browser. Database row types stay inside this crate.

pub mod account;
pub mod admin;
pub mod app;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod client;
pub mod config;
pub mod date;
pub mod demo;
pub mod document;
pub mod encoding;
pub mod error;
pub mod export;
pub mod http;
pub mod metrics;
pub mod overview;
pub mod report;
pub mod round;
pub mod store;
pub mod summary;
pub mod sync;
pub mod target;
pub mod telemetry;
pub mod throttle;
pub mod unit;

pub use app::Application;
pub use config::Config;
/// Re-exported for tests and tools that administer the database directly.
pub use sqlx;
