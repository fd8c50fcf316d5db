//! Support for the integration tests: the real server on 127.0.0.1:0 with a fresh data
//! directory, and the browser scripts in `tests/e2e` run by Node against Debian's Chromium.

pub mod api;
pub mod browser;
pub mod deploy;
pub mod generated;
pub mod hostile;
pub mod people;
pub mod process;
pub mod server;
pub mod silence;
pub mod sync_client;

pub use server::{
    Backend, TestServer, backends, spawn_node_beside, spawn_server, spawn_server_on,
    spawn_server_with,
};
