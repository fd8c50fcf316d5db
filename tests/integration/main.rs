//! The one integration test binary: every test starts the real server on 127.0.0.1:0 with a
//! fresh database.
#![allow(clippy::unwrap_used)] // tests unwrap what they just built

mod access;
mod admin_scope;
mod backup;
mod browser;
mod catalog_revisions;
mod connection;
mod demo;
mod desk;
mod documents;
mod durability;
mod evidence_browser;
mod exports;
mod field_app;
mod files;
mod fuzz;
mod hardening;
mod hostile;
mod interop;
mod metrics;
mod overview;
mod pwa;
mod reports;
mod review_loop;
mod round;
mod sheets;
mod sheets_browser;
mod sign_in;
mod summary;
mod sync;
mod tidy;
mod trust;
mod week_offline;
