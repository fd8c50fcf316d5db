//! Sync over the automerge-repo websocket protocol (version "1"), sans-IO.
//!
//! [`message`] is the wire format (CBOR maps), [`document_id`] the ids and `automerge:` URLs,
//! [`validate`] our own check of automerge sync messages before automerge reads them,
//! [`chunk`] the content-addressed pieces documents are stored in. [`hub::Hub`] is the server
//! side, [`client::Client`] the client side, [`heartbeat`] tells whether its connection is alive and
//! [`pending`] counts the local edits the server has not acknowledged. Both wrap `automerge::sync` (never hand-made sync
//! messages) and do no IO: events in, effects out; the server's axum websocket and the browser's
//! WebSocket are thin drivers over them.

pub mod chunk;
pub mod client;
pub mod document_id;
pub mod heartbeat;
pub mod hub;
pub mod message;
pub mod pending;
pub mod validate;

pub use chunk::{Chunk, ChunkKey, ChunkKind};
pub use document_id::DocumentId;
