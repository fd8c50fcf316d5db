//! The domain: what the server knows about communes, people, documents and rounds, between the
//! HTTP and sync layers above and the database below.
//!
//! Architecture invariant: nothing here knows axum, HTTP or the websocket; everything here may
//! use [`crate::store`] and `tramyte-shared`, and nothing above.

pub mod account;
pub mod audit;
pub mod catalog;
pub mod collation;
pub mod date;
pub mod dossier;
pub mod export;
pub mod file;
pub mod overview;
pub mod report;
pub mod round;
pub mod summary;
pub mod target;
pub mod throttle;
pub mod unit;
