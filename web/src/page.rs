//! Route components, one per file, each named `…Page`.

pub mod home;
pub mod not_found;
