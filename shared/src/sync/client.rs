//! The client side of sync (the protocol's "initiating peer"), sans-IO: the documents a phone
//! or a test holds, synced with one server over one connection at a time.
//!
//! The driver sends the frame of [`Client::connect`] when a connection opens, feeds every frame
//! it receives to [`Client::receive`], sends the frames it gets back, and calls
//! [`Client::disconnected`] when the connection drops. Local edits go through
//! [`Client::doc_mut`] followed by [`Client::sync`].

use std::collections::BTreeMap;

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};

use super::document_id::DocumentId;
use super::heartbeat::HEARTBEAT_DOCUMENT;
use super::message::{Message, PROTOCOL_VERSION, PeerId, PeerMetadata, ProtocolError};

/// Why the connection must end.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("the server reported an error: {0}")]
    Server(String),
    #[error("the server answered {0} before the handshake was done")]
    BeforeHandshake(String),
    #[error("the server selected protocol version {0:?}; this client speaks \"1\"")]
    Version(String),
    #[error("automerge refused a sync message for {document}: {error}")]
    Sync { document: DocumentId, error: String },
}

/// Something that happened to the client's documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The handshake completed.
    Connected { server: PeerId },
    /// Changes from the server were applied to the document.
    Changed(DocumentId),
    /// The server does not have (or will not show) the document.
    Unavailable(DocumentId),
    /// Transient data from another peer about a document.
    Ephemeral {
        document: DocumentId,
        sender: PeerId,
        session: String,
        count: u64,
        data: Vec<u8>,
    },
}

/// What the driver must do after a call: send these frames, report these events.
#[derive(Debug, Default)]
pub struct Step {
    pub frames: Vec<Vec<u8>>,
    pub events: Vec<ClientEvent>,
}

#[derive(Debug)]
struct ClientDoc {
    doc: AutoCommit,
    state: sync::State,
}

/// A sync client.
#[derive(Debug)]
pub struct Client {
    peer_id: PeerId,
    metadata: Option<PeerMetadata>,
    server: Option<PeerId>,
    connected: bool,
    docs: BTreeMap<DocumentId, ClientDoc>,
}

impl Client {
    /// A client with this peer id (unique per tab or process).
    pub fn new(peer_id: impl Into<PeerId>) -> Client {
        Client {
            peer_id: peer_id.into(),
            metadata: None,
            server: None,
            connected: false,
            docs: BTreeMap::new(),
        }
    }

    /// Advertises a persistent storage id in `join`.
    pub fn with_storage_id(mut self, storage_id: impl Into<String>) -> Client {
        self.metadata = Some(PeerMetadata {
            storage_id: Some(storage_id.into()),
            is_ephemeral: false,
        });
        self
    }

    /// This client's peer id.
    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    /// Whether the handshake has completed on the current connection.
    pub fn is_ready(&self) -> bool {
        self.server.is_some()
    }

    /// A connection opened: the `join` frame to send first. Sync states start afresh, as the
    /// server's do for a new connection.
    pub fn connect(&mut self) -> Vec<u8> {
        self.connected = true;
        self.server = None;
        for entry in self.docs.values_mut() {
            entry.state = sync::State::new();
        }
        Message::Join {
            sender_id: self.peer_id.clone(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.to_owned()],
            metadata: self.metadata.clone(),
        }
        .encode()
    }

    /// The connection dropped.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.server = None;
    }

    /// Handles one frame from the server.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Step, ClientError> {
        let message = Message::decode(frame)?;
        let mut step = Step::default();
        if self.server.is_none() {
            return match message {
                Message::Peer {
                    sender_id,
                    selected_protocol_version,
                    ..
                } => {
                    if selected_protocol_version != PROTOCOL_VERSION {
                        return Err(ClientError::Version(selected_protocol_version));
                    }
                    self.server = Some(sender_id.clone());
                    step.events
                        .push(ClientEvent::Connected { server: sender_id });
                    step.frames = self.sync_all();
                    Ok(step)
                }
                Message::Error { message } => Err(ClientError::Server(message)),
                other => Err(ClientError::BeforeHandshake(other.type_name().to_owned())),
            };
        }
        match message {
            Message::Sync {
                document_id, data, ..
            }
            | Message::Request {
                document_id, data, ..
            } => {
                let Some(entry) = self.docs.get_mut(&document_id) else {
                    return Ok(step);
                };
                let sync_message =
                    sync::Message::decode(&data).map_err(|err| ClientError::Sync {
                        document: document_id,
                        error: err.to_string(),
                    })?;
                let before = entry.doc.get_heads();
                entry
                    .doc
                    .sync()
                    .receive_sync_message(&mut entry.state, sync_message)
                    .map_err(|err| ClientError::Sync {
                        document: document_id,
                        error: err.to_string(),
                    })?;
                crate::document::forget_patches(&mut entry.doc);
                if entry.doc.get_heads() != before {
                    step.events.push(ClientEvent::Changed(document_id));
                }
                step.frames.extend(self.sync(document_id));
            }
            // The answer to the heartbeat: hearing it is all it is for.
            Message::DocUnavailable { document_id, .. } if document_id == HEARTBEAT_DOCUMENT => {}
            Message::DocUnavailable { document_id, .. } => {
                step.events.push(ClientEvent::Unavailable(document_id))
            }
            Message::Ephemeral {
                document_id,
                sender_id,
                session_id,
                count,
                data,
                ..
            } => step.events.push(ClientEvent::Ephemeral {
                document: document_id,
                sender: sender_id,
                session: session_id,
                count,
                data,
            }),
            Message::Error { message } => return Err(ClientError::Server(message)),
            Message::Join { .. }
            | Message::Peer { .. }
            | Message::Leave { .. }
            | Message::Other { .. } => {}
        }
        Ok(step)
    }

    /// Starts syncing a document this client has (a new one, or one loaded from local storage).
    pub fn insert(&mut self, document: DocumentId, doc: AutoCommit) -> Vec<Vec<u8>> {
        self.docs.insert(
            document,
            ClientDoc {
                doc,
                state: sync::State::new(),
            },
        );
        self.sync(document)
    }

    /// Asks the server for a document this client does not have yet.
    pub fn request(&mut self, document: DocumentId) -> Vec<Vec<u8>> {
        self.docs.entry(document).or_insert_with(|| ClientDoc {
            doc: AutoCommit::new(),
            state: sync::State::new(),
        });
        self.sync(document)
    }

    /// The documents this client holds.
    pub fn documents(&self) -> impl Iterator<Item = &DocumentId> {
        self.docs.keys()
    }

    /// A document, to read.
    pub fn doc(&self, document: &DocumentId) -> Option<&AutoCommit> {
        self.docs.get(document).map(|entry| &entry.doc)
    }

    /// A document, to edit; call [`Client::sync`] afterwards.
    pub fn doc_mut(&mut self, document: &DocumentId) -> Option<&mut AutoCommit> {
        self.docs.get_mut(document).map(|entry| &mut entry.doc)
    }

    /// The frames that tell the server what changed in one document (none while disconnected).
    pub fn sync(&mut self, document: DocumentId) -> Vec<Vec<u8>> {
        let Some(server) = self.server.clone() else {
            return Vec::new();
        };
        let Some(entry) = self.docs.get_mut(&document) else {
            return Vec::new();
        };
        let empty = entry.doc.get_heads().is_empty();
        let Some(message) = entry.doc.sync().generate_sync_message(&mut entry.state) else {
            return Vec::new();
        };
        let (sender_id, target_id, data) = (self.peer_id.clone(), server, message.encode());
        let message = if empty {
            Message::Request {
                sender_id,
                target_id,
                document_id: document,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id: document,
                data,
            }
        };
        vec![message.encode()]
    }

    /// Whether the server has said it has exactly this client's version of the document (so
    /// every local change of it is acknowledged, i.e. stored by the server).
    pub fn in_sync(&mut self, document: &DocumentId) -> bool {
        let Some(entry) = self.docs.get_mut(document) else {
            return false;
        };
        let mut ours = entry.doc.get_heads();
        ours.sort();
        let Some(theirs) = entry.state.their_heads.as_ref() else {
            return false;
        };
        let mut theirs = theirs.clone();
        theirs.sort();
        self.server.is_some() && ours == theirs
    }

    /// Our heads and the server's last known heads of a document, for diagnostics.
    pub fn debug_heads(&mut self, document: &DocumentId) -> String {
        let Some(entry) = self.docs.get_mut(document) else {
            return "no such document".into();
        };
        format!(
            "ours {:?}, theirs {:?}, in flight {}",
            entry.doc.get_heads(),
            entry.state.their_heads,
            entry.state.in_flight
        )
    }

    /// The heartbeat's probe (see [`super::heartbeat`]): a `request` for
    /// [`HEARTBEAT_DOCUMENT`], which the server answers with `doc-unavailable` at once; `None`
    /// before the handshake.
    pub fn heartbeat(&self) -> Option<Vec<u8>> {
        let server = self.server.clone()?;
        // What any client sends to ask for a document it does not have.
        let empty = automerge::Automerge::new();
        let data = empty
            .generate_sync_message(&mut sync::State::new())?
            .encode();
        Some(
            Message::Request {
                sender_id: self.peer_id.clone(),
                target_id: server,
                document_id: HEARTBEAT_DOCUMENT,
                data,
            }
            .encode(),
        )
    }

    /// [`Client::sync`] for every document.
    pub fn sync_all(&mut self) -> Vec<Vec<u8>> {
        let ids: Vec<DocumentId> = self.docs.keys().copied().collect();
        ids.into_iter().flat_map(|id| self.sync(id)).collect()
    }

    /// An ephemeral message about a document (presence), or `None` while disconnected.
    pub fn ephemeral(
        &self,
        document: DocumentId,
        session: &str,
        count: u64,
        data: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let server = self.server.clone()?;
        Some(
            Message::Ephemeral {
                sender_id: self.peer_id.clone(),
                target_id: server,
                document_id: document,
                session_id: session.to_owned(),
                count,
                data,
            }
            .encode(),
        )
    }
}
