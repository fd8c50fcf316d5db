//! The pure core of tramyte, shared by the server and the browser app.
//!
//! Architecture invariant: this crate does no IO and knows nothing of tokio, axum, sqlx or
//! web-sys. It builds for `wasm32-unknown-unknown` and for the host, so the same scoring and
//! policy code runs in the phone (to show and guard) and on the server (to enforce and aggregate).
//! It never reads a clock or a random source of its own: times come in as unix milliseconds and
//! ids are chosen by the caller.
//!
//! Code map:
//! - [`points`]: exact points in steps of 0.5.
//! - [`id`], [`commune`]: validated ids, zones and unit types.
//! - [`catalog`]: criteria sets as validated, versioned data; the shipped `QD1300-2023`.
//! - [`document`]: what every automerge document shares (`kind`, `schema`, errors).
//! - [`assessment`]: the assessment document; scores as conflict-visible registers.
//! - [`files`]: evidence files: accepted types, sniffing, ids, limits (no bytes in documents).
//! - [`workflow`]: the append-only event list and the status derived from it.
//! - [`roster`]: the roster document and the staffing facts derived from it.
//! - [`scoring`]: points, totals and the verdict with every reason; local targets.
//! - [`policy`]: roles, scopes, and which paths of which document a role may write.
//! - [`summary`]: what an overview shows of a document (status, totals, verdict, conflicts).
//! - [`figures`]: what the reviewer's charts show (funnel, distribution, criterion averages).
//! - [`sync`]: the automerge-repo sync protocol, sans-IO (server hub and client).
//! - [`rest`]: bodies of REST answers the server writes and the web app reads.

pub mod assessment;
pub mod catalog;
pub mod commune;
pub mod document;
pub mod figures;
pub mod files;
pub mod id;
pub mod points;
pub mod policy;
pub mod rest;
pub mod roster;
pub mod scoring;
pub mod summary;
pub mod sync;
pub mod workflow;

/// The product's name as shown to people.
pub const PRODUCT_NAME: &str = "tramyte";
